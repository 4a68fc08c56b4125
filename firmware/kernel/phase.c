/* Time per phase (struct fw_time_stats): each core is in one phase at a time; a span of its
 * clock is charged to the phase it was in, so nested phases come out of the one around them.
 * Only hal_now_cycles is called: no time passes, nothing is timed differently. Freestanding
 * C11. */
#include "kernel/internal.h"

/* The field of phase p (enum fw_phase's order), none for FW_PHASE_USER. */
static uint64_t* phase_field(struct fw_time_stats* t, enum fw_phase p) {
    uint64_t* const fields[] = {0,
                                &t->syscall,
                                &t->zap,
                                &t->flush_setup,
                                &t->flush_local,
                                &t->ipi_request,
                                &t->ipi_send,
                                &t->ack_wait,
                                &t->fault,
                                &t->zero,
                                &t->irq};
    return (unsigned)p < sizeof fields / sizeof fields[0] ? fields[p] : 0;
}

/* Charges the core's span since its last change to the phase it is in, and moves it to p. */
enum fw_phase phase_enter(struct fw_kernel* k, unsigned core, enum fw_phase p) {
    if (core >= k->cores) return p;
    uint64_t now = hal_now_cycles();
    enum fw_phase was = (enum fw_phase)k->phase[core];
    uint64_t* field = phase_field(&k->stats.time_by_core[core], was);
    if (field != 0 && now > k->phase_since[core]) *field += now - k->phase_since[core];
    k->phase_since[core] = now;
    k->phase[core] = (uint8_t)p;
    return was;
}

void phase_leave(struct fw_kernel* k, unsigned core, enum fw_phase was) {
    phase_enter(k, core, was);
}
