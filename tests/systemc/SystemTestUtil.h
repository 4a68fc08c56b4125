// Helpers for SystemC tests: build a system from YAML text, run it once (one per process).
#pragma once

#include <string>
#include <vector>

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
