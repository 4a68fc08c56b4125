// The firmware kernel on a fake HAL, checked with the hardware model's walker: demand faults,
// table-node counts against an independent count, superpages, prefaults, out of memory.
#include "support/FormatCases.h"
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fake_hal.h"
#include "kernel/kernel.h"
#include "mmu/PageTableWalk.h"

namespace {

using fakehal::hal;
using fakehal::HalPteMemory;
using tlmmu::AccessType;
using tlmmu::FaultKind;
using tlmmu::Privilege;
using tlmmu::PteFormat;
using tlmmu::WalkResult;

std::uint64_t lowMask(unsigned bits) {
    return bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
}

using tlmmu::test::caseName;
using tlmmu::test::FormatCase;
constexpr const auto& kFormats = tlmmu::test::kAllFormats;

constexpr std::uint64_t kEntryCycles = 100;
constexpr std::uint64_t kExitCycles = 50;
constexpr hal_paddr_t kFramesBase = hal_paddr_t{1} << 30;
constexpr std::uint64_t kPhysBytes = std::uint64_t{1} << 32; // fits every format's PA width

class KernelTest : public testing::TestWithParam<FormatCase> {
  protected:
    KernelTest()
        : format(PteFormat::fromName(GetParam().name, "mmu.format", GetParam().page_bits,
                                     GetParam().pte_bytes, GetParam().levels)) {}

    // Frames of the format's page size from 1 GiB up, at most 1 GiB of them by default.
    void boot(unsigned page_level = 0, std::uint32_t frames = 0) {
        if (frames == 0)
            frames = static_cast<std::uint32_t>(
                std::min<std::uint64_t>(4096, (std::uint64_t{1} << 30) >> format.pageShift()));
        hal().reset(kPhysBytes);
        meta.assign(frames + 1, 0);
        fw_kernel_config config{};
        config.format = format.raw();
        config.frames_base = kFramesBase;
        config.frame_count = frames;
        config.frame_meta = meta.data();
        config.page_level = page_level;
        config.fault_entry_cycles = kEntryCycles;
        config.fault_exit_cycles = kExitCycles;
        ASSERT_EQ(fw_kernel_init(&kernel, &config), FW_OK);
        ASSERT_EQ(fw_space_create(&kernel, &space, 3), FW_OK);
        EXPECT_EQ(kernel.tables_in_use, 1u);
        EXPECT_EQ(hal().set_root_calls, 0u); // installing the space is the caller's decision
    }

    // A canonical VA with a different non-zero index at every level (as in the walk tests).
    std::uint64_t sampleVa() const { return 0x5A5A5A5A5A5A5A5Aull & lowMask(format.vaBits() - 1); }
    // Makes va canonical by sign-extending bit va_bits-1 (x86_32: truncates to 32 bits).
    std::uint64_t canonical(std::uint64_t va) const {
        va &= lowMask(format.vaBits());
        if (format.raw().id != PTE_FMT_X86_32 && format.vaBits() < 64 &&
            ((va >> (format.vaBits() - 1)) & 1))
            va |= ~lowMask(format.vaBits());
        return va;
    }

    WalkResult walk(std::uint64_t va, AccessType access = AccessType::Read) {
        tlmmu::WalkRequest request;
        request.va = va;
        request.asid = space.asid;
        request.access = access;
        request.priv = Privilege::User;
        request.root = space.root;
        return tlmmu::walkPageTable(format, request, memory);
    }

    hal_paddr_t translate(std::uint64_t va) {
        const WalkResult r = walk(va);
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

    PteFormat format;
    std::vector<std::uint32_t> meta;
    fw_kernel kernel{};
    fw_space space{};
    HalPteMemory memory;
};

INSTANTIATE_TEST_SUITE_P(AllFormats, KernelTest, testing::ValuesIn(kFormats), caseName);

TEST_P(KernelTest, DemandFaultMapsAZeroPageThatTheWalkerTranslates) {
    boot();
    // Dirty every frame, so that a missing zero fill shows.
    for (std::uint32_t i = 0; i < kernel.frames.count; ++i)
        hal().write(kFramesBase + (std::uint64_t{i} << format.pageShift()), ~0ull, 4);
    const std::uint64_t va = sampleVa() | 0x3f8;

    WalkResult r = walk(va);
    ASSERT_EQ(r.fault, FaultKind::NotPresent);
    ASSERT_EQ(fw_handle_fault(&kernel, &space, va, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT), FW_OK);
    EXPECT_EQ(hal().cycles, kEntryCycles + kExitCycles);
    EXPECT_EQ(kernel.demand_faults, 1u);
    EXPECT_EQ(kernel.frames_mapped, 1u);
    EXPECT_EQ(kernel.tables_in_use, format.levels());
    EXPECT_EQ(kernel.frames.in_use, format.levels() + 1);

    // The mapping: user RWX, A and D clear (the walker sets them), base page.
    r = walk(va);
    ASSERT_EQ(r.fault, FaultKind::None) << toString(r.fault);
    EXPECT_EQ(r.entry.level, 0);
    EXPECT_EQ(r.entry.asid, 3);
    EXPECT_EQ(r.writes, 1u); // A
    EXPECT_EQ(r.entry.flags & (PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_U | PTE_F_D),
              PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_U);
    r = walk(va, AccessType::Write);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.writes, 1u); // D
    const hal_paddr_t pa = translate(va);
    const hal_paddr_t frame = pa & ~lowMask(format.pageShift());
    EXPECT_GE(frame, kFramesBase);
    EXPECT_LT(frame, kFramesBase + (std::uint64_t{kernel.frames.count} << format.pageShift()));
    EXPECT_EQ(frame_refcount(&kernel.frames, frame), 1u);
    EXPECT_EQ(hal().read(frame, 8), 0u);
    EXPECT_EQ(hal().read(pa, 8), 0u);

    // A second NotPresent fault for the same page (another core got there first) is handled
    // without a new frame.
    ASSERT_EQ(fw_handle_fault(&kernel, &space, va, FW_ACCESS_WRITE, FW_FAULT_NOT_PRESENT), FW_OK);
    EXPECT_EQ(kernel.demand_faults, 1u);
    EXPECT_EQ(kernel.frames_mapped, 1u);
    EXPECT_EQ(translate(va), pa);
    EXPECT_EQ(hal().cycles, 2 * (kEntryCycles + kExitCycles));
}

TEST_P(KernelTest, OtherFaultKindsAreNotHandledYetButStillCost) {
    boot();
    for (fw_fault_kind kind :
         {FW_FAULT_PERMISSION, FW_FAULT_RESERVED_BITS, FW_FAULT_MISALIGNED_SUPERPAGE,
          FW_FAULT_BUS_ERROR, FW_FAULT_NON_CANONICAL, FW_FAULT_NONE}) {
        EXPECT_EQ(fw_handle_fault(&kernel, &space, sampleVa(), FW_ACCESS_READ, kind),
                  FW_ERR_UNSUPPORTED);
    }
    EXPECT_EQ(hal().cycles, 6 * (kEntryCycles + kExitCycles));
    EXPECT_EQ(kernel.frames.in_use, 1u);
    EXPECT_EQ(walk(sampleVa()).fault, FaultKind::NotPresent);
}

TEST(KernelEnumsTest, FaultAndAccessEnumsMatchTheModel) {
    EXPECT_EQ(static_cast<int>(FaultKind::NotPresent), FW_FAULT_NOT_PRESENT);
    EXPECT_EQ(static_cast<int>(FaultKind::Permission), FW_FAULT_PERMISSION);
    EXPECT_EQ(static_cast<int>(FaultKind::ReservedBits), FW_FAULT_RESERVED_BITS);
    EXPECT_EQ(static_cast<int>(FaultKind::MisalignedSuperpage), FW_FAULT_MISALIGNED_SUPERPAGE);
    EXPECT_EQ(static_cast<int>(FaultKind::BusError), FW_FAULT_BUS_ERROR);
    EXPECT_EQ(static_cast<int>(FaultKind::NonCanonical), FW_FAULT_NON_CANONICAL);
    EXPECT_EQ(static_cast<int>(AccessType::Write), FW_ACCESS_WRITE);
    EXPECT_EQ(static_cast<int>(AccessType::Execute), FW_ACCESS_EXECUTE);
}

TEST_P(KernelTest, TableNodeCountMatchesDistinctNodesOfTheTouchedPages) {
    boot();
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
        ASSERT_EQ(fw_handle_fault(&kernel, &space, va, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT), FW_OK)
            << std::hex << va;
        pages.insert(va >> format.pageShift());
    }
    EXPECT_EQ(kernel.tables_in_use, expectedTables(vas, 0));
    EXPECT_EQ(kernel.demand_faults, pages.size());
    EXPECT_EQ(kernel.frames_mapped, pages.size());
    EXPECT_EQ(kernel.frames.in_use, kernel.tables_in_use + pages.size());
    EXPECT_EQ(kernel.frames.peak, kernel.frames.in_use);

    // Every page translates, to its own frame, with the offset kept.
    std::set<hal_paddr_t> frames;
    for (std::uint64_t va : vas) {
        const hal_paddr_t pa = translate(va);
        EXPECT_EQ(pa & lowMask(format.pageShift()), va & lowMask(format.pageShift()));
        frames.insert(pa >> format.pageShift());
    }
    EXPECT_EQ(frames.size(), pages.size());
}

TEST_P(KernelTest, PrefaultMapsWithAccessedAndDirtyAndNoFaultCost) {
    boot();
    const std::uint64_t va = sampleVa();
    ASSERT_EQ(fw_prefault(&kernel, &space, va), FW_OK);
    ASSERT_EQ(fw_prefault(&kernel, &space, va), FW_OK); // already mapped: nothing new
    EXPECT_EQ(hal().cycles, 0u);
    EXPECT_EQ(kernel.demand_faults, 0u);
    EXPECT_EQ(kernel.frames_mapped, 1u);
    const WalkResult r = walk(va, AccessType::Write);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.writes, 0u);
    EXPECT_EQ(r.entry.flags & (PTE_F_A | PTE_F_D), PTE_F_A | PTE_F_D);
    // A later fault on the page is spurious.
    EXPECT_EQ(fw_handle_fault(&kernel, &space, va, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT), FW_OK);
    EXPECT_EQ(kernel.demand_faults, 0u);
}

TEST_P(KernelTest, OutOfFramesIsAnErrorWithoutLeaks) {
    // Root + (levels - 1) tables + 1 page are needed; one frame short.
    boot(0, format.levels());
    const std::uint64_t va = sampleVa();
    EXPECT_EQ(fw_handle_fault(&kernel, &space, va, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT),
              FW_ERR_NOMEM);
    EXPECT_EQ(hal().cycles, kEntryCycles + kExitCycles);
    EXPECT_EQ(kernel.demand_faults, 0u);
    EXPECT_EQ(kernel.frames_mapped, 0u);
    EXPECT_EQ(kernel.frames.in_use, kernel.tables_in_use); // the data frame went back
    EXPECT_EQ(walk(va).fault, FaultKind::NotPresent);
    EXPECT_EQ(fw_prefault(&kernel, &space, va), FW_ERR_NOMEM);

    boot(0, format.levels() + 1);
    EXPECT_EQ(fw_handle_fault(&kernel, &space, va, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT), FW_OK);
    EXPECT_EQ(kernel.frames.in_use, format.levels() + 1);
    EXPECT_EQ(walk(va).fault, FaultKind::None);
    const std::uint64_t other = va ^ (std::uint64_t{1} << format.pageShift());
    EXPECT_EQ(fw_handle_fault(&kernel, &space, other, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT),
              FW_ERR_NOMEM);
}

TEST_P(KernelTest, NoFrameForTheRoot) {
    hal().reset(kPhysBytes);
    meta.assign(1, 0);
    fw_kernel_config config{};
    config.format = format.raw();
    config.frames_base = kFramesBase;
    config.frame_count = 0;
    config.frame_meta = meta.data();
    ASSERT_EQ(fw_kernel_init(&kernel, &config), FW_OK);
    EXPECT_EQ(fw_space_create(&kernel, &space, 1), FW_ERR_NOMEM);
}

TEST_P(KernelTest, MapAndLookupErrors) {
    boot();
    const std::uint64_t page = std::uint64_t{1} << format.pageShift();
    const std::uint64_t va = sampleVa() & ~(page - 1);
    const hal_paddr_t pa = kFramesBase;
    const unsigned flags = PTE_F_R | PTE_F_W;
    EXPECT_EQ(pt_map(&kernel, space.root, va + 8, pa, 0, flags), FW_ERR_INVAL);
    EXPECT_EQ(pt_map(&kernel, space.root, va, pa + 8, 0, flags), FW_ERR_INVAL);
    EXPECT_EQ(pt_map(&kernel, space.root, va, pa, format.levels(), flags), FW_ERR_INVAL);
    if (format.vaBits() < 64) {
        const std::uint64_t bad = format.raw().id == PTE_FMT_X86_32
                                      ? std::uint64_t{1} << 32
                                      : std::uint64_t{1} << (format.vaBits() - 1);
        EXPECT_EQ(pt_map(&kernel, space.root, bad, pa, 0, flags), FW_ERR_INVAL);
    }
    for (unsigned level = 0; level < format.levels(); ++level) {
        if (!format.leafAllowed(level)) {
            EXPECT_EQ(pt_map(&kernel, space.root, 0, 0, level, flags), FW_ERR_INVAL);
        }
    }

    std::uint64_t raw = 0;
    unsigned level = 99;
    EXPECT_EQ(pt_lookup(&kernel, space.root, va, &raw, &level, nullptr), FW_ERR_NOT_MAPPED);
    EXPECT_EQ(level, format.levels() - 1);

    ASSERT_EQ(pt_map(&kernel, space.root, va, pa, 0, flags), FW_OK);
    EXPECT_EQ(pt_map(&kernel, space.root, va, pa + page, 0, flags), FW_ERR_EXISTS);
    hal_paddr_t pte_pa = 0;
    ASSERT_EQ(pt_lookup(&kernel, space.root, va + 5, &raw, &level, &pte_pa), FW_OK);
    EXPECT_EQ(level, 0u);
    EXPECT_EQ(raw, pte_encode_leaf(&format.raw(), pa >> format.pageShift(), flags, 0));
    EXPECT_EQ(hal().read(pte_pa, format.pteBytes()), raw);
    if (format.levels() > 1) {
        // The neighbouring page shares every table: its lookup stops at level 0.
        EXPECT_EQ(pt_lookup(&kernel, space.root, va ^ page, &raw, &level, nullptr),
                  FW_ERR_NOT_MAPPED);
        EXPECT_EQ(level, 0u);
    }
}

TEST_P(KernelTest, SuperpageCoveringTheSlotIsAConflict) {
    if (format.levels() < 2 || !format.leafAllowed(1)) GTEST_SKIP();
    const unsigned order = format.indexBits();
    boot(0, (3u << order) + 8);
    const std::uint64_t big = std::uint64_t{1} << format.levelShift(1);
    const std::uint64_t va = sampleVa() & ~(big - 1);
    const hal_paddr_t block = frames_alloc_block(&kernel.frames, order);
    ASSERT_NE(block, 0u);
    ASSERT_EQ(pt_map(&kernel, space.root, va, block, 1, PTE_F_R), FW_OK);
    EXPECT_EQ(pt_map(&kernel, space.root, va + (big / 2), kFramesBase, 0, PTE_F_R), FW_ERR_EXISTS);
    EXPECT_EQ(pt_map(&kernel, space.root, va, block, 1, PTE_F_R), FW_ERR_EXISTS);
}

// ---------------------------------------------------------------------------------------------
// Superpages: every superpage level up to 1 GiB of frames, per format.

struct SuperpageCase {
    FormatCase format;
    unsigned level;
};

std::vector<SuperpageCase> superpageCases() {
    std::vector<SuperpageCase> cases;
    for (const FormatCase& fc : kFormats) {
        const PteFormat f =
            PteFormat::fromName(fc.name, "mmu.format", fc.page_bits, fc.pte_bytes, fc.levels);
        for (unsigned level = 1; level < f.levels(); ++level) {
            // Blocks of more than 2^18 frames (1 GiB of 4 KiB pages) would need GiBs of
            // allocator words here; and the block must fit below 4 GiB of physical memory.
            if (f.leafAllowed(level) && level * f.indexBits() <= 18 && f.levelShift(level) <= 30)
                cases.push_back({fc, level});
        }
    }
    return cases;
}

void PrintTo(const SuperpageCase& c, std::ostream* os) {
    PrintTo(c.format, os);
    *os << " level " << c.level;
}

std::string superpageName(const testing::TestParamInfo<SuperpageCase>& info) {
    return std::string(info.param.format.label ? info.param.format.label : info.param.format.name) +
           "_level" + std::to_string(info.param.level);
}

class SuperpageTest : public testing::TestWithParam<SuperpageCase> {};

INSTANTIATE_TEST_SUITE_P(AllFormats, SuperpageTest, testing::ValuesIn(superpageCases()),
                         superpageName);

TEST_P(SuperpageTest, DemandFaultsMapZeroedSuperpages) {
    const FormatCase& fc = GetParam().format;
    const unsigned level = GetParam().level;
    const PteFormat format =
        PteFormat::fromName(fc.name, "mmu.format", fc.page_bits, fc.pte_bytes, fc.levels);
    const unsigned order = level * format.indexBits();
    const std::uint64_t block_frames = std::uint64_t{1} << order;
    const std::uint64_t big = std::uint64_t{1} << format.levelShift(level);

    hal().reset(kPhysBytes);
    const std::uint32_t count = static_cast<std::uint32_t>(3 * block_frames + 16);
    std::vector<std::uint32_t> meta(count);
    fw_kernel_config config{};
    config.format = format.raw();
    config.frames_base = kFramesBase;
    config.frame_count = count;
    config.frame_meta = meta.data();
    config.page_level = level;
    config.fault_entry_cycles = 1;
    config.fault_exit_cycles = 1;
    fw_kernel kernel{};
    ASSERT_EQ(fw_kernel_init(&kernel, &config), FW_OK);
    fw_space space{};
    ASSERT_EQ(fw_space_create(&kernel, &space, 1), FW_OK);

    // Two addresses in one superpage, one in another, far away.
    const std::uint64_t va = 0x5A5A5A5A5A5A5A5Aull & lowMask(format.vaBits() - 1);
    const std::uint64_t same = (va & ~(big - 1)) + big - 8;
    const std::uint64_t far = va ^ (std::uint64_t{1} << (format.vaBits() - 2));
    for (std::uint64_t k = 0; k < 3; ++k) // dirt at the end of every candidate block
        hal().write(kFramesBase + k * big + big - 8, ~0ull, 8);
    for (std::uint64_t v : {va, same, far})
        ASSERT_EQ(fw_handle_fault(&kernel, &space, v, FW_ACCESS_WRITE, FW_FAULT_NOT_PRESENT),
                  FW_OK);
    EXPECT_EQ(kernel.demand_faults, 2u);
    EXPECT_EQ(kernel.frames_mapped, 2 * block_frames);
    EXPECT_EQ(kernel.frames.in_use, 2 * block_frames + kernel.tables_in_use);
    EXPECT_GE(hal().zeroed_bytes, 2 * big);

    // Independent count of table nodes for leaves at `level`.
    std::uint64_t nodes = 1;
    for (unsigned l = level; l + 1 < format.levels(); ++l) {
        std::set<std::uint64_t> distinct;
        for (std::uint64_t v : {va, same, far})
            distinct.insert((v & lowMask(format.vaBits())) >> format.levelShift(l + 1));
        nodes += distinct.size();
    }
    EXPECT_EQ(kernel.tables_in_use, nodes);

    HalPteMemory memory;
    std::set<std::uint64_t> blocks;
    for (std::uint64_t v : {va, same, far}) {
        tlmmu::WalkRequest request;
        request.va = v;
        request.asid = 1;
        request.root = space.root;
        const WalkResult r = tlmmu::walkPageTable(format, request, memory);
        ASSERT_EQ(r.fault, FaultKind::None) << toString(r.fault);
        EXPECT_EQ(r.entry.level, level);
        EXPECT_EQ(r.reads, format.levels() - level);
        const hal_paddr_t base = r.entry.ppn << format.pageShift();
        EXPECT_EQ(base % big, 0u);
        EXPECT_GE(base, kFramesBase);
        EXPECT_EQ(frame_refcount(&kernel.frames, base), 1u);
        EXPECT_EQ(hal().read(base + (v & (big - 1)), 8), 0u);
        blocks.insert(base);
    }
    EXPECT_EQ(blocks.size(), 2u);
}

TEST(KernelInitTest, RejectsALeafLevelTheFormatDoesNotHave) {
    const PteFormat format = PteFormat::fromName("x86_64");
    std::vector<std::uint32_t> meta(16);
    fw_kernel_config config{};
    config.format = format.raw();
    config.frames_base = kFramesBase;
    config.frame_count = 16;
    config.frame_meta = meta.data();
    fw_kernel kernel{};
    config.page_level = 3; // no 512 GiB pages on x86-64
    EXPECT_EQ(fw_kernel_init(&kernel, &config), FW_ERR_INVAL);
    config.page_level = 4;
    EXPECT_EQ(fw_kernel_init(&kernel, &config), FW_ERR_INVAL);
    config.page_level = 2;
    EXPECT_EQ(fw_kernel_init(&kernel, &config), FW_OK);
    config.frames_base = kFramesBase + 8; // not page aligned
    EXPECT_EQ(fw_kernel_init(&kernel, &config), FW_ERR_INVAL);
}

TEST(KernelInitTest, SuperpagePolicyFallsBackToBasePagesUnderAnExistingTable) {
    const PteFormat format = PteFormat::fromName("x86_64");
    hal().reset(kPhysBytes);
    std::vector<std::uint32_t> meta(4096);
    fw_kernel_config config{};
    config.format = format.raw();
    config.frames_base = kFramesBase;
    config.frame_count = 4096;
    config.frame_meta = meta.data();
    config.page_level = 1;
    fw_kernel kernel{};
    ASSERT_EQ(fw_kernel_init(&kernel, &config), FW_OK);
    fw_space space{};
    ASSERT_EQ(fw_space_create(&kernel, &space, 1), FW_OK);
    // Someone mapped a base page in the 2 MiB range already.
    const std::uint64_t va = 0x40000000;
    ASSERT_EQ(pt_map(&kernel, space.root, va, frames_alloc(&kernel.frames), 0, PTE_F_R), FW_OK);
    ASSERT_EQ(fw_handle_fault(&kernel, &space, va + 0x5000, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT),
              FW_OK);
    EXPECT_EQ(kernel.frames_mapped, 1u);
    HalPteMemory memory;
    tlmmu::WalkRequest request;
    request.va = va + 0x5000;
    request.root = space.root;
    const WalkResult r = tlmmu::walkPageTable(format, request, memory);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.entry.level, 0);
    // Elsewhere the policy still maps 2 MiB pages.
    ASSERT_EQ(fw_handle_fault(&kernel, &space, va + 0x200000, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT),
              FW_OK);
    EXPECT_EQ(kernel.frames_mapped, 513u);
}

} // namespace
