/*
 * peaker: a peak that is gone before the end, for the peak of 'offheap record'.
 * peak_burst() mallocs 64 MiB in blocks of BLOCK bytes and touches them,
 * then frees them all; keep_tail() then mallocs 8 MiB in blocks of BLOCK
 * bytes and keeps them to the exit. So the true peak of live bytes is 64 MiB
 * (plus what the C library holds), the sites live at it are peak_burst's,
 * and 8 MiB are leaked at exit. Both functions are noinline so that their
 * frames have names (-g build). Prints "peak BYTES kept BYTES" and exits 0.
 *
 * Usage: peaker [BLOCK=65536]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEAK_BYTES (64UL << 20)
#define KEPT_BYTES (8UL << 20)

static void **kept;

__attribute__((noinline)) static void peak_burst(size_t block)
{
	size_t n = PEAK_BYTES / block;
	void **p = calloc(n, sizeof(*p));

	if (!p)
		abort();
	for (size_t i = 0; i < n; i++) {
		p[i] = malloc(block);
		if (!p[i])
			abort();
		memset(p[i], 0x5a, block);
	}
	for (size_t i = 0; i < n; i++)
		free(p[i]);
	free(p);
}

__attribute__((noinline)) static void keep_tail(size_t block)
{
	size_t n = KEPT_BYTES / block;

	for (size_t i = 0; i < n; i++) {
		kept[i] = malloc(block);
		if (!kept[i])
			abort();
		memset(kept[i], 0xa5, block);
	}
}

int main(int argc, char **argv)
{
	size_t block = argc > 1 ? strtoul(argv[1], NULL, 0) : 65536;

	if (block < 16 || block > KEPT_BYTES) {
		fprintf(stderr, "usage: peaker [BLOCK=65536] (16 to %lu)\n", KEPT_BYTES);
		return 2;
	}
	/* the list of kept blocks first, so that it is no part of the peak */
	kept = malloc(KEPT_BYTES / block * sizeof(*kept));
	if (!kept)
		abort();
	peak_burst(block);
	keep_tail(block);
	printf("peak %lu kept %lu\n", PEAK_BYTES, KEPT_BYTES);
	return 0;
}
