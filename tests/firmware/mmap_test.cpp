// mmap.c: VMA map checks (W^X, W without R, alignment, overlaps, limits), munmap, and
// madvise(MADV_DONTNEED) (fw_vma_discard).
#include <vector>

#include <gtest/gtest.h>

#include "mm_fixture.h"

namespace fwtest {
namespace {

using tlmmu::test::caseName;

class MmapTest : public MmTest {};
INSTANTIATE_TEST_SUITE_P(Formats, MmapTest, testing::ValuesIn(kSmallFormats), caseName);

TEST_P(MmapTest, WriteAndExecuteTogetherRefusedForMapAndProtect) {
    boot();
    const int a = create();
    EXPECT_EQ(map(a, kData, kPage, FW_PROT_R | FW_PROT_W | FW_PROT_X), FW_ERR_WX);
    EXPECT_EQ(map(a, kData, kPage, FW_PROT_W | FW_PROT_X), FW_ERR_WX);
    EXPECT_EQ(map(a, kData, kPage, FW_PROT_W), FW_ERR_INVAL);
    EXPECT_EQ(map(a, kData, kPage, FW_PROT_R | FW_PROT_W | FW_PROT_X, FW_VMA_STACK), FW_ERR_WX);
    ASSERT_EQ(map(a, kData, 2 * kPage, kRW), FW_OK);
    EXPECT_EQ(fw_vma_protect(k, 0, a, kData, kPage, FW_PROT_R | FW_PROT_W | FW_PROT_X), FW_ERR_WX);
    EXPECT_EQ(fw_vma_protect(k, 0, a, kData, kPage, FW_PROT_R | FW_PROT_X), FW_OK);
    EXPECT_EQ(fw_vma_protect(k, 0, a, kData + 4 * kPage, kPage, FW_PROT_R), FW_ERR_NOT_MAPPED);
    EXPECT_EQ(map(a, kData + 1, kPage, FW_PROT_R), FW_ERR_INVAL);
    EXPECT_EQ(map(a, kData + 8 * kPage, 0, FW_PROT_R), FW_ERR_INVAL);
    EXPECT_EQ(map(a, kData + 8 * kPage, kPage, 8), FW_ERR_INVAL); // unknown prot bit
    EXPECT_EQ(map(a, kData + 8 * kPage, kPage, FW_PROT_R, static_cast<fw_vma_kind>(9)),
              FW_ERR_INVAL);
    EXPECT_EQ(map(a + 1, kData + 8 * kPage, kPage, FW_PROT_R), FW_ERR_INVAL); // no such pid
}

TEST_P(MmapTest, TheImplicitRegionAloneMayBeWritableAndExecutable) {
    boot();
    const int a = create();
    ASSERT_EQ(map(a, kData, 4 * kPage, FW_PROT_R | FW_PROT_W | FW_PROT_X, FW_VMA_IMPLICIT), FW_OK);
    EXPECT_EQ(map(a, kStack, kPage, FW_PROT_W, FW_VMA_IMPLICIT), FW_ERR_INVAL); // W without R
    EXPECT_EQ(write64(a, kData, 5), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(access(a, kData + 8, AccessType::Execute), FW_FAULT_CLASS_NONE);
    // Protect keeps the kind's rule: RWX stays allowed there, and only there.
    EXPECT_EQ(fw_vma_protect(k, 0, a, kData, kPage, FW_PROT_R | FW_PROT_W | FW_PROT_X), FW_OK);
}

TEST_P(MmapTest, OverlappingVmasRefusedGuardIncluded) {
    boot();
    const int a = create();
    ASSERT_EQ(map(a, kData, 4 * kPage, FW_PROT_R), FW_OK);
    EXPECT_EQ(map(a, kData + 3 * kPage, 2 * kPage, FW_PROT_R), FW_ERR_OVERLAP);
    EXPECT_EQ(map(a, kData - kPage, 2 * kPage, FW_PROT_R), FW_ERR_OVERLAP);
    EXPECT_EQ(map(a, kData + 4 * kPage, kPage, FW_PROT_R), FW_OK);
    ASSERT_EQ(map(a, kStack, 4 * kPage, kRW, FW_VMA_STACK), FW_OK);
    // The guard page below the stack is taken too.
    EXPECT_EQ(map(a, kStack - kPage, kPage, FW_PROT_R), FW_ERR_OVERLAP);
    // A stack whose guard would land on an existing VMA.
    EXPECT_EQ(map(a, kData + 5 * kPage, kPage, kRW, FW_VMA_STACK), FW_ERR_OVERLAP);
}

// fw_process_vma lists the VMAs in address order, as protect split them; a stack's guard page
// is one of its own with no rights; past the last, or for a pid never made: FW_ERR_INVAL.
TEST_P(MmapTest, ProcessVmasAreListedInAddressOrder) {
    boot();
    const int a = create();
    ASSERT_EQ(map(a, kStack, 2 * kPage, kRW, FW_VMA_STACK), FW_OK);
    ASSERT_EQ(map(a, kData, 4 * kPage, kRW), FW_OK);
    ASSERT_EQ(fw_vma_protect(k, 0, a, kData + kPage, kPage, FW_PROT_R), FW_OK);
    struct Want {
        uint64_t start, len;
        unsigned prot;
    };
    const std::vector<Want> want = {{kData, kPage, kRW},
                                    {kData + kPage, kPage, FW_PROT_R},
                                    {kData + 2 * kPage, 2 * kPage, kRW},
                                    {kStack - kPage, kPage, 0},
                                    {kStack, 2 * kPage, kRW}};
    fw_vma_desc v{};
    for (unsigned i = 0; i < want.size(); ++i) {
        ASSERT_EQ(fw_process_vma(k, a, i, &v), FW_OK) << i;
        EXPECT_EQ(v.start, want[i].start) << i;
        EXPECT_EQ(v.len, want[i].len) << i;
        EXPECT_EQ(v.prot, want[i].prot) << i;
        EXPECT_EQ(v.shm_id, -1) << i;
    }
    EXPECT_EQ(fw_process_vma(k, a, static_cast<unsigned>(want.size()), &v), FW_ERR_INVAL);
    EXPECT_EQ(fw_process_vma(k, a + 1, 0, &v), FW_ERR_INVAL);
}

TEST_P(MmapTest, TheVmaTableLimitIsFwMaxVmas) {
    boot();
    const int a = create();
    for (unsigned i = 0; i + 1 < FW_MAX_VMAS; ++i)
        ASSERT_EQ(map(a, kData + 2 * i * kPage, kPage, FW_PROT_R), FW_OK) << i;
    ASSERT_EQ(map(a, kStack, 3 * kPage, FW_PROT_R), FW_OK);
    EXPECT_EQ(map(a, kShm, kPage, FW_PROT_R), FW_ERR_LIMIT);
    // An unmap or protect that would cut a VMA in three needs two more slots.
    EXPECT_EQ(fw_vma_unmap(k, 0, a, kStack + kPage, kPage), FW_ERR_LIMIT);
    EXPECT_EQ(fw_vma_protect(k, 0, a, kStack + kPage, kPage, 0), FW_ERR_LIMIT);
    EXPECT_EQ(fw_vma_unmap(k, 0, a, kStack, 3 * kPage), FW_OK);
    EXPECT_STRNE(fw_strerror(FW_ERR_LIMIT), fw_strerror(FW_ERR_INVAL));
}

TEST_P(MmapTest, UnmapChangesOnlyItsRange) {
    boot();
    const int p = create();
    ASSERT_EQ(switchTo(p), FW_OK);
    ASSERT_EQ(map(p, kData, 8 * kPage, kRW), FW_OK);
    for (std::uint64_t i = 0; i < 8; ++i)
        write64(p, kData + i * kPage, i + 1);
    hal().invalidations.clear();
    ASSERT_EQ(fw_vma_unmap(k, 0, p, kData + 2 * kPage, 2 * kPage), FW_OK); // splits the VMA
    ASSERT_EQ(hal().invalidations.size(), 2u);
    for (unsigned i = 0; i < 2; ++i) {
        EXPECT_EQ(hal().invalidations[i].kind, HAL_FLUSH_VA_ASID);
        EXPECT_EQ(hal().invalidations[i].va, kData + (2 + i) * kPage);
        EXPECT_EQ(hal().invalidations[i].asid, fw_process_asid(k, p, 0));
    }
    EXPECT_EQ(fw_frames_in_use(k), 6u);
    EXPECT_EQ(fw_process_stats(k, p)->leaves_by_level[0], 6u);
    for (std::uint64_t i : {0, 1, 4, 5, 6, 7})
        EXPECT_EQ(read64(p, kData + i * kPage), i + 1);
    // Unmapping a hole, or part of it, is fine.
    EXPECT_EQ(fw_vma_unmap(k, 0, p, kData + 2 * kPage, kPage), FW_OK);
    EXPECT_EQ(fw_vma_unmap(k, 0, p, kData + 3, kPage), FW_ERR_INVAL);
    EXPECT_EQ(access(p, kData + 2 * kPage, AccessType::Read), FW_FAULT_CLASS_PROTECTION);
    EXPECT_EQ(kill_reason, FW_KILL_NO_VMA);
    expectAllReturned();
}

TEST_P(MmapTest, DiscardFreesThePagesAndKeepsTheVma) {
    boot();
    const int p = create();
    ASSERT_EQ(switchTo(p), FW_OK);
    ASSERT_EQ(map(p, kData, 8 * kPage, kRW), FW_OK);
    for (std::uint64_t i = 0; i < 8; ++i)
        write64(p, kData + i * kPage, 0x70 + i);
    hal().invalidations.clear();
    ASSERT_EQ(fw_vma_discard(k, 0, p, kData + 2 * kPage, 3 * kPage), FW_OK);
    EXPECT_EQ(hal().invalidations.size(), 3u);
    EXPECT_EQ(fw_frames_in_use(k), 5u);
    // The next touch is a demand-zero fault: the old contents are gone.
    fw_fault_class cls = FW_FAULT_CLASS_NONE;
    EXPECT_EQ(read64(p, kData + 3 * kPage, &cls), 0u);
    EXPECT_EQ(cls, FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(read64(p, kData + 5 * kPage, &cls), 0x75u);
    EXPECT_EQ(cls, FW_FAULT_CLASS_NONE);
    // Across a hole and past the VMA: fine, and only mapped pages are touched.
    ASSERT_EQ(fw_vma_discard(k, 0, p, kData + 6 * kPage, 16 * kPage), FW_OK);
    EXPECT_EQ(fw_frames_in_use(k), 4u);
    EXPECT_EQ(fw_vma_discard(k, 0, p, kData, 0), FW_ERR_INVAL);
    EXPECT_EQ(fw_vma_discard(k, 0, p + 1, kData, kPage), FW_ERR_INVAL);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

} // namespace
} // namespace fwtest
