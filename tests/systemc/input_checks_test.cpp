// Input checks (issue 16 E): values that cannot work are refused before the run (exit 2) with one
// line naming the key or the scenario entry and what is allowed. One test per class; each runs
// the real program.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ProgramTest.h"

extern "C" {
#include "kernel/mm.h"
}

namespace fs = std::filesystem;

namespace {

using Result = tlmmu::test::ProgramResult;

const std::string kSmall = "workload: {synthetic: {instructions: 2000, footprint: 64KiB}}\n";

class InputChecks : public tlmmu::test::ProgramTest {
  protected:
    // Exit 2 and one line "tlmmu: error: ..." containing every one of `words`.
    static void expectRefused(const Result& r, std::initializer_list<std::string> words) {
        EXPECT_EQ(r.exit_code, 2) << r.err;
        expectOneLine(r.err, "tlmmu: error: ", words);
    }
    // A scenario (s.yaml) run on a system of `system`.
    Result scenario(const std::string& text, const std::string& system = "cores: 1\n",
                    const std::string& extra = "") {
        write("s.yaml", text);
        const std::string cfg = write("system.yaml", system + "workload: {scenario: s.yaml}\n");
        return run("--config " + cfg + " -q " + extra);
    }
};

const std::string kTrace = "I  00400000,4\n L 10000000,8\nI  00400004,4\n S 10000008,8\n";

// A trace workload (its length is not known before the run) with `events`.
std::string traceProcess(const std::string& events) {
    return "processes:\n  - name: a\n    workload: {format: lackey, trace: t.lackey}\n"
           "    vmas: [{start: 0x10000000, size: 64KiB, prot: rw}]\n    events:\n" +
           events;
}

TEST_F(InputChecks, EveryTimesCountOverflowIsRefused) {
    write("t.lackey", kTrace);
    // 2^63: the third occurrence would be at 2^64 + 1.
    expectRefused(scenario(traceProcess("      - {at: 1, every: 9223372036854775808, count: 3, "
                                        "protect: {start: 0x10000000, size: 4KiB, prot: r}}\n")),
                  {dir_ + "/s.yaml:6: processes[0].events[0].every: at + (count - 1) * every "
                          "passes 2^64 - 1 (at 1, every 9223372036854775808, count 3)"});
    // Just fits: accepted (the events past the trace's end do not happen).
    const Result r = scenario(traceProcess("      - {at: 1, every: 9223372036854775807, count: 3, "
                                           "protect: {start: 0x10000000, size: 4KiB, prot: r}}\n"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(InputChecks, EventTotalIsLimited) {
    write("t.lackey", kTrace);
    std::string events;
    for (int i = 0; i < 11; ++i)
        events += "      - {at: " + std::to_string(i + 1) +
                  ", every: 1, count: 100000, protect: {start: 0x10000000, size: 4KiB, prot: r}}\n";
    expectRefused(scenario(traceProcess(events)),
                  {dir_ + "/s.yaml:16: processes[0].events[10].count: more than 1000000 events in "
                          "the scenario, counting every repeat of every/count"});
}

TEST_F(InputChecks, MapEventIsCheckedBeforeTheRun) {
    // A stack at 0 has no room for its guard page: refused as a VMA is, not mid-run.
    expectRefused(scenario("processes:\n  - name: a\n    workload: {instructions: 1000}\n"
                           "    events:\n      - {at: 10, map: {start: 0, size: 16KiB, "
                           "prot: rw, kind: stack}}\n"),
                  {dir_ + "/s.yaml:5: processes[0].events[0].map: a stack at 0x0 has no room for "
                          "its guard page below"});
}

TEST_F(InputChecks, TooFewFramesNameTheKeyAndTheMinimum) {
    const std::string cfg = write("system.yaml", kSmall);
    expectRefused(run("--config " + cfg + " -q --set firmware.frames=1"),
                  {"firmware.frames: 1 frame is too few to start", "at least 2"});
    // Two cores: the IPI protocol area too (73 lines of 64 bytes: two 4 KiB frames).
    expectRefused(run("--config " + cfg + " -q --set cores=2 --set firmware.frames=3"),
                  {"firmware.frames: 3 frames are too few to start",
                   "2 for the IPI protocol area of 2 cores", "at least 5"});
    // The minimum gets past the start (what runs out later is reported otherwise).
    const Result r = run("--config " + cfg + " -q --set firmware.frames=2");
    EXPECT_EQ(r.err.find("too few to start"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("firmware initialisation"), std::string::npos) << r.err;
}

TEST_F(InputChecks, IrqEntryThatCannotWorkIsRefused) {
    const std::string cfg = write("system.yaml", "cores: 2\n" + kSmall);
    expectRefused(
        run("--config " + cfg + " -q --set firmware.irq_entry_cycles=100000000"),
        {"firmware.irq_entry_cycles: 100000000 is refused",
         "= 100001100 cycles, not less than firmware.shootdown.ack_timeout_cycles 100000"});
    // Below the timeout: accepted; with one core or without IPIs it does not matter.
    EXPECT_EQ(
        run("--config " + cfg + " --print-config --set firmware.irq_entry_cycles=98899").exit_code,
        0);
    EXPECT_EQ(run("--config " + cfg +
                  " --print-config --set firmware.irq_entry_cycles=100000000 "
                  "--set firmware.shootdown.mechanism=broadcast")
                  .exit_code,
              0);
}

TEST_F(InputChecks, CoresLimitIsOneNumber) {
    const Result keys = run("--list-keys-json");
    ASSERT_EQ(keys.exit_code, 0);
    const auto j = nlohmann::json::parse(keys.out);
    EXPECT_EQ(j["cores"]["max"].get<unsigned>(), unsigned{FW_MAX_CORES});
    const std::string cfg = write("system.yaml", kSmall);
    EXPECT_EQ(run("--config " + cfg + " --print-config --set cores=" + std::to_string(FW_MAX_CORES))
                  .exit_code,
              0);
    expectRefused(
        run("--config " + cfg + " --print-config --set cores=" + std::to_string(FW_MAX_CORES + 1)),
        {"cores: expected an integer in [1, " + std::to_string(FW_MAX_CORES) + "]"});
}

TEST_F(InputChecks, HugePageLargerThanMemoryIsRefused) {
    expectRefused(
        scenario("processes:\n  - name: a\n    workload: {footprint: 1MiB}\n"
                 "    vmas: [{start: 0x40000000, size: 1GiB, prot: rw, page_size: 1GiB}]\n",
                 "cores: 1\nmemory: {size: 256MiB}\n"),
        {dir_ + "/s.yaml: process a: vmas[0]: 1GiB pages cannot be allocated in "
                "memory.size 256MiB",
         "at least 2GiB", "every fault would fall back to base pages"});
    const std::string cfg = write("system.yaml", kSmall + "memory: {size: 256MiB}\n");
    expectRefused(run("--config " + cfg + " -q --set workload.page_size=1GiB"),
                  {"workload.page_size: 1GiB pages cannot be allocated in memory.size 256MiB"});
    // 2 MiB pages fit in 256 MiB.
    EXPECT_EQ(run("--config " + cfg + " -q --set workload.page_size=2MiB").exit_code, 0);
}

} // namespace
