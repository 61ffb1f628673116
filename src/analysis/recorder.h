/*
 * recorder: the engine of 'offheap record' — runs a command with the tracker
 * (liboffheap.so) preloaded, copies its per-stack counters into the alloc_*
 * tables of a recording every interval, and symbolizes the stacks at the end.
 *
 * Nothing here prints: what the user should hear of (a JVM without a perf
 * map, intervals that could not be written) is kept as notices, which the
 * command takes after each step, and the end of the run as a recorder_result.
 *
 * Order of use: recorder_new, recorder_start, recorder_step until
 * recorder_exited, recorder_finish, recorder_free.
 */
#ifndef OFFHEAP_RECORDER_H
#define OFFHEAP_RECORDER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct allocdb;
struct recorder;
struct strbuf;

enum recorder_notice_kind {
	RECORDER_NO_ATTACH,	/* the JVM disables attach: JIT frames stay addresses */
	RECORDER_NO_PERFMAP,	/* the JVM has no Compiler.perfmap (JDK 16 and older) */
	RECORDER_MAP_FAILED,	/* the perf map requests failed; it stopped asking */
	RECORDER_MAP_UNSTORED,	/* a perf map read could not be written */
	RECORDER_LOST,		/* the first interval that could not be written */
	RECORDER_AGENT_REFUSED,	/* record -p: the JVM refused the agent; ptrace is used instead */
	RECORDER_DEGRADED,	/* the tracker reached its ceiling and samples (coarser) */
	RECORDER_NOSPACE,	/* the tracker's file system is full: new stacks are "other" */
};

struct recorder_notice {
	enum recorder_notice_kind kind;
	pid_t pid;		/* the command's process */
	char *detail;		/* the reason, "" when none (owned by the recorder) */
};

/* The state shown while recording. */
struct recorder_progress {
	bool any;		/* the tracker has reported */
	int64_t elapsed_ms;	/* since the command started */
	int64_t live_bytes;	/* over every site of the current image */
	size_t sites;		/* of the current image */
};

struct recorder_result {
	int exec_errno;		/* the command could not be executed: errno; else 0 */
	int status;		/* the command's wait status */
	bool any;		/* the tracker reported at all */
	bool no_space;		/* it did not, for want of room in its file's file system */
	const char *tracker_file; /* the tracker's file (owned by the recorder) */
	size_t stacks;		/* stacks seen over every image */
	uint64_t children;	/* processes started below the images, not recorded */
	size_t followed;	/* --follow-fork: descendants recorded as runs of their own */
	uint64_t refused;	/* of the descendants, those beyond the limit (not recorded) */
	unsigned follow_max;	/* that limit */
	unsigned lost;		/* intervals that could not be written */
	bool names_lost;	/* the function names of the last image could not be written */
	const char *lost_why;	/* the first reason, "" when none (owned by the recorder) */
};

/* Why the tracker reported nothing, from recorder_explain_nothing. */
enum recorder_why {
	RECORDER_WHY_STATIC,	/* likely linked statically: no loader to preload with */
	RECORDER_WHY_SETUID,	/* set-user-ID to another user (id: the uid) */
	RECORDER_WHY_SETGID,	/* set-group-ID to another group (id: the gid) */
	RECORDER_WHY_CAPS,	/* file capabilities, and we are not root */
};

struct recorder_nothing {
	enum recorder_why why;
	char prog[PATH_MAX];	/* the file that was run; "" for RECORDER_WHY_STATIC */
	unsigned id;		/* uid or gid, see enum recorder_why */
};

/*
 * Creates a recorder and the tracker's file in $TMPDIR or /tmp. lib is the path of
 * liboffheap.so, sample the mean bytes between samples (0 records every
 * allocation), command the command line as stored in the runs (copied).
 * Returns 0 and *out (free with recorder_free), or -errno with err filled.
 */
int recorder_new(const char *lib, uint64_t sample, const char *command, struct recorder **out,
		 struct strbuf *err);

/* --max-memory, before recorder_start or recorder_attach: the tracker's ceiling. */
void recorder_set_max_memory(struct recorder *r, uint64_t bytes);

/*
 * record -p: how long loading the tracker may take, in all (the JVM's agent
 * load, or the injection by ptrace; default 10 s). A JVM that lets the agent
 * load time out is not injected by ptrace as well (it may load it later).
 */
void recorder_set_attach_timeout(struct recorder *r, int ms);

/*
 * --follow-fork, before recorder_start: the command's descendants (at most
 * max of them) are recorded too, each image as a run of its own naming its
 * parent's. 0, or -errno with err filled.
 */
int recorder_follow(struct recorder *r, unsigned max, struct strbuf *err);

/*
 * Blocks SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGCHLD (until recorder_free),
 * starts argv[0] (searched in PATH) with the tracker, and records into adb
 * (not owned, must outlive the recorder). Returns 0, or -errno with err
 * filled; then no command runs any more.
 */
int recorder_start(struct recorder *r, struct allocdb *adb, char **argv,
		   uint64_t interval_ms, struct strbuf *err);

/*
 * One step of the run: waits at most 10 ms for a signal or the command's
 * exit, passes on the signals sent to us alone, and writes an interval when
 * one is due (a new image and an exiting one are polled at once). Returns
 * true when it polled, so the progress may have changed. Failures become
 * notices.
 */
bool recorder_step(struct recorder *r);

/* The command has exited: recorder_step has no more to do. */
bool recorder_exited(const struct recorder *r);

/* The notices since the last recorder_clear_notices; *n is set to their count. */
const struct recorder_notice *recorder_notices(const struct recorder *r, size_t *n);
void recorder_clear_notices(struct recorder *r);

void recorder_progress(const struct recorder *r, struct recorder_progress *p);

/*
 * After the command exited: symbolizes the stacks of the last image and
 * fills res (its strings live as long as r). When the command could not be
 * executed, only res->exec_errno is meaningful.
 */
void recorder_finish(struct recorder *r, struct recorder_result *res);

/* Restores the signal mask, removes the tracker's file; NULL is a no-op. */
void recorder_free(struct recorder *r);

/*
 * Why the tracker may have reported nothing for the command name: loader
 * rules (secure execution) or, by default, a statically linked program.
 */
void recorder_explain_nothing(const char *name, struct recorder_nothing *out);

/*
 * 'offheap record -p PID': the tracker is loaded into a running process.
 * Order of use: recorder_new, recorder_attach, recorder_attach_step until
 * recorder_attach_done, recorder_attach_end, recorder_finish, recorder_free.
 */

/* How the tracker got in, and how the attached run ended. */
enum recorder_way {
	RECORDER_VIA_PTRACE,	/* a dlopen injected by ptrace (src/source/inject.c) */
	RECORDER_VIA_AGENT,	/* a HotSpot JVM loaded it as an agent (attach "load") */
};

enum recorder_end {
	RECORDER_END_NONE,	/* still recording */
	RECORDER_END_DURATION,	/* the duration passed */
	RECORDER_END_SIGNAL,	/* SIGINT, SIGTERM or SIGHUP: Ctrl-C or 'record --stop' */
	RECORDER_END_EXIT,	/* the target exited */
};

/*
 * Blocks SIGINT, SIGTERM, SIGHUP and SIGQUIT (until recorder_free), checks
 * that pid can be attached to, makes the tracker and its file reachable in
 * pid's mount namespace, loads the tracker (a HotSpot JVM: as an agent,
 * else, or when the JVM refuses, by ptrace) and starts it with
 * offheap_attach("out=FILE,sample=BYTES,pid=OURPID"). duration_ms 0: until a
 * signal or the target's exit. Writes the pid file 'record --stop' reads.
 * Returns 0, or -errno with err filled (nothing was changed in the target):
 * those of inject_check and inject_dlcall, and -EALREADY (a tracker is
 * attached already). *way says which way was taken.
 */
int recorder_attach(struct recorder *r, struct allocdb *adb, pid_t pid, uint64_t interval_ms,
		    uint64_t duration_ms, enum recorder_way *way, struct strbuf *err);

/*
 * One step of an attached run: waits at most 10 ms for a signal, notices the
 * duration's end and the target's exit, writes an interval when one is due.
 * Returns true when it polled.
 */
bool recorder_attach_step(struct recorder *r);

/* Why the attached run ends; RECORDER_END_NONE while it goes on. */
enum recorder_end recorder_attach_done(const struct recorder *r);

/*
 * Ends an attached run: writes the last interval and, when the target lives,
 * calls offheap_detach in it (by ptrace, on both ways: an agent cannot be
 * unloaded, it is made inert like the injected library). Returns 0, or -errno
 * with err filled when the detach failed (the tracker then ends itself once
 * it sees that the recorder is gone). Removes the pid file.
 */
int recorder_attach_end(struct recorder *r, struct strbuf *err);

/*
 * 'record --stop PID': finds the recorder that records pid (its pid file,
 * ours only, which a live recorder holds locked; an unlocked one is stale and
 * removed), sends it SIGTERM and waits at most timeout_ms for it to end.
 * Returns 0 and *recorder, -ENOENT (no recorder for pid), -ETIMEDOUT, or
 * -errno, with err filled.
 */
int recorder_stop(pid_t pid, int timeout_ms, pid_t *recorder, struct strbuf *err);

#endif
