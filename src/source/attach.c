/*
 * attach: the HotSpot dynamic attach client — run a diagnostic command inside a live JVM.
 *
 * A HotSpot JVM listens for "attach" requests on a Unix socket <tmp>/.java_pid<nspid>
 * that it only creates on demand: a client drops a trigger file .attach_pid<nspid> in
 * the JVM's cwd or tmp and sends SIGQUIT; the JVM's signal thread sees the file and
 * starts the listener instead of printing a thread dump. Each connection carries one
 * request, NUL-separated:
 *   protocol 1 (JDK 6+):  "1" NUL cmd NUL arg0 NUL arg1 NUL arg2 NUL
 *   protocol 2 (JDK 24+): "2" NUL size NUL cmd[ opt=v,...] NUL { arg NUL }
 * and the reply is "<decimal status>\n" then text until EOF. Protocol 2 is announced
 * by a protocol-1 "getversion options" request answering "0\n2 streaming"; older JVMs
 * answer -1. Facts and constants: /work/shared/JVM.md sections A-C; the JVM side is
 * src/hotspot/os/posix/attachListener_posix.cpp (attachListener_linux.cpp before 22)
 * and jdk.attach's VirtualMachineImpl.java.
 *
 * Safety rules: a process that does not catch SIGQUIT is never signalled (the default
 * action dumps core); files in a shared /tmp are trusted only when they are what they
 * claim (a socket, not a symlink, owned by the JVM's user, private mode); as root we act
 * with the target's effective ids, so the files we leave behind are the JVM's user's.
 * A pid can be reused between look-up and signal: the process is held by a pidfd
 * (Linux 5.3+) opened before anything is read about it, and signalled through it, so a
 * process that took over the pid is never signalled.
 */
#include "attach.h"
#include "inject.h"
#include "proc.h"
#include "procfs.h"
#include "pslist.h"
#include "region.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define V1_MAX_CMD   16
#define V1_MAX_ARG   1024
#define V2_MAX_BODY  (256 * 1024)
#define SIGQUIT_MASK 0x4ULL /* bit (SIGQUIT - 1) of SigCgt/SigIgn */

struct attach_ctx {
	pid_t pid;		 /* host pid */
	int pidfd;		 /* the process as first seen (pidfd_open), -1 if unsupported */
	struct attach_proc proc; /* from /proc/PID/status */
	int timeout_ms;		 /* the whole attach, from attach_op's start */
	long long deadline;	 /* now_ms() at which every wait gives up */
	char tmpdir[PATH_MAX];	 /* the JVM's /tmp as we can reach it */
	char sock[PATH_MAX];	 /* <tmpdir>/.java_pid<nspid> */
	bool switched;		 /* effective ids are the target's */
	uid_t saved_euid;	 /* ours, restored by creds_leave */
	gid_t saved_egid;
	struct strbuf *err;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before c->deadline; 0 once it passed. */
static long long left_ms(const struct attach_ctx *c)
{
	long long left = c->deadline - now_ms();

	return left > 0 ? left : 0;
}

/* The one message of a deadline that passed: what was awaited, and for how long in all. */
static int timed_out(struct attach_ctx *c, const char *what)
{
	strbuf_addf(c->err, "timed out after %gs waiting for %s (process %d)",
		    c->timeout_ms / 1000.0, what, (int)c->pid);
	return -ETIMEDOUT;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* --- pure parts: status file, requests, replies ---------------------------------- */

/*
 * What attach needs, from the one status parser (proc.c): Uid, Gid, SigIgn and
 * SigCgt must be there, NSpid (or NStgid) may be.
 */
int attach_parse_status(const char *text, pid_t pid, struct attach_proc *p)
{
	const unsigned need = PROC_SEEN_UID | PROC_SEEN_GID | PROC_SEEN_SIGIGN | PROC_SEEN_SIGCGT;
	struct strbuf err = STRBUF_INIT;
	struct proc_status st;
	int ret = proc_status_scan(text, strlen(text), &st, &err);

	strbuf_release(&err);
	if (ret || (st.seen & need) != need || st.euid == (uid_t)-1 || st.egid == (gid_t)-1)
		return -EPROTO;
	p->euid = st.euid;
	p->egid = st.egid;
	p->quit_caught = (st.sig_cgt & SIGQUIT_MASK) && !(st.sig_ign & SIGQUIT_MASK);
	p->nspid_known = st.seen & PROC_SEEN_NSPID;
	p->nspid = p->nspid_known ? st.nspid : pid;
	p->gone = st.state == 'Z' || st.state == 'X';
	return 0;
}

int attach_parse_sched_pid(const char *text, pid_t *pid)
{
	/* The name may itself hold " (": the pid follows the last one on the line. */
	const char *eol = strchr(text, '\n'), *open = NULL, *p;
	char *end;
	long v;

	for (p = text; (p = strstr(p, " (")) && (!eol || p < eol); p++)
		open = p;
	if (!open)
		return -EPROTO;
	errno = 0;
	v = strtol(open + 2, &end, 10);
	if (end == open + 2 || errno || v <= 0 || v > INT_MAX || strncmp(end, ", #threads:", 11))
		return -EPROTO;
	*pid = (pid_t)v;
	return 0;
}

int attach_encode_v1(struct strbuf *req, const char *cmd, const char *arg0, const char *arg1,
		     const char *arg2)
{
	const char *args[3] = {arg0, arg1, arg2};

	if (strlen(cmd) > V1_MAX_CMD)
		return -E2BIG;
	for (int i = 0; i < 3; i++)
		if (args[i] && strlen(args[i]) > V1_MAX_ARG)
			return -E2BIG;
	strbuf_add(req, "1", 2);
	strbuf_add(req, cmd, strlen(cmd) + 1);
	/* The JVM reads exactly three arguments; a missing one is an empty string. */
	for (int i = 0; i < 3; i++)
		strbuf_add(req, args[i] ? args[i] : "", args[i] ? strlen(args[i]) + 1 : 1);
	return 0;
}

int attach_encode_v2(struct strbuf *req, const char *cmd, const char *const *args, size_t nargs)
{
	size_t body = strlen(cmd) + 1;

	for (size_t i = 0; i < nargs; i++) {
		body += strlen(args[i]) + 1;
		if (body > V2_MAX_BODY)
			return -E2BIG;
	}
	if (body > V2_MAX_BODY)
		return -E2BIG;
	strbuf_add(req, "2", 2);
	/* The size lets the JVM read the whole request before parsing it. */
	strbuf_addf(req, "%zu", body);
	strbuf_addch(req, '\0');
	strbuf_add(req, cmd, strlen(cmd) + 1);
	for (size_t i = 0; i < nargs; i++)
		strbuf_add(req, args[i], strlen(args[i]) + 1);
	return 0;
}

int attach_parse_reply(const char *buf, size_t len, int *status, size_t *text_off)
{
	size_t i = 0, digits = 0;
	long long v = 0;
	bool neg = false;

	if (len && buf[0] == '-') {
		neg = true;
		i++;
	}
	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		if (++digits > 10)
			return -EPROTO;
		v = v * 10 + (buf[i] - '0');
	}
	if (i == len)
		return digits <= 10 ? -EAGAIN : -EPROTO;
	if (buf[i] != '\n' || !digits)
		return -EPROTO;
	if (digits > 1 && buf[neg ? 1 : 0] == '0')
		return -EPROTO;
	if (neg)
		v = -v;
	if (v < INT_MIN || v > INT_MAX)
		return -EPROTO;
	*status = (int)v;
	*text_off = i + 1;
	return 0;
}

int attach_parse_version(int status, const char *text, bool *streaming)
{
	char *end;
	long v;

	*streaming = false;
	if (status != 0)
		return 1;
	errno = 0;
	v = strtol(text, &end, 10);
	if (end == text || errno || v < 1 || v > 1000)
		return 1;
	/* Options follow the version: "2 streaming", maybe more, comma separated. */
	for (const char *p = end; *p;) {
		size_t n;

		p += strspn(p, " ,\n");
		n = strcspn(p, " ,\n");
		if (n == 9 && !strncmp(p, "streaming", 9))
			*streaming = true;
		p += n;
	}
	return (int)v;
}

int attach_check_socket(const char *path, uid_t owner, struct strbuf *err)
{
	struct stat st;

	/* lstat: a symlink planted in a shared /tmp must not lead us elsewhere. */
	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode)) {
		strbuf_addf(err, "refusing '%s': not a socket%s", path,
			    S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
		return -EPERM;
	}
	if (st.st_uid != owner) {
		strbuf_addf(err, "refusing '%s': owned by uid %u, the JVM runs as uid %u", path,
			    (unsigned)st.st_uid, (unsigned)owner);
		return -EPERM;
	}
	if (st.st_mode & 077) {
		strbuf_addf(err, "refusing '%s': mode %04o lets other users in", path,
			    (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
}

/* --- the target process ---------------------------------------------------------- */

static int load_proc(struct attach_ctx *c)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = procfs_read_pid(c->pid, "status", &sb, 1 << 16);

	if (ret == -ESRCH)
		strbuf_addf(c->err, "no process %d", (int)c->pid);
	else if (ret)
		strbuf_addf(c->err, "cannot read the status of process %d: %s", (int)c->pid,
			    strerror(-ret));
	else if ((ret = attach_parse_status(sb.buf, c->pid, &c->proc)))
		strbuf_addf(c->err, "cannot parse the status of process %d", (int)c->pid);
	else if (c->proc.gone) {
		strbuf_addf(c->err, "process %d has exited", (int)c->pid);
		ret = -ESRCH;
	}
	strbuf_release(&sb);
	return ret;
}

/*
 * The process's state letter from /proc/PID/status ('R', 'S', 'T'...), or 0 when it is
 * gone: no such pid, or a zombie (kill(pid, 0) still succeeds on those).
 */
static char proc_state(pid_t pid)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	struct proc_status st;
	char state = 0;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	if (procfs_read_pid(pid, "status", &sb, 1 << 16) == -ESRCH)
		goto out;
	state = !proc_status_scan(sb.buf, sb.len, &st, &err) && st.state ? st.state : '?';
	if (state == 'Z' || state == 'X')
		state = 0;
out:
	strbuf_release(&err);
	strbuf_release(&sb);
	return state;
}

/*
 * The target's state as proc_state, or 0 when the process the pidfd holds has exited
 * (its pid may already belong to another process).
 */
static char target_state(struct attach_ctx *c)
{
	struct pollfd pfd = {.fd = c->pidfd, .events = POLLIN};

	/* A pidfd polls readable once its process has exited. */
	if (c->pidfd >= 0 && poll(&pfd, 1, 0) != 0)
		return 0;
	return proc_state(c->pid);
}

static bool target_gone(struct attach_ctx *c)
{
	return !target_state(c);
}

/* Stopped by SIGSTOP ('T') or by a tracer ('t'): it can neither see a signal nor answer. */
static bool state_stopped(char state)
{
	return state == 'T' || state == 't';
}

static int gone_error(struct attach_ctx *c)
{
	strbuf_reset(c->err);
	strbuf_addf(c->err, "process %d exited during the attach", (int)c->pid);
	return -ESRCH;
}

/*
 * The JVM's temp dir is always /tmp as the JVM sees it (not java.io.tmpdir).
 * /proc/PID/root/tmp reaches into another mount namespace; it is unreadable for
 * another user's non-dumpable process, hence the fallback.
 */
static void find_tmpdir(struct attach_ctx *c)
{
	struct stat st;

	if (!procfs_path(c->tmpdir, sizeof(c->tmpdir), "%d/root/tmp", (int)c->pid) &&
	    !stat(c->tmpdir, &st) && S_ISDIR(st.st_mode))
		return;
	if (sysroot_path(c->tmpdir, sizeof(c->tmpdir), "/tmp"))
		snprintf(c->tmpdir, sizeof(c->tmpdir), "/tmp");
}

static bool is_openj9(struct attach_ctx *c)
{
	char path[PATH_MAX];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/.com_ibm_tools_attach/%d/attachInfo", c->tmpdir,
			 (int)c->proc.nspid);

	return n > 0 && (size_t)n < sizeof(path) && !lstat(path, &st);
}

/* -1 unknown (maps unreadable), 0 no, 1 yes. */
static int maps_have_libjvm(pid_t pid)
{
	int ret = pslist_maps_libjvm(pid);

	return ret < 0 ? -1 : ret;
}

static bool has_hsperfdata(const char *tmpdir, pid_t nspid)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;
		int n;

		if (strncmp(de->d_name, "hsperfdata_", 11))
			continue;
		n = snprintf(path, sizeof(path), "%s/%s/%d", tmpdir, de->d_name, (int)nspid);
		found =
		    n > 0 && (size_t)n < sizeof(path) && !lstat(path, &st) && S_ISREG(st.st_mode);
	}
	closedir(d);
	return found;
}

bool attach_is_jvm(pid_t pid)
{
	struct strbuf err = STRBUF_INIT;
	struct attach_ctx c = {.pid = pid, .pidfd = -1, .err = &err};
	bool yes = false;
	int m;

	if (load_proc(&c))
		goto out;
	find_tmpdir(&c);
	m = maps_have_libjvm(pid);
	if (m >= 0) {
		yes = m;
		goto out;
	}
	if (snprintf(c.sock, sizeof(c.sock), "%s/.java_pid%d", c.tmpdir, (int)c.proc.nspid) >=
	    (int)sizeof(c.sock))
		goto out;
	yes = !attach_check_socket(c.sock, c.proc.euid, &err) ||
	      has_hsperfdata(c.tmpdir, c.proc.nspid);
out:
	strbuf_release(&err);
	return yes;
}

/* The path of the first libjvm.so in maps (len bytes of /proc/PID/maps), or false. */
static bool maps_libjvm_path(const char *maps, char *path, size_t n)
{
	for (const char *s = maps; *s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		const char *p = memchr(s, '/', len);

		if (p && region_path_is_libjvm(s, len) && (size_t)(s + len - p) < n) {
			memcpy(path, p, (size_t)(s + len - p));
			path[s + len - p] = '\0';
			return true;
		}
		s += len + !!nl;
	}
	return false;
}

int attach_check_hotspot(pid_t pid, struct strbuf *err)
{
	struct strbuf maps = STRBUF_INIT;
	char lib[PATH_MAX], path[PATH_MAX + 64];
	uint64_t value, size;
	struct stat st;
	void *buf = MAP_FAILED;
	int fd = -1, ret;

	ret = procfs_read_pid(pid, "maps", &maps, 256u << 20);
	if (ret) {
		strbuf_addf(err, "cannot read the memory map of process %d: %s", (int)pid,
			    strerror(-ret));
		goto out;
	}
	if (!maps_libjvm_path(maps.buf, lib, sizeof(lib)))
		goto out;
	/* the JVM's own file, through its root: it may run in a container */
	ret = procfs_path(path, sizeof(path), "%d/root%s", (int)pid, lib);
	if (ret) {
		strbuf_addf(err, "the path of the JVM's '%s' is too long", lib);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = fd < 0 ? -errno : -ENOEXEC;
		strbuf_addf(err, "cannot read the JVM's '%s' in process %d: %s", lib, (int)pid,
			    strerror(-ret));
		goto out;
	}
	buf = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (buf == MAP_FAILED) {
		ret = -errno;
		strbuf_addf(err, "cannot read the JVM's '%s' in process %d: %s", lib, (int)pid,
			    strerror(-ret));
		goto out;
	}
	/* HotSpot exports its self-description for the serviceability agent; OpenJ9 does not */
	if (inject_elf_symbol(buf, (size_t)st.st_size, "gHotSpotVMStructs", &value, &size)) {
		ret = -EPROTONOSUPPORT;
		strbuf_addf(err,
			    "process %d is a JVM that is not HotSpot: its '%s' has no gHotSpotVMStructs",
			    (int)pid, lib);
	}
out:
	if (buf != MAP_FAILED)
		munmap(buf, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	strbuf_release(&maps);
	return ret;
}

/* Launcher options that take the next word as their value (not the main class). */
static bool takes_value(const char *a)
{
	static const char *const opts[] = {"-cp",
					   "-classpath",
					   "--class-path",
					   "-p",
					   "--module-path",
					   "--upgrade-module-path",
					   "--add-modules",
					   "--limit-modules",
					   "--add-reads",
					   "--add-exports",
					   "--add-opens",
					   "--patch-module",
					   "--source",
					   "--enable-native-access",
					   NULL};

	for (int i = 0; opts[i]; i++)
		if (!strcmp(a, opts[i]))
			return true;
	return false;
}

/* Applies one JVM option word to *disabled when it sets DisableAttachMechanism. */
static void apply_option(const char *a, size_t n, bool *disabled)
{
	static const char flag[] = "DisableAttachMechanism";

	if (n == 5 + sizeof(flag) - 1 && !strncmp(a, "-XX:", 4) && (a[4] == '+' || a[4] == '-') &&
	    !strncmp(a + 5, flag, sizeof(flag) - 1))
		*disabled = a[4] == '+';
}

static void apply_env(const char *env, const char *name, bool *disabled)
{
	size_t n = strlen(name);

	if (strncmp(env, name, n) || env[n] != '=')
		return;
	for (const char *p = env + n + 1; *p;) {
		size_t w;

		p += strspn(p, " \t");
		w = strcspn(p, " \t");
		apply_option(p, w, disabled);
		p += w;
	}
}

/*
 * -XX:+DisableAttachMechanism: the JVM never starts a listener, and SIGQUIT would only
 * print a thread dump into its stdout. Later settings win: JAVA_TOOL_OPTIONS, then the
 * command line up to the main class, then _JAVA_OPTIONS.
 */
static bool attach_disabled(pid_t pid)
{
	struct strbuf cmd = STRBUF_INIT, env = STRBUF_INIT;
	bool disabled = false;
	bool have_env = !procfs_read_pid(pid, "environ", &env, 4u << 20);

	for (size_t i = 0; have_env && i < env.len; i += strlen(env.buf + i) + 1)
		apply_env(env.buf + i, "JAVA_TOOL_OPTIONS", &disabled);
	if (!procfs_read_pid(pid, "cmdline", &cmd, 4u << 20)) {
		size_t i = cmd.len ? strlen(cmd.buf) + 1 : 0; /* skip argv[0] */

		while (i < cmd.len) {
			const char *a = cmd.buf + i;

			i += strlen(a) + 1;
			if (a[0] != '-' || !strcmp(a, "-jar") || !strcmp(a, "-m") ||
			    !strcmp(a, "--module"))
				break;
			apply_option(a, strlen(a), &disabled);
			if (takes_value(a) && i < cmd.len)
				i += strlen(cmd.buf + i) + 1;
		}
	}
	for (size_t i = 0; have_env && i < env.len; i += strlen(env.buf + i) + 1)
		apply_env(env.buf + i, "_JAVA_OPTIONS", &disabled);
	strbuf_release(&cmd);
	strbuf_release(&env);
	return disabled;
}

/* --- credentials ----------------------------------------------------------------- */

/*
 * As root, act as the JVM's user: the JVM accepts a peer with its own effective
 * ids (JDK 8 accepts nothing else) and checks the trigger file's owner. The gid
 * must change first: once the uid is not 0 we could no longer change it.
 */
static int creds_enter(struct attach_ctx *c)
{
	if (geteuid() != 0 || (c->proc.euid == 0 && c->proc.egid == getegid()))
		return 0;
	c->saved_euid = geteuid();
	c->saved_egid = getegid();
	if (setegid(c->proc.egid) < 0)
		goto fail;
	if (seteuid(c->proc.euid) < 0) {
		int e = errno;

		if (setegid(c->saved_egid) < 0)
			abort(); /* cannot happen as root; never go on with the wrong ids */
		errno = e;
		goto fail;
	}
	c->switched = true;
	return 0;
fail:
	strbuf_addf(c->err, "cannot switch to uid %u gid %u of process %d: %s",
		    (unsigned)c->proc.euid, (unsigned)c->proc.egid, (int)c->pid, strerror(errno));
	return -errno;
}

static void creds_leave(struct attach_ctx *c)
{
	if (!c->switched)
		return;
	/* Going back to root cannot fail; carrying on as another user would be worse. */
	if (seteuid(c->saved_euid) < 0 || setegid(c->saved_egid) < 0)
		abort();
	c->switched = false;
}

/* --- starting the listener ------------------------------------------------------- */

/*
 * Creates the trigger file, in the JVM's cwd first (where every HotSpot looks), else in
 * its tmp. O_EXCL: never reuse or truncate a file someone else placed. Returns 0 with
 * *dirfd and name set for unlinkat(): /proc/PID/cwd stops resolving once the process
 * exits, the directory it pointed to does not.
 *
 * HotSpot stat()s <cwd>/.attach_pid<nspid> (following links) and looks in tmp only when
 * that fails; a file it finds that is owned by neither its euid nor root is rejected, and
 * the SIGQUIT then prints a thread dump (attachListener_linux.cpp, is_init_trigger). So a
 * file someone else left in the cwd is checked as the JVM will see it, before any signal.
 */
static int create_trigger(struct attach_ctx *c, int *dirfd, char *name, size_t n)
{
	int errs[2] = {ENOENT, ENOENT};

	snprintf(name, n, ".attach_pid%d", (int)c->proc.nspid);
	for (int where = 0; where < 2; where++) {
		char dir[PATH_MAX], shown[PATH_MAX];
		struct stat st;
		ssize_t len;
		int fd;

		if (where == 0 ? procfs_path(dir, sizeof(dir), "%d/cwd", (int)c->pid)
			       : snprintf(dir, sizeof(dir), "%s", c->tmpdir) >= (int)sizeof(dir))
			continue;
		*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (*dirfd < 0) {
			errs[where] = errno;
			continue;
		}
		fd = openat(*dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		errs[where] = errno;
		if (fd >= 0) {
			/* Root-squashed NFS and the like give it another owner: the JVM would
			 * ignore it. */
			if (!fstat(fd, &st) && st.st_uid == geteuid()) {
				close(fd);
				return 0;
			}
			errs[where] = EPERM;
			close(fd);
			unlinkat(*dirfd, name, 0);
		} else if (where == 0 && errs[0] == EEXIST && !fstatat(*dirfd, name, &st, 0) &&
			   st.st_uid != c->proc.euid && st.st_uid != 0) {
			len = readlink(dir, shown, sizeof(shown) - 1);
			shown[len > 0 ? len : 0] = '\0';
			/* clang-format off */
			strbuf_addf(c->err, "refusing to signal process %d: '%s/%s' (owned by uid %u) is in the way: the JVM would find it first and print a thread dump instead of listening",
				    (int)c->pid, len > 0 ? shown : dir, name, (unsigned)st.st_uid);
			/* clang-format on */
			close(*dirfd);
			*dirfd = -1;
			return -EEXIST;
		}
		close(*dirfd);
	}
	*dirfd = -1;
	/* clang-format off */
	strbuf_addf(c->err, "cannot create the attach trigger file '%s' for process %d in its cwd (%s) or in '%s' (%s)",
		    name, (int)c->pid, strerror(errs[0]), c->tmpdir, strerror(errs[1]));
	/* clang-format on */
	return -EACCES;
}

static int send_quit(struct attach_ctx *c)
{
	int r = c->pidfd >= 0 ? (int)syscall(SYS_pidfd_send_signal, c->pidfd, SIGQUIT, NULL, 0)
			      : kill(c->pid, SIGQUIT);

	if (r == 0)
		return 0;
	if (errno == ESRCH)
		return gone_error(c);
	strbuf_addf(c->err, "cannot signal process %d: %s", (int)c->pid, strerror(errno));
	return -errno;
}

/*
 * Makes the JVM open its socket: trigger file + SIGQUIT, then poll with growing sleeps
 * (JDK's VirtualMachineImpl: 100, 200, 300 ms...; we start at 10 ms since a JVM
 * usually answers within a few), sending SIGQUIT once more at half time in case the
 * first arrived before the JVM's signal handler was ready.
 */
static int start_listener(struct attach_ctx *c)
{
	char trigger[64];
	int trigger_dir;
	long long start, deadline;
	bool signalled = false, resent = false;
	int ret, m;

	m = maps_have_libjvm(c->pid);
	if (m == 0 || (m < 0 && !has_hsperfdata(c->tmpdir, c->proc.nspid))) {
		if (target_gone(c))
			return gone_error(c);
		if (m < 0)
			strbuf_addf(c->err,
				    "cannot tell whether process %d is a JVM: its memory map is unreadable and it has no hsperfdata file",
				    (int)c->pid);
		else
			strbuf_addf(
			    c->err,
			    "process %d is not a HotSpot JVM (no libjvm.so in its memory map)",
			    (int)c->pid);
		return m < 0 ? -EACCES : -ENOTSUP;
	}
	if (attach_disabled(c->pid)) {
		strbuf_addf(c->err,
			    "process %d does not accept attach requests: it runs with -XX:+DisableAttachMechanism",
			    (int)c->pid);
		return -ECONNREFUSED;
	}
	if (!c->proc.quit_caught) {
		/* -Xrs JVMs open the socket at startup; none here means it is not listening. */
		strbuf_addf(c->err,
			    "process %d has no attach socket and does not catch SIGQUIT (started with -Xrs, or still starting)",
			    (int)c->pid);
		return -ECONNREFUSED;
	}

	ret = creds_enter(c);
	if (ret)
		return ret;
	ret = create_trigger(c, &trigger_dir, trigger, sizeof(trigger));
	creds_leave(c);
	if (ret)
		return ret;
	/*
	 * A stopped JVM keeps the signal pending; should we give up before it resumes, it
	 * would find no trigger and print a thread dump instead. So signal only a running
	 * process, and wait for a stopped one to resume.
	 */
	start = now_ms();
	deadline = c->deadline;
	for (long step = 10;; step = step < 500 ? step * 2 : 1000) {
		char state = target_state(c);
		long long now = now_ms();
		long nap = step;

		if (!state) {
			ret = gone_error(c);
			break;
		}
		if (!state_stopped(state) &&
		    (!signalled || (!resent && now - start >= (deadline - start) / 2))) {
			resent = signalled;
			signalled = true;
			ret = send_quit(c);
			if (ret)
				break;
		}
		if (now >= deadline) {
			if (state_stopped(state))
				strbuf_addf(c->err,
					    "process %d is stopped (SIGSTOP or a debugger) and did not open its attach socket within %gs",
					    (int)c->pid, c->timeout_ms / 1000.0);
			else
				strbuf_addf(
				    c->err,
				    "timed out after %gs waiting for process %d to open its attach socket '%s'",
				    c->timeout_ms / 1000.0, (int)c->pid, c->sock);
			ret = -ETIMEDOUT;
			break;
		}
		if (nap > deadline - now)
			nap = (long)(deadline - now);
		sleep_ms(nap);
		ret = attach_check_socket(c->sock, c->proc.euid, c->err);
		if (ret != -ENOENT)
			break;
	}
	unlinkat(trigger_dir, trigger, 0);
	close(trigger_dir);
	return ret;
}

/* --- one request over one connection --------------------------------------------- */

static int sock_connect(struct attach_ctx *c, int *fdp)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	long long left = left_ms(c);
	struct timeval tv = {left / 1000, (left % 1000) * 1000};
	int fd, ret = 0;

	if (strlen(c->sock) >= sizeof(sa.sun_path)) {
		strbuf_addf(c->err, "socket path '%s' is too long", c->sock);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, c->sock, strlen(c->sock) + 1);
	if (!left)
		return timed_out(c, "the JVM to accept a connection");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		strbuf_addf(c->err, "cannot create a socket: %s", strerror(errno));
		return -errno;
	}
	/* A Unix connect blocks only while the backlog is full; SO_SNDTIMEO bounds that. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ret = creds_enter(c);
	if (ret)
		goto out;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		ret = -errno;
	creds_leave(c);
	if (ret == -EAGAIN || ret == -EINPROGRESS) {
		ret = timed_out(c, "the JVM to accept a connection");
	} else if (ret == -ECONNREFUSED) {
		if (target_gone(c))
			ret = gone_error(c);
		else
			strbuf_addf(c->err, "process %d does not listen on '%s' (a stale socket?)",
				    (int)c->pid, c->sock);
	} else if (ret) {
		strbuf_addf(c->err, "cannot connect to '%s': %s", c->sock, strerror(-ret));
	}
	if (!ret && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		ret = -errno;
out:
	if (ret)
		close(fd);
	else
		*fdp = fd;
	return ret;
}

/*
 * Waits for events on fd until the attach's deadline (not a fresh one per call: a JVM
 * that trickles a byte now and then must not keep us waiting forever); 0 ready,
 * -ETIMEDOUT, or -ESRCH if the JVM died. what names the awaited thing in the error.
 */
static int wait_fd(struct attach_ctx *c, int fd, short events, const char *what)
{
	struct pollfd pfd = {.fd = fd, .events = events};

	for (;;) {
		long long left = left_ms(c);
		int r;

		if (left <= 0)
			return timed_out(c, what);
		/* Wake up now and then to notice a JVM that died without closing (a zombie). */
		r = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR) {
			strbuf_addf(c->err, "poll: %s", strerror(errno));
			return -errno;
		}
		if (r == 0 && target_gone(c))
			return gone_error(c);
	}
}

static int send_all(struct attach_ctx *c, int fd, const char *buf, size_t len)
{
	while (len) {
		/* MSG_NOSIGNAL: a JVM that closes early must not kill us with SIGPIPE. */
		ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);

		if (w < 0) {
			int ret;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				if (target_gone(c))
					return gone_error(c);
				strbuf_addf(c->err, "cannot send the request to process %d: %s",
					    (int)c->pid, strerror(errno));
				return -errno;
			}
			ret = wait_fd(c, fd, POLLOUT, "the JVM to take the request");
			if (ret)
				return ret;
			continue;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Reads the whole reply into out, then strips and parses its status line. */
static int read_reply(struct attach_ctx *c, int fd, int *status, struct strbuf *out)
{
	size_t off;
	int ret;

	strbuf_reset(out);
	for (;;) {
		ssize_t r;

		if (out->alloc - out->len < 4096 + 1)
			strbuf_grow(out, out->len < 16384 ? 16384 : out->len);
		r = recv(fd, out->buf + out->len, out->alloc - out->len - 1, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				ret = wait_fd(c, fd, POLLIN, "the JVM's reply");
				if (ret)
					return ret;
				continue;
			}
			if (target_gone(c))
				return gone_error(c);
			strbuf_addf(c->err, "cannot read the reply of process %d: %s", (int)c->pid,
				    strerror(errno));
			return -errno;
		}
		if (r == 0)
			break;
		if (!left_ms(c))
			return timed_out(c, "the JVM's reply");
		out->len += (size_t)r;
		out->buf[out->len] = '\0';
		if (out->len > ATTACH_MAX_REPLY) {
			strbuf_addf(c->err, "the reply of process %d is larger than %u MiB",
				    (int)c->pid, ATTACH_MAX_REPLY >> 20);
			return -EFBIG;
		}
		/* Refuse garbage early rather than after reading 64 MiB of it. */
		if (attach_parse_reply(out->buf, out->len, status, &off) == -EPROTO)
			break;
	}
	ret = attach_parse_reply(out->buf, out->len, status, &off);
	if (ret) {
		if (!out->len && target_gone(c))
			return gone_error(c);
		if (!out->len)
			strbuf_addf(c->err, "process %d closed the connection without a reply",
				    (int)c->pid);
		else
			strbuf_addf(c->err, "process %d sent a malformed reply (no status line)",
				    (int)c->pid);
		return -EPROTO;
	}
	memmove(out->buf, out->buf + off, out->len - off);
	strbuf_setlen(out, out->len - off);
	return 0;
}

static int request(struct attach_ctx *c, const struct strbuf *req, int *status, struct strbuf *out)
{
	int fd = -1, ret = sock_connect(c, &fd);

	if (ret)
		return ret;
	ret = send_all(c, fd, req->buf, req->len);
	if (!ret)
		ret = read_reply(c, fd, status, out);
	close(fd);
	return ret;
}

/*
 * Kernels before 4.1 have no NSpid: line. Then the target's own /proc (reached through
 * /proc/PID/root/proc) has one entry whose sched line names our pid for it.
 */
static void nspid_from_sched(struct attach_ctx *c)
{
	char dir[PATH_MAX];
	struct strbuf sb = STRBUF_INIT;
	struct dirent *de;
	DIR *d;

	if (procfs_path(dir, sizeof(dir), "%d/root/proc", (int)c->pid) || !(d = opendir(dir)))
		return;
	while ((de = readdir(d))) {
		char path[PATH_MAX + 300];
		pid_t host;
		char *end;
		long n = strtol(de->d_name, &end, 10);

		if (*end || n <= 0 || n > INT_MAX)
			continue;
		snprintf(path, sizeof(path), "%s/%s/sched", dir, de->d_name);
		if (!procfs_read_file(path, &sb, 1 << 16) && !attach_parse_sched_pid(sb.buf, &host) &&
		    host == c->pid) {
			c->proc.nspid = (pid_t)n;
			break;
		}
	}
	closedir(d);
	strbuf_release(&sb);
}

/*
 * Runs the attach operation op with up to three arguments (v1 allows three) in the JVM pid;
 * as attach_jcmd. A jcmd is streamed where protocol 2 offers it.
 */
static int attach_op(pid_t pid, const char *op, const char *const *args, size_t nargs,
		     int timeout_ms, int *status, struct strbuf *out, struct strbuf *err)
{
	struct attach_ctx c = {.pid = pid, .pidfd = -1, .err = err};
	struct strbuf req = STRBUF_INIT;
	bool streaming;
	int ret, version;

	c.timeout_ms = timeout_ms > 0 ? timeout_ms : ATTACH_DEFAULT_TIMEOUT_MS;
	/* One deadline for everything below: the trigger, both requests, every byte. */
	c.deadline = now_ms() + c.timeout_ms;
	/* Held before reading anything about the process: what we read is about this one. */
	c.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	ret = load_proc(&c);
	if (ret)
		goto out;
	/* The JVM rejects any peer but its own user and root: say so before touching it. */
	if (geteuid() != 0 && geteuid() != c.proc.euid) {
		/* clang-format off */
		strbuf_addf(err, "not allowed to attach to process %d: it belongs to uid %u and offheap runs as uid %u",
			    (int)pid, (unsigned)c.proc.euid, (unsigned)geteuid());
		/* clang-format on */
		ret = -EACCES;
		goto out;
	}
	if (!c.proc.nspid_known)
		nspid_from_sched(&c);
	find_tmpdir(&c);
	if (snprintf(c.sock, sizeof(c.sock), "%s/.java_pid%d", c.tmpdir, (int)c.proc.nspid) >=
	    (int)sizeof(c.sock)) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	ret = attach_check_socket(c.sock, c.proc.euid, err);
	if (!ret && maps_have_libjvm(pid) == 0) {
		/* A JVM killed by SIGKILL leaves its socket; its pid may now be another program's. */
		/* clang-format off */
		strbuf_addf(err, "process %d is not a HotSpot JVM (no libjvm.so in its memory map): '%s' is left over from an earlier process with that pid",
			    (int)pid, c.sock);
		/* clang-format on */
		ret = -ENOTSUP;
	} else if (ret == -ENOENT && is_openj9(&c)) {
		/* clang-format off */
		strbuf_addf(err, "process %d is an OpenJ9 JVM: only HotSpot's attach protocol is supported",
			    (int)pid);
		/* clang-format on */
		ret = -ENOTSUP;
	} else if (ret == -ENOENT) {
		ret = start_listener(&c);
	}
	if (ret)
		goto out;

	/*
	 * The probe is a protocol-1 request every JVM parses: JDK 24+ answers with its
	 * version and options, older ones -1 (unknown operation), which means protocol 1.
	 */
	attach_encode_v1(&req, "getversion", "options", NULL, NULL);
	ret = request(&c, &req, status, out);
	if (ret)
		goto out;
	version = attach_parse_version(*status, out->buf, &streaming);

	strbuf_reset(&req);
	if (version >= 2) {
		bool jcmd = !strcmp(op, "jcmd");

		/* As JDK 25's jcmd: the line is one argument, output streamed as produced. */
		ret = attach_encode_v2(&req, jcmd && streaming ? "jcmd streaming=1" : op, args,
				       nargs);
	} else {
		ret = attach_encode_v1(&req, op, nargs > 0 ? args[0] : NULL,
				       nargs > 1 ? args[1] : NULL, nargs > 2 ? args[2] : NULL);
	}
	if (ret) {
		strbuf_addf(err, "the command line is too long for attach protocol %d (%zu bytes)",
			    version >= 2 ? 2 : 1, strlen(nargs ? args[0] : op));
		goto out;
	}
	ret = request(&c, &req, status, out);
out:
	if (c.pidfd >= 0)
		close(c.pidfd);
	strbuf_release(&req);
	if (ret)
		strbuf_reset(out);
	return ret;
}

int attach_jcmd(pid_t pid, const char *cmdline, int timeout_ms, int *status, struct strbuf *out,
		struct strbuf *err)
{
	return attach_op(pid, "jcmd", &cmdline, 1, timeout_ms, status, out, err);
}

int attach_load(pid_t pid, const char *path, const char *options, int timeout_ms,
		struct strbuf *out, struct strbuf *err)
{
	/* "true": the path is absolute (JVM.md, "Dynamic agent") */
	const char *args[] = {path, "true", options ? options : ""};
	const char *rc;
	int status = 0, ret;

	ret = attach_op(pid, "load", args, 3, timeout_ms, &status, out, err);
	if (ret)
		return ret;
	/* JDK 9+ answers "return code: N" with status 0; older ones the bare code */
	rc = strstr(out->buf, "return code: ");
	if (!status && (rc ? atoi(rc + 13) == 0 : out->buf[0] == '0' && atoi(out->buf) == 0))
		return 0;
	strbuf_rtrim(out);
	strbuf_addf(err, "the JVM %d refused to load '%s' as an agent: %s", (int)pid, path,
		    out->len ? out->buf : "no reason given");
	return -EPERM;
}
