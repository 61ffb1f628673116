/* trackfile: reads the counters liboffheap.so shares through its file (src/trackshm.h). */
#ifndef OFFHEAP_TRACKFILE_H
#define OFFHEAP_TRACKFILE_H

#include <stddef.h>
#include <stdint.h>

#include "../../preload/trackshm.h"

struct strbuf;
struct trackfile;

/* One stack entry as copied out of the file. */
struct track_site {
	uint32_t slot; /* index in the file's stack table; 0 = "other" */
	uint32_t depth;
	int64_t live_bytes, live_count;
	uint64_t alloc_bytes, alloc_count, free_bytes, free_count;
	uint64_t frames[TRACKSHM_MAX_DEPTH];
};

/* A consistent-enough copy of the file (counters are read one by one). */
struct track_view {
	uint64_t generation, seq, flags, sample_mean, dropped;
	uint64_t partial; /* stacks cut short: the DWARF unwind was not safe */
	int32_t pid;
	struct track_site *sites; /* nr entries, ready and non-empty only */
	size_t nr, alloc;
	int64_t live_bytes; /* sum over sites */
};

/*
 * Opens path (the target creates and sizes it); only the ack field is written. Returns 0 and
 * *out (freed by trackfile_close), or -errno with err filled.
 */
int trackfile_open(const char *path, struct trackfile **out, struct strbuf *err);
void trackfile_close(struct trackfile *tf);

/*
 * Copies the current counters into v (its sites array is reused; release
 * with track_view_release). Returns 0, -EAGAIN while the target has not
 * initialised the file yet, or -errno (-EPROTO: not our format, a newer
 * version or bad sizes) with err filled.
 */
int trackfile_read(struct trackfile *tf, struct track_view *v, struct strbuf *err);

void track_view_release(struct track_view *v);

/* The generation of the image that initialised the file; 0 while none has. */
uint64_t trackfile_generation(struct trackfile *tf);

/* Tells the target its image with this generation has been seen (trackshm.h: ack). */
void trackfile_ack(struct trackfile *tf, uint64_t generation);
/* The generation of an image that is exiting and waits for exit_ack, or 0. */
uint64_t trackfile_exiting(struct trackfile *tf);
void trackfile_ack_exit(struct trackfile *tf, uint64_t generation);

#endif
