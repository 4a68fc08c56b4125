#include "common/Clock.h"

#include <cmath>
#include <string>

namespace tlmmu {

Clock::Clock(double frequency_ghz)
    : period_(std::max(1.0, std::round(1000.0 / frequency_ghz)), sc_core::SC_PS) {}

void Clock::overflow(std::uint64_t n) const {
    throw TimeOverflow("simulated time overflow: a delay of " + std::to_string(n) + " cycles of " +
                       std::to_string(period_.value()) + " ps at simulated time " +
                       std::to_string(sc_core::sc_time_stamp().value()) +
                       " ps would pass 2^63 ps (about 106 days; time is 64-bit picoseconds); "
                       "shorten the run or the latencies, or raise core.frequency_ghz");
}

} // namespace tlmmu
