/* prom: a fleet's figures as a Prometheus text (0.0.4) or OpenMetrics 1.0 exposition. */
#ifndef OFFHEAP_PROM_H
#define OFFHEAP_PROM_H

#include <stddef.h>
#include <stdint.h>

struct fleet;
struct strbuf;

enum prom_format {
	PROM_TEXT,		/* text/plain; version=0.0.4 */
	PROM_OPENMETRICS,	/* application/openmetrics-text; version=1.0.0 */
};

/* The Content-Type header of an exposition in fmt. */
const char *prom_content_type(enum prom_format fmt);

/*
 * Picks the format a scraper asks for in its Accept header (NULL: none):
 * OpenMetrics when it names application/openmetrics-text, else the text format.
 */
enum prom_format prom_negotiate(const char *accept);

struct prom_opts {
	size_t max_series;		/* samples of processes at most; the rest are dropped */
	uint64_t dropped_before;	/* series dropped by the earlier rounds (the counter) */
};

/*
 * Renders every watched process of f, then the exporter's own figures
 * (never dropped), into out (reset first). Returns how many series of
 * processes were left out by max_series.
 */
size_t prom_render(const struct fleet *f, enum prom_format fmt, const struct prom_opts *o,
		   struct strbuf *out);

#endif
