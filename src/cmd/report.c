/*
 * report: 'offheap report FILE' — allocation sites of a recording ranked by
 * sustained growth of their live bytes, then by live bytes.
 *
 * Reads the alloc_* tables (src/store/allocdb.c) written by offheap record; the
 * frames are stored symbolized, so the target and its binaries are not
 * needed. Formats: text, json, collapsed ("frame;frame;... bytes", root
 * first, for flamegraph tools), pprof (gzipped profile.proto, src/render/pprof.c),
 * html (one self-contained page, src/render/html.c: it also shows the samples of a
 * recording made by offheap watch or snap, so it accepts a file with samples
 * only, allocations only, or both).
 */
#include "cmd.h"
#include "cmdutil.h"
#include "allocdb.h"
#include "allocrank.h"
#include "doctor.h"
#include "html.h"
#include "json.h"
#include "parse.h"
#include "pprof.h"
#include "outfile.h"
#include "series.h"
#include "store.h"
#include "strbuf.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void print_help(FILE *out)
{
	fprintf(out,
		"usage: offheap report FILE [--top N] [--format text|json|collapsed|pprof|html]\n"
		"                      [-o OUT] [--base FILE] [--run ID] [--json]\n\n"
		"Rank the allocation sites of a recording made by 'offheap record': first the\n"
		"sites whose live bytes grew steadily across the intervals (least-squares slope,\n"
		"R² of the fit, intervals that grew), then the others by live bytes; each with\n"
		"its call stack (function, file:line, module). Before them: the peak of the\n"
		"total live bytes the tracker saw (exact with --exact) and when, the sites live\n"
		"at it, and what was still live at exit ('leaked at exit').\n\n"
		"A recording holds one run per image: an exec starts a new one, and with\n"
		"'record --follow-fork' each descendant has its own. With several, the text\n"
		"report lists them (id, pid, parent run, how each ended, live bytes at its\n"
		"end, command) and shows one section per run; the other formats show the\n"
		"last image of the command's own process, or the run --run picks.\n\n"
		"Options:\n"
		"  -n, --top N          sites shown (default 10; 0 = all)\n"
		"      --format FMT     text (default), json, or collapsed (one line per site,\n"
		"                       'root;...;leaf live_bytes', for flamegraph tools),\n"
		"                       or pprof (gzipped profile.proto for 'go tool pprof':\n"
		"                       every site, whatever --top; sample types inuse_space,\n"
		"                       inuse_objects, alloc_space, alloc_objects), or html\n"
		"                       (one self-contained page: RSS by class over time, NMT,\n"
		"                       JVM counters, threads, the top sites, a flame graph;\n"
		"                       also for a recording of 'offheap watch' or 'snap')\n"
		"  -o, --output OUT     write the pprof profile or the HTML page (atomically)\n"
		"                       to OUT (default: stdout when it is not a terminal)\n"
		"      --json           the same as --format json\n"
		"      --base FILE      subtract the live bytes each stack has in the recording\n"
		"                       FILE (stacks matched by their frames)\n"
		"      --run ID         only run ID (alloc_run.id, as the list of runs shows)\n"
		"  -h, --help           this help\n\n"
		"Exit codes: 0 ok, 1 runtime error (unreadable FILE, no allocation data: no\n"
		"alloc_* tables, or the tracker never started in the command; for html:\n"
		"neither samples nor allocation data), 2 usage error.\n\n"
		"Examples:\n"
		"  offheap report leak.db\n"
		"  offheap report leak.db --top 3 --json\n"
		"  offheap report leak.db --format collapsed | flamegraph.pl > leak.svg\n"
		"  offheap report leak.db --format pprof -o leak.pb.gz && go tool pprof -top leak.pb.gz\n"
		"  offheap report watch.db --format html -o watch.html\n"
		"  offheap report after.db --base before.db\n"
		"  offheap report make.db --run 3 --json\n");
}

enum format { FMT_TEXT, FMT_JSON, FMT_COLLAPSED, FMT_PPROF, FMT_HTML };

static char *stack_key(const struct alloc_stack *s)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[512];

	for (size_t i = 0; i < s->nframes; i++)
		strbuf_addf(&sb, "%s;", allocrank_frame_name(&s->frames[i], buf, sizeof(buf)));
	return strbuf_detach(&sb, NULL);
}

/*
 * Loads the allocation data of path. A file without the alloc_* tables
 * (snap, watch) or whose tables hold no run (the tracker never started in
 * the command) is an error; a run in which no site was seen is data.
 */
static int load(const char *path, struct store **st, struct allocdb **adb, struct alloc_data *d,
		int64_t run)
{
	struct strbuf err = STRBUF_INIT;
	int ret = store_open(path, st, &err);

	if (!ret)
		ret = allocdb_open(store_db(*st), false, adb, &err);
	if (!ret)
		ret = run > 0 ? allocdb_load_run(*adb, d, run, &err) : allocdb_load(*adb, d, &err);
	if (!ret && !d->runs) {
		error("'%s' holds no allocation data: the tracker never started in the recorded command", path);
		hint("a statically linked or setuid program cannot be tracked ('offheap record' said which)");
		ret = -ENOENT;
	} else if (ret) {
		if (strstr(err.buf, "no such table"))
			error("'%s' holds no allocation data", path);
		else
			error("%s", err.buf);
		if (strstr(err.buf, "no such table"))
			hint("make one with 'offheap record -o %s -- COMMAND'", path);
	}
	strbuf_release(&err);
	return ret;
}

/*
 * For --format html: the samples (series_load) and the allocation data,
 * either of which may be missing; a file with neither is an error.
 */
static int load_html(const char *path, struct store **st, struct allocdb **adb,
		     struct alloc_data *d, int64_t run, bool *have_allocs, struct series *s,
		     bool *have_series)
{
	struct strbuf err = STRBUF_INIT;
	int ret = store_open(path, st, &err);
	bool tables = false;

	if (ret) {
		error("%s", err.buf);
		goto out;
	}
	ret = series_load(*st, s, &err);
	if (ret == -ENOENT) {
		series_release(s);
		series_init(s);
	} else if (ret) {
		error("cannot read the samples of '%s': %s", path, err.buf);
		goto out;
	} else {
		*have_series = true;
	}
	strbuf_reset(&err);
	ret = allocdb_open(store_db(*st), false, adb, &err);
	if (!ret)
		ret = run > 0 ? allocdb_load_run(*adb, d, run, &err) : allocdb_load(*adb, d, &err);
	if (ret && strstr(err.buf, "no such table")) {
		alloc_data_release(d);
		memset(d, 0, sizeof(*d));
		*have_allocs = false;
		ret = 0;
	} else if (ret) {
		error("%s", err.buf);
		goto out;
	} else if (!d->runs) {
		*have_allocs = false; /* the tables of a recording the tracker never wrote to */
		tables = true;
	}
	if (!*have_series && !*have_allocs) {
		ret = -ENOENT;
		error("'%s' holds no samples and no allocation data", path);
		if (tables)
			hint("the tracker never started in the recorded command: a statically linked or setuid program cannot be tracked");
		else
			hint("make one with 'offheap watch PID -o %s' or 'offheap record -o %s -- COMMAND'",
			     path, path);
	}
out:
	strbuf_release(&err);
	return ret;
}

/* Writes len bytes to path through outfile: never a half file, never through a link. */
static int write_file_atomic(const char *path, const char *buf, size_t len)
{
	struct strbuf err = STRBUF_INIT;
	struct outfile of;
	int ret;

	ret = outfile_open(&of, path, true, &err);
	if (ret && ret != -ELOOP && ret != -EISDIR) {
		strbuf_reset(&err);
		strbuf_addf(&err, "cannot write '%s': %s", path, strerror(-ret));
	} else if (!ret) {
		ret = outfile_write(&of, buf, len);
		if (ret) {
			strbuf_addf(&err, "cannot write '%s': %s", path, strerror(-ret));
			outfile_abort(&of);
		} else {
			ret = outfile_commit(&of, &err);
		}
	}
	if (ret)
		error("%s", err.buf);
	strbuf_release(&err);
	return ret;
}

static int write_html(const char *path, const char *file, struct store *st,
		      const struct series *s, const struct alloc_data *d,
		      const struct alloc_site *v, size_t n, size_t shown,
		      const struct doctor_report *findings)
{
	struct strbuf page = STRBUF_INIT, created = STRBUF_INIT, host = STRBUF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct html_input in = {
	    .source = file, .series = s, .allocs = d, .sites = v, .nsites = n,
	    .top = shown ? shown : 1, .findings = findings,
	};
	int ret = 0;

	if (!store_meta(st, "created", &created, &err))
		in.created = created.buf;
	if (!store_meta(st, "host", &host, &err))
		in.host = host.buf;
	html_render(&in, &page);
	if (path) {
		ret = write_file_atomic(path, page.buf, page.len);
	} else if (fwrite(page.buf, 1, page.len, stdout) != page.len || fflush(stdout)) {
		ret = error("cannot write the page to standard output: %s", strerror(errno));
	}
	strbuf_release(&page);
	strbuf_release(&created);
	strbuf_release(&host);
	strbuf_release(&err);
	return ret;
}

static void print_frames_text(const struct alloc_stack *s)
{
	char buf[512];

	for (size_t i = 0; i < s->nframes; i++) {
		const struct alloc_frame *f = &s->frames[i];
		const char *mod = f->module ? strrchr(f->module, '/') : NULL;

		printf("      %s", allocrank_frame_name(f, buf, sizeof(buf)));
		if (f->file && f->line > 0)
			printf(" (%s:%d)", f->file, f->line);
		else if (f->file)
			printf(" (%s)", f->file);
		if (f->inlined)
			printf(" [inlined]");
		if (mod && f->function)
			printf(" %s", mod + 1);
		putchar('\n');
	}
	if (!s->nframes)
		printf("      %s\n", allocrank_unnamed(s));
}

#define PEAK_SITES 5 /* sites shown at the peak, at most */

/* The peak, the sites live at it and what was left at exit. */
static void print_peak_text(const struct alloc_data *d, const struct allocrank_culprits *cu,
			    size_t shown)
{
	const struct alloc_stack **p;
	size_t np = allocrank_peak(d, &p);
	int64_t bytes, count;
	char a[32], b[512];

	if (d->has_peak) {
		printf("peak %s at %.1f s (%s)\n",
		       format_size(a, sizeof(a), (uint64_t)d->peak_bytes),
		       (double)d->peak_ms / 1000.0,
		       d->sample_mean || d->degraded ? "estimated from the samples" : "exact");
		if (np)
			printf("  sites live at the peak (copied when %s were live, at %.1f s):\n",
			       format_size(a, sizeof(a), (uint64_t)d->peak_sites_bytes),
			       (double)d->peak_sites_ms / 1000.0);
		for (size_t i = 0; i < np && i < PEAK_SITES && i < shown; i++)
			printf("  %10s  %s\n", format_size(a, sizeof(a), (uint64_t)p[i]->peak_live),
			       allocrank_site_label(cu, p[i], b, sizeof(b)));
	}
	free(p);
	allocrank_at_exit(d, &bytes, &count);
	printf("%s: %" PRId64 " bytes in %" PRId64 " blocks\n",
	       d->detached ? "still live at the detach" : "leaked at exit", bytes, count);
}

static void print_text(const struct alloc_data *d, struct alloc_site *v, size_t n, size_t shown,
		       bool based)
{
	struct allocrank_culprits *cu = allocrank_culprits_new(d);
	char a[32], b[32], site[512];
	size_t growing = 0;

	for (size_t i = 0; i < n; i++)
		growing += v[i].t.growing;
	printf("%zu sites, %zu growing, %zu intervals%s%s\n", n, growing, d->intervals,
	       d->sample_mean ? ", sampled" : ", exact",
	       d->flags & ALLOC_NOSPACE
		   ? " (the tracker's file system was full: figures are incomplete)"
	       : d->flags & (ALLOC_STACKS_FULL | ALLOC_ADDRS_FULL)
		   ? " (tracker reached its memory ceiling: figures are incomplete)"
		   : "");
	if (d->unended)
		printf("the recording was cut short: it has no end (offheap record was killed, or still\n"
		       "runs): the last interval may lack some growth and stacks may have no frames\n");
	if (!n && d->sample_mean)
		printf("no allocation was sampled: at one sample every %s on average, the process\n"
		       "allocated too little while recorded (record longer, with a smaller --sample,\n"
		       "or --exact)\n",
		       format_size(a, sizeof(a), d->sample_mean));
	else if (!n)
		printf("no allocation was recorded\n");
	if (d->degraded) {
		char m[32], c[32];

		if (d->sample_mean)
			printf("sampled every %s", format_size(a, sizeof(a), d->sample_mean));
		else
			printf("exact");
		printf(" until %.1f s, then sampled every %s: the tracker reached its %s ceiling\n",
		       (double)d->degraded_ms / 1000.0, format_size(m, sizeof(m), d->degraded_mean),
		       format_size(c, sizeof(c), d->max_memory));
	}
	print_peak_text(d, cu, shown);
	for (size_t i = 0; i < shown; i++) {
		const struct alloc_site *x = &v[i];

		printf("\n#%zu %s live %s in %" PRId64 " blocks at the end", i + 1,
		       x->t.growing ? "GROWING" : "steady ",
		       x->live < 0 || based ? format_dsize(a, sizeof(a), x->live)
					    : format_size(a, sizeof(a), (uint64_t)x->live),
		       x->s->live_count);
		if (x->t.growing || x->t.growth > 0)
			printf(", %s while running (R² %.2f, grew in %zu of %zu intervals)",
			       format_dsize(b, sizeof(b), sat_i64(x->t.growth)), x->t.r2, x->t.ups,
			       x->s->n ? x->s->n - 1 : 0);
		printf("; allocated %s in %" PRIu64 " calls\n",
		       format_size(b, sizeof(b), x->s->alloc_bytes), x->s->alloc_count);
		printf("    site: %s\n", allocrank_site_label(cu, x->s, site, sizeof(site)));
		print_frames_text(x->s);
	}
	allocrank_culprits_free(cu);
}

/* The runs of a recording (allocdb_runs), and the one shown. */
struct runs {
	struct alloc_run_info *v;
	size_t n;
	int64_t shown; /* alloc_run.id */
};

static const struct alloc_run_info *run_find(const struct runs *rs, int64_t id)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].id == id)
			return &rs->v[i];
	return NULL;
}

/* The list of runs: one line each. */
static void print_runs_text(const struct runs *rs)
{
	char live[32], parent[32];

	printf("%zu runs (one image each; 'offheap report FILE --run ID' shows one):\n", rs->n);
	printf("  %4s %8s %6s %-10s %10s  %s\n", "run", "pid", "parent", "ended", "live at end",
	       "command");
	for (size_t i = 0; i < rs->n; i++) {
		const struct alloc_run_info *r = &rs->v[i];

		snprintf(parent, sizeof(parent), "%" PRId64, r->parent_run);
		printf("  %4" PRId64 " %8d %6s %-10s %10s  %s\n", r->id, r->pid,
		       r->parent_run ? parent : "-", r->ended ? r->ended : "?",
		       r->live_bytes < 0 ? format_dsize(live, sizeof(live), r->live_bytes)
					 : format_size(live, sizeof(live), (uint64_t)r->live_bytes),
		       r->command ? r->command : "");
	}
}

/* The heading of run r's section. */
static void print_run_heading(const struct alloc_run_info *r)
{
	printf("\n== run %" PRId64 ": pid %d", r->id, r->pid);
	if (r->parent_run)
		printf(", forked by run %" PRId64, r->parent_run);
	else if (r->ppid)
		printf(", forked by pid %d", r->ppid);
	printf(", %s: %s ==\n", r->ended ? r->ended : "end unknown", r->command ? r->command : "");
}

static void print_frames_json(struct json *j, const struct alloc_stack *s)
{
	char pc[32];

	json_arr_begin(j, "frames");
	for (size_t k = 0; k < s->nframes; k++) {
		const struct alloc_frame *f = &s->frames[k];

		json_obj_begin(j, NULL);
		snprintf(pc, sizeof(pc), "0x%" PRIx64, f->pc);
		json_str(j, "pc", pc);
		json_str(j, "function", f->function);
		json_str(j, "file", f->file);
		json_i64(j, "line", f->line);
		json_str(j, "module", f->module);
		json_bool(j, "inlined", f->inlined);
		json_bool(j, "java", f->java || f->jit);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void print_peak_json(struct json *j, const struct alloc_data *d)
{
	const struct alloc_stack **p;
	size_t np = allocrank_peak(d, &p);
	int64_t bytes, count;

	if (d->has_peak) {
		json_obj_begin(j, "peak");
		json_i64(j, "bytes", d->peak_bytes);
		json_u64(j, "ms", d->peak_ms);
		json_i64(j, "sites_bytes", d->peak_sites_bytes);
		json_u64(j, "sites_ms", d->peak_sites_ms);
		json_arr_begin(j, "sites");
		for (size_t i = 0; i < np && i < PEAK_SITES; i++) {
			json_obj_begin(j, NULL);
			json_i64(j, "live_bytes", p[i]->peak_live);
			print_frames_json(j, p[i]);
			json_obj_end(j);
		}
		json_arr_end(j);
		json_obj_end(j);
	}
	free(p);
	allocrank_at_exit(d, &bytes, &count);
	json_obj_begin(j, "at_exit");
	json_i64(j, "live_bytes", bytes);
	json_i64(j, "live_count", count);
	json_bool(j, "detached", d->detached); /* record -p: at the detach, the process ran on */
	json_obj_end(j);
}

static void run_json(struct json *j, const char *key, const struct alloc_run_info *r)
{
	json_obj_begin(j, key);
	json_i64(j, "id", r->id);
	json_i64(j, "pid", r->pid);
	if (r->ppid)
		json_i64(j, "ppid", r->ppid);
	if (r->parent_run)
		json_i64(j, "parent_run", r->parent_run);
	json_str(j, "command", r->command);
	json_str(j, "exe", r->exe);
	json_str(j, "ended", r->ended);
	json_i64(j, "live_bytes", r->live_bytes);
	json_i64(j, "live_count", r->live_count);
	json_obj_end(j);
}

static void print_json(const struct alloc_data *d, struct alloc_site *v, size_t n, size_t shown,
		       const struct runs *rs)
{
	const struct alloc_run_info *run = run_find(rs, d->run);
	struct allocrank_culprits *cu = allocrank_culprits_new(d);
	char site[512];
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	if (run)
		run_json(&j, "run", run);
	if (rs->n > 1) {
		json_arr_begin(&j, "runs");
		for (size_t i = 0; i < rs->n; i++)
			run_json(&j, NULL, &rs->v[i]);
		json_arr_end(&j);
	}
	json_u64(&j, "sites", n);
	json_u64(&j, "intervals", d->intervals);
	json_u64(&j, "sample_mean", d->sample_mean);
	json_bool(&j, "incomplete", d->flags & (ALLOC_STACKS_FULL | ALLOC_ADDRS_FULL));
	json_bool(&j, "tracker_disk_full", d->flags & ALLOC_NOSPACE);
	json_u64(&j, "dropped_blocks", d->dropped);
	json_bool(&j, "degraded", d->degraded);
	if (d->degraded) {
		json_u64(&j, "degraded_ms", d->degraded_ms);
		json_u64(&j, "degraded_sample_mean", d->degraded_mean);
		json_u64(&j, "max_memory", d->max_memory);
	}
	print_peak_json(&j, d);
	json_arr_begin(&j, "top");
	for (size_t i = 0; i < shown; i++) {
		const struct alloc_site *x = &v[i];

		json_obj_begin(&j, NULL);
		json_bool(&j, "growing", x->t.growing);
		json_i64(&j, "live_bytes", x->live);
		json_i64(&j, "live_count", x->s->live_count);
		json_u64(&j, "alloc_bytes", x->s->alloc_bytes);
		json_u64(&j, "alloc_count", x->s->alloc_count);
		json_u64(&j, "free_bytes", x->s->free_bytes);
		json_u64(&j, "free_count", x->s->free_count);
		json_double(&j, "slope_bytes_per_interval", x->t.slope);
		json_double(&j, "growth_bytes", x->t.growth);
		json_double(&j, "r2", x->t.r2);
		json_u64(&j, "intervals_grew", x->t.ups);
		json_str(&j, "site", allocrank_site_label(cu, x->s, site, sizeof(site)));
		print_frames_json(&j, x->s);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
	allocrank_culprits_free(cu);
}

static void print_collapsed(struct alloc_site *v, size_t shown)
{
	char buf[512];

	for (size_t i = 0; i < shown; i++) {
		const struct alloc_stack *s = v[i].s;

		if (v[i].live <= 0)
			continue;
		for (size_t k = s->nframes; k-- > 0;) {
			const char *name = allocrank_frame_name(&s->frames[k], buf, sizeof(buf));

			/* ';' and ' ' separate frames and the count */
			for (const char *p = name; *p; p++)
				putchar(*p == ';' || *p == ' ' ? '_' : *p);
			if (k)
				putchar(';');
		}
		if (!s->nframes)
			fputs("[other]", stdout);
		printf(" %" PRId64 "\n", v[i].live);
	}
}

/* Every site (a profile is filtered in pprof, not here), to path or stdout. */
static int write_pprof(const char *path, const struct alloc_data *d, const struct alloc_site *v,
		       size_t n)
{
	struct strbuf err = STRBUF_INIT;
	struct pprof_site *ps = xcalloc(n ? n : 1, sizeof(*ps));
	int fd = STDOUT_FILENO, ret;
	struct outfile of;

	for (size_t i = 0; i < n; i++) {
		ps[i].s = v[i].s;
		ps[i].live = v[i].live;
	}
	if (path) {
		ret = outfile_open(&of, path, true, &err);
		if (ret) {
			ret = error("%s", err.buf);
			goto out;
		}
		fd = of.fd;
	} else {
		fflush(stdout);
	}
	ret = pprof_write(fd, ps, n, d->sample_mean, d->exe, &err);
	if (ret)
		error("%s%s%s", path ? path : "", path ? ": " : "", err.buf);
	if (path && ret) {
		outfile_abort(&of);
	} else if (path) {
		strbuf_reset(&err);
		if (outfile_commit(&of, &err))
			ret = error("%s", err.buf);
	}
out:
	free(ps);
	strbuf_release(&err);
	return ret;
}

/* A stack of the base recording: its frames' names and its live bytes there. */
struct base_key {
	char *key;
	int64_t live;
};

static int cmp_base_key(const void *a, const void *b)
{
	return strcmp(((const struct base_key *)a)->key, ((const struct base_key *)b)->key);
}

/*
 * The sites of d ranked, less what each stack has in bd when based (stacks
 * matched by their frames' names: the base's sorted once, then searched).
 * *out freed by the caller.
 */
static size_t rank(const struct alloc_data *d, const struct alloc_data *bd, bool based,
		   struct alloc_site **out)
{
	size_t n = allocrank_sites(d, out);
	struct alloc_site *v = *out;

	if (based) {
		struct base_key *keys = xcalloc(bd->nr ? bd->nr : 1, sizeof(*keys));
		size_t nk = 0;

		for (size_t i = 0; i < bd->nr; i++)
			keys[i] = (struct base_key){stack_key(&bd->stacks[i]),
						    bd->stacks[i].live_bytes};
		if (bd->nr)
			qsort(keys, bd->nr, sizeof(*keys), cmp_base_key);
		for (size_t i = 0; i < bd->nr; i++) { /* one entry per name: the sum */
			if (nk && !strcmp(keys[nk - 1].key, keys[i].key)) {
				keys[nk - 1].live += keys[i].live;
				free(keys[i].key);
				continue;
			}
			keys[nk++] = keys[i];
		}
		for (size_t j = 0; j < n; j++) {
			struct base_key k = {stack_key(v[j].s), 0};
			const struct base_key *m = nk ? bsearch(&k, keys, nk, sizeof(*keys),
								 cmp_base_key)
						       : NULL;

			if (m)
				v[j].live -= m->live;
			free(k.key);
		}
		for (size_t i = 0; i < nk; i++)
			free(keys[i].key);
		free(keys);
	}
	allocrank_sort(v, n);
	return n;
}

/* Text, several runs and no --run: the list, then each run's section. */
static int print_sections(struct allocdb *adb, const struct runs *rs, const struct alloc_data *bd,
			  bool based, int top)
{
	struct strbuf err = STRBUF_INIT;
	int ret = 0;

	print_runs_text(rs);
	for (size_t i = 0; i < rs->n && !ret; i++) {
		struct alloc_data d;
		struct alloc_site *v = NULL;
		size_t n, shown;

		ret = allocdb_load_run(adb, &d, rs->v[i].id, &err);
		if (ret) {
			error("%s", err.buf);
			break;
		}
		n = rank(&d, bd, based, &v);
		shown = top && (size_t)top < n ? (size_t)top : n;
		print_run_heading(&rs->v[i]);
		print_text(&d, v, n, shown, based);
		free(v);
		alloc_data_release(&d);
	}
	strbuf_release(&err);
	return ret;
}

/* The runs of file's recording; run: the one --run asked for (0: none), checked. */
static int list_runs(const char *file, struct allocdb *adb, int64_t run, struct runs *rs)
{
	struct strbuf err = STRBUF_INIT, ids = STRBUF_INIT;
	int ret = allocdb_runs(adb, &rs->v, &rs->n, &err);

	if (ret) {
		error("%s", err.buf);
		goto out;
	}
	if (run > 0 && !run_find(rs, run)) {
		for (size_t i = 0; i < rs->n; i++)
			strbuf_addf(&ids, "%s%" PRId64, i ? ", " : "", rs->v[i].id);
		error("'%s' has no run %" PRId64, file, run);
		hint("its runs are %s", ids.buf);
		ret = -ENOENT;
	}
out:
	strbuf_release(&err);
	strbuf_release(&ids);
	return ret;
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"top", required_argument, NULL, 'n'}, {"format", required_argument, NULL, 'F'},
	    {"json", no_argument, NULL, 'j'},	   {"base", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},	   {"output", required_argument, NULL, 'o'},
	    {"run", required_argument, NULL, 'R'}, {NULL, 0, NULL, 0},
	};
	enum format fmt = FMT_TEXT;
	const char *file = NULL, *base = NULL, *outpath = NULL;
	struct store *st = NULL, *bst = NULL;
	struct allocdb *adb = NULL, *badb = NULL;
	struct alloc_data d = {0}, bd = {0};
	struct alloc_site *v = NULL;
	struct series series;
	struct doctor_report findings;
	bool have_series = false, have_allocs = true;
	struct runs rs = {0};
	size_t n = 0, shown;
	int top = 10, c, rc = EXIT_RUNTIME;
	int64_t run = 0;
	uint64_t id;

	series_init(&series);
	doctor_report_init(&findings);
	while ((c = cmd_getopt(argc, argv, "+n:o:h", longopts, &file)) != -1) {
		switch (c) {
		case 1:
			usage_die("report", "one recording only (use --base FILE for a second)");
		case 'n':
			if (parse_int(optarg, 0, 1000000, &top))
				usage_die("report", "--top wants a number >= 0, not '%s'", optarg);
			break;
		case 'F':
			if (!strcmp(optarg, "text"))
				fmt = FMT_TEXT;
			else if (!strcmp(optarg, "json"))
				fmt = FMT_JSON;
			else if (!strcmp(optarg, "collapsed"))
				fmt = FMT_COLLAPSED;
			else if (!strcmp(optarg, "pprof"))
				fmt = FMT_PPROF;
			else if (!strcmp(optarg, "html"))
				fmt = FMT_HTML;
			else
				usage_die("report",
					  "--format is text, json, collapsed, pprof or html, not '%s'",
					  optarg);
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'j':
			fmt = FMT_JSON;
			break;
		case 'b':
			base = optarg;
			break;
		case 'R':
			if (parse_u64(optarg, &id) || !id || id > INT64_MAX)
				usage_die("report", "--run wants a run id >= 1, not '%s'", optarg);
			run = (int64_t)id;
			break;
		case 'h':
			print_help(stdout);
			return EXIT_OK;
		default:
			usage_die("report", "see 'offheap report --help'");
		}
	}
	if (!file && optind < argc)
		file = argv[optind++];
	if (!file)
		usage_die("report", "no recording given (offheap report FILE)");
	if (optind < argc)
		usage_die("report", "unexpected '%s'", argv[optind]);
	if (outpath && fmt != FMT_PPROF && fmt != FMT_HTML)
		usage_die("report", "-o is for --format pprof or html (other formats go to stdout)");
	if (fmt == FMT_PPROF && !outpath && isatty(STDOUT_FILENO)) {
		error("not writing a binary profile to a terminal");
		hint("add -o FILE.pb.gz, or redirect the output");
		return EXIT_USAGE;
	}
	if (fmt == FMT_HTML && !outpath && isatty(STDOUT_FILENO)) {
		error("not writing an HTML page to a terminal");
		hint("add -o FILE.html, or redirect the output");
		return EXIT_USAGE;
	}
	if (cmd_check_infile(file, "a recording file") ||
	    (base && cmd_check_infile(base, "a recording file")))
		goto out;
	if (fmt == FMT_HTML) {
		if (load_html(file, &st, &adb, &d, run, &have_allocs, &series, &have_series))
			goto out;
	} else if (load(file, &st, &adb, &d, run)) {
		goto out;
	}
	if (adb && (have_allocs || run) && list_runs(file, adb, run, &rs))
		goto out;
	if (base && load(base, &bst, &badb, &bd, 0))
		goto out;
	if (fmt == FMT_TEXT && !run && rs.n > 1) {
		if (!print_sections(adb, &rs, &bd, base != NULL, top))
			rc = EXIT_OK;
		goto out;
	}

	n = rank(&d, &bd, base != NULL, &v);
	shown = top && (size_t)top < n ? (size_t)top : n;
	if (fmt == FMT_HTML) {
		/* the doctor's rules over what the file holds; live probes need the process */
		struct doctor_probes probes = {
		    .cgroup_limit = -1, .allocs = have_allocs && d.nr ? &d : NULL,
		};

		doctor_diagnose(&series, &probes, &findings);
		doctor_unchecked(&findings, "inside the malloc heaps, JVM flags, class loaders and"
					    " the string table: need the live process"
					    " ('offheap doctor PID')");
		if (write_html(outpath, file, st, have_series ? &series : NULL,
			       have_allocs ? &d : NULL, v, n, shown, &findings))
			goto out;
	} else if (fmt == FMT_PPROF) {
		if (write_pprof(outpath, &d, v, n))
			goto out;
	} else if (fmt == FMT_JSON)
		print_json(&d, v, n, shown, &rs);
	else if (fmt == FMT_COLLAPSED)
		print_collapsed(v, shown);
	else {
		if (run)
			print_run_heading(run_find(&rs, run));
		print_text(&d, v, n, shown, base != NULL);
	}
	rc = EXIT_OK;
out:
	alloc_runs_free(rs.v, rs.n);
	free(v);
	series_release(&series);
	doctor_report_release(&findings);
	alloc_data_release(&d);
	alloc_data_release(&bd);
	allocdb_free(adb);
	allocdb_free(badb);
	store_close(st);
	store_close(bst);
	return rc;
}
