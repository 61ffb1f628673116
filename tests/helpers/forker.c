/*
 * forker: a command that hands its work to a child, as 'timeout 60 java ...'
 * or 'sh -c "prog; exit 0"' do, and allocates nothing itself.
 *
 *   forker fork CMD [ARGS...]    fork(), the child execs CMD; waits for it
 *   forker spawn CMD [ARGS...]   the same through posix_spawnp (no atfork
 *                                handlers run)
 *
 * Exits with CMD's exit code (1 when it cannot be started or was killed).
 * It ends when CMD ends.
 */
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	int status;
	pid_t pid;

	if (argc < 3)
		return 2;
	if (!strcmp(argv[1], "fork")) {
		pid = fork();
		if (pid == 0) {
			execvp(argv[2], argv + 2);
			_exit(127);
		}
	} else if (!strcmp(argv[1], "spawn")) {
		if (posix_spawnp(&pid, argv[2], NULL, NULL, argv + 2, environ))
			return 1;
	} else {
		return 2;
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
