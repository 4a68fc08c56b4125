// The caches of a chip (plain C++): per core an optional L1I, L1D and L2 (private), one shared
// LLC that is inclusive of every private cache and holds the directory (sharers and owner of
// each line), kept coherent with MESI. It models timing and state, never data.
//
// Structure
// - Inclusion: L1I, L1D of a core are included in its L2 (when present), and every private
//   line in the LLC (when present). An L2 eviction drops the core's L1 copies; an LLC eviction
//   back-invalidates every private copy (CoherenceCounters::back_invalidations, one per core
//   that held it), and dirty data goes to memory once.
// - State: a core's private copies of a line all carry the core's MESI state; `dirty` is per
//   copy (the L1D copy of a Modified line is dirty, its L2 copy becomes dirty when the L1D
//   writes it back). Without an LLC, a snoop filter (unbounded) holds the directory instead.
// - Every level has the same line size; an access that straddles lines accesses each line,
//   in address order.
//
// One line access, by kind: Fetch enters at L1I (at L2 when there is no L1I), Load, Store,
// Atomic at L1D; `entry` can start it further out (the walker's cache_level): L2 skips the L1s,
// Llc skips the private levels, Memory bypasses every cache and snoops nothing (an uncached
// walker, for reference runs). Store and Atomic need the line Exclusive or Modified.
//
// Cycles (deterministic; absent levels cost 0 and are not counted):
// - every private level looked up adds its latency_cycles, hit or miss; a hit ends the access
//   there: an L1 hit costs L1, an L2 hit L1 + L2;
// - a private miss (or a write to a Shared line: an upgrade, counted as a miss) adds the LLC's
//   latency: an LLC hit costs L1 + L2 + LLC; an LLC miss adds MemoryPort::fill();
// - a line another core holds Modified adds transfer_cycles (a cache-to-cache transfer):
//   L1 + L2 + LLC + transfer. Invalidating other copies costs nothing more (done in parallel
//   while the directory answers);
// - write-backs to memory (a dirty LLC victim; without an LLC, a dirty private victim or a
//   Modified line downgraded by another core's read) add MemoryPort::writeback(): no write
//   buffer is modelled, the fill waits for its way. Write-backs between a core's own levels and
//   into the LLC cost nothing (they update a line that inclusion keeps in place).
// - without an LLC: a private miss adds MemoryPort::fill() (or transfer_cycles), an upgrade
//   only its private lookups (reported at the farthest private level), a write that caches
//   nowhere (no private level on its path) MemoryPort::writeback() alone.
//
// Coherence (the directory decides when the private levels miss):
// - read: other copies become Shared (a Modified one is a transfer and its dirty data moves to
//   the LLC); the reader gets Exclusive when no other core holds the line, Shared otherwise;
// - write: every other core's copies are invalidated (CoherenceCounters::invalidations, one per
//   core), a Modified one is a transfer; the writer gets Modified. Their next miss on the line is
//   a coherence miss (Cache::Counters::coherence_misses, CacheAccessResult::coherence_miss).
// - a requester that does not cache the line (entry Llc, or no private level on its path)
//   treats its own private copies as another core's: a write invalidates them, a read of its own
//   Modified line is a transfer; the line it writes becomes dirty in the LLC.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/Cache.h"
#include "common/Types.h"

namespace tlmmu {

enum class CacheAccessKind : std::uint8_t { Fetch, Load, Store, Atomic };
// Where an access was served, nearest to farthest; a straddling access reports the farthest.
enum class CacheLevel : std::uint8_t { L1i, L1d, L2, Llc, Remote, Memory };
// Where an access starts (walker.cache_level): l1d | l2 | llc | memory.
enum class CacheEntry : std::uint8_t { L1, L2, Llc, Memory };

const char* toString(CacheLevel level);
// Parses l1d|l2|llc|memory; throws InputError naming `key` otherwise.
CacheEntry parseCacheEntry(const std::string& name, const std::string& key);

// Where LLC misses and write-backs go (the SystemC shell sends them over TLM). Addresses are
// line-aligned physical addresses; the result is the cycles the transfer took.
class MemoryPort {
  public:
    virtual ~MemoryPort() = default;
    virtual Cycles fill(Addr pa) = 0;
    virtual Cycles writeback(Addr pa) = 0;
};

struct CacheHierarchyConfig {
    unsigned cores = 1;            // 1..64 (the directory's sharer mask)
    CacheConfig l1i, l1d, l2, llc; // size 0 = absent
    unsigned transfer_cycles = 0;  // a line moved from another core's private cache
};

struct CacheAccessResult {
    Cycles cycles = 0;
    CacheLevel level = CacheLevel::L1d;
    bool coherence_miss = false; // a level missed on a line another core's write took away
};

class CacheHierarchy {
  public:
    struct CoherenceCounters {
        std::uint64_t transfers = 0, invalidations = 0, back_invalidations = 0;
    };

    // Throws InputError naming the key ("cache.l2.line_bytes", ...) on an impossible geometry.
    CacheHierarchy(const CacheHierarchyConfig& config, MemoryPort& memory);

    CacheAccessResult access(unsigned core, CacheAccessKind kind, Addr pa, unsigned bytes,
                             CacheEntry entry = CacheEntry::L1);

    unsigned cores() const { return static_cast<unsigned>(cores_.size()); }
    unsigned lineBytes() const { return line_bytes_; }
    Cache& l1i(unsigned core) { return cores_[core].l1i; }
    Cache& l1d(unsigned core) { return cores_[core].l1d; }
    Cache& l2(unsigned core) { return cores_[core].l2; }
    Cache& llc() { return llc_; }
    const Cache& l1i(unsigned core) const { return cores_[core].l1i; }
    const Cache& l1d(unsigned core) const { return cores_[core].l1d; }
    const Cache& l2(unsigned core) const { return cores_[core].l2; }
    const Cache& llc() const { return llc_; }
    // Line accesses of the core that memory served (LLC misses; an uncached walker's accesses).
    const std::uint64_t& memoryLines(unsigned core) const { return cores_[core].memory_lines; }
    // The core's MESI state for the line holding pa (Invalid when it holds no copy).
    Mesi state(unsigned core, Addr pa);
    // The directory entry of the line holding pa (empty when no core holds it).
    DirectoryEntry directory(Addr pa);

    CoherenceCounters coherence;

  private:
    struct PrivateCaches {
        Cache l1i, l1d, l2;
        std::uint64_t memory_lines = 0;
    };
    struct PathLevel {
        Cache* cache;
        CacheLevel level;
    };
    struct Path {
        PathLevel levels[2];
        unsigned size = 0;
    };

    Path pathOf(unsigned core, CacheAccessKind kind, CacheEntry entry);
    CacheAccessResult accessLine(unsigned core, CacheAccessKind kind, Addr line, CacheEntry entry);
    // Looks the line up along the path; returns the index of the level that can serve the
    // access (path.size when none can), with its copy in `copy`.
    unsigned lookUpPrivate(const Path& path, bool write, Addr line, CacheAccessResult& result,
                           CacheLine*& copy);
    Mesi resolveShared(unsigned core, bool write, bool caches, Addr line,
                       CacheAccessResult& result);
    Mesi updateDirectory(DirectoryEntry& dir, unsigned core, bool write, bool caches,
                         std::uint64_t others, Addr line, CacheAccessResult& result);
    bool needsData(unsigned core, bool write, bool caches, Addr line);
    DirectoryEntry* findDirectory(Addr line, CacheAccessResult& result);
    void invalidateOthers(std::uint64_t cores, Addr line);
    void downgradeOthers(std::uint64_t cores, Addr line, CacheAccessResult& result);
    void fillPath(unsigned core, const Path& path, unsigned levels, Addr line, Mesi state,
                  CacheAccessResult& result);
    void evictPrivate(unsigned core, Cache& from, const Victim& victim, CacheAccessResult& result);
    void evictLlc(const Victim& victim, CacheAccessResult& result);
    void setCoreState(unsigned core, Addr line, Mesi state);
    bool dropCoreCopies(unsigned core, Addr line, bool by_coherence); // true if one was dirty
    bool coreHolds(unsigned core, Addr line);
    void forgetIfGone(unsigned core, Addr line);
    void writeDirtyToLlc(Addr line, CacheAccessResult& result);
    Addr addressOf(Addr line) const { return line * line_bytes_; }

    std::vector<PrivateCaches> cores_;
    Cache llc_;
    unsigned line_bytes_;
    unsigned line_shift_;
    unsigned transfer_cycles_;
    MemoryPort& memory_;
    // The directory when there is no LLC (node-based: entries stay put while others come/go).
    std::unordered_map<Addr, DirectoryEntry> snoop_filter_;
    bool whole_line_write_ = false; // the line accessLine serves is overwritten whole
};

} // namespace tlmmu
