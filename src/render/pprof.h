/* pprof: write allocation sites as a gzipped pprof profile (profile.proto, 'go tool pprof'). */
#ifndef OFFHEAP_PPROF_H
#define OFFHEAP_PPROF_H

#include <stddef.h>
#include <stdint.h>

struct alloc_stack;
struct strbuf;

struct pprof_site {
	const struct alloc_stack *s; /* frames and counters (not owned) */
	int64_t live;		     /* inuse_space to write (live bytes, minus a base) */
};

/*
 * Writes the n sites as one gzipped profile to fd (not closed): sample types
 * inuse_space/bytes, inuse_objects/count, alloc_space/bytes,
 * alloc_objects/count (inuse_space the default); one Location per return
 * address with its inlined frames as several Lines (innermost first); one
 * Mapping per module, the first one the main executable: exe, or when NULL
 * the module of a stack's root frame _start (pprof names the first mapping
 * as the profile's binary). sample_mean (0 = exact) becomes the period.
 * Returns 0, -ENOMEM, or -EIO with err filled.
 */
int pprof_write(int fd, const struct pprof_site *v, size_t n, uint64_t sample_mean,
		const char *exe, struct strbuf *err);

#endif
