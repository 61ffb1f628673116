/*
 * doctor: from a sampled series to findings.
 *
 * Each rule looks for one pattern of shared/JVM.md H in the trends of the
 * series (src/model/trend.c: a leak is sustained growth — a fit that explains
 * the points, more steps up than down, still rising at the end, not one
 * jump) and in what the probes saw, and writes what grows, by how much,
 * which code does it and what to do. The thresholds are floors below which
 * growth is noise on a healthy process: a JVM that starts a few compiler
 * threads or loads some lambda classes must not be called leaking.
 */
#include "doctor.h"
#include "allocdb.h"
#include "parse.h"
#include "series.h"
#include "strbuf.h"
#include "trend.h"
#include "xalloc.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB ((int64_t)1 << 20)

/* Floors over the sampled span: less than this is not called a leak. */
#define LEAK_MIN_BYTES (2 * MIB)
#define LEAK_MIN_THREADS 4
#define LEAK_MIN_CLASSES 100
#define LEAK_MIN_STRINGS 2000

const char *finding_severity_name(enum finding_severity s)
{
	switch (s) {
	case FS_LEAK: return "leak";
	case FS_WARNING: return "warning";
	case FS_INFO: return "info";
	}
	return "?";
}

void doctor_report_init(struct doctor_report *r)
{
	memset(r, 0, sizeof(*r));
}

void doctor_report_release(struct doctor_report *r)
{
	for (size_t i = 0; i < r->nunchecked; i++)
		free(r->unchecked[i]);
	free(r->unchecked);
	free(r->f);
	doctor_report_init(r);
}

void doctor_unchecked(struct doctor_report *r, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ALLOC_GROW(r->unchecked, r->nunchecked + 1, r->alloc_unchecked);
	r->unchecked[r->nunchecked++] = strbuf_detach(&sb, NULL);
}

bool doctor_has_leak(const struct doctor_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->f[i].severity == FS_LEAK)
			return true;
	return false;
}

static struct finding *add(struct doctor_report *r, const char *pattern,
			   enum finding_severity sev)
{
	struct finding *f;

	ALLOC_GROW(r->f, r->n + 1, r->alloc);
	f = &r->f[r->n++];
	memset(f, 0, sizeof(*f));
	f->pattern = pattern;
	f->severity = sev;
	return f;
}

__attribute__((format(printf, 2, 3))) static void evidence(struct finding *f, const char *fmt,
							   ...)
{
	va_list ap;

	if (f->nevidence == FINDING_MAX_EVIDENCE)
		return;
	va_start(ap, fmt);
	vsnprintf(f->evidence[f->nevidence++], sizeof(f->evidence[0]), fmt, ap);
	va_end(ap);
}

/* Fills a fixed field; a long culprit is cut rather than overflowing. */
__attribute__((format(printf, 3, 4))) static void setf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}

#define SET(field, ...) setf(field, sizeof(field), __VA_ARGS__)

/* What the rules share: the series, its trends and the probes. */
struct ctx {
	const struct series *s;
	const struct doctor_probes *p;
	struct series_trend *t;
	size_t nt;
	double span_s;
	struct doctor_report *r;
};

static const struct series_trend *tr(const struct ctx *c, const char *name)
{
	return series_trend_find(c->t, c->nt, name);
}

static bool growing(const struct series_trend *t, int64_t floor)
{
	return t && t->j.kind == TREND_GROWING && t->j.last - t->j.first >= floor &&
	       t->j.per_hour > 0;
}

static const char *sz(char *buf, size_t n, int64_t v)
{
	return format_dsize(buf, n, v);
}

/* "+12.0 MiB in 30 s (+1.4 GiB/h, R² 0.98)" */
static void growth_line(struct finding *f, const char *what, const struct series_trend *t,
			double span_s)
{
	char a[32], b[32], c[32], d[32];

	if (t->bytes)
		evidence(f, "%s: %s -> %s (%s in %.0f s, %s/h, R² %.2f)", what,
			 format_size(a, sizeof(a), (uint64_t)(t->j.first < 0 ? 0 : t->j.first)),
			 format_size(b, sizeof(b), (uint64_t)(t->j.last < 0 ? 0 : t->j.last)),
			 sz(c, sizeof(c), t->j.last - t->j.first), span_s,
			 sz(d, sizeof(d), sat_i64(t->j.per_hour)), t->j.fit.r2);
	else
		evidence(f, "%s: %" PRId64 " -> %" PRId64 " (%+" PRId64 " in %.0f s, %+.0f/h, R² %.2f)",
			 what, t->j.first, t->j.last, t->j.last - t->j.first, span_s, t->j.per_hour,
			 t->j.fit.r2);
}

static void rate(struct finding *f, const struct series_trend *t)
{
	f->bytes_per_hour = t->j.per_hour;
	f->confidence = t->j.confidence;
}

/* The thread group that grew the most between the first and the last point. */
static const char *grown_group(const struct series *s, int *delta)
{
	const struct series_point *a = &s->pts[0], *b = &s->pts[s->n - 1];
	const char *best = NULL;

	*delta = 0;
	for (size_t i = 0; i < b->ntgroups; i++) {
		const struct series_tgroup *g0 = series_point_tgroup(a, b->tgroups[i].name);
		int d = b->tgroups[i].count - (g0 ? g0->count : 0);

		if (d > *delta) {
			*delta = d;
			best = b->tgroups[i].name;
		}
	}
	return best;
}

static void rule_threads(struct ctx *c)
{
	const struct series_trend *t = tr(c, "counter:java.threads.live");
	const struct series_trend *os = tr(c, "threads"), *nmt = tr(c, "nmt:Thread");
	const char *group;
	struct finding *f;
	int delta;
	char a[32];

	if (!growing(t, LEAK_MIN_THREADS))
		t = NULL;
	if (!t && !growing(os, LEAK_MIN_THREADS))
		return;
	f = add(c->r, "thread-leak", FS_LEAK);
	rate(f, t ? t : os);
	SET(f->title, "thread leak: %+" PRId64 " threads in %.0f s and still rising",
	    (t ? t : os)->j.last - (t ? t : os)->j.first, c->span_s);
	if (t)
		growth_line(f, "java.threads.live", t, c->span_s);
	growth_line(f, "threads (/proc status)", os, c->span_s);
	if (nmt && nmt->j.last > nmt->j.first)
		growth_line(f, "NMT Thread committed", nmt, c->span_s);
	f->bytes_per_hour = nmt && nmt->j.per_hour > 0 ? nmt->j.per_hour : 0;
	group = grown_group(c->s, &delta);
	if (group) {
		SET(f->culprit, "threads named '%s' (%+d): started and never ending", group, delta);
		evidence(f, "thread group '%s': %+d threads", group, delta);
	} else {
		SET(f->culprit, "threads started and never ending");
	}
	if (c->p->have_flags && c->p->thread_stack)
		SET(f->fix,
		    "find who starts '%s' threads and bound it: a fixed-size pool (Executors.newFixedThreadPool), shut executors down, end the threads' loops; each thread reserves a %s stack (-Xss)",
		    group ? group : "these", format_size(a, sizeof(a), c->p->thread_stack));
	else
		SET(f->fix,
		    "find who starts '%s' threads and bound it: a fixed-size pool, shut executors down, end the threads' loops",
		    group ? group : "these");
}

/* Loaded minus unloaded classes over the points that have both counters. */
static bool class_trend(const struct ctx *c, struct trend_judgement *j)
{
	uint64_t *t = xmalloc((c->s->n + 1) * sizeof(*t));
	int64_t *y = xmalloc((c->s->n + 1) * sizeof(*y));
	size_t m = 0;

	for (size_t i = 0; i < c->s->n; i++) {
		const struct series_point *p = &c->s->pts[i];

		if (p->counter[SC_CLASSES_LOADED] < 0)
			continue;
		t[m] = p->t_ns;
		y[m++] = p->counter[SC_CLASSES_LOADED] -
			 (p->counter[SC_CLASSES_UNLOADED] > 0 ? p->counter[SC_CLASSES_UNLOADED] : 0);
	}
	trend_judge(t, y, m, LEAK_MIN_CLASSES, j);
	free(t);
	free(y);
	return m >= 3;
}

static void rule_classes(struct ctx *c)
{
	struct trend_judgement j;
	const struct series_trend *meta = tr(c, "counter:sun.gc.metaspace.used"),
				  *nc = tr(c, "nmt:Class"), *nm = tr(c, "nmt:Metaspace");
	struct finding *f;

	if (!class_trend(c, &j) || j.kind != TREND_GROWING ||
	    j.last - j.first < LEAK_MIN_CLASSES)
		return;
	/* Warm-up loads classes too: the metadata must grow with them. */
	if (!growing(meta, MIB / 2) && !growing(nm, MIB / 2) && !growing(nc, MIB / 2) &&
	    j.last - j.first < 10 * LEAK_MIN_CLASSES)
		return;
	f = add(c->r, "classloader-leak", FS_LEAK);
	f->confidence = j.confidence;
	f->bytes_per_hour = meta && meta->j.per_hour > 0 ? meta->j.per_hour : 0;
	SET(f->title, "class loader leak: %+" PRId64 " classes loaded and not unloaded in %.0f s",
	    j.last - j.first, c->span_s);
	evidence(f, "loaded - unloaded classes: %" PRId64 " -> %" PRId64 " (%+.0f/h, R² %.2f)",
		 j.first, j.last, j.per_hour, j.fit.r2);
	if (meta)
		growth_line(f, "metaspace used", meta, c->span_s);
	if (nm && nm->j.last > nm->j.first)
		growth_line(f, "NMT Metaspace committed", nm, c->span_s);
	else if (nc && nc->j.last > nc->j.first)
		growth_line(f, "NMT Class committed", nc, c->span_s);
	if (c->p->have_loaders) {
		SET(f->culprit, "%" PRIu64 " class loaders of type %s holding %" PRIu64 " classes",
		    c->p->loader_count, c->p->loader_type, c->p->loader_classes);
		evidence(f, "VM.classloader_stats: %s x%" PRIu64, c->p->loader_type,
			 c->p->loader_count);
	} else {
		SET(f->culprit, "class loaders created over and over and kept reachable");
	}
	SET(f->fix,
	    "keep one class loader per plugin/script and drop (and close) the old ones: a loader is freed only when nothing references it or its classes (caches, ThreadLocals, registered drivers, thread context loaders); cap metaspace with -XX:MaxMetaspaceSize to fail fast");
}

static void rule_strings(struct ctx *c)
{
	const struct series_trend *sym = tr(c, "nmt:Symbol");
	int64_t sym_d = sym ? sym->j.last - sym->j.first : 0;
	bool strings = c->p->have_strings &&
		       c->p->strings_last >= c->p->strings_first + LEAK_MIN_STRINGS;
	struct finding *f;

	/* The table's entries are the direct evidence; NMT Symbol holds their nodes. */
	if (!(strings && (!sym || sym_d >= MIB / 4)) && !growing(sym, LEAK_MIN_BYTES))
		return;
	f = add(c->r, "interned-strings", FS_LEAK);
	if (sym)
		rate(f, sym);
	else
		f->confidence = 0.5;
	if (strings)
		SET(f->title, "interned strings grow: %+" PRId64 " StringTable entries in %.0f s",
		    (int64_t)(c->p->strings_last - c->p->strings_first), c->span_s);
	else
		SET(f->title, "symbols grow: NMT Symbol %+.1f MiB in %.0f s", (double)sym_d / MIB,
		    c->span_s);
	if (c->p->have_strings)
		evidence(f, "StringTable entries: %" PRIu64 " -> %" PRIu64 " (%+" PRId64 ")",
			 c->p->strings_first, c->p->strings_last,
			 (int64_t)(c->p->strings_last - c->p->strings_first));
	if (sym)
		growth_line(f, "NMT Symbol committed", sym, c->span_s);
	SET(f->culprit, strings ? "String.intern() of unbounded keys (the StringTable keeps growing)"
				: "symbols created without bound (generated class, method or field names)");
	SET(f->fix,
	    "stop interning unbounded values: with Jackson disable JsonFactory.Feature.INTERN_FIELD_NAMES (and CANONICALIZE_FIELD_NAMES for random keys); replace String.intern() by a bounded cache; 'offheap jcmd PID VM.stringtable' shows the table");
}

static void rule_direct(struct ctx *c)
{
	const struct series_trend *other = tr(c, "nmt:Other");
	struct finding *f;
	char a[32];

	if (!growing(other, LEAK_MIN_BYTES))
		return;
	f = add(c->r, "direct-buffers", FS_LEAK);
	rate(f, other);
	SET(f->title, "direct buffers / Unsafe memory grow: NMT Other %+.1f MiB in %.0f s",
	    (double)(other->j.last - other->j.first) / MIB, c->span_s);
	growth_line(f, "NMT Other (malloc: ByteBuffer.allocateDirect, Unsafe.allocateMemory)", other,
		    c->span_s);
	SET(f->culprit,
	    "ByteBuffer.allocateDirect / Unsafe.allocateMemory (malloc site Unsafe_AllocateMemory0) kept reachable");
	if (c->p->have_flags && c->p->max_direct)
		SET(f->fix,
		    "release or pool the direct buffers (Netty: release() every ByteBuf); -XX:MaxDirectMemorySize is %s: lower it to fail fast with OutOfMemoryError: Direct buffer memory",
		    format_size(a, sizeof(a), c->p->max_direct));
	else
		SET(f->fix,
		    "release or pool the direct buffers (Netty: release() every ByteBuf); set -XX:MaxDirectMemorySize (by default as large as -Xmx) to fail fast");
}

static void rule_code(struct ctx *c)
{
	const struct series_trend *code = tr(c, "nmt:Code");
	struct finding *f;

	if (!growing(code, 8 * MIB))
		return;
	f = add(c->r, "code-cache", FS_INFO);
	rate(f, code);
	SET(f->title, "the code cache grows: NMT Code %+.1f MiB in %.0f s",
	    (double)(code->j.last - code->j.first) / MIB, c->span_s);
	growth_line(f, "NMT Code committed", code, c->span_s);
	SET(f->culprit, "JIT-compiled code (bounded by -XX:ReservedCodeCacheSize)");
	SET(f->fix,
	    "usually warm-up, bounded by -XX:ReservedCodeCacheSize; if it keeps growing with class churn, fix the class loader churn; 'offheap jcmd PID Compiler.codecache' shows it");
}

/* Heap used right after each GC (points where a GC count moved): what survives. */
static void rule_java_heap(struct ctx *c)
{
	uint64_t *t = xmalloc((c->s->n + 1) * sizeof(*t));
	int64_t *y = xmalloc((c->s->n + 1) * sizeof(*y));
	struct trend_judgement j;
	int64_t max = -1, gcs0 = -1;
	size_t m = 0;
	struct finding *f;
	char a[32], b[32];

	for (size_t i = 1; i < c->s->n; i++) {
		const struct series_point *p = &c->s->pts[i], *q = &c->s->pts[i - 1];
		int64_t g = p->counter[SC_YOUNG_GCS] + p->counter[SC_FULL_GCS];

		if (p->counter[SC_HEAP_USED] < 0 || p->counter[SC_YOUNG_GCS] < 0)
			continue;
		if (gcs0 < 0)
			gcs0 = q->counter[SC_YOUNG_GCS] + q->counter[SC_FULL_GCS];
		if (g != q->counter[SC_YOUNG_GCS] + q->counter[SC_FULL_GCS]) {
			t[m] = p->t_ns;
			y[m++] = p->counter[SC_HEAP_USED];
		}
		max = p->counter[SC_HEAP_MAX];
	}
	if (c->p->have_flags && c->p->max_heap)
		max = (int64_t)c->p->max_heap;
	trend_judge(t, y, m, max > 0 ? max / 10 : (int64_t)(16 * MIB), &j);
	free(t);
	free(y);
	if (m < 4 || j.kind != TREND_GROWING)
		return;
	f = add(c->r, "java-heap", FS_LEAK);
	f->bytes_per_hour = j.per_hour;
	f->confidence = j.confidence;
	SET(f->title, "the Java heap after GC grows: %s in %.0f s over %zu collections",
	    sz(a, sizeof(a), j.last - j.first), c->span_s, m);
	evidence(f, "heap used after GC: %s -> %s (%s/h, R² %.2f)",
		 format_size(a, sizeof(a), (uint64_t)j.first),
		 format_size(b, sizeof(b), (uint64_t)j.last), sz(b, sizeof(b), sat_i64(j.per_hour)),
		 j.fit.r2);
	if (max > 0)
		evidence(f, "maximum heap: %s", format_size(a, sizeof(a), (uint64_t)max));
	SET(f->culprit, "objects kept reachable on the Java heap (a collection or cache without bound)");
	SET(f->fix,
	    "take a heap dump ('offheap jcmd %d GC.heap_dump /tmp/heap.hprof') and open it in a heap analyser (Eclipse MAT, VisualVM) to find what holds the objects",
	    (int)c->s->pid);
}

/* Resident native memory: brk heap, arenas and other anonymous memory (not the Java heap). */
static bool native_trend(const struct ctx *c, struct trend_judgement *j)
{
	uint64_t *t = xmalloc((c->s->n + 1) * sizeof(*t));
	int64_t *y = xmalloc((c->s->n + 1) * sizeof(*y));

	for (size_t i = 0; i < c->s->n; i++) {
		const struct series_point *p = &c->s->pts[i];

		t[i] = p->t_ns;
		y[i] = (int64_t)(p->cls[RC_HEAP].rss + p->cls[RC_ARENA].rss + p->cls[RC_ANON].rss);
	}
	trend_judge(t, y, c->s->n, LEAK_MIN_BYTES, j);
	free(t);
	free(y);
	return c->s->n >= 3;
}

/* NMT committed minus the Java heap: what NMT explains of the native growth. */
static int64_t nmt_native_growth(const struct ctx *c, bool *known)
{
	const struct series_point *a = NULL, *b = NULL;
	const struct series_nmt *ta, *tb, *ha, *hb;

	for (size_t i = 0; i < c->s->n; i++)
		if (c->s->pts[i].nnmt) {
			if (!a)
				a = &c->s->pts[i];
			b = &c->s->pts[i];
		}
	*known = a && b && a != b;
	if (!*known)
		return 0;
	ta = series_point_nmt(a, "Total");
	tb = series_point_nmt(b, "Total");
	ha = series_point_nmt(a, "Java Heap");
	hb = series_point_nmt(b, "Java Heap");
	if (!ta || !tb || ta->committed < 0 || tb->committed < 0) {
		*known = false;
		return 0;
	}
	return (tb->committed - (hb ? hb->committed : 0)) - (ta->committed - (ha ? ha->committed : 0));
}

static const char *grown_class(const struct series *s, int64_t *delta)
{
	static const enum region_class native[] = { RC_HEAP, RC_ARENA, RC_ANON };
	const struct series_point *a = &s->pts[0], *b = &s->pts[s->n - 1];
	const char *best = "anon";

	*delta = INT64_MIN;
	for (size_t i = 0; i < 3; i++) {
		int64_t d = (int64_t)b->cls[native[i]].rss - (int64_t)a->cls[native[i]].rss;

		if (d > *delta) {
			*delta = d;
			best = region_class_name(native[i]);
		}
	}
	return best;
}

void doctor_zlib_count(char *buf, size_t n, uint64_t v, uint64_t e, uint64_t rd, uint64_t all)
{
	if (rd >= all)
		snprintf(buf, n, "%" PRIu64, v);
	else
		snprintf(buf, n, "\u2248 %" PRIu64 " (\u00b1 %" PRIu64 ", sampled %.0f of %.0f MiB)", v,
			 e, (double)rd / MIB, (double)all / MIB);
}

static void zlib_evidence(struct finding *f, const struct doctor_probes *p)
{
	char a[80], b[80];

	doctor_zlib_count(a, sizeof(a), p->zlib_first, p->zlib_err_first, p->heap_read_first,
		   p->heap_bytes_first);
	doctor_zlib_count(b, sizeof(b), p->zlib_last, p->zlib_err_last, p->heap_read_last,
		   p->heap_bytes_last);
	evidence(f, "zlib streams in the malloc heaps: %s -> %s%s", a, b,
		 p->heap_read_first >= p->heap_bytes_first && p->heap_read_last >= p->heap_bytes_last
			 ? " (exact: every heap read)"
			 : "");
}

static void rule_native(struct ctx *c, bool explained_by_rules)
{
	struct trend_judgement j;
	const struct series_trend *cheap = tr(c, "counter:offheap.cheap.outstanding");
	bool nmt_known, zlib;
	int64_t nmt_d, d, cls_d;
	const char *cls;
	struct finding *f;
	char a[32], b[32], e[32];

	if (!native_trend(c, &j) || j.kind != TREND_GROWING || j.last - j.first < LEAK_MIN_BYTES)
		return;
	d = j.last - j.first;
	nmt_d = nmt_native_growth(c, &nmt_known);
	cls = grown_class(c->s, &cls_d);
	/*
	 * What NMT sees a category rule names (or it is warm-up). NMT counts
	 * what the JVM asked malloc for, glibc hands out more (headers,
	 * rounding): only when NMT explains less than a third is the rest
	 * someone else's.
	 */
	if (c->s->is_jvm && nmt_known && nmt_d * 3 >= d)
		return;
	if (explained_by_rules && d - nmt_d < 8 * MIB)
		return;
	if (c->s->is_jvm && !nmt_known && explained_by_rules)
		return;
	/* sampled counts: the growth must also stand out of twice their error */
	zlib = c->p->have_zlib && c->p->zlib_last > c->p->zlib_first &&
	       c->p->zlib_last - c->p->zlib_first >= 50 &&
	       (double)(c->p->zlib_last - c->p->zlib_first) >
		       2 * hypot((double)c->p->zlib_err_first, (double)c->p->zlib_err_last);
	if (zlib) {
		f = add(c->r, "zlib-inflater", FS_LEAK);
		SET(f->title, "zlib streams never ended: native memory outside %s grows %s in %.0f s",
		    c->s->is_jvm ? "NMT" : "the heap", sz(a, sizeof(a), d), c->span_s);
		SET(f->culprit,
		    "java.util.zip.Inflater/Deflater (GZIPInputStream, InflaterInputStream, ZipFile entries) never closed or end()ed: %" PRIu64 " zlib stream states live in the malloc arenas (%+" PRId64 " while sampled)",
		    c->p->zlib_last, (int64_t)(c->p->zlib_last - c->p->zlib_first));
		SET(f->fix,
		    "close every GZIPInputStream/GZIPOutputStream/InflaterInputStream in try-with-resources and call Inflater.end()/Deflater.end() when done (a Cleaner frees them only after a GC finds them unreachable)");
	} else if (c->s->is_jvm) {
		f = add(c->r, "native-outside-nmt", FS_LEAK);
		SET(f->title, "native memory outside %s grows %s in %.0f s",
		    nmt_known ? "NMT" : "the Java heap", sz(a, sizeof(a), d), c->span_s);
		SET(f->culprit,
		    "native code outside the JVM's accounting: a JNI library, zlib, or another malloc user (class %s grew most)",
		    cls);
		SET(f->fix,
		    "record the allocation sites: 'offheap record -o rec.db -- java ...' (or LD_PRELOAD=liboffheap.so) then 'offheap report rec.db'; 'offheap trace PID' shows mmap growth by thread");
	} else {
		f = add(c->r, cls_d > 0 && !strcmp(cls, "anon") ? "mmap-growth" : "native-growth",
			FS_LEAK);
		SET(f->title, "%s memory grows %s in %.0f s",
		    !strcmp(cls, "anon") ? "anonymous mmap" : "malloc", sz(a, sizeof(a), d),
		    c->span_s);
		SET(f->culprit, "%s (class %s %s)",
		    !strcmp(cls, "anon") ? "anonymous mappings created and not unmapped"
					 : "malloc'd memory not freed",
		    cls, sz(e, sizeof(e), cls_d));
		SET(f->fix, !strcmp(cls, "anon")
				    ? "'offheap trace PID' names the thread and stack that map it; 'offheap record -- CMD' the malloc sites"
				    : "'offheap record -o rec.db -- CMD' then 'offheap doctor rec.db' (or 'offheap report rec.db') names the allocation sites");
	}
	f->bytes_per_hour = j.per_hour;
	f->confidence = j.confidence;
	evidence(f, "native resident memory (brk heap + arenas + anon): %s -> %s (%s/h, R² %.2f)",
		 format_size(a, sizeof(a), (uint64_t)j.first), format_size(b, sizeof(b), (uint64_t)j.last),
		 sz(e, sizeof(e), sat_i64(j.per_hour)), j.fit.r2);
	evidence(f, "class %s grew most: %s", cls, sz(a, sizeof(a), cls_d));
	if (nmt_known)
		evidence(f, "NMT committed outside the Java heap moved only %s", sz(a, sizeof(a), nmt_d));
	if (cheap && cheap->n >= 2)
		evidence(f, "glibc C-Heap outstanding (VM.info): %s -> %s",
			 format_size(a, sizeof(a), (uint64_t)cheap->j.first),
			 format_size(b, sizeof(b), (uint64_t)cheap->j.last));
	if (c->p->have_strings)
		evidence(f, "StringTable entries: %" PRIu64 " -> %" PRIu64, c->p->strings_first,
			 c->p->strings_last);
	if (c->p->have_zlib && c->p->zlib_last)
		zlib_evidence(f, c->p);
}

static void rule_fragmentation(struct ctx *c)
{
	const struct doctor_probes *p = c->p;
	uint64_t held = p->chunk_inuse + p->chunk_free;
	struct finding *f;
	char a[32], b[32], d[32];

	if (!p->have_chunks || p->chunk_free < 32 * MIB || p->chunk_free * 2 < held)
		return;
	f = add(c->r, "arena-fragmentation", FS_WARNING);
	f->confidence = (double)p->chunk_free / (double)(held ? held : 1);
	SET(f->title, "malloc fragmentation, not a leak: %s of the malloc heaps is free but held",
	    format_size(a, sizeof(a), p->chunk_free));
	evidence(f, "malloc heaps (brk + %" PRIu64 " arenas): resident %s, chunks in use %s, free %s",
		 p->arenas, format_size(a, sizeof(a), p->malloc_rss),
		 format_size(b, sizeof(b), p->chunk_inuse), format_size(d, sizeof(d), p->chunk_free));
	SET(f->culprit,
	    "glibc keeps freed chunks inside its arenas (one per thread, up to 8 x cores): live data is small, RSS stays high");
	SET(f->fix,
	    c->s->is_jvm ? "MALLOC_ARENA_MAX=2 (or 4) in the JVM's environment; 'offheap jcmd PID System.trim_native_heap' (JDK 17.0.2+) to give it back now; or -XX:TrimNativeHeapInterval=60000 (JDK 21.0.1+)"
			 : "MALLOC_ARENA_MAX=2 (or 4) in the environment; call malloc_trim(0) after large frees; or MALLOC_TRIM_THRESHOLD_ / a different allocator (jemalloc)");
}

static void rule_budget(struct ctx *c)
{
	const struct doctor_probes *p = c->p;
	const struct series_point *last = &c->s->pts[c->s->n - 1];
	uint64_t heap = p->max_heap, direct, meta, code, stacks, total;
	int threads = last->threads;
	struct finding *f;
	char a[32], b[32];

	if (!p->have_flags || p->cgroup_limit <= 0)
		return;
	direct = p->max_direct ? p->max_direct : heap;
	meta = p->max_metaspace && p->max_metaspace < (1ULL << 50) ? p->max_metaspace : 0;
	code = p->code_cache;
	stacks = (uint64_t)threads * p->thread_stack;
	total = heap + direct + meta + code + stacks;
	if (total <= (uint64_t)p->cgroup_limit)
		return;
	f = add(c->r, "budget-over-limit", FS_WARNING);
	SET(f->title, "the JVM may use %s, more than its cgroup limit %s",
	    format_size(a, sizeof(a), total), format_size(b, sizeof(b), (uint64_t)p->cgroup_limit));
	evidence(f, "-Xmx %s + direct %s%s + metaspace %s + code cache %s + %d thread stacks of %s",
		 format_size(a, sizeof(a), heap), format_size(b, sizeof(b), direct),
		 p->max_direct ? "" : " (default: = -Xmx)",
		 meta ? format_size((char[32]){ 0 }, 32, meta) : "unlimited",
		 format_size((char[32]){ 0 }, 32, code), threads,
		 format_size((char[32]){ 0 }, 32, p->thread_stack));
	SET(f->culprit, "the flags allow more memory than the container has");
	SET(f->fix,
	    "size -Xmx (or -XX:MaxRAMPercentage) to leave room for native memory, and cap -XX:MaxDirectMemorySize and -XX:MaxMetaspaceSize so the sum stays below the limit");
}

/* The first frame of a stack that is not the allocator or the tracker. */
static const struct alloc_frame *culprit_frame(const struct alloc_stack *st)
{
	static const char *const skip[] = { "malloc", "calloc", "realloc", "free", "operator new",
					    "posix_memalign", "aligned_alloc", "memalign",
					    "valloc", "pvalloc", "mmap", "mmap64", "strdup",
					    "strndup", "__libc_", "offheap_" };

	for (size_t i = 0; i < st->nframes; i++) {
		const struct alloc_frame *fr = &st->frames[i];
		bool alloc = false;

		if (!fr->function)
			continue;
		for (size_t k = 0; k < sizeof(skip) / sizeof(skip[0]) && !alloc; k++)
			alloc = !strncmp(fr->function, skip[k], strlen(skip[k]));
		if (fr->module && strstr(fr->module, "liboffheap"))
			alloc = true;
		if (!alloc)
			return fr;
	}
	return st->nframes ? &st->frames[0] : NULL;
}

static void rule_malloc_sites(struct ctx *c)
{
	const struct alloc_data *d = c->p->allocs;
	const struct alloc_stack *best = NULL;
	struct trend bt = { 0 };
	int64_t total = 0;
	size_t nsites = 0;
	struct finding *f;
	const struct alloc_frame *fr;
	char a[32], b[32];
	double hours;

	if (!d)
		return;
	for (size_t i = 0; i < d->nr; i++) {
		const struct alloc_stack *st = &d->stacks[i];
		struct trend t;

		trend_fit(st->live, st->n, &t);
		if (!t.growing || t.growth < (double)MIB)
			continue;
		nsites++;
		total = sat_i64((double)total + t.growth);
		if (!best || t.growth > bt.growth) {
			best = st;
			bt = t;
		}
	}
	if (!best)
		return;
	f = add(c->r, "malloc-leak", FS_LEAK);
	hours = (double)d->span_ms / 3.6e6;
	f->bytes_per_hour = hours > 0 ? bt.growth / hours : 0;
	f->confidence = bt.r2;
	fr = culprit_frame(best);
	SET(f->title, "malloc leak: %zu allocation site%s grew %s, steadily", nsites,
	    nsites == 1 ? "" : "s", sz(a, sizeof(a), total));
	if (fr)
		SET(f->culprit, "%s (%s:%d)%s%s", fr->function ? fr->function : "?",
		    fr->file ? fr->file : "?", fr->line, fr->module ? " in " : "",
		    fr->module ? (strrchr(fr->module, '/') ? strrchr(fr->module, '/') + 1 : fr->module)
			       : "");
	else
		SET(f->culprit, "stack %" PRId64 " (no frames)", best->id);
	evidence(f, "top site: live %s, +%s over %zu intervals (R² %.2f, %zu of %zu intervals grew)",
		 format_size(a, sizeof(a), (uint64_t)(best->live_bytes < 0 ? 0 : best->live_bytes)),
		 format_size(b, sizeof(b), sat_u64(bt.growth)), best->n, bt.r2, bt.ups,
		 best->n ? best->n - 1 : 0);
	evidence(f, "the site allocated %" PRIu64 " times (%s) and freed %" PRIu64,
		 best->alloc_count, format_size(a, sizeof(a), best->alloc_bytes), best->free_count);
	SET(f->fix,
	    "free what this site allocates once it is done with (or bound the structure it feeds); 'offheap report FILE' shows the whole stacks");
}

static int cmp_finding(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->severity != y->severity)
		return x->severity < y->severity ? -1 : 1;
	return x->bytes_per_hour == y->bytes_per_hour ? 0
	       : x->bytes_per_hour > y->bytes_per_hour ? -1
							: 1;
}

void doctor_diagnose(const struct series *s, const struct doctor_probes *p,
		     struct doctor_report *r)
{
	struct ctx c = { .s = s, .p = p, .r = r };
	size_t before;

	if (s && s->n >= 3) {
		c.nt = series_trends(s, &c.t);
		c.span_s = (double)(s->pts[s->n - 1].t_ns - s->pts[0].t_ns) / 1e9;
		before = r->n;
		if (s->is_jvm) {
			rule_threads(&c);
			rule_classes(&c);
			rule_strings(&c);
			rule_direct(&c);
			rule_code(&c);
			rule_java_heap(&c);
		} else {
			rule_threads(&c);
		}
		rule_native(&c, r->n > before);
		rule_budget(&c);
		free(c.t);
	} else if (s && s->n) {
		doctor_unchecked(r, "growth: %zu sample%s, at least 3 are needed for a trend", s->n,
				 s->n == 1 ? "" : "s");
	}
	if (s && s->n)
		rule_fragmentation(&c);
	rule_malloc_sites(&c);
	if (r->n)
		qsort(r->f, r->n, sizeof(*r->f), cmp_finding);
}
