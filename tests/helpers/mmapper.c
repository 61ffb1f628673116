/*
 * mmapper: a test target for 'offheap trace' — named threads that map memory on a schedule.
 *
 * Thread "pool-grower" maps --grow-chunk bytes --grow-rate times a second in
 * grow_pool() and never unmaps them; thread "churner" maps --churn-chunk bytes
 * in churn_map() and unmaps them at once in churn_unmap(). The main thread
 * writes a heartbeat counter to --heartbeat FILE every 20 ms (so a test can see
 * that the process still runs after a tracer detached) and the grower's chunk
 * count to --count FILE after every chunk, and --log FILE gets a line
 * "UNIXTIME ADDRESS" for each grower chunk. --spawn-rate starts that many
 * short-lived threads a second (each maps and unmaps 64 KiB, then ends);
 * --usr1 FILE counts the SIGUSR1s received; --remap starts thread "remapper"
 * (partial munmap, mremap move/shrink, brk up and down: see remapper()). The process ends after --lifetime
 * seconds whatever happens, so a test can never leave it behind for long.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

static size_t grow_chunk = 1 << 20;
static size_t churn_chunk = 4 << 20;
static int grow_rate = 20;
static int churn_rate = 20;
static atomic_ulong grown_chunks;
static const char *count_file;
static FILE *log_file;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Writes "TEXT\n" to path through a temporary file and rename, so readers never see half. */
static void write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%s\n", text);
	fclose(f);
	rename(tmp, path);
}

static size_t parse_size_arg(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'k': case 'K': v <<= 10; break;
	case 'm': case 'M': v <<= 20; break;
	case 'g': case 'G': v <<= 30; break;
	case '\0': break;
	default:
		fprintf(stderr, "mmapper: bad size '%s'\n", s);
		exit(2);
	}
	return (size_t)v;
}

__attribute__((noinline)) static void *grow_pool(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	p[0] = 1;
	return p;
}

__attribute__((noinline)) static void *churn_map(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	p[len - 1] = 2;
	return p;
}

static atomic_ulong churned;

__attribute__((noinline)) static void churn_unmap(void *p, size_t len)
{
	/* Not a tail call, so this frame is on the stack at the munmap. */
	if (munmap(p, len) == 0)
		atomic_fetch_add(&churned, 1);
}

static void *grower(void *arg)
{
	char buf[64];

	pthread_setname_np(pthread_self(), "pool-grower");
	for (;;) {
		void *p = grow_pool(grow_chunk);

		if (p) {
			unsigned long n = atomic_fetch_add(&grown_chunks, 1) + 1;

			if (log_file) {
				struct timespec ts;

				clock_gettime(CLOCK_REALTIME, &ts);
				fprintf(log_file, "%lld.%06ld %p\n", (long long)ts.tv_sec,
					ts.tv_nsec / 1000, p);
				fflush(log_file);
			}
			if (count_file) {
				snprintf(buf, sizeof(buf), "%lu", n);
				write_file(count_file, buf);
			}
		}
		sleep_ms(1000 / grow_rate);
	}
	return arg;
}

static void *churner(void *arg)
{
	pthread_setname_np(pthread_self(), "churner");
	for (;;) {
		void *p = churn_map(churn_chunk);

		if (p)
			churn_unmap(p, churn_chunk);
		sleep_ms(1000 / churn_rate);
	}
	return arg;
}

/* A thread that maps, unmaps and ends at once: it may exit while a tracer unwinds it. */
static void *shortlived(void *arg)
{
	void *p = churn_map(64 << 10);

	if (p)
		churn_unmap(p, 64 << 10);
	return arg;
}

static int spawn_rate;

static void *spawner(void *arg)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_setname_np(pthread_self(), "spawner");
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		pthread_create(&t, &attr, shortlived, NULL);
		sleep_ms(1000 / spawn_rate);
	}
	return arg;
}

/*
 * Thread "remapper", once: cuts, moves, shrinks and splits mappings so that
 * exactly 6 MiB stay mapped (see the steps), moves the break up by 1 MiB and
 * down by 512 KiB, madvises 1 MiB away, and leaves 1 MiB of System V shared
 * memory attached (and 512 KiB attached and detached). 7.5 MiB in all. It
 * never calls malloc (no arena of its own).
 */
static void *remapper(void *arg)
{
	const size_t M = 1 << 20;
	char *a, *c, *b;

	pthread_setname_np(pthread_self(), "remapper");
	a = mmap(NULL, 8 * M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	c = mmap(NULL, 6 * M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED || c == MAP_FAILED)
		return NULL;
	munmap(a + 2 * M, 2 * M);			/* [a, a+2M) [a+4M, a+8M): 6 MiB */
	b = mremap(a + 4 * M, 4 * M, 6 * M, MREMAP_MAYMOVE | MREMAP_FIXED, c);
	if (b == MAP_FAILED)				/* moved onto c: 2 + 6 = 8 MiB */
		return NULL;
	mremap(a, 2 * M, 1 * M, 0);			/* shrunk: 1 + 6 = 7 MiB */
	munmap(b + M, M);				/* split: 1 + 1 + 4 = 6 MiB */
	sbrk((intptr_t)M);
	sbrk(-(intptr_t)(M / 2));
	madvise(a, M, MADV_DONTNEED);			/* 1 MiB given back, still mapped */
	/* System V shared memory: 1 MiB stays attached, 512 KiB comes and goes. */
	int id1 = shmget(IPC_PRIVATE, M, IPC_CREAT | 0600);
	int id2 = shmget(IPC_PRIVATE, M / 2, IPC_CREAT | 0600);

	if (id1 >= 0) {
		shmat(id1, NULL, 0);
		shmctl(id1, IPC_RMID, NULL);
	}
	if (id2 >= 0) {
		void *s2 = shmat(id2, NULL, 0);

		shmctl(id2, IPC_RMID, NULL);
		if (s2 != (void *)-1)
			shmdt(s2);
	}
	for (;;)
		sleep_ms(1000);
	return arg;
}

static volatile sig_atomic_t usr1_count;

static void on_usr1(int sig)
{
	(void)sig;
	usr1_count++;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: mmapper [--grow-chunk SIZE] [--grow-rate N/s] [--churn-chunk SIZE]\n"
		"               [--churn-rate N/s] [--no-churn] [--lifetime SEC] [--ready FILE]\n"
		"               [--count FILE] [--heartbeat FILE] [--log FILE]\n"
		"               [--spawn-rate N/s] [--usr1 FILE] [--remap]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "grow-chunk", required_argument, NULL, 'g' },
		{ "grow-rate", required_argument, NULL, 'G' },
		{ "churn-chunk", required_argument, NULL, 'c' },
		{ "churn-rate", required_argument, NULL, 'C' },
		{ "no-churn", no_argument, NULL, 'n' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "ready", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'k' },
		{ "heartbeat", required_argument, NULL, 'b' },
		{ "log", required_argument, NULL, 'L' },
		{ "spawn-rate", required_argument, NULL, 's' },
		{ "usr1", required_argument, NULL, 'u' },
		{ "remap", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ready = NULL, *heartbeat = NULL, *usr1_file = NULL;
	sig_atomic_t usr1_seen = 0;
	int lifetime = 60, churn = 1, remap = 0, c;
	pthread_t t1, t2, t3, t4;
	struct timespec start, now;
	unsigned long beat = 0;
	char buf[64];

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'g': grow_chunk = parse_size_arg(optarg); break;
		case 'G': grow_rate = atoi(optarg); break;
		case 'c': churn_chunk = parse_size_arg(optarg); break;
		case 'C': churn_rate = atoi(optarg); break;
		case 'n': churn = 0; break;
		case 'l': lifetime = atoi(optarg); break;
		case 'r': ready = optarg; break;
		case 'k': count_file = optarg; break;
		case 'b': heartbeat = optarg; break;
		case 's': spawn_rate = atoi(optarg); break;
		case 'u': usr1_file = optarg; break;
		case 'R': remap = 1; break;
		case 'L':
			log_file = fopen(optarg, "a");
			if (!log_file)
				usage();
			break;
		default: usage();
		}
	}
	if (grow_rate < 1 || grow_rate > 1000 || churn_rate < 1 || churn_rate > 1000 ||
	    lifetime < 1 || !grow_chunk || !churn_chunk)
		usage();
	/* A hard stop even if the main loop below were stopped in a debugger. */
	alarm((unsigned)lifetime + 5);
	if (pthread_create(&t1, NULL, grower, NULL))
		return 1;
	if (churn && pthread_create(&t2, NULL, churner, NULL))
		return 1;
	if (spawn_rate > 0 && pthread_create(&t3, NULL, spawner, NULL))
		return 1;
	if (remap && pthread_create(&t4, NULL, remapper, NULL))
		return 1;
	signal(SIGUSR1, on_usr1);
	if (ready) {
		snprintf(buf, sizeof(buf), "%d", (int)getpid());
		write_file(ready, buf);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (heartbeat) {
			snprintf(buf, sizeof(buf), "%lu", ++beat);
			write_file(heartbeat, buf);
		}
		if (usr1_file && usr1_count != usr1_seen) {
			usr1_seen = usr1_count;
			snprintf(buf, sizeof(buf), "%d", (int)usr1_seen);
			write_file(usr1_file, buf);
		}
		sleep_ms(20);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 >=
		    lifetime * 1000L)
			break;
	}
	return 0;
}
