// firmware.zero_page on the platform: the stress run (reads before writes, discards, fork,
// protect, unmap, swapping under a memory limit) maps the zero page and writes over it, and
// the checker sees no stale translation used and checked mode no wrong data, under every
// mechanism; off (the default) changes nothing (tests/firmware/zero_page_test.cpp checks the
// firmware's side, fault by fault, on the fake HAL).
#include <gtest/gtest.h>

#include <string>

#include "ShootdownScenarios.h"

namespace tlmmu::test {
namespace {

class ZeroPageStress : public testing::TestWithParam<const char*> {};

TEST_P(ZeroPageStress, NoViolationNoMismatch) {
    const auto r =
        runProgram(stressSystem(), kStressSets + " --set firmware.zero_page=true " + GetParam());
    EXPECT_GT(u(r["firmware"]["zero_page_maps"]), 0u);
    EXPECT_GT(u(r["firmware"]["zero_page_cows"]), 0u);
    expectStressClean(r);
}

INSTANTIATE_TEST_SUITE_P(
    Mechanisms, ZeroPageStress,
    testing::Values("", "--set firmware.shootdown.mechanism=directed",
                    "--set firmware.shootdown.mechanism=broadcast "
                    "--set invalidation.base_cycles=100 --set invalidation.hop_cycles=20"));

// The targets' skipped flush leaves another core reading the zero page through its stale
// translation after a write replaced it: checked mode's loads catch it (the run fails, exit 1).
// The safety checker tracks frees and revocations, and the zero page is never freed: a stale
// zero-page translation is wrong data, not a freed frame (as an old COW source's is).
TEST(ZeroPage, SkippedRemoteFlushIsStillCaught) {
    runProgram(stressSystem(),
               kStressSets + " --set firmware.zero_page=true --set "
                             "firmware.shootdown.inject=skip_remote_flush",
               1);
}

// Off is the default: the same statistics, value for value, with it set false.
TEST(ZeroPage, OffChangesNothing) {
    auto a = runProgram(stressSystem(), kStressSets);
    auto b = runProgram(stressSystem(), kStressSets + " --set firmware.zero_page=false");
    EXPECT_EQ(u(a["firmware"]["zero_page_maps"]), 0u);
    a.erase("config");
    b.erase("config");
    EXPECT_EQ(a, b);
}

} // namespace
} // namespace tlmmu::test
