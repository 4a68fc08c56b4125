/* Physical frame allocator (see frames.h). Freestanding C11. */
#include "kernel/frames.h"

#include "kernel/fw_errors.h"

/* Encoding of the per-frame word:
 *   0                      free, not on the free list (never allocated, or part of a freed
 *                          block); only these are taken for blocks, so that a block never has
 *                          to be cut out of the singly linked list
 *   FREE_TAG | next index  free, on the single-frame free list (NO_FRAME ends it)
 *   TAIL_TAG | order       allocated: a non-head frame of a block of 2^order frames
 *   1 .. REF_MAX           allocated: refcount of a single frame or a block head */
#define FREE_TAG 0x80000000u
#define TAIL_TAG 0x40000000u
#define REF_MAX 0x3fffffffu
#define NO_FRAME 0x7fffffffu
#define MAX_FRAMES 0x40000000u

static int is_refcount(uint32_t word) {
    return word != 0 && word <= REF_MAX;
}

int frames_init(struct fw_frames* f, hal_paddr_t base, uint64_t frame_bytes, uint32_t count,
                uint32_t* meta) {
    int status = frames_init_zeroed(f, base, frame_bytes, count, meta);
    if (status != FW_OK) return status;
    for (uint32_t i = 0; i < count; ++i)
        meta[i] = 0;
    return FW_OK;
}

int frames_init_zeroed(struct fw_frames* f, hal_paddr_t base, uint64_t frame_bytes, uint32_t count,
                       uint32_t* meta) {
    if (frame_bytes == 0 || (frame_bytes & (frame_bytes - 1)) != 0) return FW_ERR_INVAL;
    if ((base & (frame_bytes - 1)) != 0 || count >= MAX_FRAMES || meta == 0) return FW_ERR_INVAL;
    f->base = base;
    f->frame_bytes = frame_bytes;
    f->count = count;
    f->meta = meta;
    f->free_head = NO_FRAME;
    f->scan_hint = 0;
    f->in_use = 0;
    f->peak = 0;
    for (unsigned i = 0; i < FW_FRAME_LISTS; ++i) {
        f->list_head[i] = NO_FRAME;
        f->list_count[i] = 0;
    }
    return FW_OK;
}

static hal_paddr_t frame_address(const struct fw_frames* f, uint32_t index) {
    return f->base + (hal_paddr_t)index * f->frame_bytes;
}

/* Index of the frame at pa, or NO_FRAME if pa is not a frame start in range. */
static uint32_t frame_index(const struct fw_frames* f, hal_paddr_t pa) {
    if (pa < f->base || ((pa - f->base) & (f->frame_bytes - 1)) != 0) return NO_FRAME;
    uint64_t index = (pa - f->base) / f->frame_bytes;
    return index < f->count ? (uint32_t)index : NO_FRAME;
}

static void account(struct fw_frames* f, uint32_t frames) {
    f->in_use += frames;
    if (f->in_use > f->peak) f->peak = f->in_use;
}

/* A free frame off every list (the shared list first, then a never-listed one), its word not
 * yet set; NO_FRAME when there is none. */
static uint32_t take_free(struct fw_frames* f) {
    uint32_t index = f->free_head;
    if (index != NO_FRAME) {
        f->free_head = f->meta[index] & ~FREE_TAG;
        return index;
    }
    /* One bounded pass over the frames from the hint, wrapping once. */
    uint32_t n = 0;
    index = f->scan_hint;
    while (n < f->count) {
        if (index >= f->count) index = 0;
        if (f->meta[index] == 0) break;
        ++index;
        ++n;
    }
    if (n == f->count) return NO_FRAME;
    f->scan_hint = index + 1;
    return index;
}

static hal_paddr_t allocated(struct fw_frames* f, uint32_t index) {
    f->meta[index] = 1;
    account(f, 1);
    return frame_address(f, index);
}

hal_paddr_t frames_alloc(struct fw_frames* f) {
    uint32_t index = take_free(f);
    return index == NO_FRAME ? 0 : allocated(f, index);
}

hal_paddr_t frames_alloc_listed(struct fw_frames* f, unsigned list) {
    uint32_t index = f->list_head[list];
    if (index == NO_FRAME) return 0;
    f->list_head[list] = f->meta[index] & ~FREE_TAG;
    --f->list_count[list];
    return allocated(f, index);
}

uint32_t frames_refill(struct fw_frames* f, unsigned list, uint32_t n) {
    uint32_t moved = 0, tail = NO_FRAME;
    for (; moved < n; ++moved) {
        uint32_t index = take_free(f);
        if (index == NO_FRAME) break;
        f->meta[index] = FREE_TAG | NO_FRAME;
        if (tail == NO_FRAME)
            f->list_head[list] = index;
        else
            f->meta[tail] = FREE_TAG | index;
        tail = index;
    }
    f->list_count[list] += moved;
    return moved;
}

void frames_drain(struct fw_frames* f, unsigned list, uint32_t keep) {
    if (f->list_count[list] <= keep) return;
    uint32_t* link = &f->list_head[list];
    for (uint32_t i = 0; i < keep; ++i)
        link = &f->meta[*link & ~FREE_TAG];
    uint32_t index = *link & ~FREE_TAG;
    *link = keep == 0 ? NO_FRAME : (FREE_TAG | NO_FRAME);
    while (index != NO_FRAME) {
        uint32_t next = f->meta[index] & ~FREE_TAG;
        f->meta[index] = FREE_TAG | f->free_head;
        f->free_head = index;
        index = next;
    }
    f->list_count[list] = keep;
}

static int block_is_free(const struct fw_frames* f, uint32_t first, uint32_t frames,
                         uint32_t* busy) {
    for (uint32_t i = first; i < first + frames; ++i) {
        if (f->meta[i] != 0) {
            *busy = i;
            return 0;
        }
    }
    return 1;
}

/* First index whose physical frame number is a multiple of `frames`, at or after `from`. */
static uint64_t aligned_index(const struct fw_frames* f, uint64_t from, uint32_t frames) {
    uint64_t pfn = f->base / f->frame_bytes + from;
    uint64_t aligned = (pfn + frames - 1) & ~((uint64_t)frames - 1);
    return aligned - f->base / f->frame_bytes;
}

static uint32_t find_block(const struct fw_frames* f, uint32_t frames) {
    uint64_t i = aligned_index(f, 0, frames);
    while (i + frames <= f->count) {
        uint32_t busy = 0;
        if (block_is_free(f, (uint32_t)i, frames, &busy)) return (uint32_t)i;
        i = aligned_index(f, (uint64_t)busy + 1, frames);
    }
    return NO_FRAME;
}

static int any_listed(const struct fw_frames* f) {
    for (unsigned list = 0; list < FW_FRAME_LISTS; ++list)
        if (f->list_count[list] != 0) return 1;
    return 0;
}

hal_paddr_t frames_alloc_block(struct fw_frames* f, unsigned order) {
    if (order == 0) return frames_alloc(f);
    if (order >= 30 || ((uint32_t)1 << order) > f->count) return 0;
    uint32_t frames = (uint32_t)1 << order;
    uint32_t first = find_block(f, frames);
    if (first == NO_FRAME && (f->free_head != NO_FRAME || any_listed(f))) {
        /* Listed free frames may be what fragments the range: return them to the unlisted
         * state (they are still free) and look again. */
        for (unsigned list = 0; list < FW_FRAME_LISTS; ++list)
            frames_drain(f, list, 0);
        while (f->free_head != NO_FRAME) {
            uint32_t index = f->free_head;
            f->free_head = f->meta[index] & ~FREE_TAG;
            f->meta[index] = 0;
        }
        first = find_block(f, frames);
    }
    if (first == NO_FRAME) return 0;
    f->meta[first] = 1;
    for (uint32_t i = first + 1; i < first + frames; ++i)
        f->meta[i] = TAIL_TAG | order;
    account(f, frames);
    return frame_address(f, first);
}

/* Order of the block headed at index (0 for a single frame). */
static unsigned block_order(const struct fw_frames* f, uint32_t index) {
    if (index + 1 >= f->count) return 0;
    uint32_t next = f->meta[index + 1];
    if ((next & (FREE_TAG | TAIL_TAG)) != TAIL_TAG) return 0;
    /* index+1 is a tail; it belongs to this head only if the head is where its block starts
     * (otherwise index would be a tail itself, not a refcount). */
    return next & ~TAIL_TAG;
}

int64_t frame_get(struct fw_frames* f, hal_paddr_t pa) {
    uint32_t index = frame_index(f, pa);
    if (index == NO_FRAME || !is_refcount(f->meta[index]) || f->meta[index] == REF_MAX)
        return FW_ERR_INVAL;
    return ++f->meta[index];
}

/* Drops a reference; a single frame freed goes to the front of *head (counted in *count, if
 * not null). */
static int64_t put(struct fw_frames* f, hal_paddr_t pa, uint32_t* head, uint32_t* count) {
    uint32_t index = frame_index(f, pa);
    if (index == NO_FRAME || !is_refcount(f->meta[index])) return FW_ERR_INVAL;
    if (--f->meta[index] != 0) return f->meta[index];
    unsigned order = block_order(f, index);
    /* For the host's safety checker: no translation cached before now may reach it any more. */
    hal_trace(HAL_TRACE_FRAME_FREE, pa | order);
    if (order == 0) {
        f->meta[index] = FREE_TAG | *head;
        *head = index;
        if (count) ++*count;
        f->in_use -= 1;
        return 0;
    }
    uint32_t frames = (uint32_t)1 << order;
    for (uint32_t i = index; i < index + frames; ++i)
        f->meta[i] = 0;
    f->in_use -= frames;
    return 0;
}

int64_t frame_put(struct fw_frames* f, hal_paddr_t pa) {
    return put(f, pa, &f->free_head, 0);
}

int64_t frame_put_listed(struct fw_frames* f, hal_paddr_t pa, unsigned list) {
    return put(f, pa, &f->list_head[list], &f->list_count[list]);
}

uint32_t frame_refcount(const struct fw_frames* f, hal_paddr_t pa) {
    if (pa < f->base) return 0;
    uint64_t offset = (pa - f->base) / f->frame_bytes;
    if (offset >= f->count) return 0;
    uint32_t index = (uint32_t)offset;
    uint32_t word = f->meta[index];
    if ((word & (FREE_TAG | TAIL_TAG)) == TAIL_TAG) {
        uint32_t frames = (uint32_t)1 << (word & ~TAIL_TAG);
        uint64_t pfn = f->base / f->frame_bytes + index;
        uint64_t head_pfn = pfn & ~((uint64_t)frames - 1);
        word = f->meta[head_pfn - f->base / f->frame_bytes];
    }
    return is_refcount(word) ? word : 0;
}

unsigned frames_block_order(const struct fw_frames* f, hal_paddr_t pa) {
    uint32_t index = frame_index(f, pa);
    if (index == NO_FRAME || !is_refcount(f->meta[index])) return 0;
    return block_order(f, index);
}

unsigned frames_split_block(struct fw_frames* f, hal_paddr_t pa) {
    uint32_t index = frame_index(f, pa);
    if (index == NO_FRAME || !is_refcount(f->meta[index])) return 0;
    unsigned order = block_order(f, index);
    if (order == 0) return 0;
    uint32_t frames = (uint32_t)1 << order;
    for (uint32_t i = index + 1; i < index + frames; ++i)
        f->meta[i] = f->meta[index];
    return order;
}
