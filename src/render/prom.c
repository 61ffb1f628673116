/*
 * prom: the figures of offheap serve as an exposition a Prometheus scrapes.
 *
 * Two formats share one writer. The text format 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats) and OpenMetrics 1.0
 * (openmetrics.io) differ, for what is written here, in two ways: an
 * OpenMetrics counter family is named without its "_total" (the sample keeps
 * it), and the exposition ends with "# EOF". Both group every sample of a
 * family under one HELP and TYPE, so the writer goes family by family and,
 * inside a family, process by process. Label values escape \, " and newline.
 *
 * Cardinality is bounded by the caller's max_series: once that many samples
 * of processes are written, the rest are counted, not written, and the
 * exporter's own figures (which say how many were dropped) always follow.
 */
#include "prom.h"
#include "doctor.h"
#include "fleet.h"
#include "region.h"
#include "series.h"
#include "strbuf.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *prom_content_type(enum prom_format fmt)
{
	return fmt == PROM_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
				       : "text/plain; version=0.0.4; charset=utf-8";
}

enum prom_format prom_negotiate(const char *accept)
{
	return accept && strcasestr(accept, "application/openmetrics-text") ? PROM_OPENMETRICS
									     : PROM_TEXT;
}

struct emit {
	struct strbuf *sb;
	enum prom_format fmt;
	size_t max, n, dropped;
	bool capped;		/* samples count against max */
	struct strbuf lbl;	/* the labels of the sample being written */
};

static void family(struct emit *e, const char *name, const char *type, const char *help)
{
	size_t len = strlen(name);

	if (e->fmt == PROM_OPENMETRICS && !strcmp(type, "counter") && len > 6 &&
	    !strcmp(name + len - 6, "_total"))
		len -= 6;
	strbuf_addf(e->sb, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)len, name, help, (int)len,
		    name, type);
}

/* Bytes of the valid UTF-8 sequence at p (1 to 4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n;
	uint32_t c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

/*
 * A label value: \, " and newline escaped, and any byte that is not part of
 * valid UTF-8 (a name cut inside a character by the kernel's 15-byte comm)
 * written as '?': a scraper rejects the whole exposition for one bad value.
 */
static void add_escaped(struct strbuf *sb, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;

	while (*p) {
		size_t n = utf8_len(p);

		if (*p == '\\' || *p == '"') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, *p);
		} else if (*p == '\n') {
			strbuf_addstr(sb, "\\n");
		} else if (!n) {
			strbuf_addch(sb, '?');
			n = 1;
		} else {
			strbuf_add(sb, p, n);
		}
		p += n ? n : 1;
	}
}

/* Starts the labels of a sample of process p (NULL: none). */
static void labels(struct emit *e, const struct fleet_proc *p)
{
	strbuf_reset(&e->lbl);
	if (!p)
		return;
	strbuf_addf(&e->lbl, "pid=\"%d\",comm=\"", (int)p->pid);
	add_escaped(&e->lbl, p->s.name);
	strbuf_addch(&e->lbl, '"');
}

static void label(struct emit *e, const char *name, const char *value)
{
	if (e->lbl.len)
		strbuf_addch(&e->lbl, ',');
	strbuf_addf(&e->lbl, "%s=\"", name);
	add_escaped(&e->lbl, value);
	strbuf_addch(&e->lbl, '"');
}

static bool room(struct emit *e)
{
	if (!e->capped)
		return true;
	if (e->n >= e->max) {
		e->dropped++;
		return false;
	}
	e->n++;
	return true;
}

static void name_labels(struct emit *e, const char *name)
{
	strbuf_addstr(e->sb, name);
	if (e->lbl.len) {
		strbuf_addch(e->sb, '{');
		strbuf_add(e->sb, e->lbl.buf, e->lbl.len);
		strbuf_addch(e->sb, '}');
	}
	strbuf_addch(e->sb, ' ');
}

static void sample_i(struct emit *e, const char *name, int64_t v)
{
	if (!room(e))
		return;
	name_labels(e, name);
	strbuf_addf(e->sb, "%" PRId64 "\n", v);
}

static void sample_d(struct emit *e, const char *name, double v)
{
	if (!room(e))
		return;
	name_labels(e, name);
	if (isnan(v))
		strbuf_addstr(e->sb, "NaN\n");
	else if (isinf(v))
		strbuf_addstr(e->sb, v > 0 ? "+Inf\n" : "-Inf\n");
	else
		strbuf_addf(e->sb, "%.15g\n", v);
}

static const struct series_point *last_point(const struct fleet_proc *p)
{
	return p->s.n ? &p->s.pts[p->s.n - 1] : NULL;
}

/* The per-process figures of the last point. */
enum proc_fig { PF_RSS, PF_PSS, PF_ANON, PF_SWAP, PF_THREADS };

static const struct {
	const char *name, *help;
} proc_figs[] = {
	[PF_RSS] = { "offheap_process_resident_bytes", "Resident memory of the process (smaps_rollup Rss)." },
	[PF_PSS] = { "offheap_process_pss_bytes", "Proportional set size of the process (smaps_rollup Pss)." },
	[PF_ANON] = { "offheap_process_anon_bytes", "Resident anonymous memory of the process (status RssAnon)." },
	[PF_SWAP] = { "offheap_process_swap_bytes", "Swapped-out memory of the process (status VmSwap)." },
	[PF_THREADS] = { "offheap_process_threads", "Threads of the process (status Threads)." },
};

static int64_t proc_fig(const struct series_point *pt, enum proc_fig k)
{
	switch (k) {
	case PF_RSS:
		return (int64_t)pt->totals.rss;
	case PF_PSS:
		return (int64_t)pt->totals.pss;
	case PF_ANON:
		return (int64_t)pt->rss_anon;
	case PF_SWAP:
		return (int64_t)pt->vm_swap;
	case PF_THREADS:
		return pt->threads;
	}
	return 0;
}

static void render_process(struct emit *e, const struct fleet *f)
{
	family(e, "offheap_process_info", "gauge",
	       "A watched process: 1, with whether it is a JVM and whether its NMT answers.");
	for (size_t i = 0; i < f->n; i++) {
		labels(e, f->procs[i]);
		label(e, "jvm", f->procs[i]->s.is_jvm ? "true" : "false");
		label(e, "nmt", f->procs[i]->nmt_on ? "true" : "false");
		sample_i(e, "offheap_process_info", 1);
	}
	for (size_t k = 0; k < sizeof(proc_figs) / sizeof(proc_figs[0]); k++) {
		family(e, proc_figs[k].name, "gauge", proc_figs[k].help);
		for (size_t i = 0; i < f->n; i++) {
			const struct series_point *pt = last_point(f->procs[i]);

			if (!pt)
				continue;
			labels(e, f->procs[i]);
			sample_i(e, proc_figs[k].name, proc_fig(pt, k));
		}
	}
}

enum class_fig { CF_RSS, CF_PSS, CF_ANON, CF_SWAP, CF_MAPPINGS };

static const struct {
	const char *name, *help;
} class_figs[] = {
	[CF_RSS] = { "offheap_class_resident_bytes", "Resident memory of the mappings of one class (smaps Rss)." },
	[CF_PSS] = { "offheap_class_pss_bytes", "Proportional set size of the mappings of one class (smaps Pss)." },
	[CF_ANON] = { "offheap_class_anon_bytes", "Anonymous memory of the mappings of one class (smaps Anonymous)." },
	[CF_SWAP] = { "offheap_class_swap_bytes", "Swapped-out memory of the mappings of one class (smaps Swap)." },
	[CF_MAPPINGS] = { "offheap_class_mappings", "Mappings of one class." },
};

static int64_t class_fig(const struct series_point *pt, int c, enum class_fig k)
{
	switch (k) {
	case CF_RSS:
		return (int64_t)pt->cls[c].rss;
	case CF_PSS:
		return (int64_t)pt->cls[c].pss;
	case CF_ANON:
		return (int64_t)pt->cls[c].anon;
	case CF_SWAP:
		return (int64_t)pt->cls[c].swap;
	case CF_MAPPINGS:
		return pt->cls_count[c];
	}
	return 0;
}

static void render_classes(struct emit *e, const struct fleet *f)
{
	for (size_t k = 0; k < sizeof(class_figs) / sizeof(class_figs[0]); k++) {
		family(e, class_figs[k].name, "gauge", class_figs[k].help);
		for (size_t i = 0; i < f->n; i++) {
			const struct series_point *pt = last_point(f->procs[i]);

			for (int c = 0; pt && c < RC_NR; c++) {
				if (!pt->cls_count[c])
					continue;
				labels(e, f->procs[i]);
				label(e, "class", region_class_name(c));
				sample_i(e, class_figs[k].name, class_fig(pt, c, k));
			}
		}
	}
}

static void render_nmt(struct emit *e, const struct fleet *f)
{
	static const char *const names[] = { "offheap_nmt_reserved_bytes",
					      "offheap_nmt_committed_bytes",
					      "offheap_nmt_total_reserved_bytes",
					      "offheap_nmt_total_committed_bytes" };
	static const char *const helps[] = {
		"Memory one NMT category has reserved (JVMs with -XX:NativeMemoryTracking).",
		"Memory one NMT category has committed; committed is not necessarily resident.",
		"Memory NMT counts as reserved in all.",
		"Memory NMT counts as committed in all; committed is not necessarily resident.",
	};

	for (int k = 0; k < 4; k++) {
		bool total = k >= 2;

		family(e, names[k], "gauge", helps[k]);
		for (size_t i = 0; i < f->n; i++) {
			const struct series_point *pt = last_point(f->procs[i]);

			for (size_t c = 0; pt && c < pt->nnmt; c++) {
				const struct series_nmt *m = &pt->nmt[c];
				int64_t v = k % 2 ? m->committed : m->reserved;

				if (v < 0 || total != !strcmp(m->name, "Total"))
					continue;
				labels(e, f->procs[i]);
				if (!total)
					label(e, "category", m->name);
				sample_i(e, names[k], v);
			}
		}
	}
}

static const struct {
	const char *name, *type, *help;
	enum series_counter c;
} jvm_figs[] = {
	{ "offheap_jvm_heap_used_bytes", "gauge", "Java heap in use (hsperfdata, all generations).", SC_HEAP_USED },
	{ "offheap_jvm_heap_committed_bytes", "gauge", "Java heap committed (hsperfdata, all generations).", SC_HEAP_COMMITTED },
	{ "offheap_jvm_heap_max_bytes", "gauge", "Java heap the JVM may grow to (hsperfdata).", SC_HEAP_MAX },
	{ "offheap_jvm_old_used_bytes", "gauge", "Old generation in use (hsperfdata).", SC_OLD_USED },
	{ "offheap_jvm_metaspace_used_bytes", "gauge", "Metaspace in use (hsperfdata).", SC_META_USED },
	{ "offheap_jvm_metaspace_capacity_bytes", "gauge", "Metaspace capacity (hsperfdata).", SC_META_CAPACITY },
	{ "offheap_jvm_compressed_class_space_used_bytes", "gauge", "Compressed class space in use (hsperfdata).", SC_CCS_USED },
	{ "offheap_jvm_threads_live", "gauge", "Live Java threads (hsperfdata java.threads.live).", SC_THREADS_LIVE },
	{ "offheap_jvm_threads_daemon", "gauge", "Live daemon Java threads (hsperfdata java.threads.daemon).", SC_THREADS_DAEMON },
	{ "offheap_jvm_classes_loaded_total", "counter", "Classes loaded since the JVM started (hsperfdata).", SC_CLASSES_LOADED },
	{ "offheap_jvm_classes_unloaded_total", "counter", "Classes unloaded since the JVM started (hsperfdata).", SC_CLASSES_UNLOADED },
};

static void render_jvm(struct emit *e, const struct fleet *f)
{
	for (size_t k = 0; k < sizeof(jvm_figs) / sizeof(jvm_figs[0]); k++) {
		family(e, jvm_figs[k].name, jvm_figs[k].type, jvm_figs[k].help);
		for (size_t i = 0; i < f->n; i++) {
			const struct series_point *pt = last_point(f->procs[i]);

			if (!pt || pt->counter[jvm_figs[k].c] < 0)
				continue;
			labels(e, f->procs[i]);
			sample_i(e, jvm_figs[k].name, pt->counter[jvm_figs[k].c]);
		}
	}
	family(e, "offheap_jvm_classes", "gauge", "Classes loaded now: loaded minus unloaded (hsperfdata).");
	for (size_t i = 0; i < f->n; i++) {
		const struct series_point *pt = last_point(f->procs[i]);

		if (!pt || pt->counter[SC_CLASSES_LOADED] < 0 || pt->counter[SC_CLASSES_UNLOADED] < 0)
			continue;
		labels(e, f->procs[i]);
		sample_i(e, "offheap_jvm_classes",
			 pt->counter[SC_CLASSES_LOADED] - pt->counter[SC_CLASSES_UNLOADED]);
	}
	family(e, "offheap_jvm_gc_collections_total", "counter",
	       "Collections of one generation's collector since the JVM started (hsperfdata).");
	for (size_t i = 0; i < f->n; i++) {
		const struct series_point *pt = last_point(f->procs[i]);

		for (int g = 0; pt && g < 2; g++) {
			int64_t v = pt->counter[g ? SC_FULL_GCS : SC_YOUNG_GCS];

			if (v < 0)
				continue;
			labels(e, f->procs[i]);
			label(e, "generation", g ? "old" : "young");
			sample_i(e, "offheap_jvm_gc_collections_total", v);
		}
	}
}

static void render_threads(struct emit *e, const struct fleet *f)
{
	family(e, "offheap_thread_group_threads", "gauge",
	       "Threads whose names are the same once digits are folded to '#'.");
	for (size_t i = 0; i < f->n; i++) {
		const struct series_point *pt = last_point(f->procs[i]);

		for (size_t g = 0; pt && g < pt->ntgroups; g++) {
			labels(e, f->procs[i]);
			label(e, "group", pt->tgroups[g].name);
			sample_i(e, "offheap_thread_group_threads", pt->tgroups[g].count);
		}
	}
}

static void render_trends(struct emit *e, const struct fleet *f)
{
	static const char *const names[] = { "offheap_trend_bytes_per_hour",
					     "offheap_trend_per_hour", "offheap_trend_confidence" };
	static const char *const helps[] = {
		"Fitted growth of a size over the window, bytes per hour.",
		"Fitted growth of a count over the window, per hour.",
		"Confidence 0..1 that a figure grows steadily over the window.",
	};

	family(e, "offheap_trend_window_seconds", "gauge",
	       "Time the trends of the process are fitted over.");
	for (size_t i = 0; i < f->n; i++) {
		const struct series *s = &f->procs[i]->s;

		if (s->n < 2)
			continue;
		labels(e, f->procs[i]);
		sample_d(e, "offheap_trend_window_seconds",
			 (double)(s->pts[s->n - 1].t_ns - s->pts[0].t_ns) / 1e9);
	}
	for (int k = 0; k < 3; k++) {
		family(e, names[k], "gauge", helps[k]);
		for (size_t i = 0; i < f->n; i++) {
			const struct fleet_proc *p = f->procs[i];

			for (size_t t = 0; t < p->ntrends; t++) {
				const struct series_trend *tr = &p->trends[t];

				if (tr->n < 3 || (k == 0 && !tr->bytes) || (k == 1 && tr->bytes))
					continue;
				labels(e, p);
				label(e, "figure", tr->name);
				sample_d(e, names[k], k == 2 ? tr->j.confidence : tr->j.per_hour);
			}
		}
	}
}

static void render_findings(struct emit *e, const struct fleet *f)
{
	family(e, "offheap_finding", "gauge",
	       "A finding of offheap doctor's series rules over the window: 1 while it holds.");
	for (size_t i = 0; i < f->n; i++) {
		const struct doctor_report *r = &f->procs[i]->doc;

		for (size_t k = 0; k < r->n; k++) {
			labels(e, f->procs[i]);
			label(e, "pattern", r->f[k].pattern);
			label(e, "severity", finding_severity_name(r->f[k].severity));
			sample_i(e, "offheap_finding", 1);
		}
	}
	family(e, "offheap_finding_bytes_per_hour", "gauge",
	       "The growth rate behind a finding, bytes per hour (findings of a growth only).");
	for (size_t i = 0; i < f->n; i++) {
		const struct doctor_report *r = &f->procs[i]->doc;

		for (size_t k = 0; k < r->n; k++) {
			if (r->f[k].bytes_per_hour == 0)
				continue;
			labels(e, f->procs[i]);
			label(e, "pattern", r->f[k].pattern);
			label(e, "severity", finding_severity_name(r->f[k].severity));
			sample_d(e, "offheap_finding_bytes_per_hour", r->f[k].bytes_per_hour);
		}
	}
}

static void self_metric(struct emit *e, const char *name, const char *type, const char *help,
			double v)
{
	family(e, name, type, help);
	labels(e, NULL);
	sample_d(e, name, v);
}

static void render_self(struct emit *e, const struct fleet *f, const struct prom_opts *o)
{
	e->capped = false;
	self_metric(e, "offheap_exporter_processes", "gauge", "Processes watched.", (double)f->n);
	self_metric(e, "offheap_exporter_processes_limit", "gauge",
		    "Processes watched at most (--max-procs).", (double)f->max_procs);
	family(e, "offheap_exporter_skipped_processes", "gauge",
	       "Processes found by the last round but not watched, by reason.");
	labels(e, NULL);
	label(e, "reason", "limit");
	sample_d(e, "offheap_exporter_skipped_processes", (double)f->over_cap);
	labels(e, NULL);
	label(e, "reason", "unreadable");
	sample_d(e, "offheap_exporter_skipped_processes", (double)f->unreadable);
	self_metric(e, "offheap_exporter_exited_processes_total", "counter",
		    "Watched processes that exited (their series are gone).",
		    (double)f->exited_total);
	self_metric(e, "offheap_exporter_series", "gauge",
		    "Series of processes in this exposition.", (double)e->n);
	self_metric(e, "offheap_exporter_series_limit", "gauge",
		    "Series of processes in an exposition at most (--max-series).",
		    (double)o->max_series);
	self_metric(e, "offheap_exporter_dropped_series", "gauge",
		    "Series of processes left out of this exposition by the limit.",
		    (double)e->dropped);
	self_metric(e, "offheap_exporter_dropped_series_total", "counter",
		    "Series of processes left out by the limit, summed over the rounds.",
		    (double)(o->dropped_before + e->dropped));
	self_metric(e, "offheap_exporter_rounds_total", "counter",
		    "Sampling rounds completed.", (double)f->rounds);
	self_metric(e, "offheap_exporter_round_duration_seconds", "gauge",
		    "How long the last sampling round took.", f->round_s);
	self_metric(e, "offheap_exporter_last_round_timestamp_seconds", "gauge",
		    "When the last sampling round ended (Unix time).",
		    (double)f->round_end_ns / 1e9);
}

size_t prom_render(const struct fleet *f, enum prom_format fmt, const struct prom_opts *o,
		   struct strbuf *out)
{
	struct emit e = { .sb = out, .fmt = fmt, .max = o->max_series, .capped = true };

	strbuf_init(&e.lbl, 128);
	strbuf_reset(out);
	render_process(&e, f);
	render_classes(&e, f);
	render_nmt(&e, f);
	render_jvm(&e, f);
	render_threads(&e, f);
	render_trends(&e, f);
	render_findings(&e, f);
	render_self(&e, f, o);
	if (fmt == PROM_OPENMETRICS)
		strbuf_addstr(out, "# EOF\n");
	strbuf_release(&e.lbl);
	return e.dropped;
}
