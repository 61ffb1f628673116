/* tap: a minimal Test Anything Protocol producer for the C unit tests (run by prove). */
#ifndef OFFHEAP_TAP_H
#define OFFHEAP_TAP_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline bool tap_ok(bool cond, const char *file, int line, const char *what)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++tap_n, what);
	if (!cond) {
		printf("#   failed at %s:%d\n", file, line);
		tap_failed++;
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, what) tap_ok((cond), __FILE__, __LINE__, (what))
#define is_u64(got, want, what)                                                             \
	do {                                                                                \
		uint64_t g_ = (uint64_t)(got), w_ = (uint64_t)(want);                         \
		if (!ok(g_ == w_, what))                                                    \
			printf("#   got %" PRIu64 ", want %" PRIu64 "\n", g_, w_);             \
	} while (0)
#define is_int(got, want, what)                                                             \
	do {                                                                                \
		long long g_ = (long long)(got), w_ = (long long)(want);                      \
		if (!ok(g_ == w_, what))                                                    \
			printf("#   got %lld, want %lld\n", g_, w_);                            \
	} while (0)
#define is_str(got, want, what)                                                             \
	do {                                                                                \
		const char *g_ = (got), *w_ = (want);                                       \
		if (!ok(g_ && w_ && !strcmp(g_, w_), what))                                 \
			printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)",                 \
			       w_ ? w_ : "(null)");                                          \
	} while (0)

/* Prints the plan and returns the exit code for main. */
static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
