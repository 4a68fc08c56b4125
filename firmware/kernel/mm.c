/* The OS memory manager (see mm.h). Freestanding C11: no libc, hardware only through hal.h.
 *
 * Layout of the state: struct fw_mm holds fixed tables (processes with their sorted VMA arrays,
 * per-core ASID state, shared-memory objects); the per-frame reverse map and the swap-slot bitmap
 * are caller memory sized at init. Page tables live in the modelled DRAM and every PTE access is
 * a timed hal_read_phys / hal_write_phys. Only base pages (page_level 0) are managed. */
#include "kernel/mm.h"

#include "kernel/fw_errors.h"

#define RMAP_PRIVATE 1u /* private data frame (anonymous / stack, possibly COW-shared) */
#define RMAP_SHARED 2u  /* frame of a shared-memory object */
#define PID_UNKNOWN (-1)

struct fw_vma {
    uint64_t start; /* [start, end), page aligned */
    uint64_t end;
    uint64_t pgoff; /* FW_VMA_SHARED: page index in the object of `start` */
    int32_t shm_id;
    uint8_t prot;
    uint8_t kind;
    uint8_t guard; /* the no-access page below a stack: any touch kills */
    uint8_t unused;
};

struct fw_proc {
    int live;
    int used;      /* ever created: its stats stay readable after exit until the slot is reused */
    unsigned core; /* where it last ran (the core whose TLB the firmware can invalidate) */
    hal_paddr_t root;
    unsigned nvmas;
    struct fw_vma vmas[FW_MAX_VMAS];
    struct fw_process_stats stats;
    enum fw_kill_reason killed;
    uint16_t asid[FW_MAX_CORES];       /* 0: no ASID on that core */
    uint64_t asid_stamp[FW_MAX_CORES]; /* last switch to it on that core, for LRU recycling */
};

struct fw_shm_obj {
    int live;
    uint64_t pages;
    hal_paddr_t frame[FW_SHM_MAX_PAGES]; /* 0 until first touch */
};

struct fw_mm {
    struct fw_kernel k;
    unsigned asid_bits;
    unsigned cores;
    uint32_t asid_max;
    uint32_t limit;
    hal_paddr_t swap_mmio;
    uint64_t swap_slots;
    uint64_t* swap_bitmap;
    uint64_t swap_cursor;
    uint64_t swap_used;
    hal_paddr_t bounce; /* reserved frame for slot-to-slot copies at fork */
    uint64_t switch_cycles;
    uint64_t fork_cycles;
    struct fw_frame_rmap* rmap;
    uint32_t clock_hand;
    uint64_t data_frames;
    uint64_t stamp;
    int pid_cursor;
    int running[FW_MAX_CORES];
    /* ASIDs below asid_next were never handed out on that core since boot, so they need no
     * flush; once it passes asid_max every allocation flushes the ASID it takes (stale entries
     * of an exited or robbed owner may still be cached). */
    uint32_t asid_next[FW_MAX_CORES];
    uint32_t asid_cursor[FW_MAX_CORES];
    struct fw_proc procs[FW_MAX_PROCESSES];
    struct fw_shm_obj shm[FW_MAX_SHM];
};

/* ---- small helpers ------------------------------------------------------------------------ */

/* Byte loop through a volatile pointer so that the compiler cannot turn it into a memset call
 * (there is no libc to provide one). */
static void fw_memset(void* dst, unsigned char value, uint64_t bytes) {
    volatile unsigned char* d = (volatile unsigned char*)dst;
    while (bytes-- > 0)
        *d++ = value;
}

static const struct pte_format* fmt_of(const struct fw_mm* mm) {
    return &mm->k.format;
}

static uint64_t page_bytes(const struct fw_mm* mm) {
    return (uint64_t)1 << mm->k.format.page_shift;
}

static uint64_t read_pte(const struct fw_mm* mm, hal_paddr_t slot) {
    return hal_read_phys(slot, mm->k.format.pte_bytes);
}

static void write_pte(const struct fw_mm* mm, hal_paddr_t slot, uint64_t raw) {
    hal_write_phys(slot, raw, mm->k.format.pte_bytes);
}

static struct fw_proc* proc_of(struct fw_mm* mm, int pid) {
    if (pid < 1 || pid > FW_MAX_PROCESSES) return 0;
    struct fw_proc* p = &mm->procs[pid - 1];
    return p->live ? p : 0;
}

static int pid_of(const struct fw_mm* mm, const struct fw_proc* p) {
    return (int)(p - mm->procs) + 1;
}

/* PTE_F_* of a present leaf for a VMA's protection: user page, A/D clear so that the hardware
 * (or the software refill) marks the first access and the first write. */
static unsigned prot_flags(unsigned prot) {
    unsigned flags = PTE_F_U;
    if (prot & FW_PROT_R) flags |= PTE_F_R;
    if (prot & FW_PROT_W) flags |= PTE_F_W;
    if (prot & FW_PROT_X) flags |= PTE_F_X;
    return flags;
}

static int is_private(const struct fw_vma* v) {
    return v->kind != FW_VMA_SHARED;
}

static uint32_t frame_index_of(const struct fw_mm* mm, hal_paddr_t pa) {
    return (uint32_t)((pa - mm->k.frames.base) >> mm->k.format.page_shift);
}

static int is_managed_frame(const struct fw_mm* mm, hal_paddr_t pa) {
    const struct fw_frames* f = &mm->k.frames;
    return pa >= f->base && ((pa - f->base) >> mm->k.format.page_shift) < f->count;
}

static void count_frame_mapped(struct fw_proc* p) {
    if (++p->stats.frames_in_use > p->stats.frames_peak)
        p->stats.frames_peak = p->stats.frames_in_use;
}

/* Invalidates va of process p in the TLB of the calling core `core`. With asid_bits 0 only the
 * running process has entries there, so a by-VA flush is exact (and cheaper than a full flush).
 * With ASIDs, a process holding no ASID on this core has nothing cached here: its last ASID was
 * flushed, or will be before it is handed out again. Other cores are not reached (no shootdown
 * yet). */
static void invalidate_page(struct fw_mm* mm, const struct fw_proc* p, unsigned core, uint64_t va) {
    if (mm->asid_bits == 0) {
        hal_tlb_invalidate(HAL_FLUSH_VA, va, 0);
        return;
    }
    if (core < mm->cores && p->asid[core] != 0)
        hal_tlb_invalidate(HAL_FLUSH_VA_ASID, va, p->asid[core]);
}

/* A page of `owner` changed while `core` runs the firmware: the owner's translation may be
 * cached on the core it runs on, which need not be this one (eviction by another core's
 * fault). Processes are pinned to their core, so that core is the only other place. */
static void invalidate_owner_page(struct fw_mm* mm, const struct fw_proc* owner, unsigned core,
                                  uint64_t va) {
    invalidate_page(mm, owner, core, va);
    const unsigned home = owner->core;
    if (home == core || home >= mm->cores) return;
    if (mm->asid_bits == 0) hal_tlb_invalidate_core(home, HAL_FLUSH_VA, va, 0);
    else if (owner->asid[home] != 0)
        hal_tlb_invalidate_core(home, HAL_FLUSH_VA_ASID, va, owner->asid[home]);
}

/* ---- swap device and slots ---------------------------------------------------------------- */

static void swap_io(struct fw_mm* mm, uint64_t command, uint64_t slot, hal_paddr_t frame) {
    hal_paddr_t base = mm->swap_mmio;
    hal_write_phys(base + SWAP_REG_SLOT, slot, 8);
    hal_write_phys(base + SWAP_REG_FRAME, frame, 8);
    hal_write_phys(base + SWAP_REG_LENGTH, page_bytes(mm), 8);
    hal_write_phys(base + SWAP_REG_COMMAND, command, 8);
    /* A device error loses a page: nothing the firmware can recover from. */
    if (hal_read_phys(base + SWAP_REG_STATUS, 8) != 0) hal_panic("mm: swap device error");
}

static int slot_alloc(struct fw_mm* mm, uint64_t* slot) {
    if (mm->swap_used >= mm->swap_slots) return FW_ERR_NOMEM;
    for (uint64_t n = 0; n < mm->swap_slots; ++n) {
        uint64_t s = mm->swap_cursor;
        mm->swap_cursor = s + 1 == mm->swap_slots ? 0 : s + 1;
        uint64_t bit = (uint64_t)1 << (s & 63);
        if (!(mm->swap_bitmap[s >> 6] & bit)) {
            mm->swap_bitmap[s >> 6] |= bit;
            ++mm->swap_used;
            *slot = s;
            return FW_OK;
        }
    }
    return FW_ERR_NOMEM;
}

static void slot_free(struct fw_mm* mm, uint64_t slot) {
    uint64_t bit = (uint64_t)1 << (slot & 63);
    if (slot >= mm->swap_slots || !(mm->swap_bitmap[slot >> 6] & bit))
        hal_panic("mm: freeing a swap slot that is not in use");
    mm->swap_bitmap[slot >> 6] &= ~bit;
    --mm->swap_used;
}

/* ---- page tables -------------------------------------------------------------------------- */

static int evict_one(struct fw_mm* mm, unsigned core);

/* A zeroed table frame (zeroed before anything links to it, so a walker never sees stale
 * entries). Under memory pressure a data page is evicted to make room. */
static hal_paddr_t alloc_table(struct fw_mm* mm, unsigned core) {
    hal_paddr_t t = frames_alloc(&mm->k.frames);
    while (t == 0 && evict_one(mm, core) == FW_OK)
        t = frames_alloc(&mm->k.frames);
    if (t == 0) return 0;
    hal_zero_frame(t, page_bytes(mm));
    ++mm->k.tables_in_use;
    return t;
}

static void free_table(struct fw_mm* mm, hal_paddr_t t) {
    frame_put(&mm->k.frames, t);
    --mm->k.tables_in_use;
}

/* Physical address of va's level-0 PTE under root. With create, missing tables are made.
 * Without, FW_ERR_NOT_MAPPED with *stop the level of the invalid entry (the span it covers is
 * empty). FW_ERR_CORRUPT for a reserved entry or a superpage (not managed), FW_ERR_NOMEM. */
static int leaf_slot(struct fw_mm* mm, hal_paddr_t root, uint64_t va, int create, unsigned core,
                     hal_paddr_t* slot, unsigned* stop) {
    const struct pte_format* fmt = fmt_of(mm);
    if (!pte_va_canonical(fmt, va)) return FW_ERR_INVAL;
    hal_paddr_t table = root;
    for (unsigned l = fmt->levels - 1; l > 0; --l) {
        hal_paddr_t s = table + (hal_paddr_t)pte_index(fmt, va, l) * fmt->pte_bytes;
        uint64_t raw = read_pte(mm, s);
        struct pte_decoded d;
        pte_decode(fmt, raw, l, &d, 0);
        if (d.kind == PTE_KIND_TABLE) {
            table = d.ppn << fmt->page_shift;
            continue;
        }
        if (d.kind != PTE_KIND_INVALID || raw != 0) return FW_ERR_CORRUPT;
        if (!create) {
            *stop = l;
            return FW_ERR_NOT_MAPPED;
        }
        hal_paddr_t next = alloc_table(mm, core);
        if (next == 0) return FW_ERR_NOMEM;
        write_pte(mm, s, pte_encode_table(fmt, next >> fmt->page_shift));
        table = next;
    }
    *slot = table + (hal_paddr_t)pte_index(fmt, va, 0) * fmt->pte_bytes;
    return FW_OK;
}

typedef int (*leaf_visitor)(struct fw_mm* mm, struct fw_proc* p, uint64_t va, hal_paddr_t slot,
                            uint64_t raw, void* ctx);

/* Calls fn for every non-zero level-0 PTE of p in [lo, hi), skipping spans without tables. */
static int visit_range(struct fw_mm* mm, struct fw_proc* p, uint64_t lo, uint64_t hi,
                       leaf_visitor fn, void* ctx) {
    const struct pte_format* fmt = fmt_of(mm);
    uint64_t va = lo;
    while (va < hi) {
        hal_paddr_t slot = 0;
        unsigned stop = 0;
        uint64_t next = va + page_bytes(mm);
        int status = leaf_slot(mm, p->root, va, 0, 0, &slot, &stop);
        if (status == FW_ERR_NOT_MAPPED) {
            uint64_t span = (uint64_t)1 << pte_level_shift(fmt, stop);
            next = (va & ~(span - 1)) + span;
        } else if (status != FW_OK) {
            return status;
        } else {
            uint64_t raw = read_pte(mm, slot);
            if (raw != 0) {
                status = fn(mm, p, va, slot, raw, ctx);
                if (status != FW_OK) return status;
            }
        }
        if (next <= va) break; /* wrapped past the top of the address space */
        va = next;
    }
    return FW_OK;
}

/* Frees the table tree under `table` (level `level`), post-order. Leaves must be released
 * already. Only non-leaf tables are scanned. */
static void free_tables(struct fw_mm* mm, hal_paddr_t table, unsigned level) {
    const struct pte_format* fmt = fmt_of(mm);
    if (level > 0) {
        uint64_t entries = (uint64_t)1 << fmt->index_bits;
        for (uint64_t i = 0; i < entries; ++i) {
            uint64_t raw = read_pte(mm, table + i * fmt->pte_bytes);
            if (raw == 0) continue;
            struct pte_decoded d;
            pte_decode(fmt, raw, level, &d, 0);
            if (d.kind == PTE_KIND_TABLE) free_tables(mm, d.ppn << fmt->page_shift, level - 1);
        }
    }
    free_table(mm, table);
}

/* ---- data frames -------------------------------------------------------------------------- */

/* A data frame (refcount 1), evicting pages while the limit or the allocator says no. The
 * caller sets its reverse-map entry. 0 when nothing can be evicted. */
static hal_paddr_t alloc_data_frame(struct fw_mm* mm, unsigned core) {
    while (mm->limit != 0 && mm->data_frames >= mm->limit)
        if (evict_one(mm, core) != FW_OK) return 0;
    hal_paddr_t pa = frames_alloc(&mm->k.frames);
    while (pa == 0 && evict_one(mm, core) == FW_OK)
        pa = frames_alloc(&mm->k.frames);
    if (pa == 0) return 0;
    ++mm->data_frames;
    return pa;
}

static void set_rmap(struct fw_mm* mm, hal_paddr_t pa, int pid, uint64_t va, uint32_t flags) {
    struct fw_frame_rmap* r = &mm->rmap[frame_index_of(mm, pa)];
    r->va = va;
    r->pid = pid;
    r->flags = flags;
}

/* Drops one reference of process p (or of a shm object, p NULL) to data frame pa. */
static void drop_data_frame(struct fw_mm* mm, struct fw_proc* p, hal_paddr_t pa) {
    if (!is_managed_frame(mm, pa)) hal_panic("mm: PTE maps a frame outside the allocator");
    struct fw_frame_rmap* r = &mm->rmap[frame_index_of(mm, pa)];
    int64_t left = frame_put(&mm->k.frames, pa);
    if (left < 0) hal_panic("mm: dropping a frame that is not allocated");
    if (left == 0) {
        --mm->data_frames;
        r->pid = 0;
        r->flags = 0;
    } else if (p != 0 && r->pid == pid_of(mm, p)) {
        r->pid = PID_UNKNOWN; /* the other sharers map it at the same va */
    }
    if (p != 0 && p->stats.frames_in_use > 0) --p->stats.frames_in_use;
}

/* ---- eviction (clock / second chance) ----------------------------------------------------- */

/* The PTE slot and raw value through which process p maps frame ppn at va, or 0. */
static int maps_frame(struct fw_mm* mm, struct fw_proc* p, uint64_t va, uint64_t ppn,
                      hal_paddr_t* slot, uint64_t* raw) {
    unsigned stop = 0;
    if (leaf_slot(mm, p->root, va, 0, 0, slot, &stop) != FW_OK) return 0;
    *raw = read_pte(mm, *slot);
    struct pte_decoded d;
    pte_decode(fmt_of(mm), *raw, 0, &d, 0);
    return d.kind == PTE_KIND_LEAF && d.ppn == ppn;
}

static struct fw_proc* find_owner(struct fw_mm* mm, struct fw_frame_rmap* r, uint64_t ppn,
                                  hal_paddr_t* slot, uint64_t* raw) {
    struct fw_proc* p = r->pid > 0 ? proc_of(mm, r->pid) : 0;
    if (p != 0 && maps_frame(mm, p, r->va, ppn, slot, raw)) return p;
    for (int i = 0; i < FW_MAX_PROCESSES; ++i) {
        p = &mm->procs[i];
        if (p->live && maps_frame(mm, p, r->va, ppn, slot, raw)) {
            r->pid = i + 1;
            return p;
        }
    }
    return 0;
}

/* Evicts one private data frame mapped by exactly one process: the clock hand sweeps the frames;
 * a recently used page (A set) gets a second chance (A cleared, translation invalidated so the
 * next access sets A again), the first one with A clear goes to swap. */
static int evict_one(struct fw_mm* mm, unsigned core) {
    if (mm->swap_mmio == 0 || mm->rmap == 0) return FW_ERR_NOMEM;
    const struct pte_format* fmt = fmt_of(mm);
    uint32_t count = mm->k.frames.count;
    for (uint64_t n = 0; n < 2 * (uint64_t)count + 1; ++n) {
        uint32_t idx = mm->clock_hand;
        mm->clock_hand = idx + 1 == count ? 0 : idx + 1;
        struct fw_frame_rmap* r = &mm->rmap[idx];
        if (!(r->flags & RMAP_PRIVATE)) continue;
        hal_paddr_t pa = mm->k.frames.base + ((hal_paddr_t)idx << fmt->page_shift);
        if (frame_refcount(&mm->k.frames, pa) != 1) continue;
        hal_paddr_t slot = 0;
        uint64_t raw = 0;
        uint64_t ppn = pa >> fmt->page_shift;
        struct fw_proc* owner = find_owner(mm, r, ppn, &slot, &raw);
        if (owner == 0) continue; /* a PROT_NONE page (kept resident) */
        struct pte_decoded d;
        pte_decode(fmt, raw, 0, &d, 0);
        if (d.flags & PTE_F_A) {
            write_pte(mm, slot, pte_encode_leaf(fmt, ppn, d.flags & ~PTE_F_A, 0));
            invalidate_owner_page(mm, owner, core, r->va);
            continue;
        }
        uint64_t swap_slot = 0;
        if (slot_alloc(mm, &swap_slot) != FW_OK) return FW_ERR_NOMEM;
        /* Unmap first, then write: the page cannot change once no translation reaches it,
         * on this core or on the owner's. */
        write_pte(mm, slot, pte_encode_swap(fmt, swap_slot));
        invalidate_owner_page(mm, owner, core, r->va);
        swap_io(mm, SWAP_CMD_WRITE, swap_slot, pa);
        ++owner->stats.swap_outs;
        drop_data_frame(mm, owner, pa);
        return FW_OK;
    }
    return FW_ERR_NOMEM;
}

/* ---- init, processes ---------------------------------------------------------------------- */

uint64_t fw_mm_size(void) {
    return sizeof(struct fw_mm);
}

int fw_mm_init(struct fw_mm* mm, const struct fw_mm_config* config, uint64_t* swap_slot_bitmap) {
    if (config->kernel.page_level != 0) return FW_ERR_UNSUPPORTED;
    if (config->rmap == 0 || config->cores == 0 || config->cores > FW_MAX_CORES ||
        config->asid_bits > 16)
        return FW_ERR_INVAL;
    if (config->swap_mmio != 0 && (swap_slot_bitmap == 0 || config->swap_slots == 0))
        return FW_ERR_INVAL;
    fw_memset(mm, 0, sizeof *mm);
    int status = fw_kernel_init(&mm->k, &config->kernel);
    if (status != FW_OK) return status;
    mm->asid_bits = config->asid_bits;
    mm->cores = config->cores;
    mm->asid_max = config->asid_bits == 0 ? 0 : ((uint32_t)1 << config->asid_bits) - 1;
    mm->limit = config->memory_limit_frames;
    mm->switch_cycles = config->switch_cycles;
    mm->fork_cycles = config->fork_cycles;
    mm->rmap = config->rmap;
    fw_memset(mm->rmap, 0, (uint64_t)config->kernel.frame_count * sizeof *mm->rmap);
    for (unsigned c = 0; c < FW_MAX_CORES; ++c) {
        mm->asid_next[c] = 1;
        mm->asid_cursor[c] = 1;
    }
    if (config->swap_mmio != 0) {
        uint64_t max_slots = pte_soft_max_value(&config->kernel.format) + 1;
        mm->swap_mmio = config->swap_mmio;
        mm->swap_slots = config->swap_slots < max_slots ? config->swap_slots : max_slots;
        mm->swap_bitmap = swap_slot_bitmap;
        fw_memset(swap_slot_bitmap, 0, ((config->swap_slots + 63) / 64) * 8);
        mm->bounce = frames_alloc(&mm->k.frames);
        if (mm->bounce == 0) return FW_ERR_NOMEM;
    }
    return FW_OK;
}

static struct fw_proc* new_proc(struct fw_mm* mm, unsigned core) {
    /* Round robin over the slots, so that a dead process's stats stay readable for a while. */
    for (int n = 0; n < FW_MAX_PROCESSES; ++n) {
        int i = (mm->pid_cursor + n) % FW_MAX_PROCESSES;
        struct fw_proc* p = &mm->procs[i];
        if (p->live) continue;
        mm->pid_cursor = (i + 1) % FW_MAX_PROCESSES;
        fw_memset(p, 0, sizeof *p);
        p->live = 1;
        p->used = 1;
        p->core = core;
        return p;
    }
    return 0;
}

int fw_process_create(struct fw_mm* mm, unsigned core, int* pid) {
    if (core >= mm->cores) return FW_ERR_INVAL;
    struct fw_proc* p = new_proc(mm, core);
    if (p == 0) return FW_ERR_LIMIT;
    p->root = alloc_table(mm, core);
    if (p->root == 0) {
        p->live = 0;
        return FW_ERR_NOMEM;
    }
    *pid = pid_of(mm, p);
    return FW_OK;
}

struct release_ctx {
    int clear; /* unmap: clear the PTE and invalidate; exit: the tables go anyway */
    unsigned core;
};

static int release_leaf(struct fw_mm* mm, struct fw_proc* p, uint64_t va, hal_paddr_t slot,
                        uint64_t raw, void* vctx) {
    const struct release_ctx* ctx = (const struct release_ctx*)vctx;
    const struct pte_format* fmt = fmt_of(mm);
    uint64_t value = 0;
    int present = 0;
    if (pte_decode_swap(fmt, raw, &value)) {
        slot_free(mm, value);
    } else if (pte_decode_protnone(fmt, raw, &value)) {
        drop_data_frame(mm, p, value << fmt->page_shift);
    } else {
        struct pte_decoded d;
        pte_decode(fmt, raw, 0, &d, 0);
        if (d.kind != PTE_KIND_LEAF) return FW_ERR_CORRUPT;
        drop_data_frame(mm, p, d.ppn << fmt->page_shift);
        present = 1;
    }
    if (ctx->clear) {
        write_pte(mm, slot, 0);
        if (present) invalidate_page(mm, p, ctx->core, va);
    }
    return FW_OK;
}

/* Everything p owns goes back: data frames (refcount -1), swap slots, tables, ASIDs. */
static void release_process(struct fw_mm* mm, struct fw_proc* p) {
    struct release_ctx ctx = {0, p->core};
    for (unsigned i = 0; i < p->nvmas; ++i) {
        if (p->vmas[i].guard) continue;
        if (visit_range(mm, p, p->vmas[i].start, p->vmas[i].end, release_leaf, &ctx) != FW_OK)
            hal_panic("mm: corrupt page table while releasing a process");
    }
    free_tables(mm, p->root, fmt_of(mm)->levels - 1);
    p->root = 0;
    p->nvmas = 0;
    /* Its ASIDs are dropped without a flush: the entries die when the ASID is next handed out
     * (allocation after the first wrap always flushes), and nobody runs under them meanwhile. */
    for (unsigned c = 0; c < FW_MAX_CORES; ++c) {
        p->asid[c] = 0;
        if (mm->running[c] == pid_of(mm, p)) mm->running[c] = 0;
    }
    p->stats.frames_in_use = 0;
    p->live = 0;
}

int fw_process_exit(struct fw_mm* mm, int pid) {
    struct fw_proc* p = proc_of(mm, pid);
    if (p == 0) return FW_ERR_INVAL;
    release_process(mm, p);
    return FW_OK;
}

/* ---- VMAs --------------------------------------------------------------------------------- */

static void vma_copy(struct fw_vma* dst, const struct fw_vma* src) {
    dst->start = src->start;
    dst->end = src->end;
    dst->pgoff = src->pgoff;
    dst->shm_id = src->shm_id;
    dst->prot = src->prot;
    dst->kind = src->kind;
    dst->guard = src->guard;
    dst->unused = 0;
}

static int vma_find(const struct fw_proc* p, uint64_t va) {
    for (unsigned i = 0; i < p->nvmas; ++i)
        if (va >= p->vmas[i].start && va < p->vmas[i].end) return (int)i;
    return -1;
}

static int vma_overlaps(const struct fw_proc* p, uint64_t start, uint64_t end) {
    for (unsigned i = 0; i < p->nvmas; ++i)
        if (start < p->vmas[i].end && p->vmas[i].start < end) return 1;
    return 0;
}

/* Keeps the array sorted by start. The caller checked the capacity. */
static void vma_insert(struct fw_proc* p, const struct fw_vma* v) {
    unsigned i = p->nvmas;
    while (i > 0 && p->vmas[i - 1].start > v->start) {
        vma_copy(&p->vmas[i], &p->vmas[i - 1]);
        --i;
    }
    vma_copy(&p->vmas[i], v);
    ++p->nvmas;
}

static void vma_remove(struct fw_proc* p, unsigned i) {
    for (; i + 1 < p->nvmas; ++i)
        vma_copy(&p->vmas[i], &p->vmas[i + 1]);
    --p->nvmas;
}

/* Number of VMAs that strictly contain addr (0 or 1): a split there needs one more slot. */
static unsigned needs_split(const struct fw_proc* p, uint64_t addr) {
    int i = vma_find(p, addr);
    return i >= 0 && p->vmas[i].start < addr ? 1u : 0u;
}

static void vma_split(struct fw_mm* mm, struct fw_proc* p, uint64_t addr) {
    int i = vma_find(p, addr);
    if (i < 0 || p->vmas[i].start == addr) return;
    struct fw_vma upper;
    vma_copy(&upper, &p->vmas[i]);
    upper.start = addr;
    upper.pgoff += (addr - p->vmas[i].start) >> fmt_of(mm)->page_shift;
    p->vmas[i].end = addr;
    vma_insert(p, &upper);
}

/* Alignment, length, wrap and canonical checks shared by map / unmap / protect. */
static int check_range(const struct fw_mm* mm, uint64_t start, uint64_t len) {
    uint64_t mask = page_bytes(mm) - 1;
    if ((start & mask) != 0 || (len & mask) != 0 || len == 0) return FW_ERR_INVAL;
    uint64_t last = start + len - 1;
    if (last < start) return FW_ERR_INVAL;
    const struct pte_format* fmt = fmt_of(mm);
    /* Both ends canonical and in the same half: nothing in between is then non-canonical. */
    if (!pte_va_canonical(fmt, start) || !pte_va_canonical(fmt, last) ||
        (start >> 63) != (last >> 63))
        return FW_ERR_INVAL;
    return FW_OK;
}

static int check_prot(unsigned prot) {
    if (prot & ~(unsigned)(FW_PROT_R | FW_PROT_W | FW_PROT_X)) return FW_ERR_INVAL;
    if ((prot & FW_PROT_W) && (prot & FW_PROT_X)) return FW_ERR_WX;
    /* Write-only cannot be expressed (RISC-V reserves W without R; x86 always allows reads). */
    if ((prot & FW_PROT_W) && !(prot & FW_PROT_R)) return FW_ERR_INVAL;
    return FW_OK;
}

static struct fw_shm_obj* shm_of(struct fw_mm* mm, int shm_id) {
    if (shm_id < 0 || shm_id >= FW_MAX_SHM || !mm->shm[shm_id].live) return 0;
    return &mm->shm[shm_id];
}

int fw_vma_map(struct fw_mm* mm, int pid, uint64_t start, uint64_t len, unsigned prot,
               enum fw_vma_kind kind, int shm_id) {
    struct fw_proc* p = proc_of(mm, pid);
    if (p == 0) return FW_ERR_INVAL;
    int status = check_prot(prot);
    if (status != FW_OK) return status;
    status = check_range(mm, start, len);
    if (status != FW_OK) return status;
    if (kind != FW_VMA_ANON && kind != FW_VMA_SHARED && kind != FW_VMA_STACK) return FW_ERR_INVAL;
    if (kind == FW_VMA_SHARED) {
        struct fw_shm_obj* o = shm_of(mm, shm_id);
        if (o == 0 || (len >> fmt_of(mm)->page_shift) > o->pages) return FW_ERR_INVAL;
    }
    uint64_t lo = start;
    if (kind == FW_VMA_STACK) {
        lo = start - page_bytes(mm);
        if (lo > start || check_range(mm, lo, page_bytes(mm)) != FW_OK) return FW_ERR_INVAL;
    }
    if (vma_overlaps(p, lo, start + len)) return FW_ERR_OVERLAP;
    if (p->nvmas + (kind == FW_VMA_STACK ? 2u : 1u) > FW_MAX_VMAS) return FW_ERR_LIMIT;
    struct fw_vma v;
    v.start = start;
    v.end = start + len;
    v.pgoff = 0;
    v.shm_id = kind == FW_VMA_SHARED ? shm_id : -1;
    v.prot = (uint8_t)prot;
    v.kind = (uint8_t)kind;
    v.guard = 0;
    v.unused = 0;
    vma_insert(p, &v);
    if (kind == FW_VMA_STACK) {
        v.start = lo;
        v.end = start;
        v.prot = 0;
        v.guard = 1;
        vma_insert(p, &v);
    }
    return FW_OK;
}

int fw_vma_unmap(struct fw_mm* mm, int pid, uint64_t start, uint64_t len) {
    struct fw_proc* p = proc_of(mm, pid);
    if (p == 0) return FW_ERR_INVAL;
    int status = check_range(mm, start, len);
    if (status != FW_OK) return status;
    uint64_t end = start + len;
    if (p->nvmas + needs_split(p, start) + needs_split(p, end) > FW_MAX_VMAS) return FW_ERR_LIMIT;
    vma_split(mm, p, start);
    vma_split(mm, p, end);
    for (unsigned i = 0; i < p->nvmas;) {
        if (p->vmas[i].start >= start && p->vmas[i].end <= end)
            vma_remove(p, i);
        else
            ++i;
    }
    /* Empty tables stay (reused by later mappings, freed at exit). */
    struct release_ctx ctx = {1, p->core};
    return visit_range(mm, p, start, end, release_leaf, &ctx);
}

struct protect_ctx {
    const struct fw_vma* vma;
};

/* Rewrites one PTE for the VMA's new protection. A/D are kept; a private frame that is still
 * shared after fork stays read-only (COW); prot 0 parks the frame in a protnone entry. */
static int protect_leaf(struct fw_mm* mm, struct fw_proc* p, uint64_t va, hal_paddr_t slot,
                        uint64_t raw, void* vctx) {
    const struct fw_vma* v = ((const struct protect_ctx*)vctx)->vma;
    const struct pte_format* fmt = fmt_of(mm);
    uint64_t ppn = 0;
    unsigned keep = 0;
    if (pte_decode_swap(fmt, raw, &ppn)) return FW_OK; /* the swap-in maps it with the VMA's prot */
    if (!pte_decode_protnone(fmt, raw, &ppn)) {
        struct pte_decoded d;
        pte_decode(fmt, raw, 0, &d, 0);
        if (d.kind != PTE_KIND_LEAF) return FW_ERR_CORRUPT;
        ppn = d.ppn;
        keep = d.flags & (PTE_F_A | PTE_F_D | PTE_F_G);
    }
    uint64_t updated;
    if (v->prot == 0) {
        updated = pte_encode_protnone(fmt, ppn);
    } else {
        unsigned flags = prot_flags(v->prot) | keep;
        if (is_private(v) && frame_refcount(&mm->k.frames, ppn << fmt->page_shift) > 1)
            flags &= ~PTE_F_W;
        updated = pte_encode_leaf(fmt, ppn, flags, 0);
    }
    if (updated != raw) {
        write_pte(mm, slot, updated);
        invalidate_page(mm, p, p->core, va);
    }
    return FW_OK;
}

int fw_vma_protect(struct fw_mm* mm, int pid, uint64_t start, uint64_t len, unsigned prot) {
    struct fw_proc* p = proc_of(mm, pid);
    if (p == 0) return FW_ERR_INVAL;
    int status = check_prot(prot);
    if (status != FW_OK) return status;
    status = check_range(mm, start, len);
    if (status != FW_OK) return status;
    uint64_t end = start + len;
    /* The range must be covered by VMAs, with no hole and no guard page (mprotect's ENOMEM). */
    for (uint64_t at = start; at < end;) {
        int i = vma_find(p, at);
        if (i < 0 || p->vmas[i].guard) return FW_ERR_NOT_MAPPED;
        at = p->vmas[i].end;
    }
    if (p->nvmas + needs_split(p, start) + needs_split(p, end) > FW_MAX_VMAS) return FW_ERR_LIMIT;
    vma_split(mm, p, start);
    vma_split(mm, p, end);
    for (unsigned i = 0; i < p->nvmas; ++i) {
        struct fw_vma* v = &p->vmas[i];
        if (v->start < start || v->end > end) continue;
        v->prot = (uint8_t)prot;
        struct protect_ctx ctx = {v};
        status = visit_range(mm, p, v->start, v->end, protect_leaf, &ctx);
        if (status != FW_OK) return status;
    }
    return FW_OK;
}

int fw_shm_create(struct fw_mm* mm, uint64_t len, int* shm_id) {
    uint64_t mask = page_bytes(mm) - 1;
    if (len == 0 || (len & mask) != 0 || (len >> fmt_of(mm)->page_shift) > FW_SHM_MAX_PAGES)
        return FW_ERR_INVAL;
    for (int i = 0; i < FW_MAX_SHM; ++i) {
        struct fw_shm_obj* o = &mm->shm[i];
        if (o->live) continue;
        fw_memset(o, 0, sizeof *o);
        o->live = 1;
        o->pages = len >> fmt_of(mm)->page_shift;
        *shm_id = i;
        return FW_OK;
    }
    return FW_ERR_LIMIT;
}

int fw_shm_destroy(struct fw_mm* mm, int shm_id) {
    struct fw_shm_obj* o = shm_of(mm, shm_id);
    if (o == 0) return FW_ERR_INVAL;
    for (int i = 0; i < FW_MAX_PROCESSES; ++i) {
        const struct fw_proc* p = &mm->procs[i];
        if (!p->live) continue;
        for (unsigned v = 0; v < p->nvmas; ++v)
            if (p->vmas[v].kind == FW_VMA_SHARED && p->vmas[v].shm_id == shm_id) return FW_ERR_BUSY;
    }
    for (uint64_t i = 0; i < o->pages; ++i)
        if (o->frame[i] != 0) drop_data_frame(mm, 0, o->frame[i]);
    o->live = 0;
    return FW_OK;
}

/* ---- fork --------------------------------------------------------------------------------- */

struct fork_ctx {
    struct fw_proc* child;
    const struct fw_vma* vma;
    unsigned core;
    int parent_changed;
};

static int fork_leaf(struct fw_mm* mm, struct fw_proc* p, uint64_t va, hal_paddr_t slot,
                     uint64_t raw, void* vctx) {
    struct fork_ctx* ctx = (struct fork_ctx*)vctx;
    const struct pte_format* fmt = fmt_of(mm);
    uint64_t child_raw = raw;
    uint64_t value = 0;
    hal_paddr_t frame = 0;
    int swap_copy = 0;
    if (pte_decode_swap(fmt, raw, &value)) {
        /* Slots have no reference count: the child gets its own copy of the page, through the
         * reserved bounce frame. */
        uint64_t copy = 0;
        if (slot_alloc(mm, &copy) != FW_OK) return FW_ERR_NOMEM;
        swap_io(mm, SWAP_CMD_READ, value, mm->bounce);
        swap_io(mm, SWAP_CMD_WRITE, copy, mm->bounce);
        child_raw = pte_encode_swap(fmt, copy);
        value = copy;
        swap_copy = 1;
    } else if (pte_decode_protnone(fmt, raw, &value)) {
        frame = value << fmt->page_shift;
    } else {
        struct pte_decoded d;
        pte_decode(fmt, raw, 0, &d, 0);
        if (d.kind != PTE_KIND_LEAF) return FW_ERR_CORRUPT;
        frame = d.ppn << fmt->page_shift;
        if (is_private(ctx->vma) && (d.flags & PTE_F_W)) {
            child_raw = pte_encode_leaf(fmt, d.ppn, d.flags & ~PTE_F_W, 0);
            write_pte(mm, slot, child_raw);
            ctx->parent_changed = 1;
        }
    }
    /* Take the reference before allocating tables: an eviction meanwhile must not pick it. */
    if (frame != 0 && frame_get(&mm->k.frames, frame) < 0)
        hal_panic("mm: fork found a PTE to a free frame");
    hal_paddr_t child_slot = 0;
    unsigned stop = 0;
    int status = leaf_slot(mm, ctx->child->root, va, 1, ctx->core, &child_slot, &stop);
    if (status != FW_OK) {
        if (frame != 0) frame_put(&mm->k.frames, frame);
        if (swap_copy) slot_free(mm, value);
        return status;
    }
    write_pte(mm, child_slot, child_raw);
    if (frame != 0) count_frame_mapped(ctx->child);
    (void)p;
    return FW_OK;
}

int fw_process_fork(struct fw_mm* mm, int parent, unsigned child_core, int* child) {
    struct fw_proc* p = proc_of(mm, parent);
    if (p == 0 || child_core >= mm->cores) return FW_ERR_INVAL;
    hal_charge_cycles(mm->fork_cycles);
    struct fw_proc* c = new_proc(mm, child_core);
    if (c == 0) return FW_ERR_LIMIT;
    c->root = alloc_table(mm, p->core);
    if (c->root == 0) {
        c->live = 0;
        return FW_ERR_NOMEM;
    }
    for (unsigned i = 0; i < p->nvmas; ++i)
        vma_copy(&c->vmas[i], &p->vmas[i]);
    c->nvmas = p->nvmas;
    struct fork_ctx ctx = {c, 0, p->core, 0};
    int status = FW_OK;
    for (unsigned i = 0; i < p->nvmas && status == FW_OK; ++i) {
        if (p->vmas[i].guard) continue;
        ctx.vma = &p->vmas[i];
        status = visit_range(mm, p, p->vmas[i].start, p->vmas[i].end, fork_leaf, &ctx);
    }
    /* The parent's writable entries became read-only: drop its cached translations (one ASID
     * flush rather than one invalidation per page). */
    if (ctx.parent_changed) {
        if (mm->asid_bits == 0) {
            hal_tlb_invalidate(HAL_FLUSH_ALL, 0, 0);
            ++p->stats.tlb_flushes;
        } else if (p->asid[p->core] != 0) {
            hal_tlb_invalidate(HAL_FLUSH_ASID, 0, p->asid[p->core]);
            ++p->stats.tlb_flushes;
        }
    }
    if (status != FW_OK) {
        release_process(mm, c); /* the parent keeps read-only PTEs: its COW faults fix them */
        return status;
    }
    *child = pid_of(mm, c);
    return FW_OK;
}

/* ---- ASIDs and context switches ----------------------------------------------------------- */

static int asid_held(const struct fw_mm* mm, unsigned core, uint32_t asid) {
    for (int i = 0; i < FW_MAX_PROCESSES; ++i)
        if (mm->procs[i].live && mm->procs[i].asid[core] == asid) return 1;
    return 0;
}

static uint16_t asid_alloc(struct fw_mm* mm, unsigned core, struct fw_proc* p) {
    if (mm->asid_next[core] <= mm->asid_max) return (uint16_t)mm->asid_next[core]++;
    uint32_t asid = 0;
    /* A free ASID: at most FW_MAX_PROCESSES are held, so a short scan finds one if any. */
    uint32_t tries = mm->asid_max < FW_MAX_PROCESSES + 1 ? mm->asid_max : FW_MAX_PROCESSES + 1;
    for (uint32_t n = 0; n < tries && asid == 0; ++n) {
        uint32_t a = mm->asid_cursor[core];
        mm->asid_cursor[core] = a >= mm->asid_max ? 1 : a + 1;
        if (!asid_held(mm, core, a)) asid = a;
    }
    if (asid == 0) {
        /* All in use: take the least recently switched-to holder's. */
        struct fw_proc* victim = 0;
        for (int i = 0; i < FW_MAX_PROCESSES; ++i) {
            struct fw_proc* q = &mm->procs[i];
            if (!q->live || q->asid[core] == 0 || q == p) continue;
            if (victim == 0 || q->asid_stamp[core] < victim->asid_stamp[core]) victim = q;
        }
        if (victim == 0) hal_panic("mm: no ASID to recycle");
        asid = victim->asid[core];
        victim->asid[core] = 0;
    }
    /* It may still tag entries of a previous owner. */
    hal_tlb_invalidate(HAL_FLUSH_ASID, 0, (uint16_t)asid);
    ++p->stats.tlb_flushes;
    return (uint16_t)asid;
}

int fw_switch_to(struct fw_mm* mm, unsigned core, int pid) {
    struct fw_proc* p = proc_of(mm, pid);
    if (p == 0 || core >= mm->cores) return FW_ERR_INVAL;
    hal_charge_cycles(mm->switch_cycles);
    if (mm->asid_bits == 0) {
        /* Untagged TLB: the previous process's entries would translate the same VAs (homonyms). */
        hal_set_root(p->root, 0);
        hal_tlb_invalidate(HAL_FLUSH_ALL, 0, 0);
        ++p->stats.tlb_flushes;
    } else {
        if (p->asid[core] == 0) p->asid[core] = asid_alloc(mm, core, p);
        p->asid_stamp[core] = ++mm->stamp;
        hal_set_root(p->root, p->asid[core]);
    }
    mm->running[core] = pid;
    p->core = core;
    ++p->stats.context_switches;
    return FW_OK;
}

/* ---- faults ------------------------------------------------------------------------------- */

struct fault_state {
    struct fw_mm* mm;
    struct fw_proc* p;
    unsigned core;
    uint64_t page_va;
    const struct fw_vma* vma;
    struct fw_fault_result* result;
};

static void protection(struct fault_state* s, enum fw_kill_reason reason) {
    s->result->cls = FW_FAULT_CLASS_PROTECTION;
    s->result->reason = reason;
}

/* Maps a present leaf for frame pa at the faulting page with the VMA's protection. */
static void map_leaf(struct fault_state* s, hal_paddr_t slot, hal_paddr_t pa) {
    const struct pte_format* fmt = fmt_of(s->mm);
    write_pte(s->mm, slot,
              pte_encode_leaf(fmt, pa >> fmt->page_shift, prot_flags(s->vma->prot), 0));
    count_frame_mapped(s->p);
}

static void demand_zero(struct fault_state* s, hal_paddr_t slot) {
    struct fw_mm* mm = s->mm;
    if (s->vma->kind == FW_VMA_SHARED) {
        struct fw_shm_obj* o = shm_of(mm, s->vma->shm_id);
        uint64_t page = s->vma->pgoff + ((s->page_va - s->vma->start) >> fmt_of(mm)->page_shift);
        if (o == 0 || page >= o->pages) {
            protection(s, FW_KILL_NO_VMA);
            return;
        }
        if (o->frame[page] == 0) {
            hal_paddr_t pa = alloc_data_frame(mm, s->core);
            if (pa == 0) {
                protection(s, FW_KILL_OUT_OF_MEMORY);
                return;
            }
            hal_zero_frame(pa, page_bytes(mm));
            set_rmap(mm, pa, 0, 0, RMAP_SHARED);
            o->frame[page] = pa; /* the object's own reference */
        }
        frame_get(&mm->k.frames, o->frame[page]);
        map_leaf(s, slot, o->frame[page]);
        s->result->cls = FW_FAULT_CLASS_DEMAND_ZERO;
        return;
    }
    hal_paddr_t pa = alloc_data_frame(mm, s->core);
    if (pa == 0) {
        protection(s, FW_KILL_OUT_OF_MEMORY);
        return;
    }
    hal_zero_frame(pa, page_bytes(mm));
    set_rmap(mm, pa, pid_of(mm, s->p), s->page_va, RMAP_PRIVATE);
    map_leaf(s, slot, pa);
    s->result->cls = FW_FAULT_CLASS_DEMAND_ZERO;
}

static void swap_in(struct fault_state* s, hal_paddr_t slot, uint64_t swap_slot) {
    struct fw_mm* mm = s->mm;
    hal_paddr_t pa = alloc_data_frame(mm, s->core);
    if (pa == 0) {
        protection(s, FW_KILL_OUT_OF_MEMORY);
        return;
    }
    swap_io(mm, SWAP_CMD_READ, swap_slot, pa);
    slot_free(mm, swap_slot);
    set_rmap(mm, pa, pid_of(mm, s->p), s->page_va, RMAP_PRIVATE);
    map_leaf(s, slot, pa);
    ++s->p->stats.swap_ins;
    s->result->cls = FW_FAULT_CLASS_SWAP_IN;
}

/* Write to a present read-only page of a writable private VMA. */
static void cow(struct fault_state* s, hal_paddr_t slot, const struct pte_decoded* d) {
    struct fw_mm* mm = s->mm;
    const struct pte_format* fmt = fmt_of(mm);
    hal_paddr_t old = d->ppn << fmt->page_shift;
    if (frame_refcount(&mm->k.frames, old) > 1) {
        hal_paddr_t pa = alloc_data_frame(mm, s->core);
        if (pa == 0) {
            protection(s, FW_KILL_OUT_OF_MEMORY);
            return;
        }
        hal_copy_frame(pa, old, page_bytes(mm));
        set_rmap(mm, pa, pid_of(mm, s->p), s->page_va, RMAP_PRIVATE);
        write_pte(mm, slot,
                  pte_encode_leaf(fmt, pa >> fmt->page_shift, prot_flags(s->vma->prot), 0));
        invalidate_page(mm, s->p, s->core, s->page_va);
        drop_data_frame(mm, s->p, old);
        count_frame_mapped(s->p);
        ++s->p->stats.pages_copied;
    } else {
        /* The last sharer: the frame is ours alone now, no copy needed. */
        write_pte(mm, slot, pte_encode_leaf(fmt, d->ppn, d->flags | PTE_F_W, 0));
        invalidate_page(mm, s->p, s->core, s->page_va);
        set_rmap(mm, old, pid_of(mm, s->p), s->page_va, RMAP_PRIVATE);
    }
    s->result->cls = FW_FAULT_CLASS_COW;
}

static unsigned access_flag(enum fw_access access) {
    return access == FW_ACCESS_WRITE ? PTE_F_W : access == FW_ACCESS_EXECUTE ? PTE_F_X : PTE_F_R;
}

static void present_fault(struct fault_state* s, hal_paddr_t slot, uint64_t raw,
                          enum fw_access access) {
    struct fw_mm* mm = s->mm;
    const struct pte_format* fmt = fmt_of(mm);
    struct pte_decoded d;
    pte_decode(fmt, raw, 0, &d, 0);
    if (d.kind != PTE_KIND_LEAF) {
        protection(s, FW_KILL_BAD_PTE);
        return;
    }
    unsigned need = access_flag(access);
    if ((d.flags & PTE_F_U) && (d.flags & need)) {
        /* The PTE allows it: another core fixed it first, a stale TLB entry, or a walker
         * without hardware A/D that needs them set. */
        unsigned ad = PTE_F_A | (access == FW_ACCESS_WRITE ? PTE_F_D : 0u);
        if ((d.flags & ad) != ad) write_pte(mm, slot, pte_set_flags(fmt, raw, ad));
        invalidate_page(mm, s->p, s->core, s->page_va);
        s->result->cls = FW_FAULT_CLASS_SPURIOUS;
        return;
    }
    if (access == FW_ACCESS_WRITE && is_private(s->vma)) {
        cow(s, slot, &d);
        return;
    }
    /* The VMA allows what the PTE does not (should not happen): bring the PTE in line. */
    write_pte(
        mm, slot,
        pte_encode_leaf(fmt, d.ppn, prot_flags(s->vma->prot) | (d.flags & (PTE_F_A | PTE_F_D)), 0));
    invalidate_page(mm, s->p, s->core, s->page_va);
    s->result->cls = FW_FAULT_CLASS_SPURIOUS;
}

static void handle_fault(struct fault_state* s, uint64_t va, enum fw_access access,
                         enum fw_fault_kind kind) {
    struct fw_mm* mm = s->mm;
    struct fw_proc* p = s->p;
    const struct pte_format* fmt = fmt_of(mm);
    if (kind != FW_FAULT_NOT_PRESENT && kind != FW_FAULT_PERMISSION) {
        protection(s, FW_KILL_BAD_PTE);
        return;
    }
    if (!pte_va_canonical(fmt, va)) {
        protection(s, FW_KILL_BAD_PTE);
        return;
    }
    int i = vma_find(p, va);
    if (i < 0) {
        protection(s, FW_KILL_NO_VMA);
        return;
    }
    s->vma = &p->vmas[i];
    if (s->vma->guard) {
        protection(s, FW_KILL_GUARD_PAGE);
        return;
    }
    unsigned prot = s->vma->prot;
    if (access == FW_ACCESS_WRITE && !(prot & FW_PROT_W)) {
        protection(s, FW_KILL_WRITE_RO);
        return;
    }
    if (access == FW_ACCESS_EXECUTE && !(prot & FW_PROT_X)) {
        protection(s, FW_KILL_EXEC_NX);
        return;
    }
    if (access == FW_ACCESS_READ && !(prot & FW_PROT_R)) {
        protection(s, FW_KILL_READ_NR);
        return;
    }
    s->page_va = va & ~(page_bytes(mm) - 1);
    hal_paddr_t slot = 0;
    unsigned stop = 0;
    int status = leaf_slot(mm, p->root, s->page_va, 1, s->core, &slot, &stop);
    if (status != FW_OK) {
        protection(s, status == FW_ERR_NOMEM ? FW_KILL_OUT_OF_MEMORY : FW_KILL_BAD_PTE);
        return;
    }
    uint64_t raw = read_pte(mm, slot);
    uint64_t value = 0;
    if (raw == 0) {
        demand_zero(s, slot);
    } else if (pte_decode_swap(fmt, raw, &value)) {
        swap_in(s, slot, value);
    } else if (pte_decode_protnone(fmt, raw, &value)) {
        /* Parked while the VMA had no rights; it has some now (protect rewrites these, so this
         * is only a safety net). */
        write_pte(mm, slot, pte_encode_leaf(fmt, value, prot_flags(prot) & ~PTE_F_W, 0));
        s->result->cls = FW_FAULT_CLASS_SPURIOUS;
    } else {
        present_fault(s, slot, raw, access);
    }
}

int fw_fault(struct fw_mm* mm, unsigned core, int pid, uint64_t va, enum fw_access access,
             enum fw_fault_kind kind, struct fw_fault_result* result) {
    result->cls = FW_FAULT_CLASS_NONE;
    result->reason = FW_KILL_NONE;
    struct fw_proc* p = proc_of(mm, pid);
    if (p == 0 || core >= mm->cores || kind == FW_FAULT_NONE) return FW_ERR_INVAL;
    hal_charge_cycles(mm->k.fault_entry_cycles);
    struct fault_state s = {mm, p, core, 0, 0, result};
    handle_fault(&s, va, access, kind);
    ++p->stats.faults[result->cls];
    if (result->cls == FW_FAULT_CLASS_PROTECTION) {
        p->killed = result->reason;
        release_process(mm, p); /* like exit: the host stops running it */
    }
    hal_charge_cycles(mm->k.fault_exit_cycles);
    return FW_OK;
}

/* ---- software TLB refill ------------------------------------------------------------------ */

int fw_tlb_refill(struct fw_mm* mm, unsigned core, int pid, uint64_t va, enum fw_access access) {
    struct fw_proc* p = proc_of(mm, pid);
    if (p == 0 || core >= mm->cores) return FW_ERR_INVAL;
    const struct pte_format* fmt = fmt_of(mm);
    uint64_t raw = 0;
    unsigned level = 0;
    hal_paddr_t slot = 0;
    if (pt_lookup(&mm->k, p->root, va, &raw, &level, &slot) != FW_OK) return FW_ERR_FAULT;
    struct pte_decoded d;
    pte_decode(fmt, raw, level, &d, 0);
    unsigned flags = d.flags | PTE_F_V;
    /* User-mode access: U plus the access's right (the walker's checkAccess). The tables this
     * firmware builds are permissive on the path, so the leaf alone decides, as for the walker. */
    if (!(flags & PTE_F_U) || !(flags & access_flag(access))) return FW_ERR_FAULT;
    /* The refill handler does what a hardware walker with A/D management does: it marks the
     * access (and a write) in the PTE, so that the clock algorithm sees it. */
    unsigned ad = PTE_F_A | (access == FW_ACCESS_WRITE ? PTE_F_D : 0u);
    if ((flags & ad) != ad) {
        write_pte(mm, slot, pte_set_flags(fmt, raw, ad));
        flags |= ad;
    }
    unsigned low_bits = level * fmt->index_bits;
    uint64_t low = low_bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << low_bits) - 1);
    struct hal_tlb_entry e;
    e.vpn = (va >> fmt->page_shift) & ~low;
    e.ppn = d.ppn;
    e.asid = mm->asid_bits == 0 ? 0 : p->asid[core];
    e.level = (uint8_t)level;
    e.flags = (uint8_t)flags;
    hal_tlb_write(&e);
    return FW_OK;
}

/* ---- inspection --------------------------------------------------------------------------- */

const struct fw_process_stats* fw_process_stats(const struct fw_mm* mm, int pid) {
    if (pid < 1 || pid > FW_MAX_PROCESSES || !mm->procs[pid - 1].used) return 0;
    return &mm->procs[pid - 1].stats;
}

enum fw_kill_reason fw_process_killed(const struct fw_mm* mm, int pid) {
    if (pid < 1 || pid > FW_MAX_PROCESSES) return FW_KILL_NONE;
    return mm->procs[pid - 1].killed;
}

hal_paddr_t fw_process_root(const struct fw_mm* mm, int pid) {
    if (pid < 1 || pid > FW_MAX_PROCESSES || !mm->procs[pid - 1].live) return 0;
    return mm->procs[pid - 1].root;
}

uint16_t fw_process_asid(const struct fw_mm* mm, int pid, unsigned core) {
    if (pid < 1 || pid > FW_MAX_PROCESSES || core >= FW_MAX_CORES) return 0;
    return mm->procs[pid - 1].live ? mm->procs[pid - 1].asid[core] : 0;
}

struct fw_kernel* fw_mm_kernel(struct fw_mm* mm) {
    return &mm->k;
}

uint64_t fw_mm_tables_in_use(const struct fw_mm* mm) {
    return mm->k.tables_in_use;
}

uint64_t fw_mm_frames_in_use(const struct fw_mm* mm) {
    return mm->data_frames;
}

uint64_t fw_mm_swap_slots_in_use(const struct fw_mm* mm) {
    return mm->swap_used;
}
