#!/bin/sh
# liboffheap.so stays safe and exact when a signal handler allocates (mmap)
# while its thread is inside dlopen/dlclose of a library whose constructor
# allocates, and another thread allocates from ever new call paths (each a
# DWARF unwind): the program ends (no deadlock, no crash) and the report
# charges the handler's live mappings to its call site.
. "$(dirname "$0")/test-lib.sh"

command -v timeout >/dev/null || skip_all "timeout(1) not installed"

cat >plug.c <<'CEOF'
#include <stdlib.h>
#include <string.h>
__attribute__((constructor)) static void plug_init(void)
{
	for (int i = 1; i <= 8; i++) {
		char *p = malloc((size_t)i * 100);
		if (p)
			memset(p, i, (size_t)i * 100);
		free(p);
	}
}
int plug_value(void) { return 7; }
CEOF

cat >sigdl.c <<'CEOF'
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *plug;
static int rounds;
static volatile int done;
static void *keep[8];
static volatile int nkeep, signals;

__attribute__((noinline)) static void sig_map(void)
{
	void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	if (nkeep < 8)
		keep[nkeep++] = p; /* held to the end: the report's top site */
	else
		munmap(p, 65536);
}

static void on_usr1(int sig)
{
	(void)sig;
	sig_map();
	signals++;
}

static void *loader(void *arg)
{
	(void)arg;
	/* at least 64 signals seen; bounded all the same */
	for (int i = 0; i < rounds || (signals < 64 && i < rounds * 100); i++) {
		void *h = dlopen(plug, RTLD_NOW | RTLD_LOCAL);

		if (!h) {
			fprintf(stderr, "dlopen: %s\n", dlerror());
			exit(1);
		}
		dlclose(h);
	}
	done = 1;
	return NULL;
}

/* Call paths of depth 1..32: new stacks, each unwound with DWARF once. */
__attribute__((noinline)) static void deep(int n, size_t sz)
{
	if (n > 0) {
		deep(n - 1, sz);
		__asm__ volatile("" ::: "memory");
		return;
	}
	free(malloc(sz));
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	pthread_t t;

	if (argc < 3)
		return 2;
	plug = argv[1];
	rounds = atoi(argv[2]);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if (pthread_create(&t, NULL, loader, NULL))
		return 1;
	for (long i = 0; !done && i < 50000000; i++) {
		if (i % 4 == 0)
			pthread_kill(t, SIGUSR1);
		deep((int)(i % 32), 32 + (size_t)(i % 64));
	}
	pthread_join(t, NULL);
	printf("ok %d\n", nkeep);
	return 0;
}
CEOF

test_expect_success 'build the fixtures' '
	cc -O2 -g -fomit-frame-pointer -fPIC -shared -o libplug.so plug.c &&
	cc -O2 -g -o sigdl sigdl.c -lpthread -ldl
'

test_expect_success 'exact: signals into dlopen/dlclose, no deadlock, no crash' '
	OFFHEAP_OUT="$TRASH/e.shm" OFFHEAP_SAMPLE=0 LD_PRELOAD="$BUILD/liboffheap.so" \
		timeout -k 5 $((90 * OFFHEAP_TIME_FACTOR)) ./sigdl "$TRASH/libplug.so" 300 >out &&
	grep -q "^ok 8$" out
'

test_expect_success 'sampled: the same' '
	OFFHEAP_OUT="$TRASH/s.shm" OFFHEAP_SAMPLE=4096 LD_PRELOAD="$BUILD/liboffheap.so" \
		timeout -k 5 $((90 * OFFHEAP_TIME_FACTOR)) ./sigdl "$TRASH/libplug.so" 300 >out &&
	grep -q "^ok 8$" out
'

test_expect_success 'recorded: the handler mappings are charged to sig_map' '
	timeout -k 5 $((90 * OFFHEAP_TIME_FACTOR)) "$OFFHEAP" record --exact -o sig.db -- ./sigdl "$TRASH/libplug.so" 100 >out &&
	grep -q "^ok 8$" out &&
	"$OFFHEAP" report sig.db --top 100 --json >rep &&
	python3 -c "
import json
d = json.load(open(\"rep\"))
live = sum(t[\"live_bytes\"] for t in d[\"top\"]
	   if t[\"frames\"] and t[\"frames\"][0][\"function\"] == \"sig_map\")
print(live)
assert live == 8 * 65536, live
"
'

test_done
