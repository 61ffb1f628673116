/*
 * spawner: a test program whose threads come and go on demand, so a test can
 * see threads born and gone between two snapshots without racing.
 *
 *   --threads N         start N threads named "early-I" at once (default 2)
 *   --ready FILE        written once they all run
 *   --lifetime SECONDS  exit after this long (default 60)
 *
 * SIGUSR1 starts one more thread, named "late-I"; SIGUSR2 ends the most
 * recently started thread still running. The threads only sleep.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

struct worker {
	pthread_t t;
	char name[16];
	atomic_bool stop;
};

static struct worker workers[MAX_THREADS];
static int nworkers;
static atomic_int want_spawn, want_end;

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	pthread_setname_np(pthread_self(), w->name);
	while (!atomic_load(&w->stop))
		nanosleep(&ts, NULL);
	return NULL;
}

static void spawn(const char *prefix, int i)
{
	struct worker *w;

	if (nworkers >= MAX_THREADS)
		return;
	w = &workers[nworkers];
	snprintf(w->name, sizeof(w->name), "%s-%d", prefix, i);
	atomic_store(&w->stop, false);
	if (pthread_create(&w->t, NULL, worker_main, w)) {
		fprintf(stderr, "spawner: cannot create a thread\n");
		exit(1);
	}
	nworkers++;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		atomic_fetch_add(&want_spawn, 1);
	else
		atomic_fetch_add(&want_end, 1);
}

int main(int argc, char **argv)
{
	const char *ready = NULL;
	double lifetime = 60;
	int early = 2, late = 0;
	struct timespec ts = { 0, 10 * 1000 * 1000 }, start, now;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			puts("usage: spawner [--threads N] [--ready FILE] [--lifetime SECONDS]\n"
			     "SIGUSR1 starts a thread named late-I, SIGUSR2 ends the newest one.");
			return 0;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "spawner: '%s' needs a value\n", argv[i]);
			return 2;
		}
		if (!strcmp(argv[i], "--threads"))
			early = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--ready"))
			ready = argv[++i];
		else if (!strcmp(argv[i], "--lifetime"))
			lifetime = atof(argv[++i]);
		else {
			fprintf(stderr, "spawner: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	for (int i = 0; i < early; i++)
		spawn("early", i);
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f) {
			fputs("ready\n", f);
			fclose(f);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		while (atomic_load(&want_spawn) > 0) {
			atomic_fetch_sub(&want_spawn, 1);
			spawn("late", late++);
		}
		while (atomic_load(&want_end) > 0) {
			atomic_fetch_sub(&want_end, 1);
			if (nworkers > 0) {
				nworkers--;
				atomic_store(&workers[nworkers].stop, true);
				pthread_join(workers[nworkers].t, NULL);
			}
		}
		nanosleep(&ts, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((double)(now.tv_sec - start.tv_sec) > lifetime)
			return 0;
	}
}
