/* smaps: parser for /proc/PID/smaps and smaps_rollup. */
#ifndef OFFHEAP_SMAPS_H
#define OFFHEAP_SMAPS_H

#include "region.h"

struct strbuf;

/*
 * Parses smaps text (len bytes, need not be NUL-terminated) and appends one
 * struct region per mapping to *regions (grown with ALLOC_GROW; *n and *alloc
 * updated). Paths are copied. Unknown field lines are ignored, so new kernels
 * parse; a header or field line that does not parse gives -EINVAL and err
 * names the line. On error the regions appended so far stay in *regions for
 * the caller to free (snapshot_release does).
 */
int smaps_parse(const char *text, size_t len, struct region **regions, size_t *n, size_t *alloc,
		struct strbuf *err);

/*
 * As smaps_parse, reading the text from fd in chunks until EOF or max
 * bytes (-EFBIG beyond): a 10,000-mapping smaps never sits in memory whole.
 * A read error gives -errno.
 */
int smaps_read(int fd, size_t max, struct region **regions, size_t *n, size_t *alloc,
	       struct strbuf *err);

/*
 * Makes the regions of one smaps read (in the order read) a map again:
 * ascending, none overlapping. The kernel releases the mmap lock between
 * the pages of a read and resumes at an address, so a process that maps,
 * unmaps or mprotects meanwhile can have a mapping listed twice under one
 * start (merged with its neighbour after it was listed), or a later entry
 * start inside or before an earlier one. The regions are put in address
 * order, and where two overlap or share a start the one read later is the
 * newer view and wins: the older is dropped (its path freed), or cut to end
 * where the newer starts when it starts before it, its counts scaled to the
 * part kept. *n is updated; returns how many entries were dropped or cut
 * (0 for a read of a map that held still).
 */
size_t smaps_reconcile(struct region *regions, size_t *n);

/* Parses smaps_rollup into m (size left 0: the rollup has none). */
int smaps_parse_rollup(const char *text, size_t len, struct mem_counts *m, struct strbuf *err);

#endif
