#include "ScenarioFields.h"

#include <cctype>
#include <map>

#include "Config.h"
#include "KeyTable.h"
#include "common/Stats.h"

extern "C" {
#include "kernel/mm.h"
}

namespace tlmmu::scenario {

unsigned parseProt(const FieldReader& r, const YAML::Node& vma, const std::string& path) {
    const std::string text = r.string(vma, "prot", path);
    unsigned prot = 0;
    for (char c : text) {
        if (c == 'r')
            prot |= FW_PROT_R;
        else if (c == 'w')
            prot |= FW_PROT_W;
        else if (c == 'x')
            prot |= FW_PROT_X;
        else if (c != '-')
            r.fail(vma["prot"], path + ".prot", "expected letters of r, w, x, got '" + text + "'");
    }
    if ((prot & FW_PROT_W) && (prot & FW_PROT_X))
        r.fail(vma["prot"], path + ".prot", "write and execute together are refused (W^X)");
    if ((prot & FW_PROT_W) && !(prot & FW_PROT_R))
        r.fail(vma["prot"], path + ".prot",
               "write without read is not a mapping the formats express");
    return prot;
}

bool isIdentifier(const std::string& name) {
    if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_'))
        return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
    return true;
}

void checkRange(const FieldReader& r, const YAML::Node& at, const std::string& path, Addr start,
                std::uint64_t size, bool stack, std::uint64_t page, const PteFormat* format) {
    if (size - 1 > UINT64_MAX - start)
        r.fail(at, path,
               "start " + formatHex(start) + " + size " + formatHex(size) + " wraps past 2^64");
    if (stack && start < page)
        r.fail(at, path,
               "a stack at " + formatHex(start) + " has no room for its guard page below");
    if (!format) return;
    const Addr last = start + size - 1;
    const pte_format* f = &format->raw();
    const bool lo = pte_va_canonical(f, start), hi = pte_va_canonical(f, last);
    const unsigned bits = format->vaBits();
    // Sign-extended formats have a hole between the halves (x86_32 has none).
    const bool sign_extended = bits < 64 && !pte_va_canonical(f, std::uint64_t{1} << (bits - 1));
    const bool same_half = !sign_extended || (start >> (bits - 1)) == (last >> (bits - 1));
    if (!lo || !hi || !same_half)
        r.fail(at, path,
               "[" + formatHex(start) + ", " + formatHex(last + 1) + ") is outside the canonical " +
                   std::to_string(bits) + "-bit virtual address space of format " + format->name());
}

WorkloadSpec readWorkload(const YAML::Node& w, const std::string& file, const std::string& path,
                          std::uint64_t seed, std::vector<std::string>& ineffective) {
    Config wc = Config::fromNode(w, file, path);
    WorkloadSpec spec;
    std::map<std::string, std::string> local; // key table name -> name under `path`
    for (const KeyDef* k : workloadKeys()) {
        const std::string name = path + "." + k->scenario_leaf;
        local[k->name] = name;
        const Config::Value v = wc.read(*k, name);
        k->workload_store(spec, v.value, v.choice);
    }
    spec.synthetic.seed = seed;
    const nlohmann::json resolved = wc.resolved();
    // The table's conditions, on this mapping's keys (the run's workload.scenario is moot here).
    auto inapplicable = [&](const KeyDef& k) -> std::string {
        for (const Condition& c : k.when) {
            const auto it = local.find(c.key);
            if (it == local.end()) continue;
            Condition here = c;
            here.key = it->second;
            const auto ptr = Stats::pointer(here.key);
            const nlohmann::json v = resolved.contains(ptr) ? resolved[ptr] : nlohmann::json();
            if (!here.holds(v)) return "it applies when " + here.text() + "; " + here.actual(v);
        }
        return "";
    };
    wc.checkUnused([&](const std::string& name) {
        for (const KeyDef* k : workloadKeys())
            if (local[k->name] == name) return inapplicable(*k).empty();
        return false;
    });
    for (const KeyDef* k : workloadKeys()) {
        const std::string& name = local[k->name];
        if (wc.where(name).empty()) continue;
        const std::string why = inapplicable(*k);
        if (!why.empty())
            ineffective.push_back(wc.where(name) + ": " + name + " has no effect: " + why);
    }
    if (spec.format == "synthetic") {
        try {
            spec.synthetic.validate();
        } catch (const InputError& e) {
            // validate() names its keys workload.synthetic.*; say where they really are.
            std::string msg = e.what();
            const std::string prefix = "workload.synthetic.";
            if (msg.rfind(prefix, 0) == 0) {
                const std::string leaf = msg.substr(prefix.size(), msg.find(':') - prefix.size());
                const std::string where = wc.where(path + "." + leaf);
                msg = (where.empty() ? "" : where + ": ") + path + "." + msg.substr(prefix.size());
            }
            throw InputError(msg);
        }
    }
    return spec;
}

std::pair<Addr, Addr> extent(const ScenarioVma& v, const PteFormat& format) {
    const std::uint64_t page = std::uint64_t{1} << format.levelShift(v.page_level);
    return {v.kind == FW_VMA_STACK ? v.start - page : v.start, v.start + v.size};
}

unsigned pageLevel(const FieldReader& r, const YAML::Node& map, const std::string& path,
                   const PteFormat& format) {
    if (!map["page_size"]) return 0;
    const std::uint64_t size = r.size(map, "page_size", path);
    std::string allowed;
    for (unsigned l = 0; l < format.levels(); ++l) {
        if (!format.leafAllowed(l)) continue;
        const std::uint64_t bytes = std::uint64_t{1} << format.levelShift(l);
        if (bytes == size) return l;
        allowed += (allowed.empty() ? "" : ", ") + formatSize(bytes);
    }
    r.fail(map["page_size"], path + ".page_size",
           formatSize(size) + " is not a page size of " + format.name() + " (allowed: " + allowed +
               ")");
}

void checkAligned(const FieldReader& r, const YAML::Node& at, const std::string& path, Addr start,
                  std::uint64_t size, unsigned level, const PteFormat& format) {
    const std::uint64_t page = std::uint64_t{1} << format.levelShift(level);
    if (start % page || size == 0 || size % page)
        r.fail(at, path,
               "start and size must be non-zero multiples of the page size (" + formatSize(page) +
                   ")");
}

} // namespace tlmmu::scenario
