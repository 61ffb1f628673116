/* test-allocdb: the alloc_* tables written by allocdb_add_* and read back by allocdb_load. */
#include "tap.h"
#include "allocdb.h"
#include "strbuf.h"
#include "trackfile.h"

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

int main(void)
{
	test_flags_or();
	return done_testing();
}
