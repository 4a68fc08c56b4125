// A block device for swapping, on the interconnect: MMIO registers (abi/
// swap_device.h) and DMA to memory through its own initiator socket. Writing COMMAND moves
// LENGTH bytes between FRAME (physical memory) and slot SLOT of the device's backing store, and
// the write itself takes the device latency (an NVMe read/write is around 10-20 us) plus the DMA.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/Clock.h"
#include "common/RegisterBank.h"
#include "common/Stats.h"
#include "memory/SparseMemory.h"
#include "swap_device.h"

namespace tlmmu {

class SwapDevice : public sc_core::sc_module {
  public:
    static constexpr std::uint64_t kRegisterBytes = SWAP_REG_BYTES;
    tlm_utils::simple_target_socket<SwapDevice> register_socket; // MMIO from cores
    tlm_utils::simple_initiator_socket<SwapDevice> dma_socket;   // to the interconnect

    SwapDevice(sc_core::sc_module_name name, std::uint64_t slots, std::uint64_t latency_cycles,
               const Clock& clock);
    // writes, reads, errors (failed commands), slots; access_errors, last_access_error (bus).
    void registerStats(Stats& stats, const std::string& prefix) const;
    const RegisterBank& registers() const { return regs_; }

  private:
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
        regs_.b_transport(trans, delay);
    }
    unsigned transport_dbg(tlm::tlm_generic_payload& trans) { return regs_.transport_dbg(trans); }
    std::uint64_t execute(std::uint64_t command, sc_core::sc_time& delay); // returns status

    std::uint64_t slots_;
    sc_core::sc_time latency_;
    SparseMemory store_; // slot s occupies [s * LENGTH, (s+1) * LENGTH)
    std::vector<std::uint8_t> buffer_;
    std::uint64_t writes_ = 0, reads_ = 0, errors_ = 0;

    RegisterBank regs_;
    Register slot_{regs_, "SLOT", SWAP_REG_SLOT};
    Register frame_{regs_, "FRAME", SWAP_REG_FRAME};
    Register length_{regs_, "LENGTH", SWAP_REG_LENGTH, 8, 4096};
    Register command_{regs_, "COMMAND", SWAP_REG_COMMAND}; // reads 0: done when the write returns
    Register status_{regs_, "STATUS", SWAP_REG_STATUS, 8, 0, Register::Access::ReadOnly};
};

} // namespace tlmmu
