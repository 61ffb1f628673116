/*
 * mapgroup: the mappings of a snapshot summed by group — by class, or by
 * what they map (the label 'offheap maps' shows, with every thread stack in
 * one group and every arena in another).
 */
#ifndef OFFHEAP_MAPGROUP_H
#define OFFHEAP_MAPGROUP_H

#include "region.h"

#include <stddef.h>
#include <stdint.h>

struct snapshot;
struct strbuf;

enum mapgroup_by {
	MAPGROUP_CLASS,		/* region_class_name */
	MAPGROUP_PATH,		/* snapshot_region_label; stacks and arenas as one group each */
	MAPGROUP_FILES,		/* mapped data files and shared memory only (classes file
				   and shm), by path with every run of digits folded to
				   '#': "/data/seg#.idx"; shared anonymous memory is
				   "[shared anonymous]" */
};

struct map_group {
	char *key;		/* the class name or the label (owned) */
	enum region_class cls;	/* the class of its first mapping */
	size_t count;		/* mappings */
	struct mem_counts m;	/* their sums */
};

/*
 * Groups the regions of s; value gives the figure to sort by, largest first
 * and then by key (NULL or 0 everywhere: by key). Returns the groups, *n of
 * them (free with mapgroup_free), NULL when there is none.
 */
struct map_group *mapgroup_build(const struct snapshot *s, enum mapgroup_by by,
				 uint64_t (*value)(const struct mem_counts *m), size_t *n);

/* Frees what mapgroup_build returned; NULL is a no-op. */
void mapgroup_free(struct map_group *g, size_t n);

/*
 * The group of class cls in b[0..nb) whose mappings grew most in number
 * since a[0..na) (NULL when none grew); *from and *to: its counts then and now.
 */
const struct map_group *mapgroup_grown(const struct map_group *a, size_t na,
				       const struct map_group *b, size_t nb,
				       enum region_class cls, size_t *from, size_t *to);

#endif
