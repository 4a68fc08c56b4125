/* Init, the process and task tables, and inspection. Freestanding C11. */
#include "kernel/internal.h"

/* Byte loop through a volatile pointer so that the compiler cannot turn it into a memset call
 * (there is no libc to provide one). */
void fw_memset(void* dst, unsigned char value, uint64_t bytes) {
    volatile unsigned char* d = (volatile unsigned char*)dst;
    while (bytes-- > 0)
        *d++ = value;
}

uint64_t fw_kernel_size(void) {
    return sizeof(struct fw_kernel);
}

uint32_t fw_kernel_init_frames(const struct fw_kernel_config* c) {
    uint32_t smp = (c->ipi_mmio != 0 && c->cores > 1) ? (uint32_t)1 << smp_area_order(c) : 0;
    return (c->swap_mmio != 0 ? 1u : 0u) + smp + (c->zero_page ? 1u : 0u);
}

int fw_kernel_init(struct fw_kernel* k, const struct fw_kernel_config* c,
                   uint64_t* swap_slot_bitmap) {
    struct fw_config_error err;
    if (c->rmap == 0 || c->frame_meta == 0 || fw_kernel_config_check(c, &err) != FW_OK)
        return FW_ERR_INVAL;
    if (c->format.levels == 0 || c->format.levels > PTE_MAX_LEVELS) return FW_ERR_INVAL;
    if (c->swap_mmio != 0 && (swap_slot_bitmap == 0 || c->swap_slots == 0)) return FW_ERR_INVAL;
    fw_memset(k, 0, sizeof *k);
    k->format = c->format;
    int status = (c->buffers_zeroed ? frames_init_zeroed : frames_init)(
        &k->frames, c->frames_base, (uint64_t)1 << c->format.page_shift, c->frame_count,
        c->frame_meta);
    if (status != FW_OK) return status;
    k->asid_bits = c->asid_bits;
    k->cores = c->cores;
    k->asid_max = tlb_asid_max(c->asid_bits, c->pti);
    k->limit = c->memory_limit_frames;
    k->flush_ceiling =
        c->flush_ceiling_pages != 0 ? c->flush_ceiling_pages : FW_FLUSH_CEILING_PAGES;
    k->fault_entry_cycles = c->fault_entry_cycles;
    k->fault_exit_cycles = c->fault_exit_cycles;
    k->switch_cycles = c->switch_cycles;
    k->fork_cycles = c->fork_cycles;
    k->syscall_entry_cycles = c->syscall_entry_cycles;
    k->syscall_exit_cycles = c->syscall_exit_cycles;
    k->cost = c->cost;
    k->rmap = c->rmap;
    if (!c->buffers_zeroed) fw_memset(k->rmap, 0, (uint64_t)c->frame_count * sizeof *k->rmap);
    for (unsigned i = 0; i < FW_MAX_CORES; ++i) {
        k->asid_next[i] = 1;
        k->asid_cursor[i] = 1;
    }
    k->asid_global_next = 1;
    k->asid_global_cursor = 1;
    status = swap_init(k, c, swap_slot_bitmap);
    if (status != FW_OK) return status;
    status = tlb_init(k, c);
    if (status != FW_OK) return status;
    status = smp_init(k, c);
    if (status != FW_OK || !c->zero_page) return status;
    /* Last, so that the frames above are where they are without it. */
    k->zero_page = frames_alloc(&k->frames);
    if (k->zero_page == 0) return FW_ERR_NOMEM;
    hal_zero_frame(k->zero_page, page_bytes(k));
    return FW_OK;
}

struct fw_mm* mm_of(struct fw_kernel* k, int pid) {
    if (pid < 1 || pid > FW_MAX_PROCESSES) return 0;
    struct fw_mm* mm = &k->mms[pid - 1];
    return mm->live ? mm : 0;
}

struct fw_task* task_of(struct fw_kernel* k, int tid) {
    if (tid < 1 || tid > FW_MAX_TASKS) return 0;
    struct fw_task* t = &k->tasks[tid - 1];
    return t->live ? t : 0;
}

int tid_of(const struct fw_kernel* k, const struct fw_task* t) {
    return (int)(t - k->tasks) + 1;
}

/* Round robin over the slots, so that a dead process's stats stay readable for a while. */
struct fw_mm* mm_alloc(struct fw_kernel* k) {
    for (int n = 0; n < FW_MAX_PROCESSES; ++n) {
        int i = (k->pid_cursor + n) % FW_MAX_PROCESSES;
        struct fw_mm* mm = &k->mms[i];
        if (mm->live) continue;
        k->pid_cursor = (i + 1) % FW_MAX_PROCESSES;
        fw_memset(mm, 0, sizeof *mm);
        mm->live = 1;
        mm->used = 1;
        mm->pid = i + 1;
        return mm;
    }
    return 0;
}

struct fw_task* task_alloc(struct fw_kernel* k, struct fw_mm* mm, unsigned core) {
    for (int n = 0; n < FW_MAX_TASKS; ++n) {
        int i = (k->tid_cursor + n) % FW_MAX_TASKS;
        struct fw_task* t = &k->tasks[i];
        if (t->live) continue;
        k->tid_cursor = (i + 1) % FW_MAX_TASKS;
        t->live = 1;
        t->mm = mm;
        t->core = core;
        ++mm->users;
        return t;
    }
    return 0;
}

int fw_process_create(struct fw_kernel* k, unsigned core, int* pid, int* tid) {
    if (core >= k->cores) return FW_ERR_INVAL;
    struct fw_mm* mm = mm_alloc(k);
    if (mm == 0) return FW_ERR_LIMIT;
    struct fw_task* t = task_alloc(k, mm, core);
    if (t == 0) {
        mm->live = 0;
        return FW_ERR_LIMIT;
    }
    mm->root = pt_alloc_table(k, core, 1);
    if (mm->root == 0) {
        t->live = 0;
        mm->live = 0;
        return FW_ERR_NOMEM;
    }
    *pid = mm->pid;
    *tid = tid_of(k, t);
    return FW_OK;
}

int fw_thread_create(struct fw_kernel* k, int pid, unsigned core, int* tid) {
    struct fw_mm* mm = mm_of(k, pid);
    if (mm == 0 || core >= k->cores) return FW_ERR_INVAL;
    struct fw_task* t = task_alloc(k, mm, core);
    if (t == 0) return FW_ERR_LIMIT;
    *tid = tid_of(k, t);
    return FW_OK;
}

/* ---- inspection -------------------------------------------------------------------------------
 */

static const struct fw_mm* mm_slot(const struct fw_kernel* k, int pid) {
    return pid < 1 || pid > FW_MAX_PROCESSES ? 0 : &k->mms[pid - 1];
}

const struct fw_process_stats* fw_process_stats(const struct fw_kernel* k, int pid) {
    const struct fw_mm* mm = mm_slot(k, pid);
    return mm != 0 && mm->used ? &mm->stats : 0;
}

enum fw_kill_reason fw_process_killed(const struct fw_kernel* k, int pid) {
    const struct fw_mm* mm = mm_slot(k, pid);
    return mm != 0 ? mm->killed : FW_KILL_NONE;
}

hal_paddr_t fw_process_root(const struct fw_kernel* k, int pid) {
    const struct fw_mm* mm = mm_slot(k, pid);
    return mm != 0 && mm->live ? mm->root : 0;
}

uint16_t fw_process_asid(const struct fw_kernel* k, int pid, unsigned core) {
    const struct fw_mm* mm = mm_slot(k, pid);
    return mm != 0 && mm->live && core < FW_MAX_CORES ? mm->asid[core] : 0;
}

int fw_process_user_flush_pending(const struct fw_kernel* k, int pid, unsigned core) {
    const struct fw_mm* mm = mm_slot(k, pid);
    return mm != 0 && mm->live && core < FW_MAX_CORES && ((mm->pti_user_stale >> core) & 1u);
}

uint64_t fw_process_cpu_mask(const struct fw_kernel* k, int pid) {
    const struct fw_mm* mm = mm_slot(k, pid);
    return mm != 0 && mm->live ? mm->cpu_mask : 0;
}

int fw_process_vma(const struct fw_kernel* k, int pid, unsigned i, struct fw_vma_desc* out) {
    const struct fw_mm* mm = mm_slot(k, pid);
    if (mm == 0 || !mm->live || i >= mm->nvmas) return FW_ERR_INVAL;
    const struct fw_vma* v = &mm->vmas[i];
    out->start = v->start;
    out->len = v->end - v->start;
    out->prot = v->guard ? 0 : v->prot;
    out->kind = (enum fw_vma_kind)v->kind;
    out->shm_id = v->kind == FW_VMA_SHARED ? v->shm_id : -1;
    out->page_level = v->page_level;
    return FW_OK;
}

unsigned fw_process_tasks(const struct fw_kernel* k, int pid) {
    const struct fw_mm* mm = mm_slot(k, pid);
    return mm != 0 && mm->live ? mm->users : 0;
}

int fw_task_pid(const struct fw_kernel* k, int tid) {
    if (tid < 1 || tid > FW_MAX_TASKS || !k->tasks[tid - 1].live) return FW_ERR_INVAL;
    return k->tasks[tid - 1].mm->pid;
}

enum fw_kill_reason fw_task_killed(const struct fw_kernel* k, int tid) {
    if (tid < 1 || tid > FW_MAX_TASKS || !k->tasks[tid - 1].live) return FW_KILL_NONE;
    return k->tasks[tid - 1].mm->killed;
}

int fw_task_core(const struct fw_kernel* k, int tid) {
    if (tid < 1 || tid > FW_MAX_TASKS || !k->tasks[tid - 1].live) return FW_ERR_INVAL;
    return (int)k->tasks[tid - 1].core;
}

const struct fw_kernel_stats* fw_kernel_stats(const struct fw_kernel* k) {
    return &k->stats;
}

uint64_t fw_tables_in_use(const struct fw_kernel* k) {
    return k->stats.tables_in_use;
}

uint64_t fw_frames_in_use(const struct fw_kernel* k) {
    return k->stats.data_frames;
}

uint64_t fw_swap_slots_in_use(const struct fw_kernel* k) {
    return k->stats.swap_slots_in_use;
}

const struct pte_format* fw_kernel_format(const struct fw_kernel* k) {
    return &k->format;
}

const struct fw_frames* fw_kernel_frames(const struct fw_kernel* k) {
    return &k->frames;
}

hal_paddr_t fw_zero_page(const struct fw_kernel* k) {
    return k->zero_page;
}
