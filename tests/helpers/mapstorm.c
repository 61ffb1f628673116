/*
 * mapstorm: a target whose memory map never holds still — for snapshots of a changing process.
 *
 * --threads N (default 16) threads each keep SLOTS mappings of 1 to 8 pages
 * and, without pause, unmap one, map one, or flip one page of one between
 * read-write and read-only with mprotect. A flip splits a mapping into
 * three VMAs and the flip back merges them again; new mappings land next to
 * old ones and merge with them. The kernel drops the mmap lock between the
 * pages of a /proc/PID/smaps read, so a reader sees the map as it is at
 * each page: a mapping listed, then merged with its neighbour and listed
 * again under the same start, or split and listed in part again.
 *
 * --ready FILE is written (our PID) once every thread runs. The process
 * ends by itself after --seconds S (default 120): the storm is bounded even
 * if nobody kills it. No output: what is mapped changes all the time.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64
#define SLOTS	    48
#define MAX_PAGES   8

static long page;
static int nthreads = 16;
static long seconds = 120;
static volatile int running_threads;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

struct slot {
	char *addr;
	size_t pages;
	int flipped; /* the page flipped read-only, or -1 */
};

static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *storm(void *arg)
{
	uint64_t rnd = 0x9e3779b97f4a7c15ULL * ((uintptr_t)arg + 1);
	struct slot slots[SLOTS];

	struct timespec pause = {0, 20 * 1000};
	unsigned ops = 0;

	memset(slots, 0, sizeof(slots));
	pthread_mutex_lock(&lock);
	running_threads++;
	pthread_mutex_unlock(&lock);
	for (;;) {
		struct slot *s = &slots[next_rand(&rnd) % SLOTS];
		uint64_t op = next_rand(&rnd) % 4;

		/* A short rest now and then leaves the 2 CPUs of a test machine to the reader. */
		if (!(++ops % 16))
			nanosleep(&pause, NULL);

		if (!s->addr) {
			s->pages = 1 + next_rand(&rnd) % MAX_PAGES;
			s->addr = mmap(NULL, s->pages * page, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (s->addr == MAP_FAILED) {
				s->addr = NULL;
				continue;
			}
			s->addr[0] = 1;
			s->flipped = -1;
		} else if (op == 0) {
			munmap(s->addr, s->pages * page);
			s->addr = NULL;
		} else if (s->flipped >= 0) {
			mprotect(s->addr + s->flipped * page, page, PROT_READ | PROT_WRITE);
			s->flipped = -1;
		} else {
			s->flipped = (int)(next_rand(&rnd) % s->pages);
			mprotect(s->addr + s->flipped * page, page, PROT_READ);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *ready = NULL;
	pthread_t t;
	struct timespec ts = {0, 5 * 1000000L};
	char line[32];
	int fd, n;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			nthreads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atol(argv[++i]);
		else if (!strcmp(argv[i], "--ready") && i + 1 < argc)
			ready = argv[++i];
		else {
			fprintf(stderr,
				"usage: mapstorm [--threads N] [--seconds S] [--ready FILE]\n");
			return 2;
		}
	}
	if (nthreads < 1 || nthreads > MAX_THREADS || seconds < 1) {
		fprintf(stderr, "mapstorm: bad --threads or --seconds\n");
		return 2;
	}
	page = sysconf(_SC_PAGESIZE);
	for (long i = 0; i < nthreads; i++)
		if (pthread_create(&t, NULL, storm, (void *)i)) {
			fprintf(stderr, "mapstorm: pthread_create: %s\n", strerror(errno));
			return 1;
		}
	for (int i = 0; running_threads < nthreads && i < 2000; i++)
		nanosleep(&ts, NULL);
	if (ready) {
		fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
		if (fd < 0 || write(fd, line, (size_t)n) != n || close(fd)) {
			fprintf(stderr, "mapstorm: cannot write '%s'\n", ready);
			return 1;
		}
	}
	sleep((unsigned)seconds);
	return 0;
}
