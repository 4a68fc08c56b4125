// Directed tests of the RTL TLB wrapper: configuration checks, cycle accounting, the waveform,
// and a few hand-worked cases (PLRU victim, global entries, superpages).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "arch/pte_format.h"
#include "mmu/RtlTlb.h"
#include "mmu/RtlTlbFactory.h"

namespace tlmmu {
namespace {

TlbConfig x86Config(unsigned entries, unsigned ways) {
    TlbConfig c;
    c.name = "l1d";
    c.entries = entries;
    c.ways = ways;
    c.replacement = Replacement::Plru;
    c.geometry = PageGeometry{12, 9, 4, 0b111};
    return c;
}

TlbEntry page(std::uint64_t vpn, std::uint64_t ppn, Asid asid, unsigned level = 0,
              unsigned extra_flags = 0) {
    TlbEntry e;
    e.vpn = vpn;
    e.ppn = ppn;
    e.asid = asid;
    e.level = static_cast<std::uint8_t>(level);
    e.flags = static_cast<std::uint8_t>(PTE_F_V | PTE_F_R | PTE_F_A | extra_flags);
    return e;
}

std::string inputErrorOf(const TlbConfig& c) {
    try {
        RtlTlb t(c);
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

TEST(RtlTlb, FactoryBuildsTheRtl) {
    EXPECT_TRUE(rtlTlbAvailable());
    auto t = makeRtlTlb(x86Config(64, 4));
    EXPECT_NE(dynamic_cast<RtlTlb*>(t.get()), nullptr);
}

TEST(RtlTlb, RejectsPoliciesOtherThanPlru) {
    TlbConfig c = x86Config(64, 4);
    c.replacement = Replacement::Lru;
    EXPECT_EQ(inputErrorOf(c), "tlb.l1d.replacement: the RTL TLB implements plru only");
}

TEST(RtlTlb, RejectsShapesThatWereNotVerilated) {
    const std::string error = inputErrorOf(x86Config(128, 2));
    EXPECT_EQ(error.rfind("tlb.l1d.entries: the RTL TLB is built for entries/ways", 0), 0u)
        << error;
    EXPECT_NE(error.find("not 128/2"), std::string::npos) << error;
}

TEST(RtlTlb, RejectsGeometriesTheRtlCannotHold) {
    TlbConfig c = x86Config(64, 4);
    c.geometry.page_shift = 10;
    EXPECT_EQ(inputErrorOf(c).rfind("tlb.l1d.impl:", 0), 0u);
    c = x86Config(64, 4);
    c.geometry.leaf_level_mask = 1u << 5;
    EXPECT_EQ(inputErrorOf(c).rfind("tlb.l1d.impl:", 0), 0u);
}

TEST(RtlTlb, CountsClockCyclesPerOperation) {
    RtlTlb t(x86Config(64, 4));
    const std::uint64_t start = t.cycles(); // reset
    TlbEntry out;
    t.lookup(0x1000, 1, out);
    EXPECT_EQ(t.cycles() - start, RtlTlb::kLookupCycles);
    // What the Mmu charges for the lookup: the RTL's own cycles, not the configured latency
    // (x86Config leaves latency_cycles at its default, 0).
    EXPECT_EQ(t.lookupCycles(), RtlTlb::kLookupCycles);
    EXPECT_EQ(t.config().latency_cycles, 0u);
    t.fill(page(1, 7, 1));
    EXPECT_EQ(t.cycles() - start, RtlTlb::kLookupCycles + RtlTlb::kRefillCycles);
    t.invalidate(FlushKind::All, 0, 0);
    EXPECT_EQ(t.cycles() - start,
              RtlTlb::kLookupCycles + RtlTlb::kRefillCycles + RtlTlb::kInvalidateCycles);
}

TEST(RtlTlb, PlruPicksTheTreeVictim) {
    // Set 0 of a 4-way TLB: fill ways 0..3 (each fill touches), then hit way 0 and way 2.
    // Node bits (root, left, right): after the fills 0,0,0; hit 0 -> 1,1,0; hit 2 -> 0,1,1.
    // Victim: root 0 -> left half, left node 1 -> its right way: way 1 (vpn 4).
    RtlTlb rtl(x86Config(16, 4));
    Tlb model(x86Config(16, 4));
    for (std::uint64_t i = 0; i < 4; ++i) {
        rtl.fill(page(i * 4, 100 + i, 1)); // vpn multiple of 4 sets: all in set 0
        model.fill(page(i * 4, 100 + i, 1));
    }
    TlbEntry out;
    for (Addr vpn : {0u, 8u}) {
        ASSERT_TRUE(rtl.lookup(vpn << 12, 1, out));
        ASSERT_TRUE(model.lookup(vpn << 12, 1, out));
    }
    rtl.fill(page(16, 200, 1));
    model.fill(page(16, 200, 1));
    EXPECT_EQ(rtl.events().refills_evicting, 1u);
    // Way 1 (vpn 4) was evicted in both.
    EXPECT_FALSE(rtl.lookup(4 << 12, 1, out));
    EXPECT_FALSE(model.lookup(4 << 12, 1, out));
    for (Addr vpn : {0u, 8u, 12u, 16u}) {
        EXPECT_TRUE(rtl.lookup(vpn << 12, 1, out)) << vpn;
        EXPECT_TRUE(model.lookup(vpn << 12, 1, out)) << vpn;
    }
}

TEST(RtlTlb, GlobalAndSuperpageEntries) {
    RtlTlb t(x86Config(64, 4));
    t.fill(page(0x200, 0x400, 1, 1, PTE_F_G)); // 2 MiB global page at VA 2 MiB
    TlbEntry out;
    ASSERT_TRUE(t.lookup((0x200 + 0x1ff) << 12, 9, out)); // any ASID, anywhere in the 2 MiB
    EXPECT_EQ(out.level, 1);
    EXPECT_EQ(out.ppn, 0x400u);
    t.invalidate(FlushKind::Asid, 0, 1); // globals survive an ASID flush
    EXPECT_TRUE(t.lookup(0x200 << 12, 1, out));
    t.invalidate(FlushKind::Va, (0x200 + 5) << 12, 3); // by VA: every ASID, G too
    EXPECT_FALSE(t.lookup(0x200 << 12, 1, out));
}

TEST(RtlTlb, InvalidationDropsARacingRefill) {
    for (unsigned gap : {0u, 1u}) {
        RtlTlb t(x86Config(64, 4));
        // An unrelated invalidation (another ASID) still drops the refill: the walk may have
        // read page-table entries the invalidation was meant to retire.
        EXPECT_TRUE(t.fillRacingInvalidate(page(5, 6, 1), gap, FlushKind::Asid, 0, 2));
        TlbEntry out;
        EXPECT_FALSE(t.lookup(5 << 12, 1, out)) << "gap " << gap;
        EXPECT_EQ(t.events().refills, 0u);
        EXPECT_EQ(t.events().refills_dropped, 1u);
    }
}

TEST(RtlTlb, WritesAWaveformWhenConfigured) {
    const std::filesystem::path dir =
        std::filesystem::path(TLMMU_BINARY_DIR) / "tests" / "rtl" / "waves";
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "unit.vcd").string();
    std::filesystem::remove(path);
    {
        TlbConfig c = x86Config(64, 4);
        c.waveform = path;
        RtlTlb t(c);
        EXPECT_EQ(t.waveformPath(), path);
        TlbEntry out;
        t.fill(page(1, 2, 3));
        t.lookup(0x1000, 3, out);
    }
    ASSERT_TRUE(std::filesystem::exists(path));
    std::ifstream in(path);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NE(text.find("$enddefinitions"), std::string::npos);
    EXPECT_NE(text.find("lookup_vpn"), std::string::npos);
    EXPECT_NE(text.find("#5"), std::string::npos); // several cycles were dumped
}

TEST(RtlTlb, TwoInstancesWithOneWaveformPathWriteTwoFiles) {
    const std::filesystem::path dir =
        std::filesystem::path(TLMMU_BINARY_DIR) / "tests" / "rtl" / "waves";
    std::filesystem::create_directories(dir);
    TlbConfig c = x86Config(16, 4);
    c.waveform = (dir / "twice.vcd").string();
    RtlTlb a(c), b(c);
    EXPECT_EQ(a.waveformPath(), c.waveform);
    EXPECT_EQ(b.waveformPath(), (dir / "twice.1.vcd").string());
}

} // namespace
} // namespace tlmmu
