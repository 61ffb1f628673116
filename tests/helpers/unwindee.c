/*
 * unwindee: allocations from the places a stack unwinder finds hard, for the
 * tracker's unwinder tests (t3152).
 *
 *   unwindee signal N   another thread interrupts main's allocation-free busy
 *                       loop N times, alternately with SIGUSR1 (handled on the
 *                       thread's stack) and SIGUSR2 (on an alternate signal
 *                       stack); each handler keeps a 4096-byte block from
 *                       sig_leak: N blocks live at exit
 *   unwindee jit N      code in an anonymous executable mapping calls jit_alloc
 *                       N times; each keeps a 512-byte block
 *
 * Prints "ok N" (the blocks kept) and exits 0. Built like every helper, so
 * without frame pointers: only unwind tables lead from the handler to main.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_KEEP 100000

static void *keep[MAX_KEEP];
static volatile int nkeep, handled;
static volatile unsigned long sink;
static int rounds;
static pthread_t main_thread;
static char altstack[64 * 1024] __attribute__((aligned(16)));

__attribute__((noinline)) static void sig_leak(void)
{
	char *p = malloc(4096);

	if (p && nkeep < MAX_KEEP) {
		memset(p, 1, 4096);
		keep[nkeep++] = p;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	sig_leak();
	handled++;
}

/* No allocation in here: a handler that mallocs may interrupt it anywhere. */
__attribute__((noinline)) static unsigned long spin_leaf(unsigned long x)
{
	for (int i = 0; i < 1000; i++)
		x = x * 6364136223846793005UL + 1442695040888963407UL;
	return x;
}

__attribute__((noinline)) static unsigned long busy(void)
{
	unsigned long x = 1;

	while (handled < rounds)
		x = spin_leaf(x);
	return x;
}

static void *signaller(void *arg)
{
	struct timespec ms = { 0, 1000000 };

	for (int i = 0; i < rounds; i++) {
		pthread_kill(main_thread, i % 2 ? SIGUSR2 : SIGUSR1);
		/* each signal handled before the next; 10 s at most */
		for (int w = 0; handled <= i && w < 10000; w++)
			nanosleep(&ms, NULL);
		if (handled <= i) {
			fprintf(stderr, "unwindee: signal %d not handled\n", i);
			exit(1);
		}
	}
	return arg;
}

static int run_signal(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	pthread_t t;

	main_thread = pthread_self();
	if (sigaltstack(&ss, NULL))
		return 1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_flags |= SA_ONSTACK;
	sigaction(SIGUSR2, &sa, NULL);
	if (pthread_create(&t, NULL, signaller, NULL))
		return 1;
	sink = busy();
	pthread_join(t, NULL);
	printf("ok %d\n", nkeep);
	return 0;
}

__attribute__((noinline)) static void jit_alloc(void)
{
	char *p = malloc(512);

	if (p && nkeep < MAX_KEEP) {
		memset(p, 2, 512);
		keep[nkeep++] = p;
	}
}

static int run_jit(void)
{
	/* sub $8,%rsp; call *%rdi; add $8,%rsp; ret */
	static const unsigned char code[] = { 0x48, 0x83, 0xec, 0x08, 0xff, 0xd7,
					      0x48, 0x83, 0xc4, 0x08, 0xc3 };
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void (*stub)(void (*)(void));

	if (m == MAP_FAILED)
		return 1;
	memcpy(m, code, sizeof(code));
	if (mprotect(m, 4096, PROT_READ | PROT_EXEC))
		return 1;
	stub = (void (*)(void (*)(void)))m;
	for (int i = 0; i < rounds; i++)
		stub(jit_alloc);
	printf("ok %d\n", nkeep);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	rounds = atoi(argv[2]);
	if (rounds < 1 || rounds > MAX_KEEP)
		return 2;
	if (!strcmp(argv[1], "signal"))
		return run_signal();
	if (!strcmp(argv[1], "jit"))
		return run_jit();
	return 2;
}
