#include "SystemConfig.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "common/Stats.h"

namespace tlmmu {

namespace {
// The longest delay one conversion may give: simulated time is a 64-bit count of picoseconds
// (SystemC's resolution), 2^64 ps = 213 days; a single delay is held to a quarter of it so that
// local times and their sums (the quantum keeper adds delays to the current time) cannot wrap.
constexpr std::uint64_t kMaxDelayPs = std::uint64_t{1} << 62;

std::string at(const Config& c, const std::string& key) {
    const std::string where = c.where(key);
    return where.empty() ? key : where + ": " + key;
}

// A page of `bytes` is a physically aligned block of frames above the firmware's first MiB: it
// fits only when memory.size reaches the end of the first such block. "" when it fits, else why.
std::string pageWontFit(std::uint64_t bytes, std::uint64_t memory) {
    constexpr std::uint64_t kReserved = std::uint64_t{1} << 20;
    const std::uint64_t first = (kReserved + bytes - 1) / bytes * bytes;
    if (first + bytes <= memory) return "";
    return formatSize(bytes) + " pages cannot be allocated in memory.size " + formatSize(memory) +
           " (a page is a block of frames aligned to its size, above the firmware's first MiB: "
           "it needs memory.size of at least " +
           formatSize(first + bytes) + "); every fault would fall back to base pages";
}

std::string gigahertz(double f) {
    std::ostringstream o;
    o << f;
    return o.str();
}
} // namespace

SystemConfig SystemConfig::fromConfig(Config& c, bool strict) {
    SystemConfig s;
    for (const KeyDef& k : keyTable()) {
        const Config::Value v = c.read(k, k.name);
        k.store(s, v.value, v.choice);
    }
    s.resolved = c.resolved();
    c.checkUnused([&s](const std::string& k) { return s.inapplicable(k).empty(); });
    s.mmu.l1i.name = "l1i", s.mmu.l1d.name = "l1d", s.mmu.l2.name = "l2";
    for (TlbConfig* t : {&s.mmu.l1i, &s.mmu.l1d, &s.mmu.l2}) {
        t->seed = s.seed;
        if (t->entries) validateGeometry(t->entries, t->ways, t->replacement, "tlb." + t->name);
    }
    s.mmu.pwc.asid_bits = s.mmu.asid_bits;
    s.mmu.pwc.seed = s.seed;
    if (s.mmu.pwc.entries)
        validateGeometry(s.mmu.pwc.entries, s.mmu.pwc.ways ? s.mmu.pwc.ways : s.mmu.pwc.entries,
                         s.mmu.pwc.replacement, "walker.pwc");
    s.workload.synthetic.seed = s.seed;
    s.caches.cores = s.cores;
    for (CacheConfig* level : {&s.caches.l1i, &s.caches.l1d, &s.caches.l2, &s.caches.llc})
        level->seed = s.seed;
    s.check(c);
    if (!s.scenario.empty()) {
        // The whole scenario is checked now, against this system's format, before anything runs.
        s.scenario_parsed = std::make_shared<const Scenario>(
            Scenario::fromFile(s.scenario, s.cores, s.format(), s.seed));
        s.ineffective = s.scenario_parsed->ineffective;
        const PteFormat f = s.format();
        for (const ScenarioProcess& p : s.scenario_parsed->processes) {
            auto check = [&](unsigned level, const std::string& what) {
                if (level == 0) return;
                const std::string why =
                    pageWontFit(std::uint64_t{1} << f.levelShift(level), s.memory.size);
                if (!why.empty())
                    throw InputError(s.scenario + ": process " + p.name + ": " + what + ": " + why);
            };
            for (std::size_t v = 0; v < p.vmas.size(); ++v)
                check(p.vmas[v].page_level, "vmas[" + std::to_string(v) + "]");
            for (const ScenarioThread& t : p.threads)
                for (const TaskEvent& e : t.events)
                    if (e.kind == TaskEvent::Kind::Map)
                        check(e.page_level, "the map event at " + std::to_string(e.at));
        }
    }
    s.collectIneffective(c, strict);
    return s;
}

// The hierarchy's geometry, as the platform will build it: each message names its key.
void SystemConfig::checkCaches(const Config& c) const {
    if (!hasCaches()) return;
    struct NoMemory final : MemoryPort {
        Cycles fill(Addr) override { return 0; }
        Cycles writeback(Addr) override { return 0; }
    } none;
    try {
        CacheHierarchy probe(caches, none);
    } catch (const InputError& e) {
        const std::string msg = e.what(); // "cache.<level>.<key>: ..."
        throw InputError(at(c, msg.substr(0, msg.find(':'))) + msg.substr(msg.find(':')));
    }
}

// Contradictions and values that cannot work, each refused with the key that says so.
void SystemConfig::check(const Config& c) {
    if (scenario.empty()) {
        if (workload.format != "synthetic" && workload.trace.empty())
            throw InputError(at(c, "workload.trace") + ": required when workload.format is " +
                             workload.format);
        try {
            workload.synthetic.validate();
        } catch (const InputError& e) {
            const std::string msg = e.what(); // "workload.synthetic.<key>: ..."
            throw InputError(at(c, msg.substr(0, msg.find(':'))) + msg.substr(msg.find(':')));
        }
    }
    checkCaches(c);
    // The format (and the generic parameters) now, with the key in the message.
    const PteFormat f = format();
    if (page_size == 0) page_size = f.tableBytes();
    bool page_ok = false;
    for (unsigned l = 0; l < f.levels(); ++l)
        if (f.leafAllowed(l) && (std::uint64_t{1} << f.levelShift(l)) == page_size) page_ok = true;
    if (!page_ok)
        throw InputError(at(c, "workload.page_size") + ": " + std::to_string(page_size) +
                         " bytes is not a page size of format " + format_name);
    if (scenario.empty() && page_size != f.tableBytes())
        if (const std::string why = pageWontFit(page_size, memory.size); !why.empty())
            throw InputError(at(c, "workload.page_size") + ": " + why);
    // Simulated time is 64-bit picoseconds: no configured delay may come near wrapping it.
    const double period_ps = std::max(1.0, std::round(1000.0 / frequency_ghz));
    for (const KeyDef& k : keyTable()) {
        if (k.unit != "cycles") continue;
        const std::uint64_t v = resolved[Stats::pointer(k.name)].get<std::uint64_t>();
        if (static_cast<double>(v) * period_ps > static_cast<double>(kMaxDelayPs))
            throw InputError(at(c, k.name) + ": " + std::to_string(v) + " cycles at " +
                             gigahertz(frequency_ghz) + " GHz (" +
                             std::to_string(static_cast<std::uint64_t>(period_ps)) +
                             " ps a cycle) is beyond the 2^62 ps (53 days) one delay may span "
                             "in simulated time (64-bit picoseconds); lower it or raise "
                             "core.frequency_ghz");
    }
    // A shootdown target answers an IPI after its delivery and the handler's entry and exit; if
    // that alone reaches the initiator's timeout, every shootdown times out and resends, and
    // after a thousand resends the run stops with a firmware panic.
    if (cores > 1 && firmware.shootdown == FW_SHOOTDOWN_IPI) {
        const std::uint64_t answer =
            firmware.irq_entry_cycles + firmware.irq_exit_cycles + ipi_latency_cycles;
        if (answer >= firmware.ack_timeout_cycles)
            throw InputError(
                at(c, "firmware.irq_entry_cycles") + ": " +
                std::to_string(firmware.irq_entry_cycles) +
                " is refused: a shootdown target answers an IPI after ipi.latency_cycles + "
                "firmware.irq_entry_cycles + firmware.irq_exit_cycles = " +
                std::to_string(answer) +
                " cycles, not less than firmware.shootdown.ack_timeout_cycles " +
                std::to_string(firmware.ack_timeout_cycles) +
                ": every shootdown would time out and resend until the firmware gives up; lower "
                "them or raise the timeout");
    }
    checkFirmware(c);
}

// The firmware decides what it refuses (each shootdown mechanism its own options); its words
// name a field of its configuration, which the key table maps back to the key.
void SystemConfig::checkFirmware(const Config& c) const {
    fw_kernel_config probe = firmware;
    fw_config_error err{};
    if (fw_kernel_config_check(&probe, &err) == 0) return;
    std::string key = err.field ? err.field : "";
    for (const KeyDef& k : keyTable())
        if (!k.fw_field.empty() && k.fw_field == key) key = k.name;
    const nlohmann::json v =
        resolved.contains(Stats::pointer(key)) ? resolved[Stats::pointer(key)] : nlohmann::json();
    const std::string value = v.is_string() ? v.get<std::string>() : v.dump();
    throw InputError(at(c, key) + ": " + value + " is refused: " + (err.why ? err.why : "?"));
}

// A key set where it can have no effect. A later layer may change the system an earlier one
// describes (a preset's key that --set made moot is fine), and a preset may describe hardware
// that the workload does not exercise; anything else is the user's setting without effect.
void SystemConfig::collectIneffective(const Config& c, bool strict) {
    for (const KeyDef& k : keyTable()) {
        const int layer = c.layer(k.name);
        if (layer == 0) continue; // a default is not a choice
        const nlohmann::json value = resolved[Stats::pointer(k.name)];
        if (value.is_string() && value.get<std::string>().empty()) continue; // "none" given
        std::string decider;
        const std::string why = k.inapplicable(resolved, &decider);
        if (why.empty()) continue;
        if (c.layer(decider) > layer) continue;
        const KeyDef* d = findKey(decider);
        if (!k.workload && d && d->workload && layer == 1) continue;
        ineffective.push_back(c.where(k.name) + ": " + k.name + " has no effect: " + why);
    }
    if (strict && !ineffective.empty())
        throw InputError(ineffective.front() + " (refused with --strict)");
}

std::string SystemConfig::inapplicable(const std::string& key, std::string* decider) const {
    const KeyDef* k = findKey(key);
    return k ? k->inapplicable(resolved, decider) : "";
}

std::string SystemConfig::toYaml() const {
    YAML::Emitter out;
    // Nested mappings, as the configuration files are written; keys that have no effect are
    // left out, paths made absolute (the file may be read elsewhere).
    std::function<void(const nlohmann::json&, const std::string&)> emit =
        [&](const nlohmann::json& j, const std::string& prefix) {
            out << YAML::BeginMap;
            for (auto it = j.begin(); it != j.end(); ++it) {
                const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
                if (it->is_object()) {
                    bool any = false;
                    for (const KeyDef& k : keyTable())
                        any = any ||
                              (k.name.rfind(key + ".", 0) == 0 && inapplicable(k.name).empty());
                    if (!any) continue;
                    out << YAML::Key << it.key() << YAML::Value;
                    emit(*it, key);
                    continue;
                }
                if (!inapplicable(key).empty()) continue;
                out << YAML::Key << it.key() << YAML::Value;
                const KeyDef* def = findKey(key);
                if (it->is_boolean()) {
                    out << (it->get<bool>() ? "true" : "false");
                } else if (it->is_number_unsigned() || it->is_number_integer()) {
                    out << std::to_string(it->get<std::uint64_t>());
                } else if (it->is_number_float()) {
                    char buf[40];
                    std::snprintf(buf, sizeof buf, "%.17g", it->get<double>());
                    out << std::string(buf);
                } else {
                    std::string v = it->get<std::string>();
                    if (def && def->type == KeyType::Path && !v.empty())
                        v = std::filesystem::absolute(v).lexically_normal().string();
                    out << YAML::DoubleQuoted << v;
                }
            }
            out << YAML::EndMap;
        };
    emit(resolved, "");
    return std::string(out.c_str()) + "\n";
}

PteFormat SystemConfig::format() const {
    return PteFormat::fromName(format_name, "mmu.format", generic_page_bits, generic_pte_bytes,
                               generic_levels);
}

} // namespace tlmmu
