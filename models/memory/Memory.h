// DRAM: a TLM target over SparseMemory with a fixed access latency plus a transfer time, and
// DMI for data (granted one 4 KiB page at a time, since storage is sparse).
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "common/Clock.h"
#include "common/Stats.h"
#include "memory/SparseMemory.h"

namespace tlmmu {

struct MemoryConfig {
    std::uint64_t size = std::uint64_t{4} << 30;
    unsigned latency_cycles = 100;
    unsigned bytes_per_cycle = 64; // transfer beyond the first beat: (len-1)/bytes_per_cycle
};

class Memory : public sc_core::sc_module {
  public:
    tlm_utils::simple_target_socket<Memory> target_socket;

    Memory(sc_core::sc_module_name name, const MemoryConfig& config, const Clock& clock);
    void registerStats(Stats& stats, const std::string& prefix) const;
    SparseMemory& storage() { return storage_; }
    std::uint64_t accessCycles(std::uint64_t len) const {
        return config_.latency_cycles + (len ? (len - 1) / config_.bytes_per_cycle : 0);
    }

  private:
    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
    unsigned transport_dbg(tlm::tlm_generic_payload& trans);
    bool access(tlm::tlm_generic_payload& trans); // moves the bytes; false on error response

    MemoryConfig config_;
    const Clock& clock_;
    SparseMemory storage_;
    std::uint64_t reads_ = 0, writes_ = 0, bytes_read_ = 0, bytes_written_ = 0;
};

} // namespace tlmmu
