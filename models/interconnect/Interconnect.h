// The interconnect: a TLM router with an address map and a per-transaction latency.
// Initiators (cores' data/firmware ports, page walkers) bind to target_socket; targets (memory,
// later the IPI controller and swap device) to initiator_socket, each with an address range.
// Accesses outside the map answer TLM_ADDRESS_ERROR_RESPONSE.
#pragma once

#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

#include "common/Clock.h"
#include "common/Stats.h"
#include "common/Types.h"

namespace tlmmu {

class Interconnect : public sc_core::sc_module {
  public:
    tlm_utils::multi_passthrough_target_socket<Interconnect> target_socket;
    tlm_utils::multi_passthrough_initiator_socket<Interconnect> initiator_socket;

    Interconnect(sc_core::sc_module_name name, unsigned latency_cycles, const Clock& clock);
    // Maps [base, base+size) to the target bound to initiator_socket port `port` (in bind
    // order); the target sees addresses relative to base. Throws on overlap.
    void map(Addr base, std::uint64_t size, unsigned port, const std::string& name);
    void registerStats(Stats& stats, const std::string& prefix) const;

  private:
    struct Region {
        Addr base;
        std::uint64_t size;
        unsigned port;
        std::string name;
        std::uint64_t transactions = 0;
    };
    Region* decode(Addr addr);
    void b_transport(int id, tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
    unsigned transport_dbg(int id, tlm::tlm_generic_payload& trans);
    void invalidate_direct_mem_ptr(int port, sc_dt::uint64 start, sc_dt::uint64 end);

    sc_core::sc_time latency_;
    std::vector<Region> regions_;
    Region* last_ = nullptr; // most recent decode: consecutive accesses mostly hit one target
    std::uint64_t transactions_ = 0, address_errors_ = 0;
};

} // namespace tlmmu
