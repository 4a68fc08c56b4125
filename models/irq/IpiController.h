// Inter-processor interrupts: an MMIO target on the interconnect implementing the registers of
// abi/ipi_controller.h (one TARGETS, SEND, PENDING and CLEAR register per core,
// declared through the RegisterBank), and one interrupt output per core, connected to that
// core's InterruptInput.
//
// Timing (every time is an initiator's local time, sc_time_stamp() + the b_transport delay, so
// that it is exact under temporal decoupling; nothing here calls wait()):
// - a write of vector v to SEND(c) at local time T is posted: it adds nothing to the delay (the
//   access costs the interconnect's hop only). For each core t of TARGETS(c), in ascending
//   order, the delivery is dropped with probability drop_probability (fault injection: counted,
//   silent) or else v becomes pending at t at T + latency; raise(T + latency) is called on t's
//   InterruptInput at once, from the writer's thread (the input is timestamped);
// - a read of PENDING(c) at local time t returns the vectors delivered to c at or before t and
//   not cleared yet;
// - a write of mask m to CLEAR(c) at local time t removes the deliveries of the vectors in m
//   that took place at or before t (a delivery of the same vector scheduled after t stays and
//   shows at its own time). If anything is left for c (delivered earlier and not cleared, or
//   still to come), c's input is raised again at max(t, earliest time left): the input stays
//   raised while a vector is pending, and a core that took its interrupt before a later
//   delivery gets another one. (Core::raise keeps only the earliest time while one is pending,
//   so a later delivery raised meanwhile is merged into it; this re-raise on CLEAR is what
//   brings it back. The firmware must therefore write CLEAR after each PENDING read in its
//   handler, even when it has nothing to clear.)
// Errors, answered with a TLM error response, counted and described in words by the
// RegisterBank (access_errors, last_access_error), and with no other effect (nothing sent,
// TARGETS keeps its value): TLM_GENERIC_ERROR_RESPONSE for a TARGETS write naming a core >=
// cores, a SEND of a vector > 63, a SEND while TARGETS(c) is 0 (nothing to send to: a firmware
// bug made visible; the header does not list this case); TLM_ADDRESS_ERROR_RESPONSE for an
// offset that is no register (registers exist for cores 0 .. cores-1 only);
// TLM_BURST_ERROR_RESPONSE for an access that is not 8 bytes; TLM_COMMAND_ERROR_RESPONSE for a
// write to PENDING or a read of CLEAR. SEND reads 0. Debug accesses: reads as timed reads at
// sc_time_stamp(); debug writes to TARGETS, SEND and CLEAR are refused (they act).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "common/Clock.h"
#include "common/InterruptInput.h"
#include "common/RegisterBank.h"
#include "common/Stats.h"
#include "ipi_controller.h"
#include "workload/Random.h"

namespace tlmmu {

class IpiController : public sc_core::sc_module {
  public:
    static constexpr std::uint64_t kRegisterBytes = IPI_REG_BYTES;
    static constexpr unsigned kMaxCores = IPI_MAX_CORES;

    tlm_utils::simple_target_socket<IpiController> register_socket; // MMIO from cores

    // cores: 1 .. 64; latency_cycles: ipi.latency_cycles (SEND to pending, in clock cycles);
    // drop_probability: ipi.drop_probability in [0, 1]; seed: the drops' random stream (same
    // seed, same drops). Throws std::invalid_argument on a value out of range.
    IpiController(sc_core::sc_module_name name, unsigned cores, std::uint64_t latency_cycles,
                  double drop_probability, std::uint64_t seed, const Clock& clock);

    // Core `core`'s interrupt input (elaboration). A core left unconnected still gets its
    // vectors pending; nothing is raised. Throws std::out_of_range for core >= cores.
    void connect(unsigned core, InterruptInput& input);

    // Per core: <corePrefix(i)>.ipi.sent (deliveries core i asked for, one per target, dropped
    // ones included) and <corePrefix(i)>.ipi.received (deliveries to core i, dropped ones
    // excluded; counted when the SEND is accepted, i.e. possibly before the delivery time);
    // totals: <prefix>.sent, .delivered, .dropped (sent = delivered + dropped),
    // .access_errors, .last_access_error. corePrefix defaults to "cores[i]".
    void registerStats(Stats& stats, const std::string& prefix,
                       const std::function<std::string(unsigned)>& corePrefix = {}) const;

    unsigned cores() const { return static_cast<unsigned>(cores_.size()); }
    const sc_core::sc_time& latency() const { return latency_; }
    // What PENDING(core) reads at time `at` (no side effects).
    std::uint64_t pending(unsigned core, const sc_core::sc_time& at) const;
    // Deliveries to `core` not acknowledged yet (after compaction; for tests and diagnostics).
    std::size_t queued(unsigned core) const { return cores_.at(core).deliveries.size(); }
    const RegisterBank& registers() const { return regs_; }

  private:
    static constexpr std::size_t kCompactAt = 256; // deliveries queued at one core
    struct Delivery {
        sc_core::sc_time at;
        unsigned vector;
    };
    struct PerCore {
        InterruptInput* input = nullptr;
        std::vector<Delivery> deliveries; // not cleared yet, in the order they were sent
        std::size_t compact_at = kCompactAt;
        std::uint64_t sent = 0, received = 0;
    };

    void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
    unsigned transport_dbg(tlm::tlm_generic_payload& trans);
    tlm::tlm_response_status writeTargets(unsigned core, std::uint64_t mask);
    tlm::tlm_response_status send(unsigned core, std::uint64_t vector,
                                  const sc_core::sc_time& delay);
    tlm::tlm_response_status clear(unsigned core, std::uint64_t mask,
                                   const sc_core::sc_time& delay);
    void compact(PerCore& target);
    void raise(PerCore& target, const sc_core::sc_time& at);

    sc_core::sc_time latency_;
    double drop_probability_;
    Xoshiro256ss rng_;
    std::vector<PerCore> cores_;
    sc_core::sc_time access_time_; // local time of the access being served (PENDING reads)
    std::uint64_t sent_ = 0, delivered_ = 0, dropped_ = 0;

    RegisterBank regs_;
    std::vector<Register*> targets_; // TARGETS(c), stored values
};

} // namespace tlmmu
