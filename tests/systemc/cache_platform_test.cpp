// The cache hierarchy in the whole platform: page walks through the caches (where each PTE read
// was served), the keys refused with their names, one shootdown's coherence transfers with one
// and with three targets, and, with the hierarchy on, shootdown latency independent of the
// quantum, the same statistics for the same seed, the checker's verdicts unchanged. One TEST per
// process (one elaboration each); a second run goes through the tlmmu program.
#include <fstream>
#include <sstream>

#include "ShootdownScenarios.h"

#include "SystemTestUtil.h"

namespace tlmmu::test {
namespace {

// 4-cycle L1D, 12-cycle L2, 40-cycle LLC, 60-cycle transfers; 100-cycle memory behind them.
const char* kCaches = R"(
cache:
  l1d: {size: 32KiB, ways: 8, latency_cycles: 4}
  l2: {size: 256KiB, ways: 8, latency_cycles: 12}
  llc: {size: 1MiB, ways: 16, latency_cycles: 40}
  coherence: {transfer_cycles: 60}
)";

// One core, no L2 TLB, no PWC, prefaulted (A bits set: walks only read), 150-cycle memory: a
// code page and two neighbouring data pages, each walked once.
SystemConfig threeWalks() {
    return makeSystem(
        std::string(kSeedSystem) + kCaches,
        {"workload.synthetic.pattern=strided", "workload.synthetic.stride=4096",
         "workload.synthetic.footprint=8KiB", "workload.synthetic.data_base=0x10000000",
         "workload.synthetic.code_base=0x400000", "workload.synthetic.code_footprint=64",
         "workload.synthetic.instructions=4", "workload.synthetic.refs_per_instruction=1",
         "workload.synthetic.write_fraction=0"});
}

TEST(CachePlatform, SecondWalkOfANeighbouringPageIsServedFromL1d) {
    const nlohmann::json s = runSystem(threeWalks());
    const auto& w = s["cores"][0]["walker"];
    ASSERT_EQ(u(w["walks"]), 3u);
    EXPECT_EQ(u(w["memory_writes"]), 0u);
    // Walk 1 (code, 0x400000): all four levels miss everywhere: 4 x (4 + 12 + 40 + 150) = 824.
    // Walk 2 (0x10000000): its PML4 and PDPT entries are walk 1's (index 0 both), L1D hits;
    // its PD entry (index 128, not 2) and its PT are new lines: 2 x 4 + 2 x 206 = 420.
    // Walk 3 (0x10001000): every entry in a line walk 2 read, PT entry 1 next to entry 0: 16.
    const auto& by = w["pte_reads_by_level"];
    EXPECT_EQ(u(by["l1d"]), 6u);
    EXPECT_EQ(u(by["memory"]), 6u);
    EXPECT_EQ(u(by["l2"]) + u(by["llc"]) + u(by["remote"]), 0u);
    EXPECT_EQ(u(w["latency"]["max"]), 824u);
    EXPECT_EQ(u(w["latency"]["min"]), 16u);
    EXPECT_EQ(u(w["cycles"]), 824u + 420u + 16u);
    const auto& c = s["cores"][0]["cache"];
    EXPECT_EQ(u(c["l1d"]["accesses"]), 12u);
    EXPECT_EQ(u(c["l1d"]["misses"]), 6u);
    EXPECT_EQ(u(c["l2"]["misses"]), 6u);
    EXPECT_EQ(u(s["cache"]["llc"]["misses"]), 6u);
    EXPECT_EQ(u(s["cores"][0]["cpi_stack"]["data"]), 0u); // cache.data off: data is free
}

// With an L1I, fetches go through it once per line they enter: the four 4-byte instructions at
// 0x400000 share one line, so one L1I access (a miss: 4 + 12 + 40 + 150 cycles, of which the
// pipeline hides the L1I's 4), and the CPI stack's data column holds the rest.
TEST(CachePlatform, FetchesEnterTheL1iOncePerLine) {
    SystemConfig c = threeWalks();
    c.caches.l1i = c.caches.l1d; // 32 KiB, 8 ways, 4 cycles
    const nlohmann::json s = runSystem(c);
    const auto& l1i = s["cores"][0]["cache"]["l1i"];
    EXPECT_EQ(u(l1i["accesses"]), 1u);
    EXPECT_EQ(u(l1i["misses"]), 1u);
    EXPECT_EQ(u(s["cores"][0]["cpi_stack"]["data"]), 12u + 40u + 150u);
}

// The timeline's "LLC misses" track: per quantum, the lines memory served. The three walks
// (1264 cycles, inside the first 10000-cycle quantum) fetched 6 lines from memory: one sample
// at 0, and the fall back to 0 where the core ends (1264 cycles = 0.632 us at 2 GHz).
TEST(CachePlatform, TimelineDrawsLlcMissesPerQuantum) {
    Platform platform(threeWalks());
    platform.enableTimeline(0, 0);
    platform.run();
    ASSERT_EQ(platform.error(), "");
    std::vector<std::pair<double, double>> samples;
    const nlohmann::json timeline = platform.timelineJson();
    for (const auto& e : timeline["traceEvents"])
        if (e["ph"] == "C" && e["name"] == "LLC misses (core0)")
            samples.emplace_back(e["ts"].get<double>(), e["args"]["value"].get<double>());
    ASSERT_EQ(samples.size(), 2u);
    EXPECT_EQ(samples[0], std::make_pair(0.0, 6.0));
    EXPECT_DOUBLE_EQ(samples[1].first, 0.632);
    EXPECT_EQ(samples[1].second, 0.0);
    EXPECT_EQ(u(platform.stats().toJson()["cores"][0]["cache"]["memory_lines"]), 6u);
}

TEST(CachePlatform, ImpossibleGeometriesAreRefusedNamingTheKey) {
    auto refused = [](const std::string& yaml) {
        try {
            makeSystem(yaml);
        } catch (const InputError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_EQ(refused("cache: {l1d: {size: 32KiB}, l2: {size: 256KiB, line_bytes: 128}}\n"),
              "test.yaml:1: cache.l2.line_bytes: 128 differs from cache.l1d.line_bytes 64 (every "
              "level has the same line size)");
    EXPECT_EQ(refused("cache:\n  l1d: {size: 48KiB, ways: 8}\n"),
              "test.yaml:2: cache.l1d.size: 49152 bytes make 96 sets of 8 ways x 64 bytes, not a "
              "power of two");
    EXPECT_EQ(refused("cache:\n  llc: {size: 1000}\n"),
              "test.yaml:2: cache.llc.size: 1000 is not a multiple of cache.llc.ways x "
              "cache.llc.line_bytes (16 x 64)");
    EXPECT_EQ(refused("walker: {cache_level: l3}\n"),
              "test.yaml:1: walker.cache_level: expected one of l1d, l2, llc, memory, got 'l3'");
}

// Thread 0 discards the page its stream (and every thread's) left at instruction 512, at its
// instruction 2000; every page was prefaulted and each core stops after 3000 instructions, so
// the discard and its shootdown are the only firmware in the run (without the discard the run
// moves no line between cores at all).
const char* kDiscard =
    "        events:\n          - {at: 2000, discard: {start: 0x10000000, size: 4KiB}}\n";
std::string oneDiscard(unsigned cores, const std::string& events) {
    std::ostringstream s;
    s << "processes:\n  - name: app\n    vmas:\n"
      << "      - {start: 0x400000, size: 64KiB, prot: rx}\n"
      << "      - {start: 0x10000000, size: 64KiB, prot: rw}\n    threads:\n";
    for (unsigned t = 0; t < cores; ++t) {
        s << "      - core: " << t << "\n        workload: {pattern: stream, footprint: 64KiB, "
          << "data_base: 0x10000000, code_footprint: 4KiB, instructions: 4000, "
          << "refs_per_instruction: 1, write_fraction: 0}\n";
        if (t == 0) s << events;
    }
    return system(cores, s.str(), kCaches);
}
const std::vector<std::string> kOneDiscardSets = {
    "core.max_instructions=3000", "workload.prefault=true", "checker.fail_on_violation=true"};

// One discard on `cores` cores: its shootdown's transfers and latency, no violation; the same
// run without the discard moves no line.
void expectOneShootdown(unsigned cores, std::uint64_t transfers, std::uint64_t latency) {
    const nlohmann::json s = runSystem(makeSystem(oneDiscard(cores, kDiscard), kOneDiscardSets));
    ASSERT_EQ(u(s["shootdown"]["count"]), 1u);
    EXPECT_EQ(u(s["cache"]["coherence"]["transfers"]), transfers);
    EXPECT_EQ(u(s["shootdown"]["latency"]["max"]), latency);
    EXPECT_EQ(u(s["checker"]["violations"]), 0u);
    std::string args;
    for (const std::string& set : kOneDiscardSets)
        args += " --set " + set;
    const nlohmann::json none = runProgram(oneDiscard(cores, ""), args);
    EXPECT_EQ(u(none["cache"]["coherence"]["transfers"]), 0u);
}

// The protocol area keeps every word in a line of its own (firmware/kernel/internal.h). The
// target reads its pending word (Modified by the initiator's CAS: transfer 1), claims it by
// CAS (an upgrade, no transfer), reads the request (Modified by the initiator: transfer 2),
// flushes and writes its acknowledgement (the initiator's polls hold that line Shared: an
// upgrade), which the initiator's next poll takes back (transfer 3); its next walk reads the
// page-table line the initiator cleared the PTE in (transfer 4).
TEST(CachePlatform, OneShootdownWithOneTargetMovesFourLines) {
    expectOneShootdown(2, 4, 1932);
}

// Three targets: each target's pending line (3), the request once (the first reader; the
// others read it Shared), each target's acknowledgement line back to the initiator (3), the
// page-table line once (the first walk after the flush): 8, each 60 cycles on top of the
// levels' latencies.
TEST(CachePlatform, OneShootdownWithThreeTargetsMovesEightLines) {
    expectOneShootdown(4, 8, 2452);
}

// The madvise benchmark on the Haswell preset (4 threads, 1000 discards): each shootdown moves
// at least its pending word and its acknowledgement between the initiator and each target.
TEST(CachePlatform, MadviseMovesAtLeastTwoLinesPerTarget) {
    const std::string dir = std::string(TLMMU_SOURCE_DIR) + "/configs/";
    std::stringstream preset;
    preset << std::ifstream(dir + "haswell.yaml").rdbuf();
    const nlohmann::json m =
        runProgram(preset.str(), "--set checker.enabled=true --set workload.scenario=" + dir +
                                     "scenarios/madvise.yaml");
    ASSERT_EQ(u(m["shootdown"]["count"]), 1000u);
    EXPECT_GE(u(m["cache"]["coherence"]["transfers"]), 2u * 3u * 1000u);
    EXPECT_EQ(u(m["checker"]["violations"]), 0u);
}

// With the hierarchy on (walks and firmware through it), ten discards of thread 0's page while
// three other threads run: the shootdown latencies are the same whatever the quantum (what the
// firmware shares synchronises before it crosses), and the same seed gives the same statistics
// byte for byte. Thread 0 touches its page again before each discard and the others stream
// elsewhere: whether another thread's walk reads a PTE before or after a discard clears it is
// decided at the quantum's grain (walks read page tables without synchronising), so a page the
// others shared would be faulted back a quantum-dependent number of times. The pages are
// prefaulted, so no target is inside a fault handler when an IPI comes: it would take it when
// the handler next synchronises, at the quantum's grain too.
TEST(CachePlatform, ShootdownLatencyDoesNotDependOnTheQuantumAndRunsRepeat) {
    std::ostringstream s;
    s << "processes:\n  - name: app\n    vmas:\n"
      << "      - {start: 0x400000, size: 64KiB, prot: rx}\n"
      << "      - {start: 0x10000000, size: 64KiB, prot: rw}\n    threads:\n";
    for (unsigned t = 0; t < 4; ++t) {
        s << "      - core: " << t << "\n        workload: {pattern: stream, code_footprint: 4KiB, "
          << (t == 0 ? "footprint: 4KiB, data_base: 0x10002000, refs_per_instruction: 2, "
                     : "footprint: 16KiB, data_base: 0x10008000, refs_per_instruction: 1, ")
          << "instructions: 4000, write_fraction: 0}\n";
        if (t == 0)
            s << "        events: [{at: 500, every: 300, count: 10, "
                 "discard: {start: 0x10002000, size: 4KiB}}]\n";
    }
    const std::string cfg = system(4, s.str(), kCaches);
    const std::string prefault = "--set workload.prefault=true ";
    const auto a = runProgram(cfg, prefault + "--set sim.quantum_cycles=100");
    const auto b = runProgram(cfg, prefault + "--set sim.quantum_cycles=10000");
    EXPECT_EQ(u(a["shootdown"]["count"]), 10u);
    EXPECT_GT(u(a["cache"]["coherence"]["transfers"]), 0u);
    EXPECT_EQ(a["shootdown"]["latency"], b["shootdown"]["latency"]);
    EXPECT_EQ(a["shootdown"]["count"], b["shootdown"]["count"]);
    EXPECT_EQ(runProgram(cfg).dump(), runProgram(cfg).dump());
}

// The stress run (ShootdownScenarios.h: 8 threads, every kind of event, swapping, checked mode)
// with the hierarchy on and data through it: it completes, the checker sees no stale translation
// used and checked mode no wrong data, as without caches.
TEST(CachePlatform, StressRunIsSafeAndCheckedWithCaches) {
    const auto r = runProgram(stressSystem() + kCaches + "  data: true\n", kStressSets);
    EXPECT_GT(u(r["shootdown"]["count"]), 50u);
    EXPECT_GT(u(r["processes"]["app"]["firmware"]["swap_outs"]), 0u);
    EXPECT_GT(u(r["cache"]["coherence"]["transfers"]), 0u);
    EXPECT_EQ(u(r["checker"]["violations"]), 0u) << r["checker"]["first_violation"];
    EXPECT_EQ(u(r["processes"]["app"]["data_mismatches"]), 0u);
    EXPECT_EQ(u(r["processes"]["child"]["data_mismatches"]), 0u);
    EXPECT_EQ(u(r["processes"]["app"]["instructions"]), 7u * 20000 + 15000);
    EXPECT_EQ(u(r["processes"]["child"]["instructions"]), 10000u);
}

} // namespace
} // namespace tlmmu::test
