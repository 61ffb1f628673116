/* test-series: a recording as watch writes it, read back by series_load; its trends. */
#include "series.h"
#include "snapshot.h"
#include "store.h"
#include "strbuf.h"
#include "tap.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NPTS 12
#define MIB  (1 << 20)

static char dir[] = "/tmp/test-series.XXXXXX";

static void add_region(struct snapshot *s, uint64_t start, uint64_t size, enum region_class cls,
		       const char *path, uint64_t rss, bool anon)
{
	struct region *r;

	ALLOC_GROW(s->regions, s->nregions + 1, s->alloc_regions);
	r = &s->regions[s->nregions++];
	memset(r, 0, sizeof(*r));
	r->start = start;
	r->end = start + size;
	r->path = xstrdup(path);
	snprintf(r->perms, sizeof(r->perms), "%s", anon ? "rw-p" : "r-xp");
	r->cls = cls;
	r->m.size = size;
	r->m.rss = r->m.pss = rss;
	r->m.anon = r->m.private_dirty = anon ? rss : 0;
	mem_counts_add(&s->totals, &r->m);
}

static void add_thread(struct snapshot *s, pid_t tid, const char *name)
{
	struct thread *t;

	ALLOC_GROW(s->threads, s->nthreads + 1, s->alloc_threads);
	t = &s->threads[s->nthreads++];
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	snprintf(t->name, sizeof(t->name), "%s", name);
}

/*
 * Point i of a leaking JVM-like process, one second apart: the heap
 * grows 4 MiB a point, an anonymous mapping holds 8 MiB, a thread pool
 * grows by one thread a point; a cgroup is known except at point 3.
 */
static void make_snapshot(struct snapshot *s, int i)
{
	char name[64];

	snapshot_init(s);
	s->pid = 4242;
	s->time_ns = 1700000000000000000ull + (uint64_t)i * 1000000000ull;
	s->start_time = 98765;
	s->cmdline = xstrdup("java -jar 'app x.jar'");
	s->exe = xstrdup("/usr/bin/java");
	snprintf(s->status.name, sizeof(s->status.name), "java");
	s->status.tgid = 4242;
	s->status.has_mm = true;
	s->is_jvm = true;
	s->stack_rlimit = 8 * MIB;
	add_region(s, 0x400000, 0x1000, RC_LIB, "/usr/bin/java", 4096, false);
	add_region(s, 0x1000000, 256 * MIB, RC_HEAP, "[heap]", MIB + (uint64_t)i * 4 * MIB, true);
	add_region(s, 0x7f0000000000, 16 * MIB, RC_ANON, "", 8 * MIB, true);
	s->totals_from_rollup = true;
	s->status.rss_anon = s->totals.anon;
	s->status.vm_rss = s->totals.rss;
	add_thread(s, 4242, "java");
	add_thread(s, 4243, "GC Thread#0");
	for (int k = 0; k <= i; k++) {
		snprintf(name, sizeof(name), "pool-1-thread-%d", k + 1);
		add_thread(s, 4300 + k, name);
	}
	s->status.threads = (int)s->nthreads;
	if (i != 3) {
		s->cgroup.known = true;
		s->cgroup.usage = 100 * MIB + (uint64_t)i * MIB;
		s->cgroup.limit = 512 * MIB;
	}
}

/* What the JVM readers would add: counters from point 2 on, NMT at every point. */
static void add_jvm(struct series_point *p, int i)
{
	if (i >= 2) {
		p->counter[SC_THREADS_LIVE] = 10 + i;
		p->counter[SC_META_USED] = 20 * MIB;
	}
	p->nmt = xcalloc(2, sizeof(*p->nmt));
	p->nnmt = 2;
	snprintf(p->nmt[0].name, sizeof(p->nmt[0].name), "Thread");
	p->nmt[0].reserved = 64 * MIB;
	p->nmt[0].committed = MIB + (int64_t)i * 2 * MIB;
	p->nmt[0].malloc = 4096;
	p->nmt[0].malloc_count = -1;
	p->nmt[0].mmap_committed = p->nmt[0].committed;
	p->nmt[0].count = 12 + i;
	snprintf(p->nmt[1].name, sizeof(p->nmt[1].name), "Total");
	p->nmt[1].reserved = 1024 * MIB;
	p->nmt[1].committed = 300 * MIB;
	p->nmt[1].malloc = p->nmt[1].malloc_count = p->nmt[1].mmap_committed = -1;
	p->nmt[1].count = -1;
}

static int write_point(struct sqlite3 *db, int64_t sample_id, void *ctx, struct strbuf *err)
{
	return series_db_write(db, sample_id, ctx, err);
}

/* Writes NPTS points as watch does; w keeps what was written. */
static int write_recording(const char *path, struct series *w, struct strbuf *err)
{
	struct store *st = NULL;
	int ret;

	if ((ret = store_create(path, STORE_RECORDING, false, &st, err)) ||
	    (ret = series_db_create(store_db(st), err)))
		goto out;
	for (int i = 0; i < NPTS && !ret; i++) {
		struct snapshot snap;
		struct series_point *p;

		make_snapshot(&snap, i);
		p = series_add(w, &snap, NULL, NULL);
		add_jvm(p, i);
		ret = store_append_sample(st, &snap, STORE_NO_REGIONS, write_point, p, NULL, err);
		snapshot_release(&snap);
	}
	if (!ret)
		ret = store_commit(st, err);
out:
	store_close(st);
	return ret;
}

/* Says which figure of point i differs (a diagnostic), or NULL. */
static const char *differs(const struct series_point *a, const struct series_point *b)
{
	if (a->t_ns != b->t_ns)
		return "t_ns";
	if (a->totals.rss != b->totals.rss || a->totals.anon != b->totals.anon)
		return "totals";
	if (a->rss_anon != b->rss_anon || a->threads != b->threads)
		return "status figures";
	if (a->cgroup_usage != b->cgroup_usage || a->cgroup_limit != b->cgroup_limit)
		return "cgroup";
	for (int c = 0; c < RC_NR; c++)
		if (a->cls[c].rss != b->cls[c].rss || a->cls_count[c] != b->cls_count[c])
			return "class sums";
	for (int c = 0; c < SC_NR; c++)
		if (a->counter[c] != b->counter[c])
			return "counters";
	if (a->nnmt != b->nnmt)
		return "NMT categories";
	for (size_t k = 0; k < a->nnmt; k++) {
		const struct series_nmt *n = series_point_nmt(b, a->nmt[k].name);

		const struct series_nmt *m = &a->nmt[k];

		if (!n)
			return "NMT names";
		if (n->reserved != m->reserved || n->committed != m->committed)
			return "NMT reserved/committed";
		if (n->malloc != m->malloc || n->malloc_count != m->malloc_count)
			return "NMT malloc";
		if (n->mmap_committed != m->mmap_committed || n->count != m->count)
			return "NMT mmap/count";
	}
	if (a->ntgroups != b->ntgroups)
		return "thread groups";
	for (size_t k = 0; k < a->ntgroups; k++) {
		const struct series_tgroup *g = series_point_tgroup(b, a->tgroups[k].name);

		if (!g || g->count != a->tgroups[k].count)
			return "thread group counts";
	}
	return NULL;
}

static const char *kind_of(const struct series_trend *t, size_t n, const char *name)
{
	const struct series_trend *x = series_trend_find(t, n, name);

	return x ? trend_kind_name(x->j.kind) : "(absent)";
}

static void test_round_trip(const char *path)
{
	struct strbuf err = STRBUF_INIT;
	struct series w, r;
	struct store *st = NULL;
	size_t same = 0;
	int ret;

	series_init(&w);
	series_init(&r);
	ret = write_recording(path, &w, &err);
	if (!ok(!ret, "recording written"))
		printf("# %s\n", err.buf);
	ret = store_open(path, &st, &err);
	if (!ok(!ret, "recording opened"))
		printf("# %s\n", err.buf);
	ret = st ? series_load(st, &r, &err) : -1;
	if (!ok(!ret, "series loaded"))
		printf("# %s\n", err.buf);
	is_int(r.pid, 4242, "pid");
	is_u64(r.start_time, 98765, "start time");
	is_str(r.name, "java", "name");
	is_str(r.cmdline, "java -jar 'app x.jar'", "cmdline, quotes kept");
	ok(r.is_jvm, "a JVM");
	is_u64(r.n, NPTS, "every point read back");
	for (size_t i = 0; i < r.n && i < w.n; i++) {
		const char *what = differs(&w.pts[i], &r.pts[i]);

		if (what)
			printf("# point %zu: %s differ\n", i, what);
		else
			same++;
	}
	is_u64(same, NPTS, "each point as written: totals, classes, cgroup, counters, NMT, groups");
	if (r.n == NPTS) {
		is_int(r.pts[3].cgroup_usage, -1, "a cgroup not known stays -1");
		is_int(r.pts[1].counter[SC_THREADS_LIVE], -1, "a counter not read stays -1");
		is_int(r.pts[0].nmt ? r.pts[0].nmt[0].malloc_count : 0, -1,
		       "an NMT figure not printed stays -1");
		ok(series_point_tgroup(&r.pts[NPTS - 1], "pool-#-thread-#") &&
		       series_point_tgroup(&r.pts[NPTS - 1], "pool-#-thread-#")->count == NPTS,
		   "thread names folded into their pool");
		ok(series_point_tgroup(&r.pts[0], "GC Thread#") != NULL, "GC Thread#0 folded");
	}
	store_close(st);
	series_release(&w);
	series_release(&r);
	strbuf_release(&err);
}

static void test_trends(const char *path)
{
	struct strbuf err = STRBUF_INIT;
	struct series s;
	struct series_trend *t = NULL;
	const struct series_trend *x;
	struct store *st = NULL;
	size_t n = 0;

	series_init(&s);
	ok(!store_open(path, &st, &err) && !series_load(st, &s, &err), "series loaded for trends");
	n = series_trends(&s, &t);
	is_str(kind_of(t, n, "rss"), "growing", "rss: growing");
	is_str(kind_of(t, n, "class:heap"), "growing", "class:heap: growing");
	is_str(kind_of(t, n, "class:anon"), "flat", "class:anon: flat");
	is_str(kind_of(t, n, "swap"), "flat", "swap: flat");
	is_str(kind_of(t, n, "threads"), "growing", "threads: growing");
	is_str(kind_of(t, n, "tgroup:pool-#-thread-#"), "growing", "the thread pool: growing");
	is_str(kind_of(t, n, "class:stack"), "(absent)", "a class never present has no trend");
	is_str(kind_of(t, n, "tgroup:GC Thread#"), "(absent)",
	       "a group that never held 2 threads has no trend");
	is_str(kind_of(t, n, "nmt:Thread"), "growing", "nmt:Thread: growing");
	is_str(kind_of(t, n, "nmt:Total"), "flat", "nmt:Total: flat");
	is_str(kind_of(t, n, "counter:sun.gc.metaspace.used"), "flat", "metaspace: flat");
	x = series_trend_find(t, n, "counter:java.threads.live");
	if (ok(x != NULL, "counter:java.threads.live present")) {
		is_u64(x->n, NPTS - 2, "points where the counter was not known are left out");
		is_str(trend_kind_name(x->j.kind), "growing", "java.threads.live: growing");
		ok(!x->bytes, "a count, not bytes");
	}
	x = series_trend_find(t, n, "class:heap");
	if (x) {
		is_int(x->j.first, MIB, "heap: first");
		is_int(x->j.last, MIB + (NPTS - 1) * 4 * MIB, "heap: last");
		ok(x->j.per_hour > 0.99 * 4.0 * MIB * 3600 &&
		       x->j.per_hour < 1.01 * 4.0 * MIB * 3600,
		   "heap: 4 MiB a second, per hour");
	}
	free(t);
	store_close(st);
	series_release(&s);
	strbuf_release(&err);
}

/* A file with no sample: ENOENT, not an empty series. */
static void test_empty(const char *path)
{
	struct strbuf err = STRBUF_INIT;
	struct store *st = NULL;
	struct series s;

	series_init(&s);
	ok(!store_create(path, STORE_RECORDING, false, &st, &err) && !store_commit(st, &err),
	   "empty recording written");
	store_close(st);
	st = NULL;
	ok(!store_open(path, &st, &err), "empty recording opened");
	is_int(st ? series_load(st, &s, &err) : 0, -ENOENT, "no samples: ENOENT");
	is_u64(s.n, 0, "no points");
	store_close(st);
	series_release(&s);
	strbuf_release(&err);
}

/* A point whose threads have these names (each name count times, from a 0-terminated list). */
static void add_named(struct series *s, int i, const char *const *names, const int *count)
{
	struct snapshot snap;
	pid_t tid = 5000;

	snapshot_init(&snap);
	snap.pid = 4242;
	snap.time_ns = 1700000000000000000ull + (uint64_t)i * 1000000000ull;
	for (size_t k = 0; names[k]; k++)
		for (int c = 0; c < count[k]; c++)
			add_thread(&snap, tid++, names[k]);
	series_add(s, &snap, NULL, NULL);
	snapshot_release(&snap);
}

static int group_count(const struct series_point *p, const char *name)
{
	const struct series_tgroup *g = series_point_tgroup(p, name);

	return g ? g->count : -1;
}

/*
 * One executor per task, never shut down: pools 7, 12 and 123 name their
 * threads "pool-7-thread-1", "pool-12-thread-" and "pool-123-thread" (the
 * kernel keeps 15 bytes). The leak must be one group, whichever cut came
 * first, in every point and in the trends.
 */
static void test_families(void)
{
	static const char *const first[] = { "pool-12-thread-", "worker-1", "pool-3-worker-1",
					      NULL };
	static const int first_n[] = { 2, 1, 1 };
	static const char *const later[] = { "pool-12-thread-", "pool-123-thread",
					      "pool-7-thread-1", "worker-2", "pool-3-worker-1",
					      NULL };
	static const int later_n[] = { 2, 1, 1, 1, 1 };
	struct series_trend *t = NULL;
	struct series s;
	size_t n;

	series_init(&s);
	add_named(&s, 0, first, first_n);
	is_int(group_count(&s.pts[0], "pool-#-thread-"), 2, "a cut family alone keeps its name");
	add_named(&s, 1, later, later_n);
	add_named(&s, 2, later, later_n);
	is_int(group_count(&s.pts[1], "pool-#-thread-#"), 4,
	       "three cuts of one family: one group, named by its longest name");
	is_int(group_count(&s.pts[1], "pool-#-thread"), -1, "no group left under a shorter cut");
	is_int(group_count(&s.pts[0], "pool-#-thread-#"), 2,
	       "an earlier point is renamed when a longer name of its family appears");
	is_int(group_count(&s.pts[0], "pool-#-thread-"), -1, "and its old name is gone");
	is_int(group_count(&s.pts[1], "pool-#-worker-#"), 1, "another family is not joined");
	is_int(group_count(&s.pts[1], "worker-#"), 1, "nor a name without the family's prefix");
	ok(s.pts[1].tgroups[0].count >= s.pts[1].tgroups[s.pts[1].ntgroups - 1].count,
	   "groups still largest first");
	n = series_trends(&s, &t);
	ok(series_trend_find(t, n, "tgroup:pool-#-thread-#") &&
		   !series_trend_find(t, n, "tgroup:pool-#-thread-"),
	   "one trend for the family");
	free(t);
	series_release(&s);

	/* thousands of names that fold to nothing: the list stops growing, nothing breaks */
	series_init(&s);
	for (int i = 0; i < 80; i++) {
		struct snapshot snap;

		snapshot_init(&snap);
		snap.pid = 4242;
		for (int k = 0; k < SERIES_TGROUP_MAX; k++) {
			char name[8] = { (char)('a' + i % 26), (char)('a' + i / 26),
					 (char)('a' + k % 26), (char)('A' + k / 26), '\0' };

			add_thread(&snap, 6000 + k, name);
		}
		series_add(&s, &snap, NULL, NULL);
		snapshot_release(&snap);
	}
	ok(s.n == 80 && s.nfam == 4096, "the family names are bounded, the points all kept");
	series_release(&s);
}

static void test_fold(void)
{
	static const char *const cases[][2] = {
		{ "pool-1-thread-23", "pool-#-thread-#" },
		{ "GC Thread#0", "GC Thread#" },
		{ "C2 CompilerThre", "C2 CompilerThre" },
		{ "C1 CompilerThre", "C1 CompilerThre" },
		{ "G1 Refine#3", "G1 Refine#" },
		{ "G1 Conc#12", "G1 Conc#" },
		{ "worker7", "worker#" },
		{ "Thread-1042", "Thread-#" },
		{ "H2 TCP Server", "H2 TCP Server" },
		{ "VM Periodic Tas", "VM Periodic Tas" },
		{ "12345", "#" },
		{ "ABC1 x", "ABC# x" },
	};
	char out[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		series_fold_thread_name(cases[i][0], out, sizeof(out));
		is_str(out, cases[i][1], cases[i][0]);
	}
	series_fold_thread_name("pool-1-thread-23", out, 6);
	is_str(out, "pool-", "cut to the buffer");
}

int main(void)
{
	test_fold();
	test_families();
	char path[256], empty[256];

	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/watch.db", dir);
	snprintf(empty, sizeof(empty), "%s/empty.db", dir);
	test_round_trip(path);
	test_trends(path);
	test_empty(empty);
	unlink(path);
	unlink(empty);
	rmdir(dir);
	return done_testing();
}
