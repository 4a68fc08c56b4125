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

// "WHAT failed (firmware error RC)".
std::string fwError(const char* what, int rc);

// The physical frames the firmware manages (memory above the first MiB, which stays free so
// that PA 0 is never a frame; or `frames` of them when non-zero) and the kernel configuration
// every firmware kernel starts from.
struct FrameLayout {
    FrameLayout(const PteFormat& format, std::uint64_t memory_size, std::uint64_t page_size,
                std::uint64_t frames, std::uint64_t fault_entry_cycles,
                std::uint64_t fault_exit_cycles);
    fw_kernel_config config{};
    std::vector<std::uint32_t> meta; // the allocator's per-frame words
};

// The minimal kernel (firmware/kernel/kernel.h): one implicit region per process.
class FirmwareKernel {
  public:
    FirmwareKernel(const PteFormat& format, FrameLayout& layout);
    fw_kernel& kernel() { return kernel_; }
    std::uint64_t pageTableBytes() const;

  private:
    const PteFormat& format_;
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
