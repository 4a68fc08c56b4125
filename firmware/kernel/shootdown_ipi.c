/* Shootdown by IPI (x86, and every architecture without broadcast invalidation): the targets'
 * interrupt handlers run the flush (smp.c) and acknowledge; the initiator flushes locally
 * before sending, or while the IPIs travel (concurrent_flush). Freestanding C11. */
#include "kernel/internal.h"

static void flush_ipi(struct fw_kernel* k, unsigned core, uint64_t targets, int local,
                      const struct fw_flush_info* f) {
    int concurrent = k->tlb.concurrent_flush;
    if (local && !concurrent) tlb_flush_local(k, core, f);
    smp_call_flush(k, core, targets, local && concurrent, f,
                   (k->tlb.inject & FW_INJECT_SKIP_ACK_WAIT) != 0);
}

const struct fw_shootdown_ops fw_shootdown_ipi = {&fw_shootdown_policies[FW_SHOOTDOWN_IPI],
                                                  flush_ipi};
