/* test-table: golden text and JSON of a column table: alignment, columns, empty, hostile text. */
#include "json.h"
#include "table.h"
#include "tap.h"

#include "strbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Every kind once; "note" is a number column asked to align left. */
enum { C_ADDR, C_NAME, C_RSS, C_DELTA, C_GROWTH, C_COUNT, C_CHANGE, C_RATE, C_NOTE, C_NR };

static const struct table_col cols[C_NR] = {
	[C_ADDR] = { "addr", "Address", TK_HEX, false },
	[C_NAME] = { "name", "Name", TK_STR, false },
	[C_RSS] = { "rss", "RSS", TK_KIB, false },
	[C_DELTA] = { "delta", "Delta", TK_DKIB, false },
	[C_GROWTH] = { "growth", "Growth", TK_I64, false },
	[C_COUNT] = { "count", "Count", TK_U64, false },
	[C_CHANGE] = { "change", "Chg", TK_I64, false },
	[C_RATE] = { "rate", "Rate", TK_DOUBLE, false },
	[C_NOTE] = { "note", "Note", TK_U64, true },
};

/* Renders t as text then as JSON (top level) into a malloc'd string. */
static char *render(const struct table *t, bool json)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	struct json j;

	if (json) {
		json_init(&j, f);
		table_json(t, &j, NULL);
		json_finish(&j);
	} else {
		table_print(t, f);
	}
	fclose(f);
	return buf;
}

/*
 * Two rows and a total: values of different widths so every column pads,
 * a negative delta, a value shown as text ("total") in a number column,
 * and unset cells.
 */
static void fill(struct table *t, const struct table_col *c, int nc, const int *map)
{
	struct {
		uint64_t addr, rss, count, note;
		int64_t delta, growth, change;
		double rate;
		const char *name;
	} rows[] = {
		{ 0x7f0000001000, 123456789, 7, 1, -4096, 12, -3, 1.005, "[heap]" },
		{ 0x400000, 8192, 123456, 22, 1048576, -5, 0, 1234.5,
		  "/usr/lib/x86_64-linux-gnu/libc.so.6" },
	};
	size_t r;

	table_init(t, c, nc);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		r = table_add_row(t);
		for (int k = 0; k < nc; k++) {
			switch (map[k]) {
			case C_ADDR: table_set_u64(t, r, k, rows[i].addr); break;
			case C_NAME: table_set_str(t, r, k, rows[i].name); break;
			case C_RSS: table_set_u64(t, r, k, rows[i].rss); break;
			case C_DELTA: table_set_i64(t, r, k, rows[i].delta); break;
			case C_GROWTH: table_set_i64(t, r, k, rows[i].growth); break;
			case C_COUNT: table_set_u64(t, r, k, rows[i].count); break;
			case C_CHANGE: table_set_i64(t, r, k, rows[i].change); break;
			case C_RATE: table_set_double(t, r, k, rows[i].rate); break;
			case C_NOTE: table_set_u64(t, r, k, rows[i].note); break;
			}
		}
	}
	r = table_add_row(t);
	for (int k = 0; k < nc; k++) {
		if (map[k] == C_ADDR)
			table_set_str(t, r, k, "total");
		else if (map[k] == C_RSS)
			table_set_u64(t, r, k, 123464981);
	}
}

static void test_all_columns(void)
{
	static const int all[C_NR] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	struct table t;
	char *s;

	fill(&t, cols, C_NR, all);
	s = render(&t, false);
	is_str(s,
	       "Address       Name                                 "
	       "   RSS  Delta  Growth   Count  Chg     Rate  Note\n"
	       "7f0000001000  [heap]                               "
	       "117.7M    -4K     +12       7   -3     1.00  1\n"
	       "000000400000  /usr/lib/x86_64-linux-gnu/libc.so.6  "
	       "    8K    +1M      -5  123456   +0  1234.50  22\n"
	       "total         -                                    "
	       "117.7M      -       -       -    -        -  -\n",
	       "text: strings and addresses left, numbers right, signs, sizes, text as a number");
	free(s);
	s = render(&t, true);
	is_str(s,
	       "[\n"
	       "  {\n    \"addr\": \"0x7f0000001000\",\n    \"name\": \"[heap]\",\n"
	       "    \"rss\": 123456789,\n    \"delta\": -4096,\n    \"growth\": 12,\n"
	       "    \"count\": 7,\n    \"change\": -3,\n    \"rate\": 1.005,\n"
	       "    \"note\": 1\n  },\n"
	       "  {\n    \"addr\": \"0x400000\",\n"
	       "    \"name\": \"/usr/lib/x86_64-linux-gnu/libc.so.6\",\n"
	       "    \"rss\": 8192,\n    \"delta\": 1048576,\n    \"growth\": -5,\n"
	       "    \"count\": 123456,\n    \"change\": 0,\n    \"rate\": 1234.5,\n"
	       "    \"note\": 22\n  },\n"
	       "  {\n    \"addr\": \"0x0\",\n    \"name\": null,\n    \"rss\": 123464981,\n"
	       "    \"delta\": null,\n    \"growth\": null,\n    \"count\": null,\n"
	       "    \"change\": null,\n    \"rate\": null,\n    \"note\": null\n  }\n"
	       "]\n",
	       "JSON: bytes not KiB, addresses as 0x strings, unset cells null");
	free(s);
	table_release(&t);
}

/* --output rss,name: the command builds the table of the chosen columns, in that order. */
static void test_column_choice(void)
{
	static const int chosen[] = { C_RSS, C_NAME };
	struct table_col pick[2];
	struct table t;
	char *s;

	for (int k = 0; k < 2; k++)
		pick[k] = cols[chosen[k]];
	fill(&t, pick, 2, chosen);
	s = render(&t, false);
	is_str(s,
	       "   RSS  Name\n"
	       "117.7M  [heap]\n"
	       "    8K  /usr/lib/x86_64-linux-gnu/libc.so.6\n"
	       "117.7M  -\n",
	       "text of chosen columns: their order, the last one unpadded");
	free(s);
	s = render(&t, true);
	is_str(s,
	       "[\n  {\n    \"rss\": 123456789,\n    \"name\": \"[heap]\"\n  },\n"
	       "  {\n    \"rss\": 8192,\n"
	       "    \"name\": \"/usr/lib/x86_64-linux-gnu/libc.so.6\"\n  },\n"
	       "  {\n    \"rss\": 123464981,\n    \"name\": null\n  }\n]\n",
	       "JSON of chosen columns: only their keys");
	free(s);
	table_release(&t);
}

static void test_empty(void)
{
	struct table t;
	char *s;

	table_init(&t, cols, C_NR);
	s = render(&t, false);
	is_str(s, "Address  Name  RSS  Delta  Growth  Count  Chg  Rate  Note\n",
	       "empty table: the header alone, columns as wide as their headers");
	free(s);
	s = render(&t, true);
	is_str(s, "[]\n", "empty table: an empty JSON array");
	free(s);
	table_release(&t);
}

/* Names from a target (a mapping's path, a thread's name) are hostile. */
static void test_hostile(void)
{
	static const struct table_col hc[] = {
		{ "name", "Name", TK_STR, false },
		{ "n", "N", TK_U64, false },
	};
	static const char *const names[] = {
		"quote\" back\\slash",
		"new\nline\ttab\r\x01\x1f",
		"bad \xff\xfe utf8 \xc3",
		"</script><b>",
		"caf\xc3\xa9",
	};
	struct table t;
	char *s;

	table_init(&t, hc, 2);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t r = table_add_row(&t);

		table_set_str(&t, r, 0, names[i]);
		table_set_u64(&t, r, 1, i);
	}
	s = render(&t, true);
	is_str(s,
	       "[\n"
	       "  {\n    \"name\": \"quote\\\" back\\\\slash\",\n    \"n\": 0\n  },\n"
	       "  {\n    \"name\": \"new\\nline\\ttab\\r\\u0001\\u001f\",\n    \"n\": 1\n  },\n"
	       "  {\n    \"name\": \"bad \\ufffd\\ufffd utf8 \\ufffd\",\n    \"n\": 2\n  },\n"
	       "  {\n    \"name\": \"</script><b>\",\n    \"n\": 3\n  },\n"
	       "  {\n    \"name\": \"caf\xc3\xa9\",\n    \"n\": 4\n  }\n"
	       "]\n",
	       "hostile strings escaped in JSON, invalid UTF-8 as U+FFFD, valid UTF-8 kept");
	free(s);
	table_release(&t);
}

/* The output options: --bytes, --output by name (or header), --no-headings, --raw. */
static void test_style(void)
{
	static const int all[C_NR] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	struct table_style st = { .bytes = true };
	struct table t;
	char *s;

	fill(&t, cols, C_NR, all);
	t.style = &st;
	st.columns = "rss,delta";
	s = render(&t, false);
	is_str(s, "      RSS     Delta\n123456789     -4096\n     8192  +1048576\n123464981         -\n",
	       "--bytes: exact counts, signed deltas");
	free(s);
	st.bytes = false;
	st.columns = "NAME,note,nosuch";
	st.no_headings = true;
	st.raw = true;
	table_set_str(&t, 0, C_NAME, "a b\tc\\d");
	s = render(&t, false);
	is_str(s, "a\\x20b\\x09c\\x5cd 1\n/usr/lib/x86_64-linux-gnu/libc.so.6 22\n- -\n",
	       "--raw --no-headings: one space, escapes, header names any case, names it lacks skipped");
	free(s);
	st.raw = false;
	st.no_headings = false;
	st.columns = "nosuch";
	s = render(&t, false);
	is_str(strchr(s, '\n') ? "ok" : "", "ok", "a list with none of its columns: the table whole");
	is_int(strncmp(s, "Address", 7), 0, "... from its first column");
	free(s);
	table_release(&t);
}

static void test_columns_check(void)
{
	const struct table_colset sets[] = { { cols, 3 }, { cols + 2, 3 } };
	struct strbuf err = STRBUF_INIT;

	is_int(table_columns_check("rss,Name,growth", sets, 2, &err), 0, "known names, any set");
	is_int(table_columns_check("rss,size", sets, 2, &err), -EINVAL, "an unknown name");
	is_str(err.buf, "unknown column 'size' (valid: addr,name,rss,delta,growth)",
	       "... named, with the valid ones once each");
	strbuf_reset(&err);
	is_int(table_columns_check(",,", sets, 2, &err), -EINVAL, "an empty list");
	strbuf_release(&err);
}

static void test_human_size(void)
{
	static const struct {
		uint64_t v;
		bool neg, sign;
		const char *want;
	} cases[] = {
		{ 0, false, false, "0B" },	     { 0, false, true, "+0B" },
		{ 1023, false, false, "1023B" },     { 1024, false, false, "1K" },
		{ 1536, true, true, "-1.5K" },	     { 1048550, false, false, "1M" },
		{ 1047552, false, false, "1023K" },  { 5ull << 40, false, true, "+5T" },
		{ UINT64_MAX, false, false, "16E" },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		table_human_size(cases[i].v, cases[i].neg, cases[i].sign, buf, sizeof(buf));
		is_str(buf, cases[i].want, "human size");
	}
}

int main(void)
{
	test_all_columns();
	test_column_choice();
	test_empty();
	test_hostile();
	test_style();
	test_columns_check();
	test_human_size();
	return done_testing();
}
