// Output files: nothing the user had is lost (issue 16 B). One test per class, each running the
// real programs (tlmmu, tlmmu-trace) and asserting the exit code, the words on stderr and the
// files before and after.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ProgramTest.h"

namespace fs = std::filesystem;

namespace {

using Result = tlmmu::test::ProgramResult;

const std::string kSmall = "workload: {synthetic: {instructions: 2000, footprint: 64KiB}}\n";
const std::string kTrace = "I  00400000,4\n L 10000000,8\nI  00400004,4\n S 10000008,8\n";

class Outputs : public tlmmu::test::ProgramTest {
  protected:
    // Files of the folder that are none of `names` (temporary files left behind).
    std::vector<std::string> strays(std::initializer_list<std::string> names) const {
        std::vector<std::string> left;
        for (const auto& e : fs::directory_iterator(dir_)) {
            const std::string n = e.path().filename().string();
            if (n != "stdout" && n != "stderr" &&
                std::find(names.begin(), names.end(), n) == names.end())
                left.push_back(n);
        }
        return left;
    }
};

// --- an output that is another output ------------------------------------------------------------

TEST_F(Outputs, TimelineSameAsStatisticsIsRefused) {
    const std::string cfg = write("system.yaml", kSmall);
    const std::string stats = write("s.json", "previous statistics");
    for (const std::string& flag : {"--stats-json", "--stats-csv"}) {
        const Result r = run("--config " + cfg + " -q " + flag + " " + stats + " --timeline " +
                             dir_ + "/./s.json");
        EXPECT_EQ(r.exit_code, 2) << flag;
        expectOneLine(
            r.err, "tlmmu: error: ",
            {flag + " " + stats + " and --timeline " + dir_ + "/./s.json", "name the same file"});
        EXPECT_EQ(slurp(stats), "previous statistics");
    }
    // Not there yet: the same canonical path.
    const Result r = run("--config " + cfg + " -q --stats-json " + dir_ + "/n.json --stats-csv " +
                         dir_ + "/../" + fs::path(dir_).filename().string() + "/n.json");
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu: error: ", {"--stats-json", "--stats-csv", "name the same file"});
    EXPECT_FALSE(fs::exists(dir_ + "/n.json"));
    // Two outputs to stdout, or one with the summary.
    EXPECT_EQ(run("--config " + cfg + " -q --stats-json - --stats-csv -").exit_code, 2);
    const Result s = run("--config " + cfg + " --stats-json -");
    EXPECT_EQ(s.exit_code, 2);
    expectOneLine(s.err, "tlmmu: error: ", {"stdout", "-q"});
    // Two outputs to /dev/null lose nothing.
    EXPECT_EQ(run("--config " + cfg + " -q --stats-json /dev/null --timeline /dev/null").exit_code,
              0);
    EXPECT_EQ(strays({"system.yaml", "s.json"}), std::vector<std::string>{});
}

// --- an output that is an input ------------------------------------------------------------------

TEST_F(Outputs, OutputNamingAnInputIsRefused) {
    const std::string t = write("t.lackey", kTrace);
    const std::string cfg = write("system.yaml", "workload: {format: lackey, trace: t.lackey}\n");
    ASSERT_EQ(::link(t.c_str(), (dir_ + "/hardlink").c_str()), 0);
    for (const std::string& out : {t, dir_ + "/./t.lackey", dir_ + "/hardlink"})
        for (const std::string& flag : {"--stats-json", "--stats-csv", "--timeline"}) {
            const Result r = run("--config " + cfg + " -q " + flag + " " + out);
            EXPECT_EQ(r.exit_code, 2) << flag << " " << out;
            expectOneLine(r.err, "tlmmu: error: ",
                          {flag + " " + out + " is the input file " + t + " (workload.trace)",
                           "an output never overwrites an input"});
            EXPECT_EQ(slurp(t), kTrace);
        }
    // The configuration itself.
    Result r = run("--config " + cfg + " -q --stats-csv " + cfg);
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu: error: ", {"is the input file " + cfg + " (--config)"});
    // A scenario and the traces it names.
    const std::string scen =
        write("s.yaml", "processes:\n  - {name: a, workload: {format: lackey, trace: t.lackey}}\n");
    const std::string cfg2 = write("scen.yaml", "workload: {scenario: s.yaml}\n");
    r = run("--config " + cfg2 + " -q --stats-json " + scen);
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu: error: ", {"is the input file " + scen + " (workload.scenario)"});
    r = run("--config " + cfg2 + " -q --timeline " + t);
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err,
                  "tlmmu: error: ", {"is the input file " + t + " (the trace of process a in"});
    EXPECT_EQ(slurp(t), kTrace);
    // tlmmu-trace: OUT onto IN, and stdout onto the input (`dump t >> t` would read its output).
    r = trace("convert " + t + " " + dir_ + "/hardlink");
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err,
                  "tlmmu-trace: error: ", {"OUT " + dir_ + "/hardlink is the input file " + t});
    r = trace("dump " + t, ">> " + t);
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu-trace: error: ", {"stdout - is the input file " + t});
    EXPECT_EQ(slurp(t), kTrace);
}

// --- a refused run
// ---------------------------------------------------------------------------------

TEST_F(Outputs, RefusedRunLeavesPreviousFiles) {
    const std::string json = write("s.json", "old json"), csv = write("s.csv", "old csv");
    // Refused by the configuration (before the outputs are looked at) and after they were
    // prepared (a bad --timeline-window).
    std::string cfg = write("system.yaml", "cores: 1\ntlb: {l1d: {entrys: 3}}\n");
    Result r = run("--config " + cfg + " -q --stats-json " + json + " --stats-csv " + csv);
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu: error: ", {"unknown key 'tlb.l1d.entrys'"});
    cfg = write("system.yaml", kSmall);
    r = run("--config " + cfg + " -q --stats-json " + json + " --stats-csv " + csv +
            " --timeline " + dir_ + "/t.json --timeline-window 5");
    EXPECT_EQ(r.exit_code, 2);
    expectOneLine(r.err, "tlmmu: error: ", {"--timeline-window"});
    EXPECT_EQ(slurp(json), "old json");
    EXPECT_EQ(slurp(csv), "old csv");
    EXPECT_FALSE(fs::exists(dir_ + "/t.json"));
    EXPECT_EQ(strays({"system.yaml", "s.json", "s.csv"}), std::vector<std::string>{});
    // A file that cannot be written is refused before the run; the other stays as it was.
    ::chmod(csv.c_str(), 0444);
    if (::access(csv.c_str(), W_OK) != 0) { // not as root
        r = run("--config " + cfg + " -q --stats-json " + json + " --stats-csv " + csv);
        EXPECT_EQ(r.exit_code, 2);
        expectOneLine(r.err, "tlmmu: error: ", {csv + ": cannot write: Permission denied"});
        EXPECT_EQ(slurp(json), "old json");
    }
}

// --- a run that succeeds -----------------------------------------------------------------------

TEST_F(Outputs, FinishedRunReplacesTheFileWhole) {
    const std::string cfg = write("system.yaml", kSmall);
    const std::string json = write("s.json", "old json");
    ::chmod(json.c_str(), 0640);
    // Through a symbolic link: the file it points to is replaced, the link stays.
    write("real.csv", "old csv");
    fs::create_symlink("real.csv", dir_ + "/link.csv");
    const Result r =
        run("--config " + cfg + " -q --stats-json " + json + " --stats-csv " + dir_ + "/link.csv");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(slurp(json).rfind("{", 0), 0u);
    struct stat st {};
    ASSERT_EQ(::stat(json.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u); // the previous file's permissions
    EXPECT_TRUE(fs::is_symlink(dir_ + "/link.csv"));
    EXPECT_NE(slurp(dir_ + "/real.csv"), "old csv");
    EXPECT_EQ(strays({"system.yaml", "s.json", "real.csv", "link.csv"}),
              std::vector<std::string>{});
}

// --- SIGINT, SIGTERM -----------------------------------------------------------------------------

TEST_F(Outputs, InterruptedRunLeavesPreviousFiles) {
    // A run of many seconds.
    const std::string cfg = write(
        "system.yaml", "workload: {synthetic: {instructions: 4000000000, footprint: 64MiB}}\n");
    const std::string json = write("s.json", "old json"), csv = write("s.csv", "old csv");
    for (const int sig : {SIGINT, SIGTERM}) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            const int err = ::open((dir_ + "/stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            ::dup2(err, 2);
            const std::string bin = std::string(TLMMU_BINARY_DIR) + "/testbench/tlmmu";
            ::execl(bin.c_str(), bin.c_str(), "--config", cfg.c_str(), "-q", "--stats-json",
                    json.c_str(), "--stats-csv", csv.c_str(), "--timeline",
                    (dir_ + "/t.json").c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        // Until the temporary files exist (the run is under way), then a little longer.
        for (int i = 0; i < 400 && strays({"system.yaml", "s.json", "s.csv"}).size() < 3; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        EXPECT_EQ(strays({"system.yaml", "s.json", "s.csv"}).size(), 3u);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        ::kill(pid, sig);
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
        EXPECT_EQ(WEXITSTATUS(status), 128 + sig);
        const Result r{WEXITSTATUS(status), "", slurp(dir_ + "/stderr")};
        expectOneLine(r.err, "tlmmu: interrupted by ",
                      {sig == SIGINT ? "SIGINT" : "SIGTERM", "no output written",
                       "the previous files are as they were"});
        EXPECT_EQ(slurp(json), "old json");
        EXPECT_EQ(slurp(csv), "old csv");
        EXPECT_FALSE(fs::exists(dir_ + "/t.json"));
        fs::remove(dir_ + "/stderr");
        EXPECT_EQ(strays({"system.yaml", "s.json", "s.csv"}), std::vector<std::string>{});
    }
}

// --- special files -------------------------------------------------------------------------------

TEST_F(Outputs, SpecialFilesAreWrittenInPlace) {
    const std::string t = write("t.lackey", kTrace);
    const std::string cfg = write("system.yaml", kSmall);
    struct stat before {
    }, after{};
    ASSERT_EQ(::stat("/dev/null", &before), 0);
    Result r = trace("convert " + t + " /dev/null");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "/dev/null: 2 records\n");
    r = run("--config " + cfg + " -q --stats-json /dev/null --stats-csv /dev/null");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(::stat("/dev/null", &after), 0);
    EXPECT_TRUE(S_ISCHR(after.st_mode));
    EXPECT_EQ(before.st_ino, after.st_ino);
    EXPECT_EQ(before.st_rdev, after.st_rdev);
    // A FIFO: written through, still a FIFO.
    const std::string fifo = dir_ + "/fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    for (const std::string& args : {"convert " + t + " " + fifo,
                                    std::string("--config ") + cfg + " -q --stats-json " + fifo}) {
        std::string got;
        std::thread reader([&] { got = slurp(fifo); });
        r = args.rfind("convert", 0) == 0 ? trace(args) : run(args);
        reader.join();
        EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
        EXPECT_TRUE(fs::is_fifo(fifo)) << args;
        EXPECT_TRUE(got.rfind("TLMMUTR1", 0) == 0 || got.rfind("{", 0) == 0) << args;
    }
}

// --- write errors --------------------------------------------------------------------------------

TEST_F(Outputs, FullDeviceIsAWriteError) {
    if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full on this machine";
    const std::string cfg = write("system.yaml", kSmall);
    const std::string t = write("t.lackey", kTrace);
    for (const std::string& args :
         {std::string("--list-keys"), std::string("--list-keys-json"),
          std::string("--keys-markdown"), "--config " + cfg + " --print-config",
          "--config " + cfg + " --list-stats", "--config " + cfg + " --list-stats-json",
          "--config " + cfg}) {
        const Result r = run(args, "> /dev/full");
        EXPECT_EQ(r.exit_code, 1) << args;
        expectOneLine(r.err, "tlmmu: error: ", {"stdout: write failed: No space left on device"});
    }
    Result r = run("--config " + cfg + " -q --timeline /dev/full");
    EXPECT_EQ(r.exit_code, 1);
    expectOneLine(r.err, "tlmmu: error: ", {"/dev/full: write failed: No space left on device"});
    for (const std::string& args : {"stats " + t, "dump " + t}) {
        r = trace(args, "> /dev/full");
        EXPECT_EQ(r.exit_code, 1) << args;
        expectOneLine(r.err,
                      "tlmmu-trace: error: ", {"stdout: write failed: No space left on device"});
    }
    r = trace("convert " + t + " /dev/full");
    EXPECT_EQ(r.exit_code, 1);
    expectOneLine(r.err, "tlmmu-trace: error: ", {"/dev/full: write failed"});
    EXPECT_TRUE(fs::is_character_file("/dev/full"));
}

} // namespace

namespace {

// A regular file whose new version cannot be written whole (here: a file size limit, EFBIG):
// exit 1 naming the path, the previous file as it was, no temporary file left.
TEST_F(Outputs, FailedWriteLeavesThePreviousFile) {
    const std::string cfg = write("system.yaml", kSmall);
    const std::string json = write("s.json", "old json"), csv = write("s.csv", "old csv");
    const std::string bin = std::string(TLMMU_BINARY_DIR) + "/testbench/tlmmu";
    // 4 blocks: more than the CSV's first line, less than the statistics.
    const std::string cmd = "sh -c \"trap '' XFSZ; ulimit -f 4; " + bin + " --config " + cfg +
                            " -q --stats-json " + json + " --stats-csv " + csv + "\" 2> " + dir_ +
                            "/stderr";
    const int status = std::system(cmd.c_str());
    const Result r{WEXITSTATUS(status), "", slurp(dir_ + "/stderr")};
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("tlmmu: error: " + json + ": write failed: File too large\n"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(slurp(json), "old json");
    EXPECT_EQ(slurp(csv), "old csv");
    EXPECT_EQ(strays({"system.yaml", "s.json", "s.csv"}), std::vector<std::string>{});
}

} // namespace
