/*
 * diff: what changed between two snapshots of a process.
 *
 * Mappings carry no identity across snapshots, so they are paired by address
 * and path, most certain rule first, each mapping paired at most once:
 *   1. exact start, end and path — unchanged or only its pages changed;
 *   2. same start and path — it grew or shrank at its end (brk, mremap, a
 *      glibc arena whose rw part grows into its reserve);
 *   3. same end and path — it grew or shrank at its start: Linux places a new
 *      anonymous mmap just below the previous one and merges two adjacent
 *      anonymous mappings with the same flags (vma_merge), so an anonymous
 *      region that keeps receiving mmaps grows downwards;
 *   4. overlapping with the same path — split or merged by mprotect/munmap.
 * What is left is born (only after) or gone (only before).
 */
#include "diff.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static const char *const match_names[] = {
	[DM_EXACT] = "exact", [DM_START] = "same-start", [DM_END] = "same-end",
	[DM_OVERLAP] = "overlap", [DM_BORN] = "born", [DM_GONE] = "gone",
};

const char *diff_match_name(enum diff_match m)
{
	return (unsigned)m < sizeof(match_names) / sizeof(match_names[0]) ? match_names[m] : "?";
}

int diff_key_parse(const char *name)
{
	static const char *const keys[] = { [DK_RSS] = "rss", [DK_ANON] = "anon",
					    [DK_SWAP] = "swap", [DK_SIZE] = "size" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(name, keys[i]))
			return (int)i;
	return -1;
}

int64_t diff_delta_get(const struct diff_delta *d, enum diff_key key)
{
	switch (key) {
	case DK_ANON: return d->anon;
	case DK_SWAP: return d->swap;
	case DK_SIZE: return d->size;
	case DK_RSS: break;
	}
	return d->rss;
}

static void delta(struct diff_delta *d, const struct mem_counts *a, const struct mem_counts *b)
{
	static const struct mem_counts zero;

	if (!a)
		a = &zero;
	if (!b)
		b = &zero;
	d->size = (int64_t)(b->size - a->size);
	d->rss = (int64_t)(b->rss - a->rss);
	d->pss = (int64_t)(b->pss - a->pss);
	d->anon = (int64_t)(b->anon - a->anon);
	d->swap = (int64_t)(b->swap - a->swap);
}

static bool same_path(const struct region *x, const struct region *y)
{
	return !strcmp(x->path ? x->path : "", y->path ? y->path : "");
}

/* Index of the region of s starting at addr, or -1. */
static ssize_t find_start(const struct snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nregions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->regions[mid].start < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nregions && s->regions[lo].start == addr ? (ssize_t)lo : -1;
}

/* First region of s whose end is above addr (ends ascend with starts: no overlaps). */
static size_t first_end_above(const struct snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nregions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->regions[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static ssize_t find_end(const struct snapshot *s, uint64_t addr)
{
	size_t i;

	if (!addr)
		return -1;
	i = first_end_above(s, addr - 1);

	return i < s->nregions && s->regions[i].end == addr ? (ssize_t)i : -1;
}

static void add_pair(struct diff *d, const struct region *a, const struct region *b,
		     enum diff_match how)
{
	struct diff_region *r;

	ALLOC_GROW(d->regions, d->nregions + 1, d->alloc_regions);
	r = &d->regions[d->nregions++];
	memset(r, 0, sizeof(*r));
	r->a = a;
	r->b = b;
	r->how = how;
	delta(&r->d, a ? &a->m : NULL, b ? &b->m : NULL);
}

static void match_regions(struct diff *d)
{
	const struct snapshot *a = d->a, *b = d->b;
	ssize_t *pa = xcalloc(a->nregions + 1, sizeof(*pa));	/* a → b index, -1 unpaired */
	bool *used = xcalloc(b->nregions + 1, sizeof(*used));
	enum diff_match *how = xcalloc(a->nregions + 1, sizeof(*how));

	for (size_t i = 0; i < a->nregions; i++)
		pa[i] = -1;
	for (int rule = DM_EXACT; rule <= DM_OVERLAP; rule++) {
		for (size_t i = 0; i < a->nregions; i++) {
			const struct region *ra = &a->regions[i];
			ssize_t j = -1;

			if (pa[i] >= 0)
				continue;
			if (rule == DM_EXACT || rule == DM_START) {
				j = find_start(b, ra->start);
				if (j >= 0 && (used[j] || !same_path(ra, &b->regions[j]) ||
					       (rule == DM_EXACT) != (b->regions[j].end == ra->end)))
					j = -1;
			} else if (rule == DM_END) {
				j = find_end(b, ra->end);
				if (j >= 0 && (used[j] || !same_path(ra, &b->regions[j])))
					j = -1;
			} else {
				uint64_t best = 0;

				for (size_t k = first_end_above(b, ra->start);
				     k < b->nregions && b->regions[k].start < ra->end; k++) {
					const struct region *rb = &b->regions[k];
					uint64_t lo = rb->start > ra->start ? rb->start : ra->start;
					uint64_t hi = rb->end < ra->end ? rb->end : ra->end;

					if (used[k] || !same_path(ra, rb) || hi <= lo)
						continue;
					if (hi - lo > best) {
						best = hi - lo;
						j = (ssize_t)k;
					}
				}
			}
			if (j >= 0) {
				pa[i] = j;
				used[j] = true;
				how[i] = (enum diff_match)rule;
			}
		}
	}
	for (size_t i = 0; i < a->nregions; i++)
		add_pair(d, &a->regions[i], pa[i] >= 0 ? &b->regions[pa[i]] : NULL,
			 pa[i] >= 0 ? how[i] : DM_GONE);
	for (size_t j = 0; j < b->nregions; j++)
		if (!used[j])
			add_pair(d, NULL, &b->regions[j], DM_BORN);
	free(pa);
	free(used);
	free(how);
}

void diff_class_totals(const struct snapshot *s, struct diff_class_side out[RC_NR])
{
	memset(out, 0, RC_NR * sizeof(*out));
	for (size_t i = 0; i < s->nregions; i++) {
		const struct region *r = &s->regions[i];
		unsigned c = (unsigned)r->cls < RC_NR ? (unsigned)r->cls : RC_ANON;

		out[c].count++;
		mem_counts_add(&out[c].m, &r->m);
	}
}

static uint64_t abs64(int64_t v)
{
	return v < 0 ? -(uint64_t)v : (uint64_t)v;
}

static uint64_t region_addr(const struct diff_region *r)
{
	return r->b ? r->b->start : r->a->start;
}

static int cmp_region(const void *x, const void *y, void *key)
{
	const struct diff_region *p = x, *q = y;
	enum diff_key sort_key = *(const enum diff_key *)key;
	uint64_t dp = abs64(diff_delta_get(&p->d, sort_key));
	uint64_t dq = abs64(diff_delta_get(&q->d, sort_key));

	if (dp != dq)
		return dp > dq ? -1 : 1;
	return region_addr(p) < region_addr(q) ? -1 : region_addr(p) > region_addr(q);
}

static int cmp_class(const void *x, const void *y, void *key)
{
	const struct diff_class *p = x, *q = y;
	enum diff_key sort_key = *(const enum diff_key *)key;
	uint64_t dp = abs64(diff_delta_get(&p->d, sort_key));
	uint64_t dq = abs64(diff_delta_get(&q->d, sort_key));

	if (dp != dq)
		return dp > dq ? -1 : 1;
	return (int)p->cls - (int)q->cls;
}

static void add_thread(struct diff *d, const struct thread *t, bool born)
{
	struct diff_thread *dt;

	ALLOC_GROW(d->threads, d->nthreads + 1, d->alloc_threads);
	dt = &d->threads[d->nthreads++];
	dt->tid = t->tid;
	memcpy(dt->name, t->name, sizeof(dt->name));
	dt->name[sizeof(dt->name) - 1] = 0;
	dt->born = born;
	if (born)
		d->threads_born++;
	else
		d->threads_gone++;
}

static void match_threads(struct diff *d)
{
	const struct snapshot *a = d->a, *b = d->b;
	size_t i = 0, j = 0;

	/* Born first, then gone: two passes over the merge of two ascending lists. */
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0, j = 0; i < a->nthreads || j < b->nthreads;) {
			pid_t ta = i < a->nthreads ? a->threads[i].tid : 0;
			pid_t tb = j < b->nthreads ? b->threads[j].tid : 0;

			if (i < a->nthreads && j < b->nthreads && ta == tb) {
				i++;
				j++;
			} else if (j < b->nthreads && (i >= a->nthreads || tb < ta)) {
				if (pass == 0)
					add_thread(d, &b->threads[j], true);
				j++;
			} else {
				if (pass == 1)
					add_thread(d, &a->threads[i], false);
				i++;
			}
		}
	}
}

void diff_compute(const struct snapshot *a, const struct snapshot *b, enum diff_key key,
		  struct diff *d)
{
	struct diff_class_side ca[RC_NR], cb[RC_NR];

	memset(d, 0, sizeof(*d));
	d->a = a;
	d->b = b;
	d->interval_ns = (int64_t)(b->time_ns - a->time_ns);
	delta(&d->total, &a->totals, &b->totals);
	d->total.count = (int64_t)b->nregions - (int64_t)a->nregions;

	diff_class_totals(a, ca);
	diff_class_totals(b, cb);
	d->classes = xcalloc(RC_NR, sizeof(*d->classes));
	for (int c = 0; c < RC_NR; c++) {
		struct diff_class *dc;

		if (!ca[c].count && !cb[c].count)
			continue;
		dc = &d->classes[d->nclasses++];
		dc->cls = (enum region_class)c;
		dc->a = ca[c];
		dc->b = cb[c];
		delta(&dc->d, &ca[c].m, &cb[c].m);
		dc->d.count = (int64_t)cb[c].count - (int64_t)ca[c].count;
	}

	match_regions(d);
	match_threads(d);

	qsort_r(d->classes, d->nclasses, sizeof(*d->classes), cmp_class, &key);
	if (d->nregions)
		qsort_r(d->regions, d->nregions, sizeof(*d->regions), cmp_region, &key);
}

void diff_release(struct diff *d)
{
	free(d->classes);
	free(d->regions);
	free(d->threads);
	memset(d, 0, sizeof(*d));
}
