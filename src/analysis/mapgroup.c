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

/* Groups of MAPGROUP_FILES kept by name; the others are summed in one. */
#define FILE_GROUPS_MAX 256
#define FILE_GROUPS_OTHER "(other files)"

/* path with every run of digits folded to '#' */
static void fold_digits(const char *path, struct strbuf *out)
{
	strbuf_reset(out);
	for (const char *c = path; *c; c++) {
		if (*c >= '0' && *c <= '9') {
			strbuf_addch(out, '#');
			while (c[1] >= '0' && c[1] <= '9')
				c++;
		} else {
			strbuf_addch(out, *c);
		}
	}
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
		} else if (by == MAPGROUP_FILES) {
			if (r->cls != RC_FILE && r->cls != RC_SHM)
				continue;
			fold_digits(*r->path ? r->path : "[shared anonymous]", &label);
			key = label.buf;
			if (n >= FILE_GROUPS_MAX) {
				for (j = 0; j < n && strcmp(g[j].key, key); j++)
					;
				if (j == n)
					key = FILE_GROUPS_OTHER;
			}
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
			g[n].cls = r->cls;
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

const struct map_group *mapgroup_grown(const struct map_group *a, size_t na,
				       const struct map_group *b, size_t nb,
				       enum region_class cls, size_t *from, size_t *to)
{
	const struct map_group *best = NULL;
	size_t best_d = 0;

	*from = *to = 0;
	for (size_t i = 0; i < nb; i++) {
		size_t was = 0;

		if (b[i].cls != cls)
			continue;
		for (size_t j = 0; j < na; j++)
			if (!strcmp(a[j].key, b[i].key)) {
				was = a[j].count;
				break;
			}
		if (b[i].count > was && b[i].count - was > best_d) {
			best = &b[i];
			best_d = b[i].count - was;
			*from = was;
			*to = b[i].count;
		}
	}
	return best;
}
