/*
 * attachee: a running program for 'offheap record -p' (t3020, t3021). Its
 * main thread computes, in registers, across short sleeps, and checks the
 * result against a second computation when it ends: registers or a system
 * call that an attach disturbed show as a wrong answer. Another thread can
 * leak through a function of its own once a library appears in its map.
 *
 *   --ready FILE       written once running
 *   --until FILE       end (check, exit) once FILE exists
 *   --wait-lib NAME    the leaker thread starts when NAME is in /proc/self/maps
 *   --attached FILE    written when it has seen NAME
 *   --leak-size N      bytes per leaked block (default 65536), every 10 ms
 *   --leak-max N       stop leaking after N blocks (default 300)
 *   --churn N          the main thread also mallocs and frees N blocks per burst, so
 *                      that a stop often lands inside malloc (the attach must wait)
 *   --lifetime SECS    exit 5 after this long (default 60)
 *
 * Exit: 0 the computation was right, 3 it was not, 4 a sleep failed (an
 * interrupted system call that did not restart), 5 lifetime over, 2 usage.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *wait_lib, *attached_path;
static size_t leak_size = 65536, leak_max = 300, churn;

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs("1\n", f) < 0 || fclose(f))
		exit(2);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static int lib_mapped(void)
{
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "r");
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, wait_lib) != NULL;
	fclose(f);
	return found;
}

/* The one function the report must rank first. */
static __attribute__((noinline, noclone)) void *attachee_leak_after_attach(size_t n)
{
	char *p = malloc(n);

	if (p)
		memset(p, 0x5a, n);
	return p;
}

static void *leaker(void *arg)
{
	while (!lib_mapped())
		sleep_ms(10);
	if (attached_path)
		touch(attached_path);
	for (size_t i = 0; i < leak_max; i++) {
		if (!attachee_leak_after_attach(leak_size))
			exit(2);
		sleep_ms(10);
	}
	return NULL;
}

/* Blocks of many sizes, each freed at once: the allocator's locks taken and released. */
static void churn_blocks(uint64_t seed)
{
	for (size_t i = 0; i < churn; i++) {
		size_t n = 16 + (size_t)((seed * 2654435761u + i * 40503u) % 70000);
		char *p = malloc(n);

		if (!p)
			exit(2);
		p[0] = p[n - 1] = 1;
		free(p);
	}
}

/* One burst: integers and doubles kept in registers. */
static void burst(uint64_t *acc, double *d, uint64_t from, uint64_t n)
{
	uint64_t a = *acc;
	double x = *d;

	for (uint64_t i = from; i < from + n; i++) {
		a = a * 6364136223846793005ULL + i;
		x = x * 0.999 + sqrt((double)(i & 1023));
	}
	*acc = a;
	*d = x;
}

int main(int argc, char **argv)
{
	const char *ready = NULL, *until = NULL;
	long lifetime = 60;
	uint64_t acc = 1, check_acc = 1, bursts = 0;
	double d = 0, check_d = 0;
	int64_t end;
	pthread_t t;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--ready"))
			ready = argv[i + 1];
		else if (!strcmp(argv[i], "--until"))
			until = argv[i + 1];
		else if (!strcmp(argv[i], "--wait-lib"))
			wait_lib = argv[i + 1];
		else if (!strcmp(argv[i], "--attached"))
			attached_path = argv[i + 1];
		else if (!strcmp(argv[i], "--leak-size"))
			leak_size = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--leak-max"))
			leak_max = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--churn"))
			churn = strtoul(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--lifetime"))
			lifetime = strtol(argv[i + 1], NULL, 0);
		else
			return 2;
	}
	if (wait_lib && pthread_create(&t, NULL, leaker, NULL))
		return 2;
	if (ready)
		touch(ready);
	end = now_ms() + lifetime * 1000;
	while (!until || access(until, F_OK)) {
		struct timespec ts = {0, 1000000};

		if (now_ms() > end)
			return 5;
		burst(&acc, &d, bursts * 20000, 20000);
		churn_blocks(bursts);
		bursts++;
		/* EINTR here: a system call the attach interrupted did not restart */
		if (nanosleep(&ts, NULL))
			return 4;
	}
	for (uint64_t b = 0; b < bursts; b++)
		burst(&check_acc, &check_d, b * 20000, 20000);
	if (acc != check_acc || d != check_d) {
		fprintf(stderr, "attachee: wrong result after %llu bursts\n",
			(unsigned long long)bursts);
		return 3;
	}
	return 0;
}
