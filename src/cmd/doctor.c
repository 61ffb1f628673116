/*
 * doctor: 'offheap doctor PID|FILE' — the seeds' whole procedure in one
 * command: is it a JVM, is NMT on, what do the flags and the cgroup allow;
 * sample for a while; look inside the malloc heaps; then name the pattern,
 * the evidence, the culprit and the fix (src/analysis/doctor.c), and say what could
 * not be checked and why.
 *
 * With a FILE (a recording of offheap watch, doctor -o, or offheap record)
 * the same rules run on what the file holds; a process is not needed.
 */
#include "cmd.h"
#include "cmdutil.h"
#include "allocdb.h"
#include "docattach.h"
#include "doctor.h"
#include "json.h"
#include "jvmmem.h"
#include "parse.h"
#include "probe.h"
#include "procfs.h"
#include "sampler.h"
#include "series.h"
#include "store.h"
#include "strbuf.h"
#include "usage.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


static void print_help(void)
{
	printf("usage: offheap doctor PID|FILE [-d DURATION] [-i INTERVAL] [-o FILE]\n"
	       "                      [--recording REC] [--no-attach] [--no-gc]\n"
	       "                      [--probe-budget TIME] [--json] [--fail-on-leak] [--quiet]\n\n"
	       "Diagnose where a process's memory goes and what leaks. For a PID: find out\n"
	       "whether it is a JVM, whether NMT is on, what its flags and its cgroup limit\n"
	       "allow; sample it for DURATION (totals, classes, threads, hsperfdata counters,\n"
	       "NMT); look inside its malloc heaps (zlib streams, free chunks); then print the\n"
	       "findings: the pattern, the evidence, the culprit and the fix, and what could\n"
	       "not be checked and why. To name the code, doctor attaches to the process for\n"
	       "the sampling window like 'offheap record -p' (allocation sites, sampled every\n"
	       "64 KiB; detached at the end whatever happens) and, when anonymous mappings\n"
	       "or mappings of files and shared memory grow (or, not a JVM, its threads or\n"
	       "the stacks of ended threads), traces its mmap calls for a short window (1\n"
	       "to 3 s, during which every system call of the process stops for the\n"
	       "tracer). When a JVM's direct buffers grew in a window without a garbage\n"
	       "collection, dropped buffers and kept ones look the same: doctor then runs\n"
	       "two full collections a few seconds apart (jcmd GC.class_histogram; --no-gc\n"
	       "forbids it). With --no-attach the target is only read: never stopped or\n"
	       "changed.\n"
	       "For a FILE (a recording of 'offheap watch', 'doctor -o' or 'offheap record'),\n"
	       "the same rules run on the file.\n\n"
	       "Patterns: zlib Inflater/Deflater never ended, native memory outside NMT (JNI),\n"
	       "direct buffers (kept, or churned: not a leak), thread leak, class\n"
	       "loader/metaspace leak, interned strings, code cache, the Java heap, malloc\n"
	       "fragmentation (not a leak), a budget above the cgroup limit; for any\n"
	       "process: thread leak (also threads that ended but were never joined),\n"
	       "mapped files or shared memory never unmapped, malloc leak by site\n"
	       "(attached, or from a recording of 'offheap record'), anonymous mmap growth,\n"
	       "malloc growth.\n\n"
	       "Options:\n"
	       "  -d, --duration DUR   how long to sample (default 30s)\n"
	       "  -i, --interval DUR   time between samples (default: DURATION / 30, 200ms to 10s)\n"
	       "  -o, --output FILE    also keep the samples as a recording in FILE\n"
	       "      --recording REC  an 'offheap record' recording of this process: adds\n"
	       "                       malloc growth by allocation site (instead of attaching)\n"
	       "      --no-attach      never attach to nor trace the process: only read it\n"
	       "                       (the code behind native growth is then not named;\n"
	       "                       no collection is run either)\n"
	       "      --no-gc          never run a garbage collection in a JVM (direct\n"
	       "                       buffers grown without one are then judged without\n"
	       "                       knowing whether they are kept)\n"
	       "      --probe-budget TIME  CPU time each look inside the malloc heaps may\n"
	       "                       spend reading them (default 250ms); beyond it they\n"
	       "                       are sampled and the zlib streams estimated\n"
	       "      --json           the findings as JSON\n"
	       "      --fail-on-leak   exit 3 when a leak is found (for CI pipelines)\n"
	       "  -t, --timeout DUR    how long a JVM has to answer one request, in all\n"
	       "                       (default 5s); one that does not is asked nothing more\n"
	       "  -q, --quiet          no progress on stderr\n"
	       "  -h, --help           this help\n\n"
	       "Exit codes: 0 done (findings or not), 1 runtime error, 2 usage error,\n"
	       "3 a leak was found and --fail-on-leak was given.\n\n"
	       "Examples:\n"
	       "  offheap doctor 4242\n"
	       "  offheap doctor java -d 2m --json\n"
	       "  offheap record -o rec.db -- ./server && offheap doctor rec.db\n"
	       "  offheap doctor 4242 -d 10m --fail-on-leak || page-the-team\n");
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void progress(bool quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void progress(bool quiet, const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	fputs("offheap doctor: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* What the run found out about the process, for the report's header. */
struct facts {
	bool live;
	struct doctor_probes caps;	/* the JVM's flags, when read */
	const char *file;
	char nmt[32];
	uint64_t samples;
	double span_s;
};

static void print_text(const struct series *s, const struct facts *fx,
		       const struct doctor_report *r)
{
	char a[32], b[32];

	if (s->n) {
		const struct series_point *first = &s->pts[0], *last = &s->pts[s->n - 1];

		printf("%s %d (%s)%s: %zu samples over %.0f s; RSS %s -> %s", fx->live ? "process" : "recording of",
		       (int)s->pid, s->name, s->is_jvm ? ", a JVM" : "", s->n, fx->span_s,
		       format_size(a, sizeof(a), first->totals.rss),
		       format_size(b, sizeof(b), last->totals.rss));
		if (last->cgroup_limit > 0)
			printf(", cgroup limit %s",
			       format_size(a, sizeof(a), (uint64_t)last->cgroup_limit));
		if (s->is_jvm && fx->nmt[0])
			printf(", NMT %s", fx->nmt);
		printf("\n");
	}
	if (fx->caps.have_flags) {
		const struct doctor_probes *c = &fx->caps;
		char d[32], e[32], g[32];

		printf("JVM caps: heap %s, direct %s, metaspace %s, code cache %s, thread stack %s\n",
		       format_size(a, sizeof(a), c->max_heap),
		       c->max_direct ? format_size(b, sizeof(b), c->max_direct) : "= heap",
		       c->max_metaspace && c->max_metaspace < (1ULL << 50)
			       ? format_size(d, sizeof(d), c->max_metaspace)
			       : "unlimited",
		       format_size(e, sizeof(e), c->code_cache),
		       format_size(g, sizeof(g), c->thread_stack));
	}
	if (fx->caps.have_zlib && (fx->caps.zlib_first || fx->caps.zlib_last)) {
		const struct doctor_probes *c = &fx->caps;
		char x[80], y[80];

		doctor_zlib_count(x, sizeof(x), c->zlib_first, c->zlib_err_first,
				  c->heap_read_first, c->heap_bytes_first);
		doctor_zlib_count(y, sizeof(y), c->zlib_last, c->zlib_err_last, c->heap_read_last,
				  c->heap_bytes_last);
		printf("zlib streams in the malloc heaps: %s -> %s\n", x, y);
	}
	if (!r->n)
		printf("\nNo leak found: nothing grew steadily%s.\n",
		       s->n ? "" : " in the allocation data");
	for (size_t i = 0; i < r->n; i++) {
		const struct finding *f = &r->f[i];

		printf("\n[%s] %s  (%s)\n", finding_severity_name(f->severity), f->title, f->pattern);
		for (size_t k = 0; k < f->nevidence; k++)
			printf("  evidence: %s\n", f->evidence[k]);
		printf("  culprit:  %s\n", f->culprit);
		printf("  fix:      %s\n", f->fix);
	}
	if (r->nunchecked) {
		printf("\nNot checked:\n");
		for (size_t i = 0; i < r->nunchecked; i++)
			printf("  - %s\n", r->unchecked[i]);
	}
}

static void print_json(const struct series *s, const struct facts *fx,
		       const struct doctor_report *r)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_u64(&j, "pid", (uint64_t)s->pid);
	json_str(&j, "name", s->name);
	json_bool(&j, "is_jvm", s->is_jvm);
	json_bool(&j, "live", fx->live);
	if (fx->file)
		json_str(&j, "file", fx->file);
	json_str(&j, "nmt", fx->nmt);
	json_u64(&j, "samples", s->n);
	json_double(&j, "duration_s", fx->span_s);
	if (s->n) {
		json_u64(&j, "rss_first", s->pts[0].totals.rss);
		json_u64(&j, "rss_last", s->pts[s->n - 1].totals.rss);
	}
	if (fx->caps.have_flags) {
		json_obj_begin(&j, "caps");
		json_u64(&j, "max_heap", fx->caps.max_heap);
		json_u64(&j, "max_direct", fx->caps.max_direct);
		if (fx->caps.max_metaspace && fx->caps.max_metaspace < (1ULL << 50))
			json_u64(&j, "max_metaspace", fx->caps.max_metaspace);
		else
			json_null(&j, "max_metaspace"); /* unlimited */
		json_u64(&j, "code_cache", fx->caps.code_cache);
		json_u64(&j, "thread_stack", fx->caps.thread_stack);
		json_obj_end(&j);
	}
	if (s->n && s->pts[s->n - 1].cgroup_limit > 0)
		json_u64(&j, "cgroup_limit", (uint64_t)s->pts[s->n - 1].cgroup_limit);
	if (fx->caps.have_zlib) {
		const struct doctor_probes *c = &fx->caps;

		json_obj_begin(&j, "malloc_heaps");
		json_bool(&j, "exact", c->heap_read_first >= c->heap_bytes_first &&
					       c->heap_read_last >= c->heap_bytes_last);
		json_u64(&j, "zlib_streams_first", c->zlib_first);
		json_u64(&j, "zlib_streams_first_error", c->zlib_err_first);
		json_u64(&j, "zlib_streams_last", c->zlib_last);
		json_u64(&j, "zlib_streams_last_error", c->zlib_err_last);
		json_u64(&j, "sampled_bytes_first", c->heap_read_first);
		json_u64(&j, "total_bytes_first", c->heap_bytes_first);
		json_u64(&j, "sampled_bytes_last", c->heap_read_last);
		json_u64(&j, "total_bytes_last", c->heap_bytes_last);
		json_obj_end(&j);
	}
	json_bool(&j, "leak", doctor_has_leak(r));
	json_arr_begin(&j, "findings");
	for (size_t i = 0; i < r->n; i++) {
		const struct finding *f = &r->f[i];

		json_obj_begin(&j, NULL);
		json_str(&j, "pattern", f->pattern);
		json_str(&j, "severity", finding_severity_name(f->severity));
		json_str(&j, "title", f->title);
		json_arr_begin(&j, "evidence");
		for (size_t k = 0; k < f->nevidence; k++)
			json_str(&j, NULL, f->evidence[k]);
		json_arr_end(&j);
		json_str(&j, "culprit", f->culprit);
		json_arr_begin(&j, "culprit_frames");
		for (size_t k = 0; k < f->nculprit_frames; k++)
			json_str(&j, NULL, f->culprit_frames[k]);
		json_arr_end(&j);
		json_str(&j, "fix", f->fix);
		json_double(&j, "bytes_per_hour", f->bytes_per_hour);
		json_double(&j, "confidence", f->confidence);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_arr_begin(&j, "not_checked");
	for (size_t i = 0; i < r->nunchecked; i++)
		json_str(&j, NULL, r->unchecked[i]);
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

/* Loads the allocation data of a recording; 1 when it has none. */
static int load_allocs(const char *path, struct store *st, struct alloc_data *d)
{
	struct strbuf err = STRBUF_INIT;
	struct allocdb *adb = NULL;
	int ret = allocdb_open(store_db(st), false, &adb, &err);

	if (!ret)
		ret = allocdb_load(adb, d, &err);
	allocdb_free(adb);
	if (ret && strstr(err.buf, "no such table"))
		ret = 1;
	else if (ret)
		error("%s: %s", path, err.buf);
	strbuf_release(&err);
	return ret;
}

static bool looks_like_file(const char *arg)
{
	struct stat sb;

	return strspn(arg, "0123456789") != strlen(arg) && !stat(arg, &sb) && !S_ISDIR(sb.st_mode);
}

/*
 * A directory that names no process: a path given by mistake, to be refused
 * as a file, not looked up as a process name ("no process named 'adir'").
 */
static bool dir_not_process(const char *arg)
{
	struct strbuf err = STRBUF_INIT;
	struct stat sb;
	pid_t pid;
	bool ret;

	ret = strspn(arg, "0123456789") != strlen(arg) && !stat(arg, &sb) &&
	      S_ISDIR(sb.st_mode) && procfs_resolve_pid(arg, &pid, &err) == -ESRCH;
	strbuf_release(&err);
	return ret;
}

static int diagnose_file(const char *path, struct series *s, struct doctor_report *r,
			 struct alloc_data *allocs, struct facts *fx)
{
	struct strbuf err = STRBUF_INIT;
	struct doctor_probes p;
	struct store *st = NULL;
	int ret = cmd_check_infile(path, "a recording file");
	bool have_allocs;

	if (ret) {
		strbuf_release(&err);
		return -1;
	}
	ret = store_open(path, &st, &err);
	if (ret) {
		error("%s", err.buf);
		strbuf_release(&err);
		return -1;
	}
	ret = series_load(st, s, &err);
	if (ret && ret != -ENOENT) {
		error("%s: %s", path, err.buf);
		goto out;
	}
	ret = load_allocs(path, st, allocs);
	if (ret < 0)
		goto out;
	have_allocs = !ret && allocs->nr;
	if (!s->n && !have_allocs) {
		error("'%s' holds neither samples nor allocation data", path);
		hint("make one with 'offheap watch PID -o %s' or 'offheap record -o %s -- CMD'", path,
		     path);
		ret = -1;
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	p.allocs = have_allocs ? allocs : NULL;
	snprintf(p.zlib_missing, sizeof(p.zlib_missing), "needs the live process");
	snprintf(p.histogram_missing, sizeof(p.histogram_missing), "needs the live JVM");
	snprintf(p.strings_missing, sizeof(p.strings_missing), "needs the live JVM");
	if (!have_allocs)
		doctor_unchecked(r, "allocation sites: the file has no allocation data (record with 'offheap record')");
	doctor_unchecked(r, "inside the malloc heaps (zlib streams, fragmentation): needs the live process");
	if (s->is_jvm)
		doctor_unchecked(r, "JVM flags, class loaders and the string table: need the live JVM");
	fx->samples = s->n;
	fx->span_s = s->n > 1 ? (double)(s->pts[s->n - 1].t_ns - s->pts[0].t_ns) / 1e9 : 0;
	doctor_diagnose(s, &p, r);
	ret = 0;
out:
	store_close(st);
	strbuf_release(&err);
	return ret;
}

struct live_opts {
	uint64_t duration_ms, interval_ms, timeout_ms;
	const char *out, *recording;
	bool quiet, no_attach, no_gc;
	uint64_t probe_budget_ms;	/* --probe-budget */
};

/*
 * Two full collections some seconds apart, when the verdict on direct
 * buffers hinges on them (doctor_wants_gc): the DirectByteBuffers still
 * reachable after each tell buffers kept from buffers dropped. Each
 * collection stops the JVM, so the request gets three times --timeout, and
 * Ctrl-C during the gap skips the second.
 */
static void gc_check(pid_t pid, const struct live_opts *o, struct doctor_probes *p,
		     struct doctor_report *r)
{
	uint64_t gap = o->duration_ms / 3, first, last;
	struct sigaction sa, old_int, old_term;
	struct timespec ts;
	char why[160];

	gap = gap < 3000 ? 3000 : gap > 20000 ? 20000 : gap;
	progress(o->quiet, "direct buffers grew but no garbage collection ran: two full collections %.0f s apart tell kept buffers from dropped ones (--no-gc: none)",
		 (double)gap / 1000);
	if (probe_direct_live(pid, (int)o->timeout_ms * 3, &first, why, sizeof(why))) {
		doctor_unchecked(r, "whether the direct buffers are kept or dropped (GC.class_histogram): %s",
				 why);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(gap / 1000);
	ts.tv_nsec += (long)(gap % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (!stop_signal && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	if (stop_signal) {
		doctor_unchecked(r, "whether the direct buffers are kept or dropped: cut short by a signal after the first collection");
		return;
	}
	if (probe_direct_live(pid, (int)o->timeout_ms * 3, &last, why, sizeof(why))) {
		doctor_unchecked(r, "whether the direct buffers are kept or dropped (GC.class_histogram, the second): %s",
				 why);
		return;
	}
	p->have_direct_live = true;
	p->direct_live_first = first;
	p->direct_live_last = last;
	p->direct_live_gap_ms = gap;
}

/* The hint of a window that could not attach. */
#define ATTACH_HINT "run doctor as the process's user or as root, detach a debugger that holds it, or record it with 'offheap record -o rec.db -- CMD' and pass --recording rec.db"

/* Ends doctor's attached recording; its data goes to the rules, or "Not checked" says why. */
static void end_recording(struct docattach_rec *rec, struct alloc_data *allocs,
			  struct doctor_probes *p, struct doctor_report *r)
{
	struct strbuf why = STRBUF_INIT;

	if (!docattach_record_end(rec, 30000, allocs, &why)) {
		p->allocs = allocs;
		p->allocs_sample = DOCATTACH_SAMPLE;
	} else {
		doctor_unchecked(r, "the code behind native growth (allocation sites, attached like 'record -p'): %s; hint: " ATTACH_HINT,
				 why.buf);
	}
	strbuf_release(&why);
}

/*
 * A short trace of the mmap calls when anonymous memory or mapped files grew:
 * who maps them. jvm: a JVM that answers, asked for its perf map after it.
 */
static void trace_window(pid_t pid, const struct live_opts *o, bool jvm, struct doctor_mmap_site *site,
			 struct doctor_mmap_site *file, struct doctor_probes *p,
			 struct doctor_report *r)
{
	struct strbuf err = STRBUF_INIT;
	uint64_t ms = o->duration_ms / 5;

	ms = ms < 1000 ? 1000 : ms > 3000 ? 3000 : ms;
	progress(o->quiet, "tracing the mmap calls of %d for %.1f s (each of its system calls stops meanwhile)",
		 (int)pid, (double)ms / 1000);
	if (docattach_trace(pid, ms, jvm, site, file, &err)) {
		doctor_unchecked(r, "who maps the memory (trace): %s; hint: " ATTACH_HINT, err.buf);
	} else {
		p->mmap_traced = true;
		if (site->outstanding)
			p->mmap_site = site;
		if (file->regions)
			p->file_site = file;
	}
	strbuf_release(&err);
}

/* The probes a JVM that let a request time out was not asked, and why. */
static void not_asked(struct jvm_probe *j, const char *why)
{
	char *errs[] = { j->loaders_error, j->strings_error, j->histogram_error };

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (!errs[i][0])
			snprintf(errs[i], sizeof(j->loaders_error), "not asked: %s",
				 why && why[0] ? why : "the JVM did not answer in time");
}

static int diagnose_live(pid_t pid, const struct live_opts *o, struct series *s,
			 struct doctor_report *r, struct alloc_data *allocs, struct facts *fx)
{
	struct strbuf err = STRBUF_INIT;
	struct doctor_probes p;
	struct store *st = NULL, *rec = NULL;
	struct sampler sp;
	struct malloc_probe m0, m1;
	struct jvm_probe j0 = { 0 }, j1 = { 0 };
	struct sigaction sa, old_int, old_term;
	struct docattach_rec win = { .err_fd = -1 };
	struct doctor_mmap_site site, file_site;
	bool have_m0 = false, have_m1 = false, sampler = false, handlers = false;
	/* a recorded tree (--proc-root) has no process to attach to */
	bool attach = !o->no_attach && procfs_is_live();
	uint64_t ticks, start;
	char flags_why[160] = "";
	int ret = -1, rc;

	memset(&p, 0, sizeof(p));
	p.cgroup_limit = -1;
	if (o->recording) {
		if (cmd_check_infile(o->recording, "a recording file"))
			goto out;
		rc = store_open(o->recording, &rec, &err);
		if (rc) {
			error("%s", err.buf);
			goto out;
		}
		rc = load_allocs(o->recording, rec, allocs);
		if (rc < 0)
			goto out;
		if (rc || !allocs->nr) {
			error("'%s' holds no allocation data", o->recording);
			hint("make one with 'offheap record -o %s -- COMMAND'", o->recording);
			goto out;
		}
		p.allocs = allocs;
	}
	if (o->out) {
		if (cmd_store_create(o->out, STORE_RECORDING, false, false, &st))
			goto out;
	}
	rc = sampler_open(&sp, pid, 0, (int)o->timeout_ms, s, st, &err);
	if (rc) {
		cmd_report_error(rc, err.buf);
		goto out;
	}
	sampler = true;
	if (sp.jvm) {
		snprintf(fx->nmt, sizeof(fx->nmt), "%s", hsperf_nmt_name(sp.nmt_mode));
		p.nmt_on = sp.nmt_mode > HSPERF_NMT_OFF;
	}
	/* a JVM that let a request time out is asked nothing more (sp.attach_error says why) */
	if (sp.jvm && !sp.unresponsive) {
		if (probe_jvm_flags(pid, (int)o->timeout_ms, &p, flags_why, sizeof(flags_why)))
			doctor_unchecked(r, "JVM flags (VM.flags -all): %s", flags_why);
		probe_jvm(pid, (int)o->timeout_ms, &j0);
	}
	strbuf_reset(&err);
	have_m0 = !probe_malloc(pid, o->probe_budget_ms * 1000000, &m0, &err);
	if (!have_m0)
		snprintf(p.zlib_missing, sizeof(p.zlib_missing), "the first look: %s", err.buf);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	if (attach && !o->recording && sp.jvm && sp.unresponsive) {
		/* loading the tracker is one more request to a JVM that does not answer */
		doctor_unchecked(r, "the code behind native growth (allocation sites): not attached: %s",
				 sp.attach_error[0] ? sp.attach_error : "the JVM did not answer in time");
	} else if (attach && !o->recording) {
		struct strbuf why = STRBUF_INIT;

		/* From now on Ctrl-C ends the window: the child is let go, its files removed. */
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		handlers = true;
		if (docattach_record_start(&win, "/proc/self/exe", pid, o->duration_ms, &why))
			doctor_unchecked(r, "the code behind native growth (allocation sites): %s",
					 why.buf);
		else if (docattach_record_wait(&win, 10000) == -ETIMEDOUT)
			progress(o->quiet, "the attach to %d is slow: sampling starts before it",
				 (int)pid);
		strbuf_release(&why);
	}

	ticks = o->duration_ms / o->interval_ms + 1;
	progress(o->quiet, "sampling %d for %.1f s (%" PRIu64 " samples)%s", (int)pid,
		 (double)o->duration_ms / 1000, ticks, sp.jvm ? ", a JVM" : "");
	start = 0;
	for (uint64_t i = 0; i < ticks; i++) {
		struct timespec now, ts;
		uint64_t next;
		unsigned tf = (i == 0 || i + 1 == ticks) ? TICK_CHEAP : 0;

		if (i == 0 || i + 1 == ticks)
			tf |= TICK_REGIONS;
		strbuf_reset(&err);
		rc = sampler_tick(&sp, tf, &err);
		if (rc == -ESRCH) {
			if (!s->n) {
				cmd_report_error(rc, err.buf);
				goto out;
			}
			doctor_unchecked(r, "the process exited after %zu samples: the trends cover only those", s->n);
			break;
		}
		if (rc) {
			cmd_report_error(rc, err.buf);
			goto out;
		}
		if (i == 0) {
			if (st && cmd_store_commit(st, &err)) {
				error("%s", err.buf);
				goto out;
			}
			/* Ctrl-C now ends the sampling early and still diagnoses. */
			if (!handlers) {
				sigaction(SIGINT, &sa, &old_int);
				sigaction(SIGTERM, &sa, &old_term);
				handlers = true;
			}
			clock_gettime(CLOCK_MONOTONIC, &now);
			start = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
		}
		if (i + 1 == ticks)
			break;
		next = start + (i + 1) * o->interval_ms * 1000000u;
		ts.tv_sec = (time_t)(next / 1000000000u);
		ts.tv_nsec = (long)(next % 1000000000u);
		while (!stop_signal &&
		       clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		if (stop_signal) {
			doctor_unchecked(r, "sampling was cut short by a signal after %zu samples", s->n);
			break;
		}
	}
	if (handlers) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		handlers = false;
	}
	if (win.child)
		end_recording(&win, allocs, &p, r);
	if (attach && docattach_wants_trace(s))
		trace_window(pid, o, sp.jvm && !sp.unresponsive, &site, &file_site, &p, r);
	strbuf_reset(&err);
	have_m1 = !probe_malloc(pid, o->probe_budget_ms * 1000000, &m1, &err);
	if (sp.jvm && !sp.unresponsive)
		probe_jvm(pid, (int)o->timeout_ms, &j1);
	if (sp.jvm && sp.unresponsive) {
		not_asked(&j0, sp.attach_error);
		not_asked(&j1, sp.attach_error);
	}

	/* What the probes saw, and what they could not. */
	if (have_m0 && have_m1) {
		p.have_zlib = true;
		p.zlib_first = m0.zlib_states;
		p.zlib_last = m1.zlib_states;
		p.zlib_err_first = m0.zlib_err;
		p.zlib_err_last = m1.zlib_err;
		p.heap_read_first = m0.sampled_bytes;
		p.heap_read_last = m1.sampled_bytes;
		p.heap_bytes_first = m0.total_bytes;
		p.heap_bytes_last = m1.total_bytes;
		p.have_chunks = !m1.overcount;
		if (m1.overcount) {
			char in[32], fr[32], all[32];

			doctor_unchecked(r, "malloc fragmentation: the chunks counted (%s in use, %s free) exceed the heaps' %s, so they are not used",
					 format_size(in, sizeof(in), m1.inuse),
					 format_size(fr, sizeof(fr), m1.free),
					 format_size(all, sizeof(all), m1.total_bytes));
		}
		p.chunk_inuse = m1.inuse;
		p.chunk_free = m1.free;
		p.have_inuse_delta = !m0.overcount && !m1.overcount;
		p.inuse_delta = (int64_t)m1.inuse - (int64_t)m0.inuse;
		/* sampled: the change must stand out of the two estimates' errors */
		if ((int64_t)(2 * (m0.inuse_err + m1.inuse_err)) > (p.inuse_delta < 0 ? -p.inuse_delta : p.inuse_delta) &&
		    !(m0.exact && m1.exact))
			p.have_inuse_delta = false;
		p.malloc_rss = m1.rss;
		p.arenas = m1.arenas;
	} else {
		if (have_m0)
			snprintf(p.zlib_missing, sizeof(p.zlib_missing), "the last look: %s",
				 err.len ? err.buf : "not readable");
		doctor_unchecked(r, "inside the malloc heaps (zlib streams, fragmentation): %s",
				 p.zlib_missing);
	}
	if (sp.jvm) {
		if (j1.loaders_ok) {
			p.have_loaders = true;
			snprintf(p.loader_type, sizeof(p.loader_type), "%s", j1.loaders.top_type);
			p.loader_count = j1.loaders.top_count;
			p.loader_classes = j1.loaders.top_classes;
		}
		/* every probe that failed is said, whatever else failed with it */
		if (j0.strings_ok && j1.strings_ok) {
			p.have_strings = true;
			p.strings_first = j0.strings;
			p.strings_last = j1.strings;
		} else {
			snprintf(p.strings_missing, sizeof(p.strings_missing), "%s (%s)",
				 j0.strings_ok ? j1.strings_error : j0.strings_error,
				 j0.strings_ok ? "at the end" : "at the start");
			if (!sp.unresponsive)
				doctor_unchecked(r, "the StringTable (VM.stringtable): %s",
						 p.strings_missing);
		}
		if (j0.histogram_ok && j1.histogram_ok) {
			p.have_histogram = true;
			p.zlib_objects_first = j0.zlib_objects;
			p.zlib_objects_last = j1.zlib_objects;
			p.direct_objects_first = j0.direct_objects;
			p.direct_objects_last = j1.direct_objects;
		} else {
			snprintf(p.histogram_missing, sizeof(p.histogram_missing), "%s (%s)",
				 j0.histogram_ok ? j1.histogram_error : j0.histogram_error,
				 j0.histogram_ok ? "at the end" : "at the start");
			if (!sp.unresponsive)
				doctor_unchecked(r, "Inflater, Deflater and direct buffer objects (GC.class_histogram -all): %s",
						 p.histogram_missing);
		}
		if (!j1.loaders_ok && !sp.unresponsive)
			doctor_unchecked(r, "class loaders (VM.classloader_stats): %s",
					 j1.loaders_error);
		if (sp.hsperf_error[0])
			doctor_unchecked(r, "JVM counters (threads, classes, heap): %s", sp.hsperf_error);
		if (sp.nmt_error[0])
			doctor_unchecked(r, "NMT categories (direct buffers, symbols, metaspace, what is outside NMT): %s",
					 sp.nmt_error);
		/* a JVM that let a request time out was asked nothing more: one line says it */
		if (sp.unresponsive)
			doctor_unchecked(r, "attach (flags, class loaders, string table, class histogram, C-Heap): %s",
					 sp.attach_error);
		else if (sp.attach_error[0])
			doctor_unchecked(r, "C-Heap and heap figures (VM.info, GC.heap_info): %s",
					 sp.attach_error);
		if (sp.nmt_mode == HSPERF_NMT_OFF || sp.nmt_error[0])
			doctor_unchecked(r, "hint: start the JVM with -XX:NativeMemoryTracking=summary (about 1%% overhead) to tell direct buffers, threads, metaspace and symbols apart");
	}
	if (!attach)
		doctor_unchecked(r, "the code behind native growth (allocation sites, who maps): %s",
				 o->no_attach ? "--no-attach" : "a recorded /proc tree (--proc-root) has no process to attach to");
	if (s->n)
		p.cgroup_limit = s->pts[s->n - 1].cgroup_limit;
	fx->samples = s->n;
	fx->span_s = s->n > 1 ? (double)(s->pts[s->n - 1].t_ns - s->pts[0].t_ns) / 1e9 : 0;
	fx->caps = p;
	fx->caps.allocs = NULL;
	{
		size_t from, to;
		const char *g = sampler_grown_files(&sp, RC_FILE, &from, &to);

		if (g) {
			snprintf(p.files_grown, sizeof(p.files_grown), "%s", g);
			p.files_from = from;
			p.files_to = to;
		}
		g = sampler_grown_files(&sp, RC_SHM, &from, &to);
		if (g) {
			snprintf(p.shm_grown, sizeof(p.shm_grown), "%s", g);
			p.shm_from = from;
			p.shm_to = to;
		}
	}
	if (sp.jvm && !sp.unresponsive && !o->no_gc && !o->no_attach && doctor_wants_gc(s, &p))
		gc_check(pid, o, &p, r);
	doctor_diagnose(s, &p, r);
	ret = 0;
out:
	if (handlers) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	if (win.child) {
		struct alloc_data none;
		struct strbuf why = STRBUF_INIT;

		if (!docattach_record_end(&win, 30000, &none, &why))
			alloc_data_release(&none);
		strbuf_release(&why);
	}
	if (sampler)
		sampler_close(&sp);
	store_close(st);
	store_close(rec);
	strbuf_release(&err);
	return ret;
}

int cmd_doctor(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_FAIL, OPT_RECORDING, OPT_NO_ATTACH, OPT_NO_GC, OPT_PROBE_BUDGET };
	static const struct option opts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "recording", required_argument, NULL, OPT_RECORDING },
		{ "no-attach", no_argument, NULL, OPT_NO_ATTACH },
		{ "no-gc", no_argument, NULL, OPT_NO_GC },
		{ "probe-budget", required_argument, NULL, OPT_PROBE_BUDGET },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "fail-on-leak", no_argument, NULL, OPT_FAIL },
		{ "quiet", no_argument, NULL, 'q' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct live_opts o = { .duration_ms = 30000, .timeout_ms = 5000,
			       .probe_budget_ms = MALLOC_PROBE_BUDGET / 1000000 };
	const char *arg = NULL;
	bool json = false, fail = false, have_interval = false, have_budget = false;
	struct series s;
	struct doctor_report r;
	struct alloc_data allocs;
	struct facts fx = { 0 };
	pid_t pid;
	int c, ret;

	while ((c = cmd_getopt(argc, argv, "+d:i:o:t:qh", opts, &arg)) != -1) {
		switch (c) {
		case 't':
			o.timeout_ms = cmd_opt_duration("doctor", "--timeout", optarg, 1, 3600000);
			break;
		case 'd':
			o.duration_ms = cmd_opt_duration("doctor", "--duration", optarg, 1000,
							 7 * 24 * 3600000ULL);
			break;
		case 'i':
			o.interval_ms = cmd_opt_duration("doctor", "--interval", optarg, 100, 3600000);
			have_interval = true;
			break;
		case 'o':
			o.out = optarg;
			break;
		case OPT_RECORDING:
			o.recording = optarg;
			break;
		case OPT_NO_ATTACH:
			o.no_attach = true;
			break;
		case OPT_NO_GC:
			o.no_gc = true;
			break;
		case OPT_PROBE_BUDGET:
			o.probe_budget_ms = cmd_opt_duration("doctor", "--probe-budget", optarg, 1,
							     60000);
			have_budget = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_FAIL:
			fail = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			print_help();
			return EXIT_OK;
		case 1:
			usage_die("doctor", "one PID or FILE only, not '%s'", argv[optind - 1]);
		default:
			usage_die("doctor", "unknown option");
		}
	}
	if (optind < argc)
		usage_die("doctor", "unexpected argument '%s'", argv[optind]);
	if (!arg)
		usage_die("doctor", "which process or recording? (offheap doctor PID|FILE)");
	if (o.out && !*o.out)
		usage_die("doctor", "-o needs a file name");
	if (!have_interval) {
		o.interval_ms = o.duration_ms / 30;
		o.interval_ms = o.interval_ms < 200 ? 200 : o.interval_ms > 10000 ? 10000 : o.interval_ms;
	}
	if (o.interval_ms * 3 > o.duration_ms)
		usage_die("doctor", "-i must leave room for at least 3 samples in -d");

	series_init(&s);
	doctor_report_init(&r);
	memset(&allocs, 0, sizeof(allocs));
	if (looks_like_file(arg)) {
		if (o.out || o.recording || have_interval || o.no_attach || o.no_gc || have_budget)
			usage_die("doctor", "-o, -i, --recording, --no-attach, --no-gc and --probe-budget are for a live process, not a file");
		fx.file = arg;
		ret = diagnose_file(arg, &s, &r, &allocs, &fx);
	} else if (dir_not_process(arg)) {
		cmd_check_infile(arg, "a recording file");
		ret = -1;
	} else {
		if (cmd_resolve_pid(arg, &pid)) {
			ret = -1;
		} else {
			fx.live = true;
			fx.file = o.out;
			ret = diagnose_live(pid, &o, &s, &r, &allocs, &fx);
		}
	}
	if (!ret) {
		if (json)
			print_json(&s, &fx, &r);
		else
			print_text(&s, &fx, &r);
		ret = fail && doctor_has_leak(&r) ? EXIT_THRESHOLD : EXIT_OK;
	} else {
		ret = EXIT_RUNTIME;
	}
	alloc_data_release(&allocs);
	doctor_report_release(&r);
	series_release(&s);
	return ret;
}
