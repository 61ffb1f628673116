/*
 * fuzz-html: the HTML report (html_render) and doctor's rules
 * (doctor_diagnose) on a series and allocation data built straight from the
 * input bytes, with no SQLite between: fuzz-series reaches both through a
 * whole recording image per input, whose opening costs more than the page.
 * The builder makes only what series_load and allocdb_load can hand over
 * from a hostile file (figures clamped as they clamp them; names cut to
 * their fields; at most 256 NMT categories; thread groups by count, each
 * within 0..2^24; every stack's live series as long as its interval count),
 * so what fails here fails on some recording too. Every byte string
 * builds; the seeds are the largest inputs of a first ten-minute run. At most 32 points, 12 stacks and 32 intervals, from
 * inputs of at most 1.5 KiB (fuzz-html.options): every part of the page
 * and every rule is reached with fewer; more only print more numbers (the
 * page is printf's work, and ASan's: 860 inputs a second with 64 points).
 */
#include "fuzz.h"

/*
 * The page prints thousands of numbers: ASan's check of every printf
 * format against its arguments was a seventh of the time (our formats are
 * checked by the compiler, -Wformat=2).
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "check_printf=0";
}

#include "allocdb.h"
#include "doctor.h"
#include "html.h"
#include "series.h"
#include "strbuf.h"

/* The input, read front to back; past its end every read is 0. */
struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct input *in, size_t bytes)
{
	uint64_t v = 0;

	for (size_t i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)in->p[0] << (8 * i);
	return v;
}

/*
 * A figure: one byte picks its width (1, 2, 4 or 8 bytes) and whether it is
 * -1 (a figure not known), so small and huge values are both near.
 */
static int64_t figure(struct input *in)
{
	uint8_t b = (uint8_t)take(in, 1);

	if ((b & 7) == 7)
		return -1;
	return (int64_t)take(in, (size_t)1 << (b & 3));
}

/* A string of up to cap - 1 bytes (a NUL in it ends it early). */
static void text(struct input *in, char *buf, size_t cap)
{
	size_t len = (size_t)take(in, 1) % cap;

	for (size_t i = 0; i < len; i++)
		buf[i] = (char)take(in, 1);
	buf[len] = '\0';
}

/* A malloc'd string, or NULL when the first byte says so. */
static char *text_dup(struct input *in)
{
	char buf[96];

	if (take(in, 1) & 1)
		return NULL;
	text(in, buf, sizeof(buf));
	return fuzz_strdup((const uint8_t *)buf, strlen(buf));
}

static int cmp_tgroup(const void *a, const void *b)
{
	const struct series_tgroup *x = a, *y = b;

	return x->count == y->count ? 0 : x->count > y->count ? -1 : 1;
}

static void build_point(struct input *in, struct series_point *p)
{
	static const char *const nmt_names[] = { "Total", "Java Heap", "Class", "Thread", "Code",
						 "GC", "Internal", "Other", "Symbol", "Metaspace" };
	size_t nnmt, ntg;

	p->totals.rss = (uint64_t)figure(in);
	p->totals.pss = (uint64_t)figure(in);
	p->totals.anon = (uint64_t)figure(in);
	p->totals.swap = (uint64_t)figure(in);
	p->totals.size = (uint64_t)figure(in);
	p->rss_anon = (uint64_t)figure(in);
	p->vm_swap = (uint64_t)figure(in);
	p->threads = (int)figure(in);
	p->cgroup_usage = figure(in);
	p->cgroup_limit = figure(in);
	for (int c = 0; c < RC_NR; c++) {
		if (!(take(in, 1) & 1))
			continue;
		p->cls_count[c] = (uint32_t)figure(in);
		p->cls[c].size = (uint64_t)figure(in);
		p->cls[c].rss = (uint64_t)figure(in);
		p->cls[c].anon = (uint64_t)figure(in);
		p->cls[c].swap = (uint64_t)figure(in);
	}
	for (int c = 0; c < SC_NR; c++)
		p->counter[c] = (take(in, 1) & 1) ? figure(in) : -1;
	nnmt = (size_t)take(in, 1) % 12;
	if (nnmt) {
		p->nmt = calloc(nnmt, sizeof(*p->nmt));
		if (!p->nmt)
			abort();
		p->nnmt = nnmt;
	}
	for (size_t i = 0; i < nnmt; i++) {
		struct series_nmt *n = &p->nmt[i];
		uint8_t pick = (uint8_t)take(in, 1);

		if (pick < 200)
			snprintf(n->name, sizeof(n->name), "%s",
				 nmt_names[pick % (sizeof(nmt_names) / sizeof(nmt_names[0]))]);
		else
			text(in, n->name, sizeof(n->name));
		n->reserved = figure(in);
		n->committed = figure(in);
		n->malloc = figure(in);
		n->malloc_count = figure(in);
		n->mmap_committed = figure(in);
		n->count = figure(in);
	}
	ntg = (size_t)take(in, 1) % 6;
	if (ntg) {
		p->tgroups = calloc(ntg, sizeof(*p->tgroups));
		if (!p->tgroups)
			abort();
		p->ntgroups = ntg;
	}
	for (size_t i = 0; i < ntg; i++) {
		char name[56];

		text(in, name, sizeof(name));
		/* series_load merges equal names: a suffix keeps them apart */
		snprintf(p->tgroups[i].name, sizeof(p->tgroups[i].name), "%s#%zu", name, i);
		p->tgroups[i].count = (int)(take(in, 4) % ((1u << 24) + 1));
	}
	if (ntg)
		qsort(p->tgroups, ntg, sizeof(*p->tgroups), cmp_tgroup);
	series_point_clamp(p);
}

static void build_series(struct input *in, struct series *s)
{
	size_t n = 3 + (size_t)take(in, 1) % 30;
	uint64_t t = take(in, 8);

	s->pid = (pid_t)take(in, 4);
	s->start_time = take(in, 8);
	s->is_jvm = take(in, 1) & 1;
	text(in, s->name, sizeof(s->name));
	s->cmdline = text_dup(in);
	s->stack_rlimit = (uint64_t)figure(in);
	s->pts = calloc(n, sizeof(*s->pts));
	if (!s->pts)
		abort();
	s->n = s->alloc = n;
	for (size_t i = 0; i < n; i++) {
		/* mostly later and later, as sampled; any time when the byte says so */
		uint8_t b = (uint8_t)take(in, 1);

		t = b == 0xff ? take(in, 8) : t + (uint64_t)b * 50000000u;
		s->pts[i].t_ns = t;
		build_point(in, &s->pts[i]);
	}
}

static void build_allocs(struct input *in, struct alloc_data *d)
{
	size_t nr = (size_t)take(in, 1) % 12, n = (size_t)take(in, 1) % 33;

	d->intervals = n;
	d->span_ms = take(in, 4);
	d->sample_mean = take(in, 1) & 1 ? 0 : take(in, 4);
	d->flags = take(in, 1);
	d->runs = 1;
	d->run = 0;
	d->exe = text_dup(in);
	d->unended = take(in, 1) & 1;
	d->has_peak = take(in, 1) & 1;
	d->peak_run = 1;
	d->peak_bytes = figure(in);
	d->peak_sites_bytes = figure(in);
	d->peak_ms = take(in, 4);
	if (nr) {
		d->stacks = calloc(nr, sizeof(*d->stacks));
		if (!d->stacks)
			abort();
		d->nr = d->alloc = nr;
	}
	for (size_t i = 0; i < nr; i++) {
		struct alloc_stack *st = &d->stacks[i];
		size_t nf = (size_t)take(in, 1) % 10;

		st->id = (int64_t)i + 1;
		st->run_id = 1;
		st->slot = (uint32_t)i;
		st->n = n;
		st->live = calloc(n ? n : 1, sizeof(*st->live));
		if (!st->live)
			abort();
		for (size_t k = 0; k < n; k++)
			st->live[k] = figure(in);
		st->live_bytes = figure(in);
		st->live_count = figure(in);
		st->peak_live = figure(in);
		st->alloc_bytes = (uint64_t)figure(in);
		st->alloc_count = (uint64_t)figure(in);
		st->free_bytes = (uint64_t)figure(in);
		st->free_count = (uint64_t)figure(in);
		if (nf) {
			st->frames = calloc(nf, sizeof(*st->frames));
			if (!st->frames)
				abort();
			st->nframes = st->aframes = nf;
		}
		for (size_t k = 0; k < nf; k++) {
			struct alloc_frame *f = &st->frames[k];
			uint8_t bits = (uint8_t)take(in, 1);

			f->pc = take(in, 8);
			f->function = text_dup(in);
			f->file = text_dup(in);
			f->module = text_dup(in);
			f->module_offset = take(in, 4);
			f->line = (int)figure(in);
			f->inlined = bits & 1;
			f->jit = bits & 2;
			f->java = bits & 4;
		}
	}
	alloc_data_clamp(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct strbuf page = STRBUF_INIT;
	struct doctor_probes p = { .cgroup_limit = -1 };
	struct html_input h = { .source = "in.offheap" };
	struct doctor_report r;
	struct alloc_data d;
	struct series s;
	uint8_t what = (uint8_t)take(&in, 1);

	series_init(&s);
	memset(&d, 0, sizeof(d));
	if (what & 1)
		build_series(&in, &s);
	if (what & 2) {
		build_allocs(&in, &d);
		p.allocs = &d;
		p.allocs_sample = what & 4 ? 65536 : 0;
	}
	doctor_report_init(&r);
	doctor_diagnose(&s, &p, &r);
	h.series = s.n ? &s : NULL;
	h.allocs = p.allocs;
	h.findings = &r;
	html_render(&h, &page);
	doctor_report_release(&r);
	alloc_data_release(&d);
	series_release(&s);
	strbuf_release(&page);
	return 0;
}
