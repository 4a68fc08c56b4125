// The core clock: time is counted in cycles and converted to sc_time only at the edges.
// The period is rounded to a whole picosecond (SystemC's resolution), and both directions use
// that same rounded period, so cycles -> sc_time -> cycles is exact.
#pragma once

#include <cstdint>
#include <systemc>

#include "common/Types.h"

namespace tlmmu {

// Simulated time is a 64-bit count of picoseconds (SystemC's resolution). Every delay is made
// here, so this is where overflow is caught: a delay beyond 2^62 ps, or one that would take the
// simulation past 2^63 ps (about 106 days of simulated time), throws TimeOverflow instead of
// wrapping silently. (SystemConfig refuses configured delays beyond 2^62 ps before the run;
// the headroom above 2^63 covers local times running ahead of the kernel's by a quantum.)
struct TimeOverflow : InputError {
    using InputError::InputError;
};

class Clock {
  public:
    static constexpr std::uint64_t kMaxDelayPs = std::uint64_t{1} << 62;
    static constexpr std::uint64_t kMaxTimePs = std::uint64_t{1} << 63;

    explicit Clock(double frequency_ghz);
    sc_core::sc_time cycles(std::uint64_t n) const {
        std::uint64_t ps;
        if (__builtin_mul_overflow(period_.value(), n, &ps) || ps > kMaxDelayPs ||
            sc_core::sc_time_stamp().value() > kMaxTimePs - ps)
            overflow(n);
        return sc_core::sc_time::from_value(ps);
    }
    std::uint64_t toCycles(const sc_core::sc_time& t) const {
        return t.value() / period_.value(); // both in the 1 ps resolution unit
    }
    const sc_core::sc_time& period() const { return period_; }

  private:
    [[noreturn]] void overflow(std::uint64_t n) const;
    sc_core::sc_time period_;
};

} // namespace tlmmu
