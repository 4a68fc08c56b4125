// Per-core MMU: L1 ITLB, L1 DTLB, unified L2 TLB, and a PageWalker with its page-walk cache.
// The core talks to it through translate_socket with a TranslationExtension: translations,
// local invalidations and writes of the root/ASID register (satp / CR3).
#pragma once

#include <memory>

#include <systemc>
#include <tlm>

#include "common/Clock.h"
#include "common/Stats.h"
#include "common/TranslationExtension.h"
#include "mmu/PageWalker.h"
#include "mmu/Tlb.h"

namespace tlmmu {

struct MmuConfig {
    TlbConfig l1i, l1d, l2; // entries 0 = level absent
    PwcConfig pwc;
    unsigned asid_bits = 16;
    bool hardware_ad = true;
    // MIPS-style: a miss in the last TLB level (or a store to an entry with D clear) traps to
    // the firmware's refill handler (FaultKind::TlbMiss) instead of starting the walker.
    bool software_refill = false;
    // Time to apply one invalidation (local, or from another core through the invalidation
    // controller): by VA (x86 INVLPG, RISC-V sfence.vma with an address) and of a whole ASID or
    // everything (INVPCID single-context, sfence.vma x0). 0: free, as before these keys.
    Cycles invalidate_page_cycles = 0;
    Cycles invalidate_asid_cycles = 0;
};

// The Mmu is its sockets' forward interface itself (Accellera's plain tlm_target_socket style):
// a translation is one virtual call, which matters on a path taken for every memory reference.
class Mmu : public sc_core::sc_module, public tlm::tlm_fw_transport_if<> {
  public:
    tlm::tlm_target_socket<> translate_socket;
    // Maintenance from other cores (InvalidationController): same extension, Invalidate only.
    tlm::tlm_target_socket<> invalidate_socket;
    PageWalker walker;

    // make_tlb builds each level (the C++ Tlb, or the RTL wrapper); null = C++ Tlb.
    using TlbFactory = std::function<std::unique_ptr<TlbInterface>(const TlbConfig&)>;
    Mmu(sc_core::sc_module_name name, const MmuConfig& config, const PteFormat& format,
        const Clock& clock, const TlbFactory& make_tlb = nullptr);
    void registerStats(Stats& stats, const std::string& prefix) const;

    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) override;
    // Translation is blocking only; no DMI, no debug access.
    tlm::tlm_sync_enum nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase&,
                                       sc_core::sc_time&) override {
        trans.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
        return tlm::TLM_COMPLETED;
    }
    bool get_direct_mem_ptr(tlm::tlm_generic_payload&, tlm::tlm_dmi&) override { return false; }
    unsigned transport_dbg(tlm::tlm_generic_payload&) override { return 0; }

  private:
    struct Level {
        std::unique_ptr<TlbInterface> tlb;
        sc_core::sc_time latency;
        Cycles latency_cycles = 0;
        const Clock* clock = nullptr;
        // The C++ model when this level is one: called directly (Tlb is final), timed by the
        // configured latency. Otherwise (RTL) through the interface, timed by its own clock.
        Tlb* model = nullptr;
        std::uint64_t accesses = 0, hits = 0, misses = 0;
        bool lookup(Addr va, Asid asid, TlbEntry& out, TranslationExtension& ext,
                    sc_core::sc_time& delay);
    };
    void translate(TranslationExtension& ext, sc_core::sc_time& delay);
    void invalidate(FlushKind kind, Addr va, Asid asid);
    void tlbWrite(const TranslationExtension& ext);
    void finish(TranslationExtension& ext, const TlbEntry& e);
    void grant(TranslationExtension& ext, Level& l1, const TlbEntry& e);

    MmuConfig config_;
    const PteFormat& format_;
    const Clock& clock_;
    Level l1i_, l1d_, l2_;
    unsigned level_shift_[8] = {}; // page shift of a leaf at each level (for the PA)
    Addr root_ = 0;
    Asid asid_ = 0;
    // Bumped by every invalidation: a walk that saw it change while in flight does not refill
    // (Rocket's PTW rule: an invalidation racing a refill drops the refill).
    std::uint64_t generation_ = 0;
    // Bumped by every change that can touch an L1 TLB entry or what it means (fills,
    // invalidations, TLB writes, a new root or ASID): ends every TranslationGrant.
    std::uint64_t epoch_ = 0;
    // Software refill: the L1 whose miss trapped (null: none pending). The refill fills it as
    // the walker's fill would, so that the retried access hits there.
    Level* refill_l1_ = nullptr;
    Addr refill_vpn_ = 0;
    std::uint64_t dirty_walks_ = 0, dropped_refills_ = 0, invalidations_ = 0;
};

} // namespace tlmmu
