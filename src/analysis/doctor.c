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
#include "allocrank.h"
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
#define MAPPED_MIN_FILES 4
#define LEAK_MIN_CLASSES 100
#define LEAK_MIN_STRINGS 2000

#define ZLIB_FIX "close every GZIPInputStream/GZIPOutputStream/InflaterInputStream in try-with-resources and call Inflater.end()/Deflater.end() when done (a Cleaner frees them only after a GC finds them unreachable)"

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

static bool finding_named(const struct doctor_report *r, const char *pattern)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->f[i].pattern, pattern))
			return true;
	return false;
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

/*
 * The thread group that grew the most between the first and the last
 * point, the names of one family cut at different lengths counted as one
 * (named by its longest, the least cut); its growth in *delta. A series
 * built by series_add or series_load has them joined already.
 */
static const char *grown_group(const struct series *s, int *delta)
{
	const struct series_point *a = &s->pts[0], *b = &s->pts[s->n - 1];
	const char *best = NULL;
	size_t n = b->ntgroups;
	int *d = xcalloc(n ? n : 1, sizeof(*d));
	size_t *root = xcalloc(n ? n : 1, sizeof(*root));

	*delta = 0;
	for (size_t i = 0; i < n; i++) {
		const struct series_tgroup *g0 = series_point_tgroup(a, b->tgroups[i].name);

		d[i] = b->tgroups[i].count - (g0 ? g0->count : 0);
		root[i] = i;
		/* joined to the family of the first earlier group it is cut from (or to) */
		for (size_t k = 0; k < i; k++)
			if (series_same_family(b->tgroups[k].name, b->tgroups[i].name)) {
				root[i] = root[k];
				break;
			}
	}
	for (size_t i = 0; i < n; i++) {
		int sum = 0;
		const char *name = b->tgroups[i].name;

		if (root[i] != i)
			continue;
		for (size_t k = i; k < n; k++)
			if (root[k] == i) {
				sum += d[k];
				if (strlen(b->tgroups[k].name) > strlen(name))
					name = b->tgroups[k].name;
			}
		if (sum > *delta) {
			*delta = sum;
			best = name;
		}
	}
	free(d);
	free(root);
	return best;
}

/*
 * Threads that end but are never joined: their number does not rise, but
 * glibc frees a thread's stack only at pthread_join (or at its end when
 * detached), so stacks of no live thread pile up, each with its guard and
 * its touched pages.
 */
static void rule_unjoined(struct ctx *c, const struct series_trend *kept)
{
	const struct series_trend *os = tr(c, "threads");
	const struct series_trend *rss = tr(c, "counter:offheap.stacks.kept.rss");
	struct finding *f;
	char a[32];

	f = add(c->r, "thread-leak", FS_LEAK);
	rate(f, kept);
	f->bytes_per_hour = rss && rss->j.per_hour > 0 ? rss->j.per_hour : 0;
	SET(f->title, "thread leak: %+" PRId64 " threads ended in %.0f s but were never joined: each keeps its stack",
	    kept->j.last - kept->j.first, c->span_s);
	growth_line(f, "thread stacks that no live thread owns", kept, c->span_s);
	if (rss && rss->j.last > rss->j.first)
		growth_line(f, "their resident pages", rss, c->span_s);
	if (os)
		evidence(f, "threads (/proc status): %" PRId64 " at the start, %" PRId64 " at the end: the threads end, their stacks stay",
			 os->j.first, os->j.last);
	if (c->s->stack_rlimit)
		SET(f->culprit, "threads that end without pthread_join or pthread_detach: each keeps its stack mapped (%s of address space, and the pages it touched)",
		    format_size(a, sizeof(a), c->s->stack_rlimit));
	else
		SET(f->culprit, "threads that end without pthread_join or pthread_detach: each keeps its stack mapped");
	SET(f->fix,
	    "join every thread that ends (pthread_join), or make it detached (pthread_detach, or pthread_attr_setdetachstate before pthread_create; std::thread: join() or detach()); left so, thread creation fails once the address space or vm.max_map_count runs out");
}

/* Mappings of a class over the points (their number), judged like the others. */
static void count_trend(const struct ctx *c, enum region_class cls, struct trend_judgement *j)
{
	uint64_t *t = xmalloc((c->s->n + 1) * sizeof(*t));
	int64_t *y = xmalloc((c->s->n + 1) * sizeof(*y));

	for (size_t i = 0; i < c->s->n; i++) {
		t[i] = c->s->pts[i].t_ns;
		y[i] = c->s->pts[i].cls_count[cls];
	}
	trend_judge(t, y, c->s->n, MAPPED_MIN_FILES, j);
	free(t);
	free(y);
}

/*
 * Mapped data files (not libraries, not jars), or shared memory (memfd,
 * /dev/shm, shared anonymous), that pile up: more mappings all the time,
 * and more of them resident. A JVM's MappedByteBuffer is unmapped only
 * when a GC finds it unreachable; a C program's mapping only at munmap. A
 * file read through one mapping that grows resident is not this (its
 * number of mappings stays).
 */
static void rule_mapped(struct ctx *c, enum region_class cls)
{
	const struct doctor_probes *p = c->p;
	bool shm = cls == RC_SHM;
	const struct series_trend *rss = tr(c, shm ? "class:shm" : "class:file");
	const char *grown = shm ? p->shm_grown : p->files_grown;
	uint64_t from = shm ? p->shm_from : p->files_from, to = shm ? p->shm_to : p->files_to;
	struct trend_judgement n;
	struct finding *f;
	char a[32];

	if (!growing(rss, LEAK_MIN_BYTES))
		return;
	count_trend(c, cls, &n);
	if (n.kind != TREND_GROWING || n.last - n.first < MAPPED_MIN_FILES)
		return;
	f = add(c->r, shm ? "shared-memory" : "mapped-files", FS_LEAK);
	f->bytes_per_hour = rss->j.per_hour;
	f->confidence = rss->j.confidence < n.confidence ? rss->j.confidence : n.confidence;
	SET(f->title, "%s pile up: %+" PRId64 " mappings in %.0f s, %s resident",
	    shm ? "shared memory mappings" : "mapped files", n.last - n.first, c->span_s,
	    sz(a, sizeof(a), rss->j.last - rss->j.first));
	evidence(f, "mappings of %s: %" PRId64 " -> %" PRId64 " (%+" PRId64 " in %.0f s, R² %.2f)",
		 shm ? "shared memory (memfd, /dev/shm, shared anonymous)" : "data files", n.first,
		 n.last, n.last - n.first, c->span_s, n.fit.r2);
	growth_line(f, shm ? "their resident bytes (class shm)" : "their resident bytes (class file)",
		    rss, c->span_s);
	if (grown[0]) {
		evidence(f, "mappings of '%s': %" PRIu64 " -> %" PRIu64, grown, from, to);
		SET(f->culprit, "%s mapped and never unmapped: '%s' (%+" PRId64 " mappings)%s",
		    shm ? "shared memory" : "files", grown, (int64_t)(to - from),
		    c->s->is_jvm && !shm ? ", by MappedByteBuffers (FileChannel.map) still referenced" : "");
	} else {
		SET(f->culprit, "%s mapped and never unmapped%s", shm ? "shared memory" : "files",
		    c->s->is_jvm && !shm ? ": MappedByteBuffers (FileChannel.map) still referenced" : "");
	}
	if (c->s->is_jvm && !shm)
		SET(f->fix,
		    "drop the MappedByteBuffers no longer needed (a mapping goes only when a GC finds its buffer unreachable), map fewer and larger regions, or read the files through a FileChannel instead");
	else
		SET(f->fix,
		    "munmap each mapping once done with it (closing its file descriptor does not unmap it%s); 'offheap maps PID' lists them",
		    shm ? ", and a memfd or /dev/shm object lives on while mapped" : "");
}

static void rule_threads(struct ctx *c)
{
	const struct series_trend *t = tr(c, "counter:java.threads.live");
	const struct series_trend *os = tr(c, "threads"), *nmt = tr(c, "nmt:Thread");
	const struct series_trend *kept = tr(c, "counter:offheap.stacks.kept");
	const char *group;
	struct finding *f;
	int delta;
	char a[32];

	if (!growing(t, LEAK_MIN_THREADS))
		t = NULL;
	if (!t && !growing(os, LEAK_MIN_THREADS)) {
		if (growing(kept, LEAK_MIN_THREADS))
			rule_unjoined(c, kept);
		return;
	}
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
				  *vmeta = tr(c, "counter:offheap.metaspace.used"),
				  *nc = tr(c, "nmt:Class"), *nm = tr(c, "nmt:Metaspace");
	/* VM.info's figure, first and last point: current when the counter is not */
	int64_t vmeta_d = vmeta && vmeta->n >= 2 ? vmeta->j.last - vmeta->j.first : 0;
	struct finding *f;
	char a[32], b[32];

	if (!class_trend(c, &j) || j.kind != TREND_GROWING ||
	    j.last - j.first < LEAK_MIN_CLASSES)
		return;
	/*
	 * Warm-up loads classes too: the metadata must grow with them. The
	 * metaspace counter moves at GCs only (0 before the first), so without
	 * NMT a JVM that does not collect shows it through VM.info alone.
	 */
	if (!growing(meta, MIB / 2) && !growing(nm, MIB / 2) && !growing(nc, MIB / 2) &&
	    vmeta_d < MIB / 2 && j.last - j.first < 10 * LEAK_MIN_CLASSES)
		return;
	f = add(c->r, "classloader-leak", FS_LEAK);
	f->confidence = j.confidence;
	f->bytes_per_hour = meta && meta->j.per_hour > 0 ? meta->j.per_hour : 0;
	if (!f->bytes_per_hour && vmeta_d > 0 && c->span_s > 0)
		f->bytes_per_hour = (double)vmeta_d * 3600 / c->span_s;
	SET(f->title, "class loader leak: %+" PRId64 " classes loaded and not unloaded in %.0f s",
	    j.last - j.first, c->span_s);
	evidence(f, "loaded - unloaded classes: %" PRId64 " -> %" PRId64 " (%+.0f/h, R² %.2f)",
		 j.first, j.last, j.per_hour, j.fit.r2);
	if (meta && meta->j.last > meta->j.first)
		growth_line(f, "metaspace used", meta, c->span_s);
	else if (vmeta && vmeta->n >= 2)
		evidence(f, "metaspace used (VM.info): %s -> %s",
			 format_size(a, sizeof(a), (uint64_t)vmeta->j.first),
			 format_size(b, sizeof(b), (uint64_t)vmeta->j.last));
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

#define STRINGS_CULPRIT "String.intern() of unbounded keys (the StringTable keeps growing)"
#define STRINGS_FIX                                                                              \
	"stop interning unbounded values: with Jackson disable JsonFactory.Feature.INTERN_FIELD_NAMES " \
	"(and CANONICALIZE_FIELD_NAMES for random keys); replace String.intern() by a bounded cache; "  \
	"'offheap jcmd PID VM.stringtable' shows the table"

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
	else
		evidence(f, "not known: NMT Symbol, the bytes the table holds (%s)",
			 c->p->nmt_on ? "NMT unreadable" : "NMT is not on");
	SET(f->culprit, strings ? STRINGS_CULPRIT
				: "symbols created without bound (generated class, method or field names)");
	SET(f->fix, STRINGS_FIX);
}

static bool native_trend(const struct ctx *c, struct trend_judgement *j);
static const struct alloc_stack *stack_for(const struct doctor_probes *p, const char *pattern,
					   struct trend *t);

/*
 * Without NMT the direct buffers are told by their objects on the Java heap
 * (the class histogram) while native memory grows: the same verdict, with
 * a lower confidence and the missing NMT said.
 */
static struct finding *direct_without_nmt(struct ctx *c)
{
	const struct doctor_probes *p = c->p;
	struct trend_judgement j;
	struct finding *f;
	char a[32], b[32];

	if (!p->have_histogram || p->direct_objects_last < p->direct_objects_first + 50 ||
	    !native_trend(c, &j) || j.kind != TREND_GROWING || j.last - j.first < LEAK_MIN_BYTES)
		return NULL;
	f = add(c->r, "direct-buffers", FS_LEAK);
	f->bytes_per_hour = j.per_hour;
	f->confidence = j.confidence * 0.8;
	SET(f->title, "direct buffers grow: %+" PRId64 " DirectByteBuffer objects in %.0f s, native memory %s",
	    (int64_t)(p->direct_objects_last - p->direct_objects_first), c->span_s,
	    sz(a, sizeof(a), j.last - j.first));
	evidence(f, "DirectByteBuffer objects on the Java heap: %" PRIu64 " -> %" PRIu64,
		 p->direct_objects_first, p->direct_objects_last);
	evidence(f, "native resident memory (brk heap + arenas + anon): %s -> %s",
		 format_size(a, sizeof(a), (uint64_t)j.first),
		 format_size(b, sizeof(b), (uint64_t)j.last));
	evidence(f, "not known: NMT Other, the bytes the buffers hold (%s); the rate is all native growth",
		 p->nmt_on ? "NMT unreadable" : "NMT is not on");
	return f;
}

static void direct_fix(const struct ctx *c, struct finding *f)
{
	char a[32];

	if (c->p->have_flags && c->p->max_direct)
		SET(f->fix,
		    "release or pool the direct buffers (Netty: release() every ByteBuf); -XX:MaxDirectMemorySize is %s: lower it to fail fast with OutOfMemoryError: Direct buffer memory",
		    format_size(a, sizeof(a), c->p->max_direct));
	else
		SET(f->fix,
		    "release or pool the direct buffers (Netty: release() every ByteBuf); set -XX:MaxDirectMemorySize (by default as large as -Xmx) to fail fast");
}

/*
 * Direct buffers NIO takes for itself: an I/O call with a heap buffer goes
 * through a temporary direct buffer that the thread keeps in a cache of its
 * own (sun.nio.ch.Util), as large as the largest transfer, freed when the
 * thread ends. Their growth is threads that live on, or transfers that grow.
 */
static void temporary_fix(const struct ctx *c, struct finding *f)
{
	SET(f->fix,
	    "%sNIO keeps a temporary direct buffer per thread for I/O with heap buffers: use fewer, longer-lived threads for it, pass direct buffers yourself, or bound the cache with -Djdk.nio.maxCachedBufferSize=BYTES (larger transfers are then freed at once)",
	    finding_named(c->r, "thread-leak") ? "end the leaking threads (the thread-leak finding): each keeps its buffer; " : "");
}

/* The collections hsperfdata counted between the first and the last point; -1: not counted. */
static int64_t gcs_in_window(const struct series *s)
{
	const struct series_point *a, *b;
	int64_t n = 0;

	if (!s || s->n < 2)
		return -1;
	a = &s->pts[0];
	b = &s->pts[s->n - 1];
	for (int k = SC_YOUNG_GCS; k <= SC_CONC_GCS; k++) {
		if (a->counter[k] < 0 || b->counter[k] < 0) {
			if (k == SC_YOUNG_GCS)
				return -1;
			continue;
		}
		n += b->counter[k] - a->counter[k];
	}
	return n;
}

static bool no_gc_in_window(const struct ctx *c)
{
	return gcs_in_window(c->s) == 0;
}

enum direct_gc { DIRECT_NOT_ASKED, DIRECT_UNKNOWN, DIRECT_KEPT, DIRECT_DROPPED };

/*
 * What doctor's two collections (doctor_wants_gc) tell of the window's new
 * direct buffers. The window's rate of new DirectByteBuffers (the class
 * histogram counts unreachable ones too, and no GC ran) says how many the
 * gap between the collections made; when the reachable ones grew by less
 * than a twentieth of that, the program drops its buffers and the window's
 * growth was garbage no GC had freed yet; when by more, it keeps them. Too
 * few made over the gap tell nothing.
 */
static enum direct_gc direct_after_gc(const struct ctx *c)
{
	const struct doctor_probes *p = c->p;
	double made, kept;

	if (!p->have_direct_live || !p->have_histogram || c->span_s <= 0)
		return DIRECT_NOT_ASKED;
	made = (double)((int64_t)p->direct_objects_last - (int64_t)p->direct_objects_first) /
	       c->span_s * (double)p->direct_live_gap_ms / 1000;
	kept = (double)((int64_t)p->direct_live_last - (int64_t)p->direct_live_first);
	if (made < 20)
		return DIRECT_UNKNOWN;
	return kept * 20 < made ? DIRECT_DROPPED : DIRECT_KEPT;
}

static void direct_live_evidence(struct finding *f, const struct doctor_probes *p)
{
	evidence(f, "DirectByteBuffer objects still reachable after doctor's two full collections %.0f s apart: %" PRIu64 " -> %" PRIu64,
		 (double)p->direct_live_gap_ms / 1000, p->direct_live_first, p->direct_live_last);
}

/*
 * Direct buffers made and dropped faster than collections come: not a
 * leak, but worth saying, since the native memory waiting for a GC is the
 * sawtooth a user sees in the RSS.
 */
static void direct_churn(struct ctx *c)
{
	const struct doctor_probes *p = c->p;
	struct finding *f = add(c->r, "buffer-churn", FS_INFO);

	SET(f->title, "direct buffers churn, not a leak: %+" PRId64 " DirectByteBuffers made in %.0f s were dropped; a collection frees their native memory",
	    (int64_t)(p->direct_objects_last - p->direct_objects_first), c->span_s);
	evidence(f, "DirectByteBuffer objects on the Java heap, reachable or not: %" PRIu64 " -> %" PRIu64 ", and no garbage collection ran in the window",
		 p->direct_objects_first, p->direct_objects_last);
	direct_live_evidence(f, p);
	SET(f->culprit, "ByteBuffer.allocateDirect for short-lived buffers");
	SET(f->fix,
	    "none needed; to hold less native memory between collections, pool and reuse the buffers (or use heap buffers for short work); -XX:MaxDirectMemorySize bounds what waits for a GC");
}

static void rule_direct(struct ctx *c)
{
	const struct series_trend *other = tr(c, "nmt:Other");
	struct finding *f = NULL;
	enum direct_gc g = direct_after_gc(c);

	if (g == DIRECT_DROPPED) {
		direct_churn(c);
		return;
	}
	if (!other)
		f = direct_without_nmt(c);
	if (!f && !growing(other, LEAK_MIN_BYTES))
		return;
	if (!f) {
		f = add(c->r, "direct-buffers", FS_LEAK);
		rate(f, other);
		SET(f->title, "direct buffers / Unsafe memory grow: NMT Other %+.1f MiB in %.0f s",
		    (double)(other->j.last - other->j.first) / MIB, c->span_s);
		growth_line(f, "NMT Other (malloc: ByteBuffer.allocateDirect, Unsafe.allocateMemory)",
			    other, c->span_s);
	}
	SET(f->culprit,
	    "ByteBuffer.allocateDirect / Unsafe.allocateMemory (malloc site Unsafe_AllocateMemory0) kept reachable");
	direct_fix(c, f);
	if (g == DIRECT_KEPT) {
		direct_live_evidence(f, c->p);
	} else if (no_gc_in_window(c)) {
		/*
		 * A buffer's memory goes only when a GC finds the buffer
		 * unreachable: without one in the window, buffers dropped by a
		 * healthy program grow the same way as kept ones.
		 */
		evidence(f, "no garbage collection ran in the window: buffers already dropped are freed only by one, so a longer window (or one with a GC) tells kept from dropped");
		if (g == DIRECT_UNKNOWN)
			direct_live_evidence(f, c->p);
		f->confidence *= 0.7;
	}
}

bool doctor_wants_gc(const struct series *s, const struct doctor_probes *p)
{
	struct doctor_report r;
	bool want = false;

	if (!s || !s->is_jvm || s->n < 3 || !p->have_histogram || p->have_direct_live ||
	    p->direct_objects_last <= p->direct_objects_first || gcs_in_window(s) != 0)
		return false;
	doctor_report_init(&r);
	doctor_diagnose(s, p, &r);
	for (size_t i = 0; i < r.n; i++)
		if (r.f[i].severity == FS_LEAK && !strcmp(r.f[i].pattern, "direct-buffers"))
			want = true;
	doctor_report_release(&r);
	return want;
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
	int64_t max = -1, full0 = -1, full1 = -1, conc0 = -1, conc1 = -1;
	size_t m = 0;
	struct finding *f;
	char a[32], b[32], d[32];

	for (size_t i = 1; i < c->s->n; i++) {
		const struct series_point *p = &c->s->pts[i], *q = &c->s->pts[i - 1];
		int64_t g = p->counter[SC_YOUNG_GCS] + p->counter[SC_FULL_GCS];

		if (p->counter[SC_HEAP_USED] < 0 || p->counter[SC_YOUNG_GCS] < 0)
			continue;
		if (full0 < 0 && conc0 < 0) {
			full0 = q->counter[SC_FULL_GCS];
			conc0 = q->counter[SC_CONC_GCS];
		}
		full1 = p->counter[SC_FULL_GCS];
		conc1 = p->counter[SC_CONC_GCS];
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
	/*
	 * Young collections promote what survives them, garbage included: the
	 * old generation of a busy healthy JVM fills until a collection that
	 * looks at it (a full one; G1's or generational ZGC's concurrent cycle).
	 * Without one in the window the growth is promoted objects, live or not.
	 */
	if ((full0 >= 0 || conc0 >= 0) && full1 == full0 && conc1 == conc0) {
		f = add(c->r, "java-heap", FS_WARNING);
		SET(f->title, "the Java heap after young collections grows: %s in %.0f s over %zu collections, with no full collection: promoted objects, live or not",
		    sz(a, sizeof(a), j.last - j.first), c->span_s, m);
		SET(f->culprit,
		    "objects promoted to the old generation: kept reachable (a leak) or garbage a full collection would free; the window cannot tell");
		SET(f->fix,
		    "watch longer ('offheap watch PID'): a leak still grows after full collections; 'offheap jcmd %d GC.class_histogram' counts the live objects (it runs a full collection)",
		    (int)c->s->pid);
	} else {
		f = add(c->r, "java-heap", FS_LEAK);
		SET(f->title, "the Java heap after GC grows: %s in %.0f s over %zu collections",
		    sz(a, sizeof(a), j.last - j.first), c->span_s, m);
		SET(f->culprit,
		    "objects kept reachable on the Java heap (a collection or cache without bound)");
		SET(f->fix,
		    "take a heap dump ('offheap jcmd %d GC.heap_dump /tmp/heap.hprof') and open it in a heap analyser (Eclipse MAT, VisualVM) to find what holds the objects",
		    (int)c->s->pid);
	}
	f->bytes_per_hour = j.per_hour;
	f->confidence = j.confidence;
	evidence(f, "heap used after GC: %s -> %s (%s/h, R² %.2f)",
		 format_size(a, sizeof(a), (uint64_t)j.first),
		 format_size(b, sizeof(b), (uint64_t)j.last), sz(d, sizeof(d), sat_i64(j.per_hour)),
		 j.fit.r2);
	if (full0 >= 0 || conc0 >= 0)
		evidence(f, "collections of the old generation in the window: %" PRId64 " full, %" PRId64 " concurrent",
			 full0 >= 0 ? full1 - full0 : 0, conc0 >= 0 ? conc1 - conc0 : 0);
	if (max > 0)
		evidence(f, "maximum heap: %s", format_size(a, sizeof(a), (uint64_t)max));
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
		/* the stacks of ended threads are the thread rules' (rule_unjoined) */
		if (p->counter[SC_STACKS_KEPT_RSS] > 0 && p->counter[SC_STACKS_KEPT_RSS] <= y[i])
			y[i] -= p->counter[SC_STACKS_KEPT_RSS];
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

/* Native growth the category rules that fired account for, from their NMT categories. */
static int64_t claimed_by_rules(const struct ctx *c)
{
	static const struct {
		const char *pattern, *nmt[2];
	} claims[] = {
		{ "direct-buffers", { "nmt:Other", NULL } },
		{ "buffer-churn", { "nmt:Other", NULL } },
		{ "thread-leak", { "nmt:Thread", NULL } },
		{ "interned-strings", { "nmt:Symbol", NULL } },
		{ "classloader-leak", { "nmt:Class", "nmt:Metaspace" } },
		{ "code-cache", { "nmt:Code", NULL } },
	};
	int64_t sum = 0;

	for (size_t i = 0; i < c->r->n; i++)
		for (size_t k = 0; k < sizeof(claims) / sizeof(claims[0]); k++) {
			if (strcmp(c->r->f[i].pattern, claims[k].pattern))
				continue;
			for (size_t m = 0; m < 2 && claims[k].nmt[m]; m++) {
				const struct series_trend *t = tr(c, claims[k].nmt[m]);

				if (t && t->j.last > t->j.first)
					sum += t->j.last - t->j.first;
			}
		}
	return sum;
}

/* Growth of a count from the first to the last probe that reaches the floor. */
static bool count_grew(bool have, uint64_t first, uint64_t last, uint64_t floor)
{
	return have && last > first && last - first >= floor;
}

static bool stack_is_zlib(const struct alloc_stack *st);

/* What zlib_batch found: the zlib sites' live bytes before and after their largest fall. */
struct zlib_batch {
	int64_t low, high, after; /* the low the climb started from, its top, after the fall */
	uint64_t ms;		  /* how long the fall took (one interval or two) */
};

/*
 * Whether the zlib sites of the allocation data were freed in a batch: their
 * live bytes, summed per interval, climbed to at least twice a low and then
 * lost three quarters of it, and 8 MiB, within one interval or two, with the JVM
 * collecting in the window (or its collections not counted). That is the
 * Cleaner freeing the states of Inflaters and Deflaters that nobody ended,
 * after the collection that found them unreachable, all at once: a program
 * that ends its streams frees them as it goes (half of them in an interval
 * as long as their life, when its load stops), one that keeps them never. The
 * counts in the malloc heaps at doctor's first and last look cannot tell: a
 * collection between them may leave as many states as before.
 */
static bool zlib_batch(const struct ctx *c, struct zlib_batch *out)
{
	const struct alloc_data *d = c->p->allocs;
	size_t n = 0;
	int64_t *sum, *low;
	bool found = false;

	if (!d || !c->s->is_jvm || gcs_in_window(c->s) == 0)
		return false;
	for (size_t i = 0; i < d->nr; i++)
		if (d->stacks[i].n > n && stack_is_zlib(&d->stacks[i]))
			n = d->stacks[i].n;
	if (n < 4)
		return false;
	sum = xcalloc(n, sizeof(*sum));
	low = xcalloc(n, sizeof(*low));
	/* the stacks of the run with the most intervals: doctor's window, or the last image */
	for (size_t i = 0; i < d->nr; i++) {
		const struct alloc_stack *st = &d->stacks[i];

		if (st->n == n && stack_is_zlib(st))
			for (size_t k = 0; k < n; k++)
				sum[k] = sat_i64((double)sum[k] + (double)st->live[k]);
	}
	for (size_t k = 0; k < n; k++) /* the lowest point up to k */
		low[k] = k && low[k - 1] < sum[k] ? low[k - 1] : sum[k];
	/*
	 * A fall within one interval, or two: the Cleaner thread of a loaded
	 * machine may be descheduled in the middle of its batch. Reckoned in
	 * doubles: a hostile recording's sums may reach the ends of int64.
	 */
	for (size_t k = 1; k < n; k++)
		for (size_t span = 1; span <= 2 && span <= k; span++) {
			size_t j = k - span;
			double top = (double)sum[j], fall = top - (double)sum[k];

			if (fall >= (double)(8 * MIB) && fall * 4 >= 3 * top && top >= 2 * (double)low[j] &&
			    (!found || fall > (double)out->high - (double)out->after)) {
				out->low = low[j];
				out->high = sum[j];
				out->after = sum[k];
				out->ms = d->span_ms * span / (n - 1);
				found = true;
			}
		}
	free(sum);
	free(low);
	return found;
}

static void zlib_batch_evidence(struct finding *f, const struct ctx *c, const struct zlib_batch *b)
{
	int64_t gcs = gcs_in_window(c->s);
	char x[32], y[32], z[32];

	evidence(f, "doctor's recording: the zlib sites' live bytes climbed from %s to %s, then fell to %s within %.1f s: freed at once, after a collection (%s)",
		 format_size(x, sizeof(x), b->low > 0 ? (uint64_t)b->low : 0),
		 format_size(y, sizeof(y), b->high > 0 ? (uint64_t)b->high : 0),
		 format_size(z, sizeof(z), b->after > 0 ? (uint64_t)b->after : 0), (double)b->ms / 1000,
		 gcs > 0 ? "the JVM collected in the window" : "the JVM's collections were not counted");
}

/*
 * Inputs of the native rule that were missing: each lowers the confidence
 * and is named in the evidence, so a verdict is never silently weaker.
 */
static double missing_input(struct finding *f, double conf, const char *what, const char *why)
{
	evidence(f, "not known: %s (%s)", what, why && why[0] ? why : "not read");
	return conf * 0.8;
}

/*
 * Native memory (brk heap, arenas, anonymous mappings) that grows. In a JVM
 * with NMT the growth NMT accounts for is named by the category rules
 * (direct buffers, threads, symbols...); what NMT does not see is judged
 * here, as a finding of its own even when a category rule fired too: a JVM
 * can leak direct buffers and zlib streams at once. zlib is named when
 * either count says so — the zlib states in the malloc heaps or the
 * Inflater/Deflater objects on the Java heap — with or without NMT; the
 * inputs that are missing lower the confidence and are named, never change
 * the verdict to another pattern.
 */

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

/*
 * What the live bytes of every allocation site grew over doctor's own
 * attached window (the sampling window): what malloc'd memory was kept.
 * dflt when doctor did not attach (another's recording covers another span).
 */
static int64_t live_growth(const struct doctor_probes *p, int64_t dflt)
{
	const struct alloc_data *d = p->allocs;
	int64_t sum = 0;

	if (!d || !p->allocs_sample || !d->nr)
		return dflt;
	for (size_t i = 0; i < d->nr; i++) {
		const struct alloc_stack *st = &d->stacks[i];

		/*
		 * A site counts as it does for growing_stack: still rising in
		 * the window's second half. One that rose and fell back (a ring
		 * of blocks filling and turning over) keeps no more than before.
		 */
		if (st->n >= 2 && st->live[st->n - 1] > st->live[st->n / 2])
			sum = sat_i64((double)sum + ((double)st->live[st->n - 1] -
						     (double)st->live[0]));
	}
	return sum;
}

/*
 * Whether glibc's own count of bytes in use rose by less than a quarter of
 * grow: a JVM's VM.info C-Heap outstanding, or the malloc probe's chunks in
 * use at doctor's first and last look (any process). Attached, the
 * recording's live bytes cannot tell: they miss the frees of older blocks.
 */
static bool inuse_not_following(const struct series_trend *cheap, const struct doctor_probes *p,
				double grow)
{
	if (cheap && cheap->n >= 2)
		return (double)(cheap->j.last - cheap->j.first) * 4 < grow;
	return p->have_inuse_delta && (double)p->inuse_delta * 4 < grow;
}

/*
 * Growth of the malloc heaps (not anonymous mmaps) that what is in use did
 * not follow: less than a quarter of it kept by the sites doctor's own window
 * saw (live_d), or by glibc's own count of bytes in use (a JVM's VM.info
 * C-Heap outstanding, its first and last point).
 */
static bool held_by_malloc(const char *cls, int64_t live_d, const struct series_trend *cheap,
			   const struct doctor_probes *p, int64_t grow)
{
	if (!strcmp(cls, "anon"))
		return false;
	return live_d * 4 < grow || inuse_not_following(cheap, p, grow);
}

/*
 * A JVM's native growth that nothing was seen making: glibc's bytes in use
 * (VM.info) did not follow it, doctor's recording saw no site outside the
 * JVM's own grow, and the mmap trace saw nothing kept. What is left is
 * memory mapped before the window and touched now (code cache, GC
 * structures, metaspace, stacks): first use, which levels off.
 */
static bool nothing_seen_making(const struct ctx *c, const struct series_trend *cheap,
				int64_t grow)
{
	const struct doctor_probes *p = c->p;
	struct trend t;

	return p->mmap_traced && !p->mmap_site && p->allocs && p->allocs_sample && cheap &&
	       cheap->n >= 2 && (cheap->j.last - cheap->j.first) * 4 < grow &&
	       !stack_for(p, "native-outside-nmt", &t);
}

static void rule_native(struct ctx *c, bool explained_by_rules)
{
	struct trend_judgement j;
	const struct series_trend *cheap = tr(c, "counter:offheap.cheap.outstanding");
	const struct doctor_probes *p = c->p;
	bool nmt_known, zlib_states, zlib_objects, zlib_gc, zlib;
	struct zlib_batch zb;
	int64_t nmt_d, d, out, cls_d, live_d;
	const char *cls;
	struct finding *f;
	char a[32], b[32], e[32];
	double conf, share;

	if (!native_trend(c, &j) || j.kind != TREND_GROWING || j.last - j.first < LEAK_MIN_BYTES)
		return;
	d = j.last - j.first;
	nmt_d = nmt_native_growth(c, &nmt_known);
	out = nmt_known ? d - (nmt_d > 0 ? nmt_d : 0) : d;
	cls = grown_class(c->s, &cls_d);
	live_d = live_growth(p, d);
	/* sampled counts: the growth must also stand out of twice their error */
	zlib_states = count_grew(p->have_zlib, p->zlib_first, p->zlib_last, 50) &&
		      (double)(p->zlib_last - p->zlib_first) >
			      2 * hypot((double)p->zlib_err_first, (double)p->zlib_err_last);
	/*
	 * The histogram counts unreachable objects too: Deflaters end()ed and
	 * waiting for a GC hold no zlib state. When every byte of the malloc
	 * heaps was read and the states did not grow, the objects are not zlib's
	 * leak.
	 */
	zlib_objects = count_grew(p->have_histogram, p->zlib_objects_first,
				  p->zlib_objects_last, 50) &&
		       !(p->have_zlib && !zlib_states && p->heap_read_first >= p->heap_bytes_first &&
			 p->heap_read_last >= p->heap_bytes_last);
	zlib_gc = zlib_batch(c, &zb);
	zlib = zlib_states || zlib_objects || zlib_gc;
	/*
	 * NMT counts what the JVM asked malloc for, glibc hands out more
	 * (headers, rounding), and NMT's committed memory is not all resident:
	 * without a zlib count, what is left outside NMT must be most of the
	 * growth, and large on its own when a category rule already named
	 * NMT's part. With a zlib count it is zlib's, less what the category
	 * rules that fired claim.
	 */
	if (zlib) {
		out = d - claimed_by_rules(c);
		if (out < LEAK_MIN_BYTES)
			return;
	} else if (c->s->is_jvm && nmt_known) {
		if (nmt_d * 3 >= d || (explained_by_rules && out < 8 * MIB))
			return;
	} else if (c->s->is_jvm && explained_by_rules) {
		/* no NMT: a category rule (threads, strings) already names this growth */
		return;
	}
	share = d > 0 ? (double)out / (double)d : 1;
	if (zlib) {
		f = add(c->r, "zlib-inflater", FS_LEAK);
		SET(f->title, "zlib streams never ended%s: native memory outside %s grows %s in %.0f s",
		    zlib_states || zlib_objects ? "" : ", left to the Cleaner",
		    !c->s->is_jvm ? "the heap" : nmt_known ? "NMT" : "the Java heap",
		    sz(a, sizeof(a), out), c->span_s);
		if (zlib_gc)
			zlib_batch_evidence(f, c, &zb);
		if (zlib_states)
			SET(f->culprit,
			    "java.util.zip.Inflater/Deflater (GZIPInputStream, InflaterInputStream, ZipFile entries) never closed or end()ed: %" PRIu64 " zlib stream states live in the malloc arenas (%+" PRId64 " while sampled)",
			    p->zlib_last, (int64_t)(p->zlib_last - p->zlib_first));
		else
			SET(f->culprit,
			    "java.util.zip.Inflater/Deflater (GZIPInputStream, InflaterInputStream, ZipFile entries) never closed or end()ed: %" PRIu64 " Inflater/Deflater objects on the heap (%+" PRId64 " while sampled)",
			    p->zlib_objects_last,
			    (int64_t)(p->zlib_objects_last - p->zlib_objects_first));
		if (!zlib_states && !zlib_objects)
			SET(f->culprit,
			    "java.util.zip.Inflater/Deflater (GZIPInputStream, InflaterInputStream, ZipFile entries) never closed or end()ed, left to the Cleaner: their states are freed only in batches, after collections, and the malloc heaps grow around them");
		SET(f->fix, ZLIB_FIX);
	} else if (held_by_malloc(cls, live_d, cheap, p, c->s->is_jvm ? out : d)) {
		/*
		 * The malloc heaps grew but what is allocated and kept did not, so
		 * malloc holds freed chunks: a healthy server under load, threads
		 * that free mixed sizes around long-lived blocks. A leak (a JNI
		 * library's too) keeps its blocks in use.
		 */
		f = add(c->r, c->s->is_jvm ? "native-outside-nmt" : "native-growth", FS_WARNING);
		SET(f->title, "%s grows %s in %.0f s but the live allocations do not: held by malloc, not a leak",
		    !c->s->is_jvm ? "malloc memory" : nmt_known ? "native memory outside NMT"
							    : "native memory outside the Java heap",
		    sz(a, sizeof(a), c->s->is_jvm ? out : d), c->span_s);
		evidence(f, "live bytes of every allocation site while doctor was attached: %s (at most: blocks from before the attach are not seen freed)",
			 sz(a, sizeof(a), live_d));
		if (!cheap && p->have_inuse_delta)
			evidence(f, "malloc chunks in use (glibc's count, read in the heaps at the first and last look): %s",
				 sz(a, sizeof(a), p->inuse_delta));
		SET(f->culprit,
		    "glibc keeps the freed chunks in its arenas (one per thread): threads that malloc and free mixed sizes around long-lived blocks grow the heaps");
		f->held = true;
		SET(f->fix,
		    "MALLOC_ARENA_MAX=2 (or 4) in the environment; malloc_trim(0) after large frees (a JVM: -XX:TrimNativeHeapInterval, JDK 17.0.9+, 21.0.1+); or another allocator (jemalloc); watch longer to see it level off");
	} else if (c->s->is_jvm && nothing_seen_making(c, cheap, nmt_known ? out : d)) {
		/*
		 * With NMT on too: what grows outside it while no site outside
		 * the JVM grew, nothing mapped was kept and glibc's bytes in
		 * use did not follow is glibc holding freed memory in arena
		 * heaps the kernel merged into anonymous mappings (which
		 * held_by_malloc cannot tell from mmaps), or first use.
		 */
		f = add(c->r, "native-outside-nmt", FS_WARNING);
		SET(f->title, "native memory outside %s grows %s in %.0f s, but nothing was seen making it: first use, not a leak by the evidence",
		    nmt_known ? "NMT" : "the Java heap", sz(a, sizeof(a), nmt_known ? out : d),
		    c->span_s);
		SET(f->culprit,
		    "memory the JVM mapped before the window, touched now (code cache, GC structures, metaspace, thread stacks): none of it was malloc'd, mapped or allocated by a site outside the JVM while doctor watched");
		SET(f->fix,
		    "watch it longer ('offheap watch PID'): first use levels off, a leak does not; -XX:NativeMemoryTracking=summary names the JVM's categories");
		evidence(f, "doctor's recording (attached for %.0f s): no allocation site outside the JVM's own grew; the mmap trace: nothing it saw mapped was kept",
			 (double)p->allocs->span_ms / 1000);
	} else if (c->s->is_jvm) {
		f = add(c->r, "native-outside-nmt", FS_LEAK);
		SET(f->title, "native memory outside %s grows %s in %.0f s",
		    nmt_known ? "NMT" : "the Java heap", sz(a, sizeof(a), out), c->span_s);
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
	/* the part outside NMT is this finding's; NMT's part is the category rules' */
	f->bytes_per_hour = j.per_hour * share;
	conf = j.confidence;
	evidence(f, "native resident memory (brk heap + arenas + anon): %s -> %s (%s/h, R² %.2f)",
		 format_size(a, sizeof(a), (uint64_t)j.first), format_size(b, sizeof(b), (uint64_t)j.last),
		 sz(e, sizeof(e), sat_i64(j.per_hour)), j.fit.r2);
	evidence(f, "class %s grew most: %s", cls, sz(a, sizeof(a), cls_d));
	if (nmt_known)
		evidence(f, "NMT committed outside the Java heap moved %s%s; this finding's part: %s",
			 explained_by_rules ? "" : "only ", sz(a, sizeof(a), nmt_d),
			 sz(b, sizeof(b), out));
	if (cheap && cheap->n >= 2)
		evidence(f, "glibc C-Heap outstanding (VM.info): %s -> %s",
			 format_size(a, sizeof(a), (uint64_t)cheap->j.first),
			 format_size(b, sizeof(b), (uint64_t)cheap->j.last));
	if (p->have_zlib)
		zlib_evidence(f, p);
	if (p->have_histogram)
		evidence(f, "Inflater/Deflater objects on the Java heap: %" PRIu64 " -> %" PRIu64,
			 p->zlib_objects_first, p->zlib_objects_last);
	if (p->have_strings && p->strings_last != p->strings_first)
		evidence(f, "StringTable entries: %" PRIu64 " -> %" PRIu64, p->strings_first,
			 p->strings_last);
	if (!c->s->is_jvm)
		goto out;
	/* What would have told this growth apart, and was not there. */
	if (!nmt_known)
		conf = missing_input(f, conf, "what NMT accounts for", p->nmt_on ? "NMT unreadable"
										: "NMT is not on");
	if (!p->have_zlib)
		conf = missing_input(f, conf, "zlib states in the malloc heaps", p->zlib_missing);
	if (!p->have_histogram)
		conf = missing_input(f, conf, "Inflater/Deflater objects", p->histogram_missing);
	if (!p->have_strings && !nmt_known)
		conf = missing_input(f, conf, "StringTable growth", p->strings_missing);
out:
	f->confidence = conf;
}

/*
 * zlib states that rose in the malloc heaps while native memory did not
 * grow steadily (rule_native made no finding): a program that leaves its
 * Inflaters and Deflaters to the Cleaner, whose GCs free them in batches,
 * so the memory saws up and down while the states it holds between GCs
 * pile up. Every byte of the heaps read (or a rise beyond twice the
 * sampling error), 50 states and an eighth more at least; or, whatever the
 * two counts, doctor's recording saw the batch itself (zlib_batch).
 */
static void rule_zlib_count(struct ctx *c)
{
	const struct doctor_probes *p = c->p;
	uint64_t rise = p->zlib_last > p->zlib_first ? p->zlib_last - p->zlib_first : 0;
	bool objects = p->have_histogram && p->zlib_objects_last > p->zlib_objects_first;
	struct zlib_batch zb;
	struct finding *f;
	bool counted, batch;

	if (!c->s->is_jvm || finding_named(c->r, "zlib-inflater"))
		return;
	counted = p->have_zlib && rise >= 50 && rise * 8 >= p->zlib_first &&
		  (double)rise > 2 * hypot((double)p->zlib_err_first, (double)p->zlib_err_last);
	batch = zlib_batch(c, &zb);
	if (!counted && !batch)
		return;
	f = add(c->r, "zlib-inflater", FS_LEAK);
	/*
	 * The histogram may have been taken on either side of a collection
	 * (the objects left to the Cleaner go with it): objects that did not
	 * rise lower the confidence, they do not undo an exact count.
	 */
	f->confidence = counted ? (objects ? 0.7 : 0.5) : 0.6;
	if (counted)
		SET(f->title, "zlib streams never ended: %" PRIu64 " -> %" PRIu64 " zlib stream states in the malloc heaps in %.0f s",
		    p->zlib_first, p->zlib_last, c->span_s);
	else
		SET(f->title, "zlib streams never ended, left to the Cleaner: their states are freed in batches after collections (%s at once while doctor watched)",
		    format_size((char[32]){ 0 }, 32, sat_u64((double)zb.high - (double)zb.after)));
	if (batch)
		zlib_batch_evidence(f, c, &zb);
	if (p->have_zlib)
		zlib_evidence(f, p);
	if (p->have_histogram)
		evidence(f, "Inflater/Deflater objects on the Java heap: %" PRIu64 " -> %" PRIu64,
			 p->zlib_objects_first, p->zlib_objects_last);
	evidence(f, "native memory did not grow steadily: collections free such streams in batches, and the program makes them again");
	if (p->have_zlib)
		SET(f->culprit,
		    "java.util.zip.Inflater/Deflater (GZIPInputStream, InflaterInputStream, ZipFile entries) never closed or end()ed, left to the Cleaner: %" PRIu64 " zlib stream states live in the malloc arenas (%+" PRId64 " while sampled)",
		    p->zlib_last, (int64_t)p->zlib_last - (int64_t)p->zlib_first);
	else
		SET(f->culprit,
		    "java.util.zip.Inflater/Deflater (GZIPInputStream, InflaterInputStream, ZipFile entries) never closed or end()ed, left to the Cleaner: their states are freed only in batches, after collections");
	SET(f->fix, ZLIB_FIX);
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
	/* beside a leak, its freed chunks are not the whole story: not "not a leak" */
	SET(f->title, "malloc fragmentation%s: %s of the malloc heaps is free but held",
	    doctor_has_leak(c->r) ? "" : ", not a leak", format_size(a, sizeof(a), p->chunk_free));
	evidence(f, "malloc heaps (brk + %" PRIu64 " arenas): resident %s, chunks in use %s, free %s",
		 p->arenas, format_size(a, sizeof(a), p->malloc_rss),
		 format_size(b, sizeof(b), p->chunk_inuse), format_size(d, sizeof(d), p->chunk_free));
	SET(f->culprit,
	    "glibc keeps freed chunks inside its arenas (one per thread, up to 8 x cores): %s, RSS stays high",
	    p->chunk_inuse * 2 < p->chunk_free && !doctor_has_leak(c->r) ? "live data is small"
									   : "much of it is free");
	/* TrimNativeHeapInterval: offered when this JVM's own flags list it (17.0.15 has it) */
	if (!c->s->is_jvm)
		SET(f->fix,
		    "MALLOC_ARENA_MAX=2 (or 4) in the environment; call malloc_trim(0) after large frees; or MALLOC_TRIM_THRESHOLD_ / a different allocator (jemalloc)");
	else if (p->have_flags && p->trim_native_flag)
		SET(f->fix,
		    "MALLOC_ARENA_MAX=2 (or 4) in the JVM's environment; 'offheap jcmd PID System.trim_native_heap' to give it back now; or %s-XX:TrimNativeHeapInterval=60000 (this JVM has the flag)",
		    p->trim_native_flag == 2 ? "-XX:+UnlockExperimentalVMOptions " : "");
	else
		SET(f->fix,
		    "MALLOC_ARENA_MAX=2 (or 4) in the JVM's environment; 'offheap jcmd PID System.trim_native_heap' to give it back now%s",
		    p->have_flags ? " (this JVM has no TrimNativeHeapInterval flag)" : "");
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

/*
 * A site's live bytes over the window, judged as the series are (intervals
 * evenly spaced over the span): steady growth of at least a MiB, not one
 * jump (a compiler thread's arena growing once while a JVM warms up) nor a
 * climb that stopped. *t is the fit, *confidence the judgement's.
 */
static bool site_grows(const struct alloc_data *d, const struct alloc_stack *st,
		       struct trend *t, double *confidence)
{
	struct trend_judgement j;
	uint64_t step, *tn;

	if (st->n < 3)
		return false;
	step = d->span_ms ? d->span_ms * 1000000u / (st->n - 1) : 1000000000u;
	tn = xmalloc(st->n * sizeof(*tn));
	for (size_t i = 0; i < st->n; i++)
		tn[i] = (uint64_t)i * (step ? step : 1);
	trend_judge(tn, st->live, st->n, MIB, &j);
	free(tn);
	*t = j.fit;
	*confidence = j.confidence;
	return j.kind == TREND_GROWING && t->growth >= (double)MIB;
}

/*
 * A JVM's own housekeeping: a site that allocates in libjvm.so with no Java
 * frame above it (a GC's mark bitmaps, the compiler's arenas). It grows
 * with the Java heap and the code, is what NMT's categories count, and is
 * not a malloc leak of the program: a Java call that leads to the JVM's
 * malloc (Unsafe.allocateMemory, String.intern) has its Java frames.
 */
static bool jvm_housekeeping(const struct alloc_stack *st)
{
	const struct alloc_frame *fr = allocrank_past_allocator(st);

	for (size_t i = 0; i < st->nframes; i++)
		if (allocrank_frame_is_java(&st->frames[i]))
			return false;
	return fr && fr->module && strstr(fr->module, "libjvm.so");
}

/* A frame of st is the native function fn. */
static bool stack_calls(const struct alloc_stack *st, const char *fn)
{
	for (size_t i = 0; i < st->nframes; i++)
		if (st->frames[i].function && !strcmp(st->frames[i].function, fn))
			return true;
	return false;
}

/* The kinds of growing site rule_malloc_sites makes a finding of, each its own. */
enum site_kind { SITE_ANY, SITE_DIRECT, SITE_INTERN, SITE_ZLIB, SITE_OTHER };

static const char *java_method(const struct alloc_frame *fr, char *buf, size_t n);

/*
 * Whether a Java frame of st is method name ("pkg.Class.method"), or with
 * prefix, one whose name starts with it (allocateMemory0 for allocateMemory).
 */
static bool stack_has_method(const struct alloc_stack *st, const char *name, bool prefix)
{
	size_t len = strlen(name);
	char a[160];

	for (size_t i = 0; i < st->nframes; i++) {
		const char *m;

		if (allocrank_frame_is_java(&st->frames[i]) &&
		    (m = java_method(&st->frames[i], a, sizeof(a))) && !strncmp(m, name, len) &&
		    (prefix || !m[len] || m[len] == '(' || m[len] == ' '))
			return true;
	}
	return false;
}

/* A stack through String.intern: the JVM's entry, or the Java method when the walk has it. */
static bool stack_interns(const struct alloc_stack *st)
{
	return stack_calls(st, "JVM_InternString") ||
	       stack_has_method(st, "java.lang.String.intern", false);
}

static bool stack_is_direct(const struct alloc_stack *st);

/*
 * A direct buffer's site by the native Unsafe_AllocateMemory0 or by the Java
 * method ByteBuffer.allocateDirect (stack_is_direct): Temurin 25's stacks go
 * from Unsafe.allocateMemory0 in Java straight to os::malloc.
 */
static enum site_kind site_kind_of(const struct ctx *c, const struct alloc_stack *st)
{
	if (!c->s || !c->s->is_jvm)
		return SITE_ANY;
	if (stack_is_direct(st))
		return SITE_DIRECT;
	if (stack_interns(st))
		return SITE_INTERN;
	return stack_is_zlib(st) ? SITE_ZLIB : SITE_OTHER;
}

static bool reaches_program(const struct alloc_stack *st);
static bool program_takes_over(double prog, double best);

/* The finding of the sites of one kind that grew steadily, if any did. */
static void malloc_sites_of(struct ctx *c, enum site_kind kind)
{
	const struct alloc_data *d = c->p->allocs;
	const struct alloc_stack *best = NULL, *best_p = NULL;
	struct trend bt = { 0 }, tp = { 0 };
	double best_conf = 0, conf_p = 0;
	int64_t total = 0;
	size_t nsites = 0;
	struct allocrank_culprits *cu;
	struct finding *f;
	const struct alloc_frame *via = NULL;
	char a[32], b[32], site[400];
	const char *pattern;
	double hours;
	bool direct;

	/* the site grew with garbage no GC had freed (rule_direct said so) */
	if (kind == SITE_DIRECT && direct_after_gc(c) == DIRECT_DROPPED)
		return;
	for (size_t i = 0; i < d->nr; i++) {
		const struct alloc_stack *st = &d->stacks[i];
		struct trend t;
		double conf;

		if ((c->s && c->s->is_jvm && jvm_housekeeping(st)) || site_kind_of(c, st) != kind ||
		    !site_grows(d, st, &t, &conf))
			continue;
		nsites++;
		total = sat_i64((double)total + t.growth);
		if (!best || t.growth > bt.growth) {
			best = st;
			bt = t;
			best_conf = conf;
		}
		if (reaches_program(st) && (!best_p || t.growth > tp.growth)) {
			best_p = st;
			tp = t;
			conf_p = conf;
		}
	}
	if (!best)
		return;
	/*
	 * Attached, a site's live bytes rise by the blocks it made since the
	 * attach whatever it frees of those made before: when glibc's own count
	 * of bytes in use (a JVM's VM.info) did not follow, that is turnover.
	 */
	if (c->p->allocs_sample && inuse_not_following(tr(c, "counter:offheap.cheap.outstanding"),
						       c->p, bt.growth))
		return;
	/* the program's code over its path recorded without it (growing_stack) */
	if (best_p && best_p != best && program_takes_over(tp.growth, bt.growth)) {
		best = best_p;
		bt = tp;
		best_conf = conf_p;
	}
	/*
	 * In a JVM the site can tell the pattern the series alone (NMT Other,
	 * the class histogram, a noisy native total) did not: malloc under
	 * Unsafe_AllocateMemory0 is a direct buffer's (ByteBuffer.allocateDirect)
	 * or Unsafe's, a stack through zlib an Inflater's or a Deflater's.
	 */
	pattern = kind == SITE_DIRECT ? "direct-buffers"
		  : kind == SITE_ZLIB ? "zlib-inflater"
		  : kind == SITE_INTERN ? "interned-strings"
					: "malloc-leak";
	if (strcmp(pattern, "malloc-leak") &&
	    (finding_named(c->r, pattern) ||
	     (kind != SITE_INTERN && finding_named(c->r, "native-outside-nmt"))))
		return; /* named already; culprits_from_windows names its code */
	direct = !strcmp(pattern, "direct-buffers");
	f = add(c->r, pattern, FS_LEAK);
	hours = (double)d->span_ms / 3.6e6;
	f->bytes_per_hour = hours > 0 ? bt.growth / hours : 0;
	f->confidence = best_conf;
	cu = allocrank_culprits_new(d);
	if (direct)
		SET(f->title, "direct buffers / Unsafe memory grow: the site under Unsafe_AllocateMemory0 grew %s, steadily",
		    sz(a, sizeof(a), bt.growth > 0 ? sat_i64(bt.growth) : 0));
	else if (kind == SITE_INTERN)
		SET(f->title, "interned strings grow: the JVM's site under String.intern grew %s, steadily",
		    sz(a, sizeof(a), bt.growth > 0 ? sat_i64(bt.growth) : 0));
	else if (strcmp(pattern, "malloc-leak"))
		SET(f->title, "zlib streams never ended: the site through zlib grew %s, steadily",
		    sz(a, sizeof(a), bt.growth > 0 ? sat_i64(bt.growth) : 0));
	else
		SET(f->title, "malloc leak: %zu allocation site%s grew %s, steadily", nsites,
		    nsites == 1 ? "" : "s", sz(a, sizeof(a), total));
	if (kind == SITE_INTERN) /* culprits_from_windows adds who interns ("by") */
		SET(f->culprit, "%s", STRINGS_CULPRIT);
	else if (allocrank_culprit(cu, best, &via))
		SET(f->culprit, "%s", allocrank_site_label(cu, best, site, sizeof(site)));
	else
		SET(f->culprit, "stack %" PRId64 " (no frames)", best->id);
	if (via)
		evidence(f, "it allocates through %s, which only forwards the allocation",
			 allocrank_frame_name(via, site, sizeof(site)));
	allocrank_culprits_free(cu);
	evidence(f, "top site: live %s, +%s over %zu intervals (R² %.2f, %zu of %zu intervals grew)",
		 format_size(a, sizeof(a), (uint64_t)(best->live_bytes < 0 ? 0 : best->live_bytes)),
		 format_size(b, sizeof(b), sat_u64(bt.growth)), best->n, bt.r2, bt.ups,
		 best->n ? best->n - 1 : 0);
	evidence(f, "the site allocated %" PRIu64 " times (%s) and freed %" PRIu64,
		 best->alloc_count, format_size(a, sizeof(a), best->alloc_bytes), best->free_count);
	if (kind == SITE_INTERN && c->p->have_strings)
		evidence(f, "StringTable entries: %" PRIu64 " -> %" PRIu64
			    " (a GC drops the strings nothing holds; the site's live bytes are what it kept)",
			 c->p->strings_first, c->p->strings_last);
	if (direct)
		direct_fix(c, f);
	else if (kind == SITE_INTERN)
		SET(f->fix, STRINGS_FIX);
	else if (strcmp(pattern, "malloc-leak"))
		SET(f->fix, ZLIB_FIX);
	else
		SET(f->fix,
		    "free what this site allocates once it is done with (or bound the structure it feeds); 'offheap report FILE' shows the whole stacks");
}

/*
 * Growing allocation sites of doctor's window or of a recording: in a JVM
 * one finding per kind (direct buffers, zlib streams, the rest), so that a
 * mixed leak whose native total made no trend is named whole; in any other
 * process, the malloc leak.
 */
static void rule_malloc_sites(struct ctx *c)
{
	if (!c->p->allocs)
		return;
	if (!c->s || !c->s->is_jvm) {
		malloc_sites_of(c, SITE_ANY);
		return;
	}
	malloc_sites_of(c, SITE_DIRECT);
	malloc_sites_of(c, SITE_INTERN);
	malloc_sites_of(c, SITE_ZLIB);
	malloc_sites_of(c, SITE_OTHER);
}

/*
 * ---- the code behind a finding: doctor's own windows ----
 * doctor PID attaches for its sampling window (the allocation sites, in
 * p->allocs) and traces a short window when anonymous mmaps grow (in
 * p->mmap_site); this names the code in the findings the rules made.
 */

/*
 * A Java frame's method as "pkg.Class.method(args) (File.java:42)", without
 * the perf map's "[java] " and return type; NULL for a frame that names no
 * method ("Interpreter", a stub).
 */
static const char *java_method(const struct alloc_frame *fr, char *buf, size_t n)
{
	const char *name = fr->function, *paren, *sp;

	if (!name)
		return NULL;
	if (!strncmp(name, "[java] ", 7))
		name += 7;
	paren = strchr(name, '(');
	sp = strchr(name, ' ');
	if (sp && (!paren || sp < paren))
		name = sp + 1; /* the return type */
	if (!strchr(name, '.') || (paren && !strchr(name, '(')))
		return NULL;
	if (fr->file && fr->line > 0)
		snprintf(buf, n, "%s (%s:%d)", name,
			 strrchr(fr->file, '/') ? strrchr(fr->file, '/') + 1 : fr->file, fr->line);
	else
		snprintf(buf, n, "%s", name);
	return buf;
}

/* The JDK's own packages: the user's code is the first Java frame outside them. */
static bool java_is_jdk(const char *method)
{
	static const char *const jdk[] = { "java.", "javax.", "jdk.", "sun.", "com.sun." };

	for (size_t i = 0; i < sizeof(jdk) / sizeof(jdk[0]); i++)
		if (!strncmp(method, jdk[i], strlen(jdk[i])))
			return true;
	return false;
}

/* "func (file:line) in module" of a native frame. */
static const char *native_frame(const struct alloc_frame *fr, char *buf, size_t n)
{
	const char *mod = fr->module ? strrchr(fr->module, '/') : NULL;
	char name[160];

	mod = mod ? mod + 1 : fr->module;
	if (!fr->function)
		return allocrank_frame_name(fr, buf, n);
	if (fr->file && fr->line > 0)
		snprintf(buf, n, "%s (%s:%d)%s%s", fr->function, fr->file, fr->line,
			 mod ? " in " : "", mod ? mod : "");
	else
		snprintf(buf, n, "%s%s%s", allocrank_frame_name(fr, name, sizeof(name)),
			 mod ? " in " : "", mod ? mod : "");
	return buf;
}

/* A Java frame of st is the program's (outside the JDK). */
static bool reaches_program(const struct alloc_stack *st)
{
	char a[160];
	const char *m;

	for (size_t i = 0; i < st->nframes; i++)
		if (allocrank_frame_is_java(&st->frames[i]) &&
		    (m = java_method(&st->frames[i], a, sizeof(a))) && !java_is_jdk(m))
			return true;
	return false;
}

/* A stack reaching the program's code that grew prog is named over one that grew best. */
static bool program_takes_over(double prog, double best)
{
	return prog * 8 >= best;
}

/*
 * The stack of d that grew the most over the window: a steady trend first;
 * else (a short window sampled coarsely gives few points) the largest rise
 * of live bytes that still rose in the second half. NULL: none. A stack
 * that reaches the program's Java code is taken over one that does not if
 * it grew an eighth as much: in a JVM the same path is also recorded
 * without its Java callers (before the tracker's Java frames were ready, or
 * where the JVM's thread state refused them), and that part may be larger.
 */
static const struct alloc_stack *growing_stack(const struct alloc_data *d,
					       bool (*want)(const struct alloc_stack *),
					       struct trend *best_t)
{
	const struct alloc_stack *best = NULL, *rise = NULL, *best_p = NULL, *rise_p = NULL;
	struct trend tp = { 0 };
	int64_t rise_d = 0, rise_pd = 0;

	for (size_t i = 0; d && i < d->nr; i++) {
		const struct alloc_stack *st = &d->stacks[i];
		struct trend t;
		int64_t r;
		bool prog;

		if (want && !want(st))
			continue;
		prog = reaches_program(st);
		trend_fit(st->live, st->n, &t);
		if (t.growing && t.growth > 0 && (!best || t.growth > best_t->growth)) {
			best = st;
			*best_t = t;
		}
		if (prog && t.growing && t.growth > 0 && (!best_p || t.growth > tp.growth)) {
			best_p = st;
			tp = t;
		}
		if (st->n < 2 || st->live[st->n - 1] <= st->live[st->n / 2])
			continue;
		r = sat_i64((double)st->live[st->n - 1] - (double)st->live[0]);
		if (r > rise_d) {
			rise = st;
			rise_d = r;
		}
		if (prog && r > rise_pd) {
			rise_p = st;
			rise_pd = r;
		}
	}
	if (best_p && best_p != best && program_takes_over(tp.growth, best_t->growth)) {
		best = best_p;
		*best_t = tp;
	}
	if (!best && rise_p && program_takes_over((double)rise_pd, (double)rise_d)) {
		rise = rise_p;
		rise_d = rise_pd;
	}
	if (!best && rise) {
		best = rise;
		memset(best_t, 0, sizeof(*best_t));
		best_t->growth = (double)rise_d;
	}
	return best;
}

/*
 * The culprit of a native finding from its growing stack: the Java frame
 * nearest the allocation and the first one outside the JDK when there are
 * Java frames ("java.util.zip.Inflater.init(boolean) ← Orders.parse
 * (Orders.java:42), native inflateInit2_ in libz.so.1"), else the first
 * native frame that is not the allocator; the frames go to the JSON. api:
 * the Java frame to name first instead of the nearest, when the stack has
 * one whose method starts with it (the JDK call the user's code made).
 * When the nearest is the program's own (a JNI method), its caller follows.
 */
static void culprit_from_stack(struct finding *f, const struct allocrank_culprits *cu,
			       const struct alloc_stack *st, const char *api)
{
	const struct alloc_frame *nat = allocrank_past_allocator(st), *near = NULL, *user = NULL;
	char a[256], b[256], c[256];

	f->nculprit_frames = 0;
	for (size_t i = 0; i < st->nframes; i++) {
		const struct alloc_frame *fr = &st->frames[i];
		const char *m;

		if (f->nculprit_frames < FINDING_MAX_FRAMES) {
			const char *text = allocrank_frame_is_java(fr) && java_method(fr, a, sizeof(a))
						   ? a
						   : native_frame(fr, a, sizeof(a));

			snprintf(f->culprit_frames[f->nculprit_frames++],
				 sizeof(f->culprit_frames[0]), "%s", text);
		}
		if (!allocrank_frame_is_java(fr) || !(m = java_method(fr, a, sizeof(a))))
			continue;
		if (!near || (api && !strncmp(m, api, strlen(api)) &&
			      strncmp(java_method(near, b, sizeof(b)), api, strlen(api))))
			near = fr;
		if (!user && !java_is_jdk(m))
			user = fr;
	}
	/*
	 * A library's static function has no name (zlib's updatewindow): the
	 * native part names the nearest named function, the library's entry.
	 */
	while (nat && !nat->function && nat + 1 < st->frames + st->nframes &&
	       !allocrank_frame_is_java(nat + 1))
		nat++;
	if (nat && allocrank_frame_is_java(nat))
		nat = NULL;
	/*
	 * The program's own native method (a JNI library's) is the nearest:
	 * its caller in the program, with its line, says which call leaks.
	 */
	if (near && user == near) {
		for (const struct alloc_frame *fr = near + 1; fr < st->frames + st->nframes; fr++) {
			const char *m;

			if (!allocrank_frame_is_java(fr) || !(m = java_method(fr, b, sizeof(b))) ||
			    java_is_jdk(m) || (fr->function && near->function &&
					       !strcmp(fr->function, near->function)))
				continue;
			user = fr;
			break;
		}
	}
	if (near) {
		java_method(near, a, sizeof(a));
		SET(f->culprit, "%s%s%s%s%s", a, user && user != near ? " ← " : "",
		    user && user != near ? java_method(user, b, sizeof(b)) : "",
		    nat ? ", native " : "", nat ? native_frame(nat, c, sizeof(c)) : "");
	} else if (nat) {
		/*
		 * No Java frame: the caller of a forwarder (strdup, asprintf, the
		 * program's own wrapper, told by the recording's stacks) decided.
		 */
		const struct alloc_frame *via;

		SET(f->culprit, "%s", native_frame(allocrank_culprit(cu, st, &via), a, sizeof(a)));
		if (via)
			evidence(f, "it allocates through %s, which only forwards the allocation",
				 native_frame(via, b, sizeof(b)));
	} else {
		SET(f->culprit, "stack %" PRId64 " (no frames)", st->id);
	}
}

static void culprit_from_mmap(struct finding *f, const struct doctor_mmap_site *m)
{
	char a[32];

	SET(f->culprit, "thread '%s' maps it in %s", m->thread,
	    m->nframes ? m->frames[0] : "(no stack)");
	evidence(f, "traced for %.1f s: thread '%s' left %s mapped in %" PRIu64 " region%s from that stack",
		 (double)m->window_ms / 1000, m->thread, format_size(a, sizeof(a), m->outstanding),
		 m->regions, m->regions == 1 ? "" : "s");
	f->nculprit_frames = 0;
	for (size_t i = 0; i < m->nframes && i < FINDING_MAX_FRAMES; i++)
		snprintf(f->culprit_frames[f->nculprit_frames++], sizeof(f->culprit_frames[0]), "%s",
			 m->frames[i]);
}

/* Whether a traced mapping was the JVM committing memory it had reserved (os::commit_memory). */
static bool jvm_commits(const struct doctor_mmap_site *m)
{
	for (size_t i = 0; i < m->nframes && i < 4; i++)
		if (!strncmp(m->frames[i], "os::pd_commit_memory", 20) ||
		    !strncmp(m->frames[i], "os::commit_memory", 17))
			return true;
	return false;
}

/* A traced frame's text without the perf map's "[java] " and return type. */
static const char *traced_method(const char *fr)
{
	const char *sp, *paren;

	if (strncmp(fr, "[java] ", 7))
		return fr;
	fr += 7;
	sp = strchr(fr, ' ');
	paren = strchr(fr, '(');
	return sp && (!paren || sp < paren) ? sp + 1 : fr;
}

/*
 * The frame of a file mapping's stack that names the program's code: past
 * the JDK's own natives (Java_sun_nio_ch_FileChannelImpl_map0) and Java
 * methods, the interpreter's frames and the addresses that name nothing
 * (JIT code the trace could not name), up to the VM or the launcher; the
 * first frame when none does (a C program's function).
 */
static size_t mapping_frame(const struct doctor_mmap_site *m)
{
	static const char *const jdk[] = { "Java_java_", "Java_sun_", "Java_jdk_", "java.",
					   "sun.", "jdk.", "Interpreter", "StubRoutines", "0x" };

	for (size_t i = 0; i < m->nframes; i++) {
		const char *fr = traced_method(m->frames[i]);
		bool skip = false;

		if (strstr(fr, " in libjvm.so") || strstr(fr, " in libjli.so"))
			break;
		for (size_t k = 0; k < sizeof(jdk) / sizeof(jdk[0]) && !skip; k++)
			skip = !strncmp(fr, jdk[k], strlen(jdk[k]));
		if (!skip)
			return i;
	}
	return 0;
}

/* The trace's file site names who maps what a mapped-files (shared-memory) finding counts. */
static void culprit_from_file_site(struct finding *f, const struct doctor_mmap_site *m)
{
	char a[32];
	size_t k = mapping_frame(m);
	size_t len = strlen(f->culprit);

	setf(f->culprit + len, sizeof(f->culprit) - len, ", mapped by thread '%s'%s%s", m->thread,
	     m->nframes ? " in " : "", m->nframes ? traced_method(m->frames[k]) : "");
	evidence(f, "traced for %.1f s: thread '%s' left %" PRIu64 " mapping%s (%s) of a file or memfd from that stack",
		 (double)m->window_ms / 1000, m->thread, m->regions, m->regions == 1 ? "" : "s",
		 format_size(a, sizeof(a), m->outstanding));
	f->nculprit_frames = 0;
	for (size_t i = 0; i < m->nframes && i < FINDING_MAX_FRAMES; i++)
		snprintf(f->culprit_frames[f->nculprit_frames++], sizeof(f->culprit_frames[0]), "%s",
			 m->frames[i]);
}

#define DIRECT_API "java.nio.ByteBuffer.allocateDirect"
/*
 * What direct memory is allocated by below allocateDirect, and what the
 * JDK calls itself: Temurin 25's NIO takes its temporary buffers
 * (sun.nio.ch.Util.getTemporaryDirectBuffer, for a read into a heap buffer)
 * from Unsafe.allocateMemory, and its stacks reach os::malloc from the Java
 * frame with no Unsafe_AllocateMemory0 between. NMT counts both as Other.
 */
static const char *const direct_methods[] = { DIRECT_API, "jdk.internal.misc.Unsafe.allocateMemory",
					      "sun.misc.Unsafe.allocateMemory" };

/* A stack through zlib (Inflater/Deflater, GZIP streams): a zlib-inflater's own. */
static bool stack_is_zlib(const struct alloc_stack *st)
{
	char buf[160];

	for (size_t i = 0; i < st->nframes; i++) {
		const struct alloc_frame *fr = &st->frames[i];
		const char *m;

		if (fr->module && strstr(fr->module, "/libz."))
			return true;
		/* a JDK that builds zlib into libzip.so (Temurin) */
		if (fr->function && (!strncmp(fr->function, "Java_java_util_zip_", 19) ||
				     !strncmp(fr->function, "inflate", 7) ||
				     !strncmp(fr->function, "deflate", 7)))
			return true;
		if (allocrank_frame_is_java(fr) && (m = java_method(fr, buf, sizeof(buf))) &&
		    !strncmp(m, "java.util.zip.", 14))
			return true;
	}
	return false;
}

/* A stack through ByteBuffer.allocateDirect or Unsafe.allocateMemory (Java frames, or the VM's entry). */
static bool stack_is_direct(const struct alloc_stack *st)
{
	if (stack_calls(st, "Unsafe_AllocateMemory0"))
		return true;
	for (size_t k = 0; k < sizeof(direct_methods) / sizeof(direct_methods[0]); k++)
		if (stack_has_method(st, direct_methods[k], true))
			return true;
	return false;
}

/*
 * The JDK method a direct buffer's culprit names, the API the program
 * called: NIO's temporary buffer (an I/O call with a heap buffer) when the
 * stack goes through it, else allocateDirect.
 */
static const char *direct_api(const struct alloc_stack *st)
{
	static const char temp[] = "sun.nio.ch.Util.getTemporaryDirectBuffer";

	return stack_has_method(st, temp, false) ? temp : DIRECT_API;
}

/*
 * A stack whose allocating frame is not the JVM's own (os::malloc and the
 * like in libjvm.so: what NMT counts and the category rules name): what
 * "outside NMT" means.
 */
static bool stack_outside_jvm(const struct alloc_stack *st)
{
	const struct alloc_frame *fr = allocrank_past_allocator(st);

	return !fr || !fr->module || !strstr(fr->module, "libjvm.so");
}

/*
 * The stack of d matching want that allocated most in the window, the
 * program's code first: a pattern another count proved (zlib states) is
 * named by its busiest site when none grew steadily (streams a GC frees in
 * batches rise and fall).
 */
static const struct alloc_stack *busiest_stack(const struct alloc_data *d,
					       bool (*want)(const struct alloc_stack *))
{
	const struct alloc_stack *best = NULL;

	for (size_t i = 0; d && i < d->nr; i++) {
		const struct alloc_stack *st = &d->stacks[i];

		if (!want(st) || !st->alloc_count)
			continue;
		if (!best || reaches_program(st) > reaches_program(best) ||
		    (reaches_program(st) == reaches_program(best) &&
		     st->alloc_count > best->alloc_count))
			best = st;
	}
	return best;
}

/* The growing stack behind a finding of pattern, per what the pattern means. */
static const struct alloc_stack *stack_for(const struct doctor_probes *p, const char *pattern,
					   struct trend *t)
{
	const struct alloc_stack *st = NULL;

	if (!strcmp(pattern, "direct-buffers") || !strcmp(pattern, "buffer-churn"))
		return growing_stack(p->allocs, stack_is_direct, t);
	if (!strcmp(pattern, "zlib-inflater"))
		st = growing_stack(p->allocs, stack_is_zlib, t);
	if (!st && (!strcmp(pattern, "zlib-inflater") || !strcmp(pattern, "native-outside-nmt")))
		st = growing_stack(p->allocs, stack_outside_jvm, t);
	/*
	 * Without NMT, "outside NMT" is all native growth, and direct buffers
	 * too few to be counted on the heap (direct_without_nmt) show as it:
	 * their os::malloc in libjvm.so, named by its Java callers.
	 */
	if (!st && !strcmp(pattern, "native-outside-nmt") && !p->nmt_on)
		return growing_stack(p->allocs, stack_is_direct, t);
	if (!st && !strcmp(pattern, "zlib-inflater") && (st = busiest_stack(p->allocs, stack_is_zlib)))
		memset(t, 0, sizeof(*t)); /* named, not grown */
	if (!strcmp(pattern, "zlib-inflater") || !strcmp(pattern, "native-outside-nmt"))
		return st;
	return st ? st : growing_stack(p->allocs, NULL, t);
}

/* Drops the finding at i (the report keeps its order). */
static void drop_finding(struct doctor_report *r, size_t i)
{
	memmove(&r->f[i], &r->f[i + 1], (r->n - i - 1) * sizeof(*r->f));
	r->n--;
}

/*
 * The JVM's or the C library's entry that a pattern's growth goes through:
 * a thread starts in JVM_StartThread (Thread.start) or pthread_create, a
 * string is interned in JVM_InternString, a class defined in JVM_DefineClass*
 * (ClassLoader.defineClass). Prefixes of the frame's function.
 */
static const char *const *entries_of(const char *pattern)
{
	static const char *const threads[] = { "JVM_StartThread", "pthread_create",
					       "__pthread_create", NULL };
	static const char *const strings[] = { "JVM_InternString", NULL };
	static const char *const loaders[] = { "JVM_DefineClass", "JVM_LookupDefineClass",
					       "Java_java_lang_ClassLoader_defineClass", NULL };

	if (!strcmp(pattern, "thread-leak"))
		return threads;
	if (!strcmp(pattern, "interned-strings"))
		return strings;
	if (!strcmp(pattern, "classloader-leak"))
		return loaders;
	return NULL;
}

static bool frame_is_entry_of(const struct alloc_frame *fr, const char *const *entries)
{
	if (!fr->function || allocrank_frame_is_java(fr))
		return false;
	for (; *entries; entries++)
		if (!strncmp(fr->function, *entries, strlen(*entries)))
			return true;
	return false;
}

/*
 * The program's own callers of the frame at kb, up to two, appended as
 * " ← method (file:line)": the method that defines a class or starts a
 * thread is often a library's or a plugin's, and the code that decided to
 * (makes the loaders, submits the work) is further down.
 */
static void by_callers(struct finding *f, const struct alloc_stack *st, size_t kb)
{
	const char *last = st->frames[kb].function;
	char a[160];
	int added = 0;

	for (size_t k = kb + 1; k < st->nframes && added < 2; k++) {
		const struct alloc_frame *fr = &st->frames[k];
		const char *m;
		size_t len = strlen(f->culprit);

		/* a recursion or a method's frames at two lines is one caller */
		if (!allocrank_frame_is_java(fr) || !(m = java_method(fr, a, sizeof(a))) ||
		    java_is_jdk(m) || (last && fr->function && !strcmp(fr->function, last)))
			continue;
		last = fr->function;
		snprintf(f->culprit + len, sizeof(f->culprit) - len, " ← %s", m);
		added++;
	}
}

/*
 * The code behind a thread, string or class loader leak: each thread
 * start, interned string or defined class allocates (the JVM's JavaThread,
 * a StringTable entry, a class loader's data; glibc's thread storage) under
 * the caller of the entry, so doctor's recording holds that stack with its
 * Java frames. The one that allocated most often names it: the first Java
 * frame outside the JDK above the entry (else the nearest Java one), or the
 * native caller of pthread_create. Appended to the rule's culprit.
 */
static void culprit_by_entry(struct finding *f, const struct alloc_data *d,
			     const char *const *entries, bool attached)
{
	const struct alloc_stack *best = NULL;
	const struct alloc_frame *by = NULL;
	size_t at = 0;
	char a[160], b[160];
	int best_rank = -1;

	/*
	 * Stacks with the program's own Java frames above the entry first, then
	 * those with the JDK's only: the tracker gets a JVM's frames only once
	 * it is set up, so early ones end at the entry, or at a JDK native
	 * method's wrapper named from the perf map (ClassLoader.defineClass1),
	 * which says no more than the entry.
	 */
	for (size_t i = 0; d && i < d->nr; i++) {
		const struct alloc_stack *st = &d->stacks[i];

		for (size_t k = 0; k + 1 < st->nframes; k++)
			if (frame_is_entry_of(&st->frames[k], entries)) {
				int rank = 0;

				for (size_t j = k + 1; j < st->nframes && rank < 2; j++) {
					const char *m;

					if (!allocrank_frame_is_java(&st->frames[j]))
						continue;
					m = java_method(&st->frames[j], a, sizeof(a));
					rank = m && !java_is_jdk(m) ? 2 : 1;
				}
				if (rank > best_rank ||
				    (rank == best_rank && st->alloc_count > best->alloc_count)) {
					best = st;
					best_rank = rank;
					at = k;
				}
				break;
			}
	}
	if (!best)
		return;
	for (size_t k = at + 1; k < best->nframes; k++) {
		const struct alloc_frame *fr = &best->frames[k];
		const char *m;

		if (!allocrank_frame_is_java(fr)) {
			if (!fr->module)
				continue; /* the JVM's generated code: a stub, an adapter */
			/* a native caller names it when no Java frame does (pthread_create's) */
			if (!by)
				by = fr;
			if (allocrank_frame_is_java(by))
				break;
			continue;
		}
		if (!(m = java_method(fr, a, sizeof(a))))
			continue;
		if (!by || !allocrank_frame_is_java(by) ||
		    (!java_is_jdk(m) && java_is_jdk(java_method(by, b, sizeof(b)))))
			by = fr;
		if (!java_is_jdk(m))
			break;
	}
	/* the JDK's JNI glue (libjava, libjvm) says nothing the entry did not */
	if (!by || (!allocrank_frame_is_java(by) && by->module &&
		    (strstr(by->module, "/lib/jvm/") || strstr(by->module, "libjvm.so"))))
		return;
	if (allocrank_frame_is_java(by))
		java_method(by, a, sizeof(a));
	else
		native_frame(by, a, sizeof(a));
	/*
	 * Symbols grew while the StringTable did not (a collection emptied it
	 * of the strings no longer used, the memory stays): the recording
	 * says which, String.intern.
	 */
	if (!strcmp(f->pattern, "interned-strings") && best->frames[at].function &&
	    !strcmp(best->frames[at].function, "JVM_InternString") &&
	    strcmp(f->culprit, STRINGS_CULPRIT))
		SET(f->culprit, "String.intern() of unbounded keys (NMT Symbol, which holds the StringTable, keeps growing)");
	snprintf(f->culprit + strlen(f->culprit), sizeof(f->culprit) - strlen(f->culprit),
		 ", by %s", a);
	if (allocrank_frame_is_java(by))
		by_callers(f, best, (size_t)(by - best->frames));
	evidence(f, "the code behind them (%s for %.0f s): %" PRIu64 " allocations through %s under %s",
		 attached ? "doctor's recording, attached" : "the recording", (double)d->span_ms / 1000,
		 best->alloc_count, best->frames[at].function, a);
}

/* A frame of the C runtime's (the trace's frames end in " in MODULE"). */
static bool frame_in_runtime(const char *fr)
{
	static const char *const mods[] = { " in libc.so", " in libpthread.so", " in libstdc++.so" };

	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
		if (strstr(fr, mods[i]))
			return true;
	return false;
}

/*
 * The frame of the traced site that started threads: every thread start
 * maps the new thread's stack (unless glibc reuses a freed one), so a site
 * through pthread_create is thread starts, and its first caller outside
 * the C runtime (std::thread's frames are in it) is the code that starts
 * them. Its index, or -1.
 */
static int thread_starter(const struct doctor_mmap_site *m)
{
	bool seen = false;

	for (size_t i = 0; i < m->nframes; i++) {
		const char *fr = m->frames[i];

		if (!strncmp(fr, "pthread_create", 14) || !strncmp(fr, "__pthread_create", 16))
			seen = true;
		else if (seen && !frame_in_runtime(fr))
			return (int)i;
	}
	return -1;
}

static void culprit_thread_starter(struct finding *f, const struct doctor_mmap_site *m, int k)
{
	size_t len = strlen(f->culprit);
	char a[32];

	snprintf(f->culprit + len, sizeof(f->culprit) - len, ", started by %s", m->frames[k]);
	evidence(f, "traced for %.1f s: thread '%s' started threads from that stack, mapping %" PRIu64 " stack%s (%s) still mapped at the end",
		 (double)m->window_ms / 1000, m->thread, m->regions, m->regions == 1 ? "" : "s",
		 format_size(a, sizeof(a), m->outstanding));
	f->nculprit_frames = 0;
	for (size_t i = (size_t)k; i < m->nframes && f->nculprit_frames < FINDING_MAX_FRAMES; i++)
		snprintf(f->culprit_frames[f->nculprit_frames++], sizeof(f->culprit_frames[0]), "%s",
			 m->frames[i]);
}

static void culprits_from_windows(struct ctx *c)
{
	const struct doctor_probes *p = c->p;
	bool jvm = c->s && c->s->is_jvm, other_native = false;
	struct allocrank_culprits *cu = p->allocs ? allocrank_culprits_new(p->allocs) : NULL;
	char a[32], b[32], g[32];
	uint64_t live;
	int said = 0;

	/*
	 * doctor's own recording names the code of the other findings: on its
	 * own it would say again what they say (a JVM's os::malloc under
	 * String.intern is the interned-strings finding, a C process's site
	 * its native-growth).
	 */
	for (size_t i = 0; p->allocs_sample && i < c->r->n; i++)
		if (c->r->f[i].severity == FS_LEAK && strcmp(c->r->f[i].pattern, "malloc-leak"))
			other_native |= jvm || !strcmp(c->r->f[i].pattern, "native-growth") ||
					!strcmp(c->r->f[i].pattern, "mmap-growth");
	for (size_t i = 0; other_native && i < c->r->n;)
		if (!strcmp(c->r->f[i].pattern, "malloc-leak"))
			drop_finding(c->r, i);
		else
			i++;
	for (size_t i = 0; i < c->r->n; i++) {
		struct finding *f = &c->r->f[i];
		bool mmap = !strcmp(f->pattern, "mmap-growth");
		int k;

		if (p->file_site &&
		    (!strcmp(f->pattern, "mapped-files") || !strcmp(f->pattern, "shared-memory"))) {
			culprit_from_file_site(f, p->file_site);
			continue;
		}
		if (mmap && p->mmap_traced && !p->mmap_site) {
			doctor_unchecked(c->r, "who maps the anonymous memory: nothing the trace saw mapped was still mapped at its end");
			continue;
		}
		if (!jvm && !strcmp(f->pattern, "thread-leak") && p->mmap_site &&
		    (k = thread_starter(p->mmap_site)) >= 0) {
			culprit_thread_starter(f, p->mmap_site, k);
			continue;
		}
		if (entries_of(f->pattern)) {
			/*
			 * doctor's window, or a recording's sites for the
			 * interned-strings finding they made (malloc_sites_of)
			 */
			if (p->allocs_sample || (p->allocs && !strcmp(f->pattern, "interned-strings")))
				culprit_by_entry(f, p->allocs, entries_of(f->pattern),
						 p->allocs_sample != 0);
			continue;
		}
		bool direct = !strcmp(f->pattern, "direct-buffers") ||
			      !strcmp(f->pattern, "buffer-churn");
		bool native = !strcmp(f->pattern, "native-outside-nmt") ||
			      !strcmp(f->pattern, "zlib-inflater") ||
			      !strcmp(f->pattern, "native-growth") ||
			      !strcmp(f->pattern, "malloc-leak");
		const struct alloc_stack *st = NULL;
		struct trend t = { 0 };

		if (!mmap && !native && !direct)
			continue;
		if (p->allocs_sample)
			st = stack_for(p, f->pattern, &t);
		if (f->held) {
			/* no code to blame: the busiest site is said, not named the culprit */
			char site[400];

			if (st)
				evidence(f, "the site whose live bytes rose most while attached: %s",
					 allocrank_site_label(cu, st, site, sizeof(site)));
			continue;
		}
		if (direct && !st)
			continue; /* the rule's own culprit stays */
		if (p->mmap_site && (mmap || !st) && jvm && !strcmp(f->pattern, "native-outside-nmt") &&
		    jvm_commits(p->mmap_site)) {
			/*
			 * What the trace saw kept is the JVM committing its own
			 * reservations (metaspace, code cache), which NMT counts
			 * as committed before the pages are touched: not outside
			 * it. Beside a finding that names it (classes), nothing
			 * more to say; alone, a warning.
			 */
			if (c->r->n > 1) {
				drop_finding(c->r, i--);
				continue;
			}
			f->severity = FS_WARNING;
			evidence(f, "what the trace saw mapped and kept is the JVM's own commit of memory NMT counts (%s)",
				 p->mmap_site->nframes > 2 ? p->mmap_site->frames[2] : p->mmap_site->frames[0]);
		}
		if (p->mmap_site && (mmap || !st)) {
			culprit_from_mmap(f, p->mmap_site);
			continue;
		}
		if (!st) {
			if (p->allocs_sample && !said++)
				doctor_unchecked(c->r, "the code behind %s: no allocation site %sgrew while doctor was attached (%.1f s)",
						 f->pattern,
						 !strcmp(f->pattern, "native-outside-nmt") ||
								 !strcmp(f->pattern, "zlib-inflater")
							 ? "outside the JVM's own " : "",
						 (double)p->allocs->span_ms / 1000);
			continue;
		}
		if (jvm && !direct && f->severity == FS_LEAK && stack_is_direct(st) &&
		    !finding_named(c->r, "direct-buffers") && direct_after_gc(c) != DIRECT_DROPPED &&
		    (!strcmp(f->pattern, "native-outside-nmt") || !strcmp(f->pattern, "native-growth"))) {
			/*
			 * The growing site tells what the series could not: buffers
			 * too few to stand out on the heap (direct_without_nmt) or
			 * no NMT Other to see them in.
			 */
			char was[sizeof(f->title)];

			snprintf(was, sizeof(was), "%s", f->title);
			f->pattern = "direct-buffers";
			SET(f->title, "direct buffers / Unsafe memory grow: %s", was);
			direct_fix(c, f);
			direct = true;
		}
		culprit_from_stack(f, cu, st, direct || stack_is_direct(st) ? direct_api(st) : NULL);
		if (!strcmp(f->pattern, "direct-buffers") && strcmp(direct_api(st), DIRECT_API))
			temporary_fix(c, f);
		if (!strcmp(f->pattern, "malloc-leak"))
			continue; /* rule_malloc_sites said the site's figures */
		/* the site is named: the fix is at it, no longer a recording to make */
		if (!strcmp(f->pattern, "native-growth") && f->severity == FS_LEAK)
			SET(f->fix,
			    "free what the named code allocates once it is no longer used; 'offheap record -o rec.db -- CMD' then 'offheap report rec.db' follows it over a longer run");
		live = st->live_bytes < 0 ? 0 : (uint64_t)st->live_bytes;
		evidence(f, "%s site (attached for %.0f s, sampled every %s): %s live, %s over the window, %" PRIu64 " allocations, %" PRIu64 " freed",
			 t.growth > 0 ? "growing" : "busiest", (double)p->allocs->span_ms / 1000,
			 format_size(a, sizeof(a), p->allocs_sample),
			 format_size(b, sizeof(b), live), sz(g, sizeof(g), sat_i64(t.growth)),
			 st->alloc_count, st->free_count);
	}
	allocrank_culprits_free(cu);
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
		rule_zlib_count(&c);
		/* not native memory (heap, arenas, anon): they explain none of it */
		rule_mapped(&c, RC_FILE);
		rule_mapped(&c, RC_SHM);
		rule_budget(&c);
	} else if (s && s->n) {
		doctor_unchecked(r, "growth: %zu sample%s, at least 3 are needed for a trend", s->n,
				 s->n == 1 ? "" : "s");
	}
	if (s && s->n)
		rule_fragmentation(&c);
	rule_malloc_sites(&c);
	culprits_from_windows(&c);
	free(c.t); /* the trends: the rules after the series' (malloc sites, culprits) read them too */
	if (r->n)
		qsort(r->f, r->n, sizeof(*r->f), cmp_finding);
}
