/* Context switches and ASID allocation (per core, or global with mechanism broadcast).
 * Freestanding C11. */
#include "kernel/internal.h"

/* Two ASID spaces share one allocator: per core (mechanisms ipi, directed: mm->asid[core]) or,
 * with mechanism broadcast, one for all cores (mm->global_asid, copied to mm->asid[c] when the
 * mm runs on c), arm64-style, so that one broadcast invalidation names the mm everywhere. */
static int asids_global(const struct fw_kernel* k) {
    return k->tlb.mechanism->policy->global_asids && k->asid_bits != 0;
}

/* q's ASID in the space that `core` allocates from. */
static uint16_t asid_of(const struct fw_kernel* k, const struct fw_mm* q, unsigned core) {
    return asids_global(k) ? q->global_asid : q->asid[core];
}

static int asid_held(const struct fw_kernel* k, unsigned core, uint32_t asid) {
    for (int i = 0; i < FW_MAX_PROCESSES; ++i)
        if (k->mms[i].live && asid_of(k, &k->mms[i], core) == asid) return 1;
    return 0;
}

/* Whether q may lose its ASID to mm: a global ASID of an mm installed on another core would
 * keep tagging the entries that core refills for it after the flush. */
static int asid_recyclable(const struct fw_kernel* k, unsigned core, const struct fw_mm* q) {
    if (!asids_global(k)) return 1;
    for (unsigned c = 0; c < k->cores; ++c)
        if (c != core && k->active_mm[c] == q) return 0;
    return 1;
}

/* When q last switched in where its ASID counts (LRU order). */
static uint64_t asid_last_use(const struct fw_kernel* k, const struct fw_mm* q, unsigned core) {
    if (!asids_global(k)) return q->asid_stamp[core];
    uint64_t last = 0;
    for (unsigned c = 0; c < k->cores; ++c)
        if (q->asid_stamp[c] > last) last = q->asid_stamp[c];
    return last;
}

/* The victim loses its ASID (and with it every core it may cache translations on). */
static void asid_take(const struct fw_kernel* k, unsigned core, struct fw_mm* victim) {
    if (!asids_global(k)) {
        victim->asid[core] = 0;
        victim->cpu_mask &= ~((uint64_t)1 << core); /* flushed: nothing of it left here */
        victim->pti_user_stale &= ~((uint64_t)1 << core);
        return;
    }
    for (unsigned c = 0; c < FW_MAX_CORES; ++c)
        victim->asid[c] = 0;
    victim->global_asid = 0;
    victim->cpu_mask = 0; /* flushed everywhere: nothing of it left anywhere */
    victim->pti_user_stale = 0;
}

/* An ASID handed out again may still tag entries of a previous owner: locally, or on every
 * core with ONE broadcast (completed before the ASID is used). */
static void asid_flush(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint16_t asid) {
    if (asids_global(k)) {
        hal_tlb_invalidate_broadcast(HAL_FLUSH_ASID, 0, asid);
        tlb_count_broadcast(k, core);
        if (k->tlb.pti) {
            /* pti: the other cores' user ASIDs have no return to user here to wait for. */
            hal_tlb_invalidate_broadcast(HAL_FLUSH_ASID, 0, fw_user_asid(k, asid));
            tlb_count_broadcast(k, core);
        }
        hal_tlb_sync();
    } else {
        hal_tlb_invalidate(HAL_FLUSH_ASID, 0, asid);
        pti_mark_user(k, core, mm); /* as Linux's load_new_mm_cr3 with need_flush */
    }
}

static uint16_t asid_alloc(struct fw_kernel* k, unsigned core, struct fw_mm* mm) {
    uint32_t* next = asids_global(k) ? &k->asid_global_next : &k->asid_next[core];
    uint32_t* cursor = asids_global(k) ? &k->asid_global_cursor : &k->asid_cursor[core];
    if (*next <= k->asid_max) return (uint16_t)(*next)++;
    uint32_t asid = 0;
    /* A free ASID: at most FW_MAX_PROCESSES are held, so a short scan finds one if any. */
    uint32_t tries = k->asid_max < FW_MAX_PROCESSES + 1 ? k->asid_max : FW_MAX_PROCESSES + 1;
    for (uint32_t n = 0; n < tries && asid == 0; ++n) {
        uint32_t a = *cursor;
        *cursor = a >= k->asid_max ? 1 : a + 1;
        if (!asid_held(k, core, a)) asid = a;
    }
    if (asid == 0) {
        /* All in use: take the least recently switched-to holder's. */
        struct fw_mm* victim = 0;
        for (int i = 0; i < FW_MAX_PROCESSES; ++i) {
            struct fw_mm* q = &k->mms[i];
            if (!q->live || asid_of(k, q, core) == 0 || q == mm || !asid_recyclable(k, core, q))
                continue;
            if (victim == 0 || asid_last_use(k, q, core) < asid_last_use(k, victim, core))
                victim = q;
        }
        if (victim == 0) hal_panic("mm: no ASID to recycle");
        asid = asid_of(k, victim, core);
        asid_take(k, core, victim);
    }
    asid_flush(k, core, mm, (uint16_t)asid);
    ++k->stats.flush_full;
    ++mm->stats.tlb_flushes;
    return (uint16_t)asid;
}

int fw_switch_to(struct fw_kernel* k, unsigned core, int tid) {
    struct fw_task* t = task_of(k, tid);
    if (t == 0 || core >= k->cores) return FW_ERR_INVAL;
    struct fw_mm* mm = t->mm;
    uint64_t bit = (uint64_t)1 << core;
    pti_enter_kernel(k, core); /* a switch from user code is a preemption: an entry */
    hal_charge_cycles(k->switch_cycles);
    if (k->asid_bits == 0) {
        /* Untagged TLB: the previous mm's entries would translate the same VAs (homonyms). */
        struct fw_mm* prev = k->active_mm[core];
        if (prev != 0 && prev != mm) prev->cpu_mask &= ~bit;
        hal_set_root(mm->root, 0);
        hal_tlb_invalidate(HAL_FLUSH_ALL, 0, 0);
        ++k->stats.flush_full;
        ++mm->stats.tlb_flushes;
    } else {
        if (mm->asid[core] == 0) {
            /* Flushed when allocated: nothing stale under it (a global one, on any core). */
            if (asids_global(k)) {
                if (mm->global_asid == 0) mm->global_asid = asid_alloc(k, core, mm);
                mm->asid[core] = mm->global_asid;
            } else {
                mm->asid[core] = asid_alloc(k, core, mm);
            }
            mm->stale_mask &= ~bit;
        }
        mm->asid_stamp[core] = ++k->stamp;
        /* lazy_tlb: an initiator that saw another mm active here skipped this core and marked
         * it stale. active_mm is set before stale_mask is read, with no HAL call between, so a
         * shootdown either sees mm active here (and interrupts the core) or its mark is seen.
         * The switch is made visible at this core's time (synced first, as the initiator syncs
         * before it reads active_mm): a core running ahead of the others in its quantum would
         * otherwise show a switch that an earlier shootdown must not see yet. */
        if (k->smp.on && k->tlb.lazy_tlb) hal_sync();
        k->active_mm[core] = mm;
        if (mm->stale_mask & bit) {
            mm->stale_mask &= ~bit;
            hal_tlb_invalidate(HAL_FLUSH_ASID, 0, mm->asid[core]);
            pti_mark_user(k, core, mm);
            ++k->stats.flush_full;
            ++mm->stats.tlb_flushes;
            ++k->stats.shootdown.lazy_flushes;
            ++k->stats.shootdown_by_core[core].lazy_flushes;
        }
        hal_set_root(mm->root, mm->asid[core]);
    }
    k->active_mm[core] = mm;
    mm->cpu_mask |= bit;
    if (k->current[t->core] == t) k->current[t->core] = 0; /* it moved */
    k->current[core] = t;
    t->core = core;
    ++mm->stats.context_switches;
    return FW_OK;
}
