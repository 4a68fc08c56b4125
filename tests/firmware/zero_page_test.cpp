// firmware.zero_page: the shared zero page (Linux's my_zero_pfn) mapped by read faults of
// never-written private pages; a write gets a zeroed frame of its own; zaps, fork, reclaim
// and mprotect leave the zero frame alone.
#include <gtest/gtest.h>

#include "mm_fixture.h"

namespace fwtest {
namespace {

using tlmmu::test::caseName;

class ZeroPageTest : public MmTest {
  protected:
    void bootZero(Boot b = Boot()) {
        boot(b, [](fw_kernel_config& c) { c.zero_page = 1; });
    }
    // A process on core 0 with `pages` of RW data at kData, the first one read (the zero page).
    int started(std::uint64_t pages = 4) {
        const int p = create();
        EXPECT_EQ(switchTo(p, 0), FW_OK);
        EXPECT_EQ(map(p, kData, pages * kPage, kRW), FW_OK);
        EXPECT_EQ(read64(p, kData), 0u);
        return p;
    }
    bool invalidated(int pid, std::uint64_t va) {
        for (const auto& inv : hal().invalidations)
            if ((inv.kind == HAL_FLUSH_VA_ASID && inv.va == va &&
                 inv.asid == fw_process_asid(k, pid, 0)) ||
                inv.kind == HAL_FLUSH_ASID || inv.kind == HAL_FLUSH_ALL)
                return true;
        return false;
    }
    bool zeroFrameIsZero() {
        for (std::uint64_t w = 0; w < kPage / 8; ++w)
            if (hal_read_phys(fw_zero_page(k) + w * 8, 8) != 0) return false;
        return true;
    }
};
INSTANTIATE_TEST_SUITE_P(Formats, ZeroPageTest, testing::ValuesIn(kSmallFormats), caseName);

TEST_P(ZeroPageTest, ReadFaultMapsTheZeroPageReadOnlyAllocatingNothing) {
    bootZero();
    ASSERT_NE(fw_zero_page(k), 0u);
    const int p = create();
    ASSERT_EQ(switchTo(p, 0), FW_OK);
    ASSERT_EQ(map(p, kData, 4 * kPage, kRW), FW_OK);
    fw_fault_class cls = FW_FAULT_CLASS_NONE;
    EXPECT_EQ(read64(p, kData + 16, &cls), 0u);
    EXPECT_EQ(cls, FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(frameOf(p, kData), fw_zero_page(k));
    EXPECT_EQ(walk(p, kData, AccessType::Write).fault, FaultKind::Permission); // read-only
    const struct fw_kernel_stats* ks = fw_kernel_stats(k);
    EXPECT_EQ(ks->zero_page_maps, 1u);
    EXPECT_EQ(ks->demand_faults, 1u);
    EXPECT_EQ(ks->data_frames, 0u);
    EXPECT_EQ(ks->frames_mapped, 0u);
    EXPECT_EQ(ks->leaves_by_level[0], 0u);
    EXPECT_EQ(fw_process_stats(k, p)->frames_in_use, 0u);
    // A second page maps the same frame.
    EXPECT_EQ(read64(p, kData + kPage), 0u);
    EXPECT_EQ(frameOf(p, kData + kPage), fw_zero_page(k));
    EXPECT_EQ(ks->zero_page_maps, 2u);
    EXPECT_EQ(fw_frames_in_use(k), 0u);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(ZeroPageTest, WriteAfterReadAllocatesAZeroedFrameAndFlushesTheOldTranslation) {
    bootZero();
    const int p = started();
    hal().invalidations.clear();
    EXPECT_EQ(write64(p, kData + 8, 7), FW_FAULT_CLASS_COW);
    EXPECT_TRUE(invalidated(p, kData));
    const hal_paddr_t frame = frameOf(p, kData);
    EXPECT_NE(frame, fw_zero_page(k));
    EXPECT_EQ(read64(p, kData), 0u);
    EXPECT_EQ(read64(p, kData + 8), 7u);
    for (std::uint64_t w = 2; w < kPage / 8; ++w)
        ASSERT_EQ(hal_read_phys(frame + w * 8, 8), 0u) << w;
    EXPECT_TRUE(zeroFrameIsZero());
    const struct fw_kernel_stats* ks = fw_kernel_stats(k);
    EXPECT_EQ(ks->zero_page_cows, 1u);
    EXPECT_EQ(ks->faults[FW_FAULT_CLASS_COW], 1u);
    EXPECT_EQ(ks->data_frames, 1u);
    EXPECT_EQ(ks->leaves_by_level[0], 1u);
    EXPECT_EQ(fw_process_stats(k, p)->frames_in_use, 1u);
    EXPECT_EQ(fw_process_stats(k, p)->pages_copied, 0u);
    // A first write allocates at once, as without the zero page.
    EXPECT_EQ(write64(p, kData + kPage, 9), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(ks->zero_page_maps, 1u);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(ZeroPageTest, DiscardAndUnmapOfTheZeroPageFlushAndFreeNothing) {
    bootZero();
    const int p = started();
    EXPECT_EQ(read64(p, kData + kPage), 0u);
    const std::uint32_t in_use = frames->in_use;
    hal().invalidations.clear();
    ASSERT_EQ(fw_vma_discard(k, 0, p, kData, kPage), FW_OK);
    EXPECT_TRUE(invalidated(p, kData));
    EXPECT_EQ(walk(p, kData, AccessType::Read).fault, FaultKind::NotPresent);
    EXPECT_EQ(frames->in_use, in_use);
    EXPECT_EQ(frame_refcount(frames, fw_zero_page(k)), 1);
    // tlb_flush2's loop: write, discard, read (0 again, the zero page again).
    EXPECT_EQ(write64(p, kData, 5), FW_FAULT_CLASS_DEMAND_ZERO);
    ASSERT_EQ(fw_vma_discard(k, 0, p, kData, kPage), FW_OK);
    EXPECT_EQ(read64(p, kData), 0u);
    EXPECT_EQ(frameOf(p, kData), fw_zero_page(k));
    EXPECT_EQ(fw_frames_in_use(k), 0u);
    hal().invalidations.clear();
    ASSERT_EQ(fw_vma_unmap(k, 0, p, kData, 2 * kPage), FW_OK);
    EXPECT_TRUE(invalidated(p, kData + kPage));
    EXPECT_EQ(frames->in_use, in_use);
    EXPECT_TRUE(zeroFrameIsZero());
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(ZeroPageTest, ForkSharesTheZeroPageAndEachWriterGetsItsOwnFrame) {
    bootZero();
    const int p = started();
    const int c = fork(p);
    EXPECT_EQ(frameOf(c, kData), fw_zero_page(k));
    EXPECT_EQ(walk(c, kData, AccessType::Write).fault, FaultKind::Permission);
    EXPECT_EQ(fw_process_stats(k, c)->frames_in_use, 0u);
    EXPECT_EQ(frame_refcount(frames, fw_zero_page(k)), 1);
    ASSERT_EQ(switchTo(c, 1), FW_OK);
    EXPECT_EQ(accessBy(c, tidOf(c), kData, AccessType::Write, nullptr, 1), FW_FAULT_CLASS_COW);
    EXPECT_NE(frameOf(c, kData), fw_zero_page(k));
    EXPECT_EQ(frameOf(p, kData), fw_zero_page(k));
    EXPECT_EQ(read64(p, kData), 0u);
    ASSERT_EQ(exitProcess(c), FW_OK);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(ZeroPageTest, ReclaimNeverPicksTheZeroPage) {
    Boot b;
    b.limit = 4;
    b.swap = true;
    bootZero(b);
    constexpr std::uint64_t kRead = 16, kWritten = 16;
    const int p = started(kRead + kWritten);
    for (std::uint64_t i = 1; i < kRead; ++i)
        EXPECT_EQ(read64(p, kData + i * kPage), 0u);
    for (std::uint64_t i = kRead; i < kRead + kWritten; ++i)
        EXPECT_NE(write64(p, kData + i * kPage, i), FW_FAULT_CLASS_PROTECTION);
    const struct fw_process_stats* s = fw_process_stats(k, p);
    EXPECT_GE(s->swap_outs, kWritten - 4);
    EXPECT_EQ(s->swap_outs, hal().swap.writes);
    for (std::uint64_t i = 0; i < kRead; ++i)
        EXPECT_EQ(frameOf(p, kData + i * kPage), fw_zero_page(k)) << i;
    for (std::uint64_t i = kRead; i < kRead + kWritten; ++i)
        EXPECT_EQ(read64(p, kData + i * kPage), i);
    EXPECT_TRUE(zeroFrameIsZero());
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(ZeroPageTest, MprotectToWritableKeepsTheZeroPageReadOnly) {
    bootZero();
    const int p = started();
    ASSERT_EQ(fw_vma_protect(k, 0, p, kData, kPage, FW_PROT_R), FW_OK);
    ASSERT_EQ(fw_vma_protect(k, 0, p, kData, kPage, kRW), FW_OK);
    EXPECT_EQ(frameOf(p, kData), fw_zero_page(k));
    EXPECT_EQ(walk(p, kData, AccessType::Write).fault, FaultKind::Permission);
    // Parked (PROT_NONE) and back: still the zero page, still read-only.
    ASSERT_EQ(fw_vma_protect(k, 0, p, kData, kPage, 0), FW_OK);
    ASSERT_EQ(fw_vma_protect(k, 0, p, kData, kPage, kRW), FW_OK);
    EXPECT_EQ(frameOf(p, kData), fw_zero_page(k));
    EXPECT_EQ(write64(p, kData, 3), FW_FAULT_CLASS_COW);
    EXPECT_EQ(read64(p, kData), 3u);
    EXPECT_TRUE(zeroFrameIsZero());
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(ZeroPageTest, PrefaultStillAllocates) {
    bootZero();
    const int p = create();
    ASSERT_EQ(map(p, kData, 4 * kPage, kRW), FW_OK);
    ASSERT_EQ(fw_prefault(k, p, kData), FW_OK);
    EXPECT_NE(frameOf(p, kData), fw_zero_page(k));
    EXPECT_EQ(fw_kernel_stats(k)->zero_page_maps, 0u);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(ZeroPageTest, OffByDefaultAReadAllocates) {
    Boot b;
    boot(b);
    EXPECT_EQ(fw_zero_page(k), 0u);
    const int p = started();
    EXPECT_EQ(fw_kernel_stats(k)->data_frames, 1u);
    EXPECT_EQ(fw_kernel_stats(k)->zero_page_maps, 0u);
    EXPECT_EQ(walk(p, kData, AccessType::Write).fault, FaultKind::None);
    fw_kernel_config c{};
    EXPECT_EQ(fw_kernel_init_frames(&c), 0u);
    c.zero_page = 1;
    EXPECT_EQ(fw_kernel_init_frames(&c), 1u);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

} // namespace
} // namespace fwtest
