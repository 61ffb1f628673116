/* diff: what grew between two snapshots of a process, or since one — by class, mapping, thread. */
#include "cmd.h"
#include "cmdutil.h"
#include "diff.h"
#include "json.h"
#include "parse.h"
#include "procfs.h"
#include "snapshot.h"
#include "store.h"
#include "strbuf.h"
#include "table.h"
#include "usage.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

enum section {
	SEC_CLASS = 1 << 0,
	SEC_MAPPING = 1 << 1,
	SEC_THREAD = 1 << 2,
	SEC_ALL = 7,
};

enum class_col { K_CLASS, K_MAPS, K_DMAPS, K_RSS_A, K_RSS_B, K_DRSS, K_DANON, K_DSWAP, K_DSIZE,
		 K_NR };

static const struct table_col class_cols[K_NR] = {
	[K_CLASS] = { "class", "Class", TK_STR, false },
	[K_MAPS] = { "mappings", "Mappings", TK_U64, false },
	[K_DMAPS] = { "mappings_delta", "+/-", TK_I64, false },
	[K_RSS_A] = { "rss_before", "RSS before", TK_KIB, false },
	[K_RSS_B] = { "rss_after", "RSS after", TK_KIB, false },
	[K_DRSS] = { "rss_delta", "RSS delta", TK_DKIB, false },
	[K_DANON] = { "anon_delta", "Anon delta", TK_DKIB, false },
	[K_DSWAP] = { "swap_delta", "Swap delta", TK_DKIB, false },
	[K_DSIZE] = { "size_delta", "Size delta", TK_DKIB, false },
};

enum map_col { M_STATE, M_START, M_END, M_PERM, M_CLASS, M_CLASS_A, M_RSS_A, M_RSS_B, M_DRSS,
	       M_DANON,
	       M_DSWAP, M_DSIZE, M_MATCH, M_MAPPING, M_NR };

static const struct table_col map_cols[M_NR] = {
	[M_STATE] = { "state", "State", TK_STR, false },
	[M_START] = { "start", "Address", TK_HEX, false },
	[M_END] = { "end", "End", TK_HEX, false },
	[M_PERM] = { "perms", "Perm", TK_STR, false },
	[M_CLASS] = { "class", "Class", TK_STR, false },
	[M_CLASS_A] = { "class_before", "Class before", TK_STR, false },
	[M_RSS_A] = { "rss_before", "RSS before", TK_KIB, false },
	[M_RSS_B] = { "rss_after", "RSS after", TK_KIB, false },
	[M_DRSS] = { "rss_delta", "RSS delta", TK_DKIB, false },
	[M_DANON] = { "anon_delta", "Anon delta", TK_DKIB, false },
	[M_DSWAP] = { "swap_delta", "Swap delta", TK_DKIB, false },
	[M_DSIZE] = { "size_delta", "Size delta", TK_DKIB, false },
	[M_MATCH] = { "match", "Match", TK_STR, false },
	[M_MAPPING] = { "mapping", "Mapping", TK_STR, false },
};

/* Text shows these; --json has every column. */
static const int map_text_cols[] = { M_STATE, M_START, M_PERM, M_CLASS, M_RSS_A, M_RSS_B, M_DRSS,
				     M_DANON, M_DSWAP, M_DSIZE, M_MAPPING };

enum thread_col { T_STATE, T_TID, T_NAME, T_NR };

static const struct table_col thread_cols[T_NR] = {
	[T_STATE] = { "state", "State", TK_STR, false },
	[T_TID] = { "tid", "TID", TK_U64, false },
	[T_NAME] = { "name", "Name", TK_STR, false },
};

struct opts {
	unsigned sections;
	int top;			/* mappings and threads shown; -1 all */
	enum diff_key key;
	bool json, force;
	bool no_threads;		/* a snapshot was taken with --no-threads */
	bool fail_on_growth;
	uint64_t growth_limit;
	struct table_style style;	/* --output, --no-headings, --raw, --bytes */
};

static const struct table_colset colsets[] = {
	{ class_cols, K_NR }, { map_cols, M_NR }, { thread_cols, T_NR },
};

static void print_help(void)
{
	printf("usage: offheap diff BEFORE.db AFTER.db [options]\n"
	       "       offheap diff PID --since BEFORE.db [options]\n"
	       "       offheap diff RECORDING.db [options]\n\n"
	       "What changed between two snapshots of a process (files written by 'offheap snap'),\n"
	       "or between a snapshot and the live process now: total RSS, anonymous and swapped\n"
	       "memory before -> after; per class of mapping (heap, stack, arena, anon, lib, ...)\n"
	       "the change in mappings, RSS, anon, swap and size; the mappings that changed most,\n"
	       "marked born (new), gone (unmapped), grew, shrank, changed (same range, other\n"
	       "pages resident) or reclassified (e.g. the stack of a thread that ended is now\n"
	       "plain anonymous memory); and the threads born and gone, by TID and name.\n"
	       "Of a file with several samples (a recording) the last is used; given alone, a\n"
	       "recording's first sample is compared with its last that holds the mappings.\n\n"
	       "Mappings are paired by address and path: same start, end and path first; then\n"
	       "same start (grew or shrank at the end); then same end (anonymous memory often\n"
	       "grows downwards, as the kernel merges a new mmap placed below an existing one);\n"
	       "then overlapping with the same path. Sizes are in powers of 1024 (--bytes: in\n"
	       "bytes; --json: bytes).\n\n"
	       "Options:\n"
	       "      --since FILE   compare the live process PID with the snapshot FILE\n"
	       "  -b, --by WHAT      only these sections: class, mapping, thread (repeat or\n"
	       "                     separate with commas; default all three)\n"
	       "  -n, --top N        at most N mappings and N threads of each kind (default 20;\n"
	       "                     0 = all)\n"
	       "  -s, --sort KEY     rank by the change in rss (default), anon, swap or size\n"
	       "      --json         JSON: totals, classes, mappings, threads\n"
	       "      --fail-on-growth SIZE\n"
	       "                     exit 3 when total RSS grew by more than SIZE (512k, 64M, 1g)\n"
	       "  -f, --force        compare even when the snapshots are of different processes\n"
	       "                     (with --since: a PID reused by another process)\n"
	       "  -h, --help         this help\n");
	cmd_table_help(stdout, false, colsets, 3);
	printf("\n"
	       "Exit status: 0 ok, 1 a file or the process could not be read, or the PID\n"
	       "belongs to another process than the snapshot's, 2 usage error, 3 RSS grew by\n"
	       "more than --fail-on-growth.\n\n"
	       "EXAMPLES\n"
	       "  offheap snap 4242 -o before.db; sleep 600; offheap snap 4242 -o after.db\n"
	       "  offheap diff before.db after.db\n"
	       "  offheap diff 4242 --since before.db --by class\n"
	       "  offheap diff before.db after.db --sort anon --top 5\n"
	       "  offheap diff 4242 --since before.db --fail-on-growth 64M   # in CI\n"
	       "  offheap diff before.db after.db --json | jq '.classes[] | {class, rss_delta}'\n");
}

static const char *region_state(const struct diff_region *r)
{
	switch (r->how) {
	case DM_BORN: return "born";
	case DM_GONE: return "gone";
	default: break;
	}
	if (r->d.size > 0)
		return "grew";
	if (r->d.size < 0)
		return "shrank";
	if (r->how == DM_EXACT && !r->d.rss && !r->d.anon && !r->d.swap && r->a->cls != r->b->cls)
		return "reclassified";
	return r->how == DM_EXACT ? "changed" : "moved";
}

static bool region_changed(const struct diff_region *r)
{
	/* PSS moves whenever another process maps the same pages: not a change of this one. */
	return r->how != DM_EXACT || r->d.size || r->d.rss || r->d.anon || r->d.swap ||
	       r->a->cls != r->b->cls;
}

static void fill_classes(const struct diff *d, struct table *t)
{
	for (size_t i = 0; i < d->nclasses; i++) {
		const struct diff_class *c = &d->classes[i];
		size_t row = table_add_row(t);

		table_set_str(t, row, K_CLASS, region_class_name(c->cls));
		table_set_u64(t, row, K_MAPS, c->b.count);
		table_set_i64(t, row, K_DMAPS, c->d.count);
		table_set_u64(t, row, K_RSS_A, c->a.m.rss);
		table_set_u64(t, row, K_RSS_B, c->b.m.rss);
		table_set_i64(t, row, K_DRSS, c->d.rss);
		table_set_i64(t, row, K_DANON, c->d.anon);
		table_set_i64(t, row, K_DSWAP, c->d.swap);
		table_set_i64(t, row, K_DSIZE, c->d.size);
	}
}

/* Fills t (all columns) with at most top changed mappings; returns how many changed. */
static size_t fill_mappings(const struct diff *d, int top, struct table *t)
{
	struct strbuf sb = STRBUF_INIT;
	size_t changed = 0;

	for (size_t i = 0; i < d->nregions; i++) {
		const struct diff_region *r = &d->regions[i];
		const struct region *x = r->b ? r->b : r->a;
		const struct snapshot *s = r->b ? d->b : d->a;
		size_t row;

		if (!region_changed(r))
			continue;
		if (top > 0 && changed >= (size_t)top) {
			changed++;
			continue;
		}
		changed++;
		row = table_add_row(t);
		table_set_str(t, row, M_STATE, region_state(r));
		table_set_u64(t, row, M_START, x->start);
		table_set_u64(t, row, M_END, x->end);
		table_set_str(t, row, M_PERM, x->perms);
		table_set_str(t, row, M_CLASS, region_class_name(x->cls));
		if (r->a)
			table_set_str(t, row, M_CLASS_A, region_class_name(r->a->cls));
		if (r->a)
			table_set_u64(t, row, M_RSS_A, r->a->m.rss);
		if (r->b)
			table_set_u64(t, row, M_RSS_B, r->b->m.rss);
		table_set_i64(t, row, M_DRSS, r->d.rss);
		table_set_i64(t, row, M_DANON, r->d.anon);
		table_set_i64(t, row, M_DSWAP, r->d.swap);
		table_set_i64(t, row, M_DSIZE, r->d.size);
		table_set_str(t, row, M_MATCH, diff_match_name(r->how));
		table_set_str(t, row, M_MAPPING, snapshot_region_label(s, x, &sb));
	}
	strbuf_release(&sb);
	return changed;
}

static void fill_threads(const struct diff *d, bool born, int top, struct table *t)
{
	int n = 0;

	for (size_t i = 0; i < d->nthreads; i++) {
		const struct diff_thread *th = &d->threads[i];
		size_t row;

		if (th->born != born || (top > 0 && n >= top))
			continue;
		n++;
		row = table_add_row(t);
		table_set_str(t, row, T_STATE, born ? "born" : "gone");
		table_set_u64(t, row, T_TID, (uint64_t)th->tid);
		table_set_str(t, row, T_NAME, th->name);
	}
}

static const char *clock_text(char *buf, size_t n, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000ULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static void print_total_line(const char *what, uint64_t a, uint64_t b, bool bytes)
{
	char x[32], y[32], z[32];

	if (bytes) {
		printf("%-5s %10" PRIu64 " -> %-10" PRIu64 " (%+" PRId64 ")\n", what, a, b,
		       (int64_t)(b - a));
		return;
	}
	printf("%-5s %10s -> %-10s (%s)\n", what, format_size(x, sizeof(x), a),
	       format_size(y, sizeof(y), b), format_dsize(z, sizeof(z), (int64_t)(b - a)));
}

static void print_text(const struct diff *d, const struct opts *o)
{
	const struct snapshot *a = d->a, *b = d->b;
	char ta[32], tb[32];
	struct table t;

	printf("pid %d (%s)  %s -> %s  interval %.1f s\n", (int)b->pid, b->status.name,
	       clock_text(ta, sizeof(ta), a->time_ns), clock_text(tb, sizeof(tb), b->time_ns),
	       (double)d->interval_ns / 1e9);
	print_total_line("RSS", a->totals.rss, b->totals.rss, o->style.bytes);
	print_total_line("Anon", a->totals.anon, b->totals.anon, o->style.bytes);
	print_total_line("Swap", a->totals.swap, b->totals.swap, o->style.bytes);

	if (o->sections & SEC_CLASS) {
		printf("\nBy class:\n");
		table_init(&t, class_cols, K_NR);
		t.style = &o->style;
		fill_classes(d, &t);
		table_print(&t, stdout);
		table_release(&t);
	}
	if (o->sections & SEC_MAPPING) {
		struct table full, shown;
		size_t changed;
		int nc = (int)(sizeof(map_text_cols) / sizeof(map_text_cols[0]));
		struct table_col text_cols[M_NR];

		table_init(&full, map_cols, M_NR);
		changed = fill_mappings(d, o->top, &full);
		for (int c = 0; c < nc; c++)
			text_cols[c] = map_cols[map_text_cols[c]];
		table_init(&shown, text_cols, nc);
		shown.style = full.style = &o->style;
		for (size_t r = 0; r < full.nrows; r++) {
			size_t row = table_add_row(&shown);

			for (int c = 0; c < nc; c++) {
				const struct table_cell *cell =
					&full.cells[r * M_NR + map_text_cols[c]];

				const struct table_cell *before = &full.cells[r * M_NR + M_CLASS_A];

				if (!cell->set)
					continue;
				/* A class that changed shows as "stack->anon". */
				if (map_text_cols[c] == M_CLASS && before->set &&
				    strcmp(before->str, cell->str)) {
					struct strbuf sb = STRBUF_INIT;

					strbuf_addf(&sb, "%s->%s", before->str, cell->str);
					table_set_str(&shown, row, c, sb.buf);
					strbuf_release(&sb);
				} else if (text_cols[c].kind == TK_STR)
					table_set_str(&shown, row, c, cell->str);
				else if (text_cols[c].kind == TK_DKIB)
					table_set_i64(&shown, row, c, cell->i);
				else
					table_set_u64(&shown, row, c, cell->u);
			}
		}
		printf("\nMappings changed: %zu", changed);
		if (full.nrows < changed)
			printf(" (the %zu largest by %s delta)", full.nrows,
			       o->key == DK_ANON ? "anon" : o->key == DK_SWAP ? "swap"
							: o->key == DK_SIZE ? "size" : "RSS");
		printf("\n");
		/* An --output list picks from every column, as --json has them. */
		if (full.nrows)
			table_print(o->style.columns ? &full : &shown, stdout);
		table_release(&shown);
		table_release(&full);
	}
	if ((o->sections & SEC_THREAD) && o->no_threads) {
		printf("\nThreads: %d -> %d (the list was not recorded: snap --no-threads)\n",
		       a->status.threads, b->status.threads);
	} else if (o->sections & SEC_THREAD) {
		printf("\nThreads: %zu -> %zu, %zu born, %zu gone\n", a->nthreads, b->nthreads,
		       d->threads_born, d->threads_gone);
		if (d->nthreads) {
			table_init(&t, thread_cols, T_NR);
			t.style = &o->style;
			fill_threads(d, true, o->top, &t);
			fill_threads(d, false, o->top, &t);
			table_print(&t, stdout);
			table_release(&t);
		}
	}
}

static void json_side(struct json *j, const char *key, const struct snapshot *s,
		      const char *file)
{
	json_obj_begin(j, key);
	json_str(j, "file", file);
	json_u64(j, "pid", (uint64_t)s->pid);
	json_u64(j, "start_time", s->start_time);
	json_u64(j, "time_ns", s->time_ns);
	json_u64(j, "rss", s->totals.rss);
	json_u64(j, "pss", s->totals.pss);
	json_u64(j, "anon", s->totals.anon);
	json_u64(j, "swap", s->totals.swap);
	json_u64(j, "size", s->totals.size);
	json_u64(j, "mappings", s->nregions);
	json_u64(j, "threads", s->nthreads);
	json_obj_end(j);
}

static void print_json(const struct diff *d, const struct opts *o, const char *file_a,
		       const char *file_b)
{
	struct json j;
	struct table t;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_u64(&j, "pid", (uint64_t)d->b->pid);
	json_str(&j, "name", d->b->status.name);
	json_i64(&j, "interval_ns", d->interval_ns);
	json_side(&j, "before", d->a, file_a);
	json_side(&j, "after", d->b, file_b);
	json_obj_begin(&j, "delta");
	json_i64(&j, "rss", d->total.rss);
	json_i64(&j, "pss", d->total.pss);
	json_i64(&j, "anon", d->total.anon);
	json_i64(&j, "swap", d->total.swap);
	json_i64(&j, "size", d->total.size);
	json_i64(&j, "mappings", d->total.count);
	json_obj_end(&j);
	if (o->sections & SEC_CLASS) {
		table_init(&t, class_cols, K_NR);
		fill_classes(d, &t);
		table_json(&t, &j, "classes");
		table_release(&t);
	}
	if (o->sections & SEC_MAPPING) {
		size_t changed;

		table_init(&t, map_cols, M_NR);
		changed = fill_mappings(d, o->top, &t);
		json_u64(&j, "mappings_changed", changed);
		table_json(&t, &j, "mappings");
		table_release(&t);
	}
	if ((o->sections & SEC_THREAD) && o->no_threads) {
		json_null(&j, "threads");
	} else if (o->sections & SEC_THREAD) {
		json_obj_begin(&j, "threads");
		json_u64(&j, "before", d->a->nthreads);
		json_u64(&j, "after", d->b->nthreads);
		json_u64(&j, "born_count", d->threads_born);
		json_u64(&j, "gone_count", d->threads_gone);
		table_init(&t, thread_cols, T_NR);
		fill_threads(d, true, o->top, &t);
		table_json(&t, &j, "born");
		table_release(&t);
		table_init(&t, thread_cols, T_NR);
		fill_threads(d, false, o->top, &t);
		table_json(&t, &j, "gone");
		table_release(&t);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	json_finish(&j);
}

/*
 * Reads sample n of file (-1 = the last) into s; prints the error and
 * returns -1 on failure. *nsamples gets the file's sample count when wanted.
 */
static int load(const char *file, int64_t n, struct snapshot *s, uint64_t *nsamples)
{
	struct strbuf err = STRBUF_INIT;
	struct store *st = NULL;
	int ret;

	if (cmd_check_infile(file, "a snapshot file"))
		return -1;
	ret = store_open(file, &st, &err);
	if (!ret && nsamples)
		ret = store_count_samples(st, nsamples, &err);
	if (!ret)
		ret = store_read_snapshot(st, n, s, &err);
	if (ret) {
		error("%s", err.buf);
		if (ret == -ENOTSUP || ret == -EPROTO || ret == -ENODATA)
			hint("give a file written by 'offheap snap'");
		else if (ret == -EBADMSG)
			hint("the file was cut short or damaged; take a new snapshot");
		else if (ret == -ENOENT && !strstr(err.buf, " sample"))
			hint("'offheap diff PID --since FILE' compares a live process with FILE");
	}
	store_close(st);
	strbuf_release(&err);
	return ret ? -1 : 0;
}

static void parse_by(const char *arg, unsigned *sections)
{
	char buf[64];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "class"))
			*sections |= SEC_CLASS;
		else if (!strcmp(tok, "mapping") || !strcmp(tok, "mappings"))
			*sections |= SEC_MAPPING;
		else if (!strcmp(tok, "thread") || !strcmp(tok, "threads"))
			*sections |= SEC_THREAD;
		else
			usage_die("diff", "--by takes class, mapping or thread, not '%s'", tok);
	}
}

int cmd_diff(int argc, char **argv)
{
	enum { OPT_SINCE = 256, OPT_JSON, OPT_FAIL };
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "by", required_argument, NULL, 'b' },
		{ "top", required_argument, NULL, 'n' },
		{ "sort", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "fail-on-growth", required_argument, NULL, OPT_FAIL },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		CMD_TABLE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .sections = 0, .top = 20, .key = DK_RSS };
	const char *operands[2] = { NULL, NULL }, *since = NULL;
	struct snapshot a, b;
	struct strbuf err = STRBUF_INIT;
	int nops = 0, c, k, ret = EXIT_RUNTIME;
	struct diff d;
	struct stat sb;
	pid_t pid;

	snapshot_init(&a);
	snapshot_init(&b);
	/* Options may come before, between or after the operands. */
	for (;;) {
		c = getopt_long(argc, argv, "+b:n:s:fh", longopts, NULL);
		if (c == -1) {
			if (optind >= argc || !strcmp(argv[optind - 1], "--"))
				break;
			if (nops == 2)
				usage_die("diff", "unexpected argument '%s'", argv[optind]);
			operands[nops++] = argv[optind++];
			continue;
		}
		if (cmd_table_option(c, optarg, &o.style))
			continue;
		switch (c) {
		case OPT_SINCE:
			since = optarg;
			break;
		case 'b':
			parse_by(optarg, &o.sections);
			break;
		case 'n':
			if (parse_int(optarg, 0, 1 << 30, &o.top))
				usage_die("diff", "--top needs a number, not '%s'", optarg);
			break;
		case 's':
			k = diff_key_parse(optarg);
			if (k < 0)
				usage_die("diff", "--sort takes rss, anon, swap or size, not '%s'",
					  optarg);
			o.key = (enum diff_key)k;
			break;
		case OPT_JSON:
			o.json = true;
			break;
		case OPT_FAIL:
			if (parse_size(optarg, &o.growth_limit))
				usage_die("diff", "--fail-on-growth needs a size (64M, 512k), not '%s'",
					  optarg);
			o.fail_on_growth = true;
			break;
		case 'f':
			o.force = true;
			break;
		case 'h':
			print_help();
			return EXIT_OK;
		default:
			usage_die("diff", "unknown option");
		}
	}
	while (optind < argc && nops < 2)
		operands[nops++] = argv[optind++];
	if (optind < argc)
		usage_die("diff", "unexpected argument '%s'", argv[optind]);
	if (!o.sections)
		o.sections = SEC_ALL;
	cmd_table_check("diff", &o.style, colsets, 3);
	if (since && nops != 1)
		usage_die("diff", "--since FILE takes one PID (offheap diff PID --since FILE)");
	if (!since && nops == 1 && stat(operands[0], &sb))
		usage_die("diff", "give two snapshot files, a recording, or a PID and --since FILE");
	if (!since && nops == 0)
		usage_die("diff", "give two snapshot files, a recording, or a PID and --since FILE");

	if (since) {
		if (cmd_resolve_pid(operands[0], &pid) || load(since, -1, &a, NULL))
			goto out;
		if (a.pid != pid && !o.force) {
			error("'%s' is a snapshot of process %d (%s), not of %d", since, (int)a.pid,
			      a.status.name, (int)pid);
			hint("use --force to compare anyway");
			goto out;
		}
		/* Stack pointers too: they tell thread stacks from other anonymous memory, as in snap. */
		c = snapshot_take(pid, 0, &b, &err);
		if (c) {
			cmd_report_error(c, err.buf);
			goto out;
		}
		if (a.pid == pid && a.start_time != b.start_time && !o.force) {
			error("process %d is not the process of '%s': it started at another time "
			      "(the PID was reused)", (int)pid, since);
			hint("use --force to compare anyway");
			goto out;
		}
	} else if (nops == 1) {
		uint64_t n = 0;
		int64_t back = -1;

		/*
		 * A recording: its first sample against its last that holds the
		 * mappings. offheap watch stores them only now and then, and a
		 * watch that ended with its process (or was killed) has samples
		 * without them at its end: against those, every mapping is gone.
		 */
		if (load(operands[0], 0, &a, &n) || load(operands[0], back, &b, NULL))
			goto out;
		while (a.nregions && !b.nregions && -back < (int64_t)n - 1) {
			snapshot_release(&b);
			snapshot_init(&b);
			if (load(operands[0], --back, &b, NULL))
				goto out;
		}
		if (a.nregions && !b.nregions) {
			error("no sample of '%s' after the first holds the mappings", operands[0]);
			hint("the watch ended before storing them again: 'offheap doctor %s' reads "
			     "the trends of every sample; 'offheap watch --regions-every' stores "
			     "the mappings more often", operands[0]);
			goto out;
		}
		if (n < 2)
			warning("'%s' holds one sample: nothing to compare it with", operands[0]);
	} else {
		if (load(operands[0], -1, &a, NULL) || load(operands[1], -1, &b, NULL))
			goto out;
		if ((a.pid != b.pid || a.start_time != b.start_time) && !o.force && !o.json)
			warning("the snapshots are of different processes: %d (%s) and %d (%s)",
				(int)a.pid, a.status.name, (int)b.pid, b.status.name);
	}

	/* A live process always has a thread; none stored means snap --no-threads. */
	o.no_threads = (!a.nthreads && a.status.threads > 0) || (!b.nthreads && b.status.threads > 0);
	diff_compute(&a, &b, o.key, &d);
	if (o.json)
		print_json(&d, &o, since ? since : operands[0],
			   since ? NULL : nops == 1 ? operands[0] : operands[1]);
	else
		print_text(&d, &o);
	ret = EXIT_OK;
	if (o.fail_on_growth && d.total.rss > 0 && (uint64_t)d.total.rss > o.growth_limit) {
		char x[32], y[32];

		error("RSS grew by %s, more than --fail-on-growth %s",
		      format_dsize(x, sizeof(x), d.total.rss),
		      format_size(y, sizeof(y), o.growth_limit));
		ret = EXIT_THRESHOLD;
	}
	diff_release(&d);
out:
	snapshot_release(&a);
	snapshot_release(&b);
	strbuf_release(&err);
	return ret;
}
