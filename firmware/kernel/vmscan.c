/* Page reclaim: the clock (second chance) over the frames, evicting private base pages mapped by
 * exactly one address space to swap. A huge page the hand meets with A set gets its second
 * chance whole (A cleared, the hand jumps past it); with A clear it is split into base pages
 * and the base page under the hand goes. Freestanding C11. */
#include "kernel/internal.h"

/* The clock's step on one private frame mapped by owner (whose lock the caller holds), s its
 * leaf: 1 evicted, 0 passed over (second chance, or not evictable now), -1 no swap slot. */
static int evict_frame(struct fw_kernel* k, unsigned core, struct fw_mm* owner,
                       struct fw_frame_rmap* r, hal_paddr_t pa, struct pt_slot* sp) {
    const struct pte_format* fmt = &k->format;
    uint32_t count = k->frames.count;
    uint64_t ppn = pa >> fmt->page_shift;
    struct pt_slot s = *sp;
    struct pte_decoded d;
    pte_decode(fmt, s.raw, s.level, &d, 0);
    uint64_t size = level_bytes(k, s.level);
    uint64_t base = r->va & ~(size - 1);
    if (d.flags & PTE_F_A) {
        pt_write(k, s.slot, pte_encode_leaf(fmt, d.ppn, d.flags & ~(PTE_F_A | PTE_F_V), s.level));
        fw_flush_tlb_mm_range(k, core, owner, base, base + size, level_shift(k, s.level));
        if (s.level > 0) {
            uint32_t next = frame_index_of(k, d.ppn << fmt->page_shift) +
                            ((uint32_t)1 << level_order(k, s.level));
            k->clock_hand = next >= count ? 0 : next;
        }
        return 0;
    }
    if (s.level > 0) {
        /* No reclaim for the split's table: this is reclaim already. */
        if (pt_split(k, core, owner, r->va, 0, 0) != FW_OK) return 0;
        if (rmap_find_owner(k, r, ppn, &s) != owner || s.level != 0) return 0;
    }
    uint64_t swap_slot = 0;
    if (slot_alloc(k, &swap_slot) != FW_OK) return -1;
    /* Unmap and flush first, then write: the page cannot change once no translation
     * reaches it on any core; the frame goes back only after the write. */
    struct fw_mmu_gather g;
    tlb_gather_mmu(&g, k, core, owner, 0);
    pt_write(k, s.slot, pte_encode_swap(fmt, swap_slot));
    tlb_flush_pte_range(&g, r->va & ~(page_bytes(k) - 1), fmt->page_shift);
    count_leaf(k, owner, 0, -1);
    rmap_remove_leaf(&g, owner, pa, 0);
    tlb_flush_mmu_tlbonly(&g);
    swap_io(k, core, SWAP_CMD_WRITE, swap_slot, pa);
    ++owner->stats.swap_outs;
    ++k->stats.swap_outs;
    tlb_finish_mmu(&g);
    return 1;
}

int evict_one(struct fw_kernel* k, unsigned core) {
    if (k->swap_mmio == 0 || k->rmap == 0) return FW_ERR_NOMEM;
    const struct pte_format* fmt = &k->format;
    uint32_t count = k->frames.count;
    int busy = 0;
    for (uint64_t n = 0; n < 2 * (uint64_t)count + 1; ++n) {
        uint32_t idx = k->clock_hand;
        k->clock_hand = idx + 1 == count ? 0 : idx + 1;
        struct fw_frame_rmap* r = &k->rmap[idx];
        if (!(r->flags & RMAP_PRIVATE)) continue;
        hal_paddr_t pa = k->frames.base + ((hal_paddr_t)idx << fmt->page_shift);
        if (frame_refcount(&k->frames, pa) != 1) continue;
        uint64_t ppn = pa >> fmt->page_shift;
        struct pt_slot s;
        struct fw_mm* owner = rmap_find_owner(k, r, ppn, &s);
        if (owner == 0) continue; /* a PROT_NONE page (kept resident) */
        /* SMP: the owner's lock (re-entrant if it is the faulting mm). One attempt only: its
         * holder may be waiting for a lock we hold (the caller decides whether to wait for it:
         * FW_ERR_BUSY). Then look again under the lock. */
        if (!mmap_write_trylock(k, core, owner)) {
            busy = 1;
            continue;
        }
        int done = 0;
        if (!k->smp.on ||
            (rmap_find_owner(k, r, ppn, &s) == owner && frame_refcount(&k->frames, pa) == 1))
            done = evict_frame(k, core, owner, r, pa, &s);
        mmap_write_unlock(k, core, owner);
        if (done < 0) return FW_ERR_NOMEM;
        if (done > 0) return FW_OK;
    }
    return busy ? FW_ERR_BUSY : FW_ERR_NOMEM;
}

int reclaim(struct fw_kernel* k, unsigned core) {
    int rc = evict_one(k, core);
    if (rc != FW_OK && k->smp.on && k->teardowns != 0) {
        /* Not exhausted: an exit or a kill elsewhere is giving its frames back. */
        ++k->stats.reclaim_waits;
        smp_wait_for_unlock();
        rc = FW_OK;
    }
    k->alloc_busy[core] = rc == FW_ERR_BUSY;
    return rc;
}
