/*
 * mallocstorm: THREADS threads × PAIRS malloc/free pairs of 16..272 bytes; the
 * malloc-heavy micro of bench/track.sh. Prints nothing; exits 0.
 *
 *   mallocstorm [THREADS [PAIRS]]
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

static long pairs = 2000000;

static void *worker(void *arg)
{
	uintptr_t seed = (uintptr_t)arg;

	for (long i = 0; i < pairs; i++) {
		void *volatile p = malloc(16 + (size_t)((i + (long)seed) & 255));

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
	if (threads < 1 || threads > 64)
		return 2;
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i))
			return 1;
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return 0;
}
