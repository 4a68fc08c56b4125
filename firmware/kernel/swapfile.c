/* Swap slots (a bitmap of caller memory) and the swap device (swap_device.h). Freestanding C11. */
#include "kernel/internal.h"

int swap_init(struct fw_kernel* k, const struct fw_kernel_config* c, uint64_t* bitmap) {
    if (c->swap_mmio == 0) return FW_OK;
    if (bitmap == 0 || c->swap_slots == 0) return FW_ERR_INVAL;
    uint64_t max_slots = pte_soft_max_value(&c->format) + 1;
    k->swap_mmio = c->swap_mmio;
    k->swap_slots = c->swap_slots < max_slots ? c->swap_slots : max_slots;
    k->swap_bitmap = bitmap;
    fw_memset(bitmap, 0, ((c->swap_slots + 63) / 64) * 8);
    k->bounce = frames_alloc(&k->frames);
    return k->bounce == 0 ? FW_ERR_NOMEM : FW_OK;
}

void swap_io(struct fw_kernel* k, unsigned core, uint64_t command, uint64_t slot,
             hal_paddr_t frame) {
    hal_paddr_t base = k->swap_mmio;
    swap_lock(k, core);
    hal_write_phys(base + SWAP_REG_SLOT, slot, 8);
    hal_write_phys(base + SWAP_REG_FRAME, frame, 8);
    hal_write_phys(base + SWAP_REG_LENGTH, page_bytes(k), 8);
    hal_write_phys(base + SWAP_REG_COMMAND, command, 8);
    /* A device error loses a page: nothing the firmware can recover from. */
    if (hal_read_phys(base + SWAP_REG_STATUS, 8) != 0) hal_panic("mm: swap device error");
    swap_unlock(k, core);
}

int slot_alloc(struct fw_kernel* k, uint64_t* slot) {
    if (k->stats.swap_slots_in_use >= k->swap_slots) return FW_ERR_NOMEM;
    for (uint64_t n = 0; n < k->swap_slots; ++n) {
        uint64_t s = k->swap_cursor;
        k->swap_cursor = s + 1 == k->swap_slots ? 0 : s + 1;
        uint64_t bit = (uint64_t)1 << (s & 63);
        if (!(k->swap_bitmap[s >> 6] & bit)) {
            k->swap_bitmap[s >> 6] |= bit;
            ++k->stats.swap_slots_in_use;
            *slot = s;
            return FW_OK;
        }
    }
    return FW_ERR_NOMEM;
}

void slot_free(struct fw_kernel* k, uint64_t slot) {
    uint64_t bit = (uint64_t)1 << (slot & 63);
    if (slot >= k->swap_slots || !(k->swap_bitmap[slot >> 6] & bit))
        hal_panic("mm: freeing a swap slot that is not in use");
    k->swap_bitmap[slot >> 6] &= ~bit;
    --k->stats.swap_slots_in_use;
}
