/*
 * perfmap: the JVM's perf map (/tmp/perf-PID.map): JIT code ranges and their Java names.
 *
 * The format is perf's convention for JIT code: one line per code range,
 * "START SIZE NAME". HotSpot writes it on 'jcmd PID Compiler.perfmap' (JDK
 * 17+) and with -XX:+DumpPerfMapAtExit, as a snapshot of the code cache:
 * nmethods by their Java signature ("long java.util.zip.Inflater.init(boolean)",
 * native wrappers included), stubs and blobs by name ("Interpreter", "I2C/C2I
 * adapters"). JDK 17 prints START and SIZE as 0x%016lx; agents such as
 * perf-map-agent write bare hex. A later line for an overlapping range wins
 * (the code cache reused the space).
 */
#include "perfmap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int perfmap_add(struct perfmap *m, uint64_t start, uint64_t size, const char *name)
{
	if (m->nr == m->alloc) {
		size_t a = m->alloc ? m->alloc * 2 : 256;
		struct perfmap_entry *v = realloc(m->v, a * sizeof(*v));

		if (!v)
			return -ENOMEM;
		m->v = v;
		m->alloc = a;
	}
	m->v[m->nr].name = strdup(name);
	if (!m->v[m->nr].name)
		return -ENOMEM;
	m->v[m->nr].start = start;
	m->v[m->nr].size = size;
	m->nr++;
	return 0;
}

/* A hex number with an optional 0x; advances *p. False when there are no digits. */
static bool parse_hex(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int digits = 0;

	if (end - s >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; s < end; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			break;
		if (++digits > 16)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	if (!digits)
		return false;
	*p = s;
	*out = v;
	return true;
}

static int parse_line(struct perfmap *m, const char *s, const char *end, size_t *skipped)
{
	uint64_t start, size;
	char name[1024];
	size_t n;

	if (!parse_hex(&s, end, &start) || s == end || *s != ' ')
		goto skip;
	while (s < end && *s == ' ')
		s++;
	if (!parse_hex(&s, end, &size) || s == end || *s != ' ' || !size || start + size < start)
		goto skip;
	while (s < end && *s == ' ')
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\r' || end[-1] == '\t'))
		end--;
	if (s == end)
		goto skip;
	n = (size_t)(end - s) < sizeof(name) - 1 ? (size_t)(end - s) : sizeof(name) - 1;
	memcpy(name, s, n);
	name[n] = '\0';
	if (memchr(name, '\0', n))
		goto skip;
	return perfmap_add(m, start, size, name);
skip:
	if (skipped)
		(*skipped)++;
	return 0;
}

int perfmap_parse(struct perfmap *m, const char *text, size_t len, size_t *skipped)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		int ret;

		if (le > p) {
			ret = parse_line(m, p, le, skipped);
			if (ret)
				return ret;
		}
		p = nl ? nl + 1 : end;
	}
	perfmap_sort(m);
	return 0;
}

/* Sort key: start, then line order (the index before sorting), so later lines come later. */
struct keyed {
	struct perfmap_entry e;
	size_t order;
};

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->e.start != y->e.start)
		return x->e.start < y->e.start ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void perfmap_sort(struct perfmap *m)
{
	struct keyed *k;
	size_t *orders, out = 0;

	if (m->nr < 2)
		return;
	k = malloc(m->nr * sizeof(*k));
	orders = malloc(m->nr * sizeof(*orders));
	if (!k || !orders) {
		/* lookups then find nothing: frames keep their addresses */
		free(k);
		free(orders);
		perfmap_release(m);
		return;
	}
	for (size_t i = 0; i < m->nr; i++) {
		k[i].e = m->v[i];
		k[i].order = i;
	}
	qsort(k, m->nr, sizeof(*k), cmp_keyed);
	/*
	 * Overlaps: keep the entry written later; an earlier one that overlaps
	 * a later one is dropped (the code cache reused its space).
	 */
	for (size_t i = 0; i < m->nr; i++) {
		/* overlaps the last kept one: the line written later wins */
		while (out && m->v[out - 1].start + m->v[out - 1].size > k[i].e.start &&
		       k[i].order > orders[out - 1]) {
			free(m->v[out - 1].name);
			out--;
		}
		if (out && m->v[out - 1].start + m->v[out - 1].size > k[i].e.start) {
			free(k[i].e.name);
			continue;
		}
		orders[out] = k[i].order;
		m->v[out++] = k[i].e;
	}
	m->nr = out;
	free(k);
	free(orders);
}

const struct perfmap_entry *perfmap_find(const struct perfmap *m, uint64_t pc)
{
	size_t lo = 0, hi = m->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->v[mid].start <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	if (pc - m->v[lo - 1].start < m->v[lo - 1].size)
		return &m->v[lo - 1];
	return NULL;
}

/*
 * A Java method: HotSpot's "RET pkg.Class.method(ARGS)" (a '.' before the
 * '(' that follows a name), or an agent's "Lpkg/Class;::method". Stubs
 * such as "StubRoutines (1)" or "Interpreter" are not.
 */
static bool is_java_method(const char *name)
{
	const char *paren = strchr(name, '(');

	if (paren && paren > name && paren[-1] != ' ' && memchr(name, '.', (size_t)(paren - name)))
		return true;
	return name[0] == 'L' && strstr(name, ";::");
}

const char *perfmap_frame_name(const struct perfmap_entry *e, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s", is_java_method(e->name) ? "[java] " : "", e->name);
	return buf;
}

void perfmap_release(struct perfmap *m)
{
	for (size_t i = 0; i < m->nr; i++)
		free(m->v[i].name);
	free(m->v);
	m->v = NULL;
	m->nr = m->alloc = 0;
}
