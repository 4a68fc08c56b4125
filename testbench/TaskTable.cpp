#include "TaskTable.h"

#include <algorithm>

namespace tlmmu {

// One task per thread; a forked process's waits for its parent's fork event. Checked mode
// keeps one shadow per address space: the threads of a process share it.
TaskTable::TaskTable(const Scenario& scenario) {
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

} // namespace tlmmu
