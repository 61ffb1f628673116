/*
 * ptholder: holds a process as its tracer (PTRACE_SEIZE, nothing else), the way a
 * debugger or strace would, so that tests can check that a second tracer is refused.
 *
 *   ptholder PID READY LIFETIME   seize PID, write READY, exit after LIFETIME seconds
 *                                 (exit 1 when the seize fails)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	FILE *f;

	if (argc != 4)
		return 2;
	if (ptrace(PTRACE_SEIZE, atoi(argv[1]), 0, 0)) {
		perror("ptholder: PTRACE_SEIZE");
		return 1;
	}
	f = fopen(argv[2], "w");
	if (!f || fputs("ready\n", f) < 0 || fclose(f))
		return 1;
	sleep((unsigned)atoi(argv[3]));
	return 0;
}
