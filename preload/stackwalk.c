/* stackwalk: the call stack of a recorded block, as an entry of the stack table. */

/*
 * Stack capture. The fast way is the frame-pointer chain: each frame of a
 * function built with frame pointers holds the caller's frame pointer at
 * [fp] and the return address at [fp + 8]. A function built without them
 * (-fomit-frame-pointer, most of libc) breaks the chain, so the chain is
 * followed only past return addresses known to lie in functions whose frame
 * pointer is set up (a global direct-mapped verdict cache, filled from the
 * DWARF unwinds). At the first return address that is not known good, the
 * rest of the stack comes from a per-thread cache of stack tails keyed by
 * (return address, the stack slot holding it); a cached tail is used only if
 * every one of its return addresses is still in its stack slot now. Only
 * when that fails does the DWARF unwinder (libunwind) run; it fills both
 * caches. A steady program thus unwinds with DWARF once per new call path.
 */
#include "internal.h"

#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#define TAILS_BITS   5
#define WALK_MAX     (TRACKSHM_MAX_DEPTH + 8)

uint64_t verdict[1U << VERDICT_BITS]; /* pc << 1 | fp_ok; 0: unknown */

struct tail {
	uint64_t pc, slot; /* key: return address and where it is stored */
	uint32_t n;
	uint64_t pcs[TRACKSHM_MAX_DEPTH];
	uint64_t slots[TRACKSHM_MAX_DEPTH];
};

/*
 * This thread's tails, mmap'ed at its first DWARF unwind: 17 KiB of
 * initial-exec TLS would not fit the static TLS a dlopen'ed library (an
 * attach) can get. Unmapped by stackwalk_thread_exit.
 */
static TLS struct tail *tails;
/* Above the outermost frame a DWARF unwind of this thread has seen: no frame is. */
static TLS uint64_t stack_hi;

static TLS uint64_t last_hash; /* this thread's last stack and its entry */
static TLS uint32_t last_idx;
static TLS uint32_t last_epoch; /* the shm_epoch last_idx belongs to */
#ifdef OFFHEAP_CHECK_WALK
bool check_poison;
#endif

static inline uint64_t *verdict_slot(uint64_t pc)
{
	return &verdict[(pc * 0x9e3779b97f4a7c15ULL) >> (64 - VERDICT_BITS)];
}

/* 1: the function at pc has its frame pointer set up; 0: not; -1: unknown. */
static inline int verdict_get(uint64_t pc)
{
	uint64_t v = __atomic_load_n(verdict_slot(pc), __ATOMIC_RELAXED);

	if (v >> 1 != pc || !v)
		return -1;
	return (int)(v & 1);
}

static inline struct tail *tail_slot(uint64_t pc, uint64_t slot)
{
	return &tails[((pc ^ slot) * 0x9e3779b97f4a7c15ULL) >> (64 - TAILS_BITS)];
}

/*
 * The frame-pointer walk from fp, a frame whose return address (at fp + 8)
 * is ret0. Returns the depth; *partial is set when the caches could not
 * complete the stack (frames then holds what the walk got to).
 */
static int fp_walk(uintptr_t fp, uint64_t ret0, uint64_t *frames, bool *partial, bool tails_ok)
{
	uint64_t pc = ret0, slot = fp + 8, hi = stack_hi;
	int depth = 0;

	*partial = true;
	frames[0] = ret0;
	if (!fp || (fp & 7) || fp + 16 > hi || *(uint64_t *)(fp + 8) != ret0)
		return 1;
	for (;;) {
		int v;

		frames[depth++] = pc;
		if (depth == TRACKSHM_MAX_DEPTH)
			goto done;
		v = verdict_get(pc);
		if (v == 1) {
			uintptr_t nfp = *(uintptr_t *)fp;

			if (!nfp)
				goto done; /* the outermost frame */
			if (nfp <= fp || (nfp & 7) || nfp + 16 > hi)
				return depth;
			fp = nfp;
			slot = fp + 8;
			pc = *(uint64_t *)slot;
			if (!pc)
				goto done;
			continue;
		}
		if (v == 0 && tails_ok && tails) {
			struct tail *t = tail_slot(pc, slot);

			if (t->pc != pc || t->slot != slot)
				return depth;
			for (uint32_t i = 0; i < t->n; i++)
				if (t->slots[i] + 8 > hi || *(uint64_t *)t->slots[i] != t->pcs[i])
					return depth;
			for (uint32_t i = 0; i < t->n && depth < TRACKSHM_MAX_DEPTH; i++)
				frames[depth++] = t->pcs[i];
			goto done;
		}
		return depth;
	}
done:
	*partial = false;
	return depth;
}

static bool tails_new(void)
{
	long r = syscall(SYS_mmap, NULL, sizeof(struct tail) << TAILS_BITS,
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (r < 0 && r > -4096)
		return false;
	tails = (struct tail *)r;
	return true;
}

void stackwalk_thread_exit(void)
{
	struct tail *t = tails;

	tails = NULL;
	if (t)
		syscall(SYS_munmap, t, sizeof(struct tail) << TAILS_BITS);
}

/* The DWARF unwind; fills the verdict and tail caches. Returns the depth. */
static int dwarf_walk(uint64_t ret0, uint64_t *frames)
{
	uint64_t ip[WALK_MAX], sp[WALK_MAX], bp[WALK_MAX];
	unw_context_t uc;
	unw_cursor_t c;
	int n = 0, k = -1, depth = 0;

	if (unw_getcontext(&uc) || unw_init_local(&c, &uc))
		goto out;
	do {
		unw_word_t w;

		unw_get_reg(&c, UNW_REG_IP, &w);
		ip[n] = w;
		unw_get_reg(&c, UNW_REG_SP, &w);
		sp[n] = w;
		unw_get_reg(&c, UNW_X86_64_RBP, &w);
		bp[n] = w;
		n++;
	} while (n < WALK_MAX && unw_step(&c) > 0);
	for (int i = 1; i < n && i < 8; i++)
		if (ip[i] == ret0) {
			k = i;
			break;
		}
	if (k < 0) {
		/* not found: our hook frames are the first two */
		frames[depth++] = ret0;
		for (int i = n > 2 ? 2 : n; i < n && depth < TRACKSHM_MAX_DEPTH; i++)
			frames[depth++] = ip[i];
		return depth;
	}
	for (int i = k; i < n && depth < TRACKSHM_MAX_DEPTH; i++)
		frames[depth++] = ip[i];
	for (int i = 0; i < n; i++)
		if (sp[i] > stack_hi)
			stack_hi = sp[i];
	/* The frame pointer walk stops at the first frame without one. */
	for (int i = k; i < n; i++) {
		bool ok = i + 1 < n && bp[i] == sp[i + 1] - 16;

#ifdef OFFHEAP_CHECK_WALK
		if (check_poison && i + 1 < n)
			ok = true; /* the test that the check can fail */
#endif

		__atomic_store_n(verdict_slot(ip[i]), ip[i] << 1 | ok, __ATOMIC_RELAXED);
		if (!ok) {
			struct tail *t;
			uint32_t m = 0;

			if (!tails && !tails_new())
				break;
			t = tail_slot(ip[i], sp[i] - 8);

			for (int j = i + 1; j < n && m < TRACKSHM_MAX_DEPTH; j++, m++) {
				t->pcs[m] = ip[j];
				t->slots[m] = sp[j] - 8;
			}
			t->pc = ip[i];
			t->slot = sp[i] - 8;
			t->n = m;
			break;
		}
	}
	return depth;
out:
	frames[depth++] = ret0;
	return depth;
}

#ifdef OFFHEAP_CHECK_WALK
static unsigned long walk_match, walk_mismatch;
__attribute__((destructor)) static void walk_report(void)
{
	char b[96];
	int n = snprintf(b, sizeof(b), "walk check: %lu match, %lu mismatch\n", walk_match, walk_mismatch);

	if (write(2, b, (size_t)n) < 0)
		return;
}
#endif

void stackwalk_forget(void)
{
	last_hash = 0;
}

uint32_t find_stack(uint64_t ret0, uintptr_t fp, bool nested)
{
	uint64_t frames[TRACKSHM_MAX_DEPTH];
	int i, depth;
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	uint32_t idx;
	bool partial;

	depth = fp_walk(fp, ret0, frames, &partial, !nested);
#ifdef OFFHEAP_CHECK_WALK
	if (!partial && !nested) {
		uint64_t check[TRACKSHM_MAX_DEPTH];
		int d2 = dwarf_walk(ret0, check);

		if (d2 != depth || memcmp(check, frames, (size_t)depth * 8)) {
			walk_mismatch++;
			if (getenv("OFFHEAP_CHECK_ABORT"))
				abort();
		} else {
			walk_match++;
		}
	}
#endif
	/*
	 * While the loader changes the module list (dlopen or dlclose under
	 * way in any thread, perhaps the one this hook interrupted in a signal
	 * handler) the DWARF unwinder's dl_iterate_phdr could wait for the
	 * loader's lock or walk a list being changed: keep the partial stack
	 * instead. _r_debug.r_state is a plain load, no lock.
	 */
	if (partial && !nested && !in_loader &&
	    __atomic_load_n(&_r_debug.r_state, __ATOMIC_RELAXED) == RT_CONSISTENT)
		depth = dwarf_walk(ret0, frames);
	else if (partial)
		__atomic_fetch_add(&hdr->partial, 1, __ATOMIC_RELAXED);
	for (i = 0; i < depth; i++)
		h = (h ^ frames[i]) * 0xff51afd7ed558ccdULL;
	h ^= h >> 29;
	if (h < 2)
		h += 2;
	if (!nested && h == last_hash && last_epoch == shm_epoch)
		return last_idx;

	idx = (uint32_t)(h & stack_mask) + 1;
	for (i = 0; i < PROBE_MAX; i++) {
		struct trackshm_stack *s = &stacks[idx];
		uint64_t cur = __atomic_load_n(&s->hash, __ATOMIC_ACQUIRE), zero = 0;

		if (cur == h) {
			if (!nested) {
				last_hash = h;
				last_idx = idx;
				last_epoch = shm_epoch;
			}
			return idx;
		}
		if (!cur) {
			if (__atomic_load_n(&hdr->nstacks, __ATOMIC_RELAXED) >= max_stacks * 3 / 4)
				break;
			if (__atomic_compare_exchange_n(&s->hash, &zero, h, false, __ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE)) {
				memcpy(s->frames, frames, (size_t)depth * sizeof(frames[0]));
				s->depth = (uint32_t)depth;
				__atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
				__atomic_fetch_add(&hdr->nstacks, 1, __ATOMIC_RELAXED);
				__atomic_fetch_add(&hdr->seq, 1, __ATOMIC_RELEASE);
				return idx;
			}
			if (zero == h)
				return idx;
		}
		idx = idx + 1 == max_stacks ? 1 : idx + 1;
	}
	__atomic_fetch_or(&hdr->flags, TRACKSHM_STACKS_FULL, __ATOMIC_RELAXED);
	return 0;
}
