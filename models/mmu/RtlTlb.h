// RtlTlb: the Verilated RTL TLB (rtl/Tlb.v) behind the same TlbInterface as the C++ Tlb. Each
// call drives the RTL's pins and ticks its clock (lookup 1 cycle, refill 2, invalidation 1), so
// the answers are the RTL's, not a C++ re-implementation. The Verilated classes stay out of this
// header: it can be included with or without <systemc>, in any order.
//
// The RTL has build-time sizes: only the (entries, ways) shapes listed in TLMMU_RTL_SHAPES
// (rtl/CMakeLists.txt) exist; other sizes, replacement policies other than plru, and page
// geometries the RTL cannot hold are InputErrors naming the key.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "mmu/Tlb.h"

namespace tlmmu {

// What the RTL reported, counted from its output pins: functional coverage for the tests.
struct RtlTlbEvents {
    std::uint64_t lookups = 0, hits = 0;
    std::vector<std::uint64_t> hits_per_way;      // index: way within the set
    std::vector<std::uint64_t> hits_per_level;    // index: page-size level of the hit entry
    std::uint64_t global_hits = 0;                // hits on a G entry
    std::uint64_t refills = 0;                    // written into the array
    std::uint64_t refills_in_place = 0;           // overwrote the same translation
    std::uint64_t refills_evicting = 0;           // set full: replaced the PLRU victim
    std::uint64_t refills_dropped = 0;            // raced by an invalidation
    std::array<std::uint64_t, 4> invalidations{}; // per FlushKind
};

class RtlTlb final : public TlbInterface {
  public:
    static constexpr unsigned kLookupCycles = 1; // request to registered response
    static constexpr unsigned kRefillCycles = 2; // accept, then write
    static constexpr unsigned kInvalidateCycles = 1;
    static constexpr unsigned kLevels = 5;    // RTL parameter LEVELS (entry levels 0..4)
    static constexpr unsigned kVpnBits = 52;  // RTL parameter VPN_BITS (needs page_shift >= 12)
    static constexpr unsigned kAsidBits = 16; // RTL parameter ASID_BITS (narrower ASIDs masked)

    struct Shape {
        unsigned entries, ways;
    };
    static std::vector<Shape> shapes(); // the Verilated shapes of this build

    explicit RtlTlb(const TlbConfig& config); // throws InputError naming the key
    ~RtlTlb() override;

    bool lookup(Addr va, Asid asid, TlbEntry& out) override;
    Cycles lookupCycles() const override { return last_lookup_cycles_; }
    void fill(const TlbEntry& entry) override;
    void invalidate(FlushKind kind, Addr va, Asid asid) override;

    // A refill raced by an invalidation, as when a walk was in flight during sfence.vma:
    // gap 0 presents both in the same cycle, gap 1 the invalidation in the cycle after the
    // refill was accepted (while it is pending). The RTL drops the refill, then invalidates;
    // returns whether it reported the drop.
    bool fillRacingInvalidate(const TlbEntry& entry, unsigned gap, FlushKind kind, Addr va,
                              Asid asid);

    std::uint64_t cycles() const; // RTL clock cycles so far

  private:
    Cycles last_lookup_cycles_ = 0;

  public:
    unsigned lastHitWay() const;    // way of the last lookup hit
    unsigned lastRefillWay() const; // way the last written refill went to
    const RtlTlbEvents& events() const { return events_; }
    const std::string& waveformPath() const { return waveform_path_; } // "" when off

    // The interface the Verilated shapes implement (RtlTlb.cpp).
    class Port;

  private:
    std::unique_ptr<Port> port_;
    RtlTlbEvents events_;
    std::string waveform_path_;
    unsigned last_refill_way_ = 0;
};

} // namespace tlmmu
