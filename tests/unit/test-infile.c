/* Unit tests for infile: a FILE argument is a regular file, and opening it never blocks. */
#include "infile.h"
#include "strbuf.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test-infile.XXXXXX";

static const char *in_dir(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

int main(void)
{
	struct strbuf err = STRBUF_INIT;
	struct stat st;
	char path[256];
	int fd;

	if (!mkdtemp(dir))
		return 1;
	/* The watchdog: a FIFO opened blocking would hang here; SIGALRM fails the test. */
	alarm(20);

	snprintf(path, sizeof(path), "%s", in_dir("file"));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0 && write(fd, "data", 4) == 4 && !close(fd), "a regular file made");
	fd = infile_open(path, "a recording file", &st, &err);
	ok(fd >= 0, "a regular file opens");
	ok(fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK), "without O_NONBLOCK left on");
	ok(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "close-on-exec");
	is_int((int)st.st_size, 4, "its stat filled");
	if (fd >= 0)
		close(fd);
	is_int(infile_check(path, NULL, &err), 0, "infile_check: 0");

	snprintf(path, sizeof(path), "%s", in_dir("fifo"));
	ok(!mkfifo(path, 0600), "a FIFO made");
	strbuf_reset(&err);
	is_int(infile_open(path, "a recording file", NULL, &err), -EINVAL,
	       "a FIFO is refused at once (no writer needed)");
	ok(strstr(err.buf, "is a FIFO, not a recording file") != NULL, "and named a FIFO");

	strbuf_reset(&err);
	is_int(infile_check(dir, "a recording file", &err), -EISDIR, "a directory: -EISDIR");
	ok(strstr(err.buf, "is a directory, not a recording file") != NULL, "named a directory");

	strbuf_reset(&err);
	is_int(infile_check("/dev/null", NULL, &err), -EINVAL, "a character device is refused");
	ok(strstr(err.buf, "is a character device, not a regular file") != NULL,
	   "named a character device");

	strbuf_reset(&err);
	snprintf(path, sizeof(path), "%s", in_dir("link"));
	ok(!symlink(in_dir("file"), path), "a symbolic link to the file");
	is_int(infile_check(path, NULL, &err), 0, "a link to a regular file is followed");
	unlink(path);
	ok(!symlink(in_dir("fifo"), path), "a symbolic link to the FIFO");
	is_int(infile_check(path, NULL, &err), -EINVAL, "a link to a FIFO is refused");
	unlink(path);

	strbuf_reset(&err);
	is_int(infile_check(in_dir("none"), NULL, &err), -ENOENT, "a missing file: -ENOENT");
	ok(strstr(err.buf, "No such file or directory") != NULL, "with the reason");

	unlink(in_dir("file"));
	unlink(in_dir("fifo"));
	rmdir(dir);
	strbuf_release(&err);
	return done_testing();
}
