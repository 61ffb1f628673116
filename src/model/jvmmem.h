/* jvmmem: where a JVM's memory is — heap, NMT categories, what NMT cannot see, caps and budget. */
#ifndef OFFHEAP_JVMMEM_H
#define OFFHEAP_JVMMEM_H

#include "hsperf.h"
#include "nmt.h"
#include "snapshot.h"

struct strbuf;

/* A flag from VM.flags; set is false when the JVM did not print it. */
struct jvm_flag {
	bool set;
	uint64_t val;
};

struct jvm_flags {
	struct jvm_flag max_heap;		/* MaxHeapSize */
	struct jvm_flag thread_stack;		/* ThreadStackSize, in KiB as the flag is */
	struct jvm_flag max_metaspace;		/* MaxMetaspaceSize (huge = unlimited) */
	struct jvm_flag ccs_size;		/* CompressedClassSpaceSize */
	struct jvm_flag max_direct;		/* MaxDirectMemorySize (0 = same as the heap) */
	struct jvm_flag code_cache;		/* ReservedCodeCacheSize */
};

/* What GC.heap_info says of the Java heap, in bytes. */
struct jvm_heap_info {
	bool have_sizes;	/* used and committed were printed */
	uint64_t used;		/* in use, all generations together */
	uint64_t committed;	/* "total"/"committed" summed, ZGC's "capacity" */
	uint64_t max;		/* the most it may grow to; 0 when not printed */
	bool have_range;	/* the reservation was printed (not by ZGC) */
	uint64_t lo, hi;	/* [lo, hi): the union of the spaces' ranges */
};

struct jvmmem {
	struct snapshot snap;		/* the process: regions (Java heap reclassified), totals */
	struct hsperf_vm vm;		/* hsperfdata counters; vm.nmt says whether NMT is on */
	bool have_hsperf;
	bool have_heap_used;		/* heap_used is known (from either source) */
	bool heap_from_jcmd;		/* heap_used/committed are GC.heap_info's */
	uint64_t heap_committed, heap_used;	/* GC.heap_info, else hsperfdata (last GC's) */
	uint64_t heap_max;			/* MaxHeapSize, GC.heap_info's, hsperfdata's */
	bool have_heap_info;		/* GC.heap_info answered and was understood */
	struct jvm_heap_info heap;	/* what it said */
	bool have_heap_range;
	uint64_t heap_lo, heap_hi;		/* the heap's reservation, from GC.heap_info */
	bool have_heap_rss;		/* heap_rss known: by the range, or ZGC's java_heap */
	uint64_t heap_rss;			/* resident bytes of the heap */
	struct jvm_flags flags;
	bool have_flags;
	bool attach_ok;			/* the attach socket answered */
	char attach_error[256];		/* why not, when it did not */
	char hsperf_error[256];		/* why have_hsperf is false ("" when it is true) */
	struct nmt_report nmt;		/* summary, when NMT is on and answered */
	bool have_nmt;
	bool have_cheap;		/* VM.info "C-Heap outstanding" (JDK 21+ on glibc) */
	uint64_t cheap_outstanding, cheap_retained;
	uint64_t stack_rss;		/* resident thread stacks (class stack) */
	uint64_t arena_rss, arena_count;	/* glibc arenas (class arena, not reserves) */
};

void jvmmem_init(struct jvmmem *j);
void jvmmem_release(struct jvmmem *j);

/*
 * Gathers everything about the JVM pid: a snapshot, hsperfdata, and over
 * the attach socket VM.flags, GC.heap_info, VM.info and the NMT summary.
 * Sources that fail are noted (attach_ok, have_*) and the rest still
 * gathered; only a process that cannot be read at all (or is not a JVM:
 * -ENOTSUP) fails. Returns 0 or -errno with err set.
 */
int jvmmem_collect(pid_t pid, int timeout_ms, struct jvmmem *j, struct strbuf *err);

/*
 * Marks the anonymous mappings of s inside the Java heap's reservation
 * [lo, hi) (from GC.heap_info) as RC_JAVA_HEAP; returns their resident bytes.
 */
uint64_t jvmmem_mark_heap(struct snapshot *s, uint64_t lo, uint64_t hi);

/*
 * ZGC's heap is a shared memfd named "java_heap", mapped once (JDK 21+
 * generational) or three times (JDK 17: one view per pointer colour) at
 * addresses GC.heap_info does not print. Marks those mappings RC_JAVA_HEAP
 * and returns their proportional resident bytes (a page seen through three
 * views counts once); *found says whether there were any.
 */
uint64_t jvmmem_mark_zheap(struct snapshot *s, bool *found);

/* Parsers of the jcmd replies used above (exposed for the unit tests). */
int jvmmem_parse_flags(const char *text, struct jvm_flags *f);
int jvmmem_parse_heap_range(const char *text, uint64_t *lo, uint64_t *hi);
/*
 * Reads GC.heap_info as G1, Parallel, Serial, Shenandoah and ZGC print it
 * (JDK 17 and 25 layouts). Returns 0 when it found the sizes or the range
 * (h says which), -EINVAL when neither.
 */
int jvmmem_parse_heap_info(const char *text, struct jvm_heap_info *h);
int jvmmem_parse_cheap(const char *text, uint64_t *outstanding, uint64_t *retained);
/*
 * VM.info's "Metaspace used NK" now (the heap section on JDK 17, the
 * Metaspace section on 25), never one of its GC events' past figures;
 * -EINVAL when it has none.
 */
int jvmmem_parse_metaspace(const char *text, uint64_t *used);

/* Derived figures, all in bytes; -1 where a source is missing. */
struct jvm_budget {
	int64_t nmt_committed;		/* NMT total committed */
	int64_t nmt_touched;		/* upper bound of NMT's resident anonymous bytes */
	int64_t outside_nmt_rss;	/* lower bound: RssAnon minus nmt_touched, at least 0 */
	int64_t outside_nmt_cheap;	/* C-Heap outstanding minus NMT malloc */
	int64_t direct;			/* NMT Other (direct buffers); 0 when not printed */
	int64_t worst_case;		/* the most the flags allow, when bounded */
	bool worst_unbounded;		/* MaxMetaspaceSize unlimited: no bound */
	int64_t limit;			/* cgroup limit, -1 = none */
};

void jvmmem_budget(const struct jvmmem *j, struct jvm_budget *b);

#endif
