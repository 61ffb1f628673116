/*
 * threadleak: a C program that starts threads at a steady rate, leaking them
 * or not, for doctor's thread rules.
 *
 *   threadleak MODE RATE READY [LIFETIME_S [POOL_FROM]]
 *
 * MODE: blocked   the threads never end (their number rises)
 *       unjoined  the threads end at once and are never joined (their
 *                 stacks stay mapped; their number does not rise)
 *       joined    the threads end and are joined (healthy)
 *       detached  the threads are created detached and end (healthy)
 * RATE threads a second. READY is written once the first thread ran. The
 * threads are started by spawn_loop, which is never inlined: the code a
 * diagnosis must name. With POOL_FROM, thread i names itself
 * "pool-(POOL_FROM + i)-thread-1", as an executor made per task and never
 * shut down does: past pool 9 the kernel cuts the names at 15 bytes, at
 * three lengths as the pool numbers reach 10, 100 and 1000.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum mode { BLOCKED, UNJOINED, JOINED, DETACHED };

static atomic_int ran;
static atomic_long named;
static long pool_from = -1;

static void *worker(void *arg)
{
	volatile char scratch[16384]; /* touch some stack, as real work does */

	if (pool_from >= 0) {
		long pool = pool_from + atomic_fetch_add(&named, 1);
		char name[32];

		snprintf(name, sizeof(name), "pool-%ld-thread-1", pool);
		name[15] = '\0'; /* what the kernel keeps */
		pthread_setname_np(pthread_self(), name);
	}

	memset((char *)scratch, (int)(long)arg, sizeof(scratch));
	atomic_fetch_add(&ran, 1);
	if (arg == (void *)BLOCKED)
		for (;;)
			pause();
	return NULL;
}

static __attribute__((noinline)) void spawn_loop(enum mode mode, int rate, const char *ready,
						 long lifetime_s)
{
	struct timespec gap = { 0, 1000000000L / rate };
	pthread_attr_t attr;
	time_t end = time(NULL) + lifetime_s;
	int wrote = 0;

	pthread_attr_init(&attr);
	if (mode == DETACHED)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while (time(NULL) < end) {
		pthread_t t;

		if (pthread_create(&t, &attr, worker, (void *)(long)mode)) {
			perror("threadleak: pthread_create");
			exit(1);
		}
		if (mode == JOINED)
			pthread_join(t, NULL);
		if (!wrote && atomic_load(&ran) > 0) {
			FILE *f = fopen(ready, "w");

			if (f) {
				fprintf(f, "%d\n", (int)getpid());
				fclose(f);
			}
			wrote = 1;
		}
		nanosleep(&gap, NULL);
	}
	pthread_attr_destroy(&attr);
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "blocked", "unjoined", "joined", "detached" };
	int mode = -1, rate;

	if (argc < 4) {
		fprintf(stderr, "usage: threadleak blocked|unjoined|joined|detached RATE READY "
				"[LIFETIME_S [POOL_FROM]]\n");
		return 2;
	}
	for (int i = 0; i < 4; i++)
		if (!strcmp(argv[1], names[i]))
			mode = i;
	rate = atoi(argv[2]);
	if (mode < 0 || rate < 1 || rate > 1000) {
		fprintf(stderr, "threadleak: bad mode or rate\n");
		return 2;
	}
	if (argc > 5)
		pool_from = atol(argv[5]);
	spawn_loop((enum mode)mode, rate, argv[3], argc > 4 ? atol(argv[4]) : 120);
	return 0;
}
