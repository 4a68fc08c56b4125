/* Swap device register map (models/swap/SwapDevice), shared by the model, the firmware and the
 * tests. 64-bit registers at the device's MMIO base. Writing COMMAND performs the transfer
 * before the write returns (its time includes the device latency): WRITE copies LENGTH bytes at
 * FRAME to slot SLOT, READ the other way. STATUS: 0 = ok, else the error of the last command. */
#ifndef TLMMU_SWAP_DEVICE_H
#define TLMMU_SWAP_DEVICE_H

#define SWAP_REG_SLOT 0x00
#define SWAP_REG_FRAME 0x08
#define SWAP_REG_LENGTH 0x10
#define SWAP_REG_COMMAND 0x18
#define SWAP_REG_STATUS 0x20
#define SWAP_REG_BYTES 0x40 /* size of the register window */
#define SWAP_CMD_WRITE 1    /* frame -> slot (swap out) */
#define SWAP_CMD_READ 2     /* slot -> frame (swap in) */

#endif
