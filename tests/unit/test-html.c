/*
 * Unit tests for html: a synthetic series, allocation data and findings
 * give a page with the charts, the legends, the flame graph, escaped
 * hostile names, no external URL and bounded size; absent inputs give
 * their one-line notes.
 */
#include "tap.h"
#include "allocdb.h"
#include "allocrank.h"
#include "doctor.h"
#include "html.h"
#include "parse.h"
#include "series.h"
#include "snapshot.h"
#include "strbuf.h"
#include "xalloc.h"

#include <stdlib.h>

#define HOSTILE	    "<script>alert(1)</script>&\""
#define HOSTILE_ESC "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;"

static const char *nmt_names[] = {
    "Java Heap",   "Class",	"Thread", "Code",   "GC",
    "Compiler",	   "Internal",	"Other",  "Symbol", "Native Memory Tracking",
    "Arena Chunk", "Metaspace",
};

static void make_series(struct series *s, size_t n, bool jvm, bool nmt)
{
	series_init(s);
	s->pid = 4242;
	snprintf(s->name, sizeof(s->name), "%s", "java<b>");
	s->cmdline = xstrdup("java -jar " HOSTILE " \x01tail");
	s->is_jvm = jvm;
	s->pts = xcalloc(n, sizeof(*s->pts));
	s->n = s->alloc = n;
	for (size_t i = 0; i < n; i++) {
		struct series_point *p = &s->pts[i];

		p->t_ns = 1700000000000000000ull + i * 200000000ull;
		p->cls[RC_ANON].rss = (20 + i) << 20;
		p->cls[RC_HEAP].rss = 4 << 20;
		p->cls[RC_JAVA_HEAP].rss = jvm ? 64 << 20 : 0;
		p->totals.rss =
		    p->cls[RC_ANON].rss + p->cls[RC_HEAP].rss + p->cls[RC_JAVA_HEAP].rss;
		p->rss_anon = p->cls[RC_ANON].rss;
		p->threads = 10 + (int)(i % 3);
		p->cgroup_usage = p->cgroup_limit = -1;
		for (int c = 0; c < SC_NR; c++)
			p->counter[c] = -1;
		if (jvm) {
			p->counter[SC_THREADS_LIVE] = 8 + (int64_t)i / 10;
			p->counter[SC_HEAP_USED] = (int64_t)(30 + i % 7) << 20;
			p->counter[SC_HEAP_COMMITTED] = 64 << 20;
		}
		p->tgroups = xcalloc(2, sizeof(*p->tgroups));
		p->ntgroups = 2;
		snprintf(p->tgroups[0].name, sizeof(p->tgroups[0].name), "%s", "pool-#-thread-#");
		p->tgroups[0].count = 5 + (int)i / 100;
		snprintf(p->tgroups[1].name, sizeof(p->tgroups[1].name), "%s", "<img onerror=x>");
		p->tgroups[1].count = 1;
		if (nmt) {
			size_t k = sizeof(nmt_names) / sizeof(nmt_names[0]);

			p->nmt = xcalloc(k + 1, sizeof(*p->nmt));
			p->nnmt = k + 1;
			for (size_t j = 0; j < k; j++) {
				snprintf(p->nmt[j].name, sizeof(p->nmt[j].name), "%s",
					 nmt_names[j]);
				p->nmt[j].committed = (int64_t)(k - j) << 20;
				if (!strcmp(nmt_names[j], "Other"))
					p->nmt[j].committed = (int64_t)(1 + i) << 20;
			}
			snprintf(p->nmt[k].name, sizeof(p->nmt[k].name), "%s", "Total");
			p->nmt[k].committed = 200 << 20;
		}
	}
}

static void add_frame(struct alloc_stack *s, const char *fn, const char *file, int line,
		      const char *mod)
{
	struct alloc_frame *f;

	ALLOC_GROW(s->frames, s->nframes + 1, s->aframes);
	f = &s->frames[s->nframes++];
	memset(f, 0, sizeof(*f));
	f->pc = 0x1000 + s->nframes;
	f->function = fn ? xstrdup(fn) : NULL;
	f->file = file ? xstrdup(file) : NULL;
	f->line = line;
	f->module = mod ? xstrdup(mod) : NULL;
}

static struct alloc_stack *add_stack(struct alloc_data *d, size_t n, int64_t step)
{
	struct alloc_stack *s;

	ALLOC_GROW(d->stacks, d->nr + 1, d->alloc);
	s = &d->stacks[d->nr];
	memset(s, 0, sizeof(*s));
	s->id = (int64_t)++d->nr;
	s->n = n;
	s->live = xcalloc(n, sizeof(*s->live));
	for (size_t i = 0; i < n; i++)
		s->live[i] = 4096 + step * (int64_t)i;
	s->live_bytes = s->live[n - 1];
	s->live_count = 10;
	s->alloc_bytes = (uint64_t)s->live_bytes;
	s->alloc_count = 10;
	return s;
}

static void make_allocs(struct alloc_data *d, size_t tiny)
{
	struct alloc_stack *s;

	memset(d, 0, sizeof(*d));
	d->intervals = 20;
	s = add_stack(d, 20, 8192);
	add_frame(s, HOSTILE, "evil\"file.c", 7, "/usr/lib/libevil.so");
	add_frame(s, "main", "main.c", 3, "/usr/bin/app");
	s = add_stack(d, 20, 0);
	add_frame(s, "steady_cache", "cache.c", 10, "/usr/bin/app");
	add_frame(s, "main", "main.c", 3, "/usr/bin/app");
	s = add_stack(d, 20, 0);
	add_frame(s, NULL, NULL, 0, "/usr/lib/libjit.so");
	add_frame(s, "main", "main.c", 3, "/usr/bin/app");
	for (size_t i = 0; i < tiny; i++) {
		char fn[32];

		s = add_stack(d, 20, 0);
		s->live_bytes = s->live[19] = 1;
		snprintf(fn, sizeof(fn), "tiny_%zu", i);
		add_frame(s, fn, "t.c", (int)i, "/usr/bin/app");
		add_frame(s, "worker", "w.c", 1, "/usr/bin/app");
		add_frame(s, "main", "main.c", 3, "/usr/bin/app");
	}
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The text between the first start and the next end after it, copied (freed by caller). */
static char *between(const char *hay, const char *start, const char *end)
{
	const char *a = strstr(hay, start), *b;

	if (!a)
		return xstrdup("");
	b = strstr(a, end);
	return xstrndup(a, b ? (size_t)(b - a) : strlen(a));
}

static bool valid_utf8(const unsigned char *p)
{
	while (*p) {
		int n = *p < 0x80	      ? 0
			: (*p & 0xe0) == 0xc0 ? 1
			: (*p & 0xf0) == 0xe0 ? 2
			: (*p & 0xf8) == 0xf0 ? 3
					      : -1;

		if (n < 0)
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

/* No external URL: the page loads nothing, whatever a name in it says. */
static void check_self_contained(const char *page, const char *what)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "%s: no http:// or https://", what);
	ok(!strstr(page, "http://") && !strstr(page, "https://"), msg);
	/* the flame graph's own script is inline: "<script>" without a source */
	snprintf(msg, sizeof(msg), "%s: no script source, link, src= or url(", what);
	ok(!strstr(page, "<script ") && !strstr(page, "<link") && !strstr(page, " src=") &&
	       !strstr(page, "url(") && strstr(page, "default-src 'none'"),
	   msg);
	snprintf(msg, sizeof(msg), "%s: no nan or inf in numbers", what);
	ok(!strstr(page, "nan") && !strstr(page, "inf\"") && !strstr(page, "inf,"), msg);
	snprintf(msg, sizeof(msg), "%s: a whole HTML5 document", what);
	ok(!strncmp(page, "<!DOCTYPE html>", 15) && strstr(page, "</html>\n") &&
	       !strcmp(strstr(page, "</html>\n"), "</html>\n"),
	   msg);
}

static void test_full(void)
{
	struct series s;
	struct alloc_data d;
	struct alloc_site *v;
	struct doctor_report r;
	struct strbuf page = STRBUF_INIT, again = STRBUF_INIT;
	struct html_input in = {0};
	char *part, *poly;
	size_t n;

	make_series(&s, 1000, true, true);
	make_allocs(&d, 0);
	n = allocrank_sites(&d, &v);
	allocrank_sort(v, n);
	doctor_report_init(&r);
	ALLOC_GROW(r.f, 1, r.alloc);
	memset(r.f, 0, sizeof(*r.f));
	r.n = 1;
	r.f[0].pattern = "malloc-leak";
	r.f[0].severity = FS_LEAK;
	snprintf(r.f[0].title, sizeof(r.f[0].title), "a leak in %s", HOSTILE);
	r.f[0].nevidence = 1;
	snprintf(r.f[0].evidence[0], sizeof(r.f[0].evidence[0]), "grew 4 MiB <evidence>");
	snprintf(r.f[0].culprit, sizeof(r.f[0].culprit), "site %s", HOSTILE);
	snprintf(r.f[0].fix, sizeof(r.f[0].fix), "free it");
	r.f[0].bytes_per_hour = 1 << 30;
	doctor_unchecked(&r, "zlib: %s", "not a JVM <x>");

	in.source = "/tmp/" HOSTILE ".db";
	in.created = "2026-01-01T00:00:00Z";
	in.host = "h<o>st";
	in.series = &s;
	in.allocs = &d;
	in.sites = v;
	in.nsites = n;
	in.top = 10;
	in.findings = &r;
	html_render(&in, &page);
	check_self_contained(page.buf, "full page");

	ok(strstr(page.buf, "id=\"rss-chart\"") != NULL, "the RSS chart is there");
	ok(strstr(page.buf, "id=\"nmt-chart\"") != NULL, "the NMT chart is there");
	ok(strstr(page.buf, "id=\"threads-chart\"") != NULL, "the threads chart is there");
	ok(strstr(page.buf, "id=\"counter-java-threads-live\"") != NULL, "live threads chart");
	ok(strstr(page.buf, "id=\"counter-offheap-heap-used\"") != NULL, "heap used chart");
	ok(!strstr(page.buf, "counter-java-cls-loadedClasses"), "no chart for an absent counter");
	ok(strstr(page.buf, "id=\"flame\"") != NULL, "the flame graph is there");
	ok(count(page.buf, "<svg") >= 6, "six charts or more");

	part = between(page.buf, "id=\"rss-legend\"", "</ul>");
	ok(strstr(part, ">anon <b>") && strstr(part, ">heap <b>") && strstr(part, ">java-heap <b>"),
	   "the RSS legend names the classes");
	ok(strstr(part, "1019 MiB") != NULL, "the legend gives the last value of anon");
	ok(!strstr(part, ">stack"), "a class with no RSS is not in the legend");
	free(part);

	part = between(page.buf, "id=\"nmt-legend\"", "</ul>");
	is_int(count(part, "<li>"), 10, "NMT legend: Total, 8 categories and other");
	ok(strstr(part, ">other<") && strstr(part, ">Java Heap<") && strstr(part, ">Other<"),
	   "NMT legend: the largest, the grown one and other");
	ok(!strstr(part, ">Arena Chunk<"), "NMT legend: a small category is in other");
	free(part);

	/* 1000 points: every polygon drawn from at most HTML_MAX_POINTS */
	part = between(page.buf, "id=\"rss-chart\"", "</svg>");
	poly = between(part, "<polygon", "\">");
	is_int(count(poly, ","), HTML_MAX_POINTS + 2, "a stacked area has 600 points + 2 corners");
	free(poly);
	free(part);

	ok(strstr(page.buf, HOSTILE_ESC) != NULL, "the hostile function name is escaped");
	ok(!strstr(page.buf, HOSTILE), "the hostile name never appears raw");
	ok(!strstr(page.buf, "<img") && strstr(page.buf, "&lt;img onerror=x&gt;"),
	   "a hostile thread group name is escaped");
	ok(strstr(page.buf, "java&lt;b&gt;") && !strstr(page.buf, "java<b>"),
	   "the process name is escaped");
	ok(strstr(page.buf, "evil&quot;file.c:7") != NULL, "a hostile file name is escaped");
	ok(strstr(page.buf, " ?tail") != NULL, "a control character becomes '?'");
	ok(strstr(page.buf, "h&lt;o&gt;st") != NULL, "the host is escaped");

	ok(strstr(page.buf, "class=\"finding leak\"") != NULL, "the finding is shown as a leak");
	ok(strstr(page.buf, "a leak in " HOSTILE_ESC) != NULL, "the finding's title, escaped");
	ok(strstr(page.buf, "grew 4 MiB &lt;evidence&gt;") != NULL, "its evidence, escaped");
	ok(strstr(page.buf, "1.0 GiB/hour") != NULL, "its rate");
	ok(strstr(page.buf, "zlib: not a JVM &lt;x&gt;") != NULL, "what was not checked");

	part = between(page.buf, "id=\"sites\"", "</table>");
	ok(strstr(part, "GROWING") != NULL, "the growing site is marked");
	ok(strstr(part, "<td>1</td><td><span class=\"grow\">GROWING") != NULL,
	   "the growing site is first");
	ok(strstr(part, "0x1001 in libjit.so") != NULL,
	   "a frame without a function: pc and module");
	free(part);

	part = between(page.buf, "id=\"flame\"", "</svg>");
	is_int(count(part, "<rect"), 5, "flame graph: the root, main and the three leaves");
	ok(strstr(part, "<title>main (main.c:3) in app ") != NULL,
	   "a frame's title: name, place, module");
	ok(strstr(part, "<title>all 167936 bytes") != NULL, "the root holds every live byte");
	free(part);

	html_render(&in, &again);
	ok(page.len == again.len && !memcmp(page.buf, again.buf, page.len),
	   "the same input gives the same page");
	ok(page.len < 400000, "the page stays small with 1000 points");
	printf("# 1000 points, 12 NMT categories, 3 sites: %zu bytes\n", page.len);

	strbuf_release(&page);
	strbuf_release(&again);
	free(v);
	doctor_report_release(&r);
	series_release(&s);
	alloc_data_release(&d);
}

static void test_absent(void)
{
	struct strbuf page = STRBUF_INIT;
	struct html_input in = {.source = "x.db"};
	struct series s;

	html_render(&in, &page);
	check_self_contained(page.buf, "empty input");
	ok(strstr(page.buf, "no samples over time") != NULL, "no series: says so");
	ok(strstr(page.buf, "no allocation data: record with offheap record") != NULL,
	   "no allocations: says so");
	ok(!strstr(page.buf, "Findings") && !strstr(page.buf, "<svg"),
	   "no findings section, no chart");

	/* a JVM without NMT, with one point only */
	strbuf_reset(&page);
	make_series(&s, 1, true, false);
	in.series = &s;
	html_render(&in, &page);
	check_self_contained(page.buf, "one point");
	ok(strstr(page.buf, "no NMT data: the JVM ran without -XX:NativeMemoryTracking") != NULL,
	   "a JVM without NMT: says so");
	ok(strstr(page.buf, "id=\"rss-chart\"") != NULL, "one point still draws the RSS chart");
	series_release(&s);

	/* not a JVM */
	strbuf_reset(&page);
	make_series(&s, 3, false, false);
	html_render(&in, &page);
	ok(strstr(page.buf, "no NMT data: not a JVM") &&
	       strstr(page.buf, "not a JVM: no JVM counters"),
	   "not a JVM: no NMT, no counters");
	ok(!strstr(page.buf, ">java-heap"), "no Java heap class for a process without one");
	series_release(&s);
	strbuf_release(&page);
}

static void test_flame_cap(void)
{
	struct alloc_data d;
	struct alloc_site *v;
	struct strbuf page = STRBUF_INIT;
	struct html_input in = {0};
	char *part;
	size_t n;

	make_allocs(&d, 20000);
	n = allocrank_sites(&d, &v);
	allocrank_sort(v, n);
	in.allocs = &d;
	in.sites = v;
	in.nsites = n;
	in.top = 5;
	html_render(&in, &page);
	part = between(page.buf, "id=\"flame\"", "</svg>");
	ok(count(part, "<rect") <= HTML_MAX_FLAME_NODES, "20000 sites: the flame graph is capped");
	ok(strstr(part, "(smaller frames)") != NULL, "tiny frames are merged into one");
	ok(!strstr(part, "tiny_19999"), "a one-byte site is not drawn on its own");
	free(part);
	is_int(count(page.buf, "<details>"), 5, "--top 5: five sites in the table");
	ok(page.len < 400000, "the page stays small with 20000 sites");
	printf("# 20003 sites: %zu bytes\n", page.len);
	free(v);
	alloc_data_release(&d);
	strbuf_release(&page);
}

static void test_utf8_label(void)
{
	struct alloc_data d = {0};
	struct alloc_site *v;
	struct strbuf page = STRBUF_INIT, name = STRBUF_INIT;
	struct html_input in = {0};
	struct alloc_stack *s;
	size_t n;

	for (int i = 0; i < 300; i++)
		strbuf_addstr(&name, "\xc3\xa9"); /* é: two bytes */
	s = add_stack(&d, 4, 100);
	add_frame(s, name.buf, NULL, 0, NULL);
	n = allocrank_sites(&d, &v);
	in.allocs = &d;
	in.sites = v;
	in.nsites = n;
	html_render(&in, &page);
	ok(strstr(page.buf, "..</text>") != NULL, "a long frame name is cut to its rectangle");
	ok(valid_utf8((const unsigned char *)page.buf), "cut on a character boundary");
	free(v);
	alloc_data_release(&d);
	strbuf_release(&page);
	strbuf_release(&name);
}

static void test_escape(void)
{
	struct strbuf sb = STRBUF_INIT;

	html_escape(&sb, "a<b>&'\"\x7f\x1b\tz");
	is_str(sb.buf, "a&lt;b&gt;&amp;&#39;&quot;??\tz", "html_escape: markup, quotes, controls");
	strbuf_reset(&sb);
	html_escape(&sb, NULL);
	is_str(sb.buf, "", "html_escape(NULL) adds nothing");
	strbuf_release(&sb);
}

/*
 * A hostile recording: a span of centuries between two samples, figures
 * at the clamp. The axes keep a handful of lines (they drew one per week
 * of the span, millions of them).
 */
static void test_hostile_axes(void)
{
	struct strbuf page = STRBUF_INIT;
	struct html_input in = {.source = "x.db"};
	struct series s;

	make_series(&s, 3, false, false);
	s.pts[2].t_ns = UINT64_MAX - 5;
	s.pts[1].cls[RC_ANON].rss = (uint64_t)FIGURE_MAX;
	s.pts[1].totals.rss = (uint64_t)FIGURE_MAX;
	in.series = &s;
	html_render(&in, &page);
	check_self_contained(page.buf, "hostile axes");
	ok(count(page.buf, "class=\"tick\"") <= 13 * 8, "a span of centuries: a few time ticks a chart");
	ok(count(page.buf, "class=\"grid\"") <= 13 * 8, "figures at the clamp: a few grid lines a chart");
	ok(page.len < 200000, "the page stays small");
	series_release(&s);
	strbuf_release(&page);
}

int main(void)
{
	test_escape();
	test_hostile_axes();
	test_full();
	test_absent();
	test_flame_cap();
	test_utf8_label();
	return done_testing();
}
