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
#include "workload/Workload.h"

struct fw_kernel;

namespace tlmmu {

struct CoreConfig {
    unsigned id = 0;
    double base_cpi = 1.0;
    unsigned data_latency_cycles = 0;   // added per data access (0: data costs only base CPI)
    std::uint64_t max_instructions = 0; // 0 = whole workload
    bool prefault = false;
    unsigned page_shift = 12; // base page of the format: translations are per base page
};

// The firmware's view of the process this core runs (an address space). Filled by the
// platform's firmware binding, see testbench/Firmware.h.
class ProcessFirmware {
  public:
    virtual ~ProcessFirmware() = default;
    virtual void boot() = 0;            // create the address space, set root/ASID
    virtual void prefault(Addr va) = 0; // map va's page before the run (A/D set)
    virtual bool handleFault(Addr va, AccessType access, FaultKind kind) = 0; // false: killed
};

class Core : public sc_core::sc_module {
  public:
    tlm_utils::simple_initiator_socket<Core> translate_socket; // to its Mmu
    tlm_utils::simple_initiator_socket<Core> data_socket;      // to the interconnect

    SC_HAS_PROCESS(Core);
    Core(sc_core::sc_module_name name, const CoreConfig& config, const Clock& clock,
         std::unique_ptr<Workload> workload);
    ~Core() override;
    // Set before simulation: the firmware binding that handles this core's traps.
    void setFirmware(ProcessFirmware* firmware) { firmware_ = firmware; }
    HostHal& hal() { return hal_; }
    void registerStats(Stats& stats, const std::string& prefix) const;

    std::uint64_t instructions() const { return instructions_; }
    std::uint64_t cycles() const { return base_ + tlb_ + walk_ + fault_ + data_; }
    const std::string& error() const { return error_; } // non-empty: the run failed

  private:
    void run();
    void execute(const Instruction& insn);
    // Translates every base page of [va, va+size); fills pa of the first byte. False: killed.
    bool translateRange(Addr va, std::uint32_t size, AccessType access, Addr* pa_parts);
    bool translate(Addr va, AccessType access, Addr& pa);
    void dataAccess(const DataRef& ref, const Addr* pa_parts);
    std::uint8_t* dmiPage(Addr pa);
    void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);
    void charge(std::uint64_t& category, std::uint64_t cycles);
    void sync();

    CoreConfig config_;
    const Clock& clock_;
    std::unique_ptr<Workload> workload_;
    ProcessFirmware* firmware_ = nullptr;
    HostHal hal_;
    tlm_utils::tlm_quantumkeeper qk_;
    std::uint64_t local_cycles_ = 0;   // ahead of sc_time_stamp(), not yet synchronised
    std::uint64_t quantum_cycles_ = 1; // the global quantum, in cycles
    tlm::tlm_generic_payload translation_;
    TranslationExtension ext_;
    std::uint64_t base_cpi_micro_; // base CPI in millionths of a cycle (exact accumulation)
    std::uint64_t base_micro_acc_ = 0;

    struct DmiSlot {
        std::uint64_t page = ~std::uint64_t{0};
        std::uint8_t* ptr = nullptr;
    };
    std::array<DmiSlot, 4096> dmi_{}; // direct-mapped by PA page
    std::uint64_t store_value_ = 0;
    std::uint8_t load_xor_ = 0; // loads fold what they read here, so the reads are real

    bool killed_ = false;
    std::string error_, kill_report_;
    std::uint64_t instructions_ = 0, translations_ = 0, page_crossings_ = 0;
    std::uint64_t loads_ = 0, stores_ = 0, data_errors_ = 0;
    std::uint64_t base_ = 0, tlb_ = 0, walk_ = 0, fault_ = 0, data_ = 0; // CPI stack, cycles
    std::array<std::uint64_t, 7> faults_{};                              // by FaultKind
    Histogram fault_latency_;
};

} // namespace tlmmu
