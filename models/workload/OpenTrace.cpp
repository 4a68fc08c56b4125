#include "workload/OpenTrace.h"

#include <cstring>

#include "common/Types.h"
#include "workload/BinaryTrace.h"
#include "workload/ChampSimTrace.h"
#include "workload/LackeyTrace.h"
#include "workload/TraceFile.h"

namespace tlmmu {

bool isBinaryTrace(const std::string& path) {
    TraceFile file(path);
    char head[sizeof binfmt::kMagic];
    return file.read(head, sizeof head) == sizeof head &&
           std::memcmp(head, binfmt::kMagic, sizeof head) == 0;
}

namespace {
std::unique_ptr<Workload> makeReader(const std::string& path, const std::string& format) {
    // The readers check the content themselves ("FILE: not a tlmmu binary trace", "FILE: is a
    // tlmmu binary trace, not lackey text", champsim's branch flags), so a wrong explicit format
    // names the file.
    if (format == "lackey") return std::make_unique<LackeyTrace>(path);
    if (format == "binary") return std::make_unique<BinaryTrace>(path);
    if (format == "champsim") return std::make_unique<ChampSimTrace>(path);
    if (format == "auto") {
        if (isBinaryTrace(path)) return std::make_unique<BinaryTrace>(path);
        return std::make_unique<LackeyTrace>(path);
    }
    throw InputError(path + ": unknown trace format '" + format +
                     "' (allowed: lackey, binary, champsim, auto)");
}
} // namespace

std::unique_ptr<Workload> openTrace(const std::string& path, const std::string& format) {
    auto reader = makeReader(path, format);
    // A trace without a single record would run nothing and look like success: refused at open.
    Instruction first;
    if (!reader->next(first)) throw InputError(path + ": empty trace (no records): nothing to run");
    reader->rewind();
    return reader;
}

} // namespace tlmmu
