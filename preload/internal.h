/*
 * internal: what the files of liboffheap.so share — the tracker's state,
 * and the helpers inlined on the hot path (the free filter's test) or on
 * every recorded block (charge, discharge).
 *
 * Hooks (hooks.c) interpose the allocator and decide what is sampled; the
 * stack walk (stackwalk.c) names a block's call stack as an entry of the
 * stack table; the address table (addrtable.c) remembers which stack each
 * live sampled block was charged to; the shared memory (trackshm.c) maps the
 * file offheap record reads (trackshm.h) and adds to its counters.
 *
 * Everything here is hidden: the library exports only the interposed
 * symbols, and hidden data is reached PC-relative, as a static would be.
 */
#ifndef OFFHEAP_PRELOAD_INTERNAL_H
#define OFFHEAP_PRELOAD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trackshm.h"

#pragma GCC visibility push(hidden)

#define EXPORT __attribute__((visibility("default")))
#define TLS    __thread __attribute__((tls_model("initial-exec")))

/* ---- the shared memory (trackshm.c) ---- */

extern bool active; /* recording in this process */
extern struct trackshm_header *hdr;
extern struct trackshm_stack *stacks;
extern uint32_t max_stacks;
extern uint32_t stack_mask; /* a power of two minus 1, below max_stacks - 1 */
extern uint64_t sample_mean;
#define BIG_MEANS 4
extern uint64_t sample_big; /* BIG_MEANS * sample_mean: always recorded from there */

/* Maps OFFHEAP_OUT and starts recording (sets active), or leaves the tracker off. */
void open_shared(void);
/*
 * The tracker reached its ceiling: samples from now on (every DEGRADE_MEAN
 * bytes on average in exact mode), or twice as coarsely; says so in the
 * header. The hooks see the new mean at their next sample.
 */
#define DEGRADE_MEAN (64 * 1024)
void degrade(void);
/* Adds to entry idx's counters in this thread's shard. */
void add_counts(uint32_t idx, bool is_free, uint64_t bytes, uint32_t count);

static inline void charge(uint32_t idx, uint64_t bytes, uint32_t count)
{
	add_counts(idx, false, bytes, count);
}

static inline void discharge(uint32_t idx, uint64_t bytes, uint32_t count)
{
	add_counts(idx, true, bytes, count);
}

/* ---- the hooks (hooks.c) ---- */

extern TLS int in_loader; /* inside dlclose */

/* ---- the stack walk (stackwalk.c) ---- */

#define VERDICT_BITS 14
extern uint64_t verdict[1U << VERDICT_BITS]; /* pc << 1 | fp_ok; 0: unknown */
#ifdef OFFHEAP_CHECK_WALK
extern bool check_poison; /* tests: claim every frame has a frame pointer */
#endif

/*
 * The entry of the stack table for the stack whose innermost return address
 * is ret0 (fp: the hook's frame); 0 ("other") when the table is full.
 * nested: a hook inside a hook, which gets the frame-pointer walk alone.
 */
uint32_t find_stack(uint64_t ret0, uintptr_t fp, bool nested);

/* ---- the address table (addrtable.c) ---- */

#define ADDR_EMPTY 0
#define ADDR_TOMB  1
#define PROBE_MAX  64

struct addr_slot {
	uintptr_t addr; /* ADDR_EMPTY, ADDR_TOMB or a block */
	uint32_t stack; /* entry in the stack table */
	uint32_t count; /* charged count (weight) */
	uint64_t bytes; /* charged bytes */
};

extern uint64_t addr_budget; /* bytes the address table may keep */

/*
 * A counting filter in front of the address table: one byte per hash bucket
 * of addresses, the number of tracked blocks in the bucket (255 sticks). A
 * free whose byte is 0 concerns no tracked block and goes straight to the
 * real free after one load from this 1 MiB map (only touched pages are
 * backed).
 */
#define FILTER_BITS 20
extern uint8_t filter[1UL << FILTER_BITS];
extern bool filter_full; /* exact mode: every byte 255, every free looks */

static inline uint64_t filter_bit(uintptr_t a)
{
	return ((uint64_t)(a >> 4) * 0x9e3779b97f4a7c15ULL) >> (64 - FILTER_BITS);
}

static inline bool filter_test(uintptr_t a)
{
	return __atomic_load_n(&filter[filter_bit(a)], __ATOMIC_RELAXED) != 0;
}


/* Counts a in (d = 1) or out of (d = -1) the filter. */
void filter_add(uintptr_t a, int d);
/* Maps the first level of the address table (addr_budget set); false when it cannot. */
bool addr_init(void);
/* Records block a as charged to entry idx; false (counted as dropped) when no slot is free. */
bool addr_insert(uintptr_t a, uint32_t idx, uint64_t bytes, uint32_t count);
/* Removes a; fills what it was charged with. A miss costs a probe to EMPTY. */
bool addr_remove(uintptr_t a, uint32_t *idx, uint64_t *bytes, uint32_t *count);

#pragma GCC visibility pop

#endif
