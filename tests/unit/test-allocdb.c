/* test-allocdb: the alloc_* tables written by allocdb_add_* and read back by allocdb_load. */
#include "tap.h"
#include "allocdb.h"
#include "strbuf.h"
#include "symbolize.h"
#include "trackfile.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>

/* One interval of one stack with the tracker's header flags set to flags. */
static int add_interval(struct allocdb *a, int64_t run, int64_t stack, int64_t t_ms,
			uint64_t flags, bool final, struct strbuf *err)
{
	struct track_site site = {.slot = 1, .depth = 1, .live_bytes = 100, .live_count = 1,
				  .alloc_bytes = 100, .alloc_count = 1};
	struct track_view v = {.flags = flags, .sites = &site, .nr = 1, .live_bytes = 100};
	bool changed = true;

	return allocdb_add_interval(a, run, t_ms, &v, &stack, &changed, final, err);
}

/* A recording of one run whose intervals carry these flags, loaded back. */
static int record_flags(const uint64_t *flags, size_t n, struct alloc_data *d)
{
	struct strbuf err = STRBUF_INIT;
	struct allocdb *a = NULL;
	sqlite3 *db = NULL;
	uint64_t pc = 0x401000;
	int64_t run = 0, stack = 0;
	int ret = -1;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK || allocdb_open(db, true, &a, &err) ||
	    allocdb_add_run(a, 1, 42, 0, "prog", &run, &err) ||
	    allocdb_add_stack(a, run, 1, &pc, 1, &stack, &err))
		goto out;
	for (size_t i = 0; i < n; i++)
		if (add_interval(a, run, stack, (int64_t)i * 10, flags[i], i + 1 == n, &err))
			goto out;
	ret = allocdb_load(a, d, &err);
out:
	if (err.len)
		printf("# %s\n", err.buf);
	allocdb_free(a);
	sqlite3_close(db);
	strbuf_release(&err);
	return ret;
}

static void test_flags_or(void)
{
	/* stack table full, then also the address table: 1 | 3 = 3, not 1 + 3 = 4 (exact) */
	static const uint64_t mixed[] = {ALLOC_STACKS_FULL, ALLOC_STACKS_FULL,
					 ALLOC_STACKS_FULL | ALLOC_ADDRS_FULL};
	static const uint64_t exact[] = {ALLOC_EXACT, ALLOC_EXACT | ALLOC_ADDRS_FULL};
	struct alloc_data d;

	ok(!record_flags(mixed, 3, &d), "flags {1,3}: loaded");
	is_u64(d.flags, ALLOC_STACKS_FULL | ALLOC_ADDRS_FULL, "flags {1,3}: OR is 3");
	ok(!(d.flags & ALLOC_EXACT), "flags {1,3}: not read as exact");
	alloc_data_release(&d);

	ok(!record_flags(exact, 2, &d), "flags {4,6}: loaded");
	is_u64(d.flags, ALLOC_EXACT | ALLOC_ADDRS_FULL, "flags {4,6}: OR is 6");
	alloc_data_release(&d);
}

/*
 * The ceiling: exact intervals, then intervals flagged degraded (64 KiB,
 * then 128 KiB) keep when it happened, the last mean and the ceiling in
 * alloc_run; a run that never degraded says so.
 */
static void test_degraded(void)
{
	struct track_site site = {.slot = 1, .depth = 1, .live_bytes = 100, .live_count = 1,
				  .alloc_bytes = 100, .alloc_count = 1};
	struct track_view v = {.flags = TRACK_EXACT, .sites = &site, .nr = 1, .live_bytes = 100};
	struct strbuf err = STRBUF_INIT;
	struct allocdb *a = NULL;
	struct alloc_data d = {0};
	sqlite3 *db = NULL;
	uint64_t pc = 0x401000;
	int64_t run = 0, stack = 0;
	bool changed = true;
	int ret = -1;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK || allocdb_open(db, true, &a, &err) ||
	    allocdb_add_run(a, 1, 42, 0, "prog", &run, &err) ||
	    allocdb_add_stack(a, run, 1, &pc, 1, &stack, &err) ||
	    allocdb_add_interval(a, run, 0, &v, &stack, &changed, false, &err) ||
	    allocdb_load(a, &d, &err))
		goto out;
	ok(!d.degraded, "never degraded: none read");
	alloc_data_release(&d);
	v.flags = TRACK_EXACT | TRACK_DEGRADED;
	v.degraded_ms = 1200;
	v.degraded_kib = 64;
	v.max_mem_mib = 64;
	if (allocdb_add_interval(a, run, 1000, &v, &stack, &changed, false, &err))
		goto out;
	v.degraded_kib = 128;
	if (allocdb_add_interval(a, run, 2000, &v, &stack, &changed, true, &err))
		goto out;
	ret = allocdb_load(a, &d, &err);
out:
	if (err.len)
		printf("# %s\n", err.buf);
	ok(!ret, "degraded: written and loaded");
	ok(d.degraded, "degraded: read");
	is_u64(d.degraded_ms, 1200, "degraded: when it switched");
	is_u64(d.degraded_mean, 128 * 1024, "degraded: the last mean");
	is_u64(d.max_memory, 64ULL << 20, "degraded: the ceiling");
	ok(d.flags & ALLOC_DEGRADED, "degraded: flagged in the intervals");
	alloc_data_release(&d);
	allocdb_free(a);
	sqlite3_close(db);
	strbuf_release(&err);
}

/* One stack's counters in an interval. */
struct site_fig {
	int64_t live;
	uint64_t alloc, freed;
};

/*
 * Writes one interval of run with the sites of nr stacks; a site whose
 * live is -1 did not change since the last interval (no row written).
 */
static int add_sites(struct allocdb *a, int64_t run, const int64_t *stacks,
		     const struct site_fig *fig, size_t nr, int64_t t_ms, uint64_t dropped,
		     bool final, struct strbuf *err)
{
	struct track_site sites[4] = {{0}};
	bool changed[4];
	struct track_view v = {.sites = sites, .nr = nr, .dropped = dropped};

	for (size_t i = 0; i < nr; i++) {
		sites[i].slot = (uint32_t)i + 1;
		sites[i].depth = 1;
		changed[i] = fig[i].live >= 0;
		sites[i].live_bytes = changed[i] ? fig[i].live : 0;
		sites[i].live_count = changed[i] ? fig[i].live / 16 : 0;
		sites[i].alloc_bytes = fig[i].alloc;
		sites[i].alloc_count = fig[i].alloc / 16;
		sites[i].free_bytes = fig[i].freed;
		sites[i].free_count = fig[i].freed / 16;
		v.live_bytes += sites[i].live_bytes;
	}
	return allocdb_add_interval(a, run, t_ms, &v, stacks, changed, final, err);
}

static int add_frame(struct allocdb *a, int64_t stack, int level, uint64_t pc,
		     const char *function, const char *file, int line, bool inlined,
		     struct strbuf *err)
{
	struct sym_frame f = {.pc = pc, .function = function, .demangled = function,
			      .file = file, .line = line, .module = "/usr/bin/prog",
			      .inlined = inlined};

	return allocdb_add_frame(a, stack, level, &f, err);
}

static const struct alloc_stack *stack_of(const struct alloc_data *d, int64_t id)
{
	for (size_t i = 0; i < d->nr; i++)
		if (d->stacks[i].id == id)
			return &d->stacks[i];
	return NULL;
}

#define HOSTILE_NAME "f\"<script>\n\x01\xff"

/*
 * Two runs, as an exec makes them. Run 1: stacks A (grows, then exit
 * handlers free it: a final interval) and B (written once, filled forward),
 * 3 intervals while it ran, ended by allocdb_end_run at the exec. Run 2:
 * stack C, 2 intervals and a final one after the target exited; its exe
 * is the one the recording names.
 */
static int record_runs(sqlite3 *db, int64_t *ids, struct strbuf *err)
{
	static const uint64_t pcs_a[] = {0x401000, 0x401100}, pcs_b[] = {0x402000},
			      pcs_c[] = {0x7f0000001000};
	struct allocdb *a = NULL;
	int64_t run1, run2, ab[2], c;
	int ret;

	if ((ret = allocdb_open(db, true, &a, err)) ||
	    (ret = allocdb_add_run(a, 1, 42, 0, "prog --leak 'x y'", &run1, err)) ||
	    (ret = allocdb_set_exe(a, run1, "/usr/bin/prog", err)) ||
	    (ret = allocdb_add_stack(a, run1, 1, pcs_a, 2, &ab[0], err)) ||
	    (ret = allocdb_add_stack(a, run1, 2, pcs_b, 1, &ab[1], err)) ||
	    (ret = add_frame(a, ab[0], 0, 0x401000, "leak_inner", "leak.c", 12, true, err)) ||
	    (ret = add_frame(a, ab[0], 1, 0x401000, "leak", "leak.c", 30, false, err)) ||
	    (ret = add_frame(a, ab[0], 2, 0x401100, "main", "main.c", 7, false, err)) ||
	    (ret = add_frame(a, ab[1], 0, 0x402000, HOSTILE_NAME, NULL, 0, false, err)))
		goto out;
	{
		const struct site_fig i0[] = {{100, 100, 0}, {50, 50, 0}},
				      i1[] = {{200, 300, 100}, {-1, 50, 0}},
				      i2[] = {{300, 600, 300}, {-1, 50, 0}};

		if ((ret = add_sites(a, run1, ab, i0, 2, 0, 0, false, err)) ||
		    (ret = add_sites(a, run1, ab, i1, 2, 100, 0, false, err)) ||
		    (ret = add_sites(a, run1, ab, i2, 2, 200, 0, false, err)) ||
		    (ret = allocdb_end_run(a, run1, 250, err)))
			goto out;
	}
	if ((ret = allocdb_add_run(a, 2, 42, 0, "other", &run2, err)) ||
	    (ret = allocdb_set_exe(a, run2, "/usr/bin/other", err)) ||
	    (ret = allocdb_add_stack(a, run2, 1, pcs_c, 1, &c, err)))
		goto out;
	{
		/* alloc bytes past INT64_MAX: stored as a signed column, read back whole */
		const struct site_fig j0[] = {{64, UINT64_MAX - 5, 0}},
				      j1[] = {{128, UINT64_MAX - 1, 7}},
				      jf[] = {{0, UINT64_MAX, UINT64_MAX}};

		if ((ret = add_sites(a, run2, &c, j0, 1, 300, 3, false, err)) ||
		    (ret = add_sites(a, run2, &c, j1, 1, 1300, 9, false, err)) ||
		    (ret = add_sites(a, run2, &c, jf, 1, 1400, 9, true, err)))
			goto out;
	}
	ids[0] = ab[0];
	ids[1] = ab[1];
	ids[2] = c;
	ids[3] = run1;
	ids[4] = run2;
out:
	allocdb_free(a);
	return ret;
}

static void test_round_trip(void)
{
	struct strbuf err = STRBUF_INIT;
	struct allocdb *a = NULL;
	struct alloc_data d = {0};
	const struct alloc_stack *s;
	int64_t ids[5] = {0};
	sqlite3 *db = NULL;
	int ret;

	ok(sqlite3_open(":memory:", &db) == SQLITE_OK, "round trip: database opened");
	ret = record_runs(db, ids, &err);
	if (!ok(!ret, "round trip: two runs written"))
		printf("# %s\n", err.buf);
	ret = allocdb_open(db, false, &a, &err) || allocdb_load(a, &d, &err);
	if (!ok(!ret, "round trip: loaded"))
		printf("# %s\n", err.buf);

	is_u64(d.runs, 2, "two runs");
	is_u64(d.nr, 3, "three stacks over both runs");
	is_u64(d.intervals, 2, "intervals of the last run: the final one is not counted");
	is_u64(d.span_ms, 1000, "span of the last run: its first to its last running interval");
	is_u64(d.dropped, 9, "dropped: the largest");
	is_str(d.exe, "/usr/bin/other", "exe column: the last run's");
	ok(!d.flags, "no flags set");

	s = stack_of(&d, ids[0]);
	if (ok(s != NULL, "stack A read back")) {
		is_int(s->run_id, ids[3], "A: its run");
		is_u64(s->slot, 1, "A: its slot");
		is_u64(s->n, 3, "A: a point per running interval (not the end_run copy)");
		ok(s->n == 3 && s->live[0] == 100 && s->live[1] == 200 && s->live[2] == 300,
		   "A: the series as written");
		is_int(s->live_bytes, 300, "A: live at the end");
		is_u64(s->alloc_bytes, 600, "A: allocated bytes");
		is_u64(s->free_count, 300 / 16, "A: freed count");
		is_u64(s->nframes, 3, "A: three frames");
		if (s->nframes == 3) {
			is_str(s->frames[0].function, "leak_inner", "A: innermost frame first");
			ok(s->frames[0].inlined && !s->frames[1].inlined, "A: inlined flag");
			is_str(s->frames[1].file, "leak.c", "A: frame file");
			is_int(s->frames[2].line, 7, "A: frame line");
			is_str(s->frames[2].module, "/usr/bin/prog", "A: frame module");
			is_u64(s->frames[2].pc, 0x401100, "A: frame pc");
		}
	}
	s = stack_of(&d, ids[1]);
	if (ok(s != NULL, "stack B read back")) {
		ok(s->n == 3 && s->live[0] == 50 && s->live[1] == 50 && s->live[2] == 50,
		   "B: written once, filled forward");
		if (ok(s->nframes == 1, "B: one frame")) {
			is_str(s->frames[0].function, HOSTILE_NAME,
			       "B: hostile name kept byte for byte");
			ok(!s->frames[0].file, "B: no file stays NULL");
		}
	}
	s = stack_of(&d, ids[2]);
	if (ok(s != NULL, "stack C read back")) {
		is_int(s->run_id, ids[4], "C: run 2");
		ok(s->n == 2 && s->live[0] == 64 && s->live[1] == 128,
		   "C: the final interval stays out of the series");
		is_int(s->live_bytes, 0, "C: live at the end: after exit");
		is_u64(s->alloc_bytes, UINT64_MAX, "C: alloc bytes past INT64_MAX come back whole");
		is_u64(s->free_bytes, UINT64_MAX, "C: free bytes past INT64_MAX come back whole");
	}
	alloc_data_release(&d);
	allocdb_free(a);
	sqlite3_close(db);
	strbuf_release(&err);
}

/* Rows a hostile or damaged file may hold: they are skipped or refused, never trusted. */
static void test_hostile_rows(void)
{
	struct strbuf err = STRBUF_INIT;
	struct allocdb *a = NULL;
	struct alloc_data d = {0};
	int64_t ids[5] = {0};
	sqlite3 *db = NULL;
	char sql[512];
	int ret;

	ok(sqlite3_open(":memory:", &db) == SQLITE_OK && !record_runs(db, ids, &err),
	   "hostile: recording written");
	/* a site and a frame of a stack that does not exist; a frame with no text at all */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO alloc_site (interval_id, stack_id, live_bytes, live_count,"
		 " alloc_bytes, alloc_count, free_bytes, free_count)"
		 " VALUES (1, 999, 5, 1, 5, 1, 0, 0);"
		 "INSERT INTO alloc_frame (stack_id, level, pc, line, module_offset, inlined)"
		 " VALUES (999, 0, 1, 0, 0, 0);"
		 "INSERT INTO alloc_frame (stack_id, level, pc, line, module_offset, inlined)"
		 " VALUES (%lld, 3, 2, -1, 0, 0);"
		 "UPDATE alloc_run SET exe = NULL WHERE id = %lld;",
		 (long long)ids[0], (long long)ids[4]);
	ok(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "hostile: rows added");
	ret = allocdb_open(db, false, &a, &err) || allocdb_load(a, &d, &err);
	if (!ok(!ret, "hostile: still loads"))
		printf("# %s\n", err.buf);
	is_u64(d.nr, 3, "hostile: rows of unknown stacks ignored");
	ok(!d.exe, "hostile: a run without exe gives none");
	if (ok(stack_of(&d, ids[0]) && stack_of(&d, ids[0])->nframes == 4,
	       "hostile: bare frame read")) {
		const struct alloc_frame *f = &stack_of(&d, ids[0])->frames[3];

		ok(!f->function && !f->file && !f->module && f->pc == 2,
		   "hostile: bare frame has no names");
	}
	alloc_data_release(&d);
	allocdb_free(a);
	a = NULL;
	strbuf_reset(&err);

	/* intervals with no site rows at all (as allocdb_end_run writes, but not final) */
	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE k(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM k WHERE x < 3)"
		 " INSERT INTO alloc_interval"
		 " (run_id, t_ms, live_bytes, sites, flags, dropped, final)"
		 " SELECT %lld, 2000 + x, 0, 0, 0, 0, 0 FROM k;",
		 (long long)ids[4]);
	ok(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK,
	   "hostile: extra intervals added");
	ret = allocdb_open(db, false, &a, &err) || allocdb_load(a, &d, &err);
	ok(!ret, "hostile: extra intervals without sites load");
	ok(stack_of(&d, ids[2]) && stack_of(&d, ids[2])->n == 5 &&
	   stack_of(&d, ids[2])->live[4] == 128,
	   "hostile: intervals without sites fill forward from the last written");
	alloc_data_release(&d);
	allocdb_free(a);
	sqlite3_close(db);
	strbuf_release(&err);
}

int main(void)
{
	test_flags_or();
	test_degraded();
	test_round_trip();
	test_hostile_rows();
	return done_testing();
}
