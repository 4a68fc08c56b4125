// PageWalker (models/mmu): every PTE access is a timed transaction, so a walk costs exactly
// (PTE reads + A/D writes) x (interconnect + memory access) cycles; the page-walk cache skips
// the levels it knows, to the cycle. Tables are built in memory with the format's own encoder.
#include <gtest/gtest.h>
#include <systemc>
#include <tlm>

#include "interconnect/Interconnect.h"
#include "memory/Memory.h"
#include "mmu/PageWalker.h"
#include "systemc/ScTest.h"
#include "systemc/TlmTestUtil.h"

namespace tlmmu::test {
namespace {

constexpr unsigned kIcCycles = 5, kMemCycles = 100;
constexpr unsigned kAccess = kIcCycles + kMemCycles; // one PTE read or write (<= 64 bytes)
constexpr unsigned kRwxuAd = PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_U | PTE_F_A | PTE_F_D;
constexpr Addr kTablePool = 0x10'0000;

// walker.memory_socket -> ic (5 cycles) -> 1 GiB memory at PA 0 (100 cycles).
struct Bench {
    Clock clock{1.0};
    PteFormat format;
    MemoryConfig mc{std::uint64_t{1} << 30, kMemCycles, 64};
    Interconnect ic{"ic", kIcCycles, clock};
    Memory mem{"mem", mc, clock};
    PageWalker walker;
    PageTables tables;
    Stats stats;
    Bench(const char* format_name, unsigned pwc_entries)
        : format(PteFormat::fromName(format_name)),
          walker("walker", format, PwcConfig{pwc_entries, 0}, clock),
          tables(format, mem.storage(), kTablePool) {
        walker.memory_socket.bind(ic.target_socket);
        ic.initiator_socket.bind(mem.target_socket);
        ic.map(0, mc.size, 0, "memory");
        walker.registerStats(stats, "walker", "pwc");
    }
    WalkResult walk(Addr va, Cycles& cycles, AccessType access = AccessType::Read,
                    Privilege priv = Privilege::User) {
        WalkRequest r;
        r.va = va;
        r.asid = 1;
        r.access = access;
        r.priv = priv;
        r.root = tables.root;
        sc_core::sc_time delay = clock.cycles(3); // the annotation is added to
        const WalkResult result = walker.walk(r, delay);
        cycles = clock.toCycles(delay) - 3;
        return result;
    }
    std::uint64_t stat(const char* path) { return stats.toJson().at(Stats::pointer(path)); }
    unsigned top() const { return format.levels() - 1; }
    // A VA whose index is `i` at the top level and `j` at every level below.
    Addr va(unsigned i, unsigned j = 1) const {
        Addr v = Addr{i} << format.levelShift(top());
        for (unsigned l = 0; l < top(); ++l)
            v |= Addr{j} << format.levelShift(l);
        return v;
    }
};

class PageWalkerTest : public ScTest, public testing::WithParamInterface<const char*> {};

INSTANTIATE_TEST_SUITE_P(Formats, PageWalkerTest,
                         testing::Values("sv39", "sv48", "x86_64", "x86_32"),
                         [](const auto& info) { return std::string(info.param); });

// A leaf at level l is found after levels - l reads, each one interconnect + memory access.
TEST_P(PageWalkerTest, EachLevelCostsOneTimedReadWithoutPwc) {
    Bench b(GetParam(), 0);
    run([&] {
        unsigned walks = 0, reads = 0;
        Cycles total = 0;
        for (unsigned level = 0; level <= b.top(); ++level) {
            if (!b.format.leafAllowed(level)) continue;
            const Addr va = b.va(level + 1, 0);
            const Addr pa = Addr{level + 1} << b.format.levelShift(level);
            b.tables.map(va, pa, level, kRwxuAd);
            for (int twice = 0; twice < 2; ++twice) { // no cache: the same cost again
                Cycles cycles = 0;
                const WalkResult r = b.walk(va + 0x123, cycles);
                ASSERT_EQ(r.fault, FaultKind::None) << "level " << level;
                EXPECT_EQ(r.reads, b.format.levels() - level);
                EXPECT_EQ(r.writes, 0u);
                EXPECT_EQ(cycles, Cycles{kAccess} * (b.format.levels() - level))
                    << "level " << level;
                EXPECT_EQ(r.entry.level, level);
                EXPECT_EQ(r.entry.ppn, pa >> b.format.pageShift());
                EXPECT_EQ(r.entry.vpn, va >> b.format.pageShift());
                ++walks, reads += r.reads, total += cycles;
            }
        }
        EXPECT_GE(walks, 4u); // base pages and at least one superpage size
        EXPECT_EQ(b.stat("walker.walks"), walks);
        EXPECT_EQ(b.stat("walker.memory_reads"), reads);
        EXPECT_EQ(b.stat("walker.memory_writes"), 0u);
        EXPECT_EQ(b.stat("walker.cycles"), total);
        EXPECT_EQ(b.stat("walker.latency.count"), walks);
        EXPECT_EQ(b.stat("walker.latency.sum"), total);
        EXPECT_EQ(b.stat("pwc.hits") + b.stat("pwc.misses"), 0u);   // no cache, no lookups
        EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME); // annotated, not waited
    });
}

// Hardware A/D update: one more timed access (the PTE write) when A, or D for a store, is clear.
TEST_P(PageWalkerTest, AccessedAndDirtyWriteBackCostsOneAccess) {
    Bench b(GetParam(), 0);
    run([&] {
        const Addr va = b.va(1);
        const Addr pte = b.tables.map(va, 0x4000'0000, 0, PTE_F_R | PTE_F_W | PTE_F_U);
        const unsigned n = b.format.levels();
        Cycles cycles = 0;
        WalkResult r = b.walk(va, cycles);
        ASSERT_EQ(r.fault, FaultKind::None);
        EXPECT_EQ(r.writes, 1u);
        EXPECT_EQ(cycles, Cycles{kAccess} * (n + 1));
        pte_decoded d{};
        pte_decode(&b.format.raw(), b.tables.load(pte), 0, &d, nullptr);
        EXPECT_TRUE(d.flags & PTE_F_A);
        EXPECT_FALSE(d.flags & PTE_F_D);
        r = b.walk(va, cycles); // A set now: a plain walk
        EXPECT_EQ(r.writes, 0u);
        EXPECT_EQ(cycles, Cycles{kAccess} * n);
        r = b.walk(va, cycles, AccessType::Write); // sets D
        EXPECT_EQ(r.writes, 1u);
        EXPECT_EQ(cycles, Cycles{kAccess} * (n + 1));
        pte_decode(&b.format.raw(), b.tables.load(pte), 0, &d, nullptr);
        EXPECT_TRUE(d.flags & PTE_F_D);
        r = b.walk(va, cycles, AccessType::Write);
        EXPECT_EQ(cycles, Cycles{kAccess} * n);
        EXPECT_EQ(b.stat("walker.memory_writes"), 2u);
    });
}

// With the page-walk cache a walk starts below the deepest level it knows: a neighbouring page
// reads only its leaf, a page in another table of the same upper region reads two entries.
TEST_P(PageWalkerTest, PwcSkipsTheLevelsItKnowsToTheCycle) {
    Bench b(GetParam(), 16);
    run([&] {
        const unsigned n = b.format.levels();
        const Addr first = b.va(1, 1);
        const Addr neighbour = first + (Addr{1} << b.format.pageShift());     // same leaf table
        const Addr other_table = first + (Addr{1} << b.format.levelShift(1)); // same level-2 table
        for (Addr va : {first, neighbour, other_table, b.va(2, 1)})
            b.tables.map(va, 0x4000'0000, 0, kRwxuAd);
        Cycles cycles = 0;
        EXPECT_EQ(b.walk(first, cycles).reads, n);
        EXPECT_EQ(cycles, Cycles{kAccess} * n);
        EXPECT_EQ(b.stat("pwc.misses"), 1u);
        WalkResult r = b.walk(neighbour, cycles);
        EXPECT_EQ(r.fault, FaultKind::None);
        EXPECT_EQ(r.reads, 1u);
        EXPECT_EQ(cycles, Cycles{kAccess});
        EXPECT_EQ(b.stat("pwc.hits"), 1u);
        if (n > 2) {
            r = b.walk(other_table, cycles);
            EXPECT_EQ(r.fault, FaultKind::None);
            EXPECT_EQ(r.reads, 2u);
            EXPECT_EQ(cycles, Cycles{kAccess} * 2);
            EXPECT_EQ(b.stat("pwc.hits"), 2u);
        }
        const std::uint64_t hits = b.stat("pwc.hits");
        EXPECT_EQ(b.walk(b.va(2, 1), cycles).reads, n); // another top-level entry: a miss
        EXPECT_EQ(cycles, Cycles{kAccess} * n);
        EXPECT_EQ(b.stat("pwc.hits"), hits);
        b.walker.invalidate(FlushKind::All, 0, 0); // forgets everything: full walks again
        EXPECT_EQ(b.walk(neighbour, cycles).reads, n);
        EXPECT_EQ(cycles, Cycles{kAccess} * n);
        EXPECT_EQ(b.stat("walker.cycles"), b.stat("walker.memory_reads") * kAccess);
    });
}

// A superpage's walk fills the PWC above its leaf: another VA of the same huge page reads the
// leaf only.
TEST_P(PageWalkerTest, SuperpageWalkThroughPwcReadsOnlyTheLeaf) {
    Bench b(GetParam(), 16);
    run([&] {
        const unsigned n = b.format.levels();
        const unsigned level = 1; // 2 MiB / 4 MiB pages, allowed by every format here
        ASSERT_TRUE(b.format.leafAllowed(level));
        const Addr va = b.va(1, 0);
        const Addr pa = Addr{3} << b.format.levelShift(level);
        b.tables.map(va, pa, level, kRwxuAd);
        Cycles cycles = 0;
        EXPECT_EQ(b.walk(va, cycles).reads, n - level);
        EXPECT_EQ(cycles, Cycles{kAccess} * (n - level));
        const Addr inside = va + (Addr{1} << b.format.levelShift(level)) - 8;
        const WalkResult r = b.walk(inside, cycles);
        ASSERT_EQ(r.fault, FaultKind::None);
        EXPECT_EQ(r.entry.level, level);
        EXPECT_EQ(r.entry.ppn, pa >> b.format.pageShift());
        if (n - level > 1) {
            EXPECT_EQ(r.reads, 1u);
            EXPECT_EQ(cycles, Cycles{kAccess});
        } else { // two levels: the leaf is in the root, nothing to skip
            EXPECT_EQ(r.reads, 1u);
        }
    });
}

TEST_P(PageWalkerTest, FaultsCostTheReadsUpToTheFault) {
    Bench b(GetParam(), 0);
    run([&] {
        const unsigned n = b.format.levels();
        b.tables.map(b.va(1, 1), 0x4000'0000, 0, kRwxuAd);
        Cycles cycles = 0;
        // A neighbouring leaf slot that is empty: every level read, then NotPresent.
        WalkResult r = b.walk(b.va(1, 1) + (Addr{1} << b.format.pageShift()), cycles);
        EXPECT_EQ(r.fault, FaultKind::NotPresent);
        EXPECT_EQ(r.fault_level, 0);
        EXPECT_EQ(r.reads, n);
        EXPECT_EQ(cycles, Cycles{kAccess} * n);
        // An empty top-level entry: one read.
        r = b.walk(b.va(3, 1), cycles);
        EXPECT_EQ(r.fault, FaultKind::NotPresent);
        EXPECT_EQ(r.fault_level, static_cast<int>(n - 1));
        EXPECT_EQ(r.reads, 1u);
        EXPECT_EQ(cycles, Cycles{kAccess});
        // A supervisor access is fine, a user access to a supervisor page is not.
        b.tables.map(b.va(1, 3), 0x4000'0000, 0, PTE_F_R | PTE_F_A);
        EXPECT_EQ(b.walk(b.va(1, 3), cycles, AccessType::Read, Privilege::User).fault,
                  FaultKind::Permission);
        EXPECT_EQ(cycles, Cycles{kAccess} * n);
        EXPECT_EQ(b.walk(b.va(1, 3), cycles, AccessType::Read, Privilege::Supervisor).fault,
                  FaultKind::None);
        EXPECT_EQ(b.stat("walker.faults"), 3u);
    });
}

TEST_P(PageWalkerTest, RootOutsideMemoryIsABusErrorAfterOneHop) {
    Bench b(GetParam(), 0);
    run([&] {
        WalkRequest req;
        req.va = b.va(1);
        req.root = b.mc.size; // nothing mapped there on the interconnect
        sc_core::sc_time delay;
        const WalkResult r = b.walker.walk(req, delay);
        EXPECT_EQ(r.fault, FaultKind::BusError);
        EXPECT_EQ(b.clock.toCycles(delay), kIcCycles); // the interconnect's hop, no memory time
        EXPECT_EQ(b.stat("walker.faults"), 1u);
    });
}

} // namespace
} // namespace tlmmu::test
