/* stackwalk: the call stack of a recorded block, as an entry of the stack table. */

/*
 * Stack capture. The fast way is the frame-pointer chain: each frame of a
 * function built with frame pointers holds the caller's frame pointer at
 * [fp] and the return address at [fp + 8]. A function built without them
 * (-fomit-frame-pointer, most of a Debian system) breaks the chain, so the
 * chain is followed only past return addresses known to lie where the frame
 * pointer is set up (a global direct-mapped verdict cache, filled by the CFI
 * unwinder when the rule it finds for a return address is exactly that).
 * Every other step is the CFI unwinder's (cfi.c): its rules come from the
 * modules' .eh_frame and are cached per pc, so a steady program steps
 * through cached rules and never locks, masks signals or enters the kernel.
 * In front of it, a per-thread cache of stack tails keyed by (return
 * address, the stack slot holding it) gives the rest of a stack seen before
 * when every one of its return addresses is still in its slot; when only
 * the outer part of a tail still holds, the unwinder steps until it meets
 * that part and the rest is copied. A tail also keeps its part of the stack
 * hash and the stack table entry its stack had last, so a steady call path
 * costs a check of its slots and no unwind step, hash chain or table probe.
 *
 * The walk starts at the hook's frame fp, which holds ret0 at fp + 8 (the
 * hooks ask for their frame address, so they set up rbp); if it does not
 * (a hook called, not jumped to), the walk starts from its own frame and
 * steps through the tracker's frames to the one returning to ret0.
 *
 * The OFFHEAP_CHECK_WALK build (build/liboffheap-check.so) also unwinds
 * every stack with libunwind, the referee, and counts the stacks that differ
 * in any frame; nothing else links libunwind.
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

#ifdef OFFHEAP_CHECK_WALK
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#define TAILS_BITS 7 /* 128 tails, */
#define TAIL_WAYS  8 /* in sets of 8 */

uint64_t verdict[1U << VERDICT_BITS]; /* pc << 1 | fp_ok; 0: unknown */

/*
 * A stack tail: the frames above the first frame the frame-pointer walk
 * could not take, keyed by that frame's return address and the stack slot
 * holding it, with the slot of every return address in it. It is used only
 * if every return address is still in its slot; an unwind step is a chain
 * of dependent loads, a check is independent loads. The slots rise.
 */
struct tail {
	uint64_t pc, slot; /* key; 0: being written */
	uint32_t n;
	uint32_t stamp; /* tick when last used; 0: never */
	uint32_t idx;	/* the stack table's entry of the last stack that ended in it, */
	uint64_t hash;	/* of that stack's hash, */
	uint64_t when;	/* while stack_token was this */
	uint64_t fold;	/* the stack hash's fold over pcs, outermost first */
	uint64_t pcs[NATIVE_DEPTH];
	uint64_t slots[NATIVE_DEPTH];
};

/*
 * This thread's tails, mmap'ed at its first unwind (128 of 568 bytes: 71 KiB,
 * its pages touched as they are used): initial-exec TLS that large would not
 * fit the static TLS a dlopen'ed library (an attach) can get. Sets of
 * TAIL_WAYS tails by key, the least recently used replaced: one allocating
 * function reached from several call sites in turn keeps a tail for each.
 * Unmapped by stackwalk_thread_exit.
 */
static TLS struct tail *tails;

static TLS uint64_t last_hash; /* this thread's last stack and its entry */
static TLS uint32_t last_idx;
static TLS uint32_t last_epoch; /* the shm_epoch last_idx belongs to */
static TLS uint32_t last_tail;	/* the tail this thread used last */
static TLS uint32_t tick;	/* this thread's uses of its tails */
static TLS uint32_t forgotten;	/* stackwalk_forget calls */
static TLS bool crossed_signal; /* the last walk stepped through a signal frame */
#ifdef OFFHEAP_CHECK_WALK
bool check_poison;
#endif

/* 1: the function at pc has its frame pointer set up; 0: not; -1: unknown. */
static inline int verdict_get(uint64_t pc)
{
	uint64_t v = __atomic_load_n(verdict_slot(pc), __ATOMIC_RELAXED);

	if (v >> 1 != pc || !v)
		return -1;
	return (int)(v & 1);
}

static bool tails_new(void)
{
	long r = syscall(SYS_mmap, NULL, sizeof(struct tail) << TAILS_BITS, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

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

/* A forked child with a stack table of its own: this thread's last entry is not in it. */
void stackwalk_forget(void)
{
	last_hash = 0;
	forgotten++;
}

/* Names the stack table this thread's cached entries belong to. */
static inline uint64_t stack_token(void)
{
	return (uint64_t)shm_epoch << 32 | forgotten;
}

#define FOLD_SEED 0x9e3779b97f4a7c15ULL

/* The stack hash's fold over pcs[n - 1] .. pcs[0], from h. */
static inline uint64_t fold(uint64_t h, const uint64_t *pcs, int n)
{
	while (n-- > 0)
		h = (h ^ pcs[n]) * 0xff51afd7ed558ccdULL;
	return h;
}

/* The first index from which every return address of t is still in its slot. */
static uint32_t tail_valid_from(const struct tail *t, const struct cfi_bounds *b)
{
	uint32_t v = t->n;

	if (!v)
		return 0;
	/* the slots rise: within the bounds at both ends, all are */
	if (t->slots[0] >= b->lo && t->slots[v - 1] + 8 <= b->hi) {
		/* four at a time, one branch for them: the loads are independent */
		while (v >= 4 && !((*(uint64_t *)t->slots[v - 1] ^ t->pcs[v - 1]) |
				   (*(uint64_t *)t->slots[v - 2] ^ t->pcs[v - 2]) |
				   (*(uint64_t *)t->slots[v - 3] ^ t->pcs[v - 3]) |
				   (*(uint64_t *)t->slots[v - 4] ^ t->pcs[v - 4])))
			v -= 4;
		while (v > 0 && *(uint64_t *)t->slots[v - 1] == t->pcs[v - 1])
			v--;
		return v;
	}
	while (v > 0 && t->slots[v - 1] >= b->lo && t->slots[v - 1] + 8 <= b->hi &&
	       *(uint64_t *)t->slots[v - 1] == t->pcs[v - 1])
		v--;
	return v;
}

/*
 * The frames above f (a return address, read from f->sp - 8), at most max,
 * into out: from this thread's tails when one still matches the stack, else
 * by the CFI unwinder, remembering the result as a tail. Sets *lost as walk.
 * *used is the tail that holds the frames (a hit or the tail just written),
 * else NULL; on a hit they are not copied into out (most stacks are found
 * in the stack table by their hash, which the tail folded already).
 *
 * A tail that no longer matches whole still helps: its frames from the
 * first one whose return address and everything above it are still in their
 * slots (the part the stacks share, usually from main down to a loop) are
 * the same frames. The unwinder steps only until it reaches one of those
 * slots, and the rest is copied. The reference is the tail of the same key,
 * else the one this thread used last. A nested walk (a signal handler that
 * interrupted a hook, perhaps in this function) reads tails but writes none.
 */
static int cfi_tail(struct cfi_frame *f, struct cfi_bounds *b, uint64_t *out, int max,
		    bool may_refresh, bool nested, bool *lost, struct tail **used)
{
	uint64_t key = f->pc, slot = f->sp - 8, slots[NATIVE_DEPTH];
	uint32_t set = (uint32_t)(((f->pc ^ slot) * 0x9e3779b97f4a7c15ULL) >> (64 - TAILS_BITS)) &
		       ~(TAIL_WAYS - 1U);
	struct tail *t = NULL, *ref = NULL;
	bool keep = !nested;
	uint32_t j = 0;
	int n = 0, r;

	if (!tails && (nested || !tails_new()))
		goto step;
	for (uint32_t w = set; w < set + TAIL_WAYS; w++) {
		struct tail *c = &tails[w];
		uint32_t v;

		if (c->pc != key || c->slot != slot)
			continue;
		v = tail_valid_from(c, b);
		if (!v && c->n <= (uint32_t)max) {
			/* out is left to find_stack: it needs the frames only for a new stack */
			*lost = false;
			last_tail = w;
			c->stamp = ++tick;
			*used = c;
			return (int)c->n;
		}
		if (!ref || v < j) {
			ref = c;
			j = v;
		}
	}
	if (!ref && tails[last_tail].pc) {
		ref = &tails[last_tail];
		j = tail_valid_from(ref, b);
	}
	/* the way used least recently (an empty one has stamp 0) */
	t = &tails[set];
	for (uint32_t w = set + 1; w < set + TAIL_WAYS; w++)
		if (tails[w].stamp < t->stamp)
			t = &tails[w];
step:
	for (;;) {
		r = cfi_step(f, b, may_refresh);
		if (r <= 0) {
			*lost = r < 0;
			break;
		}
		if (f->exact) {
			keep = false; /* a signal frame: its pc is in no slot */
			crossed_signal = true;
			ref = NULL;
		}
		out[n] = f->pc;
		slots[n++] = f->sp - 8;
		if (n == max) {
			*lost = false;
			break;
		}
		if (!ref)
			continue;
		while (j < ref->n && ref->slots[j] < f->sp - 8)
			j++;
		if (j < ref->n && ref->slots[j] == f->sp - 8 && ref->pcs[j] == f->pc) {
			/* the same frame, and all above it still as ref has them */
			uint32_t m = ref->n - j - 1;

			if (m > (uint32_t)(max - n))
				m = (uint32_t)(max - n);
			memcpy(out + n, ref->pcs + j + 1, m * sizeof(out[0]));
			memcpy(slots + n, ref->slots + j + 1, m * sizeof(slots[0]));
			n += (int)m;
			*lost = false;
			break;
		}
	}
	/* kept only whole: a cut or lost stack may end elsewhere next time */
	if (t && keep && n < max && !*lost) {
		t->pc = 0;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		memcpy(t->pcs, out, (size_t)n * sizeof(out[0]));
		memcpy(t->slots, slots, (size_t)n * sizeof(slots[0]));
		t->n = (uint32_t)n;
		t->slot = slot;
		t->fold = fold(FOLD_SEED, out, n);
		t->when = 0;
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		t->pc = key;
		t->stamp = ++tick;
		last_tail = (uint32_t)(t - tails);
		*used = t;
	}
	return n;
}

/*
 * The stack whose innermost return address is ret0, from fp, the hook's
 * frame. Returns the depth; *lost is set when the walk ended at a frame it
 * could not unwind (JIT code, no unwind information, a CFA off the stack)
 * rather than at the outermost frame. *used (else NULL) is a tail holding
 * frames [*at, depth), which are not filled in when the tail was a hit.
 */
static __attribute__((noinline)) int walk(uint64_t ret0, uintptr_t fp, uint64_t *frames,
					  bool may_refresh, bool nested, bool *lost,
					  struct tail **used, int *at)
{
	uintptr_t here = (uintptr_t)__builtin_frame_address(0);
	struct cfi_frame f = { .bp_ok = true };
	struct cfi_bounds b;
	int depth = 0;

	*lost = true;
	crossed_signal = false;
	frames[depth++] = ret0;
	if (!cfi_stack(here, &b) || fp < here || (fp & 7) || fp + 16 > b.hi)
		return depth;
	if (*(uint64_t *)(fp + 8) == ret0) {
		f.pc = ret0;
		f.sp = fp + 16;
		f.bp = *(uint64_t *)fp;
	} else {
		f.pc = *(uint64_t *)(here + 8);
		f.sp = here + 16;
		f.bp = *(uint64_t *)here;
		for (int i = 0; f.pc != ret0; i++)
			if (i == 8 || cfi_step(&f, &b, may_refresh) <= 0)
				return depth;
	}
	b.lo = f.sp;
	for (;;) {
		int r;

		if (!f.exact && f.bp_ok && verdict_get(f.pc) == 1) {
			uint64_t nfp = f.bp;

			if (nfp < f.sp || (nfp & 7) || nfp + 16 > b.hi)
				return depth;
			f.pc = *(uint64_t *)(nfp + 8);
			f.sp = nfp + 16;
			f.bp = *(uint64_t *)nfp;
			b.lo = f.sp;
			r = f.pc ? 1 : 0;
		} else {
			if (!f.exact) {
				*at = depth;
				return depth + cfi_tail(&f, &b, frames + depth,
							NATIVE_DEPTH - depth, may_refresh, nested,
							lost, used);
			}
			r = cfi_step(&f, &b, may_refresh);
			crossed_signal = true;
		}
		if (r <= 0) {
			*lost = r < 0;
			return depth;
		}
		frames[depth++] = f.pc;
		if (depth == NATIVE_DEPTH) {
			*lost = false;
			return depth;
		}
	}
}

#ifdef OFFHEAP_CHECK_WALK
#define WALK_MAX (NATIVE_DEPTH + 8)

/* The referee: libunwind's stack from the frame returning to ret0. */
static int dwarf_walk(uint64_t ret0, uint64_t *frames)
{
	uint64_t ip[WALK_MAX];
	unw_context_t uc;
	unw_cursor_t c;
	int n = 0, k = -1, depth = 0;

	if (unw_getcontext(&uc) || unw_init_local(&c, &uc))
		return 0;
	do {
		unw_word_t w;

		unw_get_reg(&c, UNW_REG_IP, &w);
		ip[n++] = w;
	} while (n < WALK_MAX && unw_step(&c) > 0);
	for (int i = 1; i < n && i < 8; i++)
		if (ip[i] == ret0) {
			k = i;
			break;
		}
	if (k < 0)
		return 0;
	for (int i = k; i < n && depth < NATIVE_DEPTH; i++)
		frames[depth++] = ip[i];
	return depth;
}

static unsigned long walk_match, walk_mismatch;
__attribute__((destructor)) static void walk_report(void)
{
	char b[96];
	int n = snprintf(b, sizeof(b), "walk check: %lu match, %lu mismatch\n", walk_match, walk_mismatch);

	if (write(2, b, (size_t)n) < 0)
		return;
}

/* Compares the walk with libunwind's, frame by frame; OFFHEAP_CHECK_SHOW prints a mismatch. */
static void check_walk(uint64_t ret0, const uint64_t *frames, int depth)
{
	uint64_t check[NATIVE_DEPTH];
	int d2 = dwarf_walk(ret0, check);

	if (d2 == depth && !memcmp(check, frames, (size_t)depth * 8)) {
		walk_match++;
		return;
	}
	walk_mismatch++;
	if (getenv("OFFHEAP_CHECK_SHOW")) {
		char b[64];

		for (int i = 0; i < depth || i < d2; i++) {
			int n = snprintf(b, sizeof(b), "%2d %16llx %16llx\n", i,
					 i < depth ? (unsigned long long)frames[i] : 0ULL,
					 i < d2 ? (unsigned long long)check[i] : 0ULL);

			if (write(2, b, (size_t)n) < 0)
				break;
		}
	}
	if (getenv("OFFHEAP_CHECK_ABORT"))
		abort();
}
#endif

uint32_t find_stack(uint64_t ret0, uintptr_t fp, bool nested)
{
	uint64_t frames[TRACKSHM_MAX_DEPTH];
	int i, depth, at = 0;
	uint64_t h, slot;
	uint32_t mine = 0;
	bool lost, loader_ok;
	struct tail *tail = NULL;

	/*
	 * While the loader changes the module list (dlopen or dlclose under
	 * way in any thread, perhaps the one this hook interrupted in a signal
	 * handler) dl_iterate_phdr could wait for the loader's lock or walk a
	 * list being changed: a pc in no known module then ends the walk
	 * instead of rebuilding the module table. _r_debug.r_state is a plain
	 * load, no lock.
	 */
	loader_ok = !nested && !in_loader &&
		    __atomic_load_n(&_r_debug.r_state, __ATOMIC_RELAXED) == RT_CONSISTENT;
	if (loader_ok)
		cfi_sync();
	depth = walk(ret0, fp, frames, loader_ok, nested, &lost, &tail, &at);
#ifdef OFFHEAP_CHECK_WALK
	if (tail)
		memcpy(frames + at, tail->pcs, (size_t)(depth - at) * sizeof(frames[0]));
	if (loader_ok)
		check_walk(ret0, frames, depth);
#endif
	/* a walk that ended in the code cache of a JVM: perhaps a JNI method's stack */
	if (lost && loader_ok && !crossed_signal &&
	    javastack_extend(frames, &depth, TRACKSHM_MAX_DEPTH)) {
		lost = false;
		tail = NULL;
	}
	if (lost)
		__atomic_fetch_add(&hdr->partial, 1, __ATOMIC_RELAXED);
	/* the frames outermost first: a tail's part is folded already */
	h = tail ? fold(tail->fold, frames, at) : fold(FOLD_SEED, frames, depth);
	h ^= h >> 29;
	if (h < 2)
		h += 2;
	if (!nested && h == last_hash && last_epoch == shm_epoch)
		return last_idx;
	if (!nested && tail && tail->hash == h && tail->when == stack_token())
		return tail->idx;
	if (tail)
		memcpy(frames + at, tail->pcs, (size_t)(depth - at) * sizeof(frames[0]));
	if (nested)
		tail = NULL; /* nested walks write no tail */

	for (i = 0, slot = h & index_mask; i < PROBE_MAX; i++, slot = (slot + 1) & index_mask) {
		uint32_t x = __atomic_load_n(&stack_index[slot], __ATOMIC_ACQUIRE);

		if (!x) {
			/* a new stack: an entry of its own, made whole before the index shows it */
			if (!mine) {
				struct trackshm_stack *s;

				mine = take_entry();
				if (!mine)
					break;
				s = &stacks[mine];
				memcpy(s->frames, frames, (size_t)depth * sizeof(frames[0]));
				s->depth = (uint32_t)depth;
				__atomic_store_n(&s->hash, h, __ATOMIC_RELAXED);
			}
			if (__atomic_compare_exchange_n(&stack_index[slot], &x, mine, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				__atomic_store_n(&stacks[mine].ready, 1, __ATOMIC_RELEASE);
				__atomic_fetch_add(&hdr->seq, 1, __ATOMIC_RELEASE);
				return mine;
			}
			/* another thread took the slot first: x is its entry */
		}
		/* (an entry of ours taken meanwhile stays not ready: nobody reads it) */
		if (__atomic_load_n(&stacks[x].hash, __ATOMIC_RELAXED) == h) {
			if (!nested) {
				last_hash = h;
				last_idx = x;
				last_epoch = shm_epoch;
			}
			if (tail) {
				tail->idx = x;
				tail->hash = h;
				tail->when = stack_token();
			}
			return x;
		}
	}
	__atomic_fetch_or(&hdr->flags, TRACKSHM_STACKS_FULL, __ATOMIC_RELAXED);
	return 0;
}
