/* usage: how the command line talks to the user — errors, warnings, hints, exit codes. */
#ifndef OFFHEAP_USAGE_H
#define OFFHEAP_USAGE_H

#include <stdarg.h>

/* Exit codes, documented in --help and offheap(1). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,	/* something failed while running */
	EXIT_USAGE = 2,		/* the command line was wrong */
	EXIT_THRESHOLD = 3,	/* a --fail-on-* threshold was crossed */
};

/*
 * Only src/cmd/ and main call these: library modules return 0/-errno and
 * fill a struct strbuf with the reason instead.
 *
 * Messages are lowercase, without a full stop, what failed first:
 *   offheap: error: cannot read '/proc/42/smaps': Permission denied
 */
__attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) int error(const char *fmt, ...);	/* returns -1 */
__attribute__((format(printf, 1, 2))) void warning(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void hint(const char *fmt, ...);
/* An internal invariant broke: report and abort. */
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)
__attribute__((format(printf, 3, 4), noreturn)) void bug_fl(const char *file, int line,
							   const char *fmt, ...);

/* Print "offheap CMD: error: unknown option" style usage errors and exit 2. */
__attribute__((format(printf, 2, 3), noreturn)) void usage_die(const char *cmd, const char *fmt,
							       ...);

#endif
