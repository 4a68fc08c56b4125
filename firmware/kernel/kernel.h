/* Minimal firmware kernel: one frame allocator, page-table spaces, and the demand-fault
 * handler. Freestanding C11; talks to the hardware only through hal.h.
 *
 * For now every space is one implicit user RWX region; the VMA-based memory manager (regions,
 * COW, swap, shootdown) replaces fw_handle_fault's NotPresent policy later behind the same
 * entry point. */
#ifndef TLMMU_KERNEL_H
#define TLMMU_KERNEL_H

#include <stdint.h>

#include "arch/pte_format.h"
#include "hal.h"
#include "kernel/frames.h"
#include "kernel/fw_errors.h"
#include "kernel/pagetable.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Same order and values as tlmmu::AccessType and tlmmu::FaultKind (models/common/Types.h), so
 * the simulator converts with a plain cast. */
enum fw_access { FW_ACCESS_READ, FW_ACCESS_WRITE, FW_ACCESS_EXECUTE };
enum fw_fault_kind {
    FW_FAULT_NONE,
    FW_FAULT_NOT_PRESENT,
    FW_FAULT_PERMISSION,
    FW_FAULT_RESERVED_BITS,
    FW_FAULT_MISALIGNED_SUPERPAGE,
    FW_FAULT_BUS_ERROR,
    FW_FAULT_NON_CANONICAL,
};

struct fw_kernel_config {
    struct pte_format format;
    hal_paddr_t frames_base;     /* aligned to the base page size */
    uint32_t frame_count;        /* frames of 2^page_shift bytes, below 2^30 */
    uint32_t* frame_meta;        /* frame_count words owned by the caller, for the allocator */
    unsigned page_level;         /* leaf level of new mappings: 0 = base pages, else superpages */
    uint64_t fault_entry_cycles; /* trap entry + handler prologue, charged per fault */
    uint64_t fault_exit_cycles;  /* handler epilogue + trap return */
};

struct fw_kernel {
    struct pte_format format;
    struct fw_frames frames;
    unsigned page_level;
    uint64_t tables_in_use; /* page-table frames of every space, roots included */
    uint64_t fault_entry_cycles;
    uint64_t fault_exit_cycles;
    uint64_t demand_faults; /* NotPresent faults that mapped a new page */
    uint64_t frames_mapped; /* data frames mapped (a superpage counts all its frames) */
};

struct fw_space {
    hal_paddr_t root;
    uint16_t asid;
};

/* Returns 0, or FW_ERR_INVAL when the frame range is bad or page_level may not hold leaves. */
int fw_kernel_init(struct fw_kernel* k, const struct fw_kernel_config* config);

/* Creates an empty address space (a zeroed root). It does not install it: the caller decides
 * when with hal_set_root. Returns 0 or FW_ERR_NOMEM. */
int fw_space_create(struct fw_kernel* k, struct fw_space* space, uint16_t asid);

/* The translation-fault handler. Returns 0 when the access can be retried, else a negative
 * FW_ERR_*. A NotPresent fault maps a zero-filled page (at page_level) with V|R|W|X|U and A/D
 * clear, so the hardware's first access and first write set them; a NotPresent fault on an
 * address that is mapped by now (another core got there first) is handled as is. Other kinds
 * return FW_ERR_UNSUPPORTED for now. Charges the fault entry/exit cycles either way. */
int fw_handle_fault(struct fw_kernel* k, struct fw_space* space, uint64_t va, enum fw_access access,
                    enum fw_fault_kind kind);

/* Maps the page containing va (at page_level) before the run, A and D already set, with no
 * fault cost; 0 when it is (or already was) mapped. */
int fw_prefault(struct fw_kernel* k, struct fw_space* space, uint64_t va);

#ifdef __cplusplus
}
#endif

#endif
