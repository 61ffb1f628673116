/*
 * sampler: takes one point of a process every tick — snapshot, and for a JVM
 * its hsperfdata counters and NMT summary — into a series, and into a
 * recording when one is open. Shared by offheap watch and offheap doctor.
 */
#ifndef OFFHEAP_SAMPLER_H
#define OFFHEAP_SAMPLER_H

#include "hsperf.h"
#include "mapgroup.h"
#include "series.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct store;
struct strbuf;

enum sampler_flags {
	SAMPLER_NO_JVM = 1 << 0,	/* do not read hsperfdata or attach (plain OS view) */
	SAMPLER_NO_NMT = 1 << 1,	/* do not ask for the NMT summary every tick */
	SAMPLER_RETRY = 1 << 2,		/* a JVM that timed out is asked again, backing off
					   (watch, serve: hours; doctor's seconds do not) */
};

#define SAMPLER_MAX_BACKOFF 64		/* ticks between two requests to a JVM that times out */

enum sampler_tick_flags {
	TICK_CHEAP = 1 << 0,	/* also ask VM.info for C-Heap outstanding (heavier) */
	TICK_REGIONS = 1 << 1,	/* store this sample's regions in the recording */
};

struct sampler {
	pid_t pid;
	unsigned flags;
	int timeout_ms;			/* for each attach request, in all */
	bool unresponsive;		/* a request timed out: the JVM is asked nothing more
					   (with SAMPLER_RETRY: until tick retry_tick) */
	uint64_t retry_tick;		/* the tick of the next try of an unresponsive JVM */
	unsigned backoff;		/* ticks waited before that try: 2, 4, … */
	struct series *s;		/* where points go (not owned) */
	struct store *st;		/* the recording, NULL when none (not owned) */
	/* JVM sources, found by sampler_open */
	bool jvm;
	struct hsperf h;
	bool have_hsperf;
	enum hsperf_nmt nmt_mode;	/* from hsperfdata's vmArgs */
	bool nmt_ok;			/* the last NMT request answered */
	bool have_heap_range;
	uint64_t heap_lo, heap_hi;
	/* why a source is missing (empty when it is not): for the user */
	char hsperf_error[256], attach_error[256], nmt_error[256];
	uint64_t ticks;
	/* mapped data files and shared memory by folded path (mapgroup), first and last tick */
	struct map_group *files_first, *files_last;
	size_t nfiles_first, nfiles_last;
};

/*
 * Gets ready to sample pid into s (and st when not NULL: its extra tables are
 * created). Fails only when the process cannot be read (-ESRCH, -EACCES…);
 * JVM sources that fail are noted in the *_error fields and skipped.
 */
int sampler_open(struct sampler *sp, pid_t pid, unsigned flags, int timeout_ms, struct series *s,
		 struct store *st, struct strbuf *err);

/*
 * Takes one point. Returns 0, -ESRCH when the process is gone (or its PID
 * was reused), or another -errno with err set (a recording write failure is
 * -EIO / -ENOSPC: the point stays in the series).
 */
int sampler_tick(struct sampler *sp, unsigned tick_flags, struct strbuf *err);

void sampler_close(struct sampler *sp);

/*
 * The group of mapped data files ("/data/seg#.idx", cls RC_FILE) or shared
 * memory (RC_SHM) whose mappings grew most in number from the first tick to
 * the last, NULL when none did; *from and *to: its counts then and now.
 */
const char *sampler_grown_files(const struct sampler *sp, enum region_class cls, size_t *from,
				size_t *to);

#endif
