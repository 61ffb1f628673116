/*
 * mallocprobe: the zlib streams and the chunks of a live process's glibc
 * malloc heaps (the brk heap and every arena heap), counted within a time
 * budget: everything when it fits, else a uniform sample of windows and an
 * estimate of the whole with its standard error.
 */
#ifndef OFFHEAP_MALLOCPROBE_H
#define OFFHEAP_MALLOCPROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct strbuf;

#define MALLOC_PROBE_WINDOW (1ULL << 20)      /* bytes of one window */
#define MALLOC_PROBE_BUDGET (250ULL * 1000000) /* ns of reads, by default */
#define MALLOC_PROBE_MIN_WINDOWS 24 /* read before the budget can stop the reads */

struct malloc_probe {
	uint64_t regions;	    /* heaps: the brk heap and the arena heaps */
	uint64_t arenas;	    /* arena heaps (class arena, not reserves) */
	uint64_t merged;	    /* of which found inside a merged anonymous mapping */
	uint64_t rss;		    /* their resident bytes */
	uint64_t total_bytes;	    /* their bytes (an arena heap up to heap_info.size) */
	uint64_t sampled_bytes;	    /* bytes of the windows read */
	uint64_t windows, windows_read;
	bool exact;		    /* every window was read: the counts are not estimates */
	uint64_t rewalked;	    /* windows walked again from where the window before ended */
	uint64_t zlib_states;	    /* zlib streams (inflate/deflate states), estimated */
	uint64_t zlib_err;	    /* its standard error, 0 when exact */
	uint64_t zlib_seen;	    /* the states found in the windows read */
	uint64_t inuse, inuse_err;  /* bytes in chunks in use, estimated, and the error */
	uint64_t free, free_err;    /* bytes in free chunks (the top excepted), the same */
	/*
	 * The chunks counted hold more bytes than the heaps, beyond the
	 * estimate's error: the walk took data for chunks somewhere, and
	 * inuse and free are not to be used.
	 */
	bool overcount;
	uint64_t read_ns;	    /* CPU time of the reads of the target's memory (the budget's) */
	uint64_t read_wall_ns;	    /* their wall time (longer on a loaded machine) */
	uint64_t wall_ns;	    /* time of the whole probe */
	uint64_t budget_ns;	    /* the budget it was given */
	bool pagemap;		    /* pages not in RAM were skipped (false: pagemap unreadable, all read) */
};

/*
 * Reads pid's malloc heaps with process_vm_readv while it runs (it is never
 * stopped; pages it never touched are not read, so it does not grow) in
 * windows of MALLOC_PROBE_WINDOW bytes spread evenly over all the heaps,
 * until every window is read or the reads took budget_ns of CPU time (or
 * the probe eight times that in wall time, at least 2 s); counts zlib states
 * and walks the chunks of each window read, and extrapolates to all the
 * heaps' bytes. Returns 0 or -errno with err filled (-ESRCH when the process
 * is gone, -ENOENT when it has no malloc heap).
 */
int probe_malloc(pid_t pid, uint64_t budget_ns, struct malloc_probe *out, struct strbuf *err);

#endif
