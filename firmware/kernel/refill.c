/* Software-managed TLB refill (mmu.tlb_refill: software). Freestanding C11. */
#include "kernel/internal.h"

static int refill_locked(struct fw_kernel* k, unsigned core, struct fw_mm* mm, uint64_t va,
                         enum fw_access access) {
    const struct pte_format* fmt = &k->format;
    uint64_t raw = 0;
    unsigned level = 0;
    hal_paddr_t slot = 0;
    if (pt_lookup(k, mm->root, va, &raw, &level, &slot) != FW_OK) return FW_ERR_FAULT;
    struct pte_decoded d;
    pte_decode(fmt, raw, level, &d, 0);
    unsigned flags = d.flags | PTE_F_V;
    /* User-mode access: U plus the access's right (the walker's checkAccess). The tables this
     * firmware builds are permissive on the path, so the leaf alone decides, as for the walker. */
    if (!(flags & PTE_F_U) || !(flags & access_flag(access))) return FW_ERR_FAULT;
    /* The refill handler does what a hardware walker with A/D management does: it marks the
     * access (and a write) in the PTE, so that the clock algorithm sees it. */
    unsigned ad = PTE_F_A | (access == FW_ACCESS_WRITE ? PTE_F_D : 0u);
    if ((flags & ad) != ad) {
        pt_write(k, slot, pte_set_flags(fmt, raw, ad));
        flags |= ad;
    }
    unsigned low_bits = level * fmt->index_bits;
    uint64_t low = low_bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << low_bits) - 1);
    struct hal_tlb_entry e;
    e.vpn = (va >> fmt->page_shift) & ~low;
    e.ppn = d.ppn;
    e.asid = k->asid_bits == 0 ? 0 : fw_user_asid(k, mm->asid[core]); /* user code's */
    e.level = (uint8_t)level;
    e.flags = (uint8_t)flags;
    hal_tlb_write(&e);
    return FW_OK;
}

int fw_tlb_refill(struct fw_kernel* k, unsigned core, int tid, uint64_t va, enum fw_access access) {
    struct fw_task* t = task_of(k, tid);
    if (t == 0 || core >= k->cores) return FW_ERR_INVAL;
    struct fw_mm* mm = t->mm;
    pti_enter_kernel(k, core);
    /* The A/D update rewrites the PTE: not in the middle of another core's change (SMP). */
    mmap_read_lock(k, core, mm);
    int status = t->live && mm->live ? refill_locked(k, core, mm, va, access) : FW_ERR_FAULT;
    mmap_read_unlock(k, core, mm);
    return status;
}
