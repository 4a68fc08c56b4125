// The operating system of every run: the firmware memory manager (firmware/kernel/mm.h) under
// the cores, and the policy the firmware leaves to its host: which task each core runs
// (Scheduler), the scenario's events (ScenarioDriver), process lifetimes (here: creation,
// exits, kills), prefaulting. A run without a scenario is described as one (Platform: one
// process per core, each with one implicit region).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "FirmwareBinding.h"
#include "FirmwareStats.h"
#include "Scenario.h"
#include "ScenarioDriver.h"
#include "Scheduler.h"
#include "SystemConfig.h"
#include "TaskTable.h"
#include "common/Stats.h"
#include "common/Timeline.h"
#include "core/OperatingSystem.h"
#include "mmu/PteFormat.h"

namespace tlmmu {

class HostHal;

class MemoryManagerOs final : public OperatingSystem {
  public:
    MemoryManagerOs(const PteFormat& format, const SystemConfig& config,
                    const MemoryManagerWiring& wiring, const Scenario& scenario);
    ~MemoryManagerOs() override;
    // The HAL of core `core`, through which its entry points reach the firmware's devices.
    void attachCore(unsigned core, HostHal& hal);

    // One task per thread of each scenario process, in the scenario's order.
    const std::vector<std::unique_ptr<OsTask>>& tasks() const { return tasks_.all(); }
    // The tasks of process i (its threads).
    const std::vector<OsTask*>& processTasks(std::size_t i) const { return tasks_.ofProcess(i); }

    void boot(unsigned core) override;
    Dispatch schedule(unsigned core) override;
    bool finished(unsigned core) const override { return scheduler_.finished(core); }
    const sc_core::sc_event& runnable(unsigned core) const override {
        return scheduler_.runnable(core);
    }
    void atInstruction(Task& task) override;
    FaultOutcome fault(Task& task, Addr va, AccessType access, FaultKind kind) override;
    void exit(Task& task) override;
    void interrupt(unsigned core) override;
    void returnToUser(Task& task) override;
    void taskRunnable(unsigned core, int tid) override;
    void mmReleased(unsigned core, int pid) override;

    // Where the scenario events (a slice each, named after the event), exits and kills
    // (instants) are drawn (null: nowhere).
    void setTimeline(Timeline* timeline) { timeline_ = timeline; }
    // The firmware's statistics: per process, per core (its processes summed) and kernel-wide.
    void registerStats(Stats& stats) { stats_.registerStats(stats, scenario_, config_.cores); }
    // A failure of the run the OS saw (a process of a run without a scenario was killed: the
    // trace could not be simulated), empty if none.
    std::string error() const { return error_; }

  private:
    fw_kernel* k() const { return fw_.kernel(); }
    HostHal& callingCore(unsigned core) const;
    void start(OsTask& task);
    void createInitialTasks();
    void prefault(OsTask& task);
    // The functions below run on the core whose HAL they are given (its id, its time).
    void event(HostHal& hal, OsTask& task, const TaskEvent& e);
    // syscall: the task's exit system call (else its stream ended, or it was killed).
    void finish(HostHal& hal, OsTask& task, bool timed, bool syscall = false);
    void wake(HostHal& hal, OsTask& task);
    // Group exit: a task of a killed process ends (on its own core, at a boundary), or the
    // firmware ended it already (it ran nowhere at the kill). True when it was killed.
    bool reap(HostHal& hal, OsTask& task);
    void endKilled(HostHal& hal, OsTask& task, bool ended_by_firmware);
    // The firmware's return to user space (fw_return_to_user): before user code runs again
    // after a system call, a fault, an interrupt at an instruction boundary or a dispatch.
    void userReturn(HostHal& hal);
    // The process of the faulting task t was killed (the firmware released its memory).
    FaultOutcome killed(HostHal& hal, OsTask& t, Addr va, FaultKind kind, const fw_fault_result& r);
    std::string outsideAddressSpace(const OsTask& task, Addr va) const;

    const PteFormat& format_;
    const SystemConfig& config_;
    bool implicit_; // the processes are the implicit ones of a run without a scenario
    const Scenario& scenario_;
    FirmwareBinding fw_;
    TaskTable tasks_;
    Scheduler scheduler_;
    ScenarioDriver driver_;
    FirmwareStats stats_;
    bool created_ = false; // the processes that exist at boot
    std::string error_;
    Timeline* timeline_ = nullptr;
    std::vector<HostHal*> hals_; // per core, from attachCore
};

} // namespace tlmmu
