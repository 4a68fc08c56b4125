// Runs under the firmware memory manager, described by scenario files: demand paging,
// protection kills, fork with copy-on-write, shared memory, swapping, context switches with and
// without ASIDs, ASID recycling. One TEST per process.
#include <filesystem>
#include <fstream>

#include "SystemTestUtil.h"

namespace tlmmu::test {
namespace {

// A system for scenarios: one or two cores, free interconnect, 150-cycle memory.
std::string scenarioSystem(const std::string& scenario_text, unsigned cores = 1) {
    const std::string dir = ::testing::TempDir() + "tlmmu_scenario_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    const std::string path = dir + "/scenario.yaml";
    std::ofstream(path) << scenario_text;
    return "cores: " + std::to_string(cores) + R"(
mmu: {format: x86_64}
memory: {latency_cycles: 150}
workload: {scenario: )" +
           path + "}\n";
}

const char* kCode = "{start: 0x400000, size: 64KiB, prot: rx}";

// Checked processes read back exactly what they (or their parent before fork, or a sharer)
// stored, and did read something.
void expectDataIntact(const nlohmann::json& s, std::initializer_list<const char*> processes) {
    for (const char* p : processes) {
        EXPECT_GT(s["processes"][p]["data_checks"].get<std::uint64_t>(), 1000u) << p;
        EXPECT_EQ(s["processes"][p]["data_mismatches"], 0u)
            << p << ": " << s["processes"][p]["first_mismatch"];
    }
}

std::uint64_t fw(const nlohmann::json& s, const char* process, const char* stat) {
    return s["processes"][process]["firmware"][stat].get<std::uint64_t>();
}
std::uint64_t fwFault(const nlohmann::json& s, const char* process, const char* cls) {
    return s["processes"][process]["firmware"]["faults"][cls].get<std::uint64_t>();
}

TEST(Scenario, DemandPagingMapsOnlyTouchedPages) {
    const auto s = runSystem(makeSystem(scenarioSystem(std::string(R"(
processes:
  - name: a
    vmas:
      - )") + kCode + R"(
      - {start: 0x10000000, size: 1MiB, prot: rw}
    workload: {pattern: stream, footprint: 64KiB, instructions: 8192, refs_per_instruction: 1}
)")));
    // 16 data pages and 1 code page of a 1 MiB + 64 KiB address space.
    EXPECT_EQ(fwFault(s, "a", "demand_zero"), 17u);
    EXPECT_EQ(fw(s, "a", "frames_peak"), 17u);
    EXPECT_EQ(s["processes"]["a"]["instructions"], 8192u);
    EXPECT_EQ(s["processes"]["a"]["killed"], false);
    // Everything is returned when the process ends.
    EXPECT_EQ(s["firmware"]["frames_in_use"], 0u);
    EXPECT_EQ(s["memory"]["page_table_bytes"], 0u);
}

// Each illegal access kills its process with the reason; the process beside it runs on.
class Kill : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(Kill, IllegalAccessKillsOnlyThatProcess) {
    const auto [vmas_and_workload, reason] = GetParam();
    const auto s = runSystem(makeSystem(scenarioSystem(std::string(R"(
processes:
  - name: bad
)") + vmas_and_workload + R"(
  - name: good
    vmas:
      - )" + kCode + R"(
      - {start: 0x10000000, size: 64KiB, prot: rw}
    workload: {pattern: stream, footprint: 64KiB, instructions: 20000, refs_per_instruction: 1}
)")));
    const std::string report = s["processes"]["bad"]["killed"].get<std::string>();
    EXPECT_NE(report.find(std::string("process bad killed: ") + reason), std::string::npos)
        << report;
    EXPECT_EQ(fwFault(s, "bad", "protection"), 1u);
    EXPECT_EQ(s["processes"]["good"]["instructions"], 20000u);
    EXPECT_EQ(s["processes"]["good"]["killed"], false);
}

INSTANTIATE_TEST_SUITE_P(
    Reasons, Kill,
    ::testing::Values(
        std::make_pair(
            R"(    vmas: [{start: 0x400000, size: 64KiB, prot: rx}, {start: 0x10000000, size: 64KiB, prot: rw}]
    workload: {pattern: stream, footprint: 128KiB, instructions: 20000, refs_per_instruction: 1})",
            "access outside every VMA"),
        std::make_pair(
            R"(    vmas: [{start: 0x400000, size: 64KiB, prot: rx}, {start: 0x10000000, size: 64KiB, prot: r}]
    workload: {pattern: stream, footprint: 64KiB, instructions: 20000, refs_per_instruction: 1, write_fraction: 0.5})",
            "write to a read-only mapping"),
        std::make_pair(
            R"(    vmas: [{start: 0x400000, size: 64KiB, prot: r}, {start: 0x10000000, size: 64KiB, prot: rw}]
    workload: {pattern: stream, footprint: 64KiB, instructions: 20000, refs_per_instruction: 1})",
            "instruction fetch from a non-executable mapping"),
        std::make_pair(
            R"(    vmas: [{start: 0x400000, size: 64KiB, prot: rx}, {start: 0x10001000, size: 64KiB, prot: rw, kind: stack}]
    workload: {pattern: stream, footprint: 64KiB, data_base: 0x10000000, instructions: 20000, refs_per_instruction: 1})",
            "touch of a stack guard page")));

// After fork the 4 pages the parent wrote are shared read-only; each is copied by whichever
// process writes it first; the other then finds it unshared and just gets it back writable,
// unless both write it at once (each finds it shared while the other's copy is under way, as
// in Linux): a page is copied once or twice. The child finds every page mapped: no demand-zero
// faults.
TEST(Scenario, ForkCopiesEachWrittenPageOnce) {
    const auto s = runSystem(makeSystem(scenarioSystem(std::string(R"(
processes:
  - name: parent
    core: 0
    vmas:
      - )") + kCode + R"(
      - {start: 0x10000000, size: 16KiB, prot: rw}
    workload: {pattern: stream, footprint: 16KiB, instructions: 6144, refs_per_instruction: 1, write_fraction: 0.5, checked: true}
    events:
      - {at: 2048, fork: child}
  - name: child
    core: 1
    forked_from: parent
    workload: {pattern: stream, footprint: 16KiB, instructions: 4096, refs_per_instruction: 1, write_fraction: 0.5, checked: true}
)",
                                                       2)));
    EXPECT_EQ(fwFault(s, "child", "demand_zero"), 0u);
    EXPECT_EQ(fwFault(s, "parent", "cow") + fwFault(s, "child", "cow"), 8u);
    const std::uint64_t copied = fw(s, "parent", "pages_copied") + fw(s, "child", "pages_copied");
    EXPECT_GE(copied, 4u);
    EXPECT_LE(copied, 8u);
    EXPECT_EQ(s["processes"]["child"]["instructions"], 4096u);
    expectDataIntact(s, {"parent", "child"});
    EXPECT_EQ(s["firmware"]["frames_in_use"], 0u);
}

// A fork right after a discard of every page the parent could write write-protects nothing, so
// it flushes nothing: the parent's code translations cached before the fork stay good (the
// checker once wanted every translation flushed at a fork: 5000 false stale uses of the code).
// Found by tests/stats_consistency.py, minimised.
TEST(Scenario, ForkThatWriteProtectsNothingNeedsNoFlush) {
    const auto s = runSystem(makeSystem(scenarioSystem(std::string(R"(
processes:
  - name: p0
    vmas:
      - )") + kCode + R"(
      - {start: 0x10000000, size: 16KiB, prot: rw}
    workload: {data_base: 0x10000000, footprint: 16KiB, instructions: 30000, pattern: zipf}
    events:
      - {at: 25000, discard: {start: 0x10000000, size: 16KiB}}
      - {at: 25000, fork: p0c}
  - name: p0c
    forked_from: p0
    workload: {data_base: 0x10000000, footprint: 16KiB, instructions: 17000, pattern: random}
)"),
                                        {"checker.enabled=true", "checker.fail_on_violation=true",
                                         "sched.time_slice_cycles=50000"}));
    EXPECT_EQ(s["checker"]["violations"], 0u) << s["checker"]["first_violation"];
    EXPECT_EQ(s["firmware"]["flush"]["full"], 0u); // the fork flushed nothing
    EXPECT_EQ(fw(s, "p0", "tlb_flushes"), 0u);
    EXPECT_EQ(s["processes"]["p0"]["instructions"], 30000u);
    EXPECT_EQ(s["processes"]["p0c"]["instructions"], 17000u);
}

// A fork that write-protected the parent's pages without its local flush (injected) lets the
// parent write a copy-on-write page through its old translation: the checker says so.
TEST(Scenario, ForkWithoutItsFlushIsCaught) {
    const auto s = runSystem(
        makeSystem(scenarioSystem(std::string(R"(
processes:
  - name: parent
    core: 0
    vmas:
      - )") + kCode + R"(
      - {start: 0x10000000, size: 16KiB, prot: rw}
    workload: {pattern: stream, footprint: 16KiB, instructions: 6144, refs_per_instruction: 1, write_fraction: 0.5}
    events:
      - {at: 2048, fork: child}
  - name: child
    core: 1
    forked_from: parent
    workload: {pattern: stream, footprint: 16KiB, instructions: 4096, refs_per_instruction: 1, write_fraction: 0.5}
)",
                                  2),
                   {"checker.enabled=true", "firmware.shootdown.inject=skip_local_flush"}));
    EXPECT_GT(s["checker"]["violations"].get<std::uint64_t>(), 0u);
    const std::string first = s["checker"]["first_violation"];
    EXPECT_NE(first.find("core0"), std::string::npos) << first;
    EXPECT_NE(first.find("write of VA 0x10000"), std::string::npos) << first;
    EXPECT_NE(first.find("a completed fork made the page copy-on-write"), std::string::npos)
        << first;
}

// Two processes fork at once on two cores (each fork waits for memory, so they overlap): each
// child is the one its parent named (the run once panicked: "a task became runnable outside a
// fork", the first fork to return forgetting the other). Found by tests/stats_consistency.py.
TEST(Scenario, ForksOnTwoCoresAtOnce) {
    std::string text = "processes:\n";
    for (const char* p : {"a", "b"}) {
        const std::string core = std::string(p) == "a" ? "0" : "1";
        text += std::string("  - name: ") + p + "\n    core: " + core + "\n    vmas: [" + kCode +
                ", {start: 0x10000000, size: 16KiB, prot: rw}]\n"
                "    workload: {pattern: stream, footprint: 16KiB, instructions: 8000, "
                "refs_per_instruction: 1, write_fraction: 0.5, checked: true}\n"
                "    events: [{at: 4000, fork: " +
                p + "c}]\n  - name: " + p + "c\n    core: " + core + "\n    forked_from: " + p +
                "\n    workload: {pattern: stream, footprint: 16KiB, instructions: 4000, "
                "refs_per_instruction: 1, write_fraction: 0.5, checked: true}\n";
    }
    const auto s = runSystem(makeSystem(scenarioSystem(text, 2), {"checker.enabled=true"}));
    EXPECT_EQ(s["checker"]["violations"], 0u) << s["checker"]["first_violation"];
    for (const char* p : {"a", "b"}) {
        const std::string c = std::string(p) + "c";
        EXPECT_EQ(s["processes"][p]["instructions"], 8000u) << p;
        EXPECT_EQ(s["processes"][c]["instructions"], 4000u) << c;
        EXPECT_EQ(fwFault(s, c.c_str(), "demand_zero"), 0u) << c; // it got its parent's pages
        EXPECT_EQ(fw(s, p, "pages_copied") + fw(s, c.c_str(), "pages_copied"), 4u) << p;
    }
    expectDataIntact(s, {"a", "ac", "b", "bc"});
}

// Checked mode. A checked thread and an unchecked thread of one process: the unchecked one's
// stores are recorded too, so the checked one reads what it expects (the run once failed, exit
// 1: "process app.t0: 1212 loads did not return the stored data").
TEST(CheckedMode, AnUncheckedThreadsStoresAreKnown) {
    const auto s = runProgram(scenarioSystem(std::string(R"(
processes:
  - name: app
    vmas: [)") + kCode + R"(, {start: 0x30000000, size: 64KiB, prot: rw}]
    threads:
      - core: 0
        workload: {pattern: random, footprint: 64KiB, data_base: 0x30000000, instructions: 20000, write_fraction: 0.5, checked: true}
      - core: 1
        workload: {pattern: random, footprint: 64KiB, data_base: 0x30000000, instructions: 20000, write_fraction: 0.5}
)",
                                             2),
                              "", 0);
    const auto& t = s["processes"]["app"]["threads"];
    EXPECT_GT(t[0]["data_checks"].get<std::uint64_t>(), 10000u);
    EXPECT_EQ(t[0]["data_mismatches"], 0u) << t[0]["first_mismatch"];
    EXPECT_EQ(t[1]["data_checks"], 0u); // not checked: its loads are not compared
    EXPECT_EQ(s["processes"]["app"]["data_mismatches"], 0u);
}

// Unmapping a shared VMA (whole, or its middle) and mapping anonymous memory there: the new
// pages read as zero, the rest of the object as its sharers wrote it (the checker once kept
// expecting the object's bytes there: exit 1, "process a: 586 loads did not return the stored
// data", and the sharer b saw a's private stores as the object's).
class UnmapShared : public ::testing::TestWithParam<const char*> {};

TEST_P(UnmapShared, AnonymousMemoryThereReadsAsZero) {
    const std::string range = GetParam();
    const std::string sharer = R"(
    vmas: [)" + std::string(kCode) +
                               R"(, {start: 0x20000000, size: 64KiB, prot: rw, shared: buf}]
    workload: {pattern: random, footprint: 64KiB, data_base: 0x20000000, instructions: 20000, write_fraction: 0.3, checked: true})";
    const auto s =
        runProgram(scenarioSystem("shared: [{name: buf, size: 64KiB}]\n"
                                  "processes:\n  - name: a\n    core: 0" +
                                      sharer + "\n    events:\n      - {at: 8000, unmap: {" +
                                      range + "}}\n      - {at: 8000, map: {" + range +
                                      ", prot: rw}}\n  - name: b\n    core: 1" + sharer + "\n",
                                  2),
                   "", 0);
    for (const char* p : {"a", "b"}) {
        EXPECT_GT(s["processes"][p]["data_checks"].get<std::uint64_t>(), 10000u) << p;
        EXPECT_EQ(s["processes"][p]["data_mismatches"], 0u)
            << p << ": " << s["processes"][p]["first_mismatch"];
    }
}

INSTANTIATE_TEST_SUITE_P(Ranges, UnmapShared,
                         ::testing::Values("start: 0x20000000, size: 64KiB",
                                           "start: 0x20004000, size: 16KiB"));

// Two processes write and read one shared object: no copy-on-write, no protection fault.
TEST(Scenario, SharedMemoryIsWritableByAllWithoutCopies) {
    const auto s = runSystem(makeSystem(scenarioSystem(std::string(R"(
shared:
  - {name: buf, size: 64KiB}
processes:
  - name: a
    core: 0
    vmas: [)") + kCode + R"(, {start: 0x20000000, size: 64KiB, prot: rw, shared: buf}]
    workload: {pattern: stream, footprint: 64KiB, data_base: 0x20000000, instructions: 8192, refs_per_instruction: 1, write_fraction: 0.5, checked: true}
  - name: b
    core: 1
    vmas: [)" + kCode + R"(, {start: 0x30000000, size: 64KiB, prot: rw, shared: buf}]
    workload: {pattern: stream, footprint: 64KiB, data_base: 0x30000000, instructions: 8192, refs_per_instruction: 1, write_fraction: 0.5, checked: true}
)",
                                                       2)));
    for (const char* p : {"a", "b"}) {
        EXPECT_EQ(fwFault(s, p, "cow"), 0u) << p;
        EXPECT_EQ(fw(s, p, "pages_copied"), 0u) << p;
        EXPECT_EQ(s["processes"][p]["faults"]["permission"], 0u) << p;
        EXPECT_EQ(s["processes"][p]["killed"], false) << p;
    }
    expectDataIntact(s, {"a", "b"});
}

// The checker can fail: a discard whose local flush is skipped (injected) leaves the process
// reading its old, freed frames through the stale translation where zeros are due. (An
// unchecked writer no longer serves: its stores are recorded, CheckedMode tests.)
TEST(Scenario, CheckerCatchesDataItDidNotExpect) {
    Platform platform(makeSystem(scenarioSystem(std::string(R"(
processes:
  - name: reader
    core: 0
    vmas: [)") + kCode + R"(, {start: 0x20000000, size: 16KiB, prot: rw}]
    workload: {pattern: stream, footprint: 16KiB, data_base: 0x20000000, instructions: 8192, refs_per_instruction: 1, write_fraction: 0.5, checked: true}
    events:
      - {at: 4096, discard: {start: 0x20000000, size: 16KiB}}
)",
                                                2),
                                 {"firmware.shootdown.inject=skip_local_flush"}));
    platform.run();
    const auto s = platform.stats().toJson();
    EXPECT_NE(platform.error().find("process reader: "), std::string::npos) << platform.error();
    EXPECT_NE(platform.error().find("loads did not return the stored data"), std::string::npos);
    EXPECT_GT(s["processes"]["reader"]["data_mismatches"].get<std::uint64_t>(), 0u);
}

// 16 data pages through an 8-frame limit: pages go to the swap device and come back; the
// firmware never holds more than 8 data frames.
TEST(Scenario, SwappingKeepsTheMemoryLimit) {
    const auto s = runSystem(makeSystem(scenarioSystem(std::string(R"(
processes:
  - name: a
    vmas: [)") + kCode + R"(, {start: 0x10000000, size: 64KiB, prot: rw}]
    workload: {pattern: stream, footprint: 64KiB, instructions: 32768, refs_per_instruction: 1, write_fraction: 0.5, checked: true}
)"),
                                        {"firmware.memory_limit_frames=8", "swap.slots=64"}));
    EXPECT_GE(fw(s, "a", "swap_outs"), 9u);
    EXPECT_GE(fw(s, "a", "swap_ins"), 8u);
    EXPECT_LE(fw(s, "a", "frames_peak"), 8u);
    EXPECT_EQ(s["swap"]["writes"], fw(s, "a", "swap_outs"));
    EXPECT_EQ(s["swap"]["reads"], fw(s, "a", "swap_ins"));
    EXPECT_EQ(s["processes"]["a"]["instructions"], 32768u);
    expectDataIntact(s, {"a"}); // every byte survived the round trips through the swap device
    // A major fault costs at least the device latency (20000 cycles by default).
    EXPECT_GE(s["processes"]["a"]["fault_cycles"].get<std::uint64_t>(),
              20000 * fw(s, "a", "swap_ins"));
}

// Two processes use the same virtual addresses on one core, switching every 5000 cycles. With
// ASIDs or with flushes, neither ever hits the other's entries: each takes its own demand-zero
// fault for every page it touches (a hit on the other's entry would skip it).
class Homonyms : public ::testing::TestWithParam<unsigned> {};

TEST_P(Homonyms, ProcessesNeverHitEachOthersEntries) {
    const unsigned asid_bits = GetParam();
    std::string text = "processes:\n";
    for (const char* name : {"a", "b"})
        text += std::string("  - name: ") + name + "\n    vmas: [" + kCode +
                ", {start: 0x10000000, size: 64KiB, prot: rw}]\n"
                "    workload: {pattern: stream, footprint: 64KiB, instructions: 20000, "
                "refs_per_instruction: 1, write_fraction: 0.5, checked: true}\n";
    const auto s =
        runSystem(makeSystem(scenarioSystem(text), {"mmu.asid_bits=" + std::to_string(asid_bits),
                                                    "sched.time_slice_cycles=5000"}));
    for (const char* p : {"a", "b"}) {
        EXPECT_EQ(fwFault(s, p, "demand_zero"), 17u) << p;
        EXPECT_GT(fw(s, p, "context_switches"), 2u) << p;
    }
    expectDataIntact(s, {"a", "b"}); // and neither read the other's data
    const std::uint64_t flushes = fw(s, "a", "tlb_flushes") + fw(s, "b", "tlb_flushes");
    const std::uint64_t switches = s["cores"][0]["context_switches"];
    if (asid_bits == 0)
        EXPECT_EQ(flushes, switches); // every switch flushes
    else
        EXPECT_EQ(flushes, 0u); // ASIDs keep both sets of entries
}

INSTANTIATE_TEST_SUITE_P(AsidBits, Homonyms, ::testing::Values(0u, 16u));

// More processes than ASIDs: ASIDs are recycled, each recycling flushes the ASID taken.
TEST(Scenario, AsidsAreRecycledWhenProcessesOutnumberThem) {
    std::string text = "processes:\n";
    for (const char* name : {"a", "b", "c"})
        text += std::string("  - name: ") + name + "\n    vmas: [" + kCode +
                ", {start: 0x10000000, size: 64KiB, prot: rw}]\n"
                "    workload: {pattern: stream, footprint: 64KiB, instructions: 10000, "
                "refs_per_instruction: 1}\n";
    const auto s = runSystem(
        makeSystem(scenarioSystem(text), {"mmu.asid_bits=1", "sched.time_slice_cycles=5000"}));
    std::uint64_t flushes = 0;
    for (const char* p : {"a", "b", "c"}) {
        flushes += fw(s, p, "tlb_flushes");
        EXPECT_EQ(s["processes"][p]["instructions"], 10000u) << p;
        EXPECT_EQ(fwFault(s, p, "demand_zero"), 17u) << p;
    }
    EXPECT_GT(flushes, 0u);
}

} // namespace
} // namespace tlmmu::test

namespace tlmmu::test {
namespace {

// A fault on core 1 evicts pages of a process running on core 0: its translations must be
// invalidated on core 0 too (by a shootdown IPI to it), or core 0 keeps using frames
// that now hold other data. The checked loads of both processes prove nothing was lost.
TEST(Scenario, EvictionFromAnotherCoreInvalidatesTheOwnersTlb) {
    const auto s = runSystem(makeSystem(scenarioSystem(std::string(R"(
processes:
  - name: a
    core: 0
    vmas: [)") + kCode + R"(, {start: 0x10000000, size: 256KiB, prot: rw}]
    workload: {pattern: random, footprint: 256KiB, instructions: 40000, refs_per_instruction: 1, write_fraction: 0.5, checked: true}
  - name: b
    core: 1
    vmas: [)" + kCode + R"(, {start: 0x10000000, size: 256KiB, prot: rw}]
    workload: {pattern: random, footprint: 256KiB, instructions: 40000, refs_per_instruction: 1, write_fraction: 0.5, checked: true}
)",
                                                       2),
                                        {"firmware.memory_limit_frames=64", "swap.slots=256"}));
    // The owner's core learns of the eviction by a shootdown IPI (the default mechanism).
    EXPECT_GT(s["ipi"]["delivered"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(s["invalidation"]["operations"].get<std::uint64_t>(), 0u);
    EXPECT_GT(fw(s, "a", "swap_outs") + fw(s, "b", "swap_outs"), 100u);
    expectDataIntact(s, {"a", "b"});
}

} // namespace
} // namespace tlmmu::test

namespace tlmmu::test {
namespace {

// Events at instruction counts change the address space under the running process: a region
// mapped later is usable from then on; protecting it read-only makes the next store illegal.
TEST(Scenario, MapAndProtectEventsTakeEffectWhileRunning) {
    const auto s = runSystem(makeSystem(scenarioSystem(std::string(R"(
processes:
  - name: a
    vmas: [)") + kCode + R"(]
    workload: {pattern: stream, footprint: 16KiB, data_base: 0x30000000, instructions: 20000, refs_per_instruction: 1, write_fraction: 0.5, checked: true}
    events:
      - {at: 0, map: {start: 0x30000000, size: 16KiB, prot: rw}}
      - {at: 10000, protect: {start: 0x30000000, size: 16KiB, prot: r}}
)")));
    const auto& a = s["processes"]["a"];
    const std::string report = a["killed"].get<std::string>();
    EXPECT_NE(report.find("write to a read-only mapping"), std::string::npos) << report;
    // It ran past the protect (the first store after it is within a few instructions).
    EXPECT_GE(a["instructions"].get<std::uint64_t>(), 10000u);
    EXPECT_LT(a["instructions"].get<std::uint64_t>(), 10010u);
    EXPECT_EQ(fwFault(s, "a", "demand_zero"), 5u); // 4 data pages + the code page
    EXPECT_EQ(a["data_mismatches"], 0u);
}

// A protect of a range another thread unmapped fails as mprotect does (ENOMEM) and changes
// nothing: the event is counted and reported, the thread runs on, exit 0 (it once failed the
// whole run, exit 1). A protect that runs past a VMA's end fails the same way, and changes
// nothing either.
TEST(Scenario, ProtectOfAnUnmappedRangeFailsAndRunsOn) {
    const auto s = runProgram(
        scenarioSystem(
            std::string(R"(
processes:
  - name: app
    vmas: [)") + kCode +
                R"(, {start: 0x10000000, size: 64KiB, prot: rw}, {start: 0x20000000, size: 64KiB, prot: rw}]
    threads:
      - core: 0
        workload: {pattern: stream, footprint: 16KiB, data_base: 0x10000000, instructions: 30000, write_fraction: 0.5, checked: true}
        events:
          - {at: 100, unmap: {start: 0x20000000, size: 64KiB}}
      - core: 1
        workload: {pattern: stream, footprint: 16KiB, data_base: 0x10000000, instructions: 30000, write_fraction: 0.5, checked: true}
        events:
          - {at: 20000, protect: {start: 0x20000000, size: 4KiB, prot: r}}
          - {at: 21000, protect: {start: 0x10003000, size: 56KiB, prot: r}}
)",
            2),
        "", 0);
    const auto& app = s["processes"]["app"];
    const auto& t = app["threads"];
    EXPECT_EQ(t[0]["failed_events"], 0u);
    EXPECT_EQ(t[1]["failed_events"], 2u);
    EXPECT_EQ(app["failed_events"], 2u);
    EXPECT_EQ(t[1]["first_failed_event"],
              "process app.t1: protect 0x20000000+4KiB r at instruction 20000 failed (ENOMEM): "
              "the range is not (wholly) mapped");
    EXPECT_EQ(t[1]["instructions"], 30000u); // it ran on
    EXPECT_EQ(app["killed"], false);
    EXPECT_EQ(app["data_mismatches"], 0u);
    // Nothing changed: the stores to 0x10003000 (in the range that runs past the VMA's end)
    // after the failed protect did not kill.
    EXPECT_EQ(fwFault(s, "app", "protection"), 0u);
}

TEST(Scenario, UnmappedRegionIsGone) {
    const auto s = runSystem(makeSystem(scenarioSystem(std::string(R"(
processes:
  - name: a
    vmas: [)") + kCode + R"(, {start: 0x30000000, size: 16KiB, prot: rw}]
    workload: {pattern: stream, footprint: 16KiB, data_base: 0x30000000, instructions: 20000, refs_per_instruction: 1}
    events:
      - {at: 5000, unmap: {start: 0x30000000, size: 16KiB}}
)")));
    const std::string report = s["processes"]["a"]["killed"].get<std::string>();
    EXPECT_NE(report.find("access outside every VMA"), std::string::npos) << report;
    // Instruction 5001 is fetched (and counted); its load is the access that kills.
    EXPECT_EQ(s["processes"]["a"]["instructions"], 5001u);
}

} // namespace
} // namespace tlmmu::test
