// The TLB: one interface for the C++ model and the Verilated RTL (rtl/), and the C++ model.
// Flush semantics follow CVA6/RISC-V sfence.vma: by (va, asid) drops the non-global entries of
// that ASID mapping va; by asid drops that ASID's non-global entries; by va drops every entry
// mapping va whatever its ASID or G bit; all drops everything.
//
// A level is one array holding every page size (AMD's fully associative L1 DTLB; the single
// form, entries/ways/replacement/latency_cycles), or several arrays each holding its own page
// sizes (Intel's L1 DTLB: 4 KiB, 2 MiB/4 MiB and 1 GiB apart; its STLB shares 4 KiB and 2 MiB).
#pragma once

#include <string>
#include <vector>

#include "mmu/PteFormat.h"
#include "mmu/SetAssocArray.h"
#include "mmu/TlbEntry.h"

namespace tlmmu {

enum class FlushKind : std::uint8_t { All, Asid, Va, VaAsid };

// One array of a level (tlb.<level>.arrays[i]).
struct TlbArrayConfig {
    // Page sizes in bytes, each a leaf page size of the format (validateTlbArrays); empty: every
    // page size of the format.
    std::vector<std::uint64_t> page_sizes;
    unsigned entries = 64;
    unsigned ways = 4;
    Replacement replacement = Replacement::Lru;
    unsigned latency_cycles = 0;
};

struct TlbConfig {
    std::string name; // "l1i", "l1d", "l2"
    // The single form: one array holding every page size. Unused when `arrays` is given
    // (entries 0 = level absent applies to the single form only).
    unsigned entries = 64;
    unsigned ways = 4;
    Replacement replacement = Replacement::Lru;
    unsigned latency_cycles = 0;
    // The split form: the arrays of the level, probed in parallel; empty = the single form.
    std::vector<TlbArrayConfig> arrays;
    unsigned asid_bits = 16;
    PageGeometry geometry;
    std::uint64_t seed = 1;
    std::string impl = "model"; // model (C++ Tlb) | rtl (Verilated rtl/, see RtlTlbFactory.h)
    std::string waveform;       // rtl only: VCD file to write, "" = none

    bool absent() const { return arrays.empty() && entries == 0; }
    // The arrays as built: `arrays`, or the single form as one array of every page size.
    std::vector<TlbArrayConfig> effectiveArrays() const;
    // Parallel probes: a lookup takes as long as the slowest array.
    unsigned lookupLatency() const;
    // "tlb.l1d" for the single form, "tlb.l1d.arrays[1]" for an array: the key messages name.
    std::string arrayKey(unsigned i) const;
};

// What validateTlbArrays does with a page size the format has no leaf of (x86's 4 MiB under
// x86_64): refuse it, or accept it as a size no fill will ever have (one preset can then
// describe the hardware for several formats).
enum class AbsentPageSize : std::uint8_t { Refuse, Ignore };

// Checks a level's arrays against the page sizes of `geometry` (`format` names it in
// messages); throws InputError naming the key, e.g.
//   tlb.l1d.arrays[1].page_sizes: 4MiB is not a page size of x86_64 (its page sizes: 4KiB,
//   2MiB, 1GiB)
// Also refused: a size that is no power of two, a size listed twice or held by two arrays, and
// each array's geometry (validateGeometry, key tlb.l1d.arrays[1]).
void validateTlbArrays(const TlbConfig& config, const PageGeometry& geometry,
                       const std::string& format, AbsentPageSize absent = AbsentPageSize::Refuse);
void validateTlbArrays(const TlbConfig& config, const PteFormat& format,
                       AbsentPageSize absent = AbsentPageSize::Refuse);

// The page size, in bytes, of a leaf at `level`.
inline std::uint64_t pageSizeBytes(const PageGeometry& g, unsigned level) {
    return std::uint64_t{1} << g.levelShift(level);
}

// Counted per array by the C++ Tlb (cores[i].tlb.l1d.arrays[j].*).
struct TlbArrayStats {
    // Lookups this array answered. Counted only when the level has several arrays: with one,
    // every hit of the level is its hit, and the caller that counts the level's hits (Mmu)
    // has the number, so the per-reference fast path counts nothing more than before.
    std::uint64_t hits = 0;
    std::uint64_t fills = 0; // refills written into this array (in place or not)
};

class TlbInterface {
  public:
    explicit TlbInterface(const TlbConfig& config) : config_(config) {}
    virtual ~TlbInterface() = default;
    // On a hit copies the entry to `out` and updates replacement state.
    virtual bool lookup(Addr va, Asid asid, TlbEntry& out) = 0;
    virtual void fill(const TlbEntry& entry) = 0;
    virtual void invalidate(FlushKind kind, Addr va, Asid asid) = 0;
    // Cycles the last lookup took: the configured latency for the C++ model; the RTL counts its
    // own clock, so that with impl: rtl the timing comes from the design.
    virtual Cycles lookupCycles() const { return config_.latency_cycles; }
    const TlbConfig& config() const { return config_; }
    Asid maskAsid(Asid asid) const {
        return config_.asid_bits >= 16 ? asid
                                       : static_cast<Asid>(asid & ((1u << config_.asid_bits) - 1));
    }

  protected:
    TlbConfig config_;
};

class Tlb final : public TlbInterface {
  public:
    // Throws InputError on an impossible geometry or page-size list (sizes the format does not
    // have are accepted here, as AbsentPageSize::Ignore: refusing them is the caller's choice).
    explicit Tlb(const TlbConfig& config);
    bool lookup(Addr va, Asid asid, TlbEntry& out) override;
    // Into the array holding the entry's page size; a size no array holds is not cached here
    // (uncacheableFills).
    void fill(const TlbEntry& entry) override;
    void invalidate(FlushKind kind, Addr va, Asid asid) override; // every array
    unsigned occupancy() const;
    unsigned occupancy(unsigned array) const { return arr(array).store.occupancy(); }

    unsigned arrays() const { return split_ ? static_cast<unsigned>(split_arrays_.size()) : 1; }
    const TlbArrayStats& arrayStats(unsigned array) const { return arr(array).stats; }
    const std::uint64_t& uncacheableFills() const { return uncacheable_fills_; }

    // Set of an entry of `level` covering base-page number vpn in `array` (array 0: shared with
    // the RTL wrapper, which is one array).
    unsigned setIndex(std::uint64_t vpn, unsigned level, unsigned array = 0) const {
        return setIndex(arr(array), vpn, level);
    }

  private:
    static std::vector<TlbArrayConfig> checkedArrays(const TlbConfig& config);
    Tlb(const TlbConfig& config, const std::vector<TlbArrayConfig>& arrays);

    struct Array {
        Array(const TlbArrayConfig& c, std::uint32_t level_mask, std::uint64_t seed);
        SetAssocArray<TlbEntry> store;
        unsigned leaf_levels[8]; // the page sizes it holds, as leaf levels, smallest first
        unsigned num_leaf_levels = 0;
        TlbArrayStats stats;
    };
    Array& arr(unsigned i) { return split_ ? split_arrays_[i] : first_; }
    const Array& arr(unsigned i) const { return split_ ? split_arrays_[i] : first_; }

    unsigned setIndex(const Array& a, std::uint64_t vpn, unsigned level) const {
        return static_cast<unsigned>((vpn >> config_.geometry.levelVpnBits(level)) &
                                     (a.store.sets() - 1));
    }
    // The entry maps base page vpn (compared at the entry's own page size).
    bool coversVa(const TlbEntry& e, std::uint64_t vpn) const {
        return e.vpn == (vpn & ~((std::uint64_t{1} << config_.geometry.levelVpnBits(e.level)) - 1));
    }
    bool matches(const TlbEntry& e, std::uint64_t vpn, Asid asid) const {
        return coversVa(e, vpn) && (e.global() || e.asid == asid);
    }
    // Looks up one array; on a hit touches the entry and makes it the MRU entry.
    bool probe(Array& a, std::uint64_t vpn, Asid asid, TlbEntry& out);
    bool lookupSplit(std::uint64_t vpn, Asid asid, TlbEntry& out);

    // One array: first_, a member of its own, probed as directly as before there were several.
    // Several: split_arrays_, and first_ is an array that never holds an entry, so that the
    // one-array code finds nothing there and only then (on a miss) asks whether to go on.
    Array first_;
    std::vector<Array> split_arrays_;
    bool split_ = false;            // more than one array
    std::int8_t array_of_level_[8]; // the array holding each leaf level, -1 none
    std::uint64_t uncacheable_fills_ = 0;
    TlbEntry mru_; // the entry the previous lookup hit, for base page mru_vpn_ and mru_asid_
    std::uint64_t mru_vpn_ = 0;
    Asid mru_asid_ = 0;
    bool mru_valid_ = false;       // the one-array shortcut (Tlb::lookup)
    bool split_mru_valid_ = false; // the shortcut of a level of several arrays (lookupSplit)
    unsigned mru_array_ = 0;       // the array mru_ is in, whose hits it counts
};

} // namespace tlmmu
