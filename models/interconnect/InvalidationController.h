// Carries TLB maintenance from one core to another's Mmu (DVM / TLBI-style, directed at one
// core or broadcast): an MMIO target on the interconnect; writing COMMAND sends the operation
// held in the other registers to the target Mmu(s), and the write completes when they have.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/Stats.h"
#include "common/TranslationExtension.h"

namespace tlmmu {

class InvalidationController : public sc_core::sc_module {
  public:
    static constexpr std::uint64_t kRegVa = 0x00, kRegAsid = 0x08, kRegKind = 0x10,
                                   kRegTarget = 0x18, kRegCommand = 0x20, kRegisterBytes = 0x40;
    static constexpr std::uint64_t kAllCores = ~std::uint64_t{0};

    tlm_utils::simple_target_socket<InvalidationController> register_socket;
    // Bound to every Mmu's invalidate_socket, in core order.
    tlm_utils::multi_passthrough_initiator_socket<InvalidationController> mmu_socket;

    explicit InvalidationController(sc_core::sc_module_name name);
    void registerStats(Stats& stats, const std::string& prefix) const;

  private:
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    void send(unsigned core, sc_core::sc_time& delay);

    std::uint64_t va_ = 0, asid_ = 0, kind_ = 0, target_ = 0;
    std::uint64_t operations_ = 0;
};

} // namespace tlmmu
