// Whole system: the tlmmu program runs configs/rtl.yaml with the L1 DTLBs in RTL and again with
// the C++ model (tlb.l1d.impl=model); every statistic, cycles included, must be identical. Each
// run is its own process (one SystemC elaboration per process).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;

class RtlSystem : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = fs::path(::testing::TempDir()) / ("tlmmu_rtl_system_" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override {
        if (!HasFailure()) fs::remove_all(dir_);
    }

    // Runs tlmmu on configs/rtl.yaml with `sets`; returns the statistics JSON.
    nlohmann::json run(const std::string& name, const std::string& sets) {
        const fs::path json = dir_ / (name + ".json");
        const std::string cmd = std::string(TLMMU_BINARY_DIR) + "/testbench/tlmmu --config " +
                                TLMMU_SOURCE_DIR + "/configs/rtl.yaml -q --stats-json " +
                                json.string() + " " + sets + " > " + (dir_ / name).string() +
                                ".log 2>&1";
        const int status = std::system(cmd.c_str());
        EXPECT_EQ(status, 0) << cmd << "\n" << slurp(dir_ / (name + ".log"));
        std::ifstream in(json);
        if (!in) return nlohmann::json::object();
        return nlohmann::json::parse(in);
    }

    // rtl vs model with the same other settings: everything but config.tlb.l1d.impl is equal.
    void expectRtlEqualsModel(const std::string& sets) {
        nlohmann::json rtl = run("rtl", sets + " --set tlb.l1d.impl=rtl");
        nlohmann::json model = run("model", sets + " --set tlb.l1d.impl=model");
        ASSERT_TRUE(rtl.contains("cores") && model.contains("cores"));
        EXPECT_EQ(rtl["config"]["tlb"]["l1d"]["impl"], "rtl");
        rtl["config"]["tlb"]["l1d"]["impl"] = "model";
        EXPECT_GT(model["cores"][0]["tlb"]["l1d"]["hits"].get<std::uint64_t>(), 0u);
        EXPECT_GT(model["cores"][0]["tlb"]["l1d"]["misses"].get<std::uint64_t>(), 0u);
        for (std::size_t i = 0; i < model["cores"].size(); ++i) {
            EXPECT_EQ(rtl["cores"][i]["tlb"], model["cores"][i]["tlb"]) << "core " << i;
            EXPECT_EQ(rtl["cores"][i]["cycles"], model["cores"][i]["cycles"]) << "core " << i;
        }
        // All of it: walks, faults, memory traffic, firmware, simulated time.
        EXPECT_EQ(rtl, model) << "diff (rtl -> model): " << nlohmann::json::diff(rtl, model).dump();
    }

    static std::string slurp(const fs::path& p) {
        std::ifstream in(p);
        return std::string((std::istreambuf_iterator<char>(in)), {});
    }

    fs::path dir_;
};

TEST_F(RtlSystem, SyntheticZipfMatchesModel) {
    expectRtlEqualsModel("--set workload.synthetic.instructions=200000");
}

TEST_F(RtlSystem, FullyAssociativeSv39MatchesModel) {
    expectRtlEqualsModel("--set workload.synthetic.instructions=100000 --set mmu.format=sv39 "
                         "--set tlb.l1d.entries=32 --set tlb.l1d.ways=32 "
                         "--set workload.synthetic.pattern=random");
}

// A real program: valgrind lackey's trace of /bin/true (scripts/trace-program).
TEST_F(RtlSystem, RealProgramTraceMatchesModel) {
    if (std::system("command -v valgrind > /dev/null") != 0)
        GTEST_SKIP() << "valgrind is not installed";
    const fs::path trace = dir_ / "true.lackey";
    const std::string cmd = std::string("bash ") + TLMMU_SOURCE_DIR + "/scripts/trace-program -o " +
                            trace.string() + " -- /bin/true > /dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    expectRtlEqualsModel("--set cores=1 --set workload.format=lackey --set workload.trace=" +
                         trace.string());
}

// tlb.l1d.waveform switches the RTL's VCD on: one file per core's L1 DTLB.
TEST_F(RtlSystem, WaveformFromConfiguration) {
    const fs::path vcd = dir_ / "l1d.vcd";
    run("wave",
        "--set workload.synthetic.instructions=2000 --set tlb.l1d.waveform=" + vcd.string());
    for (const fs::path& p : {vcd, dir_ / "l1d.1.vcd"}) {
        ASSERT_TRUE(fs::exists(p)) << p;
        EXPECT_GT(fs::file_size(p), 1000u) << p;
        const std::string text = slurp(p);
        EXPECT_NE(text.find("$enddefinitions"), std::string::npos) << p;
        EXPECT_NE(text.find("resp_hit"), std::string::npos) << p;
    }
}

TEST_F(RtlSystem, RejectsReplacementTheRtlLacks) {
    const std::string cmd = std::string(TLMMU_BINARY_DIR) + "/testbench/tlmmu --config " +
                            TLMMU_SOURCE_DIR +
                            "/configs/rtl.yaml -q --set tlb.l1d.replacement=lru" + " > " +
                            (dir_ / "err.log").string() + " 2>&1";
    EXPECT_NE(std::system(cmd.c_str()), 0);
    EXPECT_NE(slurp(dir_ / "err.log").find("tlb.l1d.replacement: the RTL TLB implements plru only"),
              std::string::npos)
        << slurp(dir_ / "err.log");
}

} // namespace
