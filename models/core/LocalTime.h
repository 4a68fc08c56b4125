// One local time per core, shared by the core's execution and the firmware it runs (the HAL):
// Accellera's quantum-keeper pattern with the local offset kept in whole cycles, so that the
// hot path adds integers and converts to sc_time only when it synchronises.
#pragma once

#include <cstdint>

#include <systemc>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "common/Clock.h"

namespace tlmmu {

// Thrown at a core's next synchronisation once the run has failed on another core: it unwinds
// whatever that core was doing (firmware waiting for the failed core, a workload) so that every
// core ends, its stack released, and the simulation ends by itself.
struct RunStopped {};

class LocalTime {
  public:
    explicit LocalTime(const Clock& clock) : clock_(clock) {}
    const Clock& clock() const { return clock_; }

    void advance(std::uint64_t cycles) { local_ += cycles; }
    std::uint64_t local() const { return local_; } // cycles ahead of sc_time_stamp()
    void setLocal(std::uint64_t cycles) { local_ = cycles; }
    // This core's time: simulated time plus what it ran ahead.
    sc_core::sc_time now() const { return sc_core::sc_time_stamp() + clock_.cycles(local_); }
    bool needSync() const { return local_ >= quantum_; }
    // Yields to the other cores: simulated time catches up with this core's local time.
    void sync() {
        qk_.set(clock_.cycles(local_));
        qk_.sync();
        local_ = 0;
        checkRunning();
    }
    // The run has failed: every core stops at its next synchronisation (RunStopped).
    static void stopAll() { stopped() = true; }
    static void startAll() { stopped() = false; } // a new platform
    static void checkRunning() {
        if (stopped()) throw RunStopped{};
    }
    // At the start of the run, once the global quantum is set.
    void reset() {
        qk_.reset();
        local_ = 0;
        global_quantum_ =
            std::max<std::uint64_t>(1, clock_.toCycles(tlm::tlm_global_quantum::instance().get()));
        quantum_ = global_quantum_;
    }
    // Runs at most `limit` cycles ahead (0: the global quantum): a core that other cores may
    // interrupt stays within their interrupt latency of them, so that it takes an interrupt at
    // its exact time rather than after having run past it.
    void limitQuantum(std::uint64_t limit) {
        quantum_ =
            limit ? std::max<std::uint64_t>(1, std::min(limit, global_quantum_)) : global_quantum_;
    }

  private:
    static bool& stopped() {
        static bool flag = false; // one simulation per process
        return flag;
    }
    const Clock& clock_;
    tlm_utils::tlm_quantumkeeper qk_;
    std::uint64_t local_ = 0;
    std::uint64_t quantum_ = 1, global_quantum_ = 1;
};

} // namespace tlmmu
