#include "FirmwareBinding.h"

#include <string>

namespace tlmmu {

namespace {
constexpr std::uint64_t kReservedBytes = std::uint64_t{1} << 20;
} // namespace

std::string fwError(const char* what, int rc) {
    return std::string(what) + " failed (firmware error " + std::to_string(rc) + ")";
}

FrameLayout::FrameLayout(const PteFormat& format, std::uint64_t memory_size,
                         std::uint64_t page_size, std::uint64_t frames,
                         std::uint64_t fault_entry_cycles, std::uint64_t fault_exit_cycles) {
    const std::uint64_t frame_bytes = format.tableBytes();
    std::uint64_t count = (memory_size - kReservedBytes) / frame_bytes;
    if (frames) {
        if (frames > count)
            throw InputError("firmware.frames: " + std::to_string(frames) +
                             " frames do not fit in memory.size (at most " + std::to_string(count) +
                             ")");
        count = frames;
    }
    if (count >= (std::uint64_t{1} << 30))
        throw InputError("memory.size: at most 2^30 frames are supported by the firmware");
    meta.assign(count, 0);
    unsigned level = 0;
    while (level < format.levels() && (std::uint64_t{1} << format.levelShift(level)) != page_size)
        ++level;
    config.format = format.raw();
    config.frames_base = kReservedBytes;
    config.frame_count = static_cast<std::uint32_t>(count);
    config.frame_meta = meta.data();
    config.page_level = level;
    config.fault_entry_cycles = fault_entry_cycles;
    config.fault_exit_cycles = fault_exit_cycles;
}

FirmwareKernel::FirmwareKernel(const PteFormat& format, FrameLayout& layout) : format_(format) {
    if (const int rc = fw_kernel_init(&kernel_, &layout.config))
        throw InputError("firmware: " + fwError("fw_kernel_init", rc));
}

std::uint64_t FirmwareKernel::pageTableBytes() const {
    return kernel_.tables_in_use * format_.tableBytes();
}

void ImplicitRegionOs::start(Task& task) {
    spaces_.emplace_back();
    task.pid = static_cast<int>(spaces_.size());
    if (const int rc =
            fw_space_create(&kernel_.kernel(), &spaces_.back(), static_cast<Asid>(task.pid)))
        hal_panic(fwError("creating the address space", rc).c_str());
}

void ImplicitRegionOs::prefault(Task& task, Addr va) {
    if (const int rc = fw_prefault(&kernel_.kernel(), &spaces_[task.pid - 1], va))
        hal_panic(fwError("prefault", rc).c_str());
}

void ImplicitRegionOs::switchTo(Task& task) {
    const fw_space& s = spaces_[task.pid - 1];
    hal_set_root(s.root, s.asid);
}

OperatingSystem::FaultOutcome ImplicitRegionOs::fault(Task& task, Addr va, AccessType access,
                                                      FaultKind kind) {
    const int rc =
        fw_handle_fault(&kernel_.kernel(), &spaces_[task.pid - 1], va,
                        static_cast<fw_access>(access), static_cast<fw_fault_kind>(kind));
    if (rc == 0) return {};
    return {true, rc == FW_ERR_NOMEM
                      ? "out of memory"
                      : "fault not handled (firmware error " + std::to_string(rc) + ")"};
}

void ImplicitRegionOs::event(Task& task, const TaskEvent&) {
    throw InputError("process " + task.name + ": events need a scenario (workload.scenario)");
}

} // namespace tlmmu
