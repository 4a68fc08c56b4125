// PTE codecs against the raw values the architecture specifications define (RISC-V privileged
// spec Sv39/48/57, Intel SDM vol. 3 ch. 4), plus the C++ wrapper's configuration errors.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "mmu/PteFormat.h"

namespace tlmmu {
namespace {

constexpr unsigned kRWXUAD =
    PTE_F_V | PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_U | PTE_F_A | PTE_F_D; // 0xdf

struct Decoded {
    pte_kind kind;
    std::uint64_t ppn;
    unsigned flags;
    int misaligned;
};

Decoded decode(const PteFormat& format, std::uint64_t raw, unsigned level) {
    pte_decoded out{};
    int misaligned = -1;
    pte_decode(&format.raw(), raw, level, &out, &misaligned);
    return {out.kind, out.ppn, out.flags, misaligned};
}

void expectLeaf(const PteFormat& format, std::uint64_t raw, unsigned level, std::uint64_t ppn,
                unsigned flags) {
    const Decoded d = decode(format, raw, level);
    EXPECT_EQ(d.kind, PTE_KIND_LEAF) << std::hex << raw;
    EXPECT_EQ(d.ppn, ppn) << std::hex << raw;
    EXPECT_EQ(d.flags, flags) << std::hex << raw;
    EXPECT_EQ(d.misaligned, 0);
}

void expectReserved(const PteFormat& format, std::uint64_t raw, unsigned level, int misaligned) {
    const Decoded d = decode(format, raw, level);
    EXPECT_EQ(d.kind, PTE_KIND_RESERVED) << std::hex << raw << " level " << level;
    EXPECT_EQ(d.misaligned, misaligned) << std::hex << raw << " level " << level;
}

// ---------------------------------------------------------------------------------------------
// Format parameters.

TEST(PteFormatTest, FixedFormatParameters) {
    struct Expected {
        const char* name;
        unsigned levels, pte_bytes, index_bits, va_bits, pa_bits;
        std::uint32_t leaf_mask;
        int x86;
    };
    const Expected table[] = {
        {"sv39", 3, 8, 9, 39, 56, 0x7, 0},          {"sv48", 4, 8, 9, 48, 56, 0xf, 0},
        {"sv57", 5, 8, 9, 57, 56, 0x1f, 0},         {"x86_64", 4, 8, 9, 48, 52, 0x7, 1},
        {"x86_64_5level", 5, 8, 9, 57, 52, 0x7, 1}, {"x86_32", 2, 4, 10, 32, 32, 0x3, 1},
    };
    for (const auto& e : table) {
        const PteFormat f = PteFormat::fromName(e.name);
        EXPECT_EQ(f.name(), e.name);
        EXPECT_EQ(f.levels(), e.levels) << e.name;
        EXPECT_EQ(f.pageShift(), 12u) << e.name;
        EXPECT_EQ(f.pteBytes(), e.pte_bytes) << e.name;
        EXPECT_EQ(f.indexBits(), e.index_bits) << e.name;
        EXPECT_EQ(f.vaBits(), e.va_bits) << e.name;
        EXPECT_EQ(f.raw().pa_bits, e.pa_bits) << e.name;
        EXPECT_EQ(f.raw().leaf_level_mask, e.leaf_mask) << e.name;
        EXPECT_EQ(f.raw().x86_style, e.x86) << e.name;
        EXPECT_EQ(f.tableBytes(), 4096u);
        const PageGeometry g = f.geometry();
        EXPECT_EQ(g.page_shift, 12u);
        EXPECT_EQ(g.index_bits, e.index_bits);
        EXPECT_EQ(g.levels, e.levels);
        EXPECT_EQ(g.leaf_level_mask, e.leaf_mask);
    }
    EXPECT_EQ(PteFormat::fromName("x86_32").levelShift(1), 22u); // 4 MiB
    EXPECT_EQ(PteFormat::fromName("x86_64").levelShift(2), 30u); // 1 GiB
    EXPECT_EQ(PteFormat::fromName("sv57").levelShift(4), 48u);   // 256 TiB
}

TEST(PteFormatTest, GenericParameters) {
    const PteFormat a = PteFormat::fromName("generic", "mmu.format", 12, 8, 3);
    EXPECT_EQ(a.indexBits(), 9u);
    EXPECT_EQ(a.vaBits(), 39u);
    EXPECT_EQ(a.raw().pa_bits, 64u); // 54 PPN bits + 12 would exceed 64
    EXPECT_EQ(a.raw().leaf_level_mask, 0x7u);
    EXPECT_EQ(a.raw().x86_style, 0);

    const PteFormat b = PteFormat::fromName("generic", "mmu.format", 10, 4, 3);
    EXPECT_EQ(b.indexBits(), 8u);
    EXPECT_EQ(b.vaBits(), 34u);
    EXPECT_EQ(b.raw().pa_bits, 32u); // 22 PPN bits + 10
    EXPECT_EQ(b.tableBytes(), 1024u);

    const PteFormat c = PteFormat::fromName("generic", "mmu.format", 16, 8, 3);
    EXPECT_EQ(c.indexBits(), 13u);
    EXPECT_EQ(c.vaBits(), 55u);

    const PteFormat d = PteFormat::fromName("generic", "mmu.format", 21, 4, 1);
    EXPECT_EQ(d.indexBits(), 19u);
    EXPECT_EQ(d.vaBits(), 40u);
    EXPECT_EQ(d.raw().leaf_level_mask, 0x1u);

    const PteFormat e = PteFormat::fromName("generic", "mmu.format", 10, 8, 6);
    EXPECT_EQ(e.vaBits(), 52u);
}

TEST(PteFormatTest, GenericImpossibleParametersAreRejected) {
    pte_format f{};
    EXPECT_EQ(pte_format_init(&f, PTE_FMT_GENERIC, 9, 8, 3), -1);  // page too small
    EXPECT_EQ(pte_format_init(&f, PTE_FMT_GENERIC, 22, 8, 3), -1); // page too large
    EXPECT_EQ(pte_format_init(&f, PTE_FMT_GENERIC, 12, 2, 3), -1); // PTE size
    EXPECT_EQ(pte_format_init(&f, PTE_FMT_GENERIC, 12, 16, 3), -1);
    EXPECT_EQ(pte_format_init(&f, PTE_FMT_GENERIC, 12, 8, 0), -1); // levels
    EXPECT_EQ(pte_format_init(&f, PTE_FMT_GENERIC, 12, 8, 7), -1);
    EXPECT_EQ(pte_format_init(&f, PTE_FMT_GENERIC, 12, 8, 6), -1); // 12 + 6*9 = 66 > 64
    EXPECT_EQ(pte_format_init(&f, PTE_FMT_GENERIC, 16, 8, 4), -1); // 16 + 4*13 = 68
    EXPECT_EQ(pte_format_init(&f, PTE_FMT_GENERIC, 15, 8, 4), 0);  // 15 + 4*12 = 63
    EXPECT_EQ(f.va_bits, 63u);
}

TEST(PteFormatTest, UnknownNameThrowsNamingKeyAndAllowedValues) {
    try {
        PteFormat::fromName("sv32");
        FAIL() << "no exception";
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "mmu.format: unknown format 'sv32' (allowed: sv39, sv48, sv57, x86_64, "
                  "x86_64_5level, x86_32, generic)");
    }
    try {
        PteFormat::fromName("nope", "system.cpu0.mmu.format");
        FAIL() << "no exception";
    } catch (const InputError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("system.cpu0.mmu.format: unknown format 'nope'", 0),
                  0u);
    }
}

TEST(PteFormatTest, ImpossibleGenericThrowsNamingItsKeys) {
    try {
        PteFormat::fromName("generic", "mmu.format", 16, 8, 4);
        FAIL() << "no exception";
    } catch (const InputError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("mmu.generic.page_bits"), std::string::npos) << what;
        EXPECT_NE(what.find("mmu.generic.pte_bytes"), std::string::npos) << what;
        EXPECT_NE(what.find("mmu.generic.levels"), std::string::npos) << what;
        EXPECT_NE(what.find("page_bits 10..21"), std::string::npos) << what;
        EXPECT_NE(what.find("pte_bytes 4 or 8"), std::string::npos) << what;
        EXPECT_NE(what.find("levels 1..6"), std::string::npos) << what;
        EXPECT_NE(what.find("<= 64"), std::string::npos) << what;
    }
    EXPECT_THROW(PteFormat::fromName("generic", "mmu.format", 12, 3, 3), InputError);
}

TEST(PteFormatTest, IndexAndLevelShift) {
    const PteFormat sv39 = PteFormat::fromName("sv39");
    const std::uint64_t va = (std::uint64_t{0x1a5} << 30) | (std::uint64_t{0x0c3} << 21) |
                             (std::uint64_t{0x1ff} << 12) | 0xabc;
    EXPECT_EQ(pte_index(&sv39.raw(), va, 2), 0x1a5u);
    EXPECT_EQ(pte_index(&sv39.raw(), va, 1), 0x0c3u);
    EXPECT_EQ(pte_index(&sv39.raw(), va, 0), 0x1ffu);

    const PteFormat x86_32 = PteFormat::fromName("x86_32");
    EXPECT_EQ(pte_index(&x86_32.raw(), 0xC0401000u, 1), 0x301u); // 0xC0401000 >> 22
    EXPECT_EQ(pte_index(&x86_32.raw(), 0xC0401000u, 0), 0x001u);
}

// ---------------------------------------------------------------------------------------------
// RISC-V Sv39 / Sv48 / Sv57.

TEST(PteFormatTest, RiscvLeafEncodingMatchesSpec) {
    for (const char* name : {"sv39", "sv48", "sv57"}) {
        const PteFormat f = PteFormat::fromName(name);
        const pte_format* raw = &f.raw();
        // PPN 0x12345 at bits 10.., V R W X U A D at bits 0,1,2,3,4,6,7.
        EXPECT_EQ(pte_encode_leaf(raw, 0x12345, kRWXUAD, 0), 0x48D14DFull) << name;
        expectLeaf(f, 0x48D14DF, 0, 0x12345, kRWXUAD);
        // Global, read+execute kernel text, A set: V|R|X|G|A = 0x6b.
        EXPECT_EQ(pte_encode_leaf(raw, 0x80200, PTE_F_R | PTE_F_X | PTE_F_G | PTE_F_A, 0),
                  0x2008006Bull);
        // V is implied by encode.
        EXPECT_EQ(pte_encode_leaf(raw, 0x1, PTE_F_R, 0), 0x403ull);
        // Table pointer: PPN and V only.
        EXPECT_EQ(pte_encode_table(raw, 0x80001), 0x20000401ull);
        const Decoded t = decode(f, 0x20000401, 1);
        EXPECT_EQ(t.kind, PTE_KIND_TABLE);
        EXPECT_EQ(t.ppn, 0x80001u);
        // Largest PPN (44 bits) round-trips.
        const std::uint64_t max_ppn = (std::uint64_t{1} << 44) - 1;
        EXPECT_EQ(pte_encode_leaf(raw, max_ppn, kRWXUAD, 0), 0x003FFFFFFFFFFCDFull);
        expectLeaf(f, 0x003FFFFFFFFFFCDFull, 0, max_ppn, kRWXUAD);
    }
}

TEST(PteFormatTest, RiscvSuperpagesAtEveryLevel) {
    const unsigned flags = PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_A | PTE_F_D; // + V = 0xcf
    const PteFormat sv39 = PteFormat::fromName("sv39");
    // 2 MiB at PA 0x80200000, 1 GiB at PA 0x40000000.
    EXPECT_EQ(pte_encode_leaf(&sv39.raw(), 0x80200, flags, 1), 0x200800CFull);
    expectLeaf(sv39, 0x200800CF, 1, 0x80200, flags | PTE_F_V);
    EXPECT_EQ(pte_encode_leaf(&sv39.raw(), 0x40000, flags, 2), 0x100000CFull);
    expectLeaf(sv39, 0x100000CF, 2, 0x40000, flags | PTE_F_V);
    // 512 GiB leaf at the Sv48 root: PA 2^39 = PPN 2^27.
    const PteFormat sv48 = PteFormat::fromName("sv48");
    EXPECT_EQ(pte_encode_leaf(&sv48.raw(), 0x8000000, flags, 3), 0x20000000CFull);
    expectLeaf(sv48, 0x20000000CF, 3, 0x8000000, flags | PTE_F_V);
    // 256 TiB leaf at the Sv57 root: PA 2^48 = PPN 2^36.
    const PteFormat sv57 = PteFormat::fromName("sv57");
    EXPECT_EQ(pte_encode_leaf(&sv57.raw(), 0x1000000000, flags, 4), 0x4000000000CFull);
    expectLeaf(sv57, 0x4000000000CF, 4, 0x1000000000, flags | PTE_F_V);
}

TEST(PteFormatTest, RiscvReservedEncodings) {
    const PteFormat f = PteFormat::fromName("sv48");
    expectReserved(f, 0x48D14DFull | (1ull << 54), 0, 0); // first reserved bit
    expectReserved(f, 0x48D14DFull | (1ull << 61), 0, 0); // Svpbmt PBMT (not modelled)
    expectReserved(f, 0x48D14DFull | (1ull << 63), 0, 0); // Svnapot N (not modelled)
    expectReserved(f, 0x48D1405ull, 0, 0);                // V|W: write without read
    expectReserved(f, 0x48D1407ull ^ 0x2, 1, 0);          // same at level 1
    expectReserved(f, 0x20000411ull, 2, 0);               // non-leaf with U
    expectReserved(f, 0x20000441ull, 2, 0);               // non-leaf with A
    expectReserved(f, 0x20000481ull, 2, 0);               // non-leaf with D
    expectReserved(f, 0x20000401ull, 0, 0);               // table pointer at level 0
    // RSW bits 8-9 are the software's: still a valid leaf.
    expectLeaf(f, 0x48D17DFull, 0, 0x12345, kRWXUAD);
    // Non-leaf with G is legal (global mapping hint).
    EXPECT_EQ(decode(f, 0x20000421ull, 2).kind, PTE_KIND_TABLE);
    // Invalid: V clear, whatever else is set.
    EXPECT_EQ(decode(f, 0x48D14DEull, 0).kind, PTE_KIND_INVALID);
    EXPECT_EQ(decode(f, 0xFFFFFFFFFFFFFFFEull, 3).kind, PTE_KIND_INVALID);
    EXPECT_EQ(decode(f, 0, 0).kind, PTE_KIND_INVALID);
}

TEST(PteFormatTest, RiscvMisalignedSuperpages) {
    const PteFormat f = PteFormat::fromName("sv57");
    // Level 1 needs the low 9 PPN bits clear, level 2 the low 18, ...
    expectReserved(f, (0x80201ull << 10) | 0xCF, 1, 1);
    expectReserved(f, (0x40100ull << 10) | 0xCF, 2, 1);   // bit 8 of the PPN set
    expectReserved(f, (0x8000200ull << 10) | 0xCF, 3, 1); // bit 9 set at a 27-bit alignment
    expectReserved(f, (0x1000000001ull << 10) | 0xCF, 4, 1);
    expectLeaf(f, (0x8000000ull << 10) | 0xCF, 3, 0x8000000, 0xCF);
    // The same PPN is fine as a base page.
    expectLeaf(f, (0x80201ull << 10) | 0xCF, 0, 0x80201, 0xCF);
    // W-without-R on a misaligned superpage is a plain reserved encoding.
    expectReserved(f, (0x80201ull << 10) | 0x05, 1, 0);
}

TEST(PteFormatTest, RiscvCanonicalAddresses) {
    const PteFormat sv39 = PteFormat::fromName("sv39");
    EXPECT_TRUE(pte_va_canonical(&sv39.raw(), 0));
    EXPECT_TRUE(pte_va_canonical(&sv39.raw(), 0x0000003FFFFFFFFFull));
    EXPECT_FALSE(pte_va_canonical(&sv39.raw(), 0x0000004000000000ull));
    EXPECT_TRUE(pte_va_canonical(&sv39.raw(), 0xFFFFFFC000000000ull));
    EXPECT_FALSE(pte_va_canonical(&sv39.raw(), 0xFFFFFF8000000000ull));
    EXPECT_FALSE(pte_va_canonical(&sv39.raw(), 0x8000000000000000ull));
    EXPECT_TRUE(pte_va_canonical(&sv39.raw(), ~0ull));

    const PteFormat sv48 = PteFormat::fromName("sv48");
    EXPECT_TRUE(pte_va_canonical(&sv48.raw(), 0x00007FFFFFFFFFFFull));
    EXPECT_FALSE(pte_va_canonical(&sv48.raw(), 0x0000800000000000ull));
    EXPECT_TRUE(pte_va_canonical(&sv48.raw(), 0xFFFF800000000000ull));
    EXPECT_FALSE(pte_va_canonical(&sv48.raw(), 0xFFFF000000000000ull));

    const PteFormat sv57 = PteFormat::fromName("sv57");
    EXPECT_TRUE(pte_va_canonical(&sv57.raw(), 0x00FFFFFFFFFFFFFFull));
    EXPECT_FALSE(pte_va_canonical(&sv57.raw(), 0x0100000000000000ull));
    EXPECT_TRUE(pte_va_canonical(&sv57.raw(), 0xFF00000000000000ull));
    EXPECT_FALSE(pte_va_canonical(&sv57.raw(), 0xFE00000000000000ull));
}

TEST(PteFormatTest, RiscvSetAccessedDirty) {
    const PteFormat f = PteFormat::fromName("sv39");
    EXPECT_EQ(pte_set_flags(&f.raw(), 0x48D141Full, PTE_F_A), 0x48D145Full);
    EXPECT_EQ(pte_set_flags(&f.raw(), 0x48D141Full, PTE_F_A | PTE_F_D), 0x48D14DFull);
    // Only A and D are touched.
    EXPECT_EQ(pte_set_flags(&f.raw(), 0x48D141Full, 0xff), 0x48D14DFull);
}

// ---------------------------------------------------------------------------------------------
// x86-64 (4- and 5-level).

TEST(PteFormatTest, X86_64LeafAndTableEncodingMatchesSdm) {
    for (const char* name : {"x86_64", "x86_64_5level"}) {
        const PteFormat f = PteFormat::fromName(name);
        const pte_format* raw = &f.raw();
        // P|RW|US|A|D = 0x67, address 0x12345000, executable (NX clear).
        EXPECT_EQ(pte_encode_leaf(raw, 0x12345, kRWXUAD, 0), 0x12345067ull) << name;
        expectLeaf(f, 0x12345067, 0, 0x12345, kRWXUAD);
        // Not executable: NX (bit 63).
        EXPECT_EQ(pte_encode_leaf(raw, 0x12345, kRWXUAD & ~PTE_F_X, 0), 0x8000000012345067ull);
        expectLeaf(f, 0x8000000012345067ull, 0, 0x12345, kRWXUAD & ~PTE_F_X);
        // Read-only global supervisor data: P|A|G + NX.
        EXPECT_EQ(pte_encode_leaf(raw, 0x12345, PTE_F_R | PTE_F_A | PTE_F_G, 0),
                  0x8000000012345121ull);
        expectLeaf(f, 0x8000000012345121ull, 0, 0x12345, PTE_F_V | PTE_F_R | PTE_F_A | PTE_F_G);
        // Table: P|RW|US|A, the leaf decides.
        EXPECT_EQ(pte_encode_table(raw, 0x1000), 0x1000027ull);
        const Decoded t = decode(f, 0x1000027, 3);
        EXPECT_EQ(t.kind, PTE_KIND_TABLE);
        EXPECT_EQ(t.ppn, 0x1000u);
        EXPECT_EQ(t.flags & (PTE_F_V | PTE_F_W | PTE_F_U | PTE_F_X),
                  PTE_F_V | PTE_F_W | PTE_F_U | PTE_F_X);
        // Highest address bit (51) round-trips.
        const std::uint64_t max_ppn = (std::uint64_t{1} << 40) - 1;
        EXPECT_EQ(pte_encode_leaf(raw, max_ppn, kRWXUAD, 0), 0x000FFFFFFFFFF067ull);
        expectLeaf(f, 0x000FFFFFFFFFF067ull, 0, max_ppn, kRWXUAD);
    }
}

TEST(PteFormatTest, X86_64Superpages) {
    const PteFormat f = PteFormat::fromName("x86_64");
    // 2 MiB at PA 0x200000 and 1 GiB at PA 0x40000000: PS (bit 7) set.
    EXPECT_EQ(pte_encode_leaf(&f.raw(), 0x200, kRWXUAD, 1), 0x2000E7ull);
    expectLeaf(f, 0x2000E7, 1, 0x200, kRWXUAD);
    EXPECT_EQ(pte_encode_leaf(&f.raw(), 0x40000, kRWXUAD, 2), 0x400000E7ull);
    expectLeaf(f, 0x400000E7, 2, 0x40000, kRWXUAD);
    // Bit 12 of a superpage is PAT: ignored, the page stays aligned.
    expectLeaf(f, 0x2010E7, 1, 0x200, kRWXUAD);
    expectLeaf(f, 0x400010E7, 2, 0x40000, kRWXUAD);
    // Bits 13..20 (2 MiB) / 13..29 (1 GiB) are reserved, reported as reserved bits.
    expectReserved(f, 0x2020E7, 1, 0);
    expectReserved(f, 0x3000E7, 1, 0);              // bit 20
    expectReserved(f, 0x600000E7, 2, 0);            // bit 29
    expectLeaf(f, 0x600000E7, 1, 0x60000, kRWXUAD); // fine as a 2 MiB page
    // At level 0 bit 7 is PAT: still a 4 KiB leaf.
    expectLeaf(f, 0x123450E7, 0, 0x12345, kRWXUAD);
    // PS where no leaf may sit (PML4, and PML5 in 5-level) is reserved.
    expectReserved(f, 0x400000E7, 3, 0);
    const PteFormat f5 = PteFormat::fromName("x86_64_5level");
    expectReserved(f5, 0x400000E7, 3, 0);
    expectReserved(f5, 0x400000E7, 4, 0);
    expectLeaf(f5, 0x400000E7, 2, 0x40000, kRWXUAD);
}

TEST(PteFormatTest, X86_64IgnoredBitsAndRestrictions) {
    const PteFormat f = PteFormat::fromName("x86_64");
    // Bits 52..62 are ignored (available to software / protection keys).
    expectLeaf(f, 0x7FF0000012345067ull, 0, 0x12345, kRWXUAD);
    // Not present: everything else is the software's.
    EXPECT_EQ(decode(f, 0x12345066, 0).kind, PTE_KIND_INVALID);
    EXPECT_EQ(decode(f, 0xFFFFFFFFFFFFFFFEull, 3).kind, PTE_KIND_INVALID);
    // Tables report the rights they leave: RW=0, US=0, NX=1.
    const Decoded read_only = decode(f, 0x1000025, 2); // P|US|A
    EXPECT_EQ(read_only.kind, PTE_KIND_TABLE);
    EXPECT_EQ(read_only.flags & (PTE_F_W | PTE_F_U | PTE_F_X), PTE_F_U | PTE_F_X);
    const Decoded supervisor = decode(f, 0x1000023, 2); // P|RW|A
    EXPECT_EQ(supervisor.flags & (PTE_F_W | PTE_F_U | PTE_F_X), PTE_F_W | PTE_F_X);
    const Decoded no_exec = decode(f, 0x8000000001000027ull, 2);
    EXPECT_EQ(no_exec.flags & (PTE_F_W | PTE_F_U | PTE_F_X), PTE_F_W | PTE_F_U);
    // Present implies readable; x86 cannot express write-only or execute-only.
    expectLeaf(f, 0x8000000012345001ull, 0, 0x12345, PTE_F_V | PTE_F_R);
}

TEST(PteFormatTest, X86_64CanonicalAndSetFlags) {
    const PteFormat f = PteFormat::fromName("x86_64");
    EXPECT_TRUE(pte_va_canonical(&f.raw(), 0x00007FFFFFFFF000ull));
    EXPECT_FALSE(pte_va_canonical(&f.raw(), 0x0000800000000000ull));
    EXPECT_TRUE(pte_va_canonical(&f.raw(), 0xFFFF800000000000ull));
    EXPECT_FALSE(pte_va_canonical(&f.raw(), 0xFFFE800000000000ull));
    const PteFormat f5 = PteFormat::fromName("x86_64_5level");
    EXPECT_TRUE(pte_va_canonical(&f5.raw(), 0x00FFFFFFFFFFFFFFull));
    EXPECT_FALSE(pte_va_canonical(&f5.raw(), 0x0100000000000000ull));
    EXPECT_TRUE(pte_va_canonical(&f5.raw(), 0xFF00000000000000ull));

    // A is bit 5, D is bit 6.
    EXPECT_EQ(pte_set_flags(&f.raw(), 0x12345007ull, PTE_F_A), 0x12345027ull);
    EXPECT_EQ(pte_set_flags(&f.raw(), 0x12345007ull, PTE_F_A | PTE_F_D), 0x12345067ull);
    EXPECT_EQ(pte_set_flags(&f.raw(), 0x8000000012345007ull, PTE_F_A | PTE_F_D),
              0x8000000012345067ull);
}

// ---------------------------------------------------------------------------------------------
// x86 32-bit (2-level, 4-byte entries, 4 MiB pages with PSE).

TEST(PteFormatTest, X86_32Encoding) {
    const PteFormat f = PteFormat::fromName("x86_32");
    const pte_format* raw = &f.raw();
    EXPECT_EQ(pte_encode_leaf(raw, 0x12345, kRWXUAD, 0), 0x12345067ull);
    expectLeaf(f, 0x12345067, 0, 0x12345, kRWXUAD);
    // No NX: a page asked to be non-executable is still executable.
    EXPECT_EQ(pte_encode_leaf(raw, 0x12345, kRWXUAD & ~PTE_F_X, 0), 0x12345067ull);
    // Highest frame (PA 0xFFFFF000).
    EXPECT_EQ(pte_encode_leaf(raw, 0xFFFFF, PTE_F_R | PTE_F_A, 0), 0xFFFFF021ull);
    expectLeaf(f, 0xFFFFF021, 0, 0xFFFFF, PTE_F_V | PTE_F_R | PTE_F_X | PTE_F_A);
    // 4 MiB PDE at PA 0x400000.
    EXPECT_EQ(pte_encode_leaf(raw, 0x400, kRWXUAD, 1), 0x004000E7ull);
    expectLeaf(f, 0x004000E7, 1, 0x400, kRWXUAD);
    expectLeaf(f, 0xFFC000E7, 1, 0xFFC00, kRWXUAD);
    expectLeaf(f, 0x004010E7, 1, 0x400, kRWXUAD); // bit 12: PAT
    expectReserved(f, 0x004020E7, 1, 0);          // bit 13
    expectReserved(f, 0x003000E7, 1, 0);          // bit 21
    // Table (PDE without PS).
    EXPECT_EQ(pte_encode_table(raw, 0x1), 0x1027ull);
    EXPECT_EQ(decode(f, 0x1027, 1).kind, PTE_KIND_TABLE);
    EXPECT_EQ(decode(f, 0x1027, 1).ppn, 1u);
    // Level 0 with bit 7 (PAT) is a leaf.
    expectLeaf(f, 0x123450E7, 0, 0x12345, kRWXUAD);
    EXPECT_EQ(decode(f, 0x12345066, 0).kind, PTE_KIND_INVALID);
    // Bits above the 4-byte entry do not exist.
    expectLeaf(f, 0xFFFFFFFF12345067ull, 0, 0x12345, kRWXUAD);
    EXPECT_EQ(pte_set_flags(raw, 0x12345007, PTE_F_A | PTE_F_D), 0x12345067ull);
}

TEST(PteFormatTest, X86_32Canonical) {
    const PteFormat f = PteFormat::fromName("x86_32");
    EXPECT_TRUE(pte_va_canonical(&f.raw(), 0));
    EXPECT_TRUE(pte_va_canonical(&f.raw(), 0xFFFFFFFFull));
    EXPECT_TRUE(pte_va_canonical(&f.raw(), 0x80000000ull)); // no sign extension on 32-bit
    EXPECT_FALSE(pte_va_canonical(&f.raw(), 0x100000000ull));
    EXPECT_FALSE(pte_va_canonical(&f.raw(), 0xFFFFFFFF80000000ull));
}

// ---------------------------------------------------------------------------------------------
// Generic.

TEST(PteFormatTest, GenericEncodingIsRiscvLike) {
    const PteFormat f = PteFormat::fromName("generic", "mmu.format", 12, 8, 3);
    EXPECT_EQ(pte_encode_leaf(&f.raw(), 0x12345, kRWXUAD, 0), 0x48D14DFull);
    // No reserved bits: the PPN runs up to bit 63.
    const std::uint64_t top_ppn = std::uint64_t{1} << 53;
    EXPECT_EQ(pte_encode_leaf(&f.raw(), top_ppn, kRWXUAD, 0), 0x80000000000000DFull);
    expectLeaf(f, 0x80000000000000DFull, 0, top_ppn, kRWXUAD);
    expectReserved(f, (0x80201ull << 10) | 0xCF, 1, 1);
    expectReserved(f, 0x48D1405ull, 0, 0);
    expectReserved(f, 0x20000401ull, 0, 0);
    expectLeaf(f, (0x40000ull << 10) | 0xCF, 2, 0x40000, 0xCF);
    EXPECT_EQ(pte_encode_table(&f.raw(), 0x80001), 0x20000401ull);
    EXPECT_TRUE(pte_va_canonical(&f.raw(), 0xFFFFFFC000000000ull));
    EXPECT_FALSE(pte_va_canonical(&f.raw(), 0x0000004000000000ull));
}

TEST(PteFormatTest, GenericSmallPtes) {
    // 1 KiB pages, 4-byte PTEs: 8 index bits, PPN in bits 10..31 (22 bits).
    const PteFormat f = PteFormat::fromName("generic", "mmu.format", 10, 4, 3);
    EXPECT_EQ(pte_encode_leaf(&f.raw(), 0x3FFFFF, kRWXUAD, 0), 0xFFFFFCDFull);
    expectLeaf(f, 0xFFFFFCDF, 0, 0x3FFFFF, kRWXUAD);
    // Level 1 leaf (256 KiB) needs 8 low PPN bits clear, level 2 (64 MiB) 16.
    expectLeaf(f, (0x100ull << 10) | 0xCF, 1, 0x100, 0xCF);
    expectReserved(f, (0x180ull << 10) | 0xCF, 1, 1);
    expectLeaf(f, (0x10000ull << 10) | 0xCF, 2, 0x10000, 0xCF);
    expectReserved(f, (0x10100ull << 10) | 0xCF, 2, 1);
    EXPECT_EQ(pte_level_shift(&f.raw(), 2), 26u);
    // 34-bit VA, sign extended.
    EXPECT_TRUE(pte_va_canonical(&f.raw(), 0x1FFFFFFFFull));
    EXPECT_FALSE(pte_va_canonical(&f.raw(), 0x200000000ull));
    EXPECT_TRUE(pte_va_canonical(&f.raw(), 0xFFFFFFFE00000000ull));
}

TEST(PteFormatTest, RoundTripEveryFormatEveryLeafLevel) {
    const PteFormat formats[] = {
        PteFormat::fromName("sv39"),
        PteFormat::fromName("sv48"),
        PteFormat::fromName("sv57"),
        PteFormat::fromName("x86_64"),
        PteFormat::fromName("x86_64_5level"),
        PteFormat::fromName("x86_32"),
        PteFormat::fromName("generic", "mmu.format", 12, 8, 3),
        PteFormat::fromName("generic", "mmu.format", 10, 4, 3),
        PteFormat::fromName("generic", "mmu.format", 16, 8, 3),
        PteFormat::fromName("generic", "mmu.format", 14, 4, 4),
    };
    for (const PteFormat& f : formats) {
        const bool x86 = f.raw().x86_style != 0;
        const bool has_nx = x86 && f.pteBytes() == 8;
        const unsigned flag_sets[] = {
            kRWXUAD,
            PTE_F_R | PTE_F_A,
            PTE_F_R | PTE_F_W | PTE_F_G,
            PTE_F_R | PTE_F_X | PTE_F_U | PTE_F_D,
        };
        for (unsigned level = 0; level < f.levels(); ++level) {
            if (!f.leafAllowed(level)) continue;
            const unsigned pa_bits = f.raw().pa_bits;
            // An aligned PPN with a high bit set, inside the physical address width; 0 where
            // the superpage is larger than the physical address space.
            const unsigned top_bit = pa_bits - f.pageShift() - 1;
            const unsigned align_bits = level * f.indexBits();
            const std::uint64_t ppn = align_bits > top_bit ? 0
                                                           : (std::uint64_t{1} << top_bit) |
                                                                 (std::uint64_t{1} << align_bits);
            for (unsigned flags : flag_sets) {
                const std::uint64_t raw = pte_encode_leaf(&f.raw(), ppn, flags, level);
                unsigned expected = flags | PTE_F_V;
                if (x86 && !has_nx) expected |= PTE_F_X;
                const Decoded d = decode(f, raw, level);
                EXPECT_EQ(d.kind, PTE_KIND_LEAF) << f.name() << " level " << level;
                EXPECT_EQ(d.ppn, ppn) << f.name() << " level " << level;
                EXPECT_EQ(d.flags, expected) << f.name() << " level " << level;
            }
        }
        for (unsigned level = 1; level < f.levels(); ++level) {
            const std::uint64_t raw = pte_encode_table(&f.raw(), 0x123);
            const Decoded d = decode(f, raw, level);
            EXPECT_EQ(d.kind, PTE_KIND_TABLE) << f.name() << " level " << level;
            EXPECT_EQ(d.ppn, 0x123u);
        }
    }
}

} // namespace
} // namespace tlmmu
