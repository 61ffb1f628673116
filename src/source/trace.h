/* trace: follow a process's memory-mapping system calls with ptrace, by thread and call stack. */
#ifndef OFFHEAP_TRACE_H
#define OFFHEAP_TRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct strbuf;
struct symbolizer;
struct unw_mods;

enum trace_sys {
	TRACE_MMAP,
	TRACE_MUNMAP,
	TRACE_MREMAP,
	TRACE_BRK,
	TRACE_MADVISE,
	TRACE_SHMAT,
	TRACE_SHMDT,
	TRACE_NSYS,
};

/* "mmap", "munmap", … */
const char *trace_sys_name(enum trace_sys sys);

enum trace_kind {
	TRACE_REGION_MMAP,	/* mmap or mremap growth */
	TRACE_REGION_BRK,	/* brk growth */
	TRACE_REGION_SHM,	/* shmat */
};

/* One address space (a process image: a new one at each exec). */
struct trace_mm {
	unsigned id;			/* 1, 2, … in order of creation */
	pid_t pid;			/* the process (thread-group leader) */
	char comm[16];			/* its name when first seen */
	struct trace_region *regions;	/* born during the trace and still mapped, by start */
	size_t nregions, alloc;
	uint64_t brk_start;		/* the break when first known, 0 = unknown */
	uint64_t brk_cur;		/* the current break, 0 = unknown */
	struct symbolizer *sym;		/* for its stacks; NULL until first needed */
	void *unw_as;			/* libunwind address space */
	struct unw_mods *unw_mods;	/* unwind tables by code module (trace.c's own) */
	struct hotspot *hs;		/* a HotSpot JVM's structures, NULL until one is found */
	uint64_t hs_tried_ns;		/* when hotspot_open last failed */
	struct trace_jframe *jframes;	/* its interpreted frames met, named */
	size_t njframes, ajframes;
	bool exited;			/* the process exited or exec'd another image */
	/*
	 * What the image held when it ended during the trace, by exec, or by
	 * the exit of a process other than the traced one: its regions are
	 * released then (no longer mapped), and counted here. The traced
	 * process (the command, the PID) keeps its regions at its exit: they
	 * are what it held at its end.
	 */
	uint64_t released;		/* bytes */
	size_t nreleased;		/* regions */
};

/*
 * A Java frame met in a stack, named from the JVM's structures: the stack
 * holds TRACE_JAVA_TAG | its index in mm->jframes instead of its return
 * address (an interpreted frame's is the same for every method, so two
 * Java call paths would be one stack; a compiled method is one frame).
 */
struct trace_jframe {
	uint64_t method;	/* the JVM's Method* */
	int bci;		/* bytecode index, or HOTSPOT_BCI_NATIVE, HOTSPOT_BCI_COMPILED */
	char *name;		/* "pkg.Class.method(args)" */
	char *file;		/* "Class.java", NULL when not known */
	int line;		/* 0 when not known */
	bool native;		/* a native method */
};

#define TRACE_JAVA_TAG (1ULL << 63)

/* A mapping born during the trace, or the part of it still mapped. */
struct trace_region {
	uint64_t start, end;	/* [start, end), page-aligned */
	uint64_t born_ns;	/* trace time of the call that made it */
	uint32_t stack;		/* index into trace.stacks */
	uint32_t name;		/* index into trace.names: the thread's name then */
	pid_t tid;		/* the thread that made it */
	int prot;		/* PROT_* at mmap time */
	uint8_t kind;		/* enum trace_kind */
	bool file;		/* mapped from a descriptor (a file, a memfd), not anonymous */
};

/* A distinct call stack, innermost first. */
struct trace_stack {
	struct trace_mm *mm;	/* whose code the addresses are in */
	uint64_t *pcs;		/* depth return addresses; pcs[0] is at the syscall */
	uint32_t depth;
	uint64_t hash;
	uint64_t mapped;	/* bytes mapped by calls from this stack */
	uint64_t calls;		/* traced calls from this stack */
};

/* Per thread (by TID) totals, over the whole trace. */
struct trace_thread {
	pid_t tid, pid;		/* thread, its process */
	char name[16];		/* last name seen (comm) */
	uint64_t calls;		/* traced calls that succeeded */
	uint64_t mapped;	/* bytes mapped (mmap, mremap growth, shmat) */
	uint64_t unmapped;	/* bytes unmapped (munmap, mremap shrink, shmdt) */
	uint64_t brk_grown;	/* bytes the break grew by */
	uint64_t brk_shrunk;	/* bytes it shrank by */
	uint64_t advised;	/* bytes given back with madvise DONTNEED/FREE */
	uint64_t failed;	/* traced calls that failed */
};

/* One traced system call, complete (entry and result). */
struct trace_event {
	uint64_t seq;		/* 1, 2, … */
	uint64_t ts_ns;		/* since the trace began */
	pid_t tid, pid;
	uint32_t name;		/* index into trace.names */
	enum trace_sys sys;
	uint64_t args[6];	/* as passed */
	int64_t ret;		/* result, or -errno */
	uint32_t stack;		/* index into trace.stacks, UINT32_MAX = none */
	struct trace_mm *mm;
};

struct trace_opts {
	pid_t pid;		/* attach to this process, or 0 */
	char **argv;		/* or run this command (execvp) */
	uint64_t duration_ms;	/* stop after this long, 0 = until the target ends */
	int depth;		/* frames per stack, 0 = no stacks */
	bool keep_events;	/* keep every event in trace.events */
	bool stdout_to_stderr;	/* the command's stdout is our stderr (ours carries data) */
	/* Called for each complete event, if set. */
	void (*on_event)(const struct trace_event *ev, void *arg);
	void *arg;
};

struct trace {
	struct trace_opts opts;
	struct trace_mm **mms;		/* every address space seen */
	size_t nmms, mms_alloc;
	struct trace_stack *stacks;
	size_t nstacks, stacks_alloc;
	uint32_t *stack_hash;		/* open-addressing index into stacks (+1) */
	size_t stack_hash_size;
	char (*names)[16];		/* thread names (interned) */
	size_t nnames, names_alloc;
	struct trace_thread *threads;	/* every thread seen, by first sight */
	size_t nthreads, threads_alloc;
	struct trace_event *events;	/* when opts.keep_events */
	size_t nevents, events_alloc;
	uint64_t seq;			/* events so far */
	uint64_t elapsed_ns;		/* length of the trace */
	uint64_t start_unix_ns;		/* wall-clock time the trace began (attached) */
	uint64_t end_unix_ns;		/* and ended (before detaching) */
	pid_t child;			/* the command's PID with opts.argv */
	int child_status;		/* its wait status, when child_exited */
	bool child_exited;
	int stop_signal;		/* the signal that ended the trace, or 0 */
	bool seccomp;			/* only traced calls stop (the command mode) */
	unsigned undetached;		/* threads we could not detach from cleanly */
	void *priv;			/* the tracer's own state */
};

/*
 * Traces per opts until the duration passes, the target ends, or SIGINT,
 * SIGTERM or SIGHUP arrives (those are blocked and waited for here; with a
 * command the first one is passed on to it and the second ends the trace).
 * On return every thread is detached (or the command has exited).
 *
 * Returns 0, or -errno with err filled: -EPERM (not allowed to trace),
 * -EBUSY (already traced by another process), -ESRCH (no such process).
 * The trace is filled in either way; release it with trace_release().
 */
int trace_run(struct trace *t, const struct trace_opts *opts, struct strbuf *err);
void trace_release(struct trace *t);

/* The symbolizer for a stack's address space (made when the stack was seen), or NULL. */
struct symbolizer *trace_symbolizer(const struct trace_stack *st);

/*
 * Frame d of st when it is a Java frame the trace named, else NULL: such a
 * frame's pc is no address and must not be symbolized.
 */
const struct trace_jframe *trace_java_frame(const struct trace_stack *st, uint32_t d);

/* "[java] pkg.Class.method(args) (File.java:42)", or "… (Native Method)", in buf. */
char *trace_java_frame_text(const struct trace_jframe *j, char *buf, size_t n);

#endif
