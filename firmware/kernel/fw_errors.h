/* Error codes of the firmware kernel: 0 is success, every failure is a distinct negative value
 * so that the simulator can report which one it got. Freestanding C11. */
#ifndef TLMMU_FW_ERRORS_H
#define TLMMU_FW_ERRORS_H

#define FW_OK 0
#define FW_ERR_NOMEM (-1)       /* no free frame (or no aligned block) left */
#define FW_ERR_EXISTS (-2)      /* a mapping or a conflicting entry is already there */
#define FW_ERR_INVAL (-3)       /* bad argument: level, alignment, non-canonical VA, frame */
#define FW_ERR_UNSUPPORTED (-4) /* a fault kind this firmware does not handle yet */
#define FW_ERR_NOT_MAPPED (-5)  /* lookup found no leaf */
#define FW_ERR_CORRUPT (-6)     /* the page table holds an entry the format calls reserved */
#define FW_ERR_WX (-7)          /* a mapping or protect asked for write and execute together */
#define FW_ERR_OVERLAP (-8)     /* a new VMA (or its guard page) overlaps an existing one */
#define FW_ERR_FAULT (-9)       /* software refill: no valid translation allows the access */
#define FW_ERR_LIMIT (-10)      /* a fixed table is full (processes, VMAs, shm objects, slots) */
#define FW_ERR_BUSY (-11)       /* the object is still in use (a mapped shm object) */

#endif
