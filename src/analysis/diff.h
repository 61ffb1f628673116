/* diff: what changed between two snapshots of a process — totals, classes, mappings, threads. */
#ifndef OFFHEAP_DIFF_H
#define OFFHEAP_DIFF_H

#include "snapshot.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The figure deltas are sorted by. */
enum diff_key {
	DK_RSS,
	DK_ANON,
	DK_SWAP,
	DK_SIZE,
};

/* Returns the key for "rss", "anon", "swap", "size", or -1. */
int diff_key_parse(const char *name);

/* How a mapping of the second snapshot was paired with one of the first. */
enum diff_match {
	DM_EXACT,	/* same start, end and path */
	DM_START,	/* same start and path: grew or shrank at the end */
	DM_END,		/* same end and path: grew or shrank at the start (anonymous
			 * mmaps placed just below merge into the mapping above) */
	DM_OVERLAP,	/* overlapping, same path */
	DM_BORN,	/* only in the second snapshot */
	DM_GONE,	/* only in the first */
};

/* "exact", "same-start", "same-end", "overlap", "born", "gone". */
const char *diff_match_name(enum diff_match m);

/* Signed differences, after − before, in bytes. */
struct diff_delta {
	int64_t size, rss, pss, anon, swap;
	int64_t count;		/* mappings (classes only) */
};

struct diff_region {
	const struct region *a;	/* borrowed from the first snapshot; NULL when born */
	const struct region *b;	/* borrowed from the second; NULL when gone */
	enum diff_match how;
	struct diff_delta d;
};

struct diff_class_side {
	uint64_t count;		/* mappings of this class */
	struct mem_counts m;	/* their sums */
};

struct diff_class {
	enum region_class cls;
	struct diff_class_side a, b;
	struct diff_delta d;
};

struct diff_thread {
	pid_t tid;
	char name[64];
	bool born;		/* true: only in the second snapshot; false: only in the first */
};

struct diff {
	const struct snapshot *a, *b;	/* borrowed: must outlive the diff */
	int64_t interval_ns;		/* b->time_ns − a->time_ns */
	struct diff_delta total;	/* from the snapshots' totals */
	struct diff_class *classes;	/* classes present in either, by |delta| descending */
	size_t nclasses;
	struct diff_region *regions;	/* every mapping of either, by |delta| descending */
	size_t nregions, alloc_regions;
	struct diff_thread *threads;	/* born then gone, each ascending by tid */
	size_t nthreads, alloc_threads;
	size_t threads_born, threads_gone;
};

/*
 * Compares a (before) with b (after). Both must have regions and threads
 * ascending (as snapshot_take and store_read_snapshot give them). Mappings
 * are paired by the rules of enum diff_match, tried in that order over all
 * mappings, each mapping paired at most once. Unchanged mappings are kept
 * (DM_EXACT with a zero delta) so callers decide what to show.
 * Sorting is by the absolute delta of key, larger first, ties by address.
 * The diff borrows a and b; diff_release frees what it owns. Never fails
 * (allocation failure dies, as xalloc does).
 */
void diff_compute(const struct snapshot *a, const struct snapshot *b, enum diff_key key,
		  struct diff *d);
void diff_release(struct diff *d);

/* The delta of key in d. */
int64_t diff_delta_get(const struct diff_delta *d, enum diff_key key);

/* Sums the regions of s per class into out[RC_NR] (count and counts). */
void diff_class_totals(const struct snapshot *s, struct diff_class_side out[RC_NR]);

#endif
