#include "mmu/PageWalkCache.h"

namespace tlmmu {

PageWalkCache::PageWalkCache(const PwcConfig& config, const PteFormat& format)
    : config_(config), format_(format) {
    if (!enabled()) return;
    if (config_.ways == 0) config_.ways = config_.entries;
    validateGeometry(config_.entries, config_.ways, config_.replacement, "walker.pwc");
    levels_.reserve(format.levels());
    for (unsigned l = 0; l < format.levels(); ++l)
        levels_.emplace_back(l == 0 ? config_.ways : config_.entries, config_.ways,
                             config_.replacement, config_.seed + l);
}

int PageWalkCache::lookup(WalkRequest& request) {
    if (!enabled()) return -1;
    const Asid asid = maskAsid(request.asid);
    for (unsigned level = 1; level < format_.levels(); ++level) {
        auto& a = levels_[level];
        const std::uint64_t tag = tagOf(request.va, level);
        const unsigned set = setOf(tag, a);
        for (unsigned w = 0; w < a.ways(); ++w) {
            if (!a.valid(set, w)) continue;
            const Entry& e = a.at(set, w);
            if (e.prefix == tag && e.asid == asid) {
                a.touch(set, w);
                request.start_level = static_cast<int>(level) - 1;
                request.start_table = e.next_table;
                request.start_flags = e.path_flags;
                return static_cast<int>(level);
            }
        }
    }
    return -1;
}

void PageWalkCache::fill(const WalkRequest& request, const WalkResult& result) {
    if (!enabled()) return;
    const Asid asid = maskAsid(request.asid);
    for (unsigned level = 1; level < format_.levels(); ++level) {
        if (!((result.tables_read_mask >> level) & 1u)) continue;
        auto& a = levels_[level];
        Entry e;
        e.prefix = tagOf(request.va, level);
        e.asid = asid;
        e.next_table = result.next_table[level];
        e.path_flags = result.path_flags[level];
        const unsigned set = setOf(e.prefix, a);
        bool present = false; // refreshed in place: one entry per (prefix, asid)
        for (unsigned w = 0; w < a.ways() && !present; ++w)
            if (a.valid(set, w) && a.at(set, w).prefix == e.prefix && a.at(set, w).asid == asid) {
                a.at(set, w) = e;
                a.touch(set, w);
                present = true;
            }
        if (!present) a.fill(set, e);
    }
}

void PageWalkCache::invalidate(FlushKind kind, Addr va, Asid asid) {
    if (!enabled()) return;
    asid = maskAsid(asid);
    for (unsigned level = 1; level < format_.levels(); ++level) {
        const std::uint64_t tag = tagOf(va, level);
        auto& a = levels_[level];
        switch (kind) {
        case FlushKind::All:
            a.invalidateIf([](const Entry&) { return true; });
            break;
        case FlushKind::Asid:
            a.invalidateIf([&](const Entry& e) { return e.asid == asid; });
            break;
        case FlushKind::Va:
            a.invalidateIf([&](const Entry& e) { return e.prefix == tag; });
            break;
        case FlushKind::VaAsid:
            a.invalidateIf([&](const Entry& e) { return e.prefix == tag && e.asid == asid; });
            break;
        }
    }
}

} // namespace tlmmu
