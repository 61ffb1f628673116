/*
 * series: one process over time, built live from snapshots or read back
 * from a recording.
 *
 * The recording keeps the JVM figures in three tables beside the store's
 * own (docs/SCHEMA.md): sample_counter (name, value), sample_nmt (one row
 * per NMT category) and sample_tgroup (threads by folded name). They are
 * created with IF NOT EXISTS, so snapshot files without them stay valid
 * and a reader of an older file simply finds no rows.
 */
#include "series.h"
#include "classify.h"
#include "hsperf.h"
#include "nmt.h"
#include "parse.h"
#include "store.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const counter_names[SC_NR] = {
	[SC_THREADS_LIVE] = "java.threads.live",
	[SC_THREADS_DAEMON] = "java.threads.daemon",
	[SC_CLASSES_LOADED] = "java.cls.loadedClasses",
	[SC_CLASSES_UNLOADED] = "java.cls.unloadedClasses",
	[SC_META_USED] = "sun.gc.metaspace.used",
	[SC_META_CAPACITY] = "sun.gc.metaspace.capacity",
	[SC_CCS_USED] = "sun.gc.compressedclassspace.used",
	[SC_HEAP_USED] = "offheap.heap.used",
	[SC_HEAP_COMMITTED] = "offheap.heap.committed",
	[SC_HEAP_MAX] = "offheap.heap.max",
	[SC_OLD_USED] = "sun.gc.generation.1.space.0.used",
	[SC_YOUNG_GCS] = "sun.gc.collector.0.invocations",
	[SC_FULL_GCS] = "sun.gc.collector.1.invocations",
	[SC_CONC_GCS] = "sun.gc.collector.2.invocations",
	[SC_CHEAP_OUTSTANDING] = "offheap.cheap.outstanding",
	[SC_META_VMINFO] = "offheap.metaspace.used",
	[SC_STACKS_KEPT] = "offheap.stacks.kept",
	[SC_STACKS_KEPT_RSS] = "offheap.stacks.kept.rss",
};

const char *series_counter_name(enum series_counter c)
{
	return (unsigned)c < SC_NR ? counter_names[c] : "?";
}

int series_counter_parse(const char *name)
{
	for (int i = 0; i < SC_NR; i++)
		if (!strcmp(name, counter_names[i]))
			return i;
	return -1;
}

void series_init(struct series *s)
{
	memset(s, 0, sizeof(*s));
}

static void point_release(struct series_point *p)
{
	free(p->tgroups);
	free(p->nmt);
}

void series_release(struct series *s)
{
	for (size_t i = 0; i < s->n; i++)
		point_release(&s->pts[i]);
	free(s->pts);
	free(s->cmdline);
	free(s->fam);
	series_init(s);
}

void series_drop_front(struct series *s, size_t k)
{
	if (k > s->n)
		k = s->n;
	for (size_t i = 0; i < k; i++)
		point_release(&s->pts[i]);
	memmove(s->pts, s->pts + k, (s->n - k) * sizeof(*s->pts));
	s->n -= k;
}

static struct series_point *new_point(struct series *s)
{
	struct series_point *p;

	ALLOC_GROW(s->pts, s->n + 1, s->alloc);
	p = &s->pts[s->n++];
	memset(p, 0, sizeof(*p));
	p->cgroup_usage = p->cgroup_limit = -1;
	for (int i = 0; i < SC_NR; i++)
		p->counter[i] = -1;
	return p;
}

/*
 * A digit run that ends a short capitalised word ("C2", "G1": the JVM's
 * compiler and collector names) names a kind, not an instance: it is kept.
 */
static bool kind_digits(const char *name, const char *c)
{
	const char *w = c, *e = c;

	while (w > name && isupper((unsigned char)w[-1]))
		w--;
	while (isdigit((unsigned char)*e))
		e++;
	return c - w >= 1 && c - w <= 2 && (w == name || w[-1] == ' ') && (*e == ' ' || !*e);
}

void series_fold_thread_name(const char *name, char *out, size_t n)
{
	size_t o = 0;
	const char *c = name;

	if (!n)
		return;
	while (*c && o + 1 < n) {
		const char *run = c;

		if (!isdigit((unsigned char)*c)) {
			out[o++] = *c++;
			continue;
		}
		while (isdigit((unsigned char)*c))
			c++;
		if (kind_digits(name, run)) {
			for (; run < c && o + 1 < n; run++)
				out[o++] = *run;
		} else if (!o || out[o - 1] != '#') {
			out[o++] = '#';
		}
	}
	out[o] = '\0';
}

static int cmp_tgroup(const void *a, const void *b)
{
	const struct series_tgroup *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

bool series_same_family(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	const char *s = la < lb ? a : b, *l = la < lb ? b : a;
	size_t ls = la < lb ? la : lb, ll = la < lb ? lb : la;

	return ls >= 4 && ll - ls <= 2 && strchr(s, '#') && !strncmp(s, l, ls);
}

/*
 * Group names kept for joining families: a process that names its threads
 * without digits to fold (hex ids, say) would otherwise grow the list and
 * the cost of each new name for as long as it is watched. Names past it
 * stay groups of their own.
 */
#define FAMILY_NAMES_MAX 4096
/* Names after one that are compared with it: a bound for hostile files. */
#define FAMILY_SCAN 64

static int cmp_family(const void *a, const void *b)
{
	return strcmp(((const struct series_family *)a)->name,
		      ((const struct series_family *)b)->name);
}

static struct series_family *family_find(const struct series *s, const char *name)
{
	struct series_family key;

	snprintf(key.name, sizeof(key.name), "%s", name);
	return s->nfam ? bsearch(&key, s->fam, s->nfam, sizeof(*s->fam), cmp_family) : NULL;
}

/* Adds p's group names not seen yet, in order; whether it added any. */
static bool family_add_names(struct series *s, const struct series_point *p)
{
	bool added = false;

	for (size_t i = 0; i < p->ntgroups && s->nfam < FAMILY_NAMES_MAX; i++) {
		const char *name = p->tgroups[i].name;
		size_t at = 0;

		if (family_find(s, name))
			continue;
		while (at < s->nfam && strcmp(s->fam[at].name, name) < 0)
			at++;
		ALLOC_GROW(s->fam, s->nfam + 1, s->fam_alloc);
		memmove(s->fam + at + 1, s->fam + at, (s->nfam - at) * sizeof(*s->fam));
		snprintf(s->fam[at].name, sizeof(s->fam[at].name), "%s", name);
		s->fam[at].canon[0] = '\0';
		s->nfam++;
		added = true;
	}
	return added;
}

static size_t family_root(size_t *up, size_t x)
{
	while (up[x] != x) {
		up[x] = up[up[x]];
		x = up[x];
	}
	return x;
}

/*
 * Gives every name its family's name: the longest name joined to it (the
 * least cut), the first in order among equals. The names are in order, so
 * those that extend a name follow it, together. Whether a name seen before
 * now has another family name.
 */
static bool family_resolve(struct series *s)
{
	size_t n = s->nfam, *up = xmalloc((n ? n : 1) * sizeof(*up));
	size_t *best = xmalloc((n ? n : 1) * sizeof(*best));
	bool changed = false;

	for (size_t i = 0; i < n; i++)
		up[i] = best[i] = i;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(s->fam[i].name);

		for (size_t j = i + 1; j < n && j <= i + FAMILY_SCAN; j++) {
			size_t a, b;

			if (strncmp(s->fam[j].name, s->fam[i].name, len))
				break;
			if (!series_same_family(s->fam[i].name, s->fam[j].name))
				continue;
			a = family_root(up, i);
			b = family_root(up, j);
			if (a != b)
				up[b] = a;
		}
	}
	for (size_t i = 0; i < n; i++) {
		size_t r = family_root(up, i);

		if (strlen(s->fam[i].name) > strlen(s->fam[best[r]].name))
			best[r] = i;
	}
	for (size_t i = 0; i < n; i++) {
		const char *c = s->fam[best[family_root(up, i)]].name;

		if (strcmp(s->fam[i].canon, c)) {
			changed |= s->fam[i].canon[0] != '\0';
			snprintf(s->fam[i].canon, sizeof(s->fam[i].canon), "%s", c);
		}
	}
	free(up);
	free(best);
	return changed;
}

/* Renames p's groups to their families' names, one group per family (order left to the caller). */
static void family_join_point(const struct series *s, struct series_point *p)
{
	size_t o = 0;

	for (size_t i = 0; i < p->ntgroups; i++) {
		const struct series_family *f = family_find(s, p->tgroups[i].name);
		struct series_tgroup g = p->tgroups[i];
		size_t k;

		if (f && f->canon[0])
			snprintf(g.name, sizeof(g.name), "%s", f->canon);
		for (k = 0; k < o && strcmp(p->tgroups[k].name, g.name); k++)
			;
		if (k < o) {
			int64_t sum = (int64_t)p->tgroups[k].count + g.count;

			p->tgroups[k].count = sum > INT_MAX ? INT_MAX : (int)sum;
			continue;
		}
		p->tgroups[o++] = g;
	}
	p->ntgroups = o;
}

/* Joins the families of p (the newest point), and of every point when a family's name changed. */
static void family_join(struct series *s, struct series_point *p)
{
	if (family_add_names(s, p) && family_resolve(s)) {
		for (size_t i = 0; i < s->n; i++) {
			family_join_point(s, &s->pts[i]);
			qsort(s->pts[i].tgroups, s->pts[i].ntgroups, sizeof(*s->pts[i].tgroups),
			      cmp_tgroup);
		}
		return;
	}
	family_join_point(s, p);
}

/* Adds one thread of that (folded) name to the groups of p; the overflow goes to "(other)". */
static void tgroup_add(struct series_point *p, size_t *alloc, const char *name, int count)
{
	size_t i;

	for (i = 0; i < p->ntgroups; i++)
		if (!strcmp(p->tgroups[i].name, name))
			break;
	if (i == p->ntgroups) {
		if (p->ntgroups == SERIES_TGROUP_MAX) {
			name = "(other)";
			for (i = 0; i < p->ntgroups; i++)
				if (!strcmp(p->tgroups[i].name, name))
					break;
			if (i == p->ntgroups)
				i = p->ntgroups - 1; /* rename the last group to hold the rest */
			strcpy(p->tgroups[i].name, name);
		} else {
			ALLOC_GROW(p->tgroups, p->ntgroups + 1, *alloc);
			i = p->ntgroups++;
			snprintf(p->tgroups[i].name, sizeof(p->tgroups[i].name), "%s", name);
			p->tgroups[i].count = 0;
		}
	}
	p->tgroups[i].count += count;
}

static int64_t hs_long(const struct hsperf *h, const char *name)
{
	int64_t v;

	return hsperf_get_long(h, name, &v) ? -1 : v;
}

static void counters_from_hsperf(struct series_point *p, const struct hsperf *h)
{
	struct hsperf_vm vm = { 0 };
	uint64_t used, committed, max;

	hsperf_vm_info(h, &vm);
	p->counter[SC_THREADS_LIVE] = vm.threads_live;
	p->counter[SC_THREADS_DAEMON] = vm.threads_daemon;
	p->counter[SC_CLASSES_LOADED] = vm.classes_loaded;
	p->counter[SC_CLASSES_UNLOADED] = vm.classes_unloaded;
	p->counter[SC_META_USED] = vm.metaspace_used;
	p->counter[SC_META_CAPACITY] = vm.metaspace_capacity;
	p->counter[SC_CCS_USED] = vm.ccs_used;
	hsperf_vm_release(&vm);
	hsperf_heap(h, &used, &committed, &max);
	if (committed) {
		p->counter[SC_HEAP_USED] = (int64_t)used;
		p->counter[SC_HEAP_COMMITTED] = (int64_t)committed;
		p->counter[SC_HEAP_MAX] = (int64_t)max;
	}
	p->counter[SC_OLD_USED] = hs_long(h, counter_names[SC_OLD_USED]);
	p->counter[SC_YOUNG_GCS] = hs_long(h, counter_names[SC_YOUNG_GCS]);
	p->counter[SC_FULL_GCS] = hs_long(h, counter_names[SC_FULL_GCS]);
	p->counter[SC_CONC_GCS] = hs_long(h, counter_names[SC_CONC_GCS]);
}

static int64_t num(const struct nmt_num *n)
{
	return n->set ? (int64_t)n->val : -1;
}

static void nmt_from_report(struct series_point *p, const struct nmt_report *r)
{
	struct series_nmt *n;

	p->nmt = xcalloc(r->ncats + 1, sizeof(*p->nmt));
	n = &p->nmt[p->nnmt++];
	strcpy(n->name, "Total");
	n->reserved = num(&r->total_reserved);
	n->committed = num(&r->total_committed);
	n->malloc = num(&r->total_malloc.size);
	n->malloc_count = num(&r->total_malloc.count);
	n->mmap_committed = num(&r->total_mmap.committed);
	n->count = -1;
	for (size_t i = 0; i < r->ncats; i++) {
		const struct nmt_category *c = &r->cats[i];

		n = &p->nmt[p->nnmt++];
		snprintf(n->name, sizeof(n->name), "%s", c->name);
		n->reserved = num(&c->reserved);
		n->committed = num(&c->committed);
		n->malloc = num(&c->malloc.size);
		n->malloc_count = num(&c->malloc.count);
		n->mmap_committed = num(&c->mmap.committed);
		if (c->stack.committed.set)
			n->mmap_committed = (n->mmap_committed < 0 ? 0 : n->mmap_committed) +
					    (int64_t)c->stack.committed.val;
		n->count = c->threads.set ? (int64_t)c->threads.val : num(&c->classes);
	}
}

struct series_point *series_add(struct series *s, const struct snapshot *snap,
				const struct hsperf *h, const struct nmt_report *nmt)
{
	struct series_point *p;
	size_t talloc = 0;
	uint64_t kept_rss;

	if (!s->n) {
		s->pid = snap->pid;
		s->start_time = snap->start_time;
		snprintf(s->name, sizeof(s->name), "%s", snap->status.name);
		s->cmdline = xstrdup(snap->cmdline ? snap->cmdline : "");
		s->is_jvm = snap->is_jvm;
		s->stack_rlimit = snap->stack_rlimit;
	}
	p = new_point(s);
	p->t_ns = snap->time_ns;
	p->totals = snap->totals;
	p->rss_anon = snap->status.rss_anon;
	p->vm_swap = snap->status.vm_swap;
	p->threads = snap->status.threads;
	if (snap->cgroup.known) {
		p->cgroup_usage = (int64_t)snap->cgroup.usage;
		p->cgroup_limit = snap->cgroup.limit;
	}
	for (size_t i = 0; i < snap->nregions; i++) {
		const struct region *r = &snap->regions[i];

		mem_counts_add(&p->cls[r->cls], &r->m);
		p->cls_count[r->cls]++;
	}
	for (size_t i = 0; i < snap->nthreads; i++) {
		char folded[64];

		series_fold_thread_name(snap->threads[i].name, folded, sizeof(folded));
		tgroup_add(p, &talloc, folded, 1);
	}
	family_join(s, p);
	if (p->ntgroups)
		qsort(p->tgroups, p->ntgroups, sizeof(*p->tgroups), cmp_tgroup);
	p->counter[SC_STACKS_KEPT] = (int64_t)classify_kept_stacks(snap, &kept_rss);
	p->counter[SC_STACKS_KEPT_RSS] = (int64_t)kept_rss;
	if (h)
		counters_from_hsperf(p, h);
	if (nmt && (nmt->kind == NMT_SUMMARY || nmt->kind == NMT_DETAIL))
		nmt_from_report(p, nmt);
	series_point_clamp(p); /* hsperfdata and NMT are the target's word */
	return p;
}

static void mem_clamp(struct mem_counts *m)
{
	uint64_t *f[] = { &m->size, &m->rss, &m->pss, &m->shared_clean, &m->shared_dirty,
			  &m->private_clean, &m->private_dirty, &m->referenced, &m->anon,
			  &m->swap, &m->swap_pss, &m->locked, &m->thp };

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		*f[i] = ufigure_clamp((int64_t)*f[i]);
}

void series_point_clamp(struct series_point *p)
{
	mem_clamp(&p->totals);
	p->rss_anon = ufigure_clamp((int64_t)p->rss_anon);
	p->vm_swap = ufigure_clamp((int64_t)p->vm_swap);
	p->cgroup_usage = figure_clamp(p->cgroup_usage);
	p->cgroup_limit = figure_clamp(p->cgroup_limit);
	for (int c = 0; c < RC_NR; c++)
		mem_clamp(&p->cls[c]);
	for (int c = 0; c < SC_NR; c++)
		p->counter[c] = figure_clamp(p->counter[c]);
	for (size_t i = 0; i < p->nnmt; i++) {
		struct series_nmt *n = &p->nmt[i];

		n->reserved = figure_clamp(n->reserved);
		n->committed = figure_clamp(n->committed);
		n->malloc = figure_clamp(n->malloc);
		n->malloc_count = figure_clamp(n->malloc_count);
		n->mmap_committed = figure_clamp(n->mmap_committed);
		n->count = figure_clamp(n->count);
	}
}

const struct series_nmt *series_point_nmt(const struct series_point *p, const char *name)
{
	for (size_t i = 0; i < p->nnmt; i++)
		if (!strcmp(p->nmt[i].name, name))
			return &p->nmt[i];
	return NULL;
}

const struct series_tgroup *series_point_tgroup(const struct series_point *p, const char *name)
{
	for (size_t i = 0; i < p->ntgroups; i++)
		if (!strcmp(p->tgroups[i].name, name))
			return &p->tgroups[i];
	return NULL;
}

/* Trends. */

struct trend_acc {
	struct series_trend *v;
	size_t n, alloc;
	uint64_t *t;
	int64_t *y;
};

/* Fits the points where get() knows the figure (returns false where it does not). */
static void add_trend(struct trend_acc *a, const struct series *s, const char *name, bool bytes,
		      bool (*get)(const struct series_point *, const void *, int64_t *),
		      const void *arg)
{
	struct series_trend *st;
	size_t m = 0;

	for (size_t i = 0; i < s->n; i++)
		if (get(&s->pts[i], arg, &a->y[m]))
			a->t[m++] = s->pts[i].t_ns;
	if (!m)
		return;
	ALLOC_GROW(a->v, a->n + 1, a->alloc);
	st = &a->v[a->n++];
	snprintf(st->name, sizeof(st->name), "%s", name);
	st->bytes = bytes;
	st->n = m;
	trend_judge(a->t, a->y, m, bytes ? 1 << 20 : 2, &st->j);
}

static bool get_total(const struct series_point *p, const void *arg, int64_t *v)
{
	const char *what = arg;

	if (!strcmp(what, "rss"))
		*v = (int64_t)p->totals.rss;
	else if (!strcmp(what, "anon"))
		*v = (int64_t)p->rss_anon;
	else if (!strcmp(what, "swap"))
		*v = (int64_t)p->totals.swap;
	else
		*v = p->threads;
	return true;
}

static bool get_class(const struct series_point *p, const void *arg, int64_t *v)
{
	*v = (int64_t)p->cls[*(const int *)arg].rss;
	return true;
}

static bool get_counter(const struct series_point *p, const void *arg, int64_t *v)
{
	*v = p->counter[*(const int *)arg];
	return *v >= 0;
}

static bool get_nmt(const struct series_point *p, const void *arg, int64_t *v)
{
	const struct series_nmt *n = series_point_nmt(p, arg);

	*v = n ? n->committed : -1;
	return *v >= 0;
}

static bool get_tgroup(const struct series_point *p, const void *arg, int64_t *v)
{
	const struct series_tgroup *g = series_point_tgroup(p, arg);

	*v = g ? g->count : 0;
	return true;
}

/* Adds name to the list when absent (the union of names over all points). */
static void add_name(char (**names)[64], size_t *n, size_t *alloc, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*names)[i], name))
			return;
	ALLOC_GROW(*names, *n + 1, *alloc);
	snprintf((*names)[(*n)++], 64, "%s", name);
}

size_t series_trends(const struct series *s, struct series_trend **out)
{
	static const char *const totals[] = { "rss", "anon", "swap", "threads" };
	struct trend_acc a = { 0 };
	char (*names)[64] = NULL, label[80];
	size_t nn = 0, an = 0;
	int idx[(int)RC_NR + (int)SC_NR];

	a.t = xmalloc((s->n + 1) * sizeof(*a.t));
	a.y = xmalloc((s->n + 1) * sizeof(*a.y));
	for (size_t i = 0; i < 4; i++)
		add_trend(&a, s, totals[i], i < 3, get_total, totals[i]);
	for (int c = 0; c < RC_NR; c++) {
		bool present = false;

		for (size_t i = 0; i < s->n && !present; i++)
			present = s->pts[i].cls_count[c] > 0;
		if (!present)
			continue;
		idx[c] = c;
		snprintf(label, sizeof(label), "class:%s", region_class_name(c));
		add_trend(&a, s, label, true, get_class, &idx[c]);
	}
	for (int c = 0; c < SC_NR; c++) {
		idx[RC_NR + c] = c;
		snprintf(label, sizeof(label), "counter:%s", counter_names[c]);
		add_trend(&a, s, label,
			  (c >= SC_META_USED && c <= SC_OLD_USED) || c == SC_CHEAP_OUTSTANDING ||
				  c == SC_META_VMINFO || c == SC_STACKS_KEPT_RSS,
			  get_counter, &idx[RC_NR + c]);
	}
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; k < s->pts[i].nnmt; k++)
			add_name(&names, &nn, &an, s->pts[i].nmt[k].name);
	for (size_t k = 0; k < nn; k++) {
		snprintf(label, sizeof(label), "nmt:%s", names[k]);
		add_trend(&a, s, label, true, get_nmt, names[k]);
	}
	nn = 0;
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; k < s->pts[i].ntgroups; k++)
			if (s->pts[i].tgroups[k].count >= 2)
				add_name(&names, &nn, &an, s->pts[i].tgroups[k].name);
	for (size_t k = 0; k < nn; k++) {
		snprintf(label, sizeof(label), "tgroup:%s", names[k]);
		add_trend(&a, s, label, false, get_tgroup, names[k]);
	}
	free(names);
	free(a.t);
	free(a.y);
	*out = a.v;
	return a.n;
}

const struct series_trend *series_trend_find(const struct series_trend *t, size_t n,
					     const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(t[i].name, name))
			return &t[i];
	return NULL;
}

/* The recording's extra tables. */

static const char extra_schema[] =
	"CREATE TABLE IF NOT EXISTS sample_counter ("
	" sample_id INTEGER NOT NULL REFERENCES sample (id), name TEXT NOT NULL,"
	" value INTEGER NOT NULL, PRIMARY KEY (sample_id, name)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS sample_nmt ("
	" sample_id INTEGER NOT NULL REFERENCES sample (id), category TEXT NOT NULL,"
	" reserved INTEGER, committed INTEGER, malloc INTEGER, malloc_count INTEGER,"
	" mmap_committed INTEGER, count INTEGER,"
	" PRIMARY KEY (sample_id, category)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS sample_tgroup ("
	" sample_id INTEGER NOT NULL REFERENCES sample (id), name TEXT NOT NULL,"
	" count INTEGER NOT NULL, PRIMARY KEY (sample_id, name)) WITHOUT ROWID;";

static int db_error(struct sqlite3 *db, struct strbuf *err, const char *what)
{
	strbuf_addf(err, "cannot %s the recording: %s", what, sqlite3_errmsg(db));
	/* a full disk is said as such: the commands hint at it */
	return sqlite3_errcode(db) == SQLITE_FULL ? -ENOSPC : -EIO;
}

int series_db_create(struct sqlite3 *db, struct strbuf *err)
{
	if (sqlite3_exec(db, extra_schema, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, err, "write");
	return 0;
}

static void bind_opt(sqlite3_stmt *q, int i, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(q, i);
	else
		sqlite3_bind_int64(q, i, v);
}

static int step(struct sqlite3 *db, sqlite3_stmt *q, struct strbuf *err)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc == SQLITE_DONE ? 0 : db_error(db, err, "write");
}

int series_db_write(struct sqlite3 *db, int64_t sid, const struct series_point *p,
		    struct strbuf *err)
{
	sqlite3_stmt *qc = NULL, *qn = NULL, *qt = NULL;
	int ret = 0;

	if (sqlite3_prepare_v2(db, "INSERT INTO sample_counter VALUES (?,?,?)", -1, &qc, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO sample_nmt VALUES (?,?,?,?,?,?,?,?)", -1, &qn,
			       NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO sample_tgroup VALUES (?,?,?)", -1, &qt, NULL)) {
		ret = db_error(db, err, "write");
		goto out;
	}
	for (int i = 0; i < SC_NR && !ret; i++) {
		if (p->counter[i] < 0)
			continue;
		sqlite3_bind_int64(qc, 1, sid);
		sqlite3_bind_text(qc, 2, counter_names[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(qc, 3, p->counter[i]);
		ret = step(db, qc, err);
	}
	for (size_t i = 0; i < p->nnmt && !ret; i++) {
		const struct series_nmt *n = &p->nmt[i];

		sqlite3_bind_int64(qn, 1, sid);
		sqlite3_bind_text(qn, 2, n->name, -1, SQLITE_STATIC);
		bind_opt(qn, 3, n->reserved);
		bind_opt(qn, 4, n->committed);
		bind_opt(qn, 5, n->malloc);
		bind_opt(qn, 6, n->malloc_count);
		bind_opt(qn, 7, n->mmap_committed);
		bind_opt(qn, 8, n->count);
		ret = step(db, qn, err);
	}
	for (size_t i = 0; i < p->ntgroups && !ret; i++) {
		sqlite3_bind_int64(qt, 1, sid);
		sqlite3_bind_text(qt, 2, p->tgroups[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(qt, 3, p->tgroups[i].count);
		ret = step(db, qt, err);
	}
out:
	sqlite3_finalize(qc);
	sqlite3_finalize(qn);
	sqlite3_finalize(qt);
	return ret;
}

/* Reading a recording back. */

static bool has_table(struct sqlite3 *db, const char *name)
{
	sqlite3_stmt *q;
	bool yes = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
			       -1, &q, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	yes = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return yes;
}

static int64_t col_opt(sqlite3_stmt *q, int i)
{
	return sqlite3_column_type(q, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, i);
}

static const char *col_str(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	return t ? (const char *)t : "";
}

/* The index of the point of sample id sid (ids ascend with the points). */
static struct series_point *point_of(struct series *s, const int64_t *ids, int64_t sid)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ids[mid] == sid)
			return &s->pts[mid];
		if (ids[mid] < sid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Runs sql (selecting sample_id first) and hands each row with its point to
 * fn. The rows are bounded by what the file holds; a row of an unknown
 * sample is skipped.
 */
static int each_row(struct sqlite3 *db, struct series *s, const int64_t *ids, const char *sql,
		    void (*fn)(struct series_point *, sqlite3_stmt *, void *), void *ctx,
		    struct strbuf *err)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return db_error(db, err, "read");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct series_point *p = point_of(s, ids, sqlite3_column_int64(q, 0));

		if (p)
			fn(p, q, ctx);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : db_error(db, err, "read");
}

static void row_class(struct series_point *p, sqlite3_stmt *q, void *ctx)
{
	int c = region_class_parse(col_str(q, 1));
	struct mem_counts *m;

	(void)ctx;
	if (c < 0)
		return;
	m = &p->cls[c];
	p->cls_count[c] = (uint32_t)sqlite3_column_int64(q, 2);
	m->size = (uint64_t)sqlite3_column_int64(q, 3);
	m->rss = (uint64_t)sqlite3_column_int64(q, 4);
	m->pss = (uint64_t)sqlite3_column_int64(q, 5);
	m->anon = (uint64_t)sqlite3_column_int64(q, 6);
	m->swap = (uint64_t)sqlite3_column_int64(q, 7);
	m->locked = (uint64_t)sqlite3_column_int64(q, 8);
	m->private_dirty = (uint64_t)sqlite3_column_int64(q, 9);
}

static void row_counter(struct series_point *p, sqlite3_stmt *q, void *ctx)
{
	int c = series_counter_parse(col_str(q, 1));

	(void)ctx;
	if (c >= 0)
		p->counter[c] = sqlite3_column_int64(q, 2);
}

static void row_nmt(struct series_point *p, sqlite3_stmt *q, void *ctx)
{
	struct series_nmt *n;

	(void)ctx;
	/* NMT knows some 30 categories; more rows than that are not from us. */
	if (p->nnmt >= 256)
		return;
	p->nmt = xrealloc(p->nmt, (p->nnmt + 1) * sizeof(*p->nmt));
	n = &p->nmt[p->nnmt++];
	snprintf(n->name, sizeof(n->name), "%s", col_str(q, 1));
	n->reserved = col_opt(q, 2);
	n->committed = col_opt(q, 3);
	n->malloc = col_opt(q, 4);
	n->malloc_count = col_opt(q, 5);
	n->mmap_committed = col_opt(q, 6);
	n->count = col_opt(q, 7);
}

static void row_tgroup(struct series_point *p, sqlite3_stmt *q, void *ctx)
{
	size_t alloc = p->ntgroups;
	char folded[64];

	(void)ctx;
	if (ctx) { /* from the thread table: fold each name */
		series_fold_thread_name(col_str(q, 1), folded, sizeof(folded));
		tgroup_add(p, &alloc, folded, 1);
	} else {
		int64_t c = sqlite3_column_int64(q, 2);

		tgroup_add(p, &alloc, col_str(q, 1), c < 0 ? 0 : c > 1 << 24 ? 1 << 24 : (int)c);
	}
}

int series_load(struct store *st, struct series *s, struct strbuf *err)
{
	struct sqlite3 *db = store_db(st);
	sqlite3_stmt *q;
	int64_t proc_id = -1, *ids = NULL;
	size_t aids = 0;
	bool thread_rows = false;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT id, pid, start_time, name, cmdline, is_jvm FROM process"
			       " ORDER BY id LIMIT 1",
			       -1, &q, NULL) != SQLITE_OK)
		return db_error(db, err, "read");
	if (sqlite3_step(q) == SQLITE_ROW) {
		proc_id = sqlite3_column_int64(q, 0);
		s->pid = (pid_t)sqlite3_column_int64(q, 1);
		s->start_time = (uint64_t)sqlite3_column_int64(q, 2);
		snprintf(s->name, sizeof(s->name), "%s", col_str(q, 3));
		s->cmdline = xstrdup(col_str(q, 4));
		s->is_jvm = sqlite3_column_int64(q, 5) != 0;
	}
	sqlite3_finalize(q);
	if (proc_id < 0) {
		strbuf_addstr(err, "the file holds no samples");
		return -ENOENT;
	}
	if (sqlite3_prepare_v2(db,
			       "SELECT id, t_ns, rss, pss, anon, swap, size, rss_anon, vm_swap,"
			       " threads, cgroup_usage, cgroup_limit, locked, private_dirty,"
			       " nthreads FROM sample WHERE process_id = ? ORDER BY id",
			       -1, &q, NULL) != SQLITE_OK)
		return db_error(db, err, "read");
	sqlite3_bind_int64(q, 1, proc_id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct series_point *p = new_point(s);

		ALLOC_GROW(ids, s->n, aids);
		ids[s->n - 1] = sqlite3_column_int64(q, 0);
		p->t_ns = (uint64_t)sqlite3_column_int64(q, 1);
		p->totals.rss = (uint64_t)sqlite3_column_int64(q, 2);
		p->totals.pss = (uint64_t)sqlite3_column_int64(q, 3);
		p->totals.anon = (uint64_t)sqlite3_column_int64(q, 4);
		p->totals.swap = (uint64_t)sqlite3_column_int64(q, 5);
		p->totals.size = (uint64_t)sqlite3_column_int64(q, 6);
		p->rss_anon = (uint64_t)sqlite3_column_int64(q, 7);
		p->vm_swap = (uint64_t)sqlite3_column_int64(q, 8);
		p->threads = (int)sqlite3_column_int64(q, 9);
		p->cgroup_usage = col_opt(q, 10);
		p->cgroup_limit = col_opt(q, 11);
		p->totals.locked = (uint64_t)sqlite3_column_int64(q, 12);
		p->totals.private_dirty = (uint64_t)sqlite3_column_int64(q, 13);
		if (col_opt(q, 14) > 0)
			thread_rows = true;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		ret = db_error(db, err, "read");
		goto out;
	}
	if (!s->n) {
		strbuf_addstr(err, "the file holds no samples");
		ret = -ENOENT;
		goto out;
	}
	ret = each_row(db, s, ids,
		       "SELECT sample_id, class, count, size, rss, pss, anon, swap, locked,"
		       " private_dirty FROM class_total ORDER BY sample_id",
		       row_class, NULL, err);
	if (!ret && has_table(db, "sample_counter"))
		ret = each_row(db, s, ids, "SELECT sample_id, name, value FROM sample_counter",
			       row_counter, NULL, err);
	if (!ret && has_table(db, "sample_nmt"))
		ret = each_row(db, s, ids,
			       "SELECT sample_id, category, reserved, committed, malloc,"
			       " malloc_count, mmap_committed, count FROM sample_nmt",
			       row_nmt, NULL, err);
	if (has_table(db, "sample_tgroup")) {
		thread_rows = false;
		if (!ret)
			ret = each_row(db, s, ids,
				       "SELECT sample_id, name, count FROM sample_tgroup", row_tgroup,
				       NULL, err);
	}
	if (!ret && thread_rows)
		ret = each_row(db, s, ids, "SELECT sample_id, name FROM thread", row_tgroup,
			       &thread_rows, err);
	for (size_t i = 0; i < s->n; i++)
		family_add_names(s, &s->pts[i]);
	family_resolve(s);
	for (size_t i = 0; i < s->n; i++) {
		family_join_point(s, &s->pts[i]);
		if (s->pts[i].ntgroups)
			qsort(s->pts[i].tgroups, s->pts[i].ntgroups, sizeof(*s->pts[i].tgroups),
			      cmp_tgroup);
		series_point_clamp(&s->pts[i]);
	}
out:
	free(ids);
	return ret;
}
