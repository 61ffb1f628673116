/* addrtable: which stack each live sampled block of liboffheap.so was charged to. */

/*
 * Open addressing with linear probes (at most PROBE_MAX), lock-free: a slot
 * is claimed by a compare-and-swap of the block's address and released to a
 * tombstone by its one owner, the thread that frees the block. Only sampled
 * blocks enter the table; the counting filter in front of it (internal.h)
 * lets every other free skip it after one load. The table is mmap-backed,
 * sized by open_shared (trackshm.c) to what OFFHEAP_MAX_MEM leaves over.
 */
#include "internal.h"

#include <stdbool.h>
#include <stdint.h>

struct addr_slot *addrs;
uint64_t addr_mask;
uint8_t filter[1UL << FILTER_BITS];
bool filter_full;

void filter_add(uintptr_t a, int d)
{
	uint8_t *f = &filter[filter_bit(a)];
	uint8_t cur;

	if (filter_full)
		return;
	cur = __atomic_load_n(f, __ATOMIC_RELAXED);

	do {
		if (cur == 255 || (d < 0 && cur == 0))
			return;
	} while (!__atomic_compare_exchange_n(f, &cur, (uint8_t)(cur + d), true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
}

static inline uint64_t addr_hash(uintptr_t a)
{
	uint64_t m = (uint64_t)(a >> 4) * 0xc4ceb9fe1a85ec53ULL;

	return (m ^ (m >> 32)) & addr_mask;
}

bool addr_insert(uintptr_t a, uint32_t idx, uint64_t bytes, uint32_t count)
{
	uint64_t h = addr_hash(a);

	filter_add(a, 1);

	for (int i = 0; i < PROBE_MAX; i++) {
		struct addr_slot *s = &addrs[(h + (uint64_t)i) & addr_mask];
		uintptr_t cur = __atomic_load_n(&s->addr, __ATOMIC_ACQUIRE);

		if (cur != ADDR_EMPTY && cur != ADDR_TOMB)
			continue;
		/*
		 * Claim with the address itself: nobody reads this slot's
		 * fields before block a is freed, which is after we return.
		 */
		if (!__atomic_compare_exchange_n(&s->addr, &cur, a, false, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue;
		s->stack = idx;
		s->bytes = bytes;
		s->count = count;
		return true;
	}
	filter_add(a, -1);
	__atomic_fetch_add(&hdr->dropped, 1, __ATOMIC_RELAXED);
	__atomic_fetch_or(&hdr->flags, TRACKSHM_ADDRS_FULL, __ATOMIC_RELAXED);
	return false;
}

/* Removes a; fills what it was charged with. A miss costs a probe to EMPTY. */
bool addr_remove(uintptr_t a, uint32_t *idx, uint64_t *bytes, uint32_t *count)
{
	uint64_t h;

	if (!filter_test(a))
		return false;
	h = addr_hash(a);

	for (int i = 0; i < PROBE_MAX; i++) {
		struct addr_slot *s = &addrs[(h + (uint64_t)i) & addr_mask];
		uintptr_t cur = __atomic_load_n(&s->addr, __ATOMIC_ACQUIRE);

		if (cur == ADDR_EMPTY)
			return false;
		if (cur != a)
			continue;
		/*
		 * Only the owner of block a frees it, and no insert touches a
		 * slot holding a live address: a plain store releases it.
		 */
		*idx = s->stack;
		*bytes = s->bytes;
		*count = s->count;
		__atomic_store_n(&s->addr, (uintptr_t)ADDR_TOMB, __ATOMIC_RELEASE);
		filter_add(a, -1);
		return true;
	}
	return false;
}
