// The one memory manager under the whole platform: huge pages beside base pages in one process
// (per format), splits proven lossless by checked mode, software refill and superpages without a
// scenario, and errors that name the address and the format. One TEST per process.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "SystemTestUtil.h"
#include "mmu/PteFormat.h"
#include "support/FormatCases.h"

namespace tlmmu::test {
namespace {

std::string formatKeys(const FormatCase& f) {
    if (std::string(f.name) != "generic") return "mmu: {format: " + std::string(f.name) + "}\n";
    return "mmu: {format: generic, generic: {page_bits: " + std::to_string(f.page_bits) +
           ", pte_bytes: " + std::to_string(f.pte_bytes) + ", levels: " + std::to_string(f.levels) +
           "}}\n";
}

// Distinct page-table nodes a walk passes through to reach each (va, leaf level): the node at
// level l holding va's entry is named by va >> levelShift(l + 1).
std::uint64_t tableNodes(const PteFormat& f, const std::vector<std::pair<Addr, unsigned>>& leaves) {
    std::set<std::pair<unsigned, Addr>> nodes;
    for (const auto& [va, leaf] : leaves)
        for (unsigned l = f.levels() - 1;; --l) {
            const unsigned shift = f.pageShift() + (l + 1) * f.indexBits();
            nodes.insert({l, shift >= 64 ? 0 : va >> shift});
            if (l == leaf) break;
        }
    return nodes.size();
}

// A 4 KiB-page code VMA and a huge-page data VMA (the format's smallest superpage) in one
// process: the data's demand faults map huge leaves with no table below them.
class HugeVma : public ::testing::TestWithParam<FormatCase> {};

TEST_P(HugeVma, MapsHugeLeavesBesideBasePages) {
    const FormatCase& fc = GetParam();
    const PteFormat f =
        PteFormat::fromName(fc.name, "mmu.format", fc.page_bits, fc.pte_bytes, fc.levels);
    unsigned level = 1;
    while (level < f.levels() && !f.leafAllowed(level))
        ++level;
    ASSERT_LT(level, f.levels());
    const std::uint64_t huge = std::uint64_t{1} << f.levelShift(level);
    const std::uint64_t page = f.tableBytes();
    const Addr code = 0x400000, data = 4 * huge;
    const std::string scenario = writeFile(
        "huge.yaml", R"(
processes:
  - name: a
    vmas:
      - {start: )" + std::to_string(code) +
                         ", size: " + std::to_string(page) + R"(, prot: rx}
      - {start: )" + std::to_string(data) +
                         ", size: " + std::to_string(2 * huge) +
                         ", prot: rw, page_size: " + std::to_string(huge) + R"(}
    workload: {pattern: strided, stride: )" +
                         std::to_string(huge / 8) + ", footprint: " + std::to_string(2 * huge) +
                         ", data_base: " + std::to_string(data) + ", code_base: " +
                         std::to_string(code) + ", code_footprint: " + std::to_string(page) +
                         R"(, instructions: 1000, refs_per_instruction: 1, write_fraction: 0.5}
)");
    const auto s = runSystem(
        makeSystem("cores: 1\n" + formatKeys(fc) + "workload: {scenario: " + scenario + "}\n"));
    const auto& fw = s["processes"]["a"]["firmware"];
    const std::string base_name = "page_" + formatSize(page),
                      huge_name = "page_" + formatSize(huge);
    EXPECT_EQ(u(fw["demand_faults_by_page_size"][base_name]), 1u); // the code page
    EXPECT_EQ(u(fw["demand_faults_by_page_size"][huge_name]), 2u); // one per huge page
    EXPECT_EQ(u(fw["faults"]["demand_zero"]), 3u);
    EXPECT_EQ(u(fw["mapped_by_page_size"][huge_name]), 2u);
    EXPECT_EQ(u(fw["huge_fallbacks"]), 0u);
    EXPECT_EQ(u(fw["huge_splits"]), 0u);
    // Exactly the tables of a base leaf for the code and of two huge leaves for the data.
    EXPECT_EQ(u(s["memory"]["page_table_bytes_peak"]),
              tableNodes(f, {{code, 0}, {data, level}, {data + huge, level}}) * page);
    // The data TLB misses once per huge page and first touch (the faulting walk and the retry),
    // then 2 huge entries cover every reference.
    EXPECT_EQ(u(s["cores"][0]["tlb"]["l1d"]["misses"]), 4u);
    EXPECT_EQ(s["processes"]["a"]["data_mismatches"], 0u);
    EXPECT_EQ(s["firmware"]["frames_in_use"], 0u); // all returned at exit
}

bool hasSuperpage(const FormatCase& fc) {
    const PteFormat f =
        PteFormat::fromName(fc.name, "mmu.format", fc.page_bits, fc.pte_bytes, fc.levels);
    for (unsigned l = 1; l < f.levels(); ++l)
        if (f.leafAllowed(l) && f.levelShift(l) <= 30) return true;
    return false;
}

std::vector<FormatCase> superpageFormats() {
    std::vector<FormatCase> v;
    for (const FormatCase& fc : kAllFormats)
        if (hasSuperpage(fc)) v.push_back(fc);
    return v;
}

INSTANTIATE_TEST_SUITE_P(Formats, HugeVma, ::testing::ValuesIn(superpageFormats()), caseName);

// x86-64 with a page-walk cache, derived by hand: the code walk fills the PWC's level-3 and
// level-2 entries (the same 512 GiB and 1 GiB as the data), so each data walk reads only the
// level-1 entry, where the huge leaf lives: 1 read for the faulting walk, 1 for the retry.
TEST(HugeVma, PageWalkCacheSkipsToTheHugeLeaf) {
    const std::string scenario = writeFile("huge.yaml", R"(
processes:
  - name: a
    vmas:
      - {start: 0x400000, size: 4KiB, prot: rx}
      - {start: 0x800000, size: 4MiB, prot: rw, page_size: 2MiB}
    workload: {pattern: strided, stride: 256KiB, footprint: 4MiB, data_base: 0x800000,
               code_footprint: 4KiB, instructions: 1000, refs_per_instruction: 1,
               write_fraction: 0}
)");
    const auto s = runSystem(makeSystem("cores: 1\nmmu: {format: x86_64}\n"
                                        "walker: {pwc: {entries: 32}}\n"
                                        "workload: {scenario: " +
                                        scenario + "}\n"));
    const auto& w = s["cores"][0]["walker"];
    // Code: 1 read (empty root) + 4 (full walk after the fault); data: 2 x (1 + 1).
    EXPECT_EQ(u(w["memory_reads"]), 9u);
}

// Splitting a huge page when one of its base pages is unmapped or protected loses no byte:
// the checked workload keeps reading back what it wrote in the rest of the huge page.
class Split : public ::testing::TestWithParam<const char*> {};

TEST_P(Split, PartialChangeSplitsAndKeepsEveryByte) {
    const std::string scenario =
        writeFile("split.yaml", std::string(R"(
processes:
  - name: a
    vmas:
      - {start: 0x400000, size: 4KiB, prot: rx}
      - {start: 0x800000, size: 2MiB, prot: rw, page_size: 2MiB}
    workload: {pattern: random, footprint: 1MiB, data_base: 0x800000, code_footprint: 4KiB,
               instructions: 40000, refs_per_instruction: 1, write_fraction: 0.5,
               checked: true}
    events:
      - {at: 20000, )") + GetParam() +
                                    R"(: {start: 0x9ff000, size: 4KiB)" +
                                    (std::string(GetParam()) == "protect" ? ", prot: r" : "") +
                                    R"(}}
)");
    const auto s = runSystem(makeSystem("cores: 1\nmmu: {format: x86_64}\n"
                                        "workload: {scenario: " +
                                        scenario + "}\n"));
    const auto& p = s["processes"]["a"];
    EXPECT_EQ(u(p["firmware"]["huge_splits"]), 1u);
    EXPECT_EQ(u(p["firmware"]["demand_faults_by_page_size"]["page_2MiB"]), 1u);
    EXPECT_EQ(u(p["instructions"]), 40000u);
    EXPECT_GT(u(p["data_checks"]), 10000u);
    EXPECT_EQ(u(p["data_mismatches"]), 0u) << p["first_mismatch"];
    EXPECT_EQ(p["killed"], false);
}

INSTANTIATE_TEST_SUITE_P(Events, Split, ::testing::Values("unmap", "protect", "discard"));

// Without a scenario: software TLB refill runs the same trace with the same L1 misses as the
// hardware walker, at a higher cost (the refill handler's trap and timed walk). Prefaulted, so
// that every miss is a refill (no demand fault's extra retries); each refill is followed by a
// retried lookup that hits.
std::string lackeySystem(const std::string& refill) {
    return "cores: 1\nmmu: {format: x86_64, tlb_refill: " + refill +
           "}\n"
           "workload: {format: lackey, prefault: true, trace: " +
           std::string(TLMMU_SOURCE_DIR) + "/tests/data/lackey_small.txt}\n";
}

TEST(NoScenario, SoftwareRefillOnATrace) {
    const auto hw = runSystem(makeSystem(lackeySystem("hardware")));
    const auto sw = runProgram(lackeySystem("software"));
    const auto& h = hw["cores"][0];
    const auto& w = sw["cores"][0];
    EXPECT_GT(u(h["instructions"]), 0u);
    EXPECT_EQ(w["instructions"], h["instructions"]);
    for (const char* l : {"l1i", "l1d"}) {
        EXPECT_EQ(w["tlb"][l]["misses"], h["tlb"][l]["misses"]) << l;
    }
    EXPECT_GT(u(w["cycles"]), u(h["cycles"]));
    EXPECT_GT(u(w["faults"]["tlb_miss"]), 0u);
    EXPECT_EQ(u(w["tlb"]["l1i"]["hits"]) + u(w["tlb"]["l1d"]["hits"]),
              u(h["tlb"]["l1i"]["hits"]) + u(h["tlb"]["l1d"]["hits"]) + u(w["faults"]["tlb_miss"]));
    EXPECT_EQ(u(w["walker"]["walks"]), 0u);
    EXPECT_EQ(sw["processes"]["p0"]["killed"], false);
}

// Without an L2 TLB, software refill fills only the L1 that missed, as the walker: the same L1
// misses (it filled both L1s, and the data pages crowded the 4-entry ITLB out: 20 misses, not 4).
// Every miss is one refill, and its retry a hit.
TEST(NoScenario, SoftwareRefillWithoutL2HasTheWalkersL1Misses) {
    auto system = [](const std::string& refill) {
        return "cores: 1\nmmu: {format: x86_64, tlb_refill: " + refill +
               "}\ntlb: {l1i: {entries: 4, ways: 4}, l1d: {entries: 8, ways: 4}, l2: {entries: "
               "0}}\n"
               "workload: {format: synthetic, prefault: true, synthetic: {pattern: random, "
               "footprint: 64KiB, code_footprint: 16KiB, instructions: 20000}}\n";
    };
    const auto hw = runSystem(makeSystem(system("hardware")));
    const auto sw = runProgram(system("software"));
    const auto& h = hw["cores"][0]["tlb"];
    const auto& w = sw["cores"][0]["tlb"];
    EXPECT_EQ(u(h["l1i"]["misses"]), 4u);
    EXPECT_EQ(u(h["l1d"]["misses"]), 3520u);
    for (const char* l : {"l1i", "l1d"}) {
        EXPECT_EQ(w[l]["misses"], h[l]["misses"]) << l;
        EXPECT_EQ(u(w[l]["hits"]), u(h[l]["hits"]) + u(h[l]["misses"])) << l;
    }
    EXPECT_EQ(u(sw["cores"][0]["faults"]["tlb_miss"]), 4u + 3520u);
}

// Without a scenario, workload.page_size maps the implicit region in huge pages.
TEST(NoScenario, PageSizeMapsHugeLeaves) {
    const auto s = runSystem(
        makeSystem("cores: 1\nmmu: {format: x86_64}\n"
                   "workload: {format: synthetic, page_size: 2MiB, synthetic: {pattern: stream, "
                   "footprint: 4MiB, data_base: 0x10000000, instructions: 20000}}\n"));
    const auto& fw = s["processes"]["p0"]["firmware"];
    EXPECT_EQ(u(fw["demand_faults_by_page_size"]["page_2MiB"]), u(fw["faults"]["demand_zero"]));
    EXPECT_GE(u(fw["demand_faults_by_page_size"]["page_2MiB"]), 2u);
    EXPECT_EQ(u(fw["demand_faults_by_page_size"]["page_4KiB"]), 0u);
}

// An address the format cannot translate is named with the trace line and the format's limit,
// whether found while prefaulting or as a fault during the run; the run fails (exit 1).
class OutsideVaSpace : public ::testing::TestWithParam<bool> {};

TEST_P(OutsideVaSpace, NamesTraceLineAddressAndFormat) {
    const std::string trace = writeFile("outside.lackey", "I  00401000,4\n"
                                                          " L 00601000,8\n"
                                                          "I  00401004,4\n"
                                                          " L 6400001000,8\n");
    const std::string cfg = writeFile(
        "outside.yaml", "mmu: {format: sv39}\nworkload: {format: lackey, trace: " + trace +
                            ", prefault: " + (GetParam() ? "true" : "false") + "}\n");
    const std::string err = writeFile("outside.err", "");
    const std::string cmd =
        std::string(TLMMU_BINARY_DIR) + "/testbench/tlmmu -q --config " + cfg + " 2> " + err;
    const int status = std::system(cmd.c_str());
    EXPECT_EQ(WEXITSTATUS(status), 1);
    std::stringstream text;
    text << std::ifstream(err).rdbuf();
    EXPECT_NE(text.str().find(trace + ":4: address 0x6400001000 is outside sv39's 39-bit virtual "
                                      "address space (user addresses are below 0x4000000000)"),
              std::string::npos)
        << text.str();
}

INSTANTIATE_TEST_SUITE_P(Prefault, OutsideVaSpace, ::testing::Bool());

} // namespace
} // namespace tlmmu::test

namespace tlmmu::test {
namespace {

// Progress goes to stderr when it is a terminal (here a pseudo-terminal made by script(1)), and
// nowhere otherwise; either way the statistics are the same.
// Every scenario event is a system call: firmware.syscall_entry_cycles before its firmware work
// and firmware.syscall_exit_cycles after, on the task's core (10 discards here, a map, a
// protect and an unmap), and nothing else changes.
TEST(Syscall, EveryEventPaysEntryAndExit) {
    const std::string system = oneTaskSystem(
        "syscalls.yaml", "      - {at: 100, every: 50, count: 10, discard: {start: 0x800000, "
                         "size: 4KiB}}\n");
    const auto free = runProgram(system);
    const auto paid = runProgram(system, "--set firmware.syscall_entry_cycles=100 "
                                         "--set firmware.syscall_exit_cycles=40");
    const auto& f = free["cores"][0];
    const auto& p = paid["cores"][0];
    EXPECT_EQ(u(p["cycles"]), u(f["cycles"]) + 13 * 140);
    EXPECT_EQ(u(p["cpi_stack"]["os"]), u(f["cpi_stack"]["os"]) + 13 * 140);
    EXPECT_EQ(p["faults"], f["faults"]);
}

TEST(Progress, OnATerminalOnly) {
    const std::string bin = std::string(TLMMU_BINARY_DIR) + "/testbench/tlmmu";
    const std::string cfg = std::string(TLMMU_SOURCE_DIR) + "/configs/single.yaml";
    const std::string args =
        " -q --config " + cfg + " --set workload.synthetic.instructions=3000000 --stats-json ";
    const std::string a = writeFile("a.json", ""), b = writeFile("b.json", "");
    const std::string err = writeFile("progress.err", ""), tty = writeFile("progress.tty", "");
    ASSERT_EQ(std::system((bin + args + a + " 2> " + err).c_str()), 0);
    std::stringstream plain;
    plain << std::ifstream(err).rdbuf();
    EXPECT_EQ(plain.str(), "");
    if (std::system("command -v script > /dev/null") != 0) GTEST_SKIP() << "no script(1)";
    ASSERT_EQ(std::system(("script -qec '" + bin + args + b + "' /dev/null > " + tty).c_str()), 0);
    std::stringstream shown;
    shown << std::ifstream(tty).rdbuf();
    EXPECT_NE(shown.str().find(" instructions of 6000000, "), std::string::npos) << shown.str();
    EXPECT_NE(shown.str().find(" M instr/s"), std::string::npos);
    std::stringstream ja, jb;
    ja << std::ifstream(a).rdbuf();
    jb << std::ifstream(b).rdbuf();
    EXPECT_EQ(ja.str(), jb.str());
}

} // namespace
} // namespace tlmmu::test
