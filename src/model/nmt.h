/* nmt: HotSpot Native Memory Tracking text (jcmd VM.native_memory) parsed into a model, and diffed. */
#ifndef OFFHEAP_NMT_H
#define OFFHEAP_NMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

/* Largest text nmt_parse accepts: a detail report of a big JVM is a few MiB. */
#define NMT_MAX_TEXT (64u << 20)
/*
 * Bounds on what one report may hold, so hostile input cannot exhaust memory:
 * a parsed report takes at most about NMT_MAX_ENTRIES * 100 bytes plus the
 * text's size. A large real detail report has some 10^4 sites and frames.
 */
#define NMT_MAX_CATEGORIES 256
#define NMT_MAX_FRAMES 64		/* per call stack; the rest are dropped */
#define NMT_MAX_ENTRIES (1u << 20)	/* frames + regions + committed parts + sites */

/* What the text was. The last four are the JVM's one-line answers. */
enum nmt_kind {
	NMT_SUMMARY,		/* VM.native_memory summary */
	NMT_DETAIL,		/* detail: summary + virtual memory map + sites */
	NMT_SUMMARY_DIFF,	/* summary.diff, or nmt_diff's result */
	NMT_DETAIL_DIFF,	/* detail.diff: summary diff + sites with deltas */
	NMT_NOT_ENABLED,	/* "Native memory tracking is not enabled" (or "has been shutdown") */
	NMT_NO_DETAIL,		/* "Detail tracking is not enabled" */
	NMT_NO_BASELINE,	/* "No [detail ]baseline for comparison" */
	NMT_BASELINE_TAKEN,	/* "Baseline taken" (17+) / "Baseline succeeded" (8, 11) */
};

/* "summary", "detail", "summary.diff", … "baseline" */
const char *nmt_kind_name(enum nmt_kind k);

/*
 * One figure. Sizes are bytes (the text's KB times 1024), counts are counts.
 * In a diff, delta is the change since the baseline as the text gives it
 * (the JVM prints it only when non-zero, so an absent delta is 0).
 */
struct nmt_num {
	uint64_t val;	/* the value */
	int64_t delta;	/* change since the baseline (diffs only) */
	bool set;	/* the text had this figure */
};

/* malloc= and arena= figures of a category (or the malloc total). */
struct nmt_alloc {
	struct nmt_num size;		/* bytes outstanding */
	struct nmt_num count;		/* #N allocations */
	struct nmt_num peak;		/* (peak=NKB #N): the high-water mark */
	struct nmt_num peak_count;
	bool at_peak;			/* "(at peak)": now is the high-water mark */
};

/* mmap: and stack: figures. */
struct nmt_vm {
	struct nmt_num reserved;
	struct nmt_num committed;
	struct nmt_num peak;		/* peak committed (22+) */
	bool at_peak;			/* ", at peak" */
};

/* A Class metadata block: "Metadata:" or "Class space:" under category Class. */
struct nmt_metaspace {
	bool set;
	struct nmt_num reserved, committed, used;
	struct nmt_num free;		/* JDK 11 to 15 only */
	struct nmt_num waste;
	double waste_pct;		/* "=33.26%" */
};

/* One "-  Name (reserved=…, committed=…)" block. */
struct nmt_category {
	char *name;			/* owned; any name, unknown ones included */
	struct nmt_num reserved, committed;
	struct nmt_num readonly;	/* Shared class space, 21+ */
	struct nmt_alloc malloc;
	struct nmt_alloc arena;
	struct nmt_vm mmap;
	struct nmt_vm stack;		/* Thread: thread stacks */
	struct nmt_num threads;		/* (thread #N) / (threads #N) */
	struct nmt_num classes;		/* (classes #N) */
	struct nmt_num instance_classes, array_classes;
	struct nmt_num tracking_overhead;	/* Native Memory Tracking */
	struct nmt_metaspace metadata;	/* Class: non-class metaspace */
	struct nmt_metaspace class_space;	/* Class: compressed class space */
};

/*
 * A native frame "[0xADDR] sym+0xOFF" (25: "[0xADDR]sym+0xOFF in lib.so").
 * A bare address (sym NULL) is JIT-compiled or interpreted Java code.
 */
struct nmt_frame {
	uint64_t addr;
	char *sym;		/* owned, NULL for a bare address */
	uint64_t off;		/* +0xOFF, 0 when absent */
	char *lib;		/* owned, "in lib.so" (25), NULL when absent */
};

struct nmt_stack {
	struct nmt_frame *frames;	/* owned, innermost first */
	size_t nframes, alloc;
};

/* A committed part of a reserved region, with the stack that committed it. */
struct nmt_commit {
	uint64_t start, end;		/* [start, end) */
	uint64_t size;			/* bytes, as printed */
	struct nmt_stack stack;
};

/* "[0xA - 0xB] reserved [and committed] NKB for Cat from" in the virtual memory map. */
struct nmt_region {
	uint64_t start, end;
	uint64_t reserved;		/* bytes */
	bool all_committed;		/* "reserved and committed" */
	char *category;			/* owned */
	struct nmt_stack stack;
	struct nmt_commit *commits;	/* owned, as listed */
	size_t ncommits, alloc_commits;
};

/* A malloc call site: "(malloc=NKB type=Cat #N)" after its stack. */
struct nmt_malloc_site {
	struct nmt_stack stack;
	char *category;			/* owned; NULL on JDK 8 (no type=) */
	struct nmt_alloc m;
};

/* An mmap call site: "(reserved=NKB, committed=NKB Type=Cat)" after its stack. */
struct nmt_mmap_site {
	struct nmt_stack stack;
	char *category;			/* owned; NULL on JDK 8 */
	struct nmt_num reserved, committed;
};

struct nmt_report {
	enum nmt_kind kind;
	struct nmt_num total_reserved, total_committed;
	struct nmt_alloc total_malloc;	/* "malloc: NKB #N" (17.0.15+) */
	struct nmt_vm total_mmap;	/* "mmap: reserved=…" (17.0.15+) */
	bool has_total;			/* a Total: line was seen */
	struct nmt_category *cats;	/* owned, in the text's order */
	size_t ncats, alloc_cats;
	struct nmt_region *regions;	/* detail: the virtual memory map */
	size_t nregions, alloc_regions;
	struct nmt_malloc_site *malloc_sites;	/* detail */
	size_t nmalloc_sites, alloc_malloc_sites;
	struct nmt_mmap_site *mmap_sites;	/* detail */
	size_t nmmap_sites, alloc_mmap_sites;
	uint64_t omitted_sites;		/* "(N call sites weighting less than 1KB each omitted.)" */
	size_t unknown_lines;		/* lines that were not understood and skipped */
};

void nmt_report_init(struct nmt_report *r);
void nmt_report_release(struct nmt_report *r);

/*
 * Parses the text of VM.native_memory summary, detail, summary.diff,
 * detail.diff or baseline, from any JDK 8 to 25, with or without jcmd's
 * leading "PID:" line. Returns 0 with r->kind saying what the text was
 * (a control message such as NMT_NOT_ENABLED is a successful parse), or
 * -EINVAL with "line N: …" in err for text that is not NMT or is cut short,
 * -EFBIG for text over NMT_MAX_TEXT or holding over NMT_MAX_ENTRIES entries. r must be initialised; it is reset
 * first, and holds nothing the caller must keep after an error (release it
 * either way).
 */
int nmt_parse(const char *text, size_t len, struct nmt_report *r, struct strbuf *err);

/* The category of that name (exact), or NULL. */
const struct nmt_category *nmt_category_find(const struct nmt_report *r, const char *name);

/*
 * Diffs two parsed summaries (or details: their summary part) as the JVM's
 * summary.diff would: out gets now's values, each with its change since
 * base as delta, and the categories of both (one only in base appears with
 * value 0 and a negative delta). Peaks are left out, as the JVM does.
 * out must be initialised; it is reset first. Returns 0, or -EINVAL when
 * either report holds no summary.
 */
int nmt_diff(const struct nmt_report *base, const struct nmt_report *now, struct nmt_report *out,
	     struct strbuf *err);

#endif
