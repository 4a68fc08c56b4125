// firmware.cost.* from the key table to the core's time (issue 18): on one core (no waits, no
// other core's timing) each cost adds exactly its count times its value to the core's cycles and
// to the kernel's part of its CPI stack (os and fault), and nothing else changes
// (tests/firmware/cost_test.cpp checks each charge point on the fake HAL, with shootdowns).
#include <gtest/gtest.h>

#include <string>

#include "SystemTestUtil.h"

namespace tlmmu::test {
namespace {

// One task (oneTaskSystem): 3 demand faults (its code page, the two data pages it reaches), 3
// system calls (a map, a protect and an unmap of a page it never touches: nothing to zap or flush),
// 3 leaves zapped at its exit. No discard of a mapped page: on this branch a local invalidation
// counts the core's pending time twice (Mmu's wait for the core's own reached time), which would
// blur the counts.

struct Case {
    const char* cost;
    std::uint64_t times;
};

class OneCoreCost : public testing::TestWithParam<Case> {};

TEST_P(OneCoreCost, AddsItsCountTimesItsValue) {
    const Case c = GetParam();
    const std::string system = oneTaskSystem("costs.yaml");
    const auto free = runProgram(system);
    const auto paid = runProgram(system, std::string("--set firmware.cost.") + c.cost + "=1000");
    const auto& f = free["cores"][0];
    const auto& p = paid["cores"][0];
    ASSERT_EQ(u(free["firmware"]["demand_faults"]), 3u);
    EXPECT_EQ(u(p["cycles"]), u(f["cycles"]) + c.times * 1000) << c.cost;
    // In the CPI stack: the faults' work under fault, the system calls' and the exit's under os.
    const auto kernel = [](const nlohmann::json& core) {
        return u(core["cpi_stack"]["os"]) + u(core["cpi_stack"]["fault"]);
    };
    EXPECT_EQ(kernel(p), kernel(f) + c.times * 1000) << c.cost;
    EXPECT_EQ(p["faults"], f["faults"]);
    EXPECT_EQ(paid["firmware"], free["firmware"]);
}

INSTANTIATE_TEST_SUITE_P(
    Costs, OneCoreCost,
    testing::Values(Case{"syscall_dispatch", 3}, Case{"vma_lookup", 3 + 2}, Case{"page_alloc", 3},
                    Case{"rmap_add", 3}, Case{"lru_add", 3}, Case{"zap_pte", 3},
                    Case{"rmap_remove", 3}, Case{"page_free", 3}, Case{"flush_setup", 0}),
    [](const testing::TestParamInfo<Case>& i) { return std::string(i.param.cost); });

} // namespace
} // namespace tlmmu::test
