// pagetable.c: map / lookup argument checks and conflicts, the one walk, on every format.
#include <gtest/gtest.h>

#include "mm_fixture.h"

namespace fwtest {
namespace {

using tlmmu::test::caseName;
using tlmmu::test::FormatCase;

class PagetableTest : public testing::TestWithParam<FormatCase>, public MmFixture {
  protected:
    PagetableTest() : MmFixture(formatOf(GetParam())) {}
    void bootOne(std::uint32_t count = 4096) {
        Boot b;
        b.frames = count;
        boot(b);
        pid = create();
        root = fw_process_root(k, pid);
    }
    std::uint64_t sampleVa() const { return 0x5A5A5A5A5A5A5A5Aull & lowMask(format.vaBits() - 1); }
    int pid = 0;
    hal_paddr_t root = 0;
};

INSTANTIATE_TEST_SUITE_P(AllFormats, PagetableTest, testing::ValuesIn(tlmmu::test::kAllFormats),
                         caseName);

TEST_P(PagetableTest, MapAndLookupErrors) {
    bootOne();
    const std::uint64_t va = sampleVa() & ~(page() - 1);
    const hal_paddr_t pa = kFramesBase;
    const unsigned flags = PTE_F_R | PTE_F_W;
    EXPECT_EQ(pt_map(k, root, va + 8, pa, 0, flags), FW_ERR_INVAL);
    EXPECT_EQ(pt_map(k, root, va, pa + 8, 0, flags), FW_ERR_INVAL);
    EXPECT_EQ(pt_map(k, root, va, pa, format.levels(), flags), FW_ERR_INVAL);
    if (format.vaBits() < 64) {
        const std::uint64_t bad = format.raw().id == PTE_FMT_X86_32
                                      ? std::uint64_t{1} << 32
                                      : std::uint64_t{1} << (format.vaBits() - 1);
        EXPECT_EQ(pt_map(k, root, bad, pa, 0, flags), FW_ERR_INVAL);
        std::uint64_t raw = 0;
        unsigned level = 0;
        EXPECT_EQ(pt_lookup(k, root, bad, &raw, &level, nullptr), FW_ERR_INVAL);
    }
    for (unsigned level = 0; level < format.levels(); ++level) {
        if (!format.leafAllowed(level)) {
            EXPECT_EQ(pt_map(k, root, 0, 0, level, flags), FW_ERR_INVAL);
        }
    }

    std::uint64_t raw = 0;
    unsigned level = 99;
    EXPECT_EQ(pt_lookup(k, root, va, &raw, &level, nullptr), FW_ERR_NOT_MAPPED);
    EXPECT_EQ(level, format.levels() - 1);

    ASSERT_EQ(pt_map(k, root, va, pa, 0, flags), FW_OK);
    EXPECT_EQ(pt_map(k, root, va, pa + page(), 0, flags), FW_ERR_EXISTS);
    hal_paddr_t pte_pa = 0;
    ASSERT_EQ(pt_lookup(k, root, va + 5, &raw, &level, &pte_pa), FW_OK);
    EXPECT_EQ(level, 0u);
    EXPECT_EQ(raw, pte_encode_leaf(&format.raw(), pa >> format.pageShift(), flags, 0));
    EXPECT_EQ(hal().read(pte_pa, format.pteBytes()), raw);
    if (format.levels() > 1) {
        // The neighbouring page shares every table: its lookup stops at level 0.
        EXPECT_EQ(pt_lookup(k, root, va ^ page(), &raw, &level, nullptr), FW_ERR_NOT_MAPPED);
        EXPECT_EQ(level, 0u);
    }
    // The one walk: stopping at level 0 gives the slot lookup found, creating nothing more.
    const std::uint64_t tables = fw_tables_in_use(k);
    pt_slot s{};
    ASSERT_EQ(pt_walk(k, root, va, 0, PT_CREATE, 0, &s), FW_OK);
    EXPECT_EQ(s.slot, pte_pa);
    EXPECT_EQ(s.raw, raw);
    EXPECT_EQ(s.level, 0u);
    EXPECT_EQ(fw_tables_in_use(k), tables);
    // A software entry (swap) is not a translation for lookup, but is what the walk reports.
    hal().write(pte_pa, pte_encode_swap(&format.raw(), 3), format.pteBytes());
    EXPECT_EQ(pt_lookup(k, root, va, &raw, &level, nullptr), FW_ERR_NOT_MAPPED);
    ASSERT_EQ(pt_walk(k, root, va, 0, 0, 0, &s), FW_OK);
    EXPECT_EQ(s.raw, pte_encode_swap(&format.raw(), 3));
}

TEST_P(PagetableTest, SuperpageCoveringTheSlotIsAConflict) {
    if (format.levels() < 2 || !format.leafAllowed(1)) GTEST_SKIP();
    const unsigned order = format.indexBits();
    bootOne((3u << order) + 8);
    const std::uint64_t big = levelBytes(1);
    const std::uint64_t va = sampleVa() & ~(big - 1);
    const hal_paddr_t block = frames_alloc_block(const_cast<fw_frames*>(frames), order);
    ASSERT_NE(block, 0u);
    ASSERT_EQ(pt_map(k, root, va, block, 1, PTE_F_R), FW_OK);
    EXPECT_EQ(pt_map(k, root, va + (big / 2), kFramesBase, 0, PTE_F_R), FW_ERR_EXISTS);
    EXPECT_EQ(pt_map(k, root, va, block, 1, PTE_F_R), FW_ERR_EXISTS);
    // The walk down to level 0 stops at the leaf above.
    pt_slot s{};
    ASSERT_EQ(pt_walk(k, root, va + page(), 0, 0, 0, &s), FW_OK);
    EXPECT_EQ(s.level, 1u);
    std::uint64_t raw = 0;
    unsigned level = 0;
    ASSERT_EQ(pt_lookup(k, root, va + big - 1, &raw, &level, nullptr), FW_OK);
    EXPECT_EQ(level, 1u);
}

} // namespace
} // namespace fwtest
