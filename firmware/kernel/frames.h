/* Physical frame allocator. Freestanding C11.
 *
 * Manages the frames of [base, base + count * frame_bytes). All bookkeeping lives in one
 * caller-provided uint32_t per frame (the firmware has no heap), like Linux's struct page:
 * the word is the reference count of an allocated frame, and is reused as the free-list link
 * or the superpage-tail marker otherwise, so no frame memory is touched to allocate. */
#ifndef TLMMU_FRAMES_H
#define TLMMU_FRAMES_H

#include <stdint.h>

#include "hal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Free lists of single frames besides the shared one: one per core (Linux's per-CPU page lists),
 * so that a core reuses the frames it freed itself, still in its caches. */
#define FW_FRAME_LISTS 64

struct fw_frames {
    hal_paddr_t base;
    uint64_t frame_bytes;
    uint32_t count;
    uint32_t* meta;                      /* one word per frame, see frames.c for the encoding */
    uint32_t free_head;                  /* singly linked list of freed single frames */
    uint32_t scan_hint;                  /* where to look first for a never-listed free frame */
    uint32_t in_use;                     /* frames allocated (a block counts all its frames) */
    uint32_t peak;                       /* highest in_use seen */
    uint32_t list_head[FW_FRAME_LISTS];  /* per-core free lists, most recently freed first */
    uint32_t list_count[FW_FRAME_LISTS]; /* frames on each */
};

/* count must be below 2^30 (the word also encodes list links and tail markers), base must be
 * frame aligned. Returns 0 or FW_ERR_INVAL. */
int frames_init(struct fw_frames* f, hal_paddr_t base, uint64_t frame_bytes, uint32_t count,
                uint32_t* meta);
/* The same for meta that the caller has zeroed already (e.g. fresh zero pages from the host):
 * nothing is written to it, so that the memory behind it is touched only for frames used. */
int frames_init_zeroed(struct fw_frames* f, hal_paddr_t base, uint64_t frame_bytes, uint32_t count,
                       uint32_t* meta);

/* One frame with refcount 1, or 0 when none is free (never blocks, never loops). */
hal_paddr_t frames_alloc(struct fw_frames* f);

/* A naturally aligned block of 2^order frames (physical address aligned to its size) with the
 * head's refcount 1; the block is freed whole when the head's count drops to 0. order 0 is a
 * single frame. Returns 0 when no such block is free. */
hal_paddr_t frames_alloc_block(struct fw_frames* f, unsigned order);

/* The per-core free lists (list < FW_FRAME_LISTS). Frames on them are free (not in_use), but
 * only frames_alloc_listed hands them out, most recently freed first. */
/* One frame with refcount 1 from the list, or 0 when the list is empty. */
hal_paddr_t frames_alloc_listed(struct fw_frames* f, unsigned list);
/* Moves up to n free frames onto the empty list, in the order frames_alloc would hand them out
 * (the shared list, then never-listed frames); returns how many. */
uint32_t frames_refill(struct fw_frames* f, unsigned list, uint32_t n);
/* Moves the frames of the list after its first `keep` (the longest free, the coldest) to the
 * shared free list. */
void frames_drain(struct fw_frames* f, unsigned list, uint32_t keep);
/* frame_put, but a single frame freed goes onto the list, not the shared one. */
int64_t frame_put_listed(struct fw_frames* f, hal_paddr_t pa, unsigned list);

/* Reference counting on an allocated frame or block head. Return the new count, or a negative
 * FW_ERR_INVAL for an address that is not an allocated frame/head. frame_put frees at 0. */
int64_t frame_get(struct fw_frames* f, hal_paddr_t pa);
int64_t frame_put(struct fw_frames* f, hal_paddr_t pa);

/* Order of the block headed at pa (0 for a single frame, a tail, or a free frame). */
unsigned frames_block_order(const struct fw_frames* f, hal_paddr_t pa);

/* Splits the block headed at pa into single frames, each with its own refcount equal to the
 * head's (a huge mapping split into smaller ones). Returns the block's order (0: pa heads no
 * block, nothing done). */
unsigned frames_split_block(struct fw_frames* f, hal_paddr_t pa);

/* Refcount of the frame holding pa (a superpage tail reports its head's count); 0 if free or
 * outside the range. */
uint32_t frame_refcount(const struct fw_frames* f, hal_paddr_t pa);

#ifdef __cplusplus
}
#endif

#endif
