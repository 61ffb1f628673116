/*
 * runstat: runs a command and prints what it cost, for bench/realprog.sh:
 *
 *   runstat CMD [ARGS...]   ->   "WALL_MS CPU_MS MAXRSS_KIB" on stderr
 *
 * CPU is user + system time of the command and everything it waited for,
 * from wait4's rusage in microseconds: GNU time prints it in hundredths of
 * a second, a tenth of a 100-ms git run. The command's output goes where
 * ours does; its exit status is ours (128 + N for a signal).
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double ms(struct timeval tv)
{
	return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: runstat CMD [ARGS...]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("runstat: fork");
		return 1;
	}
	if (!pid) {
		execvp(argv[1], argv + 1);
		perror("runstat: exec");
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid) {
		perror("runstat: wait4");
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "%.1f %.1f %ld\n",
		(double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
		ms(ru.ru_utime) + ms(ru.ru_stime), ru.ru_maxrss);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
