/* Invalidation controller register map (models/interconnect/InvalidationController), shared by
 * the model, the firmware and the tests. 64-bit registers at the device's MMIO base. Writing
 * INVAL_CMD_INVALIDATE to COMMAND sends the invalidation held in VA, ASID and KIND (an enum
 * hal_flush_kind: all, by ASID, by VA, by VA and ASID) to the TLBs and page-walk cache of core
 * TARGET, or of every core when TARGET is INVAL_TARGET_ALL; the write returns when they have.
 * A KIND above 3, a TARGET that is no core or another command value answers the write with
 * TLM_GENERIC_ERROR_RESPONSE and sends nothing. COMMAND reads 0 (never busy). */
#ifndef TLMMU_INVALIDATION_CONTROLLER_H
#define TLMMU_INVALIDATION_CONTROLLER_H

#define INVAL_REG_VA 0x00
#define INVAL_REG_ASID 0x08
#define INVAL_REG_KIND 0x10
#define INVAL_REG_TARGET 0x18
#define INVAL_REG_COMMAND 0x20
#define INVAL_REG_BYTES 0x40                    /* size of the register window */
#define INVAL_TARGET_ALL 0xffffffffffffffffULL /* TARGET: every core */
#define INVAL_CMD_INVALIDATE 1                  /* COMMAND: send the operation */

#endif
