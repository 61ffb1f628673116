/* nmt: HotSpot Native Memory Tracking text (jcmd VM.native_memory) parsed into a model, and diffed.
 *
 * The text is what MemSummaryReporter/MemDetailReporter and their Diff
 * variants print (hotspot/share/services/memReporter.cpp, nmt/ from 21).
 * It is read line by line with a small state machine: before the
 * "Native Memory Tracking:" header only jcmd's "PID:" line, an attach status
 * line and the one-line control messages may appear; then the summary
 * (Total, "-  Name (reserved=…)" categories and their "(…)" sub-lines),
 * then for detail the "Virtual memory map:" and the "Details:" sites
 * (detail.diff goes from the summary straight to the sites).
 *
 * Format differences handled here (JVM.md section F): "(thread #N)" became
 * "(threads #N)"; peaks as " (at peak)", " (peak=NKB #N)", ", at peak",
 * ", peak=NKB" (17+, 22+); malloc "type=" (11+) became "tag=" (24+) and JDK 25
 * wraps a site's figures in double parentheses and writes frames as
 * "[0xADDR]sym+0xOFF in lib.so"; committed sub-regions are indented by a
 * tab (17) or spaces (25); diffs append " +NKB"/" -NKB" to any size and
 * " +N" to counts, and name the Class metadata blocks ": (  Metadata)".
 * Sub-lines that are not understood are skipped, so new JDKs degrade
 * gracefully; lines that are understood but malformed are errors.
 */
#include "nmt.h"
#include "strbuf.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum state {
	ST_PRE,		/* before "Native Memory Tracking:" */
	ST_SUMMARY,	/* Total and the categories */
	ST_VMAP,	/* "Virtual memory map:" */
	ST_MEMFILE,	/* "Memory file details" (25): skipped */
	ST_DETAILS,	/* malloc and mmap sites */
};

struct parser {
	struct nmt_report *r;
	struct strbuf *err;
	size_t lineno;
	enum state st;
	bool diff;			/* a delta or a diff-style header was seen */
	bool detail;			/* detail sections were seen */
	struct nmt_category *cat;	/* the category sub-lines belong to */
	struct nmt_metaspace *meta;	/* the Class metadata block being read */
	struct nmt_stack pending;	/* frames waiting for their site line */
	size_t pending_line;		/* where the pending frames began */
	struct nmt_stack *vm_stack;	/* where vmap frames go (region or commit) */
	size_t entries;			/* frames, regions, commits, sites so far */
};

const char *nmt_kind_name(enum nmt_kind k)
{
	switch (k) {
	case NMT_SUMMARY: return "summary";
	case NMT_DETAIL: return "detail";
	case NMT_SUMMARY_DIFF: return "summary.diff";
	case NMT_DETAIL_DIFF: return "detail.diff";
	case NMT_NOT_ENABLED: return "not-enabled";
	case NMT_NO_DETAIL: return "no-detail";
	case NMT_NO_BASELINE: return "no-baseline";
	case NMT_BASELINE_TAKEN: return "baseline";
	}
	return "unknown";
}

static void stack_release(struct nmt_stack *s)
{
	for (size_t i = 0; i < s->nframes; i++) {
		free(s->frames[i].sym);
		free(s->frames[i].lib);
	}
	free(s->frames);
	memset(s, 0, sizeof(*s));
}

void nmt_report_init(struct nmt_report *r)
{
	memset(r, 0, sizeof(*r));
}

void nmt_report_release(struct nmt_report *r)
{
	for (size_t i = 0; i < r->ncats; i++)
		free(r->cats[i].name);
	free(r->cats);
	for (size_t i = 0; i < r->nregions; i++) {
		struct nmt_region *g = &r->regions[i];

		free(g->category);
		stack_release(&g->stack);
		for (size_t j = 0; j < g->ncommits; j++)
			stack_release(&g->commits[j].stack);
		free(g->commits);
	}
	free(r->regions);
	for (size_t i = 0; i < r->nmalloc_sites; i++) {
		free(r->malloc_sites[i].category);
		stack_release(&r->malloc_sites[i].stack);
	}
	free(r->malloc_sites);
	for (size_t i = 0; i < r->nmmap_sites; i++) {
		free(r->mmap_sites[i].category);
		stack_release(&r->mmap_sites[i].stack);
	}
	free(r->mmap_sites);
	nmt_report_init(r);
}

const struct nmt_category *nmt_category_find(const struct nmt_report *r, const char *name)
{
	for (size_t i = 0; i < r->ncats; i++)
		if (!strcmp(r->cats[i].name, name))
			return &r->cats[i];
	return NULL;
}

__attribute__((format(printf, 2, 3))) static int bad(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err) {
		strbuf_addf(p->err, "line %zu: ", p->lineno);
		va_start(ap, fmt);
		strbuf_vaddf(p->err, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Counts one more entry against NMT_MAX_ENTRIES. */
static int take_entry(struct parser *p)
{
	if (++p->entries <= NMT_MAX_ENTRIES)
		return 0;
	bad(p, "more than %u frames, regions and sites: not NMT output", NMT_MAX_ENTRIES);
	return -EFBIG;
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* Decimal digits into *v; returns the end, or NULL when there are none or they overflow. */
static const char *scan_u64(const char *s, uint64_t *v)
{
	uint64_t n = 0;

	if (!isdigit((unsigned char)*s))
		return NULL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned d = *s - '0';

		if (n > (UINT64_MAX - d) / 10)
			return NULL;
		n = n * 10 + d;
	}
	*v = n;
	return s;
}

static const char *scan_hex(const char *s, uint64_t *v)
{
	uint64_t n = 0;
	int nd = 0;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return NULL;
	for (s += 2; isxdigit((unsigned char)*s); s++) {
		if (++nd > 16)
			return NULL;
		n = n * 16 + (isdigit((unsigned char)*s) ? *s - '0' : (tolower(*s) - 'a' + 10));
	}
	if (!nd)
		return NULL;
	*v = n;
	return s;
}

/* A size "NKB" (also B, MB, GB) into bytes; *unit (when not NULL) gets the multiplier. */
static const char *scan_size_unit(const char *s, uint64_t *bytes, uint64_t *unit)
{
	uint64_t n, mult = 1;

	s = scan_u64(s, &n);
	if (!s)
		return NULL;
	if (starts(s, "KB")) {
		mult = 1024;
		s += 2;
	} else if (starts(s, "MB")) {
		mult = 1024 * 1024;
		s += 2;
	} else if (starts(s, "GB")) {
		mult = 1024 * 1024 * 1024;
		s += 2;
	} else if (*s == 'B') {
		s++;
	} else {
		return NULL;	/* the JVM always prints a unit: no unit means a cut line */
	}
	if (n > UINT64_MAX / mult)
		return NULL;
	*bytes = n * mult;
	if (unit)
		*unit = mult;
	return s;
}

static const char *scan_size(const char *s, uint64_t *bytes)
{
	return scan_size_unit(s, bytes, NULL);
}

/*
 * A diff's " +NKB"/" -NKB" (size) or " +N"/" -N" (count) after a value.
 * unit is the value's multiplier: JDK 17 prints the arena delta without
 * one ("(arena=131KB -1 #3 -1)"), in the value's scale. Returns the end
 * (s itself when there is no delta), NULL when malformed.
 */
static const char *scan_delta_unit(struct parser *p, const char *s, bool size, uint64_t unit,
				   int64_t *d)
{
	const char *q = s;
	uint64_t v;
	int sign;

	while (*q == ' ')
		q++;
	if (q == s || (q[0] != '+' && q[0] != '-') || !isdigit((unsigned char)q[1]))
		return s;
	sign = q[0] == '-' ? -1 : 1;
	if (size) {
		const char *e = scan_size(q + 1, &v);

		if (!e) {	/* no unit: the value's */
			e = scan_u64(q + 1, &v);
			if (!e || (*e && *e != ' ' && *e != ')' && *e != ',') || v > INT64_MAX / unit)
				return NULL;
			v *= unit;
		}
		q = e;
	} else {
		q = scan_u64(q + 1, &v);
	}
	if (!q || v > INT64_MAX)
		return NULL;
	*d = sign * (int64_t)v;
	p->diff = true;
	return q;
}

static const char *scan_delta(struct parser *p, const char *s, bool size, int64_t *d)
{
	return scan_delta_unit(p, s, size, 1024, d);
}

/* Where "key" starts in s as a whole word (after start, space, '(' or ','), or NULL. */
static const char *find_key(const char *s, const char *key)
{
	size_t n = strlen(key);

	for (const char *q = strstr(s, key); q; q = strstr(q + 1, key))
		if (q == s || q[-1] == ' ' || q[-1] == '(' || q[-1] == ',')
			return q + n;
	return NULL;
}

/*
 * Reads "key" followed by a size (and delta) from s into *num. Returns 1 when
 * read, 0 when key is absent, -EINVAL when it is there but malformed.
 */
static int get_size(struct parser *p, const char *s, const char *key, struct nmt_num *num)
{
	const char *q = find_key(s, key), *e;
	uint64_t unit = 1024;
	int64_t d = 0;

	if (!q)
		return 0;
	e = scan_size_unit(q, &num->val, &unit);
	if (!e)
		return bad(p, "bad size after '%s'", key);
	/* waste=NKB =P.PP% +NKB: the percentage comes before the delta */
	if (e[0] == ' ' && e[1] == '=') {
		e += 2;
		while (isdigit((unsigned char)*e) || *e == '.')
			e++;
		if (*e == '%')
			e++;
	}
	if (!scan_delta_unit(p, e, true, unit, &d))
		return bad(p, "bad change after '%s'", key);
	num->delta = d;
	num->set = true;
	return 1;
}

/* "#N" (the last one in s) with its " +N" delta. Returns as get_size. */
static int get_count(struct parser *p, const char *s, struct nmt_num *num)
{
	const char *q = strrchr(s, '#'), *e;
	int64_t d = 0;

	if (!q)
		return 0;
	e = scan_u64(q + 1, &num->val);
	if (!e)
		return bad(p, "bad count after '#'");
	if (!scan_delta(p, e, false, &d))
		return bad(p, "bad change after '#%" PRIu64 "'", num->val);
	num->delta = d;
	num->set = true;
	return 1;
}

/* A count after "key #" within s, e.g. "array classes #". */
static int get_named_count(struct parser *p, const char *s, const char *key, struct nmt_num *num)
{
	const char *q = find_key(s, key), *e;
	int64_t d = 0;

	if (!q)
		return 0;
	e = scan_u64(q, &num->val);
	if (!e)
		return bad(p, "bad count after '%s'", key);
	if (!scan_delta(p, e, false, &d))
		return bad(p, "bad change after '%s'", key);
	num->delta = d;
	num->set = true;
	return 1;
}

/* The parenthesised groups of a sub-line: "(a) (b)" → "a", "b"; "((a) (b))" → same. */
#define MAX_GROUPS 4
static int split_groups(char *s, char **g, int max)
{
	int n = 0;

	s = (char *)skip_ws(s);
	/* 25 wraps a whole sub-line in one more pair: "((malloc=…) (at peak))" */
	if (s[0] == '(' && s[1] == '(') {
		size_t len = strlen(s);

		if (len >= 2 && s[len - 1] == ')') {
			s[len - 1] = '\0';
			s++;
		}
	}
	while (*s && n < max) {
		char *open = strchr(s, '('), *close;
		int depth = 0;

		if (!open)
			break;
		for (close = open; *close; close++) {
			if (*close == '(')
				depth++;
			else if (*close == ')' && --depth == 0)
				break;
		}
		if (!*close) {		/* unbalanced: the group runs to the end */
			g[n++] = open + 1;
			break;
		}
		*close = '\0';
		g[n++] = open + 1;
		s = close + 1;
	}
	return n;
}

/*
 * In detail.diff the size's delta follows the category:
 * "(malloc=76292KB type=Other +21200KB #19073 +5300)" (also tag=, 24+).
 */
static int site_delta(struct parser *p, const char *g, struct nmt_num *size)
{
	const char *q = find_key(g, "type=");
	int64_t d = 0;

	if (!q)
		q = find_key(g, "tag=");
	if (!q || size->delta)
		return 0;
	for (; *q; q++) {
		if (q[0] == ' ' && (q[1] == '+' || q[1] == '-') && isdigit((unsigned char)q[2])) {
			if (!scan_delta(p, q, true, &d))
				return bad(p, "bad change in a malloc site");
			size->delta = d;
			return 0;
		}
		if (q[0] == ' ' && q[1] == '#')
			return 0;
	}
	return 0;
}

/* "(at peak)" or "(peak=NKB #N)" after a malloc/arena group. */
static int read_alloc_peak(struct parser *p, const char *g, struct nmt_alloc *a)
{
	int ret;

	g = skip_ws(g);
	if (starts(g, "at peak")) {
		a->at_peak = true;
		return 0;
	}
	ret = get_size(p, g, "peak=", &a->peak);
	if (ret < 0)
		return ret;
	ret = get_count(p, g, &a->peak_count);
	return ret < 0 ? ret : 0;
}

/* "malloc=NKB[ tag=X] #N" or "arena=NKB #N" and its peak group. */
static int read_alloc(struct parser *p, char **g, int ng, const char *key, struct nmt_alloc *a)
{
	int ret = get_size(p, g[0], key, &a->size);

	if (ret <= 0)
		return ret ? ret : bad(p, "no size after '%s'", key);
	ret = site_delta(p, g[0], &a->size);
	if (ret < 0)
		return ret;
	ret = get_count(p, g[0], &a->count);
	if (ret < 0)
		return ret;
	for (int i = 1; i < ng; i++) {
		ret = read_alloc_peak(p, g[i], a);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* "reserved=NKB, committed=NKB[, at peak|, peak=NKB]" */
static int read_vm(struct parser *p, const char *g, struct nmt_vm *vm)
{
	int ret = get_size(p, g, "reserved=", &vm->reserved);

	if (ret <= 0)
		return ret ? ret : bad(p, "no 'reserved=' figure");
	ret = get_size(p, g, "committed=", &vm->committed);
	if (ret <= 0)
		return ret ? ret : bad(p, "no 'committed=' figure");
	ret = get_size(p, g, "peak=", &vm->peak);
	if (ret < 0)
		return ret;
	if (strstr(g, "at peak"))
		vm->at_peak = true;
	return 0;
}

static int read_meta(struct parser *p, const char *g, struct nmt_metaspace *m)
{
	int ret;

	if (find_key(g, "reserved="))
		return get_size(p, g, "reserved=", &m->reserved) < 0 ||
				       get_size(p, g, "committed=", &m->committed) < 0
			       ? -EINVAL
			       : 0;
	if ((ret = get_size(p, g, "used=", &m->used)) != 0)
		return ret < 0 ? ret : 0;
	if ((ret = get_size(p, g, "free=", &m->free)) != 0)
		return ret < 0 ? ret : 0;
	if ((ret = get_size(p, g, "waste=", &m->waste)) != 0) {
		const char *pct = strstr(g, " =");

		if (ret < 0)
			return ret;
		if (pct)
			m->waste_pct = strtod(pct + 2, NULL);
		return 0;
	}
	return 0;
}

/* One "(…)" line under a category. Unknown ones are counted and skipped. */
static int read_subline(struct parser *p, char *line)
{
	struct nmt_category *c = p->cat;
	char *g[MAX_GROUPS], *s;
	int ng;

	s = (char *)skip_ws(line);
	if (*s == ':') {	/* diff: ": (  Metadata)" */
		p->diff = true;
		s++;
	}
	ng = split_groups(s, g, MAX_GROUPS);
	if (!ng || !c) {
		p->r->unknown_lines++;
		return 0;
	}
	s = (char *)skip_ws(g[0]);
	if (starts(s, "Metadata")) {
		p->meta = &c->metadata;
		c->metadata.set = true;
		return 0;
	}
	if (starts(s, "Class space")) {
		p->meta = &c->class_space;
		c->class_space.set = true;
		return 0;
	}
	/* the metadata figures are indented further than other sub-lines */
	if (p->meta && s - g[0] >= 4)
		return read_meta(p, s, p->meta);
	p->meta = NULL;
	if (starts(s, "classes #"))
		return get_named_count(p, s, "classes #", &c->classes) < 0 ? -EINVAL : 0;
	if (starts(s, "instance classes #"))
		return get_named_count(p, s, "instance classes #", &c->instance_classes) < 0 ||
				       get_named_count(p, s, "array classes #", &c->array_classes) < 0
			       ? -EINVAL
			       : 0;
	if (starts(s, "thread #") || starts(s, "threads #"))
		return get_count(p, s, &c->threads) < 0 ? -EINVAL : 0;
	if (starts(s, "stack:"))
		return read_vm(p, s, &c->stack);
	if (starts(s, "mmap:"))
		return read_vm(p, s, &c->mmap);
	if (starts(s, "malloc="))
		return read_alloc(p, g, ng, "malloc=", &c->malloc);
	if (starts(s, "arena="))
		return read_alloc(p, g, ng, "arena=", &c->arena);
	if (starts(s, "tracking overhead="))
		return get_size(p, s, "overhead=", &c->tracking_overhead) < 0 ? -EINVAL : 0;
	p->r->unknown_lines++;
	return 0;
}

/* "-                    Thread (reserved=19506KB, committed=850KB[, readonly=0KB])" */
static int read_category(struct parser *p, char *line)
{
	struct nmt_report *r = p->r;
	struct nmt_category *c;
	char *open = strstr(line, "(reserved="), *name, *end;

	if (!open)
		return bad(p, "category line without '(reserved=': '%.60s'", line);
	name = (char *)skip_ws(line + 1);
	for (end = open; end > name && (end[-1] == ' ' || end[-1] == '\t'); end--)
		;
	if (end == name)
		return bad(p, "category without a name");
	if (r->ncats >= NMT_MAX_CATEGORIES)
		return bad(p, "more than %d categories", NMT_MAX_CATEGORIES);
	ALLOC_GROW(r->cats, r->ncats + 1, r->alloc_cats);
	c = &r->cats[r->ncats++];
	memset(c, 0, sizeof(*c));
	c->name = xstrndup(name, end - name);
	p->cat = c;
	p->meta = NULL;
	if (line[strlen(line) - 1] != ')')
		return bad(p, "category line cut short: '%.60s'", line);
	if (get_size(p, open, "reserved=", &c->reserved) <= 0 ||
	    get_size(p, open, "committed=", &c->committed) <= 0)
		return bad(p, "category '%s' without reserved= and committed=", c->name);
	return get_size(p, open, "readonly=", &c->readonly) < 0 ? -EINVAL : 0;
}

/* "Total: reserved=NKB, committed=NKB" and the 17.0.15+ malloc:/mmap: lines below it. */
static int read_total(struct parser *p, const char *s)
{
	struct nmt_report *r = p->r;
	int ret;

	if (starts(s, "Total:")) {
		if (get_size(p, s, "reserved=", &r->total_reserved) <= 0 ||
		    get_size(p, s, "committed=", &r->total_committed) <= 0)
			return bad(p, "Total without reserved= and committed=");
		r->has_total = true;
		return 0;
	}
	if (starts(s, "malloc:")) {
		struct nmt_alloc *a = &r->total_malloc;
		const char *peak = strstr(s, ", peak="), *e;
		char head[256];
		int64_t d = 0;

		/* "malloc: 22575KB #12179, peak=22361KB #12180" */
		snprintf(head, sizeof(head), "%.*s", peak ? (int)(peak - s) : (int)strlen(s), s);
		e = scan_size(skip_ws(head + strlen("malloc:")), &a->size.val);
		if (!e || !(e = scan_delta(p, e, true, &d)))
			return bad(p, "bad total malloc figure");
		a->size.set = true;
		a->size.delta = d;
		if (get_count(p, head, &a->count) < 0)
			return -EINVAL;
		if (peak) {
			if ((ret = get_size(p, peak + 2, "peak=", &a->peak)) < 0)
				return ret;
			if (get_count(p, peak + 2, &a->peak_count) < 0)
				return -EINVAL;
		}
		return 0;
	}
	if (starts(s, "malloc=")) {	/* 25's summary.diff: "malloc=NKB +NKB #N +N" */
		char *g[1] = { (char *)s };

		return read_alloc(p, g, 1, "malloc=", &r->total_malloc);
	}
	/* "mmap:   reserved=NKB, committed=NKB" */
	return read_vm(p, s, &r->total_mmap);
}

/* "[0xADDR] sym+0xOFF[ in lib.so]" at s (s points at '['). */
static int read_frame(struct parser *p, const char *s, struct nmt_stack *st)
{
	struct nmt_frame *f;
	const char *e, *sym, *plus, *in;
	uint64_t addr;
	size_t n;

	e = scan_hex(s + 1, &addr);
	if (!e || *e != ']')
		return bad(p, "bad frame address: '%.40s'", s);
	if (st->nframes >= NMT_MAX_FRAMES)
		return 0;
	if (take_entry(p))
		return -EFBIG;
	ALLOC_GROW(st->frames, st->nframes + 1, st->alloc);
	f = &st->frames[st->nframes++];
	memset(f, 0, sizeof(*f));
	f->addr = addr;
	sym = skip_ws(e + 1);
	n = strlen(sym);
	if (!n)
		return 0;
	/* 25: " in libjli.so" after the offset (the last " in ": names may hold one) */
	in = NULL;
	for (const char *q = strstr(sym, " in "); q; q = strstr(q + 1, " in "))
		in = q;
	if (in && !strchr(in + 4, ' ') && in[4]) {
		f->lib = xstrdup(in + 4);
		n = in - sym;
	}
	/* the last "+0x" is the offset: C++ names may hold "+" themselves */
	plus = NULL;
	for (const char *q = sym; q + 2 < sym + n; q++)
		if (q[0] == '+' && q[1] == '0' && q[2] == 'x')
			plus = q;
	if (plus) {
		const char *oe = scan_hex(plus + 1, &f->off);

		if (oe == sym + n)
			n = plus - sym;
		else
			f->off = 0;
	}
	f->sym = xstrndup(sym, n);
	return 0;
}

static int read_addr_range(struct parser *p, const char *s, uint64_t *a, uint64_t *b,
			   const char **rest)
{
	const char *e = scan_hex(s + 1, a);

	if (!e || !starts(e, " - "))
		return bad(p, "bad address range: '%.60s'", s);
	e = scan_hex(e + 3, b);
	if (!e || *e != ']')
		return bad(p, "bad address range: '%.60s'", s);
	*rest = e + 1;
	return 0;
}

/* A line of the virtual memory map: region, committed part, or a frame. */
static int read_vmap(struct parser *p, const char *line)
{
	struct nmt_report *r = p->r;
	const char *s = skip_ws(line), *rest = NULL, *q;
	uint64_t a, b;
	int ret;

	if (*s != '[') {
		r->unknown_lines++;
		return 0;
	}
	q = scan_hex(s + 1, &a);
	if (q && *q == ']') {
		/* "[0xADDR] sym": a frame of the last region or committed part */
		if (!p->vm_stack)
			return bad(p, "frame outside a region");
		return read_frame(p, s, p->vm_stack);
	}
	ret = read_addr_range(p, s, &a, &b, &rest);
	if (ret)
		return ret;
	rest = skip_ws(rest);
	if (s == line) {	/* a reserved region starts in column 0 */
		struct nmt_region *g;
		bool all = false;

		if (starts(rest, "reserved and committed ")) {
			all = true;
			rest += strlen("reserved and committed ");
		} else if (starts(rest, "reserved ")) {
			rest += strlen("reserved ");
		} else {
			r->unknown_lines++;
			p->vm_stack = NULL;
			return 0;
		}
		if (take_entry(p))
			return -EFBIG;
		ALLOC_GROW(r->regions, r->nregions + 1, r->alloc_regions);
		g = &r->regions[r->nregions++];
		memset(g, 0, sizeof(*g));
		g->start = a;
		g->end = b;
		g->all_committed = all;
		q = scan_size(rest, &g->reserved);
		if (!q)
			return bad(p, "bad region size: '%.60s'", rest);
		q = skip_ws(q);
		if (starts(q, "for ")) {
			const char *e;

			q += 4;
			e = strstr(q, " from");
			if (!e || e[5])
				e = q + strlen(q);
			g->category = xstrndup(q, e - q);
		}
		p->vm_stack = &g->stack;
		return 0;
	}
	/* "\t[0xA - 0xB] committed NKB from" */
	if (starts(rest, "committed ")) {
		struct nmt_region *g;
		struct nmt_commit *c;

		if (!r->nregions)
			return bad(p, "committed range outside a region");
		g = &r->regions[r->nregions - 1];
		if (take_entry(p))
			return -EFBIG;
		ALLOC_GROW(g->commits, g->ncommits + 1, g->alloc_commits);
		c = &g->commits[g->ncommits++];
		memset(c, 0, sizeof(*c));
		c->start = a;
		c->end = b;
		if (!scan_size(rest + strlen("committed "), &c->size))
			return bad(p, "bad committed size: '%.60s'", rest);
		p->vm_stack = &c->stack;
		return 0;
	}
	r->unknown_lines++;
	p->vm_stack = NULL;
	return 0;
}

/*
 * The category after "type="/"tag="/"Type="/"Tag=": up to " #", a delta
 * " +N"/" -N", or the end.
 */
static char *site_category(const char *g)
{
	const char *q = NULL, *e;

	if (!(q = find_key(g, "type=")) && !(q = find_key(g, "tag=")) &&
	    !(q = find_key(g, "Type=")) && !(q = find_key(g, "Tag=")))
		return NULL;
	for (e = q; *e; e++) {
		if (e[0] == ' ' && (e[1] == '#' ||
				    ((e[1] == '+' || e[1] == '-') && isdigit((unsigned char)e[2]))))
			break;
	}
	return xstrndup(q, e - q);
}

/* The line after a stack in Details: "(malloc=…)" or "(reserved=…, committed=… Type=…)". */
static int read_site(struct parser *p, char *line)
{
	struct nmt_report *r = p->r;
	char *g[MAX_GROUPS], *s;
	int ng = split_groups(line, g, MAX_GROUPS), ret = 0;

	if (!ng)
		return bad(p, "bad site line");
	s = (char *)skip_ws(g[0]);
	if (starts(s, "malloc=")) {
		struct nmt_malloc_site *m;

		if (take_entry(p))
			return -EFBIG;
		ALLOC_GROW(r->malloc_sites, r->nmalloc_sites + 1, r->alloc_malloc_sites);
		m = &r->malloc_sites[r->nmalloc_sites++];
		memset(m, 0, sizeof(*m));
		m->stack = p->pending;
		memset(&p->pending, 0, sizeof(p->pending));
		m->category = site_category(s);
		g[0] = s;
		ret = read_alloc(p, g, ng, "malloc=", &m->m);
	} else if (starts(s, "reserved=")) {
		struct nmt_mmap_site *m;

		if (take_entry(p))
			return -EFBIG;
		ALLOC_GROW(r->mmap_sites, r->nmmap_sites + 1, r->alloc_mmap_sites);
		m = &r->mmap_sites[r->nmmap_sites++];
		memset(m, 0, sizeof(*m));
		m->stack = p->pending;
		memset(&p->pending, 0, sizeof(p->pending));
		m->category = site_category(s);
		if (get_size(p, s, "reserved=", &m->reserved) <= 0 ||
		    get_size(p, s, "committed=", &m->committed) <= 0)
			return bad(p, "mmap site without reserved= and committed=");
	} else {
		uint64_t n;

		/* "(1456 call sites weighting less than 1KB each omitted.)" */
		if (scan_u64(s, &n) && strstr(s, "omitted"))
			r->omitted_sites += n;
		else
			r->unknown_lines++;
		stack_release(&p->pending);
	}
	return ret;
}

static int read_details(struct parser *p, char *line)
{
	const char *s = skip_ws(line);

	if (!*s) {
		/* a stack with no figures after it: nothing to attach it to */
		if (p->pending.nframes)
			p->r->unknown_lines++;
		stack_release(&p->pending);
		return 0;
	}
	if (*s == '[') {
		if (!p->pending.nframes)
			p->pending_line = p->lineno;
		return read_frame(p, s, &p->pending);
	}
	if (*s == '(')
		return read_site(p, line);
	p->r->unknown_lines++;
	return 0;
}

static const struct {
	const char *text;
	enum nmt_kind kind;
} controls[] = {
	{ "Native memory tracking is not enabled", NMT_NOT_ENABLED },
	{ "Detail tracking is not enabled", NMT_NO_DETAIL },
	{ "No baseline for comparison", NMT_NO_BASELINE },
	/* detail.diff when the baseline was taken in summary mode, or not at all */
	{ "No detail baseline for comparison", NMT_NO_BASELINE },
	/* 8 and 11 could stop NMT at run time (VM.native_memory shutdown) */
	{ "Native memory tracking has been shutdown", NMT_NOT_ENABLED },
	{ "Native memory tracking has been turned off", NMT_NOT_ENABLED },
	{ "Baseline succeeded", NMT_BASELINE_TAKEN },
	{ "Baseline taken", NMT_BASELINE_TAKEN },
};

/* A line of only digits, optionally ending in ':': jcmd's "PID:" or an attach status. */
static bool is_preamble(const char *s)
{
	if (*s == '-')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	if (*s == ':')
		s++;
	return !*skip_ws(s);
}

static int read_line(struct parser *p, char *line)
{
	const char *s = skip_ws(line);

	switch (p->st) {
	case ST_PRE:
		if (!*s || is_preamble(s))
			return 0;
		for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
			size_t n = strlen(controls[i].text);

			if (!strncmp(s, controls[i].text, n) && (!s[n] || s[n] == '.')) {
				p->r->kind = controls[i].kind;
				return 1;
			}
		}
		if (!strcmp(s, "Native Memory Tracking:")) {
			p->st = ST_SUMMARY;
			return 0;
		}
		return bad(p, "not NMT output: '%.60s'", s);
	case ST_SUMMARY:
		if (!*s)
			return 0;
		if (line[0] == '-')
			return read_category(p, line);
		if (starts(s, "Total:") ||
		    (p->r->has_total && !p->r->ncats &&
		     (starts(s, "malloc:") || starts(s, "malloc=") || starts(s, "mmap:"))))
			return read_total(p, s);
		if (*s == '(' || *s == ':') {
			if (line[0] == '(') {	/* "(Omitting categories weighting less than 1KB)" */
				p->r->unknown_lines++;
				return 0;
			}
			return read_subline(p, line);
		}
		if (!strcmp(s, "Virtual memory map:")) {
			p->st = ST_VMAP;
			p->detail = true;
			return 0;
		}
		if (!strcmp(s, "Details:")) {
			p->st = ST_DETAILS;
			p->detail = true;
			return 0;
		}
		if (line[0] == '[') {	/* detail.diff: sites follow the summary directly */
			p->st = ST_DETAILS;
			p->detail = true;
			return read_details(p, line);
		}
		p->r->unknown_lines++;
		return 0;
	case ST_VMAP:
		if (!*s)
			return 0;
		if (!strcmp(s, "Details:")) {
			p->st = ST_DETAILS;
			return 0;
		}
		if (!strcmp(s, "Memory file details")) {
			p->st = ST_MEMFILE;
			return 0;
		}
		return read_vmap(p, line);
	case ST_MEMFILE:
		if (!strcmp(s, "Details:"))
			p->st = ST_DETAILS;
		return 0;
	case ST_DETAILS:
		return read_details(p, line);
	}
	return 0;
}

int nmt_parse(const char *text, size_t len, struct nmt_report *r, struct strbuf *err)
{
	struct parser p = { .r = r, .err = err, .st = ST_PRE };
	struct strbuf line = STRBUF_INIT;
	size_t pos = 0;
	int ret = 0;

	nmt_report_release(r);
	if (len > NMT_MAX_TEXT) {
		if (err)
			strbuf_addf(err, "NMT text of %zu bytes is larger than the %u bytes allowed",
				    len, NMT_MAX_TEXT);
		return -EFBIG;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p.lineno++;
		strbuf_reset(&line);
		strbuf_add(&line, text + pos, n);
		pos += n + (nl ? 1 : 0);
		for (size_t i = 0; i < line.len; i++) {
			unsigned char ch = line.buf[i];

			if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f) {
				ret = bad(&p, "binary data, not NMT output");
				goto out;
			}
		}
		strbuf_rtrim(&line);
		ret = read_line(&p, line.buf);
		if (ret < 0)
			goto out;
		if (ret > 0) {	/* a control message: that is the whole answer */
			ret = 0;
			goto out;
		}
	}
	if (p.st == ST_PRE) {
		p.lineno = p.lineno ? p.lineno : 1;
		ret = bad(&p, "not NMT output: no 'Native Memory Tracking:' header");
		goto out;
	}
	if (!r->has_total) {
		ret = bad(&p, "truncated NMT output: no 'Total:' line");
		goto out;
	}
	if (p.pending.nframes) {
		p.lineno = p.pending_line;
		ret = bad(&p, "truncated NMT output: a call stack without its figures");
		goto out;
	}
	if (p.detail)
		r->kind = p.diff ? NMT_DETAIL_DIFF : NMT_DETAIL;
	else
		r->kind = p.diff ? NMT_SUMMARY_DIFF : NMT_SUMMARY;
out:
	stack_release(&p.pending);
	strbuf_release(&line);
	return ret;
}

/* ---- diff of two summaries ---- */

static void num_diff(struct nmt_num *out, const struct nmt_num *base, const struct nmt_num *now)
{
	if (!base->set && !now->set) {
		memset(out, 0, sizeof(*out));
		return;
	}
	out->set = true;
	out->val = now->set ? now->val : 0;
	out->delta = (int64_t)out->val - (int64_t)(base->set ? base->val : 0);
}

static void alloc_diff(struct nmt_alloc *out, const struct nmt_alloc *b, const struct nmt_alloc *n)
{
	memset(out, 0, sizeof(*out));
	num_diff(&out->size, &b->size, &n->size);
	num_diff(&out->count, &b->count, &n->count);
}

static void vm_diff(struct nmt_vm *out, const struct nmt_vm *b, const struct nmt_vm *n)
{
	memset(out, 0, sizeof(*out));
	num_diff(&out->reserved, &b->reserved, &n->reserved);
	num_diff(&out->committed, &b->committed, &n->committed);
}

static void meta_diff(struct nmt_metaspace *out, const struct nmt_metaspace *b,
		      const struct nmt_metaspace *n)
{
	memset(out, 0, sizeof(*out));
	if (!b->set && !n->set)
		return;
	out->set = true;
	num_diff(&out->reserved, &b->reserved, &n->reserved);
	num_diff(&out->committed, &b->committed, &n->committed);
	num_diff(&out->used, &b->used, &n->used);
	num_diff(&out->free, &b->free, &n->free);
	num_diff(&out->waste, &b->waste, &n->waste);
	out->waste_pct = n->set ? n->waste_pct : 0;
}

static void cat_diff(struct nmt_category *out, const struct nmt_category *b,
		     const struct nmt_category *n)
{
	static const struct nmt_category none;

	if (!b)
		b = &none;
	if (!n)
		n = &none;
	num_diff(&out->reserved, &b->reserved, &n->reserved);
	num_diff(&out->committed, &b->committed, &n->committed);
	num_diff(&out->readonly, &b->readonly, &n->readonly);
	alloc_diff(&out->malloc, &b->malloc, &n->malloc);
	alloc_diff(&out->arena, &b->arena, &n->arena);
	vm_diff(&out->mmap, &b->mmap, &n->mmap);
	vm_diff(&out->stack, &b->stack, &n->stack);
	num_diff(&out->threads, &b->threads, &n->threads);
	num_diff(&out->classes, &b->classes, &n->classes);
	num_diff(&out->instance_classes, &b->instance_classes, &n->instance_classes);
	num_diff(&out->array_classes, &b->array_classes, &n->array_classes);
	num_diff(&out->tracking_overhead, &b->tracking_overhead, &n->tracking_overhead);
	meta_diff(&out->metadata, &b->metadata, &n->metadata);
	meta_diff(&out->class_space, &b->class_space, &n->class_space);
}

static bool is_summary(const struct nmt_report *r)
{
	return r->has_total && (r->kind == NMT_SUMMARY || r->kind == NMT_DETAIL);
}

int nmt_diff(const struct nmt_report *base, const struct nmt_report *now, struct nmt_report *out,
	     struct strbuf *err)
{
	nmt_report_release(out);
	if (!is_summary(base) || !is_summary(now)) {
		if (err)
			strbuf_addf(err, "can only diff two NMT summaries, not %s and %s",
				    nmt_kind_name(base->kind), nmt_kind_name(now->kind));
		return -EINVAL;
	}
	out->kind = NMT_SUMMARY_DIFF;
	out->has_total = true;
	num_diff(&out->total_reserved, &base->total_reserved, &now->total_reserved);
	num_diff(&out->total_committed, &base->total_committed, &now->total_committed);
	alloc_diff(&out->total_malloc, &base->total_malloc, &now->total_malloc);
	vm_diff(&out->total_mmap, &base->total_mmap, &now->total_mmap);
	/* now's categories in now's order, then those that only the baseline had */
	for (size_t i = 0; i < now->ncats + base->ncats; i++) {
		const struct nmt_category *n, *b;
		struct nmt_category *c;

		if (i < now->ncats) {
			n = &now->cats[i];
			b = nmt_category_find(base, n->name);
		} else {
			b = &base->cats[i - now->ncats];
			if (nmt_category_find(now, b->name))
				continue;
			n = NULL;
		}
		ALLOC_GROW(out->cats, out->ncats + 1, out->alloc_cats);
		c = &out->cats[out->ncats++];
		memset(c, 0, sizeof(*c));
		c->name = xstrdup(n ? n->name : b->name);
		cat_diff(c, b, n);
	}
	return 0;
}
