#include "FirmwareBinding.h"

#include <string>

namespace tlmmu {

namespace {
constexpr std::uint64_t kReservedBytes = std::uint64_t{1} << 20;

std::string fwError(const char* what, int rc) {
    return std::string(what) + " failed (firmware error " + std::to_string(rc) + ")";
}
} // namespace

FirmwareKernel::FirmwareKernel(const PteFormat& format, std::uint64_t memory_size,
                               std::uint64_t page_size, std::uint64_t frames,
                               std::uint64_t fault_entry_cycles, std::uint64_t fault_exit_cycles)
    : format_(format) {
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
    frame_meta_.assign(count, 0);
    unsigned level = 0;
    while (level < format.levels() && (std::uint64_t{1} << format.levelShift(level)) != page_size)
        ++level;
    fw_kernel_config c{};
    c.format = format.raw();
    c.frames_base = kReservedBytes;
    c.frame_count = static_cast<std::uint32_t>(count);
    c.frame_meta = frame_meta_.data();
    c.page_level = level;
    c.fault_entry_cycles = fault_entry_cycles;
    c.fault_exit_cycles = fault_exit_cycles;
    if (const int rc = fw_kernel_init(&kernel_, &c))
        throw InputError("firmware: " + fwError("fw_kernel_init", rc));
}

std::uint64_t FirmwareKernel::pageTableBytes() const {
    return kernel_.tables_in_use * format_.tableBytes();
}

void ProcessBinding::boot() {
    if (const int rc = fw_space_create(&kernel_.kernel(), &space_, asid_))
        hal_panic(fwError("creating the address space", rc).c_str());
    hal_set_root(space_.root, space_.asid);
}

void ProcessBinding::prefault(Addr va) {
    if (const int rc = fw_prefault(&kernel_.kernel(), &space_, va))
        hal_panic(fwError("prefault", rc).c_str());
}

bool ProcessBinding::handleFault(Addr va, AccessType access, FaultKind kind) {
    return fw_handle_fault(&kernel_.kernel(), &space_, va, static_cast<fw_access>(access),
                           static_cast<fw_fault_kind>(kind)) == 0;
}

} // namespace tlmmu
