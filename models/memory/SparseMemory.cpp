#include "memory/SparseMemory.h"

#include <algorithm>
#include <cstring>

namespace tlmmu {

const std::uint8_t* SparseMemory::findPage(Addr addr) const {
    auto it = pages_.find(addr >> kPageShift);
    return it == pages_.end() ? nullptr : it->second.get();
}

std::uint8_t* SparseMemory::page(Addr addr) {
    auto& p = pages_[addr >> kPageShift];
    if (!p) p.reset(new std::uint8_t[kPageSize]()); // zero-initialised
    return p.get();
}

void SparseMemory::read(Addr addr, std::uint8_t* dst, std::uint64_t len) const {
    while (len) {
        const std::uint64_t off = addr & (kPageSize - 1);
        const std::uint64_t n = std::min(len, kPageSize - off);
        if (const std::uint8_t* p = findPage(addr))
            std::memcpy(dst, p + off, n);
        else
            std::memset(dst, 0, n);
        addr += n, dst += n, len -= n;
    }
}

void SparseMemory::write(Addr addr, const std::uint8_t* src, std::uint64_t len) {
    while (len) {
        const std::uint64_t off = addr & (kPageSize - 1);
        const std::uint64_t n = std::min(len, kPageSize - off);
        std::memcpy(page(addr) + off, src, n);
        addr += n, src += n, len -= n;
    }
}

void SparseMemory::fill(Addr addr, std::uint8_t value, std::uint64_t len) {
    while (len) {
        const std::uint64_t off = addr & (kPageSize - 1);
        const std::uint64_t n = std::min(len, kPageSize - off);
        // Zero-filling an absent page costs no host memory: it already reads as zero.
        if (value != 0 || findPage(addr)) std::memset(page(addr) + off, value, n);
        addr += n, len -= n;
    }
}

} // namespace tlmmu
