/* fixture.h: where a unit test finds its recorded inputs, and reading one. */
#ifndef OFFHEAP_FIXTURE_H
#define OFFHEAP_FIXTURE_H

#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char fixture_path[4096];

/*
 * Sets the folder of tests/fixtures/SUB: $OFFHEAP_FIXTURES/SUB when set, else
 * relative to the current directory (the checkout), else to the test binary
 * (build/tests/test-X → tests/fixtures/SUB).
 */
static inline void fixture_dir(const char *argv0, const char *sub)
{
	const char *env = getenv("OFFHEAP_FIXTURES");
	const char *slash = strrchr(argv0, '/');
	char probe[512];
	FILE *f;

	if (env) {
		snprintf(fixture_path, sizeof(fixture_path), "%s/%s", env, sub);
		return;
	}
	snprintf(probe, sizeof(probe), "tests/fixtures/%s", sub);
	f = fopen(probe, "r");
	if (f) {
		fclose(f);
		snprintf(fixture_path, sizeof(fixture_path), "%s", probe);
		return;
	}
	snprintf(fixture_path, sizeof(fixture_path), "%.*s/../../tests/fixtures/%s",
		 slash ? (int)(slash - argv0) : 1, slash ? argv0 : ".", sub);
}

/* Reads fixture NAME into sb (replacing it); false when it cannot be opened. */
static inline bool fixture_read(const char *name, struct strbuf *sb)
{
	char path[4200], buf[65536];
	size_t n;
	FILE *f;

	strbuf_reset(sb);
	snprintf(path, sizeof(path), "%s/%s", fixture_path, name);
	f = fopen(path, "r");
	if (!f)
		return false;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(sb, buf, n);
	fclose(f);
	return true;
}

/* As fixture_read, but a missing fixture ends the test ("Bail out!"). */
static inline void fixture_load(const char *name, struct strbuf *sb)
{
	if (!fixture_read(name, sb)) {
		printf("Bail out! cannot open %s/%s\n", fixture_path, name);
		exit(1);
	}
}

#endif
