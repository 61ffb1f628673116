/* Unit tests for json and table: escaping, nesting, typed table cells. */
#include "json.h"
#include "table.h"
#include "tap.h"

#include <stdlib.h>

static char *capture(void (*fn)(FILE *))
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	fn(f);
	fclose(f);
	return buf;
}

static void doc(FILE *f)
{
	struct json j;

	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_str(&j, "s", "a\"b\\c\n\x01");
	json_str(&j, "bad", "\xff\xc3");
	json_str(&j, "utf8", "\xc3\xa9");
	json_u64(&j, "u", 18446744073709551615ULL);
	json_i64(&j, "i", -5);
	json_double(&j, "nan", 0.0 / 0.0);
	json_arr_begin(&j, "a");
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

static const struct table_col cols[] = {
	{ "addr", "Address", TK_HEX, false },
	{ "rss", "RSS", TK_KIB, false },
	{ "path", "Path", TK_STR, false },
};

static void tab(FILE *f)
{
	struct table t;
	struct json j;
	size_t r;

	table_init(&t, cols, 3);
	r = table_add_row(&t);
	table_set_u64(&t, r, 0, 0x400000);
	table_set_u64(&t, r, 1, 8192);
	table_set_str(&t, r, 2, "/bin/x");
	r = table_add_row(&t);
	table_set_u64(&t, r, 0, 0x1000);
	table_print(&t, f);
	json_init(&j, f);
	table_json(&t, &j, NULL);
	json_finish(&j);
	table_release(&t);
}

int main(void)
{
	char *s = capture(doc);

	is_str(s, "{\n  \"s\": \"a\\\"b\\\\c\\n\\u0001\",\n  \"bad\": \"\\ufffd\\ufffd\",\n"
		  "  \"utf8\": \"\xc3\xa9\",\n  \"u\": 18446744073709551615,\n  \"i\": -5,\n"
		  "  \"nan\": null,\n  \"a\": []\n}\n",
	       "escaping, invalid UTF-8, numbers, empty array");
	free(s);
	s = capture(tab);
	is_str(s, "Address       RSS  Path\n000000400000   8K  /bin/x\n000000001000    -  -\n"
		  "[\n  {\n    \"addr\": \"0x400000\",\n    \"rss\": 8192,\n    \"path\": \"/bin/x\"\n"
		  "  },\n  {\n    \"addr\": \"0x1000\",\n    \"rss\": null,\n    \"path\": null\n  }\n]\n",
	       "table as text and as JSON");
	free(s);
	return done_testing();
}
