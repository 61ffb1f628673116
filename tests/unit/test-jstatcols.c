/* Unit tests for jstatcols: every option's columns over recorded hsperfdata of JDK 17 and 25. */
#include "hsperf.h"
#include "jstatcols.h"
#include "strbuf.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(struct hsperf *h, const char *name)
{
	const char *dir = getenv("FIXTURES");
	struct strbuf err = STRBUF_INIT;
	char path[4096];
	static unsigned char buf[1 << 20];
	size_t len;
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "%s/hsperf/%s", dir ? dir : "tests/fixtures", name);
	f = fopen(path, "rb");
	if (!f) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ret = hsperf_parse(h, buf, len, &err);
	strbuf_release(&err);
	return ret;
}

static void bail(const char *why)
{
	printf("Bail out! %s\n", why);
	exit(1);
}

/* The value of column header in option opt, formatted as jstat prints it. */
static const char *shown(const struct hsperf *h, const char *opt, const char *header)
{
	static char buf[256];
	const struct jstat_option *o = jstat_option_find(opt);

	snprintf(buf, sizeof(buf), "(no column)");
	for (size_t i = 0; o && i < o->ncols; i++) {
		struct jstat_val v;

		if (strcmp(o->cols[i].header, header) || jstat_eval(h, &o->cols[i], &v))
			continue;
		jstat_format(&o->cols[i], &v, buf, sizeof(buf));
		jstat_val_release(&v);
		break;
	}
	return buf;
}

static void test_every_column_evaluates(void)
{
	static const char *const files[] = { "jdk17-g1-nmt.hsperf", "jdk17-serial-gc.hsperf",
					     "jdk25-parallel.hsperf" };
	size_t nopts;
	const struct jstat_option *opts = jstat_options(&nopts);

	ok(nopts == 12, "twelve options, as the JDK's jstat");
	for (size_t f = 0; f < 3; f++) {
		struct hsperf h = HSPERF_INIT;
		size_t bad = 0, cols = 0;

		if (parse(&h, files[f])) {
			ok(0, files[f]);
			continue;
		}
		for (size_t i = 0; i < nopts; i++)
			for (size_t k = 0; k < opts[i].ncols; k++, cols++) {
				struct jstat_val v;

				if (jstat_eval(&h, &opts[i].cols[k], &v))
					bad++;
				jstat_val_release(&v);
			}
		ok(bad == 0 && cols > 100, files[f]);
		hsperf_release(&h);
	}
}

static void test_values(void)
{
	struct hsperf h = HSPERF_INIT;

	if (parse(&h, "jdk25-parallel.hsperf"))
		bail("jdk25-parallel.hsperf does not parse");
	is_str(shown(&h, "gcutil", "CGC"), "-", "ParallelGC has no collector 2: CGC is '-'");
	is_str(shown(&h, "gcutil", "CGCT"), "-", "... and CGCT is '-'");
	ok(strcmp(shown(&h, "gcutil", "GCT"), "-") != 0, "GCT is required: the existing collectors are summed");
	ok(strchr(shown(&h, "gcutil", "O"), '.') != NULL, "O is a percentage with decimals");
	ok(strcmp(shown(&h, "gccause", "LGCC"), "-") != 0 &&
		   !strchr(shown(&h, "gccause", "LGCC"), '.'),
	   "LGCC is the cause as a string");
	ok(strcmp(shown(&h, "class", "Loaded"), "-") != 0, "class: Loaded is shown");
	is_str(shown(&h, "gc", "nonexistent"), "(no column)", "an unknown column is not invented");
	hsperf_release(&h);
}

static void test_nan_is_a_dash(void)
{
	static const struct jstat_col c = { "X", JA_CENTER, JA_RIGHT, 6, 2, false, false, NULL,
					    "(1-((0 - 0)/0)) * 100" };
	struct hsperf h = HSPERF_INIT;
	struct jstat_val v;
	char buf[32];

	if (parse(&h, "jdk17-g1-nmt.hsperf"))
		bail("jdk17-g1-nmt.hsperf does not parse");
	is_int(jstat_eval(&h, &c, &v), 0, "0/0 evaluates");
	jstat_format(&c, &v, buf, sizeof(buf));
	is_str(buf, "-", "a space of capacity 0 shows '-', as jstat on JDK 25");
	jstat_val_release(&v);
	hsperf_release(&h);
}

static void test_malformed_expression(void)
{
	static const struct jstat_col c = { "X", JA_CENTER, JA_RIGHT, 6, 2, false, false, NULL,
					    "(1 + sun.os.hrt.frequency" };
	struct hsperf h = HSPERF_INIT;
	struct jstat_val v;

	if (parse(&h, "jdk17-g1-nmt.hsperf"))
		bail("jdk17-g1-nmt.hsperf does not parse");
	ok(jstat_eval(&h, &c, &v) < 0, "an unbalanced expression is refused");
	jstat_val_release(&v);
	hsperf_release(&h);
}

int main(void)
{
	test_every_column_evaluates();
	test_values();
	test_nan_is_a_dash();
	test_malformed_expression();
	return done_testing();
}
