/* mprotect (fw_vma_protect): VMAs split at the ends, PTEs rewritten, changes flushed through
 * the gather. Freestanding C11. */
#include "kernel/internal.h"

struct protect_ctx {
    const struct fw_vma* vma;
    struct fw_mmu_gather* g;
    unsigned core;
};

/* 1 when some frame of the leaf is mapped by someone else too (COW after fork). */
static int leaf_shared(const struct fw_kernel* k, hal_paddr_t pa, unsigned order) {
    if (order == 0 || frames_block_order(&k->frames, pa) == order)
        return frame_refcount(&k->frames, pa) > 1;
    uint64_t n = (uint64_t)1 << order;
    for (uint64_t i = 0; i < n; ++i)
        if (frame_refcount(&k->frames, pa + (i << k->format.page_shift)) > 1) return 1;
    return 0;
}

/* Rewrites one PTE for the VMA's new protection. A/D (and G) are kept; a private frame still
 * shared after fork (or the zero page) stays read-only (COW); prot 0 parks a base page in a
 * PROT_NONE entry. */
static int protect_leaf(struct fw_kernel* k, struct fw_mm* mm, uint64_t va, const struct pt_slot* s,
                        void* vctx) {
    const struct protect_ctx* ctx = (const struct protect_ctx*)vctx;
    const struct fw_vma* v = ctx->vma;
    const struct pte_format* fmt = &k->format;
    uint64_t ppn = 0;
    unsigned keep = 0;
    int present = 0;
    (void)mm;
    if (s->level == 0 && pte_decode_swap(fmt, s->raw, &ppn))
        return FW_OK; /* the swap-in maps it with the VMA's prot */
    if (!(s->level == 0 && pte_decode_protnone(fmt, s->raw, &ppn))) {
        struct pte_decoded d;
        pte_decode(fmt, s->raw, s->level, &d, 0);
        if (d.kind != PTE_KIND_LEAF) return FW_ERR_CORRUPT;
        ppn = d.ppn;
        keep = d.flags & (PTE_F_A | PTE_F_D | PTE_F_G);
        present = 1;
    }
    uint64_t updated;
    if (v->prot == 0) {
        if (s->level != 0) return FW_ERR_CORRUPT; /* split before */
        updated = pte_encode_protnone(fmt, ppn);
    } else {
        unsigned flags = prot_flags(k, v->prot) | keep;
        /* The zero page stays write-protected too: a write faults and gets a frame. */
        if (vma_is_private(v) && ((s->level == 0 && is_zero_pfn(k, ppn)) ||
                                  leaf_shared(k, ppn << fmt->page_shift, level_order(k, s->level))))
            flags &= ~PTE_F_W;
        updated = pte_encode_leaf(fmt, ppn, flags, s->level);
    }
    if (updated != s->raw) {
        pt_write(k, s->slot, updated);
        if (present) tlb_flush_pte_range(ctx->g, va, level_shift(k, s->level));
    }
    return FW_OK;
}

static int vma_protect_locked(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t start,
                              uint64_t len, unsigned prot) {
    int status = vma_check_range(k, start, len);
    if (status != FW_OK) return status;
    hal_charge_cycles(k->cost.vma_lookup); /* do_mprotect_pkey's vma_find, once */
    uint64_t end = start + len;
    /* The range must be covered by VMAs, with no hole and no guard page (mprotect's ENOMEM),
     * and the protection must suit each VMA's kind. */
    for (uint64_t at = start; at < end;) {
        int i = vma_find(mm, at);
        if (i < 0 || mm->vmas[i].guard) return FW_ERR_NOT_MAPPED;
        status = vma_check_prot(prot, (enum fw_vma_kind)mm->vmas[i].kind);
        if (status != FW_OK) return status;
        at = mm->vmas[i].end;
    }
    status = vma_split_range(k, mm, start, end);
    if (status != FW_OK) return status;
    status = pt_split_at(k, core, mm, start);
    if (status == FW_OK) status = pt_split_at(k, core, mm, end);
    if (status != FW_OK) return status;
    struct fw_mmu_gather g;
    tlb_gather_mmu(&g, k, core, mm, 0);
    for (unsigned i = 0; i < mm->nvmas && status == FW_OK; ++i) {
        struct fw_vma* v = &mm->vmas[i];
        if (v->start < start || v->end > end) continue;
        v->prot = (uint8_t)prot;
        struct protect_ctx ctx = {v, &g, core};
        /* PROT_NONE entries are base pages only. */
        if (prot == 0) status = pt_split_range(k, core, mm, v->start, v->end);
        if (status == FW_OK) status = pt_visit(k, mm, v->start, v->end, protect_leaf, &ctx);
    }
    tlb_finish_mmu(&g);
    return status;
}

int fw_vma_protect(struct fw_kernel* k, unsigned core, int pid, uint64_t start, uint64_t len,
                   unsigned prot) {
    struct fw_mm* mm = mm_of(k, pid);
    if (mm == 0 || core >= k->cores) return FW_ERR_INVAL;
    mmap_write_lock(k, core, mm);
    int status = mm->live ? vma_protect_locked(k, core, mm, start, len, prot) : FW_ERR_INVAL;
    mmap_write_unlock(k, core, mm);
    return status;
}
