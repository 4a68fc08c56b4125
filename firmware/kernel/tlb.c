/* TLB maintenance: the one entry point through which every change that removes or narrows a
 * translation reaches the TLBs (and page-walk caches), locally and on the other cores of the
 * address space's cpu_mask; and the mmu_gather that frees frames and tables only after that.
 * Shaped like Linux's arch/x86/mm/tlb.c and mm/mmu_gather.c. Freestanding C11.
 *
 * Which cores hold what:
 *  - with ASIDs, core c may cache mm's translations under mm->asid[c] while that ASID is held
 *    (cpu_mask bit set at switch-in, cleared when the ASID is recycled; an ASID is flushed
 *    before it is handed out again, so a dead mm's entries need no flush);
 *  - without ASIDs (asid_bits 0), only the mm installed on c (active_mm) has entries there:
 *    a switch flushes everything.
 *
 * In SMP mode (an IPI controller and several cores) the flush goes to smp.c's shootdown, which
 * uses the same body (tlb_flush_on) locally and, on the targets, in their interrupt handler (ipi),
 * per target through the invalidation controller (directed), or once for every core
 * (FW_FLUSH_BROADCAST: broadcast invalidations under the mm's global ASID). */
#include "kernel/internal.h"

static void invalidate(struct fw_kernel* k, unsigned self, unsigned target,
                       enum hal_flush_kind kind, uint64_t va, uint16_t asid) {
    if (target == FW_FLUSH_BROADCAST) {
        hal_tlb_invalidate_broadcast(kind, va, asid);
        tlb_count_broadcast(k, self);
    } else if (target == self) {
        hal_tlb_invalidate(kind, va, asid);
    } else {
        hal_tlb_invalidate_core(target, kind, va, asid);
        ++k->stats.flush_remote;
    }
    if (kind == HAL_FLUSH_VA || kind == HAL_FLUSH_VA_ASID)
        ++k->stats.flush_pages;
    else
        ++k->stats.flush_full;
}

int tlb_core_may_cache(const struct fw_kernel* k, unsigned c, const struct fw_mm* mm) {
    if (!((mm->cpu_mask >> c) & 1u)) return 0;
    return k->asid_bits == 0 ? k->active_mm[c] == mm : mm->asid[c] != 0;
}

uint64_t tlb_flush_pages(const struct fw_flush_info* f) {
    if (f->full) return 0;
    uint64_t len = f->end - f->start; /* end 0: the top of the address space */
    uint64_t pages = f->stride_shift >= 64 ? 1 : (len >> f->stride_shift);
    if (f->stride_shift < 64 && (len & (((uint64_t)1 << f->stride_shift) - 1)) != 0) ++pages;
    return pages;
}

void tlb_count_broadcast(struct fw_kernel* k, unsigned self) {
    ++k->stats.shootdown.broadcasts;
    if (self < k->cores) ++k->stats.shootdown_by_core[self].broadcasts;
}

/* The one body, local and remote alike: mm's translations described by f, on core `target`
 * (or on every core: FW_FLUSH_BROADCAST, under the mm's global ASID), issued by core `self`. */
void tlb_flush_on(struct fw_kernel* k, unsigned self, unsigned target,
                  const struct fw_flush_info* f) {
    uint16_t asid = 0;
    if (target == FW_FLUSH_BROADCAST) {
        /* Without ASIDs a broadcast by VA (or of everything) reaches whatever each core has. */
        asid = f->mm->global_asid;
        if (k->asid_bits != 0 && asid == 0) return;
    } else if (k->asid_bits == 0) {
        if (k->active_mm[target] != f->mm) return;
    } else {
        asid = f->mm->asid[target];
        if (asid == 0) return;
    }
    uint64_t pages = tlb_flush_pages(f);
    if (f->full || pages > k->flush_ceiling) {
        invalidate(k, self, target, k->asid_bits == 0 ? HAL_FLUSH_ALL : HAL_FLUSH_ASID, 0, asid);
        ++f->mm->stats.tlb_flushes;
        return;
    }
    enum hal_flush_kind kind = k->asid_bits == 0 ? HAL_FLUSH_VA : HAL_FLUSH_VA_ASID;
    for (uint64_t i = 0; i < pages; ++i)
        invalidate(k, self, target, kind, f->start + (i << f->stride_shift), asid);
}

/* Local first, then every other core of the mask, in core order (SMP mode: smp.c). */
static void flush_tlb_info(struct fw_kernel* k, unsigned core, const struct fw_flush_info* f) {
    if (k->smp.on) {
        smp_flush(k, core, f);
        return;
    }
    uint64_t mask = f->mm->cpu_mask;
    if (core < k->cores && ((mask >> core) & 1u)) tlb_flush_on(k, core, core, f);
    for (unsigned c = 0; c < k->cores; ++c)
        if (c != core && ((mask >> c) & 1u)) tlb_flush_on(k, core, c, f);
}

void fw_flush_tlb_mm_range(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t start,
                           uint64_t end, unsigned stride_shift) {
    struct fw_flush_info f = {mm, start, end, stride_shift, 0};
    flush_tlb_info(k, core, &f);
}

void fw_flush_tlb_mm(struct fw_kernel* k, unsigned core, struct fw_mm* mm) {
    struct fw_flush_info f = {mm, 0, 0, 0, 1};
    flush_tlb_info(k, core, &f);
}

void fw_flush_tlb_local_page(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t va) {
    unsigned shift = k->format.page_shift;
    uint64_t start = va & ~(((uint64_t)1 << shift) - 1);
    struct fw_flush_info f = {mm, start, start + ((uint64_t)1 << shift), shift, 0};
    if (core < k->cores) tlb_flush_on(k, core, core, &f);
}

/* ---- mmu_gather -------------------------------------------------------------------------------
 */

void tlb_gather_mmu(struct fw_mmu_gather* g, struct fw_kernel* k, unsigned core, struct fw_mm* mm,
                    int fullmm) {
    g->k = k;
    g->mm = mm;
    g->core = core;
    g->fullmm = fullmm;
    g->start = 0;
    g->end = 0;
    g->stride_shift = 0;
    g->nframes = 0;
    g->ntables = 0;
}

static int range_pending(const struct fw_mmu_gather* g) {
    return g->stride_shift != 0;
}

void tlb_flush_pte_range(struct fw_mmu_gather* g, uint64_t va, unsigned shift) {
    /* One stride per flush, as Linux's tlb_change_page_size: a new size flushes what is pending. */
    if (range_pending(g) && shift != g->stride_shift) tlb_flush_mmu(g);
    uint64_t end = va + ((uint64_t)1 << shift);
    if (!range_pending(g)) {
        g->start = va;
        g->end = end;
        g->stride_shift = shift;
        return;
    }
    if (va < g->start) g->start = va;
    if (end - 1 > g->end - 1) g->end = end; /* end 0 is the top of the address space */
}

void tlb_flush_mmu_tlbonly(struct fw_mmu_gather* g) {
    if (!range_pending(g)) return;
    /* A torn-down mm runs nowhere and its ASIDs are flushed before reuse: nothing to do. */
    if (!g->fullmm) fw_flush_tlb_mm_range(g->k, g->core, g->mm, g->start, g->end, g->stride_shift);
    g->start = g->end = 0;
    g->stride_shift = 0;
}

void tlb_flush_mmu(struct fw_mmu_gather* g) {
    tlb_flush_mmu_tlbonly(g);
    for (unsigned i = 0; i < g->nframes; ++i)
        put_data_frames(g->k, g->frames[i].pa, g->frames[i].order);
    g->nframes = 0;
    for (unsigned i = 0; i < g->ntables; ++i)
        pt_free_table(g->k, g->tables[i]);
    g->ntables = 0;
}

void tlb_finish_mmu(struct fw_mmu_gather* g) {
    tlb_flush_mmu(g);
}

void tlb_remove_frame(struct fw_mmu_gather* g, hal_paddr_t pa, unsigned order) {
    g->frames[g->nframes].pa = pa;
    g->frames[g->nframes].order = order;
    if (++g->nframes == FW_GATHER_FRAMES) tlb_flush_mmu(g);
}

void tlb_remove_table(struct fw_mmu_gather* g, hal_paddr_t table) {
    g->tables[g->ntables] = table;
    if (++g->ntables == FW_GATHER_TABLES) tlb_flush_mmu(g);
}
