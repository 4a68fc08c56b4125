/* Page-table builder (see pagetable.h). Freestanding C11. */
#include "kernel/pagetable.h"

#include "kernel/fw_errors.h"
#include "kernel/kernel.h"

static uint64_t table_bytes(const struct pte_format* fmt) {
    return (uint64_t)1 << fmt->page_shift;
}

static hal_paddr_t pte_address(const struct pte_format* fmt, hal_paddr_t table, uint64_t va,
                               unsigned level) {
    return table + (hal_paddr_t)pte_index(fmt, va, level) * fmt->pte_bytes;
}

/* A zeroed table frame. Zeroed before anything links to it, so that a concurrent hardware
 * walker never sees stale entries. */
static hal_paddr_t new_table(struct fw_kernel* k) {
    hal_paddr_t table = frames_alloc(&k->frames);
    if (table == 0) return 0;
    hal_zero_frame(table, table_bytes(&k->format));
    ++k->tables_in_use;
    return table;
}

hal_paddr_t pt_create_root(struct fw_kernel* k) {
    return new_table(k);
}

int pt_map(struct fw_kernel* k, hal_paddr_t root, uint64_t va, hal_paddr_t pa, unsigned level,
           unsigned flags) {
    const struct pte_format* fmt = &k->format;
    if (level >= fmt->levels || !((fmt->leaf_level_mask >> level) & 1u)) return FW_ERR_INVAL;
    if (!pte_va_canonical(fmt, va)) return FW_ERR_INVAL;
    uint64_t leaf_mask = ((uint64_t)1 << pte_level_shift(fmt, level)) - 1;
    if ((va & leaf_mask) != 0 || (pa & leaf_mask) != 0) return FW_ERR_INVAL;
    if (fmt->pa_bits < 64 && (pa >> fmt->pa_bits) != 0) return FW_ERR_INVAL;

    hal_paddr_t table = root;
    struct pte_decoded pte;
    for (unsigned l = fmt->levels - 1; l > level; --l) {
        hal_paddr_t slot = pte_address(fmt, table, va, l);
        pte_decode(fmt, hal_read_phys(slot, fmt->pte_bytes), l, &pte, 0);
        switch (pte.kind) {
        case PTE_KIND_TABLE:
            table = pte.ppn << fmt->page_shift;
            break;
        case PTE_KIND_LEAF:
            return FW_ERR_EXISTS;
        case PTE_KIND_RESERVED:
            return FW_ERR_CORRUPT;
        case PTE_KIND_INVALID: {
            hal_paddr_t next = new_table(k);
            if (next == 0) return FW_ERR_NOMEM;
            hal_write_phys(slot, pte_encode_table(fmt, next >> fmt->page_shift), fmt->pte_bytes);
            table = next;
            break;
        }
        }
    }
    hal_paddr_t slot = pte_address(fmt, table, va, level);
    pte_decode(fmt, hal_read_phys(slot, fmt->pte_bytes), level, &pte, 0);
    if (pte.kind != PTE_KIND_INVALID) return FW_ERR_EXISTS;
    hal_write_phys(slot, pte_encode_leaf(fmt, pa >> fmt->page_shift, flags, level), fmt->pte_bytes);
    return FW_OK;
}

int pt_lookup(struct fw_kernel* k, hal_paddr_t root, uint64_t va, uint64_t* raw, unsigned* level,
              hal_paddr_t* pte_pa) {
    const struct pte_format* fmt = &k->format;
    if (!pte_va_canonical(fmt, va)) return FW_ERR_INVAL;
    hal_paddr_t table = root;
    for (unsigned l = fmt->levels; l-- > 0;) {
        hal_paddr_t slot = pte_address(fmt, table, va, l);
        uint64_t value = hal_read_phys(slot, fmt->pte_bytes);
        struct pte_decoded pte;
        pte_decode(fmt, value, l, &pte, 0);
        *level = l;
        switch (pte.kind) {
        case PTE_KIND_INVALID:
            return FW_ERR_NOT_MAPPED;
        case PTE_KIND_RESERVED:
            return FW_ERR_CORRUPT;
        case PTE_KIND_TABLE:
            table = pte.ppn << fmt->page_shift;
            break;
        case PTE_KIND_LEAF:
            *raw = value;
            if (pte_pa) *pte_pa = slot;
            return FW_OK;
        }
    }
    return FW_ERR_CORRUPT; /* unreachable: level 0 never decodes as a table */
}
