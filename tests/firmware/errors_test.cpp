// errors.c: every error code and kill reason has words of its own.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "kernel/mm.h"

namespace {

TEST(ErrorsTest, EveryErrorCodeHasItsOwnWords) {
    const std::string unknown = fw_strerror(-1000);
    EXPECT_EQ(unknown, "unknown firmware error");
    EXPECT_EQ(std::string(fw_strerror(1)), unknown);
    std::set<std::string> seen;
    for (int rc = FW_OK; rc >= FW_ERR_BUSY; --rc) {
        const std::string words = fw_strerror(rc);
        EXPECT_NE(words, unknown) << rc;
        EXPECT_GT(words.size(), 6u) << rc;
        EXPECT_TRUE(seen.insert(words).second) << rc << " repeats " << words;
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(1 - FW_ERR_BUSY));
    // The limits are named with their values.
    const std::string limit = fw_strerror(FW_ERR_LIMIT);
    for (const char* part :
         {"FW_MAX_PROCESSES 64", "FW_MAX_TASKS 128", "FW_MAX_VMAS 128", "FW_MAX_SHM 16"})
        EXPECT_NE(limit.find(part), std::string::npos) << limit;
    EXPECT_NE(std::string(fw_strerror(FW_ERR_INVAL)).find("misaligned"), std::string::npos);
}

TEST(ErrorsTest, EveryKillReasonHasItsOwnWords) {
    std::set<std::string> seen;
    for (int r = FW_KILL_NONE; r <= FW_KILL_OUT_OF_MEMORY; ++r) {
        const std::string words = fw_kill_reason_str(static_cast<fw_kill_reason>(r));
        EXPECT_NE(words, "unknown kill reason") << r;
        EXPECT_TRUE(seen.insert(words).second) << r;
    }
    EXPECT_EQ(std::string(fw_kill_reason_str(static_cast<fw_kill_reason>(99))),
              "unknown kill reason");
}

} // namespace
