/* liboffheap.so: allocation tracking by call stack inside the target (LD_PRELOAD). */

/*
 * Interposes the malloc family and anonymous mmap/munmap/mremap, and forwards
 * to the next definitions (dlsym(RTLD_NEXT)). Recorded blocks are charged to
 * their call stack; the per-stack counters live in a file shared with
 * offheap record (preload/trackshm.h). Configuration, read once at start:
 *
 *   OFFHEAP_OUT      the shared file; unset: the library only forwards
 *   OFFHEAP_PID      record only in the process with this pid (the recorder
 *                    sets it to the child it starts); descendants forward
 *   OFFHEAP_SAMPLE   mean bytes between samples (default 524288); 0: exact
 *   OFFHEAP_MAX_MEM  ceiling of the tracker's own memory (default 64 MiB)
 *   OFFHEAP_MAX_STACKS  entries in the stack table (default 32768)
 *   OFFHEAP_SYNC     the recorder's PID (not 0): wait at start and exit (at most
 *                    2 s) for its ack; its child wakes it with SIGURG first
 *   OFFHEAP_FOLLOW   record --follow-fork: the directory where the command's
 *                    descendants keep their own files (trackshm.h)
 *
 * Or, loaded into a running process, by offheap_attach's arguments (attach.c),
 * which patches the hooks into the objects' GOTs by their hidden aliases.
 *
 * Sampling is Poisson by bytes: each thread counts bytes down from a value
 * drawn from an exponential distribution; the allocation that crosses zero is
 * sampled and charged with its expected weight, n / (1 - exp(-n/mean)). A
 * block of at least BIG_MEANS means is always recorded, with weight 1: the
 * countdown the hot path sees is capped there (the rest of the draw waits
 * in countdown_rest), so no big block can slip through unseen. The
 * malloc/calloc hot path is that subtraction on an initial-exec TLS countdown
 * and a jump through the cached pointer; free's is one byte load from a
 * counting filter of tracked addresses. Only sampled blocks enter the address
 * table (lock-free open addressing, bounded probes).
 *
 * Stacks come from a frame-pointer walk where it is known to hold and our
 * own CFI unwinder elsewhere; see stackwalk.c and cfi.c. The unwinder's
 * module table is rebuilt only outside the loader's changes, dlclose and
 * nested hooks (a signal handler): there a pc in no known module ends the
 * stack.
 *
 * Inside the hooks: no malloc, no stdio, no locks of ours; our memory comes
 * from mmap(2) directly. A thread-local depth (initial-exec TLS) marks nested
 * hooks (a signal handler, the unwinder's own allocations): they are recorded
 * with a walk that never enters the loader. When the ceiling is reached the
 * tracker degrades and says so in the header: new stacks are charged to
 * entry 0 ("other"); when the address table cannot grow, sampling starts (or
 * gets coarser: degrade in trackshm.c changes sample_mean, which sample()
 * reads on each call); blocks that still find no address slot are counted as
 * dropped.
 *
 * fork: the child stops recording (it would otherwise write into its
 * parent's counters) and counts itself in the header's children; so does a
 * descendant that loads the library (OFFHEAP_PID names another process), so
 * the recorder can tell that the work went elsewhere. With OFFHEAP_FOLLOW
 * both record into files of their own instead (trackshm.c). exec: the environment
 * carries on, so a process that execs under the same pid re-initialises the
 * file (new generation) and the recorder follows the new image.
 *
 * This file holds the hooks and the sampling; the stack walk is in
 * stackwalk.c, the address table in addrtable.c, the shared file and its
 * counters in trackshm.c, and what they share in internal.h. They are one
 * library: the Makefile builds every .c file of preload/ into liboffheap.so.
 */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void free_slow(void *p);
/* free_slow until resolved: the free hot path needs no NULL check */
static void (*real_free)(void *) = free_slow;
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static int (*real_munmap)(void *, size_t);
static void *(*real_mremap)(void *, size_t, size_t, int, ...);
static int (*real_dlclose)(void *);
static void *(*real_dlopen)(const char *, int);

static int state;   /* 0 not started, 1 starting, 2 ready */
bool attach_mode; /* loaded to attach: hooks are called only while attached */
static TLS int in_hook;
TLS int in_loader; /* inside dlclose */
static TLS uint64_t countdown; /* bytes before the next sample; 0: slow path */
static TLS uint64_t countdown_rest; /* the draw beyond countdown (capped at sample_big) */
static TLS uint64_t rng;
static TLS bool rng_seeded;

/* dlsym may call calloc before real_calloc is known: serve it from here. */
static char boot_buf[8192] __attribute__((aligned(16)));
static size_t boot_used;

static void *boot_alloc(size_t n)
{
	size_t off = __atomic_fetch_add(&boot_used, (n + 15) & ~(size_t)15, __ATOMIC_RELAXED);

	if (off + n > sizeof(boot_buf))
		return NULL;
	filter_add((uintptr_t)(boot_buf + off), 1); /* its free takes the slow path */
	return boot_buf + off;
}

static bool is_boot(const void *p)
{
	return (const char *)p >= boot_buf && (const char *)p < boot_buf + sizeof(boot_buf);
}

#define RESOLVE(name) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name)

static void init(void)
{
	int expected = 0;

	if (!__atomic_compare_exchange_n(&state, &expected, 1, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != 2)
			if (in_hook) /* our own thread, inside dlsym */
				return;
		return;
	}
	in_hook++;
	RESOLVE(calloc);
	RESOLVE(malloc);
	RESOLVE(realloc);
	RESOLVE(free);
	RESOLVE(posix_memalign);
	RESOLVE(aligned_alloc);
	RESOLVE(memalign);
	RESOLVE(valloc);
	RESOLVE(pvalloc);
	RESOLVE(mmap);
	RESOLVE(munmap);
	RESOLVE(mremap);
	RESOLVE(dlclose);
	RESOLVE(dlopen);
	__atomic_store_n(&state, 2, __ATOMIC_RELEASE);
	open_shared();
	in_hook--;
}

__attribute__((constructor)) static void offheap_ctor(void)
{
	init();
}

static inline void ensure_init(void)
{
	if (__builtin_expect(__atomic_load_n(&state, __ATOMIC_ACQUIRE) != 2, 0))
		init();
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t next_rand(void)
{
	if (!rng_seeded) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		rng = mix64((uint64_t)ts.tv_nsec ^ ((uint64_t)(uintptr_t)&rng << 16)) | 1;
		rng_seeded = true;
	}
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* -ln(u) for u uniform in (0,1], without libm: log2 by bit scan + polynomial. */
static double neg_log_uniform(void)
{
	uint64_t r = next_rand() >> 11; /* 53 bits */
	double u = ((double)r + 1.0) / 9007199254740992.0;
	int e = 0;
	double m, t, ln;

	while (u < 0.5) {
		u *= 2;
		e--;
	}
	/* u in [0.5, 1): ln(u) = 2 atanh((u-1)/(u+1)) */
	m = (u - 1) / (u + 1);
	t = m * m;
	ln = 2 * m *
	     (1 + t / 3 + t * t / 5 + t * t * t / 7 + t * t * t * t / 9 + t * t * t * t * t / 11);
	return -(ln + e * 0.6931471805599453);
}

static void set_countdown(uint64_t left)
{
	countdown = left < sample_big ? left : sample_big;
	countdown_rest = left - countdown;
}

static void new_countdown(void)
{
	double c = neg_log_uniform() * (double)sample_mean;

	set_countdown(c < 1.8e19 ? (uint64_t)c + 1 : UINT64_MAX);
}

#define LN2 0.6931471805599453

/*
 * 1 - exp(-x) for x >= 0 to about 1e-15 relative, without libm (the library
 * links none). Small x: the series of 1 - exp(-x) itself, which cancels
 * nothing; else exp(-x) = exp(-r) / 2^k with x = k ln2 + r, 0 <= r < ln2,
 * where the series of exp(-r) converges in a few terms. (A Taylor series of
 * exp(-x) around 0 for x of 10 to 20 has terms of 1e6 and error above 1:
 * the sampled weight of a big block came out at 1/1000 of its size.)
 */
static double one_minus_exp_neg(double x)
{
	double term = x, sum = 0, e = 1;
	int k;

	if (x < 0.5) {
		for (int i = 1; i < 20; i++) {
			sum += term;
			term *= -x / (i + 1);
		}
		return sum;
	}
	if (x > 40)
		return 1; /* exp(-40) < 5e-18: below a double's resolution at 1 */
	k = (int)(x / LN2);
	x -= k * LN2;
	term = 1;
	for (int i = 1; i < 20; i++) {
		term *= -x / i;
		e += term;
	}
	while (k-- > 0)
		e *= 0.5;
	return 1 - e;
}

/*
 * Decides whether a block of size n is recorded and with which weight
 * (bytes and count it stands for).
 */
static bool sample(size_t n, uint64_t *bytes, uint32_t *count)
{
	uint64_t left;
	double p, w;

	if (!sample_mean || n >= sample_big) {
		*bytes = n;
		*count = 1;
		return true;
	}
	if (__builtin_expect(!rng_seeded, 0))
		new_countdown(); /* this thread's first allocation */
	left = countdown + countdown_rest;
	if (n < left) {
		set_countdown(left - n);
		return false;
	}
	new_countdown();
	/* P(sampled) = 1 - exp(-n/mean); the block stands for 1/P blocks. */
	p = one_minus_exp_neg((double)n / (double)sample_mean);
	if (p <= 0)
		p = 1e-300; /* n = 0 */
	w = 1.0 / p;
	*bytes = (uint64_t)((double)n * w + 0.5);
	*count = w > 4e9 ? 4000000000u : (uint32_t)(w + 0.5);
	if (!*count)
		*count = 1;
	return true;
}

/*
 * Attached, a detach restores the GOT while threads may be inside a hook:
 * each hook that uses the tracker's state (the file, the address table) is
 * counted in inflight from before its check of active to its last use, so
 * that the detach, once active is false, can wait until the count is zero
 * before it lets the file go or a new attach resets the tables. The counts
 * are spread over cache lines by thread. Not counted when preloaded.
 */
static uint64_t inflight[8][8] __attribute__((aligned(64)));

static inline uint64_t *inflight_slot(void)
{
	return inflight[((uintptr_t)&in_hook * 0x9e3779b97f4a7c15ULL) >> 61];
}

/* Whether the hook may record; if so, leave() when done with the tracker's state. */
static inline bool enter(void)
{
	uint64_t *c;

	if (!attach_mode)
		return active;
	c = inflight_slot();
	__atomic_add_fetch(c, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&active, __ATOMIC_SEQ_CST))
		return true;
	__atomic_sub_fetch(c, 1, __ATOMIC_RELEASE);
	return false;
}

static inline void leave(void)
{
	if (attach_mode)
		__atomic_sub_fetch(inflight_slot(), 1, __ATOMIC_RELEASE);
}

bool hooks_quiesce(void)
{
	struct timespec ms = {0, 1000000};

	for (int i = 0; i < 2100; i++) {
		uint64_t n = 0;

		for (int k = 0; k < 8; k++)
			n += __atomic_load_n(&inflight[k][0], __ATOMIC_ACQUIRE);
		if (!n)
			return true;
		if (i < 100)
			sched_yield();
		else
			nanosleep(&ms, NULL);
	}
	return false;
}

static void record_alloc(void *p, size_t n, uint64_t ret0, uintptr_t fp)
{
	uint64_t bytes;
	uint32_t count, idx;

	bool nested;

	if (!p || java_busy) /* the JVM's own allocations while it names our Java frames */
		return;
	if (!enter()) {
		/* (an attached process may be attached again: keep sampling then) */
		if (!in_hook && !attach_mode)
			countdown = UINT64_MAX; /* the fast path forwards from now on */
		return;
	}
	if (!sample(n, &bytes, &count)) {
		leave();
		return;
	}
	/*
	 * nested: a signal handler that interrupted a hook of this thread (or
	 * an allocation of the unwinder itself): recorded, with a stack whose
	 * walk may not rebuild the module table.
	 */
	nested = in_hook;
	in_hook++;
	idx = find_stack(ret0, fp, nested);
	if (addr_insert((uintptr_t)p, idx, bytes, count))
		charge(idx, bytes, count);
	in_hook--;
	leave();
}

static void record_free(void *p)
{
	uint64_t bytes;
	uint32_t count, idx;

	if (!p || !enter())
		return;
	if (addr_remove((uintptr_t)p, &idx, &bytes, &count))
		discharge(idx, bytes, count);
	leave();
}

#define RET0 ((uint64_t)(uintptr_t)__builtin_extract_return_addr(__builtin_return_address(0)))
/* This function's frame: holds RET0 at + 8 (asking for it sets the frame up). */
#define FRAME ((uintptr_t)__builtin_frame_address(0))

/*
 * The hot paths. countdown (bytes left before the next sample) is positive
 * only once this thread has drawn one in a ready, recording process (or
 * forever when not recording); in exact mode it stays 0 and every call takes
 * the slow path. The free filter has a bit set for every block ever recorded
 * (and for boot blocks): a free whose bit is clear cannot concern us.
 */
static __attribute__((noinline)) void *malloc_slow(size_t n, uint64_t ret0)
{
	void *p;

	ensure_init();
	if (!real_malloc)
		return boot_alloc(n);
	p = real_malloc(n);
	record_alloc(p, n, ret0, FRAME);
	return p;
}

EXPORT void *malloc(size_t n)
{
	if (__builtin_expect(n < countdown, 1)) {
		countdown -= n;
		return real_malloc(n);
	}
	return malloc_slow(n, RET0);
}

static __attribute__((noinline)) void free_slow(void *p)
{
	if (is_boot(p))
		return;
	ensure_init();
	record_free(p);
	if (real_free != free_slow)
		real_free(p);
}

EXPORT void free(void *p)
{
	if (__builtin_expect(!filter_test((uintptr_t)p), 1)) {
		real_free(p);
		return;
	}
	free_slow(p);
}

static __attribute__((noinline)) void *calloc_slow(size_t nmemb, size_t size, uint64_t ret0)
{
	void *p;

	ensure_init();
	if (!real_calloc) {
		if (size && nmemb > SIZE_MAX / size)
			return NULL;
		return boot_alloc(nmemb * size); /* static, hence zeroed */
	}
	p = real_calloc(nmemb, size);
	if (p)
		record_alloc(p, nmemb * size, ret0, FRAME);
	return p;
}

EXPORT void *calloc(size_t nmemb, size_t size)
{
	size_t n;

	if (__builtin_expect(__builtin_mul_overflow(nmemb, size, &n), 0))
		return calloc_slow(nmemb, size, RET0);
	if (__builtin_expect(n < countdown, 1)) {
		countdown -= n;
		return real_calloc(nmemb, size);
	}
	return calloc_slow(nmemb, size, RET0);
}

EXPORT void *realloc(void *old, size_t n)
{
	uint64_t bytes = 0;
	uint32_t count = 0, idx = 0;
	bool had = false, in = false;
	void *p;

	ensure_init();
	if (is_boot(old)) {
		p = malloc(n);
		if (p)
			memcpy(p, old, n < 256 ? n : 256); /* boot blocks are tiny */
		return p;
	}
	if (!real_realloc)
		return boot_alloc(n);
	if (old && (in = enter()))
		had = addr_remove((uintptr_t)old, &idx, &bytes, &count);
	p = real_realloc(old, n);
	/* exact mode, attached: a block we do not know is from before the attach */
	if (in && !had && attach_mode && !sample_mean) {
		leave();
		return p;
	}
	if (!p && n && old) {
		/* failed: old is still live */
		if (had && !addr_insert((uintptr_t)old, idx, bytes, count))
			discharge(idx, bytes, count);
		if (in)
			leave();
		return p;
	}
	if (had)
		discharge(idx, bytes, count);
	if (in)
		leave();
	record_alloc(p, n, RET0, FRAME);
	return p;
}

extern __typeof__(realloc) hook_realloc __attribute__((visibility("hidden")));

EXPORT void *reallocarray(void *old, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	/* our realloc, not the one the global scope finds (libc's, when attached) */
	return hook_realloc(old, nmemb * size);
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
	int r;

	ensure_init();
	if (!real_posix_memalign)
		return ENOMEM;
	r = real_posix_memalign(out, align, n);
	if (!r)
		record_alloc(*out, n, RET0, FRAME);
	return r;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
	void *p;

	ensure_init();
	if (!real_aligned_alloc)
		return NULL;
	p = real_aligned_alloc(align, n);
	record_alloc(p, n, RET0, FRAME);
	return p;
}

EXPORT void *memalign(size_t align, size_t n)
{
	void *p;

	ensure_init();
	if (!real_memalign)
		return NULL;
	p = real_memalign(align, n);
	record_alloc(p, n, RET0, FRAME);
	return p;
}

EXPORT void *valloc(size_t n)
{
	void *p;

	ensure_init();
	if (!real_valloc)
		return NULL;
	p = real_valloc(n);
	record_alloc(p, n, RET0, FRAME);
	return p;
}

EXPORT void *pvalloc(size_t n)
{
	void *p;

	ensure_init();
	if (!real_pvalloc)
		return NULL;
	p = real_pvalloc(n);
	record_alloc(p, n, RET0, FRAME);
	return p;
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p;

	ensure_init();
	if (!real_mmap) {
		long r = syscall(SYS_mmap, addr, len, prot, flags, fd, off);

		if (r < 0 && r > -4096) {
			errno = (int)-r;
			return MAP_FAILED;
		}
		return (void *)r;
	}
	p = real_mmap(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED && (flags & MAP_ANONYMOUS))
		record_alloc(p, len, RET0, FRAME);
	return p;
}

EXPORT int munmap(void *addr, size_t len)
{
	uint64_t bytes;
	uint32_t count, idx;

	ensure_init();
	if (!real_munmap)
		return (int)syscall(SYS_munmap, addr, len);
	/*
	 * Only an unmap that starts at a recorded mapping is seen; the rest of
	 * a partly unmapped mapping stays charged to its stack.
	 */
	if (enter()) {
		if (addr_remove((uintptr_t)addr, &idx, &bytes, &count)) {
			if (len < bytes && !sample_mean &&
			    addr_insert((uintptr_t)addr + len, idx, bytes - len, count)) {
				discharge(idx, len, 0);
			} else {
				discharge(idx, bytes, count);
			}
		}
		leave();
	}
	return real_munmap(addr, len);
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL, *p;
	uint64_t bytes = 0;
	uint32_t count = 0, idx = 0;
	bool had = false, in;
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	ensure_init();
	if (!real_mremap) {
		errno = ENOSYS;
		return MAP_FAILED;
	}
	if ((in = enter()))
		had = addr_remove((uintptr_t)old, &idx, &bytes, &count);
	p = real_mremap(old, old_len, new_len, flags, new_addr);
	if (p == MAP_FAILED) {
		if (had && !addr_insert((uintptr_t)old, idx, bytes, count))
			discharge(idx, bytes, count);
		if (in)
			leave();
		return p;
	}
	if (had)
		discharge(idx, bytes, count);
	if (in)
		leave();
	if (had)
		record_alloc(p, new_len, RET0, FRAME);
	return p;
}

/*
 * Code unloaded: its addresses may come back as other code, so forget what
 * the frame-pointer verdicts say about them. (The stack tails check their
 * return addresses against the stack on every use.)
 */
EXPORT int dlclose(void *handle)
{
	int r;

	ensure_init();
	if (!real_dlclose)
		return -1;
	in_loader++;
	r = real_dlclose(handle);
	in_loader--;
	memset(verdict, 0, sizeof(verdict));
	cfi_forget();
	cfi_refresh();
	return r;
}

/*
 * The hooks by their local addresses (hidden aliases: the exported names
 * would resolve to the global scope's, libc's, in a dlopen'ed copy), for
 * attach.c to patch into GOTs. reallocarray forwards to our realloc.
 */
#define HOOK_ALIAS(name) \
	extern __typeof__(name) hook_##name                                                     \
		__attribute__((alias(#name), visibility("hidden"), copy(name)))
HOOK_ALIAS(malloc);
HOOK_ALIAS(calloc);
HOOK_ALIAS(realloc);
HOOK_ALIAS(reallocarray);
HOOK_ALIAS(free);
HOOK_ALIAS(posix_memalign);
HOOK_ALIAS(aligned_alloc);
HOOK_ALIAS(memalign);
HOOK_ALIAS(valloc);
HOOK_ALIAS(pvalloc);
HOOK_ALIAS(mmap);
HOOK_ALIAS(munmap);
HOOK_ALIAS(mremap);
HOOK_ALIAS(dlclose);

#define HOOK(name, real) {#name, (void *)hook_##name, (void **)(real)}
const struct hook_sym hook_syms[] = {
	HOOK(malloc, &real_malloc),
	HOOK(calloc, &real_calloc),
	HOOK(realloc, &real_realloc),
	HOOK(reallocarray, NULL),
	HOOK(free, &real_free),
	HOOK(posix_memalign, &real_posix_memalign),
	HOOK(aligned_alloc, &real_aligned_alloc),
	HOOK(memalign, &real_memalign),
	HOOK(valloc, &real_valloc),
	HOOK(pvalloc, &real_pvalloc),
	HOOK(mmap, &real_mmap),
	HOOK(munmap, &real_munmap),
	HOOK(mremap, &real_mremap),
	HOOK(dlclose, &real_dlclose),
};
const int nhook_syms = sizeof(hook_syms) / sizeof(hook_syms[0]);

/*
 * Code loaded: the unwinder's module table is rebuilt by the next walk that
 * may (cfi_sync), not here after the call. glibc's dlopen takes its caller
 * from its return address (the caller's RPATH, RUNPATH and $ORIGIN find a
 * bare library name), so the real dlopen must return straight to our
 * caller: a tail call, which the optimize attribute asks for even at -O0/-O1.
 */
EXPORT __attribute__((optimize("optimize-sibling-calls"))) void *dlopen(const char *file, int mode)
{
	ensure_init();
	if (!real_dlopen)
		return NULL;
	cfi_dlopen();
	return real_dlopen(file, mode);
}
