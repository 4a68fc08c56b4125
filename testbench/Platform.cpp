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
    firmware_ = std::make_unique<FirmwareKernel>(format_, config.memory.size, config.page_size,
                                                 config.firmware_frames, config.fault_entry_cycles,
                                                 config.fault_exit_cycles);
    os_ = std::make_unique<ImplicitRegionOs>(*firmware_);
    for (unsigned i = 0; i < config.cores; ++i) {
        const std::string n = std::to_string(i);
        mmus_.push_back(
            std::make_unique<Mmu>(("mmu" + n).c_str(), config.mmu, format_, clock_, make_tlb));
        CoreConfig cc;
        cc.id = i;
        cc.base_cpi = config.base_cpi;
        cc.data_latency_cycles = config.data_latency_cycles;
        cc.max_instructions = config.max_instructions;
        cc.prefault = config.prefault;
        cc.page_shift = format_.pageShift();
        cores_.push_back(std::make_unique<Core>(("core" + n).c_str(), cc, clock_, *os_));
        // Without a scenario each core runs one process over the configured workload.
        tasks_.push_back(std::make_unique<Task>());
        Task& task = *tasks_.back();
        task.name = "p" + n;
        task.core = i;
        task.workload = makeWorkload(i);
        cores_[i]->addTask(&task);
        registerTaskStats(task);
        cores_[i]->translate_socket.bind(mmus_[i]->translate_socket);
        cores_[i]->data_socket.bind(interconnect_->target_socket);
        mmus_[i]->walker.memory_socket.bind(interconnect_->target_socket);
        const std::string p = "cores[" + n + "]";
        cores_[i]->registerStats(stats_, p);
        mmus_[i]->registerStats(stats_, p);
    }
    memory_->registerStats(stats_, "memory");
    stats_.derived("memory.page_table_bytes", [this] { return firmware_->pageTableBytes(); });
    stats_.derived("firmware.demand_faults", [this] { return firmware_->kernel().demand_faults; });
    stats_.derived("firmware.frames_mapped", [this] { return firmware_->kernel().frames_mapped; });
    interconnect_->registerStats(stats_, "interconnect");
    stats_.derived("simulation.time_ps", [] { return sc_core::sc_time_stamp().value(); });
    stats_.constant("config", config.resolved);
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
    for (const auto& t : tasks_)
        if (!t->kill_report.empty()) out << t->kill_report << "\n";
    out << "page tables: " << json["memory"]["page_table_bytes"] << " bytes\n";
}

} // namespace tlmmu
