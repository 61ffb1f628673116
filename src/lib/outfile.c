/*
 * outfile: every output file is written beside its target and renamed onto
 * it (see outfile.h). The signal handler's table is fixed-size and written
 * only with the handled signals blocked, so the handler never sees a path
 * half copied; unlink() is async-signal-safe.
 */
#include "outfile.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMP_PATH_MAX 4352

static char temp_paths[OUTFILE_MAX][TEMP_PATH_MAX];
static const int temp_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NSIGS (sizeof(temp_sigs) / sizeof(temp_sigs[0]))

static void on_signal(int sig)
{
	for (int i = 0; i < OUTFILE_MAX; i++)
		if (temp_paths[i][0])
			unlink(temp_paths[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void block(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < NSIGS; i++)
		sigaddset(&set, temp_sigs[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

static void unblock(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

static void install_handler(void)
{
	static bool installed;
	struct sigaction sa;

	if (installed)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < NSIGS; i++) {
		struct sigaction cur;

		/*
		 * Only where nothing else handles the signal: a command that stops
		 * gracefully on Ctrl-C (watch, doctor) or passes SIGTERM on to its
		 * child (record, trace) keeps its handler, and an ignored signal
		 * stays ignored (nohup).
		 */
		if (sigaction(temp_sigs[i], NULL, &cur) == 0 && cur.sa_handler == SIG_DFL &&
		    !(cur.sa_flags & SA_SIGINFO))
			sigaction(temp_sigs[i], &sa, NULL);
	}
	installed = true;
}

/* Called blocked. A free slot, or -1. */
static int free_slot(void)
{
	for (int i = 0; i < OUTFILE_MAX; i++)
		if (!temp_paths[i][0])
			return i;
	return -1;
}

/* Called blocked. */
static void forget(struct outfile *of)
{
	if (of->slot >= 0)
		temp_paths[of->slot][0] = '\0';
	of->slot = -1;
}

/* Six letters from the clock, the PID and a counter; O_EXCL makes a clash a retry. */
static void temp_suffix(char *out)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static unsigned counter;
	struct timespec ts;
	unsigned long long v;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	v = (unsigned long long)ts.tv_nsec * 2654435761u ^ (unsigned long long)getpid() << 20 ^
	    (unsigned long long)++counter * 40503u ^ (unsigned long long)ts.tv_sec;
	for (int i = 0; i < 6; i++) {
		out[i] = set[v % (sizeof(set) - 1)];
		v /= sizeof(set) - 1;
	}
	out[6] = '\0';
}

int outfile_open(struct outfile *of, const char *path, bool overwrite, struct strbuf *err)
{
	char *copy1 = xstrdup(path), *copy2 = xstrdup(path);
	const char *dir = dirname(copy1), *base = basename(copy2);
	struct strbuf tmp = STRBUF_INIT;
	struct stat sb;
	sigset_t old;
	int ret = 0;

	memset(of, 0, sizeof(*of));
	of->fd = -1;
	of->slot = -1;
	if (!lstat(path, &sb)) {
		if (S_ISLNK(sb.st_mode)) {
			strbuf_addf(err, "'%s' is a symbolic link: offheap does not write through one",
				    path);
			ret = -ELOOP;
		} else if (S_ISDIR(sb.st_mode)) {
			strbuf_addf(err, "'%s' is a directory", path);
			ret = -EISDIR;
		} else if (!overwrite) {
			strbuf_addf(err, "'%s' already exists", path);
			ret = -EEXIST;
		}
		if (ret)
			goto out;
	}
	block(&old);
	of->slot = free_slot();
	if (of->slot < 0) {
		unblock(&old);
		strbuf_addf(err, "cannot create '%s': too many files open for writing", path);
		ret = -EMFILE;
		goto out;
	}
	for (int tries = 0; tries < 100; tries++) {
		char suffix[7];

		temp_suffix(suffix);
		strbuf_reset(&tmp);
		strbuf_addf(&tmp, "%s/.%s.tmp-%s", dir, base, suffix);
		if (tmp.len >= TEMP_PATH_MAX) {
			errno = ENAMETOOLONG;
			break;
		}
		of->fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (of->fd >= 0 || errno != EEXIST)
			break;
	}
	if (of->fd < 0) {
		ret = -errno;
		forget(of);
		unblock(&old);
		strbuf_addf(err, "cannot create '%s': %s", path, strerror(-ret));
		goto out;
	}
	memcpy(temp_paths[of->slot], tmp.buf, tmp.len + 1);
	install_handler();
	unblock(&old);
	of->tmp = strbuf_detach(&tmp, NULL);
	of->path = xstrdup(path);
	of->overwrite = overwrite;
out:
	strbuf_release(&tmp);
	free(copy1);
	free(copy2);
	return ret;
}

int outfile_write(struct outfile *of, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(of->fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

FILE *outfile_stream(struct outfile *of)
{
	if (!of->f)
		of->f = fdopen(of->fd, "w");
	return of->f;
}

/* Closes the temporary file after fsync; the stream's buffer is flushed first. */
static int close_temp(struct outfile *of)
{
	int ret = 0;

	if (of->f) {
		if (fflush(of->f) || ferror(of->f))
			ret = errno ? -errno : -EIO;
		if (!ret && fsync(of->fd) && errno != EINVAL)
			ret = -errno;
		if (fclose(of->f) && !ret)
			ret = -errno;
	} else if (of->fd >= 0) {
		if (fsync(of->fd) && errno != EINVAL)
			ret = -errno;
		if (close(of->fd) && !ret)
			ret = -errno;
	}
	of->f = NULL;
	of->fd = -1;
	return ret;
}

/* Renames tmp onto path, refusing to replace it unless overwrite. */
static int place(const char *tmp, const char *path, bool overwrite)
{
	if (overwrite)
		return rename(tmp, path) ? -errno : 0;
	if (!renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* A file system without RENAME_NOREPLACE: link() fails on an existing name too. */
	if (link(tmp, path))
		return -errno;
	unlink(tmp);
	return 0;
}

int outfile_commit(struct outfile *of, struct strbuf *err)
{
	char *copy;
	sigset_t old;
	int ret, fd;

	if (!of->tmp)
		return 0;
	errno = 0;
	ret = close_temp(of);
	if (ret) {
		strbuf_addf(err, "cannot write '%s': %s", of->path, strerror(-ret));
		outfile_abort(of);
		return ret;
	}
	/* Once renamed the file is the user's: the handler must not remove it. */
	block(&old);
	ret = place(of->tmp, of->path, of->overwrite);
	if (!ret) {
		forget(of);
		free(of->tmp);
		of->tmp = NULL;
	}
	unblock(&old);
	if (ret) {
		if (ret == -EEXIST)
			strbuf_addf(err, "'%s' already exists", of->path);
		else
			strbuf_addf(err, "cannot rename '%s' to '%s': %s", of->tmp, of->path,
				    strerror(-ret));
		outfile_abort(of);
		return ret;
	}
	copy = xstrdup(of->path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
	outfile_abort(of);
	return 0;
}

void outfile_abort(struct outfile *of)
{
	sigset_t old;

	if (of->f)
		fclose(of->f);
	else if (of->fd >= 0)
		close(of->fd);
	of->f = NULL;
	of->fd = -1;
	block(&old);
	if (of->tmp)
		unlink(of->tmp);
	forget(of);
	unblock(&old);
	free(of->tmp);
	free(of->path);
	of->tmp = of->path = NULL;
}
