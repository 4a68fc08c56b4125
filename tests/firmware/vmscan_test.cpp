// vmscan.c and swapfile.c: the clock evicts under the memory limit, swap-in brings every byte back.
#include <gtest/gtest.h>

#include "mm_fixture.h"

namespace fwtest {
namespace {

using tlmmu::test::caseName;

class VmscanTest : public MmTest {};
INSTANTIATE_TEST_SUITE_P(Formats, VmscanTest, testing::ValuesIn(kSmallFormats), caseName);

TEST_P(VmscanTest, SwappingEvictsUnderTheLimitAndBringsBackEveryByte) {
    Boot b;
    b.limit = 8;
    b.swap = true;
    boot(b);
    const int p = create();
    ASSERT_EQ(switchTo(p, 0), FW_OK);
    constexpr std::uint64_t kPages = 32;
    ASSERT_EQ(map(p, kData, kPages * kPage, kRW), FW_OK);
    auto pattern = [](std::uint64_t page, std::uint64_t word) {
        return (page * 0x9E3779B97F4A7C15ull) ^ (word * 0xBF58476D1CE4E5B9ull) ^ 0x5A;
    };
    hal().invalidations.clear();
    for (std::uint64_t i = 0; i < kPages; ++i) {
        hal_paddr_t pa = 0;
        access(p, kData + i * kPage, AccessType::Write, &pa);
        for (std::uint64_t w = 0; w < kPage / 8; ++w)
            hal_write_phys(pa + w * 8, pattern(i, w), 8);
        EXPECT_LE(fw_frames_in_use(k), 8u);
    }
    const struct fw_process_stats* s = fw_process_stats(k, p);
    EXPECT_GE(s->swap_outs, kPages - 8);
    EXPECT_EQ(hal().swap.writes, s->swap_outs);
    EXPECT_EQ(fw_swap_slots_in_use(k), s->swap_outs);
    // Evictions invalidated the page in this core's TLB under the process's ASID.
    bool saw = false;
    for (const auto& inv : hal().invalidations)
        saw |= inv.kind == HAL_FLUSH_VA_ASID && inv.asid == fw_process_asid(k, p, 0);
    EXPECT_TRUE(saw);

    // Read everything back, twice round: every byte survives every round trip.
    for (int round = 0; round < 2; ++round) {
        for (std::uint64_t i = 0; i < kPages; ++i) {
            hal_paddr_t pa = 0;
            access(p, kData + i * kPage, AccessType::Read, &pa);
            for (std::uint64_t w = 0; w < kPage / 8; ++w)
                ASSERT_EQ(hal_read_phys(pa + w * 8, 8), pattern(i, w)) << i << " " << w;
        }
    }
    EXPECT_GT(s->swap_ins, 0u);
    EXPECT_EQ(s->faults[FW_FAULT_CLASS_SWAP_IN], s->swap_ins);
    EXPECT_EQ(hal().swap.reads, s->swap_ins);
    EXPECT_LE(s->frames_peak, 8u);
    EXPECT_EQ(hal().swap.errors, 0u);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(VmscanTest, SwappedPagesSurviveForkAndCowSharedPagesAreNotEvicted) {
    Boot b;
    b.limit = 8;
    b.swap = true;
    boot(b);
    const int p = create();
    ASSERT_EQ(map(p, kData, 12 * kPage, kRW), FW_OK);
    for (std::uint64_t i = 0; i < 12; ++i)
        write64(p, kData + i * kPage, 0xC000 + i);
    // Leave room: drop the resident pages among the last four.
    ASSERT_EQ(fw_vma_unmap(k, 0, p, kData + 8 * kPage, 4 * kPage), FW_OK);
    ASSERT_GT(fw_swap_slots_in_use(k), 0u);
    ASSERT_LT(fw_frames_in_use(k), 8u);
    const int c = fork(p, 0); // copies the swapped pages' slots
    for (std::uint64_t i = 0; i < 8; ++i) {
        EXPECT_EQ(read64(c, kData + i * kPage), 0xC000 + i);
        EXPECT_EQ(read64(p, kData + i * kPage), 0xC000 + i);
    }
    for (std::uint64_t i = 0; i < 8; ++i)
        write64(c, kData + i * kPage, 0xD000 + i);
    for (std::uint64_t i = 0; i < 8; ++i) {
        EXPECT_EQ(read64(p, kData + i * kPage), 0xC000 + i);
        EXPECT_EQ(read64(c, kData + i * kPage), 0xD000 + i);
    }
    ASSERT_EQ(exitProcess(c), FW_OK);
    // Only refcount-1 frames are evicted: with every resident frame COW-shared there is no
    // victim, and the next page needed kills the process that needs it.
    ASSERT_EQ(map(p, kData + 8 * kPage, kPage, kRW), FW_OK);
    for (std::uint64_t i = 0; i < 9; ++i) // p resident on 8 pages, limit reached
        read64(p, kData + i * kPage);
    const int d = fork(p, 0);
    EXPECT_EQ(fw_frames_in_use(k), 8u);
    EXPECT_EQ(write64(d, kData, 1), FW_FAULT_CLASS_PROTECTION);
    EXPECT_EQ(kill_reason, FW_KILL_OUT_OF_MEMORY);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

} // namespace
} // namespace fwtest
