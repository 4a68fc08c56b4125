/* Page-table builder over the physical memory seen through the HAL. Freestanding C11.
 *
 * Tables are whole frames from the kernel's frame allocator; every PTE access is a
 * hal_read_phys/hal_write_phys of the format's PTE size, so that in the simulator the firmware's
 * table updates are timed memory traffic that the hardware walker then reads back. */
#ifndef TLMMU_PAGETABLE_H
#define TLMMU_PAGETABLE_H

#include <stdint.h>

#include "arch/pte_format.h"
#include "hal.h"

#ifdef __cplusplus
extern "C" {
#endif

struct fw_kernel;

/* A zeroed root table, or 0 when out of frames. Counts in k->tables_in_use. */
hal_paddr_t pt_create_root(struct fw_kernel* k);

/* Maps [va, va + leaf size) to pa with a leaf at `level` (0 = base page) and PTE_F_* flags,
 * allocating (zeroed) intermediate tables as needed. va and pa must be aligned to the leaf
 * size and va canonical. Returns 0, FW_ERR_INVAL, FW_ERR_NOMEM (tables already created stay:
 * they are valid, empty and reused by the next call), FW_ERR_EXISTS (a valid entry is already
 * in the leaf's slot, or a leaf covers it from a level above) or FW_ERR_CORRUPT. */
int pt_map(struct fw_kernel* k, hal_paddr_t root, uint64_t va, hal_paddr_t pa, unsigned level,
           unsigned flags);

/* Software walk. On success (0) stores the leaf's raw PTE, its level and, if pte_pa is not
 * NULL, the PTE's physical address. FW_ERR_NOT_MAPPED when the walk ends on an invalid entry,
 * *level then holding the level of that entry; FW_ERR_CORRUPT on a reserved encoding;
 * FW_ERR_INVAL for a non-canonical va. */
int pt_lookup(struct fw_kernel* k, hal_paddr_t root, uint64_t va, uint64_t* raw, unsigned* level,
              hal_paddr_t* pte_pa);

#ifdef __cplusplus
}
#endif

#endif
