// memory.c: the fault handlers (demand zero, protection faults, stack guard), prefault, out of
// memory; on every format through the implicit region (a run without a scenario) and on the
// 4 KiB formats through scenario-like VMAs.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "mm_fixture.h"

namespace fwtest {
namespace {

using tlmmu::test::caseName;
using tlmmu::test::FormatCase;

// ---- every format: one process whose implicit RWX region covers the whole VA space ----------

class ImplicitTest : public testing::TestWithParam<FormatCase>, public MmFixture {
  protected:
    ImplicitTest() : MmFixture(formatOf(GetParam())) {}

    // Frames of the format's page size, at most 1 GiB of them by default.
    void bootImplicit(std::uint32_t count = 0) {
        Boot b;
        b.frames = count != 0 ? count
                              : static_cast<std::uint32_t>(std::min<std::uint64_t>(
                                    4096, (std::uint64_t{1} << 30) >> format.pageShift()));
        boot(b);
        pid = create();
        ASSERT_EQ(fw_tables_in_use(k), 1u);
        ASSERT_EQ(switchTo(pid), FW_OK);
        hal().cycles = 0;
        // Both canonical halves (x86_32: all of 32 bits but the last page).
        const std::uint64_t half = std::uint64_t{1} << (format.vaBits() - 1);
        if (format.raw().id == PTE_FMT_X86_32) {
            ASSERT_EQ(map(pid, 0, (std::uint64_t{1} << 32) - page(), 7, FW_VMA_IMPLICIT), FW_OK);
        } else if (format.vaBits() >= 64) {
            ASSERT_EQ(map(pid, 0, half, 7, FW_VMA_IMPLICIT), FW_OK);
            ASSERT_EQ(map(pid, half, half - page(), 7, FW_VMA_IMPLICIT), FW_OK);
        } else {
            ASSERT_EQ(map(pid, 0, half, 7, FW_VMA_IMPLICIT), FW_OK);
            ASSERT_EQ(map(pid, ~(half - 1), half - page(), 7, FW_VMA_IMPLICIT), FW_OK);
        }
    }

    // A canonical VA with a different non-zero index at every level (as in the walk tests).
    std::uint64_t sampleVa() const { return 0x5A5A5A5A5A5A5A5Aull & lowMask(format.vaBits() - 1); }
    // Makes va canonical by sign-extending bit va_bits-1 (x86_32: truncates to 32 bits), and
    // keeps it off the last page (outside the region).
    std::uint64_t canonical(std::uint64_t va) const {
        va &= lowMask(format.vaBits());
        if (format.raw().id != PTE_FMT_X86_32 && format.vaBits() < 64 &&
            ((va >> (format.vaBits() - 1)) & 1))
            va |= ~lowMask(format.vaBits());
        const std::uint64_t top = format.raw().id == PTE_FMT_X86_32 ? lowMask(32) : ~0ull;
        if ((va | (page() - 1)) == top) va -= page();
        return va;
    }

    fw_fault_result fault(std::uint64_t va, fw_access a = FW_ACCESS_READ,
                          fw_fault_kind kind = FW_FAULT_NOT_PRESENT) {
        fw_fault_result r{};
        EXPECT_EQ(fw_fault(k, 0, tidOf(pid), va, a, kind, &r), FW_OK);
        return r;
    }

    hal_paddr_t translate(std::uint64_t va) {
        const WalkResult r = walk(pid, va, AccessType::Read);
        EXPECT_EQ(r.fault, FaultKind::None) << std::hex << va << " " << toString(r.fault);
        const std::uint64_t offset = va & lowMask(format.levelShift(r.entry.level));
        return (r.entry.ppn << format.pageShift()) | offset;
    }

    // Table nodes a set of mappings at `leaf_level` needs, counted without the firmware: the
    // root, plus for every level l below it that holds entries down to the leaves, one node per
    // distinct VA >> levelShift(l + 1).
    std::uint64_t expectedTables(const std::vector<std::uint64_t>& vas, unsigned leaf_level) {
        std::uint64_t nodes = 1;
        for (unsigned l = leaf_level; l + 1 < format.levels(); ++l) {
            std::set<std::uint64_t> distinct;
            for (std::uint64_t va : vas)
                distinct.insert((va & lowMask(format.vaBits())) >> format.levelShift(l + 1));
            nodes += distinct.size();
        }
        return nodes;
    }

    const struct fw_kernel_stats& stats() const { return *fw_kernel_stats(k); }

    int pid = 0;
};

INSTANTIATE_TEST_SUITE_P(AllFormats, ImplicitTest, testing::ValuesIn(tlmmu::test::kAllFormats),
                         caseName);

TEST_P(ImplicitTest, DemandFaultMapsAZeroPageThatTheWalkerTranslates) {
    bootImplicit();
    // Dirty every frame, so that a missing zero fill shows.
    for (std::uint32_t i = 0; i < frames->count; ++i)
        hal().write(kFramesBase + (std::uint64_t{i} << format.pageShift()), ~0ull, 4);
    const std::uint64_t va = sampleVa() | 0x3f8;

    WalkResult r = walk(pid, va, AccessType::Read);
    ASSERT_EQ(r.fault, FaultKind::NotPresent);
    EXPECT_EQ(fault(va).cls, FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(hal().cycles, kEntry + kExit);
    EXPECT_EQ(stats().demand_faults, 1u);
    EXPECT_EQ(stats().demand_faults_by_level[0], 1u);
    EXPECT_EQ(stats().frames_mapped, 1u);
    EXPECT_EQ(stats().leaves_by_level[0], 1u);
    EXPECT_EQ(fw_tables_in_use(k), format.levels());
    EXPECT_EQ(frames->in_use, format.levels() + 1);

    // The mapping: user RWX, A and D clear (the walker sets them), base page.
    r = walk(pid, va, AccessType::Read);
    ASSERT_EQ(r.fault, FaultKind::None) << toString(r.fault);
    EXPECT_EQ(r.entry.level, 0);
    EXPECT_EQ(r.entry.asid, fw_process_asid(k, pid, 0));
    EXPECT_EQ(r.writes, 1u); // A
    EXPECT_EQ(r.entry.flags & (PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_U | PTE_F_D),
              PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_U);
    r = walk(pid, va, AccessType::Write);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.writes, 1u); // D
    const hal_paddr_t pa = translate(va);
    const hal_paddr_t frame = pa & ~lowMask(format.pageShift());
    EXPECT_GE(frame, kFramesBase);
    EXPECT_LT(frame, kFramesBase + (std::uint64_t{frames->count} << format.pageShift()));
    EXPECT_EQ(frame_refcount(frames, frame), 1u);
    EXPECT_EQ(hal().read(frame, 8), 0u);
    EXPECT_EQ(hal().read(std::min(pa, frame + page() - 8), 8), 0u); // inside the page

    // A second NotPresent fault for the same page (another core got there first) is handled
    // without a new frame.
    EXPECT_EQ(fault(va, FW_ACCESS_WRITE).cls, FW_FAULT_CLASS_SPURIOUS);
    EXPECT_EQ(stats().demand_faults, 1u);
    EXPECT_EQ(stats().frames_mapped, 1u);
    EXPECT_EQ(translate(va), pa);
    EXPECT_EQ(hal().cycles, 2 * (kEntry + kExit));
}

TEST_P(ImplicitTest, OtherFaultKindsKillWithBadPteAndStillCost) {
    for (fw_fault_kind kind : {FW_FAULT_RESERVED_BITS, FW_FAULT_MISALIGNED_SUPERPAGE,
                               FW_FAULT_BUS_ERROR, FW_FAULT_NON_CANONICAL}) {
        bootImplicit();
        const fw_fault_result r = fault(sampleVa(), FW_ACCESS_READ, kind);
        EXPECT_EQ(r.cls, FW_FAULT_CLASS_PROTECTION);
        EXPECT_EQ(r.reason, FW_KILL_BAD_PTE);
        EXPECT_EQ(hal().cycles, kEntry + kExit);
        EXPECT_EQ(fw_process_killed(k, pid), FW_KILL_BAD_PTE);
        expectAllReturned();
    }
    // FW_FAULT_NONE is not a fault: refused, nothing charged.
    bootImplicit();
    fw_fault_result r{};
    EXPECT_EQ(fw_fault(k, 0, tidOf(pid), sampleVa(), FW_ACCESS_READ, FW_FAULT_NONE, &r),
              FW_ERR_INVAL);
    EXPECT_EQ(fw_fault(k, 0, 999, sampleVa(), FW_ACCESS_READ, FW_FAULT_NOT_PRESENT, &r),
              FW_ERR_INVAL);
    EXPECT_EQ(fw_fault(k, 7, tidOf(pid), sampleVa(), FW_ACCESS_READ, FW_FAULT_NOT_PRESENT, &r),
              FW_ERR_INVAL);
    EXPECT_EQ(hal().cycles, 0u);
    EXPECT_EQ(frames->in_use, 1u);
    EXPECT_EQ(walk(pid, sampleVa(), AccessType::Read).fault, FaultKind::NotPresent);
}

TEST(MemoryEnumsTest, FaultAndAccessEnumsMatchTheModel) {
    EXPECT_EQ(static_cast<int>(FaultKind::NotPresent), FW_FAULT_NOT_PRESENT);
    EXPECT_EQ(static_cast<int>(FaultKind::Permission), FW_FAULT_PERMISSION);
    EXPECT_EQ(static_cast<int>(FaultKind::ReservedBits), FW_FAULT_RESERVED_BITS);
    EXPECT_EQ(static_cast<int>(FaultKind::MisalignedSuperpage), FW_FAULT_MISALIGNED_SUPERPAGE);
    EXPECT_EQ(static_cast<int>(FaultKind::BusError), FW_FAULT_BUS_ERROR);
    EXPECT_EQ(static_cast<int>(FaultKind::NonCanonical), FW_FAULT_NON_CANONICAL);
    EXPECT_EQ(static_cast<int>(AccessType::Read), FW_ACCESS_READ);
    EXPECT_EQ(static_cast<int>(AccessType::Write), FW_ACCESS_WRITE);
    EXPECT_EQ(static_cast<int>(AccessType::Execute), FW_ACCESS_EXECUTE);
}

TEST_P(ImplicitTest, TableNodeCountMatchesDistinctNodesOfTheTouchedPages) {
    bootImplicit();
    // Clusters of nearby pages scattered over the whole VA space (both halves where the
    // format sign-extends), so that tables are shared at some levels and not at others.
    std::mt19937_64 rng(12345);
    std::vector<std::uint64_t> vas;
    for (int cluster = 0; cluster < 12; ++cluster) {
        const std::uint64_t base = canonical(rng());
        const int pages = 1 + static_cast<int>(rng() % 24);
        for (int i = 0; i < pages; ++i) {
            const std::uint64_t step = (rng() % 700) << format.pageShift();
            vas.push_back(canonical(base + step) | (rng() & lowMask(format.pageShift())));
        }
    }
    std::set<std::uint64_t> pages;
    for (std::uint64_t va : vas) {
        const fw_fault_result r = fault(va);
        ASSERT_NE(r.cls, FW_FAULT_CLASS_PROTECTION) << std::hex << va;
        pages.insert(va >> format.pageShift());
    }
    EXPECT_EQ(fw_tables_in_use(k), expectedTables(vas, 0));
    EXPECT_EQ(stats().demand_faults, pages.size());
    EXPECT_EQ(stats().frames_mapped, pages.size());
    EXPECT_EQ(frames->in_use, fw_tables_in_use(k) + pages.size());
    EXPECT_EQ(frames->peak, frames->in_use);

    // Every page translates, to its own frame, with the offset kept.
    std::set<hal_paddr_t> distinct;
    for (std::uint64_t va : vas) {
        const hal_paddr_t pa = translate(va);
        EXPECT_EQ(pa & lowMask(format.pageShift()), va & lowMask(format.pageShift()));
        distinct.insert(pa >> format.pageShift());
    }
    EXPECT_EQ(distinct.size(), pages.size());
    ASSERT_EQ(exitProcess(pid), FW_OK);
    expectAllReturned();
}

TEST_P(ImplicitTest, PrefaultMapsWithAccessedAndDirtyAndNoFaultCost) {
    bootImplicit();
    const std::uint64_t va = sampleVa();
    ASSERT_EQ(fw_prefault(k, pid, va), FW_OK);
    ASSERT_EQ(fw_prefault(k, pid, va), FW_OK); // already mapped: nothing new
    EXPECT_EQ(hal().cycles, 0u);
    EXPECT_EQ(stats().demand_faults, 0u);
    EXPECT_EQ(stats().frames_mapped, 1u);
    EXPECT_EQ(stats().leaves_by_level[0], 1u);
    const WalkResult r = walk(pid, va, AccessType::Write);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.writes, 0u);
    EXPECT_EQ(r.entry.flags & (PTE_F_A | PTE_F_D), PTE_F_A | PTE_F_D);
    // A later fault on the page is spurious.
    EXPECT_EQ(fault(va).cls, FW_FAULT_CLASS_SPURIOUS);
    EXPECT_EQ(stats().demand_faults, 0u);
    // Outside every VMA (the last page is left out of the region), and bad pids.
    const std::uint64_t top = format.raw().id == PTE_FMT_X86_32 ? lowMask(32) : ~0ull;
    EXPECT_EQ(fw_prefault(k, pid, top - 7), FW_ERR_NOT_MAPPED);
    EXPECT_EQ(fw_prefault(k, pid + 1, va), FW_ERR_INVAL);
}

TEST_P(ImplicitTest, OutOfFramesKillsWithoutLeaks) {
    // Root + (levels - 1) tables + 1 page are needed; one frame short.
    bootImplicit(format.levels());
    const std::uint64_t va = sampleVa();
    EXPECT_EQ(fw_prefault(k, pid, va), FW_ERR_NOMEM);
    const fw_fault_result r = fault(va);
    EXPECT_EQ(r.cls, FW_FAULT_CLASS_PROTECTION);
    EXPECT_EQ(r.reason, FW_KILL_OUT_OF_MEMORY);
    EXPECT_EQ(hal().cycles, kEntry + kExit);
    EXPECT_EQ(stats().demand_faults, 0u);
    EXPECT_EQ(stats().frames_mapped, 0u);
    expectAllReturned(); // the process died with everything it had

    bootImplicit(format.levels() + 1);
    EXPECT_EQ(fault(va).cls, FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(frames->in_use, format.levels() + 1);
    EXPECT_EQ(walk(pid, va, AccessType::Read).fault, FaultKind::None);
    const std::uint64_t other = va ^ (std::uint64_t{1} << format.pageShift());
    EXPECT_EQ(fault(other).reason, FW_KILL_OUT_OF_MEMORY);
}

TEST_P(ImplicitTest, NoFrameForTheRoot) {
    Boot b;
    b.frames = 0;
    hal().reset(kPhysBytes);
    meta.assign(1, 0);
    rmap.assign(1, fw_frame_rmap{});
    storage.assign(fw_kernel_size() / 8 + 1, 0);
    k = reinterpret_cast<fw_kernel*>(storage.data());
    fw_kernel_config config{};
    config.format = format.raw();
    config.frames_base = kFramesBase;
    config.frame_meta = meta.data();
    config.rmap = rmap.data();
    config.cores = 1;
    ASSERT_EQ(fw_kernel_init(k, &config, nullptr), FW_OK);
    int p = 0, t = 0;
    EXPECT_EQ(fw_process_create(k, 0, &p, &t), FW_ERR_NOMEM);
}

// ---- 4 KiB formats: scenario VMAs ------------------------------------------------------------

class MemoryTest : public MmTest {};
INSTANTIATE_TEST_SUITE_P(Formats, MemoryTest, testing::ValuesIn(kSmallFormats), caseName);

TEST_P(MemoryTest, DemandZeroNoFrameBeforeTouchZeroFilledAfter) {
    boot();
    for (std::uint32_t i = 0; i < frames->count; ++i) // dirty every frame
        hal().write(kFramesBase + std::uint64_t{i} * kPage, ~0ull, 8);
    const int a = create();
    ASSERT_EQ(map(a, kData, 64 * kPage, kRW), FW_OK);
    EXPECT_EQ(fw_frames_in_use(k), 0u);
    EXPECT_EQ(fw_tables_in_use(k), 1u);
    EXPECT_EQ(walk(a, kData + 5 * kPage, AccessType::Read).fault, FaultKind::NotPresent);

    hal().cycles = 0;
    hal_paddr_t pa = 0;
    EXPECT_EQ(access(a, kData + 5 * kPage + 8, AccessType::Read, &pa), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(hal().cycles, kEntry + kExit);
    EXPECT_EQ(fw_frames_in_use(k), 1u);
    EXPECT_EQ(fw_process_stats(k, a)->faults[FW_FAULT_CLASS_DEMAND_ZERO], 1u);
    EXPECT_EQ(fw_process_stats(k, a)->demand_faults_by_level[0], 1u);
    EXPECT_EQ(fw_process_stats(k, a)->frames_in_use, 1u);
    for (std::uint64_t off = 0; off < kPage; off += 8)
        ASSERT_EQ(hal().read((pa & ~(kPage - 1)) + off, 8), 0u);

    // The PTE as the firmware wrote it (before this walk set A): user, R/W, A/D clear.
    const std::uint64_t va2 = kData + 9 * kPage;
    fw_fault_result result{};
    ASSERT_EQ(fw_fault(k, 0, tidOf(a), va2, FW_ACCESS_WRITE, FW_FAULT_NOT_PRESENT, &result), FW_OK);
    std::uint64_t raw = 0;
    unsigned level = 9;
    ASSERT_EQ(pt_lookup(k, fw_process_root(k, a), va2, &raw, &level, nullptr), FW_OK);
    pte_decoded d{};
    pte_decode(&format.raw(), raw, 0, &d, nullptr);
    EXPECT_EQ(level, 0u);
    EXPECT_EQ(d.flags & (PTE_F_R | PTE_F_W | PTE_F_U | PTE_F_A | PTE_F_D),
              PTE_F_R | PTE_F_W | PTE_F_U);
    if (format.raw().id != PTE_FMT_X86_32) { // x86_32 cannot express no-execute
        EXPECT_EQ(d.flags & PTE_F_X, 0u);
    }
    // Untouched neighbours still have nothing.
    EXPECT_EQ(walk(a, kData + 6 * kPage, AccessType::Read).fault, FaultKind::NotPresent);
    EXPECT_EQ(fw_frames_in_use(k), 2u);
}

TEST_P(MemoryTest, EveryProtectionFaultKillsWithItsReasonAndFreesTheProcess) {
    boot();
    struct Case {
        std::uint64_t va;
        AccessType type;
        fw_fault_kind kind; // FW_FAULT_NONE: whatever the walker reports
        fw_kill_reason reason;
    };
    const Case cases[] = {
        {kData + 100 * kPage, AccessType::Read, FW_FAULT_NONE, FW_KILL_NO_VMA},
        {kData + 4 * kPage, AccessType::Write, FW_FAULT_NONE, FW_KILL_WRITE_RO},
        // Untouched page: x86_32 has no NX, so a present page would let the fetch through.
        {kData + 2 * kPage, AccessType::Execute, FW_FAULT_NONE, FW_KILL_EXEC_NX},
        {kData + 8 * kPage, AccessType::Read, FW_FAULT_NONE, FW_KILL_READ_NR},
        {kStack - 8, AccessType::Write, FW_FAULT_NONE, FW_KILL_GUARD_PAGE},
        {kData, AccessType::Read, FW_FAULT_RESERVED_BITS, FW_KILL_BAD_PTE},
    };
    const int bystander = create(1);
    ASSERT_EQ(map(bystander, kData, kPage, kRW), FW_OK);
    write64(bystander, kData, 42);
    for (const Case& c : cases) {
        SCOPED_TRACE(c.reason);
        const int p = create();
        const int second = thread(p, 1); // every task of the process dies with it
        ASSERT_EQ(map(p, kData, 4 * kPage, kRW), FW_OK);
        ASSERT_EQ(map(p, kData + 4 * kPage, 4 * kPage, FW_PROT_R), FW_OK);
        ASSERT_EQ(map(p, kData + 8 * kPage, kPage, FW_PROT_X), FW_OK);
        ASSERT_EQ(map(p, kStack, 4 * kPage, kRW, FW_VMA_STACK), FW_OK);
        write64(p, kData, 1);
        write64(p, kStack, 2);
        kill_reason = FW_KILL_NONE;
        if (c.kind == FW_FAULT_NONE) {
            EXPECT_EQ(access(p, c.va, c.type), FW_FAULT_CLASS_PROTECTION);
        } else {
            fw_fault_result result{};
            ASSERT_EQ(
                fw_fault(k, 0, tidOf(p), c.va, static_cast<fw_access>(c.type), c.kind, &result),
                FW_OK);
            EXPECT_EQ(result.cls, FW_FAULT_CLASS_PROTECTION);
            kill_reason = result.reason;
        }
        EXPECT_EQ(kill_reason, c.reason);
        EXPECT_STRNE(fw_kill_reason_str(kill_reason), fw_kill_reason_str(FW_KILL_NONE));
        EXPECT_EQ(fw_process_killed(k, p), c.reason);
        EXPECT_EQ(fw_process_stats(k, p)->faults[FW_FAULT_CLASS_PROTECTION], 1u);
        EXPECT_EQ(fw_process_root(k, p), 0u); // gone, like exit
        EXPECT_EQ(fw_task_pid(k, second), FW_ERR_INVAL);
        EXPECT_EQ(fw_process_tasks(k, p), 0u);
        EXPECT_EQ(map(p, kData, kPage, FW_PROT_R), FW_ERR_INVAL);
        EXPECT_EQ(fw_frames_in_use(k), 1u); // only the bystander's page
        EXPECT_EQ(read64(bystander, kData), 42u);
    }
    ASSERT_EQ(exitProcess(bystander), FW_OK);
    expectAllReturned();
}

TEST_P(MemoryTest, StackWorksDownToItsStartAndTheGuardPageKills) {
    boot();
    const int p = create();
    ASSERT_EQ(map(p, kStack, 4 * kPage, kRW, FW_VMA_STACK), FW_OK);
    for (std::uint64_t va = kStack + 4 * kPage - 8; va >= kStack; va -= kPage)
        EXPECT_EQ(write64(p, va, va), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(write64(p, kStack, 1), FW_FAULT_CLASS_NONE);
    EXPECT_EQ(fw_prefault(k, p, kStack - kPage), FW_ERR_NOT_MAPPED);
    EXPECT_EQ(access(p, kStack - kPage, AccessType::Read), FW_FAULT_CLASS_PROTECTION);
    EXPECT_EQ(kill_reason, FW_KILL_GUARD_PAGE);
    expectAllReturned();
}

} // namespace
} // namespace fwtest
