// Killing a process with several threads (issue 16 A), run as a user runs it: the tlmmu program
// on a scenario, its exit code, its words and its statistics. A kill is Linux's group exit: every
// thread stops (a reschedule IPI to each core running one), the address space goes only once
// none runs in it, the other processes run on; the teardown takes interrupts between chunks; an
// eviction that finds only locked pages waits instead of killing.
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "ProgramTest.h"

namespace tlmmu::test {
namespace {

class Kill : public ProgramTest {
  protected:
    // Runs `scenario` on two cores (checker on, violations counted, not fatal); the statistics.
    nlohmann::json runScenario(const std::string& scenario, ProgramResult& r,
                               const std::string& sets = "") {
        write("s.yaml", scenario);
        const std::string cfg =
            write("c.yaml", "cores: 2\n"
                            "mmu: {format: x86_64, asid_bits: 16}\n"
                            "memory: {size: 256MiB, latency_cycles: 150}\n"
                            "interconnect: {latency_cycles: 10}\n"
                            "sched: {time_slice_cycles: 200000}\n"
                            "workload: {scenario: s.yaml}\n"
                            "checker: {enabled: true, fail_on_violation: false}\n");
        r = run("--config " + cfg + " --stats-json " + dir_ + "/s.json " + sets);
        return nlohmann::json::parse(slurp(dir_ + "/s.json"));
    }
    static bool has(const std::string& text, const std::string& words) {
        return text.find(words) != std::string::npos;
    }
};

// Process q beside p's second thread on core 1, so that the kill's IPI finds p.t1 running.
const char* const kOtherProcess = R"(  - name: q
    core: 1
    vmas:
      - {start: 0x400000, size: 64KiB, prot: rx}
      - {start: 0x10000000, size: 256KiB, prot: rw}
    workload: {pattern: random, footprint: 256KiB, data_base: 0x10000000, instructions: 100000,
               refs_per_instruction: 0.5, write_fraction: 0.5, checked: true}
)";

// Process p: code, 256 KiB of data with `prot` at 0x30000000, two threads (their YAML entries),
// and q beside its second thread.
std::string twoThreads(const std::string& prot, const std::string& t0, const std::string& t1) {
    return "processes:\n  - name: p\n    vmas:\n"
           "      - {start: 0x400000, size: 64KiB, prot: rx}\n"
           "      - {start: 0x30000000, size: 256KiB, prot: " +
           prot + "}\n    threads:\n" + t0 + t1 + kOtherProcess;
}

// p.t0 protects the data read-only, then stores to it; p.t1 reads it meanwhile on core 1. It used
// to run on in the freed frames (3411 stale uses), then panic switching to p.t1.
TEST_F(Kill, AThreadKilledWhileAnotherRunsStopsBothBeforeTheMemoryGoes) {
    ProgramResult r;
    const auto s = runScenario(twoThreads("rw", R"(      - core: 0
        workload: {pattern: random, footprint: 256KiB, data_base: 0x30000000, instructions: 100000,
                   refs_per_instruction: 0.5, write_fraction: 0.5, checked: true}
        events:
          - {at: 20000, protect: {start: 0x30000000, size: 256KiB, prot: r}}
)",
                                          R"(      - core: 1
        workload: {pattern: random, footprint: 256KiB, data_base: 0x30000000, instructions: 100000,
                   refs_per_instruction: 0.5, write_fraction: 0.0, checked: true}
)"),
                               r);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_TRUE(has(r.out, "process p.t0 killed: write to a read-only mapping (permission fault "
                           "on write at VA 0x300381b8)\n"))
        << r.out;
    EXPECT_TRUE(has(r.out, "process p.t1 killed with its process: write to a read-only "
                           "mapping\n"))
        << r.out;
    EXPECT_TRUE(has(r.out, "checker: 0 uses of stale translations")) << r.out;
    EXPECT_EQ(s["checker"]["violations"], 0);
    EXPECT_EQ(s["firmware"]["kills"], 1);
    EXPECT_EQ(s["firmware"]["kill_ipis"], 1); // core 1 ran p.t1 at the kill
    const auto& p = s["processes"]["p"];
    EXPECT_EQ(p["killed"], "process p.t0 killed: write to a read-only mapping (permission fault "
                           "on write at VA 0x300381b8)");
    EXPECT_EQ(p["threads"][1]["killed"],
              "process p.t1 killed with its process: write to a read-only mapping");
    EXPECT_EQ(p["threads"][0]["instructions"], 20002);
    EXPECT_EQ(p["threads"][1]["instructions"], 82870); // up to the IPI after the kill
    EXPECT_EQ(p["firmware"]["faults"]["protection"], 1);
    EXPECT_EQ(p["threads"][1]["data_mismatches"], 0);
    EXPECT_EQ(s["processes"]["q"]["instructions"], 100000); // runs on
    EXPECT_EQ(s["processes"]["q"]["killed"], false);
    EXPECT_EQ(s["memory"]["page_table_bytes"], 0); // both torn down in the end
}

// Both threads store to a read-only VMA at once, one per core: one kill, the other thread ends
// with it (its fault finds the process killed), q runs on.
TEST_F(Kill, AProcessKilledOnTwoCoresAtOnceIsKilledOnce) {
    ProgramResult r;
    const std::string writer =
        R"(        workload: {pattern: stream, footprint: 256KiB, data_base: 0x30000000, instructions: 1000,
                   refs_per_instruction: 1, write_fraction: 1}
)";
    const auto s =
        runScenario(twoThreads("r", "      - core: 0\n" + writer, "      - core: 1\n" + writer), r);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_TRUE(has(r.out, "process p.t0 killed: write to a read-only mapping (not_present fault "
                           "on write at VA 0x30000000)\n"))
        << r.out;
    EXPECT_TRUE(has(r.out, "process p.t1 killed with its process: write to a read-only "
                           "mapping\n"))
        << r.out;
    EXPECT_EQ(s["checker"]["violations"], 0);
    EXPECT_EQ(s["firmware"]["kills"], 1);
    EXPECT_EQ(s["firmware"]["kill_ipis"], 1);
    EXPECT_EQ(s["processes"]["p"]["firmware"]["faults"]["protection"], 1);
    EXPECT_EQ(s["processes"]["q"]["instructions"], 100000);
}

// The default system with one data frame, app on both cores at once: it used to panic
// "switching to app.t1: invalid argument". client and app run out of memory for real (the one
// frame is taken); server, alone once they are gone, needs its code and its data page at once
// and goes on by swapping one out for the other (as Linux would until its OOM killer stepped
// in), so the run is capped.
TEST_F(Kill, TheDefaultSystemWithOneFrameKillsEachProcessOnceAndEnds) {
    const auto r = run("--config " + std::string(TLMMU_SOURCE_DIR) +
                       "/configs/default.yaml --set firmware.memory_limit_frames=1 "
                       "--set core.max_instructions=3000 --stats-json " +
                       dir_ + "/s.json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    for (const char* words :
         {"process client killed: out of memory (not_present fault on read at VA 0x20000000)\n",
          "process app.t1 killed: out of memory (not_present fault on execute at VA 0x400000)\n",
          "process app.t0 killed with its process: out of memory\n",
          "checker: 0 uses of stale translations"})
        EXPECT_TRUE(has(r.out, words)) << words << " in " << r.out;
    const auto s = nlohmann::json::parse(slurp(dir_ + "/s.json"));
    EXPECT_EQ(s["firmware"]["kills"], 2);
    EXPECT_EQ(s["firmware"]["kill_ipis"], 0);
    EXPECT_EQ(s["firmware"]["fault_retries"], 1); // a page locked by its owner's fault
    EXPECT_EQ(s["processes"]["server"]["instructions"], 3000);
    EXPECT_GT(s["firmware"]["swap_outs"].get<int>(), 1000);
    EXPECT_EQ(s["processes"]["worker"]["instructions"], 0); // its parent died before the fork
}

// A 4 MiB process on core 1 exits while app's thread on core 0 discards pages that core 1 may
// still cache: its shootdowns are acknowledged between chunks of the teardown. It waited out 9
// acknowledgement timeouts (911800 cycles) while the teardown kept interrupts off.
TEST_F(Kill, TeardownTakesInterruptsBetweenChunks) {
    ProgramResult r;
    const auto s = runScenario(R"(processes:
  - name: app
    vmas:
      - {start: 0x400000, size: 64KiB, prot: rx}
      - {start: 0x30000000, size: 256KiB, prot: rw}
    threads:
      - core: 0
        workload: {pattern: random, footprint: 256KiB, data_base: 0x30000000, instructions: 1000000,
                   refs_per_instruction: 0.5, write_fraction: 0.5}
        events:
          - {at: 10000, every: 2000, count: 450, discard: {start: 0x30000000, size: 4KiB}}
      - core: 1
        workload: {pattern: random, footprint: 256KiB, data_base: 0x30000000, instructions: 20000,
                   refs_per_instruction: 0.5, write_fraction: 0.5}
  - name: big
    core: 1
    vmas:
      - {start: 0x400000, size: 64KiB, prot: rx}
      - {start: 0x10000000, size: 4MiB, prot: rw}
    workload: {pattern: strided, stride: 4KiB, footprint: 4MiB, data_base: 0x10000000,
               instructions: 2048, refs_per_instruction: 1, write_fraction: 1}
)",
                               r);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(s["shootdown"]["count"], 450);
    EXPECT_EQ(s["shootdown"]["timeouts"], 0);
    EXPECT_EQ(s["shootdown"]["resends"], 0);
    EXPECT_EQ(s["cores"][0]["shootdown_latency"]["max"], 22600);
    EXPECT_EQ(s["checker"]["violations"], 0);
    EXPECT_TRUE(has(r.out, "shootdowns: 450 (450 pages, 450 IPIs, 0 ack timeouts)")) << r.out;
}

// Stress: p has 8 threads on 4 cores (checked), one of which protects the data read-only at
// 30000 instructions (the others' stores kill p) and one exits at 25000; q has a thread per core
// that discards pages. Without and with a memory limit that makes them swap (and contend for
// locks while evicting): one kill, every other running thread stopped by an IPI, no violation,
// no wrong load, q runs to its end.
TEST_F(Kill, EightThreadsWithAKillAndAnExitAmongTheEvents) {
    std::string scenario = "processes:\n  - name: p\n    vmas:\n"
                           "      - {start: 0x400000, size: 64KiB, prot: rx}\n"
                           "      - {start: 0x30000000, size: 256KiB, prot: rw}\n    threads:\n";
    const std::string load = "pattern: random, footprint: 256KiB, refs_per_instruction: 0.5, ";
    for (unsigned i = 0; i < 8; ++i) {
        scenario += "      - core: " + std::to_string(i % 4) + "\n        workload: {" + load +
                    "data_base: 0x30000000, instructions: 100000, write_fraction: 0.3, "
                    "checked: true}\n";
        if (i == 3)
            scenario += "        events: [{at: 30000, protect: {start: 0x30000000, size: 64KiB, "
                        "prot: r}}]\n";
        if (i == 5) scenario += "        events: [{at: 25000, exit: true}]\n";
    }
    scenario += "  - name: q\n    vmas:\n      - {start: 0x400000, size: 64KiB, prot: rx}\n"
                "      - {start: 0x10000000, size: 256KiB, prot: rw}\n    threads:\n";
    for (unsigned c = 0; c < 4; ++c)
        scenario += "      - core: " + std::to_string(c) + "\n        workload: {" + load +
                    "data_base: 0x10000000, instructions: 50000, write_fraction: 0.5, "
                    "checked: true}\n        events: [{at: 10000, every: 5000, count: 5, discard: "
                    "{start: 0x10000000, size: 16KiB}}]\n";
    for (const auto& [limit, ipis, retries] :
         std::vector<std::tuple<unsigned, unsigned, unsigned>>{{0, 6, 0}, {40, 3, 2417}}) {
        ProgramResult r;
        const auto s = runScenario(scenario, r,
                                   "--set cores=4 --set swap.slots=4096 "
                                   "--set firmware.memory_limit_frames=" +
                                       std::to_string(limit));
        EXPECT_EQ(r.exit_code, 0) << limit << r.err;
        EXPECT_EQ(s["firmware"]["kills"], 1) << limit;
        EXPECT_EQ(s["firmware"]["kill_ipis"], ipis) << limit;
        EXPECT_EQ(s["firmware"]["fault_retries"], retries) << limit;
        EXPECT_EQ(s["checker"]["violations"], 0) << limit;
        EXPECT_EQ(s["processes"]["p"]["data_mismatches"], 0) << limit;
        EXPECT_EQ(s["processes"]["q"]["data_mismatches"], 0) << limit;
        EXPECT_EQ(s["processes"]["q"]["instructions"], 200000) << limit;
        EXPECT_EQ(s["processes"]["q"]["killed"], false) << limit;
        EXPECT_NE(s["processes"]["p"]["killed"], false) << limit;
    }
}

} // namespace
} // namespace tlmmu::test
