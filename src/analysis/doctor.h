/*
 * doctor: rules that turn a sampled series (and what the probes found) into
 * findings — the pattern, the evidence, the culprit and the fix.
 *
 * Pure computation: the command gathers the inputs (src/cmd/doctor.c) and
 * prints the findings; the HTML report shows the same findings.
 */
#ifndef OFFHEAP_DOCTOR_H
#define OFFHEAP_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct alloc_data;
struct series;

enum finding_severity {
	FS_LEAK,	/* sustained growth that will run out of memory */
	FS_WARNING,	/* costs memory but is not a leak (fragmentation, a budget over the limit) */
	FS_INFO,	/* worth knowing */
};

const char *finding_severity_name(enum finding_severity s);

#define FINDING_MAX_EVIDENCE 8
#define FINDING_MAX_FRAMES 16

/*
 * One finding. pattern is a stable id ("zlib-inflater", "direct-buffers",
 * "thread-leak", "classloader-leak", "interned-strings", "code-cache",
 * "java-heap", "native-outside-nmt", "arena-fragmentation", "malloc-leak",
 * "mmap-growth", "native-growth", "budget-over-limit").
 */
struct finding {
	const char *pattern;
	enum finding_severity severity;
	char title[160];		/* one line: what is happening */
	char evidence[FINDING_MAX_EVIDENCE][320];	/* the numbers behind it */
	size_t nevidence;
	char culprit[512];		/* which code / category / site */
	char fix[480];			/* what to do */
	double bytes_per_hour;		/* growth rate, 0 when not a growth */
	double confidence;		/* 0..1 */
	/* the culprit's stack when the code is known, innermost first (JSON) */
	char culprit_frames[FINDING_MAX_FRAMES][256];
	size_t nculprit_frames;
	/* held by malloc: the culprit is the allocator's keeping, no code to name */
	bool held;
};

/*
 * Who maps the anonymous memory that grows: the largest stack still
 * outstanding after doctor's short trace window (src/analysis/docattach.c).
 */
struct doctor_mmap_site {
	char thread[16];		/* the thread's name when it mapped */
	char frames[FINDING_MAX_FRAMES][256];	/* innermost first, past mmap & co */
	size_t nframes;
	uint64_t outstanding, regions;	/* still mapped at the end of the window */
	uint64_t window_ms;
};

/* What the probes found beyond the series; each "have" says it was read. */
struct doctor_probes {
	/* zlib stream states found in the grown native regions (src/analysis/inspect.c) */
	bool have_zlib;
	uint64_t zlib_first, zlib_last;	/* at the start and at the end */
	uint64_t zlib_err_first, zlib_err_last;	/* their standard errors, 0 when exact */
	uint64_t heap_read_first, heap_read_last;	/* bytes of the malloc heaps each probe read */
	uint64_t heap_bytes_first, heap_bytes_last;	/* bytes of the malloc heaps then */
	/* objects on the Java heap (GC.class_histogram -all), at the start and at the end */
	bool have_histogram;
	uint64_t zlib_objects_first, zlib_objects_last;	/* Inflater + Deflater */
	uint64_t direct_objects_first, direct_objects_last;	/* DirectByteBuffer */
	/*
	 * DirectByteBuffer objects still reachable after each of two full
	 * collections doctor ran direct_live_gap_ms apart (probe_direct_live),
	 * asked only when doctor_wants_gc said so
	 */
	bool have_direct_live;
	uint64_t direct_live_first, direct_live_last, direct_live_gap_ms;
	/* why an input above is missing ("" when it was read or does not apply) */
	char zlib_missing[224], histogram_missing[224], strings_missing[224];
	/* glibc chunk walk of the brk heap and arenas */
	bool have_chunks;
	uint64_t chunk_inuse, chunk_free;	/* bytes */
	/*
	 * glibc's bytes in use at the first and last look, when both counts
	 * are sound (not overcounted) and their errors small: what malloc'd
	 * memory was kept, for any process (a JVM also has VM.info's).
	 */
	bool have_inuse_delta;
	int64_t inuse_delta;
	uint64_t malloc_rss;			/* resident bytes of the walked regions */
	uint64_t arenas;			/* arena heaps walked */
	/* VM.classloader_stats: the loader type holding the most classes */
	bool have_loaders;
	char loader_type[160];
	uint64_t loader_count, loader_classes;
	/* VM.stringtable: entries at the start and at the end */
	bool have_strings;
	uint64_t strings_first, strings_last;
	/* JVM flags (bytes; 0 = not set) and the cgroup limit */
	bool have_flags;
	uint64_t max_heap, max_direct, max_metaspace, code_cache, thread_stack;
	int trim_native_flag;		/* TrimNativeHeapInterval: probe_flag_listed's 0, 1 or 2 */
	int64_t cgroup_limit;		/* -1 none */
	bool nmt_on;			/* NMT summary or detail */
	/* a recording with allocation tracking (offheap record) */
	const struct alloc_data *allocs;
	uint64_t allocs_sample;	/* doctor's own recording: its --sample; 0: another's */
	/* doctor's trace window over anonymous mmap growth */
	/*
	 * the mapped data files, and the shared memory, whose mappings grew most
	 * in number (sampler_grown_files): "" when none did, or not known (a recording)
	 */
	char files_grown[160], shm_grown[160];
	uint64_t files_from, files_to, shm_from, shm_to;
	const struct doctor_mmap_site *mmap_site;	/* NULL: not traced, or nothing left */
	/* the stack that left the most mappings of files or memfds; NULL: none */
	const struct doctor_mmap_site *file_site;
	bool mmap_traced;	/* the trace ran (mmap_site NULL: it saw nothing kept) */
};

struct doctor_report {
	struct finding *f;		/* owned, most severe and fastest first */
	size_t n, alloc;
	char **unchecked;		/* owned: what could not be checked, and why */
	size_t nunchecked, alloc_unchecked;
};

/*
 * A count of the malloc probe into buf: "N" when it read all bytes of the
 * heaps, else "≈ N (± E, sampled X of Y MiB)".
 */
void doctor_zlib_count(char *buf, size_t n, uint64_t v, uint64_t e, uint64_t rd, uint64_t all);

void doctor_report_init(struct doctor_report *r);
void doctor_report_release(struct doctor_report *r);

/* Adds a line to what could not be checked (printf-like). */
void doctor_unchecked(struct doctor_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Runs every rule over s (which may be empty when only allocs is given). */
void doctor_diagnose(const struct series *s, const struct doctor_probes *p,
		     struct doctor_report *r);

/*
 * Whether a JVM's verdict on direct buffers hinges on a collection: its
 * DirectByteBuffer objects grew in a window where no GC ran (a buffer the
 * program dropped is freed only by one, so dropped and kept buffers grow
 * alike) and the rules, given s and p as they are, call it a leak. Two
 * collections some seconds apart then tell (have_direct_live).
 */
bool doctor_wants_gc(const struct series *s, const struct doctor_probes *p);

/* True when r holds a finding of severity FS_LEAK (for --fail-on-leak). */
bool doctor_has_leak(const struct doctor_report *r);

#endif
