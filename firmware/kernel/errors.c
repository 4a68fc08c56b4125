/* Errors and kill reasons by name. Freestanding C11. */
#include "kernel/internal.h"

#define FW_STR2(x) #x
#define FW_STR(x) FW_STR2(x)

const char* fw_strerror(int rc) {
    switch (rc) {
    case FW_OK:
        return "success";
    case FW_ERR_NOMEM:
        return "out of memory (no free frame, no aligned block, and nothing to evict)";
    case FW_ERR_EXISTS:
        return "a mapping or a conflicting page-table entry is already there";
    case FW_ERR_INVAL:
        return "invalid argument (unknown pid/tid/core, misaligned, zero-length or "
               "non-canonical range, page size the format cannot map, bad protection)";
    case FW_ERR_UNSUPPORTED:
        return "not supported by this firmware";
    case FW_ERR_NOT_MAPPED:
        return "no mapping there (outside every VMA, or a guard page)";
    case FW_ERR_CORRUPT:
        return "the page table holds an entry the format calls reserved";
    case FW_ERR_WX:
        return "write and execute together are refused (W^X) outside the implicit region";
    case FW_ERR_OVERLAP:
        return "the new VMA (or its guard page) overlaps an existing one";
    case FW_ERR_FAULT:
        return "no valid translation allows the access";
    case FW_ERR_LIMIT:
        return "a fixed firmware table is full (FW_MAX_PROCESSES " FW_STR(
            FW_MAX_PROCESSES) " processes, FW_MAX_TASKS " FW_STR(FW_MAX_TASKS) " tasks, "
                                                                               "FW_MAX_"
                                                                               "VMAS " FW_STR(
                                                                                   FW_MAX_VMAS) " V"
                                                                                                "MA"
                                                                                                "s "
                                                                                                "pe"
                                                                                                "r "
                                                                                                "pr"
                                                                                                "oc"
                                                                                                "es"
                                                                                                "s,"
                                                                                                " F"
                                                                                                "W_"
                                                                                                "MA"
                                                                                                "X_"
                                                                                                "SH"
                                                                                                "M"
                                                                                                " " FW_STR(FW_MAX_SHM) " shared-memory objects)";
    case FW_ERR_BUSY:
        return "the object is still in use (a shared-memory object still mapped)";
    default:
        return "unknown firmware error";
    }
}

const char* fw_kill_reason_str(enum fw_kill_reason reason) {
    switch (reason) {
    case FW_KILL_NONE:
        return "not killed";
    case FW_KILL_NO_VMA:
        return "access outside every VMA";
    case FW_KILL_GUARD_PAGE:
        return "touch of a stack guard page";
    case FW_KILL_WRITE_RO:
        return "write to a read-only mapping";
    case FW_KILL_EXEC_NX:
        return "instruction fetch from a non-executable mapping";
    case FW_KILL_READ_NR:
        return "read of a mapping without read permission";
    case FW_KILL_BAD_PTE:
        return "bad page-table entry, bus error or non-canonical address";
    case FW_KILL_OUT_OF_MEMORY:
        return "out of memory";
    }
    return "unknown kill reason";
}
