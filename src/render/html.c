/*
 * html: one self-contained HTML5 page of a recording.
 *
 * Everything is inline (CSS, SVG, the flame graph's small script for zoom
 * and search; a Content-Security-Policy forbids loading anything else):
 * hover text is SVG <title>, stacks fold with <details>. The page links to
 * nothing, so it opens offline and attached to a ticket. Every string that comes from the
 * recording (process and thread names, command lines, function names,
 * paths) is hostile: it only ever reaches the page through html_escape.
 *
 * The charts are drawn by the chart kit (svg.h), the flame graph by flame.h;
 * both keep to the caps of html.h (HTML_MAX_POINTS, HTML_MAX_FLAME_NODES).
 * Page size is therefore bounded by the caps, not by the recording.
 */
#include "html.h"

#include "allocdb.h"
#include "allocrank.h"
#include "doctor.h"
#include "flame.h"
#include "parse.h"
#include "series.h"
#include "snapshot.h"
#include "strbuf.h"
#include "svg.h"
#include "xalloc.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* In viewBox units: the charts stretch to the page's width (CSS), text with them. */
#define CHART_W	   1200
#define CHART_H	   340
#define SMALL_W	   590
#define SMALL_H	   220
#define NMT_TOP	   8
#define TGROUP_TOP 6

void html_escape(struct strbuf *out, const char *s)
{
	if (!s)
		return;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&':
			strbuf_addstr(out, "&amp;");
			break;
		case '<':
			strbuf_addstr(out, "&lt;");
			break;
		case '>':
			strbuf_addstr(out, "&gt;");
			break;
		case '"':
			strbuf_addstr(out, "&quot;");
			break;
		case '\'':
			strbuf_addstr(out, "&#39;");
			break;
		default:
			/* control characters are not allowed in HTML text */
			strbuf_addch(out,
				     (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f ? '?' : c);
		}
	}
}

static void esc(struct strbuf *o, const char *s)
{
	html_escape(o, s);
}

/* ---- numbers as text ------------------------------------------------------------------- */

static const char *delta_str(char *buf, size_t n, double v, bool bytes)
{
	if (bytes)
		return format_dsize(buf, n, sat_i64(v));
	snprintf(buf, n, "%+.0f", v);
	return buf;
}

/* A duration in words: "4.2 s", "12 min 5 s", "3 h 20 min", "2 d 4 h". */
static const char *duration_str(char *buf, size_t n, uint64_t ms)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, n, "%.1f s", ms / 1000.0);
	else if (s < 3600)
		snprintf(buf, n, "%" PRIu64 " min %" PRIu64 " s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, n, "%" PRIu64 " h %" PRIu64 " min", s / 3600, s / 60 % 60);
	else
		snprintf(buf, n, "%" PRIu64 " d %" PRIu64 " h", s / 86400, s / 3600 % 24);
	return buf;
}

static const char *utc_str(char *buf, size_t n, uint64_t t_ns)
{
	time_t t = (time_t)(t_ns / 1000000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, n, "?");
	return buf;
}

/* ---- page parts ------------------------------------------------------------------------- */

static const char css[] =
    "body{font:15px/1.45 system-ui,sans-serif;color:#222;margin:20px auto;max-width:1800px;"
    "padding:0 16px}\n"
    "h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;margin:28px 0 8px;"
    "border-bottom:1px solid #ccc}h3{font-size:15px;margin:14px 0 4px}\n"
    "table{border-collapse:collapse;margin:6px 0}td,th{padding:2px 8px;text-align:left;"
    "vertical-align:top}th{background:#f0f0f0}tr:nth-child(even) td{background:#fafafa}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "table.kv th{background:none;color:#555;font-weight:normal}\n"
    "code,.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}\n"
    ".absent{color:#777;font-style:italic}\n"
    ".chart{display:block;margin:4px 0;width:100%;height:auto}"
    ".chart text{font:13px sans-serif;fill:#333}\n"
    ".chart .yl{text-anchor:end}.chart .xl{text-anchor:middle}\n"
    ".grid{stroke:#e4e4e4}.axis,.tick{stroke:#888}\n"
    ".area{stroke:none}.line{fill:none;stroke-width:1.6}.dash{stroke-dasharray:5 3}\n"
    ".small{display:inline-block;width:calc(50% - 16px);min-width:420px;margin-right:14px;"
    "vertical-align:top}\n"
    ".note{color:#555;font-size:13px;margin:2px 0 8px}\n"
    "ul.legend{list-style:none;padding:0;margin:2px 0 8px}ul.legend li{display:inline-block;"
    "margin-right:14px}\n"
    ".sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px;"
    "border:1px solid #0003}.swd{height:3px;vertical-align:3px}\n"
    ".finding{border-left:6px solid #888;padding:4px 12px;margin:10px 0;background:#f8f8f8}\n"
    ".finding.leak{border-color:#c0392b}.finding.warning{border-color:#e67e22}"
    ".finding.info{border-color:#2980b9}\n"
    ".sev{font-weight:bold;text-transform:uppercase;font-size:12px;margin-right:6px}\n"
    ".grow{color:#c0392b;font-weight:bold}\n"
    ".fg{width:100%;height:auto}.fg g{cursor:pointer}"
    ".fg rect{stroke:#fff;stroke-width:.5}.fg text{font:11px ui-monospace,monospace;"
    "fill:#000;pointer-events:none}.fg g.match rect{fill:#d633ff}\n"
    ".fgbar input{width:22em}#flame-info{color:#555;margin-left:8px}\n"
    "details summary{cursor:pointer}\n";

static void section_header(struct strbuf *o, const struct html_input *in)
{
	const struct series *s = in->series;
	char a[48], b[48], c[48];

	strbuf_addstr(o, "<h1>offheap report");
	if (s && s->name[0]) {
		strbuf_addstr(o, ": ");
		esc(o, s->name);
		strbuf_addf(o, " (pid %d)", (int)s->pid);
	}
	strbuf_addstr(o, "</h1>\n<table class=\"kv\" id=\"summary\">\n");
	if (in->source) {
		strbuf_addstr(o, "<tr><th>file</th><td><code>");
		esc(o, in->source);
		strbuf_addstr(o, "</code>");
		if (in->created || in->host) {
			strbuf_addstr(o, " (made ");
			esc(o, in->created ? in->created : "");
			if (in->host) {
				strbuf_addstr(o, " on ");
				esc(o, in->host);
			}
			strbuf_addstr(o, ")");
		}
		strbuf_addstr(o, "</td></tr>\n");
	}
	if (s) {
		const struct series_point *p0 = s->n ? &s->pts[0] : NULL;
		const struct series_point *pn = s->n ? &s->pts[s->n - 1] : NULL;
		uint64_t peak = 0;

		strbuf_addf(o, "<tr><th>process</th><td>%d ", (int)s->pid);
		esc(o, s->name);
		strbuf_addf(o, "%s</td></tr>\n", s->is_jvm ? " (a JVM)" : "");
		strbuf_addstr(o, "<tr><th>command</th><td><code>");
		esc(o, s->cmdline);
		strbuf_addstr(o, "</code></td></tr>\n");
		if (p0) {
			uint64_t span = pn->t_ns > p0->t_ns ? (pn->t_ns - p0->t_ns) / 1000000 : 0;

			for (size_t i = 0; i < s->n; i++)
				if (s->pts[i].totals.rss > peak)
					peak = s->pts[i].totals.rss;
			strbuf_addf(o, "<tr><th>span</th><td>%s &rarr; ",
				    utc_str(a, sizeof(a), p0->t_ns));
			strbuf_addf(o, "%s (%s, %zu sample%s)</td></tr>\n",
				    utc_str(b, sizeof(b), pn->t_ns),
				    duration_str(c, sizeof(c), span), s->n, s->n == 1 ? "" : "s");
			strbuf_addf(o, "<tr><th>RSS</th><td id=\"rss-change\">%s &rarr; %s",
				    format_size(a, sizeof(a), p0->totals.rss),
				    format_size(b, sizeof(b), pn->totals.rss));
			strbuf_addf(
			    o, " (%s, peak %s)</td></tr>\n",
			    format_dsize(c, sizeof(c), (int64_t)(pn->totals.rss - p0->totals.rss)),
			    format_size(a, sizeof(a), peak));
			if (pn->cgroup_limit > 0)
				strbuf_addf(o, "<tr><th>cgroup limit</th><td>%s</td></tr>\n",
					    format_size(a, sizeof(a), (uint64_t)pn->cgroup_limit));
		}
	}
	if (in->allocs) {
		const struct alloc_data *d = in->allocs;
		size_t growing = 0;

		for (size_t i = 0; i < in->nsites; i++)
			growing += in->sites[i].t.growing;
		strbuf_addf(
		    o, "<tr><th>allocations</th><td>%zu site%s, %zu growing, %zu intervals, %s",
		    in->nsites, in->nsites == 1 ? "" : "s", growing, d->intervals,
		    d->sample_mean ? "sampled" : "exact");
		if (d->sample_mean)
			strbuf_addf(o, " (one sample per %s on average)",
				    format_size(a, sizeof(a), d->sample_mean));
		if (d->flags & ALLOC_NOSPACE)
			strbuf_addstr(o, "; the tracker's file system was full: figures are"
					 " incomplete");
		else if (d->flags & (ALLOC_STACKS_FULL | ALLOC_ADDRS_FULL))
			strbuf_addstr(o, "; the tracker reached its memory ceiling: figures are"
					 " incomplete");
		strbuf_addstr(o, "</td></tr>\n");
	}
	strbuf_addstr(o, "</table>\n");
}

static void section_findings(struct strbuf *o, const struct doctor_report *r)
{
	char a[32];

	strbuf_addstr(o, "<h2 id=\"findings\">Findings</h2>\n");
	if (!r->n)
		strbuf_addstr(o,
			      "<p class=\"absent\">no findings: nothing grew or stood out</p>\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct finding *f = &r->f[i];
		const char *sev = finding_severity_name(f->severity);

		strbuf_addf(o, "<div class=\"finding %s\"><span class=\"sev\">%s</span><b>", sev,
			    sev);
		esc(o, f->title);
		strbuf_addstr(o, "</b>");
		if (f->pattern) {
			strbuf_addstr(o, " <code>");
			esc(o, f->pattern);
			strbuf_addstr(o, "</code>");
		}
		if (f->bytes_per_hour > 0)
			strbuf_addf(o, " &mdash; %s/hour",
				    format_size(a, sizeof(a), sat_u64(f->bytes_per_hour)));
		if (f->nevidence) {
			strbuf_addstr(o, "<ul>");
			for (size_t k = 0; k < f->nevidence && k < FINDING_MAX_EVIDENCE; k++) {
				strbuf_addstr(o, "<li>");
				esc(o, f->evidence[k]);
				strbuf_addstr(o, "</li>");
			}
			strbuf_addstr(o, "</ul>");
		}
		if (f->culprit[0]) {
			strbuf_addstr(o, "<p>culprit: ");
			esc(o, f->culprit);
			strbuf_addstr(o, "</p>");
		}
		if (f->fix[0]) {
			strbuf_addstr(o, "<p>fix: ");
			esc(o, f->fix);
			strbuf_addstr(o, "</p>");
		}
		strbuf_addstr(o, "</div>\n");
	}
	if (r->nunchecked) {
		strbuf_addstr(o, "<h3>Not checked</h3><ul id=\"unchecked\">");
		for (size_t i = 0; i < r->nunchecked; i++) {
			strbuf_addstr(o, "<li>");
			esc(o, r->unchecked[i]);
			strbuf_addstr(o, "</li>");
		}
		strbuf_addstr(o, "</ul>\n");
	}
}

/* Milliseconds of each point after the first one. */
static uint64_t *point_times(const struct series *s, uint64_t *span_ms)
{
	uint64_t *t = xcalloc(s->n ? s->n : 1, sizeof(*t));
	uint64_t t0 = s->n ? s->pts[0].t_ns : 0;

	*span_ms = 0;
	for (size_t i = 0; i < s->n; i++) {
		t[i] = s->pts[i].t_ns > t0 ? (s->pts[i].t_ns - t0) / 1000000 : 0;
		if (t[i] > *span_ms)
			*span_ms = t[i];
	}
	return t;
}

/* Region classes bottom-up in the stack: the JVM's own first, then native, then files. */
static const enum region_class class_order[] = {
    RC_JAVA_HEAP, RC_METASPACE, RC_CODE_CACHE, RC_HEAP, RC_ARENA, RC_ANON,
    RC_STACK,	  RC_SHM,	RC_LIB,	       RC_JAR,	RC_FILE,  RC_SPECIAL,
};

static const char *class_color(enum region_class c)
{
	static const char *colors[RC_NR] = {
	    [RC_HEAP] = "#e15759",	[RC_STACK] = "#f28e2b",	     [RC_ARENA] = "#ff9da7",
	    [RC_ANON] = "#4e79a7",	[RC_LIB] = "#76b7b2",	     [RC_JAR] = "#59a14f",
	    [RC_FILE] = "#edc948",	[RC_SHM] = "#b07aa1",	     [RC_SPECIAL] = "#bab0ac",
	    [RC_JAVA_HEAP] = "#9c755f", [RC_CODE_CACHE] = "#86bcb6", [RC_METASPACE] = "#d37295",
	};

	return (unsigned)c < RC_NR && colors[c] ? colors[c] : "#999999";
}

/* Layers drawn as one stacked chart: v[layer][k] on the axis' points. */
struct stack {
	const char *name[32];
	const char *color[32];
	double *v[32];
	size_t n;
};

static void stack_release(struct stack *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->v[i]);
}

/* Draws the layers cumulated, topmost first; returns the max of the sum. */
static void stack_draw(struct svg_chart *c, const struct svg_xaxis *a, const struct stack *st)
{
	double *cum = xcalloc(st->n * a->m + 1, sizeof(*cum));
	struct strbuf t = STRBUF_INIT;

	for (size_t l = 0; l < st->n; l++)
		for (size_t k = 0; k < a->m; k++)
			cum[l * a->m + k] = (l ? cum[(l - 1) * a->m + k] : 0) + st->v[l][k];
	for (size_t l = st->n; l-- > 0;) {
		svg_series_title(&t, st->name[l], st->v[l], a->m, c->bytes);
		svg_chart_area(c, a, &cum[l * a->m], st->color[l], &t);
	}
	free(cum);
	strbuf_release(&t);
}

static double stack_max(const struct stack *st, size_t m)
{
	double max = 0;

	for (size_t k = 0; k < m; k++) {
		double sum = 0;

		for (size_t l = 0; l < st->n; l++)
			sum += st->v[l][k];
		if (sum > max)
			max = sum;
	}
	return max;
}

/* A table row per layer: first, last, change, max (over every point, not the drawn ones). */
static void stack_table(struct strbuf *o, const char *id, const char *what, const struct stack *st,
			const double *const *all, size_t n, bool bytes)
{
	char a[32], b[32], c[32], d[32];

	strbuf_addf(
	    o,
	    "<table id=\"%s\"><tr><th>%s</th><th class=\"n\">first</th>"
	    "<th class=\"n\">last</th><th class=\"n\">change</th><th class=\"n\">max</th></tr>\n",
	    id, what);
	for (size_t l = st->n; l-- > 0;) {
		double max = 0;

		for (size_t i = 0; i < n; i++)
			if (all[l][i] > max)
				max = all[l][i];
		strbuf_addf(o, "<tr><td><span class=\"sw\" style=\"background:%s\"></span>",
			    st->color[l]);
		esc(o, st->name[l]);
		strbuf_addf(o,
			    "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
			    "<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
			    svg_value_str(a, sizeof(a), all[l][0], bytes),
			    svg_value_str(b, sizeof(b), all[l][n - 1], bytes),
			    delta_str(c, sizeof(c), all[l][n - 1] - all[l][0], bytes),
			    svg_value_str(d, sizeof(d), max, bytes));
	}
	strbuf_addstr(o, "</table>\n");
}

static void section_rss(struct strbuf *o, const struct series *s)
{
	struct svg_xaxis a;
	struct svg_chart c;
	struct stack st = {0};
	double *all[32];
	double *rss, *anon, *swap, max;
	bool have_anon = false, have_swap = false;
	uint64_t span, *t = point_times(s, &span);
	struct strbuf title = STRBUF_INIT;
	char buf[32];

	strbuf_addstr(o, "<h2 id=\"rss\">RSS over time, by region class</h2>\n");
	svg_xaxis_build(&a, t, s->n, span, 76, CHART_W - 12);
	for (size_t i = 0; i < sizeof(class_order) / sizeof(class_order[0]); i++) {
		enum region_class rc = class_order[i];
		bool any = false;

		for (size_t k = 0; k < s->n && !any; k++)
			any = s->pts[k].cls[rc].rss > 0;
		if (!any)
			continue;
		st.name[st.n] = region_class_name(rc);
		st.color[st.n] = class_color(rc);
		st.v[st.n] = xcalloc(a.m, sizeof(double));
		all[st.n] = xcalloc(s->n, sizeof(double));
		for (size_t k = 0; k < a.m; k++)
			st.v[st.n][k] = (double)s->pts[a.idx[k]].cls[rc].rss;
		for (size_t k = 0; k < s->n; k++)
			all[st.n][k] = (double)s->pts[k].cls[rc].rss;
		st.n++;
	}
	rss = xcalloc(a.m, sizeof(*rss));
	anon = xcalloc(a.m, sizeof(*anon));
	swap = xcalloc(a.m, sizeof(*swap));
	max = stack_max(&st, a.m);
	for (size_t k = 0; k < a.m; k++) {
		const struct series_point *p = &s->pts[a.idx[k]];
		uint64_t sw = p->vm_swap > p->totals.swap ? p->vm_swap : p->totals.swap;

		rss[k] = (double)p->totals.rss;
		anon[k] = (double)p->rss_anon;
		swap[k] = (double)sw;
		have_anon |= p->rss_anon > 0;
		have_swap |= sw > 0;
		if (rss[k] > max)
			max = rss[k];
		if (swap[k] > max)
			max = swap[k];
	}
	svg_chart_begin(&c, o, "rss-chart", "RSS over time, stacked by region class", CHART_W,
			CHART_H, true, max);
	svg_chart_axes(&c, &a);
	stack_draw(&c, &a, &st);
	svg_series_title(&title, "RSS", rss, a.m, true);
	svg_chart_line(&c, &a, rss, "#000000", false, &title);
	if (have_anon) {
		svg_series_title(&title, "anonymous RSS (RssAnon)", anon, a.m, true);
		svg_chart_line(&c, &a, anon, "#555555", true, &title);
	}
	if (have_swap) {
		svg_series_title(&title, "swap", swap, a.m, true);
		svg_chart_line(&c, &a, swap, "#c0392b", true, &title);
	}
	svg_chart_end(&c);

	strbuf_addstr(o, "<ul class=\"legend\" id=\"rss-legend\">");
	svg_legend_item(o, "#000000", "RSS",
			format_size(buf, sizeof(buf), s->pts[s->n - 1].totals.rss), true);
	if (have_anon)
		svg_legend_item(o, "#555555", "anonymous",
				format_size(buf, sizeof(buf), s->pts[s->n - 1].rss_anon), true);
	if (have_swap)
		svg_legend_item(o, "#c0392b", "swap", NULL, true);
	for (size_t l = st.n; l-- > 0;)
		svg_legend_item(o, st.color[l], st.name[l],
				svg_value_str(buf, sizeof(buf), all[l][s->n - 1], true), false);
	strbuf_addstr(o, "</ul>\n");
	if (st.n)
		stack_table(o, "rss-table", "class (RSS)", &st, (const double *const *)all, s->n,
			    true);
	for (size_t l = 0; l < st.n; l++)
		free(all[l]);
	stack_release(&st);
	free(rss);
	free(anon);
	free(swap);
	free(t);
	svg_xaxis_release(&a);
	strbuf_release(&title);
}

static const char *nmt_colors[NMT_TOP + 1] = {
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#9c755f", "#bab0ac",
};

static double nmt_committed(const struct series_point *p, const char *name)
{
	const struct series_nmt *c = series_point_nmt(p, name);

	return c && c->committed > 0 ? (double)c->committed : 0;
}

struct nmt_cat {
	const char *name;
	double last;
};

static int cmp_nmt_cat(const void *a, const void *b)
{
	const struct nmt_cat *x = a, *y = b;

	if (x->last != y->last)
		return x->last > y->last ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void section_nmt(struct strbuf *o, const struct series *s)
{
	struct nmt_cat cats[64];
	size_t ncat = 0, n = 0, top;
	size_t *pi = xcalloc(s->n ? s->n : 1, sizeof(*pi));
	uint64_t span, *t = point_times(s, &span), *tn = xcalloc(s->n ? s->n : 1, sizeof(*tn));
	const struct series_point *last = NULL;
	struct stack st = {0};
	double *all[NMT_TOP + 1], *total;
	struct svg_xaxis a;
	struct svg_chart c;
	struct strbuf title = STRBUF_INIT;
	bool have_total = false;

	strbuf_addstr(o, "<h2 id=\"nmt\">Native Memory Tracking (committed)</h2>\n");
	for (size_t i = 0; i < s->n; i++)
		if (s->pts[i].nnmt) {
			pi[n] = i;
			tn[n++] = t[i];
			last = &s->pts[i];
		}
	if (!n) {
		strbuf_addstr(o, s->is_jvm ? "<p class=\"absent\">no NMT data: the JVM ran without"
					     " -XX:NativeMemoryTracking=summary</p>\n"
					   : "<p class=\"absent\">no NMT data: not a JVM</p>\n");
		goto out;
	}
	/* categories of every point, ranked by their value at the last one */
	for (size_t i = 0; i < n; i++) {
		const struct series_point *p = &s->pts[pi[i]];

		for (size_t k = 0; k < p->nnmt; k++) {
			const char *name = p->nmt[k].name;
			size_t j;

			if (!strcmp(name, "Total")) {
				have_total = true;
				continue;
			}
			for (j = 0; j < ncat && strcmp(cats[j].name, name); j++)
				;
			if (j == ncat && ncat < sizeof(cats) / sizeof(cats[0]))
				cats[ncat++].name = name;
		}
	}
	for (size_t j = 0; j < ncat; j++)
		cats[j].last = nmt_committed(last, cats[j].name);
	qsort(cats, ncat, sizeof(*cats), cmp_nmt_cat);
	top = ncat > NMT_TOP + 1 ? NMT_TOP : ncat;

	svg_xaxis_build(&a, tn, n, span, 76, CHART_W - 12);
	/* bottom-up: the largest first, "other" on top */
	for (size_t j = 0; j <= top && j <= NMT_TOP; j++) {
		bool other = j == top;

		if (other && top == ncat)
			break;
		st.name[st.n] = other ? "other" : cats[j].name;
		st.color[st.n] = nmt_colors[st.n];
		st.v[st.n] = xcalloc(a.m, sizeof(double));
		all[st.n] = xcalloc(n, sizeof(double));
		for (size_t i = 0; i < n; i++) {
			const struct series_point *p = &s->pts[pi[i]];
			double v = 0;

			if (other)
				for (size_t k = top; k < ncat; k++)
					v += nmt_committed(p, cats[k].name);
			else
				v = nmt_committed(p, cats[j].name);
			all[st.n][i] = v;
		}
		for (size_t k = 0; k < a.m; k++)
			st.v[st.n][k] = all[st.n][a.idx[k]];
		st.n++;
	}
	total = xcalloc(a.m, sizeof(*total));
	for (size_t k = 0; k < a.m; k++)
		total[k] = nmt_committed(&s->pts[pi[a.idx[k]]], "Total");
	{
		double max = stack_max(&st, a.m);

		for (size_t k = 0; k < a.m; k++)
			if (total[k] > max)
				max = total[k];
		svg_chart_begin(&c, o, "nmt-chart", "NMT committed by category over time", CHART_W,
				CHART_H, true, max);
	}
	svg_chart_axes(&c, &a);
	stack_draw(&c, &a, &st);
	if (have_total) {
		svg_series_title(&title, "NMT total committed", total, a.m, true);
		svg_chart_line(&c, &a, total, "#000000", false, &title);
	}
	svg_chart_end(&c);
	strbuf_addstr(o, "<ul class=\"legend\" id=\"nmt-legend\">");
	if (have_total)
		svg_legend_item(o, "#000000", "Total", NULL, true);
	for (size_t l = st.n; l-- > 0;)
		svg_legend_item(o, st.color[l], st.name[l], NULL, false);
	strbuf_addstr(o, "</ul>\n");
	strbuf_addstr(o, "<p class=\"note\" id=\"nmt-note\">NMT counts <em>committed</em> memory: "
			 "what the JVM asked the kernel for, not what is resident. Committed pages"
			 " that were never touched are not in RSS, and memory outside NMT (JNI"
			 " libraries, glibc's free lists) is in RSS but not here: compare the two"
			 " charts as trends, not figure for figure.</p>\n");
	stack_table(o, "nmt-table", "category (committed)", &st, (const double *const *)all, n,
		    true);
	for (size_t l = 0; l < st.n; l++)
		free(all[l]);
	stack_release(&st);
	free(total);
	svg_xaxis_release(&a);
out:
	free(pi);
	free(t);
	free(tn);
	strbuf_release(&title);
}

/* One small line chart of a JVM counter; false when no point has it. */
/*
 * A JVM exports its counters while it starts: zeros read before the first
 * value are "not yet there", not a jump from nothing (metaspace from 0).
 */
static void blank_leading_zeros(double *y, size_t m)
{
	size_t first = 0;

	while (first < m && (isnan(y[first]) || y[first] == 0))
		first++;
	if (first == m)
		return;
	for (size_t k = 0; k < first; k++)
		y[k] = NAN;
}

static bool counter_chart(struct strbuf *o, const struct series *s, const uint64_t *t,
			  uint64_t span, enum series_counter sc, enum series_counter sc2,
			  const char *label, const char *label2, bool bytes)
{
	struct svg_xaxis a;
	struct svg_chart c;
	double *y, *y2 = NULL, max = 0;
	bool any = false, any2 = false;
	struct strbuf title = STRBUF_INIT;
	char id[64];

	for (size_t i = 0; i < s->n; i++) {
		any |= s->pts[i].counter[sc] >= 0;
		any2 |= sc2 != SC_NR && s->pts[i].counter[sc2] >= 0;
	}
	if (!any)
		return false;
	svg_xaxis_build(&a, t, s->n, span, bytes ? 76 : 56, SMALL_W - 12);
	y = xcalloc(a.m, sizeof(*y));
	if (any2)
		y2 = xcalloc(a.m, sizeof(*y2));
	for (size_t k = 0; k < a.m; k++) {
		const struct series_point *p = &s->pts[a.idx[k]];

		y[k] = p->counter[sc] >= 0 ? (double)p->counter[sc] : NAN;
		if (y2)
			y2[k] = p->counter[sc2] >= 0 ? (double)p->counter[sc2] : NAN;
	}
	blank_leading_zeros(y, a.m);
	if (y2)
		blank_leading_zeros(y2, a.m);
	for (size_t k = 0; k < a.m; k++) {
		if (!isnan(y[k]) && y[k] > max)
			max = y[k];
		if (y2 && !isnan(y2[k]) && y2[k] > max)
			max = y2[k];
	}
	snprintf(id, sizeof(id), "counter-%s", series_counter_name(sc));
	for (char *p = id; *p; p++)
		if (*p == '.')
			*p = '-';
	strbuf_addstr(o, "<div class=\"small\"><h3>");
	esc(o, label);
	strbuf_addstr(o, "</h3>\n");
	svg_chart_begin(&c, o, id, label, SMALL_W, SMALL_H, bytes, max);
	svg_chart_axes(&c, &a);
	if (y2) {
		svg_series_title(&title, label2, y2, a.m, bytes);
		svg_chart_line(&c, &a, y2, "#999999", true, &title);
	}
	svg_series_title(&title, label, y, a.m, bytes);
	svg_chart_line(&c, &a, y, "#4e79a7", false, &title);
	svg_chart_end(&c);
	strbuf_addstr(o, "<ul class=\"legend\">");
	svg_legend_item(o, "#4e79a7", title.buf, NULL, true);
	if (y2) {
		svg_series_title(&title, label2, y2, a.m, bytes);
		svg_legend_item(o, "#999999", title.buf, NULL, true);
	}
	strbuf_addstr(o, "</ul></div>\n");
	free(y);
	free(y2);
	svg_xaxis_release(&a);
	strbuf_release(&title);
	return true;
}

static void section_jvm(struct strbuf *o, const struct series *s)
{
	uint64_t span, *t = point_times(s, &span);
	int drawn = 0;

	strbuf_addstr(o, "<h2 id=\"jvm\">JVM counters</h2>\n");
	if (!s->is_jvm) {
		strbuf_addstr(o, "<p class=\"absent\">not a JVM: no JVM counters</p>\n");
		goto out;
	}
	drawn += counter_chart(o, s, t, span, SC_THREADS_LIVE, SC_THREADS_DAEMON, "live threads",
			       "daemon threads", false);
	drawn += counter_chart(o, s, t, span, SC_CLASSES_LOADED, SC_CLASSES_UNLOADED,
			       "loaded classes", "unloaded classes", false);
	drawn += counter_chart(o, s, t, span, SC_META_USED, SC_META_CAPACITY, "metaspace used",
			       "metaspace capacity", true);
	drawn += counter_chart(o, s, t, span, SC_HEAP_USED, SC_HEAP_COMMITTED, "Java heap used",
			       "Java heap committed", true);
	if (!drawn)
		strbuf_addstr(o, "<p class=\"absent\">no JVM counters: hsperfdata was not read"
				 " (-XX:-UsePerfData, or another user's JVM)</p>\n");
out:
	free(t);
}

struct tg_rank {
	const char *name;
	int last, max, first;
};

static int cmp_tg(const void *a, const void *b)
{
	const struct tg_rank *x = a, *y = b;

	if (x->last != y->last)
		return x->last > y->last ? -1 : 1;
	if (x->max != y->max)
		return x->max > y->max ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int tgroup_count(const struct series_point *p, const char *name)
{
	const struct series_tgroup *g = series_point_tgroup(p, name);

	return g ? g->count : 0;
}

static void section_threads(struct strbuf *o, const struct series *s)
{
	static const char *colors[TGROUP_TOP] = {"#4e79a7", "#f28e2b", "#e15759",
						 "#76b7b2", "#59a14f", "#b07aa1"};
	const struct series_point *pn = &s->pts[s->n - 1];
	struct tg_rank *g = NULL;
	size_t ng = 0, ag = 0;
	uint64_t span, *t = point_times(s, &span);
	struct svg_xaxis a;
	struct svg_chart c;
	struct strbuf title = STRBUF_INIT;
	double *y, max = 0;

	strbuf_addstr(o, "<h2 id=\"threads\">Threads by group</h2>\n");
	strbuf_addstr(o, "<p class=\"note\">Groups are thread names with their instance numbers"
			 " folded into # (pool-#-thread-#). The kernel keeps only the first 15"
			 " characters of a thread's name, so a longer Java name shows cut.</p>\n");
	/* the groups of the last point, and of the first (a pool that went away) */
	for (int pass = 0; pass < 2; pass++) {
		const struct series_point *p = pass ? &s->pts[0] : pn;

		for (size_t k = 0; k < p->ntgroups && ng < 256; k++) {
			size_t j;

			for (j = 0; j < ng && strcmp(g[j].name, p->tgroups[k].name); j++)
				;
			if (j < ng)
				continue;
			ALLOC_GROW(g, ng + 1, ag);
			g[ng].name = p->tgroups[k].name;
			g[ng].first = tgroup_count(&s->pts[0], g[ng].name);
			g[ng].last = tgroup_count(pn, g[ng].name);
			g[ng].max = 0;
			for (size_t i = 0; i < s->n; i++) {
				int v = tgroup_count(&s->pts[i], g[ng].name);

				if (v > g[ng].max)
					g[ng].max = v;
			}
			ng++;
		}
	}
	svg_xaxis_build(&a, t, s->n, span, 56, CHART_W - 12);
	y = xcalloc(a.m, sizeof(*y));
	for (size_t k = 0; k < a.m; k++)
		if (s->pts[a.idx[k]].threads > max)
			max = s->pts[a.idx[k]].threads;
	svg_chart_begin(&c, o, "threads-chart", "threads over time, by group", CHART_W, 220, false,
			max);
	svg_chart_axes(&c, &a);
	if (ng)
		qsort(g, ng, sizeof(*g), cmp_tg);
	for (size_t j = 0; j < ng && j < TGROUP_TOP; j++) {
		for (size_t k = 0; k < a.m; k++)
			y[k] = tgroup_count(&s->pts[a.idx[k]], g[j].name);
		svg_series_title(&title, g[j].name, y, a.m, false);
		svg_chart_line(&c, &a, y, colors[j], false, &title);
	}
	for (size_t k = 0; k < a.m; k++)
		y[k] = s->pts[a.idx[k]].threads;
	svg_series_title(&title, "all threads", y, a.m, false);
	svg_chart_line(&c, &a, y, "#000000", true, &title);
	svg_chart_end(&c);
	strbuf_addstr(o, "<ul class=\"legend\" id=\"threads-legend\">");
	svg_legend_item(o, "#000000", "all threads", NULL, true);
	for (size_t j = 0; j < ng && j < TGROUP_TOP; j++)
		svg_legend_item(o, colors[j], g[j].name, NULL, true);
	strbuf_addstr(o, "</ul>\n");
	if (!ng) {
		strbuf_addstr(o, "<p class=\"absent\">no thread names in this recording</p>\n");
	} else {
		strbuf_addstr(o, "<table id=\"threads-table\"><tr><th>group (digits folded to"
				 " #)</th><th class=\"n\">first</th><th class=\"n\">last</th>"
				 "<th class=\"n\">max</th></tr>\n");
		for (size_t j = 0; j < ng && j < 16; j++) {
			strbuf_addstr(o, "<tr><td class=\"mono\">");
			esc(o, g[j].name);
			strbuf_addf(o,
				    "</td><td class=\"n\">%d</td><td class=\"n\">%d</td>"
				    "<td class=\"n\">%d</td></tr>\n",
				    g[j].first, g[j].last, g[j].max);
		}
		strbuf_addstr(o, "</table>\n");
	}
	free(y);
	free(g);
	free(t);
	svg_xaxis_release(&a);
	strbuf_release(&title);
}

/* ---- allocation sites and the flame graph ----------------------------------------------- */

/* A small line of a site's live bytes over the intervals. */
static void sparkline(struct strbuf *o, const struct alloc_stack *s)
{
	size_t m = s->n > 120 ? 120 : s->n;
	int64_t max = 1;

	if (m < 2)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (s->live[i] > max)
			max = s->live[i];
	strbuf_addstr(o,
		      "<svg class=\"spark\" width=\"120\" height=\"24\" viewBox=\"0 0 120 24\">"
		      "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"1.2\" points=\"");
	for (size_t k = 0; k < m; k++) {
		size_t i = (size_t)((double)k * (double)(s->n - 1) / (double)(m - 1));
		double v = s->live[i] > 0 ? (double)s->live[i] : 0;

		strbuf_addf(o, "%.1f,%.1f ", (double)k * 119.0 / (double)(m - 1),
			    22.0 - v / (double)max * 20.0);
	}
	strbuf_addstr(o, "\"/></svg>");
}

static void frame_text(struct strbuf *o, const struct alloc_frame *f, bool with_module)
{
	char buf[512];
	const char *mod = f->module ? strrchr(f->module, '/') : NULL;

	esc(o, allocrank_frame_name(f, buf, sizeof(buf)));
	if (f->file) {
		strbuf_addstr(o, " (");
		esc(o, f->file);
		if (f->line > 0)
			strbuf_addf(o, ":%d", f->line);
		strbuf_addch(o, ')');
	}
	if (f->inlined)
		strbuf_addstr(o, " [inlined]");
	if (with_module && mod && f->function) {
		strbuf_addstr(o, " ");
		esc(o, mod + 1);
	}
}

static void sites_table(struct strbuf *o, const struct html_input *in)
{
	size_t shown = in->top && in->top < in->nsites ? in->top : in->nsites;
	struct allocrank_culprits *cu = in->allocs ? allocrank_culprits_new(in->allocs) : NULL;
	char a[32], b[32], c[32], site[512];

	strbuf_addf(o, "<h3>Top %zu of %zu sites</h3>\n", shown, in->nsites);
	strbuf_addstr(o,
		      "<table id=\"sites\"><tr><th>#</th><th>trend</th>"
		      "<th class=\"n\">live at the end</th><th class=\"n\">growth</th>"
		      "<th class=\"n\">R&sup2;</th><th class=\"n\">grew in</th>"
		      "<th class=\"n\">allocated</th><th>live over time</th><th>stack</th></tr>\n");
	for (size_t i = 0; i < shown; i++) {
		const struct alloc_site *x = &in->sites[i];
		const struct alloc_stack *s = x->s;

		strbuf_addf(o, "<tr><td>%zu</td><td>%s</td><td class=\"n\">%s</td>", i + 1,
			    x->t.growing ? "<span class=\"grow\">GROWING</span>" : "steady",
			    svg_value_str(a, sizeof(a), (double)x->live, true));
		strbuf_addf(o,
			    "<td class=\"n\">%s</td><td class=\"n\">%.2f</td>"
			    "<td class=\"n\">%zu of %zu</td><td class=\"n\">%s</td><td>",
			    format_dsize(b, sizeof(b), sat_i64(x->t.growth)), x->t.r2, x->t.ups,
			    s->n ? s->n - 1 : 0, format_size(c, sizeof(c), s->alloc_bytes));
		sparkline(o, s);
		strbuf_addstr(o, "</td><td class=\"mono\">");
		if (!s->nframes) {
			strbuf_addstr(o, allocrank_unnamed(s));
		} else {
			strbuf_addstr(o, "<details><summary>");
			esc(o, allocrank_site_label(cu, s, site, sizeof(site)));
			strbuf_addstr(o, "</summary>");
			for (size_t k = 0; k < s->nframes; k++) {
				frame_text(o, &s->frames[k], true);
				strbuf_addstr(o, "<br>");
			}
			strbuf_addstr(o, "</details>");
		}
		strbuf_addstr(o, "</td></tr>\n");
	}
	strbuf_addstr(o, "</table>\n");
	allocrank_culprits_free(cu);
}

static void section_allocs(struct strbuf *o, const struct html_input *in)
{
	strbuf_addstr(o, "<h2 id=\"allocs\">Allocation sites</h2>\n");
	if (!in->allocs) {
		strbuf_addstr(o,
			      "<p class=\"absent\">no allocation data: record with offheap record"
			      " -o FILE -- COMMAND</p>\n");
		return;
	}
	if (!in->nsites) {
		strbuf_addstr(o, "<p class=\"absent\">no allocation site in this recording</p>\n");
		return;
	}
	strbuf_addstr(o, "<p>Growing sites first (their live bytes fit a rising line, R&sup2;"
			 " &ge; 0.7, still rising in the second half), then the others by live"
			 " bytes.</p>\n");
	sites_table(o, in);
	flame_graph(o, in->sites, in->nsites);
}

void html_render(const struct html_input *in, struct strbuf *o)
{
	const struct series *s = in->series && in->series->n ? in->series : NULL;

	strbuf_addstr(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
			 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none';"
			 " style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
			 "<meta name=\"viewport\" content=\"width=device-width\">\n"
			 "<title>offheap report");
	/* What was recorded: the sampled process, else the recorded command. */
	if (s && s->name[0]) {
		strbuf_addstr(o, ": ");
		esc(o, s->name);
	} else if (in->allocs && in->allocs->exe) {
		const char *base = strrchr(in->allocs->exe, '/');

		strbuf_addstr(o, ": allocations of ");
		esc(o, base ? base + 1 : in->allocs->exe);
	}
	strbuf_addf(o, "</title>\n<style>\n%s</style>\n</head><body>\n", css);
	section_header(o, in);
	if (in->findings)
		section_findings(o, in->findings);
	if (s) {
		section_rss(o, s);
		section_nmt(o, s);
		section_jvm(o, s);
		section_threads(o, s);
	} else {
		strbuf_addstr(o, "<h2 id=\"rss\">Memory over time</h2>\n<p class=\"absent\">no"
				 " samples over time: sample a process with offheap watch PID -o"
				 " FILE</p>\n");
	}
	section_allocs(o, in);
	strbuf_addstr(o, "<p class=\"absent\">made by offheap report --format html</p>\n"
			 "</body></html>\n");
}
