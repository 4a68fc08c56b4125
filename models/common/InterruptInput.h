// An interrupt input (a core's irq): the source says at what simulated time the line rises.
// Timestamped rather than an sc_signal so that a core that runs ahead of simulated time
// (temporal decoupling) takes the interrupt at exactly that time and not at its next
// synchronisation: the source calls raise() from its own thread, at or before `at`.
#pragma once

#include <systemc>

namespace tlmmu {

class InterruptInput {
  public:
    virtual ~InterruptInput() = default;
    virtual void raise(const sc_core::sc_time& at) = 0;
};

} // namespace tlmmu
