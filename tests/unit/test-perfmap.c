/* Unit tests for perfmap: real JDK 17 and 25 maps, bare hex, hostile lines, overlaps. */
#include "tap.h"
#include "fixture.h"
#include "perfmap.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char desc[256];

/* A test description with printf arguments (the tap.h macros take a plain string). */
#define D(...) (snprintf(desc, sizeof(desc), __VA_ARGS__), desc)

/* The start of the line of the fixture naming exactly name, or 0. */
static uint64_t start_of(const char *text, const char *name)
{
	char pat[512];
	const char *p;

	snprintf(pat, sizeof(pat), " %s\n", name);
	p = strstr(text, pat);
	if (!p)
		return 0;
	while (p > text && p[-1] != '\n')
		p--;
	return strtoull(p, NULL, 16);
}

static void real_map(const char *file, size_t lines)
{
	struct strbuf sb = STRBUF_INIT;
	struct perfmap m = {0};
	const struct perfmap_entry *e;
	uint64_t init, interp;
	size_t skipped = 0;
	char buf[256];

	fixture_load(file, &sb);
	is_int(perfmap_parse(&m, sb.buf, sb.len, &skipped), 0, D("%s parses", file));
	is_int((int)skipped, 0, D("%s: no line skipped", file));
	ok(m.nr > 0 && m.nr <= lines, D("%s: %zu entries of %zu lines", file, m.nr, lines));
	for (size_t i = 1; i < m.nr; i++)
		if (m.v[i - 1].start + m.v[i - 1].size > m.v[i].start) {
			ok(0, D("%s: entries sorted, no overlap (at %zu)", file, i));
			goto out;
		}
	ok(1, D("%s: entries sorted, no overlap", file));
	init = start_of(sb.buf, "long java.util.zip.Inflater.init(boolean)");
	interp = start_of(sb.buf, "Interpreter");
	ok(init && interp, D("%s: has Inflater.init and Interpreter", file));
	e = perfmap_find(&m, init + 5);
	ok(e && !strcmp(e->name, "long java.util.zip.Inflater.init(boolean)"),
	   D("%s: a pc inside Inflater.init finds it", file));
	is_str(e ? perfmap_frame_name(e, buf, sizeof(buf)) : "",
	       "[java] long java.util.zip.Inflater.init(boolean)",
	       D("%s: named as a Java frame", file));
	e = perfmap_find(&m, interp + 0x100);
	is_str(e ? perfmap_frame_name(e, buf, sizeof(buf)) : "", "Interpreter",
	       D("%s: the interpreter keeps its name", file));
	ok(!perfmap_find(&m, 1) && !perfmap_find(&m, ~0ull), D("%s: outside every range", file));
out:
	perfmap_release(&m);
	strbuf_release(&sb);
}

int main(int argc, char **argv)
{
	static const char bare[] = "7f0000001000 100 Lfoo/Bar;::baz\n"
				   "0x7f0000002000 0x20 Interpreter\r\n"
				   "\n"
				   "zzzz 10 bad start\n"
				   "7f0000003000 0 empty range\n"
				   "7f0000004000 10\n"
				   "ffffffffffffffff 10 wraps\n"
				   "12345678901234567 10 too many digits\n"
				   "7f0000005000 10 no newline at the end";
	static const char overlap[] = "1000 100 old\n"
				      "1080 100 new\n"
				      "1000 10 same start later\n";
	struct perfmap m = {0};
	const struct perfmap_entry *e;
	size_t skipped = 0;
	char buf[64];

	(void)argc;
	fixture_dir(argv[0], "perfmap");
	real_map("jdk17.map", 324);
	real_map("jdk25.map", 351);

	is_int(perfmap_parse(&m, bare, sizeof(bare) - 1, &skipped), 0, "bare hex parses");
	is_int((int)m.nr, 3, "three good lines");
	is_int((int)skipped, 5, "five bad lines skipped");
	e = perfmap_find(&m, 0x7f00000010ff);
	ok(e && !strcmp(e->name, "Lfoo/Bar;::baz"), "bare hex start and size");
	ok(!perfmap_find(&m, 0x7f0000001100), "the end is exclusive");
	e = perfmap_find(&m, 0x7f0000002000);
	ok(e && !strcmp(e->name, "Interpreter"), "0x prefix and CR stripped");
	e = perfmap_find(&m, 0x7f0000005000);
	ok(e && !strcmp(e->name, "no newline at the end"), "last line without newline");
	is_str(perfmap_frame_name(&m.v[0], buf, sizeof(buf)), "[java] Lfoo/Bar;::baz",
	       "an agent's method name is Java");
	perfmap_release(&m);
	perfmap_add(&m, 0x1000, 0x10, "StubRoutines (1)");
	perfmap_add(&m, 0x2000, 0x10, "I2C/C2I adapters");
	perfmap_add(&m, 0x3000, 0x10, "void Foo.<init>()");
	is_str(perfmap_frame_name(&m.v[0], buf, sizeof(buf)), "StubRoutines (1)",
	       "a stub with a number in parentheses is no Java method");
	is_str(perfmap_frame_name(&m.v[1], buf, sizeof(buf)), "I2C/C2I adapters",
	       "adapters keep their name");
	is_str(perfmap_frame_name(&m.v[2], buf, sizeof(buf)), "[java] void Foo.<init>()",
	       "a constructor is Java");
	perfmap_release(&m);

	is_int(perfmap_parse(&m, overlap, sizeof(overlap) - 1, NULL), 0, "overlaps parse");
	e = perfmap_find(&m, 0x1090);
	ok(e && !strcmp(e->name, "new"), "a later overlapping line wins");
	e = perfmap_find(&m, 0x1005);
	ok(e && !strcmp(e->name, "same start later"), "the same start: the later line wins");
	e = perfmap_find(&m, 0x1050);
	ok(!e, D("the space of a dropped entry is unnamed (%s)", e ? e->name : "none"));
	perfmap_release(&m);
	is_int(perfmap_parse(&m, "", 0, NULL), 0, "empty text");
	ok(!perfmap_find(&m, 0x1000), "an empty map finds nothing");
	perfmap_release(&m);
	return done_testing();
}
