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
 *   OFFHEAP_MAX_STACKS  entries in the stack table (default 16384)
 *   OFFHEAP_SYNC     1: wait at start (at most 2 s) for the recorder's ack
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
 * Stacks come from a frame-pointer walk completed by caches that DWARF
 * unwinds (libunwind) fill; see "Stack capture" below. libunwind never runs
 * while the loader changes the module list, inside dlclose, or in a hook
 * nested in a hook (a signal handler): those stacks stay partial.
 *
 * Inside the hooks: no malloc, no stdio, no locks of ours; our memory comes
 * from mmap(2) directly. A thread-local depth (initial-exec TLS) marks nested
 * hooks (a signal handler, the unwinder's own allocations): they are recorded
 * without unwinding. When the ceiling is reached the tracker degrades and
 * says so in the header flags: new stacks are charged to entry 0 ("other");
 * blocks that find no address slot are counted as dropped.
 *
 * fork: the child stops recording (it would otherwise write into its
 * parent's counters) and counts itself in the header's children; so does a
 * descendant that loads the library (OFFHEAP_PID names another process), so
 * the recorder can tell that the work went elsewhere. exec: the environment
 * carries on, so a process that execs under the same pid re-initialises the
 * file (new generation) and the recorder follows the new image.
 */
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "trackshm.h"

#define EXPORT __attribute__((visibility("default")))
#define TLS    __thread __attribute__((tls_model("initial-exec")))

#define ADDR_EMPTY 0
#define ADDR_TOMB  1
#define PROBE_MAX  64

struct addr_slot {
	uintptr_t addr; /* ADDR_EMPTY, ADDR_TOMB or a block */
	uint32_t stack; /* entry in the stack table */
	uint32_t count; /* charged count (weight) */
	uint64_t bytes; /* charged bytes */
};

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

static int state;   /* 0 not started, 1 starting, 2 ready */
static bool active; /* recording in this process */
static bool sync_mode; /* OFFHEAP_SYNC: the recorder waits on our handshakes */
static struct trackshm_header *hdr;
static struct trackshm_stack *stacks;
static uint32_t max_stacks;
static uint32_t stack_mask; /* a power of two minus 1, below max_stacks - 1 */
static TLS uint64_t last_hash; /* this thread's last stack and its entry */
static TLS uint32_t last_idx;
static struct addr_slot *addrs;
static uint64_t addr_mask;
static uint64_t sample_mean;
#define BIG_MEANS 4
static uint64_t sample_big; /* BIG_MEANS * sample_mean: always recorded from there */
/*
 * A counting filter in front of the address table: one byte per hash bucket
 * of addresses, the number of tracked blocks in the bucket (255 sticks). A
 * free whose byte is 0 concerns no tracked block and goes straight to the
 * real free after one load from this 1 MiB map (only touched pages are
 * backed).
 */
#define FILTER_BITS 20
static uint8_t filter[1UL << FILTER_BITS];

static inline uint64_t filter_bit(uintptr_t a)
{
	return ((uint64_t)(a >> 4) * 0x9e3779b97f4a7c15ULL) >> (64 - FILTER_BITS);
}

static inline bool filter_test(uintptr_t a)
{
	return __atomic_load_n(&filter[filter_bit(a)], __ATOMIC_RELAXED) != 0;
}

static bool filter_full; /* exact mode: every byte 255, every free looks */

static void filter_add(uintptr_t a, int d)
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

static TLS int in_hook;
#ifdef OFFHEAP_CHECK_WALK
static bool check_poison; /* tests: claim every frame has a frame pointer */
#endif
static TLS int in_loader; /* inside dlclose */
static TLS unsigned shard_plus1; /* this thread's counter shard + 1; 0: not chosen */
static unsigned next_shard;
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

static void *sys_mmap(size_t len)
{
	long r = syscall(SYS_mmap, NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return (r < 0 && r > -4096) ? NULL : (void *)r;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	uint64_t v = 0;

	if (!s || !*s)
		return def;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (uint64_t)(*s - '0');
	if (*s == 'k' || *s == 'K')
		v <<= 10;
	else if (*s == 'm' || *s == 'M')
		v <<= 20;
	else if (*s == 'g' || *s == 'G')
		v <<= 30;
	return v;
}

static int64_t env_pid(void)
{
	const char *s = getenv("OFFHEAP_PID");

	return s ? (int64_t)env_u64("OFFHEAP_PID", 0) : -1;
}

static void child_after_fork(void)
{
	active = false;
	__atomic_fetch_add(&hdr->children, 1, __ATOMIC_RELAXED); /* the mapping is shared */
}

/* A descendant of the recorded process: counted in its header, not recorded. */
static void count_descendant(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct trackshm_header *h;
	struct stat st;

	if (fd < 0)
		return;
	/* a mapping past the end of a file faults */
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(*h)) {
		close(fd);
		return;
	}
	h = (void *)syscall(SYS_mmap, NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if ((long)h < 0 && (long)h > -4096)
		return;
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) == TRACKSHM_MAGIC &&
	    h->version == TRACKSHM_VERSION)
		__atomic_fetch_add(&h->children, 1, __ATOMIC_RELAXED);
	syscall(SYS_munmap, h, sizeof(*h));
}

static void open_shared(void)
{
	const char *path = getenv("OFFHEAP_OUT");
	uint64_t max_mem = env_u64("OFFHEAP_MAX_MEM", 64ULL << 20);
	uint64_t stack_bytes, addr_bytes, nslots = 1;
	struct timespec ts;
	struct stat st;
	bool punched;
	int64_t want_pid = env_pid();
	int fd;
	void *p;

	if (!path || !*path)
		return;
	if (want_pid >= 0 && want_pid != (int64_t)getpid()) {
		count_descendant(path);
		return;
	}
	if (max_mem < (1ULL << 20))
		max_mem = 1ULL << 20;
	max_stacks = (uint32_t)env_u64("OFFHEAP_MAX_STACKS", 16384);
	if (max_stacks < 16)
		max_stacks = 16;
	stack_bytes = sizeof(*hdr) + (uint64_t)max_stacks * sizeof(*stacks);
	if (stack_bytes > max_mem / 2) {
		max_stacks = (uint32_t)((max_mem / 2 - sizeof(*hdr)) / sizeof(*stacks));
		stack_bytes = sizeof(*hdr) + (uint64_t)max_stacks * sizeof(*stacks);
	}
	addr_bytes = max_mem - stack_bytes;
	for (stack_mask = 1; stack_mask * 2 <= max_stacks - 1;)
		stack_mask *= 2;
	stack_mask--;
	while (nslots * 2 * sizeof(struct addr_slot) <= addr_bytes)
		nslots *= 2;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	/*
	 * Never shrink: the recorder may have the file mapped (an exec
	 * re-initialises it), and reading past a shrunk end would fault.
	 */
	if (fstat(fd, &st) ||
	    (st.st_size < (off_t)stack_bytes && ftruncate(fd, (off_t)stack_bytes))) {
		close(fd);
		return;
	}
	/* A file used before: zero the stack table without touching its pages. */
	punched = st.st_size && !fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					   (off_t)sizeof(*hdr), (off_t)(stack_bytes - sizeof(*hdr)));
	p = (void *)syscall(SYS_mmap, NULL, stack_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if ((long)p < 0 && (long)p > -4096)
		return;
	addrs = sys_mmap(nslots * sizeof(struct addr_slot));
	if (!addrs) {
		syscall(SYS_munmap, p, stack_bytes);
		return;
	}
	addr_mask = nslots - 1;
	hdr = p;
	stacks = (struct trackshm_stack *)((char *)p + sizeof(*hdr));
	__atomic_store_n(&hdr->magic, 0, __ATOMIC_RELEASE);
	if (st.st_size && !punched)
		memset(stacks, 0, (size_t)max_stacks * sizeof(*stacks));
	memset((char *)hdr + sizeof(hdr->magic), 0, sizeof(*hdr) - sizeof(hdr->magic));
	sample_mean = env_u64("OFFHEAP_SAMPLE", 512 * 1024);
	sample_big = sample_mean > UINT64_MAX / BIG_MEANS ? UINT64_MAX : sample_mean * BIG_MEANS;
#ifdef OFFHEAP_CHECK_WALK
	check_poison = env_u64("OFFHEAP_CHECK_POISON", 0);
#endif
	if (!sample_mean) {
		memset(filter, 255, sizeof(filter));
		filter_full = true;
	}

	clock_gettime(CLOCK_REALTIME, &ts);
	hdr->version = TRACKSHM_VERSION;
	hdr->header_size = sizeof(*hdr);
	hdr->stack_size = sizeof(*stacks);
	hdr->max_stacks = max_stacks;
	hdr->generation = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	hdr->flags = sample_mean ? 0 : TRACKSHM_EXACT;
	hdr->sample_mean = sample_mean;
	hdr->pid = (int32_t)getpid();
	stacks[0].hash = 1;
	stacks[0].ready = 1;
	hdr->nstacks = 1;
	__atomic_store_n(&hdr->magic, TRACKSHM_MAGIC, __ATOMIC_RELEASE);

	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	sync_mode = env_u64("OFFHEAP_SYNC", 0) != 0;
	if (sync_mode) {
		struct timespec ms = {0, 1000000};

		for (int i = 0; i < 2000; i++) {
			if (__atomic_load_n(&hdr->ack, __ATOMIC_ACQUIRE) == hdr->generation)
				break;
			nanosleep(&ms, NULL);
		}
	}
	pthread_atfork(NULL, NULL, child_after_fork);
	active = true;
}

/*
 * At exit the libraries loaded since the start (a JVM's libjvm.so is
 * dlopened) are still mapped: let the recorder read the last stacks and the
 * module list now, or their frames could not be named once we are gone.
 * Bounded wait; a process that ends by _exit or a signal skips this.
 */
__attribute__((destructor)) static void exit_handshake(void)
{
	struct timespec ms = {0, 1000000};
	uint64_t gen;

	if (!active || !sync_mode || !hdr || hdr->pid != (int32_t)getpid())
		return;
	gen = hdr->generation;
	__atomic_store_n(&hdr->exiting, gen, __ATOMIC_RELEASE);
	for (int i = 0; i < 2000; i++) {
		if (__atomic_load_n(&hdr->exit_ack, __ATOMIC_ACQUIRE) == gen)
			break;
		nanosleep(&ms, NULL);
	}
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
#define VERDICT_BITS 14
#define TAILS_BITS   5
#define WALK_MAX     (TRACKSHM_MAX_DEPTH + 8)

static uint64_t verdict[1U << VERDICT_BITS]; /* pc << 1 | fp_ok; 0: unknown */

struct tail {
	uint64_t pc, slot; /* key: return address and where it is stored */
	uint32_t n;
	uint64_t pcs[TRACKSHM_MAX_DEPTH];
	uint64_t slots[TRACKSHM_MAX_DEPTH];
};

static TLS struct tail tails[1U << TAILS_BITS];
/* Above the outermost frame a DWARF unwind of this thread has seen: no frame is. */
static TLS uint64_t stack_hi;

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
		if (v == 0 && tails_ok) {
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
			struct tail *t = tail_slot(ip[i], sp[i] - 8);
			uint32_t m = 0;

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

static uint32_t find_stack(uint64_t ret0, uintptr_t fp, bool nested)
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
	if (!nested && h == last_hash)
		return last_idx;

	idx = (uint32_t)(h & stack_mask) + 1;
	for (i = 0; i < PROBE_MAX; i++) {
		struct trackshm_stack *s = &stacks[idx];
		uint64_t cur = __atomic_load_n(&s->hash, __ATOMIC_ACQUIRE), zero = 0;

		if (cur == h) {
			if (!nested) {
				last_hash = h;
				last_idx = idx;
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

/*
 * The first TRACKSHM_SHARDS - 1 threads that record own shards 1.. and add to
 * them without atomic read-modify-writes (a plain 64-bit store is atomic for
 * the reader); later threads share shard 0 with atomic adds, and so does a
 * signal handler that interrupts its thread's own update (counting is set).
 */
static TLS int counting;

static inline unsigned my_shard(void)
{
	if (__builtin_expect(!shard_plus1, 0)) {
		unsigned n = __atomic_fetch_add(&next_shard, 1, __ATOMIC_RELAXED);

		shard_plus1 = n < TRACKSHM_SHARDS - 1 ? n + 2 : 1;
	}
	return shard_plus1 - 1;
}

static void add_counts(uint32_t idx, bool is_free, uint64_t bytes, uint32_t count)
{
	unsigned sh = counting ? 0 : my_shard();
	struct trackshm_counters *c = &stacks[idx].shard[sh];
	uint64_t *b = is_free ? &c->free_bytes : &c->alloc_bytes;
	uint64_t *n = is_free ? &c->free_count : &c->alloc_count;

	if (!sh) {
		__atomic_fetch_add(b, bytes, __ATOMIC_RELAXED);
		__atomic_fetch_add(n, count, __ATOMIC_RELAXED);
		return;
	}
	counting = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(b, __atomic_load_n(b, __ATOMIC_RELAXED) + bytes, __ATOMIC_RELAXED);
	__atomic_store_n(n, __atomic_load_n(n, __ATOMIC_RELAXED) + count, __ATOMIC_RELAXED);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	counting = 0;
}

static void charge(uint32_t idx, uint64_t bytes, uint32_t count)
{
	add_counts(idx, false, bytes, count);
}

static void discharge(uint32_t idx, uint64_t bytes, uint32_t count)
{
	add_counts(idx, true, bytes, count);
}

static inline uint64_t addr_hash(uintptr_t a)
{
	uint64_t m = (uint64_t)(a >> 4) * 0xc4ceb9fe1a85ec53ULL;

	return (m ^ (m >> 32)) & addr_mask;
}

static bool addr_insert(uintptr_t a, uint32_t idx, uint64_t bytes, uint32_t count)
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
static bool addr_remove(uintptr_t a, uint32_t *idx, uint64_t *bytes, uint32_t *count)
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

static void record_alloc(void *p, size_t n, uint64_t ret0, uintptr_t fp)
{
	uint64_t bytes;
	uint32_t count, idx;

	bool nested;

	if (!p)
		return;
	if (!active) {
		if (!in_hook)
			countdown = UINT64_MAX; /* the fast path forwards from now on */
		return;
	}
	if (!sample(n, &bytes, &count))
		return;
	/*
	 * nested: a signal handler that interrupted a hook of this thread (or
	 * an allocation of the unwinder itself): recorded, with the stack the
	 * frame-pointer walk alone gets.
	 */
	nested = in_hook;
	in_hook++;
	idx = find_stack(ret0, fp, nested);
	if (addr_insert((uintptr_t)p, idx, bytes, count))
		charge(idx, bytes, count);
	in_hook--;
}

static void record_free(void *p)
{
	uint64_t bytes;
	uint32_t count, idx;

	if (!p || !active)
		return;
	if (addr_remove((uintptr_t)p, &idx, &bytes, &count))
		discharge(idx, bytes, count);
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
	bool had = false;
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
	if (old && active)
		had = addr_remove((uintptr_t)old, &idx, &bytes, &count);
	p = real_realloc(old, n);
	if (!p && n && old) {
		/* failed: old is still live */
		if (had && !addr_insert((uintptr_t)old, idx, bytes, count))
			discharge(idx, bytes, count);
		return p;
	}
	if (had)
		discharge(idx, bytes, count);
	record_alloc(p, n, RET0, FRAME);
	return p;
}

EXPORT void *reallocarray(void *old, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(old, nmemb * size);
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
	if (active && addr_remove((uintptr_t)addr, &idx, &bytes, &count)) {
		if (len < bytes && !sample_mean &&
		    addr_insert((uintptr_t)addr + len, idx, bytes - len, count)) {
			discharge(idx, len, 0);
		} else {
			discharge(idx, bytes, count);
		}
	}
	return real_munmap(addr, len);
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL, *p;
	uint64_t bytes = 0;
	uint32_t count = 0, idx = 0;
	bool had = false;
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
	if (active)
		had = addr_remove((uintptr_t)old, &idx, &bytes, &count);
	p = real_mremap(old, old_len, new_len, flags, new_addr);
	if (p == MAP_FAILED) {
		if (had && !addr_insert((uintptr_t)old, idx, bytes, count))
			discharge(idx, bytes, count);
		return p;
	}
	if (had) {
		discharge(idx, bytes, count);
		record_alloc(p, new_len, RET0, FRAME);
	}
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
	return r;
}

