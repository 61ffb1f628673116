/*
 * leaker: a test program that grows its memory on demand, the way leaking
 * services do, and says how much it has grown.
 *
 *   --mmap-thread NAME   a thread named NAME mmaps --chunk bytes (default 1 MiB)
 *                        --rate times a second, touches them, never unmaps
 *   --churn-thread NAME  a thread that maps and unmaps 4 MiB chunks
 *   --brk SIZE           grow the brk heap by SIZE a second (sbrk, touched)
 *   --malloc-threads N   N threads (named "worker-I") each malloc and touch
 *                        --malloc-size bytes once, creating glibc arenas
 *   --idle-threads N     N threads named "idle-I" that only sleep
 *   --maps N             create N separate small mappings at start
 *   --max SIZE           stop growing after SIZE per grower (default 1 GiB)
 *   --status FILE        kept up to date: "mmap_bytes N\nbrk_bytes N\n…"
 *   --ready FILE         written once everything is set up
 *   --lifetime SECONDS   exit after this long (default 60): tests never leak processes
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static size_t chunk = 1 << 20, malloc_size = 8 << 20, max_bytes = 1UL << 30;
static double rate = 10;
static size_t brk_rate;
static const char *status_path;
static atomic_size_t mmap_bytes, brk_bytes, malloc_bytes, churn_cycles;
static pthread_mutex_t status_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'k': case 'K': v *= 1024; break;
	case 'm': case 'M': v *= 1 << 20; break;
	case 'g': case 'G': v *= 1 << 30; break;
	case '\0': break;
	default: fprintf(stderr, "leaker: bad size '%s'\n", s); exit(2);
	}
	return (size_t)v;
}

static void write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	rename(tmp, path);
}

static void write_status(void)
{
	char buf[512];

	if (!status_path)
		return;
	pthread_mutex_lock(&status_lock);
	snprintf(buf, sizeof(buf),
		 "mmap_bytes %zu\nbrk_bytes %zu\nmalloc_bytes %zu\nchurn_cycles %zu\n",
		 atomic_load(&mmap_bytes), atomic_load(&brk_bytes), atomic_load(&malloc_bytes),
		 atomic_load(&churn_cycles));
	write_file(status_path, buf);
	pthread_mutex_unlock(&status_lock);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void touch(char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 4096)
		p[i] = 1;
}

/* noinline: the stack of this function is what tracers must find. */
__attribute__((noinline)) static void *grow_pool(size_t n)
{
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	touch(p, n);
	return p;
}

static void *mmap_thread(void *name)
{
	pthread_setname_np(pthread_self(), name);
	while (atomic_load(&mmap_bytes) + chunk <= max_bytes) {
		if (grow_pool(chunk)) {
			atomic_fetch_add(&mmap_bytes, chunk);
			write_status();
		}
		sleep_s(1.0 / rate);
	}
	for (;;)
		pause();
	return NULL;
}

__attribute__((noinline)) static void churn_once(size_t n)
{
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	touch(p, n);
	munmap(p, n);
}

static void *churn_thread(void *name)
{
	pthread_setname_np(pthread_self(), name);
	for (;;) {
		churn_once(4 << 20);
		atomic_fetch_add(&churn_cycles, 1);
		sleep_s(1.0 / rate);
	}
	return NULL;
}

static void *malloc_thread(void *arg)
{
	char name[16];
	char *p;

	snprintf(name, sizeof(name), "worker-%d", (int)(long)arg);
	pthread_setname_np(pthread_self(), name);
	p = malloc(malloc_size);
	if (p) {
		touch(p, malloc_size);
		atomic_fetch_add(&malloc_bytes, malloc_size);
		write_status();
	}
	for (;;)
		pause();
	return NULL;
}

static void *idle_thread(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "idle-%d", (int)(long)arg);
	pthread_setname_np(pthread_self(), name);
	for (;;)
		pause();
	return NULL;
}

static void make_maps(long n)
{
	/* Alternate protections so the kernel cannot merge neighbours. */
	char *base = mmap(NULL, (size_t)n * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (base == MAP_FAILED) {
		perror("leaker: mmap");
		exit(1);
	}
	for (long i = 0; i < n; i += 2)
		if (mprotect(base + i * 4096, 4096, PROT_READ)) {
			perror("leaker: mprotect");
			exit(1);
		}
}

static void spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;

	if (pthread_create(&t, NULL, fn, arg)) {
		fprintf(stderr, "leaker: cannot create a thread\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	const char *ready = NULL, *mmap_name = NULL, *churn_name = NULL;
	long malloc_threads = 0, idle_threads = 0, nmaps = 0;
	double lifetime = 60;
	double start = now();

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--help")) {
			puts("usage: leaker [--mmap-thread NAME] [--churn-thread NAME] [--chunk SIZE]\n"
			     "              [--rate N] [--brk SIZE] [--malloc-threads N] [--malloc-size SIZE]\n"
			     "              [--idle-threads N] [--maps N] [--max SIZE] [--status FILE]\n"
			     "              [--ready FILE] [--lifetime SECONDS]");
			return 0;
		}
		if (!v) {
			fprintf(stderr, "leaker: '%s' needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--mmap-thread"))
			mmap_name = v;
		else if (!strcmp(a, "--churn-thread"))
			churn_name = v;
		else if (!strcmp(a, "--chunk"))
			chunk = parse_size(v);
		else if (!strcmp(a, "--rate"))
			rate = atof(v);
		else if (!strcmp(a, "--brk"))
			brk_rate = parse_size(v);
		else if (!strcmp(a, "--malloc-threads"))
			malloc_threads = atol(v);
		else if (!strcmp(a, "--malloc-size"))
			malloc_size = parse_size(v);
		else if (!strcmp(a, "--idle-threads"))
			idle_threads = atol(v);
		else if (!strcmp(a, "--maps"))
			nmaps = atol(v);
		else if (!strcmp(a, "--max"))
			max_bytes = parse_size(v);
		else if (!strcmp(a, "--status"))
			status_path = v;
		else if (!strcmp(a, "--ready"))
			ready = v;
		else if (!strcmp(a, "--lifetime"))
			lifetime = atof(v);
		else {
			fprintf(stderr, "leaker: unknown option '%s'\n", a);
			return 2;
		}
	}
	if (rate <= 0 || chunk == 0) {
		fprintf(stderr, "leaker: --rate and --chunk must be positive\n");
		return 2;
	}
	if (nmaps)
		make_maps(nmaps);
	for (long i = 0; i < idle_threads; i++)
		spawn(idle_thread, (void *)i);
	for (long i = 0; i < malloc_threads; i++)
		spawn(malloc_thread, (void *)i);
	/* Let the malloc threads finish their one allocation before saying ready. */
	while (malloc_threads && atomic_load(&malloc_bytes) < (size_t)malloc_threads * malloc_size &&
	       now() - start < 10)
		sleep_s(0.01);
	if (mmap_name)
		spawn(mmap_thread, (void *)mmap_name);
	if (churn_name)
		spawn(churn_thread, (void *)churn_name);
	write_status();
	if (ready)
		write_file(ready, "ready\n");
	while (now() - start < lifetime) {
		if (brk_rate && atomic_load(&brk_bytes) + brk_rate / 10 <= max_bytes) {
			char *p = sbrk((intptr_t)(brk_rate / 10));

			if (p != (void *)-1) {
				touch(p, brk_rate / 10);
				atomic_fetch_add(&brk_bytes, brk_rate / 10);
				write_status();
			}
		}
		sleep_s(lifetime < 0.1 ? lifetime / 2 : 0.1);
	}
	return 0;
}
