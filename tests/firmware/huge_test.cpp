// Huge pages in the memory manager (memory.c, pagetable.c split, frames.c split blocks): a VMA
// with page_level L maps one leaf at level L per demand fault, zeroed in one operation, and
// the leaf is split when an unmap, protect, discard, COW write or swap-out touches part of it.
// Every format with superpages, every superpage level up to 2^18 frames.
#include <gtest/gtest.h>

#include <algorithm>

#include "mm_fixture.h"

namespace fwtest {
namespace {

using tlmmu::test::FormatCase;

struct HugeCase {
    FormatCase format;
    unsigned level;
};

std::vector<HugeCase> hugeCases() {
    std::vector<HugeCase> cases;
    for (const FormatCase& fc : tlmmu::test::kAllFormats) {
        const PteFormat f = formatOf(fc);
        for (unsigned level = 1; level < f.levels(); ++level) {
            // Blocks of more than 2^18 frames (1 GiB of 4 KiB pages) would need GiBs of
            // allocator words here; and the blocks must fit below 4 GiB of physical memory.
            if (f.leafAllowed(level) && level * f.indexBits() <= 18 && f.levelShift(level) <= 30)
                cases.push_back({fc, level});
        }
    }
    return cases;
}

void PrintTo(const HugeCase& c, std::ostream* os) {
    tlmmu::test::PrintTo(c.format, os);
    *os << " level " << c.level;
}

std::string hugeName(const testing::TestParamInfo<HugeCase>& info) {
    return std::string(info.param.format.label ? info.param.format.label : info.param.format.name) +
           "_level" + std::to_string(info.param.level);
}

class HugeTest : public testing::TestWithParam<HugeCase>, public MmFixture {
  protected:
    HugeTest()
        : MmFixture(formatOf(GetParam().format)), L(GetParam().level),
          order(L * format.indexBits()), block(std::uint64_t{1} << order), big(levelBytes(L)),
          code(big), data(4 * big) {}

    // Room for two blocks after the tables (the first aligned block is taken by them), within
    // 4 GiB of physical memory.
    void bootHuge(Boot b = Boot()) {
        const std::uint64_t room = (kPhysBytes - kFramesBase) >> format.pageShift();
        b.frames = static_cast<std::uint32_t>(std::min<std::uint64_t>(3 * block + 64, room));
        b.cores = 2;
        boot(b);
        p = create();
        ASSERT_EQ(switchTo(p), FW_OK);
        ASSERT_EQ(map(p, code, 4 * page(), FW_PROT_R | FW_PROT_X), FW_OK);
        ASSERT_EQ(map(p, data, 2 * big, kRW, FW_VMA_ANON, -1, L), FW_OK);
    }

    // Base pages of the huge page at `base` that the tests write and check (not all: a 1 GiB
    // page has 2^18 of them).
    std::vector<std::uint64_t> samples(std::uint64_t base) const {
        std::vector<std::uint64_t> vas;
        const std::uint64_t n = block;
        for (std::uint64_t i :
             {std::uint64_t{0}, std::uint64_t{1}, n / 2 - 1, n / 2, n / 2 + 1, n / 2 + 2, n - 1})
            vas.push_back(base + i * page());
        for (std::uint64_t i = 0; i < n; i += std::max<std::uint64_t>(1, n / 16))
            vas.push_back(base + i * page() + 8);
        std::sort(vas.begin(), vas.end());
        vas.erase(std::unique(vas.begin(), vas.end()), vas.end());
        return vas;
    }
    static std::uint64_t pattern(std::uint64_t va) { return va * 0x9E3779B97F4A7C15ull ^ 0x77; }
    void fill(int pid, std::uint64_t base) {
        for (std::uint64_t va : samples(base))
            write64(pid, va, pattern(va));
    }
    void expectFilled(int pid, std::uint64_t base, std::uint64_t except = 1) {
        for (std::uint64_t va : samples(base))
            if ((va & ~(page() - 1)) != except) {
                EXPECT_EQ(read64(pid, va), pattern(va)) << std::hex << va;
            }
    }
    std::uint64_t zeroEvents(std::uint64_t bytes) const {
        std::uint64_t n = 0;
        for (const HalEvent& e : hal().events)
            n += e.kind == HalEvent::Zero && e.value == bytes;
        return n;
    }

    const unsigned L;
    const unsigned order;
    const std::uint64_t block; // base frames per huge page
    const std::uint64_t big;   // bytes per huge page
    const std::uint64_t code;  // a 4-page base-page VMA
    const std::uint64_t data;  // a 2-huge-page VMA
    int p = 0;
};

INSTANTIATE_TEST_SUITE_P(Superpages, HugeTest, testing::ValuesIn(hugeCases()), hugeName);

TEST_P(HugeTest, FirstFaultMapsOneZeroedLeafAtItsLevelBesideBasePages) {
    bootHuge();
    // Dirt at the end of every candidate block, so that a missing zero fill shows.
    for (std::uint64_t b = 0; b < 3; ++b)
        hal().write(kFramesBase + b * big + big - 8, ~0ull, 8);
    const std::uint64_t tables0 = fw_tables_in_use(k);
    hal().record_events = true;
    hal().cycles = 0;
    const std::uint64_t va = data + big / 2 + 3 * page() + 16;
    EXPECT_EQ(access(p, va, AccessType::Write), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(hal().cycles, kEntry + kExit);
    // One timed zeroing of the whole huge page, and nothing else but the new tables.
    const std::uint64_t new_tables = fw_tables_in_use(k) - tables0;
    EXPECT_EQ(new_tables, format.levels() - 1 - L); // root there already; none below the leaf
    EXPECT_EQ(zeroEvents(big), 1u);
    std::uint64_t zeros = 0;
    for (const HalEvent& e : hal().events)
        zeros += e.kind == HalEvent::Zero;
    EXPECT_EQ(zeros, 1 + new_tables);

    const WalkResult r = walk(p, va, AccessType::Read);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.entry.level, L);
    EXPECT_EQ(r.reads, format.levels() - L);
    const hal_paddr_t base = r.entry.ppn << format.pageShift();
    EXPECT_EQ(base % big, 0u);
    EXPECT_EQ(frame_refcount(frames, base), 1u);
    EXPECT_EQ(frames_block_order(frames, base), order);
    EXPECT_EQ(hal().read(base + big - 8, 8), 0u);
    const struct fw_process_stats* s = fw_process_stats(k, p);
    EXPECT_EQ(s->demand_faults_by_level[L], 1u);
    EXPECT_EQ(s->leaves_by_level[L], 1u);
    EXPECT_EQ(s->frames_in_use, block);
    EXPECT_EQ(fw_kernel_stats(k)->demand_faults_by_level[L], 1u);
    EXPECT_EQ(fw_kernel_stats(k)->frames_mapped, block);
    EXPECT_EQ(fw_frames_in_use(k), block);

    // Anywhere else in that huge page: no fault.
    EXPECT_EQ(access(p, data + big - 8, AccessType::Write), FW_FAULT_CLASS_NONE);
    EXPECT_EQ(access(p, data, AccessType::Read), FW_FAULT_CLASS_NONE);
    // The base-page VMA beside it: a base page, and only the level-0 table below the shared ones
    // (the two VMAs share every table above level L... down to level 1).
    const std::uint64_t tables1 = fw_tables_in_use(k);
    EXPECT_EQ(access(p, code + page(), AccessType::Execute), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(leafLevel(p, code + page()), 0);
    EXPECT_EQ(fw_tables_in_use(k) - tables1, L);
    EXPECT_EQ(s->demand_faults_by_level[0], 1u);
    // The second huge page of the VMA: its own block.
    EXPECT_EQ(access(p, data + big, AccessType::Read), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(leafLevel(p, data + big), static_cast<int>(L));
    EXPECT_NE(frameOf(p, data + big), frameOf(p, data));
    EXPECT_EQ(s->leaves_by_level[L], 2u);
    EXPECT_EQ(s->frames_in_use, 2 * block + 1);
    EXPECT_EQ(s->huge_fallbacks, 0u);
    EXPECT_EQ(zeroEvents(big), 2u);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(HugeTest, HugeVmasMustBeAlignedToTheirPageSize) {
    bootHuge();
    const std::uint64_t at = 16 * big;
    EXPECT_EQ(map(p, at + page(), big, kRW, FW_VMA_ANON, -1, L), FW_ERR_INVAL);
    EXPECT_EQ(map(p, at, big + page(), kRW, FW_VMA_ANON, -1, L), FW_ERR_INVAL);
    EXPECT_EQ(map(p, at, big, kRW, FW_VMA_ANON, -1, format.levels()), FW_ERR_INVAL);
    int shm = -1;
    ASSERT_EQ(fw_shm_create(k, page(), &shm), FW_OK);
    EXPECT_EQ(map(p, at, big, kRW, FW_VMA_SHARED, shm, L), FW_ERR_INVAL);
    EXPECT_EQ(map(p, at, big, kRW, FW_VMA_ANON, -1, L), FW_OK);
    // A stack's guard is one page of its size.
    EXPECT_EQ(map(p, at + 3 * big, big, kRW, FW_VMA_STACK, -1, L), FW_OK);
    EXPECT_EQ(map(p, at + 2 * big, page(), FW_PROT_R), FW_ERR_OVERLAP);
}

TEST_P(HugeTest, PrefaultMapsTheHugeLeafWithAccessedAndDirty) {
    bootHuge();
    ASSERT_EQ(fw_prefault(k, p, data + 5 * page()), FW_OK);
    const WalkResult r = walk(p, data + big - 8, AccessType::Write);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.entry.level, L);
    EXPECT_EQ(r.writes, 0u);
    EXPECT_EQ(r.entry.flags & (PTE_F_A | PTE_F_D), PTE_F_A | PTE_F_D);
    EXPECT_EQ(fw_kernel_stats(k)->demand_faults, 0u);
    EXPECT_EQ(fw_kernel_stats(k)->leaves_by_level[L], 1u);
}

TEST_P(HugeTest, NoFreeBlockFallsBackToBasePages) {
    Boot b;
    b.limit = static_cast<std::uint32_t>(block - 1); // a block would pass the limit
    bootHuge(b);
    EXPECT_EQ(access(p, data + 3 * page(), AccessType::Write), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(leafLevel(p, data + 3 * page()), 0);
    EXPECT_EQ(fw_process_stats(k, p)->huge_fallbacks, 1u);
    EXPECT_EQ(fw_kernel_stats(k)->huge_fallbacks, 1u);
    EXPECT_EQ(fw_process_stats(k, p)->demand_faults_by_level[0], 1u);
    EXPECT_EQ(fw_frames_in_use(k), 1u);
    // The next page in that range finds the table: base pages there from now on.
    EXPECT_EQ(access(p, data + 4 * page(), AccessType::Write), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(leafLevel(p, data + 4 * page()), 0);
}

TEST_P(HugeTest, PartialUnmapSplitsAndKeepsEveryOtherByte) {
    bootHuge();
    fill(p, data);
    ASSERT_EQ(leafLevel(p, data), static_cast<int>(L));
    const std::uint64_t hole = data + big / 2 + page(); // on no boundary above the base page
    const std::uint64_t tables0 = fw_tables_in_use(k);
    hal().invalidations.clear();
    ASSERT_EQ(fw_vma_unmap(k, 0, p, hole, page()), FW_OK);
    // Split down level by level: one table per level, L splits, each flushed.
    EXPECT_EQ(fw_tables_in_use(k) - tables0, L);
    EXPECT_EQ(fw_process_stats(k, p)->splits, L);
    EXPECT_EQ(fw_kernel_stats(k)->splits, L);
    bool flushed_huge = false, flushed_hole = false;
    for (const auto& inv : hal().invalidations) {
        flushed_huge |= inv.kind == HAL_FLUSH_VA_ASID && inv.va == data;
        flushed_hole |= inv.kind == HAL_FLUSH_VA_ASID && inv.va == hole;
    }
    EXPECT_TRUE(flushed_huge);
    EXPECT_TRUE(flushed_hole);
    EXPECT_EQ(walk(p, hole, AccessType::Read).fault, FaultKind::NotPresent);
    EXPECT_EQ(leafLevel(p, hole - page()), 0);
    EXPECT_EQ(leafLevel(p, data), static_cast<int>(L) - 1); // far away: split once only
    EXPECT_EQ(fw_frames_in_use(k), block - 1);
    EXPECT_EQ(frame_refcount(frames, frameOf(p, data)), 1u);
    expectFilled(p, data, hole);
    // Leaves by level: (2^k - 1) at each level below L, 2^k - 1 base pages + the rest.
    const std::uint64_t fan = std::uint64_t{1} << format.indexBits();
    const struct fw_process_stats* s = fw_process_stats(k, p);
    EXPECT_EQ(s->leaves_by_level[L], 0u);
    for (unsigned l = 1; l < L; ++l)
        EXPECT_EQ(s->leaves_by_level[l], fan - 1) << l;
    EXPECT_EQ(s->leaves_by_level[0], fan - 1);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(HugeTest, ProtectOfOnePageSplitsIt) {
    bootHuge();
    fill(p, data);
    const std::uint64_t ro = data + big / 2 + page();
    ASSERT_EQ(fw_vma_protect(k, 0, p, ro, page(), FW_PROT_R), FW_OK);
    EXPECT_EQ(fw_process_stats(k, p)->splits, L);
    EXPECT_EQ(walk(p, ro, AccessType::Write).fault, FaultKind::Permission);
    EXPECT_EQ(access(p, ro + page(), AccessType::Write), FW_FAULT_CLASS_NONE);
    EXPECT_EQ(access(p, ro - page(), AccessType::Write), FW_FAULT_CLASS_NONE);
    expectFilled(p, data);
    EXPECT_EQ(fw_frames_in_use(k), block);
    // PROT_NONE over a whole huge page parks its base pages; back, and every byte is there.
    fill(p, data + big);
    ASSERT_EQ(fw_vma_protect(k, 0, p, data + big, big, 0), FW_OK);
    EXPECT_EQ(walk(p, data + big, AccessType::Read).fault, FaultKind::NotPresent);
    ASSERT_EQ(fw_vma_protect(k, 0, p, data + big, big, kRW), FW_OK);
    expectFilled(p, data + big);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(HugeTest, DiscardOfOnePageSplitsAndZeroesOnlyIt) {
    bootHuge();
    fill(p, data);
    fill(p, data + big);
    const std::uint64_t gone = data + big / 2 + page();
    ASSERT_EQ(fw_vma_discard(k, 0, p, gone, page()), FW_OK);
    EXPECT_EQ(fw_process_stats(k, p)->splits, L);
    EXPECT_EQ(fw_frames_in_use(k), 2 * block - 1);
    fw_fault_class cls = FW_FAULT_CLASS_NONE;
    EXPECT_EQ(read64(p, gone, &cls), 0u);
    EXPECT_EQ(cls, FW_FAULT_CLASS_DEMAND_ZERO);
    expectFilled(p, data, gone);
    // A whole huge page: its leaf goes, no split, and the next touch maps a huge page again.
    ASSERT_EQ(fw_vma_discard(k, 0, p, data + big, big), FW_OK);
    EXPECT_EQ(fw_process_stats(k, p)->splits, L);
    EXPECT_EQ(read64(p, data + big + 8, &cls), 0u);
    EXPECT_EQ(cls, FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(leafLevel(p, data + big), static_cast<int>(L));
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(HugeTest, ForkSharesTheHugePageAndACowWriteCopiesOneBasePage) {
    bootHuge();
    fill(p, data);
    const hal_paddr_t head = frameOf(p, data);
    const int c = fork(p);
    EXPECT_EQ(leafLevel(c, data), static_cast<int>(L));
    EXPECT_EQ(frameOf(c, data), head);
    EXPECT_EQ(frame_refcount(frames, head), 2u);
    EXPECT_EQ(fw_process_stats(k, c)->frames_in_use, block);
    EXPECT_EQ(fw_frames_in_use(k), block); // nothing copied
    EXPECT_EQ(walk(p, data, AccessType::Write).fault, FaultKind::Permission);
    expectFilled(c, data);

    const std::uint64_t w = data + big / 2 + page();
    EXPECT_EQ(write64(c, w, 0xC0FFEE), FW_FAULT_CLASS_COW);
    EXPECT_EQ(fw_process_stats(k, c)->pages_copied, 1u);
    EXPECT_EQ(fw_process_stats(k, c)->splits, L);
    EXPECT_EQ(fw_frames_in_use(k), block + 1);
    EXPECT_EQ(leafLevel(c, w), 0);
    EXPECT_EQ(leafLevel(p, w), static_cast<int>(L)); // the parent's leaf is untouched
    EXPECT_EQ(read64(c, w), 0xC0FFEEu);
    EXPECT_EQ(read64(p, w), pattern(w));
    EXPECT_EQ(frameOf(c, data), head); // the other pages still shared
    expectFilled(p, data);
    expectFilled(c, data, w);
    // The parent writes: its huge leaf is shared frame by frame now, so it splits and copies
    // one page too.
    EXPECT_EQ(write64(p, data, 0xAB), FW_FAULT_CLASS_COW);
    EXPECT_EQ(fw_process_stats(k, p)->pages_copied, 1u);
    EXPECT_EQ(read64(c, data), pattern(data));
    EXPECT_EQ(read64(p, data), 0xABu);
    ASSERT_EQ(exitProcess(c), FW_OK);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(HugeTest, AnUnsharedHugePageBecomesWritableWholeAfterTheChildExits) {
    bootHuge();
    fill(p, data);
    const int c = fork(p);
    ASSERT_EQ(exitProcess(c), FW_OK);
    EXPECT_EQ(write64(p, data + 8, 1), FW_FAULT_CLASS_COW);
    EXPECT_EQ(leafLevel(p, data), static_cast<int>(L));
    EXPECT_EQ(fw_process_stats(k, p)->pages_copied, 0u);
    EXPECT_EQ(fw_process_stats(k, p)->splits, 0u);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(HugeTest, SwapOutSplitsTheHugePageAndEveryByteComesBack) {
    if (block > 1024) GTEST_SKIP() << "the clock over 2^" << order << "-frame blocks is slow";
    Boot b;
    b.swap = true;
    b.slots = 2 * block;
    b.limit = static_cast<std::uint32_t>(block + 2);
    bootHuge(b);
    ASSERT_EQ(map(p, code + 8 * page(), 8 * page(), kRW), FW_OK);
    fill(p, data);
    ASSERT_EQ(leafLevel(p, data), static_cast<int>(L));
    // Base pages beyond the limit: the clock gives the huge page its second chance, then splits
    // it and evicts base pages of it.
    for (std::uint64_t i = 0; i < 8; ++i)
        write64(p, code + (8 + i) * page(), 0x5000 + i);
    const struct fw_process_stats* s = fw_process_stats(k, p);
    EXPECT_GE(s->splits, 1u);
    EXPECT_GE(s->swap_outs, 6u);
    EXPECT_LE(fw_frames_in_use(k), block + 2);
    expectFilled(p, data);
    for (std::uint64_t i = 0; i < 8; ++i)
        EXPECT_EQ(read64(p, code + (8 + i) * page()), 0x5000 + i);
    EXPECT_EQ(hal().swap.errors, 0u);
    ASSERT_EQ(exitProcess(p), FW_OK);
    expectAllReturned();
}

TEST_P(HugeTest, AHugeVmaKeepsBasePagesUnderAnExistingTable) {
    bootHuge();
    // Someone mapped a base page in the first huge page's range already.
    const hal_paddr_t frame = frames_alloc(const_cast<fw_frames*>(frames));
    ASSERT_EQ(pt_map(k, fw_process_root(k, p), data, frame, 0, PTE_F_R | PTE_F_U), FW_OK);
    EXPECT_EQ(access(p, data + 5 * page(), AccessType::Read), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(leafLevel(p, data + 5 * page()), 0);
    EXPECT_EQ(fw_process_stats(k, p)->huge_fallbacks, 1u);
    // Elsewhere the VMA still maps huge pages.
    EXPECT_EQ(access(p, data + big, AccessType::Read), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(leafLevel(p, data + big), static_cast<int>(L));
}

} // namespace
} // namespace fwtest
