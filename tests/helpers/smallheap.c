/*
 * smallheap: holds many small blocks from one call site, for the tests of the
 * tracker's own memory and of its ceiling.
 *
 *   smallheap SIZE COUNT READY_FILE
 *
 * Mallocs COUNT blocks of SIZE bytes (keep_small), then writes READY_FILE:
 * "PID LIVE\n", LIVE being SIZE * COUNT, the bytes it holds. It then waits
 * until READY_FILE is removed (polled every 10 ms, at most 60 s, so a test
 * never leaves it behind) and exits without freeing them: they are live at
 * exit. READY_FILE "-": prints LIVE and exits at once. Exits 1 when malloc
 * fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long calls;

/* Not a tail call: this frame must stay on the stack. */
__attribute__((noinline)) static void *keep_small(size_t n)
{
	void *p = malloc(n);

	calls++;
	return p;
}

int main(int argc, char **argv)
{
	struct timespec ms10 = {0, 10000000};
	unsigned long long size, count;
	char tmp[4096];
	void **keep;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: smallheap SIZE COUNT READY_FILE\n");
		return 2;
	}
	size = strtoull(argv[1], NULL, 10);
	count = strtoull(argv[2], NULL, 10);
	/* the array from mmap-sized calloc: another site, one block */
	keep = calloc(count ? count : 1, sizeof(*keep));
	if (!keep)
		return 1;
	for (unsigned long long i = 0; i < count; i++) {
		keep[i] = keep_small(size);
		if (!keep[i])
			return 1;
		memset(keep[i], 1, size);
	}
	if (!strcmp(argv[3], "-")) {
		printf("%llu\n", size * count);
		return 0;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", argv[3]) >= (int)sizeof(tmp))
		return 2;
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d %llu\n", (int)getpid(), size * count) < 0 || fclose(f) ||
	    rename(tmp, argv[3]))
		return 1;
	for (int i = 0; i < 6000 && access(argv[3], F_OK) == 0; i++)
		while (nanosleep(&ms10, &ms10) && errno == EINTR)
			;
	return 0;
}
