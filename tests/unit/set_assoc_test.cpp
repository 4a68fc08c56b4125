// SetAssocArray and ReplacementState: exact victim sequences for every policy (hand-derived),
// invalid-way-first filling, seeded randomness, and the geometry / policy-name error messages.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "common/Types.h"
#include "mmu/SetAssocArray.h"
#include "support/ExpectInputError.h"

namespace tlmmu {
namespace {

// ---------------------------------------------------------------------------------------------
// Tree PLRU

TEST(Plru, FourWayHandDerivedSequence) {
    // Nodes: 0 = root, 1 = ways {0,1}, 2 = ways {2,3}; all bits start at 0 (victim = way 0).
    ReplacementState r(Replacement::Plru, 1, 4, 1);
    EXPECT_EQ(r.victim(0), 0u);
    const unsigned touches[] = {0, 2, 1, 3, 0};
    const unsigned victims[] = {2, 1, 3, 0, 2};
    for (unsigned i = 0; i < 5; ++i) {
        r.touch(0, touches[i]);
        EXPECT_EQ(r.victim(0), victims[i]) << "after touch #" << i << " of way " << touches[i];
    }
}

TEST(Plru, FourWayDiffersFromTrueLru) {
    // After 0,1,2,3,0 true LRU evicts 1; tree PLRU only remembers "left half was used last" at
    // the root and "3 after 2" below it, so it evicts 2.
    ReplacementState r(Replacement::Plru, 1, 4, 1);
    for (unsigned w : {0u, 1u, 2u, 3u})
        r.touch(0, w);
    EXPECT_EQ(r.victim(0), 0u);
    r.touch(0, 0);
    EXPECT_EQ(r.victim(0), 2u);
}

TEST(Plru, EightWayHandDerivedSequence) {
    // Nodes: 0 root; 1 = {0..3}, 2 = {4..7}; 3 = {0,1}, 4 = {2,3}, 5 = {4,5}, 6 = {6,7}.
    ReplacementState r(Replacement::Plru, 1, 8, 1);
    EXPECT_EQ(r.victim(0), 0u);
    const std::vector<unsigned> touches = {0, 4, 2, 6, 1, 5, 3, 7, 3};
    const std::vector<unsigned> victims = {4, 2, 6, 1, 5, 3, 7, 0, 4};
    for (std::size_t i = 0; i < touches.size(); ++i) {
        r.touch(0, touches[i]);
        EXPECT_EQ(r.victim(0), victims[i]) << "after touch #" << i << " of way " << touches[i];
    }
}

TEST(Plru, VictimDoesNotChangeState) {
    ReplacementState r(Replacement::Plru, 1, 8, 1);
    r.touch(0, 0);
    EXPECT_EQ(r.victim(0), 4u);
    EXPECT_EQ(r.victim(0), 4u);
}

TEST(Plru, FilledCountsAsTouch) {
    ReplacementState a(Replacement::Plru, 1, 8, 1), b(Replacement::Plru, 1, 8, 1);
    for (unsigned w : {5u, 2u, 7u}) {
        a.touch(0, w);
        b.filled(0, w);
        EXPECT_EQ(a.victim(0), b.victim(0));
    }
}

TEST(Plru, SetsAreIndependent) {
    ReplacementState r(Replacement::Plru, 4, 4, 1);
    r.touch(2, 0);
    EXPECT_EQ(r.victim(2), 2u);
    EXPECT_EQ(r.victim(0), 0u);
    EXPECT_EQ(r.victim(1), 0u);
    EXPECT_EQ(r.victim(3), 0u);
    r.touch(3, 3);
    EXPECT_EQ(r.victim(3), 0u);
    r.touch(3, 0);
    EXPECT_EQ(r.victim(3), 2u);
    EXPECT_EQ(r.victim(2), 2u);
}

TEST(Plru, TwoWayAndOneWay) {
    ReplacementState two(Replacement::Plru, 1, 2, 1);
    EXPECT_EQ(two.victim(0), 0u);
    two.touch(0, 0);
    EXPECT_EQ(two.victim(0), 1u);
    two.touch(0, 1);
    EXPECT_EQ(two.victim(0), 0u);
    ReplacementState one(Replacement::Plru, 2, 1, 1);
    one.touch(1, 0);
    EXPECT_EQ(one.victim(0), 0u);
    EXPECT_EQ(one.victim(1), 0u);
}

// Independent tree-PLRU model (one bit per node, recursion on halves) for a random cross-check.
class RefPlru {
  public:
    explicit RefPlru(unsigned ways) : ways_(ways), bits_(ways, 0) {}
    void touch(unsigned way) { touch(1, 0, ways_, way); }
    unsigned victim() const { return victim(1, 0, ways_); }

  private:
    // 1-based heap node id over the range [lo, lo+span).
    void touch(unsigned id, unsigned lo, unsigned span, unsigned way) {
        if (span == 1) return;
        const unsigned half = span / 2;
        const bool in_right = way >= lo + half;
        bits_[id] = in_right ? 0 : 1; // 1 = victim on the right
        if (in_right)
            touch(2 * id + 1, lo + half, half, way);
        else
            touch(2 * id, lo, half, way);
    }
    unsigned victim(unsigned id, unsigned lo, unsigned span) const {
        if (span == 1) return lo;
        const unsigned half = span / 2;
        return bits_[id] ? victim(2 * id + 1, lo + half, half) : victim(2 * id, lo, half);
    }
    unsigned ways_;
    std::vector<int> bits_;
};

TEST(Plru, MatchesReferenceOnRandomTouches) {
    for (unsigned ways : {2u, 4u, 8u, 16u, 32u}) {
        ReplacementState r(Replacement::Plru, 3, ways, 1);
        RefPlru ref(ways);
        std::uint64_t x = 0x12345678u + ways;
        for (int i = 0; i < 2000; ++i) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            const unsigned way = static_cast<unsigned>((x >> 33) % ways);
            r.touch(1, way);
            ref.touch(way);
            ASSERT_EQ(r.victim(1), ref.victim()) << "ways=" << ways << " step " << i;
            // The victim is never the way just touched.
            ASSERT_NE(r.victim(1), way);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// LRU and FIFO through SetAssocArray (so that fill() chooses the ways)

TEST(Lru, FourWaySequence) {
    SetAssocArray<int> a(4, 4, Replacement::Lru, 1);
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(a.fill(0, 10 + i), static_cast<unsigned>(i));
    a.touch(0, 0);                // order (old -> new): 1 2 3 0
    EXPECT_EQ(a.fill(0, 20), 1u); // 2 3 0 1
    EXPECT_EQ(a.at(0, 1), 20);
    a.touch(0, 2);                // 3 0 1 2
    EXPECT_EQ(a.fill(0, 21), 3u); // 0 1 2 3
    a.touch(0, 1);                // 0 2 3 1
    a.touch(0, 0);                // 2 3 1 0
    EXPECT_EQ(a.fill(0, 22), 2u); // 3 1 0 2
    EXPECT_EQ(a.fill(0, 23), 3u); // 1 0 2 3
    EXPECT_EQ(a.fill(0, 24), 1u);
    EXPECT_EQ(a.occupancy(), 4u);
}

TEST(Lru, EightWayDirectState) {
    ReplacementState r(Replacement::Lru, 2, 8, 1);
    for (unsigned w = 0; w < 8; ++w)
        r.filled(1, w);
    EXPECT_EQ(r.victim(1), 0u);
    const std::vector<unsigned> touches = {0, 1, 2, 7, 3, 4, 5, 6};
    const std::vector<unsigned> victims = {1, 2, 3, 3, 4, 5, 6, 0};
    for (std::size_t i = 0; i < touches.size(); ++i) {
        r.touch(1, touches[i]);
        EXPECT_EQ(r.victim(1), victims[i]) << "after touch #" << i;
    }
    // Set 0 is untouched by all this.
    r.filled(0, 3);
    r.filled(0, 0);
    EXPECT_EQ(r.victim(0), 1u); // never-used ways (stamp 0) first, lowest
}

TEST(Fifo, TouchDoesNotReorder) {
    SetAssocArray<int> a(4, 4, Replacement::Fifo, 1);
    for (int i = 0; i < 4; ++i)
        a.fill(0, i);
    a.touch(0, 0);
    a.touch(0, 0);
    EXPECT_EQ(a.fill(0, 10), 0u);
    a.touch(0, 1);
    EXPECT_EQ(a.fill(0, 11), 1u);
    EXPECT_EQ(a.fill(0, 12), 2u);
    EXPECT_EQ(a.fill(0, 13), 3u);
    a.touch(0, 3);
    EXPECT_EQ(a.fill(0, 14), 0u);
}

TEST(Fifo, RefillAfterInvalidateIsYoungest) {
    SetAssocArray<int> a(4, 4, Replacement::Fifo, 1);
    for (int i = 0; i < 4; ++i)
        a.fill(0, i);
    EXPECT_EQ(a.invalidateIf([](int v) { return v == 1; }), 1u);
    EXPECT_EQ(a.fill(0, 5), 1u); // the invalid way
    // Fill order now: 0 2 3 1.
    EXPECT_EQ(a.fill(0, 6), 0u);
    EXPECT_EQ(a.fill(0, 7), 2u);
    EXPECT_EQ(a.fill(0, 8), 3u);
    EXPECT_EQ(a.fill(0, 9), 1u);
}

// ---------------------------------------------------------------------------------------------
// Random

std::vector<unsigned> randomVictims(std::uint64_t seed, unsigned ways, int n) {
    ReplacementState r(Replacement::Random, 1, ways, seed);
    std::vector<unsigned> out;
    for (int i = 0; i < n; ++i)
        out.push_back(r.victim(0));
    return out;
}

TEST(Random, DeterministicPerSeed) {
    EXPECT_EQ(randomVictims(1, 8, 200), randomVictims(1, 8, 200));
    EXPECT_EQ(randomVictims(42, 12, 200), randomVictims(42, 12, 200));
}

TEST(Random, DifferentSeedsDiffer) {
    const auto a = randomVictims(1, 8, 64), b = randomVictims(2, 8, 64),
               c = randomVictims(3, 8, 64);
    EXPECT_NE(a, b);
    EXPECT_NE(a, c);
    EXPECT_NE(b, c);
    // Seed 0 is allowed too and does not get stuck.
    const auto z = randomVictims(0, 8, 64);
    EXPECT_EQ(std::set<unsigned>(z.begin(), z.end()).size(), 8u);
}

TEST(Random, InRangeAndCoversEveryWay) {
    for (unsigned ways : {2u, 3u, 4u, 12u, 16u}) {
        const auto v = randomVictims(7, ways, 1000);
        std::vector<int> hist(ways, 0);
        for (unsigned x : v) {
            ASSERT_LT(x, ways);
            ++hist[x];
        }
        for (unsigned w = 0; w < ways; ++w)
            EXPECT_GT(hist[w], 1000 / static_cast<int>(ways) / 3) << "ways=" << ways << " w=" << w;
    }
}

TEST(Random, MatchesDocumentedXorshift64) {
    // xorshift64 (13, 7, 17) from state seed * golden + const: identical on every host.
    const std::uint64_t seed = 5;
    std::uint64_t s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    ReplacementState r(Replacement::Random, 1, 16, seed);
    for (int i = 0; i < 100; ++i) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        ASSERT_EQ(r.victim(0), static_cast<unsigned>(s % 16)) << i;
    }
}

TEST(Random, TouchAndFillDoNotAdvanceTheGenerator) {
    ReplacementState a(Replacement::Random, 1, 8, 9), b(Replacement::Random, 1, 8, 9);
    for (int i = 0; i < 20; ++i) {
        b.touch(0, i % 8);
        b.filled(0, (i + 3) % 8);
        EXPECT_EQ(a.victim(0), b.victim(0));
    }
}

// ---------------------------------------------------------------------------------------------
// SetAssocArray mechanics

class AllPolicies : public testing::TestWithParam<Replacement> {};

TEST_P(AllPolicies, InvalidWaysAreFilledLowestFirst) {
    SetAssocArray<int> a(16, 8, GetParam(), 3);
    EXPECT_EQ(a.sets(), 2u);
    EXPECT_EQ(a.ways(), 8u);
    for (unsigned i = 0; i < 8; ++i) {
        EXPECT_EQ(a.fill(1, 100 + static_cast<int>(i)), i);
        EXPECT_TRUE(a.valid(1, i));
        EXPECT_FALSE(a.valid(0, i));
    }
    EXPECT_EQ(a.occupancy(), 8u);
    // Recency must not matter while there is an invalid way: holes are used lowest first.
    a.touch(1, 6);
    a.touch(1, 2);
    EXPECT_EQ(a.invalidateIf([](int v) { return v == 106 || v == 102 || v == 104; }), 3u);
    EXPECT_EQ(a.occupancy(), 5u);
    EXPECT_FALSE(a.valid(1, 2));
    EXPECT_EQ(a.fill(1, 1), 2u);
    EXPECT_EQ(a.fill(1, 2), 4u);
    EXPECT_EQ(a.fill(1, 3), 6u);
    EXPECT_EQ(a.at(1, 2), 1);
    EXPECT_EQ(a.at(1, 4), 2);
    EXPECT_EQ(a.at(1, 6), 3);
    EXPECT_EQ(a.occupancy(), 8u);
    // Full now: the next fill replaces some way of set 1, never set 0.
    const unsigned w = a.fill(1, 999);
    EXPECT_LT(w, 8u);
    EXPECT_EQ(a.at(1, w), 999);
    EXPECT_EQ(a.occupancy(), 8u);
    EXPECT_EQ(a.fill(0, 7), 0u);
    EXPECT_EQ(a.occupancy(), 9u);
}

TEST_P(AllPolicies, InvalidateIfCountsOnlyValidMatches) {
    SetAssocArray<int> a(8, 2, GetParam(), 1);
    for (unsigned s = 0; s < 4; ++s)
        a.fill(s, static_cast<int>(s));
    EXPECT_EQ(a.invalidateIf([](int v) { return v % 2 == 0; }), 2u);
    // Invalid entries still hold old values: a predicate matching them must not count them.
    EXPECT_EQ(a.invalidateIf([](int v) { return v % 2 == 0; }), 0u);
    EXPECT_EQ(a.invalidateIf([](int) { return true; }), 2u);
    EXPECT_EQ(a.occupancy(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Policies, AllPolicies,
                         testing::Values(Replacement::Lru, Replacement::Plru, Replacement::Fifo,
                                         Replacement::Random),
                         [](const testing::TestParamInfo<Replacement>& info) {
                             return std::string(toString(info.param));
                         });

// ---------------------------------------------------------------------------------------------
// Names and geometry

TEST(ReplacementNames, ParseAndPrint) {
    for (const char* n : {"lru", "plru", "fifo", "random"})
        EXPECT_STREQ(toString(parseReplacement(n, "k")), n);
    EXPECT_EQ(parseReplacement("plru", "k"), Replacement::Plru);
}

TEST(ReplacementNames, UnknownNamesTheKey) {
    expectInputError([] { parseReplacement("mru", "tlb.l2.replacement"); },
                     "tlb.l2.replacement: unknown replacement 'mru' (allowed: lru, plru, fifo, "
                     "random)");
    expectInputError([] { parseReplacement("LRU", "walker.pwc.replacement"); },
                     "walker.pwc.replacement: unknown replacement 'LRU' (allowed: lru, plru, "
                     "fifo, random)");
}

TEST(Geometry, Accepted) {
    EXPECT_NO_THROW(validateGeometry(64, 4, Replacement::Plru, "tlb.l1d"));
    EXPECT_NO_THROW(validateGeometry(16, 16, Replacement::Plru, "tlb.l1d")); // fully assoc
    EXPECT_NO_THROW(validateGeometry(48, 48, Replacement::Lru, "tlb.l1d"));  // fully assoc
    EXPECT_NO_THROW(validateGeometry(1536, 12, Replacement::Lru, "tlb.l2")); // 128 sets
    EXPECT_NO_THROW(validateGeometry(24, 6, Replacement::Random, "tlb.l2")); // 4 sets
    EXPECT_NO_THROW(validateGeometry(1, 1, Replacement::Plru, "tlb.l2"));
}

TEST(Geometry, WaysNotDividingEntries) {
    expectInputError([] { validateGeometry(48, 5, Replacement::Lru, "tlb.l1d"); },
                     "tlb.l1d.ways: 5 does not divide tlb.l1d.entries 48 (ways must divide "
                     "entries; entries = ways is fully associative)");
    expectInputError([] { validateGeometry(64, 0, Replacement::Lru, "walker.pwc"); },
                     "walker.pwc.ways: 0 does not divide walker.pwc.entries 64 (ways must divide "
                     "entries; entries = ways is fully associative)");
    expectInputError([] { validateGeometry(4, 8, Replacement::Lru, "tlb.l2"); },
                     "tlb.l2.ways: 8 does not divide tlb.l2.entries 4 (ways must divide "
                     "entries; entries = ways is fully associative)");
}

TEST(Geometry, SetsNotPowerOfTwo) {
    expectInputError([] { validateGeometry(48, 4, Replacement::Lru, "tlb.l1d"); },
                     "tlb.l1d: entries/ways = 12 sets is not a power of two");
    expectInputError([] { validateGeometry(1536, 4, Replacement::Lru, "tlb.l2"); },
                     "tlb.l2: entries/ways = 384 sets is not a power of two");
    expectInputError([] { validateGeometry(0, 4, Replacement::Lru, "tlb.l2"); },
                     "tlb.l2: entries/ways = 0 sets is not a power of two");
}

TEST(Geometry, PlruNeedsPowerOfTwoWays) {
    expectInputError([] { validateGeometry(24, 6, Replacement::Plru, "tlb.l2"); },
                     "tlb.l2.replacement: plru needs a power-of-two way count, got 6");
    expectInputError([] { validateGeometry(1536, 12, Replacement::Plru, "tlb.l2"); },
                     "tlb.l2.replacement: plru needs a power-of-two way count, got 12");
}

} // namespace
} // namespace tlmmu
