/* Page-table entry codecs with the architectures' real bit layouts (see pte_format.h).
 *
 * Freestanding C11: only <stdint.h>/<stddef.h>, no libc calls, so that the same object code
 * serves the firmware (cross-compiled) and the C++ hardware model. */
#include <stddef.h>
#include <stdint.h>

#include "arch/pte_format.h"

/* RISC-V (and generic) layout: the PTE_F_* flags were chosen to sit at the RISC-V bit
 * positions, so V..D are bits 0..7 of the raw PTE. */
#define RV_FLAG_MASK 0xffu
#define RV_RWX (PTE_F_R | PTE_F_W | PTE_F_X)
#define RV_PPN_SHIFT 10u
#define SV_PPN_BITS 44u /* bits 10..53; 54..63 are reserved (Svpbmt/Svnapot are not modelled) */

/* x86 layout. */
#define X86_P (1ull << 0)
#define X86_RW (1ull << 1)
#define X86_US (1ull << 2)
#define X86_A (1ull << 5)
#define X86_D (1ull << 6)
#define X86_PS (1ull << 7) /* at level 0 this bit is PAT */
#define X86_G (1ull << 8)
#define X86_NX (1ull << 63)
#define X86_ADDR_SHIFT 12u

static uint64_t low_mask(unsigned bits) {
    return bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bits) - 1);
}

static unsigned log2_u(unsigned v) {
    unsigned r = 0;
    while (v > 1) {
        v >>= 1;
        ++r;
    }
    return r;
}

/* Width of the PPN field in the raw PTE. */
static unsigned ppn_field_bits(const struct pte_format* fmt) {
    switch (fmt->id) {
    case PTE_FMT_SV39:
    case PTE_FMT_SV48:
    case PTE_FMT_SV57:
        return SV_PPN_BITS;
    case PTE_FMT_X86_64:
    case PTE_FMT_X86_64_5LEVEL:
        return 52u - X86_ADDR_SHIFT;
    case PTE_FMT_X86_32:
        return 32u - X86_ADDR_SHIFT;
    case PTE_FMT_GENERIC:
        break;
    }
    return fmt->pte_bytes * 8u - RV_PPN_SHIFT;
}

static void set_fixed(struct pte_format* fmt, enum pte_format_id id, unsigned levels,
                      unsigned pte_bytes, unsigned index_bits, unsigned va_bits, unsigned pa_bits,
                      uint32_t leaf_mask, int x86) {
    fmt->id = id;
    fmt->levels = levels;
    fmt->page_shift = 12;
    fmt->pte_bytes = pte_bytes;
    fmt->index_bits = index_bits;
    fmt->va_bits = va_bits;
    fmt->pa_bits = pa_bits;
    fmt->leaf_level_mask = leaf_mask;
    fmt->x86_style = x86;
}

int pte_format_init(struct pte_format* fmt, enum pte_format_id id, unsigned page_shift,
                    unsigned pte_bytes, unsigned levels) {
    switch (id) {
    case PTE_FMT_SV39:
        set_fixed(fmt, id, 3, 8, 9, 39, 56, 0x7u, 0);
        return 0;
    case PTE_FMT_SV48:
        set_fixed(fmt, id, 4, 8, 9, 48, 56, 0xfu, 0);
        return 0;
    case PTE_FMT_SV57:
        set_fixed(fmt, id, 5, 8, 9, 57, 56, 0x1fu, 0);
        return 0;
    /* 4 KiB, 2 MiB, 1 GiB leaves; PS at the PML4/PML5 levels is reserved. */
    case PTE_FMT_X86_64:
        set_fixed(fmt, id, 4, 8, 9, 48, 52, 0x7u, 1);
        return 0;
    case PTE_FMT_X86_64_5LEVEL:
        set_fixed(fmt, id, 5, 8, 9, 57, 52, 0x7u, 1);
        return 0;
    case PTE_FMT_X86_32:
        set_fixed(fmt, id, 2, 4, 10, 32, 32, 0x3u, 1);
        return 0;
    case PTE_FMT_GENERIC: {
        if (page_shift < 10 || page_shift > 21) return -1;
        if (pte_bytes != 4 && pte_bytes != 8) return -1;
        if (levels < 1 || levels > PTE_MAX_LEVELS) return -1;
        unsigned k = page_shift - log2_u(pte_bytes);
        unsigned va_bits = page_shift + levels * k;
        if (va_bits > 64) return -1;
        /* The PPN field runs from bit 10 to the top of the PTE. */
        unsigned pa_bits = pte_bytes * 8u - RV_PPN_SHIFT + page_shift;
        if (pa_bits > 64) pa_bits = 64;
        fmt->id = id;
        fmt->levels = levels;
        fmt->page_shift = page_shift;
        fmt->pte_bytes = pte_bytes;
        fmt->index_bits = k;
        fmt->va_bits = va_bits;
        fmt->pa_bits = pa_bits;
        fmt->leaf_level_mask = (uint32_t)low_mask(levels);
        fmt->x86_style = 0;
        return 0;
    }
    }
    return -1;
}

unsigned pte_level_shift(const struct pte_format* fmt, unsigned level) {
    return fmt->page_shift + level * fmt->index_bits;
}

unsigned pte_index(const struct pte_format* fmt, uint64_t va, unsigned level) {
    unsigned shift = pte_level_shift(fmt, level);
    if (shift >= 64) return 0;
    return (unsigned)((va >> shift) & low_mask(fmt->index_bits));
}

int pte_va_canonical(const struct pte_format* fmt, uint64_t va) {
    if (fmt->va_bits >= 64) return 1;
    /* x86_32 has no sign extension: a 32-bit VA simply has nothing above bit 31. */
    if (fmt->id == PTE_FMT_X86_32) return (va >> 32) == 0;
    uint64_t upper = va >> (fmt->va_bits - 1); /* bits 63..va_bits-1 */
    return upper == 0 || upper == low_mask(64 - (fmt->va_bits - 1));
}

uint64_t pte_encode_table(const struct pte_format* fmt, uint64_t table_ppn) {
    uint64_t ppn = table_ppn & low_mask(ppn_field_bits(fmt));
    if (fmt->x86_style) {
        /* Permissive on the path so that the leaf alone decides; A pre-set because this
         * model's walker does not update A in non-leaf entries. */
        return (ppn << X86_ADDR_SHIFT) | X86_P | X86_RW | X86_US | X86_A;
    }
    return (ppn << RV_PPN_SHIFT) | PTE_F_V;
}

uint64_t pte_encode_leaf(const struct pte_format* fmt, uint64_t ppn, unsigned flags,
                         unsigned level) {
    uint64_t field = ppn & low_mask(ppn_field_bits(fmt));
    if (!fmt->x86_style) return (field << RV_PPN_SHIFT) | (flags & RV_FLAG_MASK) | PTE_F_V;

    uint64_t raw = (field << X86_ADDR_SHIFT) | X86_P;
    if (flags & PTE_F_W) raw |= X86_RW;
    if (flags & PTE_F_U) raw |= X86_US;
    if (flags & PTE_F_A) raw |= X86_A;
    if (flags & PTE_F_D) raw |= X86_D;
    if (flags & PTE_F_G) raw |= X86_G;
    if (level > 0) raw |= X86_PS;
    /* x86_32 (non-PAE) cannot express no-execute: every present page is executable. */
    if (!(flags & PTE_F_X) && fmt->pte_bytes == 8) raw |= X86_NX;
    return raw;
}

static void decode_riscv(const struct pte_format* fmt, uint64_t raw, unsigned level,
                         struct pte_decoded* out, int* misaligned) {
    unsigned bits = (unsigned)(raw & RV_FLAG_MASK);
    if (!(bits & PTE_F_V)) return; /* INVALID: every other bit is software's */
    unsigned ppn_bits = ppn_field_bits(fmt);
    if (fmt->id != PTE_FMT_GENERIC && (raw >> (RV_PPN_SHIFT + ppn_bits)) != 0) {
        out->kind = PTE_KIND_RESERVED;
        return;
    }
    uint64_t ppn = (raw >> RV_PPN_SHIFT) & low_mask(ppn_bits);
    if ((bits & RV_RWX) == 0) {
        /* Non-leaf: U/A/D are reserved for future use, and level 0 cannot point further. */
        if ((bits & (PTE_F_U | PTE_F_A | PTE_F_D)) || level == 0) {
            out->kind = PTE_KIND_RESERVED;
            return;
        }
        out->kind = PTE_KIND_TABLE;
        out->ppn = ppn;
        out->flags = bits & (PTE_F_V | PTE_F_G);
        return;
    }
    if ((bits & (PTE_F_R | PTE_F_W)) == PTE_F_W || !((fmt->leaf_level_mask >> level) & 1u)) {
        out->kind = PTE_KIND_RESERVED;
        return;
    }
    if (ppn & low_mask(level * fmt->index_bits)) {
        out->kind = PTE_KIND_RESERVED;
        *misaligned = 1;
        return;
    }
    out->kind = PTE_KIND_LEAF;
    out->ppn = ppn;
    out->flags = bits;
}

/* W/U/X as x86 sees them in any present entry: table entries restrict, leaves grant. */
static unsigned x86_flags(const struct pte_format* fmt, uint64_t raw) {
    unsigned flags = PTE_F_V | PTE_F_R;
    if (raw & X86_RW) flags |= PTE_F_W;
    if (raw & X86_US) flags |= PTE_F_U;
    if (raw & X86_A) flags |= PTE_F_A;
    if (fmt->pte_bytes == 4 || !(raw & X86_NX)) flags |= PTE_F_X;
    return flags;
}

static void decode_x86(const struct pte_format* fmt, uint64_t raw, unsigned level,
                       struct pte_decoded* out) {
    if (fmt->pte_bytes == 4) raw &= 0xffffffffull;
    if (!(raw & X86_P)) return;
    uint64_t ppn = (raw >> X86_ADDR_SHIFT) & low_mask(ppn_field_bits(fmt));
    unsigned flags = x86_flags(fmt, raw);
    if (level > 0 && !(raw & X86_PS)) {
        out->kind = PTE_KIND_TABLE;
        out->ppn = ppn;
        out->flags = flags;
        return;
    }
    if (level > 0) {
        if (!((fmt->leaf_level_mask >> level) & 1u)) {
            out->kind = PTE_KIND_RESERVED;
            return;
        }
        /* Bit 12 is the superpage's PAT bit; the address bits between it and the superpage
         * alignment are reserved (x86 reports them as reserved bits, not misalignment). */
        uint64_t low = low_mask(level * fmt->index_bits);
        if (ppn & low & ~(uint64_t)1) {
            out->kind = PTE_KIND_RESERVED;
            return;
        }
        ppn &= ~low;
    }
    if (raw & X86_D) flags |= PTE_F_D;
    if (raw & X86_G) flags |= PTE_F_G;
    out->kind = PTE_KIND_LEAF;
    out->ppn = ppn;
    out->flags = flags;
}

void pte_decode(const struct pte_format* fmt, uint64_t raw, unsigned level, struct pte_decoded* out,
                int* misaligned) {
    int unused_misaligned;
    if (misaligned == NULL) misaligned = &unused_misaligned;
    *misaligned = 0;
    out->kind = PTE_KIND_INVALID;
    out->ppn = 0;
    out->flags = 0;
    if (fmt->x86_style)
        decode_x86(fmt, raw, level, out);
    else
        decode_riscv(fmt, raw, level, out, misaligned);
}

uint64_t pte_set_flags(const struct pte_format* fmt, uint64_t raw, unsigned ad_flags) {
    if (fmt->x86_style) {
        if (ad_flags & PTE_F_A) raw |= X86_A;
        if (ad_flags & PTE_F_D) raw |= X86_D;
        return raw;
    }
    return raw | (ad_flags & (PTE_F_A | PTE_F_D));
}

/* Software entries (see pte_format.h): bit 0 (V / P) clear, tag in bits 1..2. */
#define SOFT_TAG_SHIFT 1u
#define SOFT_TAG_MASK 0x3u
#define SOFT_TAG_SWAP 1u
#define SOFT_TAG_PROTNONE 2u
#define SOFT_VALUE_SHIFT 3u

uint64_t pte_soft_max_value(const struct pte_format* fmt) {
    return low_mask(fmt->pte_bytes * 8u - SOFT_VALUE_SHIFT);
}

static uint64_t encode_soft(const struct pte_format* fmt, unsigned tag, uint64_t value) {
    return ((value & pte_soft_max_value(fmt)) << SOFT_VALUE_SHIFT) |
           ((uint64_t)tag << SOFT_TAG_SHIFT);
}

static int decode_soft(const struct pte_format* fmt, uint64_t raw, unsigned tag, uint64_t* value) {
    if (fmt->pte_bytes == 4) raw &= 0xffffffffull;
    if ((raw & 1u) != 0 || ((raw >> SOFT_TAG_SHIFT) & SOFT_TAG_MASK) != tag) return 0;
    *value = raw >> SOFT_VALUE_SHIFT;
    return 1;
}

uint64_t pte_encode_swap(const struct pte_format* fmt, uint64_t slot) {
    return encode_soft(fmt, SOFT_TAG_SWAP, slot);
}

int pte_decode_swap(const struct pte_format* fmt, uint64_t raw, uint64_t* slot) {
    return decode_soft(fmt, raw, SOFT_TAG_SWAP, slot);
}

uint64_t pte_encode_protnone(const struct pte_format* fmt, uint64_t ppn) {
    return encode_soft(fmt, SOFT_TAG_PROTNONE, ppn);
}

int pte_decode_protnone(const struct pte_format* fmt, uint64_t raw, uint64_t* ppn) {
    return decode_soft(fmt, raw, SOFT_TAG_PROTNONE, ppn);
}
