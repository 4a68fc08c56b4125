// Builds the Verilated RTL TLB (rtl/) behind the same TlbInterface as the C++ Tlb. In a build
// without Verilator (TLMMU_RTL=OFF) it throws InputError naming the key instead.
#pragma once

#include <memory>

#include "mmu/Tlb.h"

namespace tlmmu {

bool rtlTlbAvailable();
std::unique_ptr<TlbInterface> makeRtlTlb(const TlbConfig& config);

} // namespace tlmmu
