// The fields of a scenario file, read and checked one at a time: scalars with the file, line
// and path of the entry in every error ("FILE:LINE: processes[0].vmas[1].size: ..."),
// protections, page sizes, address ranges, a thread's workload mapping.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "Config.h"
#include "Scenario.h"
#include "mmu/PteFormat.h"

namespace tlmmu::scenario {

class FieldReader {
  public:
    explicit FieldReader(std::string file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const YAML::Node& at, const std::string& path,
                           const std::string& what) const {
        throw InputError(file_ + ":" + std::to_string(at.Mark().line + 1) + ": " + path + ": " +
                         what);
    }
    // Numbers and sizes parse as in the system configuration ("64KiB", "0x400000").
    std::uint64_t size(const YAML::Node& map, const char* key, const std::string& path) const {
        return number(map, key, path, true);
    }
    std::uint64_t uint(const YAML::Node& map, const char* key, const std::string& path) const {
        return number(map, key, path, false);
    }
    std::string string(const YAML::Node& map, const char* key, const std::string& path) const {
        const YAML::Node n = map[key];
        if (!n || !n.IsScalar()) fail(n ? n : map, path + "." + key, "expected a string");
        return n.Scalar();
    }
    void onlyKeys(const YAML::Node& map, const std::string& path,
                  std::initializer_list<const char*> keys) const {
        if (!map.IsMap()) fail(map, path, "expected a mapping");
        for (const auto& kv : map) {
            const std::string k = kv.first.as<std::string>();
            bool ok = false;
            std::string list;
            for (const char* allowed : keys) {
                ok = ok || k == allowed;
                list += (list.empty() ? "" : ", ") + std::string(allowed);
            }
            if (!ok) fail(kv.first, path + "." + k, "unknown key (allowed: " + list + ")");
        }
    }
    const std::string& file() const { return file_; }

  private:
    std::uint64_t number(const YAML::Node& map, const char* key, const std::string& path,
                         bool size) const {
        const YAML::Node n = map[key];
        if (!n) fail(map, path + "." + key, "missing");
        const auto v = !n.IsScalar() ? std::nullopt
                       : size        ? parseSize(n.Scalar())
                                     : parseUint(n.Scalar());
        if (!v)
            fail(n, path + "." + key,
                 (size ? "expected a byte size such as 4096 or 64KiB" : "expected an integer") +
                     integerHint(n.IsScalar() ? n.Scalar() : ""));
        return *v;
    }
    std::string file_;
};

// FW_PROT_* of `prot:` ("rw", "r-x"): W^X, and no write without read.
unsigned parseProt(const FieldReader& r, const YAML::Node& vma, const std::string& path);
// A process name: it becomes the statistics path processes.<name>.
bool isIdentifier(const std::string& name);
// [start, start + size) must not wrap, and with a format, lie in one canonical half of its
// virtual address space; a stack's guard page (the page below it) must exist too.
void checkRange(const FieldReader& r, const YAML::Node& at, const std::string& path, Addr start,
                std::uint64_t size, bool stack, std::uint64_t page, const PteFormat* format);
// A thread's workload mapping: the workload keys of the key table under their short names
// (format, trace, checked, pattern, ...). A key the workload does not use (a trace with format
// synthetic, stride with pattern random) is noted in `ineffective`.
WorkloadSpec readWorkload(const YAML::Node& w, const std::string& file, const std::string& path,
                          std::uint64_t seed, std::vector<std::string>& ineffective);
// [start, end) of a VMA, its guard page (one of the VMA's pages) included.
std::pair<Addr, Addr> extent(const ScenarioVma& v, const PteFormat& format);
// `page_size:` of a VMA or map event: the level whose leaves have that size.
unsigned pageLevel(const FieldReader& r, const YAML::Node& map, const std::string& path,
                   const PteFormat& format);
// start and size aligned to the page size of `level`, size non-zero.
void checkAligned(const FieldReader& r, const YAML::Node& at, const std::string& path, Addr start,
                  std::uint64_t size, unsigned level, const PteFormat& format);

} // namespace tlmmu::scenario
