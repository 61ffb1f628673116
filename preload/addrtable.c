/* addrtable: which stack each live sampled block of liboffheap.so was charged to. */

/*
 * Open addressing with linear probes (at most PROBE_MAX), lock-free: a slot
 * is claimed by a compare-and-swap of the block's address and released to a
 * tombstone by its one owner, the thread that frees the block. Only sampled
 * blocks enter the table; the counting filter in front of it (internal.h)
 * lets every other free skip it after one load.
 *
 * The table grows with what it holds, in levels: an insert goes to the
 * oldest level that is less than half full (the pages that freed blocks left
 * are reused), else to the newest; when that one is half full (or its probes
 * find no slot: tombstones) a new level is mapped, sized to four times the
 * newest level's blocks. Nothing is moved and no level is given back: the
 * table follows the peak of live blocks, as malloc's own heap does. The
 * counts of blocks per level only steer, so each thread keeps its change of
 * them and folds it in now and then (no shared line written per block). A
 * free probes the levels newest first. Levels are MAP_NORESERVE and only
 * touched pages count.
 *
 * The levels stay within addr_budget (what
 * OFFHEAP_MAX_MEM leaves after the stack table). When the table cannot grow,
 * the tracker degrades (trackshm.c: degrade): it samples from then on, and
 * twice as coarsely each time the newest level fills by another 1/16; a block
 * that still finds no slot is counted as dropped.
 */
#include "internal.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define LEVELS	  48
#define LEVEL_MIN 4096 /* slots of the first level */
#define FOLD_AT	  64   /* a thread folds its count of a level's blocks from this */

struct addr_level {
	struct addr_slot *slots;
	uint64_t mask;
	uint64_t limit;	 /* blocks from which it takes no more (the newest: grows or degrades) */
	int64_t live __attribute__((aligned(64))); /* blocks in it, to within FOLD_AT a thread */
};

static struct addr_level levels[LEVELS];
static uint32_t nlevels; /* levels[nlevels - 1] is the newest */
static uint32_t growing; /* a thread is mapping a new level */
uint64_t addr_budget;	 /* bytes the levels may take */
static uint64_t addr_kept; /* bytes of levels mapped */
/*
 * This thread's change of each level's count, folded in when it reaches
 * FOLD_AT either way: the hot path writes no shared line. A signal handler
 * that interrupts an update may lose one: the counts only steer.
 */
static TLS int32_t live_delta[LEVELS];
static TLS bool grower; /* this thread holds growing (a signal handler must not wait for it) */
uint8_t filter[1UL << FILTER_BITS];
bool filter_full;

static inline void count_block(uint32_t k, int32_t d)
{
	int32_t v = live_delta[k] + d;

	if (__builtin_expect(v >= FOLD_AT || v <= -FOLD_AT, 0)) {
		__atomic_fetch_add(&levels[k].live, v, __ATOMIC_RELAXED);
		v = 0;
	}
	live_delta[k] = v;
}

static inline bool level_full(uint32_t k)
{
	return __atomic_load_n(&levels[k].live, __ATOMIC_RELAXED) >=
	       (int64_t)__atomic_load_n(&levels[k].limit, __ATOMIC_RELAXED);
}

static void *map_slots(uint64_t bytes)
{
	long r = syscall(SYS_mmap, NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return (r < 0 && r > -4096) ? NULL : (void *)r;
}

/* Maps a level of nslots (a power of two) as level n; false when out of budget or memory. */
static bool add_level(uint32_t n, uint64_t nslots)
{
	uint64_t bytes = nslots * sizeof(struct addr_slot);
	struct addr_level *lv = &levels[n];

	if (n >= LEVELS || __atomic_load_n(&addr_kept, __ATOMIC_RELAXED) + bytes > addr_budget)
		return false;
	lv->slots = map_slots(bytes);
	if (!lv->slots)
		return false;
	lv->mask = nslots - 1;
	lv->limit = nslots / 2;
	__atomic_fetch_add(&addr_kept, bytes, __ATOMIC_RELAXED);
	__atomic_store_n(&nlevels, n + 1, __ATOMIC_RELEASE);
	return true;
}

/*
 * Forgets every block (a new attach; a followed child, whose inherited
 * blocks were charged in its parent): the levels stay mapped, emptied, so
 * that a hook still running since a detach finds nothing rather than a
 * hole. The threads' count changes are dropped with them (they only steer).
 */
static void addr_forget(void)
{
	uint32_t n = __atomic_load_n(&nlevels, __ATOMIC_ACQUIRE);

	for (uint32_t k = 0; k < n; k++) {
		uint64_t bytes = (levels[k].mask + 1) * sizeof(struct addr_slot);

		if (syscall(SYS_madvise, levels[k].slots, bytes, MADV_DONTNEED))
			for (uint64_t i = 0; i <= levels[k].mask; i++)
				levels[k].slots[i] = (struct addr_slot){0};
		__atomic_store_n(&levels[k].live, 0, __ATOMIC_RELAXED);
	}
}

bool addr_init(void)
{
	uint64_t n = LEVEL_MIN;

	if (__atomic_load_n(&nlevels, __ATOMIC_ACQUIRE)) {
		addr_forget();
		/* a forked child: a parent's thread may have been mapping a level */
		__atomic_store_n(&growing, 0, __ATOMIC_RELEASE);
		grower = false;
		return true;
	}

	while (n > 64 && n * sizeof(struct addr_slot) > addr_budget)
		n /= 2;
	return add_level(0, n);
}

/*
 * The newest level n - 1 is full (past its limit, or no_slot: none within
 * PROBE_MAX, tombstones): maps one four times its blocks, or degrades when
 * the budget says no and the level is past its limit (or has no slot and
 * the tracker still records every block). One thread at a time; the
 * others go on inserting into the full level, and one whose probes find no
 * slot there waits for the new level (wait_grown).
 */
static void addr_grow(uint32_t n, bool no_slot)
{
	struct addr_level *lv = &levels[n - 1];
	uint64_t live, want = LEVEL_MIN;
	int64_t l;
	bool was = grower;

	/* set before the exchange: a signal handler on this thread then never waits for it */
	grower = true;
	if (__atomic_exchange_n(&growing, 1, __ATOMIC_ACQUIRE)) {
		grower = was;
		return;
	}
	if (__atomic_load_n(&nlevels, __ATOMIC_ACQUIRE) != n)
		goto out;
	l = __atomic_load_n(&lv->live, __ATOMIC_RELAXED);
	live = l > 0 ? (uint64_t)l : 0;
	while (want < 4 * live)
		want *= 2;
	if (add_level(n, want))
		goto out;
	/* the ceiling: coarser sampling, again for each further 1/16 of the level */
	if (live >= lv->limit) {
		__atomic_store_n(&lv->limit, live + (lv->mask + 1) / 16, __ATOMIC_RELAXED);
		degrade();
	} else if (no_slot && !(__atomic_load_n(&hdr->flags, __ATOMIC_RELAXED) & TRACKSHM_DEGRADED)) {
		degrade(); /* full of tombstones: start sampling; later misses are dropped */
	}
out:
	__atomic_store_n(&growing, 0, __ATOMIC_RELEASE);
	grower = was;
}

/*
 * No slot in the newest level n - 1 while another thread maps the next:
 * waits for it (bounded, about 50 ms) rather than drop the block. The
 * grower may be off its CPU in the middle of its mmap on a loaded machine,
 * and meanwhile the other threads would drop every block that finds the
 * full level's probes taken (92,476 in one run of a 16-thread storm).
 */
static void wait_grown(uint32_t n)
{
	struct timespec t = {0, 100000};

	if (grower)
		return;
	for (int i = 0; i < 600 && __atomic_load_n(&growing, __ATOMIC_ACQUIRE) &&
			__atomic_load_n(&nlevels, __ATOMIC_ACQUIRE) == n;
	     i++) {
		if (i < 100)
			syscall(SYS_sched_yield);
		else
			syscall(SYS_nanosleep, &t, NULL);
	}
}

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

	return m ^ (m >> 32);
}

/* Claims a slot of lv for a; false when PROBE_MAX slots are taken. */
static bool level_insert(struct addr_level *lv, uintptr_t a, uint32_t idx, uint64_t bytes,
			 uint32_t count)
{
	uint64_t h = addr_hash(a);

	for (int i = 0; i < PROBE_MAX; i++) {
		struct addr_slot *s = &lv->slots[(h + (uint64_t)i) & lv->mask];
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
	return false;
}

bool addr_insert(uintptr_t a, uint32_t idx, uint64_t bytes, uint32_t count)
{
	filter_add(a, 1);

	for (uint32_t tries = 0, from = 0; tries < 4; tries++) {
		uint32_t n = __atomic_load_n(&nlevels, __ATOMIC_ACQUIRE), k = from;

		/* the oldest level with room: the pages its freed blocks left are reused */
		while (k + 1 < n && level_full(k))
			k++;
		if (__builtin_expect(k + 1 == n && level_full(k), 0))
			addr_grow(n, false);
		if (level_insert(&levels[k], a, idx, bytes, count)) {
			count_block(k, 1);
			return true;
		}
		if (k + 1 == n) {
			addr_grow(n, true);
			wait_grown(n);
		} else
			from = k + 1; /* its probes meet tombstones: a newer level */
	}
	filter_add(a, -1);
	__atomic_fetch_add(&hdr->dropped, 1, __ATOMIC_RELAXED);
	__atomic_fetch_or(&hdr->flags, TRACKSHM_ADDRS_FULL, __ATOMIC_RELAXED);
	return false;
}

/* Removes a; fills what it was charged with. A miss costs a probe to EMPTY per level. */
bool addr_remove(uintptr_t a, uint32_t *idx, uint64_t *bytes, uint32_t *count)
{
	uint32_t k;
	uint64_t h;

	if (!filter_test(a))
		return false;
	h = addr_hash(a);

	for (k = __atomic_load_n(&nlevels, __ATOMIC_ACQUIRE); k-- > 0;) {
		struct addr_level *lv = &levels[k];

		for (int i = 0; i < PROBE_MAX; i++) {
			struct addr_slot *s = &lv->slots[(h + (uint64_t)i) & lv->mask];
			uintptr_t cur = __atomic_load_n(&s->addr, __ATOMIC_ACQUIRE);

			if (cur == ADDR_EMPTY)
				break;
			if (cur != a)
				continue;
			/*
			 * Only the owner of block a frees it, and no insert touches
			 * a slot holding a live address: a plain store releases it.
			 */
			*idx = s->stack;
			*bytes = s->bytes;
			*count = s->count;
			__atomic_store_n(&s->addr, (uintptr_t)ADDR_TOMB, __ATOMIC_RELEASE);
			filter_add(a, -1);
			count_block(k, -1);
			return true;
		}
	}
	return false;
}
