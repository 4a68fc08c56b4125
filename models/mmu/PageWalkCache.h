// Page-walk cache: per table level, a set-associative cache of non-leaf entries (plain C++).
// An entry for level l says "for VAs with these upper bits, the table entry read at level l
// points to the level l-1 table at next_table", so a walk that hits at level l starts reading
// at level l-1. The walk starts at the deepest level that hits.
#pragma once

#include <vector>

#include "mmu/PageTableWalk.h"
#include "mmu/SetAssocArray.h"
#include "mmu/Tlb.h"

namespace tlmmu {

struct PwcConfig {
    unsigned entries = 0; // per level; 0 = no page-walk cache
    unsigned ways = 0;    // 0 = fully associative
    Replacement replacement = Replacement::Lru;
    unsigned asid_bits = 16;
    std::uint64_t seed = 1;
};

class PageWalkCache {
  public:
    PageWalkCache(const PwcConfig& config, const PteFormat& format);
    bool enabled() const { return config_.entries != 0; }
    // Sets request.start_* from the deepest hit; returns the level that hit, or -1.
    int lookup(WalkRequest& request);
    // Records the table entries a walk read.
    void fill(const WalkRequest& request, const WalkResult& result);
    // Same selection rules as the TLB (by va: entries whose VA range covers va).
    void invalidate(FlushKind kind, Addr va, Asid asid);

  private:
    struct Entry {
        std::uint64_t prefix = 0; // tagOf(va, level)
        Asid asid = 0;
        Addr next_table = 0;
        unsigned path_flags = 0;
    };
    std::uint64_t tagOf(Addr va, unsigned level) const {
        // Bits of va that select the entries of levels >= level.
        return va >> format_.levelShift(level);
    }
    unsigned setOf(std::uint64_t tag, const SetAssocArray<Entry>& a) const {
        return static_cast<unsigned>(tag & (a.sets() - 1));
    }
    Asid maskAsid(Asid a) const {
        return config_.asid_bits >= 16 ? a : static_cast<Asid>(a & ((1u << config_.asid_bits) - 1));
    }

    PwcConfig config_;
    const PteFormat& format_;
    std::vector<SetAssocArray<Entry>> levels_; // index = table level (1 .. levels-1); 0 unused
};

} // namespace tlmmu
