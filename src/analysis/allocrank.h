/*
 * allocrank: the allocation sites of a recording ranked the way offheap
 * report shows them — sustained growers first (src/model/trend.h), then by live
 * bytes. Shared by the text/JSON/pprof formats and the HTML report.
 */
#ifndef OFFHEAP_ALLOCRANK_H
#define OFFHEAP_ALLOCRANK_H

#include "trend.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct alloc_data;
struct alloc_frame;
struct alloc_stack;

struct alloc_site {
	const struct alloc_stack *s; /* not owned: points into the alloc_data */
	struct trend t;		     /* fit of s->live over the intervals */
	int64_t live;		     /* live bytes at the end (a caller may subtract a base) */
};

/*
 * The sites of d that allocated or still hold bytes, each with its trend,
 * in d's order. Returns their number; *out is xmalloc'd (freed by the
 * caller, never NULL), its entries point into d.
 */
size_t allocrank_sites(const struct alloc_data *d, struct alloc_site **out);

/* Growing sites first by fitted growth, then by live, then by stack id. */
void allocrank_sort(struct alloc_site *v, size_t n);

/*
 * The stacks live at the last run's peak (d->has_peak: alloc_stack.peak_live
 * > 0), most bytes first. Returns their number; *out is xmalloc'd (freed by
 * the caller, never NULL) and points into d.
 */
size_t allocrank_peak(const struct alloc_data *d, const struct alloc_stack ***out);

/*
 * What the last run still held at the end (leaked at exit when the final
 * interval was taken after it exited): live bytes and blocks over its stacks.
 */
void allocrank_at_exit(const struct alloc_data *d, int64_t *bytes, int64_t *count);

/*
 * The name of a frame: its function ("[java] CLASS.METHOD" for a Java frame
 * the JVM named), else "0xPC in MODULE+0xOFFSET" (or "0xPC" without a
 * module) written into buf (n bytes). Returns the function or buf.
 */
const char *allocrank_frame_name(const struct alloc_frame *f, char *buf, size_t n);

/*
 * The culprit of a stack: the first frame that decided to allocate, past the
 * allocator, the tracker and the frames that only forward an allocation
 * (strdup, operator new, std::vector growth, g_malloc, JNI glue, and the
 * wrappers of the program itself, which are detected: see allocrank.c).
 * Built once for a recording, because telling a wrapper needs every stack.
 */
struct allocrank_culprits;

/* The wrappers of d. Freed with allocrank_culprits_free; d must outlive it. */
struct allocrank_culprits *allocrank_culprits_new(const struct alloc_data *d);
void allocrank_culprits_free(struct allocrank_culprits *c);

/*
 * The culprit frame of st (a stack of the recording c was built from; c may
 * be NULL: no wrapper detection), or NULL when st has no frames. *via, when
 * not NULL, is set to the outermost frame skipped as forwarding (the one the
 * culprit called), or NULL when nothing was skipped past the allocator.
 */
const struct alloc_frame *allocrank_culprit(const struct allocrank_culprits *c,
					    const struct alloc_stack *st,
					    const struct alloc_frame **via);

/* The one test of "this frame is Java code": named by the JVM, or by its perf map. */
bool allocrank_frame_is_java(const struct alloc_frame *f);

/*
 * The first frame of st past the allocator's entry points and the tracker,
 * wrappers or not (the native code that called malloc: "inflate in libz"),
 * or st's first frame when all are such; NULL when st has no frames.
 */
const struct alloc_frame *allocrank_past_allocator(const struct alloc_stack *st);

/*
 * The one-line label of a site: the culprit as "FUNCTION (FILE:LINE) in
 * MODULE" (the parts it has), "0xPC in MODULE+0xOFFSET" when unnamed, or
 * "(other: stacks beyond the tracker's table)". Written into buf (n bytes);
 * returns buf.
 */
const char *allocrank_site_label(const struct allocrank_culprits *c, const struct alloc_stack *st,
				 char *buf, size_t n);

/*
 * What to show for a stack without frames: the tracker's "other" entry
 * (slot 0: stacks beyond its table), or a stack whose frames were never
 * written (the recorder was killed before it named them).
 */
const char *allocrank_unnamed(const struct alloc_stack *s);

#endif
