/*
 * region: one mapping of a process and what it is used for — the type the
 * /proc readers fill and every layer above reads.
 */
#ifndef OFFHEAP_REGION_H
#define OFFHEAP_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/*
 * True when the mapped file's path (len bytes, maybe a whole maps line) ends in
 * "/libjvm.so", or in "/libjvm.so (deleted)" after the JDK was upgraded under the
 * running JVM. A process that maps it is a JVM: HotSpot and OpenJ9 both ship one.
 */
bool region_path_is_libjvm(const char *path, size_t len);

/* Adds r's counts to acc. */
void mem_counts_add(struct mem_counts *acc, const struct mem_counts *r);

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
	bool kept_stack;	/* RC_ANON: shaped like a thread stack that no live thread owns
				   (classify_kept_stacks) */
};

#endif
