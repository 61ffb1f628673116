#!/bin/sh
# liboffheap.so's frame-pointer walk (with its verdict cache) and its CFI
# unwinder give the same stacks as libunwind: the tracker built with
# OFFHEAP_CHECK_WALK (build/liboffheap-check.so) unwinds both ways on every
# stack and counts mismatches, on a program whose call paths mix code with and
# without frame pointers (a library without them calling back into code with
# them).
. "$(dirname "$0")/test-lib.sh"

cat >mix.c <<'CEOF'
#include <stdlib.h>
typedef void (*cb_t)(int);
__attribute__((noinline)) static void mix_inner(cb_t cb, int n)
{
	cb(n);
	__asm__ volatile("" ::: "memory");
}
void mix_call(cb_t cb, int n)
{
	mix_inner(cb, n);
	__asm__ volatile("" ::: "memory");
}
void *mix_alloc(size_t n)
{
	return malloc(n);
}
CEOF

cat >app.c <<'CEOF'
#include <pthread.h>
#include <stdlib.h>
typedef void (*cb_t)(int);
void mix_call(cb_t cb, int n);
void *mix_alloc(size_t n);

__attribute__((noinline)) static void leaf(int n)
{
	void *volatile p = malloc(16 + (size_t)n);

	free(p);
	free(mix_alloc(32 + (size_t)n));
}

__attribute__((noinline)) static void back(int n)
{
	if (n > 0)
		mix_call(back, n - 1);
	else
		leaf(n);
	__asm__ volatile("" ::: "memory");
}

static void *worker(void *arg)
{
	for (int i = 0; i < 20000; i++)
		back(i % 6);
	return arg;
}

int main(void)
{
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	worker(NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	return 0;
}
CEOF

test_expect_success 'build the mixed program' '
	cp "$BUILD/liboffheap-check.so" check.so &&
	cc -O2 -g -fomit-frame-pointer -fPIC -shared -o libmix.so mix.c &&
	cc -O2 -g -fno-omit-frame-pointer -o app app.c -L. -lmix -Wl,-rpath,"$TRASH" -lpthread
'

test_expect_success 'exact: every frame-pointer stack equals the DWARF one' '
	OFFHEAP_OUT="$TRASH/c.shm" OFFHEAP_SAMPLE=0 LD_PRELOAD="$TRASH/check.so" ./app 2>err &&
	cat err &&
	grep -q "^walk check: [1-9][0-9]* match, 0 mismatch$" err
'

test_expect_success 'the check can fail: a poisoned verdict is caught' '
	OFFHEAP_OUT="$TRASH/c.shm" OFFHEAP_SAMPLE=0 OFFHEAP_CHECK_POISON=1 \
		LD_PRELOAD="$TRASH/check.so" ./app 2>err &&
	cat err &&
	grep -q "^walk check: [0-9]* match, [1-9][0-9]* mismatch$" err
'

test_done
