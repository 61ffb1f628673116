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

/*
 * A bad option is one line, in every command the same: glibc's own words
 * (unrecognized, ambiguous, missing or unwanted argument, invalid letter)
 * after our prefix, "offheap: error: record: unrecognized option '--bogus'",
 * then where the options are listed, exit 2. glibc names the program by
 * argv[0] (the command's name: offheap.c hands each command its words), so
 * argv[0] is the prefix for the length of the call.
 */
int __wrap_getopt_long(int argc, char *const argv[], const char *optstring,
		       const struct option *longopts, int *longindex)
{
	char prefix[96], *name = argc > 0 ? argv[0] : NULL;
	bool top;
	int c;

	if (listing) {
		print_options(optstring, longopts);
		exit(fflush(stdout) ? EXIT_RUNTIME : EXIT_OK);
	}
	if (!name || !opterr)
		return __real_getopt_long(argc, argv, optstring, longopts, longindex);
	/* the top level's argv[0] is the binary's path; a command's is its name */
	top = strchr(name, '/') || !strcmp(name, "offheap");
	snprintf(prefix, sizeof(prefix), top ? "offheap: error" : "offheap: error: %s", name);
	((char **)argv)[0] = prefix;
	c = __real_getopt_long(argc, argv, optstring, longopts, longindex);
	((char **)argv)[0] = name;
	if (c == '?') {
		fprintf(stderr, "Try 'offheap%s%s --help' for more information.\n", top ? "" : " ",
			top ? "" : name);
		exit(EXIT_USAGE);
	}
	return c;
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
