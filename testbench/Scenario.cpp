#include "Scenario.h"

#include <algorithm>
#include <map>

#include <yaml-cpp/yaml.h>

#include "Config.h"
#include "ScenarioFields.h"
#include "workload/OpenTrace.h"

extern "C" {
#include "kernel/mm.h"
}

namespace tlmmu {

namespace {

using namespace scenario;

// Events of the whole scenario once every/count repeats are expanded: each is kept in memory
// for the run (1000 events of count 100000 would exhaust it).
constexpr std::uint64_t kMaxEvents = 1000000;

// Reads a scenario document section by section, one function per kind of entry; the counts
// that limit the whole scenario (tasks, events) run across them.
class ScenarioReader {
  public:
    ScenarioReader(const YAML::Node& root, const std::string& file, unsigned cores,
                   const PteFormat& format, std::uint64_t seed, bool open_traces)
        : root_(root), procs_(root.IsMap() ? root["processes"] : YAML::Node()), r_(file),
          cores_(cores), format_(format), page_(format.tableBytes()), seed_(seed),
          open_traces_(open_traces) {}

    Scenario read();

  private:
    void readShared(const YAML::Node& shared);
    void indexProcesses();
    ScenarioProcess readProcess(std::size_t i);
    void readVma(const YAML::Node& n, const std::string& p, std::size_t j, ScenarioProcess& proc,
                 unsigned& vma_slots);
    void readSharedVma(const YAML::Node& n, const std::string& vp, ScenarioVma& v);
    void readThreads(const YAML::Node& n, const std::string& p, std::size_t i,
                     ScenarioProcess& proc);
    ScenarioThread readThread(const YAML::Node& n, const std::string& p, std::uint64_t seq,
                              const ScenarioProcess& proc);
    void readEvent(const YAML::Node& e, const std::string& ep, const std::string& p,
                   const ScenarioProcess& proc, ScenarioThread& th, std::uint64_t& last);
    // at, every and count of an event: how many times it happens, how far apart.
    std::uint64_t readRepeat(const YAML::Node& e, const std::string& ep, const std::string& p,
                             const ScenarioThread& th, TaskEvent& ev, std::uint64_t& every,
                             std::uint64_t& last);
    // The kind of an event and its arguments; how many kinds it names (exactly one is right).
    int readKind(const YAML::Node& e, const std::string& ep, const ScenarioProcess& proc,
                 std::uint64_t count, TaskEvent& ev);
    void readFork(const YAML::Node& e, const std::string& ep, const ScenarioProcess& proc,
                  std::uint64_t count, TaskEvent& ev);
    // map, unmap, protect and discard: a range (and protection, kind, page size).
    void readRangeEvent(const YAML::Node& e, const char* k, const std::string& ep, TaskEvent& ev);
    void readExit(const YAML::Node& e, const std::string& ep, std::uint64_t count, TaskEvent& ev);
    void checkForks() const;
    void checkForkCycles() const;

    const YAML::Node root_;
    const YAML::Node procs_;
    FieldReader r_;
    unsigned cores_;
    const PteFormat& format_;
    std::uint64_t page_;
    std::uint64_t seed_;
    bool open_traces_;
    Scenario s_;
    std::map<std::string, int> shm_index_, proc_index_;
    std::uint64_t task_count_ = 0;
    std::uint64_t event_count_ = 0;
};

Scenario ScenarioReader::read() {
    r_.onlyKeys(root_, "scenario", {"shared", "processes"});
    if (const YAML::Node shared = root_["shared"]) readShared(shared);
    if (!procs_ || !procs_.IsSequence() || procs_.size() == 0)
        r_.fail(procs_ ? procs_ : root_, "processes", "expected a non-empty list of processes");
    indexProcesses();
    for (std::size_t i = 0; i < procs_.size(); ++i)
        s_.processes.push_back(readProcess(i));
    checkForks();
    checkForkCycles();
    return s_;
}

void ScenarioReader::readShared(const YAML::Node& shared) {
    if (!shared.IsSequence()) r_.fail(shared, "shared", "expected a list");
    for (std::size_t i = 0; i < shared.size(); ++i) {
        const std::string p = "shared[" + std::to_string(i) + "]";
        r_.onlyKeys(shared[i], p, {"name", "size"});
        ScenarioShared o{r_.string(shared[i], "name", p), r_.size(shared[i], "size", p)};
        if (o.size == 0 || o.size % page_)
            r_.fail(shared[i], p + ".size", "must be a non-zero multiple of the page size");
        if (o.size / page_ > FW_SHM_MAX_PAGES)
            r_.fail(shared[i]["size"], p + ".size",
                    std::to_string(o.size / page_) + " pages; the firmware's limit is " +
                        std::to_string(FW_SHM_MAX_PAGES) + " pages (FW_SHM_MAX_PAGES)");
        if (i >= FW_MAX_SHM)
            r_.fail(shared[i], p,
                    "more than " + std::to_string(FW_MAX_SHM) +
                        " shared objects; the firmware's limit (FW_MAX_SHM)");
        if (!shm_index_.emplace(o.name, static_cast<int>(i)).second)
            r_.fail(shared[i], p + ".name", "'" + o.name + "' is defined twice");
        s_.shared.push_back(o);
    }
}

// Every process's name first: a fork may name a process further down.
void ScenarioReader::indexProcesses() {
    for (std::size_t i = 0; i < procs_.size(); ++i) {
        const std::string p = "processes[" + std::to_string(i) + "]";
        r_.onlyKeys(procs_[i], p,
                    {"name", "core", "forked_from", "vmas", "workload", "events", "threads"});
        const std::string name = r_.string(procs_[i], "name", p);
        if (!isIdentifier(name))
            r_.fail(procs_[i]["name"], p + ".name",
                    "'" + name +
                        "' is not a name: letters, digits, '_' and '-', not starting "
                        "with a digit or '-' (it becomes the statistics path processes.<name>)");
        if (i >= FW_MAX_PROCESSES)
            r_.fail(procs_[i], p,
                    "more than " + std::to_string(FW_MAX_PROCESSES) +
                        " processes; the firmware's limit (FW_MAX_PROCESSES)");
        if (!proc_index_.emplace(name, static_cast<int>(i)).second)
            r_.fail(procs_[i]["name"], p + ".name", "'" + name + "' is defined twice");
    }
}

ScenarioProcess ScenarioReader::readProcess(std::size_t i) {
    const YAML::Node n = procs_[i];
    const std::string p = "processes[" + std::to_string(i) + "]";
    ScenarioProcess proc;
    proc.name = n["name"].Scalar();
    if (n["forked_from"]) {
        proc.forked_from = r_.string(n, "forked_from", p);
        if (!proc_index_.count(proc.forked_from))
            r_.fail(n["forked_from"], p + ".forked_from",
                    "unknown process '" + proc.forked_from + "'");
        if (n["vmas"])
            r_.fail(n["vmas"], p + ".vmas", "a forked process inherits its parent's VMAs");
    }
    unsigned vma_slots = 0;
    if (const YAML::Node vmas = n["vmas"]) {
        if (!vmas.IsSequence()) r_.fail(vmas, p + ".vmas", "expected a list");
        for (std::size_t j = 0; j < vmas.size(); ++j)
            readVma(vmas[j], p, j, proc, vma_slots);
    }
    readThreads(n, p, i, proc);
    return proc;
}

void ScenarioReader::readVma(const YAML::Node& n, const std::string& p, std::size_t j,
                             ScenarioProcess& proc, unsigned& vma_slots) {
    const std::string vp = p + ".vmas[" + std::to_string(j) + "]";
    r_.onlyKeys(n, vp, {"start", "size", "prot", "kind", "shared", "page_size"});
    ScenarioVma v;
    v.start = r_.uint(n, "start", vp);
    v.size = r_.size(n, "size", vp);
    v.page_level = pageLevel(r_, n, vp, format_);
    checkAligned(r_, n, vp, v.start, v.size, v.page_level, format_);
    v.prot = parseProt(r_, n, vp);
    v.kind = FW_VMA_ANON;
    if (n["kind"]) {
        const std::string k = r_.string(n, "kind", vp);
        if (k == "stack")
            v.kind = FW_VMA_STACK;
        else if (k != "anon")
            r_.fail(n["kind"], vp + ".kind", "expected anon or stack, got '" + k + "'");
    }
    if (n["shared"]) readSharedVma(n, vp, v);
    checkRange(r_, n, vp, v.start, v.size, v.kind == FW_VMA_STACK,
               std::uint64_t{1} << format_.levelShift(v.page_level), &format_);
    vma_slots += v.kind == FW_VMA_STACK ? 2 : 1;
    if (vma_slots > FW_MAX_VMAS)
        r_.fail(n, vp,
                "more than " + std::to_string(FW_MAX_VMAS) +
                    " VMAs in one process (a stack counts 2: its guard page); the "
                    "firmware's limit (FW_MAX_VMAS)");
    for (std::size_t k = 0; k < proc.vmas.size(); ++k) {
        const auto a = extent(proc.vmas[k], format_), b = extent(v, format_);
        if (a.first < b.second && b.first < a.second)
            r_.fail(n, vp,
                    "overlaps " + p + ".vmas[" + std::to_string(k) + "] (guard pages included)");
    }
    proc.vmas.push_back(v);
}

// `shared: NAME`: the VMA maps (the start of) a shared object.
void ScenarioReader::readSharedVma(const YAML::Node& n, const std::string& vp, ScenarioVma& v) {
    const std::string o = r_.string(n, "shared", vp);
    auto it = shm_index_.find(o);
    if (it == shm_index_.end())
        r_.fail(n["shared"], vp + ".shared", "unknown shared object '" + o + "'");
    if (v.kind == FW_VMA_STACK) r_.fail(n["kind"], vp + ".kind", "a shared VMA cannot be a stack");
    if (v.page_level != 0)
        r_.fail(n["page_size"], vp + ".page_size", "a shared VMA maps base pages only");
    if (v.size > s_.shared[it->second].size)
        r_.fail(n["size"], vp + ".size", "larger than shared object '" + o + "'");
    v.kind = FW_VMA_SHARED;
    v.shm = it->second;
}

// A process's threads: its `threads` list, or the process itself as its one thread.
void ScenarioReader::readThreads(const YAML::Node& n, const std::string& p, std::size_t i,
                                 ScenarioProcess& proc) {
    const YAML::Node threads = n["threads"];
    if (!threads) {
        task_count_ += 1;
        proc.threads.push_back(readThread(n, p, i, proc));
        return;
    }
    for (const char* k : {"core", "workload", "events"})
        if (n[k])
            r_.fail(n[k], p + "." + k,
                    "a process with threads gives core, workload and events per thread");
    if (!proc.forked_from.empty())
        r_.fail(threads, p + ".threads",
                "a forked process has one thread, the one that forked (no threads list)");
    if (!threads.IsSequence() || threads.size() == 0)
        r_.fail(threads, p + ".threads", "expected a non-empty list of threads");
    for (std::size_t t = 0; t < threads.size(); ++t) {
        const std::string tp = p + ".threads[" + std::to_string(t) + "]";
        r_.onlyKeys(threads[t], tp, {"core", "workload", "events"});
        task_count_ += 1;
        if (task_count_ > FW_MAX_TASKS)
            r_.fail(threads[t], tp,
                    "more than " + std::to_string(FW_MAX_TASKS) +
                        " threads in all; the firmware's limit (FW_MAX_TASKS)");
        proc.threads.push_back(readThread(threads[t], tp, i * 1000 + t, proc));
    }
}

// A thread: core, workload and events of `n` (the thread's entry, or the process's).
ScenarioThread ScenarioReader::readThread(const YAML::Node& n, const std::string& p,
                                          std::uint64_t seq, const ScenarioProcess& proc) {
    ScenarioThread th;
    const std::uint64_t core = n["core"] ? r_.uint(n, "core", p) : 0; // 64-bit: no wrap
    if (core >= cores_)
        r_.fail(n["core"], p + ".core",
                "core " + std::to_string(core) +
                    " does not exist (cores: " + std::to_string(cores_) + ")");
    th.core = static_cast<unsigned>(core);
    const YAML::Node w = n["workload"];
    if (!w) r_.fail(n, p + ".workload", "missing");
    th.workload = readWorkload(w, r_.file(), p + ".workload", seed_ + seq, s_.ineffective);
    if (th.workload.format != "synthetic") {
        if (th.workload.trace.empty())
            r_.fail(w, p + ".workload.trace", "required for format " + th.workload.format);
        if (open_traces_) // a missing, unreadable or empty trace fails now
            openTrace(th.workload.trace, th.workload.format);
    }
    if (const YAML::Node events = n["events"]) {
        if (!events.IsSequence()) r_.fail(events, p + ".events", "expected a list");
        std::uint64_t last = 0;
        for (std::size_t j = 0; j < events.size(); ++j)
            readEvent(events[j], p + ".events[" + std::to_string(j) + "]", p, proc, th, last);
        // Repeated events interleave with later ones: instruction order, stable.
        std::stable_sort(th.events.begin(), th.events.end(),
                         [](const TaskEvent& a, const TaskEvent& b) { return a.at < b.at; });
    }
    return th;
}

void ScenarioReader::readEvent(const YAML::Node& e, const std::string& ep, const std::string& p,
                               const ScenarioProcess& proc, ScenarioThread& th,
                               std::uint64_t& last) {
    r_.onlyKeys(e, ep,
                {"at", "every", "count", "fork", "map", "unmap", "protect", "discard", "exit"});
    TaskEvent ev;
    std::uint64_t every = 0;
    const std::uint64_t count = readRepeat(e, ep, p, th, ev, every, last);
    if (readKind(e, ep, proc, count, ev) != 1)
        r_.fail(e, ep, "exactly one of fork, map, unmap, protect, discard, exit");
    for (std::uint64_t k = 0; k < count; ++k, ev.at += every)
        th.events.push_back(ev);
}

std::uint64_t ScenarioReader::readRepeat(const YAML::Node& e, const std::string& ep,
                                         const std::string& p, const ScenarioThread& th,
                                         TaskEvent& ev, std::uint64_t& every, std::uint64_t& last) {
    ev.at = r_.uint(e, "at", ep);
    // {at, every, count}: `count` occurrences, `every` instructions apart.
    every = e["every"] ? r_.uint(e, "every", ep) : 0;
    const std::uint64_t count = e["count"] ? r_.uint(e, "count", ep) : 1;
    if (e["every"].IsDefined() != e["count"].IsDefined())
        r_.fail(e, ep,
                "every and count go together (count occurrences, every "
                "instructions apart)");
    if (e["every"] && (every == 0 || count == 0 || count > 100000))
        r_.fail(e["every"], ep, "every must be at least 1 and count in [1, 100000]");
    if (count > 1 && every > (UINT64_MAX - ev.at) / (count - 1))
        r_.fail(e["every"], ep + ".every",
                "at + (count - 1) * every passes 2^64 - 1 (at " + std::to_string(ev.at) +
                    ", every " + std::to_string(every) + ", count " + std::to_string(count) +
                    "): the last occurrence would have no instruction");
    event_count_ += count;
    if (event_count_ > kMaxEvents)
        r_.fail(e["count"] ? e["count"] : e, ep + (e["count"] ? ".count" : ""),
                "more than " + std::to_string(kMaxEvents) +
                    " events in the scenario, counting every repeat of every/count; "
                    "the limit of a scenario");
    const std::uint64_t last_at = ev.at + (count - 1) * every;
    if (th.workload.format == "synthetic" &&
        (last_at > th.workload.synthetic.instructions || last_at < ev.at))
        r_.fail(e["at"], ep + ".at",
                "at " + std::to_string(last_at) + " is past the end of " + p + "'s workload (" +
                    std::to_string(th.workload.synthetic.instructions) +
                    " instructions): it would never happen");
    if (ev.at < last) r_.fail(e["at"], ep + ".at", "events must be in instruction order");
    last = ev.at;
    return count;
}

int ScenarioReader::readKind(const YAML::Node& e, const std::string& ep,
                             const ScenarioProcess& proc, std::uint64_t count, TaskEvent& ev) {
    int kinds = 0;
    if (e["fork"]) {
        ++kinds;
        readFork(e, ep, proc, count, ev);
    }
    for (const char* k : {"map", "unmap", "protect", "discard"}) {
        if (!e[k]) continue;
        ++kinds;
        readRangeEvent(e, k, ep, ev);
    }
    if (e["exit"]) {
        ++kinds;
        readExit(e, ep, count, ev);
    }
    return kinds;
}

void ScenarioReader::readFork(const YAML::Node& e, const std::string& ep,
                              const ScenarioProcess& proc, std::uint64_t count, TaskEvent& ev) {
    ev.kind = TaskEvent::Kind::Fork;
    if (count != 1) r_.fail(e["fork"], ep + ".fork", "a fork happens once (no every/count)");
    const std::string c = r_.string(e, "fork", ep);
    auto it = proc_index_.find(c);
    if (it == proc_index_.end()) r_.fail(e["fork"], ep + ".fork", "unknown process '" + c + "'");
    const YAML::Node cn = procs_[it->second];
    if (!cn["forked_from"] || cn["forked_from"].Scalar() != proc.name)
        r_.fail(e["fork"], ep + ".fork", "process '" + c + "' must say forked_from: " + proc.name);
    ev.child = it->second;
}

void ScenarioReader::readRangeEvent(const YAML::Node& e, const char* k, const std::string& ep,
                                    TaskEvent& ev) {
    const std::string name = k;
    const std::string kp = ep + "." + k;
    const YAML::Node m = e[k];
    if (name == "unmap" || name == "discard")
        r_.onlyKeys(m, kp, {"start", "size"});
    else if (name == "protect")
        r_.onlyKeys(m, kp, {"start", "size", "prot"});
    else
        r_.onlyKeys(m, kp, {"start", "size", "prot", "kind", "page_size"});
    ev.kind = name == "map"       ? TaskEvent::Kind::Map
              : name == "unmap"   ? TaskEvent::Kind::Unmap
              : name == "discard" ? TaskEvent::Kind::Discard
                                  : TaskEvent::Kind::Protect;
    ev.start = r_.uint(m, "start", kp);
    ev.size = r_.size(m, "size", kp);
    ev.page_level = pageLevel(r_, m, kp, format_);
    checkAligned(r_, m, kp, ev.start, ev.size, ev.page_level, format_);
    ev.vma_kind = FW_VMA_ANON;
    if (m["kind"]) {
        const std::string kind = r_.string(m, "kind", kp);
        if (ev.kind != TaskEvent::Kind::Map || (kind != "anon" && kind != "stack"))
            r_.fail(m["kind"], kp + ".kind", "expected anon or stack (map only)");
        if (kind == "stack") ev.vma_kind = FW_VMA_STACK;
    }
    // The checks of a VMA (a stack's guard page too): a map the firmware would refuse is
    // refused now, not mid-run.
    checkRange(r_, m, kp, ev.start, ev.size, ev.vma_kind == FW_VMA_STACK, page_, &format_);
    if (ev.kind == TaskEvent::Kind::Map || ev.kind == TaskEvent::Kind::Protect)
        ev.prot = parseProt(r_, m, kp);
}

void ScenarioReader::readExit(const YAML::Node& e, const std::string& ep, std::uint64_t count,
                              TaskEvent& ev) {
    if (!e["exit"].IsScalar() || e["exit"].Scalar() != "true")
        r_.fail(e["exit"], ep + ".exit",
                "only 'exit: true' is an event (leave the event out not to exit)");
    ev.kind = TaskEvent::Kind::Exit;
    if (count != 1) r_.fail(e["exit"], ep + ".exit", "an exit happens once");
}

// Every forked process needs exactly one fork event naming it.
void ScenarioReader::checkForks() const {
    for (std::size_t i = 0; i < s_.processes.size(); ++i) {
        if (s_.processes[i].forked_from.empty()) continue;
        int forks = 0;
        for (const auto& q : s_.processes)
            for (const ScenarioThread& t : q.threads)
                for (const TaskEvent& e : t.events)
                    forks += e.kind == TaskEvent::Kind::Fork && e.child == static_cast<int>(i);
        if (forks != 1)
            r_.fail(procs_[i], "processes[" + std::to_string(i) + "]",
                    "forked_from " + s_.processes[i].forked_from +
                        " needs exactly one fork event naming '" + s_.processes[i].name +
                        "', found " + std::to_string(forks));
    }
}

// A process forked by one that is itself forked, back to itself, never starts.
void ScenarioReader::checkForkCycles() const {
    for (std::size_t i = 0; i < s_.processes.size(); ++i) {
        std::string chain = s_.processes[i].name;
        std::size_t at = i;
        for (std::size_t steps = 0; !s_.processes[at].forked_from.empty(); ++steps) {
            at = static_cast<std::size_t>(proc_index_.at(s_.processes[at].forked_from));
            chain += " <- " + s_.processes[at].name;
            if (at == i || steps > s_.processes.size())
                r_.fail(procs_[i]["forked_from"],
                        "processes[" + std::to_string(i) + "].forked_from",
                        "fork cycle " + chain +
                            ": no process in it is created at start, so none "
                            "would ever run");
        }
    }
}

} // namespace

Scenario Scenario::fromFile(const std::string& path, unsigned cores, const PteFormat& format,
                            std::uint64_t seed) {
    return ScenarioReader(loadYamlFile(path), path, cores, format, seed, true).read();
}

Scenario Scenario::fromText(const std::string& text, const std::string& file, unsigned cores,
                            const PteFormat& format, std::uint64_t seed, bool open_traces) {
    return ScenarioReader(loadYaml(text, file), file, cores, format, seed, open_traces).read();
}

std::unique_ptr<Workload> Scenario::makeWorkload(std::size_t i, std::size_t t) const {
    const WorkloadSpec& w = processes[i].threads[t].workload;
    if (w.format == "synthetic") return std::make_unique<SyntheticWorkload>(w.synthetic);
    return openTrace(w.trace, w.format);
}

} // namespace tlmmu
