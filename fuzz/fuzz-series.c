/*
 * fuzz-series: what doctor FILE and report --format html make of a
 * recording: store_open (of the input as an image in memory: its checks
 * are store_open's, and no file is written per input), the samples as a
 * series (series_load), the allocation data, the findings
 * (doctor_diagnose) and the page (html_render). Seeds: those of fuzz-store.
 */
#include "fuzz.h"

#include "allocdb.h"
#include "doctor.h"
#include "html.h"
#include "series.h"
#include "store.h"
#include "strbuf.h"

#include <sqlite3.h>

FUZZ_SQLITE_SETUP()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = "in.offheap";
	struct strbuf err = STRBUF_INIT, page = STRBUF_INIT;
	struct doctor_probes p = {.cgroup_limit = -1};
	struct html_input in = {.source = path};
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
	in.series = ser.n ? &ser : NULL;
	in.allocs = p.allocs;
	in.findings = &r;
	html_render(&in, &page);
	doctor_report_release(&r);
	if (have_allocs)
		alloc_data_release(&d);
out:
	strbuf_release(&page);
	series_release(&ser);
	store_close(st);
	strbuf_release(&err);
	return 0;
}
