/* Directed invalidation (DVM-like): the initiator sends one invalidation per target core
 * through the invalidation controller (hal_tlb_invalidate_core, done when it returns); no IPI,
 * no target firmware. Freestanding C11. */
#include "kernel/internal.h"

static void flush_directed(struct fw_kernel* k, unsigned core, uint64_t targets, int local,
                           const struct fw_flush_info* f) {
    if (local) tlb_flush_local(k, core, f);
    if (k->tlb.inject & FW_INJECT_SKIP_REMOTE_FLUSH) return;
    for (unsigned c = 0; c < k->cores; ++c)
        if ((targets >> c) & 1u) tlb_flush_on(k, core, c, f);
}

const struct fw_shootdown_ops fw_shootdown_directed = {
    &fw_shootdown_policies[FW_SHOOTDOWN_DIRECTED], flush_directed};
