// The operating system as a processor sees it: what to run, where a trap goes, when a task's
// stream ends. Policy (scheduling, scenario events, process lifetimes) lives behind this seam,
// in the binding to the firmware (testbench/); the Core has none. Calls marked timed run inside
// HostHal::run on the calling core, so their firmware work is simulated time.
#pragma once

#include <cstdint>
#include <string>

#include <systemc>

#include "common/Types.h"

namespace tlmmu {

struct Task;

class OperatingSystem {
  public:
    struct FaultOutcome {
        bool killed = false;
        std::string report; // why, when killed
    };
    struct Dispatch {
        Task* task = nullptr;           // null: nothing to run on this core now
        std::uint64_t slice_cycles = 0; // preempt after this many cycles (0: no limit)
        // Run at most this far ahead of the other cores (0: the global quantum): set for a task
        // that other cores may interrupt (its address space is shared with them).
        std::uint64_t quantum_cycles = 0;
    };
    virtual ~OperatingSystem() = default;
    // Untimed boot work of `core` before its run (create its first tasks, prefault).
    virtual void boot(unsigned core) = 0;
    // Timed: the task `core` runs next, its address space installed. A null task with
    // finished(core) false: wait for runnable(core).
    virtual Dispatch schedule(unsigned core) = 0;
    virtual bool finished(unsigned core) const = 0;
    virtual const sc_core::sc_event& runnable(unsigned core) const = 0;
    // Timed: the task reached Task::os_stop instructions (a scenario event is due).
    virtual void atInstruction(Task& task) = 0;
    // Timed: the trap handler for a failed translation (incl. a software TLB refill).
    virtual FaultOutcome fault(Task& task, Addr va, AccessType access, FaultKind kind) = 0;
    // Timed: the task's instruction stream ended.
    virtual void exit(Task& task) = 0;
    // Timed, inside firmware on `core`: the firmware made task tid runnable (a fork's child).
    virtual void taskRunnable(unsigned core, int tid) = 0;
    // Timed, inside firmware on `core`: the firmware tore down address space pid.
    virtual void mmReleased(unsigned core, int pid) = 0;
    // Timed: `core` takes its interrupt (with interrupts masked), at an instruction boundary,
    // while idle, or inside firmware that waits with interrupts unmasked (hal_relax).
    virtual void interrupt(unsigned core) = 0;
    // Timed: an interrupt taken at an instruction boundary of task returns to its user code
    // (Linux's exit_to_user_mode): the OS may end the task here (its process was killed), or
    // finish the return (e.g. a deferred TLB flush, before any user instruction).
    virtual void returnToUser(Task& task) { (void)task; }
};

} // namespace tlmmu
