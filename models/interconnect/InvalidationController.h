// Carries TLB maintenance from one core to another's Mmu (DVM / TLBI-style, directed at one
// core or broadcast): an MMIO target on the interconnect (registers in firmware/include/
// invalidation_controller.h); writing INVAL_CMD_INVALIDATE to COMMAND sends the operation held
// in the other registers to the target Mmu(s), and the write completes when they have.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

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

    explicit InvalidationController(sc_core::sc_module_name name);
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

    std::uint64_t operations_ = 0;

    RegisterBank regs_;
    Register va_{regs_, "VA", INVAL_REG_VA};
    Register asid_{regs_, "ASID", INVAL_REG_ASID};
    Register kind_{regs_, "KIND", INVAL_REG_KIND};
    Register target_{regs_, "TARGET", INVAL_REG_TARGET};
    Register command_{regs_, "COMMAND", INVAL_REG_COMMAND}; // reads 0: never busy
};

} // namespace tlmmu
