/*
 * docattach: the windows in which 'offheap doctor PID' looks at the code of
 * its target, not only its memory: an attached recording of the allocation
 * sites for the sampling window ('offheap record -p' run as a child of
 * doctor, in a private temporary directory) and a short trace of the mmap
 * calls when anonymous memory grows (the trace engine, in this process).
 */
#ifndef OFFHEAP_DOCATTACH_H
#define OFFHEAP_DOCATTACH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct alloc_data;
struct doctor_mmap_site;
struct series;
struct strbuf;

/*
 * Bytes between two sampled allocations of doctor's recording (record
 * --sample). A thread or class loader leak allocates a few KiB of malloc
 * per thread or class: at 256 KiB, 30 threads in a window gave one sample
 * or none, and the culprit lost its code in 2 runs of 6. The sampled
 * tracker's cost is its hooks', not its walks': 64 KiB costs the same.
 */
#define DOCATTACH_SAMPLE (64u << 10)

/* One 'record -p' child and its directory; zeroed = none. */
struct docattach_rec {
	pid_t child;		/* 0: not running */
	int err_fd;		/* read end of the child's stderr, -1 none */
	char dir[4096];		/* the private 0700 directory, "" none */
	char db[4160];
	uint64_t started_ms;	/* CLOCK_MONOTONIC when started */
	char log[8192];		/* what the child said on stderr (the start of it) */
	size_t loglen;
};

/*
 * Starts 'SELF record -p PID' for a window of window_ms (its own -d is a
 * little longer, a bound should this process vanish) into a new directory
 * under $TMPDIR (or /tmp). The child is in a process group of its own (a
 * Ctrl-C reaches doctor, which ends the window) and gets SIGTERM should
 * doctor die. 0, or -errno with err filled and nothing left behind.
 */
int docattach_record_start(struct docattach_rec *d, const char *self, pid_t pid,
			   uint64_t window_ms, struct strbuf *err);

/*
 * Waits at most wait_ms for the child to say it attached, so that the
 * window starts with the recording. 0 attached; -ETIMEDOUT not yet (it may
 * still); -ECHILD it ended (docattach_record_end says why).
 */
int docattach_record_wait(struct docattach_rec *d, uint64_t wait_ms);

/*
 * Ends the window: asks the child to detach and waits for it at most
 * wait_ms (then kills it: the tracker in the target unpatches itself once
 * its recorder is gone), loads what it recorded into *out and removes the
 * directory. 0 with *out filled (release it), or -errno with why filled
 * (the child's own error when it gave one: attach refused, ...). Whatever
 * it returns, no child and no file is left. Safe on a zeroed d.
 */
int docattach_record_end(struct docattach_rec *d, uint64_t wait_ms, struct alloc_data *out,
			 struct strbuf *why);

/*
 * Whether the anonymous memory of s (not malloc's heaps) grew enough to
 * trace who maps it, or its mappings of files and shared memory grew in
 * number, or (not a JVM) its threads or the stacks of its ended threads
 * did: who starts them.
 */
bool docattach_wants_trace(const struct series *s);

/*
 * Traces PID's mmap calls for window_ms (every system call of the target
 * stops while traced) and fills *anon with the stack that left the most
 * anonymous memory mapped, *file with the one that left the most mappings
 * of a descriptor (a file, a memfd): each with its thread name and its
 * frames past mmap & co. In a JVM (jvm) its perf map, asked for after the
 * trace, names the frames in JIT code and stubs. 0 (outstanding 0: nothing
 * of that sort was left mapped), or -errno with err.
 */
int docattach_trace(pid_t pid, uint64_t window_ms, bool jvm, struct doctor_mmap_site *anon,
		    struct doctor_mmap_site *file, struct strbuf *err);

#endif
