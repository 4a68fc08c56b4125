// refill.c: the software TLB refill writes what the hardware walker would.
#include <gtest/gtest.h>

#include "mm_fixture.h"

namespace fwtest {
namespace {

using tlmmu::test::caseName;

class RefillTest : public MmTest {};
INSTANTIATE_TEST_SUITE_P(Formats, RefillTest, testing::ValuesIn(kSmallFormats), caseName);

TEST_P(RefillTest, SoftwareRefillWritesWhatTheHardwareWalkerWould) {
    boot();
    const int p = create();
    ASSERT_EQ(switchTo(p, 0), FW_OK);
    ASSERT_EQ(map(p, kData, 4 * kPage, kRW), FW_OK);
    ASSERT_EQ(map(p, kData + 8 * kPage, kPage, FW_PROT_R | FW_PROT_X), FW_OK);
    // Nothing mapped yet: the refill reports a fault, writes no entry.
    EXPECT_EQ(fw_tlb_refill(k, 0, tidOf(p), kData, FW_ACCESS_READ), FW_ERR_FAULT);
    fw_fault_result r{};
    ASSERT_EQ(fw_fault(k, 0, tidOf(p), kData, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT, &r), FW_OK);
    ASSERT_EQ(fw_fault(k, 0, tidOf(p), kData + kPage, FW_ACCESS_WRITE, FW_FAULT_NOT_PRESENT, &r),
              FW_OK);
    ASSERT_EQ(
        fw_fault(k, 0, tidOf(p), kData + 8 * kPage, FW_ACCESS_EXECUTE, FW_FAULT_NOT_PRESENT, &r),
        FW_OK);
    struct Case {
        std::uint64_t va;
        fw_access access;
    };
    const Case cases[] = {{kData + 0x10, FW_ACCESS_READ},
                          {kData + kPage + 0x20, FW_ACCESS_WRITE},
                          {kData + 0x18, FW_ACCESS_WRITE}, // D was clear: set now
                          {kData + 8 * kPage, FW_ACCESS_EXECUTE},
                          {kData + 8 * kPage + 8, FW_ACCESS_READ}};
    for (const Case& c : cases) {
        hal().tlb_writes.clear();
        const std::uint64_t reads = hal().reads;
        ASSERT_EQ(fw_tlb_refill(k, 0, tidOf(p), c.va, c.access), FW_OK);
        EXPECT_GE(hal().reads - reads, format.levels()); // a timed software walk
        ASSERT_EQ(hal().tlb_writes.size(), 1u);
        const hal_tlb_entry& e = hal().tlb_writes[0];
        // The hardware walker on the same table now: same entry, and nothing left to update
        // (the refill set A/D as the walker would have).
        const WalkResult w = walk(p, c.va, static_cast<AccessType>(c.access));
        ASSERT_EQ(w.fault, FaultKind::None);
        EXPECT_EQ(w.writes, 0u);
        EXPECT_EQ(e.vpn, w.entry.vpn);
        EXPECT_EQ(e.ppn, w.entry.ppn);
        EXPECT_EQ(e.asid, w.entry.asid);
        EXPECT_EQ(e.level, w.entry.level);
        EXPECT_EQ(e.flags, w.entry.flags);
        EXPECT_EQ(e.asid, fw_process_asid(k, p, 0));
    }
    // Accesses the PTE does not allow fault (the caller then takes fw_fault).
    if (format.raw().id != PTE_FMT_X86_32) {
        EXPECT_EQ(fw_tlb_refill(k, 0, tidOf(p), kData, FW_ACCESS_EXECUTE), FW_ERR_FAULT);
    }
    EXPECT_EQ(fw_tlb_refill(k, 0, tidOf(p), kData + 8 * kPage, FW_ACCESS_WRITE), FW_ERR_FAULT);
    EXPECT_EQ(fw_tlb_refill(k, 0, tidOf(p), kData + 2 * kPage, FW_ACCESS_READ), FW_ERR_FAULT);
}

} // namespace
} // namespace fwtest
