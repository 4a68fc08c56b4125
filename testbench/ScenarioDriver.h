// The scenario's events as system calls of their tasks (fork, mmap, munmap, mprotect,
// madvise): the calls, the forks in progress, what a completed change tells the checkers, how
// an event is drawn on the timeline, and what a failed one means. Exits and kills are the
// OS's (MemoryManagerOs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "CheckerNotifier.h"
#include "FirmwareBinding.h"
#include "Scenario.h"
#include "TaskTable.h"

namespace tlmmu {

class ScenarioDriver {
  public:
    ScenarioDriver(FirmwareBinding& fw, const TaskTable& tasks, const Scenario& scenario,
                   SafetyChecker* checker, unsigned cores);

    // An event begins: the checkers' mark of the change it may make.
    std::uint64_t begin() { return notifier_.begin(); }
    // Event e (any but an exit) as t's system call on `core`; the firmware's return code.
    // A change that completed is passed to the checkers (since: begin()'s mark).
    int call(unsigned core, OsTask& t, const TaskEvent& e, std::uint64_t since);
    // Inside the fork running on `core`: its child exists as firmware task tid. The child's
    // task, runnable now.
    OsTask& forked(unsigned core, int tid);
    // rc of t's event e, the task running on: an mprotect of a range no longer (wholly)
    // mapped is the program's error (ENOMEM, counted on the task); any other failure is the
    // scenario's (InputError).
    void judge(OsTask& t, const TaskEvent& e, int rc) const;

    // An event on the timeline: its kind and arguments as the scenario writes them
    // ("protect 0x10000000+4KiB r"), and the same as arguments of the slice.
    std::string name(const TaskEvent& e) const;
    static nlohmann::json args(const OsTask& t, const TaskEvent& e, int rc);

  private:
    int fork(unsigned core, OsTask& t, const TaskEvent& e, fw_syscall_args& call,
             std::uint64_t since);

    FirmwareBinding& fw_;
    const TaskTable& tasks_;
    const Scenario& scenario_;
    CheckerNotifier notifier_;
    // The fork in progress on each core (forks on several cores overlap in simulated time:
    // each waits for locks and memory), found again when its child becomes runnable.
    struct Forking {
        OsTask* child = nullptr;
        OsTask* parent = nullptr;
        std::uint64_t since = 0; // the checker's mark of that fork
    };
    std::vector<Forking> forking_;
};

} // namespace tlmmu
