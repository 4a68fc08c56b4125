/* The firmware's memory manager: the one OS kernel of every run (with or without a scenario).
 * Freestanding C11; hardware only through hal.h. Shaped like Linux's mm:
 *
 *   struct fw_kernel  the whole firmware state (frame allocator, page-table format, address
 *                     spaces, tasks, ASIDs per core, swap, shared memory, statistics);
 *   struct fw_mm      one address space (mm_struct): root table, VMAs, ASID per core, cpu_mask
 *                     (bit c: core c may cache its translations), the tasks using it, its stats;
 *   struct fw_task    a schedulable task (thread): tid, its mm, its core.
 *
 * A pid (>= 1) names an address space (process), a tid (>= 1) names a task. A process has
 * 1..n tasks sharing its mm; the last task to exit releases the mm. Pids and tids are slots of
 * fixed tables, handed out round robin, so that a dead process's statistics stay readable until
 * its pid is reused.
 *
 * Sources (firmware/kernel/): pagetable.c (every page-table walk, map, lookup, split, table
 * free), frames.c (frame allocator), memory.c (fault handlers, prefault), mmap.c (VMAs, unmap,
 * discard), mprotect.c, fork.c (fork, exit), rmap.c (reverse map), vmscan.c (clock reclaim),
 * swapfile.c (slots and the swap device), shmem.c, tlb.c (the one TLB-maintenance entry point
 * and the mmu_gather), refill.c (software TLB refill), sched.c (context switch, ASIDs),
 * errors.c (error and kill-reason strings), init.c (init and inspection), smp.c (the
 * address-space lock, the TLB shootdown protocol and the interrupt handler). Private
 * declarations: kernel/internal.h.
 *
 * SMP (fw_kernel_config.ipi_mmio, cores > 1): every operation that changes an address space's
 * page tables (map, unmap, protect, discard, fault, fork of the parent, exit of the last task,
 * swap-out of one of its pages) holds that address space's lock, a word in kernel memory taken
 * with hal_atomic_cas (spinning with hal_relax, interrupts enabled, so that a waiting core keeps
 * servicing shootdowns). A change that removes or narrows a translation other cores may cache
 * is flushed locally and on every other core of the mm's cpu_mask by the configured mechanism;
 * with IPIs the initiator writes a request, sets the target's pending bit, sends one IPI to all
 * targets and waits for every ack (resending after ack_timeout_cycles) before the frames and
 * tables are freed and the lock is released. Targets service requests in fw_interrupt.
 *
 * Conventions: functions return 0 (FW_OK) or a negative FW_ERR_* of fw_errors.h (fw_strerror
 * gives its words). `core` is always the core that runs the firmware call (the one whose TLB a
 * local flush reaches); other cores are reached with hal_tlb_invalidate_core (in SMP mode: by the
 * shootdown protocol, see below and smp.c). Every range must be
 * aligned to the base page (and, for fw_vma_map, to the VMA's page size), non-empty, canonical
 * and not wrap. The kernel has no allocator: fixed tables (FW_MAX_*) plus caller memory passed at
 * init. All page-table reads/writes are hal_read_phys / hal_write_phys of the format's PTE size.
 *
 * Superpages: a VMA with page_level L > 0 maps, on a demand fault (or prefault), one leaf at
 * level L covering the huge page around the address (no table below it), taken from
 * frames_alloc_block and zeroed by ONE hal_zero_frame of the whole size, provided the huge page
 * lies entirely inside the VMA, its slot is empty (no table below it) and the memory limit
 * allows it; otherwise the fault maps a base page (a "fallback", counted). A huge leaf is split
 * into leaves one level down (recursively, as far as needed) when an unmap, protect, discard,
 * COW write or swap-out touches part of it; the split table carries the same flags (A/D kept)
 * and the change is flushed like any other translation change. The clock reclaim evicts base
 * pages only: a huge page it picks with A clear is split first (with A set it gets its second
 * chance whole). Shared-memory VMAs are base pages only. */
#ifndef TLMMU_MM_H
#define TLMMU_MM_H

#include <stdint.h>

#include "arch/pte_format.h"
#include "hal.h"
#include "kernel/frames.h"
#include "kernel/fw_errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- fixed limits (FW_ERR_LIMIT when one is reached) ----------------------------------------- */
#define FW_MAX_PROCESSES 64          /* live address spaces (pids 1..64) */
#define FW_MAX_TASKS 128             /* live tasks (tids 1..128) */
#define FW_MAX_VMAS 128              /* per address space, guard VMAs included */
#define FW_MAX_SHM 16                /* shared-memory objects (ids 0..15) */
#define FW_MAX_CORES 64              /* cores (cpu_mask is one uint64_t) */
#define FW_SHM_MAX_PAGES 256         /* base pages per shared-memory object */
#define FW_MAX_LEVELS PTE_MAX_LEVELS /* size of the per-level statistics arrays */
/* A range flush of more pages than this flushes the whole ASID (or the whole TLB without
 * ASIDs) instead (Linux's tlb_single_page_flush_ceiling); fw_kernel_config.flush_ceiling_pages
 * overrides it. */
#define FW_FLUSH_CEILING_PAGES 33

/* ---- enums shared with the simulator ----------------------------------------------------------
 * Same order and values as tlmmu::AccessType and tlmmu::FaultKind (models/common/Types.h), so
 * the simulator converts with a plain cast. */
enum fw_access { FW_ACCESS_READ, FW_ACCESS_WRITE, FW_ACCESS_EXECUTE };
enum fw_fault_kind {
    FW_FAULT_NONE,
    FW_FAULT_NOT_PRESENT,
    FW_FAULT_PERMISSION,
    FW_FAULT_RESERVED_BITS,
    FW_FAULT_MISALIGNED_SUPERPAGE,
    FW_FAULT_BUS_ERROR,
    FW_FAULT_NON_CANONICAL,
};

enum fw_prot { FW_PROT_R = 1, FW_PROT_W = 2, FW_PROT_X = 4 };

enum fw_vma_kind {
    FW_VMA_ANON,     /* private, zero-filled on first touch, copied on write after fork */
    FW_VMA_SHARED,   /* frames of a shared-memory object (shm_id), base pages only */
    FW_VMA_STACK,    /* like ANON, plus one guard page (of the VMA's page size, no rights)
                      * right below start: any touch of it kills */
    FW_VMA_IMPLICIT, /* the one region of a run without a scenario: private anonymous, and the
                      * only kind that may be writable and executable at once (a trace has no
                      * sections) */
};

enum fw_fault_class {
    FW_FAULT_CLASS_NONE,
    FW_FAULT_CLASS_DEMAND_ZERO, /* first touch of an anonymous or shared page */
    FW_FAULT_CLASS_COW,         /* write to a copy-on-write page (copied, or made writable) */
    FW_FAULT_CLASS_SWAP_IN,     /* major fault: page read back from swap */
    FW_FAULT_CLASS_SPURIOUS,    /* already fixed (e.g. by another core); retried as is */
    FW_FAULT_CLASS_PROTECTION,  /* illegal: the process is killed */
    FW_FAULT_CLASSES
};

/* Why a process was killed (FW_FAULT_CLASS_PROTECTION). fw_kill_reason_str gives words. */
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
    unsigned level; /* level of the leaf the fault mapped or fixed (0 = base page) */
    /* cls PROTECTION: 0 when this fault killed the process (reason: why), 1 when the process
     * had been killed already by another of its tasks (reason: that kill's) and this task only
     * ended with it. */
    int group_exit;
};

/* ---- statistics ------------------------------------------------------------------------------
 * "Leaves" are PTEs that hold a data frame (present, or parked PROT_NONE); a leaf at level l
 * maps 2^(l * index_bits) base frames. */
struct fw_process_stats {
    uint64_t faults[FW_FAULT_CLASSES];              /* by enum fw_fault_class */
    uint64_t demand_faults_by_level[FW_MAX_LEVELS]; /* demand-zero faults by the level mapped */
    uint64_t leaves_by_level[FW_MAX_LEVELS];        /* leaves mapped now, by level */
    uint64_t splits;                                /* huge leaves split into next-level leaves */
    uint64_t huge_fallbacks; /* faults in a huge VMA that mapped a base page instead */
    uint64_t pages_copied;   /* COW copies (base pages) */
    uint64_t swap_outs;      /* pages of this process written to swap */
    uint64_t swap_ins;
    uint64_t frames_in_use; /* data frames mapped by this process (shared ones counted too) */
    uint64_t frames_peak;
    uint64_t context_switches; /* times one of its tasks was switched to */
    uint64_t tlb_flushes;      /* whole-ASID / whole-TLB flushes done for it */
    uint64_t fault_cycles;     /* not kept by the firmware: the host fills it */
};

/* One core's part in TLB shootdowns (as initiator: shootdowns .. resends, lock_spins; as
 * target: interrupts, handled). A "shootdown" is a flush that reaches at least one other core
 * (local-only flushes are not counted here). */
struct fw_shootdown_stats {
    uint64_t shootdowns;   /* flushes that reached other cores (IPI, directed or broadcast) */
    uint64_t pages;        /* base-stride pages of those flushes (0 for a full one) */
    uint64_t full_flushes; /* of them, whole-mm / above-ceiling flushes */
    uint64_t targets;      /* target cores, summed over shootdowns */
    uint64_t ipis_sent;    /* IPI sends x target cores (resends included) */
    uint64_t ack_timeouts; /* targets that did not ack within ack_timeout_cycles */
    uint64_t resends;      /* IPI sends repeated after a timeout (one per SEND write) */
    uint64_t lazy_skips;   /* lazy_tlb: cores not interrupted, marked stale instead */
    uint64_t lazy_flushes; /* lazy_tlb: stale ASIDs flushed at switch-in */
    uint64_t wait_cycles;  /* initiator: cycles from the IPI send to the last ack (broadcast:
                            * spent in hal_tlb_sync) */
    uint64_t lock_spins;   /* failed lock CAS attempts (each followed by a relax step) */
    uint64_t interrupts;   /* fw_interrupt calls (IPIs taken) */
    uint64_t handled;      /* shootdown requests serviced as a target */
    uint64_t broadcasts;   /* hal_tlb_invalidate_broadcast calls (shootdowns, ASID recycling) */
};

/* Where a core's firmware time goes (cycles of hal_now_cycles, each span charged to the phase
 * the core was in, nested phases taken out of the one around them, so the phases of a core sum
 * to its time in fw_syscall, fw_fault and fw_interrupt). Reading the clock costs nothing: the
 * model's timing is the same with or without these. */
struct fw_time_stats {
    uint64_t syscall;     /* fw_syscall's own: entry, dispatch, exit (the call's work aside) */
    uint64_t zap;         /* a discard's work: mmap_lock, VMA lookup, PTEs cleared, frames freed */
    uint64_t flush_setup; /* a flush's set-up: its cost, choosing the targets */
    uint64_t flush_local; /* the initiator's own invalidations */
    uint64_t ipi_request; /* the request slot and each target's pending bit */
    uint64_t ipi_send;    /* the ICR writes (cost) and the IPI controller's registers */
    uint64_t ack_wait;    /* the initiator waiting for the acknowledgements */
    uint64_t fault;       /* fw_fault's own (zeroing aside) */
    uint64_t zero;        /* zeroing new pages in faults */
    uint64_t irq;         /* fw_interrupt: entry, dispatch, the targets' flushes, exit */
};

struct fw_kernel_stats {
    uint64_t faults[FW_FAULT_CLASSES];
    uint64_t demand_faults; /* sum of demand_faults_by_level */
    uint64_t demand_faults_by_level[FW_MAX_LEVELS];
    uint64_t leaves_by_level[FW_MAX_LEVELS];
    uint64_t frames_mapped;  /* data frames ever mapped by demand-zero faults and prefaults (and
                              * by writes to the zero page) */
    uint64_t zero_page_maps; /* zero_page: read faults that mapped the shared zero page */
    uint64_t zero_page_cows; /* zero_page: write faults on it (a zeroed frame each; cls COW) */
    uint64_t splits;
    uint64_t huge_fallbacks;
    uint64_t tables_in_use; /* page-table pages of all address spaces, roots included */
    uint64_t data_frames;   /* data frames allocated now (private, shared, shm objects) */
    uint64_t data_frames_peak;
    uint64_t swap_slots_in_use;
    uint64_t swap_outs;
    uint64_t swap_ins;
    uint64_t flush_pages;  /* by-VA invalidations issued (local and remote) */
    uint64_t flush_full;   /* whole-ASID or whole-TLB invalidations issued (local and remote) */
    uint64_t flush_remote; /* hal_tlb_invalidate_core calls */
    /* pti: whole-user-ASID flushes at a return to user space (marked by flushes since the last
     * one, or every return without ASIDs); also counted in flush_full */
    uint64_t pti_user_flushes;
    /* Group exit (fork.c): processes killed, and reschedule IPIs sent (x targets) to cores that
     * ran one of their other tasks at the kill. */
    uint64_t kills;
    uint64_t kill_ipis;
    /* Reclaim (vmscan.c, memory.c): allocations that waited for an address space being torn
     * down, and faults that backed off (lock released) and started again because the pages
     * they could evict were locked by other cores. */
    uint64_t reclaim_waits;
    uint64_t fault_retries;
    /* Faults that began under mmap_lock for read and started again for write (more than one
     * PTE to change), and gathers that found another under way and flushed the whole address
     * space (tlb.c). */
    uint64_t fault_upgrades;
    uint64_t nested_flushes;
    /* Waits for a lock another core held (smp.c), by lock. */
    struct {
        uint64_t mmap_read, mmap_write, ptl, zone, lru, swap;
    } lock_waits;
    /* The shootdown protocol (smp.c): totals, and per core (by the core that did it). */
    struct fw_shootdown_stats shootdown;
    struct fw_shootdown_stats shootdown_by_core[FW_MAX_CORES];
    /* Time per phase, per core (fw_time_stats). */
    struct fw_time_stats time_by_core[FW_MAX_CORES];
};

/* ---- configuration and init ------------------------------------------------------------------ */

/* How other cores' TLBs are reached (firmware.shootdown.mechanism). */
enum fw_shootdown_mechanism {
    FW_SHOOTDOWN_IPI,       /* IPIs (ipi_controller.h); the targets flush in fw_interrupt */
    FW_SHOOTDOWN_DIRECTED,  /* hal_tlb_invalidate_core per target (DVM-like, no target firmware) */
    FW_SHOOTDOWN_BROADCAST, /* hal_tlb_invalidate_broadcast to every core, then hal_tlb_sync
                             * (TLBI-IS / INVLPGB, no target firmware); ASIDs are global: one
                             * per mm, the same on every core */
    FW_SHOOTDOWN_MECHANISMS
};

/* Fault injection (fw_kernel_config.inject, bit mask): each one makes stale translations
 * possible, for the host's checker to catch. */
#define FW_INJECT_SKIP_ACK_WAIT 1u     /* free frames/tables without waiting for the acks */
#define FW_INJECT_SKIP_REMOTE_FLUSH 2u /* targets ack without flushing */
#define FW_INJECT_SKIP_LOCAL_FLUSH 4u  /* the initiator skips its local flush */

/* Reverse map, one per frame of the allocator (caller memory): which address space maps a
 * private data frame at which VA, so that the clock algorithm can find the PTE of a frame it
 * picks (the frames of a huge leaf each hold their own VA). A frame shared by fork sits at the
 * same VA in every sharer; pid becomes -1 (found again by a walk of each mm) when the recorded
 * owner lets go of a frame that others still map. */
struct fw_frame_rmap {
    uint64_t va;
    int32_t pid;    /* owner of a private frame; -1 unknown (one of the fork sharers); 0 none */
    uint32_t flags; /* internal: private data / shared-memory data / neither */
};

/* Cycles the kernel's own instructions cost, one field per operation, charged where the firmware
 * does it (0: free, the default). Each stands for the Linux code named beside it; the HAL's
 * memory accesses (page tables, protocol words) are timed on their own, on top. */
struct fw_costs {
    uint64_t syscall_dispatch; /* per system call after entry: the syscall table, argument checks */
    uint64_t vma_lookup;       /* per VMA lookup: a fault's (lock_vma_under_rcu / find_vma), a range
                                * call's first VMA (madvise, mprotect, munmap: vma_find) */
    uint64_t page_alloc;       /* per data allocation, a frame or a huge block (__alloc_pages) */
    uint64_t page_free;        /* per data frame or block freed at its last put (free_unref_page) */
    uint64_t rmap_add;         /* per new private mapping (folio_add_new_anon_rmap) */
    uint64_t rmap_remove;      /* per leaf unmapped (folio_remove_rmap_ptes) */
    uint64_t lru_add;          /* per new page into the LRU batch (folio_add_lru) */
    uint64_t zap_pte;          /* per leaf a zap takes (zap_pte_range's loop body) */
    uint64_t flush_setup;      /* per TLB flush (flush_tlb_mm_range: get_flush_tlb_info, cpumask) */
    uint64_t ipi_request;      /* per shootdown target: its request (csd set-up, llist_add) */
    uint64_t ipi_send;         /* per ICR write (x2APIC: one per target, or per cluster) */
    uint64_t irq_dispatch;     /* per shootdown interrupt taken: vector dispatch and
                                * flush_smp_call_function_queue */
    uint64_t pti_cr3_switch;   /* pti: per CR3 write of a kernel entry from user space or a return
                                * to it (SWITCH_TO_KERNEL_CR3 / SWITCH_TO_USER_CR3) */
};

struct fw_kernel_config {
    struct pte_format format;
    hal_paddr_t frames_base;       /* aligned to the base page size */
    uint32_t frame_count;          /* frames of 2^page_shift bytes, below 2^30 */
    uint32_t* frame_meta;          /* frame_count words of caller memory for the allocator */
    struct fw_frame_rmap* rmap;    /* frame_count entries of caller memory (any content) */
    unsigned asid_bits;            /* 0..16; 0: untagged TLB, flushed at every switch */
    unsigned cores;                /* 1..FW_MAX_CORES */
    uint32_t memory_limit_frames;  /* 0 = none; else data frames in use never exceed it */
    hal_paddr_t swap_mmio;         /* swap device registers (swap_device.h); 0 = no swap */
    uint64_t swap_slots;           /* slots of 2^page_shift bytes */
    uint64_t fault_entry_cycles;   /* trap entry + handler prologue, charged once per fault */
    uint64_t fault_exit_cycles;    /* handler epilogue + trap return */
    uint64_t switch_cycles;        /* bookkeeping cost of a context switch */
    uint64_t fork_cycles;          /* bookkeeping cost of a fork, plus its page-table work */
    uint64_t syscall_entry_cycles; /* system-call entry (fw_syscall) */
    uint64_t syscall_exit_cycles;  /* system-call exit */
    struct fw_costs cost;          /* the kernel's own work, per operation */
    unsigned flush_ceiling_pages;  /* 0 = FW_FLUSH_CEILING_PAGES */
    /* 1: frame_meta and rmap are zero already (fresh zero pages from the host): init does not
     * clear them, so that host memory follows the frames used, not the memory modelled. */
    int buffers_zeroed;
    /* ---- SMP: the address-space lock and the TLB shootdown protocol (issue 8) ----------------
     * With ipi_mmio != 0 and cores > 1 ("SMP mode") the firmware allocates its protocol memory
     * at init (kernel frames: a lock word per address space, a request slot per core, an ack
     * word per (initiator, target), a pending-initiators word per core), takes the address
     * space's lock around every operation that changes its translations, and reaches other
     * cores with `shootdown`. With ipi_mmio 0 (or one core) everything is as before: no lock,
     * remote flushes by hal_tlb_invalidate_core, and the fields below are ignored. */
    hal_paddr_t ipi_mmio;                  /* IPI controller (ipi_controller.h); 0 = none */
    enum fw_shootdown_mechanism shootdown; /* default (0): FW_SHOOTDOWN_IPI */
    uint64_t ack_timeout_cycles; /* initiator resends to a target silent this long (>= 1) */
    uint64_t relax_cycles;       /* one hal_relax step of the acknowledgement wait (>= 1) */
    uint64_t irq_entry_cycles;   /* charged at fw_interrupt entry */
    uint64_t irq_exit_cycles;    /* charged at fw_interrupt exit */
    unsigned inject;             /* FW_INJECT_* */
    int concurrent_flush; /* IPIs are sent before the local flush (it overlaps their delivery) */
    int early_ack;        /* targets ack on arrival, then flush (before returning to user code) */
    int batch;            /* one shootdown per range (0: one per page of a range) */
    int lazy_tlb;         /* cores not running the mm now are not interrupted: its ASID there is
                           * marked stale and flushed when the core next switches to it (with
                           * ASIDs only: without them no other mm's entries survive a switch) */
    /* IPIs in x2APIC cluster mode (Linux's x2apic_cluster): one ICR write reaches the targets of
     * one cluster of 16 logical CPUs (cost.ipi_send per cluster); 0: physical mode, one write a
     * target. Only the initiator's cost changes: the IPI controller delivers the same. */
    int ipi_cluster_mode;
    /* Page-table isolation (Linux's PTI, arch/x86/mm/tlb.c): each address space has a kernel
     * ASID (the ASID of fw_switch_to, fw_process_asid) and a user ASID (the same | the top bit
     * of asid_bits, as Linux's user_pcid sets X86_CR3_PTI_PCID_USER_BIT): user code runs under
     * the user one. Every kernel entry from user space (fw_syscall, fw_fault, fw_tlb_refill,
     * fw_interrupt, fw_switch_to, fw_task_exit) and every return to it (fw_return_to_user)
     * writes the root with the other ASID (cost.pti_cr3_switch each). A flush on the calling
     * core (local, or a target's in its interrupt handler) invalidates the kernel ASID now and
     * marks the user ASID, which is flushed whole at that core's next return to user space
     * (Linux's invalidate_user_asid and user_pcid_flush_mask); a flush that reaches a core
     * without its firmware (directed, broadcast: Linux's INVLPGB path) invalidates both ASIDs
     * at once. Needs asid_bits 0 (no ASIDs: every return to user flushes the TLB, as a CR3 write
     * without PCIDs does) or at least 2; halves the ASIDs of each space. */
    int pti;
    /* The shared zero page (Linux's my_zero_pfn, mm/memory.c do_anonymous_page): a read fault (not
     * an instruction fetch: code stands for file-backed text) on a never-touched base page of a
     * private VMA maps one frame, zeroed at init, read-only (no reference, reverse map,
     * memory-limit charge or leaf count; not in data_frames nor a process's frames_in_use); a write
     * to it later allocates and zeroes a frame of its own and replaces the PTE (flushed as a COW
     * copy is). Zaps clear it and free nothing, fork shares it as is, reclaim never picks it,
     * mprotect keeps it read-only. Prefaults and huge pages allocate as without it. Init takes one
     * frame more. */
    int zero_page;
};

struct fw_kernel; /* opaque: callers allocate fw_kernel_size() bytes, 8-byte aligned */

/* Why a configuration is refused: the field of fw_kernel_config at fault, and words. */
struct fw_config_error {
    const char* field;
    const char* why;
};

/* The checks fw_kernel_init makes of the configuration's settings (not of its memory), without
 * touching the hardware: 0, or FW_ERR_INVAL with *err filled. Each shootdown mechanism refuses
 * what it cannot apply (the IPI options without IPIs, injections that would leave nothing
 * stale, global ASIDs fewer than the cores). */
int fw_kernel_config_check(const struct fw_kernel_config* config, struct fw_config_error* err);

/* The shootdown mechanisms by enum fw_shootdown_mechanism value: how many, and their names
 * ("ipi", "directed", "broadcast"). */
unsigned fw_shootdown_mechanism_count(void);
const char* fw_shootdown_mechanism_name(unsigned mechanism);

uint64_t fw_kernel_size(void);

/* swap_slot_bitmap: (swap_slots + 63) / 64 words of caller memory (cleared here), NULL when
 * swap_mmio is 0. rmap and frame_meta are required. FW_ERR_INVAL for a bad frame range, cores,
 * asid_bits or a missing buffer. With a swap device one frame is reserved at init as the bounce
 * buffer that copies a swapped-out page's slot at fork (FW_ERR_NOMEM if there is none). */
int fw_kernel_init(struct fw_kernel* k, const struct fw_kernel_config* config,
                   uint64_t* swap_slot_bitmap);
/* The frames fw_kernel_init allocates from frame_count (the IPI protocol area, the swap bounce
 * frame): fewer is FW_ERR_NOMEM there. Each process then needs a frame for its root. */
uint32_t fw_kernel_init_frames(const struct fw_kernel_config* config);

/* ---- processes and tasks --------------------------------------------------------------------- */

/* A new address space (zeroed root, no VMAs, no ASID yet) and its first task, to run on core.
 * FW_ERR_INVAL (core), FW_ERR_LIMIT (no pid or tid left), FW_ERR_NOMEM (no frame for the root).
 * Nothing is installed: fw_switch_to does that. */
int fw_process_create(struct fw_kernel* k, unsigned core, int* pid, int* tid);

/* Another task sharing pid's address space, to run on core. FW_ERR_INVAL (pid, core),
 * FW_ERR_LIMIT. */
int fw_thread_create(struct fw_kernel* k, int pid, unsigned core, int* tid);

/* COW fork, run on `core`: the child gets a copy of the parent's VMAs and page tables with
 * every private writable leaf (huge ones included, kept huge) read-only in both (frame
 * refcounts +1); shared VMAs stay shared; a swapped-out page is copied to a new slot. The
 * parent's translations are flushed (fw_flush_tlb_mm) where they may be cached. The child has
 * one task, on child_core. Charges fork_cycles. FW_ERR_INVAL, FW_ERR_LIMIT, FW_ERR_NOMEM (the
 * child is released again; the parent keeps working, its COW faults fix its read-only PTEs). */
int fw_process_fork(struct fw_kernel* k, unsigned core, int parent_pid, unsigned child_core,
                    int* child_pid, int* child_tid);

/* Ends task tid (run on `core`). The last task of an address space releases it: every frame
 * (refcount -1), swap slot, table and ASID goes back (through the gather); its stats stay
 * readable until the pid is reused. FW_ERR_INVAL for a tid that is not live. */
int fw_task_exit(struct fw_kernel* k, unsigned core, int tid);

/* Group exit (Linux's do_group_exit): a process is killed (fw_fault, cls PROTECTION) as a whole.
 * The faulting task ends at once, and so does every other task of it that no core runs now; a
 * task that runs on another core (its current task, see fw_switch_to) is sent a reschedule IPI
 * (IPI_VECTOR_RESCHEDULE) and must end at its next boundary: from the kill on, fw_task_killed
 * says so, and its host ends it with fw_task_exit when it next returns to the task's user code
 * (after an interrupt, a fault, a system call, or before switching to it). The address space
 * lives until its last task has ended: it is torn down (frames, tables, ASIDs) only once no
 * core runs it, by the core that ends its last task. A fault of a task whose process is being
 * killed ends that task (cls PROTECTION, group_exit 1); a fork of such a process fails
 * (FW_ERR_INVAL). */
/* Why tid's process was killed while tid still lives (it must end at its next boundary), else
 * FW_KILL_NONE (also for a tid that is not live). */
enum fw_kill_reason fw_task_killed(const struct fw_kernel* k, int tid);

/* ---- VMAs ------------------------------------------------------------------------------------ */

struct fw_vma_desc {
    uint64_t start;
    uint64_t len;
    unsigned prot; /* FW_PROT_* */
    enum fw_vma_kind kind;
    int shm_id;          /* FW_VMA_SHARED only: the object (len <= its size) */
    unsigned page_level; /* 0 = base pages, else a level where the format allows leaves */
};

/* Adds a VMA to pid (no frame is allocated: pages come on first touch). FW_ERR_INVAL: bad pid,
 * kind, prot bits, page_level (not a leaf level of the format, or > 0 for SHARED), a range not
 * aligned to the VMA's page size, W without R, or a shm object that is missing / too small;
 * FW_ERR_WX: W and X together (every kind but IMPLICIT); FW_ERR_OVERLAP: overlaps a VMA (guard
 * pages included); FW_ERR_LIMIT: FW_MAX_VMAS. */
int fw_vma_map(struct fw_kernel* k, unsigned core, int pid, const struct fw_vma_desc* desc);

/* munmap: removes [start, start+len) from pid's VMAs (splitting VMAs at the ends), splits huge
 * leaves that straddle the ends, clears the PTEs, flushes the range on every core that may cache
 * it, then frees the frames and swap slots (the gather). Holes are fine. Empty tables stay
 * (reused by later mappings, freed at exit). FW_ERR_INVAL, FW_ERR_LIMIT (VMA table full). */
int fw_vma_unmap(struct fw_kernel* k, unsigned core, int pid, uint64_t start, uint64_t len);

/* mprotect: the range must be covered by VMAs, without holes or guard pages
 * (FW_ERR_NOT_MAPPED otherwise). Splits VMAs and straddling huge leaves, rewrites the PTEs (A/D
 * kept; a private frame still shared after fork stays read-only; prot 0 parks the frame in a
 * PROT_NONE entry, huge leaves being split to base pages first) and flushes what changed.
 * FW_ERR_WX / FW_ERR_INVAL as fw_vma_map (for the kind of each VMA in the range). */
int fw_vma_protect(struct fw_kernel* k, unsigned core, int pid, uint64_t start, uint64_t len,
                   unsigned prot);

/* madvise(MADV_DONTNEED): the pages of [start, start+len) are dropped (frames and swap slots
 * freed after the flush, huge leaves straddling the ends split), the VMAs stay: the next touch
 * is a demand-zero fault (of a shared VMA: the object's page again). Holes are fine. */
int fw_vma_discard(struct fw_kernel* k, unsigned core, int pid, uint64_t start, uint64_t len);

/* ---- system calls ---------------------------------------------------------------------------- */

/* The memory-management system calls a task makes (Linux's names). */
enum fw_syscall_nr {
    FW_SYS_MMAP,
    FW_SYS_MUNMAP,
    FW_SYS_MPROTECT,
    FW_SYS_MADVISE_DONTNEED,
    FW_SYS_FORK,
    FW_SYS_EXIT,
    FW_SYSCALLS
};

struct fw_syscall_args {
    enum fw_syscall_nr nr;
    uint64_t start, len;      /* MUNMAP, MPROTECT, MADVISE_DONTNEED */
    unsigned prot;            /* MPROTECT */
    struct fw_vma_desc map;   /* MMAP */
    unsigned child_core;      /* FORK: where the child's task runs */
    int child_pid, child_tid; /* FORK: out */
};

/* One system call of task tid, run on `core`: charges syscall_entry_cycles, does the call
 * (fw_vma_map, fw_vma_unmap, fw_vma_protect, fw_vma_discard, fw_process_fork, fw_task_exit on
 * the task's process), charges syscall_exit_cycles (not after EXIT: the task is gone). Returns
 * the call's result; FW_ERR_INVAL for a dead tid or an unknown call. */
int fw_syscall(struct fw_kernel* k, unsigned core, int tid, struct fw_syscall_args* args);

/* ---- shared memory --------------------------------------------------------------------------- */

/* An object of len bytes (base-page multiple, at most FW_SHM_MAX_PAGES pages). Frames are
 * allocated on first touch; each frame's refcount is one for the object plus one per mapping
 * PTE, so the contents live as long as the object does, mapped or not. FW_ERR_INVAL,
 * FW_ERR_LIMIT. */
int fw_shm_create(struct fw_kernel* k, uint64_t len, int* shm_id);
/* Frees the object's frames that nobody maps; FW_ERR_BUSY while a VMA still maps it. */
int fw_shm_destroy(struct fw_kernel* k, int shm_id);

/* ---- scheduling ------------------------------------------------------------------------------ */

/* Makes tid the running task of `core` (the task moves there if it was elsewhere): with ASIDs,
 * allocates or recycles an ASID for its mm on that core (a recycled ASID is flushed first, and
 * its previous mm loses that core from its cpu_mask; with mechanism broadcast the ASID is the
 * mm's global one, allocated once, and a recycled one is taken from its mm on every core and
 * flushed by one broadcast); writes the root with hal_set_root; sets
 * the core in the mm's cpu_mask. With asid_bits 0 every switch flushes the whole TLB and the
 * previous mm of that core loses it from its cpu_mask. Charges switch_cycles. */
int fw_switch_to(struct fw_kernel* k, unsigned core, int tid);

/* ---- interrupts ------------------------------------------------------------------------------ */

/* The interrupt handler of `core`: the host calls it when the core takes its interrupt (at an
 * instruction boundary of user code, or inside hal_relax while the firmware waits with
 * interrupts enabled), with interrupts masked. Charges irq_entry_cycles; reads and clears the
 * core's IPI_REG_PENDING; services every shootdown request pending for it (flush, hal_sync, ack
 * write); charges irq_exit_cycles. A reschedule IPI needs no service here: the kill it signals
 * is in the killed process's state (fw_task_killed), which the host looks at when it returns
 * to user code. Returns the number of requests serviced (>= 0), FW_ERR_INVAL
 * for a bad core. Without an IPI controller it only charges the entry and exit. */
int fw_interrupt(struct fw_kernel* k, unsigned core);

/* The return to user space of `core` (Linux's exit_to_user_mode and SWITCH_TO_USER_CR3): the
 * host calls it on that core before user code runs again after anything that entered the
 * firmware from it (a system call, a fault or TLB refill, an interrupt taken at an instruction
 * boundary, a switch). With pti: the user ASID of the core's mm is flushed whole if a flush
 * marked it (HAL_FLUSH_ASID; without ASIDs: HAL_FLUSH_ALL at every return), the root is written
 * with the user ASID and cost.pti_cr3_switch charged. Without pti it does nothing (no HAL call,
 * no time). FW_ERR_INVAL for a bad core. */
int fw_return_to_user(struct fw_kernel* k, unsigned core);

/* ---- faults and TLB refill ------------------------------------------------------------------- */

/* The translation-fault handler for task tid running on `core`. Returns 0 with result->cls
 * telling what was done (the access is then retried), or cls PROTECTION with result->reason:
 * the process is killed as a whole (group exit, see fw_task_killed): this task has ended, the
 * others end now or at their next boundary, the last one releases the address space.
 * SMP: a COW copy shoots the old translation down on the other cores of the mm; a fault of a
 * task whose process was killed by another task (meanwhile, while this one waited for the
 * lock) returns cls PROTECTION with that kill's reason and group_exit 1, having ended the task
 * and done nothing else (not counted).
 * Fault kinds other than NOT_PRESENT / PERMISSION kill with FW_KILL_BAD_PTE. Charges the fault
 * entry and exit cycles once. FW_ERR_INVAL (tid, core, kind NONE): nothing done or charged. */
int fw_fault(struct fw_kernel* k, unsigned core, int tid, uint64_t va, enum fw_access access,
             enum fw_fault_kind kind, struct fw_fault_result* result);

/* Boot work, no fault cost: maps va's page (at its VMA's page size, or a base page where a huge
 * one cannot go) with A set, and D too if the VMA is writable; 0 if it is mapped already (or the
 * VMA allows no access). FW_ERR_NOT_MAPPED outside every VMA (or on a guard page),
 * FW_ERR_INVAL (pid, non-canonical va), FW_ERR_NOMEM. */
int fw_prefault(struct fw_kernel* k, int pid, uint64_t va);

/* Software-managed TLB refill: walks the mm of tid in software (hal_read_phys) and writes the
 * entry (with the mm's ASID on `core`) with hal_tlb_write, setting A (and D for a write) in the
 * PTE as a hardware walker would. Returns 0, or FW_ERR_FAULT when no valid user translation
 * allows the access (the caller then takes fw_fault). FW_ERR_INVAL (tid, core). */
int fw_tlb_refill(struct fw_kernel* k, unsigned core, int tid, uint64_t va, enum fw_access access);

/* ---- inspection ------------------------------------------------------------------------------ */

/* Stats of a live process, or of an exited / killed one until its pid is reused; NULL for a pid
 * never created. */
const struct fw_process_stats* fw_process_stats(const struct fw_kernel* k, int pid);
/* Why pid was killed (FW_KILL_NONE if it was not). */
enum fw_kill_reason fw_process_killed(const struct fw_kernel* k, int pid);
/* Root table of a live process (0 otherwise). */
hal_paddr_t fw_process_root(const struct fw_kernel* k, int pid);
/* Its ASID on `core` (0: none held there, or asid_bits 0); with pti the kernel one. */
uint16_t fw_process_asid(const struct fw_kernel* k, int pid, unsigned core);
/* pti: the user ASID of an ASID (asid | the top bit of asid_bits); without pti the ASID itself. */
uint16_t fw_user_asid(const struct fw_kernel* k, uint16_t asid);
/* pti: whether pid's user ASID on `core` waits for its flush at the next return to user. */
int fw_process_user_flush_pending(const struct fw_kernel* k, int pid, unsigned core);
/* Cores that may cache its translations (bit per core); 0 for a dead pid. */
uint64_t fw_process_cpu_mask(const struct fw_kernel* k, int pid);
/* VMA i of a live process (in address order; a stack's guard page is a VMA of its own, prot
 * 0): FW_OK, or FW_ERR_INVAL past the last one or for a dead pid. */
int fw_process_vma(const struct fw_kernel* k, int pid, unsigned i, struct fw_vma_desc* out);
/* Live tasks of pid (0 when dead). */
unsigned fw_process_tasks(const struct fw_kernel* k, int pid);
/* The pid of a live task (FW_ERR_INVAL otherwise), and its core. */
int fw_task_pid(const struct fw_kernel* k, int tid);
int fw_task_core(const struct fw_kernel* k, int tid);

const struct fw_kernel_stats* fw_kernel_stats(const struct fw_kernel* k);
uint64_t fw_tables_in_use(const struct fw_kernel* k); /* page-table pages, all processes */
uint64_t fw_frames_in_use(const struct fw_kernel* k); /* data frames */
uint64_t fw_swap_slots_in_use(const struct fw_kernel* k);
const struct pte_format* fw_kernel_format(const struct fw_kernel* k);
/* The shared zero page's frame (fw_kernel_config.zero_page), 0 without it. */
hal_paddr_t fw_zero_page(const struct fw_kernel* k);
/* The frame allocator, for inspection (frame_refcount, in_use, peak). */
const struct fw_frames* fw_kernel_frames(const struct fw_kernel* k);

/* ---- errors by name -------------------------------------------------------------------------- */

/* Words for 0 and every FW_ERR_* (limits named with their FW_MAX_* values); "unknown firmware
 * error" otherwise. */
const char* fw_strerror(int rc);
const char* fw_kill_reason_str(enum fw_kill_reason reason);

#ifdef __cplusplus
}
#endif

#endif
