/* procfs: reading /proc (or a recorded copy of it) safely and in one place. */
#include "procfs.h"
#include "strbuf.h"
#include "xalloc.h"
#include "parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char proc_root[PATH_MAX] = "/proc";
static char sys_root[PATH_MAX] = "";

void procfs_set_root(const char *dir)
{
	char tmp[PATH_MAX];

	if (!dir) {
		snprintf(proc_root, sizeof(proc_root), "/proc");
		sys_root[0] = '\0';
		return;
	}
	snprintf(proc_root, sizeof(proc_root), "%s", dir);
	snprintf(tmp, sizeof(tmp), "%s", dir);
	snprintf(sys_root, sizeof(sys_root), "%s", dirname(tmp));
	if (!strcmp(sys_root, "/"))
		sys_root[0] = '\0';
}

bool procfs_is_live(void)
{
	return !strcmp(proc_root, "/proc");
}

static int vpath(char *buf, size_t n, const char *root, const char *sep, const char *fmt,
		 va_list ap)
{
	int len = snprintf(buf, n, "%s%s", root, sep);

	if (len < 0 || (size_t)len >= n)
		return -ENAMETOOLONG;
	int more = vsnprintf(buf + len, n - (size_t)len, fmt, ap);

	if (more < 0 || (size_t)(len + more) >= n)
		return -ENAMETOOLONG;
	return 0;
}

int procfs_path(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(buf, n, proc_root, "/", fmt, ap);
	va_end(ap);
	return ret;
}

int sysroot_path(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = vpath(buf, n, sys_root, "", fmt, ap);
	va_end(ap);
	return ret;
}

/* Opens a file to read: never through a symlink, never a FIFO or device. */
static int open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	int ret;

	if (fd < 0)
		return -errno;
	/* A recorded tree is hostile input: a FIFO or device would hang or lie. */
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	return fd;
}

int procfs_read_file(const char *path, struct strbuf *sb, size_t max)
{
	int fd = open_regular(path);
	int ret = 0;

	strbuf_reset(sb);
	if (fd < 0)
		return fd;
	for (;;) {
		ssize_t r;

		if (sb->alloc - sb->len < 4096 + 1)
			strbuf_grow(sb, sb->len < 65536 ? 65536 : sb->len);
		r = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (r == 0)
			break;
		sb->len += (size_t)r;
		if (sb->len > max) {
			ret = -EFBIG;
			goto out;
		}
	}
	sb->buf[sb->len] = '\0';
out:
	close(fd);
	if (ret)
		strbuf_reset(sb);
	return ret;
}

int procfs_open_pid(pid_t pid, const char *name)
{
	char path[PATH_MAX];
	int ret = procfs_path(path, sizeof(path), "%d/%s", (int)pid, name);

	if (ret)
		return ret;
	ret = open_regular(path);
	if ((ret == -ENOENT || ret == -ESRCH) && (!procfs_pid_alive(pid) || procfs_is_live()))
		return -ESRCH;
	return ret;
}

bool procfs_pid_alive(pid_t pid)
{
	char path[PATH_MAX];
	struct stat st;

	if (procfs_path(path, sizeof(path), "%d", (int)pid))
		return false;
	return stat(path, &st) == 0;
}

int procfs_read_pid(pid_t pid, const char *name, struct strbuf *sb, size_t max)
{
	char path[PATH_MAX];
	int ret = procfs_path(path, sizeof(path), "%d/%s", (int)pid, name);

	if (ret)
		return ret;
	ret = procfs_read_file(path, sb, max);
	if ((ret == -ENOENT || ret == -ESRCH) && !procfs_pid_alive(pid))
		return -ESRCH;
	if (ret == -ENOENT && procfs_is_live())
		return -ESRCH;
	return ret;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

static int list_numeric(const char *dir, pid_t **out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	pid_t *v = NULL;
	size_t nr = 0, alloc = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int id;

		if (parse_int(de->d_name, 1, INT_MAX, &id))
			continue;
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = id;
	}
	closedir(d);
	if (nr)
		qsort(v, nr, sizeof(*v), cmp_pid);
	*out = v;
	*n = nr;
	return 0;
}

int procfs_list_pids(pid_t **pids, size_t *n)
{
	return list_numeric(proc_root, pids, n);
}

int procfs_list_tids(pid_t pid, pid_t **tids, size_t *n)
{
	char path[PATH_MAX];
	int ret = procfs_path(path, sizeof(path), "%d/task", (int)pid);

	if (ret)
		return ret;
	ret = list_numeric(path, tids, n);
	if (ret == -ENOENT)
		ret = -ESRCH;
	return ret;
}

/* The basename of argv[0] from /proc/PID/cmdline, into buf. */
static void argv0_base(pid_t pid, struct strbuf *tmp, char *buf, size_t n)
{
	const char *s, *slash;

	buf[0] = '\0';
	if (procfs_read_pid(pid, "cmdline", tmp, 1 << 20) || !tmp->len)
		return;
	s = tmp->buf;
	slash = strrchr(s, '/');
	snprintf(buf, n, "%s", slash ? slash + 1 : s);
}

int procfs_resolve_pid(const char *arg, pid_t *pid, struct strbuf *err)
{
	struct strbuf tmp = STRBUF_INIT;
	pid_t *pids = NULL;
	size_t n = 0, found = 0;
	int id, ret;

	if (!parse_int(arg, 1, INT_MAX, &id)) {
		if (!procfs_pid_alive(id)) {
			strbuf_addf(err, "no process %d", id);
			return -ESRCH;
		}
		*pid = id;
		return 0;
	}
	ret = procfs_list_pids(&pids, &n);
	if (ret) {
		strbuf_addf(err, "cannot list processes: %s", strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		char base[256];

		if (pids[i] == getpid() && procfs_is_live())
			continue;
		if (procfs_read_pid(pids[i], "comm", &tmp, 4096))
			continue;
		strbuf_rtrim(&tmp);
		if (strcmp(tmp.buf, arg)) {
			argv0_base(pids[i], &tmp, base, sizeof(base));
			if (strcmp(base, arg))
				continue;
		}
		if (found++)
			strbuf_addf(err, "%s%d", found == 2 ? "" : ", ", (int)pids[i]);
		else
			*pid = pids[i];
	}
	if (found == 0) {
		strbuf_addf(err, "no process named '%s'", arg);
		ret = -ESRCH;
	} else if (found > 1) {
		struct strbuf msg = STRBUF_INIT;

		strbuf_addf(&msg, "'%s' matches %zu processes: %d, %s", arg, found, (int)*pid,
			    err->buf);
		strbuf_reset(err);
		strbuf_addstr(err, msg.buf);
		strbuf_release(&msg);
		ret = -EINVAL;
	}
	free(pids);
	strbuf_release(&tmp);
	return ret;
}
