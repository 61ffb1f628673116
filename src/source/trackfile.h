/* trackfile: reads the counters liboffheap.so shares through its file (preload/trackshm.h). */
#ifndef OFFHEAP_TRACKFILE_H
#define OFFHEAP_TRACKFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;
struct trackfile;

/*
 * The tracker's ABI (preload/trackshm.h) stays with the tracker and this
 * reader; the rest of offheap sees its facts here. trackfile.c checks that
 * they agree.
 */
#define TRACK_MAX_DEPTH 64 /* frames kept per stack */
/*
 * A frame with this bit set is a Java frame named by trackfile_java, not a
 * return address: the tracker asked the JVM for the Java stack above a JNI
 * method's allocation. Index 0 (the bit alone) stands for the outer Java
 * frames that did not fit.
 */
#define TRACK_JAVA_TAG (1ULL << 63)

/* track_view.flags: the tracker's state, the ABI's bits as they come. */
enum track_flags {
	TRACK_STACKS_FULL = 1 << 0, /* new stacks counted under entry 0 */
	TRACK_ADDRS_FULL = 1 << 1,  /* some blocks not tracked (address table full) */
	TRACK_EXACT = 1 << 2,	    /* every allocation recorded */
	TRACK_DEGRADED = 1 << 3,    /* sampled since degraded_ms: the ceiling was reached */
	TRACK_NOSPACE = 1 << 4,	    /* the file system of the file was full: stacks under entry 0 */
	TRACK_CHILD_NOSPACE = 1 << 5, /* a child could not be followed: no room for its file */
};

/* One stack entry as copied out of the file. */
struct track_site {
	uint32_t slot; /* index in the file's stack table; 0 = "other" */
	uint32_t depth;
	int64_t live_bytes, live_count;
	int64_t peak_live; /* live bytes when the view's sites_live was copied */
	uint64_t alloc_bytes, alloc_count, free_bytes, free_count;
	uint64_t frames[TRACK_MAX_DEPTH];
};

/* A consistent-enough copy of the file (counters are read one by one). */
struct track_view {
	uint64_t generation, seq, sample_mean, dropped;
	uint64_t flags; /* enum track_flags */
	uint64_t partial; /* stacks cut short: the DWARF unwind was not safe */
	uint64_t children; /* processes started below the image, not recorded */
	int32_t pid;
	int32_t ppid; /* --follow-fork: the recorded process that forked this one; 0 none */
	/*
	 * The tracker reached its ceiling degraded_ms after the start and
	 * samples since then, every degraded_kib KiB now; 0: never.
	 */
	uint64_t degraded_ms;
	uint32_t degraded_kib;
	uint32_t max_mem_mib; /* the ceiling of the tracker's memory */
	struct track_site *sites; /* nr entries, ready and non-empty only */
	size_t nr, alloc;
	int64_t live_bytes; /* sum over sites */
	/*
	 * The peak of the total of live bytes in the target (exact in exact
	 * mode), peak_ms after the image started; the sites' peak_live were
	 * copied when the total was sites_live (at least 64/65 of the peak
	 * once it passed 256 KiB), sites_ms after the start; sites_seq
	 * changes with each copy.
	 */
	int64_t peak_bytes, sites_live;
	uint64_t peak_ms, sites_ms, sites_seq;
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

/* The names of a Java frame, as the JVM gave them (cut to the tracker's sizes). */
struct track_java {
	char cls[184];	 /* dotted: "java.util.zip.Inflater" */
	char method[72]; /* "<init>" */
	char file[80];	 /* "Inflater.java"; empty when unknown */
	int line;	 /* 0 when unknown */
};

/*
 * The names of the Java frame pc (TRACK_JAVA_TAG | index) of the image the
 * file holds now: 0 and *out; -ENOENT while the tracker has not written
 * them (or for index 0, which has none); -EPROTO when the file is not ours.
 */
int trackfile_java(struct trackfile *tf, uint64_t pc, struct track_java *out);

/* Whether the tracker left the file at path as it does when its file system is full. */
bool trackfile_no_space(const char *path);

/* The generation of the image that initialised the file; 0 while none has. */
uint64_t trackfile_generation(struct trackfile *tf);

/* Tells the target its image with this generation has been seen (trackshm.h: ack). */
void trackfile_ack(struct trackfile *tf, uint64_t generation);
/* The generation of an image that is exiting and waits for exit_ack, or 0. */
uint64_t trackfile_exiting(struct trackfile *tf);
void trackfile_ack_exit(struct trackfile *tf, uint64_t generation);
/*
 * Asks an attached tracker (offheap_attach) whose image has this generation
 * to detach itself: its watcher restores the target and then makes the exit
 * handshake (trackfile_exiting).
 */
void trackfile_request_detach(struct trackfile *tf, uint64_t generation);
/*
 * Stores the recorder's heartbeat (its CLOCK_MONOTONIC ms, low 32 bits): an
 * attached tracker that cannot see the recorder's pid detaches itself once
 * it has not moved for TRACKSHM_HEARTBEAT_MS.
 */
void trackfile_heartbeat(struct trackfile *tf, uint32_t ms);

/*
 * --follow-fork: the file "follow" in dir (the recorder's own directory,
 * named to the tracker by OFFHEAP_FOLLOW), which lets at most max
 * processes of the command's tree record. 0, or -errno with err filled.
 */
int trackfile_follow_create(const char *dir, uint64_t max, struct strbuf *err);
/* The processes that max refused (trackfile_follow_create); 0 when unreadable. */
uint64_t trackfile_follow_refused(const char *dir);

#endif
