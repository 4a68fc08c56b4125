#include "FirmwareBinding.h"

#include "Config.h"
#include "core/HostHal.h"

namespace tlmmu {

namespace {
// Memory below 1 MiB stays free, so that physical address 0 is never a frame.
constexpr std::uint64_t kReservedBytes = std::uint64_t{1} << 20;
} // namespace

std::string fwError(const std::string& what, int rc) {
    return what + ": " + fw_strerror(rc);
}

void fwCheck(int rc, const std::string& what) {
    if (rc) throw FirmwarePanic(fwError(what, rc));
}

FirmwareBinding::FirmwareBinding(const PteFormat& format, const SystemConfig& config,
                                 const MemoryManagerWiring& wiring, const Scenario& scenario) {
    const std::uint64_t count = frameCount(format, config);
    frame_meta_.reset(static_cast<std::uint32_t*>(std::calloc(count, sizeof(std::uint32_t))));
    rmap_.reset(static_cast<fw_frame_rmap*>(std::calloc(count, sizeof(fw_frame_rmap))));
    if (!frame_meta_ || !rmap_)
        throw InputError("memory.size: no host memory for the frame tables");
    swap_bitmap_.assign((config.firmware.swap_slots + 63) / 64 + 1, 0);
    storage_.reset(new std::uint64_t[(fw_kernel_size() + 7) / 8]());
    init_config_ = kernelConfig(format, config, wiring, count);
    checkBootFrames(config, scenario, count);
}

FirmwareBinding::~FirmwareBinding() = default;

std::uint64_t FirmwareBinding::frameCount(const PteFormat& format, const SystemConfig& config) {
    const std::uint64_t frame_bytes = format.tableBytes();
    std::uint64_t count = (config.memory.size - kReservedBytes) / frame_bytes;
    if (config.firmware_frames) {
        if (config.firmware_frames > count)
            throw InputError("firmware.frames: " + std::to_string(config.firmware_frames) +
                             " frames do not fit in memory.size (at most " + std::to_string(count) +
                             ")");
        count = config.firmware_frames;
    }
    if (count >= (std::uint64_t{1} << 30))
        throw InputError("memory.size: the firmware manages fewer than 2^30 frames (set "
                         "firmware.frames to use part of the memory)");
    return count;
}

fw_kernel_config FirmwareBinding::kernelConfig(const PteFormat& format, const SystemConfig& config,
                                               const MemoryManagerWiring& wiring,
                                               std::uint64_t count) const {
    fw_kernel_config c = config.firmware;
    c.format = format.raw();
    c.frames_base = kReservedBytes;
    c.frame_count = static_cast<std::uint32_t>(count);
    c.frame_meta = frame_meta_.get();
    c.rmap = rmap_.get();
    c.buffers_zeroed = 1;
    c.swap_mmio = wiring.swap_mmio;
    c.ipi_mmio = wiring.ipi_mmio;
    return c;
}

void FirmwareBinding::checkBootFrames(const SystemConfig& config, const Scenario& scenario,
                                      std::uint64_t count) const {
    std::uint64_t roots = 0;
    for (const ScenarioProcess& p : scenario.processes)
        roots += p.forked_from.empty() ? 1 : 0;
    const std::uint64_t at_init = fw_kernel_init_frames(&init_config_), need = at_init + roots;
    if (count >= need) return;
    const std::uint64_t swap = init_config_.swap_mmio ? 1 : 0,
                        zero = init_config_.zero_page ? 1 : 0, smp = at_init - swap - zero;
    std::string parts;
    if (smp)
        parts += std::to_string(smp) + " for the IPI protocol area of " +
                 std::to_string(config.cores) + " cores";
    if (swap) parts += std::string(parts.empty() ? "" : ", ") + "1 for the swap bounce frame";
    if (zero) parts += std::string(parts.empty() ? "" : ", ") + "1 for the zero page";
    throw InputError((config.firmware_frames ? "firmware.frames: " : "memory.size: ") +
                     std::to_string(count) + (count == 1 ? " frame is" : " frames are") +
                     " too few to start: the firmware takes " + std::to_string(at_init) +
                     " at initialisation" + (parts.empty() ? "" : " (" + parts + ")") +
                     " and one for the page-table root of each of the " + std::to_string(roots) +
                     " processes at start; at least " + std::to_string(need) +
                     " (and more for their pages and page tables)");
}

void FirmwareBinding::init() {
    if (const int rc = fw_kernel_init(kernel(), &init_config_,
                                      init_config_.swap_mmio ? swap_bitmap_.data() : nullptr))
        throw InputError(fwError("firmware initialisation", rc));
}

void FirmwareBinding::createShared(const std::vector<ScenarioShared>& shared) {
    if (shared_created_) return;
    shared_created_ = true;
    for (const ScenarioShared& s : shared) {
        int id = -1;
        fwCheck(fw_shm_create(kernel(), s.size, &id), "creating shared object " + s.name);
        shm_ids_.push_back(id);
    }
}

void FirmwareBinding::createProcess(OsTask& task, const ScenarioProcess& p) {
    fwCheck(fw_process_create(kernel(), task.core, &task.pid, &task.tid),
            "creating process " + p.name);
    for (const ScenarioVma& v : p.vmas) {
        fw_vma_desc d{};
        d.start = v.start;
        d.len = v.size;
        d.prot = v.prot;
        d.kind = static_cast<fw_vma_kind>(v.kind);
        d.shm_id = v.shm >= 0 ? shm_ids_[v.shm] : -1;
        d.page_level = v.page_level;
        fwCheck(fw_vma_map(kernel(), task.core, task.pid, &d),
                "mapping a VMA of " + p.name + " at " + formatHex(v.start));
    }
}

void FirmwareBinding::createThread(OsTask& task, int pid) {
    task.pid = pid;
    fwCheck(fw_thread_create(kernel(), task.pid, task.core, &task.tid),
            "creating thread " + task.name);
}

void FirmwareBinding::switchTo(unsigned core, const OsTask& task) {
    fwCheck(fw_switch_to(kernel(), core, task.tid), "switching to " + task.name);
}

} // namespace tlmmu
