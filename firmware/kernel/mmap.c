/* VMAs: the sorted per-mm array and its helpers, mmap (fw_vma_map), munmap (fw_vma_unmap),
 * madvise(MADV_DONTNEED) (fw_vma_discard) and the zap of a range into a gather.
 * Freestanding C11. */
#include "kernel/internal.h"

static void vma_copy(struct fw_vma* dst, const struct fw_vma* src) {
    dst->start = src->start;
    dst->end = src->end;
    dst->pgoff = src->pgoff;
    dst->shm_id = src->shm_id;
    dst->prot = src->prot;
    dst->kind = src->kind;
    dst->guard = src->guard;
    dst->page_level = src->page_level;
}

int vma_find(const struct fw_mm* mm, uint64_t va) {
    for (unsigned i = 0; i < mm->nvmas; ++i)
        if (va >= mm->vmas[i].start && va < mm->vmas[i].end) return (int)i;
    return -1;
}

static int vma_overlaps(const struct fw_mm* mm, uint64_t start, uint64_t end) {
    for (unsigned i = 0; i < mm->nvmas; ++i)
        if (start < mm->vmas[i].end && mm->vmas[i].start < end) return 1;
    return 0;
}

/* Keeps the array sorted by start. The caller checked the capacity. */
static void vma_insert(struct fw_mm* mm, const struct fw_vma* v) {
    unsigned i = mm->nvmas;
    while (i > 0 && mm->vmas[i - 1].start > v->start) {
        vma_copy(&mm->vmas[i], &mm->vmas[i - 1]);
        --i;
    }
    vma_copy(&mm->vmas[i], v);
    ++mm->nvmas;
}

static void vma_remove(struct fw_mm* mm, unsigned i) {
    for (; i + 1 < mm->nvmas; ++i)
        vma_copy(&mm->vmas[i], &mm->vmas[i + 1]);
    --mm->nvmas;
}

/* Number of VMAs that strictly contain addr (0 or 1): a split there needs one more slot. */
static unsigned needs_split(const struct fw_mm* mm, uint64_t addr) {
    int i = vma_find(mm, addr);
    return i >= 0 && mm->vmas[i].start < addr ? 1u : 0u;
}

static void vma_split(struct fw_kernel* k, struct fw_mm* mm, uint64_t addr) {
    int i = vma_find(mm, addr);
    if (i < 0 || mm->vmas[i].start == addr) return;
    struct fw_vma upper;
    vma_copy(&upper, &mm->vmas[i]);
    upper.start = addr;
    upper.pgoff += (addr - mm->vmas[i].start) >> k->format.page_shift;
    mm->vmas[i].end = addr;
    vma_insert(mm, &upper);
}

int vma_split_range(struct fw_kernel* k, struct fw_mm* mm, uint64_t start, uint64_t end) {
    if (mm->nvmas + needs_split(mm, start) + needs_split(mm, end) > FW_MAX_VMAS)
        return FW_ERR_LIMIT;
    vma_split(k, mm, start);
    vma_split(k, mm, end);
    return FW_OK;
}

int vma_check_range(const struct fw_kernel* k, uint64_t start, uint64_t len) {
    uint64_t mask = page_bytes(k) - 1;
    if ((start & mask) != 0 || (len & mask) != 0 || len == 0) return FW_ERR_INVAL;
    uint64_t last = start + len - 1;
    if (last < start) return FW_ERR_INVAL;
    const struct pte_format* fmt = &k->format;
    /* Both ends canonical and in the same half: nothing in between is then non-canonical. */
    if (!pte_va_canonical(fmt, start) || !pte_va_canonical(fmt, last) ||
        (start >> 63) != (last >> 63))
        return FW_ERR_INVAL;
    return FW_OK;
}

int vma_check_prot(unsigned prot, enum fw_vma_kind kind) {
    if (prot & ~(unsigned)(FW_PROT_R | FW_PROT_W | FW_PROT_X)) return FW_ERR_INVAL;
    if ((prot & FW_PROT_W) && (prot & FW_PROT_X) && kind != FW_VMA_IMPLICIT) return FW_ERR_WX;
    /* Write-only cannot be expressed (RISC-V reserves W without R; x86 always allows reads). */
    if ((prot & FW_PROT_W) && !(prot & FW_PROT_R)) return FW_ERR_INVAL;
    return FW_OK;
}

int vma_is_private(const struct fw_vma* v) {
    return v->kind != FW_VMA_SHARED;
}

unsigned prot_flags(const struct fw_kernel* k, unsigned prot) {
    (void)k;
    unsigned flags = PTE_F_U;
    if (prot & FW_PROT_R) flags |= PTE_F_R;
    if (prot & FW_PROT_W) flags |= PTE_F_W;
    if (prot & FW_PROT_X) flags |= PTE_F_X;
    return flags;
}

static int vma_map_locked(struct fw_kernel* k, struct fw_mm* mm, const struct fw_vma_desc* desc) {
    enum fw_vma_kind kind = desc->kind;
    if (kind != FW_VMA_ANON && kind != FW_VMA_SHARED && kind != FW_VMA_STACK &&
        kind != FW_VMA_IMPLICIT)
        return FW_ERR_INVAL;
    int status = vma_check_prot(desc->prot, kind);
    if (status != FW_OK) return status;
    const struct pte_format* fmt = &k->format;
    unsigned level = desc->page_level;
    if (level >= fmt->levels || !((fmt->leaf_level_mask >> level) & 1u)) return FW_ERR_INVAL;
    if (level > 0 && kind == FW_VMA_SHARED) return FW_ERR_INVAL;
    uint64_t start = desc->start, len = desc->len;
    status = vma_check_range(k, start, len);
    if (status != FW_OK) return status;
    uint64_t size = level_bytes(k, level);
    if ((start & (size - 1)) != 0 || (len & (size - 1)) != 0) return FW_ERR_INVAL;
    if (kind == FW_VMA_SHARED) {
        struct fw_shm_obj* o = shm_of(k, desc->shm_id);
        if (o == 0 || (len >> fmt->page_shift) > o->pages) return FW_ERR_INVAL;
    }
    uint64_t lo = start;
    if (kind == FW_VMA_STACK) {
        lo = start - size;
        if (lo > start || vma_check_range(k, lo, size) != FW_OK) return FW_ERR_INVAL;
    }
    if (vma_overlaps(mm, lo, start + len)) return FW_ERR_OVERLAP;
    if (mm->nvmas + (kind == FW_VMA_STACK ? 2u : 1u) > FW_MAX_VMAS) return FW_ERR_LIMIT;
    struct fw_vma v;
    v.start = start;
    v.end = start + len;
    v.pgoff = 0;
    v.shm_id = kind == FW_VMA_SHARED ? desc->shm_id : -1;
    v.prot = (uint8_t)desc->prot;
    v.kind = (uint8_t)kind;
    v.guard = 0;
    v.page_level = (uint8_t)level;
    vma_insert(mm, &v);
    if (kind == FW_VMA_STACK) {
        v.start = lo;
        v.end = start;
        v.prot = 0;
        v.guard = 1;
        v.page_level = 0;
        vma_insert(mm, &v);
    }
    return FW_OK;
}

/* ---- zap --------------------------------------------------------------------------------------
 */

/* The zap holds the split lock of the table whose entries it clears (one at a time). */
static void zap_unlock_table(struct fw_mmu_gather* g) {
    if (g->ptl != 0) ptl_unlock(g->k, g->core, g->ptl);
    g->ptl = 0;
}

static int zap_leaf(struct fw_kernel* k, struct fw_mm* mm, uint64_t va, const struct pt_slot* s,
                    void* vctx) {
    struct fw_mmu_gather* g = (struct fw_mmu_gather*)vctx;
    const struct pte_format* fmt = &k->format;
    uint64_t value = 0;
    struct pt_slot cur = *s;
    /* A torn-down mm's tables go anyway: no need to clear its PTEs (nobody else can reach
     * them). Its walk read one entry per level. */
    if (!g->fullmm) {
        hal_paddr_t table = s->slot & ~(page_bytes(k) - 1);
        if (table != g->ptl) {
            zap_unlock_table(g);
            ptl_lock(k, g->core, table);
            g->ptl = table;
            /* A fault of another core may have changed it while we waited. */
            cur.raw = pt_read(k, s->slot);
            if (cur.raw == 0) return FW_OK;
        }
        pt_write(k, s->slot, 0);
    }
    /* A torn-down mm's leaves cost the same: Linux's exit clears each one too. */
    hal_charge_cycles(k->cost.zap_pte);
    s = &cur;
    tlb_teardown_step(g, fmt->levels - s->level);
    if (s->level == 0 && pte_decode_swap(fmt, s->raw, &value)) {
        slot_free(k, value);
        return FW_OK;
    }
    if (s->level == 0 && pte_decode_protnone(fmt, s->raw, &value)) {
        /* Not a hardware translation: nothing cached to flush. */
        if (is_zero_pfn(k, value)) return FW_OK; /* the zero page: nothing to let go of */
        count_leaf(k, mm, 0, -1);
        rmap_remove_leaf(g, mm, value << fmt->page_shift, 0);
        return FW_OK;
    }
    struct pte_decoded d;
    pte_decode(fmt, s->raw, s->level, &d, 0);
    if (d.kind != PTE_KIND_LEAF) return FW_ERR_CORRUPT;
    tlb_flush_pte_range(g, va, level_shift(k, s->level));
    /* The zero page (a special PTE, Linux's vm_normal_page NULL): flushed, nothing freed. */
    if (s->level == 0 && is_zero_pfn(k, d.ppn)) return FW_OK;
    count_leaf(k, mm, s->level, -1);
    rmap_remove_leaf(g, mm, d.ppn << fmt->page_shift, level_order(k, s->level));
    return FW_OK;
}

int zap_range(struct fw_mmu_gather* g, uint64_t lo, uint64_t hi) {
    int status = pt_visit(g->k, g->mm, lo, hi, zap_leaf, g);
    zap_unlock_table(g);
    return status;
}

/* Whether a huge leaf straddles addr (a range edge there needs a split). */
static int straddles(struct fw_kernel* k, struct fw_mm* mm, uint64_t addr) {
    uint64_t raw = 0;
    unsigned level = 0;
    if (pt_lookup(k, mm->root, addr, &raw, &level, 0) != FW_OK) return 0;
    return level > 0 && (addr & (level_bytes(k, level) - 1)) != 0;
}

/* Huge leaves straddling either end are split, so that the zap takes exactly the range. */
static int split_ends(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t start,
                      uint64_t end) {
    int status = pt_split_at(k, core, mm, start);
    if (status != FW_OK) return status;
    return pt_split_at(k, core, mm, end);
}

/* *downgraded (if not 0): the VMAs gone, the write hold became a read hold for the zap and its
 * flush, as do_vmi_align_munmap does: faults and discards elsewhere in the address space go on
 * meanwhile (none can reach the range: its VMAs are gone). */
static int vma_unmap_locked(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t start,
                            uint64_t len, int* downgraded) {
    int status = vma_check_range(k, start, len);
    if (status != FW_OK) return status;
    /* One lookup of the range's first VMA (do_vmi_munmap's vma_find); the array's walk from
     * there stands for the VMA iterator's steps. */
    hal_charge_cycles(k->cost.vma_lookup);
    uint64_t end = start + len;
    if (mm->nvmas + needs_split(mm, start) + needs_split(mm, end) > FW_MAX_VMAS)
        return FW_ERR_LIMIT;
    status = split_ends(k, core, mm, start, end);
    if (status != FW_OK) return status;
    vma_split_range(k, mm, start, end);
    for (unsigned i = 0; i < mm->nvmas;) {
        if (mm->vmas[i].start >= start && mm->vmas[i].end <= end)
            vma_remove(mm, i);
        else
            ++i;
    }
    if (downgraded) *downgraded = mmap_write_downgrade(k, core, mm);
    /* Empty tables stay (reused by later mappings, freed at exit). */
    struct fw_mmu_gather g;
    tlb_gather_mmu(&g, k, core, mm, 0);
    status = zap_range(&g, start, end);
    tlb_finish_mmu(&g);
    return status;
}

static int vma_discard_locked(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t start,
                              uint64_t len) {
    int status = vma_check_range(k, start, len);
    if (status != FW_OK) return status;
    hal_charge_cycles(k->cost.vma_lookup); /* madvise_walk_vmas's find_vma, once */
    uint64_t end = start + len;
    status = split_ends(k, core, mm, start, end);
    if (status != FW_OK) return status;
    struct fw_mmu_gather g;
    tlb_gather_mmu(&g, k, core, mm, 0);
    for (unsigned i = 0; i < mm->nvmas && status == FW_OK; ++i) {
        const struct fw_vma* v = &mm->vmas[i];
        if (v->guard || v->end <= start || v->start >= end) continue;
        status = zap_range(&g, v->start > start ? v->start : start, v->end < end ? v->end : end);
    }
    tlb_finish_mmu(&g);
    return status;
}

/* ---- entry points: under the address space's lock (SMP mode) ----------------------------------
 */

int fw_vma_map(struct fw_kernel* k, unsigned core, int pid, const struct fw_vma_desc* desc) {
    struct fw_mm* mm = mm_of(k, pid);
    if (mm == 0 || desc == 0) return FW_ERR_INVAL;
    /* VMAs move in their table: a fault of another thread must not hold one meanwhile. */
    if (core >= k->cores) return vma_map_locked(k, mm, desc);
    mmap_write_lock(k, core, mm);
    int status = mm->live ? vma_map_locked(k, mm, desc) : FW_ERR_INVAL;
    mmap_write_unlock(k, core, mm);
    return status;
}

int fw_vma_unmap(struct fw_kernel* k, unsigned core, int pid, uint64_t start, uint64_t len) {
    struct fw_mm* mm = mm_of(k, pid);
    if (mm == 0 || core >= k->cores) return FW_ERR_INVAL;
    mmap_write_lock(k, core, mm);
    int downgraded = 0;
    int status = mm->live ? vma_unmap_locked(k, core, mm, start, len, &downgraded) : FW_ERR_INVAL;
    if (downgraded)
        mmap_read_unlock(k, core, mm);
    else
        mmap_write_unlock(k, core, mm);
    return status;
}

int fw_vma_discard(struct fw_kernel* k, unsigned core, int pid, uint64_t start, uint64_t len) {
    struct fw_mm* mm = mm_of(k, pid);
    if (mm == 0 || core >= k->cores) return FW_ERR_INVAL;
    /* As Linux's MADV_DONTNEED, under mmap_lock for read: the VMAs stay, faults and other
     * discards go on beside it, each PTE change under its table's lock. Splitting a huge leaf
     * at an end changes a table above the PTEs: that one takes the lock for write. */
    enum fw_phase was = phase_enter(k, core, FW_PHASE_ZAP);
    mmap_read_lock(k, core, mm);
    int exclusive = 0;
    if (mm->live && (straddles(k, mm, start) || straddles(k, mm, start + len))) {
        mmap_read_unlock(k, core, mm);
        mmap_write_lock(k, core, mm);
        exclusive = 1;
    }
    int status = mm->live ? vma_discard_locked(k, core, mm, start, len) : FW_ERR_INVAL;
    if (exclusive)
        mmap_write_unlock(k, core, mm);
    else
        mmap_read_unlock(k, core, mm);
    phase_leave(k, core, was);
    return status;
}
