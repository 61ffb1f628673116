/*
 * jsonheap: holds MIB MiB of 4 KiB heap blocks of random bytes, each carrying
 * one of three JSON field names (as a NUL-terminated string after a NUL) at a
 * random offset; writes STATUS_FILE, then sleeps (at most LIFETIME seconds).
 * The blocks come from the main thread with a high mmap threshold, so they sit
 * in the brk heap.
 *
 *   jsonheap MIB STATUS_FILE [LIFETIME [arena]]
 *
 * With "arena" the blocks are allocated by a second thread, from a glibc
 * arena (the thread then waits too, so the arena stays as it is).
 *
 * STATUS_FILE: "pid N", "chunk N" (the blocks' chunk size), "n0 N", "n1 N",
 * "n2 N" (how many blocks carry each name), "glibc 1" (0 when a sanitizer's
 * allocator replaces glibc's malloc), in that order.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 4096

static const char *const names[3] = {
    "\"customerAccountId\":",
    "\"transactionTimestamp\":",
    "\"merchantCategoryCode\":",
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t n, count[3], chunk;
static char **blocks;

static void *fill(void *arg)
{
	for (size_t i = 0; i < n; i++) {
		char *b = malloc(BLOCK);
		size_t k, len, off;

		if (!b)
			exit(1);
		for (size_t j = 0; j < BLOCK; j += 8) {
			uint64_t v = next();

			memcpy(b + j, &v, 8);
		}
		k = next() % 3;
		len = strlen(names[k]);
		off = next() % (BLOCK - len - 2);
		b[off] = 0;
		memcpy(b + off + 1, names[k], len + 1);
		count[k]++;
		blocks[i] = b;
		if (!chunk)
			chunk = malloc_usable_size(b) + sizeof(size_t);
	}
	return arg;
}

int main(int argc, char **argv)
{
	FILE *f;
	char tmp[4096];

	if (argc < 3) {
		fprintf(stderr, "usage: jsonheap MIB STATUS_FILE [LIFETIME [arena]]\n");
		return 2;
	}
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	n = (strtoul(argv[1], NULL, 10) << 20) / BLOCK;
	blocks = calloc(n, sizeof(*blocks));
	if (!blocks)
		return 1;
	rng ^= (uint64_t)getpid() << 32;
	if (argc > 4 && !strcmp(argv[4], "arena")) {
		pthread_t t;

		if (pthread_create(&t, NULL, fill, NULL) || pthread_join(t, NULL))
			return 1;
	} else {
		fill(NULL);
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[2]);
	f = fopen(tmp, "w");
	if (!f)
		return 1;
#if defined(__SANITIZE_ADDRESS__)
	const int glibc = 0;
#else
	const int glibc = 1;
#endif
	fprintf(f, "pid %d\nchunk %zu\nn0 %zu\nn1 %zu\nn2 %zu\nglibc %d\n", (int)getpid(), chunk,
		count[0], count[1], count[2], glibc);
	if (fclose(f) || rename(tmp, argv[2]))
		return 1;
	sleep(argc > 3 ? (unsigned)atoi(argv[3]) : 120);
	for (size_t i = 0; i < n; i++)
		free(blocks[i]);
	free(blocks);
	return 0;
}
