// The memory manager (firmware/kernel/mm.h) on the fake HAL, with the hardware model's walker
// standing in for the MMU: every access is walked, a fault goes to fw_fault and the access is
// retried, so the tests see what a core running these tasks would see, byte for byte. Shared by
// the firmware test files (one per firmware source).
#pragma once

#include <functional>

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "fake_hal.h"
#include "kernel/internal.h"
#include "mmu/PageTableWalk.h"
#include "support/FormatCases.h"

namespace fwtest {

using fakehal::hal;
using fakehal::HalEvent;
using fakehal::HalPteMemory;
using tlmmu::AccessType;
using tlmmu::FaultKind;
using tlmmu::Privilege;
using tlmmu::PteFormat;
using tlmmu::WalkResult;

inline std::uint64_t lowMask(unsigned bits) {
    return bits >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
}

constexpr hal_paddr_t kFramesBase = hal_paddr_t{1} << 30;
constexpr std::uint64_t kPhysBytes = std::uint64_t{1} << 32; // fits every format's PA width
constexpr hal_paddr_t kSwapMmio = 0xFFFF0000;
constexpr std::uint64_t kEntry = 200, kExit = 100, kSwitch = 50, kFork = 1000;

struct Boot {
    std::uint32_t frames = 512;
    unsigned asid_bits = 8;
    unsigned cores = 2;
    std::uint32_t limit = 0;
    bool swap = false;
    std::uint64_t slots = 256;
    unsigned flush_ceiling = 0;
};

inline PteFormat formatOf(const tlmmu::test::FormatCase& c) {
    return PteFormat::fromName(c.name, "mmu.format", c.page_bits, c.pte_bytes, c.levels);
}

class MmFixture {
  public:
    explicit MmFixture(const PteFormat& f) : format(f) {}

    std::uint64_t page() const { return std::uint64_t{1} << format.pageShift(); }
    std::uint64_t levelBytes(unsigned level) const {
        return std::uint64_t{1} << format.levelShift(level);
    }

    // `more` sets what a test adds to the configuration (after the fake HAL's reset).
    void boot(const Boot& b = Boot(),
              const std::function<void(fw_kernel_config&)>& more = nullptr) {
        hal().reset(kPhysBytes);
        meta.assign(b.frames, 0);
        rmap.assign(b.frames, fw_frame_rmap{});
        bitmap.assign((b.slots + 63) / 64, ~0ull); // init must clear it
        storage.assign(fw_kernel_size() / 8 + 1, 0);
        k = reinterpret_cast<fw_kernel*>(storage.data());
        fw_kernel_config config{};
        config.format = format.raw();
        config.frames_base = kFramesBase;
        config.frame_count = b.frames;
        config.frame_meta = meta.data();
        config.rmap = rmap.data();
        config.fault_entry_cycles = kEntry;
        config.fault_exit_cycles = kExit;
        config.asid_bits = b.asid_bits;
        config.cores = b.cores;
        config.memory_limit_frames = b.limit;
        config.switch_cycles = kSwitch;
        config.fork_cycles = kFork;
        config.flush_ceiling_pages = b.flush_ceiling;
        if (b.swap) {
            config.swap_mmio = kSwapMmio;
            config.swap_slots = b.slots;
            hal().swap.mmio = kSwapMmio;
            hal().swap.slots = b.slots;
        }
        if (more) more(config);
        limit = b.limit;
        tids.clear();
        ASSERT_EQ(fw_kernel_init(k, &config, b.swap ? bitmap.data() : nullptr), FW_OK);
        frames = fw_kernel_frames(k);
        initial_in_use = frames->in_use;
    }

    // A process with one task on core; its pid (the task is tids[pid][0]).
    int create(unsigned core = 0) {
        int pid = 0, tid = 0;
        EXPECT_EQ(fw_process_create(k, core, &pid, &tid), FW_OK);
        EXPECT_GE(pid, 1);
        EXPECT_GE(tid, 1);
        tids[pid] = {tid};
        return pid;
    }
    int thread(int pid, unsigned core) {
        int tid = 0;
        EXPECT_EQ(fw_thread_create(k, pid, core, &tid), FW_OK);
        tids[pid].push_back(tid);
        return tid;
    }
    int fork(int parent, unsigned child_core = 1, unsigned core = 0) {
        int pid = 0, tid = 0;
        EXPECT_EQ(fw_process_fork(k, core, parent, child_core, &pid, &tid), FW_OK);
        tids[pid] = {tid};
        return pid;
    }
    // One process with a task on each of `cores` (core 0 first), each switched in on its core,
    // and a 4-page RW data VMA whose first page core 0 has touched (so that its tables exist).
    // Returns the pid.
    int threadsOnCores(unsigned cores);
    int tidOf(int pid) const {
        const auto it = tids.find(pid);
        return it == tids.end() || it->second.empty() ? -1 : it->second.front();
    }
    // Every task of pid exits (the last one releases the address space).
    int exitProcess(int pid, unsigned core = 0) {
        int rc = FW_ERR_INVAL;
        const auto it = tids.find(pid);
        if (it == tids.end()) return rc;
        for (int tid : it->second)
            rc = fw_task_exit(k, core, tid);
        tids.erase(it);
        return rc;
    }
    int switchTo(int pid, unsigned core = 0) { return fw_switch_to(k, core, tidOf(pid)); }

    int map(int pid, std::uint64_t start, std::uint64_t len, unsigned prot,
            fw_vma_kind kind = FW_VMA_ANON, int shm = -1, unsigned level = 0) {
        fw_vma_desc d{};
        d.start = start;
        d.len = len;
        d.prot = prot;
        d.kind = kind;
        d.shm_id = shm;
        d.page_level = level;
        return fw_vma_map(k, 0, pid, &d);
    }

    WalkResult walk(int pid, std::uint64_t va, AccessType access, unsigned core = 0) {
        tlmmu::WalkRequest request;
        request.va = va;
        request.asid = fw_process_asid(k, pid, core);
        request.access = access;
        request.priv = Privilege::User;
        request.root = fw_process_root(k, pid);
        return tlmmu::walkPageTable(format, request, memory);
    }

    // One access as a core would make it, by task tid of pid: walk, on a fault run the handler
    // and retry. Returns the class of the last fault handled (NONE if the first walk
    // succeeded); *pa gets the physical address when the access went through.
    fw_fault_class accessBy(int pid, int tid, std::uint64_t va, AccessType type,
                            hal_paddr_t* pa = nullptr, unsigned core = 0) {
        fw_fault_class last = FW_FAULT_CLASS_NONE;
        for (int attempt = 0; attempt < 4; ++attempt) {
            const WalkResult r = walk(pid, va, type, core);
            if (r.fault == FaultKind::None) {
                const std::uint64_t offset = va & lowMask(format.levelShift(r.entry.level));
                if (pa) *pa = (r.entry.ppn << format.pageShift()) + offset;
                return last;
            }
            fw_fault_result result{};
            EXPECT_EQ(fw_fault(k, core, tid, va, static_cast<fw_access>(type),
                               static_cast<fw_fault_kind>(r.fault), &result),
                      FW_OK);
            last = result.cls;
            if (limit != 0) {
                EXPECT_LE(fw_frames_in_use(k), limit);
            }
            if (last == FW_FAULT_CLASS_PROTECTION) {
                kill_reason = result.reason;
                tids.erase(pid);
                return last;
            }
        }
        ADD_FAILURE() << "access to " << std::hex << va << " keeps faulting";
        return last;
    }
    fw_fault_class access(int pid, std::uint64_t va, AccessType type, hal_paddr_t* pa = nullptr,
                          unsigned core = 0) {
        return accessBy(pid, tidOf(pid), va, type, pa, core);
    }

    fw_fault_class write64(int pid, std::uint64_t va, std::uint64_t value) {
        hal_paddr_t pa = 0;
        const fw_fault_class c = access(pid, va, AccessType::Write, &pa);
        if (c != FW_FAULT_CLASS_PROTECTION) hal_write_phys(pa, value, 8);
        return c;
    }

    std::uint64_t read64(int pid, std::uint64_t va, fw_fault_class* cls = nullptr) {
        hal_paddr_t pa = 0;
        const fw_fault_class c = access(pid, va, AccessType::Read, &pa);
        if (cls) *cls = c;
        return c == FW_FAULT_CLASS_PROTECTION ? 0 : hal_read_phys(pa, 8);
    }

    // Physical address of va's page (base page), through the walker.
    hal_paddr_t frameOf(int pid, std::uint64_t va) {
        const WalkResult r = walk(pid, va, AccessType::Read);
        EXPECT_EQ(r.fault, FaultKind::None);
        const std::uint64_t offset = va & lowMask(format.levelShift(r.entry.level));
        return ((r.entry.ppn << format.pageShift()) + offset) & ~(page() - 1);
    }
    // Level of the leaf that translates va (-1: none).
    int leafLevel(int pid, std::uint64_t va) {
        const WalkResult r = walk(pid, va, AccessType::Read);
        return r.fault == FaultKind::None ? static_cast<int>(r.entry.level) : -1;
    }

    // Everything back: allocator at its post-init count, no data frame, no table, no slot.
    void expectAllReturned() {
        EXPECT_EQ(frames->in_use, initial_in_use);
        EXPECT_EQ(fw_frames_in_use(k), 0u);
        EXPECT_EQ(fw_tables_in_use(k), 0u);
        EXPECT_EQ(fw_swap_slots_in_use(k), 0u);
        for (unsigned l = 0; l < FW_MAX_LEVELS; ++l)
            EXPECT_EQ(fw_kernel_stats(k)->leaves_by_level[l], 0u) << "level " << l;
    }

    PteFormat format;
    std::vector<std::uint32_t> meta;
    std::vector<fw_frame_rmap> rmap;
    std::vector<std::uint64_t> bitmap;
    std::vector<std::uint64_t> storage;
    fw_kernel* k = nullptr;
    const fw_frames* frames = nullptr;
    std::uint32_t initial_in_use = 0;
    std::uint32_t limit = 0;
    fw_kill_reason kill_reason = FW_KILL_NONE;
    std::map<int, std::vector<int>> tids;
    HalPteMemory memory;
};

// Formats with 4 KiB pages and VAs below 4 GiB, so that one set of addresses fits them all.
inline const tlmmu::test::FormatCase kSmallFormats[] = {{"sv39"}, {"sv48"}, {"x86_64"}, {"x86_32"}};

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kData = 0x10000000;  // anonymous data VMAs
constexpr std::uint64_t kStack = 0x20000000; // stack VMAs start here (guard just below)
constexpr std::uint64_t kShm = 0x30000000;

// The 4 KiB fixture over kSmallFormats.
class MmTest : public testing::TestWithParam<tlmmu::test::FormatCase>, public MmFixture {
  protected:
    MmTest() : MmFixture(formatOf(GetParam())) {}
};

constexpr unsigned kRW = FW_PROT_R | FW_PROT_W;

inline int MmFixture::threadsOnCores(unsigned cores) {
    const int pid = create(0);
    for (unsigned c = 1; c < cores; ++c)
        thread(pid, c);
    EXPECT_EQ(map(pid, kData, 4 * kPage, kRW), FW_OK);
    for (unsigned c = 0; c < cores; ++c) {
        hal().current_core = c;
        EXPECT_EQ(fw_switch_to(k, c, tids[pid][c]), FW_OK);
    }
    hal().current_core = 0;
    EXPECT_EQ(write64(pid, kData, 42), FW_FAULT_CLASS_DEMAND_ZERO);
    return pid;
}

} // namespace fwtest
