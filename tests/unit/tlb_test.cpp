// The C++ TLB model: hit/miss behaviour against a straightforward reference model, superpages
// (hash-rehash probing when set associative, one pass when fully associative), ASID tagging and
// masking, global entries, every sfence.vma flavour of invalidation, and in-place refills.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <list>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "arch/pte_format.h"
#include "mmu/RtlTlbFactory.h"
#include "mmu/Tlb.h"
#include "support/TlbArrays.h"

namespace tlmmu {
namespace {

constexpr std::uint64_t k2M = 1ull << 21, k1G = 1ull << 30;
constexpr unsigned kRW = PTE_F_V | PTE_F_R | PTE_F_W | PTE_F_A;

// x86_64: 4 KiB pages, 9 index bits per level, leaves at levels 0, 1 (2 MiB), 2 (1 GiB).
PageGeometry x86Geometry() {
    PageGeometry g;
    g.page_shift = 12;
    g.index_bits = 9;
    g.levels = 4;
    g.leaf_level_mask = 0b111;
    return g;
}

TlbConfig config(unsigned entries, unsigned ways, unsigned asid_bits = 16,
                 PageGeometry geometry = x86Geometry(), Replacement r = Replacement::Lru) {
    TlbConfig c;
    c.name = "l1d";
    c.entries = entries;
    c.ways = ways;
    c.replacement = r;
    c.asid_bits = asid_bits;
    c.geometry = geometry;
    return c;
}

// Entry for the page of `level` containing va (vpn/ppn aligned to that page size).
TlbEntry entry(std::uint64_t va, unsigned level, Asid asid, unsigned flags = kRW,
               std::uint64_t pa = 0) {
    const std::uint64_t align = ~((std::uint64_t{1} << (9 * level)) - 1);
    TlbEntry e;
    e.vpn = (va >> 12) & align;
    e.ppn = ((pa ? pa : va + 0x1000000000ull) >> 12) & align;
    e.asid = asid;
    e.level = static_cast<std::uint8_t>(level);
    e.flags = static_cast<std::uint8_t>(flags);
    return e;
}

bool hits(Tlb& tlb, std::uint64_t va, Asid asid) {
    TlbEntry out;
    return tlb.lookup(va, asid, out);
}

// ---------------------------------------------------------------------------------------------
// Reference model: per set, a list of (vpn, asid) most-recent first.

class RefTlb {
  public:
    RefTlb(unsigned entries, unsigned ways, bool lru)
        : sets_(entries / ways), ways_(ways), lru_(lru), lists_(entries / ways) {}
    bool access(std::uint64_t vpn, Asid asid) {
        auto& l = lists_[vpn & (sets_ - 1)];
        for (auto it = l.begin(); it != l.end(); ++it)
            if (it->first == vpn && it->second == asid) {
                if (lru_) l.splice(l.begin(), l, it);
                return true;
            }
        if (l.size() == ways_) l.pop_back();
        l.emplace_front(vpn, asid);
        return false;
    }

  private:
    unsigned sets_, ways_;
    bool lru_;
    std::vector<std::list<std::pair<std::uint64_t, Asid>>> lists_;
};

struct RefCase {
    unsigned entries, ways;
    Replacement replacement;
    bool x86; // x86 geometry (3 leaf levels -> 3 probes when set associative) or 4K-only
};

void PrintTo(const RefCase& c, std::ostream* os) {
    *os << c.entries << "x" << c.ways << "_" << toString(c.replacement) << (c.x86 ? "_x86" : "_4k");
}

class TlbVsReference : public testing::TestWithParam<RefCase> {};

TEST_P(TlbVsReference, SameHitsAndMisses) {
    const RefCase c = GetParam();
    PageGeometry g = x86Geometry();
    if (!c.x86) g.leaf_level_mask = 1;
    Tlb tlb(config(c.entries, c.ways, 16, g, c.replacement));
    RefTlb ref(c.entries, c.ways, c.replacement == Replacement::Lru);

    std::uint64_t x = 0x9e3779b97f4a7c15ull ^ (c.entries * 131 + c.ways);
    auto next = [&x] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    const std::uint64_t hot = c.entries + c.entries / 2; // a working set slightly too large
    unsigned hits_tlb = 0, hits_ref = 0;
    for (int i = 0; i < 30000; ++i) {
        const std::uint64_t r = next();
        const std::uint64_t vpn =
            (r % 10 < 8) ? 0x40000 + (r >> 8) % hot : 0x100000 + (r >> 8) % (64 * c.entries);
        const Asid asid = static_cast<Asid>(1 + ((r >> 40) % 3 == 0));
        const std::uint64_t va = (vpn << 12) | ((r >> 20) & 0xfff);
        TlbEntry out;
        const bool hit = tlb.lookup(va, asid, out);
        const bool ref_hit = ref.access(vpn, asid);
        ASSERT_EQ(hit, ref_hit) << "access " << i << " vpn 0x" << std::hex << vpn;
        if (hit) {
            ++hits_tlb;
            ASSERT_EQ(out.vpn, vpn);
            ASSERT_EQ(out.asid, asid);
        } else {
            tlb.fill(entry(va, 0, asid));
        }
        hits_ref += ref_hit;
    }
    EXPECT_EQ(hits_tlb, hits_ref);
    // The stream is meant to exercise both hits and evictions.
    EXPECT_GT(hits_tlb, 3000u);
    EXPECT_LT(hits_tlb, 27000u);
    EXPECT_EQ(tlb.occupancy(), c.entries);
}

INSTANTIATE_TEST_SUITE_P(Geometries, TlbVsReference,
                         testing::Values(RefCase{16, 16, Replacement::Lru, true},
                                         RefCase{16, 16, Replacement::Lru, false},
                                         RefCase{64, 4, Replacement::Lru, true},
                                         RefCase{64, 4, Replacement::Lru, false},
                                         RefCase{1024, 4, Replacement::Lru, true},
                                         RefCase{1536, 12, Replacement::Lru, true},
                                         RefCase{32, 1, Replacement::Lru, true},
                                         RefCase{16, 16, Replacement::Fifo, true},
                                         RefCase{64, 4, Replacement::Fifo, true},
                                         RefCase{1024, 8, Replacement::Fifo, false}),
                         [](const testing::TestParamInfo<RefCase>& info) {
                             const RefCase& c = info.param;
                             return std::to_string(c.entries) + "x" + std::to_string(c.ways) + "_" +
                                    toString(c.replacement) + (c.x86 ? "_x86" : "_4k");
                         });

// ---------------------------------------------------------------------------------------------
// Geometry

TEST(TlbGeometry, ImpossibleGeometryThrowsNamingTheTlb) {
    try {
        Tlb tlb(config(48, 4));
        ADD_FAILURE() << "no throw";
    } catch (const InputError& e) {
        EXPECT_STREQ(e.what(), "tlb.l1d: entries/ways = 12 sets is not a power of two");
    }
    TlbConfig c = config(24, 6);
    c.name = "l2";
    c.replacement = Replacement::Plru;
    try {
        Tlb tlb(c);
        ADD_FAILURE() << "no throw";
    } catch (const InputError& e) {
        EXPECT_STREQ(e.what(), "tlb.l2.replacement: plru needs a power-of-two way count, got 6");
    }
}

TEST(TlbGeometry, SetIndexPerLevel) {
    Tlb tlb(config(64, 4)); // 16 sets
    const std::uint64_t vpn = 0x12345;
    EXPECT_EQ(tlb.setIndex(vpn, 0), 0x5u);
    EXPECT_EQ(tlb.setIndex(vpn, 1), (vpn >> 9) & 15);
    EXPECT_EQ(tlb.setIndex(vpn, 2), (vpn >> 18) & 15);
    Tlb fa(config(16, 16));
    EXPECT_EQ(fa.setIndex(vpn, 0), 0u);
    EXPECT_EQ(fa.setIndex(vpn, 2), 0u);
}

// ---------------------------------------------------------------------------------------------
// Superpages

class Superpages : public testing::TestWithParam<std::pair<unsigned, unsigned>> {};

TEST_P(Superpages, TwoMegAndOneGigHitAcrossTheirRange) {
    Tlb tlb(config(GetParam().first, GetParam().second));
    const std::uint64_t base2m = 0x4060'0000;       // 2 MiB aligned
    const std::uint64_t base1g = 0x80'4000'0000ull; // 1 GiB aligned
    const TlbEntry e2m = entry(base2m, 1, 3, kRW, 0x1'2340'0000ull);
    const TlbEntry e1g = entry(base1g, 2, 3, kRW, 0x3'0000'0000ull);
    tlb.fill(e2m);
    tlb.fill(e1g);
    EXPECT_EQ(tlb.occupancy(), 2u);

    for (std::uint64_t off :
         std::initializer_list<std::uint64_t>{0, 0x1000, 0x1234, 0x10'0000, k2M - 1}) {
        TlbEntry out;
        ASSERT_TRUE(tlb.lookup(base2m + off, 3, out)) << std::hex << off;
        EXPECT_EQ(out, e2m);
    }
    for (std::uint64_t off :
         std::initializer_list<std::uint64_t>{0, 0x7000, 0x20'0000, 0x1234'5678, k1G - 1}) {
        TlbEntry out;
        ASSERT_TRUE(tlb.lookup(base1g + off, 3, out)) << std::hex << off;
        EXPECT_EQ(out, e1g);
    }
    // Just outside either page.
    EXPECT_FALSE(hits(tlb, base2m - 1, 3));
    EXPECT_FALSE(hits(tlb, base2m + k2M, 3));
    EXPECT_FALSE(hits(tlb, base1g - 1, 3));
    EXPECT_FALSE(hits(tlb, base1g + k1G, 3));
    // Another ASID does not see them.
    EXPECT_FALSE(hits(tlb, base2m, 4));
    EXPECT_FALSE(hits(tlb, base1g + 0x5000, 4));
}

TEST_P(Superpages, BasePageEntryIsNotTakenForASuperpage) {
    Tlb tlb(config(GetParam().first, GetParam().second));
    // A 4K entry whose vpn is 2M (and 1G) aligned: with 16 sets its set is also the set that
    // the level-1 and level-2 probes of a neighbouring va look in.
    tlb.fill(entry(0x4000'0000, 0, 1));
    EXPECT_TRUE(hits(tlb, 0x4000'0fff, 1));
    EXPECT_FALSE(hits(tlb, 0x4000'1000, 1));
    EXPECT_FALSE(hits(tlb, 0x4010'0000, 1));
    EXPECT_FALSE(hits(tlb, 0x4000'0000 + k2M, 1));
}

TEST_P(Superpages, AllSizesCoexistAndTheSmallestIsFoundFirst) {
    Tlb tlb(config(GetParam().first, GetParam().second));
    const TlbEntry e1g = entry(0x4000'0000, 2, 1, kRW, 0x1'0000'0000ull);
    const TlbEntry e2m = entry(0x4020'0000, 1, 1, kRW, 0x2'0000'0000ull);
    const TlbEntry e4k = entry(0x4020'3000, 0, 1, kRW, 0x3'0000'0000ull);
    tlb.fill(e1g);
    tlb.fill(e2m);
    tlb.fill(e4k);
    EXPECT_EQ(tlb.occupancy(), 3u);
    TlbEntry out;
    // Set associative: the level-0 probe comes first, so the smallest page wins. Fully
    // associative: one pass in way order (the 1G entry was filled first, into way 0).
    const bool set_assoc = GetParam().first != GetParam().second;
    ASSERT_TRUE(tlb.lookup(0x4020'3abc, 1, out));
    EXPECT_EQ(out, set_assoc ? e4k : e1g);
    ASSERT_TRUE(tlb.lookup(0x4020'4000, 1, out));
    EXPECT_EQ(out, set_assoc ? e2m : e1g);
    ASSERT_TRUE(tlb.lookup(0x4040'0000, 1, out));
    EXPECT_EQ(out, e1g);
}

TEST_P(Superpages, LookupResultDoesNotDependOnThePreviousLookup) {
    // Overlapping translations (a 4K entry inside a 2M and a 1G entry, as a stale entry after a
    // page promotion leaves them): which one a lookup returns must follow the probe order
    // (smallest first when set associative, way order when fully associative), whatever was
    // looked up before.
    const TlbEntry e4k = entry(0x4020'3000, 0, 1, kRW, 0x3'0000'0000ull);
    const TlbEntry e2m = entry(0x4020'0000, 1, 1, kRW, 0x2'0000'0000ull);
    const TlbEntry e1g = entry(0x4000'0000, 2, 1, kRW, 0x1'0000'0000ull);
    const std::uint64_t probes[] = {0x4020'3000, 0x4020'4000, 0x4040'0000};
    for (std::uint64_t before : probes)
        for (std::uint64_t va : probes) {
            Tlb fresh(config(GetParam().first, GetParam().second));
            Tlb used(config(GetParam().first, GetParam().second));
            for (Tlb* t : {&fresh, &used}) {
                t->fill(e4k);
                t->fill(e2m);
                t->fill(e1g);
            }
            TlbEntry expected, out;
            ASSERT_TRUE(fresh.lookup(va, 1, expected));
            ASSERT_TRUE(used.lookup(before, 1, out));
            ASSERT_TRUE(used.lookup(va, 1, out));
            EXPECT_EQ(out, expected) << std::hex << "va 0x" << va << " after 0x" << before;
        }
}

INSTANTIATE_TEST_SUITE_P(Configs, Superpages,
                         testing::Values(std::make_pair(64u, 4u), std::make_pair(16u, 16u),
                                         std::make_pair(1024u, 4u), std::make_pair(128u, 8u)),
                         [](const testing::TestParamInfo<std::pair<unsigned, unsigned>>& info) {
                             return std::to_string(info.param.first) + "x" +
                                    std::to_string(info.param.second);
                         });

TEST(SuperpagesSetAssoc, SuperpageLivesInTheSetOfItsOwnLevelIndex) {
    Tlb tlb(config(64, 4));               // 16 sets, 4 ways
    const std::uint64_t va = 0x4000'1000; // level-0 set 1
    tlb.fill(entry(0x4000'0000, 1, 1));   // level-1 set (0x40000 >> 9) & 15 = 0
    ASSERT_EQ(tlb.setIndex(0x40000, 1), 0u);
    ASSERT_EQ(tlb.setIndex(va >> 12, 0), 1u);
    // Filling set 1 (the va's level-0 set) does not disturb the superpage...
    for (std::uint64_t i = 0; i < 8; ++i)
        tlb.fill(entry((0x10001 + 16 * i) << 12, 0, 1));
    EXPECT_TRUE(hits(tlb, va, 1));
    EXPECT_EQ(tlb.occupancy(), 5u);
    // ...filling set 0 with four other pages evicts it.
    for (std::uint64_t i = 0; i < 4; ++i)
        tlb.fill(entry((0x20000 + 16 * i) << 12, 0, 1));
    EXPECT_FALSE(hits(tlb, va, 1));
    EXPECT_EQ(tlb.occupancy(), 8u);
}

TEST(SuperpagesFullyAssoc, ComparedAtTheirOwnSizeInOnePass) {
    Tlb tlb(config(4, 4));
    tlb.fill(entry(0x4000'0000, 2, 1));
    tlb.fill(entry(0x8000'0000, 1, 1));
    tlb.fill(entry(0x9000'0000, 0, 1));
    EXPECT_TRUE(hits(tlb, 0x7fff'ffff, 1));
    EXPECT_TRUE(hits(tlb, 0x801f'ffff, 1));
    EXPECT_FALSE(hits(tlb, 0x8020'0000, 1));
    EXPECT_TRUE(hits(tlb, 0x9000'0fff, 1));
    EXPECT_FALSE(hits(tlb, 0x9000'1000, 1));
}

TEST(SuperpagesFourKOnlyGeometry, OnlyLevelZeroIsProbed) {
    // With leaf_level_mask = 1 a set-associative TLB probes only the level-0 set.
    PageGeometry g = x86Geometry();
    g.leaf_level_mask = 1;
    Tlb tlb(config(64, 4, 16, g));
    tlb.fill(entry(0x5000, 0, 1));
    EXPECT_TRUE(hits(tlb, 0x5123, 1));
    EXPECT_FALSE(hits(tlb, 0x6000, 1));
}

// ---------------------------------------------------------------------------------------------
// ASIDs

class AsidConfigs : public testing::TestWithParam<std::pair<unsigned, unsigned>> {};

TEST_P(AsidConfigs, SameVaDifferentAsidMisses) {
    Tlb tlb(config(GetParam().first, GetParam().second));
    tlb.fill(entry(0x7000, 0, 1, kRW, 0x111000));
    EXPECT_TRUE(hits(tlb, 0x7000, 1));
    EXPECT_FALSE(hits(tlb, 0x7000, 2));
    EXPECT_FALSE(hits(tlb, 0x7000, 0x8001)); // no silent truncation with 16 ASID bits
    tlb.fill(entry(0x7000, 0, 2, kRW, 0x222000));
    EXPECT_EQ(tlb.occupancy(), 2u);
    TlbEntry out;
    ASSERT_TRUE(tlb.lookup(0x7abc, 1, out));
    EXPECT_EQ(out.ppn, 0x111u);
    ASSERT_TRUE(tlb.lookup(0x7abc, 2, out));
    EXPECT_EQ(out.ppn, 0x222u);
}

TEST_P(AsidConfigs, UntaggedTlbIgnoresAsid) {
    Tlb tlb(config(GetParam().first, GetParam().second, /*asid_bits=*/0));
    tlb.fill(entry(0x7000, 0, 1, kRW, 0x111000));
    TlbEntry out;
    ASSERT_TRUE(tlb.lookup(0x7000, 2, out));
    EXPECT_EQ(out.ppn, 0x111u);
    EXPECT_EQ(out.asid, 0u);
    EXPECT_TRUE(hits(tlb, 0x7000, 0xffff));
    // A fill under another ASID is a refill of the same translation.
    tlb.fill(entry(0x7000, 0, 2, kRW, 0x222000));
    EXPECT_EQ(tlb.occupancy(), 1u);
    ASSERT_TRUE(tlb.lookup(0x7000, 9, out));
    EXPECT_EQ(out.ppn, 0x222u);
}

TEST_P(AsidConfigs, AsidBitsMaskTheTag) {
    Tlb tlb(config(GetParam().first, GetParam().second, /*asid_bits=*/8));
    tlb.fill(entry(0x7000, 0, 0x101));
    TlbEntry out;
    ASSERT_TRUE(tlb.lookup(0x7000, 0x001, out));
    EXPECT_EQ(out.asid, 0x01u);
    EXPECT_TRUE(hits(tlb, 0x7000, 0xf01));
    EXPECT_FALSE(hits(tlb, 0x7000, 0x102));
    EXPECT_EQ(tlb.maskAsid(0x1ff), 0xffu);
    // Invalidation masks the same way.
    tlb.invalidate(FlushKind::Asid, 0, 0x201);
    EXPECT_EQ(tlb.occupancy(), 0u);
}

TEST_P(AsidConfigs, GlobalEntriesHitInEveryAsid) {
    Tlb tlb(config(GetParam().first, GetParam().second));
    tlb.fill(entry(0x4000'0000, 1, 5, kRW | PTE_F_G));
    tlb.fill(entry(0x9000, 0, 5, kRW | PTE_F_G));
    for (Asid a : {Asid{0}, Asid{5}, Asid{6}, Asid{0xffff}}) {
        EXPECT_TRUE(hits(tlb, 0x4012'3456, a)) << a;
        EXPECT_TRUE(hits(tlb, 0x9fff, a)) << a;
    }
}

TEST_P(AsidConfigs, GlobalEntriesSurviveAsidFlushesOnly) {
    Tlb tlb(config(GetParam().first, GetParam().second));
    const TlbEntry g = entry(0x9000, 0, 5, kRW | PTE_F_G);
    tlb.fill(g);
    tlb.invalidate(FlushKind::Asid, 0, 5);
    EXPECT_TRUE(hits(tlb, 0x9000, 5));
    tlb.invalidate(FlushKind::VaAsid, 0x9000, 5);
    EXPECT_TRUE(hits(tlb, 0x9000, 5));
    tlb.invalidate(FlushKind::Va, 0x9000, 7); // the asid argument is irrelevant for Va
    EXPECT_FALSE(hits(tlb, 0x9000, 5));
    tlb.fill(g);
    tlb.invalidate(FlushKind::All, 0, 0);
    EXPECT_FALSE(hits(tlb, 0x9000, 5));
    EXPECT_EQ(tlb.occupancy(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Configs, AsidConfigs,
                         testing::Values(std::make_pair(64u, 4u), std::make_pair(16u, 16u)),
                         [](const testing::TestParamInfo<std::pair<unsigned, unsigned>>& info) {
                             return std::to_string(info.param.first) + "x" +
                                    std::to_string(info.param.second);
                         });

// ---------------------------------------------------------------------------------------------
// Invalidation: each entry alone against each kind, then all together (exact counts).

constexpr std::uint64_t kFlushVa = 0x4000'1234;
constexpr Asid kFlushAsid = 1;

struct FlushCase {
    const char* name;
    TlbEntry e;
    bool survives[4]; // All, Asid, Va, VaAsid
};

std::vector<FlushCase> flushCases() {
    constexpr unsigned G = PTE_F_G;
    return {
        {"own_4k", entry(0x4000'1000, 0, 1), {false, false, false, false}},
        {"other_asid_4k", entry(0x4000'1000, 0, 2), {false, true, false, true}},
        {"own_other_page", entry(0x4000'2000, 0, 1), {false, false, true, true}},
        {"other_asid_other_page", entry(0x4000'2000, 0, 2), {false, true, true, true}},
        {"global_4k_at_va", entry(0x4000'1000, 0, 4, kRW | G), {false, true, false, true}},
        {"global_4k_elsewhere", entry(0x5000'0000, 0, 1, kRW | G), {false, true, true, true}},
        {"own_2m_covering", entry(0x4000'0000, 1, 1), {false, false, false, false}},
        {"other_asid_2m_covering", entry(0x4000'0000, 1, 2), {false, true, false, true}},
        {"own_2m_next", entry(0x4020'0000, 1, 1), {false, false, true, true}},
        {"own_1g_covering", entry(0x4000'0000, 2, 1), {false, false, false, false}},
        {"global_1g_covering", entry(0x4000'0000, 2, 3, kRW | G), {false, true, false, true}},
        {"global_2m_elsewhere", entry(0x6000'0000, 1, 3, kRW | G), {false, true, true, true}},
        {"other_asid_1g_elsewhere", entry(0x8000'0000, 2, 2), {false, true, true, true}},
    };
}

constexpr FlushKind kKinds[] = {FlushKind::All, FlushKind::Asid, FlushKind::Va, FlushKind::VaAsid};
constexpr const char* kKindNames[] = {"All", "Asid", "Va", "VaAsid"};

class Invalidation : public testing::TestWithParam<std::pair<unsigned, unsigned>> {};

TEST_P(Invalidation, EachEntryAlone) {
    for (const FlushCase& c : flushCases())
        for (int k = 0; k < 4; ++k) {
            Tlb tlb(config(GetParam().first, GetParam().second));
            tlb.fill(c.e);
            ASSERT_EQ(tlb.occupancy(), 1u);
            tlb.invalidate(kKinds[k], kFlushVa, kFlushAsid);
            EXPECT_EQ(tlb.occupancy(), c.survives[k] ? 1u : 0u)
                << c.name << " flushed by " << kKindNames[k];
            // The survivor is still usable.
            if (c.survives[k]) {
                EXPECT_TRUE(hits(tlb, c.e.vpn << 12, c.e.asid)) << c.name << " " << kKindNames[k];
            }
        }
}

TEST_P(Invalidation, AllEntriesTogether) {
    const auto cases = flushCases();
    for (int k = 0; k < 4; ++k) {
        Tlb tlb(config(GetParam().first, GetParam().second));
        for (const FlushCase& c : cases)
            tlb.fill(c.e);
        ASSERT_EQ(tlb.occupancy(), cases.size());
        tlb.invalidate(kKinds[k], kFlushVa, kFlushAsid);
        unsigned expected = 0;
        for (const FlushCase& c : cases)
            expected += c.survives[k];
        EXPECT_EQ(tlb.occupancy(), expected) << kKindNames[k];
    }
}

TEST_P(Invalidation, FlushedVaMissesForTheFlushedAsid) {
    Tlb tlb(config(GetParam().first, GetParam().second));
    tlb.fill(entry(0x4000'0000, 1, 1)); // 2M covering the va
    tlb.fill(entry(0x4000'1000, 0, 2));
    tlb.invalidate(FlushKind::VaAsid, kFlushVa, 1);
    EXPECT_FALSE(hits(tlb, kFlushVa, 1));
    EXPECT_FALSE(hits(tlb, 0x401f'f000, 1)); // the whole superpage went
    EXPECT_TRUE(hits(tlb, kFlushVa, 2));
    tlb.invalidate(FlushKind::Va, 0x4000'1fff, 9);
    EXPECT_FALSE(hits(tlb, kFlushVa, 2));
    EXPECT_EQ(tlb.occupancy(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Configs, Invalidation,
                         testing::Values(std::make_pair(128u, 8u), std::make_pair(16u, 16u),
                                         std::make_pair(32u, 32u)),
                         [](const testing::TestParamInfo<std::pair<unsigned, unsigned>>& info) {
                             return std::to_string(info.param.first) + "x" +
                                    std::to_string(info.param.second);
                         });

// ---------------------------------------------------------------------------------------------
// Refill in place

TEST(Refill, SameTranslationReplacesInPlace) {
    for (auto geo : {std::make_pair(64u, 4u), std::make_pair(16u, 16u)}) {
        Tlb tlb(config(geo.first, geo.second));
        tlb.fill(entry(0x7000, 0, 1, kRW));
        tlb.fill(entry(0x7000, 0, 1, kRW | PTE_F_D)); // D now set
        EXPECT_EQ(tlb.occupancy(), 1u);
        TlbEntry out;
        ASSERT_TRUE(tlb.lookup(0x7000, 1, out));
        EXPECT_EQ(out.flags, kRW | PTE_F_D);
        // Superpage refill too.
        tlb.fill(entry(0x4000'0000, 1, 1, kRW));
        tlb.fill(entry(0x4000'0000, 1, 1, kRW | PTE_F_D));
        EXPECT_EQ(tlb.occupancy(), 2u);
        ASSERT_TRUE(tlb.lookup(0x4010'0000, 1, out));
        EXPECT_EQ(out.flags, kRW | PTE_F_D);
        // Different ASID or page size: a distinct translation.
        tlb.fill(entry(0x7000, 0, 2));
        tlb.fill(entry(0x4000'0000, 0, 1));
        EXPECT_EQ(tlb.occupancy(), 4u);
    }
}

TEST(Refill, MaskedAsidsAreTheSameTranslation) {
    Tlb tlb(config(64, 4, /*asid_bits=*/8));
    tlb.fill(entry(0x7000, 0, 0x101));
    tlb.fill(entry(0x7000, 0, 0x001, kRW | PTE_F_D));
    EXPECT_EQ(tlb.occupancy(), 1u);
}

TEST(Refill, InPlaceRefillCountsAsUse) {
    // 1 set of 2 ways, LRU: refilling A makes B the victim.
    Tlb tlb(config(2, 2));
    tlb.fill(entry(0xa000, 0, 1));
    tlb.fill(entry(0xb000, 0, 1));
    tlb.fill(entry(0xa000, 0, 1, kRW | PTE_F_D));
    tlb.fill(entry(0xc000, 0, 1));
    EXPECT_TRUE(hits(tlb, 0xa000, 1));
    EXPECT_FALSE(hits(tlb, 0xb000, 1));
    EXPECT_TRUE(hits(tlb, 0xc000, 1));
}

TEST(Refill, GlobalTranslationRefilledFromAnotherAsid) {
    for (auto geo : {std::make_pair(64u, 4u), std::make_pair(16u, 16u)}) {
        Tlb tlb(config(geo.first, geo.second));
        tlb.fill(entry(0x9000, 0, 1, kRW | PTE_F_G));
        // Another address space writes the (shared, global) page: the walker sets D and the
        // refill carries that address space's ASID.
        tlb.fill(entry(0x9000, 0, 2, kRW | PTE_F_G | PTE_F_D));
        EXPECT_EQ(tlb.occupancy(), 1u);
        TlbEntry out;
        ASSERT_TRUE(tlb.lookup(0x9000, 2, out));
        EXPECT_EQ(out.flags, kRW | PTE_F_G | PTE_F_D);
    }
}

// ---------------------------------------------------------------------------------------------
// A level of several arrays (tlb.<level>.arrays), each holding its own page sizes

namespace arrays {

constexpr std::uint64_t k4K = 1ull << 12;

using test::tlbArray;

TlbConfig level(std::vector<TlbArrayConfig> arrays) {
    TlbConfig c = config(0, 1); // the single form's entries/ways are unused with arrays
    c.arrays = std::move(arrays);
    return c;
}

// Intel's L1 DTLB (Haswell: 64 x 4 KiB 4-way, 32 x 2 MiB/4 MiB 4-way, 4 x 1 GiB).
TlbConfig intelL1d() {
    return level({tlbArray({k4K}, 64, 4), tlbArray({k2M}, 32, 4), tlbArray({k1G}, 4, 4)});
}

struct Counts {
    unsigned hits = 0, misses = 0;
};

// `rounds` times: 48 base pages (consecutive, from 0x1000'0000), then 16 huge pages
// (consecutive 2 MiB pages, from 0x8000'0000); a miss fills the page at its own size.
Counts basePagesThenHugePages(Tlb& tlb, unsigned rounds) {
    Counts n;
    auto access = [&](std::uint64_t va, unsigned level) {
        TlbEntry out;
        if (tlb.lookup(va, 1, out)) {
            EXPECT_EQ(out.level, level);
            ++n.hits;
        } else {
            ++n.misses;
            tlb.fill(entry(va, level, 1));
        }
    };
    for (unsigned r = 0; r < rounds; ++r) {
        for (std::uint64_t i = 0; i < 48; ++i)
            access(0x1000'0000 + i * k4K + 0x10, 0);
        for (std::uint64_t i = 0; i < 16; ++i)
            access(0x8000'0000 + i * k2M + 0x1234, 1);
    }
    return n;
}

// Split (64 x 4 KiB 4-way: 16 sets; 32 x 2 MiB 4-way: 8 sets): the 48 consecutive base pages
// put 3 pages in each 4 KiB set and the 16 huge pages 2 in each 2 MiB set, both fewer than the
// 4 ways, so only the first round misses: 48 + 16 = 64 compulsory misses out of 640, and
// 9 x 48 = 432 hits in the 4 KiB array, 9 x 16 = 144 in the 2 MiB one.
TEST(TlbArrays, SplitL1dMissesOnlyCompulsorily) {
    Tlb tlb(level({tlbArray({k4K}, 64, 4), tlbArray({k2M}, 32, 4)}));
    ASSERT_EQ(tlb.arrays(), 2u);
    const Counts n = basePagesThenHugePages(tlb, 10);
    EXPECT_EQ(n.misses, 64u);
    EXPECT_EQ(n.hits, 576u);
    EXPECT_EQ(tlb.arrayStats(0).hits, 432u);
    EXPECT_EQ(tlb.arrayStats(1).hits, 144u);
    EXPECT_EQ(tlb.arrayStats(0).fills, 48u);
    EXPECT_EQ(tlb.arrayStats(1).fills, 16u);
    EXPECT_EQ(tlb.occupancy(0), 48u);
    EXPECT_EQ(tlb.occupancy(1), 16u);
    EXPECT_EQ(tlb.uncacheableFills(), 0u);
}

// One 32-entry array of both sizes, 4-way (8 sets, each size indexing its own set): set s
// holds the base pages s, s+8, ..., s+40 (vpn & 7) and the huge pages s and s+8
// ((0x400 + i) & 7), 8 pages visited in the same order every round by an LRU set of 4 ways:
// each access evicts the page needed 4 accesses later, so all 640 miss. Fully associative
// (32 ways), 64 pages in a cycle through 32 LRU ways: all 640 miss too.
TEST(TlbArrays, OneArrayOf32EntriesThrashes) {
    for (unsigned ways : {4u, 32u}) {
        Tlb tlb(level({tlbArray({k4K, k2M}, 32, ways)}));
        const Counts n = basePagesThenHugePages(tlb, 10);
        EXPECT_EQ(n.misses, 640u) << ways << " ways";
        EXPECT_EQ(n.hits, 0u) << ways << " ways";
        EXPECT_EQ(tlb.arrayStats(0).fills, 640u);
        EXPECT_EQ(tlb.occupancy(), 32u);
    }
}

TEST(TlbArrays, FillsOfASizeNoArrayHoldsAreCountedAndNotCached) {
    Tlb tlb(level({tlbArray({k4K}, 64, 4), tlbArray({k2M}, 32, 4)}));
    tlb.fill(entry(0x4000'0000, 2, 1)); // 1 GiB
    tlb.fill(entry(0x8000'0000, 2, 1));
    EXPECT_EQ(tlb.uncacheableFills(), 2u);
    EXPECT_EQ(tlb.occupancy(), 0u);
    EXPECT_FALSE(hits(tlb, 0x4000'0000, 1));
    EXPECT_FALSE(hits(tlb, 0x4123'4567, 1));
    tlb.fill(entry(0x4000'0000, 1, 1)); // the 2 MiB page there is held
    EXPECT_TRUE(hits(tlb, 0x4012'3456, 1));
    EXPECT_EQ(tlb.arrayStats(1).fills, 1u);
    EXPECT_EQ(tlb.arrayStats(0).fills + tlb.arrayStats(0).hits, 0u);
    // One array given as a list holds only its sizes too (the one-array lookup path).
    Tlb only4k(level({tlbArray({k4K}, 16, 4)}));
    only4k.fill(entry(0x4000'0000, 1, 1));
    only4k.fill(entry(0x5000, 0, 1));
    EXPECT_EQ(only4k.uncacheableFills(), 1u);
    EXPECT_EQ(only4k.occupancy(), 1u);
    EXPECT_TRUE(hits(only4k, 0x5fff, 1));
    EXPECT_FALSE(hits(only4k, 0x4000'0000, 1));
}

// The flush cases above, every entry in the array of its size, against each kind: what
// survives is exactly what survives in one array, in every array.
TEST(TlbArrays, InvalidationReachesEveryArray) {
    const auto cases = flushCases();
    for (int k = 0; k < 4; ++k) {
        Tlb tlb(intelL1d());
        unsigned filled[3] = {}, expected[3] = {};
        for (const FlushCase& c : cases) {
            tlb.fill(c.e);
            ++filled[c.e.level];
            expected[c.e.level] += c.survives[k];
        }
        for (unsigned a = 0; a < 3; ++a)
            ASSERT_EQ(tlb.occupancy(a), filled[a]) << a;
        ASSERT_GT(filled[2], 0u);
        tlb.invalidate(kKinds[k], kFlushVa, kFlushAsid);
        for (unsigned a = 0; a < 3; ++a)
            EXPECT_EQ(tlb.occupancy(a), expected[a]) << kKindNames[k] << " array " << a;
        // (A flushed entry's VA may still hit another case's entry, e.g. a global one.)
        for (const FlushCase& c : cases)
            if (c.survives[k]) EXPECT_TRUE(hits(tlb, c.e.vpn << 12, c.e.asid)) << c.name;
    }
}

TEST(TlbArrays, InvalidationDropsTheShortcutToAnotherArray) {
    Tlb tlb(intelL1d());
    tlb.fill(entry(0x4000'0000, 1, 1));
    EXPECT_TRUE(hits(tlb, 0x4000'0000, 1));
    EXPECT_TRUE(hits(tlb, 0x4000'0000, 1)); // the shortcut, counted for its array
    EXPECT_EQ(tlb.arrayStats(1).hits, 2u);
    tlb.invalidate(FlushKind::VaAsid, 0x401f'f000, 1);
    EXPECT_FALSE(hits(tlb, 0x4000'0000, 1));
    EXPECT_EQ(tlb.arrayStats(1).hits, 2u);
}

TEST(TlbArrays, LatencyIsTheSlowestArrays) {
    const TlbConfig c =
        level({tlbArray({k4K}, 64, 4, 1), tlbArray({k2M}, 32, 4, 3), tlbArray({k1G}, 4, 4, 2)});
    EXPECT_EQ(c.lookupLatency(), 3u);
    Tlb tlb(c);
    EXPECT_EQ(tlb.lookupCycles(), 3u);
    EXPECT_EQ(tlb.config().latency_cycles, 3u);
    TlbConfig single = config(64, 4);
    single.latency_cycles = 5;
    EXPECT_EQ(single.lookupLatency(), 5u);
    EXPECT_EQ(Tlb(single).lookupCycles(), 5u);
}

// When two arrays hold overlapping translations (a 4 KiB entry inside a 2 MiB one), the first
// array in configuration order answers, whatever was looked up before.
TEST(TlbArrays, OverlapsAreAnsweredByTheFirstArray) {
    const TlbEntry e4k = entry(0x4020'3000, 0, 1, kRW, 0x3'0000'0000ull);
    const TlbEntry e2m = entry(0x4020'0000, 1, 1, kRW, 0x2'0000'0000ull);
    Tlb tlb(intelL1d());
    tlb.fill(e2m);
    tlb.fill(e4k);
    TlbEntry out;
    ASSERT_TRUE(tlb.lookup(0x4020'4000, 1, out));
    EXPECT_EQ(out, e2m);
    ASSERT_TRUE(tlb.lookup(0x4020'3000, 1, out));
    EXPECT_EQ(out, e4k);
    ASSERT_TRUE(tlb.lookup(0x4020'4000, 1, out));
    EXPECT_EQ(out, e2m);
}

// One array listing every page size of the format is the single form.
TEST(TlbArrays, OneArrayOfEverySizeIsTheSingleForm) {
    Tlb single(config(64, 4));
    Tlb listed(level({tlbArray({k4K, k2M, k1G}, 64, 4)}));
    std::uint64_t x = 0x1234567;
    for (int i = 0; i < 20000; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const unsigned lvl = x % 16 == 0 ? 2 : x % 4 == 0 ? 1 : 0;
        const std::uint64_t va = ((x >> 8) % 4096) << (12 + 7 * lvl);
        TlbEntry a, b;
        const bool hit = single.lookup(va, 1, a);
        ASSERT_EQ(listed.lookup(va, 1, b), hit) << i;
        if (hit) {
            ASSERT_EQ(a, b);
        } else {
            single.fill(entry(va, lvl, 1));
            listed.fill(entry(va, lvl, 1));
        }
    }
    EXPECT_EQ(single.occupancy(), listed.occupancy());
}

void expectRefused(const TlbConfig& c, const PteFormat& f, const std::string& message,
                   AbsentPageSize absent = AbsentPageSize::Refuse) {
    try {
        validateTlbArrays(c, f, absent);
        ADD_FAILURE() << "no throw, expected: " << message;
    } catch (const InputError& e) {
        EXPECT_EQ(e.what(), message);
    }
}

TEST(TlbArrays, ValidationNamesTheKey) {
    const PteFormat x86 = PteFormat::fromName("x86_64");
    const PteFormat x86_32 = PteFormat::fromName("x86_32");
    const std::uint64_t k4M = 1ull << 22;
    // Intel's 2 MiB / 4 MiB array: 4 MiB exists in x86_32 (PSE) only.
    const TlbConfig intel =
        level({tlbArray({k4K}, 64, 4), tlbArray({k2M, k4M}, 32, 4), tlbArray({k1G}, 4, 4)});
    expectRefused(intel, x86,
                  "tlb.l1d.arrays[1].page_sizes: 4MiB is not a page size of x86_64 (its page "
                  "sizes: 4KiB, 2MiB, 1GiB)");
    EXPECT_NO_THROW(validateTlbArrays(intel, x86, AbsentPageSize::Ignore));
    expectRefused(intel, x86_32,
                  "tlb.l1d.arrays[1].page_sizes: 2MiB is not a page size of x86_32 (its page "
                  "sizes: 4KiB, 4MiB)");
    // Under Ignore the absent sizes hold nothing; the sizes of the format work as usual.
    TlbConfig c32 = intel;
    c32.geometry = x86_32.geometry();
    Tlb tlb32(c32);
    TlbEntry e4m;
    e4m.vpn = 0x400; // 4 MiB page at 4 MiB: level 1 of x86_32 (10 index bits)
    e4m.level = 1;
    e4m.asid = 1;
    e4m.flags = kRW;
    tlb32.fill(e4m);
    EXPECT_EQ(tlb32.occupancy(1), 1u);
    EXPECT_TRUE(hits(tlb32, 0x40'0000, 1));
    EXPECT_TRUE(hits(tlb32, 0x7f'ffff, 1));
    EXPECT_FALSE(hits(tlb32, 0x80'0000, 1));

    expectRefused(level({tlbArray({k4K}, 64, 4), tlbArray({k2M, 3000}, 32, 4)}), x86,
                  "tlb.l1d.arrays[1].page_sizes: 3000 is not a page size (a power of two of "
                  "bytes)");
    expectRefused(level({tlbArray({k4K, k2M}, 64, 4), tlbArray({k2M}, 32, 4)}), x86,
                  "tlb.l1d.arrays[1].page_sizes: 2MiB is already held by tlb.l1d.arrays[0] (a "
                  "page size lives in one array)");
    expectRefused(level({tlbArray({k4K, k4K}, 64, 4)}), x86,
                  "tlb.l1d.arrays[0].page_sizes: 4KiB is listed twice");
    expectRefused(level({tlbArray({k4K}, 64, 4), tlbArray({}, 32, 4)}), x86,
                  "tlb.l1d.arrays[1].page_sizes: missing (a level of several arrays names the "
                  "page sizes of each)");
    expectRefused(level({tlbArray({k4K}, 64, 4), tlbArray({k2M}, 32, 3)}), x86,
                  "tlb.l1d.arrays[1].ways: 3 does not divide tlb.l1d.arrays[1].entries 32 (ways "
                  "must divide entries; entries = ways is fully associative)");
    // The Tlb refuses what cannot be built, naming the array.
    TlbConfig bad = level({tlbArray({k4K}, 48, 4)});
    try {
        Tlb tlb(bad);
        ADD_FAILURE() << "no throw";
    } catch (const InputError& e) {
        EXPECT_STREQ(e.what(), "tlb.l1d.arrays[0]: entries/ways = 12 sets is not a power of two");
    }
    // The single form keeps its messages.
    expectRefused(config(48, 4), x86, "tlb.l1d: entries/ways = 12 sets is not a power of two");
    EXPECT_NO_THROW(validateTlbArrays(config(64, 4), x86));
}

TEST(TlbArrays, RtlRefusesArrays) {
    TlbConfig c = intelL1d();
    EXPECT_NO_THROW(checkRtlTlbArrays(c));
    c.impl = "rtl";
    try {
        checkRtlTlbArrays(c);
        ADD_FAILURE() << "no throw";
    } catch (const InputError& e) {
        EXPECT_STREQ(e.what(), "tlb.l1d.arrays: impl rtl is one array holding every page size; "
                               "give tlb.l1d.entries and tlb.l1d.ways instead of arrays, or "
                               "impl: model");
    }
    TlbConfig single = config(64, 4);
    single.impl = "rtl";
    EXPECT_NO_THROW(checkRtlTlbArrays(single));
}

} // namespace arrays

} // namespace
} // namespace tlmmu
