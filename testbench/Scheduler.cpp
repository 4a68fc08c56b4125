#include "Scheduler.h"

#include <algorithm>

namespace tlmmu {

Scheduler::Scheduler(const SystemConfig& config, FirmwareBinding& fw, const TaskTable& tasks)
    : config_(config), fw_(fw), cores_(config.cores) {
    for (const auto& t : tasks.all())
        cores_[t->core].queue.push_back(t.get());
}

void Scheduler::installFirst(unsigned core) {
    CoreState& c = cores_[core];
    for (std::size_t i = 0; i < c.queue.size(); ++i)
        if (c.queue[i]->state == Task::State::Runnable) {
            fw_.switchTo(core, *c.queue[i]);
            c.current = c.queue[i];
            c.next = (i + 1) % c.queue.size();
            c.fresh = true;
            break;
        }
}

// With several cores any core may be interrupted by another (a shootdown for an address space
// whose translations it may still hold, though it runs another one now; an eviction of one of
// its pages): it keeps within the IPI latency of them (LocalTime::limitQuantum), so that an IPI
// never arrives in its past. Where other cores invalidate its TLB directly (mechanisms directed
// and broadcast), within the latency of one invalidation too, so that none arrives in its past
// either (an Mmu would otherwise complete it only when its core gets there). One core needs no
// such limit.
OperatingSystem::Dispatch Scheduler::dispatch(OsTask* t) const {
    std::uint64_t limit = config_.ipi_latency_cycles;
    if (config_.firmware.shootdown != FW_SHOOTDOWN_IPI)
        limit = std::min(limit, config_.invalidation_base_cycles + config_.invalidation_hop_cycles);
    return OperatingSystem::Dispatch{t, config_.time_slice_cycles,
                                     t && config_.cores > 1 ? std::max<std::uint64_t>(1, limit)
                                                            : 0};
}

OperatingSystem::Dispatch Scheduler::next(unsigned core) {
    CoreState& c = cores_[core];
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
        fw_.switchTo(core, *chosen);
        c.current = chosen;
    }
    return dispatch(chosen);
}

bool Scheduler::finished(unsigned core) const {
    return std::none_of(cores_[core].queue.begin(), cores_[core].queue.end(),
                        [](const OsTask* t) { return t->state != Task::State::Done; });
}

} // namespace tlmmu
