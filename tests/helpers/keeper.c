/*
 * keeper: keeps COUNT blocks of SIZE bytes from malloc, all from one call site
 * (keep_block), for the tests of the tracker's sampled estimates.
 *
 *   keeper SIZE COUNT     mallocs and keeps COUNT blocks of SIZE bytes; prints
 *                         SIZE * COUNT; exits 1 when malloc fails
 *
 * It ends by itself once the blocks are allocated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile unsigned long calls;

/* Not a tail call: this frame must stay on the stack. */
__attribute__((noinline)) static void *keep_block(size_t n)
{
	void *p = malloc(n);

	calls++;
	return p;
}

int main(int argc, char **argv)
{
	unsigned long long size, count;
	void **keep;

	if (argc != 3) {
		fprintf(stderr, "usage: keeper SIZE COUNT\n");
		return 2;
	}
	size = strtoull(argv[1], NULL, 10);
	count = strtoull(argv[2], NULL, 10);
	/* the array itself comes from calloc, another site */
	keep = calloc(count ? count : 1, sizeof(*keep));
	if (!keep)
		return 1;
	for (unsigned long long i = 0; i < count; i++) {
		keep[i] = keep_block(size);
		if (!keep[i])
			return 1;
		memset(keep[i], 1, size < 64 ? size : 64);
	}
	printf("%llu\n", size * count);
	return 0;
}
