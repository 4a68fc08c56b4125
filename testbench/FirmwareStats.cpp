#include "FirmwareStats.h"

#include <algorithm>

#include "Config.h"

namespace tlmmu {

namespace {
const char* const kFaultClassNames[] = {"none",    "demand_zero", "cow",
                                        "swap_in", "spurious",    "protection"};
static_assert(sizeof kFaultClassNames / sizeof *kFaultClassNames == FW_FAULT_CLASSES);
} // namespace

std::uint64_t FirmwareStats::pageTableBytes() const {
    return fw_tables_in_use(fw_.kernel()) * format_.tableBytes();
}

void FirmwareStats::notePeaks() {
    frames_peak_ = std::max(frames_peak_, fw_frames_in_use(fw_.kernel()));
    table_bytes_peak_ = std::max(table_bytes_peak_, pageTableBytes());
}

void FirmwareStats::keep(std::size_t process, int pid) {
    final_stats_[process] = *fw_process_stats(fw_.kernel(), pid);
}

void FirmwareStats::released(int pid) {
    for (std::size_t p = 0; p < tasks_.processes(); ++p)
        if (!tasks_.ofProcess(p).empty() && tasks_.ofProcess(p).front()->pid == pid &&
            !final_stats_.count(p))
            keep(p, pid);
}

// A process's firmware statistics: the firmware's own while its address space lives (a slot
// that is not released is not reused), else the snapshot taken when it was released.
ProcessStats FirmwareStats::statsOf(std::size_t process) const {
    const auto& threads = tasks_.ofProcess(process);
    ProcessStats s{};
    if (auto it = final_stats_.find(process); it != final_stats_.end()) {
        s = it->second;
    } else if (threads.front()->pid > 0) {
        if (const ProcessStats* now = fw_process_stats(fw_.kernel(), threads.front()->pid))
            s = *now;
    }
    s.fault_cycles = 0; // the host's: the time its threads spent in fault handlers
    for (const OsTask* t : threads)
        s.fault_cycles += t->fault_cycles;
    return s;
}

namespace {
// A process's firmware counters (ProcessStats fields), declared once for processes and cores.
struct ProcessCounter {
    const char* name;
    std::uint64_t (*field)(const ProcessStats&);
    StatInfo info;
};
const ProcessCounter kProcessCounters[] = {
    {"huge_splits",
     [](const ProcessStats& s) { return s.splits; },
     {"leaves", "huge leaves split into next-level leaves"}},
    {"huge_fallbacks",
     [](const ProcessStats& s) { return s.huge_fallbacks; },
     {"faults", "faults in a huge VMA that mapped a base page instead"}},
    {"pages_copied",
     [](const ProcessStats& s) { return s.pages_copied; },
     {"pages", "copy-on-write copies (base pages)"}},
    {"swap_outs",
     [](const ProcessStats& s) { return s.swap_outs; },
     {"pages", "its pages written to swap"}},
    {"swap_ins",
     [](const ProcessStats& s) { return s.swap_ins; },
     {"pages", "its pages read back from swap"}},
    {"context_switches",
     [](const ProcessStats& s) { return s.context_switches; },
     {"switches", "times one of its threads was switched to"}},
    {"tlb_flushes",
     [](const ProcessStats& s) { return s.tlb_flushes; },
     {"flushes", "whole-ASID or whole-TLB flushes done for it"}},
};
} // namespace

// `additive`: false for a core's (a process that ran on several cores is counted on each).
void FirmwareStats::registerProcessStats(Stats& stats, const std::string& prefix,
                                         std::vector<std::size_t> processes, bool additive) {
    const std::string whose = additive ? "" : " (of the processes that ran here, each whole)";
    auto add = [&](const std::string& path, auto field, std::string unit, std::string meaning) {
        stats.derived(path,
                      [this, processes, field] {
                          std::uint64_t n = 0;
                          for (std::size_t p : processes)
                              n += field(statsOf(p));
                          return n;
                      },
                      {std::move(unit), meaning + whose, additive});
    };
    for (unsigned c = 1; c < FW_FAULT_CLASSES; ++c)
        add(
            prefix + ".faults." + kFaultClassNames[c],
            [c](const ProcessStats& s) { return s.faults[c]; }, "faults",
            "page faults of this class");
    for (unsigned l = 0; l < format_.levels(); ++l) {
        if (!format_.leafAllowed(l)) continue;
        // "page_2MiB": statistics names start with a letter.
        const std::string size = "page_" + formatSize(std::uint64_t{1} << format_.levelShift(l));
        add(
            prefix + ".demand_faults_by_page_size." + size,
            [l](const ProcessStats& s) { return s.demand_faults_by_level[l]; }, "faults",
            "demand-zero faults that mapped a page of this size");
        add(
            prefix + ".mapped_by_page_size." + size,
            [l](const ProcessStats& s) { return s.leaves_by_level[l]; }, "pages",
            "pages of this size mapped now");
    }
    for (const ProcessCounter& c : kProcessCounters)
        add(prefix + "." + c.name, c.field, c.info.unit, c.info.meaning);
    if (processes.size() == 1)
        stats.derived(prefix + ".frames_peak",
                      [this, p = processes.front()] { return statsOf(p).frames_peak; },
                      {"frames", "the most data frames it had mapped at once", false});
}

void FirmwareStats::registerStats(Stats& stats, const Scenario& scenario, unsigned cores) {
    for (std::size_t i = 0; i < tasks_.processes(); ++i)
        registerProcessStats(stats, "processes." + scenario.processes[i].name + ".firmware", {i},
                             true);
    // A core's: the processes it runs a thread of, each once.
    for (unsigned c = 0; c < cores; ++c) {
        std::vector<std::size_t> on_core;
        for (const auto& t : tasks_.all())
            if (t->core == c &&
                std::find(on_core.begin(), on_core.end(), t->process) == on_core.end())
                on_core.push_back(t->process);
        registerProcessStats(stats, "cores[" + std::to_string(c) + "].firmware", on_core, false);
    }
    registerKernelStats(stats, cores);
}

namespace {
// A counter of the firmware's kernel-wide statistics (struct fw_kernel_stats).
struct KernelCounter {
    const char* path;
    const std::uint64_t* value;
    StatInfo info;
};

std::vector<KernelCounter> kernelCounters(const struct fw_kernel_stats* ks) {
    const fw_shootdown_stats& sd = ks->shootdown;
    return {
        {"firmware.demand_faults", &ks->demand_faults, {"faults", "demand-zero faults"}},
        {"firmware.frames_mapped",
         &ks->frames_mapped,
         {"frames",
          "data frames ever mapped by demand-zero faults and prefaults (and by writes to the "
          "zero page)"}},
        {"firmware.zero_page_maps",
         &ks->zero_page_maps,
         {"faults", "firmware.zero_page: read faults that mapped the shared zero page"}},
        {"firmware.zero_page_cows",
         &ks->zero_page_cows,
         {"faults",
          "firmware.zero_page: write faults on the zero page (a zeroed frame each; also in "
          "faults.cow)"}},
        {"firmware.huge_splits", &ks->splits, {"leaves", "huge leaves split"}},
        {"firmware.huge_fallbacks",
         &ks->huge_fallbacks,
         {"faults", "faults in a huge VMA that mapped a base page instead"}},
        {"firmware.swap_outs", &ks->swap_outs, {"pages", "pages written to swap"}},
        {"firmware.swap_ins", &ks->swap_ins, {"pages", "pages read back from swap"}},
        {"firmware.kills", &ks->kills, {"processes", "processes killed (each once, all threads)"}},
        {"firmware.kill_ipis",
         &ks->kill_ipis,
         {"IPIs", "reschedule IPIs to cores running another thread of a killed process"}},
        {"firmware.reclaim_waits",
         &ks->reclaim_waits,
         {"waits", "allocations that waited for an exiting address space's frames"}},
        {"firmware.fault_retries",
         &ks->fault_retries,
         {"faults", "faults that let go of their lock and began again (pages to evict locked)"}},
        {"firmware.fault_upgrades",
         &ks->fault_upgrades,
         {"faults", "faults begun under mmap_lock for read that began again for write"}},
        {"firmware.nested_flushes",
         &ks->nested_flushes,
         {"flushes", "discards that met another under way and flushed the whole address space"}},
        {"firmware.lock_waits.mmap_read",
         &ks->lock_waits.mmap_read,
         {"waits", "waits for an mmap_lock taken for read (a writer held it or was first)"}},
        {"firmware.lock_waits.mmap_write",
         &ks->lock_waits.mmap_write,
         {"waits", "waits for an mmap_lock taken for write"}},
        {"firmware.lock_waits.ptl",
         &ks->lock_waits.ptl,
         {"waits", "waits for a split page-table lock"}},
        {"firmware.lock_waits.zone",
         &ks->lock_waits.zone,
         {"waits", "waits for the page allocator's zone lock (a free list refilled or drained)"}},
        {"firmware.lock_waits.lru",
         &ks->lock_waits.lru,
         {"waits", "waits for the LRU lock (a batch added, freed pages removed)"}},
        {"firmware.lock_waits.swap",
         &ks->lock_waits.swap,
         {"waits", "waits for the swap device's lock"}},
        {"firmware.flush.pages",
         &ks->flush_pages,
         {"invalidations", "by-address TLB invalidations issued (local and remote)"}},
        {"firmware.flush.full",
         &ks->flush_full,
         {"invalidations", "whole-ASID or whole-TLB invalidations issued (local and remote)"}},
        {"firmware.flush.remote",
         &ks->flush_remote,
         {"invalidations", "invalidations of another core's TLB through the controller"}},
        {"firmware.pti_user_flushes",
         &ks->pti_user_flushes,
         {"invalidations",
          "firmware.pti: whole-user-ASID flushes at returns to user space (deferred by the "
          "flushes since the last one; every return without ASIDs); also in flush.full"}},
        {"shootdown.count", &sd.shootdowns, {"shootdowns", "flushes that reached other cores"}},
        {"shootdown.pages",
         &sd.pages,
         {"pages", "base-stride pages of those flushes (0 for a full one)"}},
        {"shootdown.full_flushes",
         &sd.full_flushes,
         {"shootdowns", "shootdowns that flushed the whole address space"}},
        {"shootdown.targets", &sd.targets, {"cores", "target cores, summed over shootdowns"}},
        {"shootdown.ipis", &sd.ipis_sent, {"IPIs", "IPIs sent, resends included"}},
        {"shootdown.timeouts",
         &sd.ack_timeouts,
         {"targets", "targets that did not acknowledge within the timeout"}},
        {"shootdown.resends", &sd.resends, {"sends", "IPI sends repeated after a timeout"}},
        {"shootdown.lazy_skips",
         &sd.lazy_skips,
         {"cores", "lazy TLB: cores not interrupted, marked stale instead"}},
        {"shootdown.lazy_flushes",
         &sd.lazy_flushes,
         {"flushes", "lazy TLB: stale ASIDs flushed at switch-in"}},
        {"shootdown.lock_spins",
         &sd.lock_spins,
         {"attempts", "failed lock attempts (each followed by a relax step)"}},
        {"shootdown.handled", &sd.handled, {"requests", "shootdown requests serviced by targets"}},
        {"shootdown.broadcasts",
         &sd.broadcasts,
         {"broadcasts", "broadcast invalidations (shootdowns, ASID recycling)"}},
    };
}
} // namespace

void FirmwareStats::registerKernelStats(Stats& stats, unsigned cores) {
    const struct fw_kernel_stats* ks = fw_kernel_stats(fw_.kernel());
    stats.derived("memory.page_table_bytes", [this] { return pageTableBytes(); },
                  {"bytes", "page-table pages of every address space now", false});
    stats.derived("memory.page_table_bytes_peak", [this] { return table_bytes_peak_; },
                  {"bytes", "the most page-table bytes at once", false});
    stats.derived("firmware.frames_in_use", [this] { return fw_frames_in_use(fw_.kernel()); },
                  {"frames", "frames the firmware has allocated now", false});
    stats.derived("firmware.frames_peak", [this] { return frames_peak_; },
                  {"frames", "the most frames allocated at once", false});
    for (const KernelCounter& c : kernelCounters(ks))
        stats.counter(c.path, c.value, c.info);
    for (unsigned c = 0; c < cores; ++c)
        stats.counter("cores[" + std::to_string(c) + "].ipi.handled",
                      &ks->shootdown_by_core[c].handled,
                      {"requests", "shootdown requests this core serviced as a target"});
    registerTimeStats(stats, cores);
}

namespace {
// The phases of struct fw_time_stats: the firmware's time on a core, each cycle in one phase.
struct TimePhase {
    const char* name;
    std::uint64_t fw_time_stats::*field;
    const char* meaning;
};
const TimePhase kTimePhases[] = {
    {"syscall", &fw_time_stats::syscall,
     "in system calls, their own part: entry, dispatch, exit (a discard's work aside; munmap's, "
     "mprotect's and the like included)"},
    {"zap", &fw_time_stats::zap,
     "in a discard's work: mmap_lock, VMA lookup, PTEs cleared, frames freed (its flush aside)"},
    {"flush_setup", &fw_time_stats::flush_setup,
     "setting up TLB flushes: the set-up cost, choosing the targets (the flush's parts aside)"},
    {"flush_local", &fw_time_stats::flush_local, "in the initiator's own invalidations of a flush"},
    {"ipi_request", &fw_time_stats::ipi_request,
     "writing a shootdown's request and each target's pending bit"},
    {"ipi_send", &fw_time_stats::ipi_send,
     "sending shootdown IPIs: the ICR writes' cost, the IPI controller's registers"},
    {"ack_wait", &fw_time_stats::ack_wait,
     "waiting for shootdown acknowledgements (resends included; interrupts taken meanwhile "
     "aside)"},
    {"fault", &fw_time_stats::fault,
     "in the fault handler, its own part (zeroing aside; its flushes, if any, aside)"},
    {"zero", &fw_time_stats::zero, "zeroing new pages in faults"},
    {"irq", &fw_time_stats::irq,
     "in the interrupt handler: entry, dispatch, the requests' flushes, exit"},
};
} // namespace

void FirmwareStats::registerTimeStats(Stats& stats, unsigned cores) {
    const struct fw_kernel_stats* ks = fw_kernel_stats(fw_.kernel());
    for (unsigned c = 0; c < cores; ++c)
        for (const TimePhase& p : kTimePhases)
            stats.counter("cores[" + std::to_string(c) + "].firmware_time." + p.name,
                          &(ks->time_by_core[c].*p.field),
                          {"cycles", std::string("firmware time ") + p.meaning});
}

} // namespace tlmmu
