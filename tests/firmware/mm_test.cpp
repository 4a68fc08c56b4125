// The OS memory manager (firmware/kernel/mm.h) on the fake HAL, with the hardware model's walker
// standing in for the MMU: every access is walked, a fault goes to fw_fault and the access is
// retried, so the tests see what a core running these processes would see, byte for byte.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "fake_hal.h"
#include "kernel/mm.h"
#include "mmu/PageTableWalk.h"

namespace {

using fakehal::hal;
using fakehal::HalPteMemory;
using tlmmu::AccessType;
using tlmmu::FaultKind;
using tlmmu::Privilege;
using tlmmu::PteFormat;
using tlmmu::WalkResult;

struct FormatCase {
    const char* name;
};

void PrintTo(const FormatCase& c, std::ostream* os) {
    *os << c.name;
}

// Formats with 4 KiB pages and VAs below 4 GiB, so that one set of addresses fits them all.
const FormatCase kFormats[] = {{"sv39"}, {"sv48"}, {"x86_64"}, {"x86_32"}};

constexpr hal_paddr_t kFramesBase = hal_paddr_t{1} << 30;
constexpr std::uint64_t kPhysBytes = std::uint64_t{1} << 32;
constexpr hal_paddr_t kSwapMmio = 0xFFFF0000;
constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kData = 0x10000000;  // anonymous data VMAs
constexpr std::uint64_t kStack = 0x20000000; // stack VMAs start here (guard just below)
constexpr std::uint64_t kShm = 0x30000000;
constexpr std::uint64_t kEntry = 200, kExit = 100, kSwitch = 50, kFork = 1000;

struct Boot {
    std::uint32_t frames = 512;
    unsigned asid_bits = 8;
    unsigned cores = 2;
    std::uint32_t limit = 0;
    bool swap = false;
    std::uint64_t slots = 256;
};

class MmTest : public testing::TestWithParam<FormatCase> {
  protected:
    MmTest() : format(PteFormat::fromName(GetParam().name, "mmu.format", 12, 8, 3)) {}

    void boot(const Boot& b = Boot()) {
        hal().reset(kPhysBytes);
        meta.assign(b.frames, 0);
        rmap.assign(b.frames, fw_frame_rmap{});
        bitmap.assign((b.slots + 63) / 64, ~0ull); // init must clear it
        storage.assign(fw_mm_size() / 8 + 1, 0);
        mm = reinterpret_cast<fw_mm*>(storage.data());
        fw_mm_config config{};
        config.kernel.format = format.raw();
        config.kernel.frames_base = kFramesBase;
        config.kernel.frame_count = b.frames;
        config.kernel.frame_meta = meta.data();
        config.kernel.fault_entry_cycles = kEntry;
        config.kernel.fault_exit_cycles = kExit;
        config.asid_bits = b.asid_bits;
        config.cores = b.cores;
        config.memory_limit_frames = b.limit;
        config.switch_cycles = kSwitch;
        config.fork_cycles = kFork;
        config.rmap = rmap.data();
        if (b.swap) {
            config.swap_mmio = kSwapMmio;
            config.swap_slots = b.slots;
            hal().swap.mmio = kSwapMmio;
            hal().swap.slots = b.slots;
        }
        limit = b.limit;
        ASSERT_EQ(fw_mm_init(mm, &config, b.swap ? bitmap.data() : nullptr), FW_OK);
        frames = &fw_mm_kernel(mm)->frames;
        initial_in_use = frames->in_use;
    }

    int create(unsigned core = 0) {
        int pid = 0;
        EXPECT_EQ(fw_process_create(mm, core, &pid), FW_OK);
        EXPECT_GE(pid, 1);
        return pid;
    }

    WalkResult walk(int pid, std::uint64_t va, AccessType access, unsigned core = 0) {
        tlmmu::WalkRequest request;
        request.va = va;
        request.asid = fw_process_asid(mm, pid, core);
        request.access = access;
        request.priv = Privilege::User;
        request.root = fw_process_root(mm, pid);
        return tlmmu::walkPageTable(format, request, memory);
    }

    // One access as a core would make it: walk, on a fault run the handler and retry. Returns
    // the class of the last fault handled (NONE if the first walk succeeded); *pa gets the
    // physical address when the access went through.
    fw_fault_class access(int pid, std::uint64_t va, AccessType type, hal_paddr_t* pa = nullptr,
                          unsigned core = 0) {
        fw_fault_class last = FW_FAULT_CLASS_NONE;
        for (int attempt = 0; attempt < 4; ++attempt) {
            const WalkResult r = walk(pid, va, type, core);
            if (r.fault == FaultKind::None) {
                if (pa) *pa = (r.entry.ppn << 12) | (va & (kPage - 1));
                return last;
            }
            fw_fault_result result{};
            EXPECT_EQ(fw_fault(mm, core, pid, va, static_cast<fw_access>(type),
                               static_cast<fw_fault_kind>(r.fault), &result),
                      FW_OK);
            last = result.cls;
            if (limit != 0) {
                EXPECT_LE(fw_mm_frames_in_use(mm), limit);
            }
            if (last == FW_FAULT_CLASS_PROTECTION) {
                kill_reason = result.reason;
                return last;
            }
        }
        ADD_FAILURE() << "access to " << std::hex << va << " keeps faulting";
        return last;
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

    hal_paddr_t frameOf(int pid, std::uint64_t va) {
        const WalkResult r = walk(pid, va, AccessType::Read);
        EXPECT_EQ(r.fault, FaultKind::None);
        return r.entry.ppn << 12;
    }

    // Everything back: allocator at its post-init count, no data frame, no table, no slot.
    void expectAllReturned() {
        EXPECT_EQ(frames->in_use, initial_in_use);
        EXPECT_EQ(fw_mm_frames_in_use(mm), 0u);
        EXPECT_EQ(fw_mm_tables_in_use(mm), 0u);
        EXPECT_EQ(fw_mm_swap_slots_in_use(mm), 0u);
    }

    PteFormat format;
    std::vector<std::uint32_t> meta;
    std::vector<fw_frame_rmap> rmap;
    std::vector<std::uint64_t> bitmap;
    std::vector<std::uint64_t> storage;
    fw_mm* mm = nullptr;
    fw_frames* frames = nullptr;
    std::uint32_t initial_in_use = 0;
    std::uint32_t limit = 0;
    fw_kill_reason kill_reason = FW_KILL_NONE;
    HalPteMemory memory;
};

INSTANTIATE_TEST_SUITE_P(Formats, MmTest, testing::ValuesIn(kFormats),
                         [](const testing::TestParamInfo<FormatCase>& info) {
                             return std::string(info.param.name);
                         });

TEST_P(MmTest, CreateUseForkExitReturnsEveryFrame) {
    boot();
    const int a = create();
    EXPECT_EQ(fw_mm_tables_in_use(mm), 1u); // the root
    ASSERT_EQ(fw_vma_map(mm, a, kData, 16 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1), FW_OK);
    ASSERT_EQ(fw_vma_map(mm, a, kStack, 4 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_STACK, -1), FW_OK);
    for (std::uint64_t i = 0; i < 16; ++i)
        write64(a, kData + i * kPage, i);
    write64(a, kStack + 3 * kPage, 7);
    EXPECT_EQ(fw_process_stats(mm, a)->frames_in_use, 17u);
    EXPECT_EQ(fw_mm_frames_in_use(mm), 17u);
    int b = 0;
    ASSERT_EQ(fw_process_fork(mm, a, 1, &b), FW_OK);
    write64(b, kData, 100); // one private copy
    EXPECT_EQ(fw_mm_frames_in_use(mm), 18u);
    std::vector<hal_paddr_t> used;
    for (std::uint64_t i = 0; i < 16; ++i)
        used.push_back(frameOf(a, kData + i * kPage));
    used.push_back(frameOf(b, kData));

    ASSERT_EQ(fw_process_exit(mm, a), FW_OK);
    EXPECT_EQ(fw_mm_frames_in_use(mm), 17u); // b still maps 16 shared + its copy
    EXPECT_EQ(fw_process_exit(mm, b), FW_OK);
    expectAllReturned();
    for (hal_paddr_t pa : used)
        EXPECT_EQ(frame_refcount(frames, pa), 0u);
    EXPECT_EQ(fw_process_exit(mm, a), FW_ERR_INVAL); // gone
    EXPECT_NE(fw_process_stats(mm, a), nullptr);     // stats kept until the pid is reused
}

TEST_P(MmTest, WriteAndExecuteTogetherRefusedForMapAndProtect) {
    boot();
    const int a = create();
    EXPECT_EQ(fw_vma_map(mm, a, kData, kPage, FW_PROT_R | FW_PROT_W | FW_PROT_X, FW_VMA_ANON, -1),
              FW_ERR_WX);
    EXPECT_EQ(fw_vma_map(mm, a, kData, kPage, FW_PROT_W | FW_PROT_X, FW_VMA_ANON, -1), FW_ERR_WX);
    EXPECT_EQ(fw_vma_map(mm, a, kData, kPage, FW_PROT_W, FW_VMA_ANON, -1), FW_ERR_INVAL);
    ASSERT_EQ(fw_vma_map(mm, a, kData, 2 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1), FW_OK);
    EXPECT_EQ(fw_vma_protect(mm, a, kData, kPage, FW_PROT_R | FW_PROT_W | FW_PROT_X), FW_ERR_WX);
    EXPECT_EQ(fw_vma_protect(mm, a, kData, kPage, FW_PROT_R | FW_PROT_X), FW_OK);
    EXPECT_EQ(fw_vma_protect(mm, a, kData + 4 * kPage, kPage, FW_PROT_R), FW_ERR_NOT_MAPPED);
    EXPECT_EQ(fw_vma_map(mm, a, kData + 1, kPage, FW_PROT_R, FW_VMA_ANON, -1), FW_ERR_INVAL);
}

TEST_P(MmTest, OverlappingVmasRefusedGuardIncluded) {
    boot();
    const int a = create();
    ASSERT_EQ(fw_vma_map(mm, a, kData, 4 * kPage, FW_PROT_R, FW_VMA_ANON, -1), FW_OK);
    EXPECT_EQ(fw_vma_map(mm, a, kData + 3 * kPage, 2 * kPage, FW_PROT_R, FW_VMA_ANON, -1),
              FW_ERR_OVERLAP);
    EXPECT_EQ(fw_vma_map(mm, a, kData - kPage, 2 * kPage, FW_PROT_R, FW_VMA_ANON, -1),
              FW_ERR_OVERLAP);
    EXPECT_EQ(fw_vma_map(mm, a, kData + 4 * kPage, kPage, FW_PROT_R, FW_VMA_ANON, -1), FW_OK);
    ASSERT_EQ(fw_vma_map(mm, a, kStack, 4 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_STACK, -1), FW_OK);
    // The guard page below the stack is taken too.
    EXPECT_EQ(fw_vma_map(mm, a, kStack - kPage, kPage, FW_PROT_R, FW_VMA_ANON, -1), FW_ERR_OVERLAP);
    // A stack whose guard would land on an existing VMA.
    EXPECT_EQ(fw_vma_map(mm, a, kData + 5 * kPage, kPage, FW_PROT_R | FW_PROT_W, FW_VMA_STACK, -1),
              FW_ERR_OVERLAP);
}

TEST_P(MmTest, DemandZeroNoFrameBeforeTouchZeroFilledAfter) {
    boot();
    for (std::uint32_t i = 0; i < frames->count; ++i) // dirty every frame
        hal().write(kFramesBase + std::uint64_t{i} * kPage, ~0ull, 8);
    const int a = create();
    ASSERT_EQ(fw_vma_map(mm, a, kData, 64 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1), FW_OK);
    EXPECT_EQ(fw_mm_frames_in_use(mm), 0u);
    EXPECT_EQ(fw_mm_tables_in_use(mm), 1u);
    EXPECT_EQ(walk(a, kData + 5 * kPage, AccessType::Read).fault, FaultKind::NotPresent);

    hal().cycles = 0;
    hal_paddr_t pa = 0;
    EXPECT_EQ(access(a, kData + 5 * kPage + 8, AccessType::Read, &pa), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(hal().cycles, kEntry + kExit);
    EXPECT_EQ(fw_mm_frames_in_use(mm), 1u);
    EXPECT_EQ(fw_process_stats(mm, a)->faults[FW_FAULT_CLASS_DEMAND_ZERO], 1u);
    EXPECT_EQ(fw_process_stats(mm, a)->frames_in_use, 1u);
    for (std::uint64_t off = 0; off < kPage; off += 8)
        ASSERT_EQ(hal().read((pa & ~(kPage - 1)) + off, 8), 0u);

    // The PTE as the firmware wrote it (before this walk set A): user, R/W, A/D clear.
    const std::uint64_t va2 = kData + 9 * kPage;
    fw_fault_result result{};
    ASSERT_EQ(fw_fault(mm, 0, a, va2, FW_ACCESS_WRITE, FW_FAULT_NOT_PRESENT, &result), FW_OK);
    std::uint64_t raw = 0;
    unsigned level = 9;
    ASSERT_EQ(pt_lookup(fw_mm_kernel(mm), fw_process_root(mm, a), va2, &raw, &level, nullptr),
              FW_OK);
    pte_decoded d{};
    pte_decode(&format.raw(), raw, 0, &d, nullptr);
    EXPECT_EQ(level, 0u);
    EXPECT_EQ(d.flags & (PTE_F_R | PTE_F_W | PTE_F_U | PTE_F_A | PTE_F_D),
              PTE_F_R | PTE_F_W | PTE_F_U);
    if (format.raw().id != PTE_FMT_X86_32) { // x86_32 cannot express no-execute
        EXPECT_EQ(d.flags & PTE_F_X, 0u);
    }
    // Untouched neighbours still have nothing.
    EXPECT_EQ(walk(a, kData + 6 * kPage, AccessType::Read).fault, FaultKind::NotPresent);
    EXPECT_EQ(fw_mm_frames_in_use(mm), 2u);
}

TEST_P(MmTest, EveryProtectionFaultKillsWithItsReasonAndFreesTheProcess) {
    boot();
    struct Case {
        std::uint64_t va;
        AccessType type;
        fw_fault_kind kind; // FW_FAULT_NONE: whatever the walker reports
        fw_kill_reason reason;
    };
    const Case cases[] = {
        {kData + 100 * kPage, AccessType::Read, FW_FAULT_NONE, FW_KILL_NO_VMA},
        {kData + 4 * kPage, AccessType::Write, FW_FAULT_NONE, FW_KILL_WRITE_RO},
        // Untouched page: x86_32 has no NX, so a present page would let the fetch through.
        {kData + 2 * kPage, AccessType::Execute, FW_FAULT_NONE, FW_KILL_EXEC_NX},
        {kData + 8 * kPage, AccessType::Read, FW_FAULT_NONE, FW_KILL_READ_NR},
        {kStack - 8, AccessType::Write, FW_FAULT_NONE, FW_KILL_GUARD_PAGE},
        {kData, AccessType::Read, FW_FAULT_RESERVED_BITS, FW_KILL_BAD_PTE},
    };
    const int bystander = create(1);
    ASSERT_EQ(fw_vma_map(mm, bystander, kData, kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1),
              FW_OK);
    write64(bystander, kData, 42);
    for (const Case& c : cases) {
        SCOPED_TRACE(c.reason);
        const int p = create();
        ASSERT_EQ(fw_vma_map(mm, p, kData, 4 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1),
                  FW_OK);
        ASSERT_EQ(fw_vma_map(mm, p, kData + 4 * kPage, 4 * kPage, FW_PROT_R, FW_VMA_ANON, -1),
                  FW_OK);
        ASSERT_EQ(fw_vma_map(mm, p, kData + 8 * kPage, kPage, FW_PROT_X, FW_VMA_ANON, -1), FW_OK);
        ASSERT_EQ(fw_vma_map(mm, p, kStack, 4 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_STACK, -1),
                  FW_OK);
        write64(p, kData, 1);
        write64(p, kStack, 2);
        kill_reason = FW_KILL_NONE;
        if (c.kind == FW_FAULT_NONE) {
            EXPECT_EQ(access(p, c.va, c.type), FW_FAULT_CLASS_PROTECTION);
        } else {
            fw_fault_result result{};
            ASSERT_EQ(fw_fault(mm, 0, p, c.va, static_cast<fw_access>(c.type), c.kind, &result),
                      FW_OK);
            EXPECT_EQ(result.cls, FW_FAULT_CLASS_PROTECTION);
            kill_reason = result.reason;
        }
        EXPECT_EQ(kill_reason, c.reason);
        EXPECT_EQ(fw_process_killed(mm, p), c.reason);
        EXPECT_EQ(fw_process_stats(mm, p)->faults[FW_FAULT_CLASS_PROTECTION], 1u);
        EXPECT_EQ(fw_process_root(mm, p), 0u); // gone, like exit
        EXPECT_EQ(fw_vma_map(mm, p, kData, kPage, FW_PROT_R, FW_VMA_ANON, -1), FW_ERR_INVAL);
        EXPECT_EQ(fw_mm_frames_in_use(mm), 1u); // only the bystander's page
        EXPECT_EQ(read64(bystander, kData), 42u);
    }
    ASSERT_EQ(fw_process_exit(mm, bystander), FW_OK);
    expectAllReturned();
}

TEST_P(MmTest, StackWorksDownToItsStartAndTheGuardPageKills) {
    boot();
    const int p = create();
    ASSERT_EQ(fw_vma_map(mm, p, kStack, 4 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_STACK, -1), FW_OK);
    for (std::uint64_t va = kStack + 4 * kPage - 8; va >= kStack; va -= kPage)
        EXPECT_EQ(write64(p, va, va), FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(write64(p, kStack, 1), FW_FAULT_CLASS_NONE);
    EXPECT_EQ(access(p, kStack - kPage, AccessType::Read), FW_FAULT_CLASS_PROTECTION);
    EXPECT_EQ(kill_reason, FW_KILL_GUARD_PAGE);
    expectAllReturned();
}

TEST_P(MmTest, CowForkSharesThenCopiesOnlyTheWrittenPage) {
    boot();
    const int a = create();
    ASSERT_EQ(fw_switch_to(mm, 0, a), FW_OK);
    ASSERT_EQ(fw_vma_map(mm, a, kData, 4 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1), FW_OK);
    for (std::uint64_t i = 0; i < 4; ++i)
        write64(a, kData + i * kPage, 0xA000 + i);
    const std::uint64_t ro_frames = fw_mm_frames_in_use(mm);

    hal().invalidations.clear();
    hal().cycles = 0;
    int b = 0;
    ASSERT_EQ(fw_process_fork(mm, a, 1, &b), FW_OK);
    EXPECT_GE(hal().cycles, kFork);
    // The parent's writable entries became read-only: its ASID was flushed on this core.
    ASSERT_FALSE(hal().invalidations.empty());
    EXPECT_EQ(hal().invalidations.back().kind, HAL_FLUSH_ASID);
    EXPECT_EQ(hal().invalidations.back().asid, fw_process_asid(mm, a, 0));
    EXPECT_EQ(fw_mm_frames_in_use(mm), ro_frames); // nothing copied at fork
    EXPECT_EQ(fw_process_stats(mm, b)->frames_in_use, 4u);
    // Both read what was written before the fork, from the same frames.
    for (std::uint64_t i = 0; i < 4; ++i) {
        EXPECT_EQ(read64(b, kData + i * kPage), 0xA000 + i);
        EXPECT_EQ(frameOf(a, kData + i * kPage), frameOf(b, kData + i * kPage));
        EXPECT_EQ(frame_refcount(frames, frameOf(a, kData + i * kPage)), 2u);
    }
    EXPECT_EQ(walk(a, kData, AccessType::Write).fault, FaultKind::Permission);

    // N sharers, refcount N.
    int c = 0;
    ASSERT_EQ(fw_process_fork(mm, b, 1, &c), FW_OK);
    EXPECT_EQ(frame_refcount(frames, frameOf(a, kData + 3 * kPage)), 3u);

    // A write by the child copies that page only.
    EXPECT_EQ(write64(b, kData, 0xB000), FW_FAULT_CLASS_COW);
    EXPECT_EQ(fw_process_stats(mm, b)->pages_copied, 1u);
    EXPECT_EQ(fw_process_stats(mm, b)->faults[FW_FAULT_CLASS_COW], 1u);
    EXPECT_EQ(fw_mm_frames_in_use(mm), ro_frames + 1);
    EXPECT_EQ(read64(a, kData), 0xA000u);
    EXPECT_EQ(read64(c, kData), 0xA000u);
    EXPECT_EQ(read64(b, kData), 0xB000u);
    EXPECT_EQ(frame_refcount(frames, frameOf(a, kData)), 2u); // a and c
    // A write by the parent after the fork is private too.
    EXPECT_EQ(write64(a, kData + kPage, 0xA111), FW_FAULT_CLASS_COW);
    EXPECT_EQ(fw_process_stats(mm, a)->pages_copied, 1u);
    EXPECT_EQ(read64(b, kData + kPage), 0xA001u);
    EXPECT_EQ(read64(c, kData + kPage), 0xA001u);
    // The last sharer of a page writes it without a copy.
    ASSERT_EQ(fw_process_exit(mm, c), FW_OK);
    EXPECT_EQ(write64(a, kData, 0xA222), FW_FAULT_CLASS_COW); // refcount 1 now
    EXPECT_EQ(fw_process_stats(mm, a)->pages_copied, 1u);
    EXPECT_EQ(read64(b, kData), 0xB000u);
    // Untouched pages are still shared.
    EXPECT_EQ(frameOf(a, kData + 3 * kPage), frameOf(b, kData + 3 * kPage));

    ASSERT_EQ(fw_process_exit(mm, a), FW_OK);
    ASSERT_EQ(fw_process_exit(mm, b), FW_OK);
    expectAllReturned();
}

TEST_P(MmTest, SharedMemoryWriteSeenByTheOtherWithoutAFault) {
    boot();
    int shm = -1;
    ASSERT_EQ(fw_shm_create(mm, 4 * kPage, &shm), FW_OK);
    const int a = create(0), b = create(1);
    ASSERT_EQ(fw_vma_map(mm, a, kShm, 4 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_SHARED, shm), FW_OK);
    // Mapped elsewhere in b, and only its second half.
    ASSERT_EQ(fw_vma_map(mm, b, kData, 4 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_SHARED, shm),
              FW_OK);
    EXPECT_EQ(fw_vma_map(mm, b, kShm, 5 * kPage, FW_PROT_R, FW_VMA_SHARED, shm), FW_ERR_INVAL);

    EXPECT_EQ(write64(a, kShm + kPage + 16, 0x1234), FW_FAULT_CLASS_DEMAND_ZERO);
    fw_fault_class cls = FW_FAULT_CLASS_NONE;
    EXPECT_EQ(read64(b, kData + kPage + 16, &cls), 0x1234u); // maps a's frame
    EXPECT_EQ(cls, FW_FAULT_CLASS_DEMAND_ZERO);
    EXPECT_EQ(frameOf(a, kShm + kPage), frameOf(b, kData + kPage));
    EXPECT_EQ(frame_refcount(frames, frameOf(a, kShm + kPage)), 3u); // object + 2 mappers
    // From now on neither side faults, and each sees the other's writes.
    EXPECT_EQ(write64(b, kData + kPage + 24, 0x5678), FW_FAULT_CLASS_NONE);
    EXPECT_EQ(read64(a, kShm + kPage + 24, &cls), 0x5678u);
    EXPECT_EQ(cls, FW_FAULT_CLASS_NONE);
    EXPECT_EQ(write64(a, kShm + kPage + 16, 0x9abc), FW_FAULT_CLASS_NONE);
    EXPECT_EQ(read64(b, kData + kPage + 16, &cls), 0x9abcu);
    EXPECT_EQ(cls, FW_FAULT_CLASS_NONE);
    EXPECT_EQ(fw_mm_frames_in_use(mm), 1u);

    // A fork shares it (no COW) and the data outlives its mappers while the object lives.
    int c = 0;
    ASSERT_EQ(fw_process_fork(mm, a, 0, &c), FW_OK);
    EXPECT_EQ(write64(c, kShm + kPage, 77), FW_FAULT_CLASS_NONE);
    EXPECT_EQ(read64(b, kData + kPage), 77u);
    EXPECT_EQ(fw_shm_destroy(mm, shm), FW_ERR_BUSY);
    ASSERT_EQ(fw_process_exit(mm, a), FW_OK);
    ASSERT_EQ(fw_process_exit(mm, b), FW_OK);
    ASSERT_EQ(fw_vma_unmap(mm, c, kShm, 4 * kPage), FW_OK);
    EXPECT_EQ(fw_mm_frames_in_use(mm), 1u);
    ASSERT_EQ(fw_shm_destroy(mm, shm), FW_OK);
    ASSERT_EQ(fw_process_exit(mm, c), FW_OK);
    expectAllReturned();
}

TEST_P(MmTest, SwappingEvictsUnderTheLimitAndBringsBackEveryByte) {
    Boot b;
    b.limit = 8;
    b.swap = true;
    boot(b);
    const int p = create();
    ASSERT_EQ(fw_switch_to(mm, 0, p), FW_OK);
    constexpr std::uint64_t kPages = 32;
    ASSERT_EQ(fw_vma_map(mm, p, kData, kPages * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1),
              FW_OK);
    auto pattern = [](std::uint64_t page, std::uint64_t word) {
        return (page * 0x9E3779B97F4A7C15ull) ^ (word * 0xBF58476D1CE4E5B9ull) ^ 0x5A;
    };
    hal().invalidations.clear();
    for (std::uint64_t i = 0; i < kPages; ++i) {
        hal_paddr_t pa = 0;
        access(p, kData + i * kPage, AccessType::Write, &pa);
        for (std::uint64_t w = 0; w < kPage / 8; ++w)
            hal_write_phys(pa + w * 8, pattern(i, w), 8);
        EXPECT_LE(fw_mm_frames_in_use(mm), 8u);
    }
    const struct fw_process_stats* s = fw_process_stats(mm, p);
    EXPECT_GE(s->swap_outs, kPages - 8);
    EXPECT_EQ(hal().swap.writes, s->swap_outs);
    EXPECT_EQ(fw_mm_swap_slots_in_use(mm), s->swap_outs);
    // Evictions invalidated the page in this core's TLB under the process's ASID.
    bool saw = false;
    for (const auto& inv : hal().invalidations)
        saw |= inv.kind == HAL_FLUSH_VA_ASID && inv.asid == fw_process_asid(mm, p, 0);
    EXPECT_TRUE(saw);

    // Read everything back, twice round: every byte survives every round trip.
    for (int round = 0; round < 2; ++round) {
        for (std::uint64_t i = 0; i < kPages; ++i) {
            hal_paddr_t pa = 0;
            access(p, kData + i * kPage, AccessType::Read, &pa);
            for (std::uint64_t w = 0; w < kPage / 8; ++w)
                ASSERT_EQ(hal_read_phys(pa + w * 8, 8), pattern(i, w)) << i << " " << w;
        }
    }
    EXPECT_GT(s->swap_ins, 0u);
    EXPECT_EQ(s->faults[FW_FAULT_CLASS_SWAP_IN], s->swap_ins);
    EXPECT_EQ(hal().swap.reads, s->swap_ins);
    EXPECT_LE(s->frames_peak, 8u);
    EXPECT_EQ(hal().swap.errors, 0u);
    ASSERT_EQ(fw_process_exit(mm, p), FW_OK);
    expectAllReturned();
}

TEST_P(MmTest, SwappedPagesSurviveForkAndCowSharedPagesAreNotEvicted) {
    Boot b;
    b.limit = 8;
    b.swap = true;
    boot(b);
    const int p = create();
    ASSERT_EQ(fw_vma_map(mm, p, kData, 12 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1), FW_OK);
    for (std::uint64_t i = 0; i < 12; ++i)
        write64(p, kData + i * kPage, 0xC000 + i);
    // Leave room: drop the resident pages among the last four.
    ASSERT_EQ(fw_vma_unmap(mm, p, kData + 8 * kPage, 4 * kPage), FW_OK);
    ASSERT_GT(fw_mm_swap_slots_in_use(mm), 0u);
    ASSERT_LT(fw_mm_frames_in_use(mm), 8u);
    int c = 0;
    ASSERT_EQ(fw_process_fork(mm, p, 0, &c), FW_OK); // copies the swapped pages' slots
    for (std::uint64_t i = 0; i < 8; ++i) {
        EXPECT_EQ(read64(c, kData + i * kPage), 0xC000 + i);
        EXPECT_EQ(read64(p, kData + i * kPage), 0xC000 + i);
    }
    for (std::uint64_t i = 0; i < 8; ++i)
        write64(c, kData + i * kPage, 0xD000 + i);
    for (std::uint64_t i = 0; i < 8; ++i) {
        EXPECT_EQ(read64(p, kData + i * kPage), 0xC000 + i);
        EXPECT_EQ(read64(c, kData + i * kPage), 0xD000 + i);
    }
    ASSERT_EQ(fw_process_exit(mm, c), FW_OK);
    // Only refcount-1 frames are evicted: with every resident frame COW-shared there is no
    // victim, and the next page needed kills the process that needs it.
    int d = 0;
    ASSERT_EQ(fw_vma_map(mm, p, kData + 8 * kPage, kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1),
              FW_OK);
    for (std::uint64_t i = 0; i < 9; ++i) // p resident on 8 pages, limit reached
        read64(p, kData + i * kPage);
    ASSERT_EQ(fw_process_fork(mm, p, 0, &d), FW_OK);
    EXPECT_EQ(fw_mm_frames_in_use(mm), 8u);
    EXPECT_EQ(write64(d, kData, 1), FW_FAULT_CLASS_PROTECTION);
    EXPECT_EQ(kill_reason, FW_KILL_OUT_OF_MEMORY);
    ASSERT_EQ(fw_process_exit(mm, p), FW_OK);
    expectAllReturned();
}

TEST_P(MmTest, AsidsRecycledLeastRecentlyUsedWithAFlush) {
    Boot b;
    b.asid_bits = 2; // ASIDs 1..3
    boot(b);
    std::vector<int> pids;
    for (int i = 0; i < 5; ++i)
        pids.push_back(create());
    hal().cycles = 0;
    unsigned switches = 0;
    for (int round = 0; round < 3; ++round) {
        for (int pid : pids) {
            hal().invalidations.clear();
            ASSERT_EQ(fw_switch_to(mm, 0, pid), FW_OK);
            ++switches;
            const std::uint16_t asid = fw_process_asid(mm, pid, 0);
            EXPECT_GE(asid, 1u);
            EXPECT_LE(asid, 3u);
            EXPECT_EQ(hal().root, fw_process_root(mm, pid));
            EXPECT_EQ(hal().root_asid, asid);
            // The first three ASIDs were never used: no flush. After that each switch (round
            // robin over 5 > 3) robs the least recently used holder and flushes its ASID.
            if (switches <= 3) {
                EXPECT_TRUE(hal().invalidations.empty());
            } else {
                ASSERT_EQ(hal().invalidations.size(), 1u);
                EXPECT_EQ(hal().invalidations[0].kind, HAL_FLUSH_ASID);
                EXPECT_EQ(hal().invalidations[0].asid, asid);
            }
            // No two live processes hold the same ASID on a core (no homonyms in the TLB).
            std::set<std::uint16_t> held;
            unsigned holders = 0;
            for (int q : pids)
                if (fw_process_asid(mm, q, 0) != 0) {
                    held.insert(fw_process_asid(mm, q, 0));
                    ++holders;
                }
            EXPECT_EQ(held.size(), holders);
        }
    }
    EXPECT_EQ(hal().cycles, switches * kSwitch);
    std::uint64_t flushes = 0, ctx = 0;
    for (int pid : pids) {
        flushes += fw_process_stats(mm, pid)->tlb_flushes;
        ctx += fw_process_stats(mm, pid)->context_switches;
    }
    EXPECT_EQ(flushes, switches - 3);
    EXPECT_EQ(ctx, switches);
    // Switching back to a holder costs no flush; ASIDs are per core.
    hal().invalidations.clear();
    ASSERT_EQ(fw_switch_to(mm, 0, pids.back()), FW_OK);
    EXPECT_TRUE(hal().invalidations.empty());
    ASSERT_EQ(fw_switch_to(mm, 1, pids.front()), FW_OK);
    EXPECT_EQ(fw_process_asid(mm, pids.front(), 1), 1u);
}

TEST_P(MmTest, WithoutAsidsEverySwitchFlushesTheWholeTlb) {
    Boot b;
    b.asid_bits = 0;
    boot(b);
    const int a = create(), c = create();
    for (int i = 0; i < 4; ++i) {
        const int pid = i % 2 ? c : a;
        hal().invalidations.clear();
        ASSERT_EQ(fw_switch_to(mm, 0, pid), FW_OK);
        ASSERT_EQ(hal().invalidations.size(), 1u);
        EXPECT_EQ(hal().invalidations[0].kind, HAL_FLUSH_ALL);
        EXPECT_EQ(hal().root, fw_process_root(mm, pid));
        EXPECT_EQ(hal().root_asid, 0u);
    }
    EXPECT_EQ(fw_process_stats(mm, a)->tlb_flushes, 2u);
    EXPECT_EQ(fw_process_stats(mm, c)->tlb_flushes, 2u);
    EXPECT_EQ(fw_process_stats(mm, a)->context_switches, 2u);
    // Same VA, different data: each process only ever reaches its own page.
    for (int pid : {a, c})
        ASSERT_EQ(fw_vma_map(mm, pid, kData, kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1), FW_OK);
    write64(a, kData, 0xAAAA);
    write64(c, kData, 0xCCCC);
    EXPECT_EQ(read64(a, kData), 0xAAAAu);
    EXPECT_EQ(read64(c, kData), 0xCCCCu);
}

TEST_P(MmTest, SoftwareRefillWritesWhatTheHardwareWalkerWould) {
    boot();
    const int p = create();
    ASSERT_EQ(fw_switch_to(mm, 0, p), FW_OK);
    ASSERT_EQ(fw_vma_map(mm, p, kData, 4 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1), FW_OK);
    ASSERT_EQ(fw_vma_map(mm, p, kData + 8 * kPage, kPage, FW_PROT_R | FW_PROT_X, FW_VMA_ANON, -1),
              FW_OK);
    // Nothing mapped yet: the refill reports a fault, writes no entry.
    EXPECT_EQ(fw_tlb_refill(mm, 0, p, kData, FW_ACCESS_READ), FW_ERR_FAULT);
    fw_fault_result r{};
    ASSERT_EQ(fw_fault(mm, 0, p, kData, FW_ACCESS_READ, FW_FAULT_NOT_PRESENT, &r), FW_OK);
    ASSERT_EQ(fw_fault(mm, 0, p, kData + kPage, FW_ACCESS_WRITE, FW_FAULT_NOT_PRESENT, &r), FW_OK);
    ASSERT_EQ(fw_fault(mm, 0, p, kData + 8 * kPage, FW_ACCESS_EXECUTE, FW_FAULT_NOT_PRESENT, &r),
              FW_OK);
    struct Case {
        std::uint64_t va;
        fw_access access;
    };
    const Case cases[] = {{kData + 0x10, FW_ACCESS_READ},
                          {kData + kPage + 0x20, FW_ACCESS_WRITE},
                          {kData + 0x18, FW_ACCESS_WRITE}, // D was clear: set now
                          {kData + 8 * kPage, FW_ACCESS_EXECUTE},
                          {kData + 8 * kPage + 8, FW_ACCESS_READ}};
    for (const Case& c : cases) {
        hal().tlb_writes.clear();
        const std::uint64_t reads = hal().reads;
        ASSERT_EQ(fw_tlb_refill(mm, 0, p, c.va, c.access), FW_OK);
        EXPECT_GE(hal().reads - reads, format.levels()); // a timed software walk
        ASSERT_EQ(hal().tlb_writes.size(), 1u);
        const hal_tlb_entry& e = hal().tlb_writes[0];
        // The hardware walker on the same table now: same entry, and nothing left to update
        // (the refill set A/D as the walker would have).
        const WalkResult w = walk(p, c.va, static_cast<AccessType>(c.access));
        ASSERT_EQ(w.fault, FaultKind::None);
        EXPECT_EQ(w.writes, 0u);
        EXPECT_EQ(e.vpn, w.entry.vpn);
        EXPECT_EQ(e.ppn, w.entry.ppn);
        EXPECT_EQ(e.asid, w.entry.asid);
        EXPECT_EQ(e.level, w.entry.level);
        EXPECT_EQ(e.flags, w.entry.flags);
        EXPECT_EQ(e.asid, fw_process_asid(mm, p, 0));
    }
    // Accesses the PTE does not allow fault (the caller then takes fw_fault).
    if (format.raw().id != PTE_FMT_X86_32) {
        EXPECT_EQ(fw_tlb_refill(mm, 0, p, kData, FW_ACCESS_EXECUTE), FW_ERR_FAULT);
    }
    EXPECT_EQ(fw_tlb_refill(mm, 0, p, kData + 8 * kPage, FW_ACCESS_WRITE), FW_ERR_FAULT);
    EXPECT_EQ(fw_tlb_refill(mm, 0, p, kData + 2 * kPage, FW_ACCESS_READ), FW_ERR_FAULT);
}

TEST_P(MmTest, UnmapAndProtectChangeOnlyTheirRange) {
    boot();
    const int p = create();
    ASSERT_EQ(fw_switch_to(mm, 0, p), FW_OK);
    ASSERT_EQ(fw_vma_map(mm, p, kData, 8 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1), FW_OK);
    for (std::uint64_t i = 0; i < 8; ++i)
        write64(p, kData + i * kPage, i + 1);
    hal().invalidations.clear();
    ASSERT_EQ(fw_vma_unmap(mm, p, kData + 2 * kPage, 2 * kPage), FW_OK); // splits the VMA
    EXPECT_EQ(hal().invalidations.size(), 2u);
    EXPECT_EQ(fw_mm_frames_in_use(mm), 6u);
    EXPECT_EQ(access(p, kData + 2 * kPage, AccessType::Read), FW_FAULT_CLASS_PROTECTION);
    EXPECT_EQ(kill_reason, FW_KILL_NO_VMA);

    const int q = create();
    ASSERT_EQ(fw_switch_to(mm, 0, q), FW_OK);
    ASSERT_EQ(fw_vma_map(mm, q, kData, 4 * kPage, FW_PROT_R | FW_PROT_W, FW_VMA_ANON, -1), FW_OK);
    for (std::uint64_t i = 0; i < 4; ++i)
        write64(q, kData + i * kPage, 0x50 + i);
    ASSERT_EQ(fw_vma_protect(mm, q, kData + kPage, kPage, FW_PROT_R), FW_OK);
    EXPECT_EQ(walk(q, kData + kPage, AccessType::Write).fault, FaultKind::Permission);
    EXPECT_EQ(write64(q, kData + 2 * kPage, 1), FW_FAULT_CLASS_NONE);
    // No access at all, then back: the frame and its data are kept meanwhile.
    ASSERT_EQ(fw_vma_protect(mm, q, kData + 3 * kPage, kPage, 0), FW_OK);
    EXPECT_EQ(walk(q, kData + 3 * kPage, AccessType::Read).fault, FaultKind::NotPresent);
    EXPECT_EQ(fw_mm_frames_in_use(mm), 4u);
    ASSERT_EQ(fw_vma_protect(mm, q, kData + 3 * kPage, kPage, FW_PROT_R | FW_PROT_W), FW_OK);
    EXPECT_EQ(read64(q, kData + 3 * kPage), 0x53u);
    EXPECT_EQ(write64(q, kData + 1 * kPage, 1), FW_FAULT_CLASS_PROTECTION);
    EXPECT_EQ(kill_reason, FW_KILL_WRITE_RO);
    expectAllReturned();
}

} // namespace
