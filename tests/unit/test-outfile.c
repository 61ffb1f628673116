/* Unit tests for outfile: the atomic writer of every output file. */
#include "outfile.h"
#include "strbuf.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/test-outfile.XXXXXX";

static const char *in_dir(const char *name)
{
	static char buf[2][256];
	static int i;

	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

/* The number of names in dir, "." and ".." left out. */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static bool holds(const char *path, const char *text)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return !strcmp(buf, text);
}

static int write_one(const char *path, bool overwrite, const char *text, struct strbuf *err)
{
	struct outfile of;
	int ret;

	strbuf_reset(err);
	ret = outfile_open(&of, path, overwrite, err);
	if (ret)
		return ret;
	ret = outfile_write(&of, text, strlen(text));
	if (ret) {
		outfile_abort(&of);
		return ret;
	}
	return outfile_commit(&of, err);
}

int main(void)
{
	struct strbuf err = STRBUF_INIT;
	struct outfile of;
	struct stat sb;
	char link_target[300];
	FILE *f;
	pid_t pid;
	int status;

	if (!mkdtemp(dir)) {
		ok(false, "mkdtemp");
		return done_testing();
	}

	is_int(write_one(in_dir("a"), false, "one\n", &err), 0, "creates a new file");
	ok(holds(in_dir("a"), "one\n"), "with what was written");
	ok(!stat(in_dir("a"), &sb) && (sb.st_mode & 07777) == 0600, "mode 0600");
	is_int(entries(), 1, "no temporary file left");

	is_int(write_one(in_dir("a"), false, "two\n", &err), -EEXIST,
	       "an existing file is refused without overwrite");
	ok(holds(in_dir("a"), "one\n") && entries() == 1, "and kept, with no temporary file");
	is_int(write_one(in_dir("a"), true, "two\n", &err), 0, "replaced with overwrite");
	ok(holds(in_dir("a"), "two\n") && entries() == 1, "atomically");

	snprintf(link_target, sizeof(link_target), "%s", in_dir("victim"));
	put(link_target, "victim\n");
	ok(!symlink(link_target, in_dir("link")), "a symbolic link planted");
	is_int(write_one(in_dir("link"), true, "evil\n", &err), -ELOOP,
	       "a symbolic link at the path is refused, even with overwrite");
	ok(strstr(err.buf, "symbolic link") != NULL, "and says so");
	ok(holds(link_target, "victim\n"), "its target is unchanged");
	ok(!lstat(in_dir("link"), &sb) && S_ISLNK(sb.st_mode), "the link is left as it was");
	ok(!symlink(in_dir("nowhere"), in_dir("dangling")), "a dangling link planted");
	is_int(write_one(in_dir("dangling"), true, "evil\n", &err), -ELOOP,
	       "a dangling link is refused");
	ok(access(in_dir("nowhere"), F_OK) && errno == ENOENT, "its target is not created");
	is_int(entries(), 4, "no temporary file left by a refusal");

	ok(write_one(in_dir("no/such/dir"), true, "x\n", &err) == -ENOENT && err.len,
	       "a missing directory fails with a message");

	strbuf_reset(&err);
	ok(!outfile_open(&of, in_dir("b"), true, &err) && !outfile_write(&of, "half", 4),
	   "a file half written");
	is_int(entries(), 5, "sits in a temporary file");
	outfile_abort(&of);
	ok(entries() == 4 && access(in_dir("b"), F_OK), "abort removes it, nothing at the path");

	strbuf_reset(&err);
	ok(!outfile_open(&of, in_dir("c"), false, &err), "opened without overwrite");
	put(in_dir("c"), "theirs\n");
	ok(outfile_commit(&of, &err) == -EEXIST, "a file that appeared meanwhile fails the commit");
	ok(holds(in_dir("c"), "theirs\n") && entries() == 5, "is kept, no temporary file");

	strbuf_reset(&err);
	ok(!outfile_open(&of, in_dir("d"), true, &err), "opened with overwrite");
	ok(!mkdir(in_dir("d"), 0700), "a directory appears at the path");
	ok(outfile_commit(&of, &err) && err.len, "the rename fails with a message");
	is_int(entries(), 6, "and the temporary file is gone");

	strbuf_reset(&err);
	ok(!outfile_open(&of, in_dir("e"), true, &err) && (f = outfile_stream(&of)) &&
	   fputs("streamed\n", f) >= 0 && !outfile_commit(&of, &err),
	   "a stream is flushed by the commit");
	ok(holds(in_dir("e"), "streamed\n"), "with its text");

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		strbuf_reset(&err);
		if (outfile_open(&of, in_dir("f"), true, &err) || outfile_write(&of, "x", 1))
			_exit(2);
		raise(SIGTERM);
		_exit(3);
	}
	ok(pid > 0 && waitpid(pid, &status, 0) == pid, "a writer killed by SIGTERM");
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM, "dies of the signal");
	ok(entries() == 7 && access(in_dir("f"), F_OK), "leaving no temporary file, no file");

	unlink(in_dir("a"));
	unlink(in_dir("c"));
	unlink(in_dir("e"));
	unlink(in_dir("link"));
	unlink(in_dir("dangling"));
	unlink(link_target);
	rmdir(in_dir("d"));
	ok(!rmdir(dir), "nothing else was left in the directory");
	strbuf_release(&err);
	return done_testing();
}
