// A timed, trace-driven core. Each instruction costs base_cpi cycles plus what its translations
// add; an instruction fetch and each data access is one translation per page it touches. Faults
// trap into the firmware (through the HostHal, so firmware time is simulated time). Loosely
// timed with temporal decoupling: a quantum keeper per core.
#pragma once

#include <array>
#include <memory>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "common/Clock.h"
#include "common/Stats.h"
#include "common/TranslationExtension.h"
#include "core/HostHal.h"
#include "core/Task.h"
#include "workload/Workload.h"

struct fw_kernel;

namespace tlmmu {

struct CoreConfig {
    unsigned id = 0;
    double base_cpi = 1.0;
    unsigned data_latency_cycles = 0;    // added per data access (0: data costs only base CPI)
    std::uint64_t max_instructions = 0;  // 0 = whole workload (all tasks, summed)
    std::uint64_t time_slice_cycles = 0; // 0 = a task runs until it ends
    bool prefault = false;
    unsigned page_shift = 12; // base page of the format: translations are per base page
};

// The firmware as the cores see it (testbench/ binds it to firmware/kernel). Calls marked timed
// run inside HostHal::run with time, the others before the measured run.
class OperatingSystem {
  public:
    struct FaultOutcome {
        bool killed = false;
        std::string report; // why, when killed
    };
    virtual ~OperatingSystem() = default;
    virtual void start(Task& task) = 0;             // untimed: create the process
    virtual void prefault(Task& task, Addr va) = 0; // untimed: map va's page, A/D set
    virtual void switchTo(Task& task) = 0;          // timed: root/ASID of task's core
    virtual FaultOutcome fault(Task& task, Addr va, AccessType access, FaultKind kind) = 0;
    virtual void event(Task& task, const TaskEvent& event) = 0; // timed: fork/map/.../exit
    virtual void finished(Task& task) = 0; // the task's stream ended (or it was killed)
};

class Core : public sc_core::sc_module {
  public:
    tlm_utils::simple_initiator_socket<Core> translate_socket; // to its Mmu
    tlm_utils::simple_initiator_socket<Core> data_socket;      // to the interconnect

    SC_HAS_PROCESS(Core);
    Core(sc_core::sc_module_name name, const CoreConfig& config, const Clock& clock,
         OperatingSystem& os);
    ~Core() override;
    // Tasks this core runs (round robin, one time slice each); set before simulation.
    void addTask(Task* task);
    // A pending task of this core became runnable (another core forked it), or was cancelled.
    void wake() { task_ready_.notify(sc_core::SC_ZERO_TIME); }
    // Where this core's firmware reaches other cores' TLBs (InvalidationController's base).
    void setInvalidationController(Addr base) { hal_.setInvalidationController(base); }
    void registerStats(Stats& stats, const std::string& prefix) const;

    std::uint64_t instructions() const { return instructions_; }
    std::uint64_t cycles() const { return cycles_; }    // = sum of the CPI stack
    const std::string& error() const { return error_; } // non-empty: the run failed

  private:
    void run();
    void prefault(Task& task);
    Task* pickNext(Task* current);
    void runEvents(Task& task);
    void finish(Task& task);
    void execute(Task& task, const Instruction& insn);
    // Translates every base page of [va, va+size); fills pa of the first byte. False: killed.
    bool translateRange(Task& task, Addr va, std::uint32_t size, AccessType access, Addr* pa_parts);
    bool translate(Task& task, Addr va, AccessType access, Addr& pa);
    template <class Fn> std::uint64_t timedFirmware(std::uint64_t& category, Fn&& fn);
    void dataAccess(Task& task, const DataRef& ref, const Addr* pa_parts);
    void checkedAccess(Task& task, RefKind kind, Addr va, std::uint8_t* p, std::uint64_t n,
                       std::uint32_t done);
    std::uint8_t* dmiPage(Addr pa);
    void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);
    void charge(std::uint64_t& category, std::uint64_t cycles);
    void sync();

    CoreConfig config_;
    const Clock& clock_;
    OperatingSystem& os_;
    std::vector<Task*> tasks_;
    std::size_t next_task_ = 0;
    Task* running_ = nullptr; // whose root/ASID the Mmu holds
    sc_core::sc_event task_ready_;
    HostHal hal_;
    tlm_utils::tlm_quantumkeeper qk_;
    std::uint64_t local_cycles_ = 0;   // ahead of sc_time_stamp(), not yet synchronised
    std::uint64_t quantum_cycles_ = 1; // the global quantum, in cycles
    tlm::tlm_generic_payload translation_;
    TranslationExtension ext_;
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
    std::uint64_t loads_ = 0, stores_ = 0, data_errors_ = 0;
    // CPI stack, in cycles: base, TLB lookups, walks, fault handling, data-access latency,
    // context switches and other OS events (fork, map, unmap, protect, exit).
    std::uint64_t base_ = 0, tlb_ = 0, walk_ = 0, fault_ = 0, data_ = 0, os_cycles_ = 0;
    std::uint64_t switches_ = 0;
    std::array<std::uint64_t, kFaultKinds> faults_{}; // by FaultKind
    Histogram fault_latency_;
};

} // namespace tlmmu
