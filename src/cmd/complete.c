/*
 * complete: the command line as data, for the shell completions (contrib/completion).
 *
 * Each command declares its options once, in the table it hands to getopt_long.
 * Rather than a second list that could drift from it, `offheap --list-options CMD`
 * runs CMD up to that call and prints the table: the binary is linked with
 * -Wl,--wrap=getopt_long, so every getopt_long call of ours lands here first
 * and goes on to glibc's (__real_getopt_long) unless a listing was asked for.
 */
#include "complete.h"
#include "usage.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int __real_getopt_long(int argc, char *const argv[], const char *optstring,
		       const struct option *longopts, int *longindex);

static bool listing;

/* Does optstring declare c, and with ':' (arg) or '::' (opt)? */
static const char *short_kind(const char *optstring, int c, bool *found)
{
	const char *p;

	*found = false;
	if (c <= 0 || c > 127 || c == ':' || c == '+' || c == '-')
		return "";
	p = strchr(optstring, c);
	if (!p)
		return "";
	*found = true;
	if (p[1] != ':')
		return "";
	return p[2] == ':' ? "opt" : "arg";
}

static void print_options(const char *optstring, const struct option *longopts)
{
	static const char *const kinds[] = { "", "arg", "opt" };
	bool found;

	for (const struct option *o = longopts; o && o->name; o++) {
		short_kind(optstring, o->flag ? 0 : o->val, &found);
		printf("--%s\t", o->name);
		if (found)
			printf("-%c", o->val);
		printf("\t%s\n", o->has_arg >= 0 && o->has_arg <= 2 ? kinds[o->has_arg] : "");
	}
	for (const char *p = optstring; *p; p++) {
		bool named = false;
		const char *kind = short_kind(optstring, (unsigned char)*p, &found);

		if (!found || p != strchr(optstring, *p))
			continue;
		for (const struct option *o = longopts; o && o->name; o++)
			named |= !o->flag && o->val == *p;
		if (!named)
			printf("\t-%c\t%s\n", *p, kind);
	}
}

int __wrap_getopt_long(int argc, char *const argv[], const char *optstring,
		       const struct option *longopts, int *longindex)
{
	if (listing) {
		print_options(optstring, longopts);
		exit(fflush(stdout) ? EXIT_RUNTIME : EXIT_OK);
	}
	return __real_getopt_long(argc, argv, optstring, longopts, longindex);
}

int complete_list_options(int (*fn)(int argc, char **argv), const char *name)
{
	char *argv[] = { (char *)name, NULL };

	listing = true;
	optind = 0;
	fn(1, argv);
	listing = false;
	return error("'%s' parsed no options", name), EXIT_RUNTIME;
}
