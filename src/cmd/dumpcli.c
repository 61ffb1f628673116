/* dumpcli: what 'offheap dump' and 'offheap inspect' share on the command line. */
#include "dumpcli.h"
#include "parse.h"
#include "usage.h"

#include <limits.h>

void dumpcli_range(const char *cmd, const char *arg, struct dump_sel *sel, bool *have_sel)
{
	if (*have_sel)
		usage_die(cmd, "give one region: '%s' or --map/--class", arg);
	*have_sel = true;
	if (dump_parse_range(arg, &sel->start, &sel->end))
		usage_die(cmd, "bad region '%s' (want START-END or START+LEN, in hexadecimal)",
			  arg);
	sel->kind = DUMP_SEL_RANGE;
}

void dumpcli_map(const char *cmd, const char *arg, struct dump_sel *sel, bool *have_sel)
{
	*have_sel = true;
	int n;

	if (parse_int(arg, 0, INT_MAX, &n))
		usage_die(cmd,
			  "bad --map '%s' (want the 0-based row of 'offheap maps --sort addr')",
			  arg);
	sel->kind = DUMP_SEL_MAP;
	sel->map = n;
}

void dumpcli_class(const char *cmd, const char *arg, struct dump_sel *sel, bool *have_sel)
{
	*have_sel = true;
	int c = region_class_parse(arg);

	if (c < 0)
		usage_die(cmd, "unknown class '%s' (heap, stack, arena, anon, lib, …)", arg);
	sel->kind = DUMP_SEL_CLASS;
	sel->cls = c;
}
