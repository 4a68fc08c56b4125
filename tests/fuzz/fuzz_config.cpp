// The configuration loader: YAML text -> Config -> SystemConfig (every key's parsing and
// validation, the applicability pass, the time-overflow check), then --print-config's YAML,
// which must load back and print the same again.
#include "Config.h"
#include "FuzzUtil.h"
#include "SystemConfig.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    tlmmu::fuzz::expectOnlyInputErrors([&] {
        tlmmu::Config c = tlmmu::Config::fromString(text, "fuzz.yaml");
        // No files: a scenario or trace path could name a FIFO or /dev/stdin and block. (The
        // scenario loader has its own target.)
        c.set("workload.scenario=");
        c.set("workload.trace=");
        const tlmmu::SystemConfig s = tlmmu::SystemConfig::fromConfig(c);
        (void)tlmmu::describeKeys(false);
        const std::string printed = s.toYaml();
        // What --print-config prints must be accepted back, to the same resolved configuration.
        tlmmu::Config again;
        try {
            again = tlmmu::Config::fromString(printed, "printed.yaml");
        } catch (const tlmmu::InputError& e) {
            std::fprintf(stderr, "finding: --print-config output refused: %s\n%s", e.what(),
                         printed.c_str());
            std::abort();
        }
        try {
            const tlmmu::SystemConfig s2 = tlmmu::SystemConfig::fromConfig(again);
            // (Compared as printed: keys without effect are left out of both.)
            if (s2.toYaml() != printed) {
                std::fprintf(stderr, "finding: --print-config round trip differs:\n%s\n%s\n",
                             printed.c_str(), s2.toYaml().c_str());
                std::abort();
            }
        } catch (const tlmmu::InputError& e) {
            std::fprintf(stderr, "finding: --print-config output refused: %s\n%s", e.what(),
                         printed.c_str());
            std::abort();
        }
    });
    return 0;
}
