// The core clock: time is counted in cycles and converted to sc_time only at the edges.
// The period is rounded to a whole picosecond (SystemC's resolution), and both directions use
// that same rounded period, so cycles -> sc_time -> cycles is exact.
#pragma once

#include <cstdint>
#include <systemc>

namespace tlmmu {

class Clock {
  public:
    explicit Clock(double frequency_ghz);
    sc_core::sc_time cycles(std::uint64_t n) const {
        return sc_core::sc_time::from_value(period_.value() * n);
    }
    std::uint64_t toCycles(const sc_core::sc_time& t) const {
        return t.value() / period_.value(); // both in the 1 ps resolution unit
    }
    const sc_core::sc_time& period() const { return period_; }

  private:
    sc_core::sc_time period_;
};

} // namespace tlmmu
