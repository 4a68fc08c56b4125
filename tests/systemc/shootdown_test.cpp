// Threads on several cores and the TLB shootdown protocol on the whole platform: the timed
// steps of one shootdown read off the timeline (IPIs and broadcast), each injected fault caught,
// lost IPIs recovered, a failing core stopping the run, latency independent of the quantum,
// determinism. (The stress run under every variant: shootdown_variants_test.cpp.) One TEST per
// process.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "ShootdownScenarios.h"
#include "SystemTestUtil.h"

namespace tlmmu::test {
namespace {

struct Slice {
    unsigned core;
    double begin, end; // cycles (500 ps at the default 2 GHz)
};

std::map<std::string, std::vector<Slice>> slices(const nlohmann::json& timeline) {
    std::map<std::string, std::vector<Slice>> out;
    for (const auto& e : timeline["traceEvents"]) {
        if (e["ph"] != "X" && e["ph"] != "i") continue;
        // ts and dur are µs with ps digits: rounded to whole ps first, so that cycles compare
        // exactly.
        const auto cycles = [](double us) {
            return static_cast<double>(std::llround(us * 1e6)) / 500;
        };
        const double b = cycles(e["ts"].get<double>());
        const double d = e.contains("dur") ? cycles(e["dur"].get<double>()) : 0;
        out[e["name"].get<std::string>()].push_back({e["tid"].get<unsigned>(), b, b + d});
    }
    return out;
}

// A discard of 0x10002000 by thread 0 at its instruction 2000 with `threads` threads on as many
// cores (ShootdownScenarios.h), with `sets`: its statistics and its timeline's slices.
struct Traced {
    nlohmann::json stats;
    std::map<std::string, std::vector<Slice>> slices;
};
Traced traceOneDiscard(unsigned threads, const std::vector<std::string>& sets = {}) {
    Platform platform(makeSystem(
        system(threads,
               threadsScenario(
                   threads, "          - {at: 2000, discard: {start: 0x10002000, size: 4KiB}}\n")),
        sets));
    platform.enableTimeline(0, 0);
    platform.run();
    EXPECT_EQ(platform.error(), "");
    return {platform.stats().toJson(), slices(platform.timelineJson())};
}

// A discard of one page by thread 0 while three other threads run on cores 1-3, step by step.
// The initiator (after taking the lock and clearing the PTE: the shootdown's start) flushes
// locally, writes its request (3 words) and sets each target's pending bit (3 atomics): 600
// cycles; its IPI reaches the three cores 1000 cycles later, at once. A core takes it at its
// first instruction boundary at or after that cycle (one in the middle of a page walk finishes
// the walk first; one inside firmware, when it leaves it). Each target's
// interrupt: entry 200, its pending word read and cleared by an atomic (200), the handler (the
// request's 3 words read, the local flush, the acknowledgement written: 400), exit 100. The
// initiator's wait ends at a poll after the last acknowledgement.
TEST(Shootdown, DiscardWithThreeOtherThreadsStepByStep) {
    Traced r = traceOneDiscard(4);
    const auto& s = r.stats;
    auto& t = r.slices;
    ASSERT_EQ(t["shootdown"].size(), 1u);
    const Slice sd = t["shootdown"][0];
    EXPECT_EQ(sd.core, 0u);
    ASSERT_EQ(t["irq"].size(), 3u);
    const double irq = sd.begin + 600 + 1000;
    for (const Slice& i : t["irq"])
        EXPECT_EQ(i.begin, irq) << "core" << i.core;
    ASSERT_EQ(t["interrupt"].size(), 3u);
    ASSERT_EQ(t["shootdown handler"].size(), 3u);
    double last_ack = 0;
    for (unsigned c = 1; c <= 3; ++c) {
        const Slice* in = nullptr;
        for (const Slice& x : t["interrupt"])
            if (x.core == c) in = &x;
        ASSERT_NE(in, nullptr) << "core" << c;
        // At the IPI's cycle, or right after the firmware the core was in then.
        double expected = irq;
        for (const char* busy : {"fault not_present", "discard 0x10002000+4KiB"})
            for (const Slice& f : t[busy])
                if (f.core == c && f.begin <= irq && irq < f.end) expected = f.end;
        EXPECT_GE(in->begin, expected) << "core" << c;
        EXPECT_LE(in->begin - expected, 4 * 100) << "core" << c; // at most one page walk
        EXPECT_EQ(in->end - in->begin, 900) << "core" << c;
        for (const Slice& h : t["shootdown handler"])
            if (h.core == c) {
                EXPECT_EQ(h.begin, in->begin + 400) << "core" << c;
                EXPECT_EQ(h.end - h.begin, 400) << "core" << c;
                last_ack = std::max(last_ack, h.end);
            }
    }
    // The initiator sees the last acknowledgement at its next poll (3 reads and a 20-cycle step
    // at most).
    EXPECT_GT(sd.end, last_ack);
    EXPECT_LE(sd.end - last_ack, 3 * 100 + 20 + 100);
    EXPECT_EQ(u(s["shootdown"]["latency"]["sum"]), static_cast<std::uint64_t>(sd.end - sd.begin));
    EXPECT_EQ(u(s["shootdown"]["count"]), 1u);
    EXPECT_EQ(u(s["shootdown"]["ipis"]), 3u);
    EXPECT_EQ(u(s["cores"][0]["ipi"]["sent"]), 3u);
    for (unsigned c = 1; c <= 3; ++c) {
        EXPECT_EQ(u(s["cores"][c]["ipi"]["received"]), 1u);
        EXPECT_EQ(u(s["cores"][c]["cpi_stack"]["ipi"]), 900u);
    }
    EXPECT_EQ(u(s["checker"]["violations"]), 0u);
}

// The same discard with ONE other thread (cores 0 and 1), with the kernel's costs of the IPI path
// set and a timed invalidation, each part's cycles from those: from the shootdown's start (after
// the flush set-up, which comes before it) the initiator's local invalidation, its request (3
// words) and the target's pending bit (1 atomic) with one request set-up cost, then the send
// (one ICR write's cost); the IPI reaches core 1 the wire latency later. Its interrupt: entry,
// the pending word read and claimed (2 accesses), the shootdown vector's dispatch, then the
// handler (the request's 3 words, the target's invalidation, the acknowledgement), exit.
TEST(Shootdown, DiscardWithOneOtherThreadStepByStep) {
    constexpr double kMem = 100, kWire = 1000, kEntry = 200, kExit = 100; // system()'s
    constexpr double kInvalidate = 150, kFlushSetup = 70, kRequest = 50, kSend = 200,
                     kDispatch = 150;
    Traced r = traceOneDiscard(2, {"mmu.invalidate_page_cycles=150", "firmware.cost.flush_setup=70",
                                   "firmware.cost.ipi_request=50", "firmware.cost.ipi_send=200",
                                   "firmware.cost.irq_dispatch=150"});
    const auto& s = r.stats;
    auto& t = r.slices;
    ASSERT_EQ(t["shootdown"].size(), 1u);
    const Slice sd = t["shootdown"][0];
    EXPECT_EQ(sd.core, 0u);
    const double local = kInvalidate, request = 3 * kMem + 1 * kMem + 1 * kRequest;
    const double send = 1 * kSend; // one target: one ICR write
    ASSERT_EQ(t["irq"].size(), 1u);
    const double irq = sd.begin + local + request + send + kWire;
    EXPECT_EQ(t["irq"][0].core, 1u);
    EXPECT_EQ(t["irq"][0].begin, irq);
    ASSERT_EQ(t["interrupt"].size(), 1u);
    ASSERT_EQ(t["shootdown handler"].size(), 1u);
    const Slice in = t["interrupt"][0], h = t["shootdown handler"][0];
    EXPECT_EQ(in.core, 1u);
    EXPECT_EQ(h.core, 1u);
    // At the IPI's cycle, or right after the firmware core 1 was in then.
    double expected = irq;
    for (const Slice& f : t["fault not_present"])
        if (f.core == 1 && f.begin <= irq && irq < f.end) expected = f.end;
    EXPECT_GE(in.begin, expected);
    EXPECT_LE(in.begin - expected, 4 * kMem); // at most one page walk
    const double claim = 2 * kMem, handler = 3 * kMem + kInvalidate + kMem;
    EXPECT_EQ(h.begin, in.begin + kEntry + claim + kDispatch);
    EXPECT_EQ(h.end - h.begin, handler);
    EXPECT_EQ(in.end - in.begin, kEntry + claim + kDispatch + handler + kExit);
    // The initiator sees the acknowledgement at its next poll (one read and a 20-cycle step at
    // most).
    EXPECT_GT(sd.end, h.end);
    EXPECT_LE(sd.end - h.end, 1 * kMem + 20 + kMem);
    EXPECT_EQ(u(s["shootdown"]["latency"]["sum"]), static_cast<std::uint64_t>(sd.end - sd.begin));
    EXPECT_EQ(u(s["shootdown"]["count"]), 1u);
    EXPECT_EQ(u(s["shootdown"]["ipis"]), 1u);
    EXPECT_EQ(u(s["cores"][0]["ipi"]["sent"]), 1u);
    EXPECT_EQ(u(s["cores"][1]["ipi"]["received"]), 1u);
    EXPECT_EQ(u(s["cores"][1]["cpi_stack"]["ipi"]),
              static_cast<std::uint64_t>(kEntry + claim + kDispatch + handler + kExit));
    // The firmware's own account of the initiator's parts (cores[0].firmware_time.*).
    const auto& time = s["cores"][0]["firmware_time"];
    EXPECT_EQ(u(time["flush_setup"]), static_cast<std::uint64_t>(kFlushSetup)); // before the start
    EXPECT_EQ(u(time["flush_local"]), static_cast<std::uint64_t>(local));
    EXPECT_EQ(u(time["ipi_request"]), static_cast<std::uint64_t>(request));
    EXPECT_EQ(u(time["ipi_send"]), static_cast<std::uint64_t>(send));
    EXPECT_EQ(u(time["ack_wait"]),
              static_cast<std::uint64_t>(sd.end - (sd.begin + local + request + send)));
    EXPECT_EQ(u(s["cores"][1]["firmware_time"]["irq"]),
              static_cast<std::uint64_t>(kEntry + claim + kDispatch + handler + kExit));
    EXPECT_EQ(u(s["checker"]["violations"]), 0u);
}

// Runs the program and returns its statistics (a second system needs a second process).
// Measured latencies do not depend on the quantum: cores that exchange IPIs keep within the IPI
// latency of each other whatever the global quantum.
TEST(Shootdown, LatencyDoesNotDependOnTheQuantum) {
    const std::string events = "          - {at: 500, every: 300, count: 10, "
                               "discard: {start: 0x10002000, size: 4KiB}}\n";
    const std::string cfg = system(4, threadsScenario(4, events));
    const auto a = runProgram(cfg, "--set sim.quantum_cycles=100");
    const auto b = runProgram(cfg, "--set sim.quantum_cycles=10000");
    // (A discard of a page not mapped at that moment needs no shootdown.)
    EXPECT_GE(u(a["shootdown"]["count"]), 4u);
    EXPECT_EQ(a["shootdown"]["latency"], b["shootdown"]["latency"]);
    EXPECT_EQ(a["shootdown"]["count"], b["shootdown"]["count"]);
}

// The same configuration and seed give the same statistics, byte for byte.
TEST(Shootdown, SameSeedSameStatistics) {
    const std::string events = "          - {at: 500, every: 300, count: 10, "
                               "discard: {start: 0x10002000, size: 4KiB}}\n";
    const std::string cfg = system(4, threadsScenario(4, events));
    EXPECT_EQ(runProgram(cfg).dump(), runProgram(cfg).dump());
}

// Every core initiates at the same instruction count: each services the others' IPIs while it
// waits for its own acknowledgements, and all complete.
TEST(Shootdown, AllCoresInitiatingAtOnceComplete) {
    std::ostringstream s;
    s << "processes:\n  - name: app\n    vmas:\n"
      << "      - {start: 0x400000, size: 64KiB, prot: rx}\n"
      << "      - {start: 0x10000000, size: 64KiB, prot: rw}\n    threads:\n";
    for (unsigned t = 0; t < 4; ++t)
        s << "      - core: " << t << "\n        workload: {pattern: stream, footprint: 16KiB, "
          << "data_base: 0x10000000, code_footprint: 4KiB, instructions: 4000, "
          << "refs_per_instruction: 1, write_fraction: 0.5, checked: true}\n"
          << "        events:\n          - {at: 1000, every: 500, count: 4, discard: {start: "
          << 0x10000000 + 0x1000 * t << ", size: 4KiB}}\n";
    const auto r = runSystem(makeSystem(system(4, s.str())));
    for (unsigned c = 0; c < 4; ++c) // every core initiated, at the same instruction counts
        EXPECT_GE(u(r["cores"][c]["shootdown_latency"]["count"]), 1u) << "core" << c;
    EXPECT_EQ(u(r["processes"]["app"]["instructions"]), 16000u);
    EXPECT_EQ(u(r["checker"]["violations"]), 0u);
    EXPECT_EQ(u(r["processes"]["app"]["data_mismatches"]), 0u);
}

// ---- mechanism broadcast (issue 9) ----------------------------------------------------------

const std::string kBroadcast = "--set firmware.shootdown.mechanism=broadcast ";

// The one-page discard of DiscardWithThreeOtherThreadsStepByStep under broadcast, with a timed
// invalidation controller and a 3-cycle interconnect. The shootdown (from its start, after the
// PTE is cleared, to its end) is: the broadcast's six register writes (VA, ASID, KIND, TARGET,
// ISSUER, COMMAND), 3 cycles each through the interconnect, posted; then the sync (ISSUER and
// COMMAND), which ends when the broadcast has reached the 4th Mmu: base + 4 hops after the
// COMMAND write arrived. No memory access happens in between (no request, no ack), so the
// memory latency does not enter: 6 * 3 + 50 + 4 * 10 = 108 cycles.
TEST(Shootdown, BroadcastDiscardWithThreeOtherThreadsExactLatency) {
    const auto s = runProgram(
        system(4, threadsScenario(4, "          - {at: 2000, discard: {start: 0x10002000, size: "
                                     "4KiB}}\n")),
        kBroadcast + "--set invalidation.base_cycles=50 --set invalidation.hop_cycles=10 "
                     "--set interconnect.latency_cycles=3");
    EXPECT_EQ(u(s["shootdown"]["count"]), 1u);
    EXPECT_EQ(u(s["shootdown"]["latency"]["sum"]), 6u * 3 + 50 + 4 * 10);
    EXPECT_EQ(u(s["shootdown"]["broadcasts"]), 1u);
    EXPECT_EQ(u(s["invalidation"]["broadcasts"]), 1u);
    EXPECT_EQ(u(s["invalidation"]["syncs"]), 1u);
    EXPECT_EQ(u(s["invalidation"]["operations"]), 4u); // one per Mmu, the initiator's included
    EXPECT_EQ(u(s["shootdown"]["ipis"]), 0u);
    EXPECT_EQ(u(s["shootdown"]["handled"]), 0u);
    for (unsigned c = 0; c < 4; ++c) {
        EXPECT_EQ(u(s["cores"][c]["ipi"]["sent"]), 0u) << "core" << c;
        EXPECT_EQ(u(s["cores"][c]["ipi"]["received"]), 0u) << "core" << c;
    }
    EXPECT_EQ(u(s["checker"]["violations"]), 0u);
}

// The same discard with 2 and with 8 threads on as many cores: the broadcast reaches every Mmu,
// so its latency grows by one hop per core, exactly 6 hops from 2 to 8 cores.
TEST(Shootdown, BroadcastLatencyGrowsWithTheCores) {
    const std::string discard =
        "          - {at: 2000, discard: {start: 0x10002000, size: 4KiB}}\n";
    const std::string sets = kBroadcast + "--set invalidation.base_cycles=50 "
                                          "--set invalidation.hop_cycles=10";
    const auto two = runProgram(system(2, threadsScenario(2, discard)), sets);
    const auto eight = runProgram(system(8, threadsScenario(8, discard)), sets);
    ASSERT_EQ(u(two["shootdown"]["count"]), 1u);
    ASSERT_EQ(u(eight["shootdown"]["count"]), 1u);
    EXPECT_EQ(u(two["shootdown"]["latency"]["sum"]), 50u + 2 * 10);
    EXPECT_EQ(u(eight["shootdown"]["latency"]["sum"]) - u(two["shootdown"]["latency"]["sum"]),
              6u * 10);
    EXPECT_EQ(u(eight["invalidation"]["operations"]), 8u);
}

// The broadcast's completion is kept in absolute simulated time: the latency does not depend on
// how far ahead of the others the initiator runs.
TEST(Shootdown, BroadcastLatencyDoesNotDependOnTheQuantum) {
    const std::string events = "          - {at: 500, every: 300, count: 10, "
                               "discard: {start: 0x10002000, size: 4KiB}}\n";
    const std::string cfg = system(4, threadsScenario(4, events));
    const std::string sets = kBroadcast + "--set invalidation.base_cycles=50 "
                                          "--set invalidation.hop_cycles=10 ";
    const auto a = runProgram(cfg, sets + "--set sim.quantum_cycles=100");
    const auto b = runProgram(cfg, sets + "--set sim.quantum_cycles=10000");
    EXPECT_GE(u(a["shootdown"]["count"]), 4u);
    EXPECT_EQ(u(a["shootdown"]["latency"]["max"]), 50u + 4 * 10);
    EXPECT_EQ(a["shootdown"]["latency"], b["shootdown"]["latency"]);
}

// Four threads that use a region at random; the first `discarders` of them keep discarding
// 16 KiB each of it. (With all four the discards overlap all the time, and each one, finding
// another under way, flushes the whole address space: a fault injected into one shootdown
// would be covered by the next full flush, so the injection tests have one discarder.)
std::string discardingSystem(unsigned discarders = 4) {
    std::ostringstream s;
    s << "processes:\n  - name: app\n    vmas:\n"
      << "      - {start: 0x400000, size: 64KiB, prot: rx}\n"
      << "      - {start: 0x10000000, size: 64KiB, prot: rw}\n    threads:\n";
    for (unsigned t = 0; t < 4; ++t) {
        s << "      - core: " << t << "\n        workload: {pattern: random, footprint: 64KiB, "
          << "data_base: 0x10000000, code_footprint: 4KiB, instructions: 20000, "
          << "refs_per_instruction: 0.5, write_fraction: 0.3}\n";
        if (t < discarders)
            s << "        events:\n"
              << "          - {at: " << 500 + 100 * t
              << ", every: 400, count: 40, discard: {start: " << 0x10000000 + 0x4000 * t
              << ", size: 16KiB}}\n";
    }
    return system(4, s.str());
}

TEST(Shootdown, DiscardingThreadsUseNoStaleTranslation) {
    const auto r = runProgram(discardingSystem());
    EXPECT_EQ(u(r["shootdown"]["count"]), 160u);
    EXPECT_EQ(u(r["checker"]["violations"]), 0u) << r["checker"]["first_violation"];
}

// Skipping the other cores (only the local flush) is caught under broadcast too.
TEST(Shootdown, BroadcastSkippingTheOtherCoresIsCaught) {
    const auto r = runProgram(discardingSystem(),
                              kBroadcast + "--set firmware.shootdown.inject=skip_remote_flush");
    EXPECT_GT(u(r["checker"]["violations"]), 0u);
}

// Each injected fault in the protocol lets a stale translation be used: the checker catches it.
class Inject : public ::testing::TestWithParam<const char*> {};

TEST_P(Inject, TheCheckerCatchesIt) {
    const auto r = runProgram(discardingSystem(1),
                              std::string("--set firmware.shootdown.inject=") + GetParam());
    EXPECT_GT(u(r["checker"]["violations"]), 0u);
    EXPECT_NE(r["checker"]["first_violation"].get<std::string>().find("stale translation"),
              std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Faults, Inject,
                         ::testing::Values("skip_ack_wait", "skip_remote_flush",
                                           "skip_local_flush"));

// Lost IPIs are noticed by the initiator's timeout and sent again: the run completes, safely.
TEST(Shootdown, LostIpisAreRecoveredByTheTimeout) {
    const auto r =
        runProgram(discardingSystem(), "--set ipi.drop_probability=0.3 "
                                       "--set firmware.shootdown.ack_timeout_cycles=5000");
    EXPECT_GT(u(r["ipi"]["dropped"]), 0u);
    EXPECT_GT(u(r["shootdown"]["timeouts"]), 0u);
    EXPECT_GT(u(r["shootdown"]["resends"]), 0u);
    EXPECT_EQ(u(r["checker"]["violations"]), 0u);
    EXPECT_EQ(u(r["processes"]["app"]["instructions"]), 80000u);
}

// A core whose task fails (here a map over a VMA another thread mapped: refused, the scenario
// is wrong) stops the whole run at once, exit 1: the others would otherwise wait for its
// acknowledgements, and for the lock their initiator holds meanwhile, through a thousand
// timeouts. (A protect of a range another thread unmapped no longer serves: it fails with
// ENOMEM and the thread runs on, Scenario.ProtectOfAnUnmappedRangeFailsAndRunsOn.)
TEST(Shootdown, AFailingCoreStopsTheRun) {
    std::ostringstream s;
    s << "processes:\n  - name: app\n    vmas:\n"
      << "      - {start: 0x400000, size: 64KiB, prot: rx}\n"
      << "      - {start: 0x10000000, size: 64KiB, prot: rw}\n"
      << "      - {start: 0x20000000, size: 64KiB, prot: rw}\n    threads:\n";
    for (unsigned t = 0; t < 2; ++t)
        s << "      - core: " << t << "\n        workload: {pattern: stream, footprint: 16KiB, "
          << "data_base: 0x10000000, code_footprint: 4KiB, instructions: 100000, "
          << "refs_per_instruction: 1, write_fraction: 0.5}\n        events:\n"
          << (t == 0 ? "          - {at: 100, map: {start: 0x30000000, size: 64KiB, prot: rw}}\n"
                       "          - {at: 500, every: 500, count: 150, discard: {start: "
                       "0x10000000, size: 16KiB}}\n"
                     : "          - {at: 20000, map: {start: 0x30000000, size: 4KiB, "
                       "prot: r}}\n");
    const auto r = runProgram(system(2, s.str()), "", 1);
    // Core 0 stopped within an acknowledgement timeout (100000 cycles of 500 ps) of the failure,
    // at instruction 20000 of core 1, rather than waiting for core 1 through its timeouts.
    const std::uint64_t failed_ps = u(r["cores"][1]["cycles"]) * 500;
    EXPECT_LT(u(r["simulation"]["time_ps"]), failed_ps + 100000 * 500);
    EXPECT_LT(u(r["cores"][0]["instructions"]), 100000u);
}

// With fail_on_violation, a violation fails the run (exit 1) with the first one in words.
TEST(Shootdown, AViolationFailsTheRunWhenAsked) {
    runProgram(discardingSystem(1),
               "--set firmware.shootdown.inject=skip_remote_flush "
               "--set checker.fail_on_violation=true",
               1);
}

} // namespace
} // namespace tlmmu::test

namespace tlmmu::test {
namespace {

// The timeline of the default system (4 processes, threads, swapping, shootdowns) is Chrome
// trace-event JSON whose event counts are those of the statistics.
TEST(Timeline, EventCountsEqualTheStatistics) {
    Config c = Config::fromFile(std::string(TLMMU_SOURCE_DIR) + "/configs/default.yaml");
    Platform platform(SystemConfig::fromConfig(c));
    platform.enableTimeline(0, 0);
    platform.run();
    ASSERT_EQ(platform.error(), "");
    const auto s = platform.stats().toJson();
    const auto json = nlohmann::json::parse(platform.timelineJson().dump()); // parses back
    ASSERT_TRUE(json.contains("traceEvents"));
    std::map<std::pair<unsigned, std::string>, std::uint64_t> count;
    for (const auto& e : json["traceEvents"]) {
        if (e["ph"] == "M" || e["ph"] == "C") continue; // metadata, counter tracks
        std::string name = e["name"].get<std::string>();
        if (name.rfind("fault ", 0) == 0) name = "fault";
        if (name.rfind("switch to ", 0) == 0) name = "switch";
        ++count[{e["tid"].get<unsigned>(), name}];
    }
    std::uint64_t shootdowns = 0;
    for (unsigned c = 0; c < 2; ++c) {
        const auto& core = s["cores"][c];
        std::uint64_t faults = 0;
        for (const auto& [kind, n] : core["faults"].items())
            faults += n.get<std::uint64_t>();
        EXPECT_EQ((count[{c, "fault"}]), faults) << "core" << c;
        EXPECT_EQ((count[{c, "interrupt"}]), u(core["interrupts"])) << "core" << c;
        EXPECT_EQ((count[{c, "irq"}]), u(core["ipi"]["received"])) << "core" << c;
        EXPECT_EQ((count[{c, "switch"}]), u(core["context_switches"])) << "core" << c;
        EXPECT_EQ((count[{c, "shootdown"}]), u(core["shootdown_latency"]["count"])) << "core" << c;
        shootdowns += count[{c, "shootdown"}];
    }
    EXPECT_EQ(shootdowns, u(s["shootdown"]["count"]));
    EXPECT_GT(shootdowns, 0u);
}

} // namespace
} // namespace tlmmu::test
