/*
 * fuzz-store: the snapshot reader. The input is read as offheap diff reads
 * a snapshot or recording: store_open's checks (header, required tables) on
 * the input as an image in memory (store_open_image: a file written per
 * input cost more than the reading), the first samples (bounded), the last,
 * the meta keys.
 * The allocation tables (fuzz-allocdb) and the series, doctor and HTML page
 * (fuzz-series) have harnesses of their own on the same seeds: one harness
 * doing all of it ran a few hundred inputs a second, most of it SQLite.
 */
#include "fuzz.h"

#include "snapshot.h"
#include "store.h"
#include "strbuf.h"

#include <sqlite3.h>

FUZZ_SQLITE_SETUP()

/* Samples read at most per input: a small file cannot hold many, but keep each run short. */
#define MAX_SAMPLES 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "format", "version", "kind", "created", "host",
					    "regions_reconciled" };
	const char *path = "in.offheap";
	struct strbuf err = STRBUF_INIT, val = STRBUF_INIT;
	struct store *st = NULL;
	uint64_t n = 0;

	if (store_open_image(data, size, path, &st, &err))
		goto out;
	if (!store_count_samples(st, &n, &err)) {
		for (uint64_t i = 0; i < n && i < MAX_SAMPLES; i++) {
			struct snapshot s;

			snapshot_init(&s);
			store_read_snapshot(st, (int64_t)i, &s, &err);
			snapshot_release(&s);
		}
		if (n) {
			struct snapshot s;

			snapshot_init(&s);
			store_read_snapshot(st, -1, &s, &err);
			snapshot_release(&s);
		}
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		store_meta(st, keys[i], &val, &err);
out:
	store_close(st);
	strbuf_release(&val);
	strbuf_release(&err);
	return 0;
}
