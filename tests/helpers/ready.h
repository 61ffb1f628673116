/* ready.h: how a helper tells a test it is set up, for helpers that write figures there. */
#ifndef OFFHEAP_HELPER_READY_H
#define OFFHEAP_HELPER_READY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Writes text to path under a temporary name and renames it: a reader never sees half. */
static inline int write_ready(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	if (fputs(text, f) < 0) {
		fclose(f);
		return -1;
	}
	if (fclose(f))
		return -1;
	return rename(tmp, path);
}

/*
 * Argument i of a helper (def when absent): a positive number up to max,
 * else the helper exits with status 2 naming it.
 */
static inline size_t number_arg(const char *helper, int argc, char **argv, int i, size_t def,
				size_t max)
{
	char *end;
	unsigned long long v;

	if (argc <= i)
		return def;
	v = strtoull(argv[i], &end, 10);
	if (*end || !v || v > max) {
		fprintf(stderr, "%s: bad number '%s'\n", helper, argv[i]);
		exit(2);
	}
	return (size_t)v;
}

#endif
