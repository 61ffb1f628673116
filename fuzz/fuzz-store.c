/*
 * fuzz-store: the recording reader. The input is written to a file and read
 * as offheap diff, report and watch read a snapshot or recording: store_open
 * (header checks, required tables), every sample (bounded), the meta keys,
 * and the allocation tables of offheap record (allocdb_load); then what
 * doctor and report --format html make of it: the series (series_load),
 * the findings (doctor_diagnose) and the page (html_render).
 */
#include "fuzz.h"

#include "allocdb.h"
#include "doctor.h"
#include "html.h"
#include "series.h"
#include "snapshot.h"
#include "store.h"
#include "strbuf.h"

/* Samples read at most per input: a small file cannot hold many, but keep each run short. */
#define MAX_SAMPLES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = { "format", "version", "kind", "created", "host" };
	const char *path = fuzz_write_file(data, size, "in.offheap");
	struct strbuf err = STRBUF_INIT, val = STRBUF_INIT;
	struct store *st = NULL;
	struct allocdb *a = NULL;
	struct alloc_data d;
	bool have_allocs = false;
	struct series ser;
	uint64_t n = 0;

	series_init(&ser);

	if (store_open(path, &st, &err))
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
	if (store_db(st) && !allocdb_open(store_db(st), false, &a, &err)) {
		have_allocs = !allocdb_load(a, &d, &err);
		allocdb_free(a);
	}
	if (store_db(st)) {
		struct doctor_probes p = { .cgroup_limit = -1 };
		struct doctor_report r;
		struct html_input in = { .source = path };
		struct strbuf page = STRBUF_INIT;

		if (series_load(st, &ser, &err))
			series_release(&ser);
		p.allocs = have_allocs ? &d : NULL;
		doctor_report_init(&r);
		doctor_diagnose(&ser, &p, &r);
		in.series = ser.n ? &ser : NULL;
		in.allocs = p.allocs;
		in.findings = &r;
		html_render(&in, &page);
		strbuf_release(&page);
		doctor_report_release(&r);
	}
	if (have_allocs)
		alloc_data_release(&d);
out:
	series_release(&ser);
	store_close(st);
	strbuf_release(&val);
	strbuf_release(&err);
	return 0;
}
