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

class ProcessBinding final : public ProcessFirmware {
  public:
    ProcessBinding(FirmwareKernel& kernel, Asid asid) : kernel_(kernel), asid_(asid) {}
    void boot() override;
    void prefault(Addr va) override;
    bool handleFault(Addr va, AccessType access, FaultKind kind) override;
    const fw_space& space() const { return space_; }

  private:
    FirmwareKernel& kernel_;
    Asid asid_;
    fw_space space_{};
};

} // namespace tlmmu
