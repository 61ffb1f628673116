/*
 * infile: opening a FILE argument that must be a regular file.
 *
 * Why stat, then open non-blocking, then fstat: stat alone leaves a window
 * in which the path can be replaced by a FIFO, and open(O_RDONLY) of a FIFO
 * waits for a writer, forever when none comes (issue 17: report, diff,
 * doctor, inspect hung on one). O_NONBLOCK makes that open return at once
 * (fifo(7)); the fstat of the descriptor then sees the FIFO and refuses it.
 * The stat first keeps devices unopened in the common case: opening one can
 * have effects of its own (a tape rewinds, a watchdog arms). A device swapped
 * in inside the window is opened, never read.
 */
#include "infile.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

const char *infile_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symbolic link";
	default:
		return "not a regular file";
	}
}

static int refuse(const char *path, const char *what, mode_t mode, struct strbuf *err)
{
	strbuf_addf(err, "'%s' is %s, not %s", path, infile_kind(mode),
		    what ? what : "a regular file");
	return S_ISDIR(mode) ? -EISDIR : -EINVAL;
}

int infile_open(const char *path, const char *what, struct stat *st, struct strbuf *err)
{
	struct stat sb;
	int fd, flags, ret;

	if (stat(path, &sb)) {
		ret = -errno;
		strbuf_addf(err, "cannot open '%s': %s", path, strerror(errno));
		return ret;
	}
	if (!S_ISREG(sb.st_mode))
		return refuse(path, what, sb.st_mode, err);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		strbuf_addf(err, "cannot open '%s': %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &sb)) {
		ret = -errno;
		strbuf_addf(err, "cannot read '%s': %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return refuse(path, what, sb.st_mode, err);
	}
	flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	if (st)
		*st = sb;
	return fd;
}

int infile_check(const char *path, const char *what, struct strbuf *err)
{
	int fd = infile_open(path, what, NULL, err);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}
