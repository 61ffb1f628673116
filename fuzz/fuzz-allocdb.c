/*
 * fuzz-allocdb: the allocation tables of a recording (offheap record) as
 * report reads them: allocdb_open and allocdb_load (stacks, frames, sites,
 * intervals, peaks) on the input as an SQLite database image. The image is
 * opened in memory (sqlite3_deserialize), not written to a file and checked
 * by store_open as fuzz-store does: the tables are what is fuzzed here, and
 * a file per input costs more than the load itself. Seeds: those of
 * fuzz-store (the recordings of record hold these tables).
 */
#include "fuzz.h"

#include "allocdb.h"
#include "strbuf.h"

#include <sqlite3.h>

FUZZ_SQLITE_SETUP()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct allocdb *a = NULL;
	struct alloc_data d;
	unsigned char *image;
	sqlite3 *db = NULL;

	if (!size || sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto out;
	image = sqlite3_malloc64(size);
	if (!image)
		abort();
	memcpy(image, data, size);
	/* FREEONCLOSE: SQLite owns image from here, even when the call fails */
	if (sqlite3_deserialize(db, "main", image, (sqlite3_int64)size, (sqlite3_int64)size,
				SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) !=
	    SQLITE_OK)
		goto out;
	if (!allocdb_open(db, false, &a, &err)) {
		if (!allocdb_load(a, &d, &err))
			alloc_data_release(&d);
		allocdb_free(a);
	}
out:
	sqlite3_close(db);
	strbuf_release(&err);
	return 0;
}
