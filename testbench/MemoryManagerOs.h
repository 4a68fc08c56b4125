// The cores' OperatingSystem over the firmware memory manager (firmware/kernel/mm.h), for runs
// described by a scenario: processes with VMAs, fork, shared memory, swapping, ASIDs.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "FirmwareBinding.h"
#include "Scenario.h"
#include "common/Stats.h"

extern "C" {
#include "kernel/mm.h"
}

namespace tlmmu {

struct MemoryManagerConfig {
    unsigned asid_bits = 16;
    unsigned cores = 1;
    std::uint64_t memory_limit_frames = 0;
    Addr swap_mmio = 0; // 0: no swap device
    std::uint64_t swap_slots = 0;
    std::uint64_t switch_cycles = 0;
    std::uint64_t fork_cycles = 0;
};

class MemoryManagerOs final : public OperatingSystem {
  public:
    MemoryManagerOs(FrameLayout& layout, const MemoryManagerConfig& config,
                    const Scenario& scenario);
    ~MemoryManagerOs() override;
    // Which scenario process a task is (set by the platform before the run).
    void bind(Task& task, std::size_t process) { process_of_[&task] = process; }

    void start(Task& task) override;
    void prefault(Task& task, Addr va) override;
    void switchTo(Task& task) override;
    FaultOutcome fault(Task& task, Addr va, AccessType access, FaultKind kind) override;
    void event(Task& task, const TaskEvent& event) override;
    void finished(Task& task) override;

    // The firmware's statistics summed over `tasks`, under `prefix` (a process, or a core).
    void registerStats(Stats& stats, const std::string& prefix, std::vector<const Task*> tasks);
    struct fw_process_stats statsOf(const Task& task) const;
    std::uint64_t pageTableBytes() const;
    std::uint64_t framesInUse() const { return fw_mm_frames_in_use(mm()); }
    std::uint64_t framesPeak() const { return frames_peak_; }
    std::uint64_t pageTableBytesPeak() const { return table_bytes_peak_; }

  private:
    fw_mm* mm() const { return reinterpret_cast<fw_mm*>(storage_.get()); }
    void createShared(); // the scenario's shared objects, on first use (needs the HAL)
    void notePeaks();

    const Scenario& scenario_;
    std::unique_ptr<std::uint64_t[]> storage_; // struct fw_mm, fixed tables
    std::vector<fw_frame_rmap> rmap_;
    std::vector<std::uint64_t> swap_bitmap_;
    std::vector<int> shm_ids_;
    bool shared_created_ = false;
    std::uint64_t table_bytes_;
    std::uint64_t frames_peak_ = 0, table_bytes_peak_ = 0;
    std::map<const Task*, std::size_t> process_of_;
    std::map<const Task*, struct fw_process_stats> final_stats_; // kept when the pid is reused
};

} // namespace tlmmu
