/*
 * mapgroup: sums the mappings of a snapshot by class or by what they map.
 * Groups are found by a linear search of the keys: a process has thousands
 * of mappings at most and far fewer distinct paths.
 */
#include "mapgroup.h"
#include "snapshot.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static int cmp_group(const void *a, const void *b, void *arg)
{
	uint64_t (*value)(const struct mem_counts *m) = *(uint64_t (**)(const struct mem_counts *))arg;
	const struct map_group *x = a, *y = b;
	uint64_t vx = value ? value(&x->m) : 0, vy = value ? value(&y->m) : 0;

	if (vx != vy)
		return vx < vy ? 1 : -1;
	return strcmp(x->key, y->key);
}

struct map_group *mapgroup_build(const struct snapshot *s, enum mapgroup_by by,
				 uint64_t (*value)(const struct mem_counts *m), size_t *ngroups)
{
	struct map_group *g = NULL;
	size_t n = 0, alloc = 0;
	struct strbuf label = STRBUF_INIT;

	for (size_t i = 0; i < s->nregions; i++) {
		const struct region *r = &s->regions[i];
		const char *key;
		size_t j;

		if (by == MAPGROUP_CLASS) {
			key = region_class_name(r->cls);
		} else {
			/* Every thread's stack is one group, not one per thread. */
			if (r->cls == RC_STACK)
				key = "[stacks]";
			else if (r->cls == RC_ARENA)
				key = "[arenas]";
			else {
				snapshot_region_label(s, r, &label);
				key = label.buf;
			}
		}
		for (j = 0; j < n; j++)
			if (!strcmp(g[j].key, key))
				break;
		if (j == n) {
			ALLOC_GROW(g, n + 1, alloc);
			memset(&g[n], 0, sizeof(g[n]));
			g[n].key = xstrdup(key);
			n++;
		}
		g[j].count++;
		mem_counts_add(&g[j].m, &r->m);
	}
	strbuf_release(&label);
	if (n)
		qsort_r(g, n, sizeof(*g), cmp_group, &value);
	*ngroups = n;
	return g;
}

void mapgroup_free(struct map_group *g, size_t n)
{
	if (!g)
		return;
	for (size_t i = 0; i < n; i++)
		free(g[i].key);
	free(g);
}
