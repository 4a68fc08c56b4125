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
    tlm::tlm_global_quantum::instance().set(clock_.cycles(config.quantum_cycles));
    memory_ = std::make_unique<Memory>("memory", config.memory, clock_);
    interconnect_ =
        std::make_unique<Interconnect>("interconnect", config.interconnect_latency_cycles, clock_);
    interconnect_->initiator_socket.bind(memory_->target_socket);
    interconnect_->map(kMemoryBase, config.memory.size, 0, "memory");
    invalidation_ = std::make_unique<InvalidationController>("invalidation");
    interconnect_->initiator_socket.bind(invalidation_->register_socket);
    interconnect_->map(kInvalidationBase, InvalidationController::kRegisterBytes, 1,
                       "invalidation");
    if (config.memory.size > kSwapBase)
        throw InputError("memory.size: at most " + std::to_string(kSwapBase >> 30) + "GiB");
    frames_ = std::make_unique<FrameLayout>(format_, config.memory.size, config.page_size,
                                            config.firmware_frames, config.fault_entry_cycles,
                                            config.fault_exit_cycles);
    if (config.scenario.empty()) {
        firmware_ = std::make_unique<FirmwareKernel>(format_, *frames_);
        os_ = std::make_unique<ImplicitRegionOs>(*firmware_);
    } else {
        scenario_ = std::make_unique<Scenario>(Scenario::fromFile(
            config.scenario, config.cores, std::uint64_t{1} << format_.pageShift(), config.seed));
        MemoryManagerConfig mc;
        mc.asid_bits = config.mmu.asid_bits;
        mc.cores = config.cores;
        mc.memory_limit_frames = config.memory_limit_frames;
        mc.swap_slots = config.swap_slots;
        mc.swap_mmio = config.swap_slots ? kSwapBase : 0;
        mc.switch_cycles = config.switch_cycles;
        mc.fork_cycles = config.fork_cycles;
        mm_ = std::make_unique<MemoryManagerOs>(*frames_, mc, *scenario_);
        if (config.swap_slots) {
            swap_ = std::make_unique<SwapDevice>("swap", config.swap_slots,
                                                 config.swap_latency_cycles, clock_);
            interconnect_->initiator_socket.bind(swap_->register_socket);
            interconnect_->map(kSwapBase, SwapDevice::kRegisterBytes, 2, "swap");
            swap_->dma_socket.bind(interconnect_->target_socket);
            swap_->registerStats(stats_, "swap");
        }
    }
    OperatingSystem& os = mm_ ? static_cast<OperatingSystem&>(*mm_) : *os_;
    for (unsigned i = 0; i < config.cores; ++i) {
        const std::string n = std::to_string(i);
        mmus_.push_back(
            std::make_unique<Mmu>(("mmu" + n).c_str(), config.mmu, format_, clock_, make_tlb));
        CoreConfig cc;
        cc.id = i;
        cc.base_cpi = config.base_cpi;
        cc.data_latency_cycles = config.data_latency_cycles;
        cc.max_instructions = config.max_instructions;
        cc.time_slice_cycles = config.time_slice_cycles;
        cc.prefault = config.prefault;
        cc.page_shift = format_.pageShift();
        cores_.push_back(std::make_unique<Core>(("core" + n).c_str(), cc, clock_, os));
        cores_[i]->setInvalidationController(kInvalidationBase);
        cores_[i]->translate_socket.bind(mmus_[i]->translate_socket);
        cores_[i]->data_socket.bind(interconnect_->target_socket);
        mmus_[i]->walker.memory_socket.bind(interconnect_->target_socket);
        invalidation_->mmu_socket.bind(mmus_[i]->invalidate_socket);
        const std::string p = "cores[" + n + "]";
        cores_[i]->registerStats(stats_, p);
        mmus_[i]->registerStats(stats_, p);
        if (!scenario_) {
            // Without a scenario each core runs one process over the configured workload.
            tasks_.push_back(std::make_unique<Task>());
            Task& task = *tasks_.back();
            task.name = "p" + n;
            task.core = i;
            task.workload = makeWorkload(i);
            task.checked = config.checked;
            task.salt = i + 1;
            task.shadow = std::make_shared<DataShadow>();
            cores_[i]->addTask(&task);
            registerTaskStats(task);
        }
    }
    if (scenario_) buildScenarioTasks();
    memory_->registerStats(stats_, "memory");
    if (mm_) {
        stats_.derived("memory.page_table_bytes", [this] { return mm_->pageTableBytes(); });
        stats_.derived("firmware.frames_in_use", [this] { return mm_->framesInUse(); });
        stats_.derived("firmware.frames_peak", [this] { return mm_->framesPeak(); });
        stats_.derived("memory.page_table_bytes_peak",
                       [this] { return mm_->pageTableBytesPeak(); });
    } else {
        stats_.derived("memory.page_table_bytes", [this] { return firmware_->pageTableBytes(); });
        stats_.derived("firmware.demand_faults",
                       [this] { return firmware_->kernel().demand_faults; });
        stats_.derived("firmware.frames_mapped",
                       [this] { return firmware_->kernel().frames_mapped; });
    }
    interconnect_->registerStats(stats_, "interconnect");
    invalidation_->registerStats(stats_, "invalidation");
    stats_.derived("simulation.time_ps", [] { return sc_core::sc_time_stamp().value(); });
    stats_.constant("config", config.resolved);
}

void Platform::buildScenarioTasks() {
    std::vector<std::shared_ptr<DataShadow>> shared_shadows;
    for (std::size_t i = 0; i < scenario_->shared.size(); ++i)
        shared_shadows.push_back(std::make_shared<DataShadow>());
    for (std::size_t i = 0; i < scenario_->processes.size(); ++i) {
        tasks_.push_back(std::make_unique<Task>());
        Task& t = *tasks_.back();
        const ScenarioProcess& p = scenario_->processes[i];
        t.name = p.name;
        t.core = p.core;
        t.workload = scenario_->makeWorkload(i);
        t.events = p.events;
        t.checked = p.checked;
        t.salt = static_cast<std::uint32_t>(i + 1);
        if (p.forked_from.empty()) t.shadow = std::make_shared<DataShadow>(); // else: at fork
        for (const ScenarioVma& v : p.vmas)
            if (v.shm >= 0) t.shared.push_back({v.start, v.size, shared_shadows[v.shm]});
    }
    for (std::size_t i = 0; i < scenario_->processes.size(); ++i) {
        Task& t = *tasks_[i];
        const ScenarioProcess& p = scenario_->processes[i];
        for (std::size_t e = 0; e < t.events.size(); ++e)
            if (p.event_child[e] >= 0) {
                t.events[e].child = tasks_[p.event_child[e]].get();
                t.events[e].child->parent = &t;
            }
        mm_->bind(t, i);
        cores_[t.core]->addTask(&t);
        registerTaskStats(t);
        mm_->registerStats(stats_, "processes." + t.name + ".firmware", {&t});
    }
    for (unsigned c = 0; c < cores_.size(); ++c) {
        std::vector<const Task*> on_core;
        for (const auto& t : tasks_)
            if (t->core == c) on_core.push_back(t.get());
        mm_->registerStats(stats_, "cores[" + std::to_string(c) + "].firmware", on_core);
    }
}

Platform::~Platform() = default;

void Platform::registerTaskStats(const Task& task) {
    const std::string p = "processes." + task.name;
    stats_.counter(p + ".instructions", &task.instructions);
    stats_.counter(p + ".cycles", &task.cycles);
    stats_.counter(p + ".fault_cycles", &task.fault_cycles);
    stats_.constant(p + ".core", task.core);
    for (unsigned k = 1; k < task.faults.size(); ++k)
        stats_.counter(p + ".faults." + toString(static_cast<FaultKind>(k)), &task.faults[k]);
    stats_.counter(p + ".data_checks", &task.data_checks);
    stats_.counter(p + ".data_mismatches", &task.data_mismatches);
    stats_.derived(p + ".first_mismatch", [&task] { return task.first_mismatch; });
    stats_.derived(p + ".killed", [&task] {
        return task.kill_report.empty() ? nlohmann::json(false) : nlohmann::json(task.kill_report);
    });
}

std::unique_ptr<Workload> Platform::makeWorkload(unsigned core) const {
    if (config_.workload_format == "synthetic") {
        SyntheticParams p = config_.synthetic;
        p.seed = config_.seed + core; // every core its own stream, reproducible
        return std::make_unique<SyntheticWorkload>(p);
    }
    return openTrace(config_.trace, config_.workload_format);
}

void Platform::run() {
    sc_core::sc_start();
}

std::string Platform::error() const {
    for (const auto& c : cores_)
        if (!c->error().empty()) return c->error();
    // Checked mode: a load that did not return what was stored is a failure of the model.
    for (const auto& t : tasks_)
        if (t->data_mismatches)
            return "process " + t->name + ": " + std::to_string(t->data_mismatches) +
                   " loads did not return the stored data; first: " + t->first_mismatch;
    return {};
}

void Platform::printSummary(std::ostream& out) const {
    const auto json = stats_.toJson();
    out << std::fixed << std::setprecision(4);
    for (unsigned i = 0; i < cores_.size(); ++i) {
        const auto& c = json["cores"][i];
        const double n = std::max<double>(1.0, c["instructions"].get<double>());
        const auto& s = c["cpi_stack"];
        out << "core" << i << ": " << c["instructions"] << " instructions, " << c["cycles"]
            << " cycles, CPI " << c["cpi"].get<double>() << " = base "
            << s["base"].get<double>() / n << " + tlb " << s["tlb"].get<double>() / n << " + walk "
            << s["walk"].get<double>() / n << " + fault " << s["fault"].get<double>() / n;
        if (s["data"].get<std::uint64_t>()) out << " + data " << s["data"].get<double>() / n;
        if (s["os"].get<std::uint64_t>()) out << " + os " << s["os"].get<double>() / n;
        out << "\n  tlb";
        for (const char* l : {"l1i", "l1d", "l2"}) {
            const auto& t = c["tlb"][l];
            const double acc = t["accesses"].get<double>();
            if (acc > 0)
                out << "  " << l << " " << std::setprecision(2)
                    << 100.0 * t["hits"].get<double>() / acc << "% hit";
        }
        const auto& w = c["walker"];
        out << "  | walks " << w["walks"] << " (" << w["memory_reads"] << " PTE reads";
        const double pwc = c["pwc"]["hits"].get<double>() + c["pwc"]["misses"].get<double>();
        if (pwc > 0) out << ", pwc " << 100.0 * c["pwc"]["hits"].get<double>() / pwc << "% hit";
        out << ")  | faults " << c["faults"]["not_present"] << std::setprecision(4) << "\n";
    }
    if (mm_) {
        for (const auto& t : tasks_) {
            const auto& p = json["processes"][t->name];
            const auto& f = p["firmware"];
            out << "process " << t->name << " (core " << t->core << "): " << p["instructions"]
                << " instructions; faults: demand-zero " << f["faults"]["demand_zero"] << ", cow "
                << f["faults"]["cow"] << ", swap-in " << f["faults"]["swap_in"] << ", protection "
                << f["faults"]["protection"] << "; pages copied " << f["pages_copied"]
                << ", swapped out " << f["swap_outs"] << ", switches " << f["context_switches"]
                << ", TLB flushes " << f["tlb_flushes"];
            if (t->checked)
                out << "; " << t->data_checks << " loads checked, " << t->data_mismatches
                    << " wrong";
            out << "\n";
        }
    }
    for (const auto& t : tasks_)
        if (!t->kill_report.empty()) out << t->kill_report << "\n";
    out << "page tables: " << json["memory"]["page_table_bytes"] << " bytes";
    if (mm_)
        out << " at the end, " << json["memory"]["page_table_bytes_peak"]
            << " at peak; data frames peak " << json["firmware"]["frames_peak"];
    out << "\n";
}

} // namespace tlmmu
