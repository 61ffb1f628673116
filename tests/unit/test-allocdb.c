/* test-allocdb: the alloc_* tables written by allocdb_add_* and read back by allocdb_load. */
#include "tap.h"
#include "allocdb.h"
#include "store.h"
#include "strbuf.h"
#include "symbolize.h"
#include "trackfile.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* The symbols of pc: one frame, or two when inner is given (inlined into function). */
static int add_frames(struct allocdb *a, int64_t run, uint64_t pc, const char *inner,
		      int inner_line, const char *function, const char *file, int line,
		      struct strbuf *err)
{
	struct sym_frame f[2] = {
	    {.pc = pc, .function = inner, .demangled = inner, .file = file, .line = inner_line,
	     .module = "/usr/bin/prog", .inlined = true},
	    {.pc = pc, .function = function, .demangled = function, .file = file, .line = line,
	     .module = "/usr/bin/prog"},
	};

	return inner ? allocdb_add_frames(a, run, f, 2, err)
		     : allocdb_add_frames(a, run, &f[1], 1, err);
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
	    (ret = add_frames(a, run1, 0x401000, "leak_inner", 12, "leak", "leak.c", 30, err)) ||
	    (ret = add_frames(a, run1, 0x401100, NULL, 0, "main", "main.c", 7, err)) ||
	    (ret = add_frames(a, run1, 0x402000, NULL, 0, HOSTILE_NAME, NULL, 0, err)) ||
	    /* stored once a run: a second call for the same pc writes nothing */
	    (ret = add_frames(a, run1, 0x401100, NULL, 0, "other", "other.c", 1, err)))
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
	ret = allocdb_open(db, false, &a, &err) || allocdb_load_run(a, &d, 0, &err);
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
	char sql[1024];
	int ret;

	ok(sqlite3_open(":memory:", &db) == SQLITE_OK && !record_runs(db, ids, &err),
	   "hostile: recording written");
	/*
	 * a site of a stack that does not exist; an outermost frame with no text
	 * at all added to stack A; a symbol of a pc that does not exist; a stack
	 * whose trie path is a cycle
	 */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO alloc_site (interval_id, stack_id, live_bytes, live_count,"
		 " alloc_bytes, alloc_count, free_bytes, free_count)"
		 " VALUES (1, 999, 5, 1, 5, 1, 0, 0);"
		 "INSERT INTO alloc_pc (id, run_id, pc) VALUES (999, %lld, 2);"
		 "INSERT INTO alloc_node (id, parent, pc_id) VALUES (999, 0, 999);"
		 "UPDATE alloc_node SET parent = 999 WHERE id = (SELECT n.id FROM alloc_node n"
		 " JOIN alloc_pc p ON p.id = n.pc_id WHERE p.pc = %d);"
		 "INSERT INTO alloc_symbol (pc_id, level, line, module_offset, inlined)"
		 " VALUES (12345, 0, -1, 0, 0);"
		 "INSERT INTO alloc_node (id, parent, pc_id) VALUES (998, 998, 999);"
		 "UPDATE alloc_stack SET node = 998 WHERE id = %lld;"
		 "UPDATE alloc_run SET exe = NULL WHERE id = %lld;",
		 (long long)ids[3], 0x401100, (long long)ids[2], (long long)ids[4]);
	ok(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "hostile: rows added");
	ret = allocdb_open(db, false, &a, &err) || allocdb_load_run(a, &d, 0, &err);
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
	ok(stack_of(&d, ids[2]) && stack_of(&d, ids[2])->nframes == 1025,
	   "hostile: a cycle in the stack trie ends at 1025 frames");
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
	ret = allocdb_open(db, false, &a, &err) || allocdb_load_run(a, &d, 0, &err);
	ok(!ret, "hostile: extra intervals without sites load");
	ok(stack_of(&d, ids[2]) && stack_of(&d, ids[2])->n == 5 &&
	   stack_of(&d, ids[2])->live[4] == 128,
	   "hostile: intervals without sites fill forward from the last written");
	alloc_data_release(&d);
	allocdb_free(a);
	sqlite3_close(db);
	strbuf_release(&err);
}

/*
 * The runs of record_runs, both of pid 42 (an exec), and a third of pid 43
 * forked by the first (--follow-fork): the default run is the command's
 * last image, not the child's; each run loads alone; the list names them.
 */
static void test_runs(void)
{
	static const uint64_t pc = 0x403000;
	const struct site_fig k0[] = {{4000, 4000, 0}};
	struct strbuf err = STRBUF_INIT;
	struct alloc_run_info *v = NULL;
	struct allocdb *a = NULL;
	struct alloc_data d = {0};
	int64_t ids[5] = {0}, run3 = 0, k = 0, def = 0;
	sqlite3 *db = NULL;
	size_t n = 0;
	int ret;

	ok(sqlite3_open(":memory:", &db) == SQLITE_OK, "runs: database");
	ret = record_runs(db, ids, &err) || allocdb_open(db, true, &a, &err) ||
	      allocdb_add_run(a, 3, 43, 0, "prog --child", &run3, &err) ||
	      allocdb_set_parent(a, run3, 42, ids[3], &err) ||
	      allocdb_add_stack(a, run3, 1, &pc, 1, &k, &err) ||
	      add_sites(a, run3, &k, k0, 1, 500, 0, true, &err) ||
	      allocdb_set_ended(a, ids[3], "exec", &err) ||
	      allocdb_set_ended(a, ids[4], "exit 0", &err) ||
	      allocdb_set_ended(a, run3, "vanished", &err);
	if (!ok(!ret, "runs: three written"))
		printf("# %s\n", err.buf);
	ok(!allocdb_default_run(a, &def, &err) && def == ids[4],
	   "runs: the default is the last image of the command's pid");
	ok(!allocdb_load(a, &d, &err) && d.run == ids[4] && d.nr == 1 && d.stacks[0].id == ids[2],
	   "runs: allocdb_load reads the default run alone");
	alloc_data_release(&d);
	ok(!allocdb_load_run(a, &d, ids[3], &err) && d.nr == 2 && d.intervals == 3 &&
	   !strcmp(d.exe, "/usr/bin/prog"),
	   "runs: one run with its own intervals and exe");
	alloc_data_release(&d);
	ok(!allocdb_load_run(a, &d, run3, &err) && d.nr == 1 && d.stacks[0].live_bytes == 4000,
	   "runs: the child's run holds the child's site alone");
	alloc_data_release(&d);
	ret = allocdb_runs(a, &v, &n, &err);
	is_u64(n, 3, "runs: listed");
	if (!ret && n == 3) {
		ok(v[0].id == ids[3] && v[0].pid == 42 && !v[0].ppid && !v[0].parent_run &&
		   !strcmp(v[0].ended, "exec") && v[0].live_bytes == 350 && v[0].live_count == 350 / 16,
		   "runs: the first image, ended by exec, its live bytes at its end");
		ok(!strcmp(v[1].ended, "exit 0") && !strcmp(v[1].command, "other") &&
		   v[1].live_bytes == 0, "runs: the second image, freed at exit");
		ok(v[2].pid == 43 && v[2].ppid == 42 && v[2].parent_run == ids[3] &&
		   !strcmp(v[2].ended, "vanished"), "runs: the child names its parent run");
	}
	alloc_runs_free(v, n);
	allocdb_free(a);
	sqlite3_close(db);
	strbuf_release(&err);
}

/*
 * A transaction taken back (as SQLite does on a full disk) takes its pcs and
 * trie nodes with it: a stack written again afterwards, sharing its callers
 * with a committed one, still has all its frames.
 */
static void test_rollback(void)
{
	static const uint64_t a_pcs[] = {0x401010, 0x401000},
			      b_pcs[] = {0x402020, 0x402010, 0x401000};
	struct strbuf err = STRBUF_INIT;
	struct allocdb *a = NULL;
	struct alloc_data d = {0};
	const struct alloc_stack *s;
	int64_t run = 0, sa = 0, sb = 0;
	sqlite3 *db = NULL;

	ok(sqlite3_open(":memory:", &db) == SQLITE_OK && !allocdb_open(db, true, &a, &err) &&
	       !allocdb_begin(a, &err) && !allocdb_add_run(a, 1, 42, 0, "prog", &run, &err) &&
	       !allocdb_add_stack(a, run, 1, a_pcs, 2, &sa, &err) && !allocdb_commit(a, &err),
	   "rollback: a first stack committed");
	ok(!allocdb_begin(a, &err) && !allocdb_add_stack(a, run, 2, b_pcs, 3, &sb, &err) &&
	       !add_frames(a, run, 0x402020, NULL, 0, "inner", "b.c", 5, &err) &&
	       sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK &&
	       allocdb_commit(a, &err) < 0,
	   "rollback: a second stack taken back, its commit fails");
	strbuf_reset(&err);
	ok(!allocdb_begin(a, &err) && !allocdb_add_stack(a, run, 2, b_pcs, 3, &sb, &err) &&
	       !add_frames(a, run, 0x402020, NULL, 0, "inner", "b.c", 5, &err) &&
	       !allocdb_commit(a, &err),
	   "rollback: the second stack written again");
	if (!ok(!allocdb_load(a, &d, &err), "rollback: loaded"))
		printf("# %s\n", err.buf);
	s = stack_of(&d, sb);
	ok(s && s->nframes == 3 && s->frames[0].pc == 0x402020 && s->frames[2].pc == 0x401000,
	   "rollback: the stack written again has all its frames");
	ok(s && s->nframes == 3 && s->frames[0].function &&
	       !strcmp(s->frames[0].function, "inner"),
	   "rollback: and the symbols written again");
	s = stack_of(&d, sa);
	ok(s && s->nframes == 2 && s->frames[1].pc == 0x401000,
	   "rollback: the committed stack keeps its frames");
	alloc_data_release(&d);
	allocdb_free(a);
	sqlite3_close(db);
	strbuf_release(&err);
}

/* What a file's schema and header say, one line per object, sorted. */
static void describe(const char *path, struct strbuf *out)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;

	strbuf_reset(out);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT type || ' ' || name || ' ' || tbl_name || ' ' || ifnull(sql, '')"
			       " FROM sqlite_schema UNION ALL"
			       " SELECT 'page_size ' || page_size FROM pragma_page_size UNION ALL"
			       " SELECT 'application_id ' || application_id FROM pragma_application_id"
			       " UNION ALL SELECT 'user_version ' || user_version FROM pragma_user_version"
			       " UNION ALL SELECT 'meta ' || key FROM meta ORDER BY 1",
			       -1, &q, NULL) != SQLITE_OK) {
		strbuf_addf(out, "cannot read: %s", db ? sqlite3_errmsg(db) : "no memory");
	} else {
		while (sqlite3_step(q) == SQLITE_ROW)
			strbuf_addf(out, "%s\n", (const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* A recording made by record (store_create_image, allocdb_open) and its writes. */
static int make_recording(const char *path, const void *image, size_t n, struct strbuf *err)
{
	struct store *st = NULL;
	struct allocdb *a = NULL;
	uint64_t pc = 0x401000;
	int64_t run = 0, stack = 0;
	int ret;

	unlink(path);
	ret = store_create_image(path, STORE_RECORDING, image, n, false, &st, err);
	if (!ret)
		ret = store_commit(st, err);
	if (!ret)
		ret = allocdb_open(store_db(st), true, &a, err);
	if (!ret)
		ret = allocdb_add_run(a, 1, 42, 0, "prog", &run, err);
	if (!ret)
		ret = allocdb_add_stack(a, run, 1, &pc, 1, &stack, err);
	allocdb_free(a);
	store_close(st);
	return ret;
}

/*
 * The empty recording built in (allocdb_template) is what executing the
 * schema makes: same tables, columns, indexes, view, page size, ids and
 * meta rows, and the writer works on it. A stale template (the schema
 * changed, the template did not) fails here. An image that is not ours
 * is refused and leaves no file.
 */
static void test_template(void)
{
	char dir[] = "/tmp/test-allocdb.XXXXXX";
	struct strbuf err = STRBUF_INIT, by_sql = STRBUF_INIT, by_image = STRBUF_INIT;
	static const unsigned char junk[1024] = "SQLite format 3";
	char a[64], b[64], c[64];
	struct store *st = NULL;

	if (!mkdtemp(dir)) {
		ok(false, "template: a temporary directory");
		return;
	}
	snprintf(a, sizeof(a), "%s/sql.db", dir);
	snprintf(b, sizeof(b), "%s/image.db", dir);
	snprintf(c, sizeof(c), "%s/junk.db", dir);
	is_int(make_recording(a, NULL, 0, &err), 0, "template: a recording by SQL");
	is_int(make_recording(b, allocdb_template, allocdb_template_size, &err), 0,
	       "template: a recording from the template");
	describe(a, &by_sql);
	describe(b, &by_image);
	ok(strstr(by_sql.buf, "table alloc_run alloc_run CREATE TABLE alloc_run (") &&
		   strstr(by_sql.buf, "page_size 512\n") && strstr(by_sql.buf, "meta host\n"),
	   "template: the SQL recording has the alloc tables, small pages and its meta rows");
	is_str(by_image.buf, by_sql.buf, "template: same schema, header and meta keys");

	is_int(store_create_image(c, STORE_RECORDING, junk, sizeof(junk), false, &st, &err),
	       -EINVAL, "template: an image without our application id is refused");
	ok(access(c, F_OK) && !st, "template: and leaves no file");
	unlink(a);
	unlink(b);
	rmdir(dir);
	strbuf_release(&err);
	strbuf_release(&by_sql);
	strbuf_release(&by_image);
}

int main(void)
{
	test_flags_or();
	test_degraded();
	test_round_trip();
	test_hostile_rows();
	test_runs();
	test_rollback();
	test_template();
	return done_testing();
}
