/*
 * svg: the chart kit of the HTML report — line and stacked-area charts as
 * inline SVG, with axes, legends and hover text, and numbers as chart text.
 *
 * A chart is drawn from at most HTML_MAX_POINTS points (evenly picked, the
 * first and the last always). Stacked areas are painted by the caller from
 * the top layer down, so each polygon needs only its upper edge
 * (svg_chart_area). Hover text is SVG <title>; no script. Every name given
 * here reaches the page through html_escape.
 */
#ifndef OFFHEAP_SVG_H
#define OFFHEAP_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

/* Where the drawn points go along x. */
struct svg_xaxis {
	size_t *idx; /* indices into the caller's points */
	double *xs;  /* their x in pixels */
	size_t m;
	uint64_t span_ms; /* of the whole series */
	bool by_time;	  /* false: times do not increase, x is the point's rank */
	int x0, x1;
};

struct svg_chart {
	struct strbuf *o;
	int w, h, x0, x1, y0, y1; /* the picture and its plot area */
	double ymax, ystep;
	bool bytes; /* y is bytes (else a count) */
};

/*
 * v as chart text into buf: a size when bytes ("12.3 MiB", signed only when
 * negative, through format_size/format_dsize), else a count ("1.2M", "45.0k",
 * "812"). Returns buf.
 */
const char *svg_value_str(char *buf, size_t n, double v, bool bytes);

/*
 * Picks at most HTML_MAX_POINTS of n points at t_ms (after the series'
 * start; span_ms is its end) and places them between x0 and x1. One point is
 * drawn across the whole width. Release with svg_xaxis_release.
 */
void svg_xaxis_build(struct svg_xaxis *a, const uint64_t *t_ms, size_t n, uint64_t span_ms, int x0,
		     int x1);
void svg_xaxis_release(struct svg_xaxis *a);

/*
 * Opens an <svg> of w by h labelled label in o, its y axis scaled to a round
 * step above max (bytes: powers of 1024). The chart writes to o until
 * svg_chart_end closes it.
 */
void svg_chart_begin(struct svg_chart *c, struct strbuf *o, const char *id, const char *label,
		     int w, int h, bool bytes, double max);
/* The grid, the y labels and the x axis (elapsed time, or first/last). */
void svg_chart_axes(struct svg_chart *c, const struct svg_xaxis *a);
/* A filled area from the baseline up to top[] (a->m values); title is the hover text, escaped. */
void svg_chart_area(struct svg_chart *c, const struct svg_xaxis *a, const double *top,
		    const char *color, const struct strbuf *title);
/* A line through y[] (NAN: no value at that point, the line skips it). */
void svg_chart_line(struct svg_chart *c, const struct svg_xaxis *a, const double *y,
		    const char *color, bool dashed, const struct strbuf *title);
void svg_chart_end(struct svg_chart *c);

/* "NAME: first A, last B, max C" (escaped) into t, for hover text and legends. */
void svg_series_title(struct strbuf *t, const char *name, const double *v, size_t m, bool bytes);
/* One <li> of a legend: a colour swatch, the name and an optional value in bold (escaped). */
void svg_legend_item(struct strbuf *o, const char *color, const char *name, const char *value,
		     bool dashed);

#endif
