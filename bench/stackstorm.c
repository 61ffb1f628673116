/*
 * stackstorm: allocations from thousands of distinct call stacks, the case
 * where the tracker's cost is in entering new stacks (and giving their
 * pages of the shared file storage) rather than in the hooks: two
 * functions call each other DEPTH levels deep in every combination, so
 * that 2^DEPTH leaves each malloc and free a block from a stack of their
 * own, ROUNDS times over. Prints nothing; exits 0.
 *
 *   stackstorm [DEPTH [ROUNDS]]   (default 12 3: 4,096 stacks)
 */
#include <stdlib.h>

static void *volatile sink;

__attribute__((noinline)) static void leaf(void)
{
	sink = malloc(32);
	free(sink);
}

__attribute__((noinline)) static void left(int d);
__attribute__((noinline)) static void right(int d);

/* the empty asm after the calls keeps them from being tail calls: every path a stack */
__attribute__((noinline)) static void left(int d)
{
	if (!d) {
		leaf();
		return;
	}
	left(d - 1);
	right(d - 1);
	__asm__ volatile("");
}

__attribute__((noinline)) static void right(int d)
{
	if (!d) {
		leaf();
		return;
	}
	left(d - 1);
	right(d - 1);
	__asm__ volatile("");
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 12, rounds = argc > 2 ? atoi(argv[2]) : 3;

	if (depth < 0 || depth > 20 || rounds < 1 || rounds > 1000)
		return 2;
	for (int i = 0; i < rounds; i++)
		left(depth);
	return 0;
}
