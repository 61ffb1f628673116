/*
 * maphoard: anonymous mmap growth from a named thread, for 'offheap doctor'.
 * Thread "slab-hoarder" maps a 128 KiB slab every 50 ms in hoard_slab(),
 * touches all of it (so RSS grows, ~2.5 MiB/s) and never unmaps it. READY
 * is written once the thread runs; the process ends after LIFETIME_S.
 *
 * Usage: maphoard READY [LIFETIME_S=60]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SLAB (128 << 10)

static volatile int running;

__attribute__((noinline)) static void *hoard_slab(void)
{
	char *p = mmap(NULL, SLAB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0x5a, SLAB);
	return p;
}

static void *hoarder(void *arg)
{
	struct timespec tick = { 0, 50 * 1000 * 1000 };

	(void)arg;
	pthread_setname_np(pthread_self(), "slab-hoarder");
	running = 1;
	for (;;) {
		if (!hoard_slab())
			abort();
		nanosleep(&tick, NULL);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned lifetime = argc > 2 ? (unsigned)atoi(argv[2]) : 60;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	pthread_t t;
	FILE *f;

	if (argc < 2 || !lifetime || lifetime > 3600) {
		fprintf(stderr, "usage: maphoard READY [LIFETIME_S (1..3600)]\n");
		return 2;
	}
	if (pthread_create(&t, NULL, hoarder, NULL))
		return 1;
	while (!running)
		nanosleep(&tick, NULL);
	f = fopen(argv[1], "w");
	if (!f || fputs("ready\n", f) == EOF || fclose(f))
		return 1;
	sleep(lifetime);
	return 0;
}
