// Bad input, class by class (issue 11): every one gets a clear one-line refusal with the right
// exit code (2 refused before the run, 1 the run failed) and the words that say what and where,
// or correct behaviour. Runs the real programs (tlmmu, tlmmu-trace); a few loader checks run
// in process, among them the regression tests of what fuzzing found.
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "Config.h"
#include "ProgramTest.h"
#include "Scenario.h"
#include "SystemConfig.h"
#include "common/Stats.h"
#include "workload/BinaryTraceWriter.h"

extern "C" {
#include "kernel/mm.h"
}

namespace fs = std::filesystem;

namespace {

using Result = tlmmu::test::ProgramResult;

class BadInput : public tlmmu::test::ProgramTest {
  protected:
    // tlmmu with `yaml` as the configuration: exit `code`, stderr one line containing every one
    // of `words` ("CFG" stands for the configuration's path).
    Result expectRefusal(const std::string& yaml, std::initializer_list<std::string> words,
                         int code = 2, const std::string& extra = "") {
        const std::string cfg = write("system.yaml", yaml);
        const Result r = run("--config " + cfg + " -q " + extra);
        EXPECT_EQ(r.exit_code, code) << r.err;
        expectOneLine(r.err, "tlmmu: error: ", words, cfg);
        return r;
    }
    // ProgramTest's, with "CFG" in `words` standing for `cfg`.
    static void expectOneLine(const std::string& err, const std::string& head,
                              std::vector<std::string> words, const std::string& cfg = "") {
        for (std::string& w : words)
            if (const auto pos = w.find("CFG"); pos != std::string::npos) w.replace(pos, 3, cfg);
        ProgramTest::expectOneLine(err, head, words);
    }
    // A scenario (s.yaml) on a system of `system` (plus the scenario key).
    Result expectScenarioRefusal(const std::string& scenario,
                                 std::initializer_list<std::string> words,
                                 const std::string& system = "cores: 2\n") {
        write("s.yaml", scenario);
        const std::string cfg = write("system.yaml", system + "workload: {scenario: s.yaml}\n");
        const Result r = run("--config " + cfg + " -q");
        EXPECT_EQ(r.exit_code, 2) << r.err;
        expectOneLine(r.err, "tlmmu: error: " + dir_ + "/s.yaml:", words);
        return r;
    }
};

const std::string kSmallSynthetic =
    "workload: {synthetic: {instructions: 2000, footprint: 64KiB}}\n";

// --- 1. YAML ------------------------------------------------------------------------------------

TEST_F(BadInput, ComplexKeyInConfigIsRefused) {
    expectRefusal("cores: 1\n[a]: 1\n", {"CFG:2: a key must be a plain name, got a list"});
    expectRefusal("{a: 1}: 2\n", {"CFG:1: a key must be a plain name, got a mapping"});
}

TEST_F(BadInput, ComplexKeyInScenarioIsRefused) {
    expectScenarioRefusal("processes:\n  - name: a\n    [x]: 1\n    workload: {}\n",
                          {"3: a key must be a plain name, got a list"});
}

TEST_F(BadInput, DuplicateKeysAreRefusedInConfigs) {
    expectRefusal("cores: 1\ncores: 2\n", {"CFG:2: duplicate key 'cores' (first at line 1)"});
    expectRefusal("tlb:\n  l1d: {entries: 32, entries: 16}\n",
                  {"CFG:2: duplicate key 'entries' (first at line 2)"});
    // The same key spelt dotted and nested.
    expectRefusal("tlb.l1d.entries: 32\ntlb:\n  l1d: {entries: 16}\n",
                  {"key 'tlb.l1d.entries' given twice", "CFG:1", "CFG:3"});
}

TEST_F(BadInput, DuplicateKeysAreRefusedInScenarios) {
    expectScenarioRefusal("processes:\n  - name: a\n    name: b\n    workload: {}\n",
                          {"3: duplicate key 'name' (first at line 2)"});
}

TEST_F(BadInput, SecondYamlDocumentIsRefused) {
    expectRefusal("cores: 1\n---\ncores: 2\n",
                  {"CFG:2: a second YAML document ('---'); one file holds one document"});
}

TEST_F(BadInput, DirectoryOrUnreadableFileAsConfigIsRefused) {
    Result r = run("--config " + dir_ + " -q");
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu: error: ", {dir_ + ": is a directory, not a YAML file"});
    // Opens, but reading fails (even as root, which file permissions would not stop).
    r = run("--config /proc/self/mem -q");
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu: error: ", {"/proc/self/mem: read error: Input/output error"});
}

// Found by fuzz_scenario: yaml-cpp's LoadAll loops forever (memory growing) on a stray ','.
TEST_F(BadInput, StrayCommaIsRefusedNotAHang) {
    expectRefusal(",", {"CFG:1: not YAML that can be read (a ',' outside [ ] or { }?)"});
    expectRefusal(", a\n", {"CFG:1: not YAML that can be read"});
    EXPECT_THROW(tlmmu::loadYaml(",", "x.yaml"), tlmmu::InputError);
    // The fuzzer's own input (the scenario demo with a line starting with ',').
    expectScenarioRefusal("# comment\n, swapping\nshared:\n  - {name: buf, size: 64KiB}\n",
                          {"not YAML that can be read"});
}

TEST_F(BadInput, AliasBombIsRefused) {
    std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i < 9; ++i)
        yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" +
                std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
                std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
                std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + ", *a" +
                std::to_string(i - 1) + ", *a" + std::to_string(i - 1) + "]\n";
    EXPECT_THROW(tlmmu::loadYaml(yaml, "bomb.yaml"), tlmmu::InputError);
}

// --- 2. command line ----------------------------------------------------------------------------

TEST_F(BadInput, CommandLineErrorsExitTwoWithOneLine) {
    Result r = run("--no-such-option");
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu: error: ", {"--no-such-option", "tlmmu --help"});
    r = run("--config");
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu: error: ", {"config"});
    r = trace("convert onlyone");
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu-trace: error: ", {"OUT", "tlmmu-trace --help"});
    r = trace("");
    EXPECT_EQ(r.exit_code, 2);
    r = trace("convert a b --compress zip");
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu-trace: error: ", {"zip"});
}

TEST_F(BadInput, HelpAndVersionExitZero) {
    Result r = run("--help");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("--print-config"), std::string::npos);
    EXPECT_EQ(trace("--help").exit_code, 0);
    r = run("--version");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out.rfind("tlmmu ", 0), 0u) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    EXPECT_GT(r.out.size(), std::string("tlmmu \n").size());
}

TEST_F(BadInput, IntegersAreNeverOctal) {
    // One rule for every integer: decimal without leading zeros, or 0x hex.
    for (const char* v : {"010", "09", "00"})
        expectRefusal("cores: 1\n",
                      {"--set cores: cores: expected an integer in [1, 64] (no leading zeros: "
                       "integers are decimal, or hex with 0x; octal is not read), got '" +
                       std::string(v) + "'"},
                      2, std::string("--set cores=") + v);
    expectRefusal("memory: {size: 04GiB}\n", {"CFG:1: memory.size", "no leading zeros"});
    expectScenarioRefusal("processes:\n  - {name: a, core: 01, workload: {}}\n",
                          {"2: processes[0].core: expected an integer", "no leading zeros"});
    EXPECT_EQ(tlmmu::parseUint("10"), 10u);
    EXPECT_EQ(tlmmu::parseUint("0"), 0u);
    EXPECT_EQ(tlmmu::parseUint("0x10"), 16u);
    EXPECT_EQ(tlmmu::parseUint("0X1f"), 31u);
    EXPECT_EQ(tlmmu::parseUint("18446744073709551615"), UINT64_MAX);
    for (const char* bad : {"010", "09", "+1", " 1", "1 ", "0x", "18446744073709551616",
                            "0x10000000000000000", "1e3", ""})
        EXPECT_FALSE(tlmmu::parseUint(bad).has_value()) << bad;
    EXPECT_EQ(tlmmu::parseSize("0x10K"), 16u << 10);
    EXPECT_FALSE(tlmmu::parseSize("08K").has_value());
}

// Page-table isolation needs a kernel and a user ASID (or none at all).
TEST_F(BadInput, PtiWithOneAsidBitIsRefused) {
    expectRefusal("mmu: {asid_bits: 1}\nfirmware: {pti: true}\n",
                  {"CFG", "firmware.pti: true is refused", "mmu.asid_bits of at least 2"});
}

TEST_F(BadInput, NoSuggestionNamesARefusedValue) {
    // A binary trace read as lackey: the hint names only a format the key accepts.
    std::string tr = write("t.bin", "");
    {
        tlmmu::BinaryTraceWriter w(tr);
        tlmmu::Instruction insn;
        insn.pc = 0x400000;
        insn.size = 4;
        w.write(insn);
        w.close();
    }
    const Result r = expectRefusal("workload: {format: lackey, trace: t.bin}\n",
                                   {"is a tlmmu binary trace, not lackey text (use format "
                                    "'binary')"});
    EXPECT_EQ(r.err.find("auto"), std::string::npos) << r.err;
    // A misspelt key is never "corrected" to a key that has no effect here.
    write("t.lackey", "I  00400000,4\n");
    Result u = expectRefusal("workload: {format: lackey, trace: t.lackey, synthetic: {patern: "
                             "zipf}}\n",
                             {"unknown key 'workload.synthetic.patern'"});
    EXPECT_EQ(u.err.find("did you mean"), std::string::npos) << u.err;
    u = expectRefusal("workload: {synthetic: {patern: zipf}}\n",
                      {"unknown key 'workload.synthetic.patern' (did you mean "
                       "'workload.synthetic.pattern'?)"});
    u = expectScenarioRefusal(
        "processes:\n  - {name: a, workload: {format: lackey, trace: t.lackey, patern: zipf}}\n",
        {"unknown key 'processes[0].workload.patern'"});
    EXPECT_EQ(u.err.find("did you mean"), std::string::npos) << u.err;
}

// --- 3. empty traces ----------------------------------------------------------------------------

TEST_F(BadInput, EmptyTraceIsRefusedAtOpen) {
    write("empty.lackey", "");
    expectRefusal("workload: {format: lackey, trace: empty.lackey}\n",
                  {dir_ + "/empty.lackey: empty trace (no records): nothing to run"});
    write("messages.lackey", "==12== only valgrind's messages\n\n");
    expectRefusal("workload: {format: lackey, trace: messages.lackey}\n",
                  {dir_ + "/messages.lackey: empty trace (no records)"});
    {
        tlmmu::BinaryTraceWriter w(dir_ + "/empty.bin");
        w.close();
    }
    expectRefusal("workload: {format: binary, trace: empty.bin}\n",
                  {dir_ + "/empty.bin: empty trace (no records)"});
    write("s.yaml", "processes:\n  - {name: a, workload: {format: lackey, trace: empty.lackey}}\n");
    expectRefusal("workload: {scenario: s.yaml}\n", {dir_ + "/empty.lackey: empty trace"});
    const Result r = trace("stats " + dir_ + "/empty.lackey");
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu-trace: error: ", {"empty trace"});
}

// --- 4. statistics outputs ----------------------------------------------------------------------

TEST_F(BadInput, StatsPathIsCheckedBeforeTheRun) {
    const Result r = expectRefusal(
        kSmallSynthetic, {dir_ + "/no/such/dir/s.json: cannot write: No such file or directory"}, 2,
        "--stats-json " + dir_ + "/no/such/dir/s.json");
    EXPECT_EQ(r.out, ""); // nothing ran
    expectRefusal(kSmallSynthetic, {dir_ + ": cannot write"}, 2, "--stats-csv " + dir_);
    expectRefusal(
        kSmallSynthetic,
        {"--stats-json " + dir_ + "/x and --stats-csv " + dir_ + "/./x name the same file"}, 2,
        "--stats-json " + dir_ + "/x --stats-csv " + dir_ + "/./x");
}

TEST_F(BadInput, StatsWriteErrorsAreReported) {
    if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this machine";
    expectRefusal(kSmallSynthetic, {"/dev/full: write failed: No space left on device"}, 1,
                  "--stats-csv /dev/full");
    expectRefusal(kSmallSynthetic, {"/dev/full: write failed: No space left on device"}, 1,
                  "--stats-json /dev/full");
}

TEST_F(BadInput, StatsFailureNeverHidesTheRunsOwnFailure) {
    if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this machine";
    write("t.lackey", "I  00400000,4\nI  00400004,4\n L zz,8\n");
    const std::string cfg = write("system.yaml", "workload: {format: lackey, trace: t.lackey}\n");
    const Result r = run("--config " + cfg + " -q --stats-csv /dev/full");
    EXPECT_EQ(r.exit_code, 1);
    // Both, the run's first.
    EXPECT_EQ(r.err, "tlmmu: error: " + dir_ + "/t.lackey:3: malformed lackey record ' L zz,8'\n" +
                         "tlmmu: error: /dev/full: write failed: No space left on device\n");
}

// --- 5. tlmmu-trace -----------------------------------------------------------------------------

TEST_F(BadInput, ConvertIntoItsOwnInputIsRefused) {
    const std::string f =
        write("t.lackey", "I  00400000,4\n L 10000000,8\nI  00400004,4\n S 10000008,8\n");
    const std::string before = slurp(f);
    for (const std::string& out :
         {f, dir_ + "/./t.lackey",
          dir_ + "/../" + fs::path(dir_).filename().string() + "/t.lackey"}) {
        const Result r = trace("convert " + f + " " + out);
        EXPECT_EQ(r.exit_code, 2) << out;
        expectOneLine(r.err, "tlmmu-trace: error: ", {"is the input file"});
        EXPECT_EQ(slurp(f), before);
    }
    ASSERT_EQ(::link(f.c_str(), (dir_ + "/hardlink").c_str()), 0);
    EXPECT_EQ(trace("convert " + f + " " + dir_ + "/hardlink").exit_code, 2);
    EXPECT_EQ(slurp(f), before);
    // A conversion that fails on the way leaves OUT as it was.
    write("bad.lackey", "I  00400000,4\nI  00400004,4\n L zz,8\n");
    const std::string out = write("out.bin", "old");
    const Result r = trace("convert " + dir_ + "/bad.lackey " + out);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(slurp(out), "old");
    EXPECT_EQ(trace("convert " + f + " " + out).exit_code, 0);
    EXPECT_EQ(slurp(out).rfind("TLMMUTR1", 0), 0u);
}

TEST_F(BadInput, DumpPrintsOnlyWhatTheSimulatorAccepts) {
    // A binary record of 12 KiB: the binary reader refuses it as lackey's does (1..4096).
    const std::string bin = dir_ + "/big.bin";
    {
        tlmmu::BinaryTraceWriter w(bin);
        tlmmu::Instruction insn;
        insn.pc = 0x400000;
        insn.size = 4;
        w.write(insn);
        insn.pc += 4;
        insn.num_refs = 1;
        insn.refs[0] = {0x10000000, 12288, tlmmu::RefKind::Load};
        w.write(insn);
        w.close();
    }
    const Result r = trace("dump " + bin);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "I  00400000,4\n"); // the record before, nothing of the refused one
    expectOneLine(r.err, "tlmmu-trace: error: ",
                  {bin + ": corrupt binary trace at instruction 1: data reference size 12288 out "
                         "of range (1..4096)"});
    write("sys.yaml", "workload: {format: binary, trace: big.bin}\n");
    const Result sim = run("--config " + dir_ + "/sys.yaml -q");
    EXPECT_EQ(sim.exit_code, 1);
    EXPECT_NE(sim.err.find("data reference size 12288 out of range"), std::string::npos);
}

// --- 6. process names and statistics paths ------------------------------------------------------

TEST_F(BadInput, ProcessNamesMustBeIdentifiers) {
    for (const char* name :
         {"a.b", "\"\"", "0", "\"a,b\"", "\"a[0]\"", "-a", "\"a b\"", "\"é\"", "\"a/b\""})
        expectScenarioRefusal(std::string("processes:\n  - {name: ") + name + ", workload: {}}\n",
                              {"2: processes[0].name: '", "is not a name", "processes.<name>"});
    write("s.yaml", "processes:\n  - {name: Good_name-2, workload: {instructions: 1000, footprint: "
                    "64KiB}, vmas: [{start: 0x400000, size: 4KiB, prot: rx}, {start: 0x10000000, "
                    "size: 64KiB, prot: rw}]}\n");
    const std::string cfg = write("system.yaml", "workload: {scenario: s.yaml}\n");
    const Result r = run("--config " + cfg + " -q --stats-json " + dir_ + "/s.json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(std::ifstream(dir_ + "/s.json"));
    EXPECT_EQ(j["processes"]["Good_name-2"]["instructions"], 1000u);
}

TEST(StatsPaths, AmbiguousPathsAreRefusedAtRegistration) {
    const tlmmu::StatInfo kInfo{"events", "a test statistic"};
    tlmmu::Stats s;
    std::uint64_t v = 1;
    for (const char* bad :
         {"a..b", "", "a.", ".a", "a.b,c", "a.0", "a[x]", "a[1", "a b", "a/b", "a.\"q\""})
        EXPECT_THROW(s.counter(bad, &v, kInfo), std::invalid_argument) << bad;
    s.counter("p.a-b_c[2].x", &v, kInfo);
    s.counter("x.y", &v, kInfo);
    EXPECT_THROW(s.counter("x.y.z", &v, kInfo), std::invalid_argument);      // x.y is a value
    EXPECT_THROW(s.counter("x", &v, kInfo), std::invalid_argument);          // x is a group
    EXPECT_THROW(s.counter("x.y", &v, kInfo), std::invalid_argument);        // registered twice
    EXPECT_THROW(s.counter("z", &v, {"events", ""}), std::invalid_argument); // no meaning
    s.constant("note", "a, \"quoted\"\nvalue", kInfo);
    std::ostringstream csv;
    s.writeCsv(csv);
    EXPECT_NE(csv.str().find("note,\"a, \"\"quoted\"\"\nvalue\"\n"), std::string::npos)
        << csv.str();
}

// --- 7. scenario checks -------------------------------------------------------------------------

TEST_F(BadInput, ForkCyclesAreRefused) {
    expectScenarioRefusal(
        "processes:\n"
        "  - {name: a, forked_from: b, workload: {}, events: [{at: 1, fork: b}]}\n"
        "  - {name: b, forked_from: a, workload: {}, events: [{at: 1, fork: a}]}\n",
        {"2: processes[0].forked_from: fork cycle a <- b <- a", "none would ever run"});
    expectScenarioRefusal(
        "processes:\n  - {name: a, forked_from: a, workload: {}, events: [{at: 1, fork: a}]}\n",
        {"2: processes[0].forked_from: fork cycle a <- a"});
}

TEST_F(BadInput, EventPastTheEndOfItsWorkloadIsRefused) {
    expectScenarioRefusal(
        "processes:\n  - {name: a, workload: {instructions: 1000}, events: [{at: 1001, exit: "
        "true}]}\n",
        {"2: processes[0].events[0].at: at 1001 is past the end of processes[0]'s workload (1000 "
         "instructions): it would never happen"});
}

TEST_F(BadInput, OnlyExitTrueIsAnEvent) {
    for (const char* v : {"false", "0", "maybe", "[true]"})
        expectScenarioRefusal(std::string("processes:\n  - {name: a, workload: {}, events: [{at: "
                                          "1, exit: ") +
                                  v + "}]}\n",
                              {"2: processes[0].events[0].exit: only 'exit: true' is an event"});
}

TEST_F(BadInput, CoreNumbersDoNotWrap) {
    for (const char* core : {"4294967296", "4294967297", "0x100000000", "2"})
        expectScenarioRefusal(std::string("processes:\n  - {name: a, core: ") + core +
                                  ", workload: {}}\n",
                              {"2: processes[0].core: core ", "does not exist (cores: 2)"});
}

TEST_F(BadInput, FirmwareLimitsAreRefusedAtTheScenarioCheck) {
    std::string many = "processes:\n";
    for (int i = 0; i <= FW_MAX_PROCESSES; ++i)
        many += "  - {name: p" + std::to_string(i) + ", workload: {}}\n";
    expectScenarioRefusal(many, {std::to_string(FW_MAX_PROCESSES + 2) + ": processes[" +
                                 std::to_string(FW_MAX_PROCESSES) + "]: more than " +
                                 std::to_string(FW_MAX_PROCESSES) +
                                 " processes; the firmware's limit (FW_MAX_PROCESSES)"});
    // VMAs: a stack counts two (its guard page).
    std::string vmas = "processes:\n  - name: a\n    workload: {}\n    vmas:\n";
    vmas += "      - {start: 0x7f000000, size: 4KiB, prot: rw, kind: stack}\n";
    for (int i = 0; i < FW_MAX_VMAS - 1; ++i)
        vmas += "      - {start: " + std::to_string(0x10000000 + i * 0x10000) +
                ", size: 4KiB, prot: rw}\n";
    expectScenarioRefusal(vmas, {"processes[0].vmas[" + std::to_string(FW_MAX_VMAS - 1) +
                                     "]: more than " + std::to_string(FW_MAX_VMAS) +
                                     " VMAs in one process (a stack counts 2",
                                 "(FW_MAX_VMAS)"});
    std::string shm = "shared:\n";
    for (int i = 0; i <= FW_MAX_SHM; ++i)
        shm += "  - {name: s" + std::to_string(i) + ", size: 4KiB}\n";
    shm += "processes:\n  - {name: a, workload: {}}\n";
    expectScenarioRefusal(shm, {"shared[" + std::to_string(FW_MAX_SHM) + "]: more than " +
                                std::to_string(FW_MAX_SHM) +
                                " shared objects; the firmware's limit (FW_MAX_SHM)"});
    expectScenarioRefusal(
        "shared:\n  - {name: s, size: " + std::to_string((FW_SHM_MAX_PAGES + 1) * 4) +
            "KiB}\nprocesses:\n  - {name: a, workload: {}}\n",
        {"2: shared[0].size: " + std::to_string(FW_SHM_MAX_PAGES + 1) +
         " pages; the firmware's limit is " + std::to_string(FW_SHM_MAX_PAGES) +
         " pages (FW_SHM_MAX_PAGES)"});
    // Cores: the memory manager's limit, with the key.
    write("s.yaml", "processes:\n  - {name: a, workload: {}}\n");
    const std::string cfg = write("system.yaml", "cores: " + std::to_string(FW_MAX_CORES + 1) +
                                                     "\nworkload: {scenario: s.yaml}\n");
    const Result r = run("--config " + cfg + " -q");
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu: error: ",
                  {cfg + ":1: cores: expected an integer in [1, " + std::to_string(FW_MAX_CORES) +
                   "], got '" + std::to_string(FW_MAX_CORES + 1) + "'"});
}

TEST_F(BadInput, VmasOutsideTheFormatsAddressSpaceAreRefused) {
    auto vma = [](const std::string& v) {
        return "processes:\n  - name: a\n    workload: {}\n    vmas:\n      - " + v + "\n";
    };
    // x86_64: 48-bit, canonical halves.
    expectScenarioRefusal(vma("{start: 0x800000000000, size: 4KiB, prot: rw}"),
                          {"5: processes[0].vmas[0]: [0x800000000000, 0x800000001000) is outside "
                           "the canonical 48-bit virtual address space of format x86_64"});
    expectScenarioRefusal(vma("{start: 0x7ffffffff000, size: 8KiB, prot: rw}"),
                          {"outside the canonical 48-bit"});
    expectScenarioRefusal(vma("{start: 0xfffffffffffff000, size: 8KiB, prot: rw}"),
                          {"wraps past 2^64"});
    // sv39: 39 bits.
    expectScenarioRefusal(vma("{start: 0x4000000000, size: 4KiB, prot: rw}"),
                          {"outside the canonical 39-bit virtual address space of format sv39"},
                          "cores: 2\nmmu: {format: sv39}\n");
    // x86_32: 32 bits, no sign extension.
    expectScenarioRefusal(vma("{start: 0x100000000, size: 4KiB, prot: rw}"),
                          {"outside the canonical 32-bit"}, "cores: 2\nmmu: {format: x86_32}\n");
    // A stack needs its guard page below it.
    expectScenarioRefusal(vma("{start: 0, size: 8KiB, prot: rw, kind: stack}"),
                          {"a stack at 0x0 has no room for its guard page below"});
    // In process: what is accepted at the edges of the address spaces.
    auto check = [](const std::string& format, const std::string& v) {
        const tlmmu::PteFormat f = tlmmu::PteFormat::fromName(format);
        tlmmu::Scenario::fromText("processes:\n  - name: a\n    workload: {}\n    vmas:\n      - " +
                                      v + "\n",
                                  "s.yaml", 1, f, 1, false);
    };
    EXPECT_NO_THROW(check("x86_32", "{start: 0x7ffff000, size: 8KiB, prot: rw}")); // no hole
    EXPECT_NO_THROW(check("x86_64", "{start: 0x7fffffffe000, size: 8KiB, prot: rw}"));
    EXPECT_NO_THROW(check("x86_64", "{start: 0xffff800000000000, size: 8KiB, prot: rw}"));
    EXPECT_THROW(check("x86_64", "{start: 0xffff7ffffffff000, size: 8KiB, prot: rw}"),
                 tlmmu::InputError);
    EXPECT_NO_THROW(check("x86_64", "{start: 0x1000, size: 8KiB, prot: rw, kind: stack}"));
    // Events' ranges too.
    expectScenarioRefusal("processes:\n  - name: a\n    workload: {}\n    events:\n"
                          "      - {at: 1, map: {start: 0x800000000000, size: 4KiB, prot: rw}}\n",
                          {"5: processes[0].events[0].map: [0x800000000000", "outside"});
}

// --- 8. keys without effect ---------------------------------------------------------------------

// A key set where it can have no effect: one warning line naming it and why (exit 0), and
// --strict refuses it (exit 2) with the same words.
TEST_F(BadInput, KeysWithoutEffectWarnOnceAndStrictRefusesThem) {
    write("s.yaml", "processes:\n  - {name: a, workload: {instructions: 1000}}\n");
    write("t.lackey", "I  00400000,4\n");
    const auto check = [&](const std::string& yaml, std::initializer_list<std::string> words) {
        const std::string cfg = write("system.yaml", yaml);
        const Result r = run("--config " + cfg + " -q");
        EXPECT_EQ(r.exit_code, 0) << r.err;
        expectOneLine(r.err, "tlmmu: warning: keys without effect (--strict refuses them): ", words,
                      cfg);
        expectRefusal(yaml, words, 2, "--strict");
    };
    check("workload: {scenario: s.yaml, trace: t.lackey}\n",
          {"CFG:1: workload.trace has no effect: it applies when workload.scenario is not set"});
    check("workload: {scenario: s.yaml, synthetic: {instructions: 5}}\n",
          {"CFG:1: workload.synthetic.instructions has no effect: it applies when "
           "workload.scenario is not set"});
    check("workload: {scenario: s.yaml, checked: true}\n",
          {"CFG:1: workload.checked has no effect: it applies when workload.scenario is not set"});
    check("workload: {trace: t.lackey}\n",
          {"CFG:1: workload.trace has no effect: it applies when workload.format is not "
           "synthetic; workload.format is synthetic"});
    check("workload: {format: lackey, trace: t.lackey, synthetic: {pattern: zipf}}\n",
          {"CFG:1: workload.synthetic.pattern has no effect: it applies when workload.format is "
           "synthetic; workload.format is lackey"});
    check("workload: {synthetic: {pattern: random, stride: 128}}\n",
          {"CFG:1: workload.synthetic.stride has no effect: it applies when "
           "workload.synthetic.pattern is strided; workload.synthetic.pattern is random"});
    check("tlb: {l1d: {waveform: x.vcd}}\n",
          {"CFG:1: tlb.l1d.waveform has no effect: it applies when tlb.l1d.impl is rtl; "
           "tlb.l1d.impl is model"});
    check("tlb: {l2: {entries: 0, replacement: fifo}}\n",
          {"CFG:1: tlb.l2.replacement has no effect: it applies when tlb.l2.entries is not 0"});
    check("swap: {slots: 0, latency_cycles: 5}\n",
          {"CFG:1: swap.latency_cycles has no effect: it applies when swap.slots is not 0"});
    check("mmu: {generic: {levels: 4}}\n",
          {"CFG:1: mmu.generic.levels has no effect: it applies when mmu.format is generic; "
           "mmu.format is x86_64"});
    // In a scenario's workload.
    check("workload: {scenario: " +
              write("f.yaml", "processes:\n  - {name: a, workload: {format: "
                              "lackey, trace: t.lackey, footprint: 1MiB}}\n") +
              "}\n",
          {"f.yaml:2: processes[0].workload.footprint has no effect: it applies when "
           "processes[0].workload.format is synthetic; processes[0].workload.format is lackey"});
    // Several: one line naming all of them.
    const std::string cfg = write("system.yaml", "tlb: {l1d: {waveform: x.vcd}}\n");
    const Result r = run("--config " + cfg + " -q --set firmware.fork_cycles=7");
    EXPECT_EQ(r.exit_code, 0);
    expectOneLine(r.err, "tlmmu: warning: ",
                  {"CFG:1: tlb.l1d.waveform has no effect",
                   "; --set firmware.fork_cycles: firmware.fork_cycles has no effect: it applies "
                   "when workload.scenario is set"},
                  cfg);
}

// A preset describes hardware that a workload may not exercise: silent. A key of the file that
// --set makes moot is silent too.
TEST_F(BadInput, PresetsRunEveryWorkloadSilently) {
    write("t.lackey", "I  00400000,4\n L 10000000,8\n");
    const std::string scenarios = std::string(TLMMU_SOURCE_DIR) + "/configs/scenarios/";
    // Each calibrated preset with a trace and a scenario; milan.yaml (broadcast invalidation)
    // also with IPIs, the other mechanism its study runs.
    for (const std::string name : {"haswell", "milan"}) {
        const std::string preset = std::string(TLMMU_SOURCE_DIR) + "/configs/" + name + ".yaml";
        Result r = run("--config " + preset +
                       " -q --set workload.format=lackey --set workload.trace=" + dir_ +
                       "/t.lackey --set core.max_instructions=1");
        EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
        EXPECT_EQ(r.err, "") << name;
        r = run("--config " + preset + " -q --strict --set workload.scenario=" + scenarios +
                "madvise-1.yaml");
        EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
        EXPECT_EQ(r.err, "") << name;
    }
    const std::string milan = std::string(TLMMU_SOURCE_DIR) + "/configs/milan.yaml";
    Result r = run("--config " + milan + " -q --strict --set cores=2 --set workload.scenario=" +
                   scenarios + "madvise-2.yaml --set firmware.shootdown.mechanism=ipi");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    const std::string single = std::string(TLMMU_SOURCE_DIR) + "/configs/single.yaml";
    r = run("--config " + single +
            " -q --strict --set workload.format=lackey --set workload.trace=" + dir_ + "/t.lackey");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
}

// Mechanism broadcast sends no IPI: the IPI options set true, the injections that would leave
// nothing stale, too few ASIDs for one global ASID per core, and the invalidation controller's
// timing with mechanism ipi (no effect) are refused, naming the keys.
TEST_F(BadInput, DirectedAndBroadcastRefuseWhatHasNoEffectWithThem) {
    const std::string bcast = "cores: 2\nfirmware: {shootdown: {mechanism: broadcast, ";
    for (const std::string mechanism : {"directed", "broadcast"}) {
        const std::string m = "cores: 2\nfirmware: {shootdown: {mechanism: " + mechanism + ", ";
        for (const char* key : {"early_ack", "concurrent_flush", "lazy_tlb"})
            expectRefusal(m + key + ": true}}\n",
                          {std::string("CFG:2: firmware.shootdown.") + key +
                           ": true is refused: an IPI option; firmware.shootdown.mechanism " +
                           mechanism + " sends no IPI"});
        expectRefusal(m + "inject: skip_ack_wait}}\n",
                      {"CFG:2: firmware.shootdown.inject: skip_ack_wait is refused: there are no "
                       "acknowledgements without IPIs"});
    }
    for (const char* inject : {"skip_local_flush"})
        expectRefusal(bcast + "inject: " + inject + "}}\n",
                      {std::string("CFG:2: firmware.shootdown.inject: ") + inject +
                       " is refused: it would leave nothing stale with mechanism broadcast"});
    expectRefusal("cores: 4\nmmu: {asid_bits: 2}\n"
                  "firmware: {shootdown: {mechanism: broadcast}}\n",
                  {"CFG:2: mmu.asid_bits: 2 is refused: too few ASIDs for mechanism broadcast "
                   "(one global ASID per address space): at least one per core is needed"});
    expectRefusal("cores: 2\ninvalidation: {hop_cycles: 5}\n",
                  {"CFG:2: invalidation.hop_cycles has no effect: it applies when "
                   "firmware.shootdown.mechanism is not ipi"},
                  2, "--strict");
    // What applies is accepted: false options, skip_remote_flush, the timing, batch, ceiling.
    const std::string cfg =
        write("system.yaml", kSmallSynthetic + bcast +
                                 "early_ack: false, inject: skip_remote_flush, batch: false, "
                                 "flush_ceiling: 4}}\ninvalidation: {base_cycles: 10, "
                                 "hop_cycles: 2}\n");
    const Result r = run("--config " + cfg + " -q");
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(BadInput, KeysThatApplyOrAreOverriddenAreAccepted) {
    // Swap and the memory limit are not refused without a scenario (every run goes through the
    // memory manager); an empty waveform is "none"; a default is not a choice.
    const std::string cfg =
        write("system.yaml", kSmallSynthetic + "swap: {slots: 16}\ntlb: {l1d: {waveform: \"\"}}\n");
    Result r = run("--config " + cfg + " -q");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    // A file key that --set makes ineffective is silent: the command line changed the system.
    write("t.lackey", "I  00400000,4\n L 10000000,8\n");
    r = run("--config " + cfg +
            " -q --strict --set workload.format=lackey --set workload.trace=" + dir_ + "/t.lackey");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
}

// --- 9. simulated time --------------------------------------------------------------------------

TEST_F(BadInput, SimulatedTimeNeverWrapsSilently) {
    // Refused before the run: a configured delay beyond 2^62 ps.
    expectRefusal(kSmallSynthetic + "core: {frequency_ghz: 0.001, data_latency_cycles: 1000000}\n"
                                    "sim: {quantum_cycles: 10000000000000}\n",
                  {"CFG:3: sim.quantum_cycles: 10000000000000 cycles at 0.001 GHz (1000000 ps a "
                   "cycle) is beyond the 2^62 ps"});
    // Found during the run: a slow clock and a huge swap latency take time past 2^63 ps.
    const std::string cfg = std::string(TLMMU_SOURCE_DIR) + "/configs/default.yaml";
    const Result r =
        run("--config " + cfg + " -q --set core.frequency_ghz=0.001 --set swap.latency_cycles=" +
            std::to_string(std::uint64_t{1} << 40));
    EXPECT_EQ(r.exit_code, 1);
    expectOneLine(r.err, "tlmmu: error: ",
                  {"simulated time overflow", "would pass 2^63 ps", "raise core.frequency_ghz"});
}

// --- 10. --print-config, --list-keys -------------------------------------------------------------

TEST_F(BadInput, PrintConfigRoundTripsToIdenticalStatistics) {
    for (const std::string& base : {std::string("default.yaml"), std::string("single.yaml")}) {
        const std::string cfg = std::string(TLMMU_SOURCE_DIR) + "/configs/" + base;
        const std::string small = base == "single.yaml"
                                      ? " --set workload.synthetic.instructions=20000"
                                      : " --set core.max_instructions=50000";
        Result r = run("--config " + cfg + small + " --print-config");
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const std::string printed = write("printed.yaml", r.out);
        EXPECT_NE(r.out.find("memory:"), std::string::npos); // defaults included
        ASSERT_EQ(run("--config " + cfg + small + " -q --stats-json " + dir_ + "/a.json").exit_code,
                  0);
        r = run("--config " + printed + " -q --stats-json " + dir_ + "/b.json");
        ASSERT_EQ(r.exit_code, 0) << r.err;
        auto a = nlohmann::json::parse(std::ifstream(dir_ + "/a.json"));
        auto b = nlohmann::json::parse(std::ifstream(dir_ + "/b.json"));
        // (Paths are printed absolute; the base configuration is given by an absolute path, so
        // its scenario path is absolute too.)
        EXPECT_EQ(a.dump(), b.dump()) << base;
        // And printing it again gives the same text.
        EXPECT_EQ(run("--config " + printed + " --print-config").out, slurp(printed));
    }
}

TEST_F(BadInput, ListKeysGivesTypeDefaultAllowedAndMeaning) {
    Result r = run("--list-keys-json");
    ASSERT_EQ(r.exit_code, 0);
    const auto keys = nlohmann::json::parse(r.out);
    EXPECT_GT(keys.size(), 50u);
    for (auto it = keys.begin(); it != keys.end(); ++it) {
        EXPECT_FALSE((*it)["meaning"].get<std::string>().empty()) << it.key() << " has no meaning";
        EXPECT_FALSE((*it)["type"].get<std::string>().empty()) << it.key();
        EXPECT_FALSE((*it)["allowed"].get<std::string>().empty()) << it.key();
    }
    EXPECT_EQ(keys["mmu.format"]["allowed"],
              "sv39, sv48, sv57, x86_64, x86_64_5level, x86_32, generic");
    EXPECT_EQ(keys["cores"]["type"], "integer");
    EXPECT_EQ(keys["cores"]["default"], 1);
    r = run("--list-keys");
    ASSERT_EQ(r.exit_code, 0);
    EXPECT_NE(r.out.find("tlb.l1d.entries  (integer, default 64 entries; [0, 1048576]"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("l1d TLB: entries (0 = level absent)"), std::string::npos);
}

} // namespace
