/* The system-call entry of the memory manager: one place that charges the entry and exit of a
 * call and dispatches it (Linux's syscall table, for the calls that change an address space or
 * the tasks). Freestanding C11. */
#include "kernel/internal.h"

int fw_syscall(struct fw_kernel* k, unsigned core, int tid, struct fw_syscall_args* a) {
    struct fw_task* t = task_of(k, tid);
    if (t == 0 || (unsigned)a->nr >= FW_SYSCALLS) return FW_ERR_INVAL;
    int pid = t->mm->pid;
    enum fw_phase was = phase_enter(k, core, FW_PHASE_SYSCALL);
    pti_enter_kernel(k, core);
    hal_charge_cycles(k->syscall_entry_cycles);
    /* Linux's table dispatch and argument checks, before the call's own work. */
    hal_charge_cycles(k->cost.syscall_dispatch);
    int rc = FW_ERR_INVAL;
    switch (a->nr) {
    case FW_SYS_MMAP:
        rc = fw_vma_map(k, core, pid, &a->map);
        break;
    case FW_SYS_MUNMAP:
        rc = fw_vma_unmap(k, core, pid, a->start, a->len);
        break;
    case FW_SYS_MPROTECT:
        rc = fw_vma_protect(k, core, pid, a->start, a->len, a->prot);
        break;
    case FW_SYS_MADVISE_DONTNEED:
        rc = fw_vma_discard(k, core, pid, a->start, a->len);
        break;
    case FW_SYS_FORK:
        rc = fw_process_fork(k, core, pid, a->child_core, &a->child_pid, &a->child_tid);
        break;
    case FW_SYS_EXIT:
        rc = fw_task_exit(k, core, tid);
        phase_leave(k, core, was);
        return rc;
    case FW_SYSCALLS:
        break;
    }
    hal_charge_cycles(k->syscall_exit_cycles);
    phase_leave(k, core, was);
    return rc;
}
