// One level of cache (plain C++): set-associative, write-back, write-allocate, built on the
// SetAssocArray the TLBs use (lru, plru, fifo, random). It holds tags and state only, never
// data: the model times accesses and keeps coherence state, the bytes move elsewhere (DMI).
// CacheHierarchy decides what a hit, a miss or a coherence action means; this class answers
// "is the line here", fills, invalidates and reports the victim a fill displaces.
#pragma once

#include <cstdint>
#include <string>

#include "common/Types.h"
#include "mmu/SetAssocArray.h"

namespace tlmmu {

enum class Mesi : std::uint8_t { Invalid, Shared, Exclusive, Modified };
const char* toString(Mesi state);

struct CacheConfig {
    std::uint64_t size = 0; // bytes; 0 = the level is absent
    unsigned ways = 8;
    unsigned line_bytes = 64;
    unsigned latency_cycles = 0;
    Replacement replacement = Replacement::Lru;
    std::uint64_t seed = 1; // for replacement: random
};

// Directory state of one line, kept in the LLC's copy of it (or in a snoop filter when there is
// no LLC): which cores' private caches hold it, and the one that holds it Exclusive/Modified.
struct DirectoryEntry {
    static constexpr int kNoOwner = -1;
    std::uint64_t sharers = 0; // bit i: core i holds the line in a private level
    int owner = kNoOwner;
};

struct CacheLine {
    Addr line = 0; // line number: physical address / line_bytes
    Mesi state = Mesi::Invalid;
    bool dirty = false; // newer than the level below (a Modified line need not be dirty here)
    // Invalidated because another core wrote the line: the next miss on it is a coherence miss.
    bool lost_to_coherence = false;
    DirectoryEntry directory; // used in the LLC only
};

// A valid line that a fill displaced (when `valid`), as it was just before.
struct Victim {
    bool valid = false;
    CacheLine line;
};

class Cache {
  public:
    // Plain counters: the SystemC shell registers them with Stats; the core needs no Stats.
    struct Counters {
        std::uint64_t accesses = 0, hits = 0, misses = 0, coherence_misses = 0, writebacks = 0;
    };

    // Throws InputError naming `key` (e.g. "cache.l1d") on an impossible geometry.
    Cache(const CacheConfig& config, const std::string& key);

    bool present() const { return config_.size != 0; }
    const CacheConfig& config() const { return config_; }
    unsigned latency() const { return present() ? config_.latency_cycles : 0; }
    unsigned sets() const { return array_.sets(); }

    // The valid copy of `line`, or nullptr. lookup() counts as a use for replacement, probe()
    // (coherence and inclusion checks) does not.
    CacheLine* lookup(Addr line);
    CacheLine* probe(Addr line);
    // True if the set holds an invalidated copy of `line` that another core's write removed.
    bool lostToCoherence(Addr line) const;
    // Allocates `line` (absent before) in `state`; returns the new copy and, in *victim, the
    // line it displaced.
    CacheLine* fill(Addr line, Mesi state, Victim* victim);
    // Drops `line` if present; returns its last contents (valid = it was present).
    Victim invalidate(Addr line, bool by_coherence);
    unsigned occupancy() const { return array_.occupancy(); }

    Counters counters;

  private:
    unsigned setOf(Addr line) const { return static_cast<unsigned>(line & (array_.sets() - 1)); }
    int wayOf(Addr line) const; // -1 when absent

    CacheConfig config_;
    SetAssocArray<CacheLine> array_;
};

} // namespace tlmmu
