// The fake HAL itself: the firmware tests are only as good as it is.
#include <gtest/gtest.h>

#include "fake_hal.h"

namespace {

using fakehal::FakeHalPanic;
using fakehal::hal;

TEST(FakeHalTest, LittleEndianReadsAndWritesOfEverySize) {
    hal().reset(1 << 20);
    hal_write_phys(0x1000, 0x1122334455667788ull, 8);
    EXPECT_EQ(hal_read_phys(0x1000, 1), 0x88u);
    EXPECT_EQ(hal_read_phys(0x1000, 2), 0x7788u);
    EXPECT_EQ(hal_read_phys(0x1004, 4), 0x11223344u);
    EXPECT_EQ(hal_read_phys(0x1000, 8), 0x1122334455667788ull);
    hal_write_phys(0x1002, 0xAABB, 2);
    EXPECT_EQ(hal_read_phys(0x1000, 8), 0x11223344AABB7788ull);
    // Across a chunk boundary.
    hal_write_phys(0x1FFC, 0x0102030405060708ull, 8);
    EXPECT_EQ(hal_read_phys(0x1FFC, 8), 0x0102030405060708ull);
    EXPECT_EQ(hal().writes, 3u);
    EXPECT_EQ(hal().reads, 6u);
}

TEST(FakeHalTest, ZeroAndCopy) {
    hal().reset(1 << 20);
    hal_write_phys(0x2000, ~0ull, 8);
    hal_write_phys(0x2FF8, ~0ull, 8);
    hal_write_phys(0x3000, ~0ull, 8);
    hal_copy_frame(0x8000, 0x2000, 0x1000);
    EXPECT_EQ(hal_read_phys(0x8FF8, 8), ~0ull);
    hal_zero_frame(0x2000, 0x1000);
    EXPECT_EQ(hal_read_phys(0x2000, 8), 0u);
    EXPECT_EQ(hal_read_phys(0x2FF8, 8), 0u);
    EXPECT_EQ(hal_read_phys(0x3000, 8), ~0ull); // next frame untouched
    hal_zero_frame(0x3004, 2);                  // partial
    EXPECT_EQ(hal_read_phys(0x3000, 8), 0xFFFF0000FFFFFFFFull);
    EXPECT_EQ(hal().zeroed_bytes, 0x1002u);
}

TEST(FakeHalTest, PanicsAndOutOfRangeAccessesThrow) {
    hal().reset(0x10000);
    EXPECT_THROW(hal_panic("boom"), FakeHalPanic);
    EXPECT_THROW(hal_read_phys(0x10000, 1), FakeHalPanic);
    EXPECT_THROW(hal_write_phys(0xFFFC, 0, 8), FakeHalPanic);
    EXPECT_THROW(hal_read_phys(0, 3), FakeHalPanic);
    EXPECT_THROW(hal_zero_frame(0x8000, 0x10000), FakeHalPanic);
}

TEST(FakeHalTest, RecordsControlCalls) {
    hal().reset(0x10000);
    hal_set_root(0x4000, 9);
    hal_tlb_invalidate(HAL_FLUSH_VA_ASID, 0x1234000, 9);
    hal_charge_cycles(40);
    hal_charge_cycles(2);
    EXPECT_EQ(hal().root, 0x4000u);
    EXPECT_EQ(hal().root_asid, 9);
    EXPECT_EQ(hal().set_root_calls, 1u);
    ASSERT_EQ(hal().invalidations.size(), 1u);
    EXPECT_EQ(hal().invalidations[0].kind, HAL_FLUSH_VA_ASID);
    EXPECT_EQ(hal().invalidations[0].va, 0x1234000u);
    EXPECT_EQ(hal().cycles, 42u);
}

} // namespace
