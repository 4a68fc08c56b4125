// The frame allocator: refcounts, reuse, naturally aligned blocks, out of memory.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "fake_hal.h"

#include "kernel/frames.h"
#include "kernel/fw_errors.h"

namespace {

constexpr hal_paddr_t kBase = 0x80000000;
constexpr std::uint64_t kFrame = 4096;

class FramesTest : public testing::Test {
  protected:
    void init(std::uint32_t count, hal_paddr_t base = kBase) {
        meta.assign(count + 1, 0xdeadbeef); // init must not rely on a zeroed array
        ASSERT_EQ(frames_init(&frames, base, kFrame, count, meta.data()), FW_OK);
    }

    std::vector<std::uint32_t> meta;
    fw_frames frames{};
};

TEST_F(FramesTest, RejectsBadRanges) {
    meta.resize(4);
    EXPECT_EQ(frames_init(&frames, kBase + 8, kFrame, 4, meta.data()), FW_ERR_INVAL);
    EXPECT_EQ(frames_init(&frames, kBase, 3000, 4, meta.data()), FW_ERR_INVAL);
    EXPECT_EQ(frames_init(&frames, kBase, kFrame, 1u << 30, meta.data()), FW_ERR_INVAL);
    EXPECT_EQ(frames_init(&frames, kBase, kFrame, 4, nullptr), FW_ERR_INVAL);
}

TEST_F(FramesTest, AllocatesEveryFrameOnceThenReportsOutOfMemory) {
    init(16);
    std::set<hal_paddr_t> seen;
    for (int i = 0; i < 16; ++i) {
        const hal_paddr_t pa = frames_alloc(&frames);
        ASSERT_NE(pa, 0u);
        EXPECT_GE(pa, kBase);
        EXPECT_LT(pa, kBase + 16 * kFrame);
        EXPECT_EQ(pa % kFrame, 0u);
        EXPECT_EQ(frame_refcount(&frames, pa), 1u);
        EXPECT_TRUE(seen.insert(pa).second);
    }
    EXPECT_EQ(frames.in_use, 16u);
    EXPECT_EQ(frames.peak, 16u);
    EXPECT_EQ(frames_alloc(&frames), 0u);
    EXPECT_EQ(frames_alloc_block(&frames, 1), 0u);
    EXPECT_EQ(frames.in_use, 16u);
}

TEST_F(FramesTest, RefcountsFreeAtZeroAndFreedFramesAreReused) {
    init(4);
    const hal_paddr_t a = frames_alloc(&frames);
    EXPECT_EQ(frame_get(&frames, a), 2);
    EXPECT_EQ(frame_get(&frames, a), 3);
    EXPECT_EQ(frame_refcount(&frames, a), 3u);
    EXPECT_EQ(frame_put(&frames, a), 2);
    EXPECT_EQ(frame_put(&frames, a), 1);
    EXPECT_EQ(frames.in_use, 1u);
    EXPECT_EQ(frame_put(&frames, a), 0);
    EXPECT_EQ(frames.in_use, 0u);
    EXPECT_EQ(frames.peak, 1u);
    EXPECT_EQ(frame_refcount(&frames, a), 0u);
    // A free frame cannot be referenced or released again.
    EXPECT_EQ(frame_get(&frames, a), FW_ERR_INVAL);
    EXPECT_EQ(frame_put(&frames, a), FW_ERR_INVAL);
    // Nor can addresses that are not frames.
    EXPECT_EQ(frame_put(&frames, a + 8), FW_ERR_INVAL);
    EXPECT_EQ(frame_put(&frames, kBase - kFrame), FW_ERR_INVAL);
    EXPECT_EQ(frame_put(&frames, kBase + 4 * kFrame), FW_ERR_INVAL);
    // Last freed, first reused.
    const hal_paddr_t b = frames_alloc(&frames);
    const hal_paddr_t c = frames_alloc(&frames);
    EXPECT_NE(b, c);
    EXPECT_EQ(frame_put(&frames, c), 0);
    EXPECT_EQ(frames_alloc(&frames), c);
}

TEST_F(FramesTest, FreeingEverythingAllowsAFullReallocation) {
    init(32);
    std::vector<hal_paddr_t> all;
    for (int round = 0; round < 3; ++round) {
        all.clear();
        for (int i = 0; i < 32; ++i)
            all.push_back(frames_alloc(&frames));
        EXPECT_EQ(frames_alloc(&frames), 0u);
        for (hal_paddr_t pa : all)
            ASSERT_EQ(frame_put(&frames, pa), 0);
        EXPECT_EQ(frames.in_use, 0u);
    }
    EXPECT_EQ(frames.peak, 32u);
}

TEST_F(FramesTest, BlocksAreNaturallyAligned) {
    // A base that is not 2 MiB aligned: blocks align on physical addresses, not on the range.
    const hal_paddr_t base = kBase + 3 * kFrame;
    init(2048, base);
    const hal_paddr_t single = frames_alloc(&frames);
    EXPECT_EQ(single, base);
    const hal_paddr_t block = frames_alloc_block(&frames, 9); // 2 MiB
    ASSERT_NE(block, 0u);
    EXPECT_EQ(block % (512 * kFrame), 0u);
    EXPECT_EQ(frames.in_use, 513u);
    EXPECT_EQ(frame_refcount(&frames, block), 1u);
    EXPECT_EQ(frame_refcount(&frames, block + 100 * kFrame), 1u); // tail reports the head
    // Tails are not frames one may reference on their own.
    EXPECT_EQ(frame_get(&frames, block + kFrame), FW_ERR_INVAL);
    EXPECT_EQ(frame_get(&frames, block), 2);
    EXPECT_EQ(frame_put(&frames, block), 1);
    EXPECT_EQ(frame_put(&frames, block), 0);
    EXPECT_EQ(frames.in_use, 1u);
    EXPECT_EQ(frame_refcount(&frames, block + 100 * kFrame), 0u);
    // The whole block is free again.
    EXPECT_EQ(frames_alloc_block(&frames, 9), block);
}

TEST_F(FramesTest, BlockOutOfMemoryWhenNoAlignedRunIsFree) {
    init(1024); // kBase is 2 MiB aligned: exactly two 2 MiB blocks fit
    const hal_paddr_t a = frames_alloc_block(&frames, 9);
    const hal_paddr_t b = frames_alloc_block(&frames, 9);
    ASSERT_NE(a, 0u);
    ASSERT_NE(b, 0u);
    EXPECT_EQ(frames_alloc_block(&frames, 9), 0u);
    EXPECT_EQ(frames_alloc(&frames), 0u);
    EXPECT_EQ(frames_alloc_block(&frames, 11), 0u); // larger than the whole range
    EXPECT_EQ(frames.in_use, 1024u);
    ASSERT_EQ(frame_put(&frames, a), 0);
    // One single frame in the freed block makes it unusable for another block.
    const hal_paddr_t single = frames_alloc(&frames);
    EXPECT_GE(single, a);
    EXPECT_LT(single, a + 512 * kFrame);
    EXPECT_EQ(frames_alloc_block(&frames, 9), 0u);
    EXPECT_EQ(frames_alloc_block(&frames, 8), single < a + 256 * kFrame ? a + 256 * kFrame : a);
}

TEST_F(FramesTest, FreedSingleFramesCanFormABlockAgain) {
    init(8);
    std::vector<hal_paddr_t> all;
    for (int i = 0; i < 8; ++i)
        all.push_back(frames_alloc(&frames));
    for (hal_paddr_t pa : all)
        frame_put(&frames, pa); // all on the free list now
    const hal_paddr_t block = frames_alloc_block(&frames, 3);
    EXPECT_EQ(block, kBase);
    EXPECT_EQ(frames.in_use, 8u);
    EXPECT_EQ(frames_alloc(&frames), 0u);
}

TEST_F(FramesTest, EmptyRangeHasNothing) {
    init(0);
    EXPECT_EQ(frames_alloc(&frames), 0u);
    EXPECT_EQ(frames_alloc_block(&frames, 1), 0u);
}

TEST_F(FramesTest, ASplitBlockGivesEveryFrameTheHeadsCount) {
    init(32);
    const hal_paddr_t head = frames_alloc_block(&frames, 3);
    ASSERT_NE(head, 0u);
    EXPECT_EQ(frames_block_order(&frames, head), 3u);
    EXPECT_EQ(frames_block_order(&frames, head + kFrame), 0u); // a tail heads nothing
    ASSERT_EQ(frame_get(&frames, head), 2);                    // two mappers
    EXPECT_EQ(frames_split_block(&frames, head), 3u);
    EXPECT_EQ(frames_block_order(&frames, head), 0u);
    EXPECT_EQ(frames_split_block(&frames, head), 0u); // once only
    for (unsigned i = 0; i < 8; ++i)
        EXPECT_EQ(frame_refcount(&frames, head + i * kFrame), 2u) << i;
    EXPECT_EQ(frames.in_use, 8u);
    // Every frame lives on its own now: one mapper drops them all, the other keeps one.
    for (unsigned i = 0; i < 8; ++i)
        EXPECT_EQ(frame_put(&frames, head + i * kFrame), 1);
    for (unsigned i = 1; i < 8; ++i)
        EXPECT_EQ(frame_put(&frames, head + i * kFrame), 0);
    EXPECT_EQ(frames.in_use, 1u);
    EXPECT_EQ(frame_refcount(&frames, head), 1u);
    EXPECT_EQ(frame_put(&frames, head), 0);
    EXPECT_EQ(frames.in_use, 0u);
    EXPECT_EQ(frames_split_block(&frames, head), 0u); // free: nothing to split
}

// Per-core lists (Linux's per-CPU page lists): a refill takes frames in the order frames_alloc
// would, a frame freed onto a list comes back first from that list only, and a drain keeps the
// most recently freed and returns the rest to the shared list.
TEST_F(FramesTest, PerCoreListsHandBackTheirOwnFramesMostRecentFirst) {
    init(16);
    EXPECT_EQ(frames_alloc_listed(&frames, 1), 0u); // an empty list has nothing
    ASSERT_EQ(frames_refill(&frames, 1, 4), 4u);
    EXPECT_EQ(frames.list_count[1], 4u);
    EXPECT_EQ(frames.in_use, 0u); // listed frames are free
    const hal_paddr_t a = frames_alloc_listed(&frames, 1);
    const hal_paddr_t b = frames_alloc_listed(&frames, 1);
    EXPECT_EQ(a, kBase);
    EXPECT_EQ(b, kBase + kFrame);
    EXPECT_EQ(frames_alloc(&frames), kBase + 4 * kFrame); // the shared path skips listed frames
    ASSERT_EQ(frame_put_listed(&frames, a, 2), 0);
    EXPECT_EQ(frames_alloc_listed(&frames, 1), kBase + 2 * kFrame); // not core 2's frame
    EXPECT_EQ(frames_alloc_listed(&frames, 2), a);                  // core 2's own, first
    EXPECT_EQ(frames.in_use, 4u);
}

TEST_F(FramesTest, DrainKeepsTheMostRecentAndFreesTheColdest) {
    init(8);
    std::vector<hal_paddr_t> got;
    for (int i = 0; i < 4; ++i)
        got.push_back(frames_alloc(&frames));
    for (hal_paddr_t pa : got)
        ASSERT_EQ(frame_put_listed(&frames, pa, 0), 0); // list: got[3], got[2], got[1], got[0]
    frames_drain(&frames, 0, 1);
    EXPECT_EQ(frames.list_count[0], 1u);
    EXPECT_EQ(frames_alloc(&frames), got[0]); // the shared list, last drained first
    EXPECT_EQ(frames_alloc_listed(&frames, 0), got[3]);
    EXPECT_EQ(frames_alloc_listed(&frames, 0), 0u);
    // A block needs the listed frames back in the unlisted state: it still finds its run.
    frames_drain(&frames, 0, 0);
    ASSERT_EQ(frame_put_listed(&frames, got[3], 0), 0);
    EXPECT_NE(frames_alloc_block(&frames, 2), 0u);
}

} // namespace
