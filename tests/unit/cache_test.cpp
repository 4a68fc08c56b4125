// Cache and CacheHierarchy (models/cache): hand-derived sequences with exact cycles and counts:
// victims per replacement policy, hits/misses/write-backs per level, inclusion and
// back-invalidation, every MESI transition, straddling accesses, absent levels, entry levels,
// and the geometry error messages.
//
// Unless a test says otherwise: 64-byte lines, L1D 256 B 2-way (2 sets, 4 cycles), L2 512 B
// 2-way (4 sets, 12 cycles), LLC 2 KiB 4-way (8 sets, 40 cycles), transfer 30 cycles, memory
// fill 100 and write-back 50 cycles. Line n is at address n * 64; it maps to set n mod 2 in the
// L1D, n mod 4 in the L2 and n mod 8 in the LLC.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "cache/Cache.h"
#include "cache/CacheHierarchy.h"
#include "common/Types.h"
#include "support/ExpectInputError.h"

namespace tlmmu {
namespace {

constexpr Cycles kL1 = 4, kL1i = 2, kL2 = 12, kLlc = 40, kTransfer = 30, kFill = 100, kWb = 50;
constexpr Cycles kMiss = kL1 + kL2 + kLlc + kFill; // 156: a load that misses everywhere

using Kind = CacheAccessKind;
using Level = CacheLevel;

struct RecordingMemory : MemoryPort {
    std::vector<Addr> fills, writebacks;
    Cycles fill(Addr pa) override {
        fills.push_back(pa);
        return kFill;
    }
    Cycles writeback(Addr pa) override {
        writebacks.push_back(pa);
        return kWb;
    }
};

CacheConfig level(std::uint64_t size, unsigned ways, unsigned latency,
                  Replacement policy = Replacement::Lru) {
    CacheConfig c;
    c.size = size;
    c.ways = ways;
    c.line_bytes = 64;
    c.latency_cycles = latency;
    c.replacement = policy;
    return c;
}

CacheHierarchyConfig threeLevels(unsigned cores) {
    CacheHierarchyConfig c;
    c.cores = cores;
    c.l1d = level(256, 2, kL1);
    c.l2 = level(512, 2, kL2);
    c.llc = level(2048, 4, kLlc);
    c.transfer_cycles = kTransfer;
    return c;
}

constexpr Addr lineAt(unsigned n) {
    return Addr{n} * 64;
}

#define EXPECT_ACCESS(result, cycles_, level_)                                                     \
    do {                                                                                           \
        const CacheAccessResult r_ = (result);                                                     \
        EXPECT_EQ(r_.cycles, Cycles{cycles_});                                                     \
        EXPECT_STREQ(toString(r_.level), toString(level_));                                        \
    } while (0)

void expectCounters(const Cache& c, std::uint64_t accesses, std::uint64_t hits,
                    std::uint64_t misses, std::uint64_t coherence_misses,
                    std::uint64_t writebacks) {
    EXPECT_EQ(c.counters.accesses, accesses);
    EXPECT_EQ(c.counters.hits, hits);
    EXPECT_EQ(c.counters.misses, misses);
    EXPECT_EQ(c.counters.coherence_misses, coherence_misses);
    EXPECT_EQ(c.counters.writebacks, writebacks);
}

// ---------------------------------------------------------------------------------------------
// Cache: one level

// One set of 4 ways: lines 0..3 fill it, line 0 is used again, line 4 evicts the policy's victim.
Victim victimAfterReuse(Replacement policy) {
    Cache c(level(256, 4, 1, policy), "cache.l1d");
    Victim v;
    for (unsigned n = 0; n < 4; ++n) {
        c.fill(n, Mesi::Exclusive, &v);
        EXPECT_FALSE(v.valid) << "an invalid way is filled first";
    }
    EXPECT_NE(c.lookup(0), nullptr);
    c.fill(4, Mesi::Exclusive, &v);
    EXPECT_TRUE(v.valid);
    return v;
}

TEST(Cache, VictimPerPolicy) {
    EXPECT_EQ(victimAfterReuse(Replacement::Lru).line.line, 1u);  // 0 was used again
    EXPECT_EQ(victimAfterReuse(Replacement::Fifo).line.line, 0u); // first in, use ignored
    // Tree PLRU after fills 0,1,2,3 and a use of 0: the root points right, node 2 at way 2.
    EXPECT_EQ(victimAfterReuse(Replacement::Plru).line.line, 2u);
    ReplacementState random(Replacement::Random, 1, 4, 1); // the cache's own seed (1)
    EXPECT_EQ(victimAfterReuse(Replacement::Random).line.line, random.victim(0));
}

TEST(Cache, VictimCarriesStateAndDirtyBit) {
    Cache c(level(128, 2, 1), "cache.l1d"); // one set of 2 ways
    Victim v;
    c.fill(7, Mesi::Modified, &v)->dirty = true;
    c.fill(9, Mesi::Shared, &v);
    c.fill(11, Mesi::Exclusive, &v);
    ASSERT_TRUE(v.valid);
    EXPECT_EQ(v.line.line, 7u);
    EXPECT_EQ(v.line.state, Mesi::Modified);
    EXPECT_TRUE(v.line.dirty);
    EXPECT_EQ(c.occupancy(), 2u);
}

TEST(Cache, InvalidateRemembersCoherenceLossUntilTheLineIsFilledAgain) {
    Cache c(level(128, 2, 1), "cache.l1d");
    Victim v;
    c.fill(3, Mesi::Shared, &v);
    const Victim dropped = c.invalidate(3, true);
    EXPECT_TRUE(dropped.valid);
    EXPECT_EQ(c.probe(3), nullptr);
    EXPECT_TRUE(c.lostToCoherence(3));
    EXPECT_FALSE(c.invalidate(3, true).valid) << "already gone";
    c.fill(3, Mesi::Shared, &v);
    c.invalidate(3, false); // an eviction, not a coherence loss
    EXPECT_FALSE(c.lostToCoherence(3));
}

TEST(Cache, AbsentLevelHoldsNothing) {
    Cache c(level(0, 8, 9), "cache.l1i");
    EXPECT_FALSE(c.present());
    EXPECT_EQ(c.latency(), 0u);
    EXPECT_EQ(c.lookup(0), nullptr);
    EXPECT_FALSE(c.lostToCoherence(0));
}

TEST(Cache, GeometryErrorsNameTheKey) {
    expectInputError([] { Cache(level(1000, 2, 1), "cache.l1d"); },
                     "cache.l1d.size: 1000 is not a multiple of cache.l1d.ways x "
                     "cache.l1d.line_bytes (2 x 64)");
    CacheConfig odd_line = level(4096, 2, 1);
    odd_line.line_bytes = 48;
    expectInputError([&] { Cache(odd_line, "cache.l2"); },
                     "cache.l2.line_bytes: 48 is not a power of two");
    expectInputError(
        [] { Cache(level(384, 2, 1), "cache.llc"); },
        "cache.llc.size: 384 bytes make 3 sets of 2 ways x 64 bytes, not a power of two");
    expectInputError([] { Cache(level(384, 3, 1, Replacement::Plru), "cache.l1d"); },
                     "cache.l1d.replacement: plru needs a power-of-two way count, got 3");
}

TEST(CacheHierarchy, ConfigurationErrors) {
    RecordingMemory mem;
    CacheHierarchyConfig c = threeLevels(1);
    c.l2.line_bytes = 32;
    c.l2.size = 256;
    expectInputError([&] { CacheHierarchy h(c, mem); },
                     "cache.l2.line_bytes: 32 differs from cache.l1d.line_bytes 64 (every "
                     "level has the same line size)");
    c = threeLevels(0);
    expectInputError([&] { CacheHierarchy h(c, mem); },
                     "cores: 0 cores, the cache directory holds 1 to 64");
    expectInputError([] { parseCacheEntry("l1i", "walker.cache_level"); },
                     "walker.cache_level: unknown cache level 'l1i' (allowed: l1d, l2, llc, "
                     "memory)");
    EXPECT_EQ(parseCacheEntry("l2", "k"), CacheEntry::L2);
    EXPECT_EQ(parseCacheEntry("memory", "k"), CacheEntry::Memory);
}

// ---------------------------------------------------------------------------------------------
// One core: where an access is served and what it costs

TEST(CacheHierarchy, EachLevelServesAndCostsItsPath) {
    RecordingMemory mem;
    CacheHierarchy h(threeLevels(1), mem);
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(0), 8), kMiss, Level::Memory);
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(0) + 8, 8), kL1, Level::L1d);
    EXPECT_EQ(h.state(0, lineAt(0)), Mesi::Exclusive);
    // L1D set 0 holds lines 0 and 2; line 4 evicts line 0 (LRU) from the L1D only.
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(2), 8), kMiss, Level::Memory);
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(4), 8), kMiss, Level::Memory);
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(0), 8), kL1 + kL2, Level::L2);
    // L2 set 0 holds 0 and 4 (0 used last): line 8 evicts line 4 there, and with it the L1D copy
    // of line 4 (inclusion); line 4 is still in the LLC.
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(8), 8), kMiss, Level::Memory);
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(4), 8), kL1 + kL2 + kLlc, Level::Llc);
    expectCounters(h.l1d(0), 7, 1, 6, 0, 0);
    expectCounters(h.l2(0), 6, 1, 5, 0, 0);
    expectCounters(h.llc(), 5, 1, 4, 0, 0);
    EXPECT_EQ(mem.fills, (std::vector<Addr>{lineAt(0), lineAt(2), lineAt(4), lineAt(8)}));
    EXPECT_TRUE(mem.writebacks.empty());
    EXPECT_EQ(h.coherence.back_invalidations, 0u);
}

TEST(CacheHierarchy, DirtyLineIsWrittenBackOncePerLevel) {
    RecordingMemory mem;
    CacheHierarchy h(threeLevels(1), mem);
    EXPECT_ACCESS(h.access(0, Kind::Store, lineAt(0), 8), kMiss, Level::Memory);
    EXPECT_EQ(h.state(0, lineAt(0)), Mesi::Modified);
    EXPECT_TRUE(h.l1d(0).probe(0)->dirty);
    EXPECT_FALSE(h.l2(0).probe(0)->dirty) << "the L1D has the newest data";
    h.access(0, Kind::Load, lineAt(2), 8);
    h.access(0, Kind::Load, lineAt(4), 8); // L1D evicts dirty line 0 into the L2
    EXPECT_EQ(h.l1d(0).counters.writebacks, 1u);
    EXPECT_TRUE(h.l2(0).probe(0)->dirty);
    // L2 set 0 = {0, 4}, 0 older: line 8 evicts it into the LLC. Still no memory traffic.
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(8), 8), kMiss, Level::Memory);
    EXPECT_EQ(h.l2(0).counters.writebacks, 1u);
    EXPECT_TRUE(h.llc().probe(0)->dirty);
    EXPECT_EQ(h.state(0, lineAt(0)), Mesi::Invalid);
    EXPECT_EQ(h.directory(lineAt(0)).sharers, 0u) << "the core no longer holds it";
    // LLC set 0 = {0, 8}; 16 and 24 fill it, 32 evicts line 0: its write-back adds to the miss.
    h.access(0, Kind::Load, lineAt(16), 8);
    h.access(0, Kind::Load, lineAt(24), 8);
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(32), 8), kMiss + kWb, Level::Memory);
    EXPECT_EQ(h.llc().counters.writebacks, 1u);
    EXPECT_EQ(mem.writebacks, std::vector<Addr>{lineAt(0)});
    EXPECT_EQ(h.coherence.back_invalidations, 0u);
}

// L1D 2 ways (one set), LLC large: A, B, A, C, A distinguishes the policies.
std::uint64_t l1dHitsOnReuse(Replacement policy) {
    RecordingMemory mem;
    CacheHierarchyConfig c;
    c.l1d = level(128, 2, kL1, policy);
    c.llc = level(2048, 4, kLlc);
    CacheHierarchy h(c, mem);
    for (unsigned n : {0u, 1u, 0u, 2u, 0u})
        h.access(0, Kind::Load, lineAt(n), 4);
    EXPECT_EQ(h.l1d(0).counters.accesses, 5u);
    EXPECT_EQ(h.l1d(0).counters.hits + h.l1d(0).counters.misses, 5u);
    EXPECT_EQ(h.llc().counters.misses, 3u) << "A, B, C once each";
    return h.l1d(0).counters.hits;
}

TEST(CacheHierarchy, HitsPerReplacementPolicy) {
    EXPECT_EQ(l1dHitsOnReuse(Replacement::Lru), 2u);  // C evicts B
    EXPECT_EQ(l1dHitsOnReuse(Replacement::Plru), 2u); // 2 ways: PLRU is LRU
    EXPECT_EQ(l1dHitsOnReuse(Replacement::Fifo), 1u); // C evicts A
    ReplacementState random(Replacement::Random, 1, 2, 1);
    const bool evicts_a = random.victim(0) == 0; // A is in way 0
    EXPECT_EQ(l1dHitsOnReuse(Replacement::Random), evicts_a ? 1u : 2u);
}

// An LLC of one 2-way set, reached at the LLC (entry Llc): A, B, A, C, then A again.
Cycles llcCyclesOnReuse(Replacement policy) {
    RecordingMemory mem;
    CacheHierarchyConfig c;
    c.llc = level(128, 2, kLlc, policy);
    CacheHierarchy h(c, mem);
    for (unsigned n : {0u, 1u, 0u, 2u})
        h.access(0, Kind::Load, lineAt(n), 4, CacheEntry::Llc);
    return h.access(0, Kind::Load, lineAt(0), 4, CacheEntry::Llc).cycles;
}

TEST(CacheHierarchy, LlcReplacementPolicy) {
    EXPECT_EQ(llcCyclesOnReuse(Replacement::Lru), kLlc);          // C evicted B
    EXPECT_EQ(llcCyclesOnReuse(Replacement::Fifo), kLlc + kFill); // C evicted A
}

// ---------------------------------------------------------------------------------------------
// Inclusion

// L1D 4 ways (one set), no L2, an LLC of 2 ways (one set): the LLC evicts lines the L1D holds.
CacheHierarchyConfig smallLlc(unsigned cores) {
    CacheHierarchyConfig c;
    c.cores = cores;
    c.l1d = level(256, 4, kL1);
    c.llc = level(128, 2, kLlc);
    return c;
}

TEST(CacheHierarchy, LlcEvictionBackInvalidatesAndWritesBackDirtyPrivateData) {
    RecordingMemory mem;
    CacheHierarchy h(smallLlc(1), mem);
    const Cycles miss = kL1 + kLlc + kFill;
    EXPECT_ACCESS(h.access(0, Kind::Store, lineAt(0), 8), miss, Level::Memory);
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(1), 8), miss, Level::Memory);
    // Line 2 evicts line 0 from the LLC: the dirty L1D copy goes with it, to memory.
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(2), 8), miss + kWb, Level::Memory);
    EXPECT_EQ(h.coherence.back_invalidations, 1u);
    EXPECT_EQ(h.l1d(0).probe(0), nullptr);
    EXPECT_EQ(mem.writebacks, std::vector<Addr>{lineAt(0)});
    EXPECT_EQ(h.llc().counters.writebacks, 1u);
    // Line 0 again: an inclusion miss, not a coherence miss; it evicts line 1 (clean).
    const CacheAccessResult again = h.access(0, Kind::Load, lineAt(0), 8);
    EXPECT_ACCESS(again, miss, Level::Memory);
    EXPECT_FALSE(again.coherence_miss);
    EXPECT_EQ(h.coherence.back_invalidations, 2u);
    EXPECT_EQ(h.l1d(0).occupancy(), 2u); // lines 2 and 0
    expectCounters(h.l1d(0), 4, 0, 4, 0, 0);
    EXPECT_EQ(mem.writebacks.size(), 1u);
}

TEST(CacheHierarchy, BackInvalidationReachesEveryCoreHoldingTheLine) {
    RecordingMemory mem;
    CacheHierarchy h(smallLlc(2), mem);
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(0), 8), kL1 + kLlc + kFill, Level::Memory);
    EXPECT_ACCESS(h.access(1, Kind::Load, lineAt(0), 8), kL1 + kLlc, Level::Llc);
    EXPECT_EQ(h.directory(lineAt(0)).sharers, 0b11u);
    h.access(0, Kind::Load, lineAt(1), 8);
    h.access(0, Kind::Load, lineAt(2), 8); // the LLC's LRU line is 0 (used at core 1's read)
    EXPECT_EQ(h.coherence.back_invalidations, 2u);
    EXPECT_EQ(h.state(0, lineAt(0)), Mesi::Invalid);
    EXPECT_EQ(h.state(1, lineAt(0)), Mesi::Invalid);
    EXPECT_TRUE(mem.writebacks.empty());
}

// ---------------------------------------------------------------------------------------------
// MESI between two cores (three levels each)

TEST(CacheHierarchy, MesiTransitionsAndTheirCycles) {
    RecordingMemory mem;
    CacheHierarchy h(threeLevels(2), mem);
    const Addr x = lineAt(64);
    const Cycles llc = kL1 + kL2 + kLlc;
    // I -> E: no other copy.
    EXPECT_ACCESS(h.access(0, Kind::Load, x, 8), kMiss, Level::Memory);
    EXPECT_EQ(h.state(0, x), Mesi::Exclusive);
    EXPECT_EQ(h.directory(x).sharers, 0b01u);
    EXPECT_EQ(h.directory(x).owner, 0);
    // E -> S at core 0, I -> S at core 1: clean data from the LLC, no transfer.
    EXPECT_ACCESS(h.access(1, Kind::Load, x, 8), llc, Level::Llc);
    EXPECT_EQ(h.state(0, x), Mesi::Shared);
    EXPECT_EQ(h.state(1, x), Mesi::Shared);
    EXPECT_EQ(h.directory(x).sharers, 0b11u);
    EXPECT_EQ(h.directory(x).owner, DirectoryEntry::kNoOwner);
    // S -> M (upgrade, a miss at L1D and L2) invalidates core 1's copy.
    EXPECT_ACCESS(h.access(0, Kind::Store, x, 8), llc, Level::Llc);
    EXPECT_EQ(h.state(0, x), Mesi::Modified);
    EXPECT_EQ(h.state(1, x), Mesi::Invalid);
    EXPECT_EQ(h.coherence.invalidations, 1u);
    EXPECT_EQ(h.coherence.transfers, 0u);
    // Core 1 reads the Modified line: a transfer, a coherence miss at its L1D and L2; M -> S,
    // the dirty data goes to the LLC.
    const CacheAccessResult read = h.access(1, Kind::Load, x, 8);
    EXPECT_ACCESS(read, llc + kTransfer, Level::Remote);
    EXPECT_TRUE(read.coherence_miss);
    EXPECT_EQ(h.coherence.transfers, 1u);
    EXPECT_EQ(h.state(0, x), Mesi::Shared);
    EXPECT_EQ(h.state(1, x), Mesi::Shared);
    EXPECT_FALSE(h.l1d(0).probe(x / 64)->dirty);
    EXPECT_TRUE(h.llc().probe(x / 64)->dirty);
    // S -> M at core 1; core 0's S copy is invalidated.
    EXPECT_ACCESS(h.access(1, Kind::Store, x, 8), llc, Level::Llc);
    EXPECT_EQ(h.coherence.invalidations, 2u);
    // An atomic at core 0 takes the Modified line from core 1: transfer and invalidation.
    const CacheAccessResult rmw = h.access(0, Kind::Atomic, x, 8);
    EXPECT_ACCESS(rmw, llc + kTransfer, Level::Remote);
    EXPECT_TRUE(rmw.coherence_miss);
    EXPECT_EQ(h.coherence.transfers, 2u);
    EXPECT_EQ(h.coherence.invalidations, 3u);
    EXPECT_EQ(h.state(0, x), Mesi::Modified);
    EXPECT_EQ(h.state(1, x), Mesi::Invalid);
    EXPECT_EQ(h.directory(x).owner, 0);
    // M hits.
    EXPECT_ACCESS(h.access(0, Kind::Load, x, 8), kL1, Level::L1d);
    EXPECT_ACCESS(h.access(0, Kind::Store, x, 8), kL1, Level::L1d);
    expectCounters(h.l1d(0), 5, 2, 3, 1, 0);
    expectCounters(h.l1d(1), 3, 0, 3, 1, 0);
    expectCounters(h.l2(1), 3, 0, 3, 1, 0);
    EXPECT_EQ(mem.fills, std::vector<Addr>{x});
    EXPECT_TRUE(mem.writebacks.empty());
}

// A store that overwrites whole lines (clear_page, copy_page's destination) needs none of their
// old data: a miss everywhere fills nothing from memory, a line Modified at another core is taken
// without a transfer (its copy invalidated), and only the partly written edge lines are filled.
TEST(CacheHierarchy, WholeLineStoresFetchNothing) {
    RecordingMemory mem;
    CacheHierarchy h(threeLevels(2), mem);
    const Cycles llc = kL1 + kL2 + kLlc;
    const Addr x = lineAt(64);
    EXPECT_ACCESS(h.access(0, Kind::Store, x, 128), 2 * llc, Level::Llc);
    EXPECT_TRUE(mem.fills.empty());
    EXPECT_EQ(h.state(0, x), Mesi::Modified);
    EXPECT_EQ(h.state(0, x + 64), Mesi::Modified);
    // Core 1 overwrites core 0's Modified line whole: no transfer, one invalidation.
    EXPECT_ACCESS(h.access(1, Kind::Store, x, 64), llc, Level::Llc);
    EXPECT_EQ(h.coherence.transfers, 0u);
    EXPECT_EQ(h.coherence.invalidations, 1u);
    EXPECT_EQ(h.state(0, x), Mesi::Invalid);
    EXPECT_EQ(h.state(1, x), Mesi::Modified);
    // 128 bytes from the middle of a line: the two edge lines are filled, the whole one is not.
    const Addr y = lineAt(96);
    EXPECT_ACCESS(h.access(0, Kind::Store, y + 32, 128), kMiss + llc + kMiss, Level::Memory);
    EXPECT_EQ(mem.fills, (std::vector<Addr>{y, y + 128}));
    // A load of whole lines still fills them.
    EXPECT_ACCESS(h.access(0, Kind::Load, lineAt(128), 64), kMiss, Level::Memory);
}

TEST(CacheHierarchy, WriteInvalidatesEverySharer) {
    RecordingMemory mem;
    CacheHierarchy h(threeLevels(3), mem);
    const Addr x = lineAt(72);
    const Cycles llc = kL1 + kL2 + kLlc;
    EXPECT_ACCESS(h.access(0, Kind::Load, x, 8), kMiss, Level::Memory);
    EXPECT_ACCESS(h.access(1, Kind::Load, x, 8), llc, Level::Llc);
    EXPECT_ACCESS(h.access(2, Kind::Load, x, 8), llc, Level::Llc);
    EXPECT_EQ(h.directory(x).sharers, 0b111u);
    EXPECT_ACCESS(h.access(2, Kind::Store, x, 8), llc, Level::Llc);
    EXPECT_EQ(h.coherence.invalidations, 2u) << "one per core that lost its copy";
    EXPECT_EQ(h.state(0, x), Mesi::Invalid);
    EXPECT_EQ(h.state(1, x), Mesi::Invalid);
    EXPECT_EQ(h.directory(x).sharers, 0b100u);
    EXPECT_EQ(h.directory(x).owner, 2);
    EXPECT_ACCESS(h.access(0, Kind::Load, x, 8), llc + kTransfer, Level::Remote);
    EXPECT_EQ(h.state(2, x), Mesi::Shared);
    EXPECT_EQ(h.state(1, x), Mesi::Invalid);
    EXPECT_EQ(h.directory(x).sharers, 0b101u);
    EXPECT_EQ(h.coherence.transfers, 1u);
}

TEST(CacheHierarchy, ExclusiveToModifiedIsSilent) {
    RecordingMemory mem;
    CacheHierarchy h(threeLevels(2), mem);
    const Addr y = lineAt(80);
    EXPECT_ACCESS(h.access(1, Kind::Load, y, 8), kMiss, Level::Memory);
    EXPECT_ACCESS(h.access(1, Kind::Store, y, 8), kL1, Level::L1d);
    EXPECT_EQ(h.state(1, y), Mesi::Modified);
    EXPECT_EQ(h.coherence.invalidations, 0u);
    EXPECT_EQ(h.llc().counters.accesses, 1u) << "the directory is not asked";
    // I -> M by a write miss with no other copy.
    EXPECT_ACCESS(h.access(0, Kind::Store, lineAt(81), 8), kMiss, Level::Memory);
    EXPECT_EQ(h.state(0, lineAt(81)), Mesi::Modified);
}

TEST(CacheHierarchy, FetchesUseTheL1iAndSeeCodeWrittenByAnotherCore) {
    RecordingMemory mem;
    CacheHierarchyConfig c = threeLevels(2);
    c.l1i = level(256, 2, kL1i);
    CacheHierarchy h(c, mem);
    const Addr code = lineAt(96);
    EXPECT_ACCESS(h.access(0, Kind::Fetch, code, 4), kL1i + kL2 + kLlc + kFill, Level::Memory);
    EXPECT_ACCESS(h.access(0, Kind::Fetch, code, 4), kL1i, Level::L1i);
    EXPECT_ACCESS(h.access(1, Kind::Store, code, 4), kL1 + kL2 + kLlc, Level::Llc);
    EXPECT_EQ(h.coherence.invalidations, 1u) << "core 0 held it Exclusive: clean, no transfer";
    const CacheAccessResult refetch = h.access(0, Kind::Fetch, code, 4);
    EXPECT_ACCESS(refetch, kL1i + kL2 + kLlc + kTransfer, Level::Remote);
    EXPECT_TRUE(refetch.coherence_miss);
    // The L1D never held the line: its miss is not a coherence miss; the L2 has it (Shared).
    const CacheAccessResult load = h.access(0, Kind::Load, code, 4);
    EXPECT_ACCESS(load, kL1 + kL2, Level::L2);
    EXPECT_FALSE(load.coherence_miss);
    expectCounters(h.l1i(0), 3, 1, 2, 1, 0);
    expectCounters(h.l1d(0), 1, 0, 1, 0, 0);
    expectCounters(h.l2(0), 3, 1, 2, 1, 0);
}

// ---------------------------------------------------------------------------------------------
// Straddling accesses, absent levels, entry levels

TEST(CacheHierarchy, StraddlingAccessTouchesEachLine) {
    RecordingMemory mem;
    CacheHierarchy h(threeLevels(1), mem);
    EXPECT_ACCESS(h.access(0, Kind::Load, 0x3c, 8), 2 * kMiss, Level::Memory); // lines 0, 1
    EXPECT_EQ(h.l1d(0).counters.accesses, 2u);
    EXPECT_ACCESS(h.access(0, Kind::Load, 0x3c, 8), 2 * kL1, Level::L1d);
    // Lines 1 (held Exclusive: a hit) and 2 (a miss): the farthest level is reported.
    EXPECT_ACCESS(h.access(0, Kind::Store, 0x7e, 4), kL1 + kMiss, Level::Memory);
    EXPECT_EQ(h.state(0, lineAt(1)), Mesi::Modified);
    EXPECT_EQ(h.state(0, lineAt(2)), Mesi::Modified);
    expectCounters(h.l1d(0), 6, 3, 3, 0, 0);
    EXPECT_EQ(mem.fills, (std::vector<Addr>{lineAt(0), lineAt(1), lineAt(2)}));
}

TEST(CacheHierarchy, AbsentL2) {
    RecordingMemory mem;
    CacheHierarchyConfig c = threeLevels(1);
    c.l2.size = 0;
    CacheHierarchy h(c, mem);
    EXPECT_ACCESS(h.access(0, Kind::Load, 0, 8), kL1 + kLlc + kFill, Level::Memory);
    EXPECT_ACCESS(h.access(0, Kind::Load, 0, 8), kL1, Level::L1d);
    EXPECT_EQ(h.l2(0).counters.accesses, 0u);
}

TEST(CacheHierarchy, AbsentL1dStoresInTheL2) {
    RecordingMemory mem;
    CacheHierarchyConfig c = threeLevels(1);
    c.l1d.size = 0;
    CacheHierarchy h(c, mem);
    EXPECT_ACCESS(h.access(0, Kind::Store, 0, 8), kL2 + kLlc + kFill, Level::Memory);
    EXPECT_ACCESS(h.access(0, Kind::Load, 0, 8), kL2, Level::L2);
    EXPECT_TRUE(h.l2(0).probe(0)->dirty);
}

TEST(CacheHierarchy, NoLlcKeepsCoherenceInASnoopFilter) {
    RecordingMemory mem;
    CacheHierarchyConfig c = threeLevels(2);
    c.llc.size = 0;
    CacheHierarchy h(c, mem);
    const Addr x = lineAt(5);
    EXPECT_ACCESS(h.access(0, Kind::Store, x, 8), kL1 + kL2 + kFill, Level::Memory);
    // A transfer; without an LLC, core 0's dirty data goes to memory as it becomes Shared.
    EXPECT_ACCESS(h.access(1, Kind::Load, x, 8), kL1 + kL2 + kTransfer + kWb, Level::Remote);
    EXPECT_EQ(h.directory(x).sharers, 0b11u);
    EXPECT_EQ(mem.writebacks, std::vector<Addr>{x});
    // An upgrade needs no data: only the private lookups.
    EXPECT_ACCESS(h.access(0, Kind::Store, x, 8), kL1 + kL2, Level::L2);
    EXPECT_EQ(h.coherence.invalidations, 1u);
    EXPECT_EQ(h.directory(x).sharers, 0b01u);
    EXPECT_EQ(mem.fills, std::vector<Addr>{x});
}

TEST(CacheHierarchy, NoCacheAtAllIsMemory) {
    RecordingMemory mem;
    CacheHierarchyConfig c;
    CacheHierarchy h(c, mem);
    EXPECT_ACCESS(h.access(0, Kind::Load, 0x1000, 8), kFill, Level::Memory);
    EXPECT_ACCESS(h.access(0, Kind::Store, 0x1000, 8), kWb, Level::Memory);
    EXPECT_EQ(h.directory(0x1000).sharers, 0u);
}

TEST(CacheHierarchy, EntryLevelsSkipTheNearerCaches) {
    RecordingMemory mem;
    CacheHierarchy h(threeLevels(1), mem);
    const Addr x = lineAt(3), y = lineAt(6), z = lineAt(9);
    EXPECT_ACCESS(h.access(0, Kind::Load, x, 8, CacheEntry::L2), kL2 + kLlc + kFill, Level::Memory);
    EXPECT_ACCESS(h.access(0, Kind::Load, x, 8, CacheEntry::L2), kL2, Level::L2);
    EXPECT_EQ(h.l1d(0).counters.accesses, 0u);
    EXPECT_ACCESS(h.access(0, Kind::Load, x, 8), kL1 + kL2, Level::L2);
    // LLC entry: nothing is allocated privately.
    EXPECT_ACCESS(h.access(0, Kind::Load, y, 8, CacheEntry::Llc), kLlc + kFill, Level::Memory);
    EXPECT_ACCESS(h.access(0, Kind::Load, y, 8, CacheEntry::Llc), kLlc, Level::Llc);
    EXPECT_EQ(h.state(0, y), Mesi::Invalid);
    EXPECT_ACCESS(h.access(0, Kind::Store, y, 8, CacheEntry::Llc), kLlc, Level::Llc);
    EXPECT_TRUE(h.llc().probe(y / 64)->dirty);
    // A write at the LLC treats the core's own private copy as another core's.
    EXPECT_ACCESS(h.access(0, Kind::Store, x, 8, CacheEntry::Llc), kLlc, Level::Llc);
    EXPECT_EQ(h.state(0, x), Mesi::Invalid);
    EXPECT_EQ(h.coherence.invalidations, 1u);
    EXPECT_TRUE(h.access(0, Kind::Load, x, 8).coherence_miss);
    // Memory entry: no cache is looked up, changed or counted.
    const std::uint64_t llc_accesses = h.llc().counters.accesses;
    EXPECT_ACCESS(h.access(0, Kind::Load, z, 8, CacheEntry::Memory), kFill, Level::Memory);
    EXPECT_ACCESS(h.access(0, Kind::Store, z, 8, CacheEntry::Memory), kWb, Level::Memory);
    EXPECT_EQ(h.llc().counters.accesses, llc_accesses);
    EXPECT_EQ(h.llc().probe(z / 64), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Invariants under a random mix of every kind and entry level from four cores on tiny caches
// (the LLC holds a third of the lines used, so it evicts and back-invalidates all the time).

struct InvariantChecker {
    CacheHierarchy& h;
    unsigned lines;

    void check(unsigned step) {
        for (unsigned n = 0; n < lines; ++n)
            checkLine(lineAt(n), step);
    }
    void checkLine(Addr pa, unsigned step) {
        const Addr line = pa / 64;
        std::uint64_t holders = 0;
        int owner = DirectoryEntry::kNoOwner;
        for (unsigned c = 0; c < h.cores(); ++c) {
            const Mesi state = h.state(c, pa);
            for (Cache* level : {&h.l1i(c), &h.l1d(c), &h.l2(c)}) {
                const CacheLine* copy = level->probe(line);
                if (!copy) continue;
                holders |= std::uint64_t{1} << c;
                EXPECT_EQ(copy->state, state) << "step " << step << " core " << c;
                EXPECT_TRUE(!copy->dirty || state == Mesi::Modified) << "step " << step;
                EXPECT_NE(h.l2(c).probe(line), nullptr) << "L1 copy not in the L2, step " << step;
                EXPECT_NE(h.llc().probe(line), nullptr) << "private copy not in the LLC";
            }
            if (state == Mesi::Exclusive || state == Mesi::Modified) {
                EXPECT_EQ(owner, DirectoryEntry::kNoOwner) << "two owners, step " << step;
                owner = static_cast<int>(c);
            }
        }
        if (owner != DirectoryEntry::kNoOwner) {
            EXPECT_EQ(holders, std::uint64_t{1} << owner) << "an owner shares, step " << step;
        }
        EXPECT_EQ(h.directory(pa).sharers, holders) << "line " << line << " step " << step;
        EXPECT_EQ(h.directory(pa).owner, owner) << "line " << line << " step " << step;
    }
};

TEST(CacheHierarchy, RandomMixKeepsInclusionAndTheDirectoryExact) {
    RecordingMemory mem;
    CacheHierarchyConfig c;
    c.cores = 4;
    c.l1i = level(128, 2, kL1i);
    c.l1d = level(256, 2, kL1);
    c.l2 = level(512, 2, kL2, Replacement::Plru);
    c.llc = level(1024, 4, kLlc, Replacement::Random);
    c.transfer_cycles = kTransfer;
    CacheHierarchy h(c, mem);
    InvariantChecker checker{h, 48};
    std::mt19937 rng(17);
    const Kind kinds[] = {Kind::Fetch, Kind::Load, Kind::Store, Kind::Atomic};
    const CacheEntry entries[] = {CacheEntry::L1, CacheEntry::L1, CacheEntry::L1, CacheEntry::L2,
                                  CacheEntry::Llc};
    for (unsigned step = 0; step < 20000 && !testing::Test::HasFailure(); ++step) {
        const unsigned core = rng() % 4;
        const Addr pa = lineAt(rng() % checker.lines) + (rng() % 2 ? 60 : 0); // 60: straddles
        h.access(core, kinds[rng() % 4], pa, 8, entries[rng() % 5]);
        checker.check(step);
    }
    EXPECT_GT(h.coherence.back_invalidations, 0u);
    EXPECT_GT(h.coherence.transfers, 0u);
    EXPECT_GT(h.coherence.invalidations, 0u);
    EXPECT_GT(h.llc().counters.writebacks, 0u);
    for (unsigned core = 0; core < 4; ++core) {
        const Cache::Counters& l1d = h.l1d(core).counters;
        EXPECT_EQ(l1d.hits + l1d.misses, l1d.accesses);
        EXPECT_GT(l1d.coherence_misses, 0u);
    }
}

} // namespace
} // namespace tlmmu
