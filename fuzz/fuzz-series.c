/*
 * fuzz-series: what doctor FILE makes of a recording: store_open (of the
 * input as an image in memory: its checks are store_open's, and no file is
 * written per input), the samples as a series (series_load), the
 * allocation data and the findings (doctor_diagnose). Seeds: those of
 * fuzz-store. The page of report --format html is fuzz-html's, on a series
 * built from the bytes: through a whole image per input as well, this
 * harness ran 650 inputs a second.
 */
#include "fuzz.h"

#include "allocdb.h"
#include "doctor.h"
#include "series.h"
#include "store.h"
#include "strbuf.h"

#include <sqlite3.h>

FUZZ_SQLITE_SETUP()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = "in.offheap";
	struct strbuf err = STRBUF_INIT;
	struct doctor_probes p = {.cgroup_limit = -1};
	struct store *st = NULL;
	struct allocdb *a = NULL;
	struct alloc_data d;
	struct doctor_report r;
	bool have_allocs = false;
	struct series ser;

	series_init(&ser);
	if (store_open_image(data, size, path, &st, &err) || !store_db(st))
		goto out;
	if (!allocdb_open(store_db(st), false, &a, &err)) {
		have_allocs = !allocdb_load(a, &d, &err);
		allocdb_free(a);
	}
	if (series_load(st, &ser, &err))
		series_release(&ser);
	p.allocs = have_allocs ? &d : NULL;
	doctor_report_init(&r);
	doctor_diagnose(&ser, &p, &r);
	doctor_report_release(&r);
	if (have_allocs)
		alloc_data_release(&d);
out:
	series_release(&ser);
	store_close(st);
	strbuf_release(&err);
	return 0;
}
