// The walk algorithm over a map-backed memory, for every format: translations of base pages and
// every superpage size, each fault kind, A/D write-back, page-walk-cache restarts and x86's
// hierarchical permissions.
#include "support/FormatCases.h"
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "mmu/PageTableWalk.h"

namespace tlmmu {
namespace {

constexpr unsigned kRWXU = PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_U;

std::uint64_t lowMask(unsigned bits) {
    return bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
}

class MapMemory : public PteMemory {
  public:
    bool readPte(Addr pa, unsigned bytes, std::uint64_t& value) override {
        if (read_errors.count(pa)) return false;
        const auto it = words.find(pa);
        value = it == words.end() ? 0 : it->second & lowMask(bytes * 8);
        return true;
    }
    bool writePte(Addr pa, unsigned bytes, std::uint64_t value) override {
        if (write_errors.count(pa)) return false;
        words[pa] = value & lowMask(bytes * 8);
        written.push_back(pa);
        return true;
    }

    std::map<Addr, std::uint64_t> words; // keyed by PTE address
    std::set<Addr> read_errors;
    std::set<Addr> write_errors;
    std::vector<Addr> written;
};

// Builds tables the way firmware would, with the format's own encoder.
class PageTables {
  public:
    PageTables(const PteFormat& format, MapMemory& memory)
        : format_(&format), memory_(&memory),
          next_(std::max<Addr>(Addr{1} << 20, format.tableBytes())) {
        root = allocate();
    }

    Addr root = 0;

    // Address of the level-`level` PTE for va, creating tables above it as needed.
    Addr slot(std::uint64_t va, unsigned level) {
        Addr table = root;
        for (unsigned l = format_->levels() - 1; l > level; --l) {
            const Addr pte = entryAddress(table, va, l);
            pte_decoded d{};
            pte_decode(&format_->raw(), memory_->words[pte], l, &d, nullptr);
            if (d.kind != PTE_KIND_TABLE) {
                const Addr next = allocate();
                memory_->words[pte] =
                    pte_encode_table(&format_->raw(), next >> format_->pageShift());
                table = next;
            } else {
                table = d.ppn << format_->pageShift();
            }
        }
        return entryAddress(table, va, level);
    }

    Addr map(std::uint64_t va, Addr pa, unsigned level, unsigned flags) {
        const Addr pte = slot(va, level);
        memory_->words[pte] =
            pte_encode_leaf(&format_->raw(), pa >> format_->pageShift(), flags, level);
        return pte;
    }

    void setRaw(std::uint64_t va, unsigned level, std::uint64_t raw) {
        memory_->words[slot(va, level)] = raw;
    }

  private:
    Addr allocate() {
        const Addr table = next_;
        next_ += format_->tableBytes();
        return table;
    }
    Addr entryAddress(Addr table, std::uint64_t va, unsigned level) const {
        return table + Addr{pte_index(&format_->raw(), va, level)} * format_->pteBytes();
    }

    const PteFormat* format_;
    MapMemory* memory_;
    Addr next_;
};

using tlmmu::test::caseName;
using tlmmu::test::FormatCase;
constexpr const auto& kFormats = tlmmu::test::kAllFormats;

class WalkTest : public testing::TestWithParam<FormatCase> {
  protected:
    WalkTest()
        : format(PteFormat::fromName(GetParam().name, "mmu.format", GetParam().page_bits,
                                     GetParam().pte_bytes, GetParam().levels)),
          tables(format, memory) {}

    bool x86() const { return format.raw().x86_style != 0; }
    bool hasNx() const { return x86() && format.pteBytes() == 8; }
    unsigned top() const { return format.levels() - 1; }

    // A canonical VA in the lower half with a different non-zero index at every level.
    std::uint64_t sampleVa() const { return 0x5A5A5A5A5A5A5A5Aull & lowMask(format.vaBits() - 1); }
    // A physical address aligned for a leaf at `level`, inside the format's PA width.
    Addr samplePa(unsigned level) const {
        const unsigned shift = format.levelShift(level);
        return shift + 2 <= format.raw().pa_bits ? Addr{3} << shift : 0;
    }

    WalkResult walk(std::uint64_t va, AccessType access = AccessType::Read,
                    Privilege priv = Privilege::User, bool hardware_ad = true) {
        WalkRequest request;
        request.va = va;
        request.asid = 7;
        request.access = access;
        request.priv = priv;
        request.root = tables.root;
        request.hardware_ad = hardware_ad;
        return walkPageTable(format, request, memory);
    }

    PteFormat format;
    MapMemory memory;
    PageTables tables;
};

INSTANTIATE_TEST_SUITE_P(AllFormats, WalkTest, testing::ValuesIn(kFormats), caseName);

TEST_P(WalkTest, TranslatesBasePagesAndEverySuperpageSize) {
    for (unsigned level = 0; level < format.levels(); ++level) {
        if (!format.leafAllowed(level)) continue;
        SCOPED_TRACE("level " + std::to_string(level));
        memory.words.clear();
        tables = PageTables(format, memory);
        const std::uint64_t va = sampleVa();
        const Addr pa = samplePa(level);
        const std::uint64_t leaf_mask = lowMask(format.levelShift(level));
        const Addr pte = tables.map(va & ~leaf_mask, pa, level, kRWXU | PTE_F_A);

        const WalkResult r = walk(va);
        ASSERT_EQ(r.fault, FaultKind::None) << toString(r.fault);
        EXPECT_EQ(r.fault_level, -1);
        EXPECT_EQ(r.reads, format.levels() - level);
        EXPECT_EQ(r.writes, 0u);
        EXPECT_EQ(r.entry.level, level);
        EXPECT_EQ(r.entry.asid, 7);
        EXPECT_EQ(r.entry.ppn, pa >> format.pageShift());
        EXPECT_EQ(r.entry.vpn, (va >> format.pageShift()) & ~lowMask(level * format.indexBits()));
        EXPECT_EQ((r.entry.ppn << format.pageShift()) | (va & leaf_mask), pa | (va & leaf_mask));
        unsigned expected = kRWXU | PTE_F_A | PTE_F_V;
        EXPECT_EQ(r.entry.flags, expected);
        EXPECT_FALSE(r.entry.global());

        // Every level above the leaf was read as a table, and its next table recorded.
        std::uint32_t mask = 0;
        for (unsigned l = level + 1; l < format.levels(); ++l) {
            mask |= 1u << l;
            EXPECT_NE(r.next_table[l], 0u);
            EXPECT_EQ(r.next_table[l] % format.tableBytes(), 0u);
        }
        EXPECT_EQ(r.tables_read_mask, mask);
        if (level + 1 < format.levels()) {
            const Addr leaf_table = r.next_table[level + 1];
            EXPECT_EQ(pte,
                      leaf_table + Addr{pte_index(&format.raw(), va, level)} * format.pteBytes());
        }
    }
}

TEST_P(WalkTest, UpperHalfAddressesTranslate) {
    if (format.vaBits() >= 64 || format.raw().id == PTE_FMT_X86_32) GTEST_SKIP();
    const std::uint64_t va = ~lowMask(format.vaBits() - 1) | (sampleVa() & ~lowMask(12));
    tables.map(va & ~lowMask(format.pageShift()), samplePa(0), 0,
               PTE_F_R | PTE_F_W | PTE_F_G | PTE_F_A | PTE_F_D);
    const WalkResult r = walk(va, AccessType::Write, Privilege::Supervisor);
    ASSERT_EQ(r.fault, FaultKind::None) << toString(r.fault);
    EXPECT_TRUE(r.entry.global());
    EXPECT_EQ(r.entry.vpn, va >> format.pageShift());
}

TEST_P(WalkTest, GlobalFlagIsReported) {
    tables.map(sampleVa() & ~lowMask(format.pageShift()), samplePa(0), 0,
               kRWXU | PTE_F_G | PTE_F_A);
    const WalkResult r = walk(sampleVa());
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_TRUE(r.entry.global());
}

TEST_P(WalkTest, AccessedAndDirtyAreWrittenBack) {
    const std::uint64_t va = sampleVa();
    const Addr pte = tables.map(va & ~lowMask(format.pageShift()), samplePa(0), 0, kRWXU);

    WalkResult r = walk(va);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.writes, 1u);
    EXPECT_EQ(r.entry.flags & (PTE_F_A | PTE_F_D), PTE_F_A);
    EXPECT_EQ(
        memory.words[pte],
        pte_set_flags(&format.raw(),
                      pte_encode_leaf(&format.raw(), samplePa(0) >> format.pageShift(), kRWXU, 0),
                      PTE_F_A));
    ASSERT_EQ(memory.written.size(), 1u);
    EXPECT_EQ(memory.written[0], pte);

    r = walk(va); // A is there now
    EXPECT_EQ(r.writes, 0u);

    r = walk(va, AccessType::Write);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.writes, 1u);
    EXPECT_EQ(r.entry.flags & (PTE_F_A | PTE_F_D), PTE_F_A | PTE_F_D);
    pte_decoded d{};
    pte_decode(&format.raw(), memory.words[pte], 0, &d, nullptr);
    EXPECT_EQ(d.flags & (PTE_F_A | PTE_F_D), PTE_F_A | PTE_F_D);

    r = walk(va, AccessType::Write);
    EXPECT_EQ(r.writes, 0u);
    EXPECT_EQ(memory.written.size(), 2u);
}

TEST_P(WalkTest, FirstWriteSetsAccessedAndDirtyInOneWrite) {
    const std::uint64_t va = sampleVa();
    const Addr pte = tables.map(va & ~lowMask(format.pageShift()), samplePa(0), 0, kRWXU);
    const WalkResult r = walk(va, AccessType::Write);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.writes, 1u);
    EXPECT_EQ(r.entry.flags & (PTE_F_A | PTE_F_D), PTE_F_A | PTE_F_D);
    pte_decoded d{};
    pte_decode(&format.raw(), memory.words[pte], 0, &d, nullptr);
    EXPECT_EQ(d.flags & (PTE_F_A | PTE_F_D), PTE_F_A | PTE_F_D);
}

TEST_P(WalkTest, SuperpageAccessedWriteBackHitsTheSuperpageEntry) {
    const unsigned level = top() > 0 && format.leafAllowed(1) ? 1 : 0;
    const std::uint64_t va = sampleVa();
    const Addr pte =
        tables.map(va & ~lowMask(format.levelShift(level)), samplePa(level), level, kRWXU);
    const WalkResult r = walk(va, AccessType::Write);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.writes, 1u);
    ASSERT_EQ(memory.written.size(), 1u);
    EXPECT_EQ(memory.written[0], pte);
}

TEST_P(WalkTest, WithoutHardwareAdMissingBitsFault) {
    const std::uint64_t va = sampleVa();
    const Addr pte = tables.map(va & ~lowMask(format.pageShift()), samplePa(0), 0, kRWXU);
    WalkResult r = walk(va, AccessType::Read, Privilege::User, false);
    EXPECT_EQ(r.fault, FaultKind::Permission);
    EXPECT_EQ(r.fault_level, 0);
    EXPECT_EQ(r.writes, 0u);

    memory.words[pte] = pte_set_flags(&format.raw(), memory.words[pte], PTE_F_A);
    r = walk(va, AccessType::Read, Privilege::User, false);
    EXPECT_EQ(r.fault, FaultKind::None);
    r = walk(va, AccessType::Write, Privilege::User, false);
    EXPECT_EQ(r.fault, FaultKind::Permission);
    EXPECT_EQ(r.writes, 0u);
    EXPECT_TRUE(memory.written.empty());
}

TEST_P(WalkTest, NotPresentAtTheRootAndAtTheLeaf) {
    const std::uint64_t va = sampleVa();
    WalkResult r = walk(va);
    EXPECT_EQ(r.fault, FaultKind::NotPresent);
    EXPECT_EQ(r.fault_level, static_cast<int>(top()));
    EXPECT_EQ(r.reads, 1u);

    if (top() == 0) return;
    tables.map(va & ~lowMask(format.pageShift()), samplePa(0), 0, kRWXU | PTE_F_A);
    const std::uint64_t neighbour = va ^ (std::uint64_t{1} << format.pageShift());
    r = walk(neighbour);
    EXPECT_EQ(r.fault, FaultKind::NotPresent);
    EXPECT_EQ(r.fault_level, 0);
    EXPECT_EQ(r.reads, format.levels());
    EXPECT_EQ(r.writes, 0u);
}

TEST_P(WalkTest, PermissionFaults) {
    const std::uint64_t va = sampleVa() & ~lowMask(format.pageShift());
    const Addr pa = samplePa(0);
    const std::uint64_t step = std::uint64_t{1} << format.pageShift();
    // Supervisor-only page: users fault, the supervisor may read.
    tables.map(va, pa, 0, PTE_F_R | PTE_F_W | PTE_F_A | PTE_F_D);
    WalkResult r = walk(va, AccessType::Read, Privilege::User);
    EXPECT_EQ(r.fault, FaultKind::Permission);
    EXPECT_EQ(r.fault_level, 0);
    EXPECT_EQ(walk(va, AccessType::Read, Privilege::Supervisor).fault, FaultKind::None);
    EXPECT_EQ(walk(va, AccessType::Write, Privilege::Supervisor).fault, FaultKind::None);

    // Read-only user page: writes fault, without touching A/D.
    tables.map(va + step, pa, 0, PTE_F_R | PTE_F_X | PTE_F_U);
    r = walk(va + step, AccessType::Write);
    EXPECT_EQ(r.fault, FaultKind::Permission);
    EXPECT_EQ(r.writes, 0u);
    EXPECT_TRUE(memory.written.empty());

    // Supervisor reads/writes user data but never executes user code.
    tables.map(va + 2 * step, pa, 0, kRWXU | PTE_F_A | PTE_F_D);
    EXPECT_EQ(walk(va + 2 * step, AccessType::Write, Privilege::Supervisor).fault, FaultKind::None);
    EXPECT_EQ(walk(va + 2 * step, AccessType::Execute, Privilege::Supervisor).fault,
              FaultKind::Permission);
    EXPECT_EQ(walk(va + 2 * step, AccessType::Execute, Privilege::User).fault, FaultKind::None);

    // Non-executable page (x86_32 has no NX).
    tables.map(va + 3 * step, pa, 0, PTE_F_R | PTE_F_W | PTE_F_U | PTE_F_A);
    EXPECT_EQ(walk(va + 3 * step, AccessType::Execute).fault,
              (x86() && !hasNx()) ? FaultKind::None : FaultKind::Permission);

    // Execute-only page (RISC-V-like formats only; on x86 present implies readable).
    if (!x86()) {
        tables.map(va + 4 * step, pa, 0, PTE_F_X | PTE_F_U | PTE_F_A);
        EXPECT_EQ(walk(va + 4 * step, AccessType::Read).fault, FaultKind::Permission);
        EXPECT_EQ(walk(va + 4 * step, AccessType::Execute).fault, FaultKind::None);
    }
}

TEST_P(WalkTest, PermissionFaultOnASuperpageReportsItsLevel) {
    unsigned level = top(); // the largest leaf the format has
    while (!format.leafAllowed(level))
        --level;
    const std::uint64_t va = sampleVa();
    tables.map(va & ~lowMask(format.levelShift(level)), samplePa(level), level, PTE_F_R | PTE_F_A);
    const WalkResult r = walk(va, AccessType::Read, Privilege::User);
    EXPECT_EQ(r.fault, FaultKind::Permission);
    EXPECT_EQ(r.fault_level, static_cast<int>(level));
    EXPECT_EQ(r.reads, format.levels() - level);
}

TEST_P(WalkTest, BusErrors) {
    const std::uint64_t va = sampleVa();
    const Addr pte = tables.map(va & ~lowMask(format.pageShift()), samplePa(0), 0, kRWXU);

    // On the leaf read.
    memory.read_errors.insert(pte);
    WalkResult r = walk(va);
    EXPECT_EQ(r.fault, FaultKind::BusError);
    EXPECT_EQ(r.fault_level, 0);
    EXPECT_EQ(r.reads, format.levels());
    memory.read_errors.clear();

    // On the root read.
    memory.read_errors.insert(tables.root +
                              Addr{pte_index(&format.raw(), va, top())} * format.pteBytes());
    r = walk(va);
    EXPECT_EQ(r.fault, FaultKind::BusError);
    EXPECT_EQ(r.fault_level, static_cast<int>(top()));
    EXPECT_EQ(r.reads, 1u);
    memory.read_errors.clear();

    // On the A/D write-back.
    memory.write_errors.insert(pte);
    r = walk(va, AccessType::Write);
    EXPECT_EQ(r.fault, FaultKind::BusError);
    EXPECT_EQ(r.fault_level, 0);
    EXPECT_EQ(r.writes, 1u);
}

TEST_P(WalkTest, NonCanonicalAddressesFaultWithoutReads) {
    if (format.vaBits() >= 64) GTEST_SKIP();
    const std::uint64_t bad = format.raw().id == PTE_FMT_X86_32
                                  ? std::uint64_t{1} << 32
                                  : std::uint64_t{1} << (format.vaBits() - 1);
    const WalkResult r = walk(bad);
    EXPECT_EQ(r.fault, FaultKind::NonCanonical);
    EXPECT_EQ(r.fault_level, static_cast<int>(top()));
    EXPECT_EQ(r.reads, 0u);
    EXPECT_EQ(r.writes, 0u);
    EXPECT_EQ(walk(0x8000000000000000ull).fault, FaultKind::NonCanonical);
}

TEST_P(WalkTest, StartFromAMidLevelTableSkipsTheLevelsAbove) {
    if (top() == 0) GTEST_SKIP();
    const std::uint64_t va = sampleVa();
    tables.map(va & ~lowMask(format.pageShift()), samplePa(0), 0, kRWXU | PTE_F_A);
    const WalkResult full = walk(va);
    ASSERT_EQ(full.fault, FaultKind::None);

    // A page-walk-cache hit on each level's table pointer.
    for (unsigned start = 0; start < top(); ++start) {
        WalkRequest request;
        request.va = va;
        request.asid = 7;
        request.root = 0xdead000; // must not be used
        request.start_level = static_cast<int>(start);
        request.start_table = full.next_table[start + 1];
        request.start_flags = full.path_flags[start + 1];
        const WalkResult r = walkPageTable(format, request, memory);
        ASSERT_EQ(r.fault, FaultKind::None) << "start " << start;
        EXPECT_EQ(r.reads, start + 1);
        EXPECT_EQ(r.entry, full.entry);
        EXPECT_EQ(r.tables_read_mask, full.tables_read_mask & lowMask(start + 1));
    }
}

// ---------------------------------------------------------------------------------------------
// Reserved encodings and misaligned superpages, RISC-V-like layouts.

class RiscvLikeWalkTest : public WalkTest {};

INSTANTIATE_TEST_SUITE_P(RiscvLike, RiscvLikeWalkTest,
                         testing::Values(FormatCase{"sv39"}, FormatCase{"sv48"}, FormatCase{"sv57"},
                                         FormatCase{"generic", 12, 8, 3, "generic_p12_s8_l3"},
                                         FormatCase{"generic", 10, 4, 3, "generic_p10_s4_l3"}),
                         caseName);

TEST_P(RiscvLikeWalkTest, ReservedEncodingsFault) {
    const std::uint64_t va = sampleVa();
    const std::uint64_t page = va & ~lowMask(format.pageShift());
    const std::uint64_t ppn = samplePa(0) >> format.pageShift();
    // Write without read.
    tables.setRaw(page, 0, (ppn << 10) | PTE_F_V | PTE_F_W | PTE_F_A | PTE_F_D);
    WalkResult r = walk(va);
    EXPECT_EQ(r.fault, FaultKind::ReservedBits);
    EXPECT_EQ(r.fault_level, 0);
    EXPECT_EQ(r.reads, format.levels());
    // A table pointer at level 0.
    tables.setRaw(page, 0, (ppn << 10) | PTE_F_V);
    EXPECT_EQ(walk(va).fault, FaultKind::ReservedBits);
    // A non-leaf with A set, at the root.
    tables.setRaw(page, top(), pte_encode_table(&format.raw(), 0x400) | PTE_F_A);
    r = walk(va);
    EXPECT_EQ(r.fault, FaultKind::ReservedBits);
    EXPECT_EQ(r.fault_level, static_cast<int>(top()));
    EXPECT_EQ(r.reads, 1u);
    if (format.raw().id != PTE_FMT_GENERIC) {
        // Bits 54..63 are reserved in Sv39/48/57.
        tables.setRaw(page, top(),
                      pte_encode_leaf(&format.raw(), 0, kRWXU | PTE_F_A, top()) | (1ull << 60));
        EXPECT_EQ(walk(va).fault, FaultKind::ReservedBits);
    }
}

TEST_P(RiscvLikeWalkTest, MisalignedSuperpagesFault) {
    const std::uint64_t va = sampleVa();
    for (unsigned level = 1; level < format.levels(); ++level) {
        memory.words.clear();
        tables = PageTables(format, memory);
        // PPN with its lowest bit set: misaligned for any superpage.
        tables.setRaw(va, level, pte_encode_leaf(&format.raw(), 1, kRWXU | PTE_F_A, level));
        const WalkResult r = walk(va);
        EXPECT_EQ(r.fault, FaultKind::MisalignedSuperpage) << "level " << level;
        EXPECT_EQ(r.fault_level, static_cast<int>(level));
        EXPECT_EQ(r.reads, format.levels() - level);
    }
}

// ---------------------------------------------------------------------------------------------
// x86: PS where no leaf may sit, reserved superpage bits, hierarchical RW/US/NX.

class X86WalkTest : public WalkTest {
  protected:
    // Replaces the table pointer at `level` on sampleVa's path with one carrying `bits`
    // (raw x86 bits: P=1 RW=2 US=4, NX=bit 63), keeping the address.
    void restrict(unsigned level, std::uint64_t bits) {
        const std::uint64_t va = sampleVa();
        const Addr slot = tables.slot(va, level);
        const std::uint64_t address =
            memory.words[slot] & ~std::uint64_t{0xfff} & lowMask(format.raw().pa_bits);
        memory.words[slot] = address | bits | 0x20; // A
    }
};

INSTANTIATE_TEST_SUITE_P(X86, X86WalkTest,
                         testing::Values(FormatCase{"x86_64"}, FormatCase{"x86_64_5level"},
                                         FormatCase{"x86_32"}),
                         caseName);

TEST_P(X86WalkTest, PageSizeBitWhereNoLeafMaySitIsReserved) {
    const std::uint64_t va = sampleVa();
    bool tested = false;
    for (unsigned level = 1; level < format.levels(); ++level) {
        if (format.leafAllowed(level)) continue;
        memory.words.clear();
        tables = PageTables(format, memory);
        tables.setRaw(va, level, 0xE7); // P|RW|US|A|D|PS, address 0
        const WalkResult r = walk(va);
        EXPECT_EQ(r.fault, FaultKind::ReservedBits);
        EXPECT_EQ(r.fault_level, static_cast<int>(level));
        tested = true;
    }
    EXPECT_EQ(tested, format.raw().id != PTE_FMT_X86_32);
}

TEST_P(X86WalkTest, SuperpageReservedAddressBitsAreReservedNotMisaligned) {
    const std::uint64_t va = sampleVa();
    // Bit 13 (the lowest reserved bit of every superpage); bit 12 (PAT) is fine.
    tables.setRaw(va, 1, samplePa(1) | 0x2000 | 0xE7);
    WalkResult r = walk(va);
    EXPECT_EQ(r.fault, FaultKind::ReservedBits);
    EXPECT_EQ(r.fault_level, 1);
    tables.setRaw(va, 1, samplePa(1) | 0x1000 | 0xE7);
    r = walk(va);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.entry.ppn << format.pageShift(), samplePa(1));
}

TEST_P(X86WalkTest, ReadOnlyTableForbidsWritesBelowIt) {
    const std::uint64_t va = sampleVa();
    tables.map(va & ~lowMask(12), samplePa(0), 0, kRWXU | PTE_F_A | PTE_F_D);
    restrict(top(), 0x1 | 0x4); // P|US, RW clear
    WalkResult r = walk(va, AccessType::Write);
    EXPECT_EQ(r.fault, FaultKind::Permission);
    EXPECT_EQ(r.fault_level, 0);
    r = walk(va);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.entry.flags & PTE_F_W, 0u);
    EXPECT_EQ(r.entry.flags & (PTE_F_U | PTE_F_R), PTE_F_U | PTE_F_R);
    EXPECT_EQ(r.path_flags[top()] & PTE_F_W, 0u);
    if (top() > 1) {
        EXPECT_EQ(r.path_flags[top() - 1] & PTE_F_W, 0u); // stays restricted
    }
    // Supervisor writes are also refused (CR0.WP=1 behaviour).
    EXPECT_EQ(walk(va, AccessType::Write, Privilege::Supervisor).fault, FaultKind::Permission);
}

TEST_P(X86WalkTest, SupervisorTableForbidsUserAccessBelowIt) {
    const std::uint64_t va = sampleVa();
    tables.map(va & ~lowMask(12), samplePa(0), 0, kRWXU | PTE_F_A | PTE_F_D);
    restrict(1, 0x1 | 0x2); // P|RW, US clear, on the table right above the leaf
    EXPECT_EQ(walk(va, AccessType::Read, Privilege::User).fault, FaultKind::Permission);
    const WalkResult r = walk(va, AccessType::Write, Privilege::Supervisor);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.entry.flags & PTE_F_U, 0u);
    // Not user any more, so the supervisor may also execute it.
    EXPECT_EQ(walk(va, AccessType::Execute, Privilege::Supervisor).fault, FaultKind::None);
}

TEST_P(X86WalkTest, NoExecuteTableForbidsExecutionBelowIt) {
    if (format.pteBytes() != 8) GTEST_SKIP() << "x86_32 has no NX";
    const std::uint64_t va = sampleVa();
    tables.map(va & ~lowMask(12), samplePa(0), 0, kRWXU | PTE_F_A | PTE_F_D);
    restrict(top(), 0x7 | (1ull << 63));
    EXPECT_EQ(walk(va, AccessType::Execute).fault, FaultKind::Permission);
    const WalkResult r = walk(va, AccessType::Write);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.entry.flags & PTE_F_X, 0u);
    EXPECT_EQ(r.entry.flags & PTE_F_W, PTE_F_W);
}

TEST_P(X86WalkTest, RestrictionsAccumulateOverThePath) {
    if (format.pteBytes() != 8) GTEST_SKIP() << "needs NX and three table levels";
    const std::uint64_t va = sampleVa();
    tables.map(va & ~lowMask(12), samplePa(0), 0, kRWXU | PTE_F_A | PTE_F_D);
    restrict(top(), 0x7 | (1ull << 63)); // no execute
    restrict(1, 0x5);                    // read-only
    const WalkResult r = walk(va);
    ASSERT_EQ(r.fault, FaultKind::None);
    EXPECT_EQ(r.entry.flags & (PTE_F_W | PTE_F_X | PTE_F_U), PTE_F_U);
    EXPECT_EQ(r.path_flags[top()] & (PTE_F_W | PTE_F_X | PTE_F_U), PTE_F_W | PTE_F_U);
    EXPECT_EQ(r.path_flags[1] & (PTE_F_W | PTE_F_X | PTE_F_U), PTE_F_U);
}

TEST_P(X86WalkTest, MidLevelStartUsesTheCachedRestrictions) {
    const std::uint64_t va = sampleVa();
    tables.map(va & ~lowMask(12), samplePa(0), 0, kRWXU | PTE_F_A | PTE_F_D);
    restrict(top(), 0x5); // read-only at the root
    const WalkResult full = walk(va);
    ASSERT_EQ(full.fault, FaultKind::None);

    WalkRequest request;
    request.va = va;
    request.access = AccessType::Write;
    request.start_level = 0;
    request.start_table = full.next_table[1];
    request.start_flags = full.path_flags[1];
    EXPECT_EQ(walkPageTable(format, request, memory).fault, FaultKind::Permission);
    // Without the cached restriction the leaf alone would allow the write: the PWC must keep it.
    request.start_flags = 0xff;
    EXPECT_EQ(walkPageTable(format, request, memory).fault, FaultKind::None);
}

} // namespace
} // namespace tlmmu
