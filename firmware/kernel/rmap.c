/* Reverse map and data-frame accounting: which address space maps a private frame at which VA
 * (for the clock reclaim), data frames allocated and dropped, leaves counted by level.
 * Freestanding C11. */
#include "kernel/internal.h"

int is_managed_frame(const struct fw_kernel* k, hal_paddr_t pa) {
    const struct fw_frames* f = &k->frames;
    return pa >= f->base && ((pa - f->base) >> k->format.page_shift) < f->count;
}

uint32_t frame_index_of(const struct fw_kernel* k, hal_paddr_t pa) {
    return (uint32_t)((pa - k->frames.base) >> k->format.page_shift);
}

static void account_data(struct fw_kernel* k, uint64_t frames) {
    k->stats.data_frames += frames;
    if (k->stats.data_frames > k->stats.data_frames_peak)
        k->stats.data_frames_peak = k->stats.data_frames;
}

/* The bookkeeping of a new data frame (or block) from the allocator. */
static hal_paddr_t got_data_frames(struct fw_kernel* k, unsigned core, hal_paddr_t pa,
                                   unsigned order) {
    if (pa == 0) return 0;
    hal_charge_cycles(k->cost.page_alloc); /* one allocation, a frame or a block */
    /* A block came from the zone itself (a frame from the core's list, pcp_alloc); the new
     * page waits in the core's LRU batch. */
    if (order != 0) zone_touch(k, core);
    lru_add(k, core);
    account_data(k, (uint64_t)1 << order);
    return pa;
}

hal_paddr_t alloc_data_frame_nowait(struct fw_kernel* k, unsigned core) {
    if (k->limit != 0 && k->stats.data_frames >= k->limit) return 0;
    return got_data_frames(k, core, pcp_alloc(k, core), 0);
}

hal_paddr_t alloc_data_frames(struct fw_kernel* k, unsigned core, unsigned order) {
    uint64_t n = (uint64_t)1 << order;
    hal_paddr_t pa = 0;
    k->alloc_busy[core] = 0;
    if (order == 0) {
        while (k->limit != 0 && k->stats.data_frames >= k->limit)
            if (reclaim(k, core) != FW_OK) return 0;
        pa = pcp_alloc(k, core);
        while (pa == 0 && reclaim(k, core) == FW_OK)
            pa = pcp_alloc(k, core);
    } else {
        if (k->limit != 0 && k->stats.data_frames + n > k->limit) return 0;
        pa = frames_alloc_block(&k->frames, order);
    }
    return got_data_frames(k, core, pa, order);
}

void rmap_set(struct fw_kernel* k, hal_paddr_t pa, unsigned order, int pid, uint64_t va,
              uint32_t flags) {
    uint32_t first = frame_index_of(k, pa);
    uint64_t n = (uint64_t)1 << order;
    for (uint64_t i = 0; i < n; ++i) {
        struct fw_frame_rmap* r = &k->rmap[first + i];
        r->va = va + (i << k->format.page_shift);
        r->pid = pid;
        r->flags = flags;
    }
}

void rmap_add_new(struct fw_kernel* k, hal_paddr_t pa, unsigned order, int pid, uint64_t va) {
    hal_charge_cycles(k->cost.rmap_add);
    rmap_set(k, pa, order, pid, va, RMAP_PRIVATE);
}

void count_leaf(struct fw_kernel* k, struct fw_mm* mm, unsigned level, int delta) {
    k->stats.leaves_by_level[level] += (uint64_t)(int64_t)delta;
    if (mm != 0) mm->stats.leaves_by_level[level] += (uint64_t)(int64_t)delta;
}

void rmap_remove_leaf(struct fw_mmu_gather* g, struct fw_mm* mm, hal_paddr_t pa, unsigned order) {
    struct fw_kernel* k = g->k;
    uint64_t n = (uint64_t)1 << order;
    hal_charge_cycles(k->cost.rmap_remove);
    if (!is_managed_frame(k, pa) || !is_managed_frame(k, pa + ((n - 1) << k->format.page_shift)))
        hal_panic("mm: PTE maps a frame outside the allocator");
    if (mm != 0) {
        uint32_t first = frame_index_of(k, pa);
        for (uint64_t i = 0; i < n; ++i) {
            struct fw_frame_rmap* r = &k->rmap[first + i];
            /* Others still map it (fork): at the same va, found again by a walk. */
            if (r->pid == mm->pid &&
                frame_refcount(&k->frames, pa + (i << k->format.page_shift)) > 1)
                r->pid = PID_UNKNOWN;
        }
        mm->stats.frames_in_use = mm->stats.frames_in_use > n ? mm->stats.frames_in_use - n : 0;
    }
    tlb_remove_frame(g, pa, order);
}

static uint64_t put_one(struct fw_kernel* k, unsigned core, hal_paddr_t pa, uint64_t frames) {
    int64_t left = pcp_put(k, core, pa);
    if (left < 0) hal_panic("mm: dropping a frame that is not allocated");
    if (left != 0) return 0;
    hal_charge_cycles(k->cost.page_free); /* one free, a frame or a block */
    k->stats.data_frames -= frames;
    uint32_t first = frame_index_of(k, pa);
    for (uint64_t i = 0; i < frames; ++i) {
        k->rmap[first + i].pid = 0;
        k->rmap[first + i].flags = 0;
    }
    pcp_trim(k, core, frames); /* last: it may wait for the zone lock */
    return frames;
}

uint64_t put_data_frames(struct fw_kernel* k, unsigned core, hal_paddr_t pa, unsigned order) {
    if (order == 0 || frames_block_order(&k->frames, pa) == order)
        return put_one(k, core, pa, (uint64_t)1 << order);
    /* Split since it was mapped: every frame has its own count. */
    uint64_t n = (uint64_t)1 << order, freed = 0;
    for (uint64_t i = 0; i < n; ++i)
        freed += put_one(k, core, pa + (i << k->format.page_shift), 1);
    return freed;
}

/* The leaf of mm covering va, if it maps base frame ppn there. */
static int maps_frame(struct fw_kernel* k, struct fw_mm* mm, uint64_t va, uint64_t ppn,
                      struct pt_slot* s) {
    if (pt_walk(k, mm->root, va, 0, 0, 0, s) != FW_OK || s->raw == 0) return 0;
    struct pte_decoded d;
    pte_decode(&k->format, s->raw, s->level, &d, 0);
    if (d.kind != PTE_KIND_LEAF) return 0;
    uint64_t offset = (va & (level_bytes(k, s->level) - 1)) >> k->format.page_shift;
    return d.ppn + offset == ppn;
}

struct fw_mm* rmap_find_owner(struct fw_kernel* k, struct fw_frame_rmap* r, uint64_t ppn,
                              struct pt_slot* s) {
    struct fw_mm* mm = r->pid > 0 ? mm_of(k, r->pid) : 0;
    if (mm != 0 && maps_frame(k, mm, r->va, ppn, s)) return mm;
    for (int i = 0; i < FW_MAX_PROCESSES; ++i) {
        mm = &k->mms[i];
        if (mm->live && maps_frame(k, mm, r->va, ppn, s)) {
            r->pid = mm->pid;
            return mm;
        }
    }
    return 0;
}

void mm_add_frames(struct fw_mm* mm, uint64_t frames) {
    mm->stats.frames_in_use += frames;
    if (mm->stats.frames_in_use > mm->stats.frames_peak)
        mm->stats.frames_peak = mm->stats.frames_in_use;
}
