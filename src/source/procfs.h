/* procfs: every path under /proc, /sys and /tmp goes through here, so --proc-root can replay a recorded tree. */
#ifndef OFFHEAP_PROCFS_H
#define OFFHEAP_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct strbuf;

/*
 * --proc-root DIR replaces /proc by DIR. A recorded tree keeps /proc in
 * DIR and, beside it, the rest of the system root: DIR/../sys/fs/cgroup,
 * DIR/../tmp. NULL restores the live system.
 */
void procfs_set_root(const char *dir);
/* True while reading the live /proc (no --proc-root). */
bool procfs_is_live(void);

/* "<proc root>/<fmt…>" into buf. Returns 0, or -ENAMETOOLONG. */
__attribute__((format(printf, 3, 4))) int procfs_path(char *buf, size_t n, const char *fmt, ...);
/* "<system root>/<fmt…>" for /sys and /tmp paths (fmt starts with '/'). */
__attribute__((format(printf, 3, 4))) int sysroot_path(char *buf, size_t n, const char *fmt, ...);

/*
 * Reads a whole file into sb (replacing its contents), at most max bytes.
 * Never follows a symlink in the last component. Returns 0 or -errno:
 * -EFBIG when the file is larger than max, -ENOENT when it is absent.
 */
int procfs_read_file(const char *path, struct strbuf *sb, size_t max);
/*
 * Reads /proc/PID/NAME. A process that is gone (or exits during the read)
 * gives -ESRCH rather than -ENOENT, so callers can say so.
 */
int procfs_read_pid(pid_t pid, const char *name, struct strbuf *sb, size_t max);
/*
 * Opens /proc/PID/NAME for reading with the same checks as procfs_read_pid
 * (regular file, no symlink), for callers that stream a large file. Returns
 * the fd or -errno (-ESRCH when the process is gone).
 */
int procfs_open_pid(pid_t pid, const char *name);
/* True while /proc/PID exists. */
bool procfs_pid_alive(pid_t pid);

/*
 * Lists the numeric entries of the proc root, ascending. *pids is malloc'd,
 * caller frees. Returns 0 or -errno.
 */
int procfs_list_pids(pid_t **pids, size_t *n);
/* Lists /proc/PID/task, ascending; as procfs_list_pids. -ESRCH when gone. */
int procfs_list_tids(pid_t pid, pid_t **tids, size_t *n);

/*
 * Turns a command-line argument into a PID: a decimal number (checked to
 * exist), or a process name (comm, or the basename of argv[0]) that matches
 * exactly one process. Returns 0, -ESRCH (no such process: err says which),
 * -EINVAL (the name matches several: err lists them).
 */
int procfs_resolve_pid(const char *arg, pid_t *pid, struct strbuf *err);

#endif
