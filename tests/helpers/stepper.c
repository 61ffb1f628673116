/*
 * stepper: a test target whose memory grows once, in one step, and then
 * holds: what a cache that fills or a pool sized at start looks like, and
 * what a trend must not call a leak.
 *
 *   stepper MIB DELAY_MS READY_FILE [LIFETIME]
 *
 * Writes READY_FILE ("waiting\n"), sleeps DELAY_MS, maps MIB MiB of
 * anonymous memory populated in one mmap() call (MAP_POPULATE: the RSS
 * jumps between two samples, not across several), rewrites READY_FILE
 * ("stepped\n"), then sleeps until LIFETIME seconds (default 60) have
 * passed since it started, so a test never leaves it behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int say(const char *path, const char *what)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(what, f);
	if (fclose(f))
		return -1;
	return rename(tmp, path);
}

int main(int argc, char **argv)
{
	long mib, delay, lifetime = 60;
	time_t start = time(NULL);
	char *p;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: stepper MIB DELAY_MS READY_FILE [LIFETIME]\n");
		return 2;
	}
	mib = atol(argv[1]);
	delay = atol(argv[2]);
	if (argc > 4)
		lifetime = atol(argv[4]);
	if (mib <= 0 || delay < 0 || lifetime <= 0) {
		fprintf(stderr, "stepper: MIB and LIFETIME must be positive, DELAY_MS not negative\n");
		return 2;
	}
	/* A hard stop even if the sleeps below were interrupted for good. */
	alarm((unsigned)lifetime + 5);
	if (say(argv[3], "waiting\n"))
		return 1;
	sleep_ms(delay);
	p = mmap(NULL, (size_t)mib << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED) {
		perror("stepper: mmap");
		return 1;
	}
	if (say(argv[3], "stepped\n"))
		return 1;
	while (time(NULL) - start < lifetime)
		sleep_ms(100);
	return p[0];
}
