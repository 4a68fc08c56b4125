/* The firmware's only window on the hardware. Freestanding C11.
 *
 * In the simulator every call is timed TLM traffic issued by the core that runs the firmware
 * (models/core/HostHal.cpp); on a real core these would be loads, stores and CSR writes. */
#ifndef TLMMU_HAL_H
#define TLMMU_HAL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t hal_paddr_t;

/* Physical memory, bytes = 1, 2, 4 or 8, little-endian. */
uint64_t hal_read_phys(hal_paddr_t pa, unsigned bytes);
void hal_write_phys(hal_paddr_t pa, uint64_t value, unsigned bytes);
void hal_zero_frame(hal_paddr_t pa, uint64_t bytes);
void hal_copy_frame(hal_paddr_t dst, hal_paddr_t src, uint64_t bytes);

/* Local TLB and page-walk-cache invalidation of the calling core. */
enum hal_flush_kind { HAL_FLUSH_ALL, HAL_FLUSH_ASID, HAL_FLUSH_VA, HAL_FLUSH_VA_ASID };
void hal_tlb_invalidate(enum hal_flush_kind kind, uint64_t va, uint16_t asid);

/* The same invalidation in another core's TLBs and page-walk cache (a directed, DVM-style
 * maintenance operation carried by the interconnect); done when the call returns. */
void hal_tlb_invalidate_core(unsigned core, enum hal_flush_kind kind, uint64_t va, uint16_t asid);

/* The same invalidation in every core's TLBs and page-walk cache, the caller's included (ARM
 * TLBI-IS / AMD INVLPGB, carried by the interconnect): posted, it is on its way when the call
 * returns; hal_tlb_sync completes it. */
void hal_tlb_invalidate_broadcast(enum hal_flush_kind kind, uint64_t va, uint16_t asid);

/* Returns when every broadcast invalidation the calling core issued has reached every core
 * (ARM DSB after TLBI-IS, AMD TLBSYNC). */
void hal_tlb_sync(void);

/* Root-pointer / ASID register of the calling core (satp / CR3). */
void hal_set_root(hal_paddr_t root, uint16_t asid);

/* Software-managed TLB (mmu.tlb_refill: software): writes one entry into the calling core's
 * TLBs, as a MIPS tlbwr would. vpn/ppn are in base pages, flags are PTE_F_* of
 * arch/pte_format.h, level 0 = base page. */
struct hal_tlb_entry {
    uint64_t vpn;
    uint64_t ppn;
    uint16_t asid;
    uint8_t level;
    uint8_t flags;
};
void hal_tlb_write(const struct hal_tlb_entry* entry);

/* Firmware bookkeeping work that is not memory traffic, in core cycles. */
void hal_charge_cycles(uint64_t cycles);

/* ---- cores that wait on each other (shootdowns, locks, acknowledgements) ------------------
 * Each core runs ahead of the others by up to a quantum (temporal decoupling). What one core
 * does that another must see at the right simulated time goes through these calls. */

/* Atomic compare-and-swap of `bytes` (4 or 8) at pa, one read-modify-write transaction through
 * the interconnect (an AMO / locked cmpxchg). Returns the old value; the new one is stored only
 * if the old equals `expected`. The calling core synchronises first, so that the order of
 * atomics between cores is their order in simulated time. */
uint64_t hal_atomic_cas(hal_paddr_t pa, uint64_t expected, uint64_t desired, unsigned bytes);

/* Atomic fetch-and-add of `bytes` (4 or 8) at pa (x86's LOCK XADD, a RISC-V amoadd): one
 * read-modify-write transaction that always stores old + delta (modulo 2^(8 * bytes); a
 * negative delta as its two's complement). Returns the old value. Synchronises first, as
 * hal_atomic_cas. Unlike a CAS it never fails, so cores adding to one word at once each pay
 * one transfer of its line, not a retry per competitor (Linux's rwsem reader fast path). */
uint64_t hal_atomic_fetch_add(hal_paddr_t pa, uint64_t delta, unsigned bytes);

/* Lets simulated time catch up with the calling core, so that what it writes next is seen by
 * the other cores no earlier than now (e.g. before an acknowledgement, an IPI). */
void hal_sync(void);

/* The calling core's time in its cycles (its local time: monotonic, including what it runs
 * ahead of the others). */
uint64_t hal_now_cycles(void);

/* One step of a polling loop: `cycles` pass (at least 1), the core synchronises, and an
 * interrupt that became due meanwhile is taken now if interrupts are enabled: the firmware's
 * interrupt handler (fw_interrupt) runs inside this call, on this core. */
void hal_relax(uint64_t cycles);

/* Wait for event (ARM WFE, x86 MWAIT): like hal_relax, but the core sleeps until another core
 * calls hal_send_event, an interrupt becomes due (taken inside if enabled), or max_cycles pass,
 * whichever comes first. A lock waiter sleeps here instead of polling. */
void hal_wait_for_event(uint64_t max_cycles);

/* Send event (ARM SEV): wakes every core sleeping in hal_wait_for_event, at the caller's time
 * (it synchronises first). A lock holder calls it after releasing the lock. */
void hal_send_event(void);

/* Masks (0) or unmasks (1) the calling core's interrupts; returns the previous state. A core
 * runs user code with interrupts enabled; the firmware runs with them masked except where it
 * unmasks them (e.g. while it waits). */
int hal_irq_enable(int enable);

/* Trace port: the firmware marks points of its work for the host's statistics and timeline (a
 * real core would write them to a trace buffer). No time passes. */
enum hal_trace_event {
    HAL_TRACE_SHOOTDOWN_BEGIN,   /* the initiator starts a shootdown; arg: pages (0: whole mm) */
    HAL_TRACE_SHOOTDOWN_END,     /* every acknowledgement is in; arg: target cores */
    HAL_TRACE_IPI_HANDLER_BEGIN, /* a core enters its shootdown handler; arg: requests pending */
    HAL_TRACE_IPI_HANDLER_END,
    HAL_TRACE_FRAME_FREE, /* a frame (block) went back to the allocator; arg: its PA | order */
    HAL_TRACE_IPI_SEND,   /* a shootdown IPI went out, once per target; arg: the target core |
                             the request's sequence number << 8 */
    HAL_TRACE_IPI_SERVE,  /* a handler serves a request; arg: its initiator | its sequence << 8 */
};
void hal_trace(enum hal_trace_event event, uint64_t arg);

/* A task the firmware created (a fork's child) may run from now on, at the caller's time: the
 * host's scheduler takes it (a real kernel would wake its core). */
void hal_task_runnable(int tid);

/* The address space pid is being torn down (the exit of its last task, or a kill), at the
 * caller's time, under its lock, before anything is unmapped: its statistics are final (the host
 * keeps them; the pid may be reused). */
void hal_mm_released(int pid);

/* Unrecoverable firmware error: stops the simulation with the message. */
void hal_panic(const char* message);

#ifdef __cplusplus
}
#endif

#endif
