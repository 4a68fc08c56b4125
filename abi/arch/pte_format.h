/* Page-table entry formats with their real bit layouts.
 *
 * Freestanding C11 (no libc): the firmware builds page tables with it, and the C++ hardware
 * model (PageTableWalk, PageWalkCache) decodes with the same code, so that the architecture's
 * bit layout is written once. Level numbering: level 0 is the leaf level of base pages,
 * level (levels - 1) is the root. The page size of a leaf at level l is 2^(page_shift + l*index_bits).
 */
#ifndef TLMMU_PTE_FORMAT_H
#define TLMMU_PTE_FORMAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PTE_MAX_LEVELS 6

enum pte_format_id {
    PTE_FMT_SV39,
    PTE_FMT_SV48,
    PTE_FMT_SV57,
    PTE_FMT_X86_64,
    PTE_FMT_X86_64_5LEVEL,
    PTE_FMT_X86_32,
    PTE_FMT_GENERIC,
};

/* Architecture-neutral permission/status flags (not the raw bit positions). */
#define PTE_F_V 0x01u /* valid / present */
#define PTE_F_R 0x02u
#define PTE_F_W 0x04u
#define PTE_F_X 0x08u
#define PTE_F_U 0x10u
#define PTE_F_G 0x20u
#define PTE_F_A 0x40u
#define PTE_F_D 0x80u

struct pte_format {
    enum pte_format_id id;
    unsigned levels;           /* L */
    unsigned page_shift;       /* p: base page is 2^p bytes */
    unsigned pte_bytes;        /* s: 4 or 8 */
    unsigned index_bits;       /* k = p - log2(s) */
    unsigned va_bits;          /* p + L*k (translated VA width) */
    unsigned pa_bits;          /* physical address width the format can express */
    uint32_t leaf_level_mask;  /* bit l set: a leaf (page or superpage) may sit at level l */
    int x86_style;             /* 1: x86 bit layout and hierarchical W/U/NX */
};

enum pte_kind { PTE_KIND_INVALID, PTE_KIND_TABLE, PTE_KIND_LEAF, PTE_KIND_RESERVED };

struct pte_decoded {
    enum pte_kind kind;
    uint64_t ppn;   /* in base pages: next table's base page (TABLE) or mapped page (LEAF) */
    unsigned flags; /* PTE_F_* (for TABLE on x86: the W/U/X restrictions it imposes) */
};

/* Initialises fmt. For PTE_FMT_GENERIC, page_shift/pte_bytes/levels are used (others ignore
 * them). Returns 0, or -1 when the parameters are impossible. */
int pte_format_init(struct pte_format* fmt, enum pte_format_id id, unsigned page_shift,
                    unsigned pte_bytes, unsigned levels);

unsigned pte_level_shift(const struct pte_format* fmt, unsigned level); /* page_shift+level*k */
unsigned pte_index(const struct pte_format* fmt, uint64_t va, unsigned level);
int pte_va_canonical(const struct pte_format* fmt, uint64_t va);

uint64_t pte_encode_table(const struct pte_format* fmt, uint64_t table_ppn);
/* flags: PTE_F_*; V is implied. level must be allowed by leaf_level_mask. */
uint64_t pte_encode_leaf(const struct pte_format* fmt, uint64_t ppn, unsigned flags,
                         unsigned level);
/* Decodes raw at the given level; reserved encodings and misaligned superpages are reported
 * through kind RESERVED with *misaligned set to 1 for the latter. */
void pte_decode(const struct pte_format* fmt, uint64_t raw, unsigned level,
                struct pte_decoded* out, int* misaligned);
/* Returns raw with the A (and D if set in ad_flags) bits set in the format's layout. */
uint64_t pte_set_flags(const struct pte_format* fmt, uint64_t raw, unsigned ad_flags);

/* Software entries: non-present PTEs (V / P clear, so the hardware faults NotPresent and
 * ignores every other bit) that the firmware uses to remember a page that is not mapped right
 * now. Bits 1..2 tag the kind, the value sits from bit 3 up (x86_32: 29 bits).
 *   swap:     the page is in swap slot `slot`;
 *   protnone: the page is resident in frame `ppn` but its VMA allows no access (RISC-V cannot
 *             encode a present leaf without R/W/X: V with RWX clear is a table pointer). */
uint64_t pte_soft_max_value(const struct pte_format* fmt); /* largest slot / ppn encodable */
uint64_t pte_encode_swap(const struct pte_format* fmt, uint64_t slot);
/* 1 and *slot when raw is a swap entry, else 0. */
int pte_decode_swap(const struct pte_format* fmt, uint64_t raw, uint64_t* slot);
uint64_t pte_encode_protnone(const struct pte_format* fmt, uint64_t ppn);
int pte_decode_protnone(const struct pte_format* fmt, uint64_t raw, uint64_t* ppn);

#ifdef __cplusplus
}
#endif

#endif
