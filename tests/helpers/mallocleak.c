/*
 * mallocleak: a plain malloc leak for 'offheap record' / 'offheap report'.
 * Every 10 ms leak_session_buffer() mallocs a block of 4..64 KiB (a fixed
 * cycle averaging ~10 KiB, so ~1 MiB/s), touches it and keeps it forever;
 * meanwhile churn_request() mallocs and frees 64 blocks of 100 B..8 KiB, so
 * there is allocation traffic that is not a leak. After DURATION_S seconds
 * it prints "leaked BYTES in BLOCKS blocks" and exits 0.
 * Both functions are noinline so that their frames have names (-g build).
 *
 * With PER_TICK, that many blocks are leaked every 10 ms (PER_TICK times the
 * rate; the churn stays the same).
 *
 * Usage: mallocleak [DURATION_S=10 [PER_TICK=1]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Block sizes in KiB; mean 10.25 KiB, times 100 a second = ~1 MiB/s. */
static const unsigned leak_kib[] = { 4, 4, 4, 8, 4, 4, 8, 4, 16, 4, 4, 8, 4, 4, 64, 20 };

static void **leaked;
static size_t nleaked, leaked_alloc, leaked_bytes;

__attribute__((noinline)) static void *leak_session_buffer(size_t size)
{
	void *p = malloc(size);

	if (!p)
		abort();
	memset(p, 0xab, size);
	return p;
}

__attribute__((noinline)) static size_t churn_request(unsigned seed)
{
	void *p[64];
	size_t sum = 0;
	int i;

	for (i = 0; i < 64; i++) {
		size_t size = 100 + (seed * 2654435761u + i * 40503u) % 8092;

		p[i] = malloc(size);
		if (!p[i])
			abort();
		memset(p[i], i, size);
		sum += size;
	}
	for (i = 0; i < 64; i++)
		free(p[i]);
	return sum;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double duration = argc > 1 ? atof(argv[1]) : 10, end;
	int per_tick = argc > 2 ? atoi(argv[2]) : 1;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	size_t churned = 0;
	unsigned i;

	if (duration <= 0 || duration > 3600 || per_tick < 1 || per_tick > 100) {
		fprintf(stderr, "usage: mallocleak [DURATION_S (0..3600] [PER_TICK (1..100)]]\n");
		return 2;
	}
	end = now() + duration;
	for (i = 0; now() < end; i++) {
		for (int k = 0; k < per_tick; k++) {
			unsigned n = i * (unsigned)per_tick + (unsigned)k;
			size_t size = (size_t)leak_kib[n % (sizeof(leak_kib) / sizeof(leak_kib[0]))]
				      << 10;

			if (nleaked == leaked_alloc) {
				leaked_alloc = leaked_alloc ? 2 * leaked_alloc : 1024;
				leaked = realloc(leaked, leaked_alloc * sizeof(*leaked));
				if (!leaked)
					abort();
			}
			leaked[nleaked++] = leak_session_buffer(size);
			leaked_bytes += size;
		}
		churned += churn_request(i);
		nanosleep(&tick, NULL);
	}
	printf("leaked %zu in %zu blocks; churned %zu\n", leaked_bytes, nleaked, churned);
	return 0;
}
