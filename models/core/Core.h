// A timed, trace-driven processor. Each instruction costs base_cpi cycles plus what its
// translations add; an instruction fetch and each data access is one translation per page it
// touches. Faults trap into the operating system (through the HostHal, so firmware time is
// simulated time). Loosely timed with temporal decoupling: one local time per core (LocalTime),
// shared with the firmware it runs. What to run and when is the OS's decision, not the core's.
#pragma once

#include <array>
#include <memory>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "cache/CacheSystem.h"
#include "checker/SafetyChecker.h"
#include "common/Clock.h"
#include "common/InterruptInput.h"
#include "common/Stats.h"
#include "common/Timeline.h"
#include "common/TranslationExtension.h"
#include "core/HostHal.h"
#include "core/LocalTime.h"
#include "core/OperatingSystem.h"
#include "core/Task.h"
#include "workload/Workload.h"

namespace tlmmu {

struct CoreConfig {
    unsigned id = 0;
    double base_cpi = 1.0;
    unsigned data_latency_cycles = 0;   // added per data access (0: data costs only base CPI)
    std::uint64_t max_instructions = 0; // 0 = whole workload (all tasks, summed)
    unsigned page_shift = 12;           // base page of the format: translations are per base page
    unsigned index_bits = 9;            // of the format: a leaf at level l spans page_shift + l*k
    // data_socket leads to a CacheSystem: data references (cached_data) and fetches
    // (cached_fetch, an L1I present) are timed by the caches there (a timing-only transaction;
    // the bytes still move by DMI), replacing data_latency_cycles. The pipeline hides an L1
    // hit: the cycles beyond l1d_hit_cycles (l1i_hit_cycles) stall the core.
    bool cached_data = false, cached_fetch = false;
    unsigned l1d_hit_cycles = 0, l1i_hit_cycles = 0;
    unsigned line_shift = 6; // log2 of the caches' line size
};

class Core : public sc_core::sc_module, public InterruptInput {
  public:
    tlm_utils::simple_initiator_socket<Core> translate_socket; // to its Mmu
    tlm_utils::simple_initiator_socket<Core> data_socket;      // to the interconnect

    SC_HAS_PROCESS(Core);
    Core(sc_core::sc_module_name name, const CoreConfig& config, const Clock& clock,
         OperatingSystem& os);
    ~Core() override;
    // Where this core's firmware reaches other cores' TLBs (InvalidationController's base).
    void setInvalidationController(Addr base) { hal_.setInvalidationController(base); }
    void registerStats(Stats& stats, const std::string& prefix) const;
    // The HAL through which firmware run on this core reaches memory, its TLB and devices.
    HostHal& hal() { return hal_; }
    // The irq input: an interrupt is taken at the first instruction boundary at or after `at`
    // (or by an idle core at `at`, or by firmware polling with interrupts unmasked).
    void raise(const sc_core::sc_time& at) override;
    // Every access and the translation it used go to the checker too (null: none).
    void setChecker(SafetyChecker* checker) { checker_ = checker; }
    // The caches' count of this core's line accesses that memory served: drawn per quantum as
    // the timeline's "LLC misses" track (null: no caches).
    void setMemoryLines(const std::uint64_t* lines) { memory_lines_ = lines; }
    // What the core does goes to this timeline too (null: none).
    void setTimeline(Timeline* timeline) { timeline_ = timeline; }

    std::uint64_t instructions() const { return instructions_; }
    std::uint64_t cycles() const { return cycles_; } // = sum of the CPI stack
    const Histogram& shootdownLatency() const { return shootdown_latency_; }
    const std::string& error() const { return error_; } // non-empty: the run failed

  private:
    void run();
    void runTask(Task& task, std::uint64_t slice_cycles);
    void execute(Task& task, const Instruction& insn);
    // Translates and performs one fetch or data reference, page by page. False: task killed.
    bool access(Task& task, Addr va, std::uint32_t size, AccessType access, const DataRef* ref);
    bool translate(Task& task, Addr va, AccessType access, Addr& pa) {
        // The Mmu's grant for the last L1 hit of this kind still covers va: the same hit,
        // counted here without the call (the path of most references, kept small).
        const TranslationGrant& granted = grants_[access == AccessType::Execute ? 0 : 1];
        if (!granted.covers(va, access)) return translateThroughMmu(task, va, access, pa);
        ++translations_;
        ++*granted.accesses;
        ++*granted.hits;
        if (granted.latency_cycles) charge(tlb_, granted.latency_cycles);
        pa = granted.pa_tag | (va & granted.mask);
        if (checker_) checkGranted(task, va, pa, access, granted.level);
        return true;
    }
    bool translateThroughMmu(Task& task, Addr va, AccessType access, Addr& pa);
    void checkGranted(Task& task, Addr va, Addr pa, AccessType access, unsigned level);
    template <class Fn> std::uint64_t timedFirmware(std::uint64_t& category, Fn&& fn);
    bool interruptDue() const { return irq_pending_ && time_.now() >= irq_at_; }
    void takeInterrupt();           // from user code or idle: timed, accounted to ipi
    std::uint64_t interruptEntry(); // the entry itself, inside firmware; its cycles
    void moveData(Task& task, const DataRef& ref, Addr va, Addr pa, std::uint32_t n,
                  std::uint32_t done);
    std::uint8_t* dmiPage(Addr pa);
    // The caches' time for an access of n bytes at pa (cached_data / cached_fetch), in cycles.
    std::uint64_t cacheCycles(CacheAccessKind kind, Addr pa, std::uint32_t n);
    void timeData(const DataRef& ref, Addr pa, std::uint32_t n); // cached_data: charged to data
    void timeFetch(Addr pa, std::uint32_t n);                    // cached_fetch: charged to data
    void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);
    void account(std::uint64_t& category, std::uint64_t cycles);
    void charge(std::uint64_t& category, std::uint64_t cycles) {
        account(category, cycles);
        time_.advance(cycles);
    }

    CoreConfig config_;
    OperatingSystem& os_;
    LocalTime time_;
    HostHal hal_;
    Task* running_ = nullptr; // whose root/ASID the Mmu holds
    SafetyChecker* checker_ = nullptr;
    Timeline* timeline_ = nullptr;
    std::uint64_t handler_start_ps_ = 0;
    // The timeline's page-walk counter: walks in each interval of kWalkSamplePs simulated time
    // (by the time a walk starts), a sample where the count changes.
    static constexpr std::uint64_t kWalkSamplePs = 1000000; // 1 us
    std::uint64_t walk_interval_ = 0, walks_in_interval_ = 0;
    bool walk_sampled_ = false; // walk_sample_ is the last sample in the timeline
    std::uint64_t walk_sample_ = 0;
    void countWalk(std::uint64_t at_ps);   // a walk starts at at_ps
    void sampleWalks(std::uint64_t at_ps); // the intervals before at_ps's are complete
    void drawWalks(std::uint64_t interval, std::uint64_t walks);
    // The "LLC misses" track: one sample per quantum, at its start, of the lines memory served
    // in it (where the count changes).
    const std::uint64_t* memory_lines_ = nullptr;
    std::uint64_t memory_lines_seen_ = 0, quantum_start_ps_ = 0, llc_sample_ = 0;
    bool llc_sampled_ = false;
    void sampleMemoryLines(); // a quantum ends now
    // The core's time in ps, inside firmware (the HAL's) or outside.
    std::uint64_t nowPs() const;
    tlm::tlm_generic_payload translation_;
    TranslationExtension ext_;
    TranslationGrant grants_[2];           // the Mmu's last grant for fetches, for data
    tlm::tlm_generic_payload cache_trans_; // timing-only accesses through the caches
    CacheAccessExtension cache_kind_;
    Addr fetch_line_ = ~Addr{0}; // the line fetches last went to the L1I for
    // Base CPI as whole cycles plus millionths, accumulated exactly without a division per
    // instruction.
    std::uint64_t base_whole_, base_micro_, base_micro_acc_ = 0;
    std::uint64_t cycles_ = 0;

    struct DmiSlot {
        std::uint64_t page = ~std::uint64_t{0};
        std::uint8_t* ptr = nullptr;
    };
    std::array<DmiSlot, 4096> dmi_{}; // direct-mapped by PA page
    std::uint64_t store_value_ = 0;
    std::uint8_t load_xor_ = 0; // loads fold what they read here, so the reads are real

    std::string error_;
    std::uint64_t instructions_ = 0, translations_ = 0, page_crossings_ = 0;
    std::uint64_t loads_ = 0, stores_ = 0;
    // CPI stack, in cycles: base, TLB lookups, walks, fault handling, data-access latency,
    // context switches and other OS events (fork, map, unmap, protect, exit).
    // shootdown: firmware waiting on other cores (locks, acknowledgements); ipi: interrupt
    // handlers.
    std::uint64_t base_ = 0, tlb_ = 0, walk_ = 0, fault_ = 0, data_ = 0, os_cycles_ = 0;
    std::uint64_t shootdown_ = 0, ipi_ = 0, interrupts_ = 0;
    bool irq_pending_ = false;
    sc_core::sc_time irq_at_ = sc_core::sc_max_time();
    sc_core::sc_event irq_event_; // wakes an idle core
    std::uint64_t switches_ = 0;
    std::array<std::uint64_t, kFaultKinds> faults_{}; // by FaultKind
    Histogram fault_latency_;
    Histogram shootdown_latency_; // initiator: from its first change to its last acknowledgement
    std::uint64_t shootdown_start_ = 0;
};

} // namespace tlmmu
