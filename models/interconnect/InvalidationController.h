// Carries TLB maintenance from one core to another's Mmu (DVM / TLBI-style, directed at one
// core or broadcast): an MMIO target on the interconnect (registers and their protocol in
// abi/invalidation_controller.h).
//
// Timing, in cycles of the clock given (zero with the defaults base = hop = 0):
//  - directed (TARGET = a core): synchronous; the COMMAND write takes base + hop, and the Mmu
//    gets the operation at the write's time + base + hop;
//  - broadcast (TARGET = INVAL_TARGET_ALL, issue 9's `firmware.shootdown.mechanism: broadcast`):
//    posted; the COMMAND write adds nothing. The operation travels the n Mmus one after the other
//    in core order: the k-th (k = 1 .. n) gets it at the write's time + base + k * hop. The
//    Mmus apply it in parallel: each is called with its own copy of that delay, and what an Mmu
//    adds (the time it takes to apply it) is not added to the others'. An Mmu applies the
//    broadcasts it gets one after the other (a second one waits until it is done with the
//    first), and its completion travels on through the Mmus after it: the issuer's broadcast
//    completes at the latest, over the Mmus, of (when it applied it + the remaining hops); for
//    one broadcast, write time + base + n * hop + the largest time an Mmu added;
//  - sync (INVAL_CMD_SYNC): the write's delay is extended to the latest completion of the
//    ISSUER's broadcasts so far (nothing when they are all complete): no wait(), the issuer's
//    local time moves on.
// Functionally every Mmu is invalidated during the COMMAND write (loosely timed: the delays say
// when); the sync is what makes the issuer's time account for the travel.
#pragma once

#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/Clock.h"
#include "common/RegisterBank.h"
#include "common/Stats.h"
#include "common/TranslationExtension.h"
#include "invalidation_controller.h"

namespace tlmmu {

class InvalidationController : public sc_core::sc_module {
  public:
    static constexpr std::uint64_t kRegisterBytes = INVAL_REG_BYTES;

    tlm_utils::simple_target_socket<InvalidationController> register_socket;
    // Bound to every Mmu's invalidate_socket, in core order.
    tlm_utils::multi_passthrough_initiator_socket<InvalidationController> mmu_socket;

    // Zero time: every Mmu reached at the write's own time.
    explicit InvalidationController(sc_core::sc_module_name name);
    // base_cycles: fixed cost of an operation (issue, completion sync); hop_cycles: per Mmu
    // reached (e.g. invalidation.hop_cycles). In cycles of `clock`.
    InvalidationController(sc_core::sc_module_name name, const Clock& clock,
                           std::uint64_t base_cycles, std::uint64_t hop_cycles);
    // The time from the COMMAND write until an operation has reached `mmus` Mmus (that take no
    // time to apply it): what a directed write (mmus = 1) takes, or a broadcast and its sync.
    sc_core::sc_time operationTime(unsigned mmus) const {
        return base_ + sc_core::sc_time::from_value(hop_.value() * mmus);
    }
    // operations (invalidations delivered to an Mmu), broadcasts, syncs; access_errors,
    // last_access_error.
    void registerStats(Stats& stats, const std::string& prefix) const;
    const RegisterBank& registers() const { return regs_; }

  private:
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
        regs_.b_transport(trans, delay);
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& trans) { return regs_.transport_dbg(trans); }
    tlm::tlm_response_status command(std::uint64_t value, sc_core::sc_time& delay);
    void broadcast(const sc_core::sc_time& delay);
    void sync(sc_core::sc_time& delay);
    void send(unsigned core, sc_core::sc_time& delay);

    sc_core::sc_time base_, hop_; // zero by default
    std::uint64_t operations_ = 0, broadcasts_ = 0, syncs_ = 0;
    // Per issuing core: the absolute time its last broadcast completes (sized to the Mmus at
    // the first broadcast or sync, when every socket is bound).
    std::vector<sc_core::sc_time> complete_;
    // By Mmu: when it has applied every broadcast sent to it so far (they queue there).
    std::vector<sc_core::sc_time> busy_;

    RegisterBank regs_;
    Register va_{regs_, "VA", INVAL_REG_VA};
    Register asid_{regs_, "ASID", INVAL_REG_ASID};
    Register kind_{regs_, "KIND", INVAL_REG_KIND};
    Register target_{regs_, "TARGET", INVAL_REG_TARGET};
    Register command_{regs_, "COMMAND", INVAL_REG_COMMAND}; // reads 0: never busy
    Register issuer_{regs_, "ISSUER", INVAL_REG_ISSUER};
};

} // namespace tlmmu
