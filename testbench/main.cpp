// tlmmu: runs one system from a YAML configuration and writes its statistics.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "Platform.h"

namespace {
void writeFile(const std::string& path, const std::function<void(std::ostream&)>& fn) {
    std::ofstream out(path);
    if (!out) throw tlmmu::InputError(path + ": cannot write");
    fn(out);
    if (!out) throw tlmmu::InputError(path + ": write failed");
}
} // namespace

int sc_main(int argc, char* argv[]) {
    CLI::App app{"tlmmu: a SystemC/TLM-2.0 model of a multi-core virtual-memory subsystem"};
    std::string config_path, json_path, csv_path;
    std::vector<std::string> sets;
    bool list_keys = false, quiet = false;
    app.add_option("-c,--config", config_path, "system configuration (YAML)");
    app.add_option("--set", sets, "override a key: --set tlb.l1d.entries=32 (repeatable)");
    app.add_option("--stats-json", json_path, "write every statistic to this JSON file");
    app.add_option("--stats-csv", csv_path, "write every statistic to this CSV file");
    app.add_flag("--list-keys", list_keys, "print every configuration key with its default");
    app.add_flag("-q,--quiet", quiet, "no summary on stdout");
    CLI11_PARSE(app, argc, argv);

    try {
        tlmmu::Config config;
        if (!config_path.empty())
            config = tlmmu::Config::fromFile(config_path);
        else if (!list_keys)
            throw tlmmu::InputError("--config FILE is required (see configs/)");
        if (list_keys) {
            tlmmu::Config empty;
            std::cout << tlmmu::SystemConfig::fromConfig(empty).resolved.dump(2) << "\n";
            return 0;
        }
        for (const auto& s : sets)
            config.set(s);
        const tlmmu::SystemConfig system = tlmmu::SystemConfig::fromConfig(config);
        sc_core::sc_report_handler::set_actions("/IEEE_Std_1666/deprecated",
                                                sc_core::SC_DO_NOTHING);
        tlmmu::Platform platform(system);
        const auto t0 = std::chrono::steady_clock::now();
        platform.run();
        const double host_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!json_path.empty())
            writeFile(json_path,
                      [&](std::ostream& o) { o << platform.stats().toJson().dump(2) << "\n"; });
        if (!csv_path.empty())
            writeFile(csv_path, [&](std::ostream& o) { platform.stats().writeCsv(o); });
        if (!quiet) {
            platform.printSummary(std::cout);
            std::cout << "host time " << host_s << " s\n";
        }
        if (const std::string err = platform.error(); !err.empty()) {
            std::cerr << "tlmmu: error: " << err << "\n";
            return 1;
        }
    } catch (const tlmmu::InputError& e) {
        std::cerr << "tlmmu: error: " << e.what() << "\n";
        return 2;
    } catch (const sc_core::sc_report& e) {
        std::cerr << "tlmmu: SystemC error: " << e.what() << "\n";
        return 3;
    }
    return 0;
}

// Our own main (it takes precedence over libsystemc's) so that the banner can be turned off
// before the SystemC kernel starts.
int main(int argc, char* argv[]) {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
    return sc_core::sc_elab_and_sim(argc, argv);
}
