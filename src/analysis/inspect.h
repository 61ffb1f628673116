/* inspect: what the bytes of a memory region are — strings, entropy, signatures, pointers, chunks.
 */
#ifndef OFFHEAP_INSPECT_H
#define OFFHEAP_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INSPECT_STR_MIN	 6	    /* shortest string counted, in characters */
#define INSPECT_STR_MAX	 256	    /* longer runs are keyed by their first 256 characters */
#define INSPECT_STR_CAP	 (1u << 18) /* distinct strings held at most */
#define INSPECT_SIZE_CAP 65536	    /* distinct chunk sizes held at most */
#define INSPECT_WALK_MAX 100000000  /* chunk steps at most per region */

enum inspect_page { IP_ZERO, IP_TEXT, IP_RANDOM, IP_OTHER, IP_NR };
enum inspect_sig { IS_GZIP, IS_ZLIB, IS_ZLIB_STATE, IS_JAVA_CLASS, IS_ELF, IS_JSON, IS_XML, IS_NR };

const char *inspect_page_name(enum inspect_page p);
const char *inspect_sig_name(enum inspect_sig s);

struct inspect_string {
	char *s; /* owned; the characters (UTF-16 ones converted to ASCII) */
	uint32_t len;
	bool utf16;
	uint64_t count;
};

/* A mapping that pointers may point into (for the pointer analysis). */
struct inspect_map {
	uint64_t start, end;
	int cls; /* enum region_class */
};

struct inspect_size {
	uint64_t size;
	uint64_t inuse, freed; /* chunk counts */
};

/* The malloc chunk walk of one region. */
struct inspect_walk {
	uint64_t start, end; /* the region walked */
	uint64_t first;	     /* address of the first chunk, 0 when none was found */
	uint64_t chunks, inuse_bytes, free_bytes, top_size;
	uint64_t stop_addr; /* where the walk stopped */
	const char *stop;   /* why: "top chunk", "bad size", … */
};

struct inspect {
	/* strings */
	struct inspect_string *strs; /* open addressing, up to INSPECT_STR_CAP * 2 slots */
	size_t nstrs, str_slots;
	uint64_t sweeps; /* times strings seen once were dropped to make room */
	/* pages */
	uint64_t pages[IP_NR], page_bytes;
	double entropy_sum;
	/* signatures */
	uint64_t sigs[IS_NR];
	/* pointers */
	const struct inspect_map *maps; /* sorted, NULL: no pointer analysis */
	size_t nmaps;
	uint64_t words, ptr_none, *ptr_cls; /* ptr_cls[class] */
	int ncls;
	/* chunks */
	struct inspect_size *sizes; /* open addressing, up to INSPECT_SIZE_CAP * 2 slots */
	size_t nsizes, size_slots;
	uint64_t sizes_dropped;
	struct inspect_walk *walks;
	size_t nwalks, alloc_walks;
	/* the regions fed so far (for the zlib state check) */
	struct inspect_region *regs;
	size_t nregs;
	uint64_t bytes;
};

struct inspect_region {
	uint64_t start, end;
	int cls;		   /* enum region_class, -1 when not known */
	const unsigned char *data; /* end - start bytes */
};

/* maps (sorted, may be NULL) for the pointer analysis; ncls classes. */
void inspect_init(struct inspect *in, const struct inspect_map *maps, size_t nmaps, int ncls);
void inspect_release(struct inspect *in);

/* Analyses regions (ascending, kept by the caller until inspect_release). */
void inspect_run(struct inspect *in, const struct inspect_region *regs, size_t n);

/*
 * Walks the glibc malloc chunks of one region: the brk heap (main arena,
 * first chunk at the start) or an arena heap (first chunk found by scanning).
 */
void inspect_walk_chunks(struct inspect *in, const struct inspect_region *r, bool main_arena);

/*
 * One window of a malloc heap, for sampling a heap without reading all of
 * it (src/analysis/mallocprobe.c): the chunks and the zlib states that
 * start in [start, end). The walk starts at known_first when set, else at
 * the first place from start (from the first chunk when start opens the
 * heap) where a chain of chunks checks out, and resynchronises the same way
 * after a header that does not. first and exit tell where its chunks began
 * and ended, so that the walks of adjacent windows can be checked end to end.
 */
struct inspect_win {
	/* in */
	uint64_t start, end;	      /* the window */
	const unsigned char *data;    /* the bytes from start to data_end */
	uint64_t data_end;	      /* >= end: a margin for headers past the end */
	uint64_t heap_start, heap_end; /* the heap holding it (its valid part) */
	bool main_arena;	      /* the brk heap */
	const struct inspect_map *heaps; /* every heap, sorted: where a z_stream may be */
	size_t nheaps;
	uint64_t known_first;	      /* a chunk known to start there (0: find one) */
	/* out */
	uint64_t chunks, inuse_bytes, free_bytes; /* chunks starting in the window, the top excepted */
	uint64_t resyncs;	      /* headers that did not check out, walked past */
	uint64_t pending_hdr;	      /* the last chunk's next header is past data_end: its size word's address, 0 none */
	uint64_t pending_size;	      /* that chunk's size */
	uint64_t pending_head;	      /* that chunk's own size word */
	bool pending_unsure;	      /* no chain checked out in the window: that chunk is a guess */
	bool pending_links;	      /* that chunk has a free chunk's links (counted free only so) */
	uint64_t zlib;		      /* zlib states whose z_stream was in data too */
	uint64_t first;		      /* where the walk started (0: no chunk found) */
	uint64_t exit;		      /* where its last chunk ends, at or past end (0: not known) */
};

/*
 * Settles the pending chunk of w with the two words read at its
 * pending_hdr - 8 (the next chunk's prev_size) and pending_hdr (its size):
 * counts it in use or free, or, when it was a guess that the next header
 * does not confirm, not at all.
 */
void inspect_window_settle(struct inspect_win *w, uint64_t prev_size, uint64_t size);

/* A zlib state candidate whose z_stream lies outside the window's bytes. */
struct inspect_zcand {
	uint64_t state, strm; /* a state when the word at strm + INSPECT_ZSTREAM_STATE is state */
};

#define INSPECT_ZSTREAM_STATE 56 /* offsetof(z_stream, state) on LP64 */

/*
 * Analyses the window w: its chunk walk, and its zlib states; the states
 * to be confirmed by reading their z_stream are appended to *cands (grown
 * with ALLOC_GROW, owned by the caller).
 */
void inspect_window(struct inspect_win *w, struct inspect_zcand **cands, size_t *ncands,
		    size_t *alloc_cands);

/* The n strings covering the most bytes, best first; returns how many. */
size_t inspect_top_strings(const struct inspect *in, const struct inspect_string **out, size_t n);
/* The n chunk sizes with the most bytes in use, best first. */
size_t inspect_top_sizes(const struct inspect *in, const struct inspect_size **out, size_t n);

#endif
