// Systems and scenarios shared by the shootdown tests (shootdown_test.cpp, the protocol;
// shootdown_variants_test.cpp, what each firmware.shootdown switch changes).
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "SystemTestUtil.h"

namespace tlmmu::test {

// One process, a thread per entry of `instructions` on cores 0, 1, ..., each running that many
// instructions streaming over a 16 KiB window of a shared 64 KiB region; thread 0's events are
// `events`.
inline std::string threadsScenario(const std::string& events,
                                   const std::vector<std::uint64_t>& instructions) {
    std::ostringstream s;
    s << "processes:\n  - name: app\n    vmas:\n"
      << "      - {start: 0x400000, size: 64KiB, prot: rx}\n"
      << "      - {start: 0x10000000, size: 64KiB, prot: rw}\n    threads:\n";
    for (std::size_t t = 0; t < instructions.size(); ++t) {
        s << "      - core: " << t << "\n        workload: {pattern: stream, footprint: 16KiB, "
          << "data_base: 0x10000000, code_footprint: 4KiB, instructions: " << instructions[t]
          << ", refs_per_instruction: 1, write_fraction: 0}\n";
        if (t == 0 && !events.empty()) s << "        events:\n" << events;
    }
    return s.str();
}

// The same with `threads` threads of `instructions` each.
inline std::string threadsScenario(unsigned threads, const std::string& events,
                                   std::uint64_t instructions = 4000) {
    return threadsScenario(events, std::vector<std::uint64_t>(threads, instructions));
}

// 1-cycle instructions, free TLB lookups and interconnect, 100-cycle memory, 1000-cycle IPIs.
inline std::string system(unsigned cores, const std::string& scenario,
                          const std::string& extra = "") {
    return "cores: " + std::to_string(cores) + R"(
core: {base_cpi: 1}
mmu: {format: x86_64}
tlb: {l1i: {latency_cycles: 0}, l1d: {latency_cycles: 0}, l2: {latency_cycles: 0}}
memory: {latency_cycles: 100}
interconnect: {latency_cycles: 0}
ipi: {latency_cycles: 1000}
firmware: {irq_entry_cycles: 200, irq_exit_cycles: 100}
checker: {enabled: true}
workload: {scenario: )" +
           writeFile("s.yaml", scenario) + "}\n" + extra;
}

// 8 threads on 8 cores, with every kind of event (discard, unmap and map again, protect, fork,
// thread exit, swapping under a memory limit): the checker sees no stale translation used, and
// checked mode no wrong data.
// t1 protects one VMA and t2 unmaps and maps again another: events of different threads are
// ordered by simulated time only, which every variant changes, so no event may depend on
// another thread's.
inline std::string stressScenario() {
    std::ostringstream s;
    s << "processes:\n  - name: app\n    vmas:\n"
      << "      - {start: 0x400000, size: 64KiB, prot: rx}\n"
      << "      - {start: 0x10000000, size: 256KiB, prot: rw}\n"
      << "      - {start: 0x20000000, size: 64KiB, prot: rw}\n"
      << "      - {start: 0x30000000, size: 64KiB, prot: rw}\n    threads:\n";
    for (unsigned t = 0; t < 8; ++t) {
        s << "      - core: " << t << "\n        workload: {pattern: random, footprint: 256KiB, "
          << "data_base: 0x10000000, code_footprint: 4KiB, instructions: 20000, "
          << "refs_per_instruction: 0.5, write_fraction: 0.4, checked: true}\n        events:\n";
        s << "          - {at: " << 1000 + 150 * t << ", every: 1500, count: 10, discard: "
          << "{start: " << 0x10000000 + 0x4000 * t << ", size: 8KiB}}\n";
        if (t == 0) s << "          - {at: 3000, fork: child}\n";
        if (t == 1)
            s << "          - {at: 5000, protect: {start: 0x20000000, size: 64KiB, prot: r}}\n"
              << "          - {at: 9000, protect: {start: 0x20000000, size: 64KiB, prot: rw}}\n";
        if (t == 2)
            s << "          - {at: 7000, unmap: {start: 0x30000000, size: 64KiB}}\n"
              << "          - {at: 12000, map: {start: 0x30000000, size: 64KiB, prot: rw}}\n";
        if (t == 7) s << "          - {at: 15000, exit: true}\n";
    }
    s << "  - name: child\n    forked_from: app\n    core: 3\n    workload: {pattern: random, "
      << "footprint: 256KiB, data_base: 0x10000000, code_footprint: 4KiB, instructions: 10000, "
      << "refs_per_instruction: 0.5, write_fraction: 0.5, checked: true}\n";
    return s.str();
}

// Swapping under a memory limit, on top of the events.
inline const std::string kStressSets = "--set firmware.memory_limit_frames=72";

inline std::string stressSystem() {
    return system(8, stressScenario(),
                  "swap: {slots: 4096, latency_cycles: 2000}\nsched: {time_slice_cycles: 20000}\n");
}

// What every stress run must show: swapping happened, no stale translation used, no wrong data,
// every instruction run.
inline void expectStressClean(const nlohmann::json& r) {
    EXPECT_GT(u(r["processes"]["app"]["firmware"]["swap_outs"]), 0u);
    EXPECT_EQ(u(r["checker"]["violations"]), 0u) << r["checker"]["first_violation"];
    EXPECT_EQ(u(r["processes"]["app"]["data_mismatches"]), 0u);
    EXPECT_EQ(u(r["processes"]["child"]["data_mismatches"]), 0u);
    EXPECT_EQ(u(r["processes"]["app"]["instructions"]), 7u * 20000 + 15000);
    EXPECT_EQ(u(r["processes"]["child"]["instructions"]), 10000u);
}

} // namespace tlmmu::test
