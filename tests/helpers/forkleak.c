/*
 * forkleak: a command whose children leak, for offheap record --follow-fork.
 *
 *   forkleak N [PROG ARGS...]   leaks 60000 bytes through leak_in_parent(),
 *                               then forks N children (1 to 3): child I leaks
 *                               I x 100000 bytes (I x 10 blocks) through
 *                               leak_in_childI() and exits; the parent waits
 *                               for them, then execs PROG when given
 *   forkleak hang FILE          forks one child that leaks 300000 bytes
 *                               through leak_in_child3(), writes its pid to
 *                               FILE and waits to be killed (at most 60 s);
 *                               the parent waits for it
 *
 * Exits 0, or 1 when a child did not exit 0 (hang: when it was not killed).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLOCK 10000

static void *volatile keep[64];
static volatile unsigned kept;

/* Distinct functions, so each process's leak has its own call stack. */
__attribute__((noinline)) static void leak_in_parent(void)
{
	for (int i = 0; i < 6; i++)
		keep[kept++ % 64] = malloc(BLOCK);
}

__attribute__((noinline)) static void leak_in_child1(void)
{
	for (int i = 0; i < 10; i++)
		keep[kept++ % 64] = malloc(BLOCK);
}

__attribute__((noinline)) static void leak_in_child2(void)
{
	for (int i = 0; i < 20; i++)
		keep[kept++ % 64] = malloc(BLOCK);
}

__attribute__((noinline)) static void leak_in_child3(void)
{
	for (int i = 0; i < 30; i++)
		keep[kept++ % 64] = malloc(BLOCK);
}

static int hang(const char *path)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		char buf[32], tmp[4096];
		FILE *f;

		leak_in_child3();
		snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		f = fopen(tmp, "w");
		if (!f || fputs(buf, f) < 0 || fclose(f) || rename(tmp, path))
			_exit(2);
		alarm(60);
		for (;;)
			pause();
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : 1;
}

int main(int argc, char **argv)
{
	static void (*const leaks[])(void) = {leak_in_child1, leak_in_child2, leak_in_child3};
	int n, bad = 0;

	if (argc == 3 && !strcmp(argv[1], "hang"))
		return hang(argv[2]);
	if (argc < 2 || (n = atoi(argv[1])) < 1 || n > 3)
		return 2;
	leak_in_parent();
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			leaks[i]();
			exit(0);
		}
	}
	for (int i = 0; i < n; i++) {
		int status;

		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			bad = 1;
	}
	if (bad)
		return 1;
	if (argc > 2) {
		execvp(argv[2], argv + 2);
		return 127;
	}
	return 0;
}
