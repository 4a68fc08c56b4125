// The firmware's statistics: per process, per core (the processes it runs a thread of) and
// kernel-wide, with the peaks of frames and page-table bytes. A process's counters are kept
// when its address space is released, since the firmware reuses its pid.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "FirmwareBinding.h"
#include "Scenario.h"
#include "TaskTable.h"
#include "common/Stats.h"
#include "mmu/PteFormat.h"

namespace tlmmu {

class FirmwareStats {
  public:
    FirmwareStats(const FirmwareBinding& fw, const PteFormat& format, const TaskTable& tasks)
        : fw_(fw), format_(format), tasks_(tasks) {}

    // Samples the frames and page-table bytes in use into their peaks.
    void notePeaks();
    std::uint64_t pageTableBytes() const;
    std::uint64_t framesPeak() const { return frames_peak_; }
    std::uint64_t pageTableBytesPeak() const { return table_bytes_peak_; }
    // Process `process` keeps the counters of address space pid from here.
    void keep(std::size_t process, int pid);
    // The firmware released address space pid: its process's counters are final.
    void released(int pid);

    // `cores`: how many; a core's are those of the processes it runs a thread of.
    void registerStats(Stats& stats, const Scenario& scenario, unsigned cores);

  private:
    ProcessStats statsOf(std::size_t process) const;
    void registerProcessStats(Stats& stats, const std::string& prefix,
                              std::vector<std::size_t> processes, bool additive);
    void registerKernelStats(Stats& stats, unsigned cores);
    // cores[i].firmware_time (not under cores[i].firmware, the processes seen from the core: these
    // add up over the cores): the firmware's cycles on each core by phase (struct fw_time_stats).
    void registerTimeStats(Stats& stats, unsigned cores);

    const FirmwareBinding& fw_;
    const PteFormat& format_;
    const TaskTable& tasks_;
    std::map<std::size_t, ProcessStats> final_stats_; // by process, kept when the pid is reused
    std::uint64_t frames_peak_ = 0, table_bytes_peak_ = 0;
};

} // namespace tlmmu
