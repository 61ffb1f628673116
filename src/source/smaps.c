/*
 * smaps: parser for /proc/PID/smaps and /proc/PID/smaps_rollup.
 *
 * Each mapping is a header line as in /proc/PID/maps
 *   7f1c2a000000-7f1c2a021000 rw-p 00000000 00:00 0          [heap]
 * followed by "Key:   N kB" lines (Size, Rss, Pss, …, VmFlags). The set of
 * keys grows with the kernel (Pss_Dirty 6.0, Pss_Anon 5.x rollup only, …),
 * so unknown keys are skipped. The path is everything after the inode column
 * with its leading spaces removed; it may contain spaces and ends in
 * " (deleted)" for unlinked files. smaps_rollup (4.14+) has one header with
 * the path "[rollup]" and the same keys summed with sub-kB precision for Pss,
 * which is why its Pss can exceed the sum of the per-mapping Pss lines.
 * The parser is written for speed (a 10,000-mapping process is ~12 MB of
 * text) and for hostile input (a recorded tree): no sscanf, every number
 * bounded.
 */
#include "smaps.h"
#include "parse.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Values above this many kB are refused: 2^53 kB is far beyond any machine. */
#define KB_MAX (1ULL << 53)

static bool expect(const char **p, const char *end, char c)
{
	if (*p >= end || **p != c)
		return false;
	(*p)++;
	return true;
}

static void skip_spaces(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

/* A header line starts "START-"; no field key ("Anonymous:", "FilePmdMapped:") does. */
static bool is_header(const char *line, const char *end)
{
	const char *s = line;

	while (s < end && ((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
		s++;
	return s > line && s < end && *s == '-';
}

static int parse_header(const char *s, const char *end, struct region *r)
{
	uint64_t v;

	memset(r, 0, sizeof(*r));
	if (!scan_hex(&s, end, &r->start) || !expect(&s, end, '-') ||
	    !scan_hex(&s, end, &r->end) || !expect(&s, end, ' ') || r->end < r->start)
		return -EINVAL;
	if (end - s < 5)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		if (!strchr("rwxsp-", s[i]) || !s[i])
			return -EINVAL;
		r->perms[i] = s[i];
	}
	s += 4;
	if (!expect(&s, end, ' ') || !scan_hex(&s, end, &r->offset) || !expect(&s, end, ' '))
		return -EINVAL;
	if (!scan_hex(&s, end, &v) || v > 0xfffff || !expect(&s, end, ':'))
		return -EINVAL;
	r->dev_major = (unsigned)v;
	if (!scan_hex(&s, end, &v) || v > 0xfffff || !expect(&s, end, ' '))
		return -EINVAL;
	r->dev_minor = (unsigned)v;
	if (!scan_dec(&s, end, &r->inode))
		return -EINVAL;
	if (s < end && *s != ' ')
		return -EINVAL;
	skip_spaces(&s, end);
	r->path = xstrndup(s, (size_t)(end - s));
	r->m.size = r->end - r->start;
	return 0;
}

/*
 * The field's place in mem_counts for a key, or NULL to ignore it. Size is
 * taken from the header (exact to the byte), not from the rounded kB line.
 */
static uint64_t *field_for(struct mem_counts *m, const char *key, size_t klen, bool *add)
{
	*add = false;
#define K(lit) (klen == sizeof(lit) - 1 && !memcmp(key, lit, klen))
	switch (key[0]) {
	case 'R':
		if (K("Rss"))
			return &m->rss;
		if (K("Referenced"))
			return &m->referenced;
		break;
	case 'P':
		if (K("Pss"))
			return &m->pss;
		if (K("Private_Clean"))
			return &m->private_clean;
		if (K("Private_Dirty"))
			return &m->private_dirty;
		break;
	case 'S':
		if (K("Shared_Clean"))
			return &m->shared_clean;
		if (K("Shared_Dirty"))
			return &m->shared_dirty;
		if (K("Swap"))
			return &m->swap;
		if (K("SwapPss"))
			return &m->swap_pss;
		if (K("ShmemPmdMapped")) {
			*add = true;
			return &m->thp;
		}
		break;
	case 'A':
		if (K("Anonymous"))
			return &m->anon;
		if (K("AnonHugePages")) {
			*add = true;
			return &m->thp;
		}
		break;
	case 'L':
		if (K("Locked"))
			return &m->locked;
		break;
	case 'F':
		if (K("FilePmdMapped")) {
			*add = true;
			return &m->thp;
		}
		break;
	}
#undef K
	return NULL;
}

/*
 * "Key:   123 kB". Keys we do not keep (VmFlags, THPeligible,
 * ProtectionKey, newer ones) are skipped whatever follows; a kept key whose
 * value is not exactly "N kB" is an error, so that a truncated line is
 * noticed rather than read as zero.
 */
static int parse_field(const char *s, const char *end, struct mem_counts *m)
{
	const char *colon = memchr(s, ':', (size_t)(end - s));
	uint64_t *dst, v;
	bool add;

	if (!colon || colon == s)
		return -EINVAL;
	dst = field_for(m, s, (size_t)(colon - s), &add);
	if (!dst)
		return 0;
	if (end - colon < 4 || memcmp(end - 3, " kB", 3))
		return -EINVAL;
	s = colon + 1;
	skip_spaces(&s, end);
	if (!scan_dec(&s, end, &v) || v > KB_MAX || s != end - 3)
		return -EINVAL;
	*dst = add ? *dst + v * 1024 : v * 1024;
	return 0;
}

static void bad_line(struct strbuf *err, size_t lineno, const char *line, const char *end)
{
	int n = (int)(end - line > 80 ? 80 : end - line);

	strbuf_addf(err, "line %zu does not parse: '%.*s'", lineno, n, line);
}

/* Parses whole lines; fields go to the last region, so chunks can follow each other. */
static int parse_lines(const char *text, size_t len, struct region **regions, size_t *n,
		       size_t *alloc, size_t *linep, struct strbuf *err)
{
	const char *p = text, *end = text + len;
	struct region *cur = *n ? &(*regions)[*n - 1] : NULL;
	size_t lineno = *linep;
	int ret = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		lineno++;
		if (eol == p) {
			p = eol + 1;
			continue;
		}
		if (memchr(p, '\0', (size_t)(eol - p))) {
			bad_line(err, lineno, p, eol);
			ret = -EINVAL;
			break;
		}
		if (is_header(p, eol)) {
			ALLOC_GROW(*regions, *n + 1, *alloc);
			cur = &(*regions)[*n];
			if (parse_header(p, eol, cur)) {
				free(cur->path);
				bad_line(err, lineno, p, eol);
				ret = -EINVAL;
				break;
			}
			(*n)++;
		} else if (!cur || parse_field(p, eol, &cur->m)) {
			bad_line(err, lineno, p, eol);
			ret = -EINVAL;
			break;
		}
		p = eol + 1;
	}
	*linep = lineno;
	return ret;
}

int smaps_parse(const char *text, size_t len, struct region **regions, size_t *n, size_t *alloc,
		struct strbuf *err)
{
	size_t lineno = 0;

	return parse_lines(text, len, regions, n, alloc, &lineno, err);
}

#define SMAPS_CHUNK (64 * 1024)

int smaps_read(int fd, size_t max, struct region **regions, size_t *n, size_t *alloc,
	       struct strbuf *err)
{
	char *buf = xmalloc(SMAPS_CHUNK);
	size_t have = 0, total = 0, lineno = 0;
	int ret = 0;

	for (;;) {
		ssize_t r = read(fd, buf + have, SMAPS_CHUNK - have);
		char *last;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		total += (size_t)r;
		if (total > max) {
			ret = -EFBIG;
			break;
		}
		have += (size_t)r;
		if (r == 0) {
			/* The last line may lack its newline. */
			if (have)
				ret = parse_lines(buf, have, regions, n, alloc, &lineno, err);
			break;
		}
		last = memrchr(buf, '\n', have);
		if (!last) {
			if (have == SMAPS_CHUNK) {
				strbuf_addf(err, "line %zu is longer than %d bytes", lineno + 1,
					    SMAPS_CHUNK);
				ret = -EINVAL;
				break;
			}
			continue;
		}
		ret = parse_lines(buf, (size_t)(last + 1 - buf), regions, n, alloc, &lineno, err);
		if (ret)
			break;
		have -= (size_t)(last + 1 - buf);
		memmove(buf, last + 1, have);
	}
	free(buf);
	return ret;
}

_Static_assert(sizeof(struct mem_counts) == 13 * sizeof(uint64_t),
	       "cut_region scales every field of mem_counts");

/* r cut to its first keep bytes, its counts scaled to match (0 < keep < its length). */
static void cut_region(struct region *r, uint64_t keep)
{
	uint64_t len = r->end - r->start;
	struct mem_counts *m = &r->m;

#define CUT(f) m->f = (uint64_t)((unsigned __int128)m->f * keep / len)
	CUT(size); CUT(rss); CUT(pss); CUT(shared_clean); CUT(shared_dirty);
	CUT(private_clean); CUT(private_dirty); CUT(referenced); CUT(anon); CUT(swap);
	CUT(swap_pss); CUT(locked); CUT(thp);
#undef CUT
	r->end = r->start + keep;
}

struct read_order {
	uint64_t start;
	size_t idx;	/* place in the read: higher is newer */
};

static int cmp_order(const void *a, const void *b)
{
	const struct read_order *x = a, *y = b;

	if (x->start != y->start)
		return (x->start > y->start) - (x->start < y->start);
	return (x->idx > y->idx) - (x->idx < y->idx);
}

size_t smaps_reconcile(struct region *regions, size_t *n)
{
	struct read_order *o;
	struct region *out;
	size_t *out_idx, kept = 0, changed = 0, i;

	for (i = 1; i < *n; i++)
		if (regions[i].start < regions[i - 1].end ||
		    regions[i].start <= regions[i - 1].start)
			break;
	if (i >= *n)
		return 0;	/* ascending, none overlapping: the usual read */
	o = xmalloc(*n * sizeof(*o));
	out = xmalloc(*n * sizeof(*out));
	out_idx = xmalloc(*n * sizeof(*out_idx));
	for (i = 0; i < *n; i++)
		o[i] = (struct read_order){ regions[i].start, i };
	qsort(o, *n, sizeof(*o), cmp_order);
	for (i = 0; i < *n; i++) {
		struct region r = regions[o[i].idx];
		bool dropped = false;

		while (kept && (out[kept - 1].end > r.start || out[kept - 1].start == r.start)) {
			struct region *old = &out[kept - 1];

			changed++;
			if (out_idx[kept - 1] > o[i].idx) {
				/* r is the older view of addresses listed again later */
				free(r.path);
				dropped = true;
				break;
			}
			if (old->start < r.start) {
				cut_region(old, r.start - old->start);
				break;
			}
			free(old->path);
			kept--;
		}
		if (dropped)
			continue;
		out_idx[kept] = o[i].idx;
		out[kept++] = r;
	}
	memcpy(regions, out, kept * sizeof(*out));
	*n = kept;
	free(o);
	free(out);
	free(out_idx);
	return changed;
}

int smaps_parse_rollup(const char *text, size_t len, struct mem_counts *m, struct strbuf *err)
{
	const char *p = text, *end = text + len;
	size_t lineno = 0;
	bool header = false;

	memset(m, 0, sizeof(*m));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		lineno++;
		if (eol > p) {
			if (memchr(p, '\0', (size_t)(eol - p))) {
				bad_line(err, lineno, p, eol);
				return -EINVAL;
			}
			if (!header) {
				struct region r;

				if (!is_header(p, eol) || parse_header(p, eol, &r)) {
					bad_line(err, lineno, p, eol);
					return -EINVAL;
				}
				free(r.path);
				header = true;
			} else if (parse_field(p, eol, m)) {
				bad_line(err, lineno, p, eol);
				return -EINVAL;
			}
		}
		p = eol + 1;
	}
	if (!header) {
		strbuf_addstr(err, "empty smaps_rollup");
		return -EINVAL;
	}
	return 0;
}
