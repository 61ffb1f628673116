/* test-nmt: the NMT parser over real JDK 17/25 captures and JDK 8/11/21 samples, nmt_diff, hostile input. */
#include "tap.h"
#include "fixture.h"

#include "nmt.h"
#include "strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KB(n) ((uint64_t)(n) * 1024)

/* Parses a fixture, which must succeed. */
static void parse_file(const char *name, struct nmt_report *r)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	char what[256];
	int ret;

	fixture_load(name, &sb);
	ret = nmt_parse(sb.buf, sb.len, r, &err);
	snprintf(what, sizeof(what), "%s parses", name);
	if (!ok(ret == 0, what))
		printf("#   %d: %s\n", ret, err.buf);
	strbuf_release(&sb);
	strbuf_release(&err);
}

static const struct nmt_category *cat(const struct nmt_report *r, const char *name)
{
	const struct nmt_category *c = nmt_category_find(r, name);
	static const struct nmt_category none;

	if (!c) {
		printf("#   no category '%s'\n", name);
		return &none;
	}
	return c;
}

static void check_kind(const char *name, enum nmt_kind want)
{
	struct nmt_report r;
	char what[256];

	nmt_report_init(&r);
	parse_file(name, &r);
	snprintf(what, sizeof(what), "%s is %s", name, nmt_kind_name(want));
	is_str(nmt_kind_name(r.kind), nmt_kind_name(want), what);
	nmt_report_release(&r);
}

/* Categories add up to the Total within the rounding of each to KB. */
static void check_sums(const char *name)
{
	struct nmt_report r;
	uint64_t res = 0, com = 0;
	char what[256];

	nmt_report_init(&r);
	parse_file(name, &r);
	for (size_t i = 0; i < r.ncats; i++) {
		res += r.cats[i].reserved.val;
		com += r.cats[i].committed.val;
	}
	snprintf(what, sizeof(what), "%s: categories add up to Total", name);
	ok(res + KB(32) >= r.total_reserved.val && res <= r.total_reserved.val + KB(32) &&
		   com + KB(32) >= r.total_committed.val && com <= r.total_committed.val + KB(32),
	   what);
	nmt_report_release(&r);
}

static void test_jdk17_summary(void)
{
	struct nmt_report r;
	const struct nmt_category *c;

	nmt_report_init(&r);
	parse_file("jdk17-summary.txt", &r);
	is_str(nmt_kind_name(r.kind), "summary", "17 summary: kind");
	is_u64(r.total_reserved.val, KB(1746708), "17 summary: Total reserved");
	is_u64(r.total_committed.val, KB(369796), "17 summary: Total committed");
	is_u64(r.total_malloc.size.val, KB(44348), "17 summary: Total malloc");
	is_u64(r.total_malloc.count.val, 16086, "17 summary: Total malloc count");
	is_u64(r.total_mmap.reserved.val, KB(1702360), "17 summary: Total mmap reserved");
	is_u64(r.total_mmap.committed.val, KB(325448), "17 summary: Total mmap committed");
	is_int(r.ncats, 19, "17 summary: 19 categories");
	is_str(r.cats[0].name, "Java Heap", "17 summary: first category");
	is_str(r.cats[18].name, "Object Monitors", "17 summary: last category");
	c = cat(&r, "Java Heap");
	is_u64(c->reserved.val, KB(262144), "17 Java Heap reserved");
	is_u64(c->mmap.committed.val, KB(262144), "17 Java Heap mmap committed");
	ok(!c->malloc.size.set, "17 Java Heap has no malloc line");
	c = cat(&r, "Thread");
	is_u64(c->threads.val, 19, "17 Thread threads #19");
	is_u64(c->stack.reserved.val, KB(19456), "17 Thread stack reserved");
	is_u64(c->stack.committed.val, KB(800), "17 Thread stack committed");
	is_u64(c->malloc.size.val, KB(30), "17 Thread malloc");
	is_u64(c->malloc.count.val, 118, "17 Thread malloc count");
	is_u64(c->malloc.peak.val, KB(38), "17 Thread malloc peak");
	is_u64(c->malloc.peak_count.val, 122, "17 Thread malloc peak count");
	ok(!c->malloc.at_peak, "17 Thread malloc not at peak");
	is_u64(c->arena.size.val, KB(20), "17 Thread arena");
	is_u64(c->arena.count.val, 36, "17 Thread arena count");
	is_u64(c->arena.peak.val, KB(52), "17 Thread arena peak");
	c = cat(&r, "Class");
	is_u64(c->classes.val, 508, "17 Class classes #508");
	is_u64(c->instance_classes.val, 424, "17 Class instance classes");
	is_u64(c->array_classes.val, 84, "17 Class array classes");
	ok(c->malloc.at_peak, "17 Class malloc at peak");
	ok(c->metadata.set && c->class_space.set, "17 Class: both metadata blocks");
	is_u64(c->metadata.reserved.val, KB(65536), "17 Metadata reserved");
	is_u64(c->metadata.committed.val, KB(192), "17 Metadata committed");
	is_u64(c->metadata.used.val, KB(128), "17 Metadata used");
	is_u64(c->metadata.waste.val, KB(64), "17 Metadata waste");
	ok(c->metadata.waste_pct > 33.25 && c->metadata.waste_pct < 33.27, "17 Metadata waste %");
	is_u64(c->class_space.reserved.val, KB(1048576), "17 Class space reserved");
	is_u64(c->class_space.used.val, KB(4), "17 Class space used");
	is_u64(c->class_space.waste.val, KB(124), "17 Class space waste");
	c = cat(&r, "Native Memory Tracking");
	is_u64(c->tracking_overhead.val, KB(251), "17 NMT tracking overhead");
	c = cat(&r, "Other");
	is_u64(c->committed.val, KB(37204), "17 Other committed");
	ok(!r.total_reserved.delta && !c->committed.delta, "17 summary: no deltas");
	nmt_report_release(&r);
}

static void test_jdk25_summary(void)
{
	struct nmt_report r;
	const struct nmt_category *c;

	nmt_report_init(&r);
	parse_file("jdk25-summary.txt", &r);
	is_str(nmt_kind_name(r.kind), "summary", "25 summary: kind (after a status line '0')");
	is_u64(r.total_reserved.val, KB(1719307), "25 Total reserved");
	is_u64(r.total_committed.val, KB(345371), "25 Total committed");
	is_u64(r.total_malloc.size.val, KB(22575), "25 Total malloc");
	is_u64(r.total_malloc.count.val, 12179, "25 Total malloc count");
	is_u64(r.total_malloc.peak.val, KB(22361), "25 Total malloc peak");
	is_u64(r.total_malloc.peak_count.val, 12180, "25 Total malloc peak count");
	is_u64(r.total_mmap.committed.val, KB(322796), "25 Total mmap committed");
	c = cat(&r, "Thread");
	is_u64(c->threads.val, 18, "25 Thread (threads #18)");
	is_u64(c->stack.peak.val, KB(844), "25 Thread stack peak");
	is_u64(c->malloc.size.val, KB(40), "25 Thread malloc with tag=");
	is_u64(c->malloc.count.val, 109, "25 Thread malloc count with tag=");
	c = cat(&r, "Java Heap");
	ok(c->mmap.at_peak, "25 Java Heap mmap at peak");
	c = cat(&r, "Shared class space");
	ok(c->readonly.set && c->readonly.val == 0, "25 Shared class space readonly=0KB");
	is_u64(c->mmap.peak.val, KB(14116), "25 Shared class space mmap peak");
	c = cat(&r, "Native Memory Tracking");
	is_u64(c->malloc.size.val, KB(155), "25 NMT malloc (tag with spaces)");
	is_u64(c->malloc.count.val, 1822, "25 NMT malloc count (tag with spaces)");
	c = cat(&r, "Class");
	is_u64(c->classes.val, 536, "25 classes");
	is_u64(c->class_space.used.val, KB(7), "25 Class space used");
	nmt_report_release(&r);
}

static void test_diffs(void)
{
	struct nmt_report r;
	const struct nmt_category *c;

	nmt_report_init(&r);
	parse_file("jdk17-summary-diff.txt", &r);
	is_str(nmt_kind_name(r.kind), "summary.diff", "17 summary.diff: kind");
	is_u64(r.total_reserved.val, KB(1789830), "17 diff Total reserved");
	is_int(r.total_reserved.delta, KB(20643), "17 diff Total reserved delta");
	is_int(r.total_committed.delta, KB(20643), "17 diff Total committed delta");
	c = cat(&r, "Other");
	is_u64(c->committed.val, KB(76004), "17 diff Other committed");
	is_int(c->committed.delta, KB(20400), "17 diff Other committed +20400KB");
	is_int(c->malloc.size.delta, KB(20400), "17 diff Other malloc delta");
	is_u64(c->malloc.count.val, 19001, "17 diff Other malloc count");
	is_int(c->malloc.count.delta, 5100, "17 diff Other malloc count +5100");
	c = cat(&r, "Native Memory Tracking");
	is_int(c->tracking_overhead.delta, KB(107), "17 diff tracking overhead +107KB");
	c = cat(&r, "Class");
	ok(c->metadata.set && c->class_space.set, "17 diff: ': (  Metadata)' headers");
	is_u64(c->metadata.used.val, KB(128), "17 diff Metadata used");
	c = cat(&r, "Arena Chunk");
	ok(c->malloc.size.set && !c->malloc.count.set, "17 diff Arena Chunk malloc without count");
	nmt_report_release(&r);

	parse_file("jdk25-summary-diff.txt", &r);
	is_str(nmt_kind_name(r.kind), "summary.diff", "25 summary.diff: kind");
	is_int(r.total_committed.delta, KB(6171), "25 diff Total committed delta");
	is_u64(r.total_malloc.size.val, KB(25261), "25 diff total malloc= line");
	is_int(r.total_malloc.size.delta, KB(6171), "25 diff total malloc delta");
	is_u64(r.total_malloc.count.val, 54455, "25 diff total malloc count");
	is_int(r.total_malloc.count.delta, 2024, "25 diff total malloc count delta");
	is_u64(r.total_mmap.reserved.val, KB(7723892), "25 diff total mmap reserved");
	c = cat(&r, "Class");
	is_int(c->classes.delta, 3, "25 diff classes +3");
	is_int(c->instance_classes.delta, 2, "25 diff instance classes +2");
	is_int(c->array_classes.delta, 1, "25 diff array classes +1");
	is_int(c->metadata.used.delta, KB(17), "25 diff Metadata used +17KB");
	is_int(c->metadata.waste.delta, -(int64_t)KB(17), "25 diff Metadata waste -17KB");
	ok(c->metadata.waste_pct > 1.05 && c->metadata.waste_pct < 1.07, "25 diff waste %");
	c = cat(&r, "Other");
	is_int(c->committed.delta, KB(8192), "25 diff Other +8192KB");
	is_int(c->malloc.count.delta, 1, "25 diff Other count +1");
	nmt_report_release(&r);

	/* real JDK 17 output: "(arena=131KB -1 #3 -1)", the size change without its unit */
	parse_file("jdk17-summary-diff-arena.txt", &r);
	c = cat(&r, "Compiler");
	is_u64(c->arena.size.val, KB(131), "17 diff arena");
	is_int(c->arena.size.delta, -(int64_t)KB(1), "17 diff arena change without unit is KB");
	is_int(c->arena.count.delta, -1, "17 diff arena count change");
	is_int(cat(&r, "Other")->committed.delta, KB(32768), "17 diff Other +32768KB");
	nmt_report_release(&r);

	parse_file("jdk8-summary-diff.txt", &r);
	is_str(nmt_kind_name(r.kind), "summary.diff", "8 summary.diff: kind");
	c = cat(&r, "Internal");
	is_int(c->committed.delta, KB(32768), "8 diff Internal +32768KB");
	nmt_report_release(&r);

	parse_file("jdk11-detail-diff.txt", &r);
	is_str(nmt_kind_name(r.kind), "detail.diff", "11 detail.diff: kind");
	c = cat(&r, "Class");
	is_u64(c->metadata.free.val, KB(747), "11 diff Metadata free");
	is_int(c->metadata.free.delta, -(int64_t)KB(40), "11 diff Metadata free -40KB");
	c = cat(&r, "Thread");
	is_int(c->threads.delta, 2, "11 diff thread +2");
	is_int(c->stack.reserved.delta, KB(2056), "11 diff stack reserved +2056KB");
	is_int(r.nmalloc_sites, 2, "11 detail.diff: malloc sites");
	is_str(r.malloc_sites[0].category, "Other", "11 site type=Other");
	is_int(r.malloc_sites[0].m.size.delta, KB(4096), "11 site +4096KB");
	is_int(r.malloc_sites[0].m.count.delta, 1, "11 site count +1");
	is_int(r.malloc_sites[1].m.size.delta, -(int64_t)KB(64), "11 freed site -64KB");
	ok(!r.malloc_sites[1].m.count.set, "11 freed site has no count");
	is_int(r.nmmap_sites, 1, "11 detail.diff: mmap sites");
	is_str(r.mmap_sites[0].category, "Thread Stack", "11 mmap site Type=Thread Stack");
	is_int(r.mmap_sites[0].committed.delta, KB(72), "11 mmap site committed +72KB");
	nmt_report_release(&r);
}

static const struct nmt_frame *frame(const struct nmt_stack *s, size_t i)
{
	static const struct nmt_frame none;

	return i < s->nframes ? &s->frames[i] : &none;
}

static void test_detail(void)
{
	struct nmt_report r;
	const struct nmt_region *g;
	const struct nmt_malloc_site *m;
	size_t ncommits = 0, nostack = 0;

	nmt_report_init(&r);
	parse_file("jdk17-detail.txt", &r);
	is_str(nmt_kind_name(r.kind), "detail", "17 detail: kind");
	is_u64(r.total_reserved.val, KB(1747513), "17 detail Total reserved");
	is_int(r.ncats, 19, "17 detail: categories");
	is_int(r.nregions, 37, "17 detail: 37 reserved regions");
	g = &r.regions[0];
	is_u64(g->start, 0xf0000000, "17 region 0 start");
	is_u64(g->end, 0x100000000, "17 region 0 end");
	is_u64(g->reserved, KB(262144), "17 region 0 size");
	ok(g->all_committed, "17 region 0 reserved and committed");
	is_str(g->category, "Java Heap", "17 region 0 category");
	is_int(g->stack.nframes, 4, "17 region 0 frames");
	is_u64(frame(&g->stack, 0)->addr, 0x00007fa2ca31a27c, "17 frame addr");
	is_str(frame(&g->stack, 0)->sym,
	       "ReservedSpace::reserve(unsigned long, unsigned long, unsigned long, char*, bool)",
	       "17 frame symbol");
	is_u64(frame(&g->stack, 0)->off, 0xac, "17 frame offset");
	ok(!frame(&g->stack, 0)->lib, "17 frame has no library");
	ok(g->ncommits >= 1, "17 region 0 has committed parts");
	if (g->ncommits) {
		is_u64(g->commits[0].start, 0xf0000000, "17 commit start");
		is_u64(g->commits[0].end, 0xffe00000, "17 commit end");
		is_u64(g->commits[0].size, KB(260096), "17 commit size");
		is_str(frame(&g->commits[0].stack, 0)->sym,
		       "G1PageBasedVirtualSpace::commit(unsigned long, unsigned long)",
		       "17 commit frame");
	}
	for (size_t i = 0; i < r.nregions; i++)
		for (size_t j = 0; j < r.regions[i].ncommits; j++) {
			ncommits++;
			nostack += !r.regions[i].commits[j].stack.nframes;
		}
	is_int(ncommits, 57, "17 detail: 57 committed parts");
	is_int(nostack, 19, "17 detail: 19 committed without a stack ('committed NKB ')");
	is_int(r.nmalloc_sites, 175, "17 detail: 175 malloc sites");
	is_int(r.nmmap_sites, 19, "17 detail: 19 mmap sites");
	is_u64(r.omitted_sites, 1456, "17 detail: omitted sites");
	m = &r.malloc_sites[0];
	is_int(m->stack.nframes, 2, "17 site 0 frames");
	is_str(frame(&m->stack, 0)->sym, "Unsafe_AllocateMemory0", "17 site 0 frame 0");
	is_u64(frame(&m->stack, 0)->off, 0x7c, "17 site 0 frame 0 offset");
	ok(!frame(&m->stack, 1)->sym, "17 site 0 frame 1 is a bare (JIT) address");
	is_u64(frame(&m->stack, 1)->addr, 0x00007fa2b4ec8253, "17 site 0 JIT address");
	is_u64(m->m.size.val, KB(37492), "17 site 0 size");
	is_u64(m->m.count.val, 9373, "17 site 0 count");
	is_str(m->category, "Other", "17 site 0 type=Other");
	ok(m->m.at_peak, "17 site 0 at peak");
	is_str(r.mmap_sites[0].category, "Shared class space", "17 mmap site 0 Type=");
	is_u64(r.mmap_sites[0].reserved.val, KB(1064960), "17 mmap site 0 reserved");
	is_u64(r.mmap_sites[0].committed.val, KB(12188), "17 mmap site 0 committed");
	nmt_report_release(&r);

	parse_file("jdk25-detail.txt", &r);
	is_str(nmt_kind_name(r.kind), "detail", "25 detail: kind");
	is_int(r.nregions, 34, "25 detail: regions");
	g = &r.regions[0];
	is_str(g->category, "Internal", "25 region 0 category");
	is_u64(g->reserved, KB(4), "25 region 0 size");
	is_str(frame(&g->stack, 3)->sym, "JavaMain", "25 frame without a space after ']'");
	is_u64(frame(&g->stack, 3)->off, 0x8f, "25 frame offset before ' in lib'");
	is_str(frame(&g->stack, 3)->lib, "libjli.so", "25 frame library");
	is_int(g->ncommits, 1, "25 commit indented by spaces");
	is_int(r.nmalloc_sites, 233, "25 detail: malloc sites");
	is_int(r.nmmap_sites, 13, "25 detail: mmap sites");
	is_u64(r.omitted_sites, 1403, "25 detail: omitted sites");
	m = &r.malloc_sites[0];
	is_int(m->stack.nframes, 1, "25 site 0: one bare frame");
	is_u64(m->m.size.val, KB(23892), "25 site 0 ((malloc=…)) size");
	is_u64(m->m.count.val, 5973, "25 site 0 count");
	is_str(m->category, "Other", "25 site 0 tag=Other");
	ok(m->m.at_peak, "25 site 0 (at peak) inside double parentheses");
	is_str(r.mmap_sites[0].category, "Class", "25 mmap site Tag=");
	nmt_report_release(&r);

	parse_file("jdk17-detail-diff.txt", &r);
	is_str(nmt_kind_name(r.kind), "detail.diff", "17 detail.diff: kind");
	is_int(r.nmalloc_sites, 6, "17 detail.diff: sites without a Details: header");
	m = &r.malloc_sites[3];
	is_str(frame(&m->stack, 0)->sym, "Unsafe_AllocateMemory0", "17 diff site frame");
	is_u64(m->m.size.val, KB(76292), "17 diff site size");
	is_int(m->m.size.delta, KB(21200), "17 diff site delta after type=");
	is_int(m->m.count.delta, 5300, "17 diff site count delta");
	is_str(m->category, "Other", "17 diff site category stops before the delta");
	is_str(r.malloc_sites[0].category, "Native Memory Tracking", "17 diff site category with spaces");
	nmt_report_release(&r);

	parse_file("jdk25-detail-diff.txt", &r);
	is_str(nmt_kind_name(r.kind), "detail.diff", "25 detail.diff: kind");
	m = NULL;
	for (size_t i = 0; i < r.nmalloc_sites; i++)
		if (r.malloc_sites[i].m.size.val == KB(8204))
			m = &r.malloc_sites[i];
	ok(m != NULL, "25 diff: the 8 MiB direct buffer site");
	if (m) {
		is_str(m->category, "Other", "25 diff site type=Other");
		is_int(m->m.size.delta, KB(8192), "25 diff site +8192KB");
		is_int(m->stack.nframes, 1, "25 diff site: one JIT frame");
	}
	nmt_report_release(&r);

	parse_file("jdk8-detail.txt", &r);
	is_str(nmt_kind_name(r.kind), "detail", "8 detail: kind");
	is_int(r.nregions, 2, "8 detail: regions");
	is_str(r.regions[1].category, "Thread Stack", "8 region category");
	is_int(r.regions[1].ncommits, 1, "8 thread stack committed part");
	is_int(r.nmalloc_sites, 2, "8 detail: malloc sites");
	ok(!r.malloc_sites[0].category, "8 malloc site has no type=");
	is_u64(r.malloc_sites[1].m.count.val, 12288, "8 malloc site count");
	is_int(r.nmmap_sites, 1, "8 detail: mmap site");
	ok(!r.mmap_sites[0].category, "8 mmap site has no Type=");
	is_u64(r.mmap_sites[0].committed.val, KB(16384), "8 mmap site committed");
	nmt_report_release(&r);
}

static void test_versions(void)
{
	struct nmt_report r;
	const struct nmt_category *c;

	nmt_report_init(&r);
	parse_file("jdk8-summary.txt", &r);
	is_int(r.ncats, 11, "8 summary: categories");
	is_u64(r.total_reserved.val, KB(1622479), "8 Total reserved");
	ok(!r.total_malloc.size.set, "8 has no Total malloc line");
	is_u64(cat(&r, "Thread")->threads.val, 20, "8 (thread #20)");
	is_u64(cat(&r, "Class")->classes.val, 2034, "8 classes");
	ok(!cat(&r, "Class")->metadata.set, "8 has no metadata blocks");
	is_u64(cat(&r, "Unknown")->mmap.reserved.val, KB(8), "8 Unknown category");
	nmt_report_release(&r);

	parse_file("jdk11-summary.txt", &r);
	is_int(r.ncats, 16, "11 summary: categories");
	c = cat(&r, "Class");
	is_u64(c->metadata.free.val, KB(747), "11 Metadata free=");
	is_u64(c->class_space.free.val, KB(98), "11 Class space free=");
	is_u64(cat(&r, "Synchronizer")->malloc.count.val, 184, "11 Synchronizer");
	nmt_report_release(&r);

	parse_file("jdk21-summary.txt", &r);
	is_int(r.ncats, 20, "21 summary: categories");
	is_u64(r.total_malloc.size.val, KB(8314), "21 Total malloc");
	is_u64(r.total_malloc.count.val, 25011, "21 Total malloc count");
	is_u64(cat(&r, "GCCardSet")->malloc.size.val, KB(30), "21 GCCardSet");
	c = cat(&r, "Thread");
	is_u64(c->malloc.peak.val, KB(56), "21 Thread malloc peak");
	is_u64(c->arena.peak_count.val, 14, "21 Thread arena peak count");
	ok(cat(&r, "Shared class space")->readonly.set, "21 readonly=");
	nmt_report_release(&r);
}

/* The text of a summary.diff with its deltas removed: the summary it was made from "now". */
static void strip_deltas(const char *in, struct strbuf *out)
{
	strbuf_reset(out);
	for (const char *p = in; *p;) {
		const char *q = p;

		if (*q == ' ') {
			while (*q == ' ')
				q++;
			if ((*q == '+' || *q == '-') && q[1] >= '0' && q[1] <= '9') {
				for (q++; *q >= '0' && *q <= '9'; q++)
					;
				if (!strncmp(q, "KB", 2))
					q += 2;
				p = q;
				continue;
			}
			if (*q == ':' && q[1] == ' ' && q[2] == '(') {	/* ": (  Metadata)" */
				strbuf_add(out, p, q - p);
				strbuf_addch(out, ' ');
				p = q + 1;
				continue;
			}
		}
		strbuf_addch(out, *p++);
	}
}

/* nmt_diff(summary, now) gives what the JVM's summary.diff says. */
static void check_own_diff(const char *summary, const char *diff, const char *grown)
{
	struct strbuf sb = STRBUF_INIT, now_text = STRBUF_INIT, err = STRBUF_INIT;
	struct nmt_report base, now, jvm, mine;
	char what[256];
	int bad = 0;

	nmt_report_init(&base);
	nmt_report_init(&now);
	nmt_report_init(&jvm);
	nmt_report_init(&mine);
	parse_file(summary, &base);
	parse_file(diff, &jvm);
	fixture_load(diff, &sb);
	strip_deltas(sb.buf, &now_text);
	snprintf(what, sizeof(what), "%s without deltas parses as a summary", diff);
	ok(!nmt_parse(now_text.buf, now_text.len, &now, &err) && now.kind == NMT_SUMMARY, what);
	snprintf(what, sizeof(what), "nmt_diff(%s, now) succeeds", summary);
	ok(!nmt_diff(&base, &now, &mine, &err), what);
	is_str(nmt_kind_name(mine.kind), "summary.diff", "own diff is a summary.diff");
	is_u64(mine.total_committed.val, jvm.total_committed.val, "own diff Total committed");
	is_int(mine.total_committed.delta, jvm.total_committed.delta, "own diff Total delta");
	is_int(mine.ncats, jvm.ncats, "own diff: categories");
	for (size_t i = 0; i < jvm.ncats; i++) {
		const struct nmt_category *a = &jvm.cats[i], *b = nmt_category_find(&mine, a->name);

		if (!b || a->reserved.val != b->reserved.val || a->reserved.delta != b->reserved.delta ||
		    a->committed.val != b->committed.val || a->committed.delta != b->committed.delta ||
		    a->malloc.size.delta != b->malloc.size.delta ||
		    a->malloc.count.delta != b->malloc.count.delta ||
		    a->tracking_overhead.delta != b->tracking_overhead.delta) {
			printf("#   category '%s' differs\n", a->name);
			bad++;
		}
	}
	snprintf(what, sizeof(what), "own diff of %s equals the JVM's %s category by category",
		 summary, diff);
	ok(!bad, what);
	is_int(cat(&mine, grown)->committed.delta, KB(32768), "own diff: the grown category +32 MiB");

	/* a category only the baseline had appears with a negative delta */
	free(now.cats[now.ncats - 1].name);
	now.ncats--;
	ok(!nmt_diff(&base, &now, &mine, &err), "diff with a vanished category");
	is_int(mine.ncats, jvm.ncats, "vanished category still listed");
	is_u64(mine.cats[mine.ncats - 1].committed.val, 0, "vanished category now 0");
	is_int(mine.cats[mine.ncats - 1].committed.delta,
	       -(int64_t)base.cats[base.ncats - 1].committed.val, "vanished category delta");
	ok(nmt_diff(&jvm, &now, &mine, &err) == -EINVAL, "nmt_diff refuses a diff as input");
	nmt_report_release(&base);
	nmt_report_release(&now);
	nmt_report_release(&jvm);
	nmt_report_release(&mine);
	strbuf_release(&sb);
	strbuf_release(&now_text);
	strbuf_release(&err);
}

/* Returns nmt_parse's result for text; err gets the message. */
static int parse_text(const char *text, struct strbuf *err)
{
	struct nmt_report r;
	int ret;

	nmt_report_init(&r);
	strbuf_reset(err);
	ret = nmt_parse(text, strlen(text), &r, err);
	nmt_report_release(&r);
	return ret;
}

static void test_hostile(void)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT, big = STRBUF_INIT;
	struct nmt_report r;
	size_t crashes = 0, bad = 0;
	unsigned seed = 12345;

	nmt_report_init(&r);
	is_int(parse_text("hello world\n", &err), -EINVAL, "garbage is -EINVAL");
	is_str(err.buf, "line 1: not NMT output: 'hello world'", "garbage: says the line");
	is_int(parse_text("", &err), -EINVAL, "empty text is -EINVAL");
	is_int(parse_text("4242:\n\nNative Memory Tracking:\n\n", &err), -EINVAL,
	       "header only is -EINVAL");
	ok(strstr(err.buf, "no 'Total:'") != NULL, "header only: says Total is missing");
	is_int(parse_text("Native Memory Tracking:\nTotal: reserved=10KB, commit", &err), -EINVAL,
	       "cut in the Total line");
	is_str(err.buf, "line 2: Total without reserved= and committed=", "cut Total: line number");
	is_int(parse_text("Native Memory Tracking:\nTotal: reserved=1KB, committed=1KB\n"
			  "-   Class (reserved=10KB, committed=1",
			  &err),
	       -EINVAL, "cut in a category line");
	ok(!strncmp(err.buf, "line 3: ", 8), "cut category: line 3");
	is_int(parse_text("Native Memory Tracking:\nTotal: reserved=99999999999999999999KB, "
			  "committed=1KB\n",
			  &err),
	       -EINVAL, "overflowing number is -EINVAL");
	is_int(parse_text("Native Memory Tracking:\nTotal: reserved=1KB, committed=1KB\nDetails:\n"
			  "[0x1234] foo+0x1\n",
			  &err),
	       -EINVAL, "stack without its figures at the end is -EINVAL");
	ok(strstr(err.buf, "line 4: truncated") != NULL, "cut stack: says where it began");
	is_int(parse_text("Native\001 Memory Tracking:\n", &err), -EINVAL, "binary data");
	is_int(parse_text("Native Memory Tracking:\nTotal: reserved=1KB, committed=1KB\n"
			  "-   Frobnicator (reserved=3KB, committed=2KB)\n"
			  "                            (wibble=3KB)\n"
			  "                            (malloc=2KB #7)\n",
			  &err),
	       0, "unknown category and sub-line are accepted");
	is_int(parse_text("4242:\nNative memory tracking is not enabled\n", &err), 0,
	       "control message parses");
	nmt_parse("No detail baseline for comparison\n", 34, &r, &err);
	is_str(nmt_kind_name(r.kind), "no-baseline", "'No detail baseline' is no-baseline");
	nmt_parse("Native memory tracking has been shutdown\n", 41, &r, &err);
	is_str(nmt_kind_name(r.kind), "not-enabled", "NMT shut down (8, 11) is not-enabled");
	ok(nmt_parse("x", (size_t)NMT_MAX_TEXT + 1, &r, &err) == -EFBIG, "oversized text: -EFBIG");

	/* frames: " in " inside a name, "+0x" inside a name, no offset */
	{
		const char *t = "Native Memory Tracking:\nTotal: reserved=1KB, committed=1KB\nDetails:\n"
				"[0xa]f(char const* in x)+0x10 in libz.so.1\n"
				"[0xb] operator+0x(int)+0x2\n"
				"[0xc] plain\n"
				"                             ((malloc=1KB tag=Other #1) (at peak))\n";

		ok(!nmt_parse(t, strlen(t), &r, &err) && r.nmalloc_sites == 1, "odd frames: parse");
		if (r.nmalloc_sites == 1) {
			const struct nmt_stack *s = &r.malloc_sites[0].stack;

			is_str(frame(s, 0)->sym, "f(char const* in x)", "name with ' in ' kept whole");
			is_str(frame(s, 0)->lib, "libz.so.1", "library after the last ' in '");
			is_u64(frame(s, 0)->off, 0x10, "offset before the library");
			is_str(frame(s, 1)->sym, "operator+0x(int)", "name with '+0x' inside");
			is_u64(frame(s, 1)->off, 2, "the last +0x is the offset");
			is_str(frame(s, 2)->sym, "plain", "frame without an offset");
			is_u64(frame(s, 2)->off, 0, "no offset is 0");
		}
	}

	/* many frames before one site: bounded */
	strbuf_reset(&big);
	strbuf_addstr(&big, "Native Memory Tracking:\nTotal: reserved=1KB, committed=1KB\nDetails:\n");
	for (int i = 0; i < 5000; i++)
		strbuf_addf(&big, "[0x%x] f%d+0x1\n", i + 1, i);
	strbuf_addstr(&big, "                             (malloc=1KB type=Other #1)\n");
	ok(!nmt_parse(big.buf, big.len, &r, &err) && r.nmalloc_sites == 1 &&
		   r.malloc_sites[0].stack.nframes == NMT_MAX_FRAMES,
	   "5000 frames are capped at NMT_MAX_FRAMES");

	/* more entries than NMT_MAX_ENTRIES: refused, not hoarded */
	strbuf_reset(&big);
	strbuf_addstr(&big, "Native Memory Tracking:\nTotal: reserved=1KB, committed=1KB\nDetails:\n");
	for (unsigned i = 0; i < NMT_MAX_ENTRIES / 50 + 1; i++) {
		for (int k = 0; k < 50; k++)
			strbuf_addstr(&big, "[0x1]\n");
		strbuf_addstr(&big, "(malloc=1KB #1)\n");
	}
	is_int(nmt_parse(big.buf, big.len, &r, &err), -EFBIG, "over NMT_MAX_ENTRIES: -EFBIG");

	/* a very long line */
	strbuf_reset(&big);
	strbuf_addstr(&big, "Native Memory Tracking:\nTotal: reserved=1KB, committed=1KB\n-");
	for (int i = 0; i < 1 << 20; i++)
		strbuf_addch(&big, 'A');
	strbuf_addstr(&big, " (reserved=1KB, committed=1KB)\n");
	ok(!nmt_parse(big.buf, big.len, &r, &err) && r.ncats == 1, "1 MiB category name");

	/* every prefix of a summary, every 61st of a detail: 0 or -EINVAL, never a crash */
	fixture_load("jdk17-summary.txt", &sb);
	for (size_t n = 0; n <= sb.len; n++) {
		int ret = nmt_parse(sb.buf, n, &r, NULL);

		bad += ret != 0 && ret != -EINVAL;
	}
	fixture_load("jdk25-detail.txt", &sb);
	for (size_t n = 0; n <= sb.len; n += 61) {
		int ret = nmt_parse(sb.buf, n, &r, NULL);

		bad += ret != 0 && ret != -EINVAL;
	}
	is_int(bad, 0, "truncated texts give 0 or -EINVAL");

	/* random byte changes */
	fixture_load("jdk25-summary-diff.txt", &sb);
	strbuf_reset(&big);
	for (int i = 0; i < 3000; i++) {
		strbuf_reset(&big);
		strbuf_add(&big, sb.buf, sb.len);
		for (int k = 0; k < 4; k++) {
			seed = seed * 1103515245 + 12345;
			big.buf[(seed >> 8) % big.len] = "0123456789+-#=() \n:KBx[]"[(seed >> 20) % 24];
		}
		int ret = nmt_parse(big.buf, big.len, &r, NULL);

		crashes += ret != 0 && ret != -EINVAL;
	}
	is_int(crashes, 0, "3000 mutated texts give 0 or -EINVAL");

	nmt_report_release(&r);
	strbuf_release(&sb);
	strbuf_release(&big);
	strbuf_release(&err);
}

int main(int argc, char **argv)
{
	fixture_dir(argc > 0 ? argv[0] : "test-nmt", "nmt");

	test_jdk17_summary();
	test_jdk25_summary();
	test_diffs();
	test_detail();
	test_versions();

	check_kind("jdk17-not-enabled.txt", NMT_NOT_ENABLED);
	check_kind("jdk17-no-detail.txt", NMT_NO_DETAIL);
	check_kind("jdk17-no-baseline.txt", NMT_NO_BASELINE);
	check_kind("jdk25-no-baseline.txt", NMT_NO_BASELINE);
	check_kind("jdk17-baseline.txt", NMT_BASELINE_TAKEN);
	check_kind("jdk25-baseline.txt", NMT_BASELINE_TAKEN);
	check_kind("jdk11-summary.txt", NMT_SUMMARY);
	check_kind("jdk21-summary-diff.txt", NMT_SUMMARY_DIFF);

	check_sums("jdk8-summary.txt");
	check_sums("jdk11-summary.txt");
	check_sums("jdk17-summary.txt");
	check_sums("jdk21-summary.txt");
	check_sums("jdk25-summary.txt");
	check_sums("jdk17-detail.txt");
	check_sums("jdk25-detail.txt");

	check_own_diff("jdk21-summary.txt", "jdk21-summary-diff.txt", "Other");
	check_own_diff("jdk8-summary.txt", "jdk8-summary-diff.txt", "Internal");

	test_hostile();
	return done_testing();
}
