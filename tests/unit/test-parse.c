/* Unit tests for parse: sizes, durations, strict numbers, human sizes. */
#include "parse.h"
#include "tap.h"

int main(void)
{
	uint64_t v;
	int i;
	char buf[64];

	ok(!parse_size("512k", &v) && v == 512 * 1024, "512k");
	ok(!parse_size("4MiB", &v) && v == 4ULL << 20, "4MiB");
	ok(!parse_size("1G", &v) && v == 1ULL << 30, "1G");
	ok(!parse_size("1.5m", &v) && v == 3ULL << 19, "1.5m");
	ok(!parse_size("100", &v) && v == 100, "plain bytes");
	ok(parse_size("-1k", &v) < 0, "negative size refused");
	ok(parse_size("12q", &v) < 0, "unknown suffix refused");
	ok(parse_size("", &v) < 0, "empty size refused");
	ok(parse_size("99999999999999999999999", &v) < 0, "overflowing size refused");
	ok(!parse_duration_ms("3s", &v) && v == 3000, "3s");
	ok(!parse_duration_ms("500ms", &v) && v == 500, "500ms");
	ok(!parse_duration_ms("2m", &v) && v == 120000, "2m");
	ok(!parse_duration_ms("1.5", &v) && v == 1500, "bare seconds");
	ok(parse_duration_ms("3x", &v) < 0, "bad unit refused");
	ok(parse_duration_ms("nan", &v) < 0, "nan refused");
	ok(!parse_int("42", 1, 100, &i) && i == 42, "int in range");
	ok(parse_int("420", 1, 100, &i) < 0, "int out of range");
	ok(parse_int("4x", 1, 100, &i) < 0, "int with garbage");
	ok(parse_u64("-3", &v) < 0, "u64 refuses minus");
	is_str(format_size(buf, sizeof(buf), 1536), "1.5 KiB", "format 1536");
	is_str(format_size(buf, sizeof(buf), 12), "12 B", "format 12");
	is_str(format_dsize(buf, sizeof(buf), -(3 << 20)), "-3.0 MiB", "format -3 MiB");
	is_str(format_dsize(buf, sizeof(buf), 0), "0 B", "format 0");
	ok(figure_clamp(-1) == -1 && figure_clamp(123) == 123, "a figure in range is kept, -1 too");
	ok(figure_clamp(INT64_MAX) == FIGURE_MAX && figure_clamp(INT64_MIN) == -FIGURE_MAX,
	   "huge figures are held at +-2^52");
	ok(figure_clamp(INT64_MAX) - figure_clamp(INT64_MIN) > 0, "their difference does not wrap");
	ok(ufigure_clamp(-5) == 0 && ufigure_clamp(INT64_MAX) == (uint64_t)FIGURE_MAX,
	   "an unsigned field: a negative figure is 0");
	return done_testing();
}
