// fork.c: copy-on-write fork, exit of the last task, every frame returned.
#include <gtest/gtest.h>

#include "mm_fixture.h"

namespace fwtest {
namespace {

using tlmmu::test::caseName;

class ForkTest : public MmTest {};
INSTANTIATE_TEST_SUITE_P(Formats, ForkTest, testing::ValuesIn(kSmallFormats), caseName);

TEST_P(ForkTest, CreateUseForkExitReturnsEveryFrame) {
    boot();
    const int a = create();
    EXPECT_EQ(fw_tables_in_use(k), 1u); // the root
    ASSERT_EQ(map(a, kData, 16 * kPage, kRW), FW_OK);
    ASSERT_EQ(map(a, kStack, 4 * kPage, kRW, FW_VMA_STACK), FW_OK);
    for (std::uint64_t i = 0; i < 16; ++i)
        write64(a, kData + i * kPage, i);
    write64(a, kStack + 3 * kPage, 7);
    EXPECT_EQ(fw_process_stats(k, a)->frames_in_use, 17u);
    EXPECT_EQ(fw_frames_in_use(k), 17u);
    const int b = fork(a);
    EXPECT_EQ(fw_task_core(k, tidOf(b)), 1);
    EXPECT_EQ(fw_process_stats(k, b)->leaves_by_level[0], 17u);
    write64(b, kData, 100); // one private copy
    EXPECT_EQ(fw_frames_in_use(k), 18u);
    std::vector<hal_paddr_t> used;
    for (std::uint64_t i = 0; i < 16; ++i)
        used.push_back(frameOf(a, kData + i * kPage));
    used.push_back(frameOf(b, kData));

    const int a_tid = tidOf(a);
    ASSERT_EQ(exitProcess(a), FW_OK);
    EXPECT_EQ(fw_frames_in_use(k), 17u); // b still maps 16 shared + its copy
    EXPECT_EQ(exitProcess(b), FW_OK);
    expectAllReturned();
    for (hal_paddr_t pa : used)
        EXPECT_EQ(frame_refcount(frames, pa), 0u);
    EXPECT_EQ(fw_task_exit(k, 0, a_tid), FW_ERR_INVAL); // gone
    EXPECT_NE(fw_process_stats(k, a), nullptr);         // stats kept until the pid is reused
    EXPECT_EQ(fw_process_stats(k, a)->frames_in_use, 0u);
    EXPECT_EQ(fw_process_stats(k, 60), nullptr); // never created
}

TEST_P(ForkTest, CowForkSharesThenCopiesOnlyTheWrittenPage) {
    boot();
    const int a = create();
    ASSERT_EQ(switchTo(a), FW_OK);
    ASSERT_EQ(map(a, kData, 4 * kPage, kRW), FW_OK);
    for (std::uint64_t i = 0; i < 4; ++i)
        write64(a, kData + i * kPage, 0xA000 + i);
    const std::uint64_t ro_frames = fw_frames_in_use(k);

    hal().invalidations.clear();
    hal().cycles = 0;
    const int b = fork(a);
    EXPECT_GE(hal().cycles, kFork);
    // The parent's writable entries became read-only: its ASID was flushed on this core.
    ASSERT_FALSE(hal().invalidations.empty());
    EXPECT_EQ(hal().invalidations.back().kind, HAL_FLUSH_ASID);
    EXPECT_EQ(hal().invalidations.back().asid, fw_process_asid(k, a, 0));
    EXPECT_TRUE(hal().remote_invalidations.empty()); // a never ran elsewhere
    EXPECT_EQ(fw_frames_in_use(k), ro_frames);       // nothing copied at fork
    EXPECT_EQ(fw_process_stats(k, b)->frames_in_use, 4u);
    // Both read what was written before the fork, from the same frames.
    for (std::uint64_t i = 0; i < 4; ++i) {
        EXPECT_EQ(read64(b, kData + i * kPage), 0xA000 + i);
        EXPECT_EQ(frameOf(a, kData + i * kPage), frameOf(b, kData + i * kPage));
        EXPECT_EQ(frame_refcount(frames, frameOf(a, kData + i * kPage)), 2u);
    }
    EXPECT_EQ(walk(a, kData, AccessType::Write).fault, FaultKind::Permission);

    // N sharers, refcount N.
    const int c = fork(b);
    EXPECT_EQ(frame_refcount(frames, frameOf(a, kData + 3 * kPage)), 3u);

    // A write by the child copies that page only.
    EXPECT_EQ(write64(b, kData, 0xB000), FW_FAULT_CLASS_COW);
    EXPECT_EQ(fw_process_stats(k, b)->pages_copied, 1u);
    EXPECT_EQ(fw_process_stats(k, b)->faults[FW_FAULT_CLASS_COW], 1u);
    EXPECT_EQ(fw_frames_in_use(k), ro_frames + 1);
    EXPECT_EQ(read64(a, kData), 0xA000u);
    EXPECT_EQ(read64(c, kData), 0xA000u);
    EXPECT_EQ(read64(b, kData), 0xB000u);
    EXPECT_EQ(frame_refcount(frames, frameOf(a, kData)), 2u); // a and c
    // A write by the parent after the fork is private too.
    EXPECT_EQ(write64(a, kData + kPage, 0xA111), FW_FAULT_CLASS_COW);
    EXPECT_EQ(fw_process_stats(k, a)->pages_copied, 1u);
    EXPECT_EQ(read64(b, kData + kPage), 0xA001u);
    EXPECT_EQ(read64(c, kData + kPage), 0xA001u);
    // The last sharer of a page writes it without a copy.
    ASSERT_EQ(exitProcess(c), FW_OK);
    EXPECT_EQ(write64(a, kData, 0xA222), FW_FAULT_CLASS_COW); // refcount 1 now
    EXPECT_EQ(fw_process_stats(k, a)->pages_copied, 1u);
    EXPECT_EQ(read64(b, kData), 0xB000u);
    // Untouched pages are still shared.
    EXPECT_EQ(frameOf(a, kData + 3 * kPage), frameOf(b, kData + 3 * kPage));

    ASSERT_EQ(exitProcess(a), FW_OK);
    ASSERT_EQ(exitProcess(b), FW_OK);
    expectAllReturned();
}

TEST_P(ForkTest, TheLastTaskReleasesTheAddressSpace) {
    boot();
    const int a = create();
    const int t2 = thread(a, 1);
    EXPECT_EQ(fw_process_tasks(k, a), 2u);
    EXPECT_EQ(fw_task_pid(k, t2), a);
    ASSERT_EQ(map(a, kData, kPage, kRW), FW_OK);
    write64(a, kData, 1);
    ASSERT_EQ(fw_task_exit(k, 0, tidOf(a)), FW_OK);
    EXPECT_EQ(fw_process_tasks(k, a), 1u);
    EXPECT_NE(fw_process_root(k, a), 0u);
    // The other thread still sees the data.
    hal_paddr_t pa = 0;
    EXPECT_EQ(accessBy(a, t2, kData, AccessType::Read, &pa, 1), FW_FAULT_CLASS_NONE);
    EXPECT_EQ(hal_read_phys(pa, 8), 1u);
    ASSERT_EQ(fw_task_exit(k, 1, t2), FW_OK);
    EXPECT_EQ(fw_process_root(k, a), 0u);
    tids.erase(a);
    expectAllReturned();
    EXPECT_EQ(fw_thread_create(k, a, 0, nullptr), FW_ERR_INVAL);
}

} // namespace
} // namespace fwtest
