// One array of a TLB level given as arrays (TlbConfig::arrays), for the Tlb and Mmu tests.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "mmu/Tlb.h"

namespace tlmmu::test {

// LRU; page sizes in bytes.
inline TlbArrayConfig tlbArray(std::vector<std::uint64_t> page_sizes, unsigned entries,
                               unsigned ways, unsigned latency = 0) {
    TlbArrayConfig a;
    a.page_sizes = std::move(page_sizes);
    a.entries = entries;
    a.ways = ways;
    a.latency_cycles = latency;
    return a;
}

} // namespace tlmmu::test
