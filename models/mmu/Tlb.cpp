#include "mmu/Tlb.h"

namespace tlmmu {

Tlb::Tlb(const TlbConfig& config)
    : TlbInterface(config),
      array_(
          (validateGeometry(config.entries, config.ways, config.replacement, "tlb." + config.name),
           config.entries),
          config.ways, config.replacement, config.seed) {
    for (unsigned l = 0; l < 8; ++l)
        if ((config.geometry.leaf_level_mask >> l) & 1u) leaf_levels_[num_leaf_levels_++] = l;
}

bool Tlb::lookup(Addr va, Asid asid, TlbEntry& out) {
    const std::uint64_t vpn = va >> config_.geometry.page_shift;
    asid = maskAsid(asid);
    // The same base page and ASID as the previous lookup, which hit, with no fill or
    // invalidation since: the result is a function of the entries alone, so it is the same
    // entry; and touching the most recently used way again changes no victim choice (LRU order,
    // PLRU bits, FIFO and random state stay as they are). So the probe can be skipped.
    if (mru_valid_ && vpn == mru_vpn_ && asid == mru_asid_) {
        out = mru_;
        return true;
    }
    mru_valid_ = false;
    const unsigned ways = array_.ways();
    // Fully associative: one pass over every way, each entry compared at its own page size.
    // Set associative: each page size the format allows indexes its own set (hash-rehash).
    const unsigned probes = array_.sets() == 1 ? 1 : num_leaf_levels_;
    for (unsigned p = 0; p < probes; ++p) {
        const unsigned level = leaf_levels_[p];
        const unsigned set = array_.sets() == 1 ? 0 : setIndex(vpn, level);
        for (unsigned w = 0; w < ways; ++w) {
            if (!array_.valid(set, w)) continue;
            const TlbEntry& e = array_.at(set, w);
            if ((probes == 1 || e.level == level) && matches(e, vpn, asid)) {
                array_.touch(set, w);
                out = e;
                mru_ = e;
                mru_vpn_ = vpn;
                mru_asid_ = asid;
                mru_valid_ = true;
                return true;
            }
        }
    }
    return false;
}

void Tlb::fill(const TlbEntry& entry) {
    mru_valid_ = false;
    TlbEntry e = entry;
    e.asid = maskAsid(e.asid);
    const unsigned set = setIndex(e.vpn, e.level);
    // A refill of a translation already present (e.g. to set D) replaces it in place, so that a
    // TLB never holds two entries for one page.
    for (unsigned w = 0; w < array_.ways(); ++w) {
        if (!array_.valid(set, w)) continue;
        TlbEntry& old = array_.at(set, w);
        // A global translation is one translation whatever ASID refilled it.
        if (old.level == e.level && old.vpn == e.vpn &&
            (old.asid == e.asid || (old.global() && e.global()))) {
            old = e;
            array_.touch(set, w);
            return;
        }
    }
    array_.fill(set, e);
}

void Tlb::invalidate(FlushKind kind, Addr va, Asid asid) {
    mru_valid_ = false;
    const std::uint64_t vpn = va >> config_.geometry.page_shift;
    asid = maskAsid(asid);
    switch (kind) {
    case FlushKind::All:
        array_.invalidateIf([](const TlbEntry&) { return true; });
        break;
    case FlushKind::Asid:
        array_.invalidateIf([&](const TlbEntry& e) { return !e.global() && e.asid == asid; });
        break;
    case FlushKind::Va:
        array_.invalidateIf([&](const TlbEntry& e) { return coversVa(e, vpn); });
        break;
    case FlushKind::VaAsid:
        array_.invalidateIf(
            [&](const TlbEntry& e) { return !e.global() && e.asid == asid && coversVa(e, vpn); });
        break;
    }
}

} // namespace tlmmu
