// sched.c: context switches, ASID allocation and recycling, cpu_mask.
#include <gtest/gtest.h>

#include "mm_fixture.h"

namespace fwtest {
namespace {

using tlmmu::test::caseName;

class SchedTest : public MmTest {};
INSTANTIATE_TEST_SUITE_P(Formats, SchedTest, testing::ValuesIn(kSmallFormats), caseName);

TEST_P(SchedTest, AsidsRecycledLeastRecentlyUsedWithAFlush) {
    Boot b;
    b.asid_bits = 2; // ASIDs 1..3
    boot(b);
    std::vector<int> pids;
    for (int i = 0; i < 5; ++i)
        pids.push_back(create());
    hal().cycles = 0;
    unsigned switches = 0;
    for (int round = 0; round < 3; ++round) {
        for (int pid : pids) {
            hal().invalidations.clear();
            ASSERT_EQ(switchTo(pid, 0), FW_OK);
            ++switches;
            const std::uint16_t asid = fw_process_asid(k, pid, 0);
            EXPECT_GE(asid, 1u);
            EXPECT_LE(asid, 3u);
            EXPECT_EQ(hal().root, fw_process_root(k, pid));
            EXPECT_EQ(hal().root_asid, asid);
            // The first three ASIDs were never used: no flush. After that each switch (round
            // robin over 5 > 3) robs the least recently used holder and flushes its ASID.
            if (switches <= 3) {
                EXPECT_TRUE(hal().invalidations.empty());
            } else {
                ASSERT_EQ(hal().invalidations.size(), 1u);
                EXPECT_EQ(hal().invalidations[0].kind, HAL_FLUSH_ASID);
                EXPECT_EQ(hal().invalidations[0].asid, asid);
            }
            // No two live processes hold the same ASID on a core (no homonyms in the TLB).
            std::set<std::uint16_t> held;
            unsigned holders = 0;
            for (int q : pids)
                if (fw_process_asid(k, q, 0) != 0) {
                    held.insert(fw_process_asid(k, q, 0));
                    ++holders;
                }
            EXPECT_EQ(held.size(), holders);
        }
    }
    EXPECT_EQ(hal().cycles, switches * kSwitch);
    std::uint64_t flushes = 0, ctx = 0;
    for (int pid : pids) {
        flushes += fw_process_stats(k, pid)->tlb_flushes;
        ctx += fw_process_stats(k, pid)->context_switches;
    }
    EXPECT_EQ(flushes, switches - 3);
    EXPECT_EQ(ctx, switches);
    // Switching back to a holder costs no flush; ASIDs are per core.
    hal().invalidations.clear();
    ASSERT_EQ(switchTo(pids.back(), 0), FW_OK);
    EXPECT_TRUE(hal().invalidations.empty());
    ASSERT_EQ(switchTo(pids.front(), 1), FW_OK);
    EXPECT_EQ(fw_process_asid(k, pids.front(), 1), 1u);
}

TEST_P(SchedTest, WithoutAsidsEverySwitchFlushesTheWholeTlb) {
    Boot b;
    b.asid_bits = 0;
    boot(b);
    const int a = create(), c = create();
    for (int i = 0; i < 4; ++i) {
        const int pid = i % 2 ? c : a;
        hal().invalidations.clear();
        ASSERT_EQ(switchTo(pid, 0), FW_OK);
        ASSERT_EQ(hal().invalidations.size(), 1u);
        EXPECT_EQ(hal().invalidations[0].kind, HAL_FLUSH_ALL);
        EXPECT_EQ(hal().root, fw_process_root(k, pid));
        EXPECT_EQ(hal().root_asid, 0u);
    }
    EXPECT_EQ(fw_process_stats(k, a)->tlb_flushes, 2u);
    EXPECT_EQ(fw_process_stats(k, c)->tlb_flushes, 2u);
    EXPECT_EQ(fw_process_stats(k, a)->context_switches, 2u);
    // Same VA, different data: each process only ever reaches its own page.
    for (int pid : {a, c})
        ASSERT_EQ(map(pid, kData, kPage, kRW), FW_OK);
    write64(a, kData, 0xAAAA);
    write64(c, kData, 0xCCCC);
    EXPECT_EQ(read64(a, kData), 0xAAAAu);
    EXPECT_EQ(read64(c, kData), 0xCCCCu);
}

} // namespace
} // namespace fwtest
