/*
 * fuzz-parse: parse.c's number, size and duration parsers, the hostile-text
 * scanners, and the small word parsers of the CLI (sort keys, classes,
 * dump ranges), with their results printed back.
 */
#include "fuzz.h"

#include "diff.h"
#include "dump.h"
#include "parse.h"
#include "pslist.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strdup(data, size), *raw = fuzz_dup(data, size);
	const char *p, *end = raw + size;
	char buf[64];
	uint64_t v, w;
	int i;

	if (!parse_u64(s, &v))
		format_size(buf, sizeof(buf), v);
	parse_int(s, -1000, 1000, &i);
	parse_int(s, 0, 0x7fffffff, &i);
	if (!parse_size(s, &v)) {
		format_size(buf, sizeof(buf), v);
		format_dsize(buf, sizeof(buf), (int64_t)v);
		format_dsize(buf, sizeof(buf), -(int64_t)(v >> 1));
	}
	parse_duration_ms(s, &v);
	p = raw;
	if (scan_dec(&p, end, &v) && (p <= raw || p > end))
		abort();
	p = raw;
	if (scan_hex(&p, end, &v) && (p <= raw || p > end))
		abort();
	if (!dump_parse_range(s, &v, &w) && v >= w)
		abort();
	diff_key_parse(s);
	region_class_parse(s);
	pslist_sort_parse(s);
	free(raw);
	free(s);
	return 0;
}
