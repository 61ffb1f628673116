/*
 * html: the report of a recording as one self-contained HTML5 page —
 * inline CSS and SVG, no script, no external URL — for a browser or a
 * ticket attachment.
 *
 * Sections: the process and the span; the findings (src/analysis/doctor.h); RSS over
 * time stacked by region class; NMT categories over time; JVM counters and
 * threads by group; the top allocation sites with their trend and a flame
 * graph of live bytes. Each input may be absent: its section then says why
 * in one line. Every string from the recording is escaped.
 */
#ifndef OFFHEAP_HTML_H
#define OFFHEAP_HTML_H

#include <stddef.h>
#include <stdint.h>

struct alloc_data;
struct alloc_site;
struct doctor_report;
struct series;
struct strbuf;

struct html_input {
	const char *source;		 /* the file the report is of (shown, escaped) */
	const char *created, *host;	 /* the file's meta, NULL when unknown */
	const struct series *series;	 /* NULL: the file has no samples */
	const struct alloc_data *allocs; /* NULL: no allocation tracking */
	const struct alloc_site *sites;	 /* allocs ranked (src/analysis/allocrank.h) */
	size_t nsites;
	size_t top;			      /* sites in the table (0: all) */
	const struct doctor_report *findings; /* NULL: not diagnosed */
};

/* Caps that keep the page small whatever the recording holds. */
#define HTML_MAX_POINTS	     600  /* points drawn per chart (downsampled beyond) */
#define HTML_MAX_FLAME_NODES 3000 /* flame graph rectangles */

/* Appends the whole page to out. Cannot fail (dies on out-of-memory). */
void html_render(const struct html_input *in, struct strbuf *out);

/* Appends s to out escaped for HTML text and attribute values. */
void html_escape(struct strbuf *out, const char *s);

#endif
