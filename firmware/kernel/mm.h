/* The OS memory manager (issue 3): processes, VMAs, demand paging, protection faults,
 * copy-on-write fork, shared memory, swapping, ASIDs and context switches, software TLB refill.
 * Freestanding C11; hardware only through hal.h. Builds on frames.h, pagetable.h, kernel.h.
 *
 * Conventions: functions return 0 or a negative FW_ERR_* (fw_errors.h). Processes are named by a
 * pid >= 1. Addresses and lengths passed in must be base-page aligned (FW_ERR_INVAL otherwise).
 * All data structures live in struct fw_mm (fixed-size tables, no allocator). */
#ifndef TLMMU_MM_H
#define TLMMU_MM_H

#include <stdint.h>

#include "kernel/kernel.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FW_MAX_PROCESSES 64
#define FW_MAX_VMAS 32 /* per process, guard VMAs included */
#define FW_MAX_SHM 16
#define FW_MAX_CORES 64
#define FW_SHM_MAX_PAGES 256 /* pages per shared-memory object */

enum fw_prot { FW_PROT_R = 1, FW_PROT_W = 2, FW_PROT_X = 4 };

enum fw_vma_kind {
    FW_VMA_ANON,   /* private, zero-filled on first touch, copied on write after fork */
    FW_VMA_SHARED, /* frames of a shared-memory object (shm_id), writable by all mappers */
    FW_VMA_STACK,  /* like ANON, plus one guard page (no permissions) right below start */
};

/* Swap device registers (MMIO through hal_write_phys/hal_read_phys at swap_mmio + offset).
 * Writing COMMAND performs the transfer before the write returns (the write's time includes the
 * device latency): WRITE copies `LENGTH` bytes at FRAME to slot SLOT, READ the other way. */
#define SWAP_REG_SLOT 0x00
#define SWAP_REG_FRAME 0x08
#define SWAP_REG_LENGTH 0x10
#define SWAP_REG_COMMAND 0x18 /* 1 = write frame to slot (swap out), 2 = read slot to frame */
#define SWAP_REG_STATUS 0x20  /* 0 = ok, else error */
#define SWAP_CMD_WRITE 1
#define SWAP_CMD_READ 2

enum fw_fault_class {
    FW_FAULT_CLASS_NONE,
    FW_FAULT_CLASS_DEMAND_ZERO, /* first touch of an anonymous or shared page */
    FW_FAULT_CLASS_COW,         /* write to a copy-on-write page (copied, or made writable) */
    FW_FAULT_CLASS_SWAP_IN,     /* major fault: page read back from swap */
    FW_FAULT_CLASS_SPURIOUS,    /* already fixed (e.g. by another core); retried as is */
    FW_FAULT_CLASS_PROTECTION,  /* illegal: the process is killed */
};

/* Why a process was killed (FW_FAULT_CLASS_PROTECTION). */
enum fw_kill_reason {
    FW_KILL_NONE,
    FW_KILL_NO_VMA,       /* address outside every VMA */
    FW_KILL_GUARD_PAGE,   /* touch of a guard page */
    FW_KILL_WRITE_RO,     /* write to a read-only mapping */
    FW_KILL_EXEC_NX,      /* instruction fetch from a non-executable mapping */
    FW_KILL_READ_NR,      /* read of a mapping without R */
    FW_KILL_BAD_PTE,      /* reserved bits / misaligned superpage / bus error / non-canonical */
    FW_KILL_OUT_OF_MEMORY /* no frame and nothing to evict */
};

struct fw_fault_result {
    enum fw_fault_class cls;
    enum fw_kill_reason reason;
};

struct fw_process_stats {
    uint64_t faults[6]; /* by enum fw_fault_class */
    uint64_t pages_copied;
    uint64_t swap_outs; /* pages of this process written to swap */
    uint64_t swap_ins;
    uint64_t frames_in_use; /* data frames mapped by this process (shared ones counted too) */
    uint64_t frames_peak;
    uint64_t context_switches; /* times switched to */
    uint64_t tlb_flushes;      /* full or ASID flushes done for it */
    uint64_t fault_cycles;     /* not kept by the firmware: the host fills it */
};

/* Reverse map, one per frame of the allocator (caller memory, see fw_mm_config.rmap): which
 * process maps a private data frame at which VA, so that the clock algorithm can find the PTE
 * of a frame it picks. A frame shared by fork sits at the same VA in every sharer, so va stays
 * right; pid becomes -1 (found again by a walk of each process) when the recorded owner lets go
 * of a frame that others still map. */
struct fw_frame_rmap {
    uint64_t va;
    int32_t pid;    /* owner of a private frame; -1 unknown (one of the fork sharers); 0 none */
    uint32_t flags; /* internal: private data / shared-memory data / neither */
};

struct fw_mm_config {
    struct fw_kernel_config kernel; /* format, frames, page_level (0 only for now), costs */
    unsigned asid_bits;             /* 0: no ASIDs, the TLB is flushed at every switch */
    unsigned cores;
    uint32_t memory_limit_frames; /* 0 = none; else data frames in use never exceed it */
    hal_paddr_t swap_mmio;        /* swap device register base; 0 = no swap device */
    uint64_t swap_slots;
    uint64_t switch_cycles;     /* bookkeeping cost of a context switch */
    uint64_t fork_cycles;       /* bookkeeping cost of a fork, plus page-table work */
    struct fw_frame_rmap* rmap; /* kernel.frame_count entries of caller memory (any content) */
};

struct fw_mm; /* defined in mm.c; callers allocate fw_mm_size() bytes, 8-byte aligned */

/* Size of struct fw_mm, for callers that allocate it (it is large: fixed tables). */
uint64_t fw_mm_size(void);
/* swap_slot_bitmap: (swap_slots + 63) / 64 words of caller memory for the slot bitmap (cleared
 * here), NULL when swap_mmio is 0. config->rmap is required. kernel.page_level must be 0
 * (FW_ERR_UNSUPPORTED otherwise: superpages are not managed yet). With a swap device one frame is
 * reserved at init as the bounce buffer that copies a swapped-out page's slot at fork. */
int fw_mm_init(struct fw_mm* mm, const struct fw_mm_config* config, uint64_t* swap_slot_bitmap);

int fw_process_create(struct fw_mm* mm, unsigned core, int* pid);
/* COW fork: the child gets a copy of the parent's VMAs and page tables with every private
 * writable page read-only in both (frame refcounts +1); shared VMAs stay shared. */
int fw_process_fork(struct fw_mm* mm, int parent, unsigned child_core, int* child);
/* Frees every frame (refcount -1), table, swap slot and the ASID. */
int fw_process_exit(struct fw_mm* mm, int pid);

/* W and X together -> FW_ERR_WX; overlap with an existing VMA (guard included) ->
 * FW_ERR_OVERLAP; shm_id is used by FW_VMA_SHARED only (len <= the object's size). */
int fw_vma_map(struct fw_mm* mm, int pid, uint64_t start, uint64_t len, unsigned prot,
               enum fw_vma_kind kind, int shm_id);
/* Unmaps [start, start+len) (may split VMAs), frees the pages, invalidates the local TLB. */
int fw_vma_unmap(struct fw_mm* mm, int pid, uint64_t start, uint64_t len);
/* W and X together -> FW_ERR_WX. Updates the PTEs and invalidates the local TLB. */
int fw_vma_protect(struct fw_mm* mm, int pid, uint64_t start, uint64_t len, unsigned prot);
/* len: at most FW_SHM_MAX_PAGES pages. Frames are allocated on first touch; each frame's
 * refcount is one for the object plus one per process that maps it, so the contents live as long
 * as the object does, mapped or not. */
int fw_shm_create(struct fw_mm* mm, uint64_t len, int* shm_id);
/* Frees the object's frames that no process maps; FW_ERR_BUSY while a VMA still maps it. */
int fw_shm_destroy(struct fw_mm* mm, int shm_id);

/* Makes pid the running process of `core`: allocates or recycles an ASID (flushing the
 * recycled ASID's entries), writes the root with hal_set_root, and with asid_bits == 0 flushes
 * the whole TLB. */
int fw_switch_to(struct fw_mm* mm, unsigned core, int pid);

/* The translation-fault handler for the process running on `core`. Returns 0 with result->cls
 * telling what was done (the access is retried), or with cls PROTECTION and the process killed
 * (its frames freed; the host stops running it). */
int fw_fault(struct fw_mm* mm, unsigned core, int pid, uint64_t va, enum fw_access access,
             enum fw_fault_kind kind, struct fw_fault_result* result);

/* Software-managed TLB refill: walks pid's table in software (hal_read_phys) and writes the
 * entry with hal_tlb_write. Returns 0, or FW_ERR_FAULT when the walk finds no valid
 * translation allowing the access (the caller then takes fw_fault). */
int fw_tlb_refill(struct fw_mm* mm, unsigned core, int pid, uint64_t va, enum fw_access access);

/* Stats of a live process, or of an exited / killed one until its pid is reused; NULL for a
 * pid never created. */
const struct fw_process_stats* fw_process_stats(const struct fw_mm* mm, int pid);
/* Why pid was killed (FW_KILL_NONE if it was not). */
enum fw_kill_reason fw_process_killed(const struct fw_mm* mm, int pid);
/* Root table of a live process (0 otherwise), and its ASID on `core` (0: none held there). */
hal_paddr_t fw_process_root(const struct fw_mm* mm, int pid);
uint16_t fw_process_asid(const struct fw_mm* mm, int pid, unsigned core);
/* The kernel inside (frame allocator, format), for inspection by the host and tests. */
struct fw_kernel* fw_mm_kernel(struct fw_mm* mm);
uint64_t fw_mm_swap_slots_in_use(const struct fw_mm* mm);
uint64_t fw_mm_tables_in_use(const struct fw_mm* mm); /* page-table pages of all processes */
uint64_t fw_mm_frames_in_use(const struct fw_mm* mm); /* data frames */

#ifdef __cplusplus
}
#endif

#endif
