// Binds the freestanding firmware (firmware/kernel) to the simulated cores: one kernel shared by
// all cores, one address space (process) per core.
#pragma once

#include <memory>
#include <vector>

#include "core/Core.h"
#include "mmu/PteFormat.h"

extern "C" {
#include "kernel/kernel.h"
}

namespace tlmmu {

class FirmwareKernel {
  public:
    // Frames are the memory above the first MiB (kept free so that PA 0 is never a frame),
    // or `frames` of them when non-zero.
    FirmwareKernel(const PteFormat& format, std::uint64_t memory_size, std::uint64_t page_size,
                   std::uint64_t frames, std::uint64_t fault_entry_cycles,
                   std::uint64_t fault_exit_cycles);
    fw_kernel& kernel() { return kernel_; }
    std::uint64_t pageTableBytes() const;

  private:
    const PteFormat& format_;
    std::vector<std::uint32_t> frame_meta_;
    fw_kernel kernel_{};
};

// Without a scenario: every process is one implicit user region (RWX, the whole address space)
// mapped on demand by the minimal kernel (firmware/kernel/kernel.h). ASID = pid.
class ImplicitRegionOs final : public OperatingSystem {
  public:
    explicit ImplicitRegionOs(FirmwareKernel& kernel) : kernel_(kernel) {}
    void start(Task& task) override;
    void prefault(Task& task, Addr va) override;
    void switchTo(Task& task) override;
    FaultOutcome fault(Task& task, Addr va, AccessType access, FaultKind kind) override;
    void event(Task& task, const TaskEvent& event) override;
    void finished(Task&) override {}

  private:
    FirmwareKernel& kernel_;
    std::vector<fw_space> spaces_; // index pid - 1
};

} // namespace tlmmu
