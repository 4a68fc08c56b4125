// Mmu (models/mmu) as the platform wires it: L1 ITLB / L1 DTLB -> L2 TLB -> PageWalker with its
// page-walk cache, PTE reads over an interconnect to memory. The TLB contents are observed
// through the Mmu's own interfaces: a translation's tlb_cycles/walk_cycles and the statistics.
#include <gtest/gtest.h>
#include <systemc>
#include <tlm>

#include "interconnect/Interconnect.h"
#include "memory/Memory.h"
#include "mmu/Mmu.h"
#include "systemc/MmuTestUtil.h"
#include "systemc/ScTest.h"
#include "systemc/TlmTestUtil.h"

namespace tlmmu::test {
namespace {

using MmuTest = ScTest;

constexpr unsigned kIc = 5, kMem = 100, kAccess = kIc + kMem; // one PTE access
constexpr unsigned kL1 = 1, kL2 = 6;                          // TLB lookup latencies
constexpr unsigned kRwxuAd = PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_U | PTE_F_A | PTE_F_D;
constexpr Addr kData = 0x4000'0000; // data frames (never accessed: the Mmu translates only)

MmuConfig config(unsigned pwc_entries = 0, bool software_refill = false) {
    MmuConfig c;
    c.l1i = tlbLevel("l1i", 4, 4, kL1);
    c.l1d = tlbLevel("l1d", 4, 4, kL1);
    c.l2 = tlbLevel("l2", 64, 4, kL2);
    c.pwc = PwcConfig{pwc_entries, 0};
    c.software_refill = software_refill;
    return c;
}

// port -> mmu.translate_socket, remote -> mmu.invalidate_socket (as the invalidation controller
// is wired); mmu.walker -> ic (5 cycles) -> 1 GiB memory at 0 (100 cycles); sv39 tables.
struct Bench {
    Clock clock{1.0};
    PteFormat format = PteFormat::fromName("sv39");
    MemoryConfig mc{std::uint64_t{1} << 30, kMem, 64};
    MmuPort port{"port"};
    MmuPort remote{"remote"};
    Interconnect ic{"ic", kIc, clock};
    Memory mem{"mem", mc, clock};
    Mmu mmu;
    PageTables tables{format, mem.storage(), 0x10'0000};
    Stats stats;
    explicit Bench(const MmuConfig& c = config()) : mmu("mmu", c, format, clock) {
        port.socket.bind(mmu.translate_socket);
        remote.socket.bind(mmu.invalidate_socket);
        mmu.walker.memory_socket.bind(ic.target_socket);
        ic.initiator_socket.bind(mem.target_socket);
        ic.map(0, mc.size, 0, "memory");
        mmu.registerStats(stats, "core");
    }
    std::uint64_t stat(const char* path) { return stats.toJson().at(Stats::pointer(path)); }
    Addr page(unsigned i) const { return 0x1000'0000 + Addr{i} * 4096; }
    void mapPages(unsigned n, unsigned flags = kRwxuAd) {
        for (unsigned i = 0; i < n; ++i)
            tables.map(page(i), kData + Addr{i} * 4096, 0, flags);
    }
    TranslationExtension translate(Addr va, AccessType access = AccessType::Read,
                                   Privilege priv = Privilege::User) {
        return port.translate(va, clock, nullptr, access, priv);
    }
};

TEST_F(MmuTest, MissWalksAndFillsThenL1Hits) {
    Bench b;
    b.mapPages(1);
    run([&] {
        b.port.setRoot(b.tables.root, 1, b.clock);
        Cycles cycles = 0;
        TranslationExtension e = b.port.translate(b.page(0) + 0x123, b.clock, &cycles);
        EXPECT_EQ(e.fault, FaultKind::None);
        EXPECT_EQ(e.pa, kData + 0x123);
        EXPECT_EQ(e.tlb_cycles, kL1 + kL2);     // both levels missed
        EXPECT_EQ(e.walk_cycles, 3u * kAccess); // sv39, no PWC: three PTE reads
        EXPECT_EQ(cycles, kL1 + kL2 + 3u * kAccess);
        e = b.port.translate(b.page(0) + 0x456, b.clock, &cycles);
        EXPECT_EQ(e.pa, kData + 0x456);
        EXPECT_EQ(cycles, kL1); // L1 DTLB hit
        EXPECT_EQ(b.stat("core.tlb.l1d.accesses"), 2u);
        EXPECT_EQ(b.stat("core.tlb.l1d.hits"), 1u);
        EXPECT_EQ(b.stat("core.tlb.l1d.misses"), 1u);
        EXPECT_EQ(b.stat("core.tlb.l2.accesses"), 1u);
        EXPECT_EQ(b.stat("core.tlb.l2.misses"), 1u);
        EXPECT_EQ(b.stat("core.walker.walks"), 1u);
        EXPECT_EQ(b.stat("core.tlb.l1i.accesses"), 0u);
    });
}

// A 4-entry L1 DTLB loses its least recently used page to the fifth; the L2 still has it.
TEST_F(MmuTest, L1EvictionFallsBackToL2WithoutAWalk) {
    Bench b;
    b.mapPages(5);
    run([&] {
        b.port.setRoot(b.tables.root, 1, b.clock);
        for (unsigned i = 0; i < 5; ++i)
            EXPECT_EQ(b.translate(b.page(i)).walk_cycles, 3u * kAccess);
        TranslationExtension e = b.translate(b.page(0));
        EXPECT_EQ(e.pa, kData);
        EXPECT_EQ(e.tlb_cycles, kL1 + kL2);
        EXPECT_EQ(e.walk_cycles, 0u);
        EXPECT_EQ(b.stat("core.tlb.l2.hits"), 1u);
        e = b.translate(b.page(0)); // refilled into L1 from L2
        EXPECT_EQ(e.tlb_cycles, kL1);
        EXPECT_EQ(b.stat("core.walker.walks"), 5u);
    });
}

TEST_F(MmuTest, FetchesUseTheL1iAndShareTheL2) {
    Bench b;
    b.mapPages(1);
    run([&] {
        b.port.setRoot(b.tables.root, 1, b.clock);
        EXPECT_EQ(b.translate(b.page(0)).walk_cycles, 3u * kAccess);
        TranslationExtension e = b.translate(b.page(0) + 8, AccessType::Execute);
        EXPECT_EQ(e.fault, FaultKind::None);
        EXPECT_EQ(e.tlb_cycles, kL1 + kL2); // L1I miss, L2 hit (filled by the data access)
        EXPECT_EQ(e.walk_cycles, 0u);
        EXPECT_EQ(b.translate(b.page(0) + 16, AccessType::Execute).tlb_cycles, kL1);
        EXPECT_EQ(b.stat("core.tlb.l1i.accesses"), 2u);
        EXPECT_EQ(b.stat("core.tlb.l1i.hits"), 1u);
        EXPECT_EQ(b.stat("core.tlb.l1d.accesses"), 1u);
    });
}

TEST_F(MmuTest, FaultsFillNothingAndPermissionsAreCheckedOnHits) {
    Bench b;
    b.tables.map(b.page(0), kData, 0, PTE_F_R | PTE_F_U | PTE_F_A); // read-only
    run([&] {
        b.port.setRoot(b.tables.root, 1, b.clock);
        TranslationExtension e = b.translate(b.page(1)); // not mapped
        EXPECT_EQ(e.fault, FaultKind::NotPresent);
        EXPECT_EQ(b.translate(b.page(1)).walk_cycles, 3u * kAccess); // nothing was cached
        EXPECT_EQ(b.translate(b.page(0)).fault, FaultKind::None);
        e = b.translate(b.page(0), AccessType::Write);
        EXPECT_EQ(e.fault, FaultKind::Permission);
        EXPECT_EQ(e.walk_cycles, 0u); // decided on the L1 hit
        EXPECT_EQ(b.translate(b.page(0), AccessType::Execute).fault, FaultKind::Permission);
        EXPECT_EQ(b.translate(b.page(0), AccessType::Read, Privilege::Supervisor).fault,
                  FaultKind::None);
        EXPECT_EQ(b.stat("core.walker.faults"), 2u); // the two NotPresent walks only
    });
}

// A store to a page cached clean walks again to set D (one more PTE access), then hits.
TEST_F(MmuTest, StoreToACleanEntryWalksToSetDirty) {
    Bench b;
    const Addr pte = b.tables.map(b.page(0), kData, 0, PTE_F_R | PTE_F_W | PTE_F_U | PTE_F_A);
    run([&] {
        b.port.setRoot(b.tables.root, 1, b.clock);
        EXPECT_EQ(b.translate(b.page(0)).walk_cycles, 3u * kAccess);
        TranslationExtension e = b.translate(b.page(0), AccessType::Write);
        EXPECT_EQ(e.fault, FaultKind::None);
        EXPECT_EQ(e.tlb_cycles, kL1);
        EXPECT_EQ(e.walk_cycles, 4u * kAccess); // three reads and the D write
        pte_decoded d{};
        pte_decode(&b.format.raw(), b.tables.load(pte), 0, &d, nullptr);
        EXPECT_TRUE(d.flags & PTE_F_D);
        e = b.translate(b.page(0), AccessType::Write);
        EXPECT_EQ(e.walk_cycles, 0u);
        EXPECT_EQ(e.tlb_cycles, kL1);
        EXPECT_EQ(b.stat("core.mmu.dirty_walks"), 1u);
    });
}

TEST_F(MmuTest, EntriesAreTaggedByAsidAndFlushedByKind) {
    Bench b;
    b.mapPages(2);
    b.tables.map(b.page(2), kData, 0, kRwxuAd | PTE_F_G); // a global page
    run([&] {
        auto walks = [&](Asid asid, unsigned i) {
            b.port.setRoot(b.tables.root, asid, b.clock);
            return b.translate(b.page(i)).walk_cycles != 0;
        };
        for (Asid a : {Asid{1}, Asid{2}})
            for (unsigned i = 0; i < 3; ++i)
                EXPECT_EQ(walks(a, i), a == 1 || i < 2) << "asid " << a << " page " << i;
        EXPECT_FALSE(walks(1, 0)); // both ASIDs' entries live side by side
        EXPECT_FALSE(walks(2, 0));
        b.port.invalidate(FlushKind::Asid, 0, 1, b.clock);
        EXPECT_TRUE(walks(1, 0));
        EXPECT_FALSE(walks(1, 2)); // global entries survive an ASID flush
        EXPECT_FALSE(walks(2, 1));
        b.port.invalidate(FlushKind::VaAsid, b.page(1), 2, b.clock);
        EXPECT_TRUE(walks(2, 1));
        EXPECT_FALSE(walks(2, 0));
        b.port.invalidate(FlushKind::Va, b.page(0), 0, b.clock); // every ASID
        EXPECT_TRUE(walks(1, 0));
        EXPECT_TRUE(walks(2, 0));
        b.port.invalidate(FlushKind::All, 0, 0, b.clock);
        EXPECT_TRUE(walks(1, 2)); // globals too
        EXPECT_EQ(b.stat("core.mmu.invalidations"), 4u);
    });
}

// The invalidate socket (used by the InvalidationController) has the local flush's effect,
// page-walk cache included.
TEST_F(MmuTest, InvalidateSocketFlushesTlbsAndPwc) {
    Bench b(config(16));
    b.mapPages(3);
    run([&] {
        b.port.setRoot(b.tables.root, 1, b.clock);
        EXPECT_EQ(b.translate(b.page(0)).walk_cycles, 3u * kAccess);
        EXPECT_EQ(b.translate(b.page(1)).walk_cycles, 1u * kAccess);       // PWC: the leaf only
        EXPECT_EQ(b.remote.invalidate(FlushKind::All, 0, 0, b.clock), 0u); // free by default
        EXPECT_EQ(b.translate(b.page(1)).walk_cycles, 3u * kAccess);       // TLBs and PWC forgot
        EXPECT_EQ(b.translate(b.page(2)).walk_cycles, 1u * kAccess);
        EXPECT_EQ(b.stat("core.mmu.invalidations"), 1u);
        EXPECT_EQ(b.stat("core.pwc.hits"), 2u);
        EXPECT_EQ(b.stat("core.pwc.misses"), 2u);
    });
}

// Applying an invalidation takes time (mmu.invalidate_page_cycles for one page, as x86's
// INVLPG; mmu.invalidate_asid_cycles for an ASID or everything), on either socket; free by
// default.
TEST_F(MmuTest, InvalidationsTakeTheirConfiguredTime) {
    MmuConfig c = config();
    c.invalidate_page_cycles = 230;
    c.invalidate_asid_cycles = 500;
    Bench b(c);
    run([&] {
        EXPECT_EQ(b.port.invalidate(FlushKind::Va, b.page(0), 0, b.clock), 230u);
        EXPECT_EQ(b.port.invalidate(FlushKind::VaAsid, b.page(0), 3, b.clock), 230u);
        EXPECT_EQ(b.remote.invalidate(FlushKind::VaAsid, b.page(0), 3, b.clock), 230u);
        EXPECT_EQ(b.port.invalidate(FlushKind::Asid, 0, 3, b.clock), 500u);
        EXPECT_EQ(b.remote.invalidate(FlushKind::All, 0, 0, b.clock), 500u);
        EXPECT_EQ(b.stat("core.mmu.invalidations"), 5u);
    });
}

TEST_F(MmuTest, SuperpageEntryCoversItsWholeRange) {
    Bench b(config(16));
    const Addr va = 0x4020'0000, pa = 0x0060'0000; // 2 MiB aligned
    b.tables.map(va, pa, 1, kRwxuAd);
    run([&] {
        b.port.setRoot(b.tables.root, 1, b.clock);
        TranslationExtension e = b.translate(va + 0x1234);
        EXPECT_EQ(e.pa, pa + 0x1234);
        EXPECT_EQ(e.walk_cycles, 2u * kAccess); // leaf at level 1
        e = b.translate(va + 0x1f'f000);
        EXPECT_EQ(e.pa, pa + 0x1f'f000);
        EXPECT_EQ(e.tlb_cycles, kL1); // the same L1 entry
        EXPECT_EQ(b.stat("core.walker.walks"), 1u);
        b.port.invalidate(FlushKind::Va, va + 0x10'0000, 0, b.clock); // any VA inside drops it
        e = b.translate(va);
        EXPECT_EQ(e.walk_cycles, 2u * kAccess);
    });
}

// An L1 DTLB of two arrays (4 KiB, latency 1; 2 MiB, latency 2): every lookup costs the slower
// array's latency, each page size hits in its own array, and a 1 GiB page, which no L1 array
// holds, is served by the L2 every time. Per-array statistics exist for that level only.
TEST_F(MmuTest, L1dOfTwoArraysCostsTheSlowerAndCountsPerArray) {
    MmuConfig c = config();
    c.l1d.arrays = {tlbArray({4096}, 4, 4, 1), tlbArray({2u << 20}, 2, 2, 2)};
    Bench b(c);
    b.mapPages(1);
    b.tables.map(0x4020'0000, 0x0060'0000, 1, kRwxuAd); // 2 MiB
    b.tables.map(0x8000'0000, 0x4000'0000, 2, kRwxuAd); // 1 GiB
    run([&] {
        b.port.setRoot(b.tables.root, 1, b.clock);
        for (Addr va : {b.page(0), Addr{0x4020'0000}, Addr{0x8000'0000}}) {
            TranslationExtension e = b.translate(va);
            EXPECT_EQ(e.tlb_cycles, 2 + kL2);
            EXPECT_TRUE(e.walked);
            e = b.translate(va + 8);
            EXPECT_FALSE(e.walked);
            EXPECT_EQ(e.tlb_cycles, va == 0x8000'0000 ? 2 + kL2 : 2); // 1 GiB: from the L2
        }
        EXPECT_EQ(b.stat("core.tlb.l1d.accesses"), 6u);
        EXPECT_EQ(b.stat("core.tlb.l1d.hits"), 2u);
        EXPECT_EQ(b.stat("core.tlb.l1d.misses"), 4u);
        EXPECT_EQ(b.stat("core.tlb.l1d.arrays[0].hits"), 1u);
        EXPECT_EQ(b.stat("core.tlb.l1d.arrays[1].hits"), 1u);
        EXPECT_EQ(b.stat("core.tlb.l1d.arrays[0].fills"), 1u);
        EXPECT_EQ(b.stat("core.tlb.l1d.arrays[1].fills"), 1u);
        // The walk's fill and the L2 hit's refill of the 1 GiB page.
        EXPECT_EQ(b.stat("core.tlb.l1d.uncacheable_fills"), 2u);
        EXPECT_EQ(b.stat("core.tlb.l2.hits"), 1u);
        const nlohmann::json j = b.stats.toJson();
        EXPECT_FALSE(j.contains(Stats::pointer("core.tlb.l2.arrays")));
        EXPECT_FALSE(j.contains(Stats::pointer("core.tlb.l1i.uncacheable_fills")));
    });
}

// The firmware's TlbWrite of a base page at va (to kData, all rights, ASID 1).
TranslationExtension tlbWrite(Addr va) {
    TranslationExtension w;
    w.op = TranslationExtension::Op::TlbWrite;
    w.va = va >> 12;
    w.ppn = kData >> 12;
    w.asid = 1;
    w.level = 0;
    w.flags = kRwxuAd | PTE_F_V;
    return w;
}

// mmu.tlb_refill: software: a miss in the last level traps (TlbMiss) without walking; the
// firmware's TlbWrite fills the L2, from which the retried access fills the L1.
TEST_F(MmuTest, SoftwareRefillTrapsAndTlbWriteFills) {
    Bench b(config(0, true));
    b.mapPages(1);
    run([&] {
        b.port.setRoot(b.tables.root, 1, b.clock);
        TranslationExtension e = b.translate(b.page(0));
        EXPECT_EQ(e.fault, FaultKind::TlbMiss);
        EXPECT_EQ(e.tlb_cycles, kL1 + kL2);
        EXPECT_EQ(e.walk_cycles, 0u);
        TranslationExtension w = tlbWrite(b.page(0));
        EXPECT_EQ(b.port.send(w, b.clock), 0u);
        e = b.translate(b.page(0) + 4);
        EXPECT_EQ(e.fault, FaultKind::None);
        EXPECT_EQ(e.pa, kData + 4);
        // The refill filled the L1 that trapped too, as the walker's fill would.
        EXPECT_EQ(e.tlb_cycles, kL1);
        EXPECT_EQ(b.translate(b.page(0)).tlb_cycles, kL1);
        // A refill that is not the one that trapped fills the last level only.
        TranslationExtension other = w;
        other.va = b.page(0) / 4096 + 1;
        EXPECT_EQ(b.port.send(other, b.clock), 0u);
        EXPECT_EQ(b.translate(b.page(0) + 4096).tlb_cycles, kL1 + kL2);
        EXPECT_EQ(b.stat("core.walker.walks"), 0u);
    });
}

// Without an L2 (tlb.l2.entries: 0) the refill fills the L1 that missed and no other, as the
// walker's fill does: the ITLB does not get the data page (it filled both L1s once).
TEST_F(MmuTest, SoftwareRefillWithoutL2FillsOnlyTheL1ThatMissed) {
    MmuConfig c = config(0, true);
    c.l2 = tlbLevel("l2", 0, 0, kL2);
    Bench b(c);
    b.mapPages(1);
    run([&] {
        b.port.setRoot(b.tables.root, 1, b.clock);
        TranslationExtension e = b.translate(b.page(0));
        EXPECT_EQ(e.fault, FaultKind::TlbMiss);
        EXPECT_EQ(e.tlb_cycles, kL1);
        TranslationExtension w = tlbWrite(b.page(0));
        EXPECT_EQ(b.port.send(w, b.clock), 0u);
        e = b.translate(b.page(0) + 4);
        EXPECT_EQ(e.fault, FaultKind::None);
        EXPECT_EQ(e.pa, kData + 4);
        EXPECT_EQ(b.translate(b.page(0), AccessType::Execute).fault, FaultKind::TlbMiss);
        EXPECT_EQ(b.stat("core.tlb.l1i.misses"), 1u);
        EXPECT_EQ(b.stat("core.tlb.l1d.misses"), 1u);
        EXPECT_EQ(b.stat("core.tlb.l1d.hits"), 1u);
    });
}

TEST_F(MmuTest, RequestsWithoutTheExtensionAreErrors) {
    Bench b;
    run([&] {
        tlm::tlm_generic_payload t;
        std::uint64_t v = 0;
        Initiator::prepare(t, tlm::TLM_READ_COMMAND, 0, &v, 8);
        sc_core::sc_time delay;
        b.port.socket->b_transport(t, delay);
        EXPECT_EQ(t.get_response_status(), tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_EQ(delay, sc_core::SC_ZERO_TIME);
        EXPECT_EQ(b.port.socket->transport_dbg(t), 0u);
        tlm::tlm_dmi dmi;
        EXPECT_FALSE(b.port.socket->get_direct_mem_ptr(t, dmi));
    });
}

} // namespace
} // namespace tlmmu::test
