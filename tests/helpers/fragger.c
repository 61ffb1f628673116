/*
 * fragger: glibc arena fragmentation, not a leak. THREADS threads each
 * malloc CHUNKS chunks of SIZE bytes (touched) in their own arena, then free
 * all but every KEEP_EVERY-th. The survivors pin the pages between them, so
 * RSS stays near the peak while the live malloc bytes are small; free() only
 * trims an arena's top. Then every thread sleeps (its arena stays attached)
 * until killed or LIFETIME_S passes. The answer a tool should give:
 * MALLOC_ARENA_MAX / malloc_trim(), not "leak".
 *
 * Usage: fragger READY [THREADS=8] [CHUNKS=65536] [SIZE=1024] [KEEP_EVERY=64]
 *                [LIFETIME_S=600]
 * READY is written once every thread has freed; it holds, one per line,
 * "live_bytes N" (requested bytes still held), "live_chunks N",
 * "peak_bytes N", and glibc's view from mallinfo2(): "arena_bytes N" (bytes
 * taken from the system by sbrk and arena heaps), "inuse_bytes N" and
 * "free_bytes N". The same lines go to stdout.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ready.h"

static size_t nchunks = 65536, chunk_size = 1024, keep_every = 64;
static pthread_barrier_t all_allocated, all_freed;

static void *worker(void *unused)
{
	char **p = calloc(nchunks, sizeof(*p));
	size_t i;

	if (!p)
		abort();
	for (i = 0; i < nchunks; i++) {
		p[i] = malloc(chunk_size);
		if (!p[i])
			abort();
		memset(p[i], 0x5a, chunk_size);
	}
	/* Everyone allocates before anyone frees, so arenas are not shared on reuse. */
	pthread_barrier_wait(&all_allocated);
	for (i = 0; i < nchunks; i++)
		if (i % keep_every)
			free(p[i]);
	pthread_barrier_wait(&all_freed);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	size_t nthreads, lifetime, kept, i;
	struct mallinfo2 mi;
	pthread_t tid;
	char status[512];

	if (argc < 2) {
		fprintf(stderr, "usage: fragger READY [THREADS] [CHUNKS] [SIZE] [KEEP_EVERY] "
				"[LIFETIME_S]\n");
		return 2;
	}
	nthreads = number_arg("fragger", argc, argv, 2, 8, SIZE_MAX);
	nchunks = number_arg("fragger", argc, argv, 3, nchunks, SIZE_MAX);
	chunk_size = number_arg("fragger", argc, argv, 4, chunk_size, SIZE_MAX);
	keep_every = number_arg("fragger", argc, argv, 5, keep_every, SIZE_MAX);
	lifetime = number_arg("fragger", argc, argv, 6, 600, SIZE_MAX);

	pthread_barrier_init(&all_allocated, NULL, nthreads);
	pthread_barrier_init(&all_freed, NULL, nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&tid, NULL, worker, NULL)) {
			fprintf(stderr, "fragger: cannot create a thread\n");
			return 1;
		}
		pthread_detach(tid);
	}
	pthread_barrier_wait(&all_freed);

	kept = nthreads * ((nchunks + keep_every - 1) / keep_every);
	mi = mallinfo2();
	snprintf(status, sizeof(status),
		 "live_bytes %zu\nlive_chunks %zu\npeak_bytes %zu\n"
		 "arena_bytes %zu\ninuse_bytes %zu\nfree_bytes %zu\n",
		 kept * chunk_size, kept, nthreads * nchunks * chunk_size,
		 mi.arena, mi.uordblks, mi.fordblks);
	fputs(status, stdout);
	fflush(stdout);

	if (write_ready(argv[1], status)) {
		perror("fragger: cannot write the ready file");
		return 1;
	}
	sleep(lifetime);
	return 0;
}
