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
#include "inject.h"
#include "jitmap.h"
#include "parse.h"
#include "perfmap.h"
#include "proc.h"
#include "procfs.h"
#include "pslist.h"
#include "strbuf.h"
#include "shmguard.h"
#include "symbolize.h"
#include "trackfile.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
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
	uint64_t *pcs; /* depth return addresses */
	bool symbolized;
};

struct recorder {
	pid_t child;
	char *command;
	char *lib;
	char sample[32];	/* OFFHEAP_SAMPLE */
	char max_mem[32];	/* OFFHEAP_MAX_MEM; "": the tracker's default */
	int attach_timeout_ms;	/* record -p: each attach, detach call; 0: ATTACH_CALL_TIMEOUT_MS */
	char shm[PATH_MAX];	/* the tracker's file */
	int guard;		/* shmguard's pipe, valid when guarded */
	bool guarded;		/* a guardian removes shm (and follow) should we be killed */
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
	bool said_nospace;	/* a full file system was told (the command's recorder) */
	bool said_child_nospace; /* a child without room for its file was told */
	int in_tmpdir;		/* shm is in $TMPDIR, not /tmp (tmp_path) */
	size_t stacks;		/* stacks seen over every image */
	int64_t run_id;
	/*
	 * The stacks of the run, in the order met, and their index + 1 by the
	 * tracker's slot (0: not met). The slot index covers the tracker's
	 * whole table (32768 by default): a stack per slot, with its frames,
	 * was 18 MiB zeroed at every run, most of the recorder's CPU on a
	 * short program.
	 */
	struct rstack *run_stacks;
	size_t nrun, arun;
	uint32_t *slot_of;
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
	/* --follow-fork: the command's descendants, each followed by a recorder of its own */
	char follow[PATH_MAX];	/* their files' directory; "" when not following */
	unsigned follow_max;	/* processes that may record */
	struct recorder **kids;
	size_t nkids, akids;
	struct recorder *top;	/* of a descendant's recorder: the command's */
	bool done;		/* a descendant that is gone: nothing more to poll */
	struct rattach *att;	/* record -p: the attached target; NULL for record -- CMD */
};

#define JIT_MAP_MIN_MS 2000
#define JIT_MAP_TIMEOUT_MS 3000
#define JIT_MAP_TRIES 5
#define JVM_CHECKS 20

/* A descendant's notices are the command's recorder's to tell. */
static void notice(struct recorder *r, enum recorder_notice_kind kind, const char *detail)
{
	struct recorder *to = r->top ? r->top : r;
	struct recorder_notice *n;

	ALLOC_GROW(to->notices, to->nnotices + 1, to->anotices);
	n = &to->notices[to->nnotices++];
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

/*
 * The frame of a Java frame pc (TRACK_JAVA_TAG), named from the tracker's
 * file: "java.util.zip.Inflater.<init>" in "Inflater.java" at its line, no
 * module (allocdb tells a Java frame by its pc). Not yet named (a frame of
 * the VM's own work waits for the tracker's namer thread): left for a later
 * call unless last, which stores a placeholder.
 */
static int add_java_frame(struct recorder *r, uint64_t pc, bool last, struct strbuf *err)
{
	struct sym_frame f = {.pc = pc};
	struct track_java j;
	char name[sizeof(j.cls) + sizeof(j.method) + 1];

	if (allocdb_has_frames(r->adb, r->run_id, pc))
		return 0;
	if (r->tf && !trackfile_java(r->tf, pc, &j)) {
		snprintf(name, sizeof(name), "%s%s%s", j.cls, *j.cls ? "." : "", j.method);
		f.file = *j.file ? j.file : NULL;
		f.line = j.line;
	} else if (pc == TRACK_JAVA_TAG) {
		snprintf(name, sizeof(name), "(more Java frames)");
	} else if (last) {
		/* a pending frame the tracker could not name in time (its JVM ended first) */
		snprintf(name, sizeof(name), "(Java frame not named)");
	} else {
		return 0;
	}
	f.function = f.demangled = name;
	return allocdb_add_frames(r->adb, r->run_id, &f, 1, err);
}

/* Forgets every stack of the run (their slots stay, zeroed). */
static void release_slots(struct recorder *r)
{
	for (size_t i = 0; i < r->nrun; i++)
		free(r->run_stacks[i].pcs);
	r->nrun = 0;
	if (r->slot_of)
		memset(r->slot_of, 0, r->nslots * sizeof(*r->slot_of));
}

/* Writes the frames of every stack of the current run not yet symbolized. */
static int symbolize_run(struct recorder *r, struct strbuf *err)
{
	int ret;

	if (!r->nrun)
		return 0;
	ret = allocdb_begin(r->adb, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < r->nrun; i++) {
		struct rstack *s = &r->run_stacks[i];

		if (s->symbolized)
			continue;
		s->symbolized = true;
		/* a return address is stored once a run, whichever stacks hold it */
		for (uint32_t k = 0; k < s->depth; k++) {
			const struct sym_frame *fr;
			size_t n = 1;
			struct sym_frame bare = {.pc = s->pcs[k]};

			if (allocdb_has_frames(r->adb, r->run_id, s->pcs[k]))
				continue;
			if (s->pcs[k] & TRACK_JAVA_TAG) {
				ret = add_java_frame(r, s->pcs[k], true, err);
				if (ret)
					return ret;
				continue;
			}
			if (r->sym)
				symbolize_pc(r->sym, s->pcs[k], true, &fr, &n);
			else
				fr = &bare;
			ret = allocdb_add_frames(r->adb, r->run_id, fr, n, err);
			if (ret)
				return ret;
		}
	}
	return allocdb_commit(r->adb, err);
}

static int follow_new_run(struct recorder *r, struct strbuf *err);

static int new_run(struct recorder *r, struct strbuf *err)
{
	char *exe, *cmd = NULL;
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
		ret = allocdb_set_ended(r->adb, r->run_id, "exec", err);
		if (ret)
			return ret;
	}
	symbolize_free(r->sym);
	r->sym = NULL;
	/* record -p: the tracker's getpid() is the target's pid in its own namespace */
	if (r->att)
		r->view.pid = r->child;
	if (symbolize_new(r->view.pid, &r->sym, err)) {
		strbuf_reset(err); /* frames stay bare addresses */
		r->sym = NULL;
	}
	release_slots(r);
	r->jvm = false;
	r->jvm_checks = r->map_failures = 0;
	r->map_given_up = false;
	r->map_ms = -1;
	r->map_sites = 0;
	r->map_file = -1;
	r->generation = r->view.generation;
	r->gen_children = 0;
	r->any = true;
	/* an exec'd image or a descendant: its own command line */
	if ((r->any && r->run_id) || r->top)
		proc_cmdline_read(r->view.pid, &cmd);
	ret = allocdb_add_run(r->adb, r->generation, r->view.pid, r->view.sample_mean,
			      cmd && *cmd ? cmd : r->command, &r->run_id, err);
	free(cmd);
	if (!ret && r->top)
		ret = follow_new_run(r, err);
	if (ret)
		return ret;
	/* the image waits for our ack (OFFHEAP_SYNC): its executable is still there to read */
	exe = proc_exe_read(r->view.pid);
	if (*exe)
		ret = allocdb_set_exe(r->adb, r->run_id, exe, err);
	free(exe);
	return ret;
}

/*
 * An interval that could not be written (ret: poll_once's): said once, the
 * first reason kept; a full disk would repeat it every interval.
 */
static void note_lost(struct recorder *r, int ret, const struct strbuf *why)
{
	if (ret && ret != -EAGAIN && !r->lost++) {
		notice(r, RECORDER_LOST, why->buf);
		/* the first reason only: a kid's names may have failed first */
		if (!r->lost_why.len)
			strbuf_addstr(&r->lost_why, why->buf);
	}
}

/* A full file system under the tracker's files, told once a recording. */
static void full_disk_notices(struct recorder *r, const struct track_view *v)
{
	struct recorder *t = r->top ? r->top : r;
	struct strbuf sb = STRBUF_INIT;

	if ((v->flags & TRACK_NOSPACE) && !t->said_nospace) {
		/* (a descendant's file is in the children's directory) */
		strbuf_addf(&sb, "the file system of the tracker's file '%s' is full: "
				 "allocations from call stacks first seen from now on are counted as \"other\"",
			    r->top ? t->follow : r->shm);
		notice(r, RECORDER_NOSPACE, sb.buf);
		t->said_nospace = true;
	}
	if ((v->flags & TRACK_CHILD_NOSPACE) && !t->said_child_nospace) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "processes of the command are not recorded: the file system of "
				 "their files' directory '%s' is full", t->follow);
		notice(r, RECORDER_NOSPACE, sb.buf);
		t->said_child_nospace = true;
	}
	strbuf_release(&sb);
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
	full_disk_notices(r, v);
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
			r->slot_of = xrealloc(r->slot_of, n * sizeof(*r->slot_of));
			memset(r->slot_of + r->nslots, 0, (n - r->nslots) * sizeof(*r->slot_of));
			r->nslots = n;
		}
		if (r->slot_of[site->slot]) {
			s = &r->run_stacks[r->slot_of[site->slot] - 1];
		} else {
			ALLOC_GROW(r->run_stacks, r->nrun + 1, r->arun);
			s = &r->run_stacks[r->nrun];
			memset(s, 0, sizeof(*s));
			ret = allocdb_add_stack(r->adb, r->run_id, site->slot, site->frames,
						site->depth, &s->id, err);
			if (ret)
				goto fail;
			r->slot_of[site->slot] = (uint32_t)++r->nrun;
			r->stacks++;
			s->depth = site->depth;
			s->pcs = xmalloc((site->depth ? site->depth : 1) * sizeof(s->pcs[0]));
			memcpy(s->pcs, site->frames, site->depth * sizeof(s->pcs[0]));
			s->live_bytes = INT64_MIN;
			/* Java frames: named now, while this image's names are in the file */
			for (uint32_t k = 0; k < site->depth; k++)
				if ((site->frames[k] & TRACK_JAVA_TAG) &&
				    (ret = add_java_frame(r, site->frames[k], false, err)))
					goto fail;
			if (r->sym && alive) {
				if (!invalidated)
					symbolize_invalidate(r->sym);
				invalidated = true;
				/*
				 * A JNI method's library was loaded late: a list read
				 * before may hold its pcs in another file's span
				 * (the code-cache pcs that used to end such stacks
				 * were outside every module, and made it re-read)
				 */
				if (site->depth && (site->frames[site->depth - 1] & TRACK_JAVA_TAG))
					symbolize_refresh(r->sym);
				for (uint32_t k = 0; k < site->depth; k++)
					if (!(site->frames[k] & TRACK_JAVA_TAG))
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
		r->map_file = jitmap_map_kept(r->child, path);
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
			 const char *max_mem, const char *follow, const sigset_t *oldmask,
			 int *errpipe)
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
		/* our PID: the tracker wakes us at its handshakes (SIGURG) */
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getppid());
		setenv("OFFHEAP_SYNC", pidbuf, 1);
		if (*max_mem)
			setenv("OFFHEAP_MAX_MEM", max_mem, 1);
		if (*follow)
			setenv("OFFHEAP_FOLLOW", follow, 1);
		else
			unsetenv("OFFHEAP_FOLLOW");
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


/*
 * (Re)starts the guardian of the tracker's file and the follow directory: a
 * SIGKILLed recorder must not leave megabytes in /tmp (shmguard.h).
 */
static void guard(struct recorder *r)
{
	if (r->guarded)
		shmguard_done(r->guard);
	r->guard = shmguard_start(r->shm, r->follow[0] ? r->follow : NULL);
	r->guarded = r->guard >= 0;
}

/*
 * name (a mkstemp or mkdtemp template) in $TMPDIR when it names a
 * directory by an absolute path, else in /tmp: 1, 0, or -ENAMETOOLONG
 * (buf then holds the directory).
 */
static int tmp_path(char *buf, size_t n, const char *name)
{
	const char *d = getenv("TMPDIR");
	int w;

	if (d && d[0] == '/') {
		w = snprintf(buf, n, "%s/%s", d, name);
		if (w < 0 || (size_t)w >= n) {
			snprintf(buf, n, "%s/", d);
			return -ENAMETOOLONG;
		}
		return 1;
	}
	if (sysroot_path(buf, n, "/tmp/%s", name)) {
		snprintf(buf, n, "/tmp/");
		return -ENAMETOOLONG;
	}
	return 0;
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
	r->in_tmpdir = tmp_path(r->shm, sizeof(r->shm), "offheap-track.XXXXXX");
	if (r->in_tmpdir < 0 || (fd = mkstemp(r->shm)) < 0) {
		int e = r->in_tmpdir < 0 ? ENAMETOOLONG : errno;

		*strrchr(r->shm, '/') = '\0';
		strbuf_addf(err, "cannot create the tracker's file in %s: %s", r->shm, strerror(e));
		recorder_free(r);
		return -e;
	}
	close(fd);
	r->have_shm = true;
	guard(r);
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
	sigaddset(&r->set, SIGURG);	/* the tracker's wake-up at its handshakes */
	sigprocmask(SIG_BLOCK, &r->set, &r->oldmask);
	r->masked = true;

	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->child = start_child(argv, r->lib, r->shm, r->sample, r->max_mem, r->follow, &r->oldmask,
			       &r->errpipe);
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

static void follow_step(struct recorder *r);

/*
 * The longest wait before we look again. Our command wakes us at each of
 * its handshakes (SIGURG) and at its end (SIGCHLD), so a look at a fixed
 * step is only the fallback for a tracker that could not signal us. The
 * processes --follow-fork follows are not our children and signal nothing:
 * while following, look every millisecond in the first moments, then every
 * 10 ms. Each wake-up costs CPU time: the 1-ms looks of the first 100 ms
 * were a fifth of the recorder's CPU time over a 200-ms `git log`.
 */
#define STEP_MS(r) ((r)->follow[0] ? (elapsed_ms(r) < 100 ? 1 : 10) : 50)

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
	/* a new image waits for our first look (its start handshake): see STEP_MS */
	if (wait_ms > STEP_MS(r))
		wait_ms = STEP_MS(r);
	if (wait_ms < 0)
		wait_ms = 0;
	ts.tv_sec = wait_ms / 1000;
	ts.tv_nsec = (wait_ms % 1000) * 1000000;
	sig = sigtimedwait(&r->set, &info, &ts);
	if (sig == SIGCHLD) {
		pid_t p = waitpid(r->child, &r->status, WNOHANG);

		if (p == r->child && (WIFEXITED(r->status) || WIFSIGNALED(r->status)))
			r->exited = true;
	} else if (sig > 0 && sig != SIGURG) {
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
	 * A new image (the start, an exec) waits for us: look at once, its
	 * module list must be read while it lives.
	 */
	exiting = trackfile_exiting(r->tf);
	/* an exiting image is polled once: it waits for that, and exits after */
	if (r->exited || elapsed_ms(r) >= r->next_ms ||
	    (exiting == r->generation && r->final_gen != r->generation) ||
	    trackfile_generation(r->tf) != r->generation) {
		r->exiting = exiting && exiting == r->generation;
		ret = poll_once(r, !r->exited, &err);
		note_lost(r, ret, &err);
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
	follow_step(r);
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

static void follow_finish(struct recorder *r, struct recorder_result *res);
static const char *attached_end(const struct recorder *r);

/* How the command's last image ended, from its wait status. */
static int end_command(struct recorder *r, struct strbuf *err)
{
	char how[32];

	/* record -p: the process was let go, or ended while recorded (its status is not ours) */
	if (r->att)
		return allocdb_set_ended(r->adb, r->run_id, attached_end(r), err);
	if (WIFSIGNALED(r->status))
		snprintf(how, sizeof(how), "signal %d", WTERMSIG(r->status));
	else
		snprintf(how, sizeof(how), "exit %d", WEXITSTATUS(r->status));
	return allocdb_set_ended(r->adb, r->run_id, how, err);
}

void recorder_finish(struct recorder *r, struct recorder_result *res)
{
	struct strbuf err = STRBUF_INIT;
	int child_errno = 0;

	memset(res, 0, sizeof(*res));
	res->lost_why = "";
	res->tracker_file = "";
	if (read(r->errpipe, &child_errno, sizeof(child_errno)) == (ssize_t)sizeof(child_errno)) {
		res->exec_errno = child_errno;
		return;
	}
	if (r->any && symbolize_run(r, &err)) {
		r->names_lost = true;
		if (!r->lost_why.len)
			strbuf_addstr(&r->lost_why, err.buf);
	}
	strbuf_reset(&err);
	if (r->any && end_command(r, &err) && !r->lost_why.len)
		strbuf_addstr(&r->lost_why, err.buf);
	follow_finish(r, res);
	strbuf_release(&err);
	res->status = r->status;
	res->any = r->any;
	res->tracker_file = r->shm;
	res->no_space = !r->any && trackfile_no_space(r->shm);
	res->stacks += r->stacks;
	res->children += r->children;
	res->lost = r->lost;
	res->names_lost = r->names_lost;
	res->lost_why = r->lost_why.buf;
}

static void follow_free(struct recorder *r);
/*
 * record -p PID: the tracker is loaded into a process that runs already.
 *
 * The tracker's file must be reachable from the target: when the target's
 * /tmp is not ours (another mount namespace), the file is created in its
 * root and handed over by its path there, owned by the target's user. The
 * tracker learns the file, the sampling and our pid (it ends itself when we
 * die) from offheap_attach's argument. Nothing runs before the call returns:
 * the first interval comes once the tracker has initialised the file.
 * 'record --stop PID' finds us through a pid file in our runtime directory
 * (/tmp/offheap-UID, mode 0700), keyed by the target's pid.
 */
struct rattach {
	pid_t pid;		/* the target */
	int pidfd;		/* holds the target; POLLIN once it exited; -1 unsupported */
	char lib[PATH_MAX];	/* the tracker's path inside the target */
	bool lib_copied;	/* lib is a copy we made in the target's /tmp */
	enum recorder_way way;
	uint64_t duration_ms;	/* 0: none */
	enum recorder_end end;
	char pidfile[PATH_MAX + 32]; /* '' when none */
	int pidfile_fd;		/* open on pidfile, locked while we live; -1 when none */
};

/* alloc_run.ended of an attached run: let go, or ended while recorded (its status is not ours). */
static const char *attached_end(const struct recorder *r)
{
	return r->att->end == RECORDER_END_EXIT ? "exit" : "detached";
}

#define ATTACH_CALL_TIMEOUT_MS 10000
#define CALL_TIMEOUT_MS(r) ((r)->attach_timeout_ms ? (r)->attach_timeout_ms : ATTACH_CALL_TIMEOUT_MS)

/* True when pid's pid namespace is ours (or cannot be told: then as before). */
static bool same_pidns(pid_t pid)
{
	char mine[PATH_MAX], theirs[PATH_MAX];
	struct stat a, b;

	if (procfs_path(mine, sizeof(mine), "self/ns/pid") ||
	    procfs_path(theirs, sizeof(theirs), "%d/ns/pid", (int)pid) || stat(mine, &a) ||
	    stat(theirs, &b))
		return true;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* What the recorder stores in the header's heartbeat: CLOCK_MONOTONIC ms, low 32 bits. */
static uint32_t heartbeat_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* The directory of our pid files, created 0700 and checked to be ours. */
static int runtime_dir(char *buf, size_t n, bool create)
{
	struct stat st;

	if (sysroot_path(buf, n, "/tmp/offheap-%u", (unsigned)geteuid()))
		return -ENAMETOOLONG;
	if (create && mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	if (lstat(buf, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

/*
 * record-TARGET.pid names the recorder of TARGET for `record --stop`. The
 * recorder holds a lock on it while it lives, taken before the file can be
 * seen: a file that no one holds was left by a recorder killed by SIGKILL,
 * and the PID in it may be another process's now, another offheap too.
 */
static void write_pidfile(struct rattach *a)
{
	char dir[PATH_MAX], tmp[PATH_MAX + 32];
	char line[32];
	int fd, len;

	if (runtime_dir(dir, sizeof(dir), true))
		return;
	snprintf(tmp, sizeof(tmp), "%s/.record-%d.XXXXXX", dir, (int)a->pid);
	snprintf(a->pidfile, sizeof(a->pidfile), "%s/record-%d.pid", dir, (int)a->pid);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		a->pidfile[0] = '\0';
		return;
	}
	len = snprintf(line, sizeof(line), "%d\n", (int)getpid());
	if (flock(fd, LOCK_EX | LOCK_NB) || write(fd, line, (size_t)len) != len ||
	    rename(tmp, a->pidfile)) {
		unlink(tmp);
		close(fd);
		a->pidfile[0] = '\0';
		return;
	}
	a->pidfile_fd = fd;
}

static void rattach_release(struct recorder *r)
{
	struct rattach *a = r->att;

	if (!a)
		return;
	if (a->pidfile[0])
		unlink(a->pidfile);
	if (a->pidfile_fd >= 0)
		close(a->pidfile_fd);
	if (a->lib_copied)
		inject_remove_copy(a->pid, a->lib);
	if (a->pidfd >= 0)
		close(a->pidfd);
	free(a);
	r->att = NULL;
}

/*
 * When the target's /tmp is not ours, moves the tracker's file into it;
 * *inside is the path the target opens. 0 or -errno.
 */
static int place_trackfile(struct recorder *r, const struct proc_status *st, char *inside,
			   size_t n, struct strbuf *err)
{
	char ours[PATH_MAX], theirs[PATH_MAX];
	struct stat a, b;
	int fd;

	if (sysroot_path(ours, sizeof(ours), "/tmp") ||
	    procfs_path(theirs, sizeof(theirs), "/%d/root/tmp", (int)r->att->pid))
		return -ENAMETOOLONG;
	/* (not in $TMPDIR: the target, perhaps another user's, may not reach it) */
	if (!r->in_tmpdir &&
	    (stat(ours, &a) || stat(theirs, &b) || (a.st_dev == b.st_dev && a.st_ino == b.st_ino))) {
		/* the same /tmp (or none to tell): the file as recorder_new made it */
		if (snprintf(inside, n, "%s", r->shm) >= (int)n)
			return -ENAMETOOLONG;
	} else {
		unlink(r->shm);
		r->have_shm = false;
		if (procfs_path(r->shm, sizeof(r->shm), "/%d/root/tmp/offheap-track.XXXXXX",
				(int)r->att->pid))
			return -ENAMETOOLONG;
		fd = mkstemp(r->shm);
		if (fd < 0) {
			int e = errno;

			strbuf_addf(err, "cannot create the tracker's file in the /tmp of process %d: %s",
				    (int)r->att->pid, strerror(e));
			return -e;
		}
		r->have_shm = true;
		guard(r);
		if (snprintf(inside, n, "/tmp/%s", strrchr(r->shm, '/') + 1) >= (int)n) {
			close(fd);
			return -ENAMETOOLONG;
		}
		close(fd);
	}
	/* root records another user's process: the tracker opens the file as that user */
	if (geteuid() == 0 && st->euid != 0 && chown(r->shm, st->euid, st->egid)) {
		int e = errno;

		strbuf_addf(err, "cannot hand the tracker's file '%s' to uid %u: %s", r->shm,
			    (unsigned)st->euid, strerror(e));
		return -e;
	}
	return 0;
}

/* Says what offheap_attach's return value means. */
static int attach_answer(struct recorder *r, long rv, struct strbuf *err)
{
	if (rv == 0)
		return 0;
	if (rv == -EALREADY)
		strbuf_addf(err, "process %d is already being recorded (its tracker is attached)",
			    (int)r->att->pid);
	else
		strbuf_addf(err, "the tracker could not start in process %d: %s", (int)r->att->pid,
			    rv < 0 && rv > -4096 ? strerror((int)-rv) : "unknown error");
	return rv < 0 && rv > -4096 ? (int)rv : -EPROTO;
}

int recorder_attach(struct recorder *r, struct allocdb *adb, pid_t pid, uint64_t interval_ms,
		    uint64_t duration_ms, enum recorder_way *way, struct strbuf *err)
{
	struct strbuf args = STRBUF_INIT, reply = STRBUF_INIT, why = STRBUF_INIT;
	struct proc_status st;
	struct rattach *a;
	char inside[PATH_MAX];
	long rv = -1;
	int ret;

	a = r->att = xcalloc(1, sizeof(*r->att));
	a->pid = pid;
	a->pidfd = -1;
	a->pidfile_fd = -1;
	a->duration_ms = duration_ms;
	r->child = pid;
	r->adb = adb;
	r->interval_ms = interval_ms;
	sigemptyset(&r->set);
	for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		sigaddset(&r->set, passed[i]);
	sigprocmask(SIG_BLOCK, &r->set, &r->oldmask);
	r->masked = true;

	/* held before anything is read: what follows is about this process */
	a->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	ret = inject_check(pid, err);
	if (ret)
		goto out;
	/* before anything is placed: an unreadable libjvm.so is not judged, only one that
	 * says "not HotSpot" refuses */
	if (attach_check_hotspot(pid, &why) == -EPROTONOSUPPORT) {
		strbuf_addf(err, "%s", why.buf);
		ret = -EPROTONOSUPPORT;
		goto out;
	}
	strbuf_reset(&why);
	ret = proc_status_read(pid, &st, err);
	if (!ret)
		ret = place_trackfile(r, &st, inside, sizeof(inside), err);
	if (!ret)
		ret = inject_place_library(pid, r->lib, a->lib, sizeof(a->lib), &a->lib_copied, err);
	if (!ret)
		ret = trackfile_open(r->shm, &r->tf, err);
	if (ret)
		goto out;
	trackfile_heartbeat(r->tf, heartbeat_ms());
	/* pid=0: the tracker cannot see us by pid and watches our heartbeat instead */
	strbuf_addf(&args, "out=%s,sample=%s,pid=%d", inside, r->sample,
		    same_pidns(pid) ? (int)getpid() : 0);
	if (*r->max_mem)
		strbuf_addf(&args, ",maxmem=%s", r->max_mem);

	a->way = RECORDER_VIA_PTRACE;
	if (attach_is_jvm(pid)) {
		ret = attach_load(pid, a->lib, args.buf, CALL_TIMEOUT_MS(r), &reply, &why);
		if (!ret) {
			a->way = RECORDER_VIA_AGENT;
		} else if (ret == -ETIMEDOUT) {
			/*
			 * A JVM that did not answer in time may still load the agent later:
			 * injecting the tracker a second way would attach it twice.
			 */
			strbuf_addstr(err, why.buf);
			goto out;
		} else {
			/* the agent's own refusal is final: ptrace would meet the same tracker */
			if (ret == -EPERM && strstr(reply.buf, "return code: ") &&
			    !strstr(reply.buf, "return code: -1\n")) {
				ret = attach_answer(r, atol(strstr(reply.buf, "return code: ") + 13),
						    err);
				goto out;
			}
			notice(r, RECORDER_AGENT_REFUSED, why.buf);
		}
	}
	if (a->way == RECORDER_VIA_PTRACE) {
		ret = inject_dlcall(pid, a->lib, "offheap_attach", args.buf, 0,
				    CALL_TIMEOUT_MS(r), &rv, err);
		if (!ret)
			ret = attach_answer(r, rv, err);
		if (ret)
			goto out;
	}
	*way = a->way;
	clock_gettime(CLOCK_MONOTONIC, &r->start);
	r->next_ms = (int64_t)interval_ms;
	write_pidfile(a);
out:
	strbuf_release(&args);
	strbuf_release(&reply);
	strbuf_release(&why);
	return ret;
}

/* True once the target has exited (or its pid is another process's). */
static bool target_gone(const struct rattach *a)
{
	struct pollfd pfd = {.fd = a->pidfd, .events = POLLIN};
	struct strbuf sb = STRBUF_INIT;
	struct proc_status st;
	bool gone;

	if (a->pidfd >= 0)
		return poll(&pfd, 1, 0) == 1;
	gone = proc_status_read(a->pid, &st, &sb) || st.state == 'Z' || st.state == 'X';
	strbuf_release(&sb);
	return gone;
}

bool recorder_attach_step(struct recorder *r)
{
	struct rattach *a = r->att;
	struct strbuf err = STRBUF_INIT;
	int64_t wait_ms = r->next_ms - elapsed_ms(r);
	struct timespec ts;
	siginfo_t info;
	uint64_t exiting;
	bool polled = false;
	int ret;

	if (a->end != RECORDER_END_NONE)
		return false;
	trackfile_heartbeat(r->tf, heartbeat_ms());
	if (wait_ms > 10)
		wait_ms = 10;
	if (wait_ms < 0)
		wait_ms = 0;
	ts.tv_sec = wait_ms / 1000;
	ts.tv_nsec = (wait_ms % 1000) * 1000000;
	if (sigtimedwait(&r->set, &info, &ts) > 0)
		a->end = RECORDER_END_SIGNAL;
	else if (target_gone(a))
		a->end = RECORDER_END_EXIT;
	else if (a->duration_ms && elapsed_ms(r) >= (int64_t)a->duration_ms)
		a->end = RECORDER_END_DURATION;
	/*
	 * The target exits (or its tracker detached on its own): its exit
	 * handshake waits for this copy of its last stacks.
	 */
	exiting = trackfile_exiting(r->tf);
	if (exiting && exiting != r->final_gen) {
		r->exiting = true;
		ret = poll_once(r, true, &err);
		note_lost(r, ret, &err);
		trackfile_ack_exit(r->tf, exiting);
		polled = true;
	}
	/* the end's own interval is written by recorder_attach_end */
	if (a->end == RECORDER_END_NONE && !polled && elapsed_ms(r) >= r->next_ms) {
		ret = poll_once(r, true, &err);
		note_lost(r, ret, &err);
		check_jvm(r);
		if (r->jvm && r->view.nr != r->map_sites &&
		    (r->map_ms < 0 || elapsed_ms(r) - r->map_ms >= JIT_MAP_MIN_MS))
			jit_map(r);
		r->next_ms = elapsed_ms(r) + (int64_t)r->interval_ms;
		polled = true;
	}
	strbuf_release(&err);
	return polled;
}

enum recorder_end recorder_attach_done(const struct recorder *r)
{
	return r->att->end;
}

#define DETACH_WAIT_MS 3000

/*
 * The detach asked through the header (trackfile_request_detach): the
 * tracker's watcher restores the target, then makes its exit handshake,
 * which this answers with the final interval. Asked this way, nothing
 * waits on us while we wait on it (a detach called by ptrace would wait
 * for an acknowledgement that the injecting recorder cannot give). False
 * when the tracker did not answer in time (no watcher, nothing started).
 */
static bool detach_by_header(struct recorder *r, struct strbuf *perr)
{
	struct timespec ms5 = {0, 5000000};
	uint64_t gen = trackfile_generation(r->tf);
	int ret;

	if (!gen)
		return false;
	trackfile_request_detach(r->tf, gen);
	for (int i = 0; i < DETACH_WAIT_MS / 5; i++) {
		if (trackfile_exiting(r->tf) == gen) {
			r->exiting = true;
			ret = poll_once(r, true, perr);
			note_lost(r, ret, perr);
			trackfile_ack_exit(r->tf, gen);
			return true;
		}
		if (target_gone(r->att))
			return false;
		trackfile_heartbeat(r->tf, heartbeat_ms());
		nanosleep(&ms5, NULL);
	}
	return false;
}

int recorder_attach_end(struct recorder *r, struct strbuf *err)
{
	struct rattach *a = r->att;
	struct strbuf perr = STRBUF_INIT;
	bool alive = a->end != RECORDER_END_EXIT && !target_gone(a);
	long rv = 0;
	int ret = 0;

	if (alive && r->jvm)
		jit_map(r);
	if (alive && detach_by_header(r, &perr))
		goto done;
	alive = alive && !target_gone(a);
	/* the final interval: what is live now (after the target's exit: what it left) */
	r->exited = !alive;
	ret = poll_once(r, alive, &perr);
	note_lost(r, ret, &perr);
	ret = 0;
	if (alive) {
		/* its final interval is in: the detach's exit handshake need not wait */
		trackfile_ack_exit(r->tf, trackfile_generation(r->tf));
		ret = inject_dlcall(a->pid, a->lib, "offheap_detach", NULL, INJECT_LOADED,
				    ATTACH_CALL_TIMEOUT_MS, &rv, err);
		if (!ret && rv) {
			strbuf_addf(err, "the tracker in process %d could not detach: %s",
				    (int)a->pid, strerror(rv < 0 && rv > -4096 ? (int)-rv : EPROTO));
			ret = rv < 0 && rv > -4096 ? (int)rv : -EPROTO;
		}
	}
done:
	if (a->pidfile[0])
		unlink(a->pidfile);
	a->pidfile[0] = '\0';
	strbuf_release(&perr);
	return ret;
}

/*
 * The PID in a pid file that its recorder still holds (write_pidfile); 0
 * when there is none, or when no one holds it: then it is removed, unless
 * a new recorder has put its own file there meanwhile.
 */
static long live_recorder(const char *path)
{
	char buf[32];
	struct stat a, b;
	ssize_t n;
	long rec = 0;
	char *end;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	if (!flock(fd, LOCK_SH | LOCK_NB)) {
		if (!fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			unlink(path);
	} else if (errno == EWOULDBLOCK && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		rec = strtol(buf, &end, 10);
		if (end == buf || *end != '\n' || rec <= 0 || rec > INT_MAX)
			rec = 0;
	}
	close(fd);
	return rec;
}

int recorder_stop(pid_t pid, int timeout_ms, pid_t *recorder, struct strbuf *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	struct pollfd pfd = {.events = POLLIN};
	char *exe, *base;
	long rec = 0;
	int ret;

	if (!runtime_dir(dir, sizeof(dir), false)) {
		snprintf(path, sizeof(path), "%s/record-%d.pid", dir, (int)pid);
		rec = live_recorder(path);
	}
	pfd.fd = rec ? (int)syscall(SYS_pidfd_open, (pid_t)rec, 0) : -1;
	if (pfd.fd < 0) {
		strbuf_addf(err, "no 'offheap record -p %d' is running as this user", (int)pid);
		return -ENOENT;
	}
	*recorder = (pid_t)rec;
	/* the holder of the lock wrote its own PID: this only guards against a damaged file */
	exe = proc_exe_read((pid_t)rec);
	base = strrchr(exe, '/');
	if (!base || strcmp(base, "/offheap")) {
		free(exe);
		strbuf_addf(err, "no 'offheap record -p %d' is running as this user", (int)pid);
		ret = -ENOENT;
		goto out;
	}
	free(exe);
	if (syscall(SYS_pidfd_send_signal, pfd.fd, SIGTERM, NULL, 0)) {
		ret = -errno;
		strbuf_addf(err, "cannot signal the recorder %ld: %s", rec, strerror(errno));
		goto out;
	}
	ret = poll(&pfd, 1, timeout_ms);
	if (ret == 1) {
		ret = 0;
	} else {
		strbuf_addf(err, "the recorder %ld did not end within %d ms", rec, timeout_ms);
		ret = -ETIMEDOUT;
	}
out:
	close(pfd.fd);
	return ret;
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
	follow_free(r);
	if (r->guarded)
		shmguard_done(r->guard);
	rattach_release(r);
	trackfile_close(r->tf);
	track_view_release(&r->view);
	symbolize_free(r->sym);
	recorder_clear_notices(r);
	free(r->notices);
	release_slots(r);
	free(r->run_stacks);
	free(r->slot_of);
	free(r->ids);
	free(r->changed);
	strbuf_release(&r->lost_why);
	free(r->lib);
	free(r->command);
	free(r);
}

/*
 * --follow-fork. Each process of the command's tree that the tracker follows
 * creates its file in r->follow, named by its pid, before it first writes
 * (preload/trackshm.h); the directory is the recorder's (0700), so what is
 * there was made by the tree. It is scanned at every step: a new file gets
 * a recorder of its own (a kid: same allocdb, same clock), polled like the
 * command's, whose runs name the process's parent and its image. A kid is
 * not our child, so its end is seen in /proc: gone or a zombie.
 */
void recorder_set_max_memory(struct recorder *r, uint64_t bytes)
{
	snprintf(r->max_mem, sizeof(r->max_mem), "%" PRIu64, bytes);
}

void recorder_set_attach_timeout(struct recorder *r, int ms)
{
	r->attach_timeout_ms = ms;
}

int recorder_follow(struct recorder *r, unsigned max, struct strbuf *err)
{
	int ret;

	ret = tmp_path(r->follow, sizeof(r->follow), "offheap-follow.XXXXXX");
	if (ret < 0 || !mkdtemp(r->follow)) {
		ret = ret < 0 ? ret : -errno;
		*strrchr(r->follow, '/') = '\0';
		strbuf_addf(err, "cannot create a directory in %s for the children's files: %s",
			    r->follow, strerror(-ret));
		r->follow[0] = '\0';
		return ret;
	}
	r->follow_max = max;
	ret = trackfile_follow_create(r->follow, max, err);
	if (ret) {
		rmdir(r->follow);
		r->follow[0] = '\0';
	} else {
		guard(r);
	}
	return ret;
}

/* A process that is neither gone nor a zombie (it may be reaped any time after). */
static bool kid_alive(pid_t pid)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;
	bool alive = false;

	if (!procfs_read_pid(pid, "stat", &sb, 4096) && (p = strrchr(sb.buf, ')')) && p[1] == ' ')
		alive = p[2] != 'Z' && p[2] != 'X';
	strbuf_release(&sb);
	return alive;
}

/* The run current in the recorded process pid; 0 when none. */
static int64_t run_of(const struct recorder *top, pid_t pid)
{
	if (top->any && top->child == pid)
		return top->run_id;
	for (size_t i = 0; i < top->nkids; i++)
		if (top->kids[i]->any && top->kids[i]->child == pid)
			return top->kids[i]->run_id;
	return 0;
}

/* A kid's new image: who forked its process. */
static int follow_new_run(struct recorder *k, struct strbuf *err)
{
	return allocdb_set_parent(k->adb, k->run_id, k->view.ppid,
				  k->view.ppid ? run_of(k->top, k->view.ppid) : 0, err);
}

static void kid_add(struct recorder *r, pid_t pid)
{
	struct strbuf err = STRBUF_INIT;
	struct recorder *k = xcalloc(1, sizeof(*k));
	char path[PATH_MAX];

	k->top = r;
	k->child = pid;
	k->command = xstrdup(r->command);
	k->errpipe = -1;
	strbuf_init(&k->lost_why, 0);
	k->adb = r->adb;
	k->start = r->start;
	k->interval_ms = r->interval_ms;
	ALLOC_GROW(r->kids, r->nkids + 1, r->akids);
	r->kids[r->nkids++] = k;
	/* a file that cannot be opened is a kid done at once */
	if (snprintf(path, sizeof(path), "%s/%d", r->follow, (int)pid) >= (int)sizeof(path) ||
	    trackfile_open(path, &k->tf, &err)) {
		k->done = true;
		unlink(path);
	}
	strbuf_release(&err);
}

/*
 * A kid's file, once it is done: the file is as large as the stack table
 * (in /tmp, often memory), and the pid may come again as another process.
 */
static void kid_forget(struct recorder *r, struct recorder *k)
{
	char path[PATH_MAX];

	trackfile_close(k->tf);
	k->tf = NULL;
	if (snprintf(path, sizeof(path), "%s/%d", r->follow, (int)k->child) < (int)sizeof(path))
		unlink(path);
}

/* New files in the directory: new kids. */
static void follow_scan(struct recorder *r)
{
	struct dirent *e;
	DIR *d = opendir(r->follow);

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		bool known = false;

		if (*end || end == e->d_name || pid <= 0 || pid > INT_MAX)
			continue;
		for (size_t i = 0; i < r->nkids && !known; i++)
			known = r->kids[i]->child == (pid_t)pid && !r->kids[i]->done;
		if (!known)
			kid_add(r, (pid_t)pid);
	}
	closedir(d);
}

/* The end of a kid's last image: how, and its names while its modules are known. */
static void kid_end(struct recorder *r, struct recorder *k, const char *how)
{
	struct strbuf err = STRBUF_INIT;

	k->done = true;
	if (!k->any)
		goto out;
	if (symbolize_run(k, &err)) {
		r->names_lost = true;
		if (!r->lost_why.len)
			strbuf_addstr(&r->lost_why, err.buf);
		strbuf_reset(&err);
	}
	if (allocdb_set_ended(k->adb, k->run_id, how, &err) && !r->lost++) {
		notice(r, RECORDER_LOST, err.buf);
		/* the first reason only: the names may have failed first */
		if (!r->lost_why.len)
			strbuf_addstr(&r->lost_why, err.buf);
	}
out:
	kid_forget(r, k);
	strbuf_release(&err);
}

/* As recorder_step does for the command, without the wait; last: the command has exited. */
static void kid_step(struct recorder *r, struct recorder *k, bool last)
{
	struct strbuf err = STRBUF_INIT;
	uint64_t exiting;
	bool alive;
	int ret;

	if (k->done)
		return;
	exiting = trackfile_exiting(k->tf);
	/* /proc is read when a poll is due: a kid killed is seen within an interval */
	if (!last && elapsed_ms(k) < k->next_ms &&
	    !(exiting == k->generation && k->final_gen != k->generation) &&
	    trackfile_generation(k->tf) == k->generation)
		return;
	alive = kid_alive(k->child);
	k->exiting = exiting && exiting == k->generation;
	ret = poll_once(k, alive && !last, &err);
	note_lost(r, ret, &err);
	if (k->exiting)
		trackfile_ack_exit(k->tf, exiting);
	k->next_ms = elapsed_ms(k) + (int64_t)k->interval_ms;
	/* its exit handshake wrote its final interval: it exited, else it was killed */
	if (!alive || last)
		kid_end(r, k, alive ? "running" : k->any && k->final_gen == k->generation &&
						   k->exiting ? "exit" : "vanished");
	strbuf_release(&err);
}

static void follow_step(struct recorder *r)
{
	if (!r->follow[0])
		return;
	follow_scan(r);
	for (size_t i = 0; i < r->nkids; i++)
		kid_step(r, r->kids[i], false);
}

/* After the command exited: the kids' last intervals, and what the result says of them. */
static void follow_finish(struct recorder *r, struct recorder_result *res)
{
	if (!r->follow[0])
		return;
	follow_scan(r);
	for (size_t i = 0; i < r->nkids; i++) {
		struct recorder *k = r->kids[i];

		kid_step(r, k, true);
		res->followed += k->any;
		res->stacks += k->stacks;
		res->children += k->children;
	}
	res->refused = trackfile_follow_refused(r->follow);
	res->follow_max = r->follow_max;
}

/* The kids and their files, then the directory. */
static void follow_free(struct recorder *r)
{
	for (size_t i = 0; i < r->nkids; i++)
		recorder_free(r->kids[i]);
	free(r->kids);
	if (!r->follow[0] || r->top)
		return;
	/* files of processes that never started recording, and the limit's */
	shmguard_remove_dir(r->follow);
}
