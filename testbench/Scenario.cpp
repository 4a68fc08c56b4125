#include "Scenario.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>

#include <yaml-cpp/yaml.h>

#include "Config.h"
#include "SystemConfig.h"
#include "common/Stats.h"
#include "workload/OpenTrace.h"

extern "C" {
#include "kernel/mm.h"
}

namespace tlmmu {

namespace {

class Reader {
  public:
    explicit Reader(std::string file) : file_(std::move(file)) {}

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

unsigned parseProt(const Reader& r, const YAML::Node& vma, const std::string& path) {
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

std::string hex(std::uint64_t v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

// [start, start + size) must not wrap, and with a format, lie in one canonical half of its
// virtual address space; a stack's guard page (the page below it) must exist too.
void checkRange(const Reader& r, const YAML::Node& at, const std::string& path, Addr start,
                std::uint64_t size, bool stack, std::uint64_t page, const PteFormat* format) {
    if (size - 1 > UINT64_MAX - start)
        r.fail(at, path, "start " + hex(start) + " + size " + hex(size) + " wraps past 2^64");
    if (stack && start < page)
        r.fail(at, path, "a stack at " + hex(start) + " has no room for its guard page below");
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
               "[" + hex(start) + ", " + hex(last + 1) + ") is outside the canonical " +
                   std::to_string(bits) + "-bit virtual address space of format " + format->name());
}

// A thread's workload mapping: the workload keys of the key table under their short names
// (format, trace, checked, pattern, ...). A key the workload does not use (a trace with format
// synthetic, stride with pattern random) is noted in `ineffective`.
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

// [start, end) of a VMA, its guard page (one of the VMA's pages) included.
std::pair<Addr, Addr> extent(const ScenarioVma& v, const PteFormat& format) {
    const std::uint64_t page = std::uint64_t{1} << format.levelShift(v.page_level);
    return {v.kind == FW_VMA_STACK ? v.start - page : v.start, v.start + v.size};
}

// `page_size:` of a VMA or map event: the level whose leaves have that size.
unsigned pageLevel(const Reader& r, const YAML::Node& map, const std::string& path,
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

// start and size aligned to the page size of `level`, size non-zero.
void checkAligned(const Reader& r, const YAML::Node& at, const std::string& path, Addr start,
                  std::uint64_t size, unsigned level, const PteFormat& format) {
    const std::uint64_t page = std::uint64_t{1} << format.levelShift(level);
    if (start % page || size == 0 || size % page)
        r.fail(at, path,
               "start and size must be non-zero multiples of the page size (" + formatSize(page) +
                   ")");
}

} // namespace

namespace {
Scenario readScenario(const YAML::Node& root, const std::string& path, unsigned cores,
                      const PteFormat& format, std::uint64_t seed, bool open_traces = true);
} // namespace

Scenario Scenario::fromFile(const std::string& path, unsigned cores, const PteFormat& format,
                            std::uint64_t seed) {
    return readScenario(loadYamlFile(path), path, cores, format, seed);
}

Scenario Scenario::fromText(const std::string& text, const std::string& file, unsigned cores,
                            const PteFormat& format, std::uint64_t seed, bool open_traces) {
    return readScenario(loadYaml(text, file), file, cores, format, seed, open_traces);
}

namespace {
Scenario readScenario(const YAML::Node& root, const std::string& path, unsigned cores,
                      const PteFormat& format, std::uint64_t seed, bool open_traces) {
    const std::uint64_t page = format.tableBytes();
    Reader r(path);
    Scenario s;
    r.onlyKeys(root, "scenario", {"shared", "processes"});
    std::map<std::string, int> shm_index, proc_index;
    if (const YAML::Node shared = root["shared"]) {
        if (!shared.IsSequence()) r.fail(shared, "shared", "expected a list");
        for (std::size_t i = 0; i < shared.size(); ++i) {
            const std::string p = "shared[" + std::to_string(i) + "]";
            r.onlyKeys(shared[i], p, {"name", "size"});
            ScenarioShared o{r.string(shared[i], "name", p), r.size(shared[i], "size", p)};
            if (o.size == 0 || o.size % page)
                r.fail(shared[i], p + ".size", "must be a non-zero multiple of the page size");
            if (o.size / page > FW_SHM_MAX_PAGES)
                r.fail(shared[i]["size"], p + ".size",
                       std::to_string(o.size / page) + " pages; the firmware's limit is " +
                           std::to_string(FW_SHM_MAX_PAGES) + " pages (FW_SHM_MAX_PAGES)");
            if (i >= FW_MAX_SHM)
                r.fail(shared[i], p,
                       "more than " + std::to_string(FW_MAX_SHM) +
                           " shared objects; the firmware's limit (FW_MAX_SHM)");
            if (!shm_index.emplace(o.name, static_cast<int>(i)).second)
                r.fail(shared[i], p + ".name", "'" + o.name + "' is defined twice");
            s.shared.push_back(o);
        }
    }
    const YAML::Node procs = root["processes"];
    if (!procs || !procs.IsSequence() || procs.size() == 0)
        r.fail(procs ? procs : root, "processes", "expected a non-empty list of processes");
    for (std::size_t i = 0; i < procs.size(); ++i) {
        const std::string p = "processes[" + std::to_string(i) + "]";
        r.onlyKeys(procs[i], p,
                   {"name", "core", "forked_from", "vmas", "workload", "events", "threads"});
        const std::string name = r.string(procs[i], "name", p);
        if (!isIdentifier(name))
            r.fail(procs[i]["name"], p + ".name",
                   "'" + name +
                       "' is not a name: letters, digits, '_' and '-', not starting "
                       "with a digit or '-' (it becomes the statistics path processes.<name>)");
        if (i >= FW_MAX_PROCESSES)
            r.fail(procs[i], p,
                   "more than " + std::to_string(FW_MAX_PROCESSES) +
                       " processes; the firmware's limit (FW_MAX_PROCESSES)");
        if (!proc_index.emplace(name, static_cast<int>(i)).second)
            r.fail(procs[i]["name"], p + ".name", "'" + name + "' is defined twice");
    }
    std::uint64_t task_count = 0;
    // Events of the whole scenario once every/count repeats are expanded: each is kept in
    // memory for the run (1000 events of count 100000 would exhaust it).
    constexpr std::uint64_t kMaxEvents = 1000000;
    std::uint64_t event_count = 0;
    for (std::size_t i = 0; i < procs.size(); ++i) {
        const YAML::Node n = procs[i];
        const std::string p = "processes[" + std::to_string(i) + "]";
        ScenarioProcess proc;
        proc.name = n["name"].Scalar();
        if (n["forked_from"]) {
            proc.forked_from = r.string(n, "forked_from", p);
            if (!proc_index.count(proc.forked_from))
                r.fail(n["forked_from"], p + ".forked_from",
                       "unknown process '" + proc.forked_from + "'");
            if (n["vmas"])
                r.fail(n["vmas"], p + ".vmas", "a forked process inherits its parent's VMAs");
        }
        unsigned vma_slots = 0;
        if (const YAML::Node vmas = n["vmas"]) {
            if (!vmas.IsSequence()) r.fail(vmas, p + ".vmas", "expected a list");
            for (std::size_t j = 0; j < vmas.size(); ++j) {
                const std::string vp = p + ".vmas[" + std::to_string(j) + "]";
                r.onlyKeys(vmas[j], vp, {"start", "size", "prot", "kind", "shared", "page_size"});
                ScenarioVma v;
                v.start = r.uint(vmas[j], "start", vp);
                v.size = r.size(vmas[j], "size", vp);
                v.page_level = pageLevel(r, vmas[j], vp, format);
                checkAligned(r, vmas[j], vp, v.start, v.size, v.page_level, format);
                v.prot = parseProt(r, vmas[j], vp);
                v.kind = FW_VMA_ANON;
                if (vmas[j]["kind"]) {
                    const std::string k = r.string(vmas[j], "kind", vp);
                    if (k == "stack")
                        v.kind = FW_VMA_STACK;
                    else if (k != "anon")
                        r.fail(vmas[j]["kind"], vp + ".kind",
                               "expected anon or stack, got '" + k + "'");
                }
                if (vmas[j]["shared"]) {
                    const std::string o = r.string(vmas[j], "shared", vp);
                    auto it = shm_index.find(o);
                    if (it == shm_index.end())
                        r.fail(vmas[j]["shared"], vp + ".shared",
                               "unknown shared object '" + o + "'");
                    if (v.kind == FW_VMA_STACK)
                        r.fail(vmas[j]["kind"], vp + ".kind", "a shared VMA cannot be a stack");
                    if (v.page_level != 0)
                        r.fail(vmas[j]["page_size"], vp + ".page_size",
                               "a shared VMA maps base pages only");
                    if (v.size > s.shared[it->second].size)
                        r.fail(vmas[j]["size"], vp + ".size",
                               "larger than shared object '" + o + "'");
                    v.kind = FW_VMA_SHARED;
                    v.shm = it->second;
                }
                checkRange(r, vmas[j], vp, v.start, v.size, v.kind == FW_VMA_STACK,
                           std::uint64_t{1} << format.levelShift(v.page_level), &format);
                vma_slots += v.kind == FW_VMA_STACK ? 2 : 1;
                if (vma_slots > FW_MAX_VMAS)
                    r.fail(vmas[j], vp,
                           "more than " + std::to_string(FW_MAX_VMAS) +
                               " VMAs in one process (a stack counts 2: its guard page); the "
                               "firmware's limit (FW_MAX_VMAS)");
                for (std::size_t k = 0; k < proc.vmas.size(); ++k) {
                    const auto a = extent(proc.vmas[k], format), b = extent(v, format);
                    if (a.first < b.second && b.first < a.second)
                        r.fail(vmas[j], vp,
                               "overlaps " + p + ".vmas[" + std::to_string(k) +
                                   "] (guard pages included)");
                }
                proc.vmas.push_back(v);
            }
        }
        // A thread: core, workload and events of `n` (the thread's entry, or the process's).
        auto readThread = [&](const YAML::Node& n, const std::string& p, std::uint64_t seq) {
            ScenarioThread th;
            const std::uint64_t core = n["core"] ? r.uint(n, "core", p) : 0; // 64-bit: no wrap
            if (core >= cores)
                r.fail(n["core"], p + ".core",
                       "core " + std::to_string(core) +
                           " does not exist (cores: " + std::to_string(cores) + ")");
            th.core = static_cast<unsigned>(core);
            const YAML::Node w = n["workload"];
            if (!w) r.fail(n, p + ".workload", "missing");
            th.workload = readWorkload(w, path, p + ".workload", seed + seq, s.ineffective);
            if (th.workload.format != "synthetic") {
                if (th.workload.trace.empty())
                    r.fail(w, p + ".workload.trace", "required for format " + th.workload.format);
                if (open_traces) // a missing, unreadable or empty trace fails now
                    openTrace(th.workload.trace, th.workload.format);
            }
            if (const YAML::Node events = n["events"]) {
                if (!events.IsSequence()) r.fail(events, p + ".events", "expected a list");
                std::uint64_t last = 0;
                for (std::size_t j = 0; j < events.size(); ++j) {
                    const YAML::Node e = events[j];
                    const std::string ep = p + ".events[" + std::to_string(j) + "]";
                    r.onlyKeys(e, ep,
                               {"at", "every", "count", "fork", "map", "unmap", "protect",
                                "discard", "exit"});
                    TaskEvent ev;
                    ev.at = r.uint(e, "at", ep);
                    // {at, every, count}: `count` occurrences, `every` instructions apart.
                    const std::uint64_t every = e["every"] ? r.uint(e, "every", ep) : 0;
                    const std::uint64_t count = e["count"] ? r.uint(e, "count", ep) : 1;
                    if (e["every"].IsDefined() != e["count"].IsDefined())
                        r.fail(e, ep,
                               "every and count go together (count occurrences, every "
                               "instructions apart)");
                    if (e["every"] && (every == 0 || count == 0 || count > 100000))
                        r.fail(e["every"], ep, "every must be at least 1 and count in [1, 100000]");
                    if (count > 1 && every > (UINT64_MAX - ev.at) / (count - 1))
                        r.fail(e["every"], ep + ".every",
                               "at + (count - 1) * every passes 2^64 - 1 (at " +
                                   std::to_string(ev.at) + ", every " + std::to_string(every) +
                                   ", count " + std::to_string(count) +
                                   "): the last occurrence would have no instruction");
                    event_count += count;
                    if (event_count > kMaxEvents)
                        r.fail(e["count"] ? e["count"] : e, ep + (e["count"] ? ".count" : ""),
                               "more than " + std::to_string(kMaxEvents) +
                                   " events in the scenario, counting every repeat of every/count; "
                                   "the limit of a scenario");
                    const std::uint64_t last_at = ev.at + (count - 1) * every;
                    if (th.workload.format == "synthetic" &&
                        (last_at > th.workload.synthetic.instructions || last_at < ev.at))
                        r.fail(e["at"], ep + ".at",
                               "at " + std::to_string(last_at) + " is past the end of " + p +
                                   "'s workload (" +
                                   std::to_string(th.workload.synthetic.instructions) +
                                   " instructions): it would never happen");
                    if (ev.at < last)
                        r.fail(e["at"], ep + ".at", "events must be in instruction order");
                    last = ev.at;
                    int kinds = 0;
                    if (e["fork"]) {
                        ++kinds;
                        ev.kind = TaskEvent::Kind::Fork;
                        if (count != 1)
                            r.fail(e["fork"], ep + ".fork", "a fork happens once (no every/count)");
                        const std::string c = r.string(e, "fork", ep);
                        auto it = proc_index.find(c);
                        if (it == proc_index.end())
                            r.fail(e["fork"], ep + ".fork", "unknown process '" + c + "'");
                        const YAML::Node cn = procs[it->second];
                        if (!cn["forked_from"] || cn["forked_from"].Scalar() != proc.name)
                            r.fail(e["fork"], ep + ".fork",
                                   "process '" + c + "' must say forked_from: " + proc.name);
                        ev.child = it->second;
                    }
                    for (const char* k : {"map", "unmap", "protect", "discard"}) {
                        if (!e[k]) continue;
                        ++kinds;
                        const std::string name = k;
                        const std::string kp = ep + "." + k;
                        const YAML::Node m = e[k];
                        if (name == "unmap" || name == "discard")
                            r.onlyKeys(m, kp, {"start", "size"});
                        else if (name == "protect")
                            r.onlyKeys(m, kp, {"start", "size", "prot"});
                        else
                            r.onlyKeys(m, kp, {"start", "size", "prot", "kind", "page_size"});
                        ev.kind = name == "map"       ? TaskEvent::Kind::Map
                                  : name == "unmap"   ? TaskEvent::Kind::Unmap
                                  : name == "discard" ? TaskEvent::Kind::Discard
                                                      : TaskEvent::Kind::Protect;
                        ev.start = r.uint(m, "start", kp);
                        ev.size = r.size(m, "size", kp);
                        ev.page_level = pageLevel(r, m, kp, format);
                        checkAligned(r, m, kp, ev.start, ev.size, ev.page_level, format);
                        ev.vma_kind = FW_VMA_ANON;
                        if (m["kind"]) {
                            const std::string kind = r.string(m, "kind", kp);
                            if (ev.kind != TaskEvent::Kind::Map ||
                                (kind != "anon" && kind != "stack"))
                                r.fail(m["kind"], kp + ".kind",
                                       "expected anon or stack (map only)");
                            if (kind == "stack") ev.vma_kind = FW_VMA_STACK;
                        }
                        // The checks of a VMA (a stack's guard page too): a map the firmware
                        // would refuse is refused now, not mid-run.
                        checkRange(r, m, kp, ev.start, ev.size, ev.vma_kind == FW_VMA_STACK, page,
                                   &format);
                        if (ev.kind == TaskEvent::Kind::Map || ev.kind == TaskEvent::Kind::Protect)
                            ev.prot = parseProt(r, m, kp);
                    }
                    if (e["exit"]) {
                        ++kinds;
                        if (!e["exit"].IsScalar() || e["exit"].Scalar() != "true")
                            r.fail(
                                e["exit"], ep + ".exit",
                                "only 'exit: true' is an event (leave the event out not to exit)");
                        ev.kind = TaskEvent::Kind::Exit;
                        if (count != 1) r.fail(e["exit"], ep + ".exit", "an exit happens once");
                    }
                    if (kinds != 1)
                        r.fail(e, ep, "exactly one of fork, map, unmap, protect, discard, exit");
                    for (std::uint64_t k = 0; k < count; ++k, ev.at += every)
                        th.events.push_back(ev);
                }
                // Repeated events interleave with later ones: instruction order, stable.
                std::stable_sort(
                    th.events.begin(), th.events.end(),
                    [](const TaskEvent& a, const TaskEvent& b) { return a.at < b.at; });
            }
            return th;
        };
        if (const YAML::Node threads = n["threads"]) {
            for (const char* k : {"core", "workload", "events"})
                if (n[k])
                    r.fail(n[k], p + "." + k,
                           "a process with threads gives core, workload and events per thread");
            if (!proc.forked_from.empty())
                r.fail(threads, p + ".threads",
                       "a forked process has one thread, the one that forked (no threads list)");
            if (!threads.IsSequence() || threads.size() == 0)
                r.fail(threads, p + ".threads", "expected a non-empty list of threads");
            for (std::size_t t = 0; t < threads.size(); ++t) {
                const std::string tp = p + ".threads[" + std::to_string(t) + "]";
                r.onlyKeys(threads[t], tp, {"core", "workload", "events"});
                task_count += 1;
                if (task_count > FW_MAX_TASKS)
                    r.fail(threads[t], tp,
                           "more than " + std::to_string(FW_MAX_TASKS) +
                               " threads in all; the firmware's limit (FW_MAX_TASKS)");
                proc.threads.push_back(readThread(threads[t], tp, i * 1000 + t));
            }
        } else {
            task_count += 1;
            proc.threads.push_back(readThread(n, p, i));
        }
        s.processes.push_back(std::move(proc));
    }
    // Every forked process needs exactly one fork event naming it.
    for (std::size_t i = 0; i < s.processes.size(); ++i) {
        if (s.processes[i].forked_from.empty()) continue;
        int forks = 0;
        for (const auto& q : s.processes)
            for (const ScenarioThread& t : q.threads)
                for (const TaskEvent& e : t.events)
                    forks += e.kind == TaskEvent::Kind::Fork && e.child == static_cast<int>(i);
        if (forks != 1)
            r.fail(procs[i], "processes[" + std::to_string(i) + "]",
                   "forked_from " + s.processes[i].forked_from +
                       " needs exactly one fork event naming '" + s.processes[i].name +
                       "', found " + std::to_string(forks));
    }
    // A process forked by one that is itself forked, back to itself, never starts.
    for (std::size_t i = 0; i < s.processes.size(); ++i) {
        std::string chain = s.processes[i].name;
        std::size_t at = i;
        for (std::size_t steps = 0; !s.processes[at].forked_from.empty(); ++steps) {
            at = static_cast<std::size_t>(proc_index.at(s.processes[at].forked_from));
            chain += " <- " + s.processes[at].name;
            if (at == i || steps > s.processes.size())
                r.fail(procs[i]["forked_from"], "processes[" + std::to_string(i) + "].forked_from",
                       "fork cycle " + chain +
                           ": no process in it is created at start, so none "
                           "would ever run");
        }
    }
    return s;
}

} // namespace

std::unique_ptr<Workload> Scenario::makeWorkload(std::size_t i, std::size_t t) const {
    const WorkloadSpec& w = processes[i].threads[t].workload;
    if (w.format == "synthetic") return std::make_unique<SyntheticWorkload>(w.synthetic);
    return openTrace(w.trace, w.format);
}

} // namespace tlmmu
