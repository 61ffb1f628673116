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
/* The stack table's index (trackshm.c): entry numbers by hash, 0 when free. */
extern uint32_t *stack_index;
extern uint64_t index_mask; /* slots - 1, a power of two minus 1 */
extern uint64_t sample_mean;
#define BIG_MEANS 4
extern uint64_t sample_big; /* BIG_MEANS * sample_mean: always recorded from there */

extern uint32_t shm_epoch; /* bumped by each shared_open: per-thread state of older files is stale */
extern struct trackshm_java *java_names; /* the names region: hdr->java_max records */

/* Maps OFFHEAP_OUT and starts recording (sets active), or leaves the tracker off. */
void open_shared(void);
/*
 * Maps the file at path (create: O_CREAT, else it must exist and be no
 * symbolic link) as the shared file and starts recording. sync: the exit
 * handshake is made; wait_ack: and the start one. 0 or -errno (nothing
 * changed then).
 */
int shared_open(const char *path, bool create, uint64_t max_mem, uint64_t sample, bool sync,
		bool wait_ack, int32_t ppid);
/*
 * The next entry of the stack table, its pages given storage, for a new
 * stack; 0 when the table is full or there is no room for its pages.
 */
uint32_t take_entry(void);

/*
 * Whether Java name record idx may be touched: its pages have storage (got
 * now if need be; trackshm.c: shm_back). false: the file system is full.
 */
bool java_ready(uint32_t idx);
/*
 * After a detach (active already false): folds this thread's live delta,
 * makes the exit handshake unless recorder_alive is NULL or says the
 * recorder is gone, and lets the file go.
 */
void shared_close(bool (*recorder_alive)(void));
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

/* An interposed function: its hook, and where the hook finds the real one (NULL: none). */
struct hook_sym {
	const char *name;
	void *hook;
	void **real;
};

extern const struct hook_sym hook_syms[];
extern const int nhook_syms;
extern bool attach_mode; /* the library was loaded to attach (offheap_attach) */
/*
 * Attached, once active is false: waits (at most about 2 s) until no hook
 * uses the tracker's state any more; false when some still did.
 */
bool hooks_quiesce(void);

/* ---- attaching to a running process (attach.c, gotpatch.c) ---- */

/*
 * Points every loaded object's GOT entries (JUMP_SLOT, GLOB_DAT) for the
 * n symbols of w at their hooks, but in liboffheap.so and the loader;
 * entries already patched are left. An entry is patched when it holds the
 * real function (or, a JUMP_SLOT, a lazy binding stub of its own object).
 * Returns the number of entries patched or -errno.
 */
struct got_want {
	const char *name;
	void *hook;   /* what the entry is set to */
	void *expect; /* the real function: an entry holding it is patched */
};

int gotpatch_apply(const struct got_want *w, int n);
/* Puts back every patched entry still holding its hook, in objects still loaded. */
void gotpatch_restore(void);

/* ---- the stack walk (stackwalk.c) ---- */

#define NATIVE_DEPTH 32 /* native frames a walk keeps; Java ones may follow */

#define VERDICT_BITS 14
extern uint64_t verdict[1U << VERDICT_BITS]; /* pc << 1 | fp_ok; 0: unknown */

static inline uint64_t *verdict_slot(uint64_t pc)
{
	return &verdict[(pc * 0x9e3779b97f4a7c15ULL) >> (64 - VERDICT_BITS)];
}
#ifdef OFFHEAP_CHECK_WALK
extern bool check_poison; /* tests: claim every frame has a frame pointer */
#endif

/*
 * The entry of the stack table for the stack whose innermost return address
 * is ret0 (fp: the hook's frame); 0 ("other") when the table is full.
 * nested: a hook inside a hook, which gets the frame-pointer walk alone.
 */
uint32_t find_stack(uint64_t ret0, uintptr_t fp, bool nested);
/* A forked child with a stack table of its own: this thread's last entry is not in it. */
void stackwalk_forget(void);
/* Lets go of this thread's caches (at its exit). */
void stackwalk_thread_exit(void);

/* ---- Java frames (javastack.c) ---- */

/*
 * frames[0..*depth) is a native walk that stopped at frames[*depth - 1], a
 * pc it could not unwind. When that pc is in no module (a JVM's code cache),
 * no frame below it is in libjvm.so or the C library, and this thread is a
 * Java thread in _thread_in_native (a JNI method runs), the code-cache
 * frame is replaced by the thread's Java frames, tagged (trackshm.h), up to
 * max frames in all; true then. Only outside the loader, in a hook that
 * is not nested, with no signal frame on the walk.
 */
bool javastack_extend(uint64_t *frames, int *depth, int max);
/* The names region was replaced (a new file): forget the cached indices. */
void javastack_forget(void);
/*
 * The tracker stops (detach): the namer of pending Java frames makes its
 * last pass and leaves the JVM; waits (at most about 2 s) for the pass.
 */
void javastack_stop(void);
/* This thread is inside a JVMTI call of ours: its allocations are not recorded. */
extern TLS int java_busy;

/* ---- the CFI unwinder (cfi.c) ---- */

struct cfi_frame {
	uint64_t pc;  /* a return address, or the exact pc below a signal frame */
	uint64_t sp;  /* rsp in this frame (the CFA of its callee) */
	uint64_t bp;  /* rbp in this frame, if bp_ok */
	bool bp_ok;
	bool exact;   /* pc is not a return address: look its rule up at pc, not pc - 1 */
};

struct cfi_bounds {
	uint64_t lo, hi; /* the stack the walk may read: [lo, hi) */
};

/* Rebuilds the module table (dl_iterate_phdr); not on the hot path, not in a nested hook. */
void cfi_refresh(void);
/* dlopen is about to load code: the next cfi_sync rebuilds the module table. */
void cfi_dlopen(void);
/* Rebuilds the module table if a dlopen came since it was built; as cfi_refresh. */
void cfi_sync(void);
/* Forgets every cached rule (code was unloaded). */
void cfi_forget(void);
/*
 * The executable range [*lo, *hi) of the module holding pc in the current
 * module table: 1; 0: pc is in no module (of those with unwind information);
 * -1: cannot tell now (the table is being rebuilt).
 */
int cfi_module_range(uint64_t pc, uint64_t *lo, uint64_t *hi);
/* The stack holding sp, from sp up; false when sp is on no stack we know. */
bool cfi_stack(uint64_t sp, struct cfi_bounds *b);
/*
 * One unwind step: f becomes its caller's frame. 1: done, 0: f was the
 * outermost frame, -1: no rule or a bad read (JIT code, no unwind info, a
 * CFA off the stack). may_refresh: a pc in no module may rebuild the table.
 * No lock, no malloc; no system call but on an alternate signal stack.
 */
int cfi_step(struct cfi_frame *f, struct cfi_bounds *b, bool may_refresh);

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
/*
 * Exact mode: every free looks, and the map stays untouched (filling it
 * with 255 cost 256 page faults and 1 MiB at every start).
 */
extern bool filter_full;

/*
 * A window of 16 MiB of addresses maps onto the whole filter in order,
 * turned by a hash of the window's number: a program frees mostly what it
 * allocated lately, close together, and a scattered index made every such
 * free a cache miss (three quarters of the hook's time in a sampled git).
 * Blocks 16 MiB apart may share a byte, as any two may under a hash: their
 * frees take the slow path and find nothing.
 */
static inline uint64_t filter_bit(uintptr_t a)
{
	uint64_t turn = ((uint64_t)a >> (FILTER_BITS + 4)) * 0x9e3779b97f4a7c15ULL;

	return ((a >> 4) + (turn >> (64 - FILTER_BITS))) & ((1ULL << FILTER_BITS) - 1);
}

static inline bool filter_test(uintptr_t a)
{
	return __atomic_load_n(&filter_full, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&filter[filter_bit(a)], __ATOMIC_RELAXED) != 0;
}


/* Counts a in (d = 1) or out of (d = -1) the filter. */
void filter_add(uintptr_t a, int d);
/*
 * Maps the first level of the address table (addr_budget set), or empties
 * the table mapped already; false when it cannot.
 */
bool addr_init(void);
/* Records block a as charged to entry idx; false (counted as dropped) when no slot is free. */
bool addr_insert(uintptr_t a, uint32_t idx, uint64_t bytes, uint32_t count);
/* Removes a; fills what it was charged with. A miss costs a probe to EMPTY. */
bool addr_remove(uintptr_t a, uint32_t *idx, uint64_t *bytes, uint32_t *count);

#pragma GCC visibility pop

#endif
