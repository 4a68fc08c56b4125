#include "common/Clock.h"

#include <cmath>

namespace tlmmu {

Clock::Clock(double frequency_ghz)
    : period_(std::max(1.0, std::round(1000.0 / frequency_ghz)), sc_core::SC_PS) {}

} // namespace tlmmu
