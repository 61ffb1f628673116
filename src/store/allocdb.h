/* allocdb: the alloc_* tables of a recording (offheap record writes, offheap report reads). */
#ifndef OFFHEAP_ALLOCDB_H
#define OFFHEAP_ALLOCDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct perfmap;
struct sqlite3;
struct strbuf;
struct sym_frame;
struct track_view;
struct allocdb;

/*
 * alloc_interval.flags: the tracker's state in a recording (docs/SCHEMA.md).
 * Stored in files, so these values never change; the recorder copies the
 * tracker's enum track_flags, which allocdb.c checks are the same bits.
 */
enum alloc_flags {
	ALLOC_STACKS_FULL = 1 << 0, /* stacks counted under "other": the stack table was full */
	ALLOC_ADDRS_FULL = 1 << 1,  /* blocks not tracked: the address table was full */
	ALLOC_EXACT = 1 << 2,	    /* every allocation recorded, not sampled */
	ALLOC_DEGRADED = 1 << 3,    /* sampled since the tracker reached its ceiling */
	ALLOC_NOSPACE = 1 << 4,	    /* stacks counted under "other": its file system was full */
};

/*
 * Attaches to db (owned by the caller's store) and creates the alloc_*
 * tables when absent (docs/SCHEMA.md). Returns 0 and *out (freed by
 * allocdb_free, which does not close db) or -EIO with err filled.
 */
int allocdb_open(struct sqlite3 *db, bool create, struct allocdb **out, struct strbuf *err);

/* The alloc_* tables (docs/SCHEMA.md), as SQL: for tools/mktemplate. */
const char *allocdb_schema(void);

/*
 * An empty recording: the store's tables and the alloc_* tables, no rows,
 * 512-byte pages; for store_create_image. Made at build time by
 * tools/mktemplate from store_schema() and allocdb_schema() (so it cannot
 * drift from them) into build/gen/alloctemplate.c, which only the offheap
 * binary links.
 */
extern const unsigned char allocdb_template[];
extern const size_t allocdb_template_size;
void allocdb_free(struct allocdb *a);

/* A new run: one image of the target (a new one after exec). Fills *run_id. */
int allocdb_add_run(struct allocdb *a, uint64_t generation, int pid, uint64_t sample_mean,
		    const char *command, int64_t *run_id, struct strbuf *err);

/* The executable of run_id's image (alloc_run.exe; pprof's main binary). */
int allocdb_set_exe(struct allocdb *a, int64_t run_id, const char *exe, struct strbuf *err);

/*
 * One interval of run_id at t_ms after the start: the header figures and
 * the sites of v whose counters changed since the last interval (the caller
 * keeps that state; changed[i] says whether v->sites[i] is written). final:
 * taken after the target exited (kept out of the trend: exit handlers free).
 * stack_ids[i] is the alloc_stack id of v->sites[i]. One transaction.
 */
int allocdb_add_interval(struct allocdb *a, int64_t run_id, int64_t t_ms,
			 const struct track_view *v, const int64_t *stack_ids, const bool *changed,
			 bool final, struct strbuf *err);

/*
 * The final interval of run_id when its image ended without one (by exec):
 * a copy of its last interval's figures at t_ms, with no site rows (a
 * reader fills forward). Nothing when the run has no interval.
 */
int allocdb_end_run(struct allocdb *a, int64_t run_id, int64_t t_ms, struct strbuf *err);

/*
 * --follow-fork: run_id's process was forked by ppid, whose image then was
 * parent_run (0: not recorded). alloc_run.ppid and parent_run.
 */
int allocdb_set_parent(struct allocdb *a, int64_t run_id, int ppid, int64_t parent_run,
		       struct strbuf *err);

/* How run_id's image ended (alloc_run.ended, docs/SCHEMA.md): "exec", "exit 0", ... */
int allocdb_set_ended(struct allocdb *a, int64_t run_id, const char *ended, struct strbuf *err);

/*
 * A stack of run_id at slot (its frames come later); fills *stack_id. Its
 * return addresses (innermost first) are stored once per run in alloc_pc and
 * the stack as a path in the trie alloc_node, shared with the stacks that
 * have the same callers.
 */
int allocdb_add_stack(struct allocdb *a, int64_t run_id, uint32_t slot, const uint64_t *pcs,
		      uint32_t depth, int64_t *stack_id, struct strbuf *err);

/*
 * The symbols of one return address of run_id: f[0..n) all have f[0].pc,
 * innermost (inlined) level first, as symbolize_pc gives them. Stored once
 * per (run, pc): a later call for the same pc writes nothing.
 */
int allocdb_add_frames(struct allocdb *a, int64_t run_id, const struct sym_frame *f, size_t n,
		       struct strbuf *err);

/* Whether allocdb_add_frames stored pc of run_id already (by this handle). */
bool allocdb_has_frames(struct allocdb *a, int64_t run_id, uint64_t pc);

/*
 * Replaces the JIT map of run_id (the JVM's perf map, docs/SCHEMA.md
 * alloc_jitmap) by m. Call inside allocdb_begin/allocdb_commit.
 */
int allocdb_set_jitmap(struct allocdb *a, int64_t run_id, const struct perfmap *m,
		       struct strbuf *err);

int allocdb_begin(struct allocdb *a, struct strbuf *err);
int allocdb_commit(struct allocdb *a, struct strbuf *err);

/* What offheap report reads back: per stack, its frames and its series. */
struct alloc_frame {
	uint64_t pc;
	char *function, *file, *module;
	uint64_t module_offset; /* pc relative to the module's load bias (0: no module) */
	int line;
	bool inlined;
	bool jit; /* function named from the run's JIT map (alloc_jitmap) */
	/*
	 * A Java frame the JVM named (its pc has bit 63 set, docs/SCHEMA.md):
	 * function "java.util.zip.Inflater.<init>", file and line, no module.
	 * Code that asks "is this Java?" tests java || jit.
	 */
	bool java;
};

struct alloc_stack {
	int64_t id, run_id;
	uint32_t slot;
	struct alloc_frame *frames;
	size_t nframes, aframes;
	/* live bytes at each interval taken while the run's image ran (filled forward) */
	int64_t *live;
	size_t n;
	int64_t live_bytes, live_count; /* at the end (after exit when recorded) */
	int64_t peak_live;		/* live bytes at its run's peak (alloc_peak); 0 when none */
	uint64_t alloc_bytes, alloc_count, free_bytes, free_count;
};

struct alloc_data {
	struct alloc_stack *stacks;
	size_t nr, alloc;
	uint64_t flags; /* OR of every interval's enum alloc_flags */
	uint64_t dropped;
	size_t intervals; /* of the last run */
	uint64_t span_ms; /* from its first to its last interval taken while it ran */
	uint64_t sample_mean;
	int64_t run;  /* the run loaded (alloc_run.id); 0: every run */
	size_t runs; /* images the tracker started in (alloc_run rows) */
	char *exe;   /* the executable of the last run; NULL when not recorded */
	bool detached; /* the last run was let go (record -p): its end is a detach, not an exit */
	bool unended;  /* its alloc_run.ended is NULL: the recorder was killed (or still runs) */
	/*
	 * The last run's peak of total live bytes, peak_ms after its image
	 * started; the stacks' peak_live were copied at peak_sites_bytes (at
	 * least 64/65 of it), peak_sites_ms. has_peak false: not recorded.
	 */
	bool has_peak;
	int64_t peak_run; /* its alloc_run id: the stacks whose peak_live count */
	int64_t peak_bytes, peak_sites_bytes;
	uint64_t peak_ms, peak_sites_ms;
	/*
	 * The tracker reached its ceiling of max_memory bytes degraded_ms after
	 * the start of the last run that did, and sampled from then on, every
	 * degraded_mean bytes at the end. degraded false: it never did.
	 */
	bool degraded;
	uint64_t degraded_ms, degraded_mean, max_memory;
};

/*
 * Reads every stack of run (0: of every run) with its frames and series;
 * the other figures of d (peak, intervals, exe, flags) are the run's, or
 * the last run's when run is 0. Frames with no
 * function and no module that fall into the run's JIT map are named after it
 * ("[java] long java.util.zip.Inflater.init(boolean)", "Interpreter").
 * On error d is left empty (nothing to release).
 */
int allocdb_load_run(struct allocdb *a, struct alloc_data *d, int64_t run, struct strbuf *err);
/* allocdb_load_run of allocdb_default_run: what report, doctor, html and pprof show by default. */
int allocdb_load(struct allocdb *a, struct alloc_data *d, struct strbuf *err);
void alloc_data_release(struct alloc_data *d);

/*
 * Holds the live figures of d (live bytes and counts, peaks) within
 * figure_clamp's range (the loads do it): a hostile recording's are then
 * safe to subtract and sum. The cumulative counts stay whole.
 */
void alloc_data_clamp(struct alloc_data *d);

/*
 * The default run: the last image of the command's own process (the pid of
 * the first run), not a child's. 0 when there is no run.
 */
int allocdb_default_run(struct allocdb *a, int64_t *run_id, struct strbuf *err);

/* One alloc_run row, for the list of runs of a report. */
struct alloc_run_info {
	int64_t id;
	int pid, ppid;	    /* ppid 0: the command's own process */
	int64_t parent_run; /* the image ppid had when it forked this one; 0 none */
	char *command, *exe; /* NULL when not recorded */
	char *ended;	    /* "exec", "exit N", "signal N", "exit", "vanished", "running", "detached"; NULL */
	uint64_t sample_mean;
	int64_t live_bytes, live_count; /* over its stacks at its last interval */
};

/* Every run, by id; *out freed with alloc_runs_free. 0 or -EIO with err filled. */
int allocdb_runs(struct allocdb *a, struct alloc_run_info **out, size_t *n, struct strbuf *err);
void alloc_runs_free(struct alloc_run_info *v, size_t n);

#endif
