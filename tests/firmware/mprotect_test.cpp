// mprotect.c: rights narrowed and widened, PROT_NONE parking, flushes.
#include <gtest/gtest.h>

#include "mm_fixture.h"

namespace fwtest {
namespace {

using tlmmu::test::caseName;

class MprotectTest : public MmTest {};
INSTANTIATE_TEST_SUITE_P(Formats, MprotectTest, testing::ValuesIn(kSmallFormats), caseName);

TEST_P(MprotectTest, ProtectChangesOnlyItsRange) {
    boot();
    const int q = create();
    ASSERT_EQ(switchTo(q), FW_OK);
    ASSERT_EQ(map(q, kData, 4 * kPage, kRW), FW_OK);
    for (std::uint64_t i = 0; i < 4; ++i)
        write64(q, kData + i * kPage, 0x50 + i);
    hal().invalidations.clear();
    ASSERT_EQ(fw_vma_protect(k, 0, q, kData + kPage, kPage, FW_PROT_R), FW_OK);
    ASSERT_EQ(hal().invalidations.size(), 1u); // the narrowed page, by VA and ASID
    EXPECT_EQ(hal().invalidations[0].kind, HAL_FLUSH_VA_ASID);
    EXPECT_EQ(hal().invalidations[0].va, kData + kPage);
    EXPECT_EQ(walk(q, kData + kPage, AccessType::Write).fault, FaultKind::Permission);
    EXPECT_EQ(read64(q, kData + kPage), 0x51u);
    EXPECT_EQ(write64(q, kData + 2 * kPage, 1), FW_FAULT_CLASS_NONE);
    // No access at all, then back: the frame and its data are kept meanwhile.
    ASSERT_EQ(fw_vma_protect(k, 0, q, kData + 3 * kPage, kPage, 0), FW_OK);
    EXPECT_EQ(walk(q, kData + 3 * kPage, AccessType::Read).fault, FaultKind::NotPresent);
    EXPECT_EQ(fw_frames_in_use(k), 4u);
    EXPECT_EQ(fw_process_stats(k, q)->leaves_by_level[0], 4u); // parked, still resident
    ASSERT_EQ(fw_vma_protect(k, 0, q, kData + 3 * kPage, kPage, kRW), FW_OK);
    EXPECT_EQ(read64(q, kData + 3 * kPage), 0x53u);
    EXPECT_EQ(write64(q, kData + 1 * kPage, 1), FW_FAULT_CLASS_PROTECTION);
    EXPECT_EQ(kill_reason, FW_KILL_WRITE_RO);
    expectAllReturned();
}

TEST_P(MprotectTest, AHoleOrAGuardPageInTheRangeIsRefused) {
    boot();
    const int q = create();
    ASSERT_EQ(map(q, kData, 2 * kPage, kRW), FW_OK);
    ASSERT_EQ(map(q, kData + 3 * kPage, kPage, kRW), FW_OK);
    ASSERT_EQ(map(q, kStack, kPage, kRW, FW_VMA_STACK), FW_OK);
    EXPECT_EQ(fw_vma_protect(k, 0, q, kData, 4 * kPage, FW_PROT_R), FW_ERR_NOT_MAPPED);
    EXPECT_EQ(fw_vma_protect(k, 0, q, kStack - kPage, 2 * kPage, FW_PROT_R), FW_ERR_NOT_MAPPED);
    EXPECT_EQ(fw_vma_protect(k, 0, q, kData, 2 * kPage, FW_PROT_W), FW_ERR_INVAL);
    EXPECT_EQ(fw_vma_protect(k, 0, q, kData, 2 * kPage, FW_PROT_R), FW_OK);
}

} // namespace
} // namespace fwtest
