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
                key = a - w.start + w.offset;
                break;
            }
        if (kind != RefKind::Store && enabled) {
            ++checks;
            const std::uint8_t expected = s->get(key);
            if (!s->load(key, p[i]) && mismatches++ == 0) {
                std::ostringstream msg;
                msg << "VA 0x" << std::hex << a << " read 0x" << unsigned(p[i]) << ", expected 0x"
                    << unsigned(expected) << std::dec << " (instruction " << instructions << ")";
                first_mismatch = msg.str();
            }
        }
        if (kind != RefKind::Load) {
            const std::uint64_t value = (std::uint64_t{salt} << 40) ^ store_value;
            p[i] = static_cast<std::uint8_t>(value >> (8 * ((done + i) & 7)));
            s->store(key, p[i]);
        }
    }
}

void CheckedView::discarding(Addr start, std::uint64_t size) {
    if (shadow) shadow->beginDiscard(start, size);
}

void CheckedView::discarded(Addr start, std::uint64_t size, bool done) {
    if (shadow) shadow->endDiscard(start, size, done);
}

void CheckedView::forget(Addr start, std::uint64_t size) {
    if (shadow) shadow->clear(start, size);
}

void CheckedView::unmapped(Addr start, std::uint64_t size) {
    forget(start, size);
    const Addr end = start + size;
    std::vector<SharedWindow> kept;
    for (const SharedWindow& w : shared) {
        const Addr w_end = w.start + w.size;
        if (w_end <= start || end <= w.start) {
            kept.push_back(w);
            continue;
        }
        if (w.start < start) kept.push_back({w.start, start - w.start, w.offset, w.shadow});
        if (end < w_end) kept.push_back({end, w_end - end, w.offset + (end - w.start), w.shadow});
    }
    shared = std::move(kept);
}

} // namespace tlmmu
