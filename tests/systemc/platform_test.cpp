// Whole-system tests of the timed translation path. Each TEST runs in its own process.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <list>
#include <set>

#include "SystemTestUtil.h"
#include "workload/OpenTrace.h"
#include "workload/SyntheticWorkload.h"

namespace tlmmu::test {
namespace {

// 8192 instructions, one 8-byte load each, streaming over 64 KiB: 16 data pages and 1 code
// page, all of which fit in the TLBs. `extra` settings come first.
std::vector<std::string> stream16Pages(std::vector<std::string> extra) {
    for (const char* k :
         {"workload.synthetic.pattern=stream", "workload.synthetic.footprint=64KiB",
          "workload.synthetic.instructions=8192", "workload.synthetic.refs_per_instruction=1",
          "workload.synthetic.write_fraction=0"})
        extra.push_back(k);
    return extra;
}

// Seed 002: cycles/instructions - 1 = (1 + alpha) * m * 600 when every translation miss costs a
// 4-level walk of 150-cycle reads and everything else costs only the base CPI.
TEST(Platform, SeedCpiArithmetic) {
    const auto s =
        runSystem(makeSystem(kSeedSystem, {
                                              "workload.synthetic.pattern=stream",
                                              "workload.synthetic.footprint=1MiB",
                                              "workload.synthetic.instructions=200000",
                                              "workload.synthetic.refs_per_instruction=0.35",
                                              "workload.synthetic.write_fraction=0.3",
                                          }));
    const auto& c = s["cores"][0];
    const double alpha = 0.35;
    const std::uint64_t instructions = c["instructions"];
    const std::uint64_t translations = c["translations"];
    const std::uint64_t misses = c["tlb"]["l1i"]["misses"].get<std::uint64_t>() +
                                 c["tlb"]["l1d"]["misses"].get<std::uint64_t>();
    ASSERT_EQ(instructions, 200000u);
    ASSERT_EQ(translations,
              270000u); // 1 fetch + 0.35 data references per instruction, no crossings
    EXPECT_EQ(c["walker"]["walks"], misses);
    EXPECT_EQ(c["walker"]["memory_reads"], 4 * misses);
    EXPECT_EQ(c["walker"]["memory_writes"], 0u); // prefault set A and D
    // To the cycle: base + 600 per miss, nothing else.
    EXPECT_EQ(c["cycles"], instructions + 600 * misses);
    const double m = static_cast<double>(misses) / static_cast<double>(translations);
    const double cpi = c["cpi"];
    EXPECT_NEAR(cpi - 1.0, (1.0 + alpha) * m * 600.0, 1e-12);
    // The stream touches each 4 KiB page's 512 8-byte words in turn: one data miss per page
    // visited (256 pages, 2.31 passes over 1 MiB), one fetch miss for the 4 KiB loop of code.
    EXPECT_EQ(c["tlb"]["l1i"]["misses"], 1u);
    EXPECT_EQ(c["tlb"]["l1d"]["misses"], 70000u / 512 + 1);
}

// 16 data pages and 1 code page, all fitting in the TLBs: 17 walks of 4 reads, exactly.
TEST(Platform, ExactCyclesStreamNoPwc) {
    const auto s = runSystem(makeSystem(kSeedSystem, stream16Pages({})));
    const auto& c = s["cores"][0];
    EXPECT_EQ(c["tlb"]["l1i"]["misses"], 1u);
    EXPECT_EQ(c["tlb"]["l1d"]["misses"], 16u);
    EXPECT_EQ(c["tlb"]["l1d"]["hits"], 8192u - 16);
    EXPECT_EQ(c["walker"]["memory_reads"], 68u);
    EXPECT_EQ(c["cycles"], 8192u + 17 * 600);
    EXPECT_EQ(c["cpi_stack"]["walk"], 17u * 600);
}

// Same stream with an L2 TLB (7 cycles) and a page-walk cache: the code page's walk reads all
// 4 levels; the first data walk finds the PML4 and PDPT entries cached (the code and data share
// them) and reads 2; the other 15 data pages share the PD entry and read only their PTE.
TEST(Platform, ExactCyclesStreamWithL2AndPwc) {
    const auto s = runSystem(makeSystem(
        kSeedSystem, stream16Pages({"tlb.l2.entries=1024", "tlb.l2.ways=4",
                                    "tlb.l2.latency_cycles=7", "walker.pwc.entries=8"})));
    const auto& c = s["cores"][0];
    EXPECT_EQ(c["tlb"]["l2"]["accesses"], 17u);
    EXPECT_EQ(c["tlb"]["l2"]["misses"], 17u);
    EXPECT_EQ(c["walker"]["memory_reads"], 4u + 2 + 15);
    EXPECT_EQ(c["pwc"]["hits"], 16u);
    EXPECT_EQ(c["pwc"]["misses"], 1u);
    EXPECT_EQ(c["cycles"], 8192u + 17 * 7 + 21 * 150);
}

// Without prefault every page is mapped by the firmware on first touch: 17 not-present faults,
// each walk repeated after the handler, and the hardware sets A on the fresh PTEs.
TEST(Platform, DemandPagingMapsOnFirstTouch) {
    const auto s = runSystem(makeSystem(kSeedSystem, stream16Pages({"workload.prefault=false"})));
    const auto& c = s["cores"][0];
    EXPECT_EQ(c["faults"]["not_present"], 17u);
    EXPECT_EQ(s["firmware"]["demand_faults"], 17u);
    EXPECT_EQ(c["walker"]["walks"], 34u);
    EXPECT_EQ(c["walker"]["memory_writes"], 17u); // A bits
    // Fault time covers at least the handler's entry and exit costs (200 + 100 by default).
    EXPECT_GE(c["cpi_stack"]["fault"].get<std::uint64_t>(), 17u * 300);
    const std::uint64_t sum =
        c["cpi_stack"]["base"].get<std::uint64_t>() + c["cpi_stack"]["tlb"].get<std::uint64_t>() +
        c["cpi_stack"]["walk"].get<std::uint64_t>() + c["cpi_stack"]["fault"].get<std::uint64_t>();
    EXPECT_EQ(c["cycles"], sum);
    // x86-64: root + PDPT + PD + PT for the data, and one more PT for the code's 2 MiB region.
    EXPECT_EQ(s["memory"]["page_table_bytes"], 5u * 4096);
}

// A store to a page first read clean makes the walker set D: one more walk, one more write.
TEST(Platform, FirstWriteAfterReadSetsDirty) {
    const auto s =
        runSystem(makeSystem(kSeedSystem, {
                                              "workload.prefault=false",
                                              "workload.synthetic.pattern=stream",
                                              "workload.synthetic.footprint=4KiB",
                                              "workload.synthetic.instructions=4096",
                                              "workload.synthetic.refs_per_instruction=1",
                                              "workload.synthetic.write_fraction=0.5",
                                          }));
    const auto& c = s["cores"][0];
    EXPECT_EQ(c["mmu"]["dirty_walks"].get<std::uint64_t>() +
                  c["faults"]["not_present"].get<std::uint64_t>(),
              c["walker"]["walks"].get<std::uint64_t>() - 2 /* the retries */);
    EXPECT_LE(c["mmu"]["dirty_walks"].get<std::uint64_t>(), 1u);
    // A for the code page, A (and D if its first access was a store) for the data page, and D
    // on the dirty walk if there was one.
    EXPECT_EQ(c["walker"]["memory_writes"].get<std::uint64_t>(),
              2 + c["mmu"]["dirty_walks"].get<std::uint64_t>());
}

// memory.page_table_bytes equals the number of distinct table nodes that the touched pages
// need, counted here independently from the workload's addresses, for every format.
class PageTableBytes : public ::testing::TestWithParam<const char*> {};

TEST_P(PageTableBytes, EqualsDistinctTableNodes) {
    const std::string format = GetParam();
    std::vector<std::string> sets = {"mmu.format=" + format,
                                     "workload.synthetic.pattern=random",
                                     "workload.synthetic.footprint=64MiB",
                                     "workload.synthetic.instructions=20000",
                                     "workload.synthetic.refs_per_instruction=1",
                                     "workload.synthetic.data_base=0x30000000"};
    if (format == "generic")
        sets.insert(sets.end(), {"mmu.generic.page_bits=12", "mmu.generic.pte_bytes=4",
                                 "mmu.generic.levels=3"});
    const SystemConfig system = makeSystem(kSeedSystem, sets);
    const PteFormat f = system.format();

    std::set<std::pair<unsigned, Addr>> nodes; // (table level, va bits above that table)
    SyntheticParams p = system.workload.synthetic;
    p.seed = system.seed; // core 0's stream
    SyntheticWorkload w(p);
    Instruction insn;
    auto touch = [&](Addr va) {
        for (unsigned level = 0; level < f.levels(); ++level)
            nodes.insert({level, level + 1 < f.levels() ? va >> f.levelShift(level + 1) : 0});
    };
    while (w.next(insn)) {
        if (insn.size) touch(insn.pc);
        for (unsigned i = 0; i < insn.num_refs; ++i)
            touch(insn.refs[i].addr);
    }
    const auto s = runSystem(system);
    EXPECT_EQ(s["memory"]["page_table_bytes"], nodes.size() * f.tableBytes());
}

INSTANTIATE_TEST_SUITE_P(AllFormats, PageTableBytes,
                         ::testing::Values("sv39", "sv48", "sv57", "x86_64", "x86_64_5level",
                                           "x86_32", "generic"));

// A straightforward set-associative LRU TLB of 4 KiB pages, written independently of Tlb.
class ReferenceTlb {
  public:
    ReferenceTlb(unsigned entries, unsigned ways) : ways_(ways), sets_(entries / ways) {}
    void access(Addr page) {
        auto& set = sets_[page % sets_.size()];
        for (auto it = set.begin(); it != set.end(); ++it)
            if (*it == page) {
                set.erase(it);
                set.push_front(page);
                ++hits;
                return;
            }
        ++misses;
        set.push_front(page);
        if (set.size() > ways_) set.pop_back();
    }
    std::uint64_t hits = 0, misses = 0;

  private:
    unsigned ways_;
    std::vector<std::list<Addr>> sets_;
};

// TLB counts on a real program's trace (valgrind lackey of /bin/true) equal the reference's.
TEST(Platform, RealProgramTraceMatchesReferenceTlb) {
    const std::string dir = ::testing::TempDir() + "tlmmu_true_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    const std::string trace = dir + "/true.lackey";
    const std::string cmd = std::string("bash ") + TLMMU_SOURCE_DIR + "/scripts/trace-program -o " +
                            trace + " -- /bin/true > /dev/null 2>&1";
    if (std::system("command -v valgrind > /dev/null") != 0)
        GTEST_SKIP() << "valgrind is not installed";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

    ReferenceTlb itlb(64, 4), dtlb(64, 4);
    auto pages = [](ReferenceTlb& tlb, Addr va, std::uint32_t size) {
        for (Addr p = va >> 12; p <= (va + size - 1) >> 12; ++p)
            tlb.access(p);
    };
    std::uint64_t instructions = 0;
    auto w = openTrace(trace, "lackey");
    Instruction insn;
    while (w->next(insn)) {
        if (insn.size) ++instructions, pages(itlb, insn.pc, insn.size);
        for (unsigned i = 0; i < insn.num_refs; ++i)
            pages(dtlb, insn.refs[i].addr, insn.refs[i].size);
    }
    ASSERT_GT(instructions, 10000u);

    const auto s =
        runSystem(makeSystem(kSeedSystem, {"workload.format=lackey", "workload.trace=" + trace}));
    const auto& c = s["cores"][0];
    EXPECT_EQ(c["instructions"], instructions);
    EXPECT_EQ(c["tlb"]["l1i"]["hits"], itlb.hits);
    EXPECT_EQ(c["tlb"]["l1i"]["misses"], itlb.misses);
    EXPECT_EQ(c["tlb"]["l1d"]["hits"], dtlb.hits);
    EXPECT_EQ(c["tlb"]["l1d"]["misses"], dtlb.misses);
    EXPECT_EQ(c["cycles"], instructions + 600 * (itlb.misses + dtlb.misses));
    std::filesystem::remove_all(dir);
}

// Two cores run their own processes; each has its own address space and ASID.
TEST(Platform, TwoCoresHaveSeparateAddressSpaces) {
    const auto s =
        runSystem(makeSystem(kSeedSystem, stream16Pages({"cores=2", "workload.prefault=false"})));
    for (unsigned i = 0; i < 2; ++i)
        EXPECT_EQ(s["cores"][i]["faults"]["not_present"], 17u);
    EXPECT_EQ(s["memory"]["page_table_bytes"], 2u * 5 * 4096);
    // The same work; they share only the kernel's zone and LRU locks (their first allocations
    // come at the same time: one of them waits for the other's refill once).
    EXPECT_EQ(s["cores"][0]["instructions"], s["cores"][1]["instructions"]);
    const auto waits = s["firmware"]["lock_waits"];
    EXPECT_EQ(u(waits["zone"]) + u(waits["lru"]), 1u);
    EXPECT_NEAR(s["cores"][0]["cycles"].get<double>(), s["cores"][1]["cycles"].get<double>(), 400);
}

} // namespace
} // namespace tlmmu::test

namespace tlmmu::test {
namespace {

// workload.page_size=2MiB: the firmware maps 2 MiB superpages, so the stream's 16 data pages are
// one TLB entry, and no last-level table exists (root, PDPT, PD only).
TEST(Platform, SuperpageMappingsNeedFewerTablesAndMisses) {
    const auto s = runSystem(makeSystem(
        kSeedSystem, stream16Pages({"workload.prefault=false", "workload.page_size=2MiB"})));
    const auto& c = s["cores"][0];
    EXPECT_EQ(c["faults"]["not_present"], 2u); // one code, one data superpage
    EXPECT_EQ(c["tlb"]["l1d"]["misses"], 2u);  // the fault's walk and its retry
    EXPECT_EQ(s["memory"]["page_table_bytes"], 3u * 4096);
    EXPECT_EQ(s["firmware"]["frames_mapped"], 2u * 512);
}

TEST(Platform, PageSizeMustBeOneOfTheFormats) {
    EXPECT_THROW(makeSystem(kSeedSystem, {"workload.page_size=4MiB"}), InputError);
    EXPECT_NO_THROW(makeSystem(kSeedSystem, {"workload.page_size=4MiB", "mmu.format=x86_32"}));
}

} // namespace
} // namespace tlmmu::test
