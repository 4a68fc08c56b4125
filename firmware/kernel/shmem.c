/* Shared-memory objects: frames allocated on first touch, owned by the object. Freestanding C11. */
#include "kernel/internal.h"

struct fw_shm_obj* shm_of(struct fw_kernel* k, int shm_id) {
    if (shm_id < 0 || shm_id >= FW_MAX_SHM || !k->shm[shm_id].live) return 0;
    return &k->shm[shm_id];
}

int fw_shm_create(struct fw_kernel* k, uint64_t len, int* shm_id) {
    uint64_t mask = page_bytes(k) - 1;
    if (len == 0 || (len & mask) != 0 || (len >> k->format.page_shift) > FW_SHM_MAX_PAGES)
        return FW_ERR_INVAL;
    for (int i = 0; i < FW_MAX_SHM; ++i) {
        struct fw_shm_obj* o = &k->shm[i];
        if (o->live) continue;
        fw_memset(o, 0, sizeof *o);
        o->live = 1;
        o->pages = len >> k->format.page_shift;
        *shm_id = i;
        return FW_OK;
    }
    return FW_ERR_LIMIT;
}

int fw_shm_destroy(struct fw_kernel* k, int shm_id) {
    struct fw_shm_obj* o = shm_of(k, shm_id);
    if (o == 0) return FW_ERR_INVAL;
    for (int i = 0; i < FW_MAX_PROCESSES; ++i) {
        const struct fw_mm* mm = &k->mms[i];
        if (!mm->live) continue;
        for (unsigned v = 0; v < mm->nvmas; ++v)
            if (mm->vmas[v].kind == FW_VMA_SHARED && mm->vmas[v].shm_id == shm_id)
                return FW_ERR_BUSY;
    }
    /* No translation reaches these frames any more (nobody maps the object): free now. */
    for (uint64_t i = 0; i < o->pages; ++i)
        if (o->frame[i] != 0) put_data_frames(k, 0, o->frame[i], 0); /* on no particular core */
    o->live = 0;
    return FW_OK;
}
