// The firmware memory manager (firmware/kernel/mm.h) as the OS holds it: its configuration
// made from the keys and the platform (memory, frame tables, devices), its storage, the calls
// that create what a scenario describes, and the firmware's words for its errors.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "Scenario.h"
#include "SystemConfig.h"
#include "TaskTable.h"
#include "checker/SafetyChecker.h"
#include "mmu/PteFormat.h"

extern "C" {
#include "kernel/mm.h"
}

namespace tlmmu {

// The firmware's per-process statistics (the C struct shares its name with a function).
using ProcessStats = struct fw_process_stats;

// "WHAT: the firmware's words for rc".
std::string fwError(const std::string& what, int rc);
// A firmware error the OS cannot recover from stops the run with the firmware's words
// (FirmwarePanic).
void fwCheck(int rc, const std::string& what);

// Where the devices the firmware drives sit, and who watches it (the platform's choices).
struct MemoryManagerWiring {
    Addr swap_mmio = 0;               // 0: no swap device
    Addr ipi_mmio = 0;                // 0: no IPI controller
    SafetyChecker* checker = nullptr; // told when changes that remove rights complete
};

class FirmwareBinding {
  public:
    // Throws InputError when the memory (or firmware.frames) cannot hold the firmware's frame
    // tables, or too few frames remain to start the scenario's processes.
    FirmwareBinding(const PteFormat& format, const SystemConfig& config,
                    const MemoryManagerWiring& wiring, const Scenario& scenario);
    ~FirmwareBinding();

    fw_kernel* kernel() const { return reinterpret_cast<fw_kernel*>(storage_.get()); }
    // Boot: the firmware initialises itself (with SMP it sets up its protocol memory through
    // the HAL).
    void init();

    // The scenario's shared objects, once, before the first process maps them.
    void createShared(const std::vector<ScenarioShared>& shared);
    // Process p's first task with its VMAs, or (thread > 0) another thread of its process.
    void createProcess(OsTask& task, const ScenarioProcess& p);
    void createThread(OsTask& task, int pid);
    void switchTo(unsigned core, const OsTask& task);

  private:
    // The frames the firmware manages: all memory above kReservedBytes, or firmware.frames.
    static std::uint64_t frameCount(const PteFormat& format, const SystemConfig& config);
    // The keys' part of the firmware's configuration (the key table fills it), then the
    // platform's: memory, the frame tables, the devices.
    fw_kernel_config kernelConfig(const PteFormat& format, const SystemConfig& config,
                                  const MemoryManagerWiring& wiring, std::uint64_t count) const;
    // Too few frames to boot: the key and its minimum, not the firmware's "out of memory".
    void checkBootFrames(const SystemConfig& config, const Scenario& scenario,
                         std::uint64_t count) const;

    // Zero pages from calloc: host memory is spent only on the frames the firmware uses.
    struct Free {
        void operator()(void* p) const { std::free(p); }
    };
    std::unique_ptr<std::uint32_t[], Free> frame_meta_;
    std::unique_ptr<fw_frame_rmap[], Free> rmap_;
    std::vector<std::uint64_t> swap_bitmap_;
    std::unique_ptr<std::uint64_t[]> storage_; // struct fw_kernel
    fw_kernel_config init_config_{};           // fw_kernel_init runs at boot (it uses the HAL)
    std::vector<int> shm_ids_;
    bool shared_created_ = false;
};

} // namespace tlmmu
