/* Broadcast invalidation (ARM TLBI-IS, AMD INVLPGB + TLBSYNC): the initiator issues the flush
 * as broadcast invalidations under the mm's global ASID (one per page, or one of the ASID above
 * the ceiling), which reach every core, its own included, then one sync completes them before
 * anything is freed. No IPI, no target firmware; ASIDs are global (sched.c). Freestanding C11. */
#include "kernel/internal.h"

static void flush_broadcast(struct fw_kernel* k, unsigned core, uint64_t targets, int local,
                            const struct fw_flush_info* f) {
    (void)targets;
    if (k->tlb.inject & FW_INJECT_SKIP_REMOTE_FLUSH) {
        if (local) tlb_flush_local(k, core, f);
    } else {
        tlb_flush_on(k, core, FW_FLUSH_BROADCAST, f);
    }
    uint64_t issued = hal_now_cycles();
    hal_tlb_sync();
    SD_ADD(k, core, wait_cycles, hal_now_cycles() - issued);
}

const struct fw_shootdown_ops fw_shootdown_broadcast = {
    &fw_shootdown_policies[FW_SHOOTDOWN_BROADCAST], flush_broadcast};
