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

struct jvmmem {
	struct snapshot snap;		/* the process: regions (Java heap reclassified), totals */
	struct hsperf_vm vm;		/* hsperfdata counters; vm.nmt says whether NMT is on */
	bool have_hsperf;
	uint64_t heap_committed, heap_used;	/* hsperfdata: generations' capacity and use */
	uint64_t heap_max;			/* hsperfdata maxCapacity, else MaxHeapSize */
	bool have_heap_range;
	uint64_t heap_lo, heap_hi;		/* the heap's reservation, from GC.heap_info */
	uint64_t heap_rss;			/* resident bytes inside it */
	struct jvm_flags flags;
	bool have_flags;
	bool attach_ok;			/* the attach socket answered */
	char attach_error[256];		/* why not, when it did not */
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

/* Parsers of the jcmd replies used above (exposed for the unit tests). */
int jvmmem_parse_flags(const char *text, struct jvm_flags *f);
int jvmmem_parse_heap_range(const char *text, uint64_t *lo, uint64_t *hi);
int jvmmem_parse_cheap(const char *text, uint64_t *outstanding, uint64_t *retained);

/* Derived figures, all in bytes; -1 where a source is missing. */
struct jvm_budget {
	int64_t nmt_committed;		/* NMT total committed */
	int64_t nmt_touched;		/* upper bound of NMT's resident anonymous bytes */
	int64_t outside_nmt_rss;	/* lower bound: RssAnon minus nmt_touched, at least 0 */
	int64_t outside_nmt_cheap;	/* C-Heap outstanding minus NMT malloc */
	int64_t direct;			/* NMT Other (17+) / Internal (8): direct buffers */
	int64_t worst_case;		/* the most the flags allow, when bounded */
	bool worst_unbounded;		/* MaxMetaspaceSize unlimited: no bound */
	int64_t limit;			/* cgroup limit, -1 = none */
};

void jvmmem_budget(const struct jvmmem *j, struct jvm_budget *b);

#endif
