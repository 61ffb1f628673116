/* Unit tests for prom: label escaping, bad UTF-8, OpenMetrics naming, the series cap. */
#include "fleet.h"
#include "prom.h"
#include "strbuf.h"
#include "tap.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fleet of one process named name, with one point: 3 classes and a thread group. */
static void one_proc(struct fleet *f, struct fleet_proc *p, const char *name)
{
	struct series_point *pt = xcalloc(1, sizeof(*pt));

	memset(p, 0, sizeof(*p));
	fleet_init(f, FLEET_PIDS, NULL, 0, 4, 10, 0, 1000);
	p->pid = 42;
	series_init(&p->s);
	snprintf(p->s.name, sizeof(p->s.name), "%s", name);
	for (int i = 0; i < SC_NR; i++)
		pt->counter[i] = -1;
	pt->totals.rss = 4096;
	pt->cls_count[RC_HEAP] = pt->cls_count[RC_ANON] = pt->cls_count[RC_LIB] = 1;
	pt->cls[RC_ANON].rss = 8192;
	pt->counter[SC_YOUNG_GCS] = 7;
	pt->tgroups = xcalloc(1, sizeof(*pt->tgroups));
	snprintf(pt->tgroups[0].name, sizeof(pt->tgroups[0].name), "pool-#");
	pt->tgroups[0].count = 3;
	pt->ntgroups = 1;
	p->s.pts = pt;
	p->s.n = p->s.alloc = 1;
	doctor_report_init(&p->doc);
	f->procs = xcalloc(1, sizeof(*f->procs));
	f->procs[0] = p;
	f->n = f->alloc = 1;
}

static void drop_proc(struct fleet *f, struct fleet_proc *p)
{
	series_release(&p->s);
	doctor_report_release(&p->doc);
	free(f->procs);
	f->procs = NULL;
	f->n = 0;
	fleet_release(f);
}

static void escaping(void)
{
	struct fleet f;
	struct fleet_proc p;
	struct strbuf sb = STRBUF_INIT;
	struct prom_opts o = { 1000, 0 };

	/* a quote, a backslash, a newline, and a 3-byte character cut after its 2nd byte */
	one_proc(&f, &p, "a\"b\\c\nd\xe2\x82");
	is_u64(prom_render(&f, PROM_TEXT, &o, &sb), 0, "nothing dropped under the cap");
	ok(strstr(sb.buf, "offheap_process_resident_bytes{pid=\"42\",comm=\"a\\\"b\\\\c\\nd??\"} 4096\n") != NULL,
	   "comm escaped, bytes of a cut character written as '?'");
	drop_proc(&f, &p);

	one_proc(&f, &p, "caf\xc3\xa9");
	prom_render(&f, PROM_TEXT, &o, &sb);
	ok(strstr(sb.buf, "comm=\"caf\xc3\xa9\"") != NULL, "valid UTF-8 kept as it is");
	ok(strstr(sb.buf, "offheap_class_resident_bytes{pid=\"42\",comm=\"caf\xc3\xa9\",class=\"anon\"} 8192\n") != NULL,
	   "a class series");
	ok(strstr(sb.buf, "offheap_thread_group_threads{pid=\"42\",comm=\"caf\xc3\xa9\",group=\"pool-#\"} 3\n") != NULL,
	   "a thread group series");
	ok(!strstr(sb.buf, "offheap_jvm_heap_used_bytes{"), "no JVM counter where it is not known");
	ok(strstr(sb.buf, "# TYPE offheap_jvm_gc_collections_total counter\n") != NULL,
	   "text format: a counter's family keeps _total");
	ok(!strstr(sb.buf, "# EOF"), "text format: no # EOF");
	drop_proc(&f, &p);
	strbuf_release(&sb);
}

static void openmetrics(void)
{
	struct fleet f;
	struct fleet_proc p;
	struct strbuf sb = STRBUF_INIT;
	struct prom_opts o = { 1000, 0 };

	one_proc(&f, &p, "x");
	prom_render(&f, PROM_OPENMETRICS, &o, &sb);
	ok(strstr(sb.buf, "# TYPE offheap_jvm_gc_collections counter\n") != NULL,
	   "OpenMetrics: a counter's family is named without _total");
	ok(strstr(sb.buf, "offheap_jvm_gc_collections_total{pid=\"42\",comm=\"x\",generation=\"young\"} 7\n") != NULL,
	   "OpenMetrics: its sample keeps _total");
	ok(sb.len > 6 && !strcmp(sb.buf + sb.len - 6, "# EOF\n"), "OpenMetrics: ends with # EOF");
	is_int(prom_negotiate("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
	       PROM_OPENMETRICS, "Prometheus's Accept picks OpenMetrics");
	is_int(prom_negotiate("*/*"), PROM_TEXT, "any other Accept gets the text format");
	is_int(prom_negotiate(NULL), PROM_TEXT, "no Accept gets the text format");
	drop_proc(&f, &p);
	strbuf_release(&sb);
}

static void cap(void)
{
	struct fleet f;
	struct fleet_proc p;
	struct strbuf sb = STRBUF_INIT;
	struct prom_opts o = { 3, 5 };
	size_t dropped, n = 0;

	one_proc(&f, &p, "x");
	dropped = prom_render(&f, PROM_TEXT, &o, &sb);
	for (const char *l = sb.buf; (l = strstr(l, "{pid=\"42\"")); l++)
		n++;
	is_u64(n, 3, "three series of the process under a cap of 3");
	ok(dropped > 0, "the others are counted as dropped");
	ok(strstr(sb.buf, "offheap_exporter_series 3\n") != NULL, "the exporter says 3 written");
	{
		char want[96];

		snprintf(want, sizeof(want), "offheap_exporter_dropped_series_total %zu\n",
			 dropped + 5);
		ok(strstr(sb.buf, want) != NULL, "the counter adds the earlier rounds' drops");
	}
	drop_proc(&f, &p);
	strbuf_release(&sb);
}

int main(void)
{
	escaping();
	openmetrics();
	cap();
	return done_testing();
}
