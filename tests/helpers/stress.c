/*
 * stress: a soak for the allocation tracker (offheap record), bounded in work and time.
 *
 *   stress THREADS OPS FORKS DLOPENS SECONDS
 *   stress grow BYTES STEPS NAP_MS FILE
 *
 * THREADS workers (at most 64) each do OPS operations at full speed on a ring of 256
 * blocks: malloc, calloc, realloc, posix_memalign, aligned_alloc, anonymous mmap, free,
 * munmap, every block filled with a pattern that is checked before it is resized or
 * freed (calloc's zeroes too). Meanwhile one thread forks FORKS times (half fork + exec
 * of /bin/true, half a child that allocates and exits 42 without exec) and another
 * dlopens and dlcloses libz.so.1 and libm.so.6 DLOPENS times, calling into each.
 *
 * Every random choice comes from per-thread seeds, so the output is the same for the
 * same arguments, with the tracker or without. At the end the workers' rings are still
 * held; it prints, one "name value" a line:
 *   held_bytes   the bytes the program still holds from the stress_* allocating
 *                functions (malloc family and mmap, as requested), exactly
 *   held_blocks  how many blocks that is
 *   digest       a hash of every operation's outcome and the final rings
 *   forks_ok, execs_ok, dlopens_ok, errors
 * Exit status 0; 1 on a wrong pattern or a failed call; 3 when SECONDS ran out first
 * (then nothing is printed: the work was not all done).
 *
 * grow: allocates BYTES from stress_malloc STEPS times, NAP_MS apart, and after each
 * step writes the bytes held so far into FILE (20 digits, in place): the bytes held
 * when the process is killed are at least FILE's number, at most BYTES more.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RING	 256
#define MAX_WORK 64

enum kind { K_NONE, K_HEAP, K_MMAP };

struct block {
	unsigned char *p;
	size_t size;
	enum kind kind;
	unsigned char fill;
};

struct worker {
	pthread_t t;
	uint64_t rng;
	long ops;
	struct block ring[RING];
	uint64_t digest;
	long errors;
};

static struct worker workers[MAX_WORK];
static struct timespec deadline;
static volatile int timed_out;
static long forks_ok, execs_ok, dlopens_ok, side_errors;

static uint64_t next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void mix(uint64_t *d, uint64_t v)
{
	*d = (*d ^ v) * 0x100000001b3ULL;
}

static int past_deadline(void)
{
	struct timespec now;

	if (timed_out)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec > deadline.tv_sec ||
	    (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec))
		timed_out = 1;
	return timed_out;
}

/*
 * The allocating functions: frame 0 of every stack the program holds at the end. The
 * barrier after each call keeps it from becoming a tail call (frame 0 would be work).
 */
#define KEEP(p) __asm__ volatile("" : : "r"(p) : "memory")

__attribute__((noinline)) static void *stress_malloc(size_t n)
{
	void *p = malloc(n);

	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *stress_calloc(size_t n)
{
	void *p = calloc(n / 8 + 1, 8);

	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *stress_realloc(void *old, size_t n)
{
	void *p = realloc(old, n);

	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *stress_memalign(size_t align, size_t n)
{
	void *p = NULL;
	int r = posix_memalign(&p, align, n);

	KEEP(p);
	return r ? NULL : p;
}

__attribute__((noinline)) static void *stress_aligned(size_t align, size_t n)
{
	void *p = aligned_alloc(align, (n + align - 1) / align * align);

	KEEP(p);
	return p;
}

__attribute__((noinline)) static void *stress_mmap(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	KEEP(p);
	return p == MAP_FAILED ? NULL : p;
}

/* The size a call of this kind charges: what was asked for. */
static size_t asked(int op, size_t n)
{
	switch (op) {
	case 1: return (n / 8 + 1) * 8;
	case 3: return (n + 4095) / 4096 * 4096;
	case 4: return (n + 63) / 64 * 64;
	default: return n;
	}
}

static int check(const struct block *b, size_t upto)
{
	for (size_t i = 0; i < upto; i += 61)
		if (b->p[i] != b->fill)
			return -1;
	return b->p[upto - 1] == b->fill ? 0 : -1;
}

static void fill(struct block *b, unsigned char v)
{
	b->fill = v;
	memset(b->p, v, b->size);
}

static void release(struct block *b)
{
	if (b->kind == K_MMAP)
		munmap(b->p, b->size);
	else
		free(b->p);
	b->kind = K_NONE;
	b->p = NULL;
}

static void *work(void *arg)
{
	struct worker *w = arg;

	for (long i = 0; i < w->ops; i++) {
		uint64_t r = next(&w->rng);
		struct block *b = &w->ring[r % RING];
		size_t n = 1 + (size_t)(r >> 20) % (r & 0x100 ? 16384 : 512);
		int op = (int)((r >> 9) % 6);

		if ((i & 1023) == 0 && past_deadline())
			return NULL;
		if (b->kind != K_NONE) {
			if (check(b, b->size)) {
				w->errors++;
				return NULL;
			}
			mix(&w->digest, b->size);
			if (b->kind == K_HEAP && op == 2) {
				/* realloc keeps the smaller of both sizes */
				size_t keep = b->size < n ? b->size : n;
				unsigned char *p = stress_realloc(b->p, n);

				if (!p) {
					w->errors++;
					return NULL;
				}
				b->p = p;
				if (check(b, keep)) {
					w->errors++;
					return NULL;
				}
				b->size = n;
				fill(b, (unsigned char)(r >> 40));
			} else {
				release(b);
			}
			continue;
		}
		switch (op) {
		case 0: case 2: b->p = stress_malloc(n); break;
		case 1: b->p = stress_calloc(n); break;
		case 3: b->p = stress_mmap(asked(3, n)); break;
		case 4: b->p = stress_aligned(64, n); break;
		default: b->p = stress_memalign(256, n); break;
		}
		if (!b->p) {
			w->errors++;
			return NULL;
		}
		b->size = asked(op, n);
		b->kind = op == 3 ? K_MMAP : K_HEAP;
		if (op == 1 || op == 3) {
			b->fill = 0;
			if (check(b, b->size)) {
				w->errors++;
				return NULL;
			}
		}
		fill(b, (unsigned char)(r >> 40));
	}
	return NULL;
}

/* Half the children exec /bin/true, half allocate and exit 42 without exec. */
static void *forker(void *arg)
{
	long n = (long)(intptr_t)arg;

	for (long i = 0; i < n && !past_deadline(); i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			side_errors++;
			return NULL;
		}
		if (pid == 0) {
			if (i & 1) {
				execl("/bin/true", "true", (char *)NULL);
				_exit(127);
			}
			for (int k = 0; k < 200; k++) {
				char *p = malloc(64 + (size_t)k * 16);

				if (!p)
					_exit(1);
				memset(p, k, 64);
				if (k & 1)
					free(p);
			}
			_exit(42);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
			side_errors++;
			continue;
		}
		if (i & 1)
			execs_ok += WEXITSTATUS(status) == 0;
		else
			forks_ok += WEXITSTATUS(status) == 42;
	}
	return NULL;
}

static void *loader(void *arg)
{
	long n = (long)(intptr_t)arg;

	for (long i = 0; i < n && !past_deadline(); i++) {
		int z = !(i & 1);
		void *h = dlopen(z ? "libz.so.1" : "libm.so.6", RTLD_NOW | RTLD_LOCAL);
		int ok = 0;

		if (!h) {
			side_errors++;
			continue;
		}
		if (z) {
			const char *(*ver)(void) = (const char *(*)(void))dlsym(h, "zlibVersion");

			ok = ver && ver()[0] >= '1';
		} else {
			double (*c)(double) = (double (*)(double))dlsym(h, "cos");

			ok = c && c(0.0) == 1.0;
		}
		dlopens_ok += ok;
		side_errors += !ok;
		dlclose(h);
	}
	return NULL;
}

static int grow(char **argv)
{
	long bytes = atol(argv[2]), steps = atol(argv[3]), nap = atol(argv[4]);
	struct timespec ts = {nap / 1000, (nap % 1000) * 1000000L};
	FILE *f = fopen(argv[5], "w");
	long held = 0;

	if (!f || bytes < 1 || steps < 0 || nap < 0) {
		fprintf(stderr, "stress: bad arguments\n");
		return 2;
	}
	setvbuf(f, NULL, _IONBF, 0);
	for (long i = 0; i < steps; i++) {
		char *p = stress_malloc((size_t)bytes);

		if (!p)
			return 1;
		memset(p, 3, (size_t)bytes);
		held += bytes;
		if (fseek(f, 0, SEEK_SET) || fprintf(f, "%020ld\n", held) != 21)
			return 1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long threads, ops, forks, dlopens, secs, errors = 0, blocks = 0;
	uint64_t digest = 14695981039346656037ULL, held = 0;
	pthread_t ft, lt;

	if (argc == 6 && !strcmp(argv[1], "grow"))
		return grow(argv);
	if (argc != 6) {
		fprintf(stderr, "usage: stress THREADS OPS FORKS DLOPENS SECONDS\n"
				"       stress grow BYTES STEPS NAP_MS FILE\n");
		return 2;
	}
	threads = atol(argv[1]);
	ops = atol(argv[2]);
	forks = atol(argv[3]);
	dlopens = atol(argv[4]);
	secs = atol(argv[5]);
	if (threads < 1 || threads > MAX_WORK || ops < 0 || forks < 0 || dlopens < 0 || secs < 1) {
		fprintf(stderr, "stress: bad arguments\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += secs;

	for (long i = 0; i < threads; i++) {
		workers[i].rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
		workers[i].ops = ops;
		workers[i].digest = (uint64_t)i;
		if (pthread_create(&workers[i].t, NULL, work, &workers[i]))
			return 1;
	}
	if (pthread_create(&ft, NULL, forker, (void *)(intptr_t)forks) ||
	    pthread_create(&lt, NULL, loader, (void *)(intptr_t)dlopens))
		return 1;
	for (long i = 0; i < threads; i++)
		pthread_join(workers[i].t, NULL);
	pthread_join(ft, NULL);
	pthread_join(lt, NULL);
	if (timed_out) {
		fprintf(stderr, "stress: %ld s ran out before the work was done\n", secs);
		return 3;
	}
	for (long i = 0; i < threads; i++) {
		errors += workers[i].errors;
		mix(&digest, workers[i].digest);
		for (int k = 0; k < RING; k++) {
			const struct block *b = &workers[i].ring[k];

			if (b->kind == K_NONE)
				continue;
			held += b->size;
			blocks++;
			mix(&digest, b->size * 2 + (b->kind == K_MMAP));
			mix(&digest, b->fill);
		}
	}
	errors += side_errors;
	printf("held_bytes %llu\nheld_blocks %ld\ndigest %016llx\n", (unsigned long long)held,
	       blocks, (unsigned long long)digest);
	printf("forks_ok %ld\nexecs_ok %ld\ndlopens_ok %ld\nerrors %ld\n", forks_ok, execs_ok,
	       dlopens_ok, errors);
	return errors ? 1 : 0;
}
