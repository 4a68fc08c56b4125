/* The checks of the firmware's configuration, and each shootdown mechanism's policy (its
 * name, its ASIDs, what it refuses), apart from the mechanisms' flushes (shootdown_*.c) so
 * that a host can check a configuration without the HAL. Freestanding C11. */
#include "kernel/internal.h"

static int check_ipi(const struct fw_kernel_config* c, struct fw_config_error* err) {
    (void)c;
    (void)err;
    return FW_OK;
}

/* The options of the IPI path, and skipping acknowledgements there are none of, would have no
 * effect: refused. */
static int check_no_ipi(const struct fw_kernel_config* c, struct fw_config_error* err,
                        const char* mechanism_words) {
    err->why = mechanism_words;
    if (c->concurrent_flush)
        err->field = "concurrent_flush";
    else if (c->early_ack)
        err->field = "early_ack";
    else if (c->lazy_tlb)
        err->field = "lazy_tlb";
    else if (c->inject & FW_INJECT_SKIP_ACK_WAIT) {
        err->field = "inject";
        err->why = "there are no acknowledgements without IPIs; skip_remote_flush is the "
                   "injection that applies";
    } else {
        return FW_OK;
    }
    return FW_ERR_INVAL;
}

static int check_directed(const struct fw_kernel_config* c, struct fw_config_error* err) {
    return check_no_ipi(c, err,
                        "an IPI option; firmware.shootdown.mechanism directed sends no IPI");
}

static int check_broadcast(const struct fw_kernel_config* c, struct fw_config_error* err) {
    int rc =
        check_no_ipi(c, err, "an IPI option; firmware.shootdown.mechanism broadcast sends no IPI");
    if (rc != FW_OK) return rc;
    /* The sync cannot be skipped (the model applies a broadcast at once) and the local flush is
     * the broadcast: skipping the other cores is the only injection that leaves a stale
     * entry. */
    if (c->inject & FW_INJECT_SKIP_LOCAL_FLUSH) {
        err->field = "inject";
        err->why = "it would leave nothing stale with mechanism broadcast (the broadcast is "
                   "the local flush); skip_remote_flush is the injection that applies";
        return FW_ERR_INVAL;
    }
    /* Global ASIDs: an mm installed on another core keeps its ASID, so the cores' ASIDs alone
     * must not exhaust the space. */
    if (c->asid_bits != 0 && tlb_asid_max(c->asid_bits, c->pti) < c->cores) {
        err->field = "asid_bits";
        err->why = c->pti ? "too few ASIDs for mechanism broadcast with firmware.pti (one global "
                            "kernel ASID per address space, the top bit tags the user one): at "
                            "least one per core is needed"
                          : "too few ASIDs for mechanism broadcast (one global ASID per address "
                            "space): at least one per core is needed";
        return FW_ERR_INVAL;
    }
    return FW_OK;
}

const struct fw_shootdown_policy fw_shootdown_policies[FW_SHOOTDOWN_MECHANISMS] = {
    [FW_SHOOTDOWN_IPI] = {"ipi", 0, check_ipi},
    [FW_SHOOTDOWN_DIRECTED] = {"directed", 0, check_directed},
    [FW_SHOOTDOWN_BROADCAST] = {"broadcast", 1, check_broadcast},
};

unsigned fw_shootdown_mechanism_count(void) {
    return FW_SHOOTDOWN_MECHANISMS;
}

const char* fw_shootdown_mechanism_name(unsigned m) {
    return m < FW_SHOOTDOWN_MECHANISMS ? fw_shootdown_policies[m].name : 0;
}

int fw_kernel_config_check(const struct fw_kernel_config* c, struct fw_config_error* err) {
    err->field = 0;
    err->why = 0;
    if (c->cores == 0 || c->cores > FW_MAX_CORES) {
        err->field = "cores";
        err->why = "the memory manager runs 1 to FW_MAX_CORES (64) cores";
        return FW_ERR_INVAL;
    }
    if (c->asid_bits > 16) {
        err->field = "asid_bits";
        err->why = "ASIDs are at most 16 bits";
        return FW_ERR_INVAL;
    }
    if (c->pti && c->asid_bits == 1) {
        err->field = "pti";
        err->why = "page-table isolation needs a kernel and a user ASID per address space (the "
                   "top ASID bit tags the user one): mmu.asid_bits of at least 2, or 0 (no "
                   "ASIDs: every return to user space flushes the TLB)";
        return FW_ERR_INVAL;
    }
    if (c->ipi_mmio != 0 && c->cores > 1 && (c->ack_timeout_cycles == 0 || c->relax_cycles == 0)) {
        err->field = c->ack_timeout_cycles == 0 ? "ack_timeout_cycles" : "relax_cycles";
        err->why = "must be at least 1 cycle";
        return FW_ERR_INVAL;
    }
    if ((unsigned)c->shootdown >= FW_SHOOTDOWN_MECHANISMS) {
        err->field = "shootdown";
        err->why = "no such shootdown mechanism";
        return FW_ERR_INVAL;
    }
    return fw_shootdown_policies[c->shootdown].check(c, err);
}
