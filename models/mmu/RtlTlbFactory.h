// Builds the Verilated RTL TLB (rtl/) behind the same TlbInterface as the C++ Tlb. In a build
// without Verilator (TLMMU_RTL=OFF) it throws InputError naming the key instead.
#pragma once

#include <memory>

#include "mmu/Tlb.h"

namespace tlmmu {

bool rtlTlbAvailable();

// The RTL TLB is one array holding every page size: a level given as arrays
// (tlb.<level>.arrays) cannot be impl: rtl. Throws InputError naming the key; the configuration
// calls it, and so does the RTL wrapper. Inline: it is needed with and without the RTL build.
inline void checkRtlTlbArrays(const TlbConfig& config) {
    if (config.impl == "rtl" && !config.arrays.empty())
        throw InputError("tlb." + config.name + ".arrays: impl rtl is one array holding every " +
                         "page size; give tlb." + config.name + ".entries and tlb." + config.name +
                         ".ways instead of arrays, or impl: model");
}
std::unique_ptr<TlbInterface> makeRtlTlb(const TlbConfig& config);

} // namespace tlmmu
