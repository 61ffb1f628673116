/* snapshot: one moment of one process's memory — regions, totals, threads, cgroup. */
#ifndef OFFHEAP_SNAPSHOT_H
#define OFFHEAP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct strbuf;

/*
 * What a mapping is used for. The names (region_class_name) are stable:
 * they are stored in recordings and printed in JSON.
 */
enum region_class {
	RC_HEAP,	/* brk heap, "[heap]" (glibc's main arena) */
	RC_STACK,	/* a thread's stack, or its guard (tid says whose) */
	RC_ARENA,	/* a glibc malloc arena heap: 64 MiB-aligned rw + its ---p reserve */
	RC_ANON,	/* other private anonymous memory (mmap'd malloc chunks, JVM reserves…) */
	RC_LIB,		/* an ELF file: the executable or a shared library */
	RC_JAR,		/* a Java archive or the JDK's modules image */
	RC_FILE,	/* another mapped file */
	RC_SHM,		/* shared memory: /dev/shm, SysV, memfd, shared anonymous */
	RC_SPECIAL,	/* [vdso], [vvar], [vsyscall] … */
	RC_JAVA_HEAP,	/* the Java heap (when the JVM says where it is) */
	RC_CODE_CACHE,	/* the JVM's code cache */
	RC_METASPACE,	/* metaspace and compressed class space */
	RC_NR
};

const char *region_class_name(enum region_class c);
/* Returns the class for a name, or -1. */
int region_class_parse(const char *name);

/* Byte counts as smaps gives them (converted from kB). */
struct mem_counts {
	uint64_t size;		/* virtual size */
	uint64_t rss;		/* resident */
	uint64_t pss;		/* proportional share */
	uint64_t shared_clean, shared_dirty, private_clean, private_dirty;
	uint64_t referenced;
	uint64_t anon;		/* Anonymous: */
	uint64_t swap;		/* Swap: */
	uint64_t swap_pss;	/* SwapPss: */
	uint64_t locked;	/* Locked: */
	uint64_t thp;		/* AnonHugePages + ShmemPmdMapped + FilePmdMapped */
};

struct region {
	uint64_t start, end;	/* [start, end) */
	uint64_t offset;	/* file offset */
	char perms[5];		/* "rw-p" */
	unsigned dev_major, dev_minor;
	uint64_t inode;
	char *path;		/* owned; "" when anonymous; may end in " (deleted)" */
	struct mem_counts m;	/* per-mapping figures from smaps */
	enum region_class cls;
	pid_t tid;		/* RC_STACK: the thread, 0 when not known */
	bool guard;		/* RC_STACK/RC_ARENA: the ---p part below/after the usable part */
};

/* From /proc/PID/status; sizes in bytes. */
struct proc_status {
	char name[64];		/* Name: (comm) */
	char state;		/* R, S, D, Z … */
	pid_t tgid, ppid, nspid;	/* nspid: last NSpid (pid inside its namespace) */
	uid_t ruid, euid;
	gid_t rgid, egid;
	int threads;
	uint64_t vm_peak, vm_size, vm_hwm, vm_rss, rss_anon, rss_file, rss_shmem, vm_swap;
	uint64_t sig_blk, sig_ign, sig_cgt;
	bool has_mm;		/* false for kernel threads and zombies (no Vm* lines) */
};

struct thread {
	pid_t tid;
	char name[64];		/* comm of the thread */
	uint64_t sp;		/* stack pointer when sampled, 0 when not known */
};

/* Memory cgroup of the process (cgroup v2, or v1's memory controller). */
struct cgroup_mem {
	bool known;		/* found and read */
	char path[512];		/* path inside the cgroup hierarchy */
	int64_t limit;		/* memory.max / limit_in_bytes; -1 = unlimited */
	uint64_t usage;		/* memory.current / usage_in_bytes */
	int64_t swap_limit;	/* memory.swap.max; -1 unlimited or not known */
	uint64_t swap_usage;	/* memory.swap.current */
};

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

/* Adds r's counts to acc. */
void mem_counts_add(struct mem_counts *acc, const struct mem_counts *r);

#endif
