// A fixture for tests that run the real programs (tlmmu, tlmmu-trace): a fresh folder per test,
// files written into it, a run's exit code, stdout and stderr, and the one-line error check.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>

#include <gtest/gtest.h>
#include <unistd.h>

namespace tlmmu::test {

struct ProgramResult {
    int exit_code;
    std::string out, err;
};

class ProgramTest : public ::testing::Test {
  protected:
    void SetUp() override {
        // The process id in the name: test runs of two checkouts at once share /tmp.
        dir_ = ::testing::TempDir() + "tlmmu_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
               std::to_string(::getpid());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string& name, const std::string& text) {
        const std::string path = dir_ + "/" + name;
        std::ofstream(path) << text;
        return path;
    }
    static std::string slurp(const std::string& p) {
        std::stringstream ss;
        ss << std::ifstream(p).rdbuf();
        return ss.str();
    }
    // build/testbench/`program` with `args`; `redirect` replaces the default "> DIR/stdout"
    // (then out is empty).
    ProgramResult runProgram(const std::string& program, const std::string& args,
                             const std::string& redirect = "") {
        const std::string err = dir_ + "/stderr", out = dir_ + "/stdout";
        const std::string cmd = std::string(TLMMU_BINARY_DIR) + "/testbench/" + program + " " +
                                args + " " + (redirect.empty() ? "> " + out : redirect) + " 2> " +
                                err;
        const int status = std::system(cmd.c_str());
        return {WEXITSTATUS(status), redirect.empty() ? slurp(out) : "", slurp(err)};
    }
    ProgramResult run(const std::string& args, const std::string& redirect = "") {
        return runProgram("tlmmu", args, redirect);
    }
    ProgramResult trace(const std::string& args, const std::string& redirect = "") {
        return runProgram("trace/tlmmu-trace", args, redirect);
    }
    // One line on stderr (`err`), starting with `head`, containing every one of `words`.
    static void expectOneLine(const std::string& err, const std::string& head,
                              const std::vector<std::string>& words) {
        EXPECT_EQ(err.rfind(head, 0), 0u) << err;
        EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
        for (const std::string& w : words)
            EXPECT_NE(err.find(w), std::string::npos) << "missing '" << w << "' in: " << err;
    }
    std::string dir_;
};

} // namespace tlmmu::test
