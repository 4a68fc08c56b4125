// The tlmmu program on bad input: one line on stderr naming the file/line/key, non-zero exit.
// And determinism: the same configuration and seed give the same statistics file.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ProgramTest.h"

namespace {

using Result = tlmmu::test::ProgramResult;

class Cli : public tlmmu::test::ProgramTest {
  protected:
    // Runs with a config made of `yaml` and expects exactly `message` (one line) on stderr.
    void expectError(const std::string& yaml, const std::string& message, int code = 2,
                     const std::string& extra = "") {
        const std::string cfg = write("system.yaml", yaml);
        const Result r = run("--config " + cfg + " -q " + extra);
        EXPECT_EQ(r.exit_code, code) << r.err;
        std::string expected = message;
        const auto pos = expected.find("CFG");
        if (pos != std::string::npos) expected.replace(pos, 3, cfg);
        EXPECT_EQ(r.err, "tlmmu: error: " + expected + "\n");
    }
};

TEST_F(Cli, UnknownKeyNamesFileLineAndSuggestion) {
    expectError("cores: 1\ntlb:\n  l1d:\n    entrys: 32\n",
                "CFG:4: unknown key 'tlb.l1d.entrys' (did you mean 'tlb.l1d.entries'?); tlmmu "
                "--list-keys shows every key");
}

TEST_F(Cli, WrongType) {
    expectError("tlb:\n  l1d: {entries: many}\n",
                "CFG:2: tlb.l1d.entries: expected an integer in [0, 1048576], got 'many'");
}

TEST_F(Cli, NegativeNumber) {
    expectError("cores: -1\n", "CFG:1: cores: expected an integer in [1, 64], got '-1'");
}

TEST_F(Cli, WaysNotDividingEntries) {
    expectError("tlb:\n  l1d: {entries: 64, ways: 5}\n",
                "tlb.l1d.ways: 5 does not divide tlb.l1d.entries 64 (ways must divide entries; "
                "entries = ways is fully associative)");
}

TEST_F(Cli, UnknownFormat) {
    expectError("mmu: {format: arm64}\n",
                "CFG:1: mmu.format: expected one of sv39, sv48, sv57, x86_64, x86_64_5level, "
                "x86_32, generic, got 'arm64'");
}

TEST_F(Cli, ImpossibleGenericFormatNamesItsKey) {
    const Result r =
        run("--config " +
            write("g.yaml", "mmu: {format: generic, generic: {page_bits: 12, pte_bytes: 3}}\n") +
            " -q");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("mmu.generic.pte_bytes"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(Cli, BadOverride) {
    expectError(
        "cores: 1\n",
        "--set tlb.l1d.entries: tlb.l1d.entries: expected an integer in [0, 1048576], got 'x'", 2,
        "--set tlb.l1d.entries=x");
    expectError("cores: 1\n", "--set nope: expected key=value", 2, "--set nope");
}

TEST_F(Cli, EmptyValueIsNamedAsSuch) {
    expectError("cores: 1\n",
                "--set cores: cores: expected an integer in [1, 64], got an empty value", 2,
                "--set cores=");
    expectError("cores:\n", "CFG:1: cores: expected an integer in [1, 64], got an empty value");
}

TEST_F(Cli, MissingConfig) {
    const Result r = run("--config " + dir_ + "/absent.yaml");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err,
              "tlmmu: error: " + dir_ + "/absent.yaml: cannot open: No such file or directory\n");
}

TEST_F(Cli, YamlSyntaxError) {
    const Result r = run("--config " + write("bad.yaml", "cores: 1\ntlb: [\n") + " -q");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.rfind("tlmmu: error: " + dir_ + "/bad.yaml:", 0), 0u) << r.err;
}

TEST_F(Cli, MissingTrace) {
    expectError("workload: {format: lackey, trace: absent.lackey}\n",
                dir_ + "/absent.lackey: cannot open: No such file or directory");
}

TEST_F(Cli, MalformedTraceLine) {
    // Past the first record: found during the run (exit 1).
    write("t.lackey", "I  00400000,4\n L 10000000,8\nI  00400004,4\n L zz,8\n");
    expectError("workload: {format: lackey, trace: t.lackey}\n",
                dir_ + "/t.lackey:4: malformed lackey record ' L zz,8'", 1);
    // In the first record: found when the trace is opened, before the run (exit 2).
    write("t.lackey", "I  00400000,4\n L zz,8\nI  00400004,4\n");
    expectError("workload: {format: lackey, trace: t.lackey}\n",
                dir_ + "/t.lackey:2: malformed lackey record ' L zz,8'", 2);
}

TEST_F(Cli, TruncatedCompressedTrace) {
    std::string text;
    for (int i = 0; i < 20000; ++i)
        text += "I  0040" + std::to_string(1000 + i % 8000) + ",4\n";
    write("t.lackey", text);
    ASSERT_EQ(
        std::system(("gzip -c " + dir_ + "/t.lackey | head -c 2000 > " + dir_ + "/t.gz").c_str()),
        0);
    expectError("workload: {format: lackey, trace: t.gz}\n",
                dir_ + "/t.gz: truncated or corrupt gzip stream"); // found at open: before the run
}

TEST_F(Cli, SameConfigurationSameStatistics) {
    const std::string cfg = std::string(TLMMU_SOURCE_DIR) + "/configs/single.yaml";
    const std::string small = " --set workload.synthetic.instructions=50000";
    ASSERT_EQ(run("--config " + cfg + small + " -q --stats-json " + dir_ + "/a.json").exit_code, 0);
    ASSERT_EQ(run("--config " + cfg + small + " -q --stats-json " + dir_ + "/b.json --stats-csv " +
                  dir_ + "/b.csv")
                  .exit_code,
              0);
    std::stringstream a, b;
    a << std::ifstream(dir_ + "/a.json").rdbuf();
    b << std::ifstream(dir_ + "/b.json").rdbuf();
    EXPECT_GT(a.str().size(), 1000u);
    EXPECT_EQ(a.str(), b.str());
    std::stringstream csv;
    csv << std::ifstream(dir_ + "/b.csv").rdbuf();
    EXPECT_NE(csv.str().find("\ncores[1].tlb.l1d.hits,"), std::string::npos);
}

TEST_F(Cli, SummaryShowsCpiStackPerCore) {
    const std::string cfg = std::string(TLMMU_SOURCE_DIR) + "/configs/single.yaml";
    const Result r = run("--config " + cfg + " --set workload.synthetic.instructions=20000");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("core0: 20000 instructions"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("core1: 20000 instructions"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("= base 1.0000 + tlb "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" + fault "), std::string::npos) << r.out;
}

// --- ChampSim traces ---------------------------------------------------------------------------
// tests/data/champsim_small.champsim: 200 records, ip 0x400000 + 4 * (i % 50) (one code page);
// record i has i % 5 loads over 8 data pages (0x10000000 + (520 i + 8 k) % 32 KiB) and i % 3
// stores over 4 (0x10100000 + (72 i + 8 k) % 16 KiB), in the last slots; every tenth is a
// branch. So 200 instructions, 400 loads (40 x (0+1+2+3+4)), 199 stores (66 x (0+1+2) + 1).
const std::string kChampSimSmall =
    std::string(TLMMU_SOURCE_DIR) + "/tests/data/champsim_small.champsim";

TEST_F(Cli, ChampSimTraceGivesExactlyItsCounts) {
    // Prefaulted: no demand fault retries a lookup, so every reference is one TLB access.
    const std::string cfg =
        write("c.yaml", "cores: 1\nmmu: {format: x86_64}\nworkload: {format: champsim, prefault: "
                        "true, trace: " +
                            kChampSimSmall + "}\n");
    const Result r = run("--config " + cfg + " -q --stats-json " + dir_ + "/s.json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    const auto s = nlohmann::json::parse(std::ifstream(dir_ + "/s.json"));
    const auto& c = s["cores"][0];
    EXPECT_EQ(c["instructions"], 200);
    EXPECT_EQ(c["loads"], 400);
    EXPECT_EQ(c["stores"], 199);
    EXPECT_EQ(c["translations"], 200 + 400 + 199);
    EXPECT_EQ(c["page_crossings"], 0);
    EXPECT_EQ(c["tlb"]["l1i"]["accesses"], 200);
    EXPECT_EQ(c["tlb"]["l1i"]["misses"], 1); // one code page
    EXPECT_EQ(c["tlb"]["l1d"]["accesses"], 400 + 199);
    EXPECT_EQ(c["tlb"]["l1d"]["misses"], 12); // 8 + 4 data pages, cold
}

TEST_F(Cli, ChampSimRecordCutShortNamesTheRecord) {
    const std::string whole = slurp(kChampSimSmall);
    ASSERT_EQ(whole.size(), 200u * 64);
    // The last record cut: found during the run (exit 1).
    write("t.champsim", whole.substr(0, whole.size() - 5));
    expectError("workload: {format: champsim, trace: t.champsim}\n",
                dir_ + "/t.champsim: truncated champsim trace at record 199 (59 of 64 bytes)", 1);
    // The first record cut: refused when the trace is opened (exit 2).
    write("t.champsim", whole.substr(0, 40));
    expectError("workload: {format: champsim, trace: t.champsim}\n",
                dir_ + "/t.champsim: truncated champsim trace at record 0 (40 of 64 bytes)", 2);
}

TEST_F(Cli, ChampSimTruncatedCompressedStreamNamesTheRecord) {
    // 40000 records (2.56 MB, beyond the reader's first 1 MiB read), gzip cut at 3/4: found
    // during the run (exit 1), at the first record not read, a whole number of reads in.
    std::string text;
    const std::string small = slurp(kChampSimSmall);
    for (int i = 0; i < 200; ++i)
        text += small;
    write("t.champsim", text);
    ASSERT_EQ(std::system(("gzip -n -c " + dir_ + "/t.champsim > " + dir_ + "/t.gz").c_str()), 0);
    const std::string gz = slurp(dir_ + "/t.gz");
    write("t.gz", gz.substr(0, gz.size() * 3 / 4));
    const Result r =
        run("--config " + write("c.yaml", "workload: {format: champsim, trace: t.gz}\n") + " -q");
    EXPECT_EQ(r.exit_code, 1) << r.err;
    const std::string head =
        "tlmmu: error: " + dir_ + "/t.gz: truncated or corrupt gzip stream at record ";
    ASSERT_EQ(r.err.rfind(head, 0), 0u) << r.err;
    const std::uint64_t record = std::stoull(r.err.substr(head.size()));
    EXPECT_EQ(record % 16384, 0u) << r.err;
    EXPECT_GT(record, 0u) << r.err;
    EXPECT_LT(record, 40000u) << r.err;
    EXPECT_EQ(r.err, head + std::to_string(record) + "\n");
}

TEST_F(Cli, TlmmuTraceConvertsChampSimBothWays) {
    const std::string bin = dir_ + "/t.bin", back = dir_ + "/back.champsim.xz";
    Result r = trace("convert " + kChampSimSmall + " " + bin + " --from champsim");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, bin + ": 200 records\n");
    r = trace("convert " + bin + " " + back + " --to champsim --compress xz");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, back + ": 200 records\n");
    // The same references, record for record, through binary and back.
    const Result original = trace("dump " + kChampSimSmall + " --from champsim");
    const Result again = trace("dump " + back + " --from champsim");
    ASSERT_EQ(original.exit_code, 0) << original.err;
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(again.out, original.out);
    const std::string head = "I  00400000,4\nI  00400004,4\n L 10000208,8\n S 10100048,8\n"
                             "I  00400008,4\n L 10000410,8\n L 10000418,8\n S 10100090,8\n"
                             " S 10100098,8\nI  0040000c,4\n";
    EXPECT_EQ(original.out.substr(0, head.size()), head);
    r = trace("stats " + back + " --from champsim");
    EXPECT_EQ(r.out, "trace: champsim trace " + back +
                         " (xz)\ninstructions: 200\ncontinuation_records: 0\nloads: 400\n"
                         "stores: 199\nmodifies: 0\npages: 13\ncode_pages: 1\ndata_pages: 12\n");
    // An address 0 has no champsim slot: refused naming the input record, OUT left alone.
    write("z.lackey", "I  00400000,4\n L 00000000,8\n");
    r = trace("convert " + dir_ + "/z.lackey " + dir_ + "/z.champsim --to champsim");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "tlmmu-trace: error: " + dir_ +
                         "/z.lackey:2: a data reference at address 0 cannot be written as "
                         "champsim (0 marks an unused slot)\n");
    EXPECT_FALSE(std::filesystem::exists(dir_ + "/z.champsim"));
}

} // namespace

namespace {

class ScenarioCli : public Cli {
  protected:
    // A system running `scenario` (written next to it as s.yaml).
    void expectScenarioError(const std::string& scenario, const std::string& message) {
        write("s.yaml", scenario);
        expectError("workload: {scenario: s.yaml}\n", dir_ + "/s.yaml:" + message);
    }
};

const char* kProcessHead = "processes:\n  - name: a\n    vmas:\n";

TEST_F(ScenarioCli, WriteAndExecuteRefused) {
    expectScenarioError(
        std::string(kProcessHead) +
            "      - {start: 0x400000, size: 4KiB, prot: rwx}\n    workload: {}\n",
        "4: processes[0].vmas[0].prot: write and execute together are refused (W^X)");
}

TEST_F(ScenarioCli, OverlappingVmasRefused) {
    expectScenarioError(
        std::string(kProcessHead) +
            "      - {start: 0x400000, size: 64KiB, prot: rx}\n"
            "      - {start: 0x408000, size: 64KiB, prot: rw}\n    workload: {}\n",
        "5: processes[0].vmas[1]: overlaps processes[0].vmas[0] (guard pages included)");
}

TEST_F(ScenarioCli, StackGuardPageCountsForOverlap) {
    expectScenarioError(
        std::string(kProcessHead) +
            "      - {start: 0x400000, size: 64KiB, prot: rw}\n"
            "      - {start: 0x410000, size: 64KiB, prot: rw, kind: stack}\n    workload: {}\n",
        "5: processes[0].vmas[1]: overlaps processes[0].vmas[0] (guard pages included)");
}

TEST_F(ScenarioCli, EventForUnknownProcess) {
    expectScenarioError(std::string(kProcessHead) +
                            "      - {start: 0x400000, size: 64KiB, prot: rx}\n    workload: {}\n"
                            "    events:\n      - {at: 10, fork: ghost}\n",
                        "7: processes[0].events[0].fork: unknown process 'ghost'");
}

TEST_F(ScenarioCli, MissingTrace) {
    write("s.yaml", std::string(kProcessHead) +
                        "      - {start: 0x400000, size: 64KiB, prot: rx}\n"
                        "    workload: {format: lackey, trace: nowhere.lackey}\n");
    expectError("workload: {scenario: s.yaml}\n",
                dir_ + "/nowhere.lackey: cannot open: No such file or directory");
}

TEST_F(ScenarioCli, UnknownWorkloadKeyIsNamed) {
    write("s.yaml", std::string(kProcessHead) + "      - {start: 0x400000, size: 64KiB, prot: rx}\n"
                                                "    workload: {patern: zipf}\n");
    const Result r = run("--config " + write("sys.yaml", "workload: {scenario: s.yaml}\n") + " -q");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("unknown key 'processes[0].workload.patern' (did you mean "
                         "'processes[0].workload.pattern'?)"),
              std::string::npos)
        << r.err;
}

// The software-managed TLB (MIPS-style refill in firmware) against the hardware walker on the
// same workload: the same work is done (instructions, pages demand-faulted, every load verified
// with the same data), but no walk is made: last-level misses trap to the refill handler, which
// costs other cycles. (TLB counts differ: a refill is followed by a retried lookup.)
TEST_F(Cli, SoftwareRefillAgainstHardwareWalker) {
    write("s.yaml", "processes:\n  - name: a\n    vmas: [{start: 0x400000, size: 64KiB, prot: rx}, "
                    "{start: 0x10000000, size: 4MiB, prot: rw}]\n"
                    "    workload: {pattern: zipf, footprint: 4MiB, instructions: 50000, "
                    "refs_per_instruction: 0.5, checked: true}\n");
    const std::string sys = write("sys.yaml", "workload: {scenario: s.yaml}\n");
    ASSERT_EQ(run("--config " + sys + " -q --stats-json " + dir_ + "/hw.json").exit_code, 0);
    const Result sw_run = run(
        "--config " + sys + " -q --set mmu.tlb_refill=software --stats-json " + dir_ + "/sw.json");
    ASSERT_EQ(sw_run.exit_code, 0) << sw_run.err;
    auto load = [](const std::string& p) { return nlohmann::json::parse(std::ifstream(p)); };
    const auto hw = load(dir_ + "/hw.json"), sw = load(dir_ + "/sw.json");
    const auto &hp = hw["processes"]["a"], &sp = sw["processes"]["a"];
    EXPECT_EQ(hp["instructions"], 50000u);
    EXPECT_EQ(sp["instructions"], 50000u);
    EXPECT_EQ(hp["firmware"]["faults"]["demand_zero"], sp["firmware"]["faults"]["demand_zero"]);
    EXPECT_EQ(hp["data_checks"], sp["data_checks"]);
    EXPECT_EQ(sp["data_mismatches"], 0u);
    EXPECT_EQ(sw["cores"][0]["walker"]["walks"], 0u);
    EXPECT_GT(hw["cores"][0]["walker"]["walks"].get<std::uint64_t>(), 0u);
    // Every last-level miss traps (and so does a store to an entry cached clean).
    EXPECT_GE(sw["cores"][0]["faults"]["tlb_miss"].get<std::uint64_t>(),
              sw["cores"][0]["tlb"]["l2"]["misses"].get<std::uint64_t>());
    EXPECT_GT(sw["cores"][0]["tlb"]["l2"]["misses"].get<std::uint64_t>(), 0u);
    EXPECT_NE(hw["cores"][0]["cycles"], sw["cores"][0]["cycles"]);
}

} // namespace

// Every statistic a run writes is declared with a unit and a meaning where it is registered, and
// --list-stats-json lists it (indices folded to [i]); docs/stats.md is that list for the
// default system.
TEST_F(Cli, EveryStatisticARunWritesIsListedWithItsUnitAndMeaning) {
    const std::string cfg = std::string(TLMMU_SOURCE_DIR) + "/configs/default.yaml";
    const Result list = run("--config " + cfg + " --list-stats-json");
    ASSERT_EQ(list.exit_code, 0) << list.err;
    const auto listed = nlohmann::json::parse(list.out);
    for (const auto& [path, d] : listed.items()) {
        EXPECT_FALSE(d["meaning"].get<std::string>().empty()) << path;
        EXPECT_TRUE(d.contains("unit") && d.contains("additive") && d.contains("kind")) << path;
    }
    EXPECT_EQ(listed["cores[i].tlb.l1d.hits"]["unit"], "lookups");
    EXPECT_EQ(listed["cores[i].cpi"]["additive"], false);
    EXPECT_EQ(listed["cores[i].firmware.swap_outs"]["additive"], false); // counted per core
    EXPECT_EQ(listed["processes.app.firmware.swap_outs"]["additive"], true);
    EXPECT_EQ(listed["shootdown.latency"]["unit"], "cycles");

    const Result r = run("--config " + cfg + " -q --stats-json " + dir_ + "/s.json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto stats = nlohmann::json::parse(std::ifstream(dir_ + "/s.json"));
    // Each value the file holds lies at or below a listed path.
    std::function<void(const nlohmann::json&, const std::string&)> walk =
        [&](const nlohmann::json& j, const std::string& path) {
            if (listed.contains(path)) return;
            ASSERT_TRUE(j.is_object() || j.is_array()) << path << " is written but not listed";
            if (j.is_array())
                for (const auto& e : j)
                    walk(e, path + "[i]");
            else
                for (const auto& [k, v] : j.items())
                    walk(v, path.empty() ? k : path + "." + k);
        };
    walk(stats, "");
    // And each listed one is written (its first instance: [i] read as [0]).
    for (const auto& [path, d] : listed.items()) {
        std::string ptr;
        for (std::size_t i = 0; i < path.size(); ++i) {
            if (path.compare(i, 3, "[i]") == 0) {
                ptr += "/0";
                i += 2;
            } else {
                ptr += path[i] == '.' ? '/' : path[i];
            }
        }
        EXPECT_TRUE(stats.contains(nlohmann::json::json_pointer("/" + ptr))) << path;
    }
}

TEST_F(Cli, DocsStatsMdIsTheDefaultSystemsList) {
    const Result r =
        run("--config " + std::string(TLMMU_SOURCE_DIR) + "/configs/default.yaml --stats-markdown");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::stringstream file;
    file << std::ifstream(std::string(TLMMU_SOURCE_DIR) + "/docs/stats.md").rdbuf();
    EXPECT_EQ(file.str(), r.out) << "docs/stats.md is stale: build/testbench/tlmmu --config "
                                    "configs/default.yaml --stats-markdown > docs/stats.md";
}
