#include "ScenarioDriver.h"

#include "Config.h"
#include "core/HostHal.h"

namespace tlmmu {

namespace {
std::string protString(unsigned prot) {
    std::string s;
    if (prot & FW_PROT_R) s += 'r';
    if (prot & FW_PROT_W) s += 'w';
    if (prot & FW_PROT_X) s += 'x';
    return s.empty() ? "none" : s;
}
} // namespace

ScenarioDriver::ScenarioDriver(FirmwareBinding& fw, const TaskTable& tasks,
                               const Scenario& scenario, SafetyChecker* checker, unsigned cores)
    : fw_(fw), tasks_(tasks), scenario_(scenario), notifier_(checker, tasks), forking_(cores) {}

int ScenarioDriver::fork(unsigned core, OsTask& t, const TaskEvent& e, fw_syscall_args& call,
                         std::uint64_t since) {
    OsTask& child = *tasks_.ofProcess(static_cast<std::size_t>(e.child)).front();
    call.nr = FW_SYS_FORK;
    call.child_core = child.core;
    forking_[core] = {&child, &t, since};
    const int rc = fw_syscall(fw_.kernel(), core, t.tid, &call); // the child starts in forked()
    forking_[core] = {};
    return rc;
}

int ScenarioDriver::call(unsigned core, OsTask& t, const TaskEvent& e, std::uint64_t since) {
    fw_syscall_args call{};
    call.start = e.start;
    call.len = e.size;
    call.prot = e.prot;
    if (e.kind == TaskEvent::Kind::Fork) return fork(core, t, e, call, since);
    if (e.kind == TaskEvent::Kind::Map) {
        call.map.start = e.start;
        call.map.len = e.size;
        call.map.prot = e.prot;
        call.map.kind = static_cast<fw_vma_kind>(e.vma_kind);
        call.map.shm_id = -1;
        call.map.page_level = e.page_level;
    }
    call.nr = e.kind == TaskEvent::Kind::Map       ? FW_SYS_MMAP
              : e.kind == TaskEvent::Kind::Unmap   ? FW_SYS_MUNMAP
              : e.kind == TaskEvent::Kind::Protect ? FW_SYS_MPROTECT
                                                   : FW_SYS_MADVISE_DONTNEED;
    const bool discard = e.kind == TaskEvent::Kind::Discard;
    if (discard) notifier_.discarding(t, e.start, e.size);
    const int rc = fw_syscall(fw_.kernel(), core, t.tid, &call);
    if (discard) notifier_.discarded(t, e.start, e.size, since, rc);
    if (rc) return rc;
    if (e.kind == TaskEvent::Kind::Unmap) notifier_.unmapped(t, e.start, e.size, since);
    if (e.kind == TaskEvent::Kind::Protect)
        notifier_.protectedTo(t, e.start, e.size, e.prot, since);
    return rc;
}

OsTask& ScenarioDriver::forked(unsigned core, int tid) {
    if (core >= forking_.size() || !forking_[core].child)
        throw FirmwarePanic("a task became runnable outside a fork");
    OsTask& child = *forking_[core].child;
    child.tid = tid;
    child.pid = fw_task_pid(fw_.kernel(), tid);
    child.makeRunnable();
    notifier_.forked(fw_.kernel(), *forking_[core].parent, child, forking_[core].since);
    return child;
}

void ScenarioDriver::judge(OsTask& t, const TaskEvent& e, int rc) const {
    if (rc == FW_ERR_NOT_MAPPED && e.kind == TaskEvent::Kind::Protect) {
        if (t.failed_events++ == 0)
            t.first_failed_event = "process " + t.name + ": " + name(e) + " at instruction " +
                                   std::to_string(e.at) +
                                   " failed (ENOMEM): the range is not (wholly) mapped";
        return;
    }
    const std::string what = "process " + t.name + ", event at instruction " + std::to_string(e.at);
    if (rc == FW_ERR_OVERLAP) throw InputError(what + ": the mapping overlaps an existing VMA");
    if (rc == FW_ERR_NOT_MAPPED) throw InputError(what + ": the range is not (wholly) mapped");
    if (rc) throw InputError(fwError(what, rc));
}

std::string ScenarioDriver::name(const TaskEvent& e) const {
    const std::string range = formatHex(e.start) + "+" + formatSize(e.size);
    switch (e.kind) {
    case TaskEvent::Kind::Fork:
        return "fork " + scenario_.processes[static_cast<std::size_t>(e.child)].name;
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

nlohmann::json ScenarioDriver::args(const OsTask& t, const TaskEvent& e, int rc) {
    nlohmann::json args = {{"task", t.name}, {"instruction", e.at}};
    if (e.kind != TaskEvent::Kind::Fork && e.kind != TaskEvent::Kind::Exit)
        args["start"] = formatHex(e.start), args["size"] = e.size;
    if (e.kind == TaskEvent::Kind::Map || e.kind == TaskEvent::Kind::Protect)
        args["prot"] = protString(e.prot);
    if (e.kind == TaskEvent::Kind::Map && e.page_level) args["page_level"] = e.page_level;
    if (rc) args["error"] = rc;
    return args;
}

} // namespace tlmmu
