#include "MemoryManagerOs.h"

#include <algorithm>
#include <unordered_set>

#include "Config.h"
#include "core/HostHal.h"

namespace tlmmu {

MemoryManagerOs::MemoryManagerOs(const PteFormat& format, const SystemConfig& config,
                                 const MemoryManagerWiring& wiring, const Scenario& scenario)
    : format_(format), config_(config), implicit_(config.scenario.empty()), scenario_(scenario),
      fw_(format, config, wiring, scenario), tasks_(scenario), scheduler_(config, fw_, tasks_),
      driver_(fw_, tasks_, scenario, wiring.checker, config.cores), stats_(fw_, format, tasks_) {}

MemoryManagerOs::~MemoryManagerOs() = default;

void MemoryManagerOs::attachCore(unsigned core, HostHal& hal) {
    if (hals_.size() <= core) hals_.resize(core + 1, nullptr);
    hals_[core] = &hal;
}

// The OperatingSystem seam (models/core) passes a core's id or a task, which is pinned to its
// core: the entry points find that core's HAL here, once, and hand it on.
HostHal& MemoryManagerOs::callingCore(unsigned core) const {
    if (core >= hals_.size() || !hals_[core])
        throw FirmwarePanic("the OS was entered from core" + std::to_string(core) +
                            ", which has no HAL attached");
    return *hals_[core];
}

void MemoryManagerOs::start(OsTask& task) {
    fw_.createShared(scenario_.shared);
    if (task.thread > 0)
        fw_.createThread(task, tasks_.ofProcess(task.process).front()->pid);
    else
        fw_.createProcess(task, scenario_.processes[task.process]);
    task.makeRunnable();
}

std::string MemoryManagerOs::outsideAddressSpace(const OsTask& task, Addr va) const {
    return task.workload->where() + ": address " + formatHex(va) + " is outside " +
           format_.describeVaSpace() + " (user addresses are below " +
           formatHex(format_.userSpan()) + ")";
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
                    fwCheck(rc, "prefaulting " + formatHex(p) + " of process " + task.name);
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
    // Boot: the firmware initialises itself, then creates what exists from the start.
    fw_.init();
    for (const auto& t : tasks_.all())
        if (scenario_.processes[t->process].forked_from.empty()) start(*t);
}

void MemoryManagerOs::boot(unsigned core) {
    createInitialTasks();
    if (config_.prefault)
        for (OsTask* t : scheduler_.queue(core))
            if (!t->parent) prefault(*t);
    // Installing the first task is boot work too (a run's cycles are those of its tasks).
    scheduler_.installFirst(core);
    stats_.notePeaks();
}

OperatingSystem::Dispatch MemoryManagerOs::schedule(unsigned core) {
    HostHal& hal = callingCore(core);
    // A task of a killed process is not run again: it ends here (group exit).
    for (OsTask* t : scheduler_.queue(core))
        if (t->state == Task::State::Runnable) reap(hal, *t);
    Dispatch next = scheduler_.next(core);
    if (next.task) userReturn(hal);
    return next;
}

void MemoryManagerOs::atInstruction(Task& task) {
    auto& t = static_cast<OsTask&>(task);
    HostHal& hal = callingCore(t.core);
    while (t.state == Task::State::Runnable && t.next_event < t.events.size() &&
           t.events[t.next_event].at <= t.instructions)
        event(hal, t, t.events[t.next_event++]);
    t.os_stop = t.next_event < t.events.size() ? t.events[t.next_event].at : ~std::uint64_t{0};
    if (t.state == Task::State::Runnable) userReturn(hal);
}

void MemoryManagerOs::wake(HostHal& hal, OsTask& task) {
    // The other core must see the change at this core's time: catch up first.
    if (task.core != hal.coreId()) hal.sync();
    scheduler_.notify(task.core);
}

// Every event is a system call of the task (fork, mmap, munmap, mprotect, madvise, exit).
void MemoryManagerOs::event(HostHal& hal, OsTask& t, const TaskEvent& e) {
    const unsigned core = hal.coreId();
    const std::uint64_t begin = timeline_ ? hal.nowPs() : 0;
    const std::uint64_t since = driver_.begin();
    int rc = 0;
    if (e.kind == TaskEvent::Kind::Exit)
        finish(hal, t, true, true);
    else
        rc = driver_.call(core, t, e, since);
    stats_.notePeaks();
    if (timeline_)
        timeline_->slice(core, driver_.name(e), begin, hal.nowPs(), ScenarioDriver::args(t, e, rc));
    // Another thread's fault killed the process (meanwhile, or while this one waited for its
    // lock): the task ends on its return from the call, and a failed event dies with it.
    if (t.state == Task::State::Runnable) reap(hal, t);
    if (rc && t.killed) return;
    driver_.judge(t, e, rc);
}

// The task is done: it exited, its stream ended, or it was killed. Children it would still have
// forked never come to be.
void MemoryManagerOs::finish(HostHal& hal, OsTask& t, bool timed, bool syscall) {
    if (t.state == Task::State::Done) return;
    t.state = Task::State::Done;
    if (t.pid > 0) {
        fw_syscall_args call{};
        call.nr = FW_SYS_EXIT;
        const unsigned core = hal.coreId();
        if (!t.killed)
            fwCheck(syscall ? fw_syscall(k(), core, t.tid, &call) : fw_task_exit(k(), core, t.tid),
                    "exit of " + t.name);
        if (timeline_ && !t.killed)
            timeline_->instant(core, "exit " + t.name, hal.nowPs(),
                               {{"process", scenario_.processes[t.process].name}});
    }
    for (std::size_t i = t.next_event; i < t.events.size(); ++i)
        if (t.events[i].kind == TaskEvent::Kind::Fork) {
            OsTask& child = *tasks_.ofProcess(static_cast<std::size_t>(t.events[i].child)).front();
            child.state = Task::State::Done;
            if (timed)
                wake(hal, child);
            else
                scheduler_.notify(child.core);
        }
}

void MemoryManagerOs::exit(Task& task) {
    auto& t = static_cast<OsTask&>(task);
    if (implicit_) {
        // A trace's process does not exit when the trace ends: its address space stays as the
        // trace left it (page tables and frames are what the statistics describe).
        stats_.keep(t.process, t.pid);
        t.state = Task::State::Done;
        return;
    }
    finish(callingCore(t.core), t, false);
}

OperatingSystem::FaultOutcome MemoryManagerOs::fault(Task& task, Addr va, AccessType access,
                                                     FaultKind kind) {
    auto& t = static_cast<OsTask&>(task);
    HostHal& hal = callingCore(t.core);
    const unsigned core = t.core;
    const auto fa = static_cast<fw_access>(access);
    if (kind == FaultKind::TlbMiss) {
        // Software-managed TLB: the refill handler walks the table; only if it finds nothing
        // that permits the access is this a page fault.
        const int rc = fw_tlb_refill(k(), core, t.tid, va, fa);
        if (rc == 0) {
            userReturn(hal);
            return {};
        }
        if (rc != FW_ERR_FAULT) fwCheck(rc, "TLB refill for " + t.name + " at " + formatHex(va));
        kind = FaultKind::NotPresent;
    }
    fw_fault_result r{};
    fwCheck(fw_fault(k(), core, t.tid, va, fa, static_cast<fw_fault_kind>(kind), &r),
            "fault handler for " + t.name + " at " + formatHex(va));
    stats_.notePeaks();
    if (r.cls != FW_FAULT_CLASS_PROTECTION) {
        userReturn(hal);
        return {};
    }
    return killed(hal, t, va, kind, r);
}

OperatingSystem::FaultOutcome MemoryManagerOs::killed(HostHal& hal, OsTask& t, Addr va,
                                                      FaultKind kind, const fw_fault_result& r) {
    std::string report = fw_kill_reason_str(r.reason);
    const bool outside = (r.reason == FW_KILL_NO_VMA || r.reason == FW_KILL_BAD_PTE) &&
                         (va >= format_.userSpan() || kind == FaultKind::NonCanonical);
    if (implicit_ && outside) report = outsideAddressSpace(t, va);
    // Group exit: this task has ended, so have the process's tasks that ran nowhere; those
    // running on other cores end there, at their next boundary (reap).
    for (const auto& other : tasks_.all())
        if (other.get() != &t && other->pid == t.pid && other->state == Task::State::Runnable &&
            fw_task_pid(k(), other->tid) < 0)
            endKilled(hal, *other, true);
    if (r.group_exit) {
        // Killed by another of its threads: this one only ends with the process.
        endKilled(hal, t, true);
        return {true, t.kill_report};
    }
    t.killed = true;
    finish(hal, t, true);
    if (timeline_)
        timeline_->instant(hal.coreId(), "kill " + scenario_.processes[t.process].name, hal.nowPs(),
                           {{"reason", report}, {"task", t.name}, {"va", va}});
    // A run without a scenario is its trace: a process killed means the trace was not run.
    if (implicit_ && error_.empty()) error_ = "process " + t.name + " killed: " + report;
    return {true, report};
}

bool MemoryManagerOs::reap(HostHal& hal, OsTask& t) {
    if (t.state != Task::State::Runnable || t.pid <= 0) return false;
    const bool ended = fw_task_pid(k(), t.tid) < 0;
    if (!ended && fw_task_killed(k(), t.tid) == FW_KILL_NONE) return false;
    endKilled(hal, t, ended);
    return true;
}

void MemoryManagerOs::endKilled(HostHal& hal, OsTask& t, bool ended_by_firmware) {
    if (!ended_by_firmware) fwCheck(fw_task_exit(k(), hal.coreId(), t.tid), "exit of " + t.name);
    t.killed = true;
    t.group_exit = true;
    t.kill_report = "process " + t.name + " killed with its process: " +
                    fw_kill_reason_str(fw_process_killed(k(), t.pid));
    finish(hal, t, true);
}

void MemoryManagerOs::returnToUser(Task& task) {
    auto& t = static_cast<OsTask&>(task);
    HostHal& hal = callingCore(t.core);
    if (!reap(hal, t)) userReturn(hal);
}

// The firmware's part of every return to user code on the calling core (page-table
// isolation's deferred user flush and CR3 write; nothing without it).
void MemoryManagerOs::userReturn(HostHal& hal) {
    fwCheck(fw_return_to_user(k(), hal.coreId()), "return to user space");
}

// The firmware tore down an address space (exit of its last task, or a kill): its statistics
// are final from here, whatever reuses the pid later.
void MemoryManagerOs::mmReleased(unsigned, int pid) {
    stats_.released(pid);
}

// The fork's child exists (inside the parent's fork, before its system call returns).
void MemoryManagerOs::taskRunnable(unsigned core, int tid) {
    OsTask& child = driver_.forked(core, tid);
    wake(callingCore(core), child);
}

void MemoryManagerOs::interrupt(unsigned core) {
    const int rc = fw_interrupt(k(), core);
    if (rc < 0) fwCheck(rc, "interrupt handler of core" + std::to_string(core));
}

} // namespace tlmmu
