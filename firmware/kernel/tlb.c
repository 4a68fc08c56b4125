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
 * In SMP mode (an IPI controller and several cores) this file decides which other cores must
 * flush (those that may cache the mm, less the ones lazy_tlb spares) and hands them to the
 * shootdown mechanism chosen at init (shootdown_ipi.c, shootdown_directed.c,
 * shootdown_broadcast.c), which uses the same body (tlb_flush_on): on the targets in their
 * interrupt handler (ipi), per target through the invalidation controller (directed), or once
 * for every core (FW_FLUSH_BROADCAST: broadcast invalidations under the mm's global ASID).
 *
 * With page-table isolation (fw_kernel_config.pti) user code runs under a user ASID: the body
 * defers its flush on the calling core to fw_return_to_user (below), and issues it at once where
 * no firmware of the target runs (directed, broadcast). */
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
    /* pti (with ASIDs): the user ASID too. The calling core's is marked, flushed at its return
     * to user space (Linux's invalidate_user_asid: no user instruction runs before it); a core
     * reached without its firmware (directed, broadcast) gets it at once, as Linux's INVLPGB
     * path issues the user PCID's invalidation beside the kernel one's. */
    int user_now = k->tlb.pti && asid != 0 && target != self;
    uint16_t user = fw_user_asid(k, asid);
    uint64_t pages = tlb_flush_pages(f);
    if (f->full || pages > k->flush_ceiling) {
        invalidate(k, self, target, k->asid_bits == 0 ? HAL_FLUSH_ALL : HAL_FLUSH_ASID, 0, asid);
        if (user_now) invalidate(k, self, target, HAL_FLUSH_ASID, 0, user);
        ++f->mm->stats.tlb_flushes;
    } else {
        enum hal_flush_kind kind = k->asid_bits == 0 ? HAL_FLUSH_VA : HAL_FLUSH_VA_ASID;
        for (uint64_t i = 0; i < pages; ++i) {
            invalidate(k, self, target, kind, f->start + (i << f->stride_shift), asid);
            if (user_now)
                invalidate(k, self, target, kind, f->start + (i << f->stride_shift), user);
        }
    }
    if (target == self) pti_mark_user(k, target, f->mm);
}

/* ---- page-table isolation -----------------------------------------------------------------------
 */

uint16_t fw_user_asid(const struct fw_kernel* k, uint16_t asid) {
    return asid == 0 ? 0 : (uint16_t)(asid | k->tlb.user_bit);
}

void pti_mark_user(struct fw_kernel* k, unsigned core, struct fw_mm* mm) {
    if (k->tlb.pti && k->asid_bits != 0) mm->pti_user_stale |= (uint64_t)1 << core;
}

/* SWITCH_TO_KERNEL_CR3 (entry from user space only: an entry from the kernel keeps its root). */
void pti_enter_kernel(struct fw_kernel* k, unsigned core) {
    if (!k->tlb.pti || core >= k->cores || !k->tlb.in_user[core]) return;
    k->tlb.in_user[core] = 0;
    hal_charge_cycles(k->cost.pti_cr3_switch);
    struct fw_mm* mm = k->active_mm[core];
    if (mm != 0) hal_set_root(mm->root, mm->asid[core]);
}

/* SWITCH_TO_USER_CR3: the CR3 write without NOFLUSH when the user ASID is marked. A mark is
 * honoured even on a core that never left user space by a known entry (it costs a flush, never
 * a stale user instruction). */
int fw_return_to_user(struct fw_kernel* k, unsigned core) {
    if (core >= k->cores) return FW_ERR_INVAL;
    if (!k->tlb.pti) return FW_OK;
    struct fw_mm* mm = k->active_mm[core];
    if (mm == 0) return FW_OK;
    uint64_t bit = (uint64_t)1 << core;
    int entered = !k->tlb.in_user[core];
    if (mm->pti_user_stale & bit || (entered && k->asid_bits == 0)) {
        /* Without ASIDs the CR3 write flushes everything (no PCIDs: every one does). */
        hal_tlb_invalidate(k->asid_bits == 0 ? HAL_FLUSH_ALL : HAL_FLUSH_ASID, 0,
                           fw_user_asid(k, mm->asid[core]));
        mm->pti_user_stale &= ~bit;
        ++k->stats.pti_user_flushes;
        ++k->stats.flush_full;
    }
    if (!entered) return FW_OK;
    hal_charge_cycles(k->cost.pti_cr3_switch);
    hal_set_root(mm->root, fw_user_asid(k, mm->asid[core]));
    k->tlb.in_user[core] = 1;
    return FW_OK;
}

static const struct fw_shootdown_ops* const kMechanisms[FW_SHOOTDOWN_MECHANISMS] = {
    [FW_SHOOTDOWN_IPI] = &fw_shootdown_ipi,
    [FW_SHOOTDOWN_DIRECTED] = &fw_shootdown_directed,
    [FW_SHOOTDOWN_BROADCAST] = &fw_shootdown_broadcast,
};

int tlb_init(struct fw_kernel* k, const struct fw_kernel_config* c) {
    k->tlb.mechanism = kMechanisms[c->shootdown];
    k->tlb.inject = c->inject;
    k->tlb.concurrent_flush = c->concurrent_flush != 0;
    k->tlb.batch = c->batch != 0;
    k->tlb.lazy_tlb = c->lazy_tlb != 0;
    k->tlb.pti = c->pti != 0;
    k->tlb.user_bit = c->pti && c->asid_bits >= 2 ? (uint16_t)(1u << (c->asid_bits - 1)) : 0;
    return FW_OK;
}

void tlb_flush_local(struct fw_kernel* k, unsigned core, const struct fw_flush_info* f) {
    if (k->tlb.inject & FW_INJECT_SKIP_LOCAL_FLUSH) return;
    enum fw_phase was = phase_enter(k, core, FW_PHASE_FLUSH_LOCAL);
    tlb_flush_on(k, core, core, f);
    phase_leave(k, core, was);
}

void tlb_flush_remote(struct fw_kernel* k, unsigned core, const struct fw_flush_info* f) {
    if (k->tlb.inject & FW_INJECT_SKIP_REMOTE_FLUSH) return;
    tlb_flush_on(k, core, core, f);
}

/* One shootdown: the cores that may cache mm now, the local flush, and the mechanism for the
 * others (as Linux's flush_tlb_mm_range -> flush_tlb_multi with its lazy-TLB condition). */
static void shootdown_one(struct fw_kernel* k, unsigned core, const struct fw_flush_info* f) {
    struct fw_mm* mm = f->mm;
    uint64_t targets = 0;
    /* lazy_tlb reads the other cores' active_mm: at this core's time, not ahead of it (the
     * other cores' switches up to now are in, none of a core that runs ahead), so that whom
     * it interrupts does not depend on the quantum. sched.c syncs before it writes one. */
    if (k->tlb.lazy_tlb) hal_sync();
    for (unsigned c = 0; c < k->cores; ++c) {
        if (c == core || !tlb_core_may_cache(k, c, mm)) continue;
        uint64_t bit = (uint64_t)1 << c;
        if (k->tlb.lazy_tlb && k->asid_bits != 0 && k->active_mm[c] != mm) {
            /* Not running it now: flushed at its next switch to mm (sched.c), which sets
             * active_mm before it looks at stale_mask (both without a HAL call between). */
            mm->stale_mask |= bit;
            SD_ADD(k, core, lazy_skips, 1);
            continue;
        }
        targets |= bit;
    }
    int local = core < k->cores && tlb_core_may_cache(k, core, mm);
    if (targets == 0) {
        if (local) tlb_flush_local(k, core, f);
        return;
    }
    uint64_t pages = tlb_flush_pages(f);
    unsigned ntargets = popcount64(targets);
    SD_ADD(k, core, shootdowns, 1);
    SD_ADD(k, core, pages, pages);
    SD_ADD(k, core, targets, ntargets);
    if (f->full || pages > k->flush_ceiling) SD_ADD(k, core, full_flushes, 1);
    hal_trace(HAL_TRACE_SHOOTDOWN_BEGIN, pages);
    k->tlb.mechanism->flush(k, core, targets, local, f);
    hal_trace(HAL_TRACE_SHOOTDOWN_END, ntargets);
}

/* batch: false: one shootdown per page of the range. */
static void shootdown(struct fw_kernel* k, unsigned core, const struct fw_flush_info* f) {
    uint64_t pages = tlb_flush_pages(f);
    if (k->tlb.batch || f->full || pages <= 1 || f->stride_shift >= 64) {
        shootdown_one(k, core, f);
        return;
    }
    for (uint64_t i = 0; i < pages; ++i) {
        struct fw_flush_info one = *f;
        one.start = f->start + (i << f->stride_shift);
        one.end = one.start + ((uint64_t)1 << f->stride_shift);
        shootdown_one(k, core, &one);
    }
}

/* SMP mode: the shootdown. Otherwise (no IPI controller, or one core) local first, then every
 * other core of the mask directly, in core order. */
static void flush_tlb_info(struct fw_kernel* k, unsigned core, const struct fw_flush_info* f) {
    /* Linux's flush_tlb_mm_range before any flush: get_flush_tlb_info and the cpumask work. */
    enum fw_phase was = phase_enter(k, core, FW_PHASE_FLUSH_SETUP);
    hal_charge_cycles(k->cost.flush_setup);
    if (k->smp.on) {
        shootdown(k, core, f);
        phase_leave(k, core, was);
        return;
    }
    uint64_t mask = f->mm->cpu_mask;
    if (core < k->cores && ((mask >> core) & 1u)) {
        enum fw_phase setup = phase_enter(k, core, FW_PHASE_FLUSH_LOCAL);
        tlb_flush_on(k, core, core, f);
        phase_leave(k, core, setup);
    }
    for (unsigned c = 0; c < k->cores; ++c)
        if (c != core && ((mask >> c) & 1u)) tlb_flush_on(k, core, c, f);
    phase_leave(k, core, was);
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
    g->entries = 0;
    g->ptl = 0;
    if (!fullmm) ++mm->tlb_flush_pending;
}

void tlb_teardown_step(struct fw_mmu_gather* g, unsigned entries) {
    if (!g->fullmm || !g->k->smp.on) return;
    g->entries += entries;
    if (g->entries < FW_TEARDOWN_BATCH_ENTRIES) return;
    g->entries = 0;
    /* Interrupts come while the mm's lock is held: nobody runs it, nobody else changes it, and
     * a handler only flushes (other address spaces' translations). */
    smp_irq_window(g->k);
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
    /* References go first; the pages that reached 0 leave the LRU under one hold of its lock
     * (Linux's release_pages: folio_put_testzero, then the lruvec lock). */
    uint64_t freed = 0;
    for (unsigned i = 0; i < g->nframes; ++i)
        freed += put_data_frames(g->k, g->core, g->frames[i].pa, g->frames[i].order);
    if (freed != 0) {
        lru_lock(g->k, g->core);
        lru_unlock(g->k, g->core);
    }
    g->nframes = 0;
    for (unsigned i = 0; i < g->ntables; ++i)
        pt_free_table(g->k, g->tables[i]);
    g->ntables = 0;
}

void tlb_finish_mmu(struct fw_mmu_gather* g) {
    if (!g->fullmm && g->mm->tlb_flush_pending > 1) {
        /* Another gather of the mm is under way (a concurrent discard): the PTEs it cleared
         * may still be cached somewhere, and ours may be among them. Flush the whole address
         * space, as Linux's tlb_finish_mmu does when mm_tlb_flush_nested. */
        ++g->k->stats.nested_flushes;
        g->start = g->end = 0;
        g->stride_shift = 0; /* nothing of ours left pending */
        fw_flush_tlb_mm(g->k, g->core, g->mm);
    }
    tlb_flush_mmu(g);
    if (!g->fullmm) --g->mm->tlb_flush_pending;
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
