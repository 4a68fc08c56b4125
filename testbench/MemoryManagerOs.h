// The operating system of every run: the firmware memory manager (firmware/kernel/mm.h) under
// the cores, and the policy the firmware leaves to its host: which task each core runs (round
// robin with time slices), the scenario's events, process lifetimes, prefaulting. A run
// without a scenario is described as one (Platform: one process per core, each with one
// implicit region).
#pragma once

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "Scenario.h"
#include "SystemConfig.h"
#include "checker/SafetyChecker.h"
#include "common/Stats.h"
#include "common/Timeline.h"
#include "core/OperatingSystem.h"
#include "core/Task.h"
#include "mmu/PteFormat.h"

extern "C" {
#include "kernel/mm.h"
}

namespace tlmmu {

// The firmware's per-process statistics (the C struct shares its name with a function).
using ProcessStats = struct fw_process_stats;

// "WHAT: the firmware's words for rc".
std::string fwError(const std::string& what, int rc);

// Where the devices the firmware drives sit, and who watches it (the platform's choices).
struct MemoryManagerWiring {
    Addr swap_mmio = 0;               // 0: no swap device
    Addr ipi_mmio = 0;                // 0: no IPI controller
    SafetyChecker* checker = nullptr; // told when changes that remove rights complete
};

// A task with what the OS keeps about it.
struct OsTask : Task {
    std::size_t process = 0; // index in the scenario
    std::size_t thread = 0;  // index among the process's threads
    std::vector<TaskEvent> events;
    std::size_t next_event = 0;
    OsTask* parent = nullptr; // the task whose fork creates this one (null: created at boot)
    bool killed = false;
    bool group_exit = false; // killed with its process by another of its threads
};

class MemoryManagerOs final : public OperatingSystem {
  public:
    MemoryManagerOs(const PteFormat& format, const SystemConfig& config,
                    const MemoryManagerWiring& wiring, const Scenario& scenario);
    ~MemoryManagerOs() override;

    // One task per thread of each scenario process, in the scenario's order.
    const std::vector<std::unique_ptr<OsTask>>& tasks() const { return tasks_; }
    // The tasks of process i (its threads).
    const std::vector<OsTask*>& processTasks(std::size_t i) const { return process_tasks_[i]; }

    void boot(unsigned core) override;
    Dispatch schedule(unsigned core) override;
    bool finished(unsigned core) const override;
    const sc_core::sc_event& runnable(unsigned core) const override {
        return cores_[core].runnable;
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
    void registerStats(Stats& stats);
    // A failure of the run the OS saw (a process of a run without a scenario was killed: the
    // trace could not be simulated), empty if none.
    std::string error() const { return error_; }
    std::uint64_t pageTableBytes() const;
    std::uint64_t framesPeak() const { return frames_peak_; }
    std::uint64_t pageTableBytesPeak() const { return table_bytes_peak_; }

  private:
    struct CoreState {
        std::vector<OsTask*> queue;
        std::size_t next = 0;
        OsTask* current = nullptr; // whose address space the core holds
        bool fresh = false;        // current was installed at boot and has not run yet
        sc_core::sc_event runnable;
    };
    fw_kernel* k() const { return reinterpret_cast<fw_kernel*>(storage_.get()); }
    void check(int rc, const std::string& what) const;
    void createShared();
    void start(OsTask& task);
    void createInitialTasks();
    void prefault(OsTask& task);
    void event(OsTask& task, const TaskEvent& e);
    // syscall: the task's exit system call (else its stream ended, or it was killed).
    void finish(OsTask& task, bool timed, bool syscall = false);
    void wake(OsTask& task);
    // Group exit: a task of a killed process ends (on its own core, at a boundary), or the
    // firmware ended it already (it ran nowhere at the kill). True when it was killed.
    bool reap(OsTask& task);
    void endKilled(OsTask& task, bool ended_by_firmware);
    std::string outsideAddressSpace(const OsTask& task, Addr va) const;
    void notePeaks();
    ProcessStats statsOf(std::size_t process) const;
    void registerFirmwareStats(Stats& stats, const std::string& prefix,
                               std::vector<std::size_t> processes, bool additive);

    const PteFormat& format_;
    const SystemConfig& config_;
    MemoryManagerWiring wiring_;
    bool implicit_; // the processes are the implicit ones of a run without a scenario
    const Scenario& scenario_;
    // Zero pages from calloc: host memory is spent only on the frames the firmware uses.
    struct Free {
        void operator()(void* p) const { std::free(p); }
    };
    std::unique_ptr<std::uint32_t[], Free> frame_meta_;
    std::unique_ptr<fw_frame_rmap[], Free> rmap_;
    std::vector<std::uint64_t> swap_bitmap_;
    std::unique_ptr<std::uint64_t[]> storage_; // struct fw_kernel
    fw_kernel_config init_config_{};           // fw_kernel_init runs at boot (it uses the HAL)
    std::vector<int> shm_ids_;
    bool shared_created_ = false;
    std::vector<std::unique_ptr<OsTask>> tasks_;
    std::vector<std::vector<OsTask*>> process_tasks_;
    bool created_ = false; // the processes that exist at boot
    mutable std::vector<CoreState> cores_;
    std::map<std::size_t, ProcessStats> final_stats_; // by process, kept when the pid is reused
    std::uint64_t frames_peak_ = 0, table_bytes_peak_ = 0;
    std::string error_;
    Timeline* timeline_ = nullptr;
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
