/*
 * shmguard: removes the tracker's shared file when the recorder cannot (shmguard.h).
 *
 * The guardian is a grandchild (its parent exits at once, so it is never ours to
 * reap and never reports SIGCHLD to the recorder's loop), in a session of its own
 * (a Ctrl-C or a kill of the recorder's process group does not reach it), with no
 * descriptor but the read end of its pipe. It reads one byte: a byte means the
 * recorder cleaned up; end of file means the recorder is gone and it must.
 */
#include "shmguard.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void shmguard_remove_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			unlink(path);
	closedir(d);
	rmdir(dir);
}

static void guardian(int rfd, const char *path, const char *dir)
{
	long max = sysconf(_SC_OPEN_MAX);
	char c;
	ssize_t r;

	/*
	 * nothing of the recorder's but the pipe: no terminal, no recording
	 * kept open; close_range is one call where the loop made 65,536 (20 ms
	 * of a short recording's CPU); the loop stays for kernels before 5.9
	 */
	if ((rfd > 0 && close_range(0, (unsigned)rfd - 1, 0)) ||
	    close_range((unsigned)rfd + 1, ~0U, 0))
		for (int fd = 0; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			if (fd != rfd)
				close(fd);
	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	do
		r = read(rfd, &c, 1);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		unlink(path);
		if (dir)
			shmguard_remove_dir(dir);
	}
	_exit(0);
}

int shmguard_start(const char *path, const char *dir)
{
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		close(p[1]);
		if (fork() == 0)
			guardian(p[0], path, dir);
		_exit(0);
	}
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return p[1];
}

void shmguard_done(int fd)
{
	if (fd < 0)
		return;
	if (write(fd, "d", 1) < 0) {
		/* the guardian is gone already: nothing is left to tell */
	}
	close(fd);
}
