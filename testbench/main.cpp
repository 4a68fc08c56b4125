// tlmmu: runs one system from a YAML configuration and writes its statistics.
//
// Exit codes (docs/errors.md): 0 the run succeeded; 1 the run failed (or its statistics could
// not be written); 2 refused before the run (command line, configuration, scenario, traces,
// output paths). Every error is one line on stderr: "tlmmu: error: WHERE: WHAT".
#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "Platform.h"
#include "StatList.h"

#ifndef TLMMU_VERSION
#define TLMMU_VERSION "unknown"
#endif

namespace {

constexpr int kOk = 0, kRunFailed = 1, kRefused = 2;

// A statistics file, opened (created or truncated) before the run so that a bad path is refused
// before any time is spent, and written after it with every write error detected.
struct OutputFile {
    std::string path;
    std::ofstream out;

    void open() {
        errno = 0;
        out.open(path, std::ios::out | std::ios::trunc);
        if (!out)
            throw tlmmu::InputError(
                path + ": cannot write: " + (errno ? std::strerror(errno) : "cannot open"));
    }
    // "" on success, else the error.
    std::string write(const std::function<void(std::ostream&)>& fn) {
        errno = 0;
        fn(out);
        out.flush();
        const int after_flush = errno;
        out.close();
        if (!out)
            return path + ": write failed: " +
                   std::strerror(after_flush ? after_flush
                                 : errno     ? errno
                                             : EIO);
        return "";
    }
};

bool sameFile(const std::string& a, const std::string& b) {
    struct stat sa {
    }, sb{};
    if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    std::error_code ea, eb; // not there yet: the same path spelt differently
    return std::filesystem::weakly_canonical(a, ea) == std::filesystem::weakly_canonical(b, eb);
}

void error(const std::string& what) {
    std::cerr << "tlmmu: error: " << what << "\n";
}

} // namespace

int sc_main(int argc, char* argv[]) {
    CLI::App app{"tlmmu: a SystemC/TLM-2.0 model of a multi-core virtual-memory subsystem"};
    std::string config_path;
    OutputFile json, csv, timeline;
    std::string timeline_window;
    std::vector<std::string> sets;
    bool list_keys = false, list_keys_json = false, keys_markdown = false, print_config = false,
         version = false, quiet = false, strict = false, list_stats = false,
         list_stats_json = false, stats_markdown = false;
    app.add_option("-c,--config", config_path, "system configuration (YAML)");
    app.add_option("--set", sets, "override a key: --set tlb.l1d.entries=32 (repeatable)");
    app.add_option("--stats-json", json.path, "write every statistic to this JSON file");
    app.add_option("--stats-csv", csv.path, "write every statistic to this CSV file");
    app.add_option("--timeline", timeline.path,
                   "write a Chrome trace-event JSON timeline (Perfetto, chrome://tracing)");
    app.add_option("--timeline-window", timeline_window,
                   "only events in START:END of simulated time, in ns (END empty: to the end)");
    app.add_flag("--list-keys", list_keys,
                 "print every configuration key: type, default, allowed values, meaning");
    app.add_flag("--list-keys-json", list_keys_json, "the same as one JSON object, for tools");
    app.add_flag("--keys-markdown", keys_markdown, "the same as docs/keys.md (Markdown)");
    app.add_flag("--list-stats", list_stats,
                 "print every statistic of the configured system: unit, kind, whether it adds "
                 "up, meaning");
    app.add_flag("--list-stats-json", list_stats_json, "the same as one JSON object, for tools");
    app.add_flag("--stats-markdown", stats_markdown, "the same as docs/stats.md (Markdown)");
    app.add_flag("--strict", strict,
                 "refuse keys set where they can have no effect (else: one warning)");
    app.add_flag("--print-config", print_config,
                 "print the resolved configuration (defaults included) as YAML and exit");
    app.add_flag("--version", version, "print the version and exit");
    app.add_flag("-q,--quiet", quiet, "no summary on stdout");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e); // prints the help, 0
    } catch (const CLI::ParseError& e) {
        error(std::string(e.what()) + " (see tlmmu --help)");
        return kRefused;
    }
    if (version) {
        std::cout << "tlmmu " << TLMMU_VERSION << "\n";
        return kOk;
    }

    // Everything up to the start of the simulation: any error refuses the run (exit 2).
    std::unique_ptr<tlmmu::Platform> platform;
    try {
        if (list_keys || list_keys_json || keys_markdown) {
            std::cout << (keys_markdown ? tlmmu::keysMarkdown()
                                        : tlmmu::describeKeys(list_keys_json));
            std::cout.flush();
            if (!std::cout) throw tlmmu::InputError("stdout: write failed");
            return kOk;
        }
        tlmmu::Config config;
        if (config_path.empty())
            throw tlmmu::InputError("--config FILE is required (see configs/)");
        config = tlmmu::Config::fromFile(config_path);
        for (const auto& s : sets)
            config.set(s);
        const tlmmu::SystemConfig system = tlmmu::SystemConfig::fromConfig(config, strict);
        if (!system.ineffective.empty()) {
            // One warning, naming them all.
            std::string all;
            for (const auto& line : system.ineffective)
                all += (all.empty() ? "" : "; ") + line;
            std::cerr << "tlmmu: warning: keys without effect (--strict refuses them): " << all
                      << "\n";
        }
        if (print_config) {
            std::cout << system.toYaml();
            return kOk;
        }
        sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated",
                                                sc_core::SC_DO_NOTHING);
        if (list_stats || list_stats_json || stats_markdown) {
            // The system is built, not run: its statistics are known once it is assembled.
            const tlmmu::Platform described(system);
            std::cout << tlmmu::describeStats(described.stats(),
                                              stats_markdown    ? tlmmu::StatListFormat::Markdown
                                              : list_stats_json ? tlmmu::StatListFormat::Json
                                                                : tlmmu::StatListFormat::Text);
            std::cout.flush();
            if (!std::cout) throw tlmmu::InputError("stdout: write failed");
            return kOk;
        }
        if (!json.path.empty() && !csv.path.empty() && sameFile(json.path, csv.path))
            throw tlmmu::InputError("--stats-json and --stats-csv name the same file " + csv.path);
        for (OutputFile* f : {&json, &csv, &timeline})
            if (!f->path.empty()) f->open();
        if (!timeline_window.empty() && timeline.path.empty())
            throw tlmmu::InputError("--timeline-window needs --timeline FILE");
        platform = std::make_unique<tlmmu::Platform>(system);
        if (!timeline.path.empty()) {
            std::uint64_t from = 0, to = 0;
            if (!timeline_window.empty()) {
                const auto colon = timeline_window.find(':');
                const auto a = tlmmu::parseUint(timeline_window.substr(0, colon));
                const auto b = colon == std::string::npos ? std::optional<std::uint64_t>()
                               : timeline_window.substr(colon + 1).empty()
                                   ? std::optional<std::uint64_t>(0)
                                   : tlmmu::parseUint(timeline_window.substr(colon + 1));
                if (!a || !b || (*b != 0 && *b <= *a) || *a > UINT64_MAX / 1000 ||
                    *b > UINT64_MAX / 1000)
                    throw tlmmu::InputError("--timeline-window: expected START:END in ns with "
                                            "START < END (END empty: to the end), got '" +
                                            timeline_window + "'");
                from = *a * 1000, to = *b * 1000;
            }
            platform->enableTimeline(from, to);
        }
    } catch (const tlmmu::InputError& e) {
        error(e.what());
        return kRefused;
    } catch (const sc_core::sc_report& e) {
        error(std::string("SystemC, while building the system: ") + e.what());
        return kRunFailed;
    } catch (const std::exception& e) {
        error(std::string("internal error while building the system: ") + e.what());
        return kRunFailed;
    }

    // The run: its own failure and a failure to write the statistics are both reported; either
    // makes the exit code 1.
    std::string run_error;
    double host_s = 0;
    try {
        const auto t0 = std::chrono::steady_clock::now();
        if (isatty(STDERR_FILENO)) {
            // Progress for a person watching: instructions, simulated time, host speed, time
            // left when the workloads say how long they are.
            const std::uint64_t total = platform->expectedInstructions();
            auto last = t0;
            auto show = [&] {
                const auto now = std::chrono::steady_clock::now();
                if (now - last < std::chrono::milliseconds(500)) return;
                last = now;
                const double s = std::chrono::duration<double>(now - t0).count();
                const std::uint64_t done = platform->instructions();
                std::ostringstream line;
                line << "\rtlmmu: " << done << " instructions";
                if (total) line << " of " << total;
                line << ", " << sc_core::sc_time_stamp().to_seconds() * 1e6 << " us simulated, "
                     << std::fixed << std::setprecision(2) << done / s / 1e6 << " M instr/s";
                if (total && done)
                    line << ", " << s * (double(total) / double(done) - 1) << " s left";
                std::cerr << line.str() << "   " << std::flush;
            };
            platform->run(show);
            if (last != t0) std::cerr << "\n";
        } else {
            platform->run();
        }
        host_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        run_error = platform->error();
    } catch (const sc_core::sc_report& e) {
        run_error = e.what();
    } catch (const std::exception& e) {
        run_error = e.what();
    }
    std::vector<std::string> output_errors;
    try {
        if (!json.path.empty())
            if (auto e = json.write(
                    [&](std::ostream& o) { o << platform->stats().toJson().dump(2) << "\n"; });
                !e.empty())
                output_errors.push_back(e);
        if (!csv.path.empty())
            if (auto e = csv.write([&](std::ostream& o) { platform->stats().writeCsv(o); });
                !e.empty())
                output_errors.push_back(e);
        if (!timeline.path.empty())
            if (auto e = timeline.write(
                    [&](std::ostream& o) { o << platform->timelineJson().dump() << "\n"; });
                !e.empty())
                output_errors.push_back(e);
        if (!quiet) {
            platform->printSummary(std::cout);
            std::cout << "host time " << host_s << " s\n";
            std::cout.flush();
            if (!std::cout) output_errors.push_back("stdout: write failed");
        }
    } catch (const std::exception& e) {
        output_errors.push_back(std::string("writing the statistics: ") + e.what());
    }
    // One line, whatever the source (a SystemC report spans several).
    for (char& c : run_error)
        if (c == '\n') c = ' ';
    if (!run_error.empty()) error(run_error);
    for (const auto& e : output_errors)
        error(e);
    return run_error.empty() && output_errors.empty() ? kOk : kRunFailed;
}

// Our own main (it takes precedence over libsystemc's) so that the banner can be turned off
// before the SystemC kernel starts.
int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
