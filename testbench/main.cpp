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

#include "OutputFile.h"
#include "Platform.h"
#include "StatList.h"

#ifndef TLMMU_VERSION
#define TLMMU_VERSION "unknown"
#endif

namespace {

constexpr int kOk = 0, kRunFailed = 1, kRefused = 2;

void error(const std::string& what) {
    std::cerr << "tlmmu: error: " << what << "\n";
}

// The command line.
struct Options {
    std::string config_path, json_path, csv_path, timeline_path;
    std::string timeline_window;
    std::vector<std::string> sets;
    bool list_keys = false, list_keys_json = false, keys_markdown = false, print_config = false,
         version = false, quiet = false, strict = false, list_stats = false,
         list_stats_json = false, stats_markdown = false;
};

void addOptions(CLI::App& app, Options& o) {
    app.add_option("-c,--config", o.config_path, "system configuration (YAML)");
    app.add_option("--set", o.sets, "override a key: --set tlb.l1d.entries=32 (repeatable)");
    app.add_option("--stats-json", o.json_path, "write every statistic to this JSON file");
    app.add_option("--stats-csv", o.csv_path, "write every statistic to this CSV file");
    app.add_option("--timeline", o.timeline_path,
                   "write a Chrome trace-event JSON timeline (Perfetto, chrome://tracing)");
    app.add_option("--timeline-window", o.timeline_window,
                   "only events in START:END of simulated time, in ns (END empty: to the end)");
    app.add_flag("--list-keys", o.list_keys,
                 "print every configuration key: type, default, allowed values, meaning");
    app.add_flag("--list-keys-json", o.list_keys_json, "the same as one JSON object, for tools");
    app.add_flag("--keys-markdown", o.keys_markdown, "the same as docs/keys.md (Markdown)");
    app.add_flag("--list-stats", o.list_stats,
                 "print every statistic of the configured system: unit, kind, whether it adds "
                 "up, meaning");
    app.add_flag("--list-stats-json", o.list_stats_json, "the same as one JSON object, for tools");
    app.add_flag("--stats-markdown", o.stats_markdown, "the same as docs/stats.md (Markdown)");
    app.add_flag("--strict", o.strict,
                 "refuse keys set where they can have no effect (else: one warning)");
    app.add_flag("--print-config", o.print_config,
                 "print the resolved configuration (defaults included) as YAML and exit");
    app.add_flag("--version", o.version, "print the version and exit");
    app.add_flag("-q,--quiet", o.quiet, "no summary on stdout");
}

// Writes text to stdout: the exit code of a listing.
int printed(const std::string& text) {
    const std::string e = tlmmu::writeStdout(text);
    if (!e.empty()) error(e);
    return e.empty() ? kOk : kRunFailed;
}

// The configuration file with the --set overrides, resolved and checked.
tlmmu::SystemConfig readSystem(const Options& o) {
    tlmmu::Config config;
    if (o.config_path.empty()) throw tlmmu::InputError("--config FILE is required (see configs/)");
    config = tlmmu::Config::fromFile(o.config_path);
    for (const auto& s : o.sets)
        config.set(s);
    tlmmu::SystemConfig system = tlmmu::SystemConfig::fromConfig(config, o.strict);
    if (!system.ineffective.empty()) {
        // One warning, naming them all.
        std::string all;
        for (const auto& line : system.ineffective)
            all += (all.empty() ? "" : "; ") + line;
        std::cerr << "tlmmu: warning: keys without effect (--strict refuses them): " << all << "\n";
    }
    return system;
}

// --list-stats and its kin: the system is built, not run (its statistics are known once it is
// assembled).
int listStats(const tlmmu::SystemConfig& system, const Options& o) {
    const tlmmu::Platform described(system);
    return printed(
        tlmmu::describeStats(described.stats(), o.stats_markdown ? tlmmu::StatListFormat::Markdown
                                                : o.list_stats_json ? tlmmu::StatListFormat::Json
                                                                    : tlmmu::StatListFormat::Text));
}

// Every file the run reads, and those Verilator writes on its own: no output may be one of them.
void declareFiles(tlmmu::Outputs& outputs, const Options& o, const tlmmu::SystemConfig& system) {
    outputs.input("--config", o.config_path);
    outputs.input("workload.scenario", system.scenario);
    if (system.workload.format != "synthetic")
        outputs.input("workload.trace", system.workload.trace);
    if (system.scenario_parsed)
        for (const auto& p : system.scenario_parsed->processes)
            for (std::size_t t = 0; t < p.threads.size(); ++t)
                if (p.threads[t].workload.format != "synthetic")
                    outputs.input("the trace of process " + p.name +
                                      (p.threads.size() > 1 ? " thread " + std::to_string(t)
                                                            : std::string()) +
                                      " in " + system.scenario,
                                  p.threads[t].workload.trace);
    const std::pair<const char*, const tlmmu::TlbConfig*> tlbs[] = {
        {"tlb.l1i", &system.mmu.l1i}, {"tlb.l1d", &system.mmu.l1d}, {"tlb.l2", &system.mmu.l2}};
    for (const auto& [name, tlb] : tlbs) // VCD files, written by Verilator
        if (tlb->impl == "rtl") outputs.external(std::string(name) + ".waveform", tlb->waveform);
}

// The files the run writes (null: not asked for).
struct RunFiles {
    tlmmu::OutputFile *json = nullptr, *csv = nullptr, *timeline = nullptr;
};

RunFiles prepareOutputs(tlmmu::Outputs& outputs, const Options& o) {
    RunFiles files;
    files.json = outputs.output("--stats-json", o.json_path);
    files.csv = outputs.output("--stats-csv", o.csv_path);
    files.timeline = outputs.output("--timeline", o.timeline_path);
    if (!o.quiet)
        for (const tlmmu::OutputFile* f : {files.json, files.csv, files.timeline})
            if (f && f->path() == "-")
                throw tlmmu::InputError(f->what() + " -: stdout carries the summary too; add -q");
    outputs.prepare();
    if (!o.timeline_window.empty() && !files.timeline)
        throw tlmmu::InputError("--timeline-window needs --timeline FILE");
    return files;
}

// --timeline-window START:END in ns, as [from, to) in ps (to 0: to the end).
std::pair<std::uint64_t, std::uint64_t> timelineWindow(const std::string& window) {
    if (window.empty()) return {0, 0};
    const auto colon = window.find(':');
    const auto a = tlmmu::parseUint(window.substr(0, colon));
    const auto b = colon == std::string::npos         ? std::optional<std::uint64_t>()
                   : window.substr(colon + 1).empty() ? std::optional<std::uint64_t>(0)
                                                      : tlmmu::parseUint(window.substr(colon + 1));
    if (!a || !b || (*b != 0 && *b <= *a) || *a > UINT64_MAX / 1000 || *b > UINT64_MAX / 1000)
        throw tlmmu::InputError("--timeline-window: expected START:END in ns with "
                                "START < END (END empty: to the end), got '" +
                                window + "'");
    return {*a * 1000, *b * 1000};
}

// Runs showing progress for a person watching: instructions, simulated time, host speed, time
// left when the workloads say how long they are.
void runWithProgress(tlmmu::Platform& platform) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t total = platform.expectedInstructions();
    auto last = t0;
    auto show = [&] {
        const auto now = std::chrono::steady_clock::now();
        if (now - last < std::chrono::milliseconds(500)) return;
        last = now;
        const double s = std::chrono::duration<double>(now - t0).count();
        const std::uint64_t done = platform.instructions();
        std::ostringstream line;
        line << "\rtlmmu: " << done << " instructions";
        if (total) line << " of " << total;
        line << ", " << sc_core::sc_time_stamp().to_seconds() * 1e6 << " us simulated, "
             << std::fixed << std::setprecision(2) << done / s / 1e6 << " M instr/s";
        if (total && done) line << ", " << s * (double(total) / double(done) - 1) << " s left";
        std::cerr << line.str() << "   " << std::flush;
    };
    platform.run(show);
    if (last != t0) std::cerr << "\n";
}

// The run; its failure in words (empty: none). host_s: the host time it took.
std::string run(tlmmu::Platform& platform, double& host_s) {
    try {
        const auto t0 = std::chrono::steady_clock::now();
        if (isatty(STDERR_FILENO))
            runWithProgress(platform);
        else
            platform.run();
        host_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return platform.error();
    } catch (const sc_core::sc_report& e) {
        return e.what();
    } catch (const std::exception& e) {
        return e.what();
    }
}

// The statistics, the timeline and the summary; the failures to write them.
std::vector<std::string> writeResults(const tlmmu::Platform& platform, const RunFiles& files,
                                      tlmmu::Outputs& outputs, bool quiet, double host_s) {
    std::vector<std::string> output_errors;
    try {
        auto write = [&](tlmmu::OutputFile* f, const std::function<void(std::ostream&)>& fn) {
            if (f)
                if (auto e = f->write(fn); !e.empty()) output_errors.push_back(e);
        };
        write(files.json, [&](std::ostream& o) { o << platform.stats().toJson().dump(2) << "\n"; });
        write(files.csv, [&](std::ostream& o) { platform.stats().writeCsv(o); });
        write(files.timeline,
              [&](std::ostream& o) { o << platform.timelineJson().dump() << "\n"; });
        for (auto& e : outputs.commit())
            output_errors.push_back(e);
        if (!quiet) {
            tlmmu::OutputFile summary("stdout", "-");
            write(&summary, [&](std::ostream& o) {
                platform.printSummary(o);
                o << "host time " << host_s << " s\n";
            });
        }
    } catch (const std::exception& e) {
        output_errors.push_back(std::string("writing the statistics: ") + e.what());
    }
    return output_errors;
}

} // namespace

int sc_main(int argc, char* argv[]) {
    CLI::App app{"tlmmu: a SystemC/TLM-2.0 model of a multi-core virtual-memory subsystem"};
    // First, so that a signal at any time removes the temporary files (OutputFile.h).
    tlmmu::Outputs outputs("tlmmu");
    Options o;
    addOptions(app, o);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e); // prints the help, 0
    } catch (const CLI::ParseError& e) {
        error(std::string(e.what()) + " (see tlmmu --help)");
        return kRefused;
    }
    if (o.version) {
        std::cout << "tlmmu " << TLMMU_VERSION << "\n";
        return kOk;
    }

    // Everything up to the start of the simulation: any error refuses the run (exit 2).
    std::unique_ptr<tlmmu::Platform> platform;
    RunFiles files;
    try {
        if (o.list_keys || o.list_keys_json || o.keys_markdown)
            return printed(o.keys_markdown ? tlmmu::keysMarkdown()
                                           : tlmmu::describeKeys(o.list_keys_json));
        const tlmmu::SystemConfig system = readSystem(o);
        if (o.print_config) return printed(system.toYaml());
        sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated",
                                                sc_core::SC_DO_NOTHING);
        if (o.list_stats || o.list_stats_json || o.stats_markdown) return listStats(system, o);
        declareFiles(outputs, o, system);
        files = prepareOutputs(outputs, o);
        platform = std::make_unique<tlmmu::Platform>(system);
        if (files.timeline) {
            const auto [from, to] = timelineWindow(o.timeline_window);
            platform->enableTimeline(from, to, !o.timeline_window.empty());
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
    double host_s = 0;
    std::string run_error = run(*platform, host_s);
    const std::vector<std::string> output_errors =
        writeResults(*platform, files, outputs, o.quiet, host_s);
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
