/*
 * recorder: the engine of 'offheap record -- CMD' — runs CMD with liboffheap.so
 * and records its allocation sites by call stack into a SQLite recording.
 *
 * The tracker in the target keeps per-stack counters in a shared file
 * (preload/trackshm.h); every interval the recorder copies the stacks whose
 * counters changed into the alloc_* tables (src/store/allocdb.c), one transaction
 * per interval, in place: the recording is created atomically (empty, with
 * its schema) before the command starts and then grows, so a recording ended
 * by SIGKILL of either side is valid up to the last interval. Stacks are
 * symbolized at the end (and at each exec) from the target's module list,
 * which is read while it runs; the symbolized frames are stored, so the
 * report needs neither the target nor its binaries.
 *
 * JVM targets (libjvm.so mapped): JIT code has no symbols, so while the JVM
 * lives the recorder asks it for its perf map ('jcmd PID Compiler.perfmap',
 * JDK 17+, over the attach socket) whenever new stacks appeared, at most
 * every JIT_MAP_MIN_MS, and once more when a signal is passed on to it;
 * each map read (/proc/PID/root/tmp/perf-NSPID.map) replaces the run's
 * alloc_jitmap rows, and the map file is removed when it was ours. A JVM
 * that exits on its own keeps the last map asked for.
 */
#include "recorder.h"
#include "allocdb.h"
#include "attach.h"
#include "parse.h"
#include "perfmap.h"
#include "proc.h"
#include "procfs.h"
#include "pslist.h"
#include "strbuf.h"
#include "symbolize.h"
#include "trackfile.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

/* One stack seen in the shared file, for the current run. */
struct rstack {
	int64_t id;
	int64_t live_bytes;
	uint64_t alloc_count, free_count;
	uint32_t depth;
	uint64_t pcs[TRACK_MAX_DEPTH];
	bool known;
	bool symbolized;
};

struct recorder {
	pid_t child;
	char *command;
	char *lib;
	char sample[32];	/* OFFHEAP_SAMPLE */
	char shm[PATH_MAX];	/* the tracker's file */
	bool have_shm;
	sigset_t set, oldmask;	/* the signals we wait for; the mask before */
	bool masked;
	int errpipe;		/* the child's execvp errno, -1 none */
	int status;		/* the command's wait status */
	bool exited;
	uint64_t interval_ms;
	int64_t next_ms;	/* when the next interval is due */
	struct recorder_notice *notices;
	size_t nnotices, anotices;
	struct allocdb *adb;
	struct trackfile *tf;
	struct track_view view;
	struct symbolizer *sym;
	uint64_t generation;
	bool exiting;		/* this poll is the exit handshake of the current image */
	uint64_t final_gen;	/* the image whose final interval is written; 0 none */
	uint64_t children;	/* processes started below the images, not recorded */
	uint64_t gen_children;	/* of them, counted in the current image's header */
	uint64_t degraded_gen;	/* the image whose ceiling was last noticed, at: */
	uint32_t degraded_kib;
	size_t stacks;		/* stacks seen over every image */
	int64_t run_id;
	struct rstack *slots; /* by slot */
	size_t nslots;
	int64_t *ids;
	bool *changed;
	size_t aids, achanged;
	struct timespec start;
	bool any;
	/* JVM targets: the perf map (see the file header) */
	bool jvm;		/* the current image has libjvm.so mapped */
	int jvm_checks;		/* looks for libjvm.so in the current image */
	int map_failures;	/* consecutive failed requests; JIT_MAP_TRIES stops them */
	bool map_given_up;
	pid_t nspid;		/* the JVM's pid in its namespace: the map's name */
	int64_t map_ms;		/* when the map was last asked for; -1 never */
	size_t map_sites;	/* sites at that moment */
	int map_file;		/* -1 unknown, 0 the map file was absent before us, 1 it existed */
	unsigned lost;		/* intervals that could not be written */
	bool names_lost;	/* the function names of the last image could not be written */
	struct strbuf lost_why;	/* the first reason */
};

#define JIT_MAP_MIN_MS 2000
#define JIT_MAP_TIMEOUT_MS 3000
#define JIT_MAP_TRIES 5
#define JVM_CHECKS 20

static void notice(struct recorder *r, enum recorder_notice_kind kind, const char *detail)
{
	struct recorder_notice *n;

	ALLOC_GROW(r->notices, r->nnotices + 1, r->anotices);
	n = &r->notices[r->nnotices++];
	n->kind = kind;
	n->pid = r->child;
	n->detail = xstrdup(detail ? detail : "");
}

static int64_t elapsed_ms(const struct recorder *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - r->start.tv_sec) * 1000 +
	       (now.tv_nsec - r->start.tv_nsec) / 1000000;
}

/* Writes the frames of every stack of the current run not yet symbolized. */
static int symbolize_run(struct recorder *r, struct strbuf *err)
{
	int ret;

	if (!r->nslots)
		return 0;
	ret = allocdb_begin(r->adb, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < r->nslots; i++) {
		struct rstack *s = &r->slots[i];
		int level = 0;

		if (!s->known || s->symbolized)
			continue;
		s->symbolized = true;
		for (uint32_t k = 0; k < s->depth; k++) {
			const struct sym_frame *fr;
			size_t n = 1;
			struct sym_frame bare = {.pc = s->pcs[k]};

			if (r->sym)
				symbolize_pc(r->sym, s->pcs[k], true, &fr, &n);
			else
				fr = &bare;
			for (size_t j = 0; j < n; j++) {
				ret = allocdb_add_frame(r->adb, s->id, level++, &fr[j], err);
				if (ret)
					return ret;
			}
		}
	}
	return allocdb_commit(r->adb, err);
}

static int new_run(struct recorder *r, struct strbuf *err)
{
	char *exe;
	int ret;

	if (r->any) {
		/* the previous image: symbolize what it left while its modules are known */
		ret = symbolize_run(r, err);
		if (ret)
			return ret;
		/*
		 * It ended by exec, which runs no exit handshake and reset the
		 * counters: its final interval repeats the last one copied.
		 */
		if (r->final_gen != r->generation) {
			ret = allocdb_end_run(r->adb, r->run_id, elapsed_ms(r), err);
			if (ret)
				return ret;
			r->final_gen = r->generation;
		}
	}
	symbolize_free(r->sym);
	r->sym = NULL;
	if (symbolize_new(r->view.pid, &r->sym, err)) {
		strbuf_reset(err); /* frames stay bare addresses */
		r->sym = NULL;
	}
	if (r->slots)
		memset(r->slots, 0, r->nslots * sizeof(*r->slots));
	r->jvm = false;
	r->jvm_checks = r->map_failures = 0;
	r->map_given_up = false;
	r->map_ms = -1;
	r->map_sites = 0;
	r->map_file = -1;
	r->generation = r->view.generation;
	r->gen_children = 0;
	r->any = true;
	ret = allocdb_add_run(r->adb, r->generation, r->view.pid, r->view.sample_mean, r->command,
			      &r->run_id, err);
	if (ret)
		return ret;
	/* the image waits for our ack (OFFHEAP_SYNC): its executable is still there to read */
	exe = proc_exe_read(r->view.pid);
	if (*exe)
		ret = allocdb_set_exe(r->adb, r->run_id, exe, err);
	free(exe);
	return ret;
}

/* Copies the counters once; writes one interval. -EAGAIN: nothing yet. */
static int poll_once(struct recorder *r, bool alive, struct strbuf *err)
{
	struct track_view *v = &r->view;
	bool invalidated = false;
	int ret;

	if (!r->tf)
		return -EAGAIN;
	ret = trackfile_read(r->tf, v, err);
	if (ret)
		return ret;
	if (!r->any || v->generation != r->generation) {
		ret = new_run(r, err);
		trackfile_ack(r->tf, v->generation);
		if (ret)
			return ret;
	}
	if (v->degraded_kib &&
	    (v->degraded_kib != r->degraded_kib || v->generation != r->degraded_gen)) {
		struct strbuf sb = STRBUF_INIT;
		char a[32], b[32];

		if (v->sample_mean)
			strbuf_addf(&sb, "sampled every %s",
				    format_size(a, sizeof(a), v->sample_mean));
		else
			strbuf_addstr(&sb, "exact");
		strbuf_addf(&sb, " until %.1f s, then sampled every %s: the tracker reached its %s ceiling",
			    (double)v->degraded_ms / 1000.0,
			    format_size(a, sizeof(a), (uint64_t)v->degraded_kib << 10),
			    format_size(b, sizeof(b), (uint64_t)v->max_mem_mib << 20));
		notice(r, RECORDER_DEGRADED, sb.buf);
		strbuf_release(&sb);
		r->degraded_kib = v->degraded_kib;
		r->degraded_gen = v->generation;
	}
	if (v->children > r->gen_children) {
		r->children += v->children - r->gen_children;
		r->gen_children = v->children;
	}
	/* its final interval is in (exit handshake): what follows is not its to record */
	if (r->final_gen == r->generation)
		return 0;
	ALLOC_GROW(r->ids, v->nr + 1, r->aids);
	ALLOC_GROW(r->changed, v->nr + 1, r->achanged);
	ret = allocdb_begin(r->adb, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < v->nr; i++) {
		const struct track_site *site = &v->sites[i];
		struct rstack *s;

		if (site->slot >= r->nslots) {
			size_t n = r->nslots ? r->nslots : 1024;

			while (n <= site->slot)
				n *= 2;
			r->slots = xrealloc(r->slots, n * sizeof(*r->slots));
			memset(r->slots + r->nslots, 0, (n - r->nslots) * sizeof(*r->slots));
			r->nslots = n;
		}
		s = &r->slots[site->slot];
		if (!s->known) {
			ret = allocdb_add_stack(r->adb, r->run_id, site->slot, site->frames,
						site->depth, &s->id, err);
			if (ret)
				goto fail;
			s->known = true;
			r->stacks++;
			s->depth = site->depth;
			memcpy(s->pcs, site->frames, site->depth * sizeof(s->pcs[0]));
			s->live_bytes = INT64_MIN;
			if (r->sym && alive) {
				if (!invalidated)
					symbolize_invalidate(r->sym);
				invalidated = true;
				for (uint32_t k = 0; k < site->depth; k++)
					symbolize_note(r->sym, site->frames[k]);
			}
		}
		r->ids[i] = s->id;
		r->changed[i] = s->live_bytes != site->live_bytes ||
				s->alloc_count != site->alloc_count ||
				s->free_count != site->free_count;
		s->live_bytes = site->live_bytes;
		s->alloc_count = site->alloc_count;
		s->free_count = site->free_count;
	}
	/*
	 * The poll of an exiting image (exit handshake) sees memory that exit
	 * handlers already freed: like the one after exit, it is the final
	 * interval, kept out of the growth trend.
	 */
	ret = allocdb_add_interval(r->adb, r->run_id, elapsed_ms(r), v, r->ids, r->changed,
				   !alive || r->exiting, err);
	if (ret)
		goto fail;
	ret = allocdb_commit(r->adb, err);
	if (!ret && (!alive || r->exiting))
		r->final_gen = r->generation;
	return ret;
fail:;
	struct strbuf scratch = STRBUF_INIT;

	/*
	 * End the transaction without adding to err: after SQLITE_FULL SQLite has
	 * already rolled it back, and the commit's own complaint would be glued
	 * onto the reason that matters.
	 */
	allocdb_commit(r->adb, &scratch);
	strbuf_release(&scratch);
	return ret;
}

static void check_jvm(struct recorder *r)
{
	struct strbuf sb = STRBUF_INIT;
	struct attach_proc p;

	if (r->jvm || r->jvm_checks >= JVM_CHECKS || !r->any)
		return;
	r->jvm_checks++;
	if (pslist_maps_libjvm(r->child) != 1)
		goto out;
	if (procfs_read_pid(r->child, "status", &sb, 1u << 20) ||
	    attach_parse_status(sb.buf, r->child, &p))
		goto out;
	r->jvm = true;
	r->nspid = p.nspid;
	/* a JVM that refuses attach would only be sent SIGQUIT for nothing */
	if (!procfs_read_pid(r->child, "cmdline", &sb, 1u << 20) &&
	    memmem(sb.buf, sb.len, "-XX:+DisableAttachMechanism", 27)) {
		notice(r, RECORDER_NO_ATTACH, NULL);
		r->map_given_up = true;
	}
out:
	strbuf_release(&sb);
}

/*
 * Asks the live JVM for its perf map and stores it for the current run.
 * Failures are only notices (Java frames then stay addresses); after JIT_MAP_TRIES
 * in a row, or a JVM without Compiler.perfmap, it stops asking.
 */
static void jit_map(struct recorder *r)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, text = STRBUF_INIT;
	struct perfmap m = {0};
	char path[PATH_MAX];
	int status = 0, ret;

	if (!r->jvm || r->map_given_up)
		return;
	r->map_ms = elapsed_ms(r);
	r->map_sites = r->view.nr;
	if (procfs_path(path, sizeof(path), "/%d/root/tmp/perf-%d.map", (int)r->child,
			(int)r->nspid))
		goto out;
	if (r->map_file < 0)
		r->map_file = access(path, F_OK) == 0;
	ret = attach_jcmd(r->child, "Compiler.perfmap", JIT_MAP_TIMEOUT_MS, &status, &out, &err);
	if (!ret && (status || strstr(out.buf, "Unknown diagnostic command") ||
		     strstr(out.buf, "Exception"))) {
		/* JDK 16 and older have no Compiler.perfmap */
		notice(r, RECORDER_NO_PERFMAP, NULL);
		r->map_given_up = true;
		goto out;
	}
	if (ret) {
		if (ret != -ESRCH && ++r->map_failures >= JIT_MAP_TRIES) {
			notice(r, RECORDER_MAP_FAILED, err.buf);
			r->map_given_up = true;
		}
		goto out;
	}
	r->map_failures = 0;
	ret = procfs_read_file(path, &text, 256u << 20);
	if (r->map_file == 0)
		unlink(path);
	if (ret)
		goto out;
	if (perfmap_parse(&m, text.buf, text.len, NULL))
		goto out;
	strbuf_reset(&err);
	if (allocdb_begin(r->adb, &err) || allocdb_set_jitmap(r->adb, r->run_id, &m, &err) ||
	    allocdb_commit(r->adb, &err))
		notice(r, RECORDER_MAP_UNSTORED, err.buf);
out:
	perfmap_release(&m);
	strbuf_release(&text);
	strbuf_release(&out);
	strbuf_release(&err);
}

/*
 * The file execvp ran for name: name itself when it holds a '/', else the
 * first executable file of that name in PATH. 0, or -ENOENT.
 */
static int find_program(const char *name, char *buf, size_t n)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(name, '/'))
		return snprintf(buf, n, "%s", name) < (int)n ? 0 : -ENAMETOOLONG;
	for (p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin"; *p; p = end + !!*end) {
		end = strchrnul(p, ':');
		if (snprintf(buf, n, "%.*s%s%s", (int)(end - p), p, end > p ? "/" : "", name) <
			(int)n &&
		    !access(buf, X_OK))
			return 0;
	}
	return -ENOENT;
}

/*
 * Why the tracker never started in the command. ld.so ignores
 * LD_PRELOAD (but for libraries in its trusted folders) in secure-execution
 * mode (AT_SECURE), which the kernel sets when the program runs with other
 * credentials than its caller's: set-user-ID or set-group-ID to another
 * user or group, or file capabilities for a caller that is not root; not
 * on a file system mounted nosuid. Otherwise the likely cause is a program
 * linked statically: there is no loader to preload anything.
 */
void recorder_explain_nothing(const char *name, struct recorder_nothing *out)
{
	char *prog = out->prog;
	struct statvfs vfs;
	struct stat st;
	bool caps;

	if (find_program(name, prog, sizeof(out->prog)) || stat(prog, &st) ||
	    (!statvfs(prog, &vfs) && (vfs.f_flag & ST_NOSUID)))
		goto static_linked;
	caps = getxattr(prog, "security.capability", NULL, 0) > 0;
	if ((st.st_mode & S_ISUID) && st.st_uid != getuid()) {
		out->why = RECORDER_WHY_SETUID;
		out->id = st.st_uid;
		return;
	}
	if ((st.st_mode & S_ISGID) && st.st_gid != getgid()) {
		out->why = RECORDER_WHY_SETGID;
		out->id = st.st_gid;
		return;
	}
	if (caps && getuid() != 0) {
		out->why = RECORDER_WHY_CAPS;
		out->id = 0;
		return;
	}
static_linked:
	out->why = RECORDER_WHY_STATIC;
	out->prog[0] = '\0';
	out->id = 0;
}

static const int passed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static pid_t start_child(char **argv, const char *lib, const char *shm, const char *sample,
			 const sigset_t *oldmask, int *errpipe)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		const char *old = getenv("LD_PRELOAD");
		char pidbuf[32];
		struct strbuf pre = STRBUF_INIT;
		int e;

		close(pfd[0]);
		strbuf_addstr(&pre, lib);
		if (old && *old)
			strbuf_addf(&pre, " %s", old);
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
		setenv("LD_PRELOAD", pre.buf, 1);
		setenv("OFFHEAP_OUT", shm, 1);
		setenv("OFFHEAP_PID", pidbuf, 1);
		setenv("OFFHEAP_SAMPLE", sample, 1);
		setenv("OFFHEAP_SYNC", "1", 1);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		execvp(argv[0], argv);
		e = errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(e == ENOENT ? 127 : 126);
	}
	close(pfd[1]);
	*errpipe = pfd[0];
	return pid;
}


int recorder_new(const char *lib, uint64_t sample, const char *command, struct recorder **out,
		 struct strbuf *err)
{
	struct recorder *r = xcalloc(1, sizeof(*r));
	int fd;

	r->lib = xstrdup(lib);
	r->command = xstrdup(command);
	r->errpipe = -1;
	strbuf_init(&r->lost_why, 0);
	snprintf(r->sample, sizeof(r->sample), "%" PRIu64, sample);
	if (sysroot_path(r->shm, sizeof(r->shm), "/tmp/offheap-track.XXXXXX") ||
	    (fd = mkstemp(r->shm)) < 0) {
		int e = errno;

		strbuf_addf(err, "cannot create the tracker's file in /tmp: %s", strerror(e));
		recorder_free(r);
		return -e;
	}
	close(fd);
	r->have_shm = true;
	*out = r;
	return 0;
}

int recorder_start(struct recorder *r, struct allocdb *adb, char **argv,
		   uint64_t interval_ms, struct strbuf *err)
{
	int ret;

	r->adb = adb;
	r->interval_ms = interval_ms;
	sigemptyset(&r->set);
	for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		sigaddset(&r->set, passed[i]);
	sigaddset(&r->set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &r->set, &r->oldmask);
	r->masked = true;

	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->child = start_child(argv, r->lib, r->shm, r->sample, &r->oldmask, &r->errpipe);
	if (r->child < 0) {
		ret = -errno;
		strbuf_addf(err, "cannot start '%s': %s", argv[0], strerror(errno));
		return ret;
	}
	ret = trackfile_open(r->shm, &r->tf, err);
	if (ret) {
		kill(r->child, SIGKILL);
		waitpid(r->child, &r->status, 0);
		return ret;
	}
	r->next_ms = (int64_t)interval_ms;
	return 0;
}

bool recorder_step(struct recorder *r)
{
	struct strbuf err = STRBUF_INIT;
	uint64_t exiting;
	int64_t wait_ms = r->next_ms - elapsed_ms(r);
	struct timespec ts;
	siginfo_t info;
	bool polled = false;
	int sig, ret;

	if (r->exited)
		return false;
	if (wait_ms > 10)
		wait_ms = 10;
	if (wait_ms < 0)
		wait_ms = 0;
	ts.tv_sec = wait_ms / 1000;
	ts.tv_nsec = (wait_ms % 1000) * 1000000;
	sig = sigtimedwait(&r->set, &info, &ts);
	if (sig == SIGCHLD) {
		pid_t p = waitpid(r->child, &r->status, WNOHANG);

		if (p == r->child && (WIFEXITED(r->status) || WIFSIGNALED(r->status)))
			r->exited = true;
	} else if (sig > 0) {
		/*
		 * Signals from the terminal reach the command's process
		 * group already; pass on those sent to us alone.
		 */
		if (info.si_code == SI_USER || info.si_code == SI_QUEUE ||
		    info.si_code == SI_TKILL) {
			/* the JVM may exit on it: its last chance to name Java frames */
			if (sig != SIGQUIT)
				jit_map(r);
			kill(r->child, sig);
		} else if (sig != SIGQUIT) {
			jit_map(r);
		}
	}
	/*
	 * A new image (the start, an exec) waits for us: look every 10 ms,
	 * its module list must be read while it lives.
	 */
	exiting = trackfile_exiting(r->tf);
	/* an exiting image is polled once: it waits for that, and exits after */
	if (r->exited || elapsed_ms(r) >= r->next_ms ||
	    (exiting == r->generation && r->final_gen != r->generation) ||
	    trackfile_generation(r->tf) != r->generation) {
		r->exiting = exiting && exiting == r->generation;
		ret = poll_once(r, !r->exited, &err);
		/* Once: a full disk would repeat it every interval. */
		if (ret && ret != -EAGAIN && !r->lost++) {
			notice(r, RECORDER_LOST, err.buf);
			strbuf_addstr(&r->lost_why, err.buf);
		}
		/* its last stacks are in: the exiting image may go on */
		if (r->exiting)
			trackfile_ack_exit(r->tf, exiting);
		/* an exiting JVM can no longer answer on its attach socket */
		if (!r->exited && !r->exiting) {
			check_jvm(r);
			if (r->jvm && r->view.nr != r->map_sites &&
			    (r->map_ms < 0 || elapsed_ms(r) - r->map_ms >= JIT_MAP_MIN_MS))
				jit_map(r);
		}
		r->next_ms = elapsed_ms(r) + (int64_t)r->interval_ms;
		polled = true;
	}
	strbuf_release(&err);
	return polled;
}

bool recorder_exited(const struct recorder *r)
{
	return r->exited;
}

const struct recorder_notice *recorder_notices(const struct recorder *r, size_t *n)
{
	*n = r->nnotices;
	return r->notices;
}

void recorder_clear_notices(struct recorder *r)
{
	for (size_t i = 0; i < r->nnotices; i++)
		free(r->notices[i].detail);
	r->nnotices = 0;
}

void recorder_progress(const struct recorder *r, struct recorder_progress *p)
{
	p->any = r->any;
	p->elapsed_ms = elapsed_ms(r);
	p->live_bytes = r->view.live_bytes;
	p->sites = r->view.nr;
}

void recorder_finish(struct recorder *r, struct recorder_result *res)
{
	struct strbuf err = STRBUF_INIT;
	int child_errno = 0;

	memset(res, 0, sizeof(*res));
	res->lost_why = "";
	if (read(r->errpipe, &child_errno, sizeof(child_errno)) == (ssize_t)sizeof(child_errno)) {
		res->exec_errno = child_errno;
		return;
	}
	if (r->any && symbolize_run(r, &err)) {
		r->names_lost = true;
		if (!r->lost_why.len)
			strbuf_addstr(&r->lost_why, err.buf);
	}
	strbuf_release(&err);
	res->status = r->status;
	res->any = r->any;
	res->stacks = r->stacks;
	res->children = r->children;
	res->lost = r->lost;
	res->names_lost = r->names_lost;
	res->lost_why = r->lost_why.buf;
}

void recorder_free(struct recorder *r)
{
	if (!r)
		return;
	if (r->masked)
		sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
	if (r->errpipe >= 0)
		close(r->errpipe);
	if (r->have_shm)
		unlink(r->shm);
	trackfile_close(r->tf);
	track_view_release(&r->view);
	symbolize_free(r->sym);
	recorder_clear_notices(r);
	free(r->notices);
	free(r->slots);
	free(r->ids);
	free(r->changed);
	strbuf_release(&r->lost_why);
	free(r->lib);
	free(r->command);
	free(r);
}
