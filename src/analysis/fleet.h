/*
 * fleet: the processes offheap serve watches — one sampler and one sliding
 * series each, the trends and doctor's findings over that window, and the
 * bookkeeping of what appeared, exited or was left out by the caps.
 *
 * Pure sampling and computation: a round (fleet_round) reads /proc, the
 * JVMs' hsperfdata and NMT, and recomputes; the caller renders the result
 * (src/render/prom.c) and serves it, so a scrape never waits on a round.
 */
#ifndef OFFHEAP_FLEET_H
#define OFFHEAP_FLEET_H

#include "doctor.h"
#include "sampler.h"
#include "series.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Which processes a fleet watches. */
enum fleet_mode {
	FLEET_PIDS,	/* the PIDs given; one that exits is dropped for good */
	FLEET_JVMS,	/* every JVM, rescanned each round */
	FLEET_ALL,	/* every process, rescanned each round, largest RSS first */
};

struct fleet_proc {
	pid_t pid;
	struct series s;		/* the window: at most max_points points */
	struct sampler sp;
	struct series_trend *trends;	/* owned; over the window, after the last round */
	size_t ntrends;
	struct doctor_report doc;	/* over the window, after the last round */
	bool nmt_on;			/* the last NMT request answered */
};

struct fleet {
	enum fleet_mode mode;
	unsigned sampler_flags;		/* SAMPLER_NO_JVM … */
	int timeout_ms;			/* for each request to a JVM */
	size_t max_procs;		/* processes watched at most */
	size_t max_points;		/* points per process: the trend window */
	pid_t *pids;			/* FLEET_PIDS: those still to watch (owned) */
	size_t npids;
	struct fleet_proc **procs;	/* owned, ascending by pid */
	size_t n, alloc;
	/* what the last round saw (for the exporter's own metrics) */
	size_t over_cap;		/* processes found but not watched: max_procs reached */
	size_t unreadable;		/* processes that could not be opened */
	size_t exited_total;		/* processes dropped because they exited, ever */
	uint64_t rounds;		/* rounds completed */
	double round_s;			/* how long the last round took, seconds */
	uint64_t round_end_ns;		/* CLOCK_REALTIME at the end of the last round */
};

/*
 * Gets f ready: mode, the PIDs (FLEET_PIDS; copied), the caps (max_procs >= 1,
 * max_points >= 3), the sampler flags and the timeout for JVM requests.
 */
void fleet_init(struct fleet *f, enum fleet_mode mode, const pid_t *pids, size_t npids,
		size_t max_procs, size_t max_points, unsigned sampler_flags, int timeout_ms);
void fleet_release(struct fleet *f);

/*
 * One round: finds the processes to watch (rescans for FLEET_JVMS and
 * FLEET_ALL), opens the new ones within max_procs, takes one point of each,
 * drops the ones that exited (or whose PID now names another process),
 * slides each series to max_points and recomputes trends and findings.
 * Returns 0, or -errno when the process list cannot be read (the round is
 * then partial: the watched processes were still sampled).
 */
int fleet_round(struct fleet *f, struct strbuf *err);

#endif
