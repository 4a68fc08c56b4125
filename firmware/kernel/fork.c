/* fork (copy-on-write, huge leaves shared whole) and exit (the last task releases the mm).
 * Freestanding C11. */
#include "kernel/internal.h"

/* One more reference to every frame of a leaf of 2^order frames (the block head if it is still
 * a block). -1 when a frame is not allocated. */
static int get_leaf_frames(struct fw_kernel* k, hal_paddr_t pa, unsigned order) {
    if (order == 0 || frames_block_order(&k->frames, pa) == order)
        return frame_get(&k->frames, pa) < 0 ? -1 : 0;
    uint64_t n = (uint64_t)1 << order;
    for (uint64_t i = 0; i < n; ++i)
        if (frame_get(&k->frames, pa + (i << k->format.page_shift)) < 0) return -1;
    return 0;
}

struct fork_ctx {
    struct fw_mm* child;
    const struct fw_vma* vma;
    unsigned core;
    int parent_changed;
};

static int fork_leaf(struct fw_kernel* k, struct fw_mm* parent, uint64_t va,
                     const struct pt_slot* s, void* vctx) {
    struct fork_ctx* ctx = (struct fork_ctx*)vctx;
    const struct pte_format* fmt = &k->format;
    uint64_t child_raw = s->raw;
    uint64_t value = 0;
    hal_paddr_t frame = 0;
    unsigned order = level_order(k, s->level);
    int swap_copy = 0;
    (void)parent;
    if (s->level == 0 && pte_decode_swap(fmt, s->raw, &value)) {
        /* Slots have no reference count: the child gets its own copy of the page, through the
         * reserved bounce frame. */
        uint64_t copy = 0;
        if (slot_alloc(k, &copy) != FW_OK) return FW_ERR_NOMEM;
        swap_lock(k, ctx->core); /* the bounce frame is everybody's */
        swap_io(k, ctx->core, SWAP_CMD_READ, value, k->bounce);
        swap_io(k, ctx->core, SWAP_CMD_WRITE, copy, k->bounce);
        swap_unlock(k, ctx->core);
        child_raw = pte_encode_swap(fmt, copy);
        value = copy;
        swap_copy = 1;
    } else if (s->level == 0 && pte_decode_protnone(fmt, s->raw, &value)) {
        /* The zero page is copied as is: no reference, no leaf (as below). */
        if (!is_zero_pfn(k, value)) frame = value << fmt->page_shift;
    } else {
        struct pte_decoded d;
        pte_decode(fmt, s->raw, s->level, &d, 0);
        if (d.kind != PTE_KIND_LEAF) return FW_ERR_CORRUPT;
        /* The zero page (read-only already) is shared as is: no reference, no leaf. */
        if (!(s->level == 0 && is_zero_pfn(k, d.ppn))) frame = d.ppn << fmt->page_shift;
        if (vma_is_private(ctx->vma) && (d.flags & PTE_F_W)) {
            child_raw = pte_encode_leaf(fmt, d.ppn, d.flags & ~(PTE_F_W | PTE_F_V), s->level);
            pt_write(k, s->slot, child_raw);
            ctx->parent_changed = 1;
        }
    }
    /* Take the reference before allocating tables: an eviction meanwhile must not pick it. */
    if (frame != 0 && get_leaf_frames(k, frame, order) < 0)
        hal_panic("mm: fork found a PTE to a free frame");
    struct pt_slot cs;
    int status = pt_walk(k, ctx->child->root, va, s->level, PT_CREATE, ctx->core, &cs);
    if (status == FW_OK && (cs.level != s->level || cs.raw != 0)) status = FW_ERR_CORRUPT;
    if (status != FW_OK) {
        if (frame != 0) put_data_frames(k, ctx->core, frame, order);
        if (swap_copy) slot_free(k, value);
        return status;
    }
    pt_write(k, cs.slot, child_raw);
    if (frame != 0) {
        count_leaf(k, ctx->child, s->level, 1);
        mm_add_frames(ctx->child, (uint64_t)1 << order);
    }
    return FW_OK;
}

static int fork_locked(struct fw_kernel* k, unsigned core, struct fw_mm* p, unsigned child_core,
                       int* child_pid, int* child_tid) {
    hal_charge_cycles(k->fork_cycles);
    struct fw_mm* c = mm_alloc(k);
    if (c == 0) return FW_ERR_LIMIT;
    struct fw_task* t = task_alloc(k, c, child_core);
    if (t == 0) {
        c->live = 0;
        return FW_ERR_LIMIT;
    }
    c->root = pt_alloc_table(k, core, 1);
    if (c->root == 0) {
        t->live = 0;
        c->live = 0;
        return FW_ERR_NOMEM;
    }
    for (unsigned i = 0; i < p->nvmas; ++i)
        c->vmas[i] = p->vmas[i];
    c->nvmas = p->nvmas;
    struct fork_ctx ctx = {c, 0, core, 0};
    int status = FW_OK;
    for (unsigned i = 0; i < p->nvmas && status == FW_OK; ++i) {
        if (p->vmas[i].guard) continue;
        ctx.vma = &p->vmas[i];
        status = pt_visit(k, p, p->vmas[i].start, p->vmas[i].end, fork_leaf, &ctx);
    }
    /* The parent's writable entries became read-only: drop its cached translations everywhere
     * (one ASID flush per core rather than one invalidation per page). */
    if (ctx.parent_changed) fw_flush_tlb_mm(k, core, p);
    if (status != FW_OK) {
        release_mm(k, core, c); /* the parent keeps read-only PTEs: its COW faults fix them */
        return status;
    }
    *child_pid = c->pid;
    *child_tid = tid_of(k, t);
    return FW_OK;
}

int fw_process_fork(struct fw_kernel* k, unsigned core, int parent_pid, unsigned child_core,
                    int* child_pid, int* child_tid) {
    struct fw_mm* p = mm_of(k, parent_pid);
    if (p == 0 || core >= k->cores || child_core >= k->cores) return FW_ERR_INVAL;
    /* The parent's lock; the child is nobody else's until fork returns. */
    mmap_write_lock(k, core, p);
    /* A process being killed forks no more (its task ends at its next boundary). */
    int status = p->live && p->killed == FW_KILL_NONE
                     ? fork_locked(k, core, p, child_core, child_pid, child_tid)
                     : FW_ERR_INVAL;
    mmap_write_unlock(k, core, p);
    /* Like wake_up_new_task: the child may run from here, before the parent's return. */
    if (status == FW_OK) hal_task_runnable(*child_tid);
    return status;
}

void release_mm(struct fw_kernel* k, unsigned core, struct fw_mm* mm) {
    /* Its statistics as it ends, under its lock (no reclaim can touch it from here), before the
     * teardown zeroes what is mapped. */
    hal_mm_released(mm->pid);
    ++k->teardowns;
    /* Nobody runs it any more (exit of its last task, killed or not; or a fork's child that
     * never ran): its ASIDs die with it (below), no flush needed. */
    struct fw_mmu_gather g;
    tlb_gather_mmu(&g, k, core, mm, 1);
    for (unsigned i = 0; i < mm->nvmas; ++i) {
        if (mm->vmas[i].guard) continue;
        if (zap_range(&g, mm->vmas[i].start, mm->vmas[i].end) != FW_OK)
            hal_panic("mm: corrupt page table while releasing a process");
    }
    pt_free_tables(k, &g, mm->root, k->format.levels - 1);
    tlb_finish_mmu(&g);
    mm->root = 0;
    mm->nvmas = 0;
    /* Its ASIDs are dropped without a flush: the entries die when the ASID is next handed out
     * (allocation after the first wrap always flushes), and nobody runs under them meanwhile;
     * without ASIDs, the next switch on a core that had it installed flushes everything. */
    for (unsigned c = 0; c < FW_MAX_CORES; ++c) {
        mm->asid[c] = 0;
        if (k->active_mm[c] == mm) k->active_mm[c] = 0;
    }
    mm->global_asid = 0;
    mm->cpu_mask = 0;
    for (int i = 0; i < FW_MAX_TASKS; ++i)
        if (k->tasks[i].live && k->tasks[i].mm == mm) task_end(k, &k->tasks[i]);
    mm->users = 0;
    mm->stats.frames_in_use = 0;
    mm->live = 0;
    --k->teardowns;
}

void task_end(struct fw_kernel* k, struct fw_task* t) {
    t->live = 0;
    for (unsigned c = 0; c < FW_MAX_CORES; ++c)
        if (k->current[c] == t) k->current[c] = 0;
    if (t->mm->users > 0) --t->mm->users;
}

int fw_task_exit(struct fw_kernel* k, unsigned core, int tid) {
    struct fw_task* t = task_of(k, tid);
    if (t == 0 || core >= k->cores) return FW_ERR_INVAL;
    struct fw_mm* mm = t->mm;
    pti_enter_kernel(k, core);
    /* The others keep running: only the last task's exit touches the address space. */
    mmap_write_lock(k, core, mm);
    if (t->live) {
        task_end(k, t);
        if (mm->users == 0 && mm->live) release_mm(k, core, mm);
    }
    mmap_write_unlock(k, core, mm);
    return FW_OK;
}

void group_exit(struct fw_kernel* k, unsigned core, struct fw_task* t, enum fw_kill_reason reason) {
    struct fw_mm* mm = t->mm;
    if (mm->killed == FW_KILL_NONE) {
        mm->killed = reason;
        ++k->stats.kills;
    }
    /* Whom the others see running is read at this core's time (as lazy_tlb's active_mm). */
    if (k->smp.on) hal_sync();
    uint64_t kick = 0;
    for (int i = 0; i < FW_MAX_TASKS; ++i) {
        struct fw_task* u = &k->tasks[i];
        if (!u->live || u->mm != mm) continue;
        /* Without the SMP protocol no other core runs at the same time. */
        if (u != t && k->smp.on && u->core != core && k->current[u->core] == u)
            kick |= (uint64_t)1 << u->core;
        else
            task_end(k, u);
    }
    if (mm->users == 0) {
        if (mm->live) release_mm(k, core, mm);
    } else if (kick != 0) {
        smp_send_reschedule(k, core, kick);
    }
}
