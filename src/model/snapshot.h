/* snapshot: one moment of one process's memory — regions, totals, threads, cgroup. */
#ifndef OFFHEAP_SNAPSHOT_H
#define OFFHEAP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc.h"
#include "region.h"

struct strbuf;

struct snapshot {
	pid_t pid;
	uint64_t time_ns;	/* CLOCK_REALTIME when taken */
	uint64_t start_time;	/* /proc/PID/stat starttime (clock ticks): tells a reused PID */
	char *cmdline;		/* owned; argv joined by spaces, "" for kernel threads */
	char *exe;		/* owned; readlink /proc/PID/exe, "" when not readable */
	struct proc_status status;
	struct region *regions;	/* owned, ascending by start */
	size_t nregions, alloc_regions;
	struct mem_counts totals;	/* from smaps_rollup when present, else the sum */
	bool totals_from_rollup;
	struct thread *threads;	/* owned, ascending by tid */
	size_t nthreads, alloc_threads;
	struct cgroup_mem cgroup;
	uint64_t stack_rlimit;	/* soft RLIMIT_STACK: glibc's default thread stack size; 0 unknown */
	bool is_jvm;		/* libjvm.so is mapped */
	size_t reconciled;	/* smaps entries dropped or cut: the map changed while read */
};

void snapshot_init(struct snapshot *s);
void snapshot_release(struct snapshot *s);

enum snapshot_flags {
	SNAP_NO_THREAD_SP = 1 << 0,	/* skip reading each thread's stack pointer */
};

/*
 * Takes a snapshot of pid: status, smaps (+ rollup), threads, cgroup.
 * Returns 0, or -errno with the reason in err: -ESRCH when the process does
 * not exist or exits during the snapshot, -EACCES/-EPERM when not allowed,
 * -EINVAL when a file under /proc does not parse. Nothing is left allocated
 * in s on error beyond what snapshot_release frees.
 */
int snapshot_take(pid_t pid, unsigned flags, struct snapshot *s, struct strbuf *err);

/* The thread with this tid, or NULL. */
const struct thread *snapshot_thread(const struct snapshot *s, pid_t tid);

/*
 * What a region is called wherever one is listed (maps, diff): its path, or for an
 * anonymous one what it is — "[stack:42 worker]", "[stack:42 worker] guard",
 * "[stack:? running thread]", "[arena]", "[arena reserve]", "[anon]". Resets sb,
 * fills it and returns sb->buf (the caller owns sb).
 */
const char *snapshot_region_label(const struct snapshot *s, const struct region *r,
				  struct strbuf *sb);

#endif
