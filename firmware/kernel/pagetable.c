/* Page-table helpers: every walk, map, lookup, range visit, huge-leaf split and table free of
 * the firmware lives here. Tables are whole frames from the frame allocator; every PTE access is
 * a hal_read_phys / hal_write_phys of the format's PTE size, so that in the simulator the
 * firmware's table updates are timed memory traffic that the hardware walker then reads back.
 * Freestanding C11. */
#include "kernel/internal.h"

uint64_t pt_read(const struct fw_kernel* k, hal_paddr_t slot) {
    return hal_read_phys(slot, k->format.pte_bytes);
}

void pt_write(const struct fw_kernel* k, hal_paddr_t slot, uint64_t raw) {
    hal_write_phys(slot, raw, k->format.pte_bytes);
}

static hal_paddr_t pte_address(const struct pte_format* fmt, hal_paddr_t table, uint64_t va,
                               unsigned level) {
    return table + (hal_paddr_t)pte_index(fmt, va, level) * fmt->pte_bytes;
}

hal_paddr_t pt_alloc_table(struct fw_kernel* k, unsigned core, int may_reclaim) {
    hal_paddr_t t = frames_alloc(&k->frames);
    k->alloc_busy[core] = 0;
    while (t == 0 && may_reclaim && reclaim(k, core) == FW_OK)
        t = frames_alloc(&k->frames);
    if (t == 0) return 0;
    hal_zero_frame(t, page_bytes(k));
    ++k->stats.tables_in_use;
    return t;
}

void pt_free_table(struct fw_kernel* k, hal_paddr_t table) {
    frame_put(&k->frames, table);
    --k->stats.tables_in_use;
}

int pt_walk(struct fw_kernel* k, hal_paddr_t root, uint64_t va, unsigned stop_level, unsigned flags,
            unsigned core, struct pt_slot* out) {
    const struct pte_format* fmt = &k->format;
    if (!pte_va_canonical(fmt, va)) return FW_ERR_INVAL;
    hal_paddr_t table = root;
    for (unsigned l = fmt->levels; l-- > 0;) {
        hal_paddr_t slot = pte_address(fmt, table, va, l);
        uint64_t raw = pt_read(k, slot);
        out->slot = slot;
        out->raw = raw;
        out->level = l;
        if (l <= stop_level) return FW_OK;
        struct pte_decoded d;
        pte_decode(fmt, raw, l, &d, 0);
        switch (d.kind) {
        case PTE_KIND_TABLE:
            table = d.ppn << fmt->page_shift;
            continue;
        case PTE_KIND_LEAF:
            return FW_OK;
        case PTE_KIND_RESERVED:
            return FW_ERR_CORRUPT;
        case PTE_KIND_INVALID:
            break;
        }
        if (!(flags & PT_CREATE)) return FW_ERR_NOT_MAPPED;
        if (raw != 0) return FW_ERR_CORRUPT; /* software entries live at level 0 only */
        hal_paddr_t next = pt_alloc_table(k, core, !(flags & PT_NORECLAIM));
        if (next == 0) return FW_ERR_NOMEM;
        /* An eviction meanwhile cannot have filled this slot: it only touches leaves. */
        pt_write(k, slot, pte_encode_table(fmt, next >> fmt->page_shift));
        table = next;
    }
    return FW_ERR_CORRUPT; /* unreachable */
}

int pt_lookup(struct fw_kernel* k, hal_paddr_t root, uint64_t va, uint64_t* raw, unsigned* level,
              hal_paddr_t* pte_pa) {
    struct pt_slot s;
    int status = pt_walk(k, root, va, 0, 0, 0, &s);
    if (status == FW_ERR_INVAL) return status;
    *level = s.level;
    if (status != FW_OK) return status;
    struct pte_decoded d;
    pte_decode(&k->format, s.raw, s.level, &d, 0);
    if (d.kind == PTE_KIND_RESERVED) return FW_ERR_CORRUPT;
    if (d.kind != PTE_KIND_LEAF) return FW_ERR_NOT_MAPPED;
    *raw = s.raw;
    if (pte_pa) *pte_pa = s.slot;
    return FW_OK;
}

int pt_map(struct fw_kernel* k, hal_paddr_t root, uint64_t va, hal_paddr_t pa, unsigned level,
           unsigned flags) {
    const struct pte_format* fmt = &k->format;
    if (level >= fmt->levels || !((fmt->leaf_level_mask >> level) & 1u)) return FW_ERR_INVAL;
    if (!pte_va_canonical(fmt, va)) return FW_ERR_INVAL;
    uint64_t leaf_mask = level_bytes(k, level) - 1;
    if ((va & leaf_mask) != 0 || (pa & leaf_mask) != 0) return FW_ERR_INVAL;
    if (fmt->pa_bits < 64 && (pa >> fmt->pa_bits) != 0) return FW_ERR_INVAL;
    struct pt_slot s;
    int status = pt_walk(k, root, va, level, PT_CREATE | PT_NORECLAIM, 0, &s);
    if (status != FW_OK) return status;
    if (s.level != level || s.raw != 0) return FW_ERR_EXISTS;
    pt_write(k, s.slot, pte_encode_leaf(fmt, pa >> fmt->page_shift, flags, level));
    return FW_OK;
}

int pt_visit(struct fw_kernel* k, struct fw_mm* mm, uint64_t lo, uint64_t hi, pt_visit_fn fn,
             void* ctx) {
    uint64_t va = lo;
    while (va < hi) {
        struct pt_slot s;
        int status = pt_walk(k, mm->root, va, 0, 0, 0, &s);
        if (status != FW_OK && status != FW_ERR_NOT_MAPPED) return status;
        uint64_t span = level_bytes(k, s.level);
        uint64_t base = va & ~(span - 1);
        if (status == FW_OK && s.raw != 0) {
            status = fn(k, mm, base, &s, ctx);
            if (status != FW_OK) return status;
        }
        uint64_t next = base + span;
        if (next <= va) break; /* wrapped past the top of the address space */
        va = next;
    }
    return FW_OK;
}

/* One huge leaf (s, at base va) becomes a table of leaves one level down. */
static int split_one(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t va,
                     const struct pt_slot* s, int may_reclaim) {
    const struct pte_format* fmt = &k->format;
    unsigned level = s->level;
    struct pte_decoded d;
    pte_decode(fmt, s->raw, level, &d, 0);
    if (d.kind != PTE_KIND_LEAF || level == 0) return FW_ERR_CORRUPT;
    hal_paddr_t table = pt_alloc_table(k, core, may_reclaim);
    if (table == 0) return FW_ERR_NOMEM;
    /* Getting the table may have evicted (and split) this very leaf: then walk again. */
    if (pt_read(k, s->slot) != s->raw) {
        pt_free_table(k, table);
        return 1;
    }
    uint64_t entries = (uint64_t)1 << fmt->index_bits;
    uint64_t step = (uint64_t)1 << level_order(k, level - 1);
    unsigned flags = d.flags & ~PTE_F_V;
    for (uint64_t i = 0; i < entries; ++i)
        pt_write(k, table + i * fmt->pte_bytes,
                 pte_encode_leaf(fmt, d.ppn + i * step, flags, level - 1));
    pt_write(k, s->slot, pte_encode_table(fmt, table >> fmt->page_shift));
    uint64_t base = va & ~(level_bytes(k, level) - 1);
    fw_flush_tlb_mm_range(k, core, mm, base, base + level_bytes(k, level), level_shift(k, level));
    frames_split_block(&k->frames, d.ppn << fmt->page_shift);
    count_leaf(k, mm, level, -1);
    for (uint64_t i = 0; i < entries; ++i)
        count_leaf(k, mm, level - 1, 1);
    ++mm->stats.splits;
    ++k->stats.splits;
    return FW_OK;
}

int pt_split(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t va, unsigned target,
             int may_reclaim) {
    for (;;) {
        struct pt_slot s;
        int status = pt_walk(k, mm->root, va, 0, 0, 0, &s);
        if (status == FW_ERR_NOT_MAPPED) return FW_OK;
        if (status != FW_OK) return status;
        if (s.level <= target || s.raw == 0) return FW_OK;
        status = split_one(k, core, mm, va, &s, may_reclaim);
        if (status < 0) return status;
    }
}

int pt_split_range(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t lo, uint64_t hi) {
    uint64_t va = lo;
    while (va < hi) {
        struct pt_slot s;
        int status = pt_walk(k, mm->root, va, 0, 0, 0, &s);
        if (status != FW_OK && status != FW_ERR_NOT_MAPPED) return status;
        uint64_t span = level_bytes(k, s.level);
        if (status == FW_OK && s.level > 0 && s.raw != 0) {
            /* One level down, then look at the same address again. */
            status = pt_split(k, core, mm, va, s.level - 1, 1);
            if (status != FW_OK) return status;
            continue;
        }
        uint64_t next = (va & ~(span - 1)) + span;
        if (next <= va) break;
        va = next;
    }
    return FW_OK;
}

int pt_split_at(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t addr) {
    struct pt_slot s;
    int status = pt_walk(k, mm->root, addr, 0, 0, 0, &s);
    if (status == FW_ERR_NOT_MAPPED || status == FW_ERR_INVAL) return FW_OK;
    if (status != FW_OK) return status;
    if (s.level == 0 || (addr & (level_bytes(k, s.level) - 1)) == 0) return FW_OK;
    /* Down to the largest level whose leaves have addr on a boundary. */
    unsigned target = s.level;
    while (target > 0 && (addr & (level_bytes(k, target) - 1)) != 0)
        --target;
    return pt_split(k, core, mm, addr, target, 1);
}

void pt_free_tables(struct fw_kernel* k, struct fw_mmu_gather* g, hal_paddr_t table,
                    unsigned level) {
    const struct pte_format* fmt = &k->format;
    if (level > 0) {
        uint64_t entries = (uint64_t)1 << fmt->index_bits;
        for (uint64_t i = 0; i < entries; ++i) {
            uint64_t raw = pt_read(k, table + i * fmt->pte_bytes);
            tlb_teardown_step(g, 1);
            if (raw == 0) continue;
            struct pte_decoded d;
            pte_decode(fmt, raw, level, &d, 0);
            if (d.kind == PTE_KIND_TABLE) pt_free_tables(k, g, d.ppn << fmt->page_shift, level - 1);
        }
    }
    tlb_remove_table(g, table);
}
