// The page-walk cache over real x86_64 page tables: a walk restarted from the PWC's start point
// reads fewer PTEs and produces the same TlbEntry as a full walk (including x86's hierarchical
// W/NX restrictions), the deepest level wins, ASIDs isolate, every invalidation kind removes
// exactly the right levels, replacement evicts, and entries = 0 disables it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "arch/pte_format.h"
#include "mmu/PageTableWalk.h"
#include "mmu/PageWalkCache.h"

namespace tlmmu {
namespace {

constexpr unsigned kLeafFlags = PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_U | PTE_F_A | PTE_F_D;

class MapMemory : public PteMemory {
  public:
    bool readPte(Addr pa, unsigned, std::uint64_t& value) override {
        const auto it = words.find(pa);
        value = it == words.end() ? 0 : it->second;
        ++reads;
        return true;
    }
    bool writePte(Addr pa, unsigned, std::uint64_t value) override {
        words[pa] = value;
        return true;
    }
    std::map<Addr, std::uint64_t> words;
    unsigned reads = 0;
};

// Page tables built with the format's own encoder, tables allocated from 1 MiB up.
class PageTables {
  public:
    PageTables(const PteFormat& format, MapMemory& memory) : f_(format), m_(memory) {
        root = allocate();
    }
    Addr root;

    Addr slot(std::uint64_t va, unsigned level) {
        Addr table = root;
        for (unsigned l = f_.levels() - 1; l > level; --l) {
            const Addr pte = entryAddress(table, va, l);
            pte_decoded d{};
            pte_decode(&f_.raw(), m_.words[pte], l, &d, nullptr);
            if (d.kind != PTE_KIND_TABLE) {
                const Addr next = allocate();
                m_.words[pte] = pte_encode_table(&f_.raw(), next >> f_.pageShift());
                table = next;
            } else {
                table = d.ppn << f_.pageShift();
            }
        }
        return entryAddress(table, va, level);
    }
    void map(std::uint64_t va, Addr pa, unsigned level = 0, unsigned flags = kLeafFlags) {
        m_.words[slot(va, level)] = pte_encode_leaf(&f_.raw(), pa >> f_.pageShift(), flags, level);
    }

  private:
    Addr allocate() {
        const Addr t = next_;
        next_ += f_.tableBytes();
        return t;
    }
    Addr entryAddress(Addr table, std::uint64_t va, unsigned level) const {
        return table + Addr{pte_index(&f_.raw(), va, level)} * f_.pteBytes();
    }
    const PteFormat& f_;
    MapMemory& m_;
    Addr next_ = Addr{1} << 20;
};

// Addresses chosen to share progressively fewer upper levels with kA.
constexpr std::uint64_t kA = 0x4000'1000;       // base
constexpr std::uint64_t kA2 = 0x4000'2000;      // same 2M (shares levels 3, 2, 1)
constexpr std::uint64_t kB = 0x4020'0000;       // same 1G, other 2M (shares levels 3, 2)
constexpr std::uint64_t kB2 = 0x4040'0000;      // same 1G, third 2M
constexpr std::uint64_t kC = 0x8000'0000;       // same 512G, other 1G (shares level 3)
constexpr std::uint64_t kD = 0x80'0000'0000ull; // other 512G (shares nothing)
constexpr std::uint64_t kR = 0xC000'0000;       // 1G region whose level-2 entry is W=0, NX=1
constexpr std::uint64_t kR2 = 0xC020'0000;      // other 2M of that region

class PwcTest : public testing::Test {
  protected:
    PwcTest() : format_(PteFormat::fromName("x86_64")), tables_(format_, memory_) {
        std::uint64_t pa = 0x1'0000'0000ull;
        for (std::uint64_t va : {kA, kA2, kB, kB2, kC, kD, kR, kR2}) {
            tables_.map(va, pa);
            pa += 0x1000;
        }
        // Make the level-2 (PDPT) entry of kR read-only and no-execute.
        std::uint64_t& pdpte = memory_.words[tables_.slot(kR, 2)];
        pdpte &= ~(1ull << 1);
        pdpte |= 1ull << 63;
    }

    WalkRequest request(std::uint64_t va, Asid asid = 1) const {
        WalkRequest r;
        r.va = va;
        r.asid = asid;
        r.root = tables_.root;
        r.access = AccessType::Read;
        r.priv = Privilege::User;
        return r;
    }
    WalkResult fullWalk(std::uint64_t va, Asid asid = 1) {
        return walkPageTable(format_, request(va, asid), memory_);
    }
    // Lookup + walk + fill, as the PageWalker does. Returns {level hit, walk result}.
    std::pair<int, WalkResult> walk(PageWalkCache& pwc, std::uint64_t va, Asid asid = 1) {
        WalkRequest r = request(va, asid);
        const int hit = pwc.lookup(r);
        const WalkResult res = walkPageTable(format_, r, memory_);
        pwc.fill(r, res);
        return {hit, res};
    }
    int probe(PageWalkCache& pwc, std::uint64_t va, Asid asid = 1) {
        WalkRequest r = request(va, asid);
        return pwc.lookup(r);
    }
    // Fills the PWC as a full walk of va would.
    void prime(PageWalkCache& pwc, std::uint64_t va, Asid asid = 1) {
        pwc.fill(request(va, asid), fullWalk(va, asid));
    }

    static PwcConfig cfg(unsigned entries, unsigned ways, unsigned asid_bits = 16,
                         Replacement r = Replacement::Lru) {
        PwcConfig c;
        c.entries = entries;
        c.ways = ways;
        c.asid_bits = asid_bits;
        c.replacement = r;
        return c;
    }

    PteFormat format_;
    MapMemory memory_;
    PageTables tables_;
};

TEST_F(PwcTest, FullWalkReportsEveryTableLevel) {
    const WalkResult r = fullWalk(kA);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.reads, 4u);
    EXPECT_EQ(r.tables_read_mask, 0b1110u);
}

TEST_F(PwcTest, StartsFromTheDeepestHitAndSkipsLevels) {
    for (auto geo : {std::make_pair(16u, 4u), std::make_pair(8u, 0u), std::make_pair(4u, 1u)}) {
        SCOPED_TRACE(std::to_string(geo.first) + "x" + std::to_string(geo.second));
        PageWalkCache pwc(cfg(geo.first, geo.second), format_);
        ASSERT_TRUE(pwc.enabled());
        const WalkResult fa = fullWalk(kA), fa2 = fullWalk(kA2), fb = fullWalk(kB),
                         fc = fullWalk(kC), fd = fullWalk(kD);

        // Cold: miss, the request is left as it was.
        WalkRequest cold = request(kA);
        EXPECT_EQ(pwc.lookup(cold), -1);
        EXPECT_EQ(cold.start_level, -1);
        EXPECT_EQ(cold.start_table, 0u);
        EXPECT_EQ(cold.start_flags, 0xffu);

        auto [h0, r0] = walk(pwc, kA);
        EXPECT_EQ(h0, -1);
        EXPECT_EQ(r0.reads, 4u);

        // Same va: the level-1 entry hit, the walk starts in the level-0 table.
        WalkRequest again = request(kA);
        ASSERT_EQ(pwc.lookup(again), 1);
        EXPECT_EQ(again.start_level, 0);
        EXPECT_EQ(again.start_table, fa.next_table[1]);
        EXPECT_EQ(again.start_flags, fa.path_flags[1]);
        const WalkResult ra = walkPageTable(format_, again, memory_);
        EXPECT_EQ(ra.fault, FaultKind::None);
        EXPECT_EQ(ra.reads, 1u);
        EXPECT_EQ(ra.tables_read_mask, 0u);
        EXPECT_EQ(ra.entry, fa.entry);

        auto [h1, r1] = walk(pwc, kA2); // same 2M
        EXPECT_EQ(h1, 1);
        EXPECT_EQ(r1.reads, 1u);
        EXPECT_EQ(r1.entry, fa2.entry);

        auto [h2, r2] = walk(pwc, kB); // same 1G: the level-2 entry, start in the level-1 table
        EXPECT_EQ(h2, 2);
        EXPECT_EQ(r2.reads, 2u);
        EXPECT_EQ(r2.tables_read_mask, 0b10u);
        EXPECT_EQ(r2.entry, fb.entry);
        EXPECT_EQ(probe(pwc, kB), 1); // its level-1 entry was filled

        auto [h3, r3] = walk(pwc, kC); // same 512G: the root entry
        EXPECT_EQ(h3, 3);
        EXPECT_EQ(r3.reads, 3u);
        EXPECT_EQ(r3.entry, fc.entry);
        EXPECT_EQ(probe(pwc, kC), 1);

        auto [h4, r4] = walk(pwc, kD); // nothing shared
        EXPECT_EQ(h4, -1);
        EXPECT_EQ(r4.reads, 4u);
        EXPECT_EQ(r4.entry, fd.entry);
        EXPECT_EQ(probe(pwc, kD), 1);
    }
}

TEST_F(PwcTest, HierarchicalRestrictionsAreCarriedByStartFlags) {
    PageWalkCache pwc(cfg(16, 4), format_);
    const WalkResult full = fullWalk(kR);
    ASSERT_EQ(full.fault, FaultKind::None);
    EXPECT_EQ(full.entry.flags & (PTE_F_W | PTE_F_X), 0u); // removed by the level-2 entry
    EXPECT_NE(full.entry.flags & PTE_F_R, 0u);
    pwc.fill(request(kR), full);

    WalkRequest r = request(kR);
    ASSERT_EQ(pwc.lookup(r), 1);
    EXPECT_EQ(r.start_flags & (PTE_F_W | PTE_F_X), 0u);
    const WalkResult restarted = walkPageTable(format_, r, memory_);
    EXPECT_EQ(restarted.reads, 1u);
    EXPECT_EQ(restarted.entry, full.entry);
    // The restriction only comes from start_flags: without it the leaf would grant W and X.
    r.start_flags = 0xff;
    EXPECT_EQ(walkPageTable(format_, r, memory_).entry.flags & (PTE_F_W | PTE_F_X),
              PTE_F_W | PTE_F_X);

    // Other 2M of the region: restarted below the level-2 entry, still restricted.
    auto [hit, r2] = walk(pwc, kR2);
    EXPECT_EQ(hit, 2);
    EXPECT_EQ(r2.reads, 2u);
    EXPECT_EQ(r2.entry, fullWalk(kR2).entry);
    EXPECT_EQ(r2.entry.flags & (PTE_F_W | PTE_F_X), 0u);
}

TEST_F(PwcTest, AsidIsolation) {
    PageWalkCache pwc(cfg(16, 4), format_);
    prime(pwc, kA, 1);
    EXPECT_EQ(probe(pwc, kA, 1), 1);
    EXPECT_EQ(probe(pwc, kA, 2), -1);
    EXPECT_EQ(probe(pwc, kB, 2), -1);
    EXPECT_EQ(probe(pwc, kA, 0x8001), -1);
    prime(pwc, kA, 2);
    EXPECT_EQ(probe(pwc, kA, 2), 1);
}

TEST_F(PwcTest, AsidBitsMask) {
    PageWalkCache untagged(cfg(16, 4, 0), format_);
    prime(untagged, kA, 1);
    EXPECT_EQ(probe(untagged, kA, 2), 1);
    EXPECT_EQ(probe(untagged, kA, 0xffff), 1);

    PageWalkCache eight(cfg(16, 4, 8), format_);
    prime(eight, kA, 0x101);
    EXPECT_EQ(probe(eight, kA, 0x001), 1);
    EXPECT_EQ(probe(eight, kA, 0x301), 1);
    EXPECT_EQ(probe(eight, kA, 0x102), -1);
    eight.invalidate(FlushKind::Asid, 0, 0x201);
    EXPECT_EQ(probe(eight, kA, 0x101), -1);
}

// State: kA walked by asids 1 and 2, kD walked by asid 1.
class PwcFlush : public PwcTest {
  protected:
    PwcFlush() : pwc_(cfg(32, 4), format_) {
        prime(pwc_, kA, 1);
        prime(pwc_, kA, 2);
        prime(pwc_, kD, 1);
    }
    PageWalkCache pwc_;
};

TEST_F(PwcFlush, Baseline) {
    EXPECT_EQ(probe(pwc_, kA, 1), 1);
    EXPECT_EQ(probe(pwc_, kB, 1), 2);
    EXPECT_EQ(probe(pwc_, kC, 1), 3);
    EXPECT_EQ(probe(pwc_, kA, 2), 1);
    EXPECT_EQ(probe(pwc_, kC, 2), 3);
    EXPECT_EQ(probe(pwc_, kD, 1), 1);
    EXPECT_EQ(probe(pwc_, kD, 2), -1);
}

TEST_F(PwcFlush, All) {
    pwc_.invalidate(FlushKind::All, 0, 0);
    for (std::uint64_t va : {kA, kB, kC, kD})
        for (Asid a : {Asid{1}, Asid{2}})
            EXPECT_EQ(probe(pwc_, va, a), -1);
}

TEST_F(PwcFlush, Asid) {
    pwc_.invalidate(FlushKind::Asid, kA, 1);
    EXPECT_EQ(probe(pwc_, kA, 1), -1);
    EXPECT_EQ(probe(pwc_, kC, 1), -1);
    EXPECT_EQ(probe(pwc_, kD, 1), -1);
    EXPECT_EQ(probe(pwc_, kA, 2), 1);
    EXPECT_EQ(probe(pwc_, kB, 2), 2);
}

TEST_F(PwcFlush, VaRemovesEveryLevelCoveringItForEveryAsid) {
    pwc_.invalidate(FlushKind::Va, kA2, 7); // kA2 is covered by the same entries as kA
    for (Asid a : {Asid{1}, Asid{2}}) {
        EXPECT_EQ(probe(pwc_, kA, a), -1);
        EXPECT_EQ(probe(pwc_, kB, a), -1);
        EXPECT_EQ(probe(pwc_, kC, a), -1);
    }
    EXPECT_EQ(probe(pwc_, kD, 1), 1);
}

TEST_F(PwcFlush, VaOfANeighbourKeepsTheDeeperEntry) {
    // kB shares kA's level-3 and level-2 entries but not its level-1 entry.
    pwc_.invalidate(FlushKind::Va, kB, 1);
    EXPECT_EQ(probe(pwc_, kA, 1), 1);
    EXPECT_EQ(probe(pwc_, kA, 2), 1);
    EXPECT_EQ(probe(pwc_, kB, 1), -1);
    EXPECT_EQ(probe(pwc_, kB2, 2), -1);
    EXPECT_EQ(probe(pwc_, kC, 1), -1);
    // kC shares only kA's root entry.
    pwc_.invalidate(FlushKind::All, 0, 0);
    prime(pwc_, kA, 1);
    pwc_.invalidate(FlushKind::Va, kC, 1);
    EXPECT_EQ(probe(pwc_, kA, 1), 1);
    EXPECT_EQ(probe(pwc_, kB, 1), 2);
    EXPECT_EQ(probe(pwc_, kC, 1), -1);
}

TEST_F(PwcFlush, VaAsid) {
    pwc_.invalidate(FlushKind::VaAsid, kA, 1);
    EXPECT_EQ(probe(pwc_, kA, 1), -1);
    EXPECT_EQ(probe(pwc_, kC, 1), -1);
    EXPECT_EQ(probe(pwc_, kA, 2), 1);
    EXPECT_EQ(probe(pwc_, kC, 2), 3);
    EXPECT_EQ(probe(pwc_, kD, 1), 1);
    // The other asid's entries for kD (none) and other va: untouched.
    pwc_.invalidate(FlushKind::VaAsid, kD, 2);
    EXPECT_EQ(probe(pwc_, kD, 1), 1);
}

TEST_F(PwcTest, LruEvictsPerLevel) {
    // Fully associative, 2 entries per level.
    PageWalkCache pwc(cfg(2, 0), format_);
    walk(pwc, kA);                // L3, L2, L1(A)
    walk(pwc, kB);                // hit L2; fills L1(B)
    EXPECT_EQ(probe(pwc, kA), 1); // touch L1(A): L1(B) is now LRU
    walk(pwc, kB2);               // hit L2; fills L1(B2), evicting L1(B)
    EXPECT_EQ(probe(pwc, kA), 1);
    EXPECT_EQ(probe(pwc, kB2), 1);
    EXPECT_EQ(probe(pwc, kB), 2);
}

TEST_F(PwcTest, DisabledWhenNoEntries) {
    PageWalkCache pwc(cfg(0, 0), format_);
    EXPECT_FALSE(pwc.enabled());
    prime(pwc, kA);
    WalkRequest r = request(kA);
    EXPECT_EQ(pwc.lookup(r), -1);
    EXPECT_EQ(r.start_level, -1);
    EXPECT_EQ(r.start_table, 0u);
    EXPECT_EQ(r.start_flags, 0xffu);
    EXPECT_NO_THROW(pwc.invalidate(FlushKind::All, 0, 0));
    // ways are not looked at when disabled.
    EXPECT_NO_THROW(PageWalkCache(cfg(0, 3), format_));
}

TEST_F(PwcTest, GeometryErrorsNameWalkerPwc) {
    try {
        PageWalkCache pwc(cfg(6, 4), format_);
        ADD_FAILURE() << "no throw";
    } catch (const InputError& e) {
        EXPECT_STREQ(e.what(), "walker.pwc.ways: 4 does not divide walker.pwc.entries 6 (ways "
                               "must divide entries; entries = ways is fully associative)");
    }
    try {
        PageWalkCache pwc(cfg(12, 4), format_);
        ADD_FAILURE() << "no throw";
    } catch (const InputError& e) {
        EXPECT_STREQ(e.what(), "walker.pwc: entries/ways = 3 sets is not a power of two");
    }
    EXPECT_NO_THROW(PageWalkCache(cfg(12, 0), format_)); // fully associative: 1 set
}

} // namespace
} // namespace tlmmu
