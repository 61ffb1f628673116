/* classify: what each mapping of a snapshot is used for (heap, thread stack, arena, …). */
#ifndef OFFHEAP_CLASSIFY_H
#define OFFHEAP_CLASSIFY_H

#include "snapshot.h"

/* glibc's HEAP_MAX_SIZE on 64-bit: 2 * DEFAULT_MMAP_THRESHOLD_MAX (32 MiB). */
#define GLIBC_ARENA_HEAP_SIZE (64ULL << 20)

/*
 * Sets cls, tid and guard of every region of s, using the regions' paths
 * and permissions, their neighbours, and the threads' stack pointers.
 * Needs s->regions sorted by start. Sets s->is_jvm.
 */
void classify_regions(struct snapshot *s);

/*
 * After classify_regions: the mappings shaped like a thread stack that no
 * live thread owns, and their resident bytes in *rss. glibc frees a
 * thread's stack only once the thread has ended AND been joined or
 * detached (and keeps up to 40 MiB of freed ones for reuse), so a count
 * that keeps rising is threads never joined.
 */
size_t classify_kept_stacks(const struct snapshot *s, uint64_t *rss);

/* The region containing addr, or NULL (binary search; regions sorted). */
struct region *classify_find(struct region *regions, size_t n, uint64_t addr);

#endif
