// tlb.c: the one TLB-maintenance entry point. A change of a translation is flushed on the
// calling core and, through hal_tlb_invalidate_core, on every other core of the address space's
// cpu_mask; the gather frees frames only after every flush. Threads of one process on several
// cores.
#include <gtest/gtest.h>

#include "mm_fixture.h"

namespace fwtest {
namespace {

using tlmmu::test::caseName;

class TlbTest : public MmTest {
  protected:
    // One process with a task on each of cores 0..2 (core 3 runs nothing of it), all switched
    // in; 8 pages written.
    void bootThreads(unsigned asid_bits = 8) {
        Boot b;
        b.cores = 4;
        b.asid_bits = asid_bits;
        boot(b);
        p = create(0);
        t[0] = tidOf(p);
        t[1] = thread(p, 1);
        t[2] = thread(p, 2);
        for (unsigned c = 0; c < 3; ++c)
            ASSERT_EQ(fw_switch_to(k, c, t[c]), FW_OK);
        other = create(3);
        ASSERT_EQ(switchTo(other, 3), FW_OK);
        EXPECT_EQ(fw_process_cpu_mask(k, p), 0x7u);
        EXPECT_EQ(fw_process_cpu_mask(k, other), 0x8u);
        ASSERT_EQ(map(p, kData, 64 * kPage, kRW), FW_OK);
        for (std::uint64_t i = 0; i < 8; ++i)
            write64(p, kData + i * kPage, 0x100 + i);
        hal().invalidations.clear();
        hal().remote_invalidations.clear();
    }

    // The remote invalidations sent to `core`.
    std::vector<fakehal::Invalidation> remoteTo(unsigned core) const {
        std::vector<fakehal::Invalidation> v;
        for (const auto& r : hal().remote_invalidations)
            if (r.first == core) v.push_back(r.second);
        return v;
    }

    int p = 0, other = 0;
    int t[3] = {};
};

INSTANTIATE_TEST_SUITE_P(Formats, TlbTest, testing::ValuesIn(kSmallFormats), caseName);

TEST_P(TlbTest, UnmapFlushesEveryCoreOfTheMaskAndFreesTheFramesAfterward) {
    bootThreads();
    const hal_paddr_t f2 = frameOf(p, kData + 2 * kPage), f3 = frameOf(p, kData + 3 * kPage);
    const hal_paddr_t pte2 = [&] {
        std::uint64_t raw = 0;
        unsigned level = 0;
        hal_paddr_t pa = 0;
        EXPECT_EQ(pt_lookup(k, fw_process_root(k, p), kData + 2 * kPage, &raw, &level, &pa), FW_OK);
        return pa;
    }();
    // At every invalidation, local or remote, the frames are still allocated.
    unsigned checks = 0;
    hal().on_invalidate = [&] {
        EXPECT_EQ(frame_refcount(frames, f2), 1u);
        EXPECT_EQ(frame_refcount(frames, f3), 1u);
        ++checks;
    };
    hal().record_events = true;
    ASSERT_EQ(fw_vma_unmap(k, 1, p, kData + 2 * kPage, 2 * kPage), FW_OK); // run on core 1
    hal().on_invalidate = nullptr;
    EXPECT_EQ(frame_refcount(frames, f2), 0u);
    EXPECT_EQ(frame_refcount(frames, f3), 0u);
    // Core 1 (the caller) flushes locally, cores 0 and 2 by directed invalidation, core 3 (runs
    // another process) not at all; each under the ASID the process has there.
    ASSERT_EQ(hal().invalidations.size(), 2u);
    for (unsigned i = 0; i < 2; ++i) {
        EXPECT_EQ(hal().invalidations[i].kind, HAL_FLUSH_VA_ASID);
        EXPECT_EQ(hal().invalidations[i].va, kData + (2 + i) * kPage);
        EXPECT_EQ(hal().invalidations[i].asid, fw_process_asid(k, p, 1));
    }
    for (unsigned c : {0u, 2u}) {
        const auto r = remoteTo(c);
        ASSERT_EQ(r.size(), 2u) << c;
        for (unsigned i = 0; i < 2; ++i) {
            EXPECT_EQ(r[i].kind, HAL_FLUSH_VA_ASID);
            EXPECT_EQ(r[i].va, kData + (2 + i) * kPage);
            EXPECT_EQ(r[i].asid, fw_process_asid(k, p, c));
        }
    }
    EXPECT_TRUE(remoteTo(3).empty());
    EXPECT_EQ(checks, 6u);
    // Order: the PTE is cleared before the first invalidation; local before remote.
    std::size_t pte_cleared = 0, first_local = 0, first_remote = 0;
    for (std::size_t i = 0; i < hal().events.size(); ++i) {
        const HalEvent& e = hal().events[i];
        if (e.kind == HalEvent::Write && e.addr == pte2 && e.value == 0 && !pte_cleared)
            pte_cleared = i + 1;
        if (e.kind == HalEvent::Invalidate && !first_local) first_local = i + 1;
        if (e.kind == HalEvent::InvalidateCore && !first_remote) first_remote = i + 1;
    }
    ASSERT_NE(pte_cleared, 0u);
    EXPECT_LT(pte_cleared, first_local);
    EXPECT_LT(first_local, first_remote);
    EXPECT_EQ(fw_kernel_stats(k)->flush_remote, 4u);
    EXPECT_EQ(fw_kernel_stats(k)->flush_pages, 6u);
}

TEST_P(TlbTest, ThreadsOnTwoCoresSeeOneAddressSpace) {
    bootThreads();
    // A write by the thread on core 2 is seen by the thread on core 0, without a fault.
    hal_paddr_t pa = 0;
    EXPECT_EQ(accessBy(p, t[2], kData + 20 * kPage, AccessType::Write, &pa, 2),
              FW_FAULT_CLASS_DEMAND_ZERO);
    hal_write_phys(pa, 0xBEEF, 8);
    hal_paddr_t pa0 = 0;
    EXPECT_EQ(accessBy(p, t[0], kData + 20 * kPage, AccessType::Read, &pa0, 0),
              FW_FAULT_CLASS_NONE);
    EXPECT_EQ(pa0, pa);
    EXPECT_EQ(fw_process_tasks(k, p), 3u);
    EXPECT_EQ(fw_task_pid(k, t[1]), p);
    EXPECT_EQ(fw_task_core(k, t[2]), 2);
    // Discard by the thread on core 0 flushes cores 1 and 2.
    ASSERT_EQ(fw_vma_discard(k, 0, p, kData + 20 * kPage, kPage), FW_OK);
    EXPECT_EQ(remoteTo(1).size(), 1u);
    EXPECT_EQ(remoteTo(2).size(), 1u);
    EXPECT_EQ(hal().invalidations.size(), 1u);
    // Protect by core 2: cores 0 and 1.
    hal().remote_invalidations.clear();
    ASSERT_EQ(fw_vma_protect(k, 2, p, kData, kPage, FW_PROT_R), FW_OK);
    EXPECT_EQ(remoteTo(0).size(), 1u);
    EXPECT_EQ(remoteTo(1).size(), 1u);
    EXPECT_TRUE(remoteTo(2).empty());
}

TEST_P(TlbTest, ACowBreakInAThreadedProcessFlushesTheOtherCores) {
    bootThreads();
    const int c = fork(p, 3, 0); // parent's PTEs become read-only: flushed on cores 0..2
    for (unsigned core : {1u, 2u}) {
        const auto r = remoteTo(core);
        ASSERT_EQ(r.size(), 1u);
        EXPECT_EQ(r[0].kind, HAL_FLUSH_ASID);
        EXPECT_EQ(r[0].asid, fw_process_asid(k, p, core));
    }
    hal().remote_invalidations.clear();
    hal().invalidations.clear();
    // The thread on core 1 writes: the copy replaces a translation cores 0 and 2 may hold.
    const hal_paddr_t old = frameOf(p, kData);
    hal().on_invalidate = [&] { EXPECT_EQ(frame_refcount(frames, old), 2u); };
    EXPECT_EQ(accessBy(p, t[1], kData, AccessType::Write, nullptr, 1), FW_FAULT_CLASS_COW);
    hal().on_invalidate = nullptr;
    EXPECT_EQ(frame_refcount(frames, old), 1u); // the child's now
    EXPECT_EQ(remoteTo(0).size(), 1u);
    EXPECT_EQ(remoteTo(2).size(), 1u);
    EXPECT_EQ(hal().invalidations.size(), 1u);
    EXPECT_EQ(read64(c, kData), 0x100u);
}

TEST_P(TlbTest, PastTheCeilingARangeFlushesTheAsid) {
    bootThreads();
    for (std::uint64_t i = 8; i < 40; ++i)
        write64(p, kData + i * kPage, i);
    hal().invalidations.clear();
    hal().remote_invalidations.clear();
    ASSERT_EQ(fw_vma_unmap(k, 0, p, kData, 40 * kPage), FW_OK); // 40 pages > 33
    ASSERT_EQ(hal().invalidations.size(), 1u);
    EXPECT_EQ(hal().invalidations[0].kind, HAL_FLUSH_ASID);
    EXPECT_EQ(hal().invalidations[0].asid, fw_process_asid(k, p, 0));
    EXPECT_EQ(remoteTo(1).size(), 1u);
    EXPECT_EQ(remoteTo(1)[0].kind, HAL_FLUSH_ASID);
    EXPECT_EQ(remoteTo(2).size(), 1u);

    // A configured ceiling.
    Boot b;
    b.flush_ceiling = 2;
    boot(b);
    const int q = create();
    ASSERT_EQ(switchTo(q), FW_OK);
    ASSERT_EQ(map(q, kData, 8 * kPage, kRW), FW_OK);
    for (std::uint64_t i = 0; i < 5; ++i)
        write64(q, kData + i * kPage, i);
    hal().invalidations.clear();
    ASSERT_EQ(fw_vma_unmap(k, 0, q, kData, 2 * kPage), FW_OK);
    EXPECT_EQ(hal().invalidations.size(), 2u);
    EXPECT_EQ(hal().invalidations[0].kind, HAL_FLUSH_VA_ASID);
    hal().invalidations.clear();
    ASSERT_EQ(fw_vma_unmap(k, 0, q, kData + 2 * kPage, 3 * kPage), FW_OK);
    ASSERT_EQ(hal().invalidations.size(), 1u);
    EXPECT_EQ(hal().invalidations[0].kind, HAL_FLUSH_ASID);
    EXPECT_EQ(fw_process_stats(k, q)->tlb_flushes, 1u);
}

TEST_P(TlbTest, WithoutAsidsOnlyCoresRunningTheAddressSpaceAreFlushed) {
    bootThreads(0);
    // Core 2 switches to the other process: it flushed everything, and leaves p's mask.
    ASSERT_EQ(switchTo(other, 2), FW_OK);
    EXPECT_EQ(fw_process_cpu_mask(k, p), 0x3u);
    EXPECT_EQ(fw_process_cpu_mask(k, other), 0xCu);
    hal().invalidations.clear();
    hal().remote_invalidations.clear();
    ASSERT_EQ(fw_vma_unmap(k, 0, p, kData, kPage), FW_OK);
    ASSERT_EQ(hal().invalidations.size(), 1u);
    EXPECT_EQ(hal().invalidations[0].kind, HAL_FLUSH_VA);
    EXPECT_EQ(hal().invalidations[0].va, kData);
    ASSERT_EQ(remoteTo(1).size(), 1u);
    EXPECT_EQ(remoteTo(1)[0].kind, HAL_FLUSH_VA);
    EXPECT_TRUE(remoteTo(2).empty());
    EXPECT_TRUE(remoteTo(3).empty());
    // Called from a core that runs another process: nothing local, the cores of p remote.
    hal().invalidations.clear();
    hal().remote_invalidations.clear();
    ASSERT_EQ(fw_vma_unmap(k, 3, p, kData + kPage, kPage), FW_OK);
    EXPECT_TRUE(hal().invalidations.empty());
    EXPECT_EQ(remoteTo(0).size(), 1u);
    EXPECT_EQ(remoteTo(1).size(), 1u);
}

TEST_P(TlbTest, ARecycledAsidTakesTheCoreOutOfTheMask) {
    Boot b;
    b.asid_bits = 1; // one ASID per core
    boot(b);
    const int a = create(), c = create();
    ASSERT_EQ(switchTo(a, 0), FW_OK);
    ASSERT_EQ(switchTo(a, 1), FW_OK);
    EXPECT_EQ(fw_process_cpu_mask(k, a), 0x3u);
    ASSERT_EQ(switchTo(c, 0), FW_OK); // robs a's ASID on core 0 (flushed)
    EXPECT_EQ(fw_process_asid(k, a, 0), 0u);
    EXPECT_EQ(fw_process_cpu_mask(k, a), 0x2u);
    EXPECT_EQ(fw_process_cpu_mask(k, c), 0x1u);
    ASSERT_EQ(map(a, kData, kPage, kRW), FW_OK);
    write64(a, kData, 1);
    hal().invalidations.clear();
    hal().remote_invalidations.clear();
    ASSERT_EQ(fw_vma_unmap(k, 0, a, kData, kPage), FW_OK);
    EXPECT_TRUE(hal().invalidations.empty()); // nothing of a is cached on core 0
    ASSERT_EQ(remoteTo(1).size(), 1u);
    EXPECT_EQ(remoteTo(1)[0].asid, fw_process_asid(k, a, 1));
}

TEST_P(TlbTest, ExitNeedsNoFlushAndSwapOutFlushesTheOwnersCores) {
    Boot b;
    b.cores = 2;
    b.swap = true;
    b.limit = 4;
    boot(b);
    const int a = create(1);
    ASSERT_EQ(switchTo(a, 1), FW_OK);
    ASSERT_EQ(map(a, kData, 4 * kPage, kRW), FW_OK);
    for (std::uint64_t i = 0; i < 4; ++i)
        write64(a, kData + i * kPage, i);
    // Core 0 runs another process whose faults evict a's pages: flushed on core 1.
    const int e = create(0);
    ASSERT_EQ(switchTo(e, 0), FW_OK);
    ASSERT_EQ(map(e, kData, 4 * kPage, kRW), FW_OK);
    hal().remote_invalidations.clear();
    hal().invalidations.clear();
    hal_paddr_t pa = 0;
    accessBy(e, tidOf(e), kData, AccessType::Write, &pa, 0);
    EXPECT_GE(fw_process_stats(k, a)->swap_outs, 1u);
    EXPECT_FALSE(remoteTo(1).empty());
    EXPECT_TRUE(hal().invalidations.empty()); // nothing of a is cached on core 0
    hal().remote_invalidations.clear();
    hal().invalidations.clear();
    ASSERT_EQ(exitProcess(a, 1), FW_OK);
    EXPECT_TRUE(hal().invalidations.empty());
    EXPECT_TRUE(hal().remote_invalidations.empty());
    ASSERT_EQ(exitProcess(e), FW_OK);
    expectAllReturned();
}

} // namespace
} // namespace fwtest
