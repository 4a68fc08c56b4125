// Helpers for SystemC tests: build a system from YAML text, run it once (one per process).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "Config.h"
#include "Platform.h"
#include "SystemConfig.h"

namespace tlmmu::test {

inline SystemConfig makeSystem(const std::string& yaml, const std::vector<std::string>& sets = {}) {
    Config c = Config::fromString(yaml, "test.yaml");
    for (const auto& s : sets)
        c.set(s);
    return SystemConfig::fromConfig(c);
}

// Runs the system to completion and returns its statistics; any core error fails the test.
inline nlohmann::json runSystem(const SystemConfig& system) {
    Platform platform(system);
    platform.run();
    EXPECT_EQ(platform.error(), "");
    return platform.stats().toJson();
}

// A file of this test process's own folder (tests run in parallel), written with `text`.
inline std::string writeFile(const std::string& name, const std::string& text) {
    const std::string dir = ::testing::TempDir() + "tlmmu_test_" + std::to_string(::getpid());
    std::filesystem::create_directories(dir);
    const std::string path = dir + "/" + name;
    std::ofstream(path) << text;
    return path;
}

// Runs the tlmmu program on the configuration text `config` with extra arguments (a second run
// in one process would need a second elaboration) and returns its statistics; its exit status
// must be `expect_exit` (stderr is shown otherwise).
inline nlohmann::json runProgram(const std::string& config, const std::string& args = "",
                                 int expect_exit = 0) {
    const std::string cfg = writeFile("program.yaml", config);
    const std::string out = writeFile("program.json", ""), err = writeFile("program.err", "");
    std::filesystem::remove(out);
    const std::string cmd = std::string(TLMMU_BINARY_DIR) + "/testbench/tlmmu -q --config " + cfg +
                            " " + args + " --stats-json " + out + " 2> " + err;
    const int status = std::system(cmd.c_str());
    std::stringstream e;
    e << std::ifstream(err).rdbuf();
    EXPECT_EQ(WEXITSTATUS(status), expect_exit) << e.str();
    std::ifstream in(out);
    return in ? nlohmann::json::parse(in) : nlohmann::json();
}

// A one-core system running one task: a 4 KiB code VMA and a 16 KiB data VMA it streams over
// (1000 instructions, a store each: 3 demand faults), and events `first` (scenario event lines)
// then a map, a protect and an unmap of a page it never touches (nothing to zap or flush).
inline std::string oneTaskSystem(const std::string& file, const std::string& first = "") {
    const std::string scenario = R"(
processes:
  - name: a
    vmas:
      - {start: 0x400000, size: 4KiB, prot: rx}
      - {start: 0x800000, size: 16KiB, prot: rw}
    workload: {pattern: stream, footprint: 16KiB, data_base: 0x800000, code_footprint: 4KiB,
               instructions: 1000, refs_per_instruction: 1, write_fraction: 1}
    events:
)" + first + R"(      - {at: 700, map: {start: 0x900000, size: 4KiB, prot: r}}
      - {at: 800, protect: {start: 0x900000, size: 4KiB, prot: rw}}
      - {at: 900, unmap: {start: 0x900000, size: 4KiB}}
)";
    return "cores: 1\nworkload: {scenario: " + writeFile(file, scenario) + "}\n";
}

inline std::uint64_t u(const nlohmann::json& j) {
    return j.get<std::uint64_t>();
}

// Seed 002's setting: one core, no L2 TLB, no page-walk cache, x86-64 4-level tables,
// 150-cycle memory, free interconnect, CPI 1, prefaulted pages (no faults in the run).
inline const char* kSeedSystem = R"(
cores: 1
core: {base_cpi: 1}
mmu: {format: x86_64}
tlb:
  l1i: {entries: 64, ways: 4, latency_cycles: 0}
  l1d: {entries: 64, ways: 4, latency_cycles: 0}
  l2: {entries: 0}
walker: {pwc: {entries: 0}}
memory: {latency_cycles: 150}
interconnect: {latency_cycles: 0}
workload: {format: synthetic, prefault: true}
)";

} // namespace tlmmu::test
