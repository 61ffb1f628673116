/*
 * zchurn: zlib streams made and ended in batches, in several glibc arenas,
 * the way a JVM's Cleaner ends the Deflaters a program dropped: THREADS
 * threads each keep a ring of up to RING deflate streams (level 6, a 4 to
 * 12 KiB payload compressed: a state of 6 KiB and four buffers of 64 KiB),
 * and when the ring is full end BATCH of them picked at random, STEPS
 * streams in all. The freed blocks coalesce into large free chunks that
 * keep the headers of the chunks they were made of, links and all; the
 * kept ones pin them. Then every thread waits (its arena stays attached)
 * until killed or LIFETIME_S passes.
 *
 * Usage: zchurn READY [THREADS=4] [STEPS=3000] [RING=300] [BATCH=120] [LIFETIME_S=600]
 * READY is written once every thread is done; it holds glibc's view from
 * mallinfo2(), one per line: "arena_bytes N" (bytes taken by sbrk and the
 * arena heaps), "inuse_bytes N" (chunks in use), "fastbin_bytes N" (free
 * chunks in fastbins, which a heap walk sees in use), "free_bytes N" (free
 * chunks and the tops), and "streams N" (the streams still open).
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "ready.h"

static size_t steps = 3000, ring = 300, batch = 120;
static pthread_barrier_t done;
static size_t open_streams[64];

static void *worker(void *arg_)
{
	size_t self = (size_t)(uintptr_t)arg_, live = 0;
	unsigned int seed = (unsigned int)self + 1;
	z_stream **r = calloc(ring, sizeof(*r));
	unsigned char in[12288], out[16384];

	if (!r)
		abort();
	for (size_t s = 0; s < steps; s++) {
		size_t len = 4096 + (size_t)rand_r(&seed) % 8192;
		z_stream *z = calloc(1, sizeof(*z));

		if (!z || deflateInit(z, 6) != Z_OK)
			abort();
		for (size_t i = 0; i < len; i++)
			in[i] = (unsigned char)('a' + rand_r(&seed) % 8);
		z->next_in = in;
		z->avail_in = (uInt)len;
		z->next_out = out;
		z->avail_out = sizeof(out);
		if (deflate(z, Z_FINISH) != Z_STREAM_END)
			abort();
		r[live++] = z;
		if (live < ring)
			continue;
		for (size_t k = 0; k < batch && live; k++) {
			size_t pick = (size_t)rand_r(&seed) % live;

			deflateEnd(r[pick]);
			free(r[pick]);
			r[pick] = r[--live];
		}
	}
	open_streams[self] = live;
	pthread_barrier_wait(&done);
	for (;;)
		pause();
	return NULL;
}

int main(int argc, char **argv)
{
	size_t nthreads, lifetime, streams = 0;
	struct mallinfo2 mi;
	pthread_t tid;
	char status[512];

	if (argc < 2) {
		fprintf(stderr, "usage: zchurn READY [THREADS] [STEPS] [RING] [BATCH] [LIFETIME_S]\n");
		return 2;
	}
	nthreads = number_arg("zchurn", argc, argv, 2, 4, 64);
	steps = number_arg("zchurn", argc, argv, 3, steps, 1000000);
	ring = number_arg("zchurn", argc, argv, 4, ring, 100000);
	batch = number_arg("zchurn", argc, argv, 5, batch, ring);
	lifetime = number_arg("zchurn", argc, argv, 6, 600, 86400);

	pthread_barrier_init(&done, NULL, (unsigned int)nthreads + 1);
	for (size_t i = 0; i < nthreads; i++) {
		if (pthread_create(&tid, NULL, worker, (void *)(uintptr_t)i)) {
			fprintf(stderr, "zchurn: cannot create a thread\n");
			return 1;
		}
		pthread_detach(tid);
	}
	pthread_barrier_wait(&done);
	for (size_t i = 0; i < nthreads; i++)
		streams += open_streams[i];
	mi = mallinfo2();
	snprintf(status, sizeof(status),
		 "arena_bytes %zu\ninuse_bytes %zu\nfastbin_bytes %zu\nfree_bytes %zu\nstreams %zu\n",
		 mi.arena, mi.uordblks, mi.fsmblks, mi.fordblks, streams);
	fputs(status, stdout);
	fflush(stdout);
	if (write_ready(argv[1], status)) {
		perror("zchurn: cannot write the ready file");
		return 1;
	}
	sleep((unsigned int)lifetime);
	return 0;
}
