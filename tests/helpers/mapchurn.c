/*
 * mapchurn: a test target for 'offheap trace' — threads that map and unmap at the same time.
 *
 * --threads N worker threads (named churn-0, churn-1, …) start together and
 * each makes --rounds calls: in a slot table of its own it unmaps a slot that
 * holds a mapping or maps one of a few sizes (16 to 256 KiB) into an empty
 * one. All threads ask for the same sizes, so an address one thread has just
 * unmapped is soon handed by the kernel to another thread's mmap: the order
 * of the two calls matters to anyone who keeps account. At the end worker i
 * keeps i + 1 mappings (its last ones) and unmaps the rest, then the main
 * thread writes --status FILE, one line per worker "NAME TID BYTES" (bytes
 * still mapped by that thread's calls) and a last line "total BYTES".
 *
 * With --ready FILE and --go FILE the main thread writes FILE (its PID)
 * and starts the workers only once the test has created the --go file, so a
 * tracer can attach first.
 *
 * The workers make no other memory call (no malloc, no stdio: a thread's
 * first malloc maps an arena of its own), so what they hold is exactly what
 * their traced mmap and munmap calls left.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MAX_THREADS 16
#define SLOTS 8

struct worker {
	pthread_t thread;
	int index;
	pid_t tid;
	uint64_t state;			/* xorshift state, seeded by index */
	void *addr[SLOTS];		/* a mapping of ours, or NULL */
	size_t len[SLOTS];
	uint64_t held;			/* bytes mapped at the end */
	int failed;			/* errno of a failed call, 0 = none */
};

static struct worker workers[MAX_THREADS];
static int nthreads = 4;
static long rounds = 400;
static pthread_barrier_t start;

static uint64_t next_rand(struct worker *w)
{
	w->state ^= w->state << 13;
	w->state ^= w->state >> 7;
	w->state ^= w->state << 17;
	return w->state;
}

static void unmap_slot(struct worker *w, int s)
{
	if (munmap(w->addr[s], w->len[s]) != 0 && !w->failed)
		w->failed = errno;
	w->addr[s] = NULL;
}

static void map_slot(struct worker *w, int s)
{
	static const size_t sizes[] = { 16 << 10, 64 << 10, 128 << 10, 256 << 10 };
	size_t len = sizes[next_rand(w) % 4];
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		if (!w->failed)
			w->failed = errno;
		return;
	}
	*(volatile char *)p = 1;
	w->addr[s] = p;
	w->len[s] = len;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	char name[16];

	snprintf(name, sizeof(name), "churn-%d", w->index);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	w->tid = gettid();
	pthread_barrier_wait(&start);
	for (long r = 0; r < rounds; r++) {
		int s = (int)(next_rand(w) % SLOTS);

		if (w->addr[s])
			unmap_slot(w, s);
		else
			map_slot(w, s);
	}
	/* Keep index + 1 mappings: fill the slots, then unmap from the top down. */
	for (int s = 0; s < SLOTS; s++)
		if (!w->addr[s])
			map_slot(w, s);
	for (int s = SLOTS - 1; s > w->index && s >= 0; s--)
		if (w->addr[s])
			unmap_slot(w, s);
	for (int s = 0; s < SLOTS; s++)
		if (w->addr[s])
			w->held += w->len[s];
	return NULL;
}

static int write_status(const char *path)
{
	char tmp[4096], line[128];
	uint64_t total = 0;
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	for (int i = 0; i < nthreads; i++) {
		n = snprintf(line, sizeof(line), "churn-%d %d %llu\n", i, (int)workers[i].tid,
			     (unsigned long long)workers[i].held);
		total += workers[i].held;
		if (write(fd, line, (size_t)n) != n)
			goto fail;
	}
	n = snprintf(line, sizeof(line), "total %llu\n", (unsigned long long)total);
	if (write(fd, line, (size_t)n) != n)
		goto fail;
	if (close(fd) != 0)
		return -1;
	return rename(tmp, path);
fail:
	close(fd);
	return -1;
}

/* Writes our PID to path, then waits (at most a minute) until go exists. */
static int ready_and_wait(const char *path, const char *go)
{
	struct timespec ts = { 0, 10 * 1000000L };
	char line[32];
	int fd, n;

	if (path) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			return -1;
		n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
		if (write(fd, line, (size_t)n) != n || close(fd) != 0)
			return -1;
	}
	for (int i = 0; go && i < 6000; i++) {
		if (access(go, F_OK) == 0)
			return 0;
		nanosleep(&ts, NULL);
	}
	return go ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *status = NULL, *ready = NULL, *go = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			nthreads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atol(argv[++i]);
		else if (!strcmp(argv[i], "--status") && i + 1 < argc)
			status = argv[++i];
		else if (!strcmp(argv[i], "--ready") && i + 1 < argc)
			ready = argv[++i];
		else if (!strcmp(argv[i], "--go") && i + 1 < argc)
			go = argv[++i];
		else {
			fprintf(stderr, "usage: mapchurn [--threads N] [--rounds N] [--ready FILE "
					"--go FILE] --status FILE\n");
			return 2;
		}
	}
	if (!status || nthreads < 1 || nthreads > MAX_THREADS || rounds < 0) {
		fprintf(stderr, "mapchurn: --status FILE, --threads 1 to %d\n", MAX_THREADS);
		return 2;
	}
	if (ready_and_wait(ready, go) != 0) {
		fprintf(stderr, "mapchurn: no go file '%s' (or cannot write '%s')\n",
			go ? go : "", ready ? ready : "");
		return 1;
	}
	pthread_barrier_init(&start, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++) {
		workers[i].index = i;
		workers[i].state = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
		if (pthread_create(&workers[i].thread, NULL, work, &workers[i]) != 0) {
			fprintf(stderr, "mapchurn: cannot create a thread\n");
			return 1;
		}
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(workers[i].thread, NULL);
	for (int i = 0; i < nthreads; i++) {
		if (workers[i].failed) {
			fprintf(stderr, "mapchurn: churn-%d: %s\n", i, strerror(workers[i].failed));
			return 1;
		}
	}
	if (write_status(status) != 0) {
		fprintf(stderr, "mapchurn: cannot write '%s': %s\n", status, strerror(errno));
		return 1;
	}
	return 0;
}
