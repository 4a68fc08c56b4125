#include "Platform.h"

#include <iomanip>

#include "mmu/RtlTlbFactory.h"
#include "workload/OpenTrace.h"

namespace tlmmu {

namespace {
// Each TLB level is the C++ model or the Verilated RTL, as its `impl` key says.
std::unique_ptr<TlbInterface> makeTlb(const TlbConfig& c) {
    if (c.impl == "rtl") return makeRtlTlb(c);
    return std::make_unique<Tlb>(c);
}
} // namespace

Platform::Platform(const SystemConfig& config, const Mmu::TlbFactory& make_tlb_override)
    : config_(config), format_(config.format()), clock_(config.frequency_ghz) {
    const Mmu::TlbFactory make_tlb = make_tlb_override ? make_tlb_override : makeTlb;
    LocalTime::startAll();
    tlm::tlm_global_quantum::instance().set(clock_.cycles(config.quantum_cycles));
    buildDevices();
    buildOs();
    if (config.firmware.swap_slots) buildSwap();
    if (config.hasCaches()) buildCaches();
    for (unsigned i = 0; i < config.cores; ++i)
        buildCore(i, make_tlb);
    registerStats();
}

// Memory behind the interconnect, and the devices on it (the interconnect's target index of
// each is the order of binding: memory 0, invalidation 1, ipi 2, swap 3).
void Platform::buildDevices() {
    memory_ = std::make_unique<Memory>("memory", config_.memory, clock_);
    interconnect_ =
        std::make_unique<Interconnect>("interconnect", config_.interconnect_latency_cycles, clock_);
    interconnect_->initiator_socket.bind(memory_->target_socket);
    interconnect_->map(kMemoryBase, config_.memory.size, 0, "memory");
    invalidation_ = std::make_unique<InvalidationController>(
        "invalidation", clock_, config_.invalidation_base_cycles, config_.invalidation_hop_cycles);
    interconnect_->initiator_socket.bind(invalidation_->register_socket);
    interconnect_->map(kInvalidationBase, InvalidationController::kRegisterBytes, 1,
                       "invalidation");
    invalidation_->registerStats(stats_, "invalidation");
    ipi_ = std::make_unique<IpiController>("ipi", config_.cores, config_.ipi_latency_cycles,
                                           config_.ipi_drop_probability, config_.seed, clock_);
    interconnect_->initiator_socket.bind(ipi_->register_socket);
    interconnect_->map(kIpiBase, IpiController::kRegisterBytes, 2, "ipi");
    if (config_.checker) checker_ = std::make_unique<SafetyChecker>(format_.pageShift());
}

void Platform::buildOs() {
    if (config_.memory.size > kSwapBase)
        throw InputError("memory.size: at most " + std::to_string(kSwapBase >> 30) + "GiB");
    // The scenario file was read and checked with the configuration; without one, the
    // implicit scenario.
    scenario_ = config_.scenario.empty() ? std::make_shared<const Scenario>(implicitScenario())
                                         : config_.scenario_parsed;
    MemoryManagerWiring wiring;
    wiring.swap_mmio = config_.firmware.swap_slots ? kSwapBase : 0;
    wiring.ipi_mmio = kIpiBase;
    wiring.checker = checker_.get();
    os_ = std::make_unique<MemoryManagerOs>(format_, config_, wiring, *scenario_);
}

void Platform::buildSwap() {
    swap_ = std::make_unique<SwapDevice>("swap", config_.firmware.swap_slots,
                                         config_.swap_latency_cycles, clock_);
    interconnect_->initiator_socket.bind(swap_->register_socket);
    interconnect_->map(kSwapBase, SwapDevice::kRegisterBytes, 3, "swap");
    swap_->dma_socket.bind(interconnect_->target_socket);
    swap_->registerStats(stats_, "swap");
}

void Platform::buildCaches() {
    caches_ =
        std::make_unique<CacheSystem>("caches", config_.caches, config_.walker_cache_level, clock_);
    caches_->addCacheable(kMemoryBase, config_.memory.size); // MMIO passes through
    caches_->memory_socket.bind(interconnect_->target_socket);
}

CoreConfig Platform::coreConfig(unsigned i) const {
    CoreConfig cc;
    cc.id = i;
    cc.base_cpi = config_.base_cpi;
    cc.data_latency_cycles = config_.data_latency_cycles;
    cc.max_instructions = config_.max_instructions;
    cc.page_shift = format_.pageShift();
    cc.index_bits = format_.indexBits();
    if (caches_) {
        // What the pipeline hides: an L1 hit costs no more than base CPI.
        cc.cached_data = config_.cache_data;
        cc.cached_fetch = config_.caches.l1i.size != 0;
        cc.l1d_hit_cycles = config_.caches.l1d.size ? config_.caches.l1d.latency_cycles : 0;
        cc.l1i_hit_cycles = config_.caches.l1i.latency_cycles;
        cc.line_shift = static_cast<unsigned>(__builtin_ctz(caches_->hierarchy().lineBytes()));
    }
    return cc;
}

// Core i with its Mmu, bound to the caches or the interconnect, and its statistics.
void Platform::buildCore(unsigned i, const Mmu::TlbFactory& make_tlb) {
    const std::string n = std::to_string(i);
    mmus_.push_back(
        std::make_unique<Mmu>(("mmu" + n).c_str(), config_.mmu, format_, clock_, make_tlb));
    cores_.push_back(std::make_unique<Core>(("core" + n).c_str(), coreConfig(i), clock_, *os_));
    cores_[i]->setInvalidationController(kInvalidationBase);
    os_->attachCore(i, cores_[i]->hal());
    cores_[i]->setChecker(checker_.get());
    ipi_->connect(i, *cores_[i]);
    cores_[i]->translate_socket.bind(mmus_[i]->translate_socket);
    // With caches, the core's data path (its data, fetch timing and firmware) and its
    // walker go through them; LLC misses and MMIO reach the interconnect from there.
    if (caches_) {
        cores_[i]->data_socket.bind(caches_->data_socket);
        mmus_[i]->walker.memory_socket.bind(caches_->walker_socket);
        mmus_[i]->walker.countLevels();
        cores_[i]->setMemoryLines(&caches_->hierarchy().memoryLines(i));
    } else {
        cores_[i]->data_socket.bind(interconnect_->target_socket);
        mmus_[i]->walker.memory_socket.bind(interconnect_->target_socket);
    }
    invalidation_->mmu_socket.bind(mmus_[i]->invalidate_socket);
    const std::string p = "cores[" + n + "]";
    cores_[i]->registerStats(stats_, p);
    mmus_[i]->registerStats(stats_, p);
}

// The statistics of what is not a core: processes, the firmware, caches, devices, the run.
void Platform::registerStats() {
    for (std::size_t i = 0; i < scenario_->processes.size(); ++i)
        registerProcessStats(i);
    os_->registerStats(stats_);
    if (caches_) caches_->registerStats(stats_);
    memory_->registerStats(stats_, "memory");
    interconnect_->registerStats(stats_, "interconnect");
    ipi_->registerStats(stats_, "ipi");
    // Every initiator's shootdowns together (cycles from its first change to its last ack).
    stats_.derived(
        "shootdown.latency",
        [this] {
            Histogram all;
            for (const auto& c : cores_)
                all.merge(c->shootdownLatency());
            return all.toJson();
        },
        {"cycles",
         "every initiator's shootdowns: from the first change to the last acknowledgement", false});
    if (checker_) {
        stats_.derived("checker.violations", [this] { return checker_->violations(); },
                       {"accesses", "accesses that used a stale translation (the safety checker)"});
        stats_.derived("checker.first_violation", [this] { return checker_->firstViolation(); },
                       {"", "the first violation, in words", false});
    }
    stats_.derived("simulation.time_ps", [] { return sc_core::sc_time_stamp().value(); },
                   {"ps", "simulated time at the end of the run", false});
    stats_.constant("config", config_.resolved,
                    {"", "the resolved configuration the run used", false});
}

// A run without a scenario: each core runs one process over the configured workload, in one
// implicit region (read, write, execute) covering the user half of the address space, mapped
// on demand in pages of workload.page_size.
Scenario Platform::implicitScenario() const {
    Scenario s;
    unsigned level = 0;
    while ((std::uint64_t{1} << format_.levelShift(level)) != config_.page_size)
        ++level; // SystemConfig checked that the format has this page size
    for (unsigned i = 0; i < config_.cores; ++i) {
        ScenarioProcess p;
        p.name = "p" + std::to_string(i);
        ScenarioThread t;
        t.core = i;
        ScenarioVma v;
        v.start = 0;
        v.size = format_.userSpan();
        v.prot = FW_PROT_R | FW_PROT_W | FW_PROT_X;
        v.kind = FW_VMA_IMPLICIT;
        v.page_level = level;
        p.vmas.push_back(v);
        t.workload = config_.workload;
        t.workload.synthetic.seed = config_.seed + i; // every core its own stream, reproducible
        p.threads.push_back(std::move(t));
        s.processes.push_back(std::move(p));
    }
    return s;
}

Platform::~Platform() = default;

namespace {
// A thread's counters; a process of several threads has each under threads[i] and their sums.
struct TaskCounter {
    const char* name;
    const std::uint64_t& (*field)(const Task&);
    StatInfo info;
};
const TaskCounter kTaskCounters[] = {
    {"instructions",
     [](const Task& t) -> const std::uint64_t& { return t.instructions; },
     {"instructions", "instructions retired"}},
    {"cycles",
     [](const Task& t) -> const std::uint64_t& { return t.cycles; },
     {"cycles", "cycles run on a core (its CPI stack there)"}},
    {"fault_cycles",
     [](const Task& t) -> const std::uint64_t& { return t.fault_cycles; },
     {"cycles", "cycles in its page faults"}},
    {"data_checks",
     [](const Task& t) -> const std::uint64_t& { return t.checked.checks; },
     {"loads", "checked mode: loads compared with the data last stored"}},
    {"data_mismatches",
     [](const Task& t) -> const std::uint64_t& { return t.checked.mismatches; },
     {"loads", "checked mode: loads that did not return the data last stored"}},
    {"failed_events",
     [](const Task& t) -> const std::uint64_t& { return t.failed_events; },
     {"events", "scenario events that failed with an error and ran on (a protect of a range no "
                "longer mapped: ENOMEM)"}},
};
const StatInfo kKilledInfo{"", "false, or why the firmware killed it (the thread that was killed)",
                           false};
} // namespace

// A process's statistics: its own when it has one thread; with several, each thread's under
// threads[i] and the process's as their sums.
void Platform::registerProcessStats(std::size_t process) {
    const std::vector<OsTask*>& threads = os_->processTasks(process);
    const std::string p = "processes." + scenario_->processes[process].name;
    auto one = [this](const std::string& p, const Task& task) {
        for (const TaskCounter& c : kTaskCounters)
            stats_.counter(p + "." + c.name, &c.field(task), c.info);
        stats_.constant(p + ".core", task.core, {"core", "the core it runs on", false});
        for (unsigned k = 1; k < task.faults.size(); ++k)
            stats_.counter(p + ".faults." + toString(static_cast<FaultKind>(k)), &task.faults[k],
                           {"faults", "faults of this kind it took"});
        stats_.derived(
            p + ".first_mismatch", [&task] { return task.checked.first_mismatch; },
            {"", "checked mode: the first load that did not return the data stored", false});
        stats_.derived(
            p + ".first_failed_event", [&task] { return task.first_failed_event; },
            {"", "the first scenario event that failed (failed_events), in words", false});
        stats_.derived(
            p + ".killed",
            [&task] {
                return task.kill_report.empty() ? nlohmann::json(false)
                                                : nlohmann::json(task.kill_report);
            },
            kKilledInfo);
    };
    if (threads.size() == 1) return one(p, *threads.front());
    for (std::size_t j = 0; j < threads.size(); ++j)
        one(p + ".threads[" + std::to_string(j) + "]", *threads[j]);
    for (const TaskCounter& c : kTaskCounters)
        stats_.derived(p + "." + c.name,
                       [&threads, field = c.field] {
                           std::uint64_t n = 0;
                           for (const OsTask* t : threads)
                               n += field(*t);
                           return n;
                       },
                       {c.info.unit, c.info.meaning + " (its threads together)"});
    stats_.derived(
        p + ".killed",
        [&threads] {
            // The thread whose access killed the process, else one that ended with it.
            for (const OsTask* t : threads)
                if (!t->kill_report.empty() && !t->group_exit)
                    return nlohmann::json(t->kill_report);
            for (const OsTask* t : threads)
                if (!t->kill_report.empty()) return nlohmann::json(t->kill_report);
            return nlohmann::json(false);
        },
        kKilledInfo);
}

void Platform::enableTimeline(std::uint64_t from_ps, std::uint64_t to_ps, bool windowed) {
    timeline_ = std::make_unique<Timeline>(from_ps, to_ps, 1000000, windowed);
    for (auto& c : cores_)
        c->setTimeline(timeline_.get());
    os_->setTimeline(timeline_.get());
}

nlohmann::json Platform::timelineJson() const {
    return timeline_ ? timeline_->toJson(static_cast<unsigned>(cores_.size())) : nlohmann::json();
}

void Platform::run() {
    sc_core::sc_start();
}

void Platform::run(const std::function<void()>& progress) {
    const sc_core::sc_time slice =
        clock_.cycles(std::max<std::uint64_t>(config_.quantum_cycles, 1) * 100);
    do {
        sc_core::sc_start(slice, sc_core::SC_EXIT_ON_STARVATION);
        progress();
    } while (sc_core::sc_pending_activity());
}

std::uint64_t Platform::instructions() const {
    std::uint64_t n = 0;
    for (const auto& c : cores_)
        n += c->instructions();
    return n;
}

std::uint64_t Platform::expectedInstructions() const {
    std::uint64_t n = 0;
    for (const auto& p : scenario_->processes)
        for (const auto& t : p.threads) {
            if (t.workload.format != "synthetic") return 0;
            n += t.workload.synthetic.instructions;
        }
    if (config_.max_instructions) n = std::min(n, config_.max_instructions * config_.cores);
    return n;
}

std::string Platform::error() const {
    for (const auto& c : cores_)
        if (!c->error().empty()) return c->error();
    if (!os_->error().empty()) return os_->error();
    if (checker_ && config_.fail_on_violation && checker_->violations())
        return "the safety checker found " + std::to_string(checker_->violations()) +
               " uses of stale translations; first: " + checker_->firstViolation();
    // Checked mode: a load that did not return what was stored is a failure of the model.
    for (const auto& t : os_->tasks())
        if (t->checked.mismatches)
            return "process " + t->name + ": " + std::to_string(t->checked.mismatches) +
                   " loads did not return the stored data; first: " + t->checked.first_mismatch;
    return {};
}

namespace {
double hitPercent(const nlohmann::json& level) {
    const double accesses = level["accesses"].get<double>();
    return accesses > 0 ? 100.0 * level["hits"].get<double>() / accesses : 0.0;
}
} // namespace

// Core i's line: its CPI stack, TLB and walker, faults; its caches' hit rates.
void Platform::printCoreSummary(std::ostream& out, const nlohmann::json& c, unsigned i) const {
    const double n = std::max<double>(1.0, c["instructions"].get<double>());
    const auto& s = c["cpi_stack"];
    out << "core" << i << ": " << c["instructions"] << " instructions, " << c["cycles"]
        << " cycles, CPI " << c["cpi"].get<double>() << " = base " << s["base"].get<double>() / n
        << " + tlb " << s["tlb"].get<double>() / n << " + walk " << s["walk"].get<double>() / n
        << " + fault " << s["fault"].get<double>() / n;
    if (s["data"].get<std::uint64_t>()) out << " + data " << s["data"].get<double>() / n;
    if (s["os"].get<std::uint64_t>()) out << " + os " << s["os"].get<double>() / n;
    if (s["shootdown"].get<std::uint64_t>())
        out << " + shootdown " << s["shootdown"].get<double>() / n;
    if (s["ipi"].get<std::uint64_t>()) out << " + ipi " << s["ipi"].get<double>() / n;
    out << "\n  tlb";
    for (const char* l : {"l1i", "l1d", "l2"}) {
        const auto& t = c["tlb"][l];
        const double acc = t["accesses"].get<double>();
        if (acc > 0)
            out << "  " << l << " " << std::setprecision(2) << 100.0 * t["hits"].get<double>() / acc
                << "% hit";
    }
    const auto& w = c["walker"];
    out << "  | walks " << w["walks"] << " (" << w["memory_reads"] << " PTE reads";
    const double pwc = c["pwc"]["hits"].get<double>() + c["pwc"]["misses"].get<double>();
    if (pwc > 0) out << ", pwc " << 100.0 * c["pwc"]["hits"].get<double>() / pwc << "% hit";
    out << ")  | faults " << c["faults"]["not_present"] << std::setprecision(4) << "\n";
    if (caches_) {
        out << "  cache" << std::setprecision(2);
        for (const char* l : {"l1i", "l1d", "l2"})
            if (c["cache"].contains(l) && c["cache"][l]["accesses"].get<double>() > 0)
                out << "  " << l << " " << hitPercent(c["cache"][l]) << "% hit";
        out << "  | memory lines " << c["cache"]["memory_lines"] << std::setprecision(4) << "\n";
    }
}

// A scenario's processes: their instructions, faults, copies, swaps, switches and flushes.
void Platform::printProcessSummary(std::ostream& out, const nlohmann::json& json) const {
    for (std::size_t i = 0; i < scenario_->processes.size(); ++i) {
        const std::string& name = scenario_->processes[i].name;
        const auto& threads = os_->processTasks(i);
        const auto& p = json["processes"][name];
        const auto& f = p["firmware"];
        out << "process " << name << " (";
        if (threads.size() == 1)
            out << "core " << threads.front()->core;
        else
            out << threads.size() << " threads";
        out << "): " << p["instructions"] << " instructions; faults: demand-zero "
            << f["faults"]["demand_zero"] << ", cow " << f["faults"]["cow"] << ", swap-in "
            << f["faults"]["swap_in"] << ", protection " << f["faults"]["protection"]
            << "; pages copied " << f["pages_copied"] << ", swapped out " << f["swap_outs"]
            << ", switches " << f["context_switches"] << ", TLB flushes " << f["tlb_flushes"];
        if (threads.front()->checked.enabled)
            out << "; " << p["data_checks"] << " loads checked, " << p["data_mismatches"]
                << " wrong";
        out << "\n";
    }
}

void Platform::printSummary(std::ostream& out) const {
    const auto json = stats_.toJson();
    out << std::fixed << std::setprecision(4);
    for (unsigned i = 0; i < cores_.size(); ++i)
        printCoreSummary(out, json["cores"][i], i);
    if (!config_.scenario.empty()) printProcessSummary(out, json);
    for (const auto& t : os_->tasks())
        if (!t->kill_report.empty()) out << t->kill_report << "\n";
    for (const auto& t : os_->tasks())
        if (t->failed_events > 0)
            out << t->first_failed_event << "; it ran on"
                << (t->failed_events > 1
                        ? " (" + std::to_string(t->failed_events) + " events failed in all)"
                        : std::string())
                << "\n";
    if (const auto& sd = json["shootdown"]; sd["count"].get<std::uint64_t>() > 0) {
        const auto& l = sd["latency"];
        out << "shootdowns: " << sd["count"] << " (" << sd["pages"] << " pages, " << sd["ipis"]
            << " IPIs, " << sd["timeouts"] << " ack timeouts); initiator latency p50 " << l["p50"]
            << ", p99 " << l["p99"] << " cycles\n";
    }
    if (caches_) {
        const auto& k = json["cache"];
        out << "caches: ";
        if (k.contains("llc"))
            out << "llc " << std::setprecision(2) << hitPercent(k["llc"]) << "% hit ("
                << k["llc"]["misses"] << " misses), " << std::setprecision(4);
        out << k["coherence"]["transfers"] << " cache-to-cache transfers, "
            << k["coherence"]["invalidations"] << " invalidations\n";
    }
    if (checker_) out << "checker: " << checker_->violations() << " uses of stale translations\n";
    out << "page tables: " << json["memory"]["page_table_bytes"] << " bytes at the end, "
        << json["memory"]["page_table_bytes_peak"] << " at peak; data frames peak "
        << json["firmware"]["frames_peak"] << "\n";
}

} // namespace tlmmu
