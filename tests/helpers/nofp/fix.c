/*
 * The fixture library of the tracker's tests (t3000, t3024), built by them
 * with -O2 -fomit-frame-pointer -fPIC -shared: it leaks from a static
 * function, so a frame-pointer walk loses the chain and only the unwind
 * tables get from the inner function to main.
 */
#include <stdlib.h>
#include <string.h>

volatile unsigned long fix_calls;

__attribute__((noinline)) static void *fix_inner_leak(size_t n)
{
	char *p = malloc(n);

	if (p)
		memset(p, 7, n);
	fix_calls++;
	return p;
}

void *fix_make_record(size_t n)
{
	void *p = fix_inner_leak(n);

	fix_calls += 2;
	return p;
}
