/*
 * jvmmem: one view of a JVM's memory, joined from four sources:
 *   /proc (smaps, status, cgroup)  what the kernel charges to the process
 *   hsperfdata                     heap generations, threads, metaspace (no attach)
 *   attach: VM.flags               the caps (-Xmx, -Xss, MaxMetaspaceSize, …)
 *   attach: GC.heap_info           where the heap is, to count its resident part
 *   attach: VM.native_memory       NMT categories, when NMT is on
 *   attach: VM.info                "C-Heap outstanding" (glibc, JDK 21+)
 *
 * The triage rule (shared/JVM.md H): a committed Java heap is not resident
 * until touched, so RssAnon is compared with NMT committed where the heap
 * counts only by its resident bytes; what RssAnon holds beyond that was
 * allocated by native code NMT does not track (zlib, JNI libraries), or is
 * malloc retention. VM.info's C-Heap outstanding minus NMT's malloc total
 * is the same question asked of glibc directly.
 */
#include "jvmmem.h"
#include "attach.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* MaxMetaspaceSize's default is "unlimited": max_uintx rounded down. */
#define UNLIMITED_FLAG (1ULL << 62)

void jvmmem_init(struct jvmmem *j)
{
	memset(j, 0, sizeof(*j));
	snapshot_init(&j->snap);
	nmt_report_init(&j->nmt);
}

void jvmmem_release(struct jvmmem *j)
{
	snapshot_release(&j->snap);
	if (j->have_hsperf)
		hsperf_vm_release(&j->vm);
	nmt_report_release(&j->nmt);
	memset(j, 0, sizeof(*j));
}

static bool parse_u64_prefix(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || (*end && *end != ' ' && *end != '\n' && *end != '\t'))
		return false;
	*v = x;
	return true;
}

/*
 * Reads both forms: "VM.flags" prints "-XX:MaxHeapSize=268435456 …" (only
 * the flags that were set), "VM.flags -all" a table row per flag:
 * "   size_t MaxHeapSize        = 268435456      {product} {command line}".
 */
int jvmmem_parse_flags(const char *text, struct jvm_flags *f)
{
	static const struct {
		const char *name;
		size_t off;
	} want[] = {
		{ "MaxHeapSize", offsetof(struct jvm_flags, max_heap) },
		{ "ThreadStackSize", offsetof(struct jvm_flags, thread_stack) },
		{ "MaxMetaspaceSize", offsetof(struct jvm_flags, max_metaspace) },
		{ "CompressedClassSpaceSize", offsetof(struct jvm_flags, ccs_size) },
		{ "MaxDirectMemorySize", offsetof(struct jvm_flags, max_direct) },
		{ "ReservedCodeCacheSize", offsetof(struct jvm_flags, code_cache) },
	};
	int found = 0;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct jvm_flag *fl = (struct jvm_flag *)((char *)f + want[i].off);
		size_t n = strlen(want[i].name);
		const char *p = text;

		while (!fl->set && (p = strstr(p, want[i].name))) {
			const char *q = p + n;
			bool starts = p == text || p[-1] == ' ' || p[-1] == ':' || p[-1] == '\n';

			p = q;
			if (!starts)
				continue;
			while (*q == ' ')
				q++;
			if (*q != '=')
				continue;
			q++;
			while (*q == ' ')
				q++;
			if (parse_u64_prefix(q, &fl->val)) {
				fl->set = true;
				found++;
			}
		}
	}
	return found ? 0 : -EINVAL;
}

int jvmmem_parse_heap_range(const char *text, uint64_t *lo, uint64_t *hi)
{
	const char *p = text;
	bool any = false;

	*lo = UINT64_MAX;
	*hi = 0;
	/* Each space prints "[0xLOW, 0xTOP)" or "[0xLOW, 0xUSED, 0xHIGH)". */
	while ((p = strstr(p, "[0x"))) {
		const char *close = strchr(p, ')'), *nl = strchr(p, '\n');
		uint64_t first = 0, last = 0;
		int n = 0;

		if (!close || (nl && nl < close))
			break;
		for (const char *q = p + 1; q < close;) {
			char *end;
			unsigned long long v;

			while (q < close && (*q == ' ' || *q == ','))
				q++;
			if (q >= close)
				break;
			errno = 0;
			v = strtoull(q, &end, 16);
			if (errno || end == q || end > close)
				break;
			if (!n++)
				first = v;
			last = v;
			q = end;
		}
		if (n >= 2 && last > first) {
			if (first < *lo)
				*lo = first;
			if (last > *hi)
				*hi = last;
			any = true;
		}
		p = close;
	}
	return any ? 0 : -EINVAL;
}

/*
 * A size as GC.heap_info prints it: digits and a unit, "1439K", "256M".
 * Returns the character after it, or NULL.
 */
static const char *parse_size(const char *p, uint64_t *v)
{
	unsigned long long x;
	uint64_t mul;
	char *end;

	if (*p < '0' || *p > '9')
		return NULL;
	errno = 0;
	x = strtoull(p, &end, 10);
	if (errno)
		return NULL;
	switch (*end) {
	case 'B': mul = 1; break;
	case 'K': mul = 1ULL << 10; break;
	case 'M': mul = 1ULL << 20; break;
	case 'G': mul = 1ULL << 30; break;
	default: return NULL;
	}
	if (x > UINT64_MAX / mul)
		return NULL;
	end++;
	if ((*end >= 'A' && *end <= 'Z') || (*end >= 'a' && *end <= 'z'))
		return NULL;
	*v = x * mul;
	return end;
}

/* The size that follows key in [line, eol), e.g. key "used " in "…, used 1439K [". */
static bool size_after(const char *line, const char *eol, const char *key, uint64_t *v)
{
	size_t n = strlen(key);
	const char *p = memmem(line, (size_t)(eol - line), key, n);

	return p && parse_size(p + n, v);
}

/* Shenandoah's sizes line: "256M max, 256M soft max, 256M committed, 1280K used". */
static bool shenandoah_sizes(const char *line, const char *eol, struct jvm_heap_info *h)
{
	bool have_used = false, have_committed = false;

	for (const char *p = line; p < eol;) {
		const char *word, *comma;
		uint64_t v;

		while (p < eol && *p == ' ')
			p++;
		comma = memchr(p, ',', (size_t)(eol - p));
		if (!comma)
			comma = eol;
		word = parse_size(p, &v);
		if (word && word < comma && *word == ' ') {
			size_t n = (size_t)(comma - ++word);

			if (n == 3 && !strncmp(word, "max", 3)) {
				h->max = v;
			} else if (n == 9 && !strncmp(word, "committed", 9)) {
				h->committed = v;
				have_committed = true;
			} else if (n == 4 && !strncmp(word, "used", 4)) {
				h->used = v;
				have_used = true;
			}
		}
		p = comma + 1;
	}
	return have_used && have_committed;
}

/*
 * The replies differ by collector and JDK (captures in tests/fixtures/jvmmem):
 *   G1 17      " garbage-first heap   total 262144K, used 1439K [0x…, 0x…)"
 *   G1 25      "garbage-first heap   total reserved 262144K, committed 262144K, used 2190K […)"
 *   Parallel   " PSYoungGen      total 76288K, used 3932K [lo, top, end)" and "ParOldGen …"
 *   Serial     "def new generation"/"tenured generation" (17), "DefNew"/"Tenured" (25)
 *   Shenandoah " 256M max, 256M soft max, 256M committed, 1280K used" and
 *              "Reserved region:" / " - [0x…, 0x…) "
 *   ZGC        " ZHeap   used 4M, capacity 256M, max capacity 256M" (no addresses)
 * A generation's "total" is its committed size; the spaces indented below a
 * generation ("eden space 65536K, 6% used") are parts of it and not added.
 * JDK 17 appends the Metaspace lines, which are not the heap.
 */
int jvmmem_parse_heap_info(const char *text, struct jvm_heap_info *h)
{
	memset(h, 0, sizeof(*h));
	for (const char *line = text; *line;) {
		const char *eol = strchrnul(line, '\n');
		const char *t = line;
		uint64_t used, committed, v;

		while (*t == ' ')
			t++;
		if (!strncmp(t, "ZHeap ", 6)) {
			if (size_after(t, eol, "used ", &used) &&
			    size_after(t, eol, "capacity ", &committed)) {
				h->used += used;
				h->committed += committed;
				h->have_sizes = true;
			}
			if (size_after(t, eol, "max capacity ", &v))
				h->max = v;
		} else if (memmem(t, (size_t)(eol - t), " max, ", 6) &&
			   memmem(t, (size_t)(eol - t), " committed, ", 12)) {
			if (shenandoah_sizes(t, eol, h))
				h->have_sizes = true;
		} else if (strncmp(t, "Metaspace ", 10) && strncmp(t, "class space ", 12) &&
			   memmem(t, (size_t)(eol - t), " total ", 7)) {
			if ((size_after(t, eol, "committed ", &committed) ||
			     size_after(t, eol, "total ", &committed)) &&
			    size_after(t, eol, "used ", &used)) {
				h->used += used;
				h->committed += committed;
				h->have_sizes = true;
			}
			if (size_after(t, eol, "total reserved ", &v))
				h->max += v;
		}
		line = *eol ? eol + 1 : eol;
	}
	h->have_range = !jvmmem_parse_heap_range(text, &h->lo, &h->hi);
	return h->have_sizes || h->have_range ? 0 : -EINVAL;
}

int jvmmem_parse_cheap(const char *text, uint64_t *outstanding, uint64_t *retained)
{
	const char *p = strstr(text, "C-Heap outstanding allocations: ");
	unsigned long long o, r;

	if (!p || sscanf(p, "C-Heap outstanding allocations: %lluK, retained: %lluK", &o, &r) != 2)
		return -EINVAL;
	*outstanding = o * 1024;
	*retained = r * 1024;
	return 0;
}

int jvmmem_parse_metaspace(const char *text, uint64_t *used)
{
	const char *line = text;
	bool in_event = false;

	while (*line) {
		const char *eol = strchr(line, '\n'), *t = line;

		if (!eol)
			eol = line + strlen(line);
		/* "Event: 0.8 {metaspace Before GC …" up to "}": a figure of the past */
		if (in_event) {
			in_event = *line != '}';
		} else if (!strncmp(line, "Event:", 6) && memchr(line, '{', (size_t)(eol - line))) {
			in_event = !memchr(line, '}', (size_t)(eol - line));
		} else {
			while (t < eol && *t == ' ')
				t++;
			if (!strncmp(t, "Metaspace ", 10) && size_after(t, eol, "used ", used))
				return 0;
		}
		line = *eol ? eol + 1 : eol;
	}
	return -EINVAL;
}

uint64_t jvmmem_mark_heap(struct snapshot *s, uint64_t lo, uint64_t hi)
{
	uint64_t rss = 0;

	for (size_t i = 0; i < s->nregions; i++) {
		struct region *r = &s->regions[i];

		if (r->start < hi && r->end > lo && (r->cls == RC_ANON || r->cls == RC_ARENA)) {
			r->cls = RC_JAVA_HEAP;
			rss += r->m.rss;
		}
	}
	return rss;
}

uint64_t jvmmem_mark_zheap(struct snapshot *s, bool *found)
{
	static const char name[] = "/memfd:java_heap";
	uint64_t pss = 0;

	*found = false;
	for (size_t i = 0; i < s->nregions; i++) {
		struct region *r = &s->regions[i];
		const char *p = r->path;

		/* The memfd is unlinked at once: its path ends in " (deleted)". */
		if (strncmp(p, name, sizeof(name) - 1) ||
		    (p[sizeof(name) - 1] && p[sizeof(name) - 1] != ' '))
			continue;
		r->cls = RC_JAVA_HEAP;
		pss += r->m.pss;
		*found = true;
	}
	return pss;
}

/* Runs one jcmd line; returns the text or NULL, noting the first failure. */
static char *jcmd(struct jvmmem *j, pid_t pid, const char *line, int timeout_ms)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT;
	int status = 0, ret;

	if (j->attach_error[0])
		return NULL;
	ret = attach_jcmd(pid, line, timeout_ms, &status, &out, &err);
	if (ret) {
		snprintf(j->attach_error, sizeof(j->attach_error), "%s", err.buf);
		strbuf_release(&out);
		strbuf_release(&err);
		return NULL;
	}
	strbuf_release(&err);
	j->attach_ok = true;
	if (status != 0) {
		strbuf_release(&out);
		return NULL;
	}
	return strbuf_detach(&out, NULL);
}

int jvmmem_collect(pid_t pid, int timeout_ms, struct jvmmem *j, struct strbuf *err)
{
	struct hsperf h = HSPERF_INIT;
	struct strbuf perr = STRBUF_INIT;
	char *text;
	int ret;

	ret = snapshot_take(pid, 0, &j->snap, err);
	if (ret)
		return ret;
	if (!j->snap.is_jvm) {
		strbuf_addf(err, "process %d is not a JVM (no libjvm.so in its memory map)",
			    (int)pid);
		return -ENOTSUP;
	}
	if (!hsperf_open(&h, pid, &perr)) {
		hsperf_vm_info(&h, &j->vm);
		j->have_hsperf = true;
		hsperf_heap(&h, &j->heap_used, &j->heap_committed, &j->heap_max);
		j->have_heap_used = true;
	} else {
		/* a planted symlink or another owner's file must be named, not taken for -UsePerfData */
		snprintf(j->hsperf_error, sizeof(j->hsperf_error), "%s", perr.buf);
	}
	hsperf_release(&h);

	text = jcmd(j, pid, "VM.flags -all", timeout_ms);
	if (text && !jvmmem_parse_flags(text, &j->flags))
		j->have_flags = true;
	free(text);
	/* G1 reports the whole heap as each generation's max: the flag is exact. */
	if (j->flags.max_heap.set)
		j->heap_max = j->flags.max_heap.val;

	/*
	 * GC.heap_info is read now; hsperfdata's heap counters are as of the
	 * last GC (G1, ZGC, and every collector on JDK 25): prefer the former.
	 */
	text = jcmd(j, pid, "GC.heap_info", timeout_ms);
	if (text && !jvmmem_parse_heap_info(text, &j->heap)) {
		j->have_heap_info = true;
		if (j->heap.have_sizes) {
			j->heap_used = j->heap.used;
			j->heap_committed = j->heap.committed;
			j->have_heap_used = true;
			j->heap_from_jcmd = true;
		}
		if (j->heap.max && !j->flags.max_heap.set)
			j->heap_max = j->heap.max;
		if (j->heap.have_range) {
			j->have_heap_range = true;
			j->heap_lo = j->heap.lo;
			j->heap_hi = j->heap.hi;
		}
	}
	free(text);

	if (!j->have_hsperf || j->vm.nmt != HSPERF_NMT_OFF) {
		text = jcmd(j, pid, "VM.native_memory summary scale=KB", timeout_ms);
		strbuf_reset(&perr);
		if (text && !nmt_parse(text, strlen(text), &j->nmt, &perr) &&
		    (j->nmt.kind == NMT_SUMMARY || j->nmt.kind == NMT_DETAIL))
			j->have_nmt = true;
		free(text);
	}

	text = jcmd(j, pid, "VM.info", timeout_ms);
	if (text && !jvmmem_parse_cheap(text, &j->cheap_outstanding, &j->cheap_retained))
		j->have_cheap = true;
	free(text);

	if (j->have_heap_range) {
		j->heap_rss = jvmmem_mark_heap(&j->snap, j->heap_lo, j->heap_hi);
		j->have_heap_rss = true;
	} else if (j->have_heap_info) {
		j->heap_rss = jvmmem_mark_zheap(&j->snap, &j->have_heap_rss);
	}
	for (size_t i = 0; i < j->snap.nregions; i++) {
		struct region *r = &j->snap.regions[i];

		if (r->cls == RC_STACK)
			j->stack_rss += r->m.rss;
		if (r->cls == RC_ARENA && !r->guard) {
			j->arena_rss += r->m.rss;
			j->arena_count++;
		}
	}
	if (!j->heap_committed && j->have_nmt) {
		const struct nmt_category *c = nmt_category_find(&j->nmt, "Java Heap");

		if (c)
			j->heap_committed = c->committed.val;
	}
	strbuf_release(&perr);
	return 0;
}

static int64_t cat_committed(const struct nmt_report *r, const char *name)
{
	const struct nmt_category *c = nmt_category_find(r, name);

	return c ? (int64_t)c->committed.val : -1;
}

void jvmmem_budget(const struct jvmmem *j, struct jvm_budget *b)
{
	const struct jvm_flags *f = &j->flags;
	/* Every OS thread has a stack of -Xss or so, the JVM's own threads too. */
	uint64_t threads = (uint64_t)j->snap.nthreads;

	memset(b, 0, sizeof(*b));
	b->nmt_committed = b->nmt_touched = b->outside_nmt_rss = b->outside_nmt_cheap = -1;
	b->direct = b->worst_case = -1;
	b->limit = j->snap.cgroup.known ? j->snap.cgroup.limit : -1;

	if (j->have_nmt) {
		b->nmt_committed = (int64_t)j->nmt.total_committed.val;
		/*
		 * Summary NMT says what is committed, not what is resident. Count
		 * the heap and the stacks by their RSS, leave out the CDS archive
		 * (a file mapping), and take every other category as fully
		 * touched: an upper bound of NMT's anonymous RSS, so what is left
		 * of RssAnon is a lower bound of the memory NMT cannot see.
		 */
		b->nmt_touched = (int64_t)j->heap_rss + (int64_t)j->stack_rss;
		for (size_t i = 0; i < j->nmt.ncats; i++) {
			const struct nmt_category *c = &j->nmt.cats[i];
			int64_t v = (int64_t)c->committed.val;

			if (!strcmp(c->name, "Java Heap") || !strcmp(c->name, "Shared class space"))
				continue;
			if (!strcmp(c->name, "Thread") && c->stack.committed.set)
				v -= (int64_t)c->stack.committed.val;
			b->nmt_touched += v > 0 ? v : 0;
		}
		b->outside_nmt_rss = (int64_t)j->snap.status.rss_anon - b->nmt_touched;
		if (b->outside_nmt_rss < 0)
			b->outside_nmt_rss = 0;
		/*
		 * Direct buffers are malloc'd by Unsafe_AllocateMemory0 under
		 * "Other". NMT leaves out a category under 1 unit of the scale, so
		 * a JVM without direct buffers prints no Other line at all: that
		 * is 0, not a reason to look elsewhere — Internal is the JVM's own
		 * data (several MiB in any JVM). JDK 8 counted direct buffers
		 * under Internal; they are not told apart from it there.
		 */
		b->direct = cat_committed(&j->nmt, "Other");
		if (b->direct < 0)
			b->direct = 0;
		if (j->have_cheap && j->nmt.total_malloc.size.set)
			b->outside_nmt_cheap = (int64_t)j->cheap_outstanding -
					       (int64_t)j->nmt.total_malloc.size.val;
	}

	if (j->have_flags && f->max_heap.set && f->code_cache.set && f->thread_stack.set) {
		uint64_t heap = f->max_heap.val;
		uint64_t direct = f->max_direct.set && f->max_direct.val ? f->max_direct.val : heap;
		uint64_t meta = 0;
		int64_t rest = 0;

		if (f->max_metaspace.set && f->max_metaspace.val < UNLIMITED_FLAG)
			meta = f->max_metaspace.val;
		else
			b->worst_unbounded = true;
		/* What the flags do not cap is counted at today's size. */
		if (j->have_nmt) {
			static const char *const capped[] = { "Java Heap", "Class", "Thread", "Code",
							      "Other", "Metaspace" };

			for (size_t i = 0; i < j->nmt.ncats; i++) {
				const struct nmt_category *c = &j->nmt.cats[i];
				bool is_capped = false;

				for (size_t k = 0; k < sizeof(capped) / sizeof(capped[0]); k++)
					if (!strcmp(c->name, capped[k]))
						is_capped = true;
				if (!is_capped)
					rest += (int64_t)c->committed.val;
			}
			if (b->worst_unbounded)
				meta = (uint64_t)(cat_committed(&j->nmt, "Class") > 0
							  ? cat_committed(&j->nmt, "Class")
							  : 0);
		}
		if (b->outside_nmt_rss > 0)
			rest += b->outside_nmt_rss;
		b->worst_case = (int64_t)(heap + direct + meta + f->code_cache.val +
					  threads * f->thread_stack.val * 1024) +
				rest;
	}
}
