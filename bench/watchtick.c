/*
 * watchtick: times one tick of 'offheap watch' — sampler_tick() into a
 * recording, as cmd_watch runs it — on a live process, without start-up,
 * sleeping or output. The recording is a temporary file, removed at the end.
 *
 * Usage: watchtick PID [RUNS]. Prints the median milliseconds of a plain
 * tick (class totals, counters, NMT: what most samples are) and of a tick
 * that also stores every mapping and thread (the first and last samples,
 * and one every --regions-every).
 */
#include "sampler.h"
#include "series.h"
#include "store.h"
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* Runs ticks with flags runs times into ms[], sorted. Returns 0 or -1 (printed). */
static int time_ticks(struct sampler *sp, unsigned flags, int runs, double *ms)
{
	struct strbuf err = STRBUF_INIT;

	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();

		strbuf_reset(&err);
		if (sampler_tick(sp, flags, &err)) {
			fprintf(stderr, "watchtick: %s\n", err.buf);
			strbuf_release(&err);
			return -1;
		}
		ms[i] = now_ms() - t0;
	}
	qsort(ms, (size_t)runs, sizeof(*ms), cmp);
	strbuf_release(&err);
	return 0;
}

int main(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	struct store *st = NULL;
	struct series s;
	struct sampler sp;
	char path[64];
	double *plain, *regions;
	int pid, runs, ret = 1;

	if (argc < 2)
		return fprintf(stderr, "usage: watchtick PID [RUNS]\n"), 2;
	pid = atoi(argv[1]);
	runs = argc > 2 ? atoi(argv[2]) : 21;
	if (runs < 1)
		runs = 1;
	plain = calloc((size_t)runs, sizeof(*plain));
	regions = calloc((size_t)runs, sizeof(*regions));
	snprintf(path, sizeof(path), "/tmp/offheap-watchtick.%d.db", (int)getpid());
	series_init(&s);
	if (!plain || !regions || store_create(path, STORE_RECORDING, true, &st, &err) ||
	    sampler_open(&sp, pid, 0, 5000, &s, st, &err))
		goto out;
	/* As cmd_watch: the first sample with regions, then the file is in place. */
	if (sampler_tick(&sp, TICK_REGIONS, &err) || store_commit(st, &err))
		goto out_sampler;
	if (time_ticks(&sp, 0, runs, plain) || time_ticks(&sp, TICK_REGIONS, runs, regions))
		goto out_sampler;
	printf("tick %.2f ms\ntick_with_regions %.2f ms\n", plain[runs / 2], regions[runs / 2]);
	ret = 0;
out_sampler:
	sampler_close(&sp);
out:
	if (err.len)
		fprintf(stderr, "watchtick: %s\n", err.buf);
	store_close(st);
	unlink(path);
	series_release(&s);
	strbuf_release(&err);
	free(plain);
	free(regions);
	return ret;
}
