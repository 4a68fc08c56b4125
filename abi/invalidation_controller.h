/* Invalidation controller register map (models/interconnect/InvalidationController), shared by
 * the model, the firmware and the tests. 64-bit registers at the device's MMIO base.
 *
 * Writing INVAL_CMD_INVALIDATE to COMMAND sends the invalidation held in VA, ASID and KIND (an
 * enum hal_flush_kind: all, by ASID, by VA, by VA and ASID) to the TLBs and page-walk cache of
 *  - core TARGET (directed): the write returns when that core has it (synchronous);
 *  - every core, TARGET = INVAL_TARGET_ALL (broadcast, ARM TLBI-IS / AMD INVLPGB style): the
 *    write is posted: it returns at once, the operation is still on its way to the Mmus. It is
 *    complete when a later INVAL_CMD_SYNC (TLBSYNC / DSB) written by the same core returns: that
 *    write returns when every broadcast that core issued before it has reached every Mmu.
 * The controller tells issuers apart by ISSUER, which the issuing core writes with its core id
 * before COMMAND (a TLM write carries no core id; the HAL writes the operands and COMMAND of one
 * operation with no synchronisation between them, so no other core's writes come between).
 * A KIND above 3, a TARGET that is no core, an ISSUER that is no core (broadcast, sync) or
 * another command value answers the write with TLM_GENERIC_ERROR_RESPONSE and sends nothing.
 * COMMAND reads 0 (never busy). */
#ifndef TLMMU_INVALIDATION_CONTROLLER_H
#define TLMMU_INVALIDATION_CONTROLLER_H

#define INVAL_REG_VA 0x00
#define INVAL_REG_ASID 0x08
#define INVAL_REG_KIND 0x10
#define INVAL_REG_TARGET 0x18
#define INVAL_REG_COMMAND 0x20
#define INVAL_REG_ISSUER 0x30                  /* core id of the core that writes COMMAND */
#define INVAL_REG_BYTES 0x40                   /* size of the register window */
#define INVAL_TARGET_ALL 0xffffffffffffffffULL /* TARGET: every core (broadcast, posted) */
#define INVAL_CMD_INVALIDATE 1                 /* COMMAND: send the operation */
#define INVAL_CMD_SYNC 3 /* COMMAND: wait until ISSUER's broadcasts have reached every Mmu */

#endif
