/*
 * trackee: allocation patterns for the tracker's tests (offheap record).
 *
 *   trackee grow STEPS          leaks 4 KiB per step (grow_step), 20 ms apart
 *   trackee steady STEPS        keeps 64 blocks of 4 KiB, replacing one per step
 *   trackee storm THREADS N     each thread mallocs/frees N blocks and keeps every
 *                               16th (storm_keep); prints the bytes still held
 *   trackee stacks DEPTH        keeps a 64-byte block from each of 2^DEPTH distinct
 *                               call stacks (0..16; stacks_leaf under left/right
 *                               in every combination); prints the bytes kept
 *   trackee realloc             realloc(NULL, n), realloc(p, m), realloc(p, 0);
 *                               holds 3000 bytes from realloc_keep; prints 3000
 *   trackee fork                the child allocates and exits 7; the parent
 *                               holds 5000 bytes (fork_keep) and exits with the
 *                               child's code
 *   trackee signal N            N malloc/free in main while a 1 ms timer's
 *                               handler mallocs and frees too; prints "ok"
 *   trackee threadexit N        N threads allocate from a thread-exit destructor;
 *                               prints "ok"
 *   trackee dlopen N            dlopens and dlcloses libz N times; prints "ok"
 *   trackee exit CODE           exits with CODE
 *   trackee sleep SECONDS       sleeps (at most SECONDS), for signal tests;
 *                               a SIGTERM handler exits 42; prints
 *                               "sleeping" once the handler is set
 *
 * Every mode ends by itself; nothing here runs longer than its arguments say.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

__attribute__((noinline)) static void *grow_step(size_t n)
{
	void *p = malloc(n);

	if (p)
		memset(p, 1, n);
	return p;
}

__attribute__((noinline)) static void *steady_block(size_t n)
{
	void *p = malloc(n);

	if (p)
		memset(p, 2, n);
	return p;
}

static long stacks_kept;

__attribute__((noinline)) static void stacks_leaf(void)
{
	if (malloc(64))
		stacks_kept += 64;
}

__attribute__((noinline)) static void stacks_left(int d);
__attribute__((noinline)) static void stacks_right(int d);

/* the empty asm after the calls keeps them from being tail calls: every path a stack */
__attribute__((noinline)) static void stacks_left(int d)
{
	if (!d) {
		stacks_leaf();
		return;
	}
	stacks_left(d - 1);
	stacks_right(d - 1);
	__asm__ volatile("");
}

__attribute__((noinline)) static void stacks_right(int d)
{
	if (!d) {
		stacks_leaf();
		return;
	}
	stacks_left(d - 1);
	stacks_right(d - 1);
	__asm__ volatile("");
}

__attribute__((noinline)) static void *storm_keep(size_t n)
{
	void *p = malloc(n);

	if (p)
		memset(p, 3, 1);
	return p;
}

static volatile int calls;

/* Not tail calls: these frames must stay on the stack. */
__attribute__((noinline)) static void *realloc_keep(void *p, size_t n)
{
	void *q = realloc(p, n);

	calls++;
	return q;
}

__attribute__((noinline)) static void *fork_keep(size_t n)
{
	void *p = malloc(n);

	calls++;
	return p;
}

static int threads_n;
static long storm_held[64];

static void *storm_thread(void *arg)
{
	long id = (long)(intptr_t)arg, held = 0;

	for (int i = 0; i < threads_n; i++) {
		size_t n = 16 + (size_t)((i * 7 + id) % 300);

		if (i % 16 == 0) {
			if (storm_keep(n))
				held += (long)n;
		} else {
			void *p = malloc(n);

			p = realloc(p, n * 2);
			free(p);
		}
	}
	storm_held[id] = held;
	return NULL;
}

static volatile sig_atomic_t handled;

/* Not async-signal-safe by POSIX; programs do it anyway, the tracker must cope. */
static void on_alarm(int sig)
{
	void *volatile p = malloc(64);

	free(p);
	handled++;
}

static pthread_key_t exit_key;

static void at_thread_exit(void *v)
{
	void *volatile p = malloc(100);

	free(p);
	free(v);
}

static void *exiting_thread(void *arg)
{
	pthread_setspecific(exit_key, malloc(32));
	return arg;
}

static void on_term(int sig)
{
	_exit(42);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int n = argc > 2 ? atoi(argv[2]) : 0;

	if (!strcmp(mode, "grow")) {
		for (int i = 0; i < n; i++) {
			if (!grow_step(4096))
				return 1;
			nap_ms(20);
		}
	} else if (!strcmp(mode, "steady")) {
		void *ring[64] = { 0 };

		/* one call site: fills the ring, then replaces one block per step */
		for (int i = 0; i < 64 + n; i++) {
			free(ring[i % 64]);
			ring[i % 64] = steady_block(4096);
			if (i >= 64)
				nap_ms(20);
		}
	} else if (!strcmp(mode, "stacks")) {
		stacks_left(n >= 0 && n <= 16 ? (int)n : 8);
		printf("%ld\n", stacks_kept);
	} else if (!strcmp(mode, "storm")) {
		int threads = n > 0 && n <= 64 ? n : 16;
		pthread_t t[64];
		long total = 0;

		threads_n = argc > 3 ? atoi(argv[3]) : 10000;
		for (long i = 0; i < threads; i++)
			if (pthread_create(&t[i], NULL, storm_thread, (void *)(intptr_t)i))
				return 1;
		for (int i = 0; i < threads; i++) {
			pthread_join(t[i], NULL);
			total += storm_held[i];
		}
		printf("%ld\n", total);
	} else if (!strcmp(mode, "realloc")) {
		void *p = realloc_keep(NULL, 1000);
		void *q = realloc(NULL, 500);

		p = realloc_keep(p, 3000);
		q = realloc(q, 0);	/* frees q (glibc returns NULL) */
		free(q);
		if (!p)
			return 1;
		printf("3000\n");
	} else if (!strcmp(mode, "fork")) {
		int status;
		pid_t pid;

		if (!fork_keep(5000))
			return 1;
		pid = fork();
		if (pid == 0) {
			for (int i = 0; i < 1000; i++)
				free(malloc(100));
			void *volatile leak = malloc(123456);

			(void)leak;
			_exit(7);
		}
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			return 1;
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	} else if (!strcmp(mode, "signal")) {
		struct itimerval it = { { 0, 1000 }, { 0, 1000 } };

		signal(SIGALRM, on_alarm);
		setitimer(ITIMER_REAL, &it, NULL);
		for (int i = 0; i < n; i++) {
			void *volatile p = malloc(16 + (size_t)(i % 500));

			free(p);
			if (i % 1000 == 0)
				nap_ms(1);
		}
		memset(&it, 0, sizeof(it));
		setitimer(ITIMER_REAL, &it, NULL);
		printf("ok\n");
	} else if (!strcmp(mode, "threadexit")) {
		pthread_key_create(&exit_key, at_thread_exit);
		for (int i = 0; i < n; i++) {
			pthread_t t;

			if (pthread_create(&t, NULL, exiting_thread, NULL) || pthread_join(t, NULL))
				return 1;
		}
		printf("ok\n");
	} else if (!strcmp(mode, "dlopen")) {
		for (int i = 0; i < n; i++) {
			void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
			const char *(*ver)(void);

			if (!h)
				return 1;
			ver = (const char *(*)(void))dlsym(h, "zlibVersion");
			if (!ver || !ver())
				return 1;
			dlclose(h);
		}
		printf("ok\n");
	} else if (!strcmp(mode, "exit")) {
		return n;
	} else if (!strcmp(mode, "sleep")) {
		signal(SIGTERM, on_term);
		/* a test sends its signal only after this line: the handler is in place */
		printf("sleeping\n");
		fflush(stdout);
		for (int i = 0; i < n * 20; i++)
			nap_ms(50);
	} else {
		fprintf(stderr, "usage: trackee grow|steady|stacks|storm|realloc|fork|signal|threadexit|"
				"dlopen|exit|sleep N\n");
		return 2;
	}
	return 0;
}
