/* The fault handlers (fw_fault): demand zero (base and huge pages), copy-on-write, swap-in,
 * spurious faults, protection faults; and fw_prefault. Freestanding C11. */
#include "kernel/internal.h"

unsigned access_flag(enum fw_access access) {
    return access == FW_ACCESS_WRITE ? PTE_F_W : access == FW_ACCESS_EXECUTE ? PTE_F_X : PTE_F_R;
}

struct fault_state {
    struct fw_kernel* k;
    struct fw_mm* mm;
    unsigned core;
    uint64_t va;
    const struct fw_vma* vma;
    struct fw_fault_result* result;
    int prefault; /* boot work: A (and D) set, no fault statistics */
    /* No frame now, only because the pages to evict are locked by other cores: the fault
     * backs off (releases its lock) and starts again (Linux's VM_FAULT_RETRY). */
    int retry;
    int fallback_counted; /* this fault's huge fallback is counted (it may start again) */
    /* Under mmap_lock for read (SMP mode): other faults and discards of the mm run beside it,
     * so only what changes one PTE under its table's lock is done here. Anything more (reclaim,
     * a huge page, swap-in, COW, a kill) sets `upgrade`: the fault lets go and starts again
     * under the lock for write (Linux retries a fault the same way when it must wait). */
    int shared;
    int upgrade;
};

static void protection(struct fault_state* s, enum fw_kill_reason reason) {
    s->result->cls = FW_FAULT_CLASS_PROTECTION;
    s->result->reason = reason;
}

static void out_of_memory(struct fault_state* s) {
    if (s->shared) {
        s->upgrade = 1; /* no reclaim under the read lock */
        return;
    }
    if (s->k->alloc_busy[s->core] && !s->prefault) {
        s->retry = 1;
        return;
    }
    protection(s, FW_KILL_OUT_OF_MEMORY);
}

/* A page-table walk that creates tables failed with status. */
static void walk_failed(struct fault_state* s, int status) {
    if (status == FW_ERR_NOMEM)
        out_of_memory(s);
    else
        protection(s, FW_KILL_BAD_PTE);
}

/* PTE_F_* of a new leaf: A/D clear so that the hardware (or the software refill) marks the
 * first access and the first write; set by a prefault. */
static unsigned new_leaf_flags(const struct fault_state* s) {
    unsigned flags = prot_flags(s->k, s->vma->prot);
    if (s->prefault) flags |= PTE_F_A | ((flags & PTE_F_W) ? PTE_F_D : 0u);
    return flags;
}

/* A new frame for the fault: under the read lock only what is free now (reclaim takes the lock
 * of the address space it evicts from for write). */
static hal_paddr_t fault_frame(struct fault_state* s) {
    return s->shared ? alloc_data_frame_nowait(s->k, s->core) : alloc_data_frames(s->k, s->core, 0);
}

/* Takes the lock of the table holding slot: 1 when the slot is still empty (the caller maps it
 * and unlocks), else 0, unlocked: another core's fault mapped it while this one got its frame
 * (Linux's pte_same check in do_anonymous_page). */
static int lock_empty_slot(struct fault_state* s, hal_paddr_t slot) {
    hal_paddr_t table = slot & ~(page_bytes(s->k) - 1);
    ptl_lock(s->k, s->core, table);
    if (pt_read(s->k, slot) == 0) return 1;
    ptl_unlock(s->k, s->core, table);
    s->result->cls = FW_FAULT_CLASS_SPURIOUS;
    return 0;
}

static void unlock_slot(struct fault_state* s, hal_paddr_t slot) {
    ptl_unlock(s->k, s->core, slot & ~(page_bytes(s->k) - 1));
}

static void map_new_leaf(struct fault_state* s, hal_paddr_t slot, hal_paddr_t pa, unsigned level) {
    struct fw_kernel* k = s->k;
    const struct pte_format* fmt = &k->format;
    pt_write(k, slot, pte_encode_leaf(fmt, pa >> fmt->page_shift, new_leaf_flags(s), level));
    uint64_t frames = (uint64_t)1 << level_order(k, level);
    count_leaf(k, s->mm, level, 1);
    mm_add_frames(s->mm, frames);
    s->result->level = level;
}

static void count_demand(struct fault_state* s, unsigned level) {
    struct fw_kernel* k = s->k;
    k->stats.frames_mapped += (uint64_t)1 << level_order(k, level);
    s->result->cls = FW_FAULT_CLASS_DEMAND_ZERO;
    if (s->prefault) return;
    ++k->stats.demand_faults;
    ++k->stats.demand_faults_by_level[level];
    ++s->mm->stats.demand_faults_by_level[level];
}

/* A new frame zeroed, its time the fault's zeroing phase (boot's prefaults are no fault). */
static void zero_new(struct fault_state* s, hal_paddr_t pa, uint64_t bytes) {
    enum fw_phase was = s->prefault ? FW_PHASE_USER : phase_enter(s->k, s->core, FW_PHASE_ZERO);
    hal_zero_frame(pa, bytes);
    if (!s->prefault) phase_leave(s->k, s->core, was);
}

/* A read of a never-touched private page with zero_page: the shared zero frame,
 * read-only, nothing allocated (Linux's do_anonymous_page with my_zero_pfn). */
static void map_zero_page(struct fault_state* s, hal_paddr_t slot) {
    struct fw_kernel* k = s->k;
    const struct pte_format* fmt = &k->format;
    if (!lock_empty_slot(s, slot)) return;
    pt_write(
        k, slot,
        pte_encode_leaf(fmt, k->zero_page >> fmt->page_shift, new_leaf_flags(s) & ~PTE_F_W, 0));
    unlock_slot(s, slot);
    s->result->level = 0;
    s->result->cls = FW_FAULT_CLASS_DEMAND_ZERO;
    ++k->stats.demand_faults;
    ++k->stats.demand_faults_by_level[0];
    ++s->mm->stats.demand_faults_by_level[0];
    ++k->stats.zero_page_maps;
}

static void demand_zero(struct fault_state* s, hal_paddr_t slot, enum fw_access access) {
    struct fw_kernel* k = s->k;
    uint64_t page_va = s->va & ~(page_bytes(k) - 1);
    if (s->vma->kind == FW_VMA_SHARED) {
        struct fw_shm_obj* o = shm_of(k, s->vma->shm_id);
        uint64_t page = s->vma->pgoff + ((page_va - s->vma->start) >> k->format.page_shift);
        if (o == 0 || page >= o->pages) {
            protection(s, FW_KILL_NO_VMA);
            return;
        }
        if (o->frame[page] == 0) {
            hal_paddr_t pa = fault_frame(s);
            if (pa == 0) {
                out_of_memory(s);
                return;
            }
            zero_new(s, pa, page_bytes(k));
            if (o->frame[page] == 0) {
                rmap_set(k, pa, 0, 0, 0, RMAP_SHARED);
                o->frame[page] = pa; /* the object's own reference */
            } else {
                /* SMP: a fault of another address space (another lock) filled it meanwhile. */
                put_data_frames(k, s->core, pa, 0);
            }
        }
        if (!lock_empty_slot(s, slot)) return;
        frame_get(&k->frames, o->frame[page]);
        map_new_leaf(s, slot, o->frame[page], 0);
        unlock_slot(s, slot);
        count_demand(s, 0);
        return;
    }
    /* Reads only: an instruction fetch stands for file-backed text (page cache), not for
     * anonymous memory, and gets a frame as before. */
    if (k->zero_page != 0 && access == FW_ACCESS_READ && !s->prefault) {
        map_zero_page(s, slot);
        return;
    }
    hal_paddr_t pa = fault_frame(s);
    if (pa == 0) {
        out_of_memory(s);
        return;
    }
    /* Zeroed before the table's lock is taken: the lock covers only the PTE. */
    zero_new(s, pa, page_bytes(k));
    if (!lock_empty_slot(s, slot)) {
        put_data_frames(k, s->core, pa, 0);
        return;
    }
    rmap_add_new(k, pa, 0, s->mm->pid, page_va);
    map_new_leaf(s, slot, pa, 0);
    unlock_slot(s, slot);
    count_demand(s, 0);
}

/* A huge demand-zero page at `level` in the empty slot: one block, zeroed in one operation.
 * 0 when done, else the caller falls back to a base page. */
static int demand_zero_huge(struct fault_state* s, hal_paddr_t slot, unsigned level) {
    struct fw_kernel* k = s->k;
    uint64_t size = level_bytes(k, level);
    uint64_t base = s->va & ~(size - 1);
    if (base < s->vma->start || base + size - 1 > s->vma->end - 1) return -1;
    unsigned order = level_order(k, level);
    hal_paddr_t pa = alloc_data_frames(k, s->core, order);
    if (pa == 0) return -1;
    zero_new(s, pa, size);
    rmap_add_new(k, pa, order, s->mm->pid, base);
    map_new_leaf(s, slot, pa, level);
    count_demand(s, level);
    return 0;
}

static void swap_in(struct fault_state* s, hal_paddr_t slot, uint64_t swap_slot) {
    struct fw_kernel* k = s->k;
    hal_paddr_t pa = alloc_data_frames(k, s->core, 0);
    if (pa == 0) {
        out_of_memory(s);
        return;
    }
    swap_io(k, s->core, SWAP_CMD_READ, swap_slot, pa);
    slot_free(k, swap_slot);
    rmap_add_new(k, pa, 0, s->mm->pid, s->va & ~(page_bytes(k) - 1));
    map_new_leaf(s, slot, pa, 0);
    ++s->mm->stats.swap_ins;
    ++k->stats.swap_ins;
    s->result->cls = FW_FAULT_CLASS_SWAP_IN;
}

static void present_fault(struct fault_state* s, struct pt_slot* sl, enum fw_access access);

/* The base-page PTE at sl gets the new private frame pa (a COW copy, or a write to the zero
 * page): the old translation is flushed before `old` is let go of (0: the zero page, nothing
 * to let go of, and a leaf more). */
static void cow_replace(struct fault_state* s, struct pt_slot* sl, hal_paddr_t pa,
                        hal_paddr_t old) {
    struct fw_kernel* k = s->k;
    const struct pte_format* fmt = &k->format;
    uint64_t page_va = s->va & ~(page_bytes(k) - 1);
    rmap_add_new(k, pa, 0, s->mm->pid, page_va);
    struct fw_mmu_gather g;
    tlb_gather_mmu(&g, k, s->core, s->mm, 0);
    pt_write(k, sl->slot,
             pte_encode_leaf(fmt, pa >> fmt->page_shift, prot_flags(k, s->vma->prot), 0));
    tlb_flush_pte_range(&g, page_va, fmt->page_shift);
    if (old != 0)
        rmap_remove_leaf(&g, s->mm, old, 0);
    else
        count_leaf(k, s->mm, 0, 1);
    mm_add_frames(s->mm, 1);
    tlb_finish_mmu(&g);
}

/* A write to the zero page (Linux's wp_page_copy from the zero pfn): a new frame, zeroed (no
 * copy), replaces the read-only PTE, whose translation is flushed as a COW copy's is; the
 * zero page itself is neither put nor unmapped from any reverse map. */
static void cow_zero_page(struct fault_state* s, struct pt_slot* sl) {
    struct fw_kernel* k = s->k;
    hal_paddr_t pa = alloc_data_frames(k, s->core, 0);
    if (pa == 0) {
        out_of_memory(s);
        return;
    }
    zero_new(s, pa, page_bytes(k));
    cow_replace(s, sl, pa, 0);
    ++k->stats.frames_mapped;
    ++k->stats.zero_page_cows;
    s->result->cls = FW_FAULT_CLASS_COW;
    s->result->level = 0;
}

/* Write to a present read-only leaf of a writable private VMA. */
static void cow(struct fault_state* s, struct pt_slot* sl, const struct pte_decoded* d,
                enum fw_access access) {
    if (s->shared) {
        s->upgrade = 1;
        return;
    }
    struct fw_kernel* k = s->k;
    const struct pte_format* fmt = &k->format;
    hal_paddr_t old = d->ppn << fmt->page_shift;
    uint64_t page_va = s->va & ~(page_bytes(k) - 1);
    if (sl->level > 0) {
        unsigned order = level_order(k, sl->level);
        if (frames_block_order(&k->frames, old) == order && frame_refcount(&k->frames, old) == 1) {
            /* Ours alone, still one block: writable whole. */
            pt_write(k, sl->slot,
                     pte_encode_leaf(fmt, d->ppn, (d->flags | PTE_F_W) & ~PTE_F_V, sl->level));
            fw_flush_tlb_local_page(k, s->core, s->mm, s->va);
            rmap_set(k, old, order, s->mm->pid, s->va & ~(level_bytes(k, sl->level) - 1),
                     RMAP_PRIVATE);
            s->result->cls = FW_FAULT_CLASS_COW;
            s->result->level = sl->level;
            return;
        }
        /* Shared: split down to the base page, copy only that one. */
        if (pt_split(k, s->core, s->mm, s->va, 0, 1) != FW_OK ||
            pt_walk(k, s->mm->root, s->va, 0, 0, 0, sl) != FW_OK || sl->level != 0) {
            out_of_memory(s);
            return;
        }
        present_fault(s, sl, access);
        return;
    }
    if (is_zero_pfn(k, d->ppn)) {
        cow_zero_page(s, sl);
        return;
    }
    if (frame_refcount(&k->frames, old) > 1) {
        /* The source stays ours while the allocation reclaims (it may wait, and the other
         * sharers may let go meanwhile): the clock must not evict it under the copy. */
        frame_get(&k->frames, old);
        hal_paddr_t pa = alloc_data_frames(k, s->core, 0);
        put_data_frames(k, s->core, old, 0);
        if (pa == 0) {
            out_of_memory(s);
            return;
        }
        hal_copy_frame(pa, old, page_bytes(k));
        cow_replace(s, sl, pa, old);
        ++s->mm->stats.pages_copied;
    } else {
        /* The last sharer: the frame is ours alone now, no copy needed. */
        pt_write(k, sl->slot, pte_encode_leaf(fmt, d->ppn, (d->flags | PTE_F_W) & ~PTE_F_V, 0));
        fw_flush_tlb_local_page(k, s->core, s->mm, page_va);
        rmap_set(k, old, 0, s->mm->pid, page_va, RMAP_PRIVATE);
    }
    s->result->cls = FW_FAULT_CLASS_COW;
    s->result->level = 0;
}

static void present_fault(struct fault_state* s, struct pt_slot* sl, enum fw_access access) {
    struct fw_kernel* k = s->k;
    const struct pte_format* fmt = &k->format;
    struct pte_decoded d;
    pte_decode(fmt, sl->raw, sl->level, &d, 0);
    if (d.kind != PTE_KIND_LEAF) {
        protection(s, FW_KILL_BAD_PTE);
        return;
    }
    s->result->level = sl->level;
    unsigned need = access_flag(access);
    if ((d.flags & PTE_F_U) && (d.flags & need)) {
        /* The PTE allows it: another core fixed it first, a stale TLB entry, or a walker
         * without hardware A/D that needs them set. */
        unsigned ad = PTE_F_A | (access == FW_ACCESS_WRITE ? PTE_F_D : 0u);
        if ((d.flags & ad) != ad) pt_write(k, sl->slot, pte_set_flags(fmt, sl->raw, ad));
        fw_flush_tlb_local_page(k, s->core, s->mm, s->va);
        s->result->cls = FW_FAULT_CLASS_SPURIOUS;
        return;
    }
    if (access == FW_ACCESS_WRITE && vma_is_private(s->vma)) {
        cow(s, sl, &d, access);
        return;
    }
    /* The VMA allows what the PTE does not (should not happen): bring the PTE in line. */
    pt_write(k, sl->slot,
             pte_encode_leaf(fmt, d.ppn,
                             prot_flags(k, s->vma->prot) | (d.flags & (PTE_F_A | PTE_F_D)),
                             sl->level));
    fw_flush_tlb_local_page(k, s->core, s->mm, s->va);
    s->result->cls = FW_FAULT_CLASS_SPURIOUS;
}

/* Maps or fixes the page at s->va (the VMA allows the access). */
static void handle_page(struct fault_state* s, enum fw_access access) {
    struct fw_kernel* k = s->k;
    const struct pte_format* fmt = &k->format;
    unsigned want = s->vma->page_level;
    if (s->shared && want > 0) {
        s->upgrade = 1; /* a huge page may split or fall back: tables above the PTEs change */
        return;
    }
    unsigned create = PT_CREATE | (s->shared ? PT_NORECLAIM : 0u);
    struct pt_slot sl;
    int status = pt_walk(k, s->mm->root, s->va, want, create, s->core, &sl);
    if (status != FW_OK) {
        walk_failed(s, status);
        return;
    }
    if (sl.level > 0) {
        struct pte_decoded d;
        pte_decode(fmt, sl.raw, sl.level, &d, 0);
        if (d.kind == PTE_KIND_LEAF) {
            if (s->prefault) {
                s->result->level = sl.level;
                return;
            }
            present_fault(s, &sl, access);
            return;
        }
        if (sl.raw == 0 && demand_zero_huge(s, sl.slot, sl.level) == 0) return;
        if (d.kind != PTE_KIND_TABLE && sl.raw != 0) {
            protection(s, FW_KILL_BAD_PTE);
            return;
        }
        /* A table below already (a split huge page), or no block / not inside the VMA: base
         * pages here (counted once, not again when the fault starts again). */
        if (!s->fallback_counted) {
            ++s->mm->stats.huge_fallbacks;
            ++k->stats.huge_fallbacks;
            s->fallback_counted = 1;
        }
        status = pt_walk(k, s->mm->root, s->va, 0, create, s->core, &sl);
        if (status != FW_OK) {
            walk_failed(s, status);
            return;
        }
        if (sl.level > 0) { /* cannot happen: the slot was free or a table */
            protection(s, FW_KILL_BAD_PTE);
            return;
        }
    }
    uint64_t value = 0;
    if (sl.raw == 0) {
        demand_zero(s, sl.slot, access);
    } else if (s->prefault) {
        return; /* mapped already (present, swapped out or parked) */
    } else if (s->shared &&
               (pte_decode_swap(fmt, sl.raw, &value) || pte_decode_protnone(fmt, sl.raw, &value))) {
        s->upgrade = 1; /* swap-in (device I/O) or a parked page */
    } else if (pte_decode_swap(fmt, sl.raw, &value)) {
        swap_in(s, sl.slot, value);
    } else if (pte_decode_protnone(fmt, sl.raw, &value)) {
        /* Parked while the VMA had no rights; it has some now (protect rewrites these, so this
         * is only a safety net). */
        pt_write(k, sl.slot,
                 pte_encode_leaf(fmt, value, prot_flags(k, s->vma->prot) & ~PTE_F_W, 0));
        s->result->cls = FW_FAULT_CLASS_SPURIOUS;
    } else {
        present_fault(s, &sl, access);
    }
}

static void handle_fault(struct fault_state* s, enum fw_access access, enum fw_fault_kind kind) {
    const struct pte_format* fmt = &s->k->format;
    if (kind != FW_FAULT_NOT_PRESENT && kind != FW_FAULT_PERMISSION) {
        protection(s, FW_KILL_BAD_PTE);
        return;
    }
    if (!pte_va_canonical(fmt, s->va)) {
        protection(s, FW_KILL_BAD_PTE);
        return;
    }
    hal_charge_cycles(s->k->cost.vma_lookup);
    int i = vma_find(s->mm, s->va);
    if (i < 0) {
        protection(s, FW_KILL_NO_VMA);
        return;
    }
    s->vma = &s->mm->vmas[i];
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
    handle_page(s, access);
}

static void fault_reset(struct fw_fault_result* result) {
    result->cls = FW_FAULT_CLASS_NONE;
    result->reason = FW_KILL_NONE;
    result->level = 0;
}

static int fault(struct fw_kernel* k, unsigned core, int tid, uint64_t va, enum fw_access access,
                 enum fw_fault_kind kind, struct fw_fault_result* result) {
    result->cls = FW_FAULT_CLASS_NONE;
    result->reason = FW_KILL_NONE;
    result->level = 0;
    result->group_exit = 0;
    struct fw_task* t = task_of(k, tid);
    if (t == 0 || core >= k->cores || kind == FW_FAULT_NONE) return FW_ERR_INVAL;
    struct fw_mm* mm = t->mm;
    pti_enter_kernel(k, core);
    hal_charge_cycles(k->fault_entry_cycles);
    /* A fault starts under mmap_lock for read (SMP mode), as Linux's do: a demand-zero page
     * (the common fault) changes one PTE under its table's lock while other faults and
     * discards of the mm go on. What needs more starts again for write (struct fault_state).
     * Only faults that narrow or move a translation (a COW copy) shoot down; widening ones (COW
     * reuse, spurious, A/D) flush the faulting core only (the others fault spuriously on their
     * old entry). */
    struct fault_state s = {k, mm, core, va, 0, result, 0, 0, 0, k->smp.on, 0};
    for (;;) {
        if (s.shared)
            mmap_read_lock(k, core, mm);
        else
            mmap_write_lock(k, core, mm);
        s.retry = 0;
        s.upgrade = 0;
        if (mm->killed == FW_KILL_NONE) handle_fault(&s, access, kind);
        if (s.shared &&
            (s.upgrade || mm->killed != FW_KILL_NONE || result->cls == FW_FAULT_CLASS_PROTECTION)) {
            /* More than one PTE under its table's lock, or the task ends: again, for write. */
            mmap_read_unlock(k, core, mm);
            ++k->stats.fault_upgrades;
            s.shared = 0;
            fault_reset(result);
            continue;
        }
        if (mm->killed != FW_KILL_NONE) {
            /* Killed by another of its tasks (while this one waited for the lock, or before):
             * the task ends here, as at any boundary; not counted as a fault. */
            result->cls = FW_FAULT_CLASS_PROTECTION;
            result->reason = mm->killed;
            result->group_exit = 1;
            group_exit(k, core, t, mm->killed);
            mmap_write_unlock(k, core, mm);
            hal_charge_cycles(k->fault_exit_cycles);
            return FW_OK;
        }
        if (!s.retry) break;
        /* The pages to evict belong to address spaces other cores hold (one of them may wait
         * for ours): let go of ours, wait for an unlock, and start again. What is done stays
         * done (tables, splits), the rest is looked at again. */
        mmap_write_unlock(k, core, mm);
        ++k->stats.fault_retries;
        smp_wait_for_unlock();
        fault_reset(result);
    }
    ++mm->stats.faults[result->cls];
    ++k->stats.faults[result->cls];
    if (result->cls == FW_FAULT_CLASS_PROTECTION) group_exit(k, core, t, result->reason);
    if (s.shared)
        mmap_read_unlock(k, core, mm);
    else
        mmap_write_unlock(k, core, mm);
    hal_charge_cycles(k->fault_exit_cycles);
    return FW_OK;
}

int fw_fault(struct fw_kernel* k, unsigned core, int tid, uint64_t va, enum fw_access access,
             enum fw_fault_kind kind, struct fw_fault_result* result) {
    enum fw_phase was = phase_enter(k, core, FW_PHASE_FAULT);
    int rc = fault(k, core, tid, va, access, kind, result);
    phase_leave(k, core, was);
    return rc;
}

int fw_prefault(struct fw_kernel* k, int pid, uint64_t va) {
    struct fw_mm* mm = mm_of(k, pid);
    if (mm == 0 || !pte_va_canonical(&k->format, va)) return FW_ERR_INVAL;
    int i = vma_find(mm, va);
    if (i < 0 || mm->vmas[i].guard) return FW_ERR_NOT_MAPPED;
    if (mm->vmas[i].prot == 0) return FW_OK;
    struct fw_fault_result result = {FW_FAULT_CLASS_NONE, FW_KILL_NONE, 0, 0};
    /* Boot work runs on no particular core: core 0 only matters for reclaim's flushes. */
    struct fault_state s = {k, mm, 0, va, &mm->vmas[i], &result, 1, 0, 0, 0, 0};
    handle_page(&s, FW_ACCESS_READ);
    if (result.cls == FW_FAULT_CLASS_PROTECTION)
        return result.reason == FW_KILL_OUT_OF_MEMORY ? FW_ERR_NOMEM : FW_ERR_CORRUPT;
    return FW_OK;
}
