// A block device for swapping, on the interconnect: MMIO registers (firmware/kernel/mm.h lists
// them) and DMA to memory through its own initiator socket. Writing COMMAND moves LENGTH bytes
// between FRAME (physical memory) and slot SLOT of the device's backing store, and the write
// itself takes the device latency (an NVMe read/write is around 10-20 us).
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/Clock.h"
#include "common/Stats.h"
#include "memory/SparseMemory.h"

namespace tlmmu {

class SwapDevice : public sc_core::sc_module {
  public:
    static constexpr std::uint64_t kRegisterBytes = 0x100;
    tlm_utils::simple_target_socket<SwapDevice> register_socket; // MMIO from cores
    tlm_utils::simple_initiator_socket<SwapDevice> dma_socket;   // to the interconnect

    SwapDevice(sc_core::sc_module_name name, std::uint64_t slots, std::uint64_t latency_cycles,
               const Clock& clock);
    void registerStats(Stats& stats, const std::string& prefix) const;

  private:
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& trans);
    bool access(tlm::tlm_generic_payload& trans, sc_core::sc_time* delay); // null: debug
    std::uint64_t execute(std::uint64_t command, sc_core::sc_time* delay); // returns status

    std::uint64_t slots_;
    sc_core::sc_time latency_;
    SparseMemory store_; // slot s occupies [s * LENGTH, (s+1) * LENGTH)
    std::uint64_t slot_ = 0, frame_ = 0, length_ = 4096, status_ = 0;
    std::vector<std::uint8_t> buffer_;
    std::uint64_t writes_ = 0, reads_ = 0, errors_ = 0;
};

} // namespace tlmmu
