/* trackshm: the layout of the file liboffheap.so shares with offheap record. */
#ifndef OFFHEAP_TRACKSHM_H
#define OFFHEAP_TRACKSHM_H

/*
 * The tracker in the target (preload/) creates the file named by OFFHEAP_OUT,
 * sizes it with ftruncate and maps it MAP_SHARED; the recorder maps the same
 * file read-only and copies the counters every interval. The counters live
 * in the file itself and are updated with relaxed atomics, so a SIGKILLed
 * target loses nothing the recorder could still have read.
 *
 * Layout: struct trackshm_header at offset 0, then max_stacks entries of
 * struct trackshm_stack, then java_max records of struct trackshm_java.
 * Entry 0 is "other": allocations whose stack could not be stored (table
 * full, or no room for its page). Entries are handed out in order: the
 * header's nstacks of them are, and each of their pages has storage
 * (so a reader reads entries 0 to nstacks - 1, and nothing past them). An
 * entry is valid when ready is 1; its frames are then final. One below
 * nstacks that is not ready is being made, or was left by a thread that
 * met another making the same stack at once. All integers little-endian
 * (native; the recorder runs on the same host). The header's generation
 * changes when a new image (exec) re-initialises the file. With
 * OFFHEAP_SYNC set (to the recorder's PID) the target waits (up to 2 s, in
 * its constructor, never in a hook) until the recorder has written that
 * generation into ack: the recorder reads the module list of every image
 * while it is alive, even of a program that ends at once.
 */
#include <stdint.h>

#define TRACKSHM_MAGIC	   0x315041454846464fULL /* "OFFHEAP1" */
#define TRACKSHM_VERSION   9
#define TRACKSHM_MAX_DEPTH 64 /* frames of a stack: native ones (at most 32) and Java ones */
#define TRACKSHM_SHARDS    4
#define TRACKSHM_MAX_STACKS (1u << 24) /* entries of the stack table, at most */

enum trackshm_flags {
	TRACKSHM_STACKS_FULL = 1 << 0, /* new stacks counted under entry 0 */
	TRACKSHM_ADDRS_FULL = 1 << 1,  /* some blocks not tracked (address table full) */
	TRACKSHM_EXACT = 1 << 2,       /* every allocation recorded */
	TRACKSHM_DEGRADED = 1 << 3,    /* sampled since degraded_ns: the ceiling was reached */
	TRACKSHM_NOSPACE = 1 << 4,     /* a page of the file could not get storage (file system full) */
	TRACKSHM_CHILD_NOSPACE = 1 << 5, /* --follow-fork: a child had no room for its file */
};

/*
 * A tracker that cannot give the file's first page storage (its file
 * system is full) leaves the file one byte long, and records nothing.
 */
#define TRACKSHM_NOSPACE_SIZE 1

struct trackshm_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size; /* sizeof(struct trackshm_header) */
	uint32_t stack_size;  /* sizeof(struct trackshm_stack) */
	uint32_t max_stacks;
	uint64_t generation;  /* CLOCK_REALTIME ns at initialisation */
	uint64_t seq;	      /* bumped on every new stack */
	uint64_t flags;	      /* enum trackshm_flags */
	uint64_t sample_mean; /* 0 in exact mode */
	uint64_t nstacks;     /* entries handed out (including 0), in order */
	uint64_t dropped;     /* blocks not tracked (address table full) */
	int32_t pid;
	int32_t ppid; /* --follow-fork: the recorded process that forked this one; 0 none */
	uint64_t ack; /* written by the recorder: generation it has seen */
	uint64_t partial; /* stacks cut short (DWARF unwind unsafe: loader busy) */
	/*
	 * The exit handshake: a process that exits with OFFHEAP_SYNC set stores
	 * its generation in exiting and waits (at most 2 s) until the recorder
	 * has read its last stacks and module list and copied it into exit_ack.
	 */
	uint64_t exiting;
	uint64_t exit_ack;
	/*
	 * Processes started below the image, which are not recorded: each
	 * fork of the recording image (counted in the child), and each
	 * descendant that loaded the library (counted at its start; a forked
	 * child that execs counts twice). Zero means it started none.
	 */
	uint64_t children;
	/*
	 * A tracker attached to a running process (offheap_attach) detaches
	 * itself when the recorder stores its generation here.
	 */
	uint64_t detach;
	/*
	 * The ceiling (OFFHEAP_MAX_MEM): the address table could not grow, so
	 * the tracker samples from degraded_ns on (CLOCK_REALTIME), with
	 * degraded_kib KiB as its mean now (it doubles each time the table
	 * fills further); sample_mean stays the mean the run started with.
	 * Blocks recorded before keep their weight; 0: never degraded.
	 */
	uint64_t degraded_ns;
	uint32_t degraded_kib;
	/*
	 * record -p: the recorder's CLOCK_MONOTONIC in ms (low 32 bits), stored
	 * at each of its steps. A tracker attached with pid=0 (a recorder in
	 * another pid namespace) detaches itself when it stops moving.
	 */
	uint32_t heartbeat;
	/*
	 * The peak, on a cache line of its own: live is the total of live
	 * bytes over the stacks (weighted when sampled). Each thread keeps its
	 * own change of it and folds it in with one atomic add when that
	 * reaches TRACKSHM_FOLD either way (and at thread exit, fork and
	 * exit); peak is the maximum of the folded totals, so in exact mode
	 * it is the true maximum to within nthreads x TRACKSHM_FOLD (one
	 * thread: at most TRACKSHM_FOLD below it); peak_ns is when it was
	 * reached (CLOCK_REALTIME). The stacks' peak_live are a
	 * copy of their live bytes taken when live first reached sites_live;
	 * a new copy is taken when live exceeds sites_live by 1/64 (and is at
	 * least TRACKSHM_PEAK_FLOOR), so sites_live >= 64/65 of peak once peak
	 * passed the floor. sites_seq is bumped after each copy.
	 */
	int64_t live __attribute__((aligned(64)));
	int64_t peak;
	uint64_t peak_ns;
	int64_t sites_live;
	uint64_t sites_ns;
	uint64_t sites_seq;
	uint32_t sites_busy; /* a thread is copying */
	uint32_t max_mem_mib; /* the ceiling of the tracker's memory (OFFHEAP_MAX_MEM), MiB */
	/*
	 * The Java frames' names (struct trackshm_java), after the stack
	 * table: java_max records; java_n is the number of indices handed
	 * out (below java_max: a record's page has storage before its index
	 * is handed out, so every record up to java_n may be read).
	 */
	uint32_t java_max;
	uint32_t java_n;
};

/*
 * A Java frame in a stack's frames[] is TRACKSHM_JAVA_TAG | i: record i of
 * the names region, which is ready (release) before any stack holding it
 * is. Index 0 has no record: it stands for the outer Java frames that did
 * not fit in the stack (TRACKSHM_MAX_DEPTH). A stack's Java frames follow
 * its native ones (innermost first, as every frame), in place of the code
 * cache frames the native walk reached (native wrapper, interpreter, JIT):
 * one frame per Java method whatever its tier, inlined ones included.
 * The records are written once and never change; two threads that name the
 * same method and line at once may write two equal records.
 */
#define TRACKSHM_JAVA_TAG (1ULL << 63)
#define TRACKSHM_JAVA_MAX 16384 /* names: a JVM that loads many classes under a deep stack needs them */

struct trackshm_java {
	uint32_t ready;
	int32_t line;	  /* source line; 0: unknown (no line table, native method) */
	char cls[176];	  /* declaring class, dotted ("java.util.zip.Inflater"), cut to fit */
	char method[64];  /* "<init>", "parse" */
	char file[72];	  /* "Inflater.java"; empty: unknown */
};

/*
 * --follow-fork: OFFHEAP_FOLLOW names a directory of the recorder's (mode
 * 0700). A forked child of a recorded process creates its own file "<pid>"
 * there (O_EXCL) with an empty stack table and records into it from then
 * on; blocks it inherited are not its to count. A descendant the fork handler
 * did not see (vfork, posix_spawn) creates its file when its image starts;
 * an exec re-initialises the file like the command's. The file "follow"
 * holds struct trackshm_follow: a process takes a file only while taken <
 * max, else it counts itself in refused and in its parent's children.
 */
#define TRACKSHM_FOLLOW_MAGIC 0x574f4c4c4f464f46ULL /* "FOFOLLOW" */

struct trackshm_follow {
	uint64_t magic;
	uint64_t max;	  /* processes that may take a file (written by the recorder) */
	uint64_t taken;	  /* processes that tried to (each adds 1) */
	uint64_t refused; /* of them, those beyond max */
};

#define TRACKSHM_PEAK_FLOOR (256 * 1024) /* no copy of the stacks below this total */
#define TRACKSHM_FOLD	    (256 * 1024) /* a thread folds its change of live from this */
#define TRACKSHM_HEARTBEAT_MS 5000	     /* a still heartbeat this long: the recorder is gone */

/*
 * A stack's counters, in TRACKSHM_SHARDS copies on their own cache lines:
 * each thread adds to one shard (threads are spread over them), so threads
 * allocating from the same call site do not fight over one line. A reader
 * sums the shards; live = alloc - free.
 */
struct trackshm_counters {
	uint64_t alloc_bytes;
	uint64_t alloc_count;
	uint64_t free_bytes;
	uint64_t free_count;
	uint64_t pad[4];
} __attribute__((aligned(64)));

struct trackshm_stack {
	uint64_t hash; /* of the frames; 0: not handed out */
	uint32_t ready;
	uint32_t depth;
	uint64_t frames[TRACKSHM_MAX_DEPTH];
	int64_t peak_live; /* live bytes at the header's sites_live (in the padding before shard) */
	struct trackshm_counters shard[TRACKSHM_SHARDS];
};

#endif
