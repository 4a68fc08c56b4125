// shmem.c: shared-memory objects mapped by several processes.
#include <gtest/gtest.h>

#include "mm_fixture.h"

namespace fwtest {
namespace {

using tlmmu::test::caseName;

class ShmemTest : public MmTest {};
INSTANTIATE_TEST_SUITE_P(Formats, ShmemTest, testing::ValuesIn(kSmallFormats), caseName);

TEST_P(ShmemTest, SharedMemoryWriteSeenByTheOtherWithoutAFault) {
    boot();
    int shm = -1;
    ASSERT_EQ(fw_shm_create(k, 4 * kPage, &shm), FW_OK);
    const int a = create(0), b = create(1);
    ASSERT_EQ(map(a, kShm, 4 * kPage, kRW, FW_VMA_SHARED, shm), FW_OK);
    // Mapped elsewhere in b, and only its second half.
    ASSERT_EQ(map(b, kData, 4 * kPage, kRW, FW_VMA_SHARED, shm), FW_OK);
    EXPECT_EQ(map(b, kShm, 5 * kPage, FW_PROT_R, FW_VMA_SHARED, shm), FW_ERR_INVAL);

    EXPECT_EQ(write64(a, kShm + kPage + 16, 0x1234), FW_FAULT_CLASS_DEMAND_ZERO);
    fw_fault_class cls = FW_FAULT_CLASS_NONE;
    EXPECT_EQ(read64(b, kData + kPage + 16, &cls), 0x1234u); // maps a's frame
    EXPECT_EQ(cls, FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(frameOf(a, kShm + kPage), frameOf(b, kData + kPage));
    EXPECT_EQ(frame_refcount(frames, frameOf(a, kShm + kPage)), 3u); // object + 2 mappers
    // From now on neither side faults, and each sees the other's writes.
    EXPECT_EQ(write64(b, kData + kPage + 24, 0x5678), FW_FAULT_CLASS_NONE);
    EXPECT_EQ(read64(a, kShm + kPage + 24, &cls), 0x5678u);
    EXPECT_EQ(cls, FW_FAULT_CLASS_NONE);
    EXPECT_EQ(write64(a, kShm + kPage + 16, 0x9abc), FW_FAULT_CLASS_NONE);
    EXPECT_EQ(read64(b, kData + kPage + 16, &cls), 0x9abcu);
    EXPECT_EQ(cls, FW_FAULT_CLASS_NONE);
    EXPECT_EQ(fw_frames_in_use(k), 1u);

    // A fork shares it (no COW) and the data outlives its mappers while the object lives.
    const int c = fork(a, 0);
    EXPECT_EQ(write64(c, kShm + kPage, 77), FW_FAULT_CLASS_NONE);
    EXPECT_EQ(read64(b, kData + kPage), 77u);
    EXPECT_EQ(fw_shm_destroy(k, shm), FW_ERR_BUSY);
    ASSERT_EQ(exitProcess(a), FW_OK);
    ASSERT_EQ(exitProcess(b), FW_OK);
    ASSERT_EQ(fw_vma_unmap(k, 0, c, kShm, 4 * kPage), FW_OK);
    EXPECT_EQ(fw_frames_in_use(k), 1u);
    ASSERT_EQ(fw_shm_destroy(k, shm), FW_OK);
    ASSERT_EQ(exitProcess(c), FW_OK);
    expectAllReturned();
}

} // namespace
} // namespace fwtest
