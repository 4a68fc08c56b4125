/* Private declarations shared by the memory manager's sources (see mm.h for the public API and
 * the file map). Freestanding C11; also includable from C++ tests (inspection of the tables). */
#ifndef TLMMU_FW_INTERNAL_H
#define TLMMU_FW_INTERNAL_H

#include <stdint.h>

#include "kernel/mm.h"
#include "swap_device.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RMAP_PRIVATE 1u /* private data frame (anonymous / stack / implicit, maybe COW-shared) */
#define RMAP_SHARED 2u  /* frame of a shared-memory object */
#define PID_UNKNOWN (-1)

/* ---- the state --------------------------------------------------------------------------------
 */

struct fw_vma {
    uint64_t start; /* [start, end), base-page aligned */
    uint64_t end;
    uint64_t pgoff; /* FW_VMA_SHARED: page index in the object of `start` */
    int32_t shm_id;
    uint8_t prot;
    uint8_t kind;
    uint8_t guard;      /* the no-access page below a stack: any touch kills */
    uint8_t page_level; /* leaf level of demand faults (0 = base pages) */
};

struct fw_mm {
    int live;
    int used; /* ever created: its stats stay readable after exit until the slot is reused */
    int pid;
    unsigned users; /* live tasks using it */
    hal_paddr_t root;
    unsigned nvmas;
    struct fw_vma vmas[FW_MAX_VMAS]; /* sorted by start, disjoint */
    struct fw_process_stats stats;
    enum fw_kill_reason killed;
    uint64_t cpu_mask;                 /* cores that may cache its translations */
    uint16_t asid[FW_MAX_CORES];       /* 0: no ASID on that core */
    uint64_t asid_stamp[FW_MAX_CORES]; /* last switch to it on that core, for LRU recycling */
    uint64_t stale_mask; /* lazy_tlb: cores whose ASID of it must be flushed at switch-in */
    /* Mechanism broadcast: its ASID on every core (0: none), asid[c] equals it once the mm has
     * run on c. */
    uint16_t global_asid;
    /* pti: cores where its user ASID is flushed at the next return to user space (Linux's
     * per-CPU user_pcid_flush_mask, which has a bit per ASID of the CPU: here a bit per core in
     * the mm that holds the ASID, the same bits). */
    uint64_t pti_user_stale;
    /* mmu_gathers under way on it (Linux's tlb_flush_pending): discards run side by side under
     * the read lock, and one that finds a PTE already cleared by another must not return
     * before that one's flush is done. */
    unsigned tlb_flush_pending;
};

struct fw_task {
    int live;
    struct fw_mm* mm;
    unsigned core;
};

struct fw_shm_obj {
    int live;
    uint64_t pages;
    hal_paddr_t frame[FW_SHM_MAX_PAGES]; /* 0 until first touch */
};

/* SMP state (smp.c). Protocol memory, one block of kernel frames allocated at init, all
 * 8-byte words accessed through the HAL, each in a 64-byte line of its own (as Linux keeps
 * each mm's lock in its mm_struct and each CPU's call-function data in its own cache line), so
 * that cores contend only for what they really share:
 *   locks    FW_SMP_LOCKS lines: the mmap_lock of mms[i] (a fair reader-writer ticket lock,
 *            FW_RW_* below), then the kernel's own spin locks (0 free, else holder core + 1):
 *            FW_SMP_LOCK_SWAP (the swap device and the bounce frame), FW_SMP_LOCK_ZONE (the
 *            page allocator's zone, taken to refill or drain a core's free list),
 *            FW_SMP_LOCK_LRU (the LRU lists) and FW_SMP_PTL_LOCKS split page-table locks
 *            (a table page's lock is line FW_SMP_LOCK_PTL + its frame number modulo
 *            FW_SMP_PTL_LOCKS: Linux keeps one in each table page's struct page; a hash into a
 *            fixed set keeps the protocol area one block, and tables that share a line are
 *            rare in the few tables a benchmark's hot range uses);
 *   slots    cores lines: core i's request, three words:
 *            HEAD = seq | pid << 40 | stride_shift << 48 | full << 55 (written last), START, END;
 *   pending  cores lines: bit i of line t's word = initiator i has a request for target t;
 *   acks     cores x cores lines: [i * cores + t] = last sequence of i that t serviced. */
#define FW_SMP_LINE 64
#define FW_SMP_LOCK_SWAP FW_MAX_PROCESSES
#define FW_SMP_LOCK_ZONE (FW_MAX_PROCESSES + 1)
#define FW_SMP_LOCK_LRU (FW_MAX_PROCESSES + 2)
#define FW_SMP_LOCK_PTL (FW_MAX_PROCESSES + 3)
#define FW_SMP_PTL_LOCKS 32u
#define FW_SMP_LOCKS (FW_SMP_LOCK_PTL + FW_SMP_PTL_LOCKS)
/* The mmap_lock word: the readers inside (READERS), tickets taken (NEXT) and the ticket being
 * served (HEAD), 16 bits each. A writer holds it from HEAD == its ticket with no reader inside
 * until it advances HEAD; first come, first served, so a waiting writer holds back every later
 * reader and no writer starves. As Linux's rwsem, a reader first adds itself to READERS with one
 * fetch-and-add (LOCK XADD): if no ticket was outstanding (NEXT == HEAD) it is in; else it takes
 * itself out again with a second add and queues for a ticket; when its ticket comes it enters
 * and advances HEAD at once (the next ticket may be a reader too). It leaves with a fetch-and-add
 * of -1. READERS is the low field, so those adds never carry into the tickets, and HEAD the
 * top one, so a writer's release (an add to HEAD) wraps without touching the rest. */
#define FW_RW_READERS(v) ((v)&0xffffu)
#define FW_RW_NEXT(v) (((v) >> 16) & 0xffffu)
#define FW_RW_HEAD(v) (((v) >> 48) & 0xffffu)
#define FW_RW_READER_ONE ((uint64_t)1)
#define FW_RW_NEXT_ONE ((uint64_t)1 << 16)
#define FW_RW_HEAD_ONE ((uint64_t)1 << 48)
#define FW_SMP_SLOT_HEAD 0
#define FW_SMP_SLOT_START 1
#define FW_SMP_SLOT_END 2
#define FW_SMP_SEQ_MASK ((((uint64_t)1) << 40) - 1)

struct fw_shootdown_ops;

struct fw_smp {
    int on; /* ipi_mmio != 0 and cores > 1 */
    hal_paddr_t ipi;
    uint64_t ack_timeout;
    uint64_t relax;
    uint64_t irq_entry;
    uint64_t irq_exit;
    int early_ack;
    int cluster_mode; /* x2APIC cluster mode: one ICR write per cluster of targets */
    hal_paddr_t area;
    uint64_t area_bytes;
    hal_paddr_t locks, slots, pending, acks;
    uint64_t seq[FW_MAX_CORES];        /* last request sequence of each initiator */
    unsigned lock_owner[FW_SMP_LOCKS]; /* holder (writer) core + 1 (0 free), as the lock word */
    unsigned lock_depth[FW_SMP_LOCKS]; /* nesting on the holder */
    /* mmap_lock taken for read: nesting of each core (a reader on a core is one reader) */
    uint8_t read_depth[FW_MAX_PROCESSES][FW_MAX_CORES];
    uint64_t lock_seen[FW_SMP_LOCKS]; /* the last value of each lock word this model read */
    /* Free frames each core's list holds, and pages waiting in its LRU batch (they stand for
     * Linux's per-CPU lists: the allocator itself is one, only the zone and LRU locks' timing
     * follows them). */
    unsigned lru_batch[FW_MAX_CORES];
};

/* TLB maintenance options (tlb.c) and the mechanism that reaches the other cores. */
struct fw_tlb {
    const struct fw_shootdown_ops* mechanism;
    unsigned inject;
    int concurrent_flush;
    int batch;
    int lazy_tlb;
    /* Page-table isolation (fw_kernel_config.pti): user ASIDs are the kernel ones | user_bit
     * (0 without ASIDs); in_user[c]: core c runs user code (its root holds the user ASID), set
     * by fw_return_to_user, cleared at a kernel entry. */
    int pti;
    uint16_t user_bit;
    uint8_t in_user[FW_MAX_CORES];
};

struct fw_kernel {
    struct pte_format format;
    struct fw_smp smp;
    struct fw_tlb tlb;
    struct fw_frames frames;
    struct fw_kernel_stats stats;
    unsigned asid_bits;
    unsigned cores;
    uint32_t asid_max;
    uint32_t limit;
    unsigned flush_ceiling;
    uint64_t fault_entry_cycles;
    uint64_t fault_exit_cycles;
    uint64_t switch_cycles;
    uint64_t fork_cycles;
    uint64_t syscall_entry_cycles;
    uint64_t syscall_exit_cycles;
    struct fw_costs cost; /* fw_kernel_config's, as given */
    /* swap (swapfile.c) */
    hal_paddr_t swap_mmio;
    uint64_t swap_slots;
    uint64_t* swap_bitmap;
    uint64_t swap_cursor;
    hal_paddr_t bounce;    /* reserved frame for slot-to-slot copies at fork */
    hal_paddr_t zero_page; /* fw_kernel_config.zero_page: the shared zero frame (0: none) */
    /* reverse map and clock (rmap.c, vmscan.c) */
    struct fw_frame_rmap* rmap;
    uint32_t clock_hand;
    unsigned teardowns; /* address spaces being torn down now (their frames are coming back) */
    /* Per core: its last allocation failed only because the pages it could evict belong to
     * address spaces whose lock another core holds (the fault backs off and retries). */
    uint8_t alloc_busy[FW_MAX_CORES];
    /* Per core: the phase it is in (enum fw_phase) and since when (phase.c). */
    uint8_t phase[FW_MAX_CORES];
    uint64_t phase_since[FW_MAX_CORES];
    /* scheduling (sched.c) */
    uint64_t stamp;
    struct fw_mm* active_mm[FW_MAX_CORES]; /* the mm whose root is installed on the core */
    struct fw_task* current[FW_MAX_CORES]; /* the task the core runs (0: none, or it ended) */
    /* ASIDs below asid_next were never handed out on that core since boot, so they need no
     * flush; once it passes asid_max every allocation flushes the ASID it takes. */
    uint32_t asid_next[FW_MAX_CORES];
    uint32_t asid_cursor[FW_MAX_CORES];
    /* Mechanism broadcast: one ASID space for all cores, the same rule (below asid_global_next:
     * never handed out since boot, no flush needed). */
    uint32_t asid_global_next;
    uint32_t asid_global_cursor;
    int pid_cursor;
    int tid_cursor;
    struct fw_mm mms[FW_MAX_PROCESSES];
    struct fw_task tasks[FW_MAX_TASKS];
    struct fw_shm_obj shm[FW_MAX_SHM];
};

/* ---- small helpers (init.c) -------------------------------------------------------------------
 */

void fw_memset(void* dst, unsigned char value, uint64_t bytes);
struct fw_mm* mm_of(struct fw_kernel* k, int pid);     /* live mm or NULL */
struct fw_task* task_of(struct fw_kernel* k, int tid); /* live task or NULL */
struct fw_mm* mm_alloc(struct fw_kernel* k);           /* zeroed, live, used; NULL if full */
struct fw_task* task_alloc(struct fw_kernel* k, struct fw_mm* mm, unsigned core);
int tid_of(const struct fw_kernel* k, const struct fw_task* t);

/* Whether a base-page PTE's frame number is the shared zero page's (Linux's is_zero_pfn). */
static inline int is_zero_pfn(const struct fw_kernel* k, uint64_t ppn) {
    return k->zero_page != 0 && ppn == k->zero_page >> k->format.page_shift;
}

static inline uint64_t page_bytes(const struct fw_kernel* k) {
    return (uint64_t)1 << k->format.page_shift;
}
static inline unsigned level_shift(const struct fw_kernel* k, unsigned level) {
    return pte_level_shift(&k->format, level);
}
static inline uint64_t level_bytes(const struct fw_kernel* k, unsigned level) {
    return (uint64_t)1 << pte_level_shift(&k->format, level);
}
/* Base frames of a leaf at `level`, as a block order. */
static inline unsigned level_order(const struct fw_kernel* k, unsigned level) {
    return level * k->format.index_bits;
}

/* ---- page tables (pagetable.c) ----------------------------------------------------------------
 */

uint64_t pt_read(const struct fw_kernel* k, hal_paddr_t slot);
void pt_write(const struct fw_kernel* k, hal_paddr_t slot, uint64_t raw);

/* A zeroed table frame (zeroed before anything links to it), counted in tables_in_use. With
 * may_reclaim, data pages are evicted while no frame is free. 0 when none. */
hal_paddr_t pt_alloc_table(struct fw_kernel* k, unsigned core, int may_reclaim);
void pt_free_table(struct fw_kernel* k, hal_paddr_t table); /* after every flush */

/* The result of a walk: the PTE's address, its raw value and its level. */
struct pt_slot {
    hal_paddr_t slot;
    uint64_t raw;
    unsigned level;
};

#define PT_CREATE 1u    /* allocate missing tables down to stop_level */
#define PT_NORECLAIM 2u /* with PT_CREATE: do not evict pages to get a table frame */

/* THE page-table walk: from the root toward va, down to level stop_level at most. Returns 0
 * with *out the entry at stop_level (any content), or the leaf met above it (raw decodes as a
 * leaf, out->level > stop_level). A missing table above stop_level: with PT_CREATE a zeroed one
 * is linked in (FW_ERR_NOMEM when none), else FW_ERR_NOT_MAPPED with *out the invalid entry
 * (whose span is empty). FW_ERR_CORRUPT for a reserved entry above stop_level (or a non-zero
 * invalid one when creating), FW_ERR_INVAL for a non-canonical va. */
int pt_walk(struct fw_kernel* k, hal_paddr_t root, uint64_t va, unsigned stop_level, unsigned flags,
            unsigned core, struct pt_slot* out);

/* Software lookup of the present leaf covering va (any level): 0 with raw, level and (if pte_pa
 * is not NULL) the PTE's address; FW_ERR_NOT_MAPPED (walk ends on an invalid or software
 * entry, *level its level), FW_ERR_CORRUPT, FW_ERR_INVAL (non-canonical). */
int pt_lookup(struct fw_kernel* k, hal_paddr_t root, uint64_t va, uint64_t* raw, unsigned* level,
              hal_paddr_t* pte_pa);

/* Maps [va, va + leaf size) to pa with a leaf at `level` and PTE_F_* flags, creating tables
 * (no reclaim). FW_ERR_INVAL (level, alignment, canonical, pa width), FW_ERR_NOMEM (tables
 * already created stay), FW_ERR_EXISTS (a valid entry in the slot, or a leaf above covers it),
 * FW_ERR_CORRUPT. */
int pt_map(struct fw_kernel* k, hal_paddr_t root, uint64_t va, hal_paddr_t pa, unsigned level,
           unsigned flags);

/* Range visit: calls fn for every non-zero leaf-level entry of mm in [lo, hi): present leaves of
 * any level (va = the leaf's base, which may lie below lo for a huge leaf straddling lo) and
 * software entries at level 0; spans without tables are skipped. Stops at the first error. */
typedef int (*pt_visit_fn)(struct fw_kernel* k, struct fw_mm* mm, uint64_t va,
                           const struct pt_slot* s, void* ctx);
int pt_visit(struct fw_kernel* k, struct fw_mm* mm, uint64_t lo, uint64_t hi, pt_visit_fn fn,
             void* ctx);

struct fw_mmu_gather;
/* Splits the huge leaf covering va (if any) until the leaf covering va is at level <= target:
 * a zeroed table of next-level leaves with the same flags replaces it, the change is flushed
 * through tlb.c, the frame block is split into single frames (frames_split_block). FW_OK also
 * when nothing is mapped there. FW_ERR_NOMEM when no table frame is left. */
int pt_split(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t va, unsigned target,
             int may_reclaim);
/* Splits every huge leaf in [lo, hi) (huge leaves must not straddle the ends) down to base
 * pages. */
int pt_split_range(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t lo, uint64_t hi);
/* Splits the huge leaves straddling addr (a huge leaf with addr strictly inside it). */
int pt_split_at(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t addr);

/* Frees the table tree under `table` at `level` into the gather (leaves must be released). */
void pt_free_tables(struct fw_kernel* k, struct fw_mmu_gather* g, hal_paddr_t table,
                    unsigned level);

/* ---- TLB maintenance (tlb.c) ------------------------------------------------------------------
 */

struct fw_flush_info {
    struct fw_mm* mm;
    uint64_t start;
    uint64_t end;
    unsigned stride_shift;
    int full; /* the whole address space */
};

/* Flushes mm's translations of [start, end) (one invalidation per 2^stride_shift bytes, or
 * the ASID / everything past the ceiling) on `core` (hal_tlb_invalidate) and on every other
 * core of mm->cpu_mask (hal_tlb_invalidate_core; in SMP mode smp_flush: the shootdown by the
 * configured mechanism, which returns when every target has flushed). The caller holds mm's lock
 * (SMP mode). */
void fw_flush_tlb_mm_range(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t start,
                           uint64_t end, unsigned stride_shift);
void fw_flush_tlb_mm(struct fw_kernel* k, unsigned core, struct fw_mm* mm);
/* The target of a flush that reaches every core at once (hal_tlb_invalidate_broadcast, mm's
 * global ASID; the caller completes it with hal_tlb_sync). */
#define FW_FLUSH_BROADCAST (~0u)
/* The one flush body, local and remote alike: f on core `target`, issued by `self`
 * (hal_tlb_invalidate when they are the same, hal_tlb_invalidate_core otherwise, and
 * hal_tlb_invalidate_broadcast for FW_FLUSH_BROADCAST). */
void tlb_flush_on(struct fw_kernel* k, unsigned self, unsigned target,
                  const struct fw_flush_info* f);
/* Counts one hal_tlb_invalidate_broadcast issued by core self (shootdown.broadcasts). */
void tlb_count_broadcast(struct fw_kernel* k, unsigned self);
/* Whether core c may hold translations of mm now (its ASID there, or mm installed there). */
int tlb_core_may_cache(const struct fw_kernel* k, unsigned c, const struct fw_mm* mm);
/* Pages of f at its stride (0 for a full flush). */
uint64_t tlb_flush_pages(const struct fw_flush_info* f);
/* Only the calling core (a stale entry that the hardware reported as a fault). */
void fw_flush_tlb_local_page(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t va);
/* The flush of f on the calling core as the initiator does it (unless injected away), and as
 * a target does it for another core's request (unless injected away). */
void tlb_flush_local(struct fw_kernel* k, unsigned core, const struct fw_flush_info* f);
void tlb_flush_remote(struct fw_kernel* k, unsigned core, const struct fw_flush_info* f);

/* A shootdown mechanism's policy (config.c): its name, its ASIDs, what it refuses. */
struct fw_shootdown_policy {
    const char* name;
    /* One ASID per mm, the same on every core (a broadcast names one ASID). */
    int global_asids;
    /* What it cannot apply: 0, or FW_ERR_INVAL with *err (a field of the configuration). */
    int (*check)(const struct fw_kernel_config* c, struct fw_config_error* err);
};
extern const struct fw_shootdown_policy fw_shootdown_policies[];

/* A shootdown mechanism (firmware.shootdown.mechanism), chosen at init: how a flush that tlb.c
 * decided reaches the other cores that may cache it (shootdown_*.c). */
struct fw_shootdown_ops {
    const struct fw_shootdown_policy* policy;
    /* f on every core of `targets` (never the caller) and, when `local`, on the caller; returns
     * when every target has it (unless injected). */
    void (*flush)(struct fw_kernel* k, unsigned core, uint64_t targets, int local,
                  const struct fw_flush_info* f);
};
extern const struct fw_shootdown_ops fw_shootdown_ipi;
extern const struct fw_shootdown_ops fw_shootdown_directed;
extern const struct fw_shootdown_ops fw_shootdown_broadcast;
int tlb_init(struct fw_kernel* k, const struct fw_kernel_config* c);
/* pti: a kernel entry of `core` (a no-op unless pti and the core runs user code): the root is
 * written with the kernel ASID, cost.pti_cr3_switch charged. */
void pti_enter_kernel(struct fw_kernel* k, unsigned core);
/* pti: core's whole ASID of mm was invalidated on core (a recycled ASID, a lazy flush): its user
 * ASID is flushed at the core's next return to user space (a no-op without pti or ASIDs). */
void pti_mark_user(struct fw_kernel* k, unsigned core, struct fw_mm* mm);
/* The ASIDs of each space (per core or global): all of asid_bits, less pti's user bit. */
static inline uint32_t tlb_asid_max(unsigned asid_bits, int pti) {
    unsigned bits = pti && asid_bits != 0 ? asid_bits - 1 : asid_bits;
    return bits == 0 ? 0 : ((uint32_t)1 << bits) - 1;
}

/* Adds n to a shootdown statistic, in the totals and in the core's. */
#define SD_ADD(k, core, field, n)                                                                  \
    do {                                                                                           \
        (k)->stats.shootdown.field += (n);                                                         \
        (k)->stats.shootdown_by_core[(core)].field += (n);                                         \
    } while (0)
unsigned popcount64(uint64_t x);

#define FW_GATHER_FRAMES 64
#define FW_GATHER_TABLES 32

struct fw_gather_frame {
    hal_paddr_t pa;
    unsigned order; /* a leaf of 2^order frames (block head, or frames split since) */
};

/* mmu_gather: PTEs are cleared first, translations flushed, and only then frames and tables
 * freed. When a batch is full or the page size changes, the pending work is done early. */
struct fw_mmu_gather {
    struct fw_kernel* k;
    struct fw_mm* mm;
    unsigned core;
    int fullmm;          /* the mm is being torn down: its ASIDs die with it, nobody runs it */
    uint64_t start, end; /* pending range (start >= end: none) */
    unsigned stride_shift;
    unsigned nframes;
    struct fw_gather_frame frames[FW_GATHER_FRAMES];
    unsigned ntables;
    hal_paddr_t tables[FW_GATHER_TABLES];
    unsigned entries; /* fullmm: page-table entries visited since the last preemption point */
    hal_paddr_t ptl;  /* the table whose split lock the zap holds (0: none) */
};

void tlb_gather_mmu(struct fw_mmu_gather* g, struct fw_kernel* k, unsigned core, struct fw_mm* mm,
                    int fullmm);
/* A translation of [va, va + 2^shift) was removed or narrowed. */
void tlb_flush_pte_range(struct fw_mmu_gather* g, uint64_t va, unsigned shift);
/* A reference to drop (frame_put) once the flush is done: a leaf of 2^order frames. */
void tlb_remove_frame(struct fw_mmu_gather* g, hal_paddr_t pa, unsigned order);
void tlb_remove_table(struct fw_mmu_gather* g, hal_paddr_t table);
void tlb_flush_mmu_tlbonly(struct fw_mmu_gather* g); /* flush the pending range, free nothing */
void tlb_flush_mmu(struct fw_mmu_gather* g);         /* flush, then free */
void tlb_finish_mmu(struct fw_mmu_gather* g);        /* the same, at the end */
/* A teardown (fullmm) visited `entries` more page-table entries: after every
 * FW_TEARDOWN_BATCH_ENTRIES of them it is a preemption point (Linux's cond_resched in
 * zap_pte_range and free_pgtables), where the core takes the interrupts that came due (SMP
 * mode): a shootdown aimed at it waits for one batch, not for the whole address space. */
#define FW_TEARDOWN_BATCH_ENTRIES 64u
void tlb_teardown_step(struct fw_mmu_gather* g, unsigned entries);

/* ---- frames, rmap (rmap.c) --------------------------------------------------------------------
 */

/* A data frame (refcount 1) or block of 2^order frames, evicting pages while the memory limit or
 * the allocator says no (order 0 only; a block never evicts: 0 when none is free or the limit
 * would be passed). Counted in data_frames. The caller sets the reverse map. */
hal_paddr_t alloc_data_frames(struct fw_kernel* k, unsigned core, unsigned order);
/* An order-0 data frame without reclaim (0 when none is free or the limit is reached). */
hal_paddr_t alloc_data_frame_nowait(struct fw_kernel* k, unsigned core);
void rmap_set(struct fw_kernel* k, hal_paddr_t pa, unsigned order, int pid, uint64_t va,
              uint32_t flags);
/* rmap_set of a new private mapping of pid (charged cost.rmap_add); a frame that only changes
 * hands (a COW reuse) keeps rmap_set, as Linux moves the anon rmap without adding one. */
void rmap_add_new(struct fw_kernel* k, hal_paddr_t pa, unsigned order, int pid, uint64_t va);
/* mm (or a shm object, mm NULL) lets go of a leaf of 2^order frames at pa: reverse map and
 * stats now, the reference into the gather (dropped after the flush). */
void rmap_remove_leaf(struct fw_mmu_gather* g, struct fw_mm* mm, hal_paddr_t pa, unsigned order);
/* Drops the reference now (put the block head if the range is still a block, else each frame),
 * freeing what reaches 0 (data_frames, reverse map): returns the frames freed. Used by the gather
 * after its flush. */
uint64_t put_data_frames(struct fw_kernel* k, unsigned core, hal_paddr_t pa, unsigned order);
/* The live mm that maps frame ppn at r->va (and its slot), or NULL. */
struct fw_mm* rmap_find_owner(struct fw_kernel* k, struct fw_frame_rmap* r, uint64_t ppn,
                              struct pt_slot* s);
int is_managed_frame(const struct fw_kernel* k, hal_paddr_t pa);
uint32_t frame_index_of(const struct fw_kernel* k, hal_paddr_t pa);

void mm_add_frames(struct fw_mm* mm, uint64_t frames); /* per-process frames_in_use, peak */
/* Stats of a leaf of `level` mapped (+1) or gone (-1). */
void count_leaf(struct fw_kernel* k, struct fw_mm* mm, unsigned level, int delta);

/* ---- reclaim and swap (vmscan.c, swapfile.c) --------------------------------------------------
 */

/* One clock scan: FW_OK (a page evicted), FW_ERR_BUSY (none, but some were passed over because
 * another core holds their owner's lock), FW_ERR_NOMEM (nothing to evict). */
int evict_one(struct fw_kernel* k, unsigned core);
/* Room for one more frame, for an allocation that found none (or reached the memory limit):
 * FW_OK when a page was evicted, or when an address space being torn down (by another core) may
 * give frames back: after waiting for it (interrupts enabled), the allocation looks again.
 * Else evict_one's error, noted in alloc_busy[core]. Out of memory is the real thing only
 * then: nothing evictable, nothing coming back, nothing merely locked. */
int reclaim(struct fw_kernel* k, unsigned core);
int swap_init(struct fw_kernel* k, const struct fw_kernel_config* c, uint64_t* bitmap);
/* One page of I/O, run by core under the swap lock (SMP mode). */
void swap_io(struct fw_kernel* k, unsigned core, uint64_t command, uint64_t slot,
             hal_paddr_t frame);
int slot_alloc(struct fw_kernel* k, uint64_t* slot);
void slot_free(struct fw_kernel* k, uint64_t slot);

/* ---- VMAs (mmap.c) ----------------------------------------------------------------------------
 */

int vma_find(const struct fw_mm* mm, uint64_t va); /* index or -1 */
int vma_check_range(const struct fw_kernel* k, uint64_t start, uint64_t len);
int vma_check_prot(unsigned prot, enum fw_vma_kind kind);
/* Splits the VMAs at start and end (FW_ERR_LIMIT if the table cannot take it; nothing done). */
int vma_split_range(struct fw_kernel* k, struct fw_mm* mm, uint64_t start, uint64_t end);
int vma_is_private(const struct fw_vma* v);
unsigned prot_flags(const struct fw_kernel* k, unsigned prot); /* PTE_F_* of a present leaf */
/* Clears every leaf of mm in [lo, hi) into the gather (frames, swap slots); huge leaves must
 * not straddle the ends (split first). */
int zap_range(struct fw_mmu_gather* g, uint64_t lo, uint64_t hi);

/* ---- shared memory (shmem.c) ------------------------------------------------------------------
 */
struct fw_shm_obj* shm_of(struct fw_kernel* k, int shm_id);

/* ---- exit (fork.c) ----------------------------------------------------------------------------
 */
/* Everything the mm owns goes back (frames, slots, tables, ASIDs); its tasks die with it. */
void release_mm(struct fw_kernel* k, unsigned core, struct fw_mm* mm);
/* Task t ends (no longer live, no longer any core's current task, one user less of its mm). */
void task_end(struct fw_kernel* k, struct fw_task* t);
/* t's process is killed for `reason` (see fw_task_killed in mm.h), run on `core` (t's) under
 * the mm's lock: t ends, and every other task of it that no other core runs; the cores that run
 * one are sent a reschedule IPI. The last task to end releases the mm. */
void group_exit(struct fw_kernel* k, unsigned core, struct fw_task* t, enum fw_kill_reason reason);

/* ---- SMP (smp.c) ------------------------------------------------------------------------------
 */
/* Allocates and clears the protocol memory (FW_ERR_NOMEM) when SMP mode is on. */
int smp_init(struct fw_kernel* k, const struct fw_kernel_config* c);
unsigned smp_area_order(const struct fw_kernel_config* c);
/* The address space's mmap_lock (no-ops outside SMP mode), Linux's split: faults, madvise's
 * discard and the software refill take it for read, everything that changes the VMAs or the
 * whole address space (mmap, munmap, mprotect, fork, exit, kill, reclaim of one of its pages)
 * for write. Re-entrant on a core that holds it (a read inside a write counts as the write; a
 * write inside a read is refused: it would wait for itself). A waiter sleeps until a release
 * wakes it, interrupts enabled. mmap_write_trylock makes one attempt (1: taken). */
void mmap_read_lock(struct fw_kernel* k, unsigned core, struct fw_mm* mm);
void mmap_read_unlock(struct fw_kernel* k, unsigned core, struct fw_mm* mm);
void mmap_write_lock(struct fw_kernel* k, unsigned core, struct fw_mm* mm);
int mmap_write_trylock(struct fw_kernel* k, unsigned core, struct fw_mm* mm);
void mmap_write_unlock(struct fw_kernel* k, unsigned core, struct fw_mm* mm);
/* Linux's mmap_write_downgrade: this core's write hold becomes a read hold in one atomic step
 * (the next tickets are served, so readers waiting behind it enter); released then with
 * mmap_read_unlock. 1 if it did; 0 without SMP or inside a nested write hold (nothing changes:
 * release it with mmap_write_unlock). */
int mmap_write_downgrade(struct fw_kernel* k, unsigned core, struct fw_mm* mm);
/* The split page-table lock of the table page `table` (held while its entries change). */
void ptl_lock(struct fw_kernel* k, unsigned core, hal_paddr_t table);
void ptl_unlock(struct fw_kernel* k, unsigned core, hal_paddr_t table);
/* The page allocator's per-core free lists and the LRU's per-core batches: the zone lock or
 * the LRU lock is taken when a list runs empty or full (a batch at once), as Linux does. */
/* Single data frames through core's per-CPU list (frames_alloc / frame_put without SMP). */
hal_paddr_t pcp_alloc(struct fw_kernel* k, unsigned core);
int64_t pcp_put(struct fw_kernel* k, unsigned core, hal_paddr_t pa);
/* After `frames` went back through pcp_put: a full list gives its coldest batch back to the
 * zone, a block freed takes the zone lock. It may wait, so the caller is done with the frame. */
void pcp_trim(struct fw_kernel* k, unsigned core, uint64_t frames);
/* The zone lock taken and let go once (a block allocated or freed). */
void zone_touch(struct fw_kernel* k, unsigned core);
void lru_add(struct fw_kernel* k, unsigned core);
void lru_lock(struct fw_kernel* k, unsigned core);
void lru_unlock(struct fw_kernel* k, unsigned core);
/* The swap device (its registers are one shared sequence) and the bounce frame. */
void swap_lock(struct fw_kernel* k, unsigned core);
void swap_unlock(struct fw_kernel* k, unsigned core);
/* Runs the flush f on every core of `targets` (their interrupt handlers: a request in each
 * one's queue, one IPI to all) and waits for their acknowledgements; with run_local, the
 * caller flushes f itself while the IPIs travel (Linux's smp_call_function_many_cond with
 * SCF_RUN_LOCAL). skip_ack_wait: returns without waiting. */
void smp_call_flush(struct fw_kernel* k, unsigned core, uint64_t targets, int run_local,
                    const struct fw_flush_info* f, int skip_ack_wait);
/* A one-cycle relax step with interrupts enabled: an interrupt that came due is taken there. */
void smp_irq_window(struct fw_kernel* k);
/* Sleeps until another core releases a lock (or a while passes), interrupts enabled. */
void smp_wait_for_unlock(void);
/* A reschedule IPI to every core of `targets` (a kill that their current tasks must notice). */
void smp_send_reschedule(struct fw_kernel* k, unsigned core, uint64_t targets);

/* ---- time per phase (phase.c) -----------------------------------------------------------------
 */
/* The phases of struct fw_time_stats; FW_PHASE_USER: outside the firmware (not counted). */
enum fw_phase {
    FW_PHASE_USER,
    FW_PHASE_SYSCALL,
    FW_PHASE_ZAP,
    FW_PHASE_FLUSH_SETUP,
    FW_PHASE_FLUSH_LOCAL,
    FW_PHASE_IPI_REQUEST,
    FW_PHASE_IPI_SEND,
    FW_PHASE_ACK_WAIT,
    FW_PHASE_FAULT,
    FW_PHASE_ZERO,
    FW_PHASE_IRQ
};
/* The core's time so far goes to the phase it was in; from now on to p. Returns the phase it
 * was in, for phase_leave (which charges p's time and goes back to it). */
enum fw_phase phase_enter(struct fw_kernel* k, unsigned core, enum fw_phase p);
void phase_leave(struct fw_kernel* k, unsigned core, enum fw_phase was);

/* ---- faults (memory.c) ------------------------------------------------------------------------
 */
unsigned access_flag(enum fw_access access);

#ifdef __cplusplus
}
#endif

#endif
