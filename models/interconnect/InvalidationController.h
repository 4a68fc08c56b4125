// Carries TLB maintenance from one core to another's Mmu (DVM / TLBI-style, directed at one
// core or broadcast): an MMIO target on the interconnect (registers in firmware/include/
// invalidation_controller.h); writing INVAL_CMD_INVALIDATE to COMMAND sends the operation held
// in the other registers to the target Mmu(s), and the write completes when they have.
//
// Timing (issue 9's `firmware.shootdown.mechanism: broadcast`, ARM TLBI-IS / AMD INVLPGB
// style): an operation that reaches n Mmus (n = 1 directed, n = every bound Mmu for
// INVAL_TARGET_ALL) takes base_cycles + n * hop_cycles, added to the COMMAND write's delay
// (no wait(): the initiator's local time moves on, the write returns when every Mmu has been
// reached, which is the broadcast's completion sync). The operation travels the Mmus one after
// the other in core order: the k-th Mmu reached (k = 1 .. n) gets it at base + k * hop after the
// write arrived (plus whatever earlier Mmus add to the delay; today's Mmus add nothing). With the
// defaults (0, 0) every Mmu is reached in zero time, as before.
#pragma once

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
    // The time an operation reaching `mmus` Mmus adds to the COMMAND write.
    sc_core::sc_time operationTime(unsigned mmus) const {
        return base_ + sc_core::sc_time::from_value(hop_.value() * mmus);
    }
    // operations (invalidations delivered to an Mmu); access_errors, last_access_error.
    void registerStats(Stats& stats, const std::string& prefix) const;
    const RegisterBank& registers() const { return regs_; }

  private:
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
        regs_.b_transport(trans, delay);
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& trans) { return regs_.transport_dbg(trans); }
    tlm::tlm_response_status command(std::uint64_t value, sc_core::sc_time& delay);
    void send(unsigned core, sc_core::sc_time& delay);

    sc_core::sc_time base_, hop_; // zero by default
    std::uint64_t operations_ = 0;

    RegisterBank regs_;
    Register va_{regs_, "VA", INVAL_REG_VA};
    Register asid_{regs_, "ASID", INVAL_REG_ASID};
    Register kind_{regs_, "KIND", INVAL_REG_KIND};
    Register target_{regs_, "TARGET", INVAL_REG_TARGET};
    Register command_{regs_, "COMMAND", INVAL_REG_COMMAND}; // reads 0: never busy
};

} // namespace tlmmu
