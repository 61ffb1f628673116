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
	RECORDER_NO_ATTACH,	/* the JVM disables attach: Java frames stay addresses */
	RECORDER_NO_PERFMAP,	/* the JVM has no Compiler.perfmap (JDK 16 and older) */
	RECORDER_MAP_FAILED,	/* the perf map requests failed; it stopped asking */
	RECORDER_MAP_UNSTORED,	/* a perf map read could not be written */
	RECORDER_LOST,		/* the first interval that could not be written */
	RECORDER_DEGRADED,	/* the tracker reached its ceiling and samples (coarser) */
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
	size_t stacks;		/* stacks seen over every image */
	uint64_t children;	/* processes started below the images, not recorded */
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
 * Creates a recorder and the tracker's file in /tmp. lib is the path of
 * liboffheap.so, sample the mean bytes between samples (0 records every
 * allocation), command the command line as stored in the runs (copied).
 * Returns 0 and *out (free with recorder_free), or -errno with err filled.
 */
int recorder_new(const char *lib, uint64_t sample, const char *command, struct recorder **out,
		 struct strbuf *err);

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

#endif
