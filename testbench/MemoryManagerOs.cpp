#include "MemoryManagerOs.h"

#include <algorithm>
#include <sstream>
#include <unordered_set>

#include "Config.h"
#include "core/HostHal.h"

namespace tlmmu {

namespace {
// Memory below 1 MiB stays free, so that physical address 0 is never a frame.
constexpr std::uint64_t kReservedBytes = std::uint64_t{1} << 20;

const char* const kFaultClassNames[] = {"none",    "demand_zero", "cow",
                                        "swap_in", "spurious",    "protection"};
static_assert(sizeof kFaultClassNames / sizeof *kFaultClassNames == FW_FAULT_CLASSES);

std::string hex(Addr a) {
    std::ostringstream s;
    s << "0x" << std::hex << a;
    return s.str();
}

std::string protString(unsigned prot) {
    std::string s;
    if (prot & FW_PROT_R) s += 'r';
    if (prot & FW_PROT_W) s += 'w';
    if (prot & FW_PROT_X) s += 'x';
    return s.empty() ? "none" : s;
}

// A scenario event on the timeline: its kind and arguments as the scenario writes them
// ("protect 0x10000000+4KiB r"), and the same as arguments of the slice.
std::string eventName(const TaskEvent& e, const Scenario& scenario) {
    const std::string range = hex(e.start) + "+" + formatSize(e.size);
    switch (e.kind) {
    case TaskEvent::Kind::Fork:
        return "fork " + scenario.processes[static_cast<std::size_t>(e.child)].name;
    case TaskEvent::Kind::Map:
        return "map " + range + " " + protString(e.prot) +
               (e.vma_kind == FW_VMA_STACK ? " stack" : "");
    case TaskEvent::Kind::Unmap:
        return "unmap " + range;
    case TaskEvent::Kind::Protect:
        return "protect " + range + " " + protString(e.prot);
    case TaskEvent::Kind::Discard:
        return "discard " + range;
    case TaskEvent::Kind::Exit:
        break;
    }
    return "exit";
}

nlohmann::json eventArgs(const OsTask& t, const TaskEvent& e, int rc) {
    nlohmann::json args = {{"task", t.name}, {"instruction", e.at}};
    if (e.kind != TaskEvent::Kind::Fork && e.kind != TaskEvent::Kind::Exit)
        args["start"] = hex(e.start), args["size"] = e.size;
    if (e.kind == TaskEvent::Kind::Map || e.kind == TaskEvent::Kind::Protect)
        args["prot"] = protString(e.prot);
    if (e.kind == TaskEvent::Kind::Map && e.page_level) args["page_level"] = e.page_level;
    if (rc) args["error"] = rc;
    return args;
}
} // namespace

std::string fwError(const std::string& what, int rc) {
    return what + ": " + fw_strerror(rc);
}

MemoryManagerOs::MemoryManagerOs(const PteFormat& format, const SystemConfig& config,
                                 const MemoryManagerWiring& wiring, const Scenario& scenario)
    : format_(format), config_(config), wiring_(wiring), implicit_(config.scenario.empty()),
      scenario_(scenario), cores_(config.cores), forking_(config.cores) {
    const std::uint64_t frame_bytes = format.tableBytes();
    std::uint64_t count = (config.memory.size - kReservedBytes) / frame_bytes;
    if (config.firmware_frames) {
        if (config.firmware_frames > count)
            throw InputError("firmware.frames: " + std::to_string(config.firmware_frames) +
                             " frames do not fit in memory.size (at most " + std::to_string(count) +
                             ")");
        count = config.firmware_frames;
    }
    if (count >= (std::uint64_t{1} << 30))
        throw InputError("memory.size: the firmware manages fewer than 2^30 frames (set "
                         "firmware.frames to use part of the memory)");
    frame_meta_.reset(static_cast<std::uint32_t*>(std::calloc(count, sizeof(std::uint32_t))));
    rmap_.reset(static_cast<fw_frame_rmap*>(std::calloc(count, sizeof(fw_frame_rmap))));
    if (!frame_meta_ || !rmap_)
        throw InputError("memory.size: no host memory for the frame tables");
    swap_bitmap_.assign((config.firmware.swap_slots + 63) / 64 + 1, 0);
    storage_.reset(new std::uint64_t[(fw_kernel_size() + 7) / 8]());
    // The keys' part of the firmware's configuration (the key table fills it), then the
    // platform's: memory, the frame tables, the devices.
    fw_kernel_config c = config.firmware;
    c.format = format.raw();
    c.frames_base = kReservedBytes;
    c.frame_count = static_cast<std::uint32_t>(count);
    c.frame_meta = frame_meta_.get();
    c.rmap = rmap_.get();
    c.buffers_zeroed = 1;
    c.swap_mmio = wiring.swap_mmio;
    c.ipi_mmio = wiring.ipi_mmio;
    init_config_ = c;
    // Too few frames to boot: the key and its minimum, not the firmware's "out of memory".
    std::uint64_t roots = 0;
    for (const ScenarioProcess& p : scenario.processes)
        roots += p.forked_from.empty() ? 1 : 0;
    const std::uint64_t at_init = fw_kernel_init_frames(&c), need = at_init + roots;
    if (count < need) {
        const std::uint64_t swap = c.swap_mmio ? 1 : 0, smp = at_init - swap;
        std::string parts;
        if (smp)
            parts += std::to_string(smp) + " for the IPI protocol area of " +
                     std::to_string(config.cores) + " cores";
        if (swap) parts += std::string(parts.empty() ? "" : ", ") + "1 for the swap bounce frame";
        throw InputError((config.firmware_frames ? "firmware.frames: " : "memory.size: ") +
                         std::to_string(count) + (count == 1 ? " frame is" : " frames are") +
                         " too few to start: the firmware takes " + std::to_string(at_init) +
                         " at initialisation" + (parts.empty() ? "" : " (" + parts + ")") +
                         " and one for the page-table root of each of the " +
                         std::to_string(roots) + " processes at start; at least " +
                         std::to_string(need) + " (and more for their pages and page tables)");
    }

    // One task per thread; a forked process's waits for its parent's fork event. Checked mode
    // keeps one shadow per address space: the threads of a process share it.
    std::vector<std::shared_ptr<DataShadow>> shared_shadows;
    for (std::size_t i = 0; i < scenario.shared.size(); ++i)
        shared_shadows.push_back(std::make_shared<DataShadow>());
    process_tasks_.resize(scenario.processes.size());
    for (std::size_t i = 0; i < scenario.processes.size(); ++i) {
        const ScenarioProcess& p = scenario.processes[i];
        const auto shadow = p.forked_from.empty() ? std::make_shared<DataShadow>() : nullptr;
        for (std::size_t j = 0; j < p.threads.size(); ++j) {
            const ScenarioThread& th = p.threads[j];
            auto t = std::make_unique<OsTask>();
            t->name = p.threads.size() == 1 ? p.name : p.name + ".t" + std::to_string(j);
            t->core = th.core;
            t->process = i;
            t->thread = j;
            t->workload = scenario.makeWorkload(i, j);
            t->events = th.events;
            t->checked.enabled = th.workload.checked;
            t->checked.salt = static_cast<std::uint32_t>(i + 1);
            t->checked.shadow = shadow; // a forked child's: a copy of its parent's, at fork
            for (const ScenarioVma& v : p.vmas)
                if (v.shm >= 0)
                    t->checked.shared.push_back({v.start, v.size, 0, shared_shadows[v.shm]});
            process_tasks_[i].push_back(t.get());
            cores_[t->core].queue.push_back(t.get());
            tasks_.push_back(std::move(t));
        }
    }
    for (auto& t : tasks_)
        for (const TaskEvent& e : t->events)
            if (e.kind == TaskEvent::Kind::Fork) process_tasks_[e.child].front()->parent = t.get();
    // Checked mode anywhere: every task records its stores (a checked thread reads what an
    // unchecked thread of its process, a sharer or its parent before the fork wrote).
    const bool any_checked =
        std::any_of(tasks_.begin(), tasks_.end(), [](const auto& t) { return t->checked.enabled; });
    for (auto& t : tasks_)
        t->checked.records = any_checked;
}

MemoryManagerOs::~MemoryManagerOs() = default;

// A firmware error the OS cannot recover from stops the run with the firmware's words.
void MemoryManagerOs::check(int rc, const std::string& what) const {
    if (rc) throw FirmwarePanic(fwError(what, rc));
}

void MemoryManagerOs::createShared() {
    if (shared_created_) return;
    shared_created_ = true;
    for (const ScenarioShared& s : scenario_.shared) {
        int id = -1;
        check(fw_shm_create(k(), s.size, &id), "creating shared object " + s.name);
        shm_ids_.push_back(id);
    }
}

void MemoryManagerOs::start(OsTask& task) {
    createShared();
    const ScenarioProcess& p = scenario_.processes[task.process];
    if (task.thread > 0) {
        task.pid = process_tasks_[task.process].front()->pid;
        check(fw_thread_create(k(), task.pid, task.core, &task.tid),
              "creating thread " + task.name);
        task.state = Task::State::Runnable;
        task.os_stop = task.events.empty() ? ~std::uint64_t{0} : task.events.front().at;
        return;
    }
    check(fw_process_create(k(), task.core, &task.pid, &task.tid), "creating process " + p.name);
    for (const ScenarioVma& v : p.vmas) {
        fw_vma_desc d{};
        d.start = v.start;
        d.len = v.size;
        d.prot = v.prot;
        d.kind = static_cast<fw_vma_kind>(v.kind);
        d.shm_id = v.shm >= 0 ? shm_ids_[v.shm] : -1;
        d.page_level = v.page_level;
        check(fw_vma_map(k(), task.core, task.pid, &d),
              "mapping a VMA of " + p.name + " at " + hex(v.start));
    }
    task.state = Task::State::Runnable;
    task.os_stop = task.events.empty() ? ~std::uint64_t{0} : task.events.front().at;
}

std::string MemoryManagerOs::outsideAddressSpace(const OsTask& task, Addr va) const {
    return task.workload->where() + ": address " + hex(va) + " is outside " +
           format_.describeVaSpace() + " (user addresses are below " + hex(format_.userSpan()) +
           ")";
}

// Maps every page the task's workload touches (its first max_instructions), A/D set, before
// the run. Only what the process may touch: an illegal address must still fault in the run.
void MemoryManagerOs::prefault(OsTask& task) {
    const Addr page = format_.tableBytes();
    std::unordered_set<Addr> seen; // each page once: the firmware walks per call
    auto each_page = [&](Addr va, std::uint32_t size) {
        const Addr last = va + std::max<std::uint32_t>(size, 1) - 1;
        for (Addr p = va & ~(page - 1);; p += page) {
            if (seen.insert(p).second) {
                const int rc = fw_prefault(k(), task.pid, p);
                if (rc == FW_ERR_NOT_MAPPED || rc == FW_ERR_INVAL) {
                    if (implicit_) throw InputError(outsideAddressSpace(task, std::max(p, va)));
                } else {
                    check(rc, "prefaulting " + hex(p) + " of process " + task.name);
                }
            }
            if (last - p < page || p + page < p) break;
        }
    };
    Instruction insn;
    std::uint64_t n = 0;
    while ((!config_.max_instructions || n < config_.max_instructions) &&
           task.workload->next(insn)) {
        if (insn.size) ++n, each_page(insn.pc, insn.size);
        for (unsigned i = 0; i < insn.num_refs; ++i)
            each_page(insn.refs[i].addr, insn.refs[i].size);
    }
    task.workload->rewind();
}

// Every process and thread that exists at boot, in the scenario's order (a thread needs its
// process, which another core may run).
void MemoryManagerOs::createInitialTasks() {
    if (created_) return;
    created_ = true;
    // Boot: the firmware initialises itself (with SMP it sets up its protocol memory through
    // the HAL), then creates what exists from the start.
    if (const int rc =
            fw_kernel_init(k(), &init_config_, wiring_.swap_mmio ? swap_bitmap_.data() : nullptr))
        throw InputError(fwError("firmware initialisation", rc));
    for (auto& t : tasks_)
        if (scenario_.processes[t->process].forked_from.empty()) start(*t);
}

void MemoryManagerOs::boot(unsigned core) {
    createInitialTasks();
    if (config_.prefault)
        for (OsTask* t : cores_[core].queue)
            if (!t->parent) prefault(*t);
    // Installing the first task is boot work too (a run's cycles are those of its tasks).
    CoreState& c = cores_[core];
    for (std::size_t i = 0; i < c.queue.size(); ++i)
        if (c.queue[i]->state == Task::State::Runnable) {
            check(fw_switch_to(k(), core, c.queue[i]->tid), "switching to " + c.queue[i]->name);
            c.current = c.queue[i];
            c.next = (i + 1) % c.queue.size();
            c.fresh = true;
            break;
        }
    notePeaks();
}

// Round robin over the core's runnable tasks, starting after the one it ran last.
OperatingSystem::Dispatch MemoryManagerOs::schedule(unsigned core) {
    CoreState& c = cores_[core];
    // A task of a killed process is not run again: it ends here (group exit).
    for (OsTask* t : c.queue)
        if (t->state == Task::State::Runnable) reap(*t);
    // With several cores any core may be interrupted by another (a shootdown for an address
    // space whose translations it may still hold, though it runs another one now; an eviction
    // of one of its pages): it keeps within the IPI latency of them (LocalTime::limitQuantum),
    // so that an IPI never arrives in its past. One core needs no such limit.
    auto dispatch = [this](OsTask* t) {
        return Dispatch{
            t, config_.time_slice_cycles,
            t && config_.cores > 1 ? std::max<std::uint64_t>(1, config_.ipi_latency_cycles) : 0};
    };
    if (c.fresh) {
        c.fresh = false;
        if (c.current->state == Task::State::Runnable) return dispatch(c.current);
    }
    OsTask* chosen = nullptr;
    for (std::size_t i = 0; i < c.queue.size() && !chosen; ++i) {
        OsTask* t = c.queue[(c.next + i) % c.queue.size()];
        if (t->state == Task::State::Runnable && t != c.current) {
            chosen = t;
            c.next = (c.next + i + 1) % c.queue.size();
        }
    }
    if (!chosen && c.current && c.current->state == Task::State::Runnable) chosen = c.current;
    if (chosen && chosen != c.current) {
        check(fw_switch_to(k(), core, chosen->tid), "switching to " + chosen->name);
        c.current = chosen;
    }
    return dispatch(chosen);
}

bool MemoryManagerOs::finished(unsigned core) const {
    return std::none_of(cores_[core].queue.begin(), cores_[core].queue.end(),
                        [](const OsTask* t) { return t->state != Task::State::Done; });
}

void MemoryManagerOs::atInstruction(Task& task) {
    auto& t = static_cast<OsTask&>(task);
    while (t.state == Task::State::Runnable && t.next_event < t.events.size() &&
           t.events[t.next_event].at <= t.instructions)
        event(t, t.events[t.next_event++]);
    t.os_stop = t.next_event < t.events.size() ? t.events[t.next_event].at : ~std::uint64_t{0};
}

void MemoryManagerOs::wake(OsTask& task) {
    // The other core must see the change at this core's time: catch up first.
    if (task.core != HostHal::current().coreId()) HostHal::current().sync();
    cores_[task.core].runnable.notify(sc_core::SC_ZERO_TIME);
}

void MemoryManagerOs::event(OsTask& t, const TaskEvent& e) {
    const unsigned core = HostHal::current().coreId();
    const std::uint64_t begin = timeline_ ? HostHal::current().nowPs() : 0;
    const std::string what = "process " + t.name + ", event at instruction " + std::to_string(e.at);
    SafetyChecker* checker = wiring_.checker;
    const std::uint64_t since = checker ? checker->begin() : 0;
    // Every event is a system call of the task (fork, mmap, munmap, mprotect, madvise, exit).
    fw_syscall_args call{};
    call.start = e.start;
    call.len = e.size;
    call.prot = e.prot;
    int rc = 0;
    switch (e.kind) {
    case TaskEvent::Kind::Fork: {
        OsTask& child = *process_tasks_[e.child].front();
        call.nr = FW_SYS_FORK;
        call.child_core = child.core;
        forking_[core] = {&child, &t, since};
        rc = fw_syscall(k(), core, t.tid, &call); // the child starts in taskRunnable
        forking_[core] = {};
        break;
    }
    case TaskEvent::Kind::Map:
        call.nr = FW_SYS_MMAP;
        call.map.start = e.start;
        call.map.len = e.size;
        call.map.prot = e.prot;
        call.map.kind = static_cast<fw_vma_kind>(e.vma_kind);
        call.map.shm_id = -1;
        call.map.page_level = e.page_level;
        rc = fw_syscall(k(), core, t.tid, &call);
        break;
    case TaskEvent::Kind::Unmap:
        call.nr = FW_SYS_MUNMAP;
        rc = fw_syscall(k(), core, t.tid, &call);
        // Every thread of the address space sees the range gone (their views of shared
        // objects are their own copies; the private shadow is one).
        if (!rc)
            for (OsTask* other : process_tasks_[t.process])
                other->checked.unmapped(e.start, e.size);
        if (!rc && checker) checker->revoked(t.pid, e.start, e.start + e.size, 0, since);
        break;
    case TaskEvent::Kind::Protect:
        call.nr = FW_SYS_MPROTECT;
        rc = fw_syscall(k(), core, t.tid, &call);
        if (!rc && checker) checker->revoked(t.pid, e.start, e.start + e.size, e.prot, since);
        break;
    case TaskEvent::Kind::Discard:
        call.nr = FW_SYS_MADVISE_DONTNEED;
        rc = fw_syscall(k(), core, t.tid, &call);
        if (!rc) t.checked.forget(e.start, e.size);
        if (!rc && checker) checker->revoked(t.pid, e.start, e.start + e.size, 0, since);
        break;
    case TaskEvent::Kind::Exit:
        finish(t, true, true);
        break;
    }
    notePeaks();
    if (timeline_)
        timeline_->slice(core, eventName(e, scenario_), begin, HostHal::current().nowPs(),
                         eventArgs(t, e, rc));
    // Another thread's fault killed the process (meanwhile, or while this one waited for its
    // lock): the task ends on its return from the call, and a failed event dies with it.
    if (t.state == Task::State::Runnable) reap(t);
    if (rc && t.killed) return;
    // mprotect of a range that is not (wholly) mapped any more fails with ENOMEM and changes
    // nothing: the program sees the error and runs on.
    if (rc == FW_ERR_NOT_MAPPED && e.kind == TaskEvent::Kind::Protect) {
        if (t.failed_events++ == 0)
            t.first_failed_event = "process " + t.name + ": " + eventName(e, scenario_) +
                                   " at instruction " + std::to_string(e.at) +
                                   " failed (ENOMEM): the range is not (wholly) mapped";
        return;
    }
    if (rc == FW_ERR_OVERLAP) throw InputError(what + ": the mapping overlaps an existing VMA");
    if (rc == FW_ERR_NOT_MAPPED) throw InputError(what + ": the range is not (wholly) mapped");
    if (rc) throw InputError(fwError(what, rc));
}

// The task is done: it exited, its stream ended, or it was killed. Children it would still have
// forked never come to be.
void MemoryManagerOs::finish(OsTask& t, bool timed, bool syscall) {
    if (t.state == Task::State::Done) return;
    t.state = Task::State::Done;
    if (t.pid > 0) {
        fw_syscall_args call{};
        call.nr = FW_SYS_EXIT;
        const unsigned core = HostHal::current().coreId();
        if (!t.killed)
            check(syscall ? fw_syscall(k(), core, t.tid, &call) : fw_task_exit(k(), core, t.tid),
                  "exit of " + t.name);
        if (timeline_ && !t.killed)
            timeline_->instant(core, "exit " + t.name, HostHal::current().nowPs(),
                               {{"process", scenario_.processes[t.process].name}});
    }
    for (std::size_t i = t.next_event; i < t.events.size(); ++i)
        if (t.events[i].kind == TaskEvent::Kind::Fork) {
            OsTask& child = *process_tasks_[t.events[i].child].front();
            child.state = Task::State::Done;
            if (timed)
                wake(child);
            else
                cores_[child.core].runnable.notify(sc_core::SC_ZERO_TIME);
        }
}

void MemoryManagerOs::exit(Task& task) {
    auto& t = static_cast<OsTask&>(task);
    if (implicit_) {
        // A trace's process does not exit when the trace ends: its address space stays as the
        // trace left it (page tables and frames are what the statistics describe).
        final_stats_[t.process] = *fw_process_stats(k(), t.pid);
        t.state = Task::State::Done;
        return;
    }
    finish(t, false);
}

OperatingSystem::FaultOutcome MemoryManagerOs::fault(Task& task, Addr va, AccessType access,
                                                     FaultKind kind) {
    auto& t = static_cast<OsTask&>(task);
    const unsigned core = HostHal::current().coreId();
    const auto fa = static_cast<fw_access>(access);
    if (kind == FaultKind::TlbMiss) {
        // Software-managed TLB: the refill handler walks the table; only if it finds nothing
        // that permits the access is this a page fault.
        const int rc = fw_tlb_refill(k(), core, t.tid, va, fa);
        if (rc == 0) return {};
        if (rc != FW_ERR_FAULT) check(rc, "TLB refill for " + t.name + " at " + hex(va));
        kind = FaultKind::NotPresent;
    }
    fw_fault_result r{};
    check(fw_fault(k(), core, t.tid, va, fa, static_cast<fw_fault_kind>(kind), &r),
          "fault handler for " + t.name + " at " + hex(va));
    notePeaks();
    if (r.cls != FW_FAULT_CLASS_PROTECTION) return {};
    // The firmware killed the process (every task of it) and released its memory.
    std::string report = fw_kill_reason_str(r.reason);
    const bool outside = (r.reason == FW_KILL_NO_VMA || r.reason == FW_KILL_BAD_PTE) &&
                         (va >= format_.userSpan() || kind == FaultKind::NonCanonical);
    if (implicit_ && outside) report = outsideAddressSpace(t, va);
    // Group exit: this task has ended, so have the process's tasks that ran nowhere; those
    // running on other cores end there, at their next boundary (reap).
    for (auto& other : tasks_)
        if (other.get() != &t && other->pid == t.pid && other->state == Task::State::Runnable &&
            fw_task_pid(k(), other->tid) < 0)
            endKilled(*other, true);
    if (r.group_exit) {
        // Killed by another of its threads: this one only ends with the process.
        endKilled(t, true);
        return {true, t.kill_report};
    }
    t.killed = true;
    finish(t, true);
    if (timeline_)
        timeline_->instant(core, "kill " + scenario_.processes[t.process].name,
                           HostHal::current().nowPs(),
                           {{"reason", report}, {"task", t.name}, {"va", va}});
    // A run without a scenario is its trace: a process killed means the trace was not run.
    if (implicit_ && error_.empty()) error_ = "process " + t.name + " killed: " + report;
    return {true, report};
}

bool MemoryManagerOs::reap(OsTask& t) {
    if (t.state != Task::State::Runnable || t.pid <= 0) return false;
    const bool ended = fw_task_pid(k(), t.tid) < 0;
    if (!ended && fw_task_killed(k(), t.tid) == FW_KILL_NONE) return false;
    endKilled(t, ended);
    return true;
}

void MemoryManagerOs::endKilled(OsTask& t, bool ended_by_firmware) {
    if (!ended_by_firmware)
        check(fw_task_exit(k(), HostHal::current().coreId(), t.tid), "exit of " + t.name);
    t.killed = true;
    t.group_exit = true;
    t.kill_report = "process " + t.name + " killed with its process: " +
                    fw_kill_reason_str(fw_process_killed(k(), t.pid));
    finish(t, true);
}

void MemoryManagerOs::returnToUser(Task& task) {
    reap(static_cast<OsTask&>(task));
}

// The firmware tore down an address space (exit of its last task, or a kill): its statistics
// are final from here, whatever reuses the pid later.
void MemoryManagerOs::mmReleased(unsigned, int pid) {
    for (std::size_t p = 0; p < process_tasks_.size(); ++p)
        if (!process_tasks_[p].empty() && process_tasks_[p].front()->pid == pid &&
            !final_stats_.count(p))
            final_stats_[p] = *fw_process_stats(k(), pid);
}

// The fork's child exists (inside the parent's fork, before its system call returns).
void MemoryManagerOs::taskRunnable(unsigned core, int tid) {
    if (core >= forking_.size() || !forking_[core].child)
        throw FirmwarePanic("a task became runnable outside a fork");
    OsTask& child = *forking_[core].child;
    OsTask& t = *forking_[core].parent;
    const std::uint64_t forking_since = forking_[core].since;
    child.tid = tid;
    child.pid = fw_task_pid(k(), tid);
    // The child sees what the parent wrote before the fork, then its own writes.
    if (t.checked.shadow) child.checked.shadow = std::make_shared<DataShadow>(*t.checked.shadow);
    child.checked.shared = t.checked.shared;
    child.state = Task::State::Runnable;
    child.os_stop = child.events.empty() ? ~std::uint64_t{0} : child.events.front().at;
    // The parent's private pages are copy-on-write now: no translation cached before the fork
    // may write them (read-only ones stay good; the firmware flushes only if it write-protected
    // something).
    fw_vma_desc v{};
    for (unsigned i = 0; wiring_.checker && fw_process_vma(k(), t.pid, i, &v) == FW_OK; ++i)
        if (v.kind != FW_VMA_SHARED && (v.prot & FW_PROT_W))
            wiring_.checker->writesRevoked(t.pid, v.start, v.start + v.len, forking_since);
    wake(child);
}

void MemoryManagerOs::interrupt(unsigned core) {
    const int rc = fw_interrupt(k(), core);
    if (rc < 0) check(rc, "interrupt handler of core" + std::to_string(core));
}

std::uint64_t MemoryManagerOs::pageTableBytes() const {
    return fw_tables_in_use(k()) * format_.tableBytes();
}

void MemoryManagerOs::notePeaks() {
    frames_peak_ = std::max(frames_peak_, fw_frames_in_use(k()));
    table_bytes_peak_ = std::max(table_bytes_peak_, pageTableBytes());
}

// A process's firmware statistics: the firmware's own while its address space lives (a slot
// that is not released is not reused), else the snapshot taken when it was released.
ProcessStats MemoryManagerOs::statsOf(std::size_t process) const {
    const auto& threads = process_tasks_[process];
    ProcessStats s{};
    if (auto it = final_stats_.find(process); it != final_stats_.end()) {
        s = it->second;
    } else if (threads.front()->pid > 0) {
        if (const ProcessStats* now = fw_process_stats(k(), threads.front()->pid)) s = *now;
    }
    s.fault_cycles = 0; // the host's: the time its threads spent in fault handlers
    for (const OsTask* t : threads)
        s.fault_cycles += t->fault_cycles;
    return s;
}

namespace {
// A process's firmware counters (ProcessStats fields), declared once for processes and cores.
struct ProcessCounter {
    const char* name;
    std::uint64_t (*field)(const ProcessStats&);
    StatInfo info;
};
const ProcessCounter kProcessCounters[] = {
    {"huge_splits",
     [](const ProcessStats& s) { return s.splits; },
     {"leaves", "huge leaves split into next-level leaves"}},
    {"huge_fallbacks",
     [](const ProcessStats& s) { return s.huge_fallbacks; },
     {"faults", "faults in a huge VMA that mapped a base page instead"}},
    {"pages_copied",
     [](const ProcessStats& s) { return s.pages_copied; },
     {"pages", "copy-on-write copies (base pages)"}},
    {"swap_outs",
     [](const ProcessStats& s) { return s.swap_outs; },
     {"pages", "its pages written to swap"}},
    {"swap_ins",
     [](const ProcessStats& s) { return s.swap_ins; },
     {"pages", "its pages read back from swap"}},
    {"context_switches",
     [](const ProcessStats& s) { return s.context_switches; },
     {"switches", "times one of its threads was switched to"}},
    {"tlb_flushes",
     [](const ProcessStats& s) { return s.tlb_flushes; },
     {"flushes", "whole-ASID or whole-TLB flushes done for it"}},
};
} // namespace

// `additive`: false for a core's (a process that ran on several cores is counted on each).
void MemoryManagerOs::registerFirmwareStats(Stats& stats, const std::string& prefix,
                                            std::vector<std::size_t> processes, bool additive) {
    const std::string whose = additive ? "" : " (of the processes that ran here, each whole)";
    auto add = [&](const std::string& path, auto field, std::string unit, std::string meaning) {
        stats.derived(path,
                      [this, processes, field] {
                          std::uint64_t n = 0;
                          for (std::size_t p : processes)
                              n += field(statsOf(p));
                          return n;
                      },
                      {std::move(unit), meaning + whose, additive});
    };
    for (unsigned c = 1; c < FW_FAULT_CLASSES; ++c)
        add(
            prefix + ".faults." + kFaultClassNames[c],
            [c](const ProcessStats& s) { return s.faults[c]; }, "faults",
            "page faults of this class");
    for (unsigned l = 0; l < format_.levels(); ++l) {
        if (!format_.leafAllowed(l)) continue;
        // "page_2MiB": statistics names start with a letter.
        const std::string size = "page_" + formatSize(std::uint64_t{1} << format_.levelShift(l));
        add(
            prefix + ".demand_faults_by_page_size." + size,
            [l](const ProcessStats& s) { return s.demand_faults_by_level[l]; }, "faults",
            "demand-zero faults that mapped a page of this size");
        add(
            prefix + ".mapped_by_page_size." + size,
            [l](const ProcessStats& s) { return s.leaves_by_level[l]; }, "pages",
            "pages of this size mapped now");
    }
    for (const ProcessCounter& c : kProcessCounters)
        add(prefix + "." + c.name, c.field, c.info.unit, c.info.meaning);
    if (processes.size() == 1)
        stats.derived(prefix + ".frames_peak",
                      [this, p = processes.front()] { return statsOf(p).frames_peak; },
                      {"frames", "the most data frames it had mapped at once", false});
}

void MemoryManagerOs::registerStats(Stats& stats) {
    for (std::size_t i = 0; i < process_tasks_.size(); ++i)
        registerFirmwareStats(stats, "processes." + scenario_.processes[i].name + ".firmware", {i},
                              true);
    // A core's: the processes it runs a thread of, each once.
    for (unsigned c = 0; c < cores_.size(); ++c) {
        std::vector<std::size_t> on_core;
        for (const OsTask* t : cores_[c].queue)
            if (std::find(on_core.begin(), on_core.end(), t->process) == on_core.end())
                on_core.push_back(t->process);
        registerFirmwareStats(stats, "cores[" + std::to_string(c) + "].firmware", on_core, false);
    }
    const struct fw_kernel_stats* ks = fw_kernel_stats(k());
    stats.derived("memory.page_table_bytes", [this] { return pageTableBytes(); },
                  {"bytes", "page-table pages of every address space now", false});
    stats.derived("memory.page_table_bytes_peak", [this] { return table_bytes_peak_; },
                  {"bytes", "the most page-table bytes at once", false});
    stats.derived("firmware.frames_in_use", [this] { return fw_frames_in_use(k()); },
                  {"frames", "frames the firmware has allocated now", false});
    stats.derived("firmware.frames_peak", [this] { return frames_peak_; },
                  {"frames", "the most frames allocated at once", false});
    struct KernelCounter {
        const char* path;
        const std::uint64_t* value;
        StatInfo info;
    };
    const fw_shootdown_stats& sd = ks->shootdown;
    const KernelCounter counters[] = {
        {"firmware.demand_faults", &ks->demand_faults, {"faults", "demand-zero faults"}},
        {"firmware.frames_mapped",
         &ks->frames_mapped,
         {"frames", "data frames ever mapped by demand-zero faults and prefaults"}},
        {"firmware.huge_splits", &ks->splits, {"leaves", "huge leaves split"}},
        {"firmware.huge_fallbacks",
         &ks->huge_fallbacks,
         {"faults", "faults in a huge VMA that mapped a base page instead"}},
        {"firmware.swap_outs", &ks->swap_outs, {"pages", "pages written to swap"}},
        {"firmware.swap_ins", &ks->swap_ins, {"pages", "pages read back from swap"}},
        {"firmware.kills", &ks->kills, {"processes", "processes killed (each once, all threads)"}},
        {"firmware.kill_ipis",
         &ks->kill_ipis,
         {"IPIs", "reschedule IPIs to cores running another thread of a killed process"}},
        {"firmware.reclaim_waits",
         &ks->reclaim_waits,
         {"waits", "allocations that waited for an exiting address space's frames"}},
        {"firmware.fault_retries",
         &ks->fault_retries,
         {"faults", "faults that let go of their lock and began again (pages to evict locked)"}},
        {"firmware.flush.pages",
         &ks->flush_pages,
         {"invalidations", "by-address TLB invalidations issued (local and remote)"}},
        {"firmware.flush.full",
         &ks->flush_full,
         {"invalidations", "whole-ASID or whole-TLB invalidations issued (local and remote)"}},
        {"firmware.flush.remote",
         &ks->flush_remote,
         {"invalidations", "invalidations of another core's TLB through the controller"}},
        {"shootdown.count", &sd.shootdowns, {"shootdowns", "flushes that reached other cores"}},
        {"shootdown.pages",
         &sd.pages,
         {"pages", "base-stride pages of those flushes (0 for a full one)"}},
        {"shootdown.full_flushes",
         &sd.full_flushes,
         {"shootdowns", "shootdowns that flushed the whole address space"}},
        {"shootdown.targets", &sd.targets, {"cores", "target cores, summed over shootdowns"}},
        {"shootdown.ipis", &sd.ipis_sent, {"IPIs", "IPIs sent, resends included"}},
        {"shootdown.timeouts",
         &sd.ack_timeouts,
         {"targets", "targets that did not acknowledge within the timeout"}},
        {"shootdown.resends", &sd.resends, {"sends", "IPI sends repeated after a timeout"}},
        {"shootdown.lazy_skips",
         &sd.lazy_skips,
         {"cores", "lazy TLB: cores not interrupted, marked stale instead"}},
        {"shootdown.lazy_flushes",
         &sd.lazy_flushes,
         {"flushes", "lazy TLB: stale ASIDs flushed at switch-in"}},
        {"shootdown.lock_spins",
         &sd.lock_spins,
         {"attempts", "failed lock attempts (each followed by a relax step)"}},
        {"shootdown.handled", &sd.handled, {"requests", "shootdown requests serviced by targets"}},
        {"shootdown.broadcasts",
         &sd.broadcasts,
         {"broadcasts", "broadcast invalidations (shootdowns, ASID recycling)"}},
    };
    for (const KernelCounter& c : counters)
        stats.counter(c.path, c.value, c.info);
    for (unsigned c = 0; c < cores_.size(); ++c)
        stats.counter("cores[" + std::to_string(c) + "].ipi.handled",
                      &ks->shootdown_by_core[c].handled,
                      {"requests", "shootdown requests this core serviced as a target"});
}

} // namespace tlmmu
