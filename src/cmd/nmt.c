/*
 * nmt: a JVM's Native Memory Tracking — summary, detail, baseline and diff —
 * fetched over the attach socket (VM.native_memory … scale=KB), parsed, and
 * printed as tables or as the whole model in JSON.
 *
 * Besides the JVM's own baseline (one per JVM, overwritten by anyone who
 * takes another), "baseline -o FILE" saves offheap's own copy, whose format
 * is src/analysis/nmtbase.h's; this file writes and reads it.
 */
#include "cmd.h"
#include "cmdutil.h"
#include "attach.h"
#include "hotspot.h"
#include "json.h"
#include "nmt.h"
#include "nmtbase.h"
#include "outfile.h"
#include "parse.h"
#include "proc.h"
#include "strbuf.h"
#include "table.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum mode { M_SUMMARY, M_DETAIL, M_BASELINE, M_DIFF };

struct opts {
	pid_t pid;
	enum mode mode;
	bool json;
	bool detail;		/* baseline -o / diff: detail rather than summary */
	const char *out_file;	/* baseline -o FILE */
	bool force;		/* baseline -o: replace FILE */
	const char *since;	/* diff --since FILE */
	int timeout_ms;
	long top;		/* sites printed in text */
	uint64_t unit;		/* bytes per unit of the text tables (--scale); 0: 1.5M, 4K */
	const char *unit_name;
	struct table_style style;	/* --columns, --no-headings, --raw, --bytes */
};

static const struct table_col cols_summary[5], cols_diff[5];

/* jcmd's scale=KB|MB|GB (any case), as a word or as --scale's value. */
static int parse_scale(const char *s, struct opts *o)
{
	static const struct {
		const char *name, *shown;
		uint64_t unit;
	} units[] = { { "KB", "KiB", 1024 }, { "MB", "MiB", 1024 * 1024 },
		      { "GB", "GiB", 1024 * 1024 * 1024 } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(s, units[i].name)) {
			o->unit = units[i].unit;
			o->unit_name = units[i].shown;
			return 0;
		}
	return -EINVAL;
}

/* Where the diff's baseline came from, for the output. */
struct since_info {
	const char *file;
	int64_t time;		/* when it was taken, seconds since the epoch */
};

static void print_help(FILE *out)
{
	fprintf(out,
		"usage: offheap nmt PID [summary|detail|baseline|diff] [options]\n\n"
		"Native Memory Tracking of a running HotSpot JVM (JDK 8 to 25), as\n"
		"'jcmd PID VM.native_memory' gives it, parsed into a table or JSON.\n"
		"The JVM must run with -XX:NativeMemoryTracking=summary (or =detail).\n\n"
		"Modes:\n"
		"  summary     categories with reserved and committed memory (default)\n"
		"  detail      summary, then the largest malloc and mmap call sites\n"
		"              (needs -XX:NativeMemoryTracking=detail)\n"
		"  baseline    tell the JVM to take its NMT baseline; with -o FILE also\n"
		"              save offheap's own baseline to FILE\n"
		"  diff        what changed since the JVM's baseline, largest growth\n"
		"              first; with --since FILE since a saved baseline\n\n"
		"Options:\n"
		"  -o, --output FILE     baseline: also save the summary to FILE\n"
		"  -f, --force           baseline -o: replace FILE if it exists\n"
		"      --detail          baseline -o: save the detail report; diff: ask\n"
		"                        the JVM for detail.diff (sites with changes)\n"
		"      --since FILE      diff: compare the live summary with FILE, saved\n"
		"                        by 'baseline -o' (needs no baseline in the JVM)\n"
		"  -n, --top N           detail: call sites to print (default 10)\n"
		"  -t, --timeout DURATION  how long to wait for the JVM (default 10s)\n"
		"      --scale KB|MB|GB  the unit of the text tables, as jcmd rounds them;\n"
		"                        jcmd's spelling scale=MB is taken too\n"
		"      --json            the whole parsed report as JSON (sizes in bytes)\n"
		"  -h, --help            this help\n");
	cmd_table_help(out, true, (const struct table_colset[]){ { cols_diff, 5 },
								 { cols_summary, 5 } }, 2);
	fprintf(out,
		"\n"
		"Sizes in the text tables are in powers of 1024 (1.5M, 4K) unless --scale or\n"
		"--bytes says otherwise; JSON sizes are bytes. PID may also be a unique process\n"
		"name.\n\n"
		"Exit codes: 0 ok, 1 the JVM could not be reached, has NMT off, has no\n"
		"baseline, or the baseline file is unusable, 2 usage error.\n\n"
		"Examples:\n"
		"  offheap nmt 4242\n"
		"  offheap nmt 4242 summary scale=MB\n"
		"  offheap nmt 4242 baseline -o before.nmt\n"
		"  offheap nmt 4242 diff\n"
		"  offheap nmt 4242 diff --since before.nmt --json\n"
		"  offheap nmt 4242 detail --top 5\n");
}

/* ---- talking to the JVM ---- */

static int fetch(const struct opts *o, const char *what, struct strbuf *text, struct nmt_report *r)
{
	struct strbuf line = STRBUF_INIT, err = STRBUF_INIT;
	int status = 0, ret, rc = EXIT_RUNTIME;

	strbuf_addf(&line, "VM.native_memory %s scale=KB", what);
	strbuf_reset(text);
	ret = attach_jcmd(o->pid, line.buf, o->timeout_ms, &status, text, &err);
	if (ret) {
		rc = cmd_attach_failed("nmt", o->pid, ret, &err);
		goto out;
	}
	if (status != 0) {
		strbuf_rtrim(text);
		error("JVM %d refused '%s': %s", (int)o->pid, line.buf,
		      text->len ? text->buf : "no reason given");
		goto out;
	}
	ret = nmt_parse(text->buf, text->len, r, &err);
	if (ret) {
		error("cannot parse the NMT output of JVM %d: %s", (int)o->pid, err.buf);
		goto out;
	}
	switch (r->kind) {
	case NMT_NOT_ENABLED:
		error("native memory tracking is not enabled in JVM %d", (int)o->pid);
		hint("NMT is chosen at launch: restart the JVM with -XX:NativeMemoryTracking=%s",
		     !strcmp(what, "detail") || !strcmp(what, "detail.diff") ? "detail" : "summary");
		goto out;
	case NMT_NO_DETAIL:
		error("JVM %d tracks native memory in summary mode only, not in detail", (int)o->pid);
		hint("restart the JVM with -XX:NativeMemoryTracking=detail for call sites");
		goto out;
	case NMT_NO_BASELINE:
		error("JVM %d has no NMT %sbaseline to compare with", (int)o->pid,
		      !strcmp(what, "detail.diff") ? "detail " : "");
		hint("take one with 'offheap nmt %d baseline' (add -o FILE to keep your own copy), or use --since FILE",
		     (int)o->pid);
		goto out;
	default:
		break;
	}
	rc = 0;
out:
	strbuf_release(&line);
	strbuf_release(&err);
	return rc;
}

/* ---- offheap's own baseline file ---- */

static int write_baseline(const struct opts *o, const char *kind, const struct strbuf *text)
{
	struct strbuf head = STRBUF_INIT, err = STRBUF_INIT;
	struct outfile of;
	uint64_t start = 0;
	int rc = EXIT_RUNTIME, ret;

	ret = proc_read_starttime(o->pid, &start);
	if (ret) {
		error("cannot read the start time of process %d: %s", (int)o->pid, strerror(-ret));
		goto out;
	}
	if (outfile_open(&of, o->out_file, o->force, &err)) {
		error("%s", err.buf);
		goto out;
	}
	nmtbase_format_header(&head, o->pid, start, (int64_t)time(NULL), kind, text->len);
	ret = outfile_write(&of, head.buf, head.len);
	if (!ret)
		ret = outfile_write(&of, text->buf, text->len);
	if (ret) {
		error("cannot write '%s': %s", o->out_file, strerror(-ret));
		outfile_abort(&of);
		goto out;
	}
	if (outfile_commit(&of, &err)) {
		error("%s", err.buf);
		goto out;
	}
	rc = 0;
out:
	strbuf_release(&head);
	strbuf_release(&err);
	return rc;
}

/*
 * Loads a baseline saved by 'baseline -o' and checks that it belongs to this
 * very process. Returns 0 with the parsed report in r, or an exit code after
 * saying what is wrong with the file.
 */
static int read_baseline(const struct opts *o, struct nmt_report *r, struct since_info *si)
{
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	struct nmtbase b;
	uint64_t now_start = 0;
	int rc = EXIT_RUNTIME, ret, fd;
	struct stat st;
	char buf[65536];
	ssize_t n;

	fd = cmd_open_infile(o->since, "an NMT baseline file", &st);
	if (fd < 0)
		return EXIT_RUNTIME;
	if (st.st_size > NMT_MAX_TEXT + 4096) {
		error("'%s' is not an offheap NMT baseline (too large)", o->since);
		close(fd);
		return EXIT_RUNTIME;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0 && sb.len <= NMT_MAX_TEXT + 4096)
		strbuf_add(&sb, buf, n);
	close(fd);
	if (n < 0) {
		error("cannot read '%s': %s", o->since, strerror(errno));
		goto out;
	}
	ret = nmtbase_parse(sb.buf, sb.len, &b);
	if (ret == -ENOMSG) {
		error("'%s' is not an offheap NMT baseline", o->since);
		hint("save one with 'offheap nmt %d baseline -o FILE'", (int)o->pid);
		goto out;
	}
	if (ret == -EBADMSG) {
		error("'%s' has a damaged header line", o->since);
		goto out;
	}
	if (ret) {
		error("baseline '%s' is truncated: %zu of %" PRIu64 " bytes of NMT text", o->since,
		      b.have, b.bytes);
		hint("take a new baseline with 'offheap nmt %d baseline -o FILE'", (int)o->pid);
		goto out;
	}
	if ((pid_t)b.pid != o->pid) {
		error("baseline '%s' was taken from process %" PRIu64 ", not %d", o->since, b.pid,
		      (int)o->pid);
		hint("take a baseline of this JVM with 'offheap nmt %d baseline -o FILE'", (int)o->pid);
		goto out;
	}
	ret = proc_read_starttime(o->pid, &now_start);
	if (ret) {
		error("cannot read the start time of process %d: %s", (int)o->pid, strerror(-ret));
		goto out;
	}
	if (now_start != b.start) {
		error("baseline '%s' is from an earlier JVM that had PID %d: process %d was started since",
		      o->since, (int)o->pid, (int)o->pid);
		hint("take a baseline of this JVM with 'offheap nmt %d baseline -o FILE'", (int)o->pid);
		goto out;
	}
	/* from the header's newline on, so the parser's line numbers are the file's */
	ret = nmt_parse(sb.buf + b.text, sb.len - b.text, r, &err);
	if (ret) {
		error("baseline '%s' does not parse: %s", o->since, err.buf);
		goto out;
	}
	if (r->kind != NMT_SUMMARY && r->kind != NMT_DETAIL) {
		error("baseline '%s' holds no NMT summary (%s)", o->since, nmt_kind_name(r->kind));
		goto out;
	}
	si->file = o->since;
	si->time = (int64_t)b.time;
	rc = 0;
out:
	strbuf_release(&sb);
	strbuf_release(&err);
	return rc;
}

/* ---- JSON: the whole model ---- */

static void j_num(struct json *j, const char *key, const struct nmt_num *n, bool diff)
{
	char dkey[64];

	if (!n->set)
		return;
	json_u64(j, key, n->val);
	if (diff) {
		snprintf(dkey, sizeof(dkey), "%s_delta", key);
		json_i64(j, dkey, n->delta);
	}
}

static void j_alloc(struct json *j, const char *key, const struct nmt_alloc *a, bool diff)
{
	if (!a->size.set)
		return;
	json_obj_begin(j, key);
	j_num(j, "size", &a->size, diff);
	j_num(j, "count", &a->count, diff);
	j_num(j, "peak", &a->peak, false);
	j_num(j, "peak_count", &a->peak_count, false);
	if (!diff)
		json_bool(j, "at_peak", a->at_peak);
	json_obj_end(j);
}

static void j_vm(struct json *j, const char *key, const struct nmt_vm *v, bool diff)
{
	if (!v->reserved.set && !v->committed.set)
		return;
	json_obj_begin(j, key);
	j_num(j, "reserved", &v->reserved, diff);
	j_num(j, "committed", &v->committed, diff);
	j_num(j, "peak", &v->peak, false);
	if (!diff)
		json_bool(j, "at_peak", v->at_peak);
	json_obj_end(j);
}

static void j_meta(struct json *j, const char *key, const struct nmt_metaspace *m, bool diff)
{
	if (!m->set)
		return;
	json_obj_begin(j, key);
	j_num(j, "reserved", &m->reserved, diff);
	j_num(j, "committed", &m->committed, diff);
	j_num(j, "used", &m->used, diff);
	j_num(j, "free", &m->free, diff);
	j_num(j, "waste", &m->waste, diff);
	if (m->waste.set)
		json_double(j, "waste_pct", m->waste_pct);
	json_obj_end(j);
}

/*
 * NMT's walk ends at the first frame of Java code, a bare address. A live
 * JVM's own structures name it (src/source/hotspot.c, as trace does): the
 * native method of a wrapper, or a compiled method and those inlined at
 * its call, with their lines. Its code may have been replaced since NMT took
 * the stack: a compiled frame is named only when its call's debug
 * information checks out (a PcDesc at that return address, its scopes
 * ending at the nmethod's own method).
 */
static struct hotspot *java_hs;

/*
 * Calls each(name, arg) for every Java frame at pc, innermost first
 * ("pkg.Class.method(args) (File.java:42)"); how many.
 */
static int java_names(uint64_t pc, void (*each)(const char *name, void *arg), void *arg)
{
	struct hotspot_scope sc[16];
	struct hotspot_name nm;
	char buf[700];
	int n, named = 0;

	if (!java_hs || (n = hotspot_compiled_frames(java_hs, pc, sc, 16)) <= 0 ||
	    (n == 1 && sc[0].bci == HOTSPOT_BCI_COMPILED))
		return 0;
	for (int i = 0; i < n; i++) {
		if (hotspot_method_name(java_hs, sc[i].method, sc[i].bci, &nm))
			continue;
		each(hotspot_name_format(&nm, buf, sizeof(buf)), arg);
		named++;
	}
	return named;
}

/* Whether a site of r has a frame of Java code (worth reading the JVM's structures). */
static bool has_java_code(const struct nmt_report *r)
{
	const struct nmt_stack *st;

	for (size_t i = 0; i < r->nmalloc_sites + r->nmmap_sites; i++) {
		st = i < r->nmalloc_sites ? &r->malloc_sites[i].stack
					  : &r->mmap_sites[i - r->nmalloc_sites].stack;
		for (size_t k = 0; k < st->nframes; k++)
			if (!st->frames[k].sym)
				return true;
	}
	return false;
}

/* java_names' callback for JSON: the "java" array, begun at the first name. */
struct j_java {
	struct json *j;
	int n;
};

static void j_java_name(const char *name, void *arg)
{
	struct j_java *a = arg;

	if (!a->n++)
		json_arr_begin(a->j, "java");
	json_str(a->j, NULL, name);
}

static void j_stack(struct json *j, const struct nmt_stack *s)
{
	char addr[32];

	json_arr_begin(j, "frames");
	for (size_t i = 0; i < s->nframes; i++) {
		const struct nmt_frame *f = &s->frames[i];
		struct j_java names = { j, 0 };

		json_obj_begin(j, NULL);
		snprintf(addr, sizeof(addr), "0x%" PRIx64, f->addr);
		json_str(j, "addr", addr);
		if (f->sym) {
			json_str(j, "symbol", f->sym);
			json_u64(j, "offset", f->off);
			if (f->lib)
				json_str(j, "library", f->lib);
		} else {
			json_bool(j, "jit", true);
			if (hotspot_in_interpreter(java_hs, f->addr))
				json_bool(j, "interpreted", true);
			if (java_names(f->addr, j_java_name, &names))
				json_arr_end(j);
		}
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void j_hex(struct json *j, const char *key, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	json_str(j, key, buf);
}

static void print_json(const struct opts *o, const struct nmt_report *r,
		       const struct since_info *si)
{
	bool diff = r->kind == NMT_SUMMARY_DIFF || r->kind == NMT_DETAIL_DIFF;
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_i64(&j, "pid", o->pid);
	json_str(&j, "kind", nmt_kind_name(r->kind));
	json_str(&j, "unit", "bytes");
	if (si && si->file) {
		json_obj_begin(&j, "baseline");
		json_str(&j, "file", si->file);
		json_i64(&j, "time", si->time);
		json_obj_end(&j);
	} else if (diff) {
		json_obj_begin(&j, "baseline");
		json_str(&j, "file", NULL);
		json_obj_end(&j);
	}
	json_obj_begin(&j, "total");
	j_num(&j, "reserved", &r->total_reserved, diff);
	j_num(&j, "committed", &r->total_committed, diff);
	j_alloc(&j, "malloc", &r->total_malloc, diff);
	j_vm(&j, "mmap", &r->total_mmap, diff);
	json_obj_end(&j);
	json_arr_begin(&j, "categories");
	for (size_t i = 0; i < r->ncats; i++) {
		const struct nmt_category *c = &r->cats[i];

		json_obj_begin(&j, NULL);
		json_str(&j, "name", c->name);
		j_num(&j, "reserved", &c->reserved, diff);
		j_num(&j, "committed", &c->committed, diff);
		j_num(&j, "readonly", &c->readonly, diff);
		j_alloc(&j, "malloc", &c->malloc, diff);
		j_alloc(&j, "arena", &c->arena, diff);
		j_vm(&j, "mmap", &c->mmap, diff);
		j_vm(&j, "stack", &c->stack, diff);
		j_num(&j, "threads", &c->threads, diff);
		j_num(&j, "classes", &c->classes, diff);
		j_num(&j, "instance_classes", &c->instance_classes, diff);
		j_num(&j, "array_classes", &c->array_classes, diff);
		j_num(&j, "tracking_overhead", &c->tracking_overhead, diff);
		j_meta(&j, "metadata", &c->metadata, diff);
		j_meta(&j, "class_space", &c->class_space, diff);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	if (r->kind == NMT_DETAIL || r->kind == NMT_DETAIL_DIFF) {
		json_arr_begin(&j, "regions");
		for (size_t i = 0; i < r->nregions; i++) {
			const struct nmt_region *g = &r->regions[i];

			json_obj_begin(&j, NULL);
			j_hex(&j, "start", g->start);
			j_hex(&j, "end", g->end);
			json_u64(&j, "reserved", g->reserved);
			json_bool(&j, "all_committed", g->all_committed);
			json_str(&j, "category", g->category);
			j_stack(&j, &g->stack);
			json_arr_begin(&j, "committed");
			for (size_t k = 0; k < g->ncommits; k++) {
				json_obj_begin(&j, NULL);
				j_hex(&j, "start", g->commits[k].start);
				j_hex(&j, "end", g->commits[k].end);
				json_u64(&j, "size", g->commits[k].size);
				j_stack(&j, &g->commits[k].stack);
				json_obj_end(&j);
			}
			json_arr_end(&j);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_arr_begin(&j, "malloc_sites");
		for (size_t i = 0; i < r->nmalloc_sites; i++) {
			const struct nmt_malloc_site *m = &r->malloc_sites[i];

			json_obj_begin(&j, NULL);
			json_str(&j, "category", m->category);
			j_num(&j, "size", &m->m.size, diff);
			j_num(&j, "count", &m->m.count, diff);
			j_num(&j, "peak", &m->m.peak, false);
			j_num(&j, "peak_count", &m->m.peak_count, false);
			if (!diff)
				json_bool(&j, "at_peak", m->m.at_peak);
			j_stack(&j, &m->stack);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_arr_begin(&j, "mmap_sites");
		for (size_t i = 0; i < r->nmmap_sites; i++) {
			const struct nmt_mmap_site *m = &r->mmap_sites[i];

			json_obj_begin(&j, NULL);
			json_str(&j, "category", m->category);
			j_num(&j, "reserved", &m->reserved, diff);
			j_num(&j, "committed", &m->committed, diff);
			j_stack(&j, &m->stack);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_u64(&j, "omitted_sites", r->omitted_sites);
	}
	json_obj_end(&j);
	json_finish(&j);
}

/* ---- text ---- */

enum { C_NAME, C_RES, C_DRES, C_COM, C_DCOM, C_MALLOC, C_MMAP, C_NCOLS };

static const struct table_col cols_summary[5] = {
	{ "category", "CATEGORY", TK_STR, true },
	{ "reserved", "RESERVED", TK_KIB, false },
	{ "committed", "COMMITTED", TK_KIB, false },
	{ "malloc", "MALLOC", TK_KIB, false },
	{ "mmap_committed", "MMAP", TK_KIB, false },
};

static const struct table_col cols_diff[5] = {
	{ "category", "CATEGORY", TK_STR, true },
	{ "reserved", "RESERVED", TK_KIB, false },
	{ "reserved_delta", "+RESERVED", TK_DKIB, false },
	{ "committed", "COMMITTED", TK_KIB, false },
	{ "committed_delta", "+COMMITTED", TK_DKIB, false },
};

static const struct nmt_report *sort_report;

/* Diffs: largest committed growth first; summaries: largest committed first. */
static int cmp_cat(const void *a, const void *b)
{
	const struct nmt_category *x = &sort_report->cats[*(const size_t *)a];
	const struct nmt_category *y = &sort_report->cats[*(const size_t *)b];

	if (x->committed.delta != y->committed.delta)
		return x->committed.delta > y->committed.delta ? -1 : 1;
	if (x->committed.val != y->committed.val)
		return x->committed.val > y->committed.val ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void print_categories(const struct nmt_report *r, bool diff, uint64_t unit,
			     const struct table_style *style)
{
	size_t *order = xcalloc(r->ncats ? r->ncats : 1, sizeof(*order)), row;
	struct table t;

	for (size_t i = 0; i < r->ncats; i++)
		order[i] = i;
	sort_report = r;
	qsort(order, r->ncats, sizeof(*order), cmp_cat);
	if (diff)
		table_init(&t, cols_diff, 5);
	else
		table_init(&t, cols_summary, 5);
	t.size_unit = unit;
	t.style = style;
	for (size_t k = 0; k <= r->ncats; k++) {
		const struct nmt_category *c = k < r->ncats ? &r->cats[order[k]] : NULL;

		row = table_add_row(&t);
		table_set_str(&t, row, 0, c ? c->name : "Total");
		table_set_u64(&t, row, 1, c ? c->reserved.val : r->total_reserved.val);
		if (diff) {
			table_set_i64(&t, row, 2, c ? c->reserved.delta : r->total_reserved.delta);
			table_set_u64(&t, row, 3, c ? c->committed.val : r->total_committed.val);
			table_set_i64(&t, row, 4, c ? c->committed.delta : r->total_committed.delta);
			continue;
		}
		table_set_u64(&t, row, 2, c ? c->committed.val : r->total_committed.val);
		if (!c) {
			if (r->total_malloc.size.set)
				table_set_u64(&t, row, 3, r->total_malloc.size.val);
			if (r->total_mmap.committed.set)
				table_set_u64(&t, row, 4, r->total_mmap.committed.val);
			continue;
		}
		if (c->malloc.size.set)
			table_set_u64(&t, row, 3, c->malloc.size.val);
		if (c->mmap.committed.set)
			table_set_u64(&t, row, 4, c->mmap.committed.val);
	}
	table_print(&t, stdout);
	table_release(&t);
	free(order);
}

/* "19 (+2)" for a count that has a delta in a diff. */
static const char *count_str(char *buf, size_t n, const struct nmt_num *v, bool diff)
{
	if (diff && v->delta)
		snprintf(buf, n, "%" PRIu64 " (%+" PRId64 ")", v->val, v->delta);
	else
		snprintf(buf, n, "%" PRIu64, v->val);
	return buf;
}

static void print_facts(const struct nmt_report *r, bool diff)
{
	const struct nmt_category *c;
	char a[64], b[64], s1[32], s2[32];

	c = nmt_category_find(r, "Thread");
	if (c && c->threads.set)
		printf("threads: %s, stacks committed %s\n", count_str(a, sizeof(a), &c->threads, diff),
		       format_size(s1, sizeof(s1), c->stack.committed.val));
	c = nmt_category_find(r, "Class");
	if (c && c->classes.set)
		printf("classes: %s loaded\n", count_str(b, sizeof(b), &c->classes, diff));
	if (c && c->metadata.set)
		printf("metaspace: %s used of %s committed", format_size(s1, sizeof(s1), c->metadata.used.val),
		       format_size(s2, sizeof(s2), c->metadata.committed.val));
	if (c && c->class_space.set)
		printf("; class space: %s used of %s committed",
		       format_size(s1, sizeof(s1), c->class_space.used.val),
		       format_size(s2, sizeof(s2), c->class_space.committed.val));
	if (c && (c->metadata.set || c->class_space.set))
		putchar('\n');
}

static void print_java_name(const char *name, void *arg)
{
	(void)arg;
	printf("        [java] %s\n", name);
}

static void print_stack(const struct nmt_stack *s)
{
	for (size_t i = 0; i < s->nframes; i++) {
		const struct nmt_frame *f = &s->frames[i];

		if (!f->sym && java_names(f->addr, print_java_name, NULL))
			continue;
		if (!f->sym)
			printf("        0x%" PRIx64 " (Java code%s)\n", f->addr,
			       hotspot_in_interpreter(java_hs, f->addr) ? ", interpreted" : "");
		else if (f->lib)
			printf("        %s+0x%" PRIx64 " (%s)\n", f->sym, f->off, f->lib);
		else
			printf("        %s+0x%" PRIx64 "\n", f->sym, f->off);
	}
}

static int cmp_malloc(const void *a, const void *b)
{
	const struct nmt_malloc_site *x = &sort_report->malloc_sites[*(const size_t *)a];
	const struct nmt_malloc_site *y = &sort_report->malloc_sites[*(const size_t *)b];

	if (x->m.size.delta != y->m.size.delta)
		return x->m.size.delta > y->m.size.delta ? -1 : 1;
	if (x->m.size.val != y->m.size.val)
		return x->m.size.val > y->m.size.val ? -1 : 1;
	return 0;
}

static int cmp_mmap(const void *a, const void *b)
{
	const struct nmt_mmap_site *x = &sort_report->mmap_sites[*(const size_t *)a];
	const struct nmt_mmap_site *y = &sort_report->mmap_sites[*(const size_t *)b];

	if (x->committed.delta != y->committed.delta)
		return x->committed.delta > y->committed.delta ? -1 : 1;
	if (x->committed.val != y->committed.val)
		return x->committed.val > y->committed.val ? -1 : 1;
	return 0;
}

static void print_sites(const struct opts *o, const struct nmt_report *r, bool diff)
{
	size_t n = r->nmalloc_sites > r->nmmap_sites ? r->nmalloc_sites : r->nmmap_sites;
	size_t *order = xcalloc(n ? n : 1, sizeof(*order)), k;
	char s1[32], s2[32];

	sort_report = r;
	for (size_t i = 0; i < r->nmalloc_sites; i++)
		order[i] = i;
	qsort(order, r->nmalloc_sites, sizeof(*order), cmp_malloc);
	printf("\nmalloc sites (%zu, %s first):\n", r->nmalloc_sites,
	       diff ? "largest growth" : "largest");
	for (k = 0; k < r->nmalloc_sites && (long)k < o->top; k++) {
		const struct nmt_malloc_site *m = &r->malloc_sites[order[k]];

		printf("  %s", format_size(s1, sizeof(s1), m->m.size.val));
		if (diff)
			printf(" (%s)", format_dsize(s2, sizeof(s2), m->m.size.delta));
		if (m->m.count.set)
			printf(" in %" PRIu64 " blocks", m->m.count.val);
		printf("%s%s\n", m->category ? ", " : "", m->category ? m->category : "");
		print_stack(&m->stack);
	}
	for (size_t i = 0; i < r->nmmap_sites; i++)
		order[i] = i;
	qsort(order, r->nmmap_sites, sizeof(*order), cmp_mmap);
	printf("\nmmap sites (%zu, %s first):\n", r->nmmap_sites,
	       diff ? "largest growth" : "largest committed");
	for (k = 0; k < r->nmmap_sites && (long)k < o->top; k++) {
		const struct nmt_mmap_site *m = &r->mmap_sites[order[k]];

		printf("  %s committed", format_size(s1, sizeof(s1), m->committed.val));
		if (diff)
			printf(" (%s)", format_dsize(s2, sizeof(s2), m->committed.delta));
		printf(" of %s reserved%s%s\n", format_size(s2, sizeof(s2), m->reserved.val),
		       m->category ? ", " : "", m->category ? m->category : "");
		print_stack(&m->stack);
	}
	if (r->kind == NMT_DETAIL)
		printf("\nvirtual memory map: %zu reserved regions (all of them with --json)\n",
		       r->nregions);
	free(order);
}

static void print_text(const struct opts *o, const struct nmt_report *r,
		       const struct since_info *si)
{
	bool diff = r->kind == NMT_SUMMARY_DIFF || r->kind == NMT_DETAIL_DIFF;

	if (diff && si && si->file) {
		char when[64];
		time_t t = (time_t)si->time;
		struct tm tm;

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
		printf("JVM %d: native memory since the baseline in '%s' (%s), %s\n", (int)o->pid,
		       si->file, when, o->unit_name);
	} else if (diff) {
		printf("JVM %d: native memory since the JVM's NMT baseline, %s\n", (int)o->pid,
		       o->unit_name);
	} else {
		printf("JVM %d: native memory tracked by NMT, %s\n", (int)o->pid, o->unit_name);
	}
	print_categories(r, diff, o->unit, &o->style);
	print_facts(r, diff);
	if (r->kind == NMT_DETAIL || r->kind == NMT_DETAIL_DIFF)
		print_sites(o, r, diff);
}

static int finish_output(void)
{
	if (fflush(stdout) || ferror(stdout)) {
		error("cannot write the output: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* ---- modes ---- */

static int do_show(const struct opts *o, const char *what)
{
	struct strbuf text = STRBUF_INIT;
	struct nmt_report r;
	int rc;

	nmt_report_init(&r);
	rc = fetch(o, what, &text, &r);
	if (rc)
		goto out;
	if (has_java_code(&r))
		java_hs = hotspot_open(o->pid); /* NULL: the frames stay addresses */
	if (o->json)
		print_json(o, &r, NULL);
	else
		print_text(o, &r, NULL);
	rc = finish_output();
out:
	hotspot_close(java_hs);
	java_hs = NULL;
	nmt_report_release(&r);
	strbuf_release(&text);
	return rc;
}

static int do_baseline(const struct opts *o)
{
	struct strbuf text = STRBUF_INIT;
	struct nmt_report r;
	const char *kind = o->detail ? "detail" : "summary";
	int rc;

	nmt_report_init(&r);
	rc = fetch(o, "baseline", &text, &r);
	if (rc)
		goto out;
	if (r.kind != NMT_BASELINE_TAKEN) {
		strbuf_rtrim(&text);
		error("JVM %d did not confirm the baseline: '%.200s'", (int)o->pid, text.buf);
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (o->out_file) {
		rc = fetch(o, kind, &text, &r);
		if (rc)
			goto out;
		rc = write_baseline(o, kind, &text);
		if (rc)
			goto out;
	}
	if (o->json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_i64(&j, "pid", o->pid);
		json_bool(&j, "jvm_baseline", true);
		json_str(&j, "file", o->out_file);
		if (o->out_file) {
			json_str(&j, "file_kind", kind);
			json_u64(&j, "reserved", r.total_reserved.val);
			json_u64(&j, "committed", r.total_committed.val);
		}
		json_obj_end(&j);
		json_finish(&j);
	} else {
		printf("JVM %d took its NMT baseline\n", (int)o->pid);
		if (o->out_file)
			printf("saved the %s to '%s' (committed %" PRIu64 " KiB)\n", kind, o->out_file,
			       r.total_committed.val / 1024);
	}
	rc = finish_output();
out:
	nmt_report_release(&r);
	strbuf_release(&text);
	return rc;
}

static int do_diff(const struct opts *o)
{
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	struct nmt_report base, now, d;
	struct since_info si = { NULL, 0 };
	int rc;

	if (!o->since)
		return do_show(o, o->detail ? "detail.diff" : "summary.diff");
	nmt_report_init(&base);
	nmt_report_init(&now);
	nmt_report_init(&d);
	rc = read_baseline(o, &base, &si);
	if (rc)
		goto out;
	rc = fetch(o, "summary", &text, &now);
	if (rc)
		goto out;
	if (nmt_diff(&base, &now, &d, &err)) {
		error("%s", err.buf);
		rc = EXIT_RUNTIME;
		goto out;
	}
	if (o->json)
		print_json(o, &d, &si);
	else
		print_text(o, &d, &si);
	rc = finish_output();
out:
	nmt_report_release(&base);
	nmt_report_release(&now);
	nmt_report_release(&d);
	strbuf_release(&text);
	strbuf_release(&err);
	return rc;
}

int cmd_nmt(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_DETAIL, OPT_SCALE };
	static const struct option options[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "detail", no_argument, NULL, OPT_DETAIL },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "since", required_argument, NULL, 'S' },
		{ "top", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "scale", required_argument, NULL, OPT_SCALE },
		{ "help", no_argument, NULL, 'h' },
		CMD_TABLE_OPTIONS_NO_OUTPUT,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const modes[] = { "summary", "detail", "baseline", "diff" };
	struct opts o = { .timeout_ms = ATTACH_DEFAULT_TIMEOUT_MS, .top = 10, .unit = 0,
			  .unit_name = "in powers of 1024" };
	const char *pos[2] = { NULL, NULL };
	struct stat st;
	int npos = 0, c, top;

	/* options may come before, between or after PID and the mode */
	for (;;) {
		c = getopt_long(argc, argv, "+o:fn:t:h", options, NULL);
		if (c == -1) {
			if (optind >= argc)
				break;
			if (!strncmp(argv[optind], "scale=", 6)) {
				if (parse_scale(argv[optind] + 6, &o))
					usage_die("nmt", "invalid '%s' (scale=KB, MB or GB)", argv[optind]);
				optind++;
				continue;
			}
			if (npos == 2)
				usage_die("nmt", "unexpected argument '%s'", argv[optind]);
			pos[npos++] = argv[optind++];
			continue;
		}
		if (cmd_table_option(c, optarg, &o.style))
			continue;
		switch (c) {
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_DETAIL:
			o.detail = true;
			break;
		case OPT_SCALE:
			if (parse_scale(optarg, &o))
				usage_die("nmt", "invalid --scale '%s' (KB, MB or GB)", optarg);
			break;
		case 'o':
			o.out_file = optarg;
			break;
		case 'f':
			o.force = true;
			break;
		case 'S':
			o.since = optarg;
			break;
		case 'n':
			if (parse_int(optarg, 0, 1000000, &top))
				usage_die("nmt", "invalid --top '%s' (a number of sites)", optarg);
			o.top = top;
			break;
		case 't':
			o.timeout_ms = (int)cmd_opt_duration("nmt", "--timeout", optarg, 1, 3600000);
			break;
		case 'h':
			print_help(stdout);
			return EXIT_OK;
		default:
			usage_die("nmt", "unknown option");
		}
	}
	if (!pos[0])
		usage_die("nmt", "missing PID");
	cmd_table_check("nmt", &o.style, (const struct table_colset[]){ { cols_diff, 5 },
									{ cols_summary, 5 } }, 2);
	if (o.style.bytes)
		o.unit_name = "bytes";
	if (pos[1]) {
		size_t i;

		for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
			if (!strcmp(pos[1], modes[i]))
				break;
		if (i == sizeof(modes) / sizeof(modes[0]))
			usage_die("nmt", "unknown mode '%s' (summary, detail, baseline or diff)", pos[1]);
		o.mode = (enum mode)i;
	}
	if (o.out_file && o.mode != M_BASELINE)
		usage_die("nmt", "-o/--output goes with 'baseline'");
	if (o.force && !o.out_file)
		usage_die("nmt", "--force goes with 'baseline -o FILE'");
	if (o.since && o.mode != M_DIFF)
		usage_die("nmt", "--since goes with 'diff'");
	if (o.since && o.detail)
		usage_die("nmt", "--since compares summaries: it cannot be used with --detail");
	if (o.detail && o.mode != M_DIFF && o.mode != M_BASELINE)
		usage_die("nmt", "--detail goes with 'baseline -o' or 'diff' (for a detail report use the 'detail' mode)");
	if (o.detail && o.mode == M_BASELINE && !o.out_file)
		usage_die("nmt", "--detail with 'baseline' needs -o FILE");
	if (cmd_resolve_pid(pos[0], &o.pid))
		return EXIT_RUNTIME;
	/* before the JVM is told to take its baseline, as snap and record refuse theirs */
	if (o.out_file && !o.force && !lstat(o.out_file, &st) && !S_ISLNK(st.st_mode)) {
		error("'%s' already exists", o.out_file);
		hint("use --force to replace it, or choose another file");
		return EXIT_RUNTIME;
	}
	switch (o.mode) {
	case M_SUMMARY:
		return do_show(&o, "summary");
	case M_DETAIL:
		return do_show(&o, "detail");
	case M_BASELINE:
		return do_baseline(&o);
	case M_DIFF:
		return do_diff(&o);
	}
	return EXIT_RUNTIME;
}
