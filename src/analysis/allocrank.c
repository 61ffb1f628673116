/*
 * allocrank: allocation sites ranked by sustained growth, then live bytes.
 *
 * The growth test is trend_fit's (least squares over the live bytes of the
 * intervals taken while the target ran): a site that grew and then freed
 * back to a level is ranked by its live bytes only.
 */
#include "allocrank.h"

#include "allocdb.h"
#include "xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t allocrank_sites(const struct alloc_data *d, struct alloc_site **out)
{
	struct alloc_site *v = xcalloc(d->nr ? d->nr : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < d->nr; i++) {
		const struct alloc_stack *s = &d->stacks[i];

		if (!s->alloc_count && !s->live_bytes)
			continue;
		v[n].s = s;
		v[n].live = s->live_bytes;
		trend_fit(s->live, s->n, &v[n].t);
		n++;
	}
	*out = v;
	return n;
}

static int cmp_sites(const void *a, const void *b)
{
	const struct alloc_site *x = a, *y = b;

	if (x->t.growing != y->t.growing)
		return x->t.growing ? -1 : 1;
	if (x->t.growing && x->t.growth != y->t.growth)
		return x->t.growth > y->t.growth ? -1 : 1;
	if (x->live != y->live)
		return x->live > y->live ? -1 : 1;
	return x->s->id < y->s->id ? -1 : x->s->id > y->s->id;
}

void allocrank_sort(struct alloc_site *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof(*v), cmp_sites);
}

const char *allocrank_frame_name(const struct alloc_frame *f, char *buf, size_t n)
{
	const char *mod;

	if (f->function)
		return f->function;
	mod = f->module ? strrchr(f->module, '/') : NULL;
	snprintf(buf, n, "0x%" PRIx64 "%s%s", f->pc, mod ? " in " : "", mod ? mod + 1 : "");
	return buf;
}

static int cmp_peak(const void *a, const void *b)
{
	const struct alloc_stack *x = *(const struct alloc_stack *const *)a;
	const struct alloc_stack *y = *(const struct alloc_stack *const *)b;

	if (x->peak_live != y->peak_live)
		return x->peak_live > y->peak_live ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

size_t allocrank_peak(const struct alloc_data *d, const struct alloc_stack ***out)
{
	const struct alloc_stack **v = xcalloc(d->nr ? d->nr : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; d->has_peak && i < d->nr; i++)
		if (d->stacks[i].run_id == d->peak_run && d->stacks[i].peak_live > 0)
			v[n++] = &d->stacks[i];
	qsort(v, n, sizeof(*v), cmp_peak);
	*out = v;
	return n;
}

void allocrank_at_exit(const struct alloc_data *d, int64_t *bytes, int64_t *count)
{
	int64_t last = -1;

	*bytes = *count = 0;
	for (size_t i = 0; i < d->nr; i++)
		if (d->stacks[i].run_id > last)
			last = d->stacks[i].run_id;
	for (size_t i = 0; i < d->nr; i++)
		if (d->stacks[i].run_id == last) {
			*bytes += d->stacks[i].live_bytes;
			*count += d->stacks[i].live_count;
		}
}

const char *allocrank_unnamed(const struct alloc_stack *s)
{
	if (s->slot == 0)
		return "(other: stacks beyond the tracker's table)";
	return "(no frames: the recorder ended before it wrote them)";
}
