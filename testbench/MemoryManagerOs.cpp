#include "MemoryManagerOs.h"

namespace tlmmu {

namespace {
const char* killReason(fw_kill_reason r) {
    switch (r) {
    case FW_KILL_NONE:
        return "not killed";
    case FW_KILL_NO_VMA:
        return "access outside every VMA";
    case FW_KILL_GUARD_PAGE:
        return "guard page";
    case FW_KILL_WRITE_RO:
        return "write to a read-only mapping";
    case FW_KILL_EXEC_NX:
        return "instruction fetch from a non-executable mapping";
    case FW_KILL_READ_NR:
        return "read of a mapping without read permission";
    case FW_KILL_BAD_PTE:
        return "bad page-table entry";
    case FW_KILL_OUT_OF_MEMORY:
        return "out of memory";
    }
    return "?";
}

using ProcessStats = struct fw_process_stats;

const char* const kFaultClassNames[] = {"none",    "demand_zero", "cow",
                                        "swap_in", "spurious",    "protection"};

void check(int rc, const char* what) {
    if (rc) hal_panic(fwError(what, rc).c_str());
}
} // namespace

MemoryManagerOs::MemoryManagerOs(FrameLayout& layout, const MemoryManagerConfig& config,
                                 const Scenario& scenario)
    : scenario_(scenario), storage_(new std::uint64_t[(fw_mm_size() + 7) / 8]()),
      rmap_(layout.config.frame_count), swap_bitmap_((config.swap_slots + 63) / 64 + 1),
      table_bytes_(std::uint64_t{1} << layout.config.format.page_shift) {
    if (layout.config.page_level != 0)
        throw InputError("workload.page_size: a scenario's memory manager maps base pages only");
    fw_mm_config c{};
    c.kernel = layout.config;
    c.asid_bits = config.asid_bits;
    c.cores = config.cores;
    c.memory_limit_frames = static_cast<std::uint32_t>(config.memory_limit_frames);
    c.swap_mmio = config.swap_mmio;
    c.swap_slots = config.swap_slots;
    c.switch_cycles = config.switch_cycles;
    c.fork_cycles = config.fork_cycles;
    c.rmap = rmap_.data();
    if (const int rc = fw_mm_init(mm(), &c, swap_bitmap_.data()))
        throw InputError("firmware: " + fwError("fw_mm_init", rc));
}

MemoryManagerOs::~MemoryManagerOs() = default;

void MemoryManagerOs::createShared() {
    if (shared_created_) return;
    shared_created_ = true;
    for (const ScenarioShared& s : scenario_.shared) {
        int id = -1;
        check(fw_shm_create(mm(), s.size, &id), ("creating shared object " + s.name).c_str());
        shm_ids_.push_back(id);
    }
}

void MemoryManagerOs::start(Task& task) {
    createShared();
    const ScenarioProcess& p = scenario_.processes[process_of_.at(&task)];
    check(fw_process_create(mm(), task.core, &task.pid), ("creating process " + p.name).c_str());
    for (const ScenarioVma& v : p.vmas)
        check(fw_vma_map(mm(), task.pid, v.start, v.size, v.prot, static_cast<fw_vma_kind>(v.kind),
                         v.shm >= 0 ? shm_ids_[v.shm] : -1),
              ("mapping a VMA of " + p.name).c_str());
}

void MemoryManagerOs::prefault(Task& task, Addr va) {
    // Only what the process may touch: an illegal address must still fault during the run.
    const ScenarioProcess& p = scenario_.processes[process_of_.at(&task)];
    for (const ScenarioVma& v : p.vmas)
        if (va >= v.start && va - v.start < v.size) {
            fw_fault_result r{};
            check(fw_fault(mm(), task.core, task.pid, va, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT, &r),
                  "prefault");
            return;
        }
}

void MemoryManagerOs::switchTo(Task& task) {
    check(fw_switch_to(mm(), task.core, task.pid), "context switch");
}

OperatingSystem::FaultOutcome MemoryManagerOs::fault(Task& task, Addr va, AccessType access,
                                                     FaultKind kind) {
    const auto fa = static_cast<fw_access>(access);
    if (kind == FaultKind::TlbMiss) {
        // Software-managed TLB: the refill handler walks the table; only if it finds nothing
        // that permits the access is this a page fault.
        const int rc = fw_tlb_refill(mm(), task.core, task.pid, va, fa);
        if (rc == 0) return {};
        if (rc != FW_ERR_FAULT) check(rc, "TLB refill");
        kind = FaultKind::NotPresent;
    }
    fw_fault_result r{};
    check(fw_fault(mm(), task.core, task.pid, va, fa, static_cast<fw_fault_kind>(kind), &r),
          "fault handler");
    notePeaks();
    if (r.cls != FW_FAULT_CLASS_PROTECTION) return {};
    return {true, killReason(r.reason)};
}

void MemoryManagerOs::event(Task& task, const TaskEvent& e) {
    const ScenarioProcess& p = scenario_.processes[process_of_.at(&task)];
    const std::string what = "process " + p.name + " event at instruction " + std::to_string(e.at);
    int rc = 0;
    switch (e.kind) {
    case TaskEvent::Kind::Fork:
        rc = fw_process_fork(mm(), task.pid, e.child->core, &e.child->pid);
        break;
    case TaskEvent::Kind::Map:
        rc = fw_vma_map(mm(), task.pid, e.start, e.size, e.prot,
                        static_cast<fw_vma_kind>(e.vma_kind), -1);
        break;
    case TaskEvent::Kind::Unmap:
        rc = fw_vma_unmap(mm(), task.pid, e.start, e.size);
        break;
    case TaskEvent::Kind::Protect:
        rc = fw_vma_protect(mm(), task.pid, e.start, e.size, e.prot);
        break;
    case TaskEvent::Kind::Exit:
        break; // finished() releases everything
    }
    notePeaks();
    if (rc == FW_ERR_OVERLAP) throw InputError(what + ": the mapping overlaps an existing VMA");
    if (rc == FW_ERR_NOT_MAPPED) throw InputError(what + ": the range is not (wholly) mapped");
    if (rc) throw InputError(what + ": " + fwError("the firmware", rc));
}

void MemoryManagerOs::finished(Task& task) {
    if (task.pid <= 0) return; // never created (its parent ended before forking it)
    final_stats_[&task] = *fw_process_stats(mm(), task.pid);
    final_stats_[&task].fault_cycles = task.fault_cycles;
    if (fw_process_killed(mm(), task.pid) == FW_KILL_NONE)
        check(fw_process_exit(mm(), task.pid), "process exit");
}

std::uint64_t MemoryManagerOs::pageTableBytes() const {
    return fw_mm_tables_in_use(mm()) * table_bytes_;
}

struct fw_process_stats MemoryManagerOs::statsOf(const Task& task) const {
    auto it = final_stats_.find(&task);
    if (it != final_stats_.end()) return it->second;
    if (task.pid > 0) return *fw_process_stats(mm(), task.pid);
    return {};
}

void MemoryManagerOs::registerStats(Stats& stats, const std::string& prefix,
                                    std::vector<const Task*> tasks) {
    // Sums a field over the tasks, read when the statistics are written.
    auto sum = [this, tasks](auto field) {
        return [this, tasks, field] {
            std::uint64_t n = 0;
            for (const Task* t : tasks)
                n += field(statsOf(*t));
            return n;
        };
    };
    for (unsigned c = 1; c < 6; ++c)
        stats.derived(prefix + ".faults." + kFaultClassNames[c],
                      sum([c](const ProcessStats& s) { return s.faults[c]; }));
    stats.derived(prefix + ".pages_copied",
                  sum([](const ProcessStats& s) { return s.pages_copied; }));
    stats.derived(prefix + ".swap_outs", sum([](const ProcessStats& s) { return s.swap_outs; }));
    stats.derived(prefix + ".swap_ins", sum([](const ProcessStats& s) { return s.swap_ins; }));
    stats.derived(prefix + ".context_switches",
                  sum([](const ProcessStats& s) { return s.context_switches; }));
    stats.derived(prefix + ".tlb_flushes",
                  sum([](const ProcessStats& s) { return s.tlb_flushes; }));
    if (tasks.size() == 1)
        stats.derived(prefix + ".frames_peak",
                      sum([](const ProcessStats& s) { return s.frames_peak; }));
}

void MemoryManagerOs::notePeaks() {
    frames_peak_ = std::max(frames_peak_, framesInUse());
    table_bytes_peak_ = std::max(table_bytes_peak_, pageTableBytes());
}

} // namespace tlmmu
