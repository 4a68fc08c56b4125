// The TLB: one interface for the C++ model and the Verilated RTL (rtl/), and the C++ model.
// Flush semantics follow CVA6/RISC-V sfence.vma: by (va, asid) drops the non-global entries of
// that ASID mapping va; by asid drops that ASID's non-global entries; by va drops every entry
// mapping va whatever its ASID or G bit; all drops everything.
#pragma once

#include <string>

#include "mmu/SetAssocArray.h"
#include "mmu/TlbEntry.h"

namespace tlmmu {

enum class FlushKind : std::uint8_t { All, Asid, Va, VaAsid };

struct TlbConfig {
    std::string name; // "l1i", "l1d", "l2"
    unsigned entries = 64;
    unsigned ways = 4;
    Replacement replacement = Replacement::Lru;
    unsigned latency_cycles = 0;
    unsigned asid_bits = 16;
    PageGeometry geometry;
    std::uint64_t seed = 1;
    std::string impl = "model"; // model (C++ Tlb) | rtl (Verilated rtl/, see RtlTlbFactory.h)
    std::string waveform;       // rtl only: VCD file to write, "" = none
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
    explicit Tlb(const TlbConfig& config); // throws InputError on impossible geometry
    bool lookup(Addr va, Asid asid, TlbEntry& out) override;
    void fill(const TlbEntry& entry) override;
    void invalidate(FlushKind kind, Addr va, Asid asid) override;
    unsigned occupancy() const { return array_.occupancy(); }

    // Set of an entry of `level` covering base-page number vpn (shared with the RTL wrapper).
    unsigned setIndex(std::uint64_t vpn, unsigned level) const {
        return static_cast<unsigned>((vpn >> config_.geometry.levelVpnBits(level)) &
                                     (array_.sets() - 1));
    }

  private:
    // The entry maps base page vpn (compared at the entry's own page size).
    bool coversVa(const TlbEntry& e, std::uint64_t vpn) const {
        return e.vpn == (vpn & ~((std::uint64_t{1} << config_.geometry.levelVpnBits(e.level)) - 1));
    }
    bool matches(const TlbEntry& e, std::uint64_t vpn, Asid asid) const {
        return coversVa(e, vpn) && (e.global() || e.asid == asid);
    }

    SetAssocArray<TlbEntry> array_;
    TlbEntry mru_; // the entry the previous lookup hit, for base page mru_vpn_ and mru_asid_
    std::uint64_t mru_vpn_ = 0;
    Asid mru_asid_ = 0;
    bool mru_valid_ = false;
    unsigned leaf_levels_[8];
    unsigned num_leaf_levels_ = 0;
};

} // namespace tlmmu
