// Which task each core runs: round robin over the core's runnable tasks with time slices,
// starting after the one it ran last. A core holds the address space of the task it switched
// to last (current) until it switches again.
#pragma once

#include <cstdint>
#include <vector>

#include <systemc>

#include "FirmwareBinding.h"
#include "SystemConfig.h"
#include "TaskTable.h"
#include "core/OperatingSystem.h"

namespace tlmmu {

class Scheduler {
  public:
    // Each core's tasks are those of the table that run on it, in the table's order.
    Scheduler(const SystemConfig& config, FirmwareBinding& fw, const TaskTable& tasks);

    const std::vector<OsTask*>& queue(unsigned core) const { return cores_[core].queue; }
    // Boot: switches the core to its first runnable task, which then runs first.
    void installFirst(unsigned core);
    // The task the core runs next, its address space installed (null task: none runnable).
    OperatingSystem::Dispatch next(unsigned core);
    // Every task of the core is done.
    bool finished(unsigned core) const;
    const sc_core::sc_event& runnable(unsigned core) const { return cores_[core].runnable; }
    // A task of the core became runnable (or done): the core, if idle, looks again.
    void notify(unsigned core) { cores_[core].runnable.notify(sc_core::SC_ZERO_TIME); }

  private:
    struct CoreState {
        std::vector<OsTask*> queue;
        std::size_t next = 0;
        OsTask* current = nullptr; // whose address space the core holds
        bool fresh = false;        // current was installed at boot and has not run yet
        sc_core::sc_event runnable;
    };
    OperatingSystem::Dispatch dispatch(OsTask* task) const;

    const SystemConfig& config_;
    FirmwareBinding& fw_;
    std::vector<CoreState> cores_;
};

} // namespace tlmmu
