/* test-diff: pairing of mappings (every rule), born/gone, class and thread deltas, sorting. */
#include "diff.h"
#include "snapshot.h"
#include "tap.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define K 1024ull
#define M (1024ull * 1024)

static struct region *add_region(struct snapshot *s, uint64_t start, uint64_t end,
				 const char *path, enum region_class cls, uint64_t rss)
{
	struct region *r;

	ALLOC_GROW(s->regions, s->nregions + 1, s->alloc_regions);
	r = &s->regions[s->nregions++];
	memset(r, 0, sizeof(*r));
	r->start = start;
	r->end = end;
	r->path = xstrdup(path);
	strcpy(r->perms, "rw-p");
	r->cls = cls;
	r->m.size = end - start;
	r->m.rss = rss;
	r->m.anon = *path ? 0 : rss;
	return r;
}

static void add_thread(struct snapshot *s, pid_t tid, const char *name)
{
	ALLOC_GROW(s->threads, s->nthreads + 1, s->alloc_threads);
	memset(&s->threads[s->nthreads], 0, sizeof(s->threads[0]));
	s->threads[s->nthreads].tid = tid;
	snprintf(s->threads[s->nthreads].name, sizeof(s->threads[0].name), "%s", name);
	s->nthreads++;
}

static void sum_totals(struct snapshot *s)
{
	memset(&s->totals, 0, sizeof(s->totals));
	for (size_t i = 0; i < s->nregions; i++)
		mem_counts_add(&s->totals, &s->regions[i].m);
}

static const struct diff_region *find(const struct diff *d, const char *path, uint64_t addr)
{
	for (size_t i = 0; i < d->nregions; i++) {
		const struct diff_region *r = &d->regions[i];
		const struct region *x = r->b ? r->b : r->a;

		if (!strcmp(x->path, path) && x->start == addr)
			return r;
	}
	return NULL;
}

static const struct diff_class *find_class(const struct diff *d, enum region_class c)
{
	for (size_t i = 0; i < d->nclasses; i++)
		if (d->classes[i].cls == c)
			return &d->classes[i];
	return NULL;
}

int main(void)
{
	struct snapshot a, b;
	struct diff d;
	const struct diff_region *r;
	const struct diff_class *c;

	snapshot_init(&a);
	snapshot_init(&b);
	a.time_ns = 1000000000ull;
	b.time_ns = 4000000000ull;

	/* exact: libc unchanged; heap same range but more resident */
	add_region(&a, 0x400000, 0x401000, "/usr/bin/prog", RC_LIB, 4 * K);
	add_region(&b, 0x400000, 0x401000, "/usr/bin/prog", RC_LIB, 4 * K);
	add_region(&a, 0x1000000, 0x1100000, "[heap]", RC_HEAP, 100 * K);
	/* start: brk heap grew at its end */
	add_region(&b, 0x1000000, 0x1300000, "[heap]", RC_HEAP, 900 * K);
	/* end: anonymous region grew downwards (new mmap merged below it) */
	add_region(&a, 0x7f0000100000, 0x7f0000200000, "", RC_ANON, 1 * M);
	add_region(&b, 0x7f0000000000, 0x7f0000200000, "", RC_ANON, 2 * M);
	/* overlap: a file mapping split by mprotect, same path, neither end kept */
	add_region(&a, 0x7f1000000000, 0x7f1000004000, "/data/x.bin", RC_FILE, 16 * K);
	add_region(&b, 0x7f1000001000, 0x7f1000003000, "/data/x.bin", RC_FILE, 8 * K);
	/* gone: a library unmapped; born: a new shm segment */
	add_region(&a, 0x7f2000000000, 0x7f2000010000, "/usr/lib/libgone.so", RC_LIB, 64 * K);
	add_region(&b, 0x7f3000000000, 0x7f3000400000, "/dev/shm/seg", RC_SHM, 4 * M);
	/* same start, different path: not paired — one gone, one born */
	add_region(&a, 0x7f4000000000, 0x7f4000001000, "/tmp/old", RC_FILE, 4 * K);
	add_region(&b, 0x7f4000000000, 0x7f4000001000, "/tmp/new", RC_FILE, 4 * K);
	/* [vsyscall] above 2^63 */
	add_region(&a, 0xffffffffff600000ull, 0xffffffffff601000ull, "[vsyscall]", RC_SPECIAL, 0);
	add_region(&b, 0xffffffffff600000ull, 0xffffffffff601000ull, "[vsyscall]", RC_SPECIAL, 0);
	sum_totals(&a);
	sum_totals(&b);

	add_thread(&a, 100, "main");
	add_thread(&a, 101, "old-worker");
	add_thread(&b, 100, "main");
	add_thread(&b, 102, "leaker");
	add_thread(&b, 103, "leaker-2");

	diff_compute(&a, &b, DK_RSS, &d);
	is_int(d.interval_ns, 3000000000ll, "interval is b - a");
	is_int(d.nregions, 9, "7 + 7 mappings: 5 pairs, 2 gone, 2 born");

	r = find(&d, "/usr/bin/prog", 0x400000);
	ok(r && r->how == DM_EXACT && r->d.rss == 0, "exact: same start, end, path");
	r = find(&d, "[heap]", 0x1000000);
	ok(r && r->how == DM_START, "same start + path: grew at the end");
	ok(r && r->d.rss == (int64_t)(800 * K) && r->d.size == 0x200000, "heap deltas");
	r = find(&d, "", 0x7f0000000000);
	ok(r && r->how == DM_END, "same end + path: anonymous grew downwards");
	ok(r && r->a && r->a->start == 0x7f0000100000, "paired with the old, higher start");
	ok(r && r->d.anon == (int64_t)M, "anon delta of the downward growth");
	r = find(&d, "/data/x.bin", 0x7f1000001000);
	ok(r && r->how == DM_OVERLAP && r->d.rss == -(int64_t)(8 * K), "overlap with same path");
	r = find(&d, "/usr/lib/libgone.so", 0x7f2000000000);
	ok(r && r->how == DM_GONE && !r->b && r->d.rss == -(int64_t)(64 * K), "gone");
	r = find(&d, "/dev/shm/seg", 0x7f3000000000);
	ok(r && r->how == DM_BORN && !r->a && r->d.rss == (int64_t)(4 * M), "born");
	r = find(&d, "/tmp/old", 0x7f4000000000);
	ok(r && r->how == DM_GONE, "same range, other path: old one gone");
	r = find(&d, "/tmp/new", 0x7f4000000000);
	ok(r && r->how == DM_BORN, "same range, other path: new one born");
	r = find(&d, "[vsyscall]", 0xffffffffff600000ull);
	ok(r && r->how == DM_EXACT, "address above 2^63 pairs");

	ok(d.regions[0].b && !strcmp(d.regions[0].b->path, "/dev/shm/seg"),
	   "sorted: largest |rss delta| first");
	for (size_t i = 1; i < d.nregions; i++)
		if (llabs(d.regions[i].d.rss) > llabs(d.regions[i - 1].d.rss)) {
			ok(0, "sorted by |rss delta| descending");
			break;
		} else if (i == d.nregions - 1) {
			ok(1, "sorted by |rss delta| descending");
		}

	c = find_class(&d, RC_ANON);
	ok(c && c->d.rss == (int64_t)M && c->d.count == 0, "class anon delta");
	c = find_class(&d, RC_SHM);
	ok(c && c->a.count == 0 && c->b.count == 1 && c->d.rss == (int64_t)(4 * M),
	   "class shm born");
	c = find_class(&d, RC_LIB);
	ok(c && c->d.count == -1 && c->d.rss == -(int64_t)(64 * K), "class lib lost one mapping");
	ok(d.classes[0].cls == RC_SHM, "classes sorted by |delta|");
	ok(find_class(&d, RC_STACK) == NULL, "classes absent from both are left out");
	is_int(d.total.rss, (int64_t)(4 * M + 800 * K + M - 8 * K - 64 * K),
	       "total rss delta from totals");

	is_int(d.threads_born, 2, "two threads born");
	is_int(d.threads_gone, 1, "one thread gone");
	ok(d.nthreads == 3 && d.threads[0].born && d.threads[0].tid == 102 &&
		   !strcmp(d.threads[0].name, "leaker") && d.threads[1].tid == 103,
	   "born threads first, ascending, with names");
	ok(!d.threads[2].born && d.threads[2].tid == 101 && !strcmp(d.threads[2].name, "old-worker"),
	   "gone thread with its name");
	diff_release(&d);

	/* Sorting by another key; the rules are tried in order: exact beats overlap. */
	diff_compute(&a, &b, DK_SIZE, &d);
	ok(d.regions[0].b && !strcmp(d.regions[0].b->path, "/dev/shm/seg") &&
		   d.regions[0].d.size == 0x400000,
	   "sorted by |size delta|");
	diff_release(&d);
	snapshot_release(&b);
	snapshot_init(&b);

	/* Shrunk at the start and at the end, and a greedy overlap that must prefer more overlap. */
	add_region(&b, 0x1000000, 0x1080000, "[heap]", RC_HEAP, 50 * K);
	add_region(&b, 0x7f0000180000, 0x7f0000200000, "", RC_ANON, 512 * K);
	add_region(&b, 0x7f1000000800, 0x7f1000001000, "/data/x.bin", RC_FILE, 2 * K);
	add_region(&b, 0x7f1000001000, 0x7f1000003800, "/data/x.bin", RC_FILE, 10 * K);
	sum_totals(&b);
	diff_compute(&a, &b, DK_RSS, &d);
	r = find(&d, "[heap]", 0x1000000);
	ok(r && r->how == DM_START && r->d.size == -0x80000, "shrank at the end");
	r = find(&d, "", 0x7f0000180000);
	ok(r && r->how == DM_END && r->d.size == -0x80000, "shrank at the start");
	r = find(&d, "/data/x.bin", 0x7f1000001000);
	ok(r && r->how == DM_OVERLAP, "overlap picks the larger overlap");
	r = find(&d, "/data/x.bin", 0x7f1000000800);
	ok(r && r->how == DM_BORN, "the smaller overlap is born");
	is_int(d.threads_born, 0, "no threads in b: none born");
	is_int(d.threads_gone, 2, "both threads of a gone");
	diff_release(&d);

	/* Empty snapshots. */
	snapshot_release(&b);
	snapshot_init(&b);
	diff_compute(&b, &b, DK_RSS, &d);
	ok(d.nregions == 0 && d.nclasses == 0 && d.nthreads == 0, "empty vs empty");
	diff_release(&d);

	is_int(diff_key_parse("anon"), DK_ANON, "key anon");
	is_int(diff_key_parse("bogus"), -1, "key bogus");
	is_str(diff_match_name(DM_END), "same-end", "match name");

	snapshot_release(&a);
	snapshot_release(&b);
	return done_testing();
}
