/*
 * mallocstorm: THREADS threads × PAIRS malloc/free pairs of 16..272 bytes; the
 * malloc-heavy micro of bench/track.sh and bench/unwind.sh. With DEPTH (0..4),
 * each malloc is reached through DEPTH more functions of its own (distinct
 * return addresses, no tail calls), so that a build with -fomit-frame-pointer
 * gives the unwinder DEPTH more frames without frame pointers to step
 * through. Prints nothing; exits 0.
 *
 *   mallocstorm [THREADS [PAIRS [DEPTH]]]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

static long pairs = 2000000;
static int depth;

#define LEVEL(name, next)                                          \
	__attribute__((noinline)) static void *name(size_t n)      \
	{                                                          \
		void *p = next(n);                                 \
                                                                   \
		__asm__ volatile("" : : "r"(p) : "memory");        \
		return p;                                          \
	}
LEVEL(level1, malloc)
LEVEL(level2, level1)
LEVEL(level3, level2)
LEVEL(level4, level3)

static void *(*const entry[])(size_t) = { malloc, level1, level2, level3, level4 };

static void *worker(void *arg)
{
	uintptr_t seed = (uintptr_t)arg;
	void *(*alloc)(size_t) = entry[depth];

	for (long i = 0; i < pairs; i++) {
		void *volatile p = alloc(16 + (size_t)((i + (long)seed) & 255));

		free(p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	pthread_t t[64];

	if (argc > 2)
		pairs = atol(argv[2]);
	if (argc > 3)
		depth = atoi(argv[3]);
	if (threads < 1 || threads > 64 || depth < 0 || depth > 4)
		return 2;
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i))
			return 1;
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return 0;
}
