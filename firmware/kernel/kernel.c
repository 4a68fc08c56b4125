/* Minimal firmware kernel (see kernel.h). Freestanding C11. */
#include "kernel/kernel.h"

/* The one implicit region of this stage: user read/write/execute. */
#define FW_REGION_FLAGS (PTE_F_V | PTE_F_R | PTE_F_W | PTE_F_X | PTE_F_U)

int fw_kernel_init(struct fw_kernel* k, const struct fw_kernel_config* config) {
    const struct pte_format* fmt = &config->format;
    if (config->page_level >= fmt->levels || !((fmt->leaf_level_mask >> config->page_level) & 1u))
        return FW_ERR_INVAL;
    k->format = config->format;
    int status = frames_init(&k->frames, config->frames_base, (uint64_t)1 << fmt->page_shift,
                             config->frame_count, config->frame_meta);
    if (status != FW_OK) return status;
    k->page_level = config->page_level;
    k->tables_in_use = 0;
    k->fault_entry_cycles = config->fault_entry_cycles;
    k->fault_exit_cycles = config->fault_exit_cycles;
    k->demand_faults = 0;
    k->frames_mapped = 0;
    return FW_OK;
}

int fw_space_create(struct fw_kernel* k, struct fw_space* space, uint16_t asid) {
    hal_paddr_t root = pt_create_root(k);
    if (root == 0) return FW_ERR_NOMEM;
    space->root = root;
    space->asid = asid;
    return FW_OK;
}

/* Maps a fresh zero-filled page around va unless one is there already (*mapped_new says which).
 * No TLB invalidation is needed: only invalid entries were replaced, and neither the TLBs nor
 * the page-walk caches hold invalid entries. */
static int map_zero_page(struct fw_kernel* k, struct fw_space* space, uint64_t va, unsigned flags,
                         int* mapped_new) {
    const struct pte_format* fmt = &k->format;
    *mapped_new = 0;
    uint64_t raw = 0;
    unsigned stop_level = 0;
    int status = pt_lookup(k, space->root, va, &raw, &stop_level, 0);
    if (status == FW_OK) return FW_OK;
    if (status != FW_ERR_NOT_MAPPED) return status;

    /* A table already below the superpage slot means base pages live in that range: keep to
     * them rather than fail. */
    unsigned level = stop_level < k->page_level ? 0 : k->page_level;
    unsigned shift = pte_level_shift(fmt, level);
    unsigned order = level * fmt->index_bits;
    hal_paddr_t pa = frames_alloc_block(&k->frames, order);
    if (pa == 0) return FW_ERR_NOMEM;
    hal_zero_frame(pa, (uint64_t)1 << shift);
    status = pt_map(k, space->root, va & ~(((uint64_t)1 << shift) - 1), pa, level, flags);
    if (status != FW_OK) {
        frame_put(&k->frames, pa);
        return status;
    }
    k->frames_mapped += (uint64_t)1 << order;
    *mapped_new = 1;
    return FW_OK;
}

int fw_handle_fault(struct fw_kernel* k, struct fw_space* space, uint64_t va, enum fw_access access,
                    enum fw_fault_kind kind) {
    (void)access; /* the implicit region allows every access; the VMA manager will check it */
    hal_charge_cycles(k->fault_entry_cycles);
    int status = FW_ERR_UNSUPPORTED;
    if (kind == FW_FAULT_NOT_PRESENT) {
        int mapped_new = 0;
        status = map_zero_page(k, space, va, FW_REGION_FLAGS, &mapped_new);
        if (mapped_new) ++k->demand_faults;
    }
    hal_charge_cycles(k->fault_exit_cycles);
    return status;
}

int fw_prefault(struct fw_kernel* k, struct fw_space* space, uint64_t va) {
    int mapped_new = 0;
    return map_zero_page(k, space, va, FW_REGION_FLAGS | PTE_F_A | PTE_F_D, &mapped_new);
}
