#include "checker/DataChecker.h"

#include <sstream>

namespace tlmmu {

void CheckedView::access(RefKind kind, Addr va, std::uint8_t* p, std::uint64_t n,
                         std::uint32_t done, std::uint64_t store_value,
                         std::uint64_t instructions) {
    for (std::uint64_t i = 0; i < n; ++i) {
        const Addr a = va + i;
        DataShadow* s = shadow.get();
        Addr key = a;
        for (const auto& w : shared)
            if (a - w.start < w.size) {
                s = w.shadow.get();
                key = a - w.start;
                break;
            }
        if (kind != RefKind::Store) {
            ++checks;
            const std::uint8_t expected = s->get(key);
            if (p[i] != expected && mismatches++ == 0) {
                std::ostringstream msg;
                msg << "VA 0x" << std::hex << a << " read 0x" << unsigned(p[i]) << ", expected 0x"
                    << unsigned(expected) << std::dec << " (instruction " << instructions << ")";
                first_mismatch = msg.str();
            }
        }
        if (kind != RefKind::Load) {
            const std::uint64_t value = (std::uint64_t{salt} << 40) ^ store_value;
            p[i] = static_cast<std::uint8_t>(value >> (8 * ((done + i) & 7)));
            s->set(key, p[i]);
        }
    }
}

void CheckedView::forget(Addr start, std::uint64_t size) {
    if (shadow) shadow->clear(start, size);
}

} // namespace tlmmu
