/*
 * Unit tests of the analysis behind watch and doctor: trend_judge's kinds,
 * the jcmd reply parsers of src/analysis/probe.c on real replies (JDK 17 and 25) and
 * on hostile text, and doctor's rules on synthetic series.
 */
#include "tap.h"
#include "fixture.h"

#include "allocdb.h"
#include "doctor.h"
#include "probe.h"
#include "series.h"
#include "strbuf.h"
#include "trend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB ((int64_t)1 << 20)
#define N 30

static void test_trend(void)
{
	uint64_t t[N];
	int64_t y[N];
	struct trend_judgement j;

	for (int i = 0; i < N; i++)
		t[i] = (uint64_t)i * 1000000000u; /* one a second */
	for (int i = 0; i < N; i++)
		y[i] = 100 * MIB + i * MIB + (i % 3) * 100000; /* 1 MiB/s and a little noise */
	trend_judge(t, y, N, MIB, &j);
	is_str(trend_kind_name(j.kind), "growing", "a steady rise is growing");
	ok(j.per_hour > 3500.0 * MIB && j.per_hour < 3700.0 * MIB, "its rate is 3600 MiB/h");
	ok(j.confidence > 0.9, "with a high confidence");

	for (int i = 0; i < N; i++)
		y[i] = 100 * MIB + (i >= N / 2 ? 64 * MIB : 0);
	trend_judge(t, y, N, MIB, &j);
	is_str(trend_kind_name(j.kind), "step", "one jump is a step, not growth");

	for (int i = 0; i < N; i++)
		y[i] = 100 * MIB + (i % 2 ? 3 * MIB : -3 * MIB);
	trend_judge(t, y, N, MIB, &j);
	ok(j.kind == TREND_NOISY || j.kind == TREND_FLAT, "up and down is not growth");

	for (int i = 0; i < N; i++)
		y[i] = 100 * MIB + (i < N / 3 ? i * 4 * MIB : N / 3 * 4 * MIB);
	trend_judge(t, y, N, MIB, &j);
	ok(j.kind != TREND_GROWING, "a cache that filled and holds is not growing");

	for (int i = 0; i < N; i++)
		y[i] = 100 * MIB + i * 1000;
	trend_judge(t, y, N, MIB, &j);
	is_str(trend_kind_name(j.kind), "flat", "growth under the floor is flat");

	for (int i = 0; i < N; i++)
		y[i] = 100 * MIB - i * MIB;
	trend_judge(t, y, N, MIB, &j);
	is_str(trend_kind_name(j.kind), "shrinking", "a fall is shrinking");

	trend_judge(t, y, 2, MIB, &j);
	is_str(trend_kind_name(j.kind), "flat", "two points make no trend");
	trend_judge(t, y, 0, MIB, &j);
	is_str(trend_kind_name(j.kind), "flat", "no points make no trend");
	for (int i = 0; i < N; i++)
		t[i] = 5;
	trend_judge(t, y, N, MIB, &j);
	is_str(trend_kind_name(j.kind), "flat", "points at one instant make no trend");
}

static void test_parsers(void)
{
	static const char *const vers[] = { "17", "25" };
	struct strbuf sb = STRBUF_INIT;
	struct loader_stats ls;
	uint64_t e = 0;
	char name[64];
	const char *text;

	for (int v = 0; v < 2; v++) {
		snprintf(name, sizeof(name), "%s/VM.classloader_stats.txt", vers[v]);
		ok(fixture_read(name, &sb), name);
		text = sb.buf;
		is_int(probe_parse_loaders(text, &ls), 0, "classloader_stats parses");
		is_str(ls.top_type, "LoaderLeak$ByteLoader", "the most numerous loader type");
		ok(ls.top_count >= 4, "several loaders of that type");
		ok(ls.loaders >= ls.top_count && ls.classes >= ls.top_classes, "totals cover it");

		snprintf(name, sizeof(name), "%s/VM.stringtable.txt", vers[v]);
		ok(fixture_read(name, &sb) && !probe_parse_table_entries(sb.buf, &e),
		   "stringtable parses");
		is_u64(e, v == 0 ? 6265 : 5033, "the dynamic table's entries, not the shared one's");
	}
	strbuf_release(&sb);
	ok(probe_parse_loaders("", &ls) < 0, "an empty reply is refused");
	ok(probe_parse_loaders("0x1 0x2", &ls) < 0, "a cut line is refused");
	ok(probe_parse_loaders("0x1 0x2 0x3 notanumber 1 1 T\n", &ls) < 0, "a bad count is refused");
	ok(probe_parse_loaders("0x1 0x2 0x3 99999999999999999999999 1 1 T\n", &ls) < 0,
	   "an overflowing count is refused");
	/* fuzz/regress/jvmmem/loaders-negative-count: strtoull took "-1" as 2^64 - 1 */
	ok(probe_parse_loaders("0x 0 0 -1 0 0\n0x 0 0 2 0 0 B", &ls) == 0 && ls.loaders == 1 &&
	   ls.classes == 2, "a negative count is not a loader line");
	ok(probe_parse_loaders("0x 0 0 +1 0 0 T\n", &ls) < 0, "a signed count is refused");
	ok(!probe_parse_loaders("0x 0 0 9999999999999999999 0 0 A\n"
				"0x 0 0 9999999999999999999 0 0 B\n",
				&ls) &&
	   ls.classes == UINT64_MAX && ls.top_classes <= ls.classes,
	   "huge counts: the total is held at the maximum, never below a part");
	static const char *const zlib[] = { "java.util.zip.Inflater", "java.util.zip.Deflater" };

	ok(probe_parse_table_entries("Number of entries : -1", &e) < 0, "a negative number");
	ok(probe_parse_table_entries("Number of entries", &e) < 0, "no colon");
	ok(probe_parse_table_entries("Number of entries : x", &e) < 0, "no number");
	ok(probe_parse_table_entries("Number of entries : 99999999999999999999999", &e) < 0,
	   "an overflowing number");
	ok(!probe_parse_class_count(
		   "12345:\n num     #instances         #bytes  class name (module)\n"
		   "-------------------------------------------------------\n"
		   "   1:         41100        1972800  java.util.zip.Inflater (java.base@17.0.15)\n"
		   "   2:         41100         986400  java.util.zip.Inflater$InflaterZStreamRef"
		   " (java.base@17.0.15)\n"
		   "   3:             7            336  java.util.zip.Deflater (java.base@17.0.15)\n"
		   "Total        200000       9000000\n",
		   zlib, 2, &e),
	   "a class histogram parses");
	is_u64(e, 41107, "Inflaters and Deflaters counted, their ZStreamRefs not");
	ok(!probe_parse_class_count("   1:   10   100  [B (java.base@25)\n", zlib, 2, &e) && e == 0,
	   "a histogram without zlib objects: 0");
	ok(probe_parse_class_count("statistics unavailable at this moment", zlib, 2, &e) < 0,
	   "not a histogram");
	is_int(probe_flag_listed("     uint TrimNativeHeapInterval                   = 0"
				 "   {product} {default}\n",
				 "TrimNativeHeapInterval"),
	       1, "a product flag is listed");
	is_int(probe_flag_listed("     uint TrimNativeHeapInterval = 0  {experimental} {default}\n",
				 "TrimNativeHeapInterval"),
	       2, "an experimental flag needs unlocking");
	is_int(probe_flag_listed("     uint XTrimNativeHeapIntervalX = 0 {product}\n",
				 "TrimNativeHeapInterval"),
	       0, "a longer name is another flag");
}

/* A JVM series: t in seconds, the native classes and counters as given. */
static struct series_point *point(struct series *s, int i)
{
	struct series_point *p;

	s->pts = realloc(s->pts, (s->n + 1) * sizeof(*s->pts));
	p = &s->pts[s->n++];
	memset(p, 0, sizeof(*p));
	p->t_ns = (uint64_t)i * 1000000000u;
	p->cgroup_usage = p->cgroup_limit = -1;
	for (int k = 0; k < SC_NR; k++)
		p->counter[k] = -1;
	p->cls[RC_ARENA].rss = 10 * MIB;
	p->cls_count[RC_ARENA] = 2;
	p->cls[RC_JAVA_HEAP].rss = 50 * MIB + i * 4 * MIB; /* first touch of the heap */
	p->cls_count[RC_JAVA_HEAP] = 1;
	p->threads = 20;
	p->totals.rss = 100 * MIB;
	p->counter[SC_THREADS_LIVE] = 12;
	p->counter[SC_CLASSES_LOADED] = 3000;
	p->counter[SC_CLASSES_UNLOADED] = 0;
	p->counter[SC_HEAP_USED] = 30 * MIB + (i % 5) * 8 * MIB; /* a sawtooth */
	p->counter[SC_YOUNG_GCS] = i / 5;
	p->counter[SC_FULL_GCS] = 0;
	p->counter[SC_HEAP_MAX] = 128 * MIB;
	return p;
}

static void nmt(struct series_point *p, const char *cat, int64_t committed)
{
	p->nmt = realloc(p->nmt, (p->nnmt + 1) * sizeof(*p->nmt));
	memset(&p->nmt[p->nnmt], 0, sizeof(*p->nmt));
	snprintf(p->nmt[p->nnmt].name, sizeof(p->nmt[0].name), "%s", cat);
	p->nmt[p->nnmt].committed = committed;
	p->nmt[p->nnmt].reserved = committed;
	p->nnmt++;
}

enum shape { HEALTHY, THREADS, DIRECT, OUTSIDE, ANON_OUTSIDE };

static void make(struct series *s, enum shape shape)
{
	memset(s, 0, sizeof(*s));
	s->is_jvm = true;
	s->pid = 4242;
	for (int i = 0; i < N; i++) {
		struct series_point *p = point(s, i);
		int64_t other = 2 * MIB, thread = 20 * MIB;

		if (shape == THREADS) {
			p->threads += i * 5;
			p->counter[SC_THREADS_LIVE] += i * 5;
			thread += i * 5 * MIB;
			p->tgroups = calloc(1, sizeof(*p->tgroups));
			p->ntgroups = 1;
			strcpy(p->tgroups[0].name, "leaky-worker-#");
			p->tgroups[0].count = i * 5;
		}
		if (shape == DIRECT) {
			other += i * 2 * MIB;
			p->cls[RC_ANON].rss += (uint64_t)(i * 2 * MIB);
		}
		if (shape == OUTSIDE)
			p->cls[RC_ARENA].rss += (uint64_t)(i * 3 * MIB);
		if (shape == ANON_OUTSIDE) /* anonymous memory that NMT does not count */
			p->cls[RC_ANON].rss += (uint64_t)(i * 2 * MIB);
		nmt(p, "Total", 300 * MIB + other + thread);
		nmt(p, "Java Heap", 128 * MIB);
		nmt(p, "Other", other);
		nmt(p, "Thread", thread);
		nmt(p, "Symbol", 3 * MIB);
	}
}

static void test_rules(void)
{
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;

	make(&s, HEALTHY);
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	is_int((int)r.n, 0, "a healthy JVM (heap first-touch, sawtooth) has no finding");
	ok(!doctor_has_leak(&r), "and no leak");
	doctor_report_release(&r);
	series_release(&s);

	make(&s, THREADS);
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "thread-leak"), "threads rising: thread-leak");
	ok(r.n >= 1 && strstr(r.f[0].culprit, "leaky-worker-#"), "named by its group");
	ok(doctor_has_leak(&r), "a leak");
	doctor_report_release(&r);
	series_release(&s);

	/*
	 * Executors' threads as the kernel cuts their names at 15 bytes:
	 * "pool-7-thread-1", "pool-12-thread-", "pool-123-thread" are one family,
	 * which grows by 6 a point while "worker#" grows by 2.
	 */
	make(&s, THREADS);
	for (size_t i = 0; i < s.n; i++) {
		static const char *const names[] = { "pool-#-thread-#", "pool-#-thread-",
						     "pool-#-thread", "worker#" };
		static const int per_point[] = { 1, 2, 3, 2 };
		struct series_point *pt = &s.pts[i];

		free(pt->tgroups);
		pt->tgroups = calloc(4, sizeof(*pt->tgroups));
		pt->ntgroups = 4;
		for (int k = 0; k < 4; k++) {
			strcpy(pt->tgroups[k].name, names[k]);
			pt->tgroups[k].count = (int)i * per_point[k];
		}
	}
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && strstr(r.f[0].culprit, "threads named 'pool-#-thread-#' (+174)"),
	   "a family cut at three lengths is one group, named by its longest name");
	doctor_report_release(&r);
	series_release(&s);

	make(&s, DIRECT);
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "direct-buffers"),
	   "NMT Other rising: direct-buffers, and nothing outside NMT");
	doctor_report_release(&r);
	series_release(&s);

	make(&s, OUTSIDE);
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "native-outside-nmt"),
	   "arenas rising with NMT flat: native-outside-nmt");
	p.have_zlib = true;
	p.zlib_first = 100;
	p.zlib_last = 3000;
	doctor_report_release(&r);
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "zlib-inflater"), "with zlib states: zlib-inflater");
	ok(r.n == 1 && strstr(r.f[0].fix, "end()"), "the fix ends the Inflaters");
	doctor_report_release(&r);

	/* held-out ChurnHealthy: Deflaters end()ed, counted by the histogram before a GC */
	p.zlib_first = p.zlib_last = 0;
	p.heap_read_first = p.heap_bytes_first = 40 * MIB;
	p.heap_read_last = p.heap_bytes_last = 70 * MIB;
	p.have_histogram = true;
	p.zlib_objects_first = 570;
	p.zlib_objects_last = 862;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "native-outside-nmt"),
	   "objects without zlib states in an exact read of the heaps: not zlib");
	doctor_report_release(&r);
	p.heap_read_last = 20 * MIB;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "zlib-inflater"),
	   "the heaps only sampled: the objects still name zlib");
	doctor_report_release(&r);
	p.have_histogram = false;
	p.zlib_first = 100;
	p.zlib_last = 3000;
	p.heap_read_first = p.heap_bytes_first = p.heap_read_last = p.heap_bytes_last = 0;
	series_release(&s);

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.have_chunks = true;
	p.chunk_inuse = 8 * MIB;
	p.chunk_free = 500 * MIB;
	make(&s, HEALTHY);
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "arena-fragmentation") &&
		   r.f[0].severity == FS_WARNING,
	   "free chunks held: fragmentation, a warning");
	ok(!doctor_has_leak(&r), "not a leak");
	doctor_report_release(&r);

	p.have_chunks = false;
	p.have_flags = true;
	p.max_heap = 4096 * MIB;
	p.thread_stack = MIB;
	p.cgroup_limit = 2048 * MIB;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "budget-over-limit"), "flags above the cgroup limit");
	doctor_report_release(&r);
	series_release(&s);

	memset(&s, 0, sizeof(s));
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	is_int((int)r.n, 0, "an empty series: nothing, no crash");
	doctor_report_release(&r);
}

/* One frame of a made-up stack. */
static struct alloc_frame frame(const char *fn, const char *file, int line, const char *mod,
				bool jit)
{
	struct alloc_frame f = { .function = (char *)fn, .file = (char *)file, .line = line,
				 .module = (char *)mod, .jit = jit };

	return f;
}

static bool finding_in(const struct doctor_report *r, const char *pattern)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->f[i].pattern, pattern))
			return true;
	return false;
}

/* A Deflater's zlib state made by method (Service.java:37): five frames, the Java ones marked. */
static void deflater_stack(struct alloc_frame fr[5], const char *method)
{
	fr[0] = frame("deflateInit2_", NULL, 0, "/usr/lib/libz.so.1", false);
	fr[1] = frame("Java_java_util_zip_Deflater_init", NULL, 0, "/jdk/lib/libzip.so", false);
	fr[2] = frame("java.util.zip.Deflater.init", "Deflater.java", 0, NULL, false);
	fr[3] = frame("java.util.zip.Deflater.<init>", "Deflater.java", 200, NULL, false);
	fr[4] = frame(method, "Service.java", 37, NULL, false);
	for (size_t i = 2; i < 5; i++)
		fr[i].java = true;
}

/*
 * Deflaters left to the Cleaner (held-out DeflaterService 'forget' on ZGC):
 * native memory saws with the collections, no steady growth, while the
 * zlib states counted in the heaps rise 250 -> 453 and the objects too. A
 * zlib leak, named by the busiest zlib site (none grew steadily), and the
 * fragmentation beside it is no "not a leak".
 */
static void test_zlib_count(void)
{
	struct alloc_frame fr[5];
	int64_t saw[] = { 30 * MIB, 60 * MIB, 20 * MIB, 55 * MIB, 25 * MIB, 50 * MIB };
	struct alloc_stack st = { .id = 1, .frames = fr, .nframes = 5, .live = saw, .n = 6,
				  .live_bytes = 50 * MIB, .alloc_count = 900, .free_count = 700 };
	struct alloc_data d = { .stacks = &st, .nr = 1, .span_ms = 10000 };
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	deflater_stack(fr, "com.example.Service.compress");
	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.have_zlib = true;
	p.zlib_first = 250;
	p.zlib_last = 453;
	p.heap_read_first = p.heap_bytes_first = 400 * MIB;
	p.heap_read_last = p.heap_bytes_last = 420 * MIB;
	p.have_histogram = true;
	p.zlib_objects_first = 260;
	p.zlib_objects_last = 470;
	p.have_chunks = true;
	p.chunk_inuse = 120 * MIB;
	p.chunk_free = 280 * MIB;
	p.allocs = &d;
	p.allocs_sample = 64 << 10;
	make(&s, HEALTHY);
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "zlib-inflater") && r.f[0].severity == FS_LEAK &&
		   strstr(r.f[0].culprit, "com.example.Service.compress (Service.java:37)"),
	   "zlib states rising, native memory sawing: zlib-inflater, named by its busiest site");
	ok(r.n == 2 && !strcmp(r.f[1].pattern, "arena-fragmentation") &&
		   !strstr(r.f[1].title, "not a leak") && !strstr(r.f[1].culprit, "live data is small"),
	   "... and the fragmentation beside it does not say 'not a leak' nor 'live data is small'");
	doctor_report_release(&r);
	p.zlib_objects_last = 200; /* the histogram after a collection */
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "zlib-inflater") && r.f[0].confidence < 0.6,
	   "objects fallen by a collection: still a zlib leak, with less confidence");
	doctor_report_release(&r);
	p.zlib_objects_last = 470;
	p.zlib_last = 262; /* a handful more: nothing to say */
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(!finding_in(&r, "zlib-inflater"), "zlib states steady: no zlib finding");
	doctor_report_release(&r);
	series_release(&s);
}

/*
 * Deflaters left to the Cleaner at a steady state (held-out DeflaterService
 * 'forget' on G1 with NMT): the arenas grow around the states, the counts at
 * the first and last look fell (2008 -> 1928) and glibc's bytes in use did
 * not follow, so the growth read as held by malloc. Doctor's recording saw
 * the zlib site climb and lose nearly all of it at once after a collection:
 * a zlib leak, left to the Cleaner, named by the site. A site that frees as
 * it goes, or loses only half at once, or no collection in the window: not.
 */
static void test_zlib_batch(void)
{
	struct alloc_frame fr[5];
	int64_t batch[] = { 10 * MIB, 120 * MIB, 230 * MIB, 340 * MIB, 5 * MIB, 110 * MIB };
	int64_t slow[] = { 10 * MIB, 120 * MIB, 230 * MIB, 340 * MIB, 60 * MIB, 20 * MIB };
	int64_t steady[] = { 10 * MIB, 100 * MIB, 105 * MIB, 100 * MIB, 104 * MIB, 101 * MIB };
	int64_t half[] = { 10 * MIB, 120 * MIB, 230 * MIB, 340 * MIB, 170 * MIB, 280 * MIB };
	struct alloc_stack st = { .id = 1, .frames = fr, .nframes = 5, .live = batch, .n = 6,
				  .live_bytes = 110 * MIB, .alloc_count = 3800, .free_count = 1800 };
	struct alloc_data d = { .stacks = &st, .nr = 1, .span_ms = 10000 };
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	deflater_stack(fr, "com.example.Service.compressStream");
	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.have_zlib = true;
	p.zlib_first = 2008;
	p.zlib_last = 1928;
	p.heap_read_first = p.heap_bytes_first = 890 * MIB;
	p.heap_read_last = p.heap_bytes_last = 893 * MIB;
	p.have_inuse_delta = true;
	p.inuse_delta = -20 * MIB;
	p.allocs = &d;
	p.allocs_sample = 64 << 10;
	make(&s, OUTSIDE);
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "zlib-inflater") && r.f[0].severity == FS_LEAK &&
		   strstr(r.f[0].title, "left to the Cleaner") &&
		   strstr(r.f[0].culprit, "com.example.Service.compressStream (Service.java:37)") &&
		   r.f[0].nevidence && strstr(r.f[0].evidence[0], "then fell to 5.0 MiB"),
	   "zlib states freed in a batch while the arenas grow: zlib-inflater, the Cleaner's, named");
	ok(!finding_in(&r, "native-outside-nmt"), "... and no 'held by malloc, not a leak' beside it");
	doctor_report_release(&r);
	st.live = slow;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "zlib-inflater"),
	   "the batch spread over two intervals (a Cleaner descheduled): the same");
	doctor_report_release(&r);
	st.live = steady;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(!finding_in(&r, "zlib-inflater") && finding_in(&r, "native-outside-nmt"),
	   "a site that frees as it goes: held by malloc, no zlib finding");
	doctor_report_release(&r);
	st.live = half;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(!finding_in(&r, "zlib-inflater"), "half of it freed at once: no zlib finding");
	doctor_report_release(&r);
	st.live = batch;
	for (size_t i = 0; i < s.n; i++)
		s.pts[i].counter[SC_YOUNG_GCS] = s.pts[i].counter[SC_FULL_GCS] =
			s.pts[i].counter[SC_CONC_GCS] = 3;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(!finding_in(&r, "zlib-inflater"), "no collection in the window: not the Cleaner's batch");
	doctor_report_release(&r);
	series_release(&s);

	/* a hostile recording's figures at the ends of int64, summed over two stacks */
	{
		int64_t edge[] = { INT64_MAX, INT64_MAX, INT64_MIN, 0, INT64_MAX, INT64_MIN };
		struct alloc_stack two[2] = { st, st };

		two[0].live = two[1].live = edge;
		d.stacks = two;
		d.nr = 2;
		make(&s, OUTSIDE);
		doctor_report_init(&r);
		doctor_diagnose(&s, &p, &r);
		ok(r.n >= 1, "live bytes at the ends of int64: a report, no overflow");
		doctor_report_release(&r);
		series_release(&s);
	}
}

static void test_culprits(void)
{
	struct alloc_frame java[] = {
		frame("inflateInit2_", NULL, 0, "/usr/lib/libz.so.1", false),
		frame("Java_java_util_zip_Inflater_init", NULL, 0, "/jdk/lib/libzip.so", false),
		frame("[java] long java.util.zip.Inflater.init(boolean)", NULL, 0, NULL, true),
		frame("Interpreter", NULL, 0, NULL, true),
		frame("[java] void java.util.zip.GZIPInputStream.<init>(java.io.InputStream)", NULL, 0,
		      NULL, true),
		frame("[java] void com.example.Orders.parse(byte[])", "com/example/Orders.java", 42,
		      NULL, true),
		frame("[java] void com.example.Main.main(java.lang.String[])", NULL, 0, NULL, true),
	};
	struct alloc_frame c[] = {
		frame("malloc", NULL, 0, "/usr/lib/libc.so.6", false),
		frame("keep_buffer", "prog.c", 7, "/opt/prog", false),
	};
	struct alloc_frame dup[] = {
		frame("malloc", NULL, 0, "/usr/lib/libc.so.6", false),
		frame("__strdup", NULL, 0, "/usr/lib/libc.so.6", false),
		frame("kv_set", "kv.c", 24, "/opt/kv", false),
	};
	/* held-out confparse.c: the program's wrapper and its helper, one caller seen */
	struct alloc_frame wrapped[] = {
		frame("malloc", NULL, 0, "/usr/lib/libc.so.6", false),
		frame("my_alloc", "util.c", 9, "/opt/confparse", false),
		frame("xstrdup", "util.c", 17, "/opt/confparse", false),
		frame("parse_line", "confparse.c", 23, "/opt/confparse", false),
		frame("main", "confparse.c", 42, "/opt/confparse", false),
	};
	struct alloc_frame jvm[] = {
		frame("os::malloc(unsigned long, MEMFLAGS)", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("[java] java.lang.Class java.lang.Class.forName0(java.lang.String)", NULL, 0,
		      NULL, true),
	};
	/* a direct buffer's malloc: the VM's, named by the tracker's Java frames above it */
	struct alloc_frame direct[] = {
		frame("os::malloc(unsigned long, MEMFLAGS)", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("Unsafe_AllocateMemory0", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("jdk.internal.misc.Unsafe.allocateMemory0", "Unsafe.java", 0, NULL, true),
		frame("java.nio.DirectByteBuffer.<init>", "DirectByteBuffer.java", 125, NULL, true),
		frame("java.nio.ByteBuffer.allocateDirect", "ByteBuffer.java", 332, NULL, true),
		frame("com.example.Pool.grow", "Pool.java", 9, NULL, true),
	};
	/* the leak's live bytes account for the heaps' growth (87 MiB over the window) */
	int64_t rising[] = { 0, 18 * MIB, 36 * MIB, 54 * MIB, 72 * MIB, 90 * MIB };
	int64_t faster[] = { 0, 20 * MIB, 40 * MIB, 60 * MIB, 80 * MIB, 100 * MIB };
	int64_t flat[] = { 9 * MIB, 9 * MIB, 9 * MIB, 9 * MIB, 9 * MIB, 9 * MIB };
	struct alloc_stack st[3] = {
		{ .id = 1, .frames = c, .nframes = 2, .live = flat, .n = 6, .live_bytes = 9 * MIB },
		{ .id = 2, .frames = java, .nframes = 7, .live = rising, .n = 6,
		  .live_bytes = 5 * MIB, .alloc_count = 700 },
		/* the JVM's own, growing faster: never the culprit of outside NMT or zlib */
		{ .id = 3, .frames = jvm, .nframes = 2, .live = faster, .n = 6,
		  .live_bytes = 15 * MIB },
	};
	struct alloc_data d = { .stacks = st, .nr = 3, .span_ms = 5000 };
	struct doctor_mmap_site site = { .thread = "slab-hoarder", .nframes = 1,
					 .outstanding = 3 * MIB, .regions = 24, .window_ms = 1000 };
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.allocs = &d;
	p.allocs_sample = 256 << 10;
	make(&s, OUTSIDE);
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "native-outside-nmt"), "outside NMT, with a recording");
	is_str(r.n ? r.f[0].culprit : "",
	       "java.util.zip.Inflater.init(boolean) ← com.example.Orders.parse(byte[]) (Orders.java:42), native inflateInit2_ in libz.so.1",
	       "the culprit: the Java frame nearest the allocation, the first outside the JDK, the native one");
	ok(r.n && r.f[0].nculprit_frames == 7, "the JSON gets the stack");
	is_str(r.n ? r.f[0].culprit_frames[0] : "", "inflateInit2_ in libz.so.1", "innermost first");
	is_str(r.n ? r.f[0].culprit_frames[2] : "", "java.util.zip.Inflater.init(boolean)",
	       "a Java frame without the perf map's prefix and return type");
	ok(r.n && r.f[0].nevidence && strstr(r.f[0].evidence[r.f[0].nevidence - 1], "growing site") &&
		   strstr(r.f[0].evidence[r.f[0].nevidence - 1], "700 allocations"),
	   "an evidence line: the site's growth and count");
	doctor_report_release(&r);

	p.have_zlib = true;
	p.zlib_first = 100;
	p.zlib_last = 3000;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "zlib-inflater") &&
		   !strncmp(r.f[0].culprit, "java.util.zip.Inflater.init(boolean)", 36),
	   "zlib-inflater: the stack through zlib, one finding (no malloc-leak of its own)");
	doctor_report_release(&r);
	p.have_zlib = false;

	st[1].frames = c;
	st[1].nframes = 2;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	is_str(r.n ? r.f[0].culprit : "", "keep_buffer (prog.c:7) in prog",
	       "no Java frame: the first native frame past the allocator");
	doctor_report_release(&r);

	/* held-out kvleak.c: a hash table's keys leaked through strdup */
	st[1].frames = dup;
	st[1].nframes = 3;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	is_str(r.n ? r.f[0].culprit : "", "kv_set (kv.c:24) in kv",
	       "no Java frame, through strdup: its caller, not __strdup");
	doctor_report_release(&r);

	st[1].frames = wrapped;
	st[1].nframes = 5;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	is_str(r.n ? r.f[0].culprit : "", "parse_line (confparse.c:23) in confparse",
	       "through the program's own wrappers: their caller, not my_alloc");
	ok(r.n && r.f[0].nevidence >= 2 &&
		   strstr(r.f[0].evidence[r.f[0].nevidence - 2], "allocates through xstrdup (util.c:17)"),
	   "... and the evidence says which wrapper");
	doctor_report_release(&r);

	/* nothing grows in the recording: the trace's site, when there is one */
	st[1].live = flat;
	snprintf(site.frames[0], sizeof(site.frames[0]), "hoard_slab (maphoard.c:23) in maphoard");
	p.mmap_site = &site;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	is_str(r.n ? r.f[0].culprit : "",
	       "thread 'slab-hoarder' maps it in hoard_slab (maphoard.c:23) in maphoard",
	       "the thread and the function that map");
	doctor_report_release(&r);

	/* NMT off: outside NMT may be direct buffers, named by the Java code above them */
	st[1].frames = direct;
	st[1].nframes = 6;
	st[1].live = rising;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	is_str(r.n ? r.f[0].culprit : "",
	       "java.nio.ByteBuffer.allocateDirect (ByteBuffer.java:332) ← com.example.Pool.grow (Pool.java:9), native os::malloc(unsigned long, MEMFLAGS) in libjvm.so",
	       "NMT off: a growing direct buffer site, by the call of allocateDirect");
	doctor_report_release(&r);
	p.nmt_on = true;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	is_str(r.n ? r.f[0].culprit : "",
	       "thread 'slab-hoarder' maps it in hoard_slab (maphoard.c:23) in maphoard",
	       "NMT on: the JVM's own allocations are not outside NMT");
	doctor_report_release(&r);
	p.nmt_on = false;

	/* another engineer's recording (--recording): the rules' culprit stays */
	p.allocs_sample = 0;
	p.mmap_site = NULL;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	{
		const struct finding *o = NULL;

		for (size_t i = 0; i < r.n; i++)
			if (!strcmp(r.f[i].pattern, "native-outside-nmt"))
				o = &r.f[i];
		ok(o && o->severity == FS_LEAK && strstr(o->culprit, "a JNI library"),
		   "without doctor's windows: the pattern's culprit");
	}
	doctor_report_release(&r);
	series_release(&s);
}

/* malloc-leak from the allocation sites alone (doctor FILE of a C program's recording) */
static void test_malloc_sites(void)
{
	struct alloc_frame c[] = {
		frame("malloc", NULL, 0, "/usr/lib/libc.so.6", false),
		frame("keep_session", "srv.c", 12, "/opt/srv", false),
	};
	struct alloc_frame gc[] = {
		frame("os::malloc(unsigned long, MemTag, NativeCallStack const&)", NULL, 0,
		      "/jdk/lib/server/libjvm.so", false),
		frame("ReallocateHeap(char*, unsigned long, MemTag)", NULL, 0,
		      "/jdk/lib/server/libjvm.so", false),
		frame("ZLiveMap::reset(ZGenerationId)", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("ZMark::drain(ZMarkContext*)", NULL, 0, "/jdk/lib/server/libjvm.so", false),
	};
	struct alloc_frame unsafe[] = {
		frame("os::malloc(unsigned long, MemTag, NativeCallStack const&)", NULL, 0,
		      "/jdk/lib/server/libjvm.so", false),
		frame("Unsafe_AllocateMemory0", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("[java] long jdk.internal.misc.Unsafe.allocateMemory(long)", NULL, 0, NULL, true),
		frame("[java] java.nio.ByteBuffer Cache.render(java.lang.String)", "Cache.java", 9,
		      NULL, true),
	};
	struct alloc_frame zlib[] = {
		frame("inflate", NULL, 0, "/usr/lib/libz.so.1", false),
		frame("Java_java_util_zip_Inflater_inflateBytesBytes", NULL, 0, "/jdk/lib/libzip.so",
		      false),
		frame("[java] int java.util.zip.Inflater.inflateBytesBytes(long)", NULL, 0, NULL, true),
		frame("[java] byte[] Svc.handle(byte[])", "Svc.java", 18, NULL, true),
	};
	struct series s;
	/* 16 intervals: one arena growth of 1.1 MiB while a JVM compiles, then nothing */
	int64_t once[16], steady[16];
	struct alloc_stack st = { .id = 1, .frames = c, .nframes = 2, .live = once, .n = 16,
				  .live_bytes = 1126 << 10, .alloc_count = 27 };
	struct alloc_data d = { .stacks = &st, .nr = 1, .span_ms = 4000 };
	struct doctor_probes p;
	struct doctor_report r;

	for (int i = 0; i < 16; i++) {
		once[i] = i < 9 ? 0 : 1126 << 10;
		steady[i] = (int64_t)i * (256 << 10);	/* +3.75 MiB, a quarter MiB an interval */
	}
	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.allocs = &d;
	doctor_report_init(&r);
	doctor_diagnose(NULL, &p, &r);
	is_int((int)r.n, 0, "one jump of a site is no malloc leak");
	doctor_report_release(&r);
	st.live = steady;
	st.live_bytes = 15 * (256 << 10);
	doctor_report_init(&r);
	doctor_diagnose(NULL, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "malloc-leak") &&
		   !strcmp(r.f[0].culprit, "keep_session (srv.c:12) in srv"),
	   "a site rising every interval is one, named");
	ok(r.n == 1 && r.f[0].confidence > 0.9, "with the trend's confidence");
	doctor_report_release(&r);

	/* held-out LruHealthy on ZGC: the GC's bitmaps grow with the heap, in a healthy JVM */
	make(&s, HEALTHY);
	st.frames = gc;
	st.nframes = 4;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	is_int((int)r.n, 0, "a JVM's own site with no Java frame (a GC's) is no malloc leak");
	doctor_report_release(&r);
	st.frames = unsafe;
	st.nframes = 4;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "direct-buffers") &&
		   strstr(r.f[0].culprit, "Cache.render") &&
		   strstr(r.f[0].fix, "MaxDirectMemorySize"),
	   "held-out DirectCache, slow, no NMT: the JVM's malloc under Unsafe.allocateMemory is direct-buffers, named");
	doctor_report_release(&r);
	/* held-out GzipService, Parallel GC, no NMT: the native total too noisy for a trend */
	st.frames = zlib;
	st.nframes = 4;
	p.allocs_sample = 256 << 10;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "zlib-inflater") &&
		   strstr(r.f[0].culprit, "Svc.handle") && strstr(r.f[0].fix, "Inflater.end()"),
	   "a growing site through zlib in a JVM is zlib-inflater, named");
	doctor_report_release(&r);
	/* a mixed leak (MixedLeak, ZGC, no NMT): both sites grow, the bigger is direct */
	{
		struct alloc_stack two[2] = { st, st };
		int64_t faster[16];

		for (int i = 0; i < 16; i++)
			faster[i] = (int64_t)i * (1 << 20);
		two[0].frames = unsafe;
		two[0].live = faster;
		two[0].live_bytes = 15 << 20;
		two[1].id = 2;
		d.stacks = two;
		d.nr = 2;
		doctor_report_init(&r);
		doctor_diagnose(&s, &p, &r);
		ok(r.n == 2 && !strcmp(r.f[0].pattern, "direct-buffers") &&
			   !strcmp(r.f[1].pattern, "zlib-inflater") && strstr(r.f[1].culprit, "Svc.handle"),
		   "a mixed leak whose native total made no trend: one finding each, named");
		doctor_report_release(&r);
		d.stacks = &st;
		d.nr = 1;
	}
	p.allocs_sample = 0;
	series_release(&s);
}

/* held-out arenafrag.c: arenas grow while the live allocations hold still */
static void test_held_by_malloc(void)
{
	struct alloc_frame c[] = {
		frame("malloc", NULL, 0, "/usr/lib/libc.so.6", false),
		frame("worker", "frag.c", 22, "/opt/frag", false),
	};
	int64_t flat[6] = { 90 * MIB, 91 * MIB, 90 * MIB, 90 * MIB, 91 * MIB, 90 * MIB };
	int64_t rising[6] = { 0, 20 * MIB, 40 * MIB, 60 * MIB, 80 * MIB, 100 * MIB };
	int64_t risen[6] = { 90 * MIB, 110 * MIB, 125 * MIB, 118 * MIB, 112 * MIB, 115 * MIB };
	struct alloc_stack st = { .id = 1, .frames = c, .nframes = 2, .live = flat, .n = 6,
				  .live_bytes = 90 * MIB };
	struct alloc_data d = { .stacks = &st, .nr = 1, .span_ms = 10000 };
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.allocs = &d;
	p.allocs_sample = 256 << 10;
	make(&s, OUTSIDE);
	s.is_jvm = false;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "native-growth") && r.f[0].severity == FS_WARNING,
	   "arenas grow, the live bytes of the sites do not: a warning");
	ok(!doctor_has_leak(&r), "not a leak");
	doctor_report_release(&r);
	/*
	 * The site rose a quarter of the arenas' growth, then fell back: a ring
	 * of kept blocks turning over (held-out arenafrag, 2 s after its start)
	 */
	st.live = risen;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "native-growth") && r.f[0].severity == FS_WARNING,
	   "a site that rose and fell back: what malloc holds, a warning");
	doctor_report_release(&r);
	st.live = rising;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "native-growth") && r.f[0].severity == FS_LEAK &&
		   strstr(r.f[0].culprit, "worker"),
	   "the live bytes grow too: a leak, named");
	doctor_report_release(&r);
	/*
	 * ... unless glibc's chunks in use, counted by the malloc probe at the
	 * first and the last look, did not follow (held-out mtchurn: the
	 * recording misses the frees of blocks from before the attach)
	 */
	p.have_inuse_delta = true;
	p.inuse_delta = -1 * MIB;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "native-growth") && r.f[0].severity == FS_WARNING &&
		   strstr(r.f[0].culprit, "glibc keeps"),
	   "a C process: glibc's bytes in use flat, the recording's rising: held by malloc");
	doctor_report_release(&r);
	p.inuse_delta = 80 * MIB;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && r.f[0].severity == FS_LEAK && strstr(r.f[0].culprit, "worker"),
	   "glibc's bytes in use grew with the heaps: a leak, named");
	doctor_report_release(&r);
	p.have_inuse_delta = false;
	p.allocs_sample = 0; /* another's recording: its span is not this window */
	st.live = flat;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && r.f[0].severity == FS_LEAK, "without doctor's own window: the growth stays a leak");
	doctor_report_release(&r);

	/* the same in a JVM (a healthy server under load): outside NMT, held by malloc */
	s.is_jvm = true;
	p.allocs_sample = 256 << 10;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "native-outside-nmt") &&
		   r.f[0].severity == FS_WARNING && strstr(r.f[0].title, "held by malloc"),
	   "a JVM: outside NMT grows, the live bytes do not: a warning");
	doctor_report_release(&r);
	st.live = rising;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && doctor_has_leak(&r), "the live bytes grow too: a leak");
	doctor_report_release(&r);

	/* no window of doctor's own, but glibc's bytes in use (VM.info) fell: held by malloc */
	p.allocs = NULL;
	p.allocs_sample = 0;
	s.pts[0].counter[SC_CHEAP_OUTSTANDING] = 43 * MIB;
	s.pts[s.n - 1].counter[SC_CHEAP_OUTSTANDING] = 28 * MIB;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && r.f[0].severity == FS_WARNING && strstr(r.f[0].title, "held by malloc"),
	   "a JVM: C-Heap outstanding fell while the arenas grew: a warning");
	doctor_report_release(&r);
	/*
	 * ... while doctor's window saw a site's live bytes rise (held-out
	 * DeflaterService ending every Deflater: blocks from before the attach
	 * are not seen freed): glibc's count decides, the site is no culprit
	 */
	p.allocs = &d;
	p.allocs_sample = 256 << 10;
	st.live = rising;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && r.f[0].severity == FS_WARNING && strstr(r.f[0].culprit, "glibc keeps") &&
		   r.f[0].nculprit_frames == 0 &&
		   strstr(r.f[0].evidence[r.f[0].nevidence - 1], "rose most while attached: worker"),
	   "held by malloc: the busiest site is evidence, not the culprit");
	doctor_report_release(&r);
	p.allocs = NULL;
	p.allocs_sample = 0;
	s.pts[s.n - 1].counter[SC_CHEAP_OUTSTANDING] = 140 * MIB;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && doctor_has_leak(&r), "C-Heap outstanding grew with them: a leak");
	doctor_report_release(&r);
	series_release(&s);
}

/* a thread leak: the code that starts the threads, from doctor's recording */
static void test_thread_starter(void)
{
	struct alloc_frame java[] = {
		frame("os::malloc(unsigned long, MEMFLAGS)", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("JavaThread::JavaThread(void (*)(JavaThread*, JavaThread*), unsigned long)",
		      NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("JVM_StartThread", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("[java] void java.lang.Thread.start()", NULL, 0, NULL, true),
		frame("[java] void com.example.Pool.grow()", "Pool.java", 17, NULL, true),
		frame("[java] void com.example.Main.main(java.lang.String[])", NULL, 0, NULL, true),
	};
	struct alloc_frame c[] = {
		frame("calloc", NULL, 0, "/usr/lib/libc.so.6", false),
		frame("_dl_allocate_tls", NULL, 0, "/lib64/ld-linux-x86-64.so.2", false),
		frame("pthread_create@@GLIBC_2.34", NULL, 0, "/usr/lib/libc.so.6", false),
		frame("spawn_worker", "srv.c", 40, "/opt/srv", false),
		frame("main", "srv.c", 90, "/opt/srv", false),
	};
	int64_t up[] = { 0, 64 << 10, 128 << 10, 192 << 10, 256 << 10, 320 << 10 };
	struct alloc_stack st = { .id = 1, .frames = java, .nframes = 6, .live = up, .n = 6,
				  .live_bytes = 320 << 10, .alloc_count = 40 };
	struct alloc_data d = { .stacks = &st, .nr = 1, .span_ms = 5000 };
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.allocs = &d;
	p.allocs_sample = 256 << 10;
	make(&s, THREADS);
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "thread-leak") &&
		   strstr(r.f[0].culprit, "'leaky-worker-#'") &&
		   strstr(r.f[0].culprit,
			  ", by com.example.Pool.grow() (Pool.java:17) ← com.example.Main.main(java.lang.String[])"),
	   "a thread leak: the group, the application's method that starts them and its caller");
	doctor_report_release(&r);
	st.frames = c;
	st.nframes = 5;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && strstr(r.f[0].culprit, ", by spawn_worker (srv.c:40) in srv"),
	   "in C: the caller of pthread_create");
	doctor_report_release(&r);
	p.allocs_sample = 0;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strstr(r.f[0].culprit, ", by "), "without doctor's recording: the group only");
	doctor_report_release(&r);

	/*
	 * Stacks made before the tracker had the JVM's frames end at the
	 * JDK's native method (named from the perf map): however many, the
	 * one with the program's method names it.
	 */
	{
		struct alloc_frame early[] = { java[0], java[1], java[2], java[3] };
		struct alloc_stack two[2] = { st, st };

		two[0].frames = early;
		two[0].nframes = 4;
		two[0].alloc_count = 400;
		two[1].frames = java;
		two[1].nframes = 6;
		two[1].alloc_count = 3;
		d.stacks = two;
		d.nr = 2;
		p.allocs_sample = 256 << 10;
		doctor_report_init(&r);
		doctor_diagnose(&s, &p, &r);
		ok(r.n >= 1 && strstr(r.f[0].culprit, ", by com.example.Pool.grow() (Pool.java:17)"),
		   "the program's method, not the JDK's busier early stack");
		doctor_report_release(&r);
		d.stacks = &st;
		d.nr = 1;
	}
	series_release(&s);
}

/*
 * A C program whose threads end unjoined: the threads do not pile up, the
 * stacks of no live thread do (their touched pages in class anon). One
 * thread-leak finding, no mmap-growth for the same pages; the short trace's
 * site through pthread_create names the code that starts them. A count of
 * kept stacks that stays (glibc's cache of freed stacks) is nothing.
 */
static void test_unjoined(void)
{
	struct doctor_mmap_site site = {
		.thread = "server",
		.frames = { "pthread_create@@GLIBC_2.34 (pthread_create.c:647) in libc.so.6",
			    "std::thread::_M_start_thread in libstdc++.so.6",
			    "accept_loop (srv.cc:31) in srv", "main (srv.cc:80) in srv" },
		.nframes = 4, .outstanding = 80 * MIB, .regions = 10, .window_ms = 1000,
	};
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	make(&s, HEALTHY);
	s.is_jvm = false;
	s.stack_rlimit = 8 * MIB;
	for (size_t i = 0; i < s.n; i++) {
		struct series_point *pt = &s.pts[i];

		pt->nnmt = 0;
		for (int k = 0; k < SC_NR; k++)
			pt->counter[k] = -1;
		pt->counter[SC_STACKS_KEPT] = 5 + (int64_t)i * 20;
		pt->counter[SC_STACKS_KEPT_RSS] = (int64_t)i * 20 * 24576;
		pt->cls[RC_ANON].rss += (uint64_t)i * 20 * 24576;
	}
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "thread-leak") && r.f[0].severity == FS_LEAK &&
		   strstr(r.f[0].title, "never joined") && strstr(r.f[0].fix, "pthread_join"),
	   "unjoined: one thread-leak, no mmap-growth for the stacks' pages");
	doctor_report_release(&r);
	p.mmap_traced = true;
	p.mmap_site = &site;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && strstr(r.f[0].culprit, ", started by accept_loop (srv.cc:31) in srv") &&
		   r.f[0].nculprit_frames >= 1 && !strncmp(r.f[0].culprit_frames[0], "accept_loop ", 12),
	   "unjoined: named by the caller of pthread_create past the C++ runtime");
	doctor_report_release(&r);
	for (size_t i = 0; i < s.n; i++) {
		s.pts[i].cls[RC_ANON].rss -= (uint64_t)i * 20 * 24576;
		s.pts[i].counter[SC_STACKS_KEPT] = 5;
		s.pts[i].counter[SC_STACKS_KEPT_RSS] = 5 * 24576;
	}
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 0, "kept stacks that stay (glibc's cache): nothing");
	doctor_report_release(&r);
	series_release(&s);
}

/*
 * Direct buffers grow while no GC runs: still direct-buffers, but the
 * evidence says a GC is what tells kept from dropped, and the confidence
 * is lower than with collections in the window.
 */
static void test_direct_no_gc(void)
{
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;
	double with_gcs;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	make(&s, DIRECT);
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "direct-buffers") && r.f[0].nevidence &&
		   !strstr(r.f[0].evidence[r.f[0].nevidence - 1], "no garbage collection"),
	   "direct buffers with young collections in the window: no word of GCs");
	with_gcs = r.n ? r.f[0].confidence : 0;
	doctor_report_release(&r);
	for (size_t i = 0; i < s.n; i++)
		s.pts[i].counter[SC_YOUNG_GCS] = 7;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "direct-buffers") && r.f[0].severity == FS_LEAK &&
		   strstr(r.f[0].evidence[r.f[0].nevidence - 1], "no garbage collection ran") &&
		   r.f[0].confidence < with_gcs,
	   "no GC in the window: still a leak, said to need a GC, less confident");
	doctor_report_release(&r);
	series_release(&s);
}

/*
 * Direct buffers grown in a window without a GC (NMT Other and the class
 * histogram, 70 new DirectByteBuffers a second): doctor_wants_gc asks for
 * its two collections; what they count decides. Reachable ones that hardly
 * grew over the gap: dropped, no leak but a buffer-churn note; grown with
 * the rate: kept, the leak with no word of a missing GC; too few made over
 * the gap to tell: the leak said to need a GC.
 */
static void test_direct_after_gc(void)
{
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.have_histogram = true;
	p.direct_objects_first = 100;
	p.direct_objects_last = 100 + (N - 1) * 70;
	make(&s, DIRECT);
	ok(!doctor_wants_gc(&s, &p), "GCs ran in the window: no collection wanted");
	for (size_t i = 0; i < s.n; i++)
		s.pts[i].counter[SC_YOUNG_GCS] = 7;
	ok(doctor_wants_gc(&s, &p), "none ran and the rules call it a leak: two collections wanted");
	p.have_direct_live = true;
	p.direct_live_gap_ms = 10000;
	p.direct_live_first = 64;
	p.direct_live_last = 70;
	ok(!doctor_wants_gc(&s, &p), "asked once only");
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "buffer-churn") && r.f[0].severity == FS_INFO &&
		   strstr(r.f[0].evidence[r.f[0].nevidence - 1], "64 -> 70") && !doctor_has_leak(&r),
	   "reachable buffers +6 where the rate made 700 over the gap: dropped, no leak");
	doctor_report_release(&r);
	p.direct_live_first = 100;
	p.direct_live_last = 800;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "direct-buffers") && r.f[0].severity == FS_LEAK &&
		   strstr(r.f[0].evidence[r.f[0].nevidence - 1], "two full collections") &&
		   !strstr(r.f[0].evidence[r.f[0].nevidence - 1], "no garbage collection"),
	   "reachable buffers +700 over the gap: kept, the leak, with the collections said");
	doctor_report_release(&r);
	p.direct_live_gap_ms = 200;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "direct-buffers") && r.f[0].severity == FS_LEAK &&
		   r.f[0].nevidence >= 2 &&
		   strstr(r.f[0].evidence[r.f[0].nevidence - 2], "no garbage collection ran"),
	   "14 made over a 200 ms gap tell nothing: the leak, said to need a GC");
	doctor_report_release(&r);
	series_release(&s);
}

/*
 * Data files mapped and kept: more file mappings all the time, more of them
 * resident. One file read through one mapping grows resident too, but its
 * number of mappings stays: nothing.
 */
static void test_mapped_files(void)
{
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	snprintf(p.files_grown, sizeof(p.files_grown), "/data/seg#.idx");
	p.files_from = 2;
	p.files_to = 2 + (N - 1) * 3;
	make(&s, HEALTHY);
	for (size_t i = 0; i < s.n; i++) {
		s.pts[i].cls_count[RC_FILE] = 2 + (uint32_t)i * 3;
		s.pts[i].cls[RC_FILE].rss = (uint64_t)i * 3 * MIB;
	}
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "mapped-files") && r.f[0].severity == FS_LEAK &&
		   strstr(r.f[0].culprit, "'/data/seg#.idx' (+87 mappings)") &&
		   strstr(r.f[0].fix, "MappedByteBuffers"),
	   "mapped files piling up in a JVM: mapped-files, by their folded path");
	doctor_report_release(&r);
	s.is_jvm = false;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "mapped-files") && strstr(r.f[0].fix, "munmap"),
	   "in C: munmap");
	doctor_report_release(&r);
	s.is_jvm = true;
	for (size_t i = 0; i < s.n; i++)
		s.pts[i].cls_count[RC_FILE] = 2;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 0, "one mapping growing resident (a file read through it): nothing");
	doctor_report_release(&r);
	for (size_t i = 0; i < s.n; i++) {
		s.pts[i].cls_count[RC_SHM] = 1 + (uint32_t)i * 3;
		s.pts[i].cls[RC_SHM].rss = (uint64_t)i * 3 * MIB;
	}
	snprintf(p.shm_grown, sizeof(p.shm_grown), "/memfd:seg (deleted)");
	p.shm_from = 1;
	p.shm_to = 1 + (N - 1) * 3;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "shared-memory") &&
		   strstr(r.f[0].culprit, "shared memory mapped and never unmapped: '/memfd:seg (deleted)'") &&
		   strstr(r.f[0].fix, "munmap"),
	   "shared memory (memfd) piling up: shared-memory, named");
	doctor_report_release(&r);
	/* the trace's file site: who maps, past the JDK's own frames */
	{
		struct doctor_mmap_site m;
		static const char *const frames[] = {
			"Java_sun_nio_ch_FileChannelImpl_map0 in libnio.so", "0x7f00c0de (no module: JIT or generated code)",
			"[java] java.nio.MappedByteBuffer sun.nio.ch.FileChannelImpl.map(int)", "[java] void Segments.open(int) (Segments.java:12)",
			"JavaCalls::call_helper in libjvm.so"
		};

		memset(&m, 0, sizeof(m));
		snprintf(m.thread, sizeof(m.thread), "writer-1");
		for (size_t i = 0; i < 5; i++)
			snprintf(m.frames[m.nframes++], sizeof(m.frames[0]), "%s", frames[i]);
		m.regions = 12;
		m.outstanding = 12 * MIB;
		m.window_ms = 2000;
		p.file_site = &m;
		doctor_report_init(&r);
		doctor_diagnose(&s, &p, &r);
		ok(r.n == 1 && strstr(r.f[0].culprit, ", mapped by thread 'writer-1' in Segments.open(int) (Segments.java:12)") &&
			   r.f[0].nculprit_frames == 5,
		   "traced: the thread and the program's method that maps, past the JDK's frames");
		doctor_report_release(&r);
		m.nframes = 2;
		doctor_report_init(&r);
		doctor_diagnose(&s, &p, &r);
		ok(r.n == 1 && strstr(r.f[0].culprit, "in Java_sun_nio_ch_FileChannelImpl_map0 in libnio.so"),
		   "no program frame: the first past mmap");
		doctor_report_release(&r);
		p.file_site = NULL;
	}
	series_release(&s);
}

/*
 * Native memory outside the heap grows (no NMT Other, too few buffers to
 * count on the heap): the growing site under ByteBuffer.allocateDirect
 * makes it the direct-buffers finding, with its fix.
 */
static void test_direct_by_site(void)
{
	struct alloc_frame fr[] = {
		frame("os::malloc(unsigned long, MEMFLAGS)", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("Unsafe_AllocateMemory0", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("[java] long jdk.internal.misc.Unsafe.allocateMemory0(long)", NULL, 0, NULL, true),
		frame("[java] java.nio.ByteBuffer java.nio.ByteBuffer.allocateDirect(int)",
		      "ByteBuffer.java", 332, NULL, true),
		frame("[java] void com.example.Cache.put(byte[])", "Cache.java", 41, NULL, true),
	};
	int64_t up[] = { 0, 2 * MIB, 4 * MIB, 6 * MIB, 8 * MIB, 10 * MIB };
	struct alloc_stack st = { .id = 1, .frames = fr, .nframes = 5, .live = up, .n = 6,
				  .live_bytes = 10 * MIB, .alloc_count = 25 };
	struct alloc_data d = { .stacks = &st, .nr = 1, .span_ms = 10000 };
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	make(&s, DIRECT); /* anonymous memory grows: buffers of 128 KiB and more are mmap'd */
	for (size_t i = 0; i < s.n; i++) /* no NMT */
		s.pts[i].nnmt = 0;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "native-outside-nmt"),
	   "without doctor's recording: native memory outside the heap");
	doctor_report_release(&r);
	p.allocs = &d;
	p.allocs_sample = 256 << 10;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "direct-buffers") &&
		   strstr(r.f[0].title, "direct buffers") && strstr(r.f[0].fix, "MaxDirectMemorySize") &&
		   strstr(r.f[0].culprit, "com.example.Cache.put"),
	   "its growing site is under allocateDirect: direct-buffers, named");
	doctor_report_release(&r);
	series_release(&s);
	make(&s, OUTSIDE); /* the arenas grow ten times more than the site: held by malloc */
	for (size_t i = 0; i < s.n; i++)
		s.pts[i].nnmt = 0;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "native-outside-nmt") && r.f[0].severity == FS_WARNING,
	   "a warning (held by malloc) keeps its pattern beside a growing direct site");
	doctor_report_release(&r);
	series_release(&s);
}

/*
 * Temurin 25's NIO reads into a heap buffer through a temporary direct
 * buffer per thread, taken from Unsafe.allocateMemory with no
 * allocateDirect and no Unsafe_AllocateMemory0 on the stack (JVM-named
 * frames, as the recorder keeps them); threads that live on keep theirs.
 * NMT Other grows: direct-buffers, and its culprit is the program's read.
 */
static void test_direct_temporary(void)
{
	struct alloc_frame fr[] = {
		frame("os::malloc(unsigned long, MemTag)", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("jdk.internal.misc.Unsafe.allocateMemory0", "Unsafe.java", 0, NULL, false),
		frame("jdk.internal.misc.Unsafe.allocateMemory", "Unsafe.java", 636, NULL, false),
		frame("sun.nio.ch.Util.getTemporaryDirectBuffer", "Util.java", 244, NULL, false),
		frame("sun.nio.ch.IOUtil.read", "IOUtil.java", 304, NULL, false),
		frame("sun.nio.ch.FileChannelImpl.read", "FileChannelImpl.java", 231, NULL, false),
		frame("com.example.Reader.job", "Reader.java", 21, NULL, false),
		frame("java.lang.Thread.run", "Thread.java", 1474, NULL, false),
	};
	int64_t up[] = { 0, 2 * MIB, 4 * MIB, 6 * MIB, 8 * MIB, 10 * MIB };
	struct alloc_stack st = { .id = 1, .frames = fr, .nframes = 8, .live = up, .n = 6,
				  .live_bytes = 10 * MIB, .alloc_count = 40 };
	struct alloc_data d = { .stacks = &st, .nr = 1, .span_ms = 10000 };
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	for (size_t i = 1; i < 8; i++)
		fr[i].java = true;
	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.allocs = &d;
	p.allocs_sample = 64 << 10;
	make(&s, DIRECT);
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "direct-buffers") &&
		   strstr(r.f[0].culprit, "sun.nio.ch.Util.getTemporaryDirectBuffer") &&
		   strstr(r.f[0].culprit, "com.example.Reader.job (Reader.java:21)"),
	   "a temporary buffer's site through Unsafe.allocateMemory names the program's read");
	ok(r.n >= 1 && strstr(r.f[0].fix, "jdk.nio.maxCachedBufferSize") &&
		   !strstr(r.f[0].fix, "Netty"),
	   "... and its fix is NIO's buffer cache, not releasing buffers");
	if (r.n)
		printf("# culprit: %s\n", r.f[0].culprit);
	doctor_report_release(&r);
	series_release(&s);
}

/*
 * A JVM without NMT whose anonymous memory grows while glibc's bytes in use
 * do not, no site outside the JVM grows and the mmap trace saw nothing
 * kept: first use of memory mapped before, a warning; any of the three
 * seeing something keeps it a leak.
 */
static void test_nothing_seen(void)
{
	struct alloc_frame fr[] = {
		frame("os::malloc(unsigned long, MEMFLAGS)", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("CompileBroker::compiler_thread_loop()", NULL, 0, "/jdk/lib/server/libjvm.so", false),
	};
	int64_t flat[] = { 3 * MIB, 3 * MIB, 3 * MIB, 3 * MIB, 3 * MIB, 3 * MIB };
	struct alloc_stack st = { .id = 1, .frames = fr, .nframes = 2, .live = flat, .n = 6,
				  .live_bytes = 3 * MIB, .alloc_count = 25 };
	struct alloc_data d = { .stacks = &st, .nr = 1, .span_ms = 10000 };
	struct doctor_mmap_site kept = { .thread = "worker", .nframes = 0,
					 .outstanding = 8 * MIB, .regions = 2, .window_ms = 2000 };
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.allocs = &d;
	p.allocs_sample = 256 << 10;
	p.mmap_traced = true;
	make(&s, DIRECT); /* anon grows */
	for (size_t i = 0; i < s.n; i++)
		s.pts[i].nnmt = 0;
	s.pts[0].counter[SC_CHEAP_OUTSTANDING] = 13 * MIB;
	s.pts[s.n - 1].counter[SC_CHEAP_OUTSTANDING] = 12 * MIB;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "native-outside-nmt") &&
		   r.f[0].severity == FS_WARNING && strstr(r.f[0].title, "nothing was seen making it"),
	   "nothing seen making the growth: a warning");
	ok(!doctor_has_leak(&r), "not a leak");
	doctor_report_release(&r);
	p.mmap_site = &kept;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(doctor_has_leak(&r), "the trace saw mappings kept: a leak");
	doctor_report_release(&r);
	p.mmap_site = NULL;
	p.mmap_traced = false;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(doctor_has_leak(&r), "no trace: a leak, as before");
	doctor_report_release(&r);
	p.mmap_traced = true;
	s.pts[s.n - 1].counter[SC_CHEAP_OUTSTANDING] = 40 * MIB;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(doctor_has_leak(&r), "glibc's bytes in use grew with it: a leak");
	doctor_report_release(&r);
	series_release(&s);

	/* NMT on: the same judgement for the part outside it */
	make(&s, ANON_OUTSIDE);
	s.pts[0].counter[SC_CHEAP_OUTSTANDING] = 13 * MIB;
	s.pts[s.n - 1].counter[SC_CHEAP_OUTSTANDING] = 12 * MIB;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "native-outside-nmt") &&
		   r.f[0].severity == FS_WARNING && strstr(r.f[0].title, "outside NMT") &&
		   strstr(r.f[0].title, "nothing was seen making it"),
	   "NMT on, nothing seen making what grows outside it: a warning");
	ok(!doctor_has_leak(&r), "NMT on: not a leak");
	doctor_report_release(&r);
	p.mmap_site = &kept;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "native-outside-nmt") && doctor_has_leak(&r),
	   "NMT on, the trace saw mappings kept: a leak outside NMT");
	doctor_report_release(&r);
	/* ... kept by the JVM committing its metaspace (held-out ProxyFactory): NMT counts that */
	{
		struct doctor_mmap_site commit = { .thread = "java", .nframes = 3,
						   .outstanding = 128 << 10, .regions = 2,
						   .window_ms = 2000 };

		snprintf(commit.frames[0], sizeof(commit.frames[0]),
			 "os::pd_commit_memory(char*, unsigned long, bool) in libjvm.so");
		snprintf(commit.frames[1], sizeof(commit.frames[1]),
			 "os::commit_memory(char*, unsigned long, bool) in libjvm.so");
		snprintf(commit.frames[2], sizeof(commit.frames[2]),
			 "metaspace::VirtualSpaceNode::commit_range(unsigned long*, unsigned long) in libjvm.so");
		p.mmap_site = &commit;
		doctor_report_init(&r);
		doctor_diagnose(&s, &p, &r);
		ok(r.n >= 1 && !strcmp(r.f[0].pattern, "native-outside-nmt") && !doctor_has_leak(&r),
		   "NMT on, what the trace saw kept is the JVM's own commit: not a leak outside NMT");
		doctor_report_release(&r);
	}
	p.mmap_site = NULL;
	s.pts[s.n - 1].counter[SC_CHEAP_OUTSTANDING] = 40 * MIB;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(doctor_has_leak(&r), "NMT on, glibc's bytes in use grew with it: a leak");
	doctor_report_release(&r);
	series_release(&s);
}

/*
 * The heap used after collections grows: with young collections only it
 * is promoted objects, live or not (a warning); across full or concurrent
 * collections of the old generation, a leak. An unknown collector (no
 * counters for the old generation's collections) keeps it a leak.
 */
static void test_java_heap(void)
{
	static const struct {
		int64_t full_step, conc_step;
		bool unknown, leak;
		const char *what;
	} cases[] = {
		{ 0, 0, false, false, "java-heap, young collections only: a warning" },
		{ 1, 0, false, true, "java-heap, full collections in the window: a leak" },
		{ 0, 1, false, true, "java-heap, concurrent cycles in the window: a leak" },
		{ 0, 0, true, true, "java-heap, no counters of the old generation's collections: a leak" },
	};
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct finding *h = NULL;

		make(&s, HEALTHY);
		for (size_t i = 0; i < s.n; i++) {
			struct series_point *pt = &s.pts[i];

			pt->counter[SC_YOUNG_GCS] = (int64_t)i;
			pt->counter[SC_HEAP_USED] = 10 * MIB + (int64_t)i * 2 * MIB;
			pt->counter[SC_FULL_GCS] = cases[k].unknown ? -1 : (int64_t)i * cases[k].full_step;
			pt->counter[SC_CONC_GCS] = cases[k].unknown ? -1 : (int64_t)i * cases[k].conc_step;
		}
		doctor_report_init(&r);
		doctor_diagnose(&s, &p, &r);
		for (size_t i = 0; i < r.n; i++)
			if (!strcmp(r.f[i].pattern, "java-heap"))
				h = &r.f[i];
		ok(h && (h->severity == FS_LEAK) == cases[k].leak, cases[k].what);
		doctor_report_release(&r);
		series_release(&s);
	}
}

/*
 * A class loader leak without NMT in a JVM that does not collect: the
 * metaspace counter stays 0 (it moves at GCs only); VM.info's figure, at
 * the first and last point, shows the metadata growing with the classes.
 */
static void test_classes_without_nmt(void)
{
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	memset(&s, 0, sizeof(s));
	s.is_jvm = true;
	s.pid = 4242;
	for (int i = 0; i < N; i++) {
		struct series_point *pt = point(&s, i);

		pt->counter[SC_CLASSES_LOADED] = 3000 + i * 30;
		pt->counter[SC_META_USED] = 0;
		pt->counter[SC_YOUNG_GCS] = 0;
	}
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(!r.n, "classes rising, no metadata seen growing: no finding (it could be warm-up)");
	doctor_report_release(&r);
	s.pts[0].counter[SC_META_VMINFO] = 1 * MIB;
	s.pts[s.n - 1].counter[SC_META_VMINFO] = 4 * MIB;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "classloader-leak") && r.f[0].severity == FS_LEAK,
	   "VM.info's metaspace grew with them: classloader-leak");
	ok(r.n >= 1 && r.f[0].bytes_per_hour > 0, "at a rate from VM.info's figure");
	ok(r.n >= 1 && r.f[0].nevidence >= 2 &&
		   strstr(r.f[0].evidence[1], "metaspace used (VM.info): 1.0 MiB -> 4.0 MiB"),
	   "said with VM.info's figures, not the counter's zeros");
	doctor_report_release(&r);
	series_release(&s);
}

/*
 * A JVM whose StringTable grows, seen only by doctor's recording (NMT off,
 * the table's count fell at a GC within the window): the JVM's growing
 * site under String.intern is interned-strings, with the code that interns.
 */
static void test_intern_by_site(void)
{
	struct alloc_frame fr[] = {
		frame("os::malloc(unsigned long, MEMFLAGS)", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("StringTable::intern(Handle, unsigned short*, int, JavaThread*)", NULL, 0,
		      "/jdk/lib/server/libjvm.so", false),
		frame("JVM_InternString", NULL, 0, "/jdk/lib/server/libjvm.so", false),
		frame("java.lang.String.intern", NULL, 0, NULL, true),
		frame("com.example.Ids.next", "Ids.java", 11, NULL, true),
		frame("com.example.Server.main", "Server.java", 30, NULL, true),
	};
	int64_t up[] = { 0, MIB / 2, MIB, 3 * MIB / 2, 2 * MIB, 5 * MIB / 2 };
	struct alloc_stack st = { .id = 1, .frames = fr, .nframes = 6, .live = up, .n = 6,
				  .live_bytes = 5 * MIB / 2, .alloc_count = 4000 };
	struct alloc_data d = { .stacks = &st, .nr = 1, .span_ms = 10000 };
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.have_strings = true;
	p.strings_first = 36988;
	p.strings_last = 19929;
	make(&s, HEALTHY);
	for (size_t i = 0; i < s.n; i++)
		s.pts[i].nnmt = 0;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 0, "without doctor's recording: nothing (the table's count fell)");
	doctor_report_release(&r);
	p.allocs = &d;
	p.allocs_sample = 64 << 10;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "interned-strings") && r.f[0].severity == FS_LEAK &&
		   strstr(r.f[0].title, "String.intern") && strstr(r.f[0].fix, "INTERN_FIELD_NAMES"),
	   "its growing site is under String.intern: interned-strings, not a malloc leak");
	ok(r.n == 1 && strstr(r.f[0].culprit, "String.intern() of unbounded keys") &&
		   strstr(r.f[0].culprit, ", by com.example.Ids.next (Ids.java:11) ← com.example.Server.main"),
	   "named: who interns, and its caller");
	doctor_report_release(&r);
	p.allocs_sample = 0; /* a recording's sites (doctor FILE), not doctor's window */
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "interned-strings") &&
		   strstr(r.f[0].culprit, ", by com.example.Ids.next (Ids.java:11)"),
	   "from a recording: named the same way");
	doctor_report_release(&r);
	series_release(&s);

	/*
	 * NMT on: Symbol grows while a collection emptied the table of the
	 * strings no longer used (held-out RequestIntern, Temurin 25): the
	 * recording says String.intern, not generated names.
	 */
	make(&s, HEALTHY);
	for (size_t i = 0; i < s.n; i++)
		for (size_t k = 0; k < s.pts[i].nnmt; k++)
			if (!strcmp(s.pts[i].nmt[k].name, "Symbol"))
				s.pts[i].nmt[k].committed = s.pts[i].nmt[k].reserved =
					3 * MIB + (int64_t)i * 128 * 1024;
	p.allocs_sample = 64 << 10;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && !strcmp(r.f[0].pattern, "interned-strings") && r.f[0].severity == FS_LEAK &&
		   strstr(r.f[0].culprit, "String.intern() of unbounded keys (NMT Symbol") &&
		   strstr(r.f[0].culprit, ", by com.example.Ids.next (Ids.java:11)"),
	   "NMT Symbol grows, the table fell: String.intern by the recording, named");
	doctor_report_release(&r);
	p.allocs = NULL;
	p.allocs_sample = 0;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n >= 1 && strstr(r.f[0].culprit, "symbols created without bound"),
	   "without the recording: symbols, as NMT says");
	doctor_report_release(&r);
	series_release(&s);
}

/*
 * A JVM's zlib path recorded twice: mostly without its Java callers (the
 * tracker's Java frames not ready, or refused), and with them. The culprit
 * is the stack that reaches the program's code, though it grew less.
 */
static void test_program_path_first(void)
{
	struct alloc_frame bare[] = {
		frame("malloc", NULL, 0, "/usr/lib/libc.so.6", false),
		frame("inflateInit2_", NULL, 0, "/usr/lib/libz.so.1", false),
		frame("Java_java_util_zip_Inflater_init", NULL, 0, "/jdk/lib/libzip.so", false),
		frame("[java] long java.util.zip.Inflater.init(boolean)", NULL, 0, NULL, true),
	};
	struct alloc_frame full[] = {
		frame("malloc", NULL, 0, "/usr/lib/libc.so.6", false),
		frame("inflateInit2_", NULL, 0, "/usr/lib/libz.so.1", false),
		frame("Java_java_util_zip_Inflater_init", NULL, 0, "/jdk/lib/libzip.so", false),
		frame("java.util.zip.Inflater.init", NULL, 0, NULL, true),
		frame("java.util.zip.Inflater.<init>", "Inflater.java", 120, NULL, true),
		frame("com.example.Orders.parse", "Orders.java", 42, NULL, true),
	};
	int64_t big[] = { 0, 2 * MIB, 4 * MIB, 6 * MIB, 8 * MIB, 10 * MIB };
	int64_t small[] = { 0, MIB / 2, MIB, 3 * MIB / 2, 2 * MIB, 5 * MIB / 2 };
	struct alloc_stack st[2] = {
		{ .id = 1, .frames = bare, .nframes = 4, .live = big, .n = 6,
		  .live_bytes = 10 * MIB, .alloc_count = 300 },
		{ .id = 2, .frames = full, .nframes = 6, .live = small, .n = 6,
		  .live_bytes = 5 * MIB / 2, .alloc_count = 80 },
	};
	struct alloc_data d = { .stacks = st, .nr = 2, .span_ms = 10000 };
	struct doctor_probes p;
	struct doctor_report r;
	struct series s;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.allocs = &d;
	p.allocs_sample = 64 << 10;
	make(&s, HEALTHY);
	for (size_t i = 0; i < s.n; i++)
		s.pts[i].nnmt = 0;
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strcmp(r.f[0].pattern, "zlib-inflater") &&
		   strstr(r.f[0].culprit, "com.example.Orders.parse"),
	   "the zlib path that reaches the program's code names it, though it grew less");
	doctor_report_release(&r);
	/* 1.1 MiB: a growing site, but under an eighth of the other's 10 MiB */
	st[1].live = (int64_t[]){ 0, 230000, 460000, 690000, 920000, 1150000 };
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	ok(r.n == 1 && !strstr(r.f[0].culprit, "com.example.Orders.parse"),
	   "not when it grew less than an eighth as much");
	doctor_report_release(&r);
	series_release(&s);
}

int main(int argc, char **argv)
{
	(void)argc;
	fixture_dir(argv[0], "jcmd");
	test_trend();
	test_parsers();
	test_rules();
	test_culprits();
	test_zlib_count();
	test_zlib_batch();
	test_malloc_sites();
	test_thread_starter();
	test_held_by_malloc();
	test_classes_without_nmt();
	test_direct_by_site();
	test_direct_temporary();
	test_intern_by_site();
	test_program_path_first();
	test_nothing_seen();
	test_unjoined();
	test_mapped_files();
	test_direct_no_gc();
	test_direct_after_gc();
	test_java_heap();
	return done_testing();
}
