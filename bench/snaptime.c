/*
 * snaptime: times snapshot_take() itself on a live process, without process
 * start-up or output, and the raw read of its smaps for comparison.
 * Usage: snaptime PID [RUNS]. Prints median milliseconds.
 */
#include "procfs.h"
#include "snapshot.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int pid, runs;
	double *take, *raw;
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;

	if (argc < 2)
		return fprintf(stderr, "usage: snaptime PID [RUNS]\n"), 2;
	pid = atoi(argv[1]);
	runs = argc > 2 ? atoi(argv[2]) : 21;
	if (runs < 1)
		runs = 1;
	take = calloc((size_t)runs, sizeof(*take));
	raw = calloc((size_t)runs, sizeof(*raw));
	for (int i = 0; i < runs; i++) {
		struct snapshot s;
		double t0 = now_ms();

		if (snapshot_take(pid, 0, &s, &err))
			return fprintf(stderr, "snaptime: %s\n", err.buf), 1;
		take[i] = now_ms() - t0;
		snapshot_release(&s);
		t0 = now_ms();
		procfs_read_pid(pid, "smaps", &sb, 1UL << 30);
		raw[i] = now_ms() - t0;
	}
	qsort(take, (size_t)runs, sizeof(*take), cmp);
	qsort(raw, (size_t)runs, sizeof(*raw), cmp);
	printf("snapshot_take %.2f ms\nsmaps_read %.2f ms\n", take[runs / 2], raw[runs / 2]);
	free(take);
	free(raw);
	strbuf_release(&sb);
	strbuf_release(&err);
	return 0;
}
