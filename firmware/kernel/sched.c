/* Context switches and ASID allocation per core. Freestanding C11. */
#include "kernel/internal.h"

static int asid_held(const struct fw_kernel* k, unsigned core, uint32_t asid) {
    for (int i = 0; i < FW_MAX_PROCESSES; ++i)
        if (k->mms[i].live && k->mms[i].asid[core] == asid) return 1;
    return 0;
}

static uint16_t asid_alloc(struct fw_kernel* k, unsigned core, struct fw_mm* mm) {
    if (k->asid_next[core] <= k->asid_max) return (uint16_t)k->asid_next[core]++;
    uint32_t asid = 0;
    /* A free ASID: at most FW_MAX_PROCESSES are held, so a short scan finds one if any. */
    uint32_t tries = k->asid_max < FW_MAX_PROCESSES + 1 ? k->asid_max : FW_MAX_PROCESSES + 1;
    for (uint32_t n = 0; n < tries && asid == 0; ++n) {
        uint32_t a = k->asid_cursor[core];
        k->asid_cursor[core] = a >= k->asid_max ? 1 : a + 1;
        if (!asid_held(k, core, a)) asid = a;
    }
    if (asid == 0) {
        /* All in use: take the least recently switched-to holder's. */
        struct fw_mm* victim = 0;
        for (int i = 0; i < FW_MAX_PROCESSES; ++i) {
            struct fw_mm* q = &k->mms[i];
            if (!q->live || q->asid[core] == 0 || q == mm) continue;
            if (victim == 0 || q->asid_stamp[core] < victim->asid_stamp[core]) victim = q;
        }
        if (victim == 0) hal_panic("mm: no ASID to recycle");
        asid = victim->asid[core];
        victim->asid[core] = 0;
        victim->cpu_mask &= ~((uint64_t)1 << core); /* flushed below: nothing of it left here */
    }
    /* It may still tag entries of a previous owner. */
    hal_tlb_invalidate(HAL_FLUSH_ASID, 0, (uint16_t)asid);
    ++k->stats.flush_full;
    ++mm->stats.tlb_flushes;
    return (uint16_t)asid;
}

int fw_switch_to(struct fw_kernel* k, unsigned core, int tid) {
    struct fw_task* t = task_of(k, tid);
    if (t == 0 || core >= k->cores) return FW_ERR_INVAL;
    struct fw_mm* mm = t->mm;
    uint64_t bit = (uint64_t)1 << core;
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
            mm->asid[core] = asid_alloc(k, core, mm); /* flushed: nothing stale under it */
            mm->stale_mask &= ~bit;
        }
        mm->asid_stamp[core] = ++k->stamp;
        /* lazy_tlb: an initiator that saw another mm active here skipped this core and marked
         * it stale. active_mm is set before stale_mask is read, with no HAL call between, so a
         * shootdown either sees mm active here (and interrupts the core) or its mark is seen.
         * The switch is made visible at this core's time (synced first, as the initiator syncs
         * before it reads active_mm): a core running ahead of the others in its quantum would
         * otherwise show a switch that an earlier shootdown must not see yet. */
        if (k->smp.on && k->smp.lazy_tlb) hal_sync();
        k->active_mm[core] = mm;
        if (mm->stale_mask & bit) {
            mm->stale_mask &= ~bit;
            hal_tlb_invalidate(HAL_FLUSH_ASID, 0, mm->asid[core]);
            ++k->stats.flush_full;
            ++mm->stats.tlb_flushes;
            ++k->stats.shootdown.lazy_flushes;
            ++k->stats.shootdown_by_core[core].lazy_flushes;
        }
        hal_set_root(mm->root, mm->asid[core]);
    }
    k->active_mm[core] = mm;
    mm->cpu_mask |= bit;
    t->core = core;
    ++mm->stats.context_switches;
    return FW_OK;
}
