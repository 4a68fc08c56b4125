/* SMP: the locks, "run this on these cores and wait for their acknowledgements" (the request
 * queue, the IPI, the acknowledgement wait) and the interrupt handler that serves it. What to
 * flush, where, and by which mechanism is tlb.c's (and shootdown_*.c's). Freestanding C11.
 *
 * SMP mode (ipi_mmio != 0 and cores > 1). Everything the cores share to coordinate lives in
 * kernel frames (struct fw_smp in internal.h) and is reached through the HAL, so that it is
 * timed memory traffic seen by the other cores at the right simulated time:
 *
 *   locks:     each address space's mmap_lock, a fair reader-writer ticket lock (one word:
 *              tickets taken, ticket served, readers inside); the kernel's spin locks (the swap
 *              device and its bounce frame, the zone, the LRU, the split page-table locks):
 *              hal_atomic_cas(lock, 0, core + 1). A waiter sleeps with interrupts enabled until
 *              a release wakes it, so that a core waiting for a lock keeps servicing shootdowns
 *              (the holder may be waiting for it). Re-entrant on the holder (a fault that
 *              evicts a page of its own mm).
 *   call:      (initiator, holding the mm's lock, after changing the PTEs)
 *              request slot: START, END, then HEAD (seq, pid, stride, full) (hal_write_phys)
 *              for each target t: pending[t] |= 1 << self (CAS loop)
 *              hal_sync; IPI TARGETS(self) = targets; IPI SEND(self) = IPI_VECTOR_SHOOTDOWN
 *              [run_local: the initiator's own flush, while the IPIs travel]
 *              until every ack[self][t] == seq: read the acks still missing, then one relax
 *              step (interrupts enabled); a target silent for ack_timeout_cycles since the
 *              last send is counted and sent the IPI again (one SEND for all of them);
 *              then the caller frees frames and tables and releases the lock.
 *   handler:   (target, fw_interrupt) read PENDING, write CLEAR, claim pending[self] (CAS to
 *              0), and for each initiator i in it: read i's slot, flush with the same body as
 *              a local flush (tlb_flush_on), hal_sync, ack[i][self] = seq (early_ack: ack
 *              first, then flush).
 *
 * Interrupts: the firmware runs with them masked; only the relax steps of the two waits unmask
 * them (and restore the previous state right after). A core can therefore take a shootdown
 * only between two polls, never in the middle of its own protocol step. */
#include "ipi_controller.h"
#include "kernel/internal.h"

unsigned popcount64(uint64_t x) {
    unsigned n = 0;
    while (x != 0) {
        x &= x - 1;
        ++n;
    }
    return n;
}

static hal_paddr_t slot_word(const struct fw_kernel* k, unsigned initiator, unsigned word) {
    return k->smp.slots + FW_SMP_LINE * (hal_paddr_t)initiator + 8 * (hal_paddr_t)word;
}
static hal_paddr_t pending_word(const struct fw_kernel* k, unsigned target) {
    return k->smp.pending + FW_SMP_LINE * (hal_paddr_t)target;
}
static hal_paddr_t ack_word(const struct fw_kernel* k, unsigned initiator, unsigned target) {
    return k->smp.acks + FW_SMP_LINE * ((hal_paddr_t)initiator * k->cores + target);
}

/* The protocol area (locks, one slot per core, pending and acknowledgement words) is one block
 * of 2^order frames; none without IPIs (or with one core). */
unsigned smp_area_order(const struct fw_kernel_config* c) {
    if (c->ipi_mmio == 0 || c->cores <= 1) return 0;
    uint64_t lines = FW_SMP_LOCKS + 2 * (uint64_t)c->cores + (uint64_t)c->cores * c->cores;
    uint64_t bytes = FW_SMP_LINE * lines;
    uint64_t frame = (uint64_t)1 << c->format.page_shift;
    unsigned order = 0;
    while ((frame << order) < bytes)
        ++order;
    return order;
}

int smp_init(struct fw_kernel* k, const struct fw_kernel_config* c) {
    struct fw_smp* s = &k->smp;
    s->ipi = c->ipi_mmio;
    s->on = c->ipi_mmio != 0 && c->cores > 1;
    s->ack_timeout = c->ack_timeout_cycles;
    s->relax = c->relax_cycles;
    s->irq_entry = c->irq_entry_cycles;
    s->irq_exit = c->irq_exit_cycles;
    s->early_ack = c->early_ack != 0;
    s->cluster_mode = c->ipi_cluster_mode != 0;
    if (!s->on) return FW_OK;
    uint64_t frame = page_bytes(k);
    unsigned order = smp_area_order(c);
    hal_paddr_t area = frames_alloc_block(&k->frames, order);
    if (area == 0) return FW_ERR_NOMEM;
    s->area = area;
    s->area_bytes = frame << order;
    s->locks = area;
    s->slots = s->locks + FW_SMP_LINE * FW_SMP_LOCKS;
    s->pending = s->slots + FW_SMP_LINE * (uint64_t)c->cores;
    s->acks = s->pending + FW_SMP_LINE * (uint64_t)c->cores;
    hal_zero_frame(area, s->area_bytes);
    return FW_OK;
}

/* One step of a wait: interrupts enabled for it only, so that shootdowns are serviced. */
static void relax_step(struct fw_kernel* k) {
    int was = hal_irq_enable(1);
    hal_relax(k->smp.relax);
    hal_irq_enable(was);
}

void smp_irq_window(struct fw_kernel* k) {
    if (!k->smp.on) return;
    /* Not a wait: the least step (a cycle) that lets an interrupt that came due be taken. */
    int was = hal_irq_enable(1);
    hal_relax(1);
    hal_irq_enable(was);
}

/* Never a hang: a wait in which no time passes (the firmware called where the host runs it
 * untimed, e.g. at boot, when no other core can answer) or a target that stays silent through
 * FW_SMP_MAX_RESENDS timeouts stops the simulation with a message. */
#define FW_SMP_STALL_POLLS 10000u
#define FW_SMP_MAX_RESENDS 1000u

static void check_progress(uint64_t* last, unsigned* still) {
    uint64_t now = hal_now_cycles();
    if (now != *last) {
        *last = now;
        *still = 0;
    } else if (++*still >= FW_SMP_STALL_POLLS) {
        hal_panic("mm: a shootdown or lock wait makes no progress in time (untimed context?)");
    }
}

/* ---- the locks --------------------------------------------------------------------------------
 */

/* A lock waiter sleeps (hal_wait_for_event, interrupts enabled) until the holder's release
 * wakes it (hal_send_event), at most this long before it tries again. */
#define FW_SMP_LOCK_WAIT_CYCLES ((uint64_t)1 << 20)

static void lock_wait(void) {
    int was = hal_irq_enable(1);
    hal_wait_for_event(FW_SMP_LOCK_WAIT_CYCLES);
    hal_irq_enable(was);
}

void smp_wait_for_unlock(void) {
    lock_wait();
}

static hal_paddr_t lock_word(const struct fw_kernel* k, unsigned i) {
    return k->smp.locks + FW_SMP_LINE * (hal_paddr_t)i;
}

static uint64_t* lock_waits_of(struct fw_kernel* k, unsigned i) {
    if (i == FW_SMP_LOCK_SWAP) return &k->stats.lock_waits.swap;
    if (i == FW_SMP_LOCK_ZONE) return &k->stats.lock_waits.zone;
    if (i == FW_SMP_LOCK_LRU) return &k->stats.lock_waits.lru;
    return &k->stats.lock_waits.ptl;
}

static void lock_index(struct fw_kernel* k, unsigned core, unsigned i) {
    if (k->smp.lock_owner[i] == core + 1) {
        ++k->smp.lock_depth[i];
        return;
    }
    hal_paddr_t word = lock_word(k, i);
    uint64_t last = hal_now_cycles();
    unsigned still = 0;
    while (hal_atomic_cas(word, 0, core + 1, 8) != 0) {
        SD_ADD(k, core, lock_spins, 1);
        ++*lock_waits_of(k, i);
        lock_wait();
        check_progress(&last, &still);
    }
    k->smp.lock_owner[i] = core + 1;
    k->smp.lock_depth[i] = 1;
}

static void unlock_index(struct fw_kernel* k, unsigned core, unsigned i) {
    if (k->smp.lock_owner[i] != core + 1 || k->smp.lock_depth[i] == 0)
        hal_panic("mm: unlock of a lock this core does not hold");
    if (--k->smp.lock_depth[i] != 0) return;
    k->smp.lock_owner[i] = 0;
    if (hal_atomic_cas(lock_word(k, i), core + 1, 0, 8) != core + 1)
        hal_panic("mm: lock word changed under its holder");
    hal_send_event(); /* wake the waiters */
}

/* ---- mmap_lock: a fair reader-writer ticket lock (FW_RW_* in internal.h) ---------------------
 */

/* The word now, read at its time among the other cores' accesses: a plain load after the core
 * has synchronised, so that waiters woken together share the line instead of each taking it
 * away from the others (as a CAS would; Linux's woken rwsem waiters do not write it either). */
static uint64_t rw_look(struct fw_kernel* k, unsigned i) {
    hal_sync();
    uint64_t now = hal_read_phys(lock_word(k, i), 8);
    k->smp.lock_seen[i] = now;
    return now;
}

/* From v to desired: 1 when it took, else 0 (lock_seen is the word found). */
static int rw_cas(struct fw_kernel* k, unsigned i, uint64_t v, uint64_t desired) {
    uint64_t got = hal_atomic_cas(lock_word(k, i), v, desired, 8);
    k->smp.lock_seen[i] = got == v ? desired : got;
    return got == v;
}

static uint64_t rw_word(uint64_t next, uint64_t head, uint64_t readers) {
    return (readers & 0xffffu) | ((next & 0xffffu) << 16) | ((head & 0xffffu) << 48);
}
static int rw_free(uint64_t v, int writer) {
    return FW_RW_NEXT(v) == FW_RW_HEAD(v) && (!writer || FW_RW_READERS(v) == 0);
}

/* One fetch-and-add on lock i's word (lock_seen becomes the word after it); the old word. */
static uint64_t rw_add(struct fw_kernel* k, unsigned i, uint64_t delta) {
    uint64_t old = hal_atomic_fetch_add(lock_word(k, i), delta, 8);
    k->smp.lock_seen[i] = old + delta;
    return old;
}

/* Takes lock i for read or write. A reader's fast path is one fetch-and-add (FW_RW_* in
 * internal.h); a writer's is one CAS that takes the ticket being served. Otherwise the core
 * takes a ticket and sleeps until the ticket is served (and, for a writer, the readers have
 * left). */
static void rw_lock(struct fw_kernel* k, unsigned core, unsigned i, int writer) {
    uint64_t v;
    if (!writer) {
        v = rw_add(k, i, FW_RW_READER_ONE);
        if (FW_RW_NEXT(v) == FW_RW_HEAD(v)) return;
        /* A writer holds it or waits: out again (waking a writer that saw this reader), then
         * in line. */
        rw_add(k, i, (uint64_t)0 - FW_RW_READER_ONE);
        hal_send_event();
    }
    v = k->smp.lock_seen[i];
    for (;;) {
        int free = writer && rw_free(v, 1);
        if (rw_cas(k, i, v, rw_word(FW_RW_NEXT(v) + 1, FW_RW_HEAD(v), FW_RW_READERS(v)))) {
            if (free) return;
            break;
        }
        v = k->smp.lock_seen[i];
    }
    uint64_t ticket = FW_RW_NEXT(v);
    v = k->smp.lock_seen[i];
    uint64_t last = hal_now_cycles();
    unsigned still = 0;
    for (;;) {
        while (FW_RW_HEAD(v) == ticket) {
            if (writer) {
                if (FW_RW_READERS(v) == 0) return;
                break;
            }
            if (rw_cas(k, i, v, rw_word(FW_RW_NEXT(v), FW_RW_HEAD(v) + 1, FW_RW_READERS(v) + 1))) {
                hal_send_event(); /* the next ticket may be a reader too */
                return;
            }
            v = k->smp.lock_seen[i];
        }
        SD_ADD(k, core, lock_spins, 1);
        ++*(writer ? &k->stats.lock_waits.mmap_write : &k->stats.lock_waits.mmap_read);
        lock_wait();
        check_progress(&last, &still);
        v = rw_look(k, i);
    }
}

/* A reader leaves with one fetch-and-add, waking the waiters only if a ticket is outstanding (a
 * writer may wait for the last reader); a writer serves the next ticket. */
static void rw_unlock(struct fw_kernel* k, unsigned i, int writer) {
    uint64_t old = rw_add(k, i, writer ? FW_RW_HEAD_ONE : (uint64_t)0 - FW_RW_READER_ONE);
    if (writer || FW_RW_NEXT(old) != FW_RW_HEAD(old)) hal_send_event(); /* wake the waiters */
}

static unsigned mm_index(const struct fw_kernel* k, const struct fw_mm* mm) {
    return (unsigned)(mm - k->mms);
}

void mmap_read_lock(struct fw_kernel* k, unsigned core, struct fw_mm* mm) {
    if (!k->smp.on) return;
    unsigned i = mm_index(k, mm);
    if (k->smp.lock_owner[i] == core + 1) {
        ++k->smp.lock_depth[i]; /* inside this core's write: the write covers it */
        return;
    }
    if (k->smp.read_depth[i][core]++ == 0) rw_lock(k, core, i, 0);
}

void mmap_read_unlock(struct fw_kernel* k, unsigned core, struct fw_mm* mm) {
    if (!k->smp.on) return;
    unsigned i = mm_index(k, mm);
    if (k->smp.lock_owner[i] == core + 1) {
        if (k->smp.lock_depth[i] <= 1) hal_panic("mm: read unlock of this core's write lock");
        --k->smp.lock_depth[i];
        return;
    }
    if (k->smp.read_depth[i][core] == 0) hal_panic("mm: read unlock of a lock not held");
    if (--k->smp.read_depth[i][core] == 0) rw_unlock(k, i, 0);
}

void mmap_write_lock(struct fw_kernel* k, unsigned core, struct fw_mm* mm) {
    if (!k->smp.on) return;
    unsigned i = mm_index(k, mm);
    if (k->smp.lock_owner[i] == core + 1) {
        ++k->smp.lock_depth[i];
        return;
    }
    if (k->smp.read_depth[i][core] != 0) hal_panic("mm: write lock under this core's read lock");
    rw_lock(k, core, i, 1);
    k->smp.lock_owner[i] = core + 1;
    k->smp.lock_depth[i] = 1;
}

int mmap_write_trylock(struct fw_kernel* k, unsigned core, struct fw_mm* mm) {
    if (!k->smp.on) return 1;
    unsigned i = mm_index(k, mm);
    if (k->smp.lock_owner[i] == core + 1) {
        ++k->smp.lock_depth[i];
        return 1;
    }
    if (k->smp.read_depth[i][core] != 0) return 0;
    uint64_t v = k->smp.lock_seen[i];
    if (!rw_free(v, 1)) v = rw_look(k, i);
    if (!rw_free(v, 1) ||
        !rw_cas(k, i, v, rw_word(FW_RW_NEXT(v) + 1, FW_RW_HEAD(v), FW_RW_READERS(v))))
        return 0;
    k->smp.lock_owner[i] = core + 1;
    k->smp.lock_depth[i] = 1;
    return 1;
}

void mmap_write_unlock(struct fw_kernel* k, unsigned core, struct fw_mm* mm) {
    if (!k->smp.on) return;
    unsigned i = mm_index(k, mm);
    if (k->smp.lock_owner[i] != core + 1 || k->smp.lock_depth[i] == 0)
        hal_panic("mm: unlock of a lock this core does not hold");
    if (--k->smp.lock_depth[i] != 0) return;
    k->smp.lock_owner[i] = 0;
    rw_unlock(k, i, 1);
}

int mmap_write_downgrade(struct fw_kernel* k, unsigned core, struct fw_mm* mm) {
    if (!k->smp.on) return 0;
    unsigned i = mm_index(k, mm);
    if (k->smp.lock_owner[i] != core + 1 || k->smp.lock_depth[i] == 0)
        hal_panic("mm: downgrade of a lock this core does not hold");
    if (k->smp.lock_depth[i] != 1) return 0;
    k->smp.lock_owner[i] = 0;
    k->smp.lock_depth[i] = 0;
    k->smp.read_depth[i][core] = 1;
    /* In as a reader and the next ticket served, at once (downgrade_write's one add). */
    rw_add(k, i, FW_RW_HEAD_ONE + FW_RW_READER_ONE);
    hal_send_event(); /* readers in line may enter */
    return 1;
}

/* ---- the kernel's spin locks --------------------------------------------------------------------
 */

static unsigned ptl_index(const struct fw_kernel* k, hal_paddr_t table) {
    return FW_SMP_LOCK_PTL + (unsigned)((table >> k->format.page_shift) % FW_SMP_PTL_LOCKS);
}

void ptl_lock(struct fw_kernel* k, unsigned core, hal_paddr_t table) {
    if (k->smp.on) lock_index(k, core, ptl_index(k, table));
}

void ptl_unlock(struct fw_kernel* k, unsigned core, hal_paddr_t table) {
    if (k->smp.on) unlock_index(k, core, ptl_index(k, table));
}

/* Linux's per-CPU page lists: a core allocates single frames from its own list, most recently
 * freed first (so a frame it just freed comes back still in its caches), and frees onto it;
 * pcp->batch frames move between the list and the zone under the zone lock when the list is
 * empty (rmqueue_bulk) or reaches pcp->high (free_pcppages_bulk, the coldest). 63 and 6 x 63:
 * zone_batchsize() for a zone of a gigabyte or more, and the classic high mark. Without SMP the
 * one core allocates from the zone itself. */
#define FW_PCP_BATCH 63u
#define FW_PCP_HIGH (6u * FW_PCP_BATCH)
/* FOLIO_BATCH_SIZE: new pages wait in a per-CPU batch of this many before they join the LRU
 * under its lock (folio_add_lru). */
#define FW_LRU_BATCH 31u

hal_paddr_t pcp_alloc(struct fw_kernel* k, unsigned core) {
    struct fw_frames* f = &k->frames;
    if (!k->smp.on) return frames_alloc(f);
    if (f->list_count[core] == 0) {
        lock_index(k, core, FW_SMP_LOCK_ZONE);
        if (frames_refill(f, core, FW_PCP_BATCH) == 0) {
            /* The zone is empty: every core's list goes back to it (drain_all_pages). */
            for (unsigned c = 0; c < k->cores; ++c)
                frames_drain(f, c, 0);
            frames_refill(f, core, FW_PCP_BATCH);
        }
        unlock_index(k, core, FW_SMP_LOCK_ZONE);
    }
    return frames_alloc_listed(f, core);
}

int64_t pcp_put(struct fw_kernel* k, unsigned core, hal_paddr_t pa) {
    struct fw_frames* f = &k->frames;
    if (!k->smp.on || frames_block_order(f, pa) != 0) return frame_put(f, pa);
    return frame_put_listed(f, pa, core);
}

void pcp_trim(struct fw_kernel* k, unsigned core, uint64_t frames) {
    struct fw_frames* f = &k->frames;
    if (!k->smp.on) return;
    if (frames != 1) { /* a block went back to the zone itself */
        zone_touch(k, core);
    } else if (f->list_count[core] >= FW_PCP_HIGH) {
        lock_index(k, core, FW_SMP_LOCK_ZONE);
        frames_drain(f, core, f->list_count[core] - FW_PCP_BATCH);
        unlock_index(k, core, FW_SMP_LOCK_ZONE);
    }
}

void zone_touch(struct fw_kernel* k, unsigned core) {
    if (!k->smp.on) return;
    lock_index(k, core, FW_SMP_LOCK_ZONE);
    unlock_index(k, core, FW_SMP_LOCK_ZONE);
}

void lru_add(struct fw_kernel* k, unsigned core) {
    hal_charge_cycles(k->cost.lru_add); /* with or without SMP: folio_add_lru's own work */
    if (!k->smp.on || ++k->smp.lru_batch[core] < FW_LRU_BATCH) return;
    lock_index(k, core, FW_SMP_LOCK_LRU);
    k->smp.lru_batch[core] = 0;
    unlock_index(k, core, FW_SMP_LOCK_LRU);
}

void lru_lock(struct fw_kernel* k, unsigned core) {
    if (k->smp.on) lock_index(k, core, FW_SMP_LOCK_LRU);
}

void lru_unlock(struct fw_kernel* k, unsigned core) {
    if (k->smp.on) unlock_index(k, core, FW_SMP_LOCK_LRU);
}

void swap_lock(struct fw_kernel* k, unsigned core) {
    if (k->smp.on) lock_index(k, core, FW_SMP_LOCK_SWAP);
}

void swap_unlock(struct fw_kernel* k, unsigned core) {
    if (k->smp.on) unlock_index(k, core, FW_SMP_LOCK_SWAP);
}

/* ---- running a flush on other cores ------------------------------------------------------------
 */

/* The ICR writes that reach `targets`: one per target in x2APIC physical mode; in cluster mode
 * one per cluster of FW_X2APIC_CLUSTER logical CPUs holding a target (Linux's
 * __x2apic_send_IPI_mask in x2apic_cluster.c ORs a cluster's targets into one write). The
 * model's IPI controller takes the whole mask in one register write either way: this is the
 * sender's cost only. */
#define FW_X2APIC_CLUSTER 16u
static unsigned icr_writes(const struct fw_kernel* k, uint64_t targets) {
    if (!k->smp.cluster_mode) return popcount64(targets);
    unsigned writes = 0;
    for (unsigned c = 0; c < 64; c += FW_X2APIC_CLUSTER)
        if ((targets >> c) & ((1ull << FW_X2APIC_CLUSTER) - 1)) ++writes;
    return writes;
}

static void charge_ipi_send(struct fw_kernel* k, uint64_t targets) {
    hal_charge_cycles(k->cost.ipi_send * icr_writes(k, targets));
}

static void send_ipi(struct fw_kernel* k, unsigned core, uint64_t targets, uint64_t seq) {
    enum fw_phase was = phase_enter(k, core, FW_PHASE_IPI_SEND);
    charge_ipi_send(k, targets);
    hal_sync();
    hal_write_phys(k->smp.ipi + IPI_REG_TARGETS(core), targets, 8);
    hal_write_phys(k->smp.ipi + IPI_REG_SEND(core), IPI_VECTOR_SHOOTDOWN, 8);
    SD_ADD(k, core, ipis_sent, popcount64(targets));
    for (unsigned t = 0; t < k->cores; ++t)
        if ((targets >> t) & 1u) hal_trace(HAL_TRACE_IPI_SEND, t | (seq << 8));
    phase_leave(k, core, was);
}

static void wait_acks(struct fw_kernel* k, unsigned core, uint64_t targets, uint64_t seq,
                      uint64_t sent) {
    uint64_t left = targets;
    uint64_t last = hal_now_cycles();
    unsigned still = 0, resends = 0;
    enum fw_phase was = phase_enter(k, core, FW_PHASE_ACK_WAIT);
    for (;;) {
        for (unsigned t = 0; t < k->cores; ++t)
            if (((left >> t) & 1u) && hal_read_phys(ack_word(k, core, t), 8) == seq)
                left &= ~((uint64_t)1 << t);
        if (left == 0) {
            phase_leave(k, core, was);
            return;
        }
        uint64_t now = hal_now_cycles();
        if (now - sent >= k->smp.ack_timeout) {
            /* A lost IPI (or a very late target): its pending bit is still set, send again. */
            SD_ADD(k, core, ack_timeouts, popcount64(left));
            SD_ADD(k, core, resends, 1);
            if (++resends > FW_SMP_MAX_RESENDS)
                hal_panic("mm: a shootdown target never acknowledges (IPIs lost or not taken)");
            send_ipi(k, core, left, seq);
            sent = hal_now_cycles();
        }
        relax_step(k);
        check_progress(&last, &still);
    }
}

void smp_send_reschedule(struct fw_kernel* k, unsigned core, uint64_t targets) {
    charge_ipi_send(k, targets); /* the same ICR writes as a shootdown's */
    hal_sync();
    hal_write_phys(k->smp.ipi + IPI_REG_TARGETS(core), targets, 8);
    hal_write_phys(k->smp.ipi + IPI_REG_SEND(core), IPI_VECTOR_RESCHEDULE, 8);
    k->stats.kill_ipis += popcount64(targets);
}

void smp_call_flush(struct fw_kernel* k, unsigned core, uint64_t targets, int run_local,
                    const struct fw_flush_info* f, int skip_ack_wait) {
    uint64_t seq = ++k->smp.seq[core] & FW_SMP_SEQ_MASK;
    enum fw_phase was = phase_enter(k, core, FW_PHASE_IPI_REQUEST);
    hal_write_phys(slot_word(k, core, FW_SMP_SLOT_START), f->start, 8);
    hal_write_phys(slot_word(k, core, FW_SMP_SLOT_END), f->end, 8);
    hal_write_phys(slot_word(k, core, FW_SMP_SLOT_HEAD),
                   seq | ((uint64_t)f->mm->pid << 40) |
                       ((uint64_t)(f->stride_shift & 0x7fu) << 48) |
                       ((uint64_t)(f->full != 0) << 55),
                   8);
    uint64_t self = (uint64_t)1 << core;
    for (unsigned t = 0; t < k->cores; ++t) {
        if (!((targets >> t) & 1u)) continue;
        /* Linux's per-target csd set-up and llist_add (smp_call_function_many_cond); the
         * pending word's CAS below is the llist_add's memory traffic, timed by the HAL. */
        hal_charge_cycles(k->cost.ipi_request);
        hal_paddr_t word = pending_word(k, t);
        uint64_t old = 0; /* the usual case: nothing else pending there */
        for (;;) {
            uint64_t seen = hal_atomic_cas(word, old, old | self, 8);
            if (seen == old) break;
            old = seen;
        }
    }
    phase_leave(k, core, was);
    send_ipi(k, core, targets, seq);
    uint64_t sent = hal_now_cycles();
    if (run_local) tlb_flush_local(k, core, f);
    if (!skip_ack_wait) wait_acks(k, core, targets, seq, sent);
    SD_ADD(k, core, wait_cycles, hal_now_cycles() - sent);
}

/* ---- the interrupt handler --------------------------------------------------------------------
 */

static void service(struct fw_kernel* k, unsigned core, unsigned initiator) {
    uint64_t head = hal_read_phys(slot_word(k, initiator, FW_SMP_SLOT_HEAD), 8);
    struct fw_flush_info f;
    f.start = hal_read_phys(slot_word(k, initiator, FW_SMP_SLOT_START), 8);
    f.end = hal_read_phys(slot_word(k, initiator, FW_SMP_SLOT_END), 8);
    uint64_t seq = head & FW_SMP_SEQ_MASK;
    hal_trace(HAL_TRACE_IPI_SERVE, initiator | (seq << 8));
    uint64_t pid = (head >> 40) & 0xffu;
    f.stride_shift = (unsigned)((head >> 48) & 0x7fu);
    f.full = (int)((head >> 55) & 1u);
    /* The initiator holds the mm's lock until every ack is in: the mm stays live. */
    f.mm = pid >= 1 && pid <= FW_MAX_PROCESSES && k->mms[pid - 1].live ? &k->mms[pid - 1] : 0;
    if (k->smp.early_ack) {
        hal_sync();
        hal_write_phys(ack_word(k, initiator, core), seq, 8);
        if (f.mm) tlb_flush_remote(k, core, &f);
    } else {
        if (f.mm) tlb_flush_remote(k, core, &f);
        hal_sync();
        hal_write_phys(ack_word(k, initiator, core), seq, 8);
    }
    SD_ADD(k, core, handled, 1);
}

int fw_interrupt(struct fw_kernel* k, unsigned core) {
    if (core >= k->cores) return FW_ERR_INVAL;
    enum fw_phase was = phase_enter(k, core, FW_PHASE_IRQ);
    pti_enter_kernel(k, core); /* from user code only (not inside a firmware wait) */
    hal_charge_cycles(k->smp.irq_entry);
    int served = 0;
    if (k->smp.ipi != 0) {
        SD_ADD(k, core, interrupts, 1);
        uint64_t vectors = hal_read_phys(k->smp.ipi + IPI_REG_PENDING(core), 8);
        if (vectors != 0) hal_write_phys(k->smp.ipi + IPI_REG_CLEAR(core), vectors, 8);
        if (k->smp.on) {
            /* Every request pending for this core, whatever vector brought us here (a request
             * whose IPI was lost is serviced by the next interrupt, or by the resend). */
            hal_paddr_t word = pending_word(k, core);
            uint64_t mine = hal_read_phys(word, 8);
            while (mine != 0) {
                uint64_t seen = hal_atomic_cas(word, mine, 0, 8);
                if (seen == mine) break;
                mine = seen;
            }
            /* A shootdown interrupt (its vector, or requests that a lost one left): the vector's
             * dispatch and flush_smp_call_function_queue's walk of the queue. */
            if ((vectors & ((uint64_t)1 << IPI_VECTOR_SHOOTDOWN)) || mine != 0)
                hal_charge_cycles(k->cost.irq_dispatch);
            hal_trace(HAL_TRACE_IPI_HANDLER_BEGIN, popcount64(mine));
            for (unsigned i = 0; i < k->cores; ++i)
                if ((mine >> i) & 1u) {
                    service(k, core, i);
                    ++served;
                }
            hal_trace(HAL_TRACE_IPI_HANDLER_END, (uint64_t)served);
        }
    }
    hal_charge_cycles(k->smp.irq_exit);
    phase_leave(k, core, was);
    return served;
}
