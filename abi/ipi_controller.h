/* Inter-processor interrupt controller register map (models/irq/IpiController), shared by the
 * model, the firmware and the tests. 64-bit registers at the device's MMIO base, one set per
 * core (index c = 0 .. cores-1; at most 64 cores):
 *   TARGETS(c)  RW  mask of the cores the next SEND of core c goes to (bit t = core t);
 *   SEND(c)     W   vector v (0..63): vector v becomes pending at every core in TARGETS(c), each
 *                   after the controller's delivery latency (ipi.latency_cycles); the write is
 *                   posted (it returns at once). Reads 0.
 *   PENDING(c)  R   bit v set: vector v has been delivered to core c and not cleared;
 *   CLEAR(c)    W   clears these bits of PENDING(c) (the acknowledgement of the interrupt); core
 *                   c's interrupt input stays raised while any bit is pending.
 * A TARGETS mask naming a core that does not exist, a vector above 63, an offset that is no
 * register or an access that is not 8 bytes answers with a TLM error response and sends
 * nothing. Fault injection (ipi.drop_probability) loses a delivery silently: the firmware
 * notices by its timeout. */
#ifndef TLMMU_IPI_CONTROLLER_H
#define TLMMU_IPI_CONTROLLER_H

#define IPI_MAX_CORES 64
#define IPI_REG_TARGETS(c) (0x000 + 8 * (c))
#define IPI_REG_SEND(c) (0x200 + 8 * (c))
#define IPI_REG_PENDING(c) (0x400 + 8 * (c))
#define IPI_REG_CLEAR(c) (0x600 + 8 * (c))
#define IPI_REG_BYTES 0x800 /* size of the register window */

/* Vectors the firmware uses. */
#define IPI_VECTOR_SHOOTDOWN 0 /* a TLB shootdown request waits for this core */
#define IPI_VECTOR_RESCHEDULE 1

#endif
