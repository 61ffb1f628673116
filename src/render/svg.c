/*
 * svg: the chart kit of the HTML report (see svg.h).
 *
 * The y step is 1-2-5 of a power of 1024 for bytes (of 10 for counts), about
 * four ticks up to the maximum; the x ticks are a round elapsed time, at most
 * eight across the span. Points whose times do not increase are placed by
 * rank instead, labelled "first" and "last".
 */
#include "svg.h"

#include "html.h"
#include "parse.h"
#include "strbuf.h"
#include "xalloc.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static const char *size_str(char *buf, size_t n, double v)
{
	if (v < 0)
		return format_dsize(buf, n, sat_i64(v));
	return format_size(buf, n, sat_u64(v));
}

static const char *count_str(char *buf, size_t n, double v)
{
	if (fabs(v) >= 1e6)
		snprintf(buf, n, "%.1fM", v / 1e6);
	else if (fabs(v) >= 1e4)
		snprintf(buf, n, "%.1fk", v / 1e3);
	else
		snprintf(buf, n, "%.0f", v);
	return buf;
}

const char *svg_value_str(char *buf, size_t n, double v, bool bytes)
{
	return bytes ? size_str(buf, n, v) : count_str(buf, n, v);
}

/* Elapsed time on an axis: m:ss, m:ss.d for short spans, h:mm from an hour on. */
static const char *elapsed_str(char *buf, size_t n, uint64_t ms, uint64_t span_ms)
{
	uint64_t s = ms / 1000;

	if (span_ms >= 3600000)
		snprintf(buf, n, "%" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60);
	else if (span_ms < 10000 && ms % 1000)
		snprintf(buf, n, "%" PRIu64 ":%02" PRIu64 ".%" PRIu64, s / 60, s % 60,
			 ms % 1000 / 100);
	else
		snprintf(buf, n, "%" PRIu64 ":%02" PRIu64, s / 60, s % 60);
	return buf;
}

/*
 * Picks at most HTML_MAX_POINTS of n points at t_ms (after the series'
 * start; span_ms is its end). One point is drawn across the whole width.
 */
void svg_xaxis_build(struct svg_xaxis *a, const uint64_t *t_ms, size_t n, uint64_t span_ms, int x0,
		     int x1)
{
	size_t m = n > HTML_MAX_POINTS ? HTML_MAX_POINTS : n;

	a->x0 = x0;
	a->x1 = x1;
	a->span_ms = span_ms;
	a->by_time = span_ms > 0;
	for (size_t i = 1; i < n; i++)
		if (t_ms[i] < t_ms[i - 1] || t_ms[i] > span_ms)
			a->by_time = false;
	if (m == 1)
		m = 2;
	a->m = m;
	a->idx = xcalloc(m, sizeof(*a->idx));
	a->xs = xcalloc(m, sizeof(*a->xs));
	for (size_t k = 0; k < m && n; k++) {
		double f;

		a->idx[k] = n == 1 ? 0 : (size_t)((double)k * (double)(n - 1) / (double)(m - 1));
		if (a->by_time && n > 1)
			f = (double)t_ms[a->idx[k]] / (double)span_ms;
		else
			f = (double)k / (double)(m - 1);
		a->xs[k] = x0 + f * (x1 - x0);
	}
}

void svg_xaxis_release(struct svg_xaxis *a)
{
	free(a->idx);
	free(a->xs);
}

/* A round step for about four ticks up to max: 1-2-5 of a power of 1024 (bytes) or 10. */
/* Grid lines and time ticks per axis at most. */
#define SVG_MAX_TICKS 12

static void chart_scale(struct svg_chart *c, double max)
{
	static const double mult[] = {1, 2, 5, 10, 20, 50, 100, 200, 500};
	double raw, unit = 1;

	if (!(max > 0))
		max = c->bytes ? 1024 : 1;
	if (!(max < 1e30)) /* infinity too: the unit loop below must end */
		max = 1e30;
	raw = max / 4;
	if (c->bytes) {
		while (raw >= 1024 * unit && unit < 1e18)
			unit *= 1024;
	} else {
		while (raw >= 10 * unit)
			unit *= 10;
		if (raw < 1)
			raw = 1;
	}
	/* past 500 units the next unit is the round step (1.0 MiB, not 1000 KiB) */
	c->ystep = c->bytes ? unit * 1024 : unit * 1000;
	for (size_t i = 0; i < sizeof(mult) / sizeof(mult[0]); i++)
		if (mult[i] * unit >= raw) {
			c->ystep = mult[i] * unit;
			break;
		}
	c->ymax = ceil(max / c->ystep) * c->ystep;
	if (c->ymax <= 0)
		c->ymax = c->ystep;
}

static double chart_y(const struct svg_chart *c, double v)
{
	if (v < 0)
		v = 0;
	if (v > c->ymax)
		v = c->ymax;
	return c->y1 - v / c->ymax * (c->y1 - c->y0);
}

void svg_chart_begin(struct svg_chart *c, struct strbuf *o, const char *id, const char *label,
		     int w, int h, bool bytes, double max)
{
	c->o = o;
	c->w = w;
	c->h = h;
	c->x0 = bytes ? 76 : 56;
	c->x1 = w - 12;
	c->y0 = 10;
	c->y1 = h - 26;
	c->bytes = bytes;
	chart_scale(c, max);
	strbuf_addf(
	    o,
	    "<svg class=\"chart\" id=\"%s\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\""
	    " role=\"img\" aria-label=\"",
	    id, w, h, w, h);
	html_escape(o, label);
	strbuf_addstr(o, "\">\n");
}

void svg_chart_axes(struct svg_chart *c, const struct svg_xaxis *a)
{
	static const uint64_t steps[] = {
	    100,     200,      500,	 1000,	   2000,     5000,	10000,	  15000,
	    30000,   60000,    120000,	 300000,   600000,   900000,	1800000,  3600000,
	    7200000, 10800000, 21600000, 43200000, 86400000, 172800000, 604800000};
	struct strbuf *o = c->o;
	char buf[48];

	/*
	 * A handful of lines in both loops, whatever the figures: a hostile
	 * recording's (a span of centuries, a maximum past the largest unit)
	 * made millions of them.
	 */
	for (int i = 0; i <= SVG_MAX_TICKS && (double)i * c->ystep <= c->ymax * 1.0001; i++) {
		double v = (double)i * c->ystep, y = chart_y(c, v);

		strbuf_addf(o, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>",
			    c->x0, y, c->x1, y);
		strbuf_addf(o, "<text class=\"yl\" x=\"%d\" y=\"%.1f\">%s</text>\n", c->x0 - 4,
			    y + 4, svg_value_str(buf, sizeof(buf), v, c->bytes));
	}
	if (a->by_time) {
		uint64_t step = steps[sizeof(steps) / sizeof(steps[0]) - 1];

		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
			if (a->span_ms / steps[i] <= 8) {
				step = steps[i];
				break;
			}
		if (a->span_ms / step > SVG_MAX_TICKS)
			step = a->span_ms / SVG_MAX_TICKS + 1;
		for (uint64_t i = 0, t = 0; i <= SVG_MAX_TICKS && t <= a->span_ms;
		     i++, t = a->span_ms - t < step ? UINT64_MAX : t + step) {
			double x = a->x0 + (double)t / (double)a->span_ms * (a->x1 - a->x0);

			strbuf_addf(
			    o, "<line class=\"tick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>",
			    x, c->y1, x, c->y1 + 4);
			strbuf_addf(o, "<text class=\"xl\" x=\"%.1f\" y=\"%d\">%s</text>\n", x,
				    c->y1 + 17, elapsed_str(buf, sizeof(buf), t, a->span_ms));
		}
	} else {
		strbuf_addf(o, "<text class=\"xl\" x=\"%d\" y=\"%d\">first</text>", a->x0 + 10,
			    c->y1 + 17);
		strbuf_addf(o, "<text class=\"xl\" x=\"%d\" y=\"%d\">last</text>\n", a->x1 - 10,
			    c->y1 + 17);
	}
	strbuf_addf(o, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", c->x0,
		    c->y1, c->x1, c->y1);
}

/* A filled area from the baseline up to top[] (m values on a's points). */
void svg_chart_area(struct svg_chart *c, const struct svg_xaxis *a, const double *top,
		    const char *color, const struct strbuf *title)
{
	struct strbuf *o = c->o;

	strbuf_addf(o, "<polygon class=\"area\" fill=\"%s\" points=\"", color);
	for (size_t k = 0; k < a->m; k++)
		strbuf_addf(o, "%.1f,%.1f ", a->xs[k], chart_y(c, top[k]));
	strbuf_addf(o, "%.1f,%d %.1f,%d\"><title>", a->xs[a->m - 1], c->y1, a->xs[0], c->y1);
	strbuf_add(o, title->buf, title->len);
	strbuf_addstr(o, "</title></polygon>\n");
}

/* A line through y[] (NAN: no value at that point, the line skips it). */
void svg_chart_line(struct svg_chart *c, const struct svg_xaxis *a, const double *y,
		    const char *color, bool dashed, const struct strbuf *title)
{
	struct strbuf *o = c->o;

	strbuf_addf(o, "<polyline class=\"line%s\" stroke=\"%s\" points=\"", dashed ? " dash" : "",
		    color);
	for (size_t k = 0; k < a->m; k++)
		if (!isnan(y[k]))
			strbuf_addf(o, "%.1f,%.1f ", a->xs[k], chart_y(c, y[k]));
	strbuf_addstr(o, "\"><title>");
	strbuf_add(o, title->buf, title->len);
	strbuf_addstr(o, "</title></polyline>\n");
}

void svg_chart_end(struct svg_chart *c)
{
	strbuf_addstr(c->o, "</svg>\n");
}

/* "NAME: first A, last B, max C" (escaped) into t, for hover text and legends. */
void svg_series_title(struct strbuf *t, const char *name, const double *v, size_t m, bool bytes)
{
	double first = NAN, last = NAN, max = 0;
	char a[32], b[32], c[32];

	for (size_t k = 0; k < m; k++) {
		if (isnan(v[k]))
			continue;
		if (isnan(first))
			first = v[k];
		last = v[k];
		if (v[k] > max)
			max = v[k];
	}
	strbuf_reset(t);
	html_escape(t, name);
	if (isnan(first))
		return;
	strbuf_addf(t, ": first %s, last %s, max %s", svg_value_str(a, sizeof(a), first, bytes),
		    svg_value_str(b, sizeof(b), last, bytes),
		    svg_value_str(c, sizeof(c), max, bytes));
}

void svg_legend_item(struct strbuf *o, const char *color, const char *name, const char *value,
		     bool dashed)
{
	strbuf_addf(o, "<li><span class=\"sw%s\" style=\"background:%s\"></span>",
		    dashed ? " swd" : "", color);
	html_escape(o, name);
	if (value) {
		strbuf_addstr(o, " <b>");
		html_escape(o, value);
		strbuf_addstr(o, "</b>");
	}
	strbuf_addstr(o, "</li>");
}
