/* Unit tests for smaps: the recorded leaker tree, odd but valid input, hostile input. */
#include "smaps.h"
#include "strbuf.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static const char good[] =
	"00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/my prog (deleted)\n"
	"Size:                328 kB\n"
	"KernelPageSize:        4 kB\n"
	"Rss:                 300 kB\n"
	"Pss:                 150 kB\n"
	"Shared_Clean:        200 kB\n"
	"Shared_Dirty:          0 kB\n"
	"Private_Clean:       100 kB\n"
	"Private_Dirty:         0 kB\n"
	"Referenced:          300 kB\n"
	"Anonymous:             0 kB\n"
	"AnonHugePages:      2048 kB\n"
	"FilePmdMapped:      2048 kB\n"
	"Swap:                 12 kB\n"
	"SwapPss:               6 kB\n"
	"Locked:                4 kB\n"
	"THPeligible:    0\n"
	"ProtectionKey:         0\n"
	"NewKeyFromTheFuture:   7 kB\n"
	"VmFlags: rd ex mr mw me dw\n"
	"7ffe1000-7ffe3000 rw-p 00000000 00:00 0\n"
	"Size:                  8 kB\n"
	"Rss:                   8 kB\n"
	"Anonymous:             8 kB\n";

static int parse(const char *text, struct region **r, size_t *n, struct strbuf *err)
{
	size_t alloc = 0;

	*r = NULL;
	*n = 0;
	strbuf_reset(err);
	return smaps_parse(text, strlen(text), r, n, &alloc, err);
}

static void free_regions(struct region *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].path);
	free(r);
}

static void expect_bad(const char *text, const char *what)
{
	struct strbuf err = STRBUF_INIT;
	struct region *r;
	size_t n;

	ok(parse(text, &r, &n, &err) == -22 && err.len > 0, what);
	free_regions(r, n);
	strbuf_release(&err);
}

static void free_paths(struct region *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].path);
}

/* region [start, end) with rss = its length, named for checking what was kept */
static struct region reg(uint64_t start, uint64_t end, const char *name)
{
	struct region r;

	memset(&r, 0, sizeof(r));
	r.start = start;
	r.end = end;
	r.m.size = r.m.rss = end - start;
	r.path = strdup(name);
	return r;
}

/* smaps_reconcile on reads of a map that changed while it was read. */
static void test_reconcile(void)
{
	struct region r[8];
	size_t n;

	/* [1000,2000) listed, merged with its neighbour, listed again as [1000,3000) */
	n = 0;
	r[n++] = reg(0x1000, 0x2000, "old");
	r[n++] = reg(0x1000, 0x3000, "merged");
	r[n++] = reg(0x4000, 0x5000, "next");
	is_u64(smaps_reconcile(r, &n), 1, "a start listed twice: one entry reconciled");
	is_u64(n, 2, "two mappings left");
	ok(r[0].start == 0x1000 && r[0].end == 0x3000 && !strcmp(r[0].path, "merged"),
	   "the later (merged) view is kept");
	free_paths(r, n);

	/* a later entry starting inside an earlier one: the earlier is cut, its counts too */
	n = 0;
	r[n++] = reg(0x10000, 0x14000, "whole");
	r[n++] = reg(0x12000, 0x13000, "split");
	r[n++] = reg(0x13000, 0x14000, "rest");
	is_u64(smaps_reconcile(r, &n), 1, "an overlap: one entry cut");
	is_u64(n, 3, "three mappings");
	ok(r[0].end == 0x12000 && r[0].m.rss == 0x2000 && r[0].m.size == 0x2000,
	   "the earlier entry ends where the later starts, its counts scaled");
	ok(r[1].start == 0x12000 && r[2].start == 0x13000, "ascending");
	free_paths(r, n);

	/* the reader went back: entries read before are dropped where later ones cover them */
	n = 0;
	r[n++] = reg(0x1000, 0x2000, "a");
	r[n++] = reg(0x3000, 0x4000, "b-old");
	r[n++] = reg(0x2000, 0x5000, "b-new");
	is_u64(smaps_reconcile(r, &n), 1, "the older view dropped");
	ok(n == 2 && !strcmp(r[1].path, "b-new") && r[1].end == 0x5000, "the newer one kept");
	free_paths(r, n);

	/* an older entry after a newer one that covers its start is the one dropped */
	n = 0;
	r[n++] = reg(0x2000, 0x6000, "new-first");
	r[n++] = reg(0x1000, 0x3000, "newest");
	is_u64(smaps_reconcile(r, &n), 1, "overlap with a later entry that starts lower");
	ok(n == 1 && !strcmp(r[0].path, "newest"), "the entry read last wins");
	free_paths(r, n);

	/* a consistent read, in any order, is only sorted */
	n = 0;
	r[n++] = reg(0x5000, 0x6000, "c");
	r[n++] = reg(0x1000, 0x2000, "a");
	r[n++] = reg(0x2000, 0x3000, "b");
	is_u64(smaps_reconcile(r, &n), 0, "no overlap: nothing reconciled");
	ok(n == 3 && r[0].start == 0x1000 && r[1].start == 0x2000 && r[2].start == 0x5000,
	   "and put in address order");
	free_paths(r, n);

	/* empty mappings under one start (hostile input): one kept */
	n = 0;
	r[n++] = reg(0x1000, 0x1000, "e1");
	r[n++] = reg(0x1000, 0x1000, "e2");
	is_u64(smaps_reconcile(r, &n), 1, "two empty mappings at one start");
	is_u64(n, 1, "one left: a start is never stored twice");
	free_paths(r, n);
}

int main(void)
{
	struct strbuf err = STRBUF_INIT, file = STRBUF_INIT;
	struct region *r;
	struct mem_counts m;
	size_t n;
	FILE *f;

	ok(parse(good, &r, &n, &err) == 0, "valid smaps parses");
	is_int(n, 2, "two mappings");
	is_u64(r[0].start, 0x400000, "start");
	is_u64(r[0].end, 0x452000, "end");
	is_str(r[0].perms, "r-xp", "perms");
	is_int(r[0].dev_major, 8, "dev major");
	is_int(r[0].dev_minor, 2, "dev minor");
	is_u64(r[0].inode, 173521, "inode");
	is_str(r[0].path, "/usr/bin/my prog (deleted)", "path with spaces and (deleted)");
	is_u64(r[0].m.size, 0x52000, "size from the header, exact");
	is_u64(r[0].m.rss, 300 * 1024, "rss");
	is_u64(r[0].m.pss, 150 * 1024, "pss");
	is_u64(r[0].m.swap, 12 * 1024, "swap");
	is_u64(r[0].m.swap_pss, 6 * 1024, "swap pss");
	is_u64(r[0].m.locked, 4 * 1024, "locked");
	is_u64(r[0].m.thp, 4096 * 1024, "thp sums anon and file huge pages");
	is_str(r[1].path, "", "anonymous mapping has an empty path");
	is_u64(r[1].m.anon, 8192, "anon");
	free_regions(r, n);

	expect_bad("Rss: 4 kB\n", "a field before any header");
	expect_bad("00400000-00452000 r-xp 00000000 08:02\n", "a header without inode");
	expect_bad("00400000-00452000 rzxp 00000000 08:02 1 /x\n", "bad permission letters");
	expect_bad("00500000-00400000 r-xp 00000000 08:02 1 /x\n", "end before start");
	expect_bad("00400000-00452000 r-xp 00000000 08:02 1 /x\nRss: 12x kB\n",
		   "a size that is not a number");
	expect_bad("00400000-00452000 r-xp 00000000 08:02 1 /x\nRss: 99999999999999999999 kB\n",
		   "an overflowing size");
	expect_bad("11111111111111111111-2 r-xp 00000000 08:02 1 /x\n", "an address too long");
	expect_bad("garbage\n", "garbage");
	ok(parse("", &r, &n, &err) == 0 && n == 0, "empty input is no mappings");
	free_regions(r, n);
	{
		static const char nul[] = "00400000-00452000 r-xp 00000000 08:02 1 /x\0y\n";
		size_t alloc = 0;

		r = NULL;
		n = 0;
		ok(smaps_parse(nul, sizeof(nul) - 1, &r, &n, &alloc, &err) == -22,
		   "a NUL byte inside a line");
		free_regions(r, n);
	}

	strbuf_reset(&err);
	{
		const char *t = "00400000-7fff0000 ---p 00000000 00:00 0    [rollup]\n"
				"Rss:   1234 kB\nPss:  1000 kB\nPss_Anon:  10 kB\nAnonymous: 11 kB\n";

		ok(smaps_parse_rollup(t, strlen(t), &m, &err) == 0, "rollup parses");
		is_u64(m.rss, 1234 * 1024, "rollup rss");
		is_u64(m.anon, 11 * 1024, "rollup anon (Pss_Anon is not Anonymous)");
		ok(smaps_parse_rollup("", 0, &m, &err) < 0, "empty rollup refused");
	}

	/* The recorded tree of a real process: the sum of mappings equals the rollup. */
	f = popen("cat tests/fixtures/proc-leaker/proc/*/smaps", "r");
	if (f) {
		char buf[65536];
		size_t k, alloc = 0;
		struct mem_counts sum = { 0 };

		while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
			strbuf_add(&file, buf, k);
		pclose(f);
		r = NULL;
		n = 0;
		ok(smaps_parse(file.buf, file.len, &r, &n, &alloc, &err) == 0 && n > 20,
		   "recorded smaps parses");
		for (size_t i = 0; i < n; i++)
			mem_counts_add(&sum, &r[i].m);
		free_regions(r, n);
		strbuf_reset(&file);
		f = popen("cat tests/fixtures/proc-leaker/proc/*/smaps_rollup", "r");
		while (f && (k = fread(buf, 1, sizeof(buf), f)) > 0)
			strbuf_add(&file, buf, k);
		if (f)
			pclose(f);
		ok(smaps_parse_rollup(file.buf, file.len, &m, &err) == 0, "recorded rollup parses");
		is_u64(sum.rss, m.rss, "sum of mapping RSS equals the rollup");
		is_u64(sum.anon, m.anon, "sum of mapping Anonymous equals the rollup");
		is_u64(sum.swap, m.swap, "sum of mapping Swap equals the rollup");
		ok(sum.pss <= m.pss && m.pss - sum.pss < n * 1024,
		   "rollup Pss is the precise sum (within rounding of each mapping)");
	}
	strbuf_release(&file);
	strbuf_release(&err);
	test_reconcile();
	return done_testing();
}
