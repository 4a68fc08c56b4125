// The scenario loader and checker on YAML text, against one of the page-table formats (chosen
// by the first byte). Trace paths are not opened (fromText's open_traces = false).
#include "FuzzUtil.h"
#include "Scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const char* const formats[] = {"x86_64",        "sv39",   "sv48",   "sv57",
                                          "x86_64_5level", "x86_32", "generic"};
    const tlmmu::PteFormat format = tlmmu::PteFormat::fromName(formats[data[0] % 7]);
    const unsigned cores = 1 + (data[0] >> 3) % 4;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    tlmmu::fuzz::expectOnlyInputErrors([&] {
        const tlmmu::Scenario s = tlmmu::Scenario::fromText(
            text, "fuzz.yaml", cores, format, 1, false);
        for (const auto& p : s.processes) {
            if (p.name.empty() || p.threads.empty()) std::abort();
            for (const auto& t : p.threads)
                if (t.core >= cores) std::abort();
        }
    });
    return 0;
}
