/*
 * series: one process sampled over time — what offheap watch records, and
 * what doctor and the HTML report read back (live or from a recording).
 *
 * A point holds the figures the analysis needs, not the whole snapshot:
 * totals, per-class sums, thread groups, cgroup, and for a JVM its
 * hsperfdata counters and NMT summary. It is small (a few hundred bytes
 * plus the NMT categories), so a series of days stays in memory.
 */
#ifndef OFFHEAP_SERIES_H
#define OFFHEAP_SERIES_H

#include "snapshot.h"
#include "trend.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hsperf;
struct nmt_report;
struct sqlite3;
struct store;
struct strbuf;

/*
 * Counters kept per point, most of them a JVM's. The stored names
 * (series_counter_name) are stable: the hsperfdata name where the value
 * comes from hsperfdata, else an "offheap." name for a derived or jcmd
 * figure.
 */
enum series_counter {
	SC_THREADS_LIVE,	/* java.threads.live */
	SC_THREADS_DAEMON,	/* java.threads.daemon */
	SC_CLASSES_LOADED,	/* java.cls.loadedClasses (+ sharedLoadedClasses) */
	SC_CLASSES_UNLOADED,	/* java.cls.unloadedClasses (+ sharedUnloadedClasses) */
	SC_META_USED,		/* sun.gc.metaspace.used */
	SC_META_CAPACITY,	/* sun.gc.metaspace.capacity */
	SC_CCS_USED,		/* sun.gc.compressedclassspace.used */
	SC_HEAP_USED,		/* offheap.heap.used: sum of the generations' spaces */
	SC_HEAP_COMMITTED,	/* offheap.heap.committed: sum of the generations' capacity */
	SC_HEAP_MAX,		/* offheap.heap.max: sum of the generations' maxCapacity */
	SC_OLD_USED,		/* sun.gc.generation.1.space.0.used (the old generation) */
	SC_YOUNG_GCS,		/* sun.gc.collector.0.invocations */
	SC_FULL_GCS,		/* sun.gc.collector.1.invocations */
	SC_CONC_GCS,		/* sun.gc.collector.2.invocations (G1's, ZGC's concurrent cycles) */
	SC_CHEAP_OUTSTANDING,	/* offheap.cheap.outstanding: VM.info C-Heap outstanding */
	/*
	 * offheap.metaspace.used: VM.info's Metaspace used, which is current
	 * where sun.gc.metaspace.used is updated at GCs only (0 until the first)
	 */
	SC_META_VMINFO,
	/*
	 * offheap.stacks.kept, of any process: mappings shaped like a thread
	 * stack that no live thread owns (classify_kept_stacks)
	 */
	SC_STACKS_KEPT,
	SC_STACKS_KEPT_RSS,	/* offheap.stacks.kept.rss: their resident bytes */
	SC_NR
};

const char *series_counter_name(enum series_counter c);
/* The counter of a stored name, or -1. */
int series_counter_parse(const char *name);

/* One NMT category at one point (bytes; -1 where NMT did not print it). */
struct series_nmt {
	char name[40];		/* "Java Heap", "Thread", …; "Total" for the total */
	int64_t reserved, committed;
	int64_t malloc, malloc_count;	/* malloc= and #N */
	int64_t mmap_committed;		/* mmap: committed (+ stack: committed for Thread) */
	int64_t count;			/* (threads #N) for Thread, (classes #N) for Class */
};

/*
 * Threads grouped by name with digits folded ("pool-3-thread-17" and
 * "pool-3-thread-2" are "pool-#-thread-#"), so a thread leak names its pool.
 */
#define SERIES_TGROUP_MAX 64	/* groups kept per point; the rest go to "(other)" */
struct series_tgroup {
	char name[64];
	int count;
};

struct series_point {
	uint64_t t_ns;			/* CLOCK_REALTIME */
	struct mem_counts totals;	/* smaps_rollup */
	uint64_t rss_anon, vm_swap;	/* status */
	int threads;			/* status Threads: */
	int64_t cgroup_usage, cgroup_limit;	/* -1 when not known / unlimited */
	struct mem_counts cls[RC_NR];	/* sums per class (size, rss, pss, anon, swap, locked, private_dirty) */
	uint32_t cls_count[RC_NR];	/* mappings per class */
	struct series_tgroup *tgroups;	/* owned, by count, largest first */
	size_t ntgroups;
	int64_t counter[SC_NR];		/* -1 when not known */
	struct series_nmt *nmt;		/* owned; NULL when NMT was not read at this point */
	size_t nnmt;
};

/*
 * Holds every figure of p within figure_clamp's range, -1 (not known)
 * kept: series_load and series_add do it to what a file or the target
 * said, so the rules' differences and sums cannot overflow.
 */
void series_point_clamp(struct series_point *p);

/* A thread group name seen in a series, and the family name it is shown under. */
struct series_family {
	char name[64];
	char canon[64];
};

struct series {
	pid_t pid;
	uint64_t start_time;		/* /proc/PID/stat starttime: tells a reused PID */
	char name[64];
	char *cmdline;			/* owned */
	bool is_jvm;
	uint64_t stack_rlimit;
	struct series_point *pts;	/* owned, in time order */
	size_t n, alloc;
	struct series_family *fam;	/* owned, by name: every group name seen */
	size_t nfam, fam_alloc;
};

void series_init(struct series *s);
void series_release(struct series *s);

/*
 * Appends a point made from a snapshot and, for a JVM, its hsperfdata
 * (NULL when not read) and NMT summary (NULL when not read). The process
 * facts (pid, name…) are taken from the first snapshot.
 */
struct series_point *series_add(struct series *s, const struct snapshot *snap,
				const struct hsperf *h, const struct nmt_report *nmt);

/*
 * Drops the k oldest points (all of them when k >= n), keeping the process
 * facts: a series that slides over a window (offheap serve).
 */
void series_drop_front(struct series *s, size_t k);

/* The NMT category name of p, or NULL. */
const struct series_nmt *series_point_nmt(const struct series_point *p, const char *name);

/* The thread group of p with this name, or NULL. */
const struct series_tgroup *series_point_tgroup(const struct series_point *p, const char *name);

/*
 * Folds the digits of a thread name into '#' (runs of digits become one '#'),
 * so the instances of a pool group together; digits ending a short
 * capitalised word ("C2 CompilerThre", "G1 Refine#0" → "G1 Refine#") name a
 * kind and are kept.
 */
void series_fold_thread_name(const char *name, char *out, size_t n);

/*
 * Whether folded thread names a and b are one family cut at two lengths:
 * the kernel keeps 15 bytes of a thread's name, so "pool-12-thread-1" is
 * "pool-12-thread-" and "pool-123-thread-1" "pool-123-thread": folded,
 * "pool-#-thread-" and "pool-#-thread", one a prefix of the other by a
 * character or two. Only names of a numbered family (a '#') are joined.
 * series_add and series_load join every point's groups so, each family
 * under its longest name over the whole series.
 */
bool series_same_family(const char *a, const char *b);

/*
 * The trend of every figure of a series over its whole span: totals
 * ("rss", "anon", "swap", "threads"), each class present ("class:arena"),
 * each JVM counter known ("counter:java.threads.live"), each NMT
 * category's committed bytes ("nmt:Thread") and each thread group that
 * ever held 2 or more threads ("tgroup:pool-#-thread-#"). Points where a
 * figure is not known are left out of its fit. Byte figures use a floor of
 * 1 MiB, counts a floor of 2 (see trend_judge).
 */
struct series_trend {
	char name[80];
	bool bytes;			/* a size in bytes, else a count */
	size_t n;			/* points in the fit */
	struct trend_judgement j;
};

/* Fills *out (malloc'd) and returns how many. */
size_t series_trends(const struct series *s, struct series_trend **out);

/* The trend named name in t[0..n), or NULL. */
const struct series_trend *series_trend_find(const struct series_trend *t, size_t n,
					     const char *name);

/*
 * The extra tables of a recording (sample_counter, sample_nmt,
 * sample_tgroup; docs/SCHEMA.md): created when absent, written for
 * one sample id inside the caller's transaction.
 */
int series_db_create(struct sqlite3 *db, struct strbuf *err);
int series_db_write(struct sqlite3 *db, int64_t sample_id, const struct series_point *p,
		    struct strbuf *err);

/*
 * Reads every sample of the first process of a recording (or snapshot)
 * into s (initialised, empty). Files without the extra tables give points
 * without counters, NMT or thread groups (thread groups then come from
 * the thread table when it has rows). Returns 0, -ENOENT when the file has
 * no samples, or -errno with err filled.
 */
int series_load(struct store *st, struct series *s, struct strbuf *err);

#endif
