// The tasks of a run: one per thread of each scenario process, in the scenario's order, with
// what the OS keeps about each (its events, the task whose fork creates it, how it ended) and
// checked mode's data shadows (one per address space: the threads of a process share it).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "Scenario.h"
#include "core/Task.h"

namespace tlmmu {

// A task with what the OS keeps about it.
struct OsTask : Task {
    std::size_t process = 0; // index in the scenario
    std::size_t thread = 0;  // index among the process's threads
    std::vector<TaskEvent> events;
    std::size_t next_event = 0;
    OsTask* parent = nullptr; // the task whose fork creates this one (null: created at boot)
    bool killed = false;
    bool group_exit = false; // killed with its process by another of its threads

    // It may run; the core hands control back at its first event.
    void makeRunnable() {
        state = State::Runnable;
        os_stop = events.empty() ? ~std::uint64_t{0} : events.front().at;
    }
};

class TaskTable {
  public:
    explicit TaskTable(const Scenario& scenario);

    // Every task, in the scenario's order (processes, then their threads).
    const std::vector<std::unique_ptr<OsTask>>& all() const { return tasks_; }
    // The tasks of process i (its threads); the first is the one a fork creates.
    const std::vector<OsTask*>& ofProcess(std::size_t i) const { return process_tasks_[i]; }
    std::size_t processes() const { return process_tasks_.size(); }

  private:
    std::vector<std::unique_ptr<OsTask>> tasks_;
    std::vector<std::vector<OsTask*>> process_tasks_;
};

} // namespace tlmmu
