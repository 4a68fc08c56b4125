// Linked when the project is built without the RTL (TLMMU_RTL=OFF).
#include "mmu/RtlTlbFactory.h"

namespace tlmmu {

bool rtlTlbAvailable() {
    return false;
}

std::unique_ptr<TlbInterface> makeRtlTlb(const TlbConfig& config) {
    throw InputError("tlb." + config.name +
                     ".impl: rtl needs a build with Verilator (cmake -DTLMMU_RTL=ON)");
}

} // namespace tlmmu
