/* test-procfs: --proc-root paths, symlink and FIFO refusal, paths too long, a tree's PIDs. */
#include "procfs.h"
#include "strbuf.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test-procfs.XXXXXX";
static char root[PATH_MAX]; /* dir/proc */

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	if (!f) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void sub(const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (mkdir(path, 0700)) {
		printf("Bail out! cannot mkdir %s\n", path);
		exit(1);
	}
}

/*
 * A recorded tree: proc/{7,42,100}, a non-numeric entry, and in 42 a
 * regular status, a symlink, a FIFO, a directory and a file over a size.
 */
static void make_tree(void)
{
	char path[PATH_MAX], target[PATH_MAX];

	if (!mkdtemp(dir)) {
		printf("Bail out! mkdtemp\n");
		exit(1);
	}
	snprintf(root, sizeof(root), "%s/proc", dir);
	sub("proc");
	sub("proc/42");
	sub("proc/7");
	sub("proc/100");
	sub("proc/self-not-a-pid");
	sub("proc/42/task");
	sub("proc/42/task/43");
	sub("proc/42/task/42");
	sub("proc/42/fdinfo");
	put("secret", "not from the tree\n");
	put("proc/42/status", "Name:\tleaker\n");
	put("proc/42/big", "0123456789");
	snprintf(path, sizeof(path), "%s/proc/42/maps", dir);
	snprintf(target, sizeof(target), "%s/secret", dir);
	if (symlink(target, path)) {
		printf("Bail out! symlink\n");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/proc/42/smaps", dir);
	if (mkfifo(path, 0600)) {
		printf("Bail out! mkfifo\n");
		exit(1);
	}
}

static void remove_tree(void)
{
	static const char *const files[] = {
	    "proc/42/status", "proc/42/big",	 "proc/42/maps",
	    "proc/42/smaps",  "proc/42/task/43", "proc/42/task/42",
	    "proc/42/task",   "proc/42/fdinfo",	 "proc/42",
	    "proc/7",	      "proc/100",	 "proc/self-not-a-pid",
	    "proc",	      "secret",
	};
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (remove(path))
			printf("# cannot remove %s\n", path);
	}
	rmdir(dir);
}

static void test_paths(void)
{
	char buf[PATH_MAX], want[PATH_MAX];

	procfs_set_root(NULL);
	ok(procfs_is_live(), "no root: live");
	ok(!procfs_path(buf, sizeof(buf), "%d/%s", 42, "maps"), "live path built");
	is_str(buf, "/proc/42/maps", "live: under /proc");
	ok(!sysroot_path(buf, sizeof(buf), "/sys/fs/cgroup/%s", "memory.max"), "live sys path");
	is_str(buf, "/sys/fs/cgroup/memory.max", "live: /sys as it is");

	procfs_set_root(root);
	ok(!procfs_is_live(), "--proc-root: not live");
	ok(!procfs_path(buf, sizeof(buf), "%d/%s", 42, "maps"), "recorded path built");
	snprintf(want, sizeof(want), "%s/proc/42/maps", dir);
	is_str(buf, want, "--proc-root: under the root");
	ok(!sysroot_path(buf, sizeof(buf), "/tmp/hsperfdata_%s/%d", "app", 42),
	   "recorded /tmp path");
	snprintf(want, sizeof(want), "%s/tmp/hsperfdata_app/42", dir);
	is_str(buf, want, "--proc-root: /tmp beside the recorded proc");

	procfs_set_root("/proc");
	ok(!sysroot_path(buf, sizeof(buf), "/sys/%s", "x"), "root /proc: sys path");
	is_str(buf, "/sys/x", "root /proc: the system root is /, not //");
	procfs_set_root(NULL);
}

static void test_long_paths(void)
{
	char buf[PATH_MAX], small[32];
	char *name = malloc(PATH_MAX + 10);
	struct strbuf sb = STRBUF_INIT;

	memset(name, 'a', PATH_MAX + 9);
	name[PATH_MAX + 9] = '\0';
	procfs_set_root(NULL);
	/* "/proc/1234567/abcdefg" is 21 bytes: it fits 22 with its NUL, not 21 */
	ok(!procfs_path(small, 22, "%s/%s", "1234567", "abcdefg"), "a path of n - 1 bytes fits");
	is_str(small, "/proc/1234567/abcdefg", "all of it, not cut");
	is_int(procfs_path(small, 21, "%s/%s", "1234567", "abcdefg"), -ENAMETOOLONG,
	       "one byte short: ENAMETOOLONG, not a cut path");
	is_int(procfs_path(small, 4, "%d", 1), -ENAMETOOLONG, "the root alone does not fit");
	is_int(procfs_path(buf, sizeof(buf), "%d/%s", 42, name), -ENAMETOOLONG,
	       "a name longer than PATH_MAX: ENAMETOOLONG");
	is_int(sysroot_path(buf, sizeof(buf), "/tmp/%s", name), -ENAMETOOLONG,
	       "sysroot: ENAMETOOLONG too");
	procfs_set_root(root);
	is_int(procfs_read_pid(42, name, &sb, 1 << 20), -ENAMETOOLONG,
	       "read of a name too long: ENAMETOOLONG, nothing opened");
	is_int(procfs_open_pid(42, name), -ENAMETOOLONG, "open of a name too long: ENAMETOOLONG");
	procfs_set_root(NULL);
	strbuf_release(&sb);
	free(name);
}

static void test_refusals(void)
{
	struct strbuf sb = STRBUF_INIT;
	int fd;

	procfs_set_root(root);
	is_int(procfs_read_pid(42, "status", &sb, 4096), 0, "a regular file is read");
	is_str(sb.buf, "Name:\tleaker\n", "its contents");
	is_int(procfs_read_pid(42, "maps", &sb, 4096), -ELOOP, "a symlink is refused (ELOOP)");
	is_u64(sb.len, 0, "nothing read through the symlink");
	is_int(procfs_open_pid(42, "maps"), -ELOOP, "open: a symlink is refused");
	is_int(procfs_read_pid(42, "smaps", &sb, 4096), -EINVAL,
	       "a FIFO is refused (EINVAL), without hanging");
	is_int(procfs_open_pid(42, "smaps"), -EINVAL, "open: a FIFO is refused");
	is_int(procfs_read_pid(42, "fdinfo", &sb, 4096), -EISDIR, "a directory: EISDIR");
	is_int(procfs_read_pid(42, "big", &sb, 9), -EFBIG, "larger than max: EFBIG");
	is_u64(sb.len, 0, "EFBIG leaves nothing");
	is_int(procfs_read_pid(42, "big", &sb, 10), 0, "exactly max: read");
	is_int(procfs_read_pid(42, "environ", &sb, 4096), -ENOENT,
	       "recorded: an absent file of a present process is ENOENT");
	is_int(procfs_read_pid(9, "status", &sb, 4096), -ESRCH, "an absent process is ESRCH");
	is_int(procfs_open_pid(9, "status"), -ESRCH, "open: an absent process is ESRCH");
	fd = procfs_open_pid(42, "status");
	ok(fd >= 0, "open: a regular file opens");
	if (fd >= 0)
		close(fd);
	procfs_set_root(NULL);
	strbuf_release(&sb);
}

static void test_lists(void)
{
	struct strbuf err = STRBUF_INIT;
	pid_t *v = NULL, pid = 0;
	size_t n = 0;

	procfs_set_root(root);
	ok(!procfs_list_pids(&v, &n), "PIDs of the tree listed");
	ok(n == 3 && v[0] == 7 && v[1] == 42 && v[2] == 100,
	   "numeric entries only, ascending (7, 42, 100)");
	free(v);
	ok(!procfs_list_tids(42, &v, &n), "TIDs listed");
	ok(n == 2 && v[0] == 42 && v[1] == 43, "TIDs ascending");
	free(v);
	is_int(procfs_list_tids(9, &v, &n), -ESRCH, "TIDs of an absent process: ESRCH");
	ok(procfs_pid_alive(100) && !procfs_pid_alive(9), "alive: by the tree");
	is_int(procfs_resolve_pid("42", &pid, &err), 0, "resolve a number in the tree");
	is_int(pid, 42, "its PID");
	is_int(procfs_resolve_pid("9", &pid, &err), -ESRCH, "resolve an absent number: ESRCH");
	is_str(err.buf, "no process 9", "and says which");
	procfs_set_root(NULL);
	strbuf_release(&err);
}

int main(void)
{
	make_tree();
	test_paths();
	test_long_paths();
	test_refusals();
	test_lists();
	remove_tree();
	return done_testing();
}
