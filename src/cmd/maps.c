/* maps: every mapping of a process with its memory figures and its class — pmap -x, done right. */
#include "cmd.h"
#include "cmdutil.h"
#include "json.h"
#include "mapgroup.h"
#include "parse.h"
#include "snapshot.h"
#include "strbuf.h"
#include "table.h"
#include "usage.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum col {
	C_ADDR, C_END, C_PERM, C_OFFSET, C_DEV, C_INODE, C_SIZE, C_RSS, C_PSS, C_DIRTY, C_ANON,
	C_SWAP, C_LOCKED, C_THP, C_CLASS, C_TID, C_THREAD, C_MAPPING, C_NR
};

static const struct table_col cols[C_NR] = {
	[C_ADDR] = { "start", "Address", TK_HEX, false },
	[C_END] = { "end", "End", TK_HEX, false },
	[C_PERM] = { "perms", "Perm", TK_STR, false },
	[C_OFFSET] = { "offset", "Offset", TK_HEX, false },
	[C_DEV] = { "dev", "Dev", TK_STR, false },
	[C_INODE] = { "inode", "Inode", TK_U64, false },
	[C_SIZE] = { "size", "Size", TK_KIB, false },
	[C_RSS] = { "rss", "RSS", TK_KIB, false },
	[C_PSS] = { "pss", "PSS", TK_KIB, false },
	[C_DIRTY] = { "dirty", "Dirty", TK_KIB, false },
	[C_ANON] = { "anon", "Anon", TK_KIB, false },
	[C_SWAP] = { "swap", "Swap", TK_KIB, false },
	[C_LOCKED] = { "locked", "Locked", TK_KIB, false },
	[C_THP] = { "thp", "THP", TK_KIB, false },
	[C_CLASS] = { "class", "Class", TK_STR, false },
	[C_TID] = { "tid", "TID", TK_U64, false },
	[C_THREAD] = { "thread", "Thread", TK_STR, false },
	[C_MAPPING] = { "mapping", "Mapping", TK_STR, false },
};

static const enum col default_cols[] = { C_ADDR, C_PERM, C_OFFSET, C_SIZE, C_RSS, C_PSS, C_DIRTY,
					 C_ANON, C_SWAP, C_LOCKED, C_THP, C_CLASS, C_MAPPING };

enum group_col { G_KEY, G_COUNT, G_SIZE, G_RSS, G_PSS, G_ANON, G_SWAP, G_LOCKED, G_NR };

static const struct table_col group_cols[G_NR] = {
	[G_KEY] = { "group", "Group", TK_STR, false },
	[G_COUNT] = { "mappings", "Mappings", TK_U64, false },
	[G_SIZE] = { "size", "Size", TK_KIB, false },
	[G_RSS] = { "rss", "RSS", TK_KIB, false },
	[G_PSS] = { "pss", "PSS", TK_KIB, false },
	[G_ANON] = { "anon", "Anon", TK_KIB, false },
	[G_SWAP] = { "swap", "Swap", TK_KIB, false },
	[G_LOCKED] = { "locked", "Locked", TK_KIB, false },
};

enum sort_key { S_RSS, S_PSS, S_ANON, S_SWAP, S_SIZE, S_LOCKED, S_ADDR };
static const char *const sort_names[] = { "rss", "pss", "anon", "swap", "size", "locked", "addr" };

static enum sort_key sort_by;

static uint64_t sort_value(const struct mem_counts *m)
{
	switch (sort_by) {
	case S_RSS: return m->rss;
	case S_PSS: return m->pss;
	case S_ANON: return m->anon;
	case S_SWAP: return m->swap;
	case S_SIZE: return m->size;
	case S_LOCKED: return m->locked;
	case S_ADDR: return 0;
	}
	return 0;
}

static int cmp_region(const void *a, const void *b)
{
	const struct region *x = *(const struct region *const *)a;
	const struct region *y = *(const struct region *const *)b;
	uint64_t vx = sort_value(&x->m), vy = sort_value(&y->m);

	if (vx != vy)
		return vx < vy ? 1 : -1;
	return (x->start > y->start) - (x->start < y->start);
}

/* Where each column lands in the table being filled, -1 when not shown. */
static int colidx[C_NR];

static void put_u64(struct table *t, size_t row, enum col c, uint64_t v)
{
	if (colidx[c] >= 0)
		table_set_u64(t, row, colidx[c], v);
}

static void put_str(struct table *t, size_t row, enum col c, const char *v)
{
	if (colidx[c] >= 0)
		table_set_str(t, row, colidx[c], v);
}

static void set_region_row(struct table *t, size_t row, const struct snapshot *s,
			   const struct region *r, struct strbuf *tmp)
{
	const struct thread *th = r->tid ? snapshot_thread(s, r->tid) : NULL;
	char dev[32];

	put_u64(t, row, C_ADDR, r->start);
	put_u64(t, row, C_END, r->end);
	put_str(t, row, C_PERM, r->perms);
	put_u64(t, row, C_OFFSET, r->offset);
	snprintf(dev, sizeof(dev), "%02x:%02x", r->dev_major, r->dev_minor);
	put_str(t, row, C_DEV, dev);
	put_u64(t, row, C_INODE, r->inode);
	put_u64(t, row, C_SIZE, r->m.size);
	put_u64(t, row, C_RSS, r->m.rss);
	put_u64(t, row, C_PSS, r->m.pss);
	put_u64(t, row, C_DIRTY, r->m.shared_dirty + r->m.private_dirty);
	put_u64(t, row, C_ANON, r->m.anon);
	put_u64(t, row, C_SWAP, r->m.swap);
	put_u64(t, row, C_LOCKED, r->m.locked);
	put_u64(t, row, C_THP, r->m.thp);
	put_str(t, row, C_CLASS, region_class_name(r->cls));
	if (r->tid) {
		put_u64(t, row, C_TID, (uint64_t)r->tid);
		put_str(t, row, C_THREAD, th ? th->name : "");
	}
	if (colidx[C_MAPPING] >= 0) {
		snapshot_region_label(s, r, tmp);
		put_str(t, row, C_MAPPING, tmp->buf);
	}
}

static void json_totals(struct json *j, const struct snapshot *s)
{
	const struct mem_counts *m = &s->totals;

	json_obj_begin(j, "totals");
	json_u64(j, "size", m->size);
	json_u64(j, "rss", m->rss);
	json_u64(j, "pss", m->pss);
	json_u64(j, "shared_clean", m->shared_clean);
	json_u64(j, "shared_dirty", m->shared_dirty);
	json_u64(j, "private_clean", m->private_clean);
	json_u64(j, "private_dirty", m->private_dirty);
	json_u64(j, "referenced", m->referenced);
	json_u64(j, "anon", m->anon);
	json_u64(j, "swap", m->swap);
	json_u64(j, "swap_pss", m->swap_pss);
	json_u64(j, "locked", m->locked);
	json_u64(j, "thp", m->thp);
	json_obj_end(j);
	json_str(j, "totals_source", s->totals_from_rollup ? "smaps_rollup" : "smaps");
}

/* The mapping columns of an --output list (checked already); names of --by's table skipped. */
static void parse_output(const char *list, enum col *out, int *n)
{
	char *copy = xstrdup(list), *save = NULL;
	int k = 0;

	for (char *tok = strtok_r(copy, ",", &save); tok && k < C_NR;
	     tok = strtok_r(NULL, ",", &save)) {
		for (int c = 0; c < C_NR; c++) {
			if (!strcasecmp(tok, cols[c].name) || !strcasecmp(tok, cols[c].header)) {
				out[k++] = (enum col)c;
				break;
			}
		}
	}
	free(copy);
	if (k)
		*n = k;
}

static const struct table_colset colsets[] = { { cols, C_NR }, { group_cols, G_NR } };

static void print_help(void)
{
	printf("usage: offheap maps PID [--sort KEY] [--top N] [--by class|path] [--json]\n"
	       "                        [--output COLS | --wide] [--no-headings] [--raw] [--bytes]\n\n"
	       "Every mapping of process PID with its size, RSS, PSS, dirty, anonymous, swapped,\n"
	       "locked and huge-page memory, and its class:\n"
	       "  heap        the brk heap ([heap], glibc's main arena)\n"
	       "  stack       a thread's stack or its guard, with the thread's TID and name\n"
	       "  arena       a glibc malloc arena heap (64 MiB-aligned rw + ---p reserve)\n"
	       "  anon        other private anonymous memory\n"
	       "  lib, jar, file   the executable and shared libraries, Java archives, other files\n"
	       "  shm         shared memory (/dev/shm, SysV, memfd, shared anonymous)\n"
	       "  special     [vdso], [vvar], [vsyscall]\n"
	       "Sizes are in powers of 1024 (--bytes: in bytes; --json: bytes). The total line\n"
	       "equals /proc/PID/smaps_rollup.\n\n"
	       "Options:\n"
	       "  -s, --sort KEY     rss (default), pss, anon, swap, size, locked or addr\n"
	       "  -n, --top N        only the first N rows\n"
	       "  -b, --by WHAT      totals grouped by class or by path instead of mappings\n"
	       "  -w, --wide         all columns\n"
	       "      --json         JSON: totals and every mapping with all its fields\n"
	       "  -h, --help         this help\n");
	cmd_table_help(stdout, false, colsets, 2);
	printf("\n"
	       "Exit status: 0 ok, 1 the process could not be read, 2 usage error.\n\n"
	       "EXAMPLES\n"
	       "  offheap maps 4242                    every mapping, largest RSS first\n"
	       "  offheap maps java --by class         where the memory is, by class\n"
	       "  offheap maps 4242 --sort anon --top 10\n"
	       "  offheap maps 4242 --json | jq '.mappings[] | select(.class==\"stack\")'\n");
}

int cmd_maps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sort", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 'n' },
		{ "by", required_argument, NULL, 'b' },
		{ "wide", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		CMD_TABLE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct table_style style = { 0 }, listed;
	enum col shown[C_NR];
	int nshown = 0, top = -1, c, ret = EXIT_OK;
	bool json = false, by_class = false, by_path = false;
	struct snapshot s;
	struct strbuf err = STRBUF_INIT, tmp = STRBUF_INIT;
	pid_t pid;
	int rc;

	sort_by = S_RSS;
	memcpy(shown, default_cols, sizeof(default_cols));
	nshown = sizeof(default_cols) / sizeof(default_cols[0]);
	const char *pid_arg = NULL;

	while ((c = cmd_getopt(argc, argv, "+s:n:b:wh", opts, &pid_arg)) != -1) {
		if (cmd_table_option(c, optarg, &style))
			continue;
		switch (c) {
		case 's': {
			size_t i;

			for (i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++)
				if (!strcmp(optarg, sort_names[i]))
					break;
			if (i == sizeof(sort_names) / sizeof(sort_names[0]))
				usage_die("maps", "unknown sort key '%s'", optarg);
			sort_by = (enum sort_key)i;
			break;
		}
		case 'n':
			if (parse_int(optarg, 0, 1 << 30, &top))
				usage_die("maps", "--top needs a number, not '%s'", optarg);
			break;
		case 'b':
			if (!strcmp(optarg, "class"))
				by_class = true;
			else if (!strcmp(optarg, "path"))
				by_path = true;
			else
				usage_die("maps", "--by takes class or path, not '%s'", optarg);
			break;
		case 'w':
			for (nshown = 0; nshown < C_NR; nshown++)
				shown[nshown] = (enum col)nshown;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			print_help();
			return EXIT_OK;
		case 1:
			usage_die("maps", "one PID only");
		default:
			usage_die("maps", "unknown option");
		}
	}
	if (!pid_arg)
		usage_die("maps", "a PID is needed");
	cmd_table_check("maps", &style, colsets, 2);
	if (style.columns)
		parse_output(style.columns, shown, &nshown);
	listed = style;
	listed.columns = NULL;	/* the mapping table is built with the shown columns only */
	if (cmd_resolve_pid(pid_arg, &pid))
		return EXIT_RUNTIME;
	rc = snapshot_take(pid, 0, &s, &err);
	if (rc) {
		ret = cmd_report_error(rc, err.buf);
		goto out;
	}

	if (by_class || by_path) {
		size_t ng;
		struct map_group *g = mapgroup_build(&s, by_class ? MAPGROUP_CLASS : MAPGROUP_PATH,
						     sort_value, &ng);
		struct table t;

		table_init(&t, group_cols, G_NR);
		t.style = &style;
		for (size_t i = 0; i < ng && (top < 0 || i < (size_t)top); i++) {
			size_t row = table_add_row(&t);

			table_set_str(&t, row, G_KEY, g[i].key);
			table_set_u64(&t, row, G_COUNT, g[i].count);
			table_set_u64(&t, row, G_SIZE, g[i].m.size);
			table_set_u64(&t, row, G_RSS, g[i].m.rss);
			table_set_u64(&t, row, G_PSS, g[i].m.pss);
			table_set_u64(&t, row, G_ANON, g[i].m.anon);
			table_set_u64(&t, row, G_SWAP, g[i].m.swap);
			table_set_u64(&t, row, G_LOCKED, g[i].m.locked);
		}
		if (json) {
			struct json j;

			json_init(&j, stdout);
			json_obj_begin(&j, NULL);
			json_i64(&j, "pid", s.pid);
			json_str(&j, "name", s.status.name);
			json_str(&j, "by", by_class ? "class" : "path");
			json_totals(&j, &s);
			table_json(&t, &j, "groups");
			json_obj_end(&j);
			json_finish(&j);
		} else {
			size_t row = table_add_row(&t);

			table_set_str(&t, row, G_KEY, "total");
			table_set_u64(&t, row, G_COUNT, s.nregions);
			table_set_u64(&t, row, G_SIZE, s.totals.size);
			table_set_u64(&t, row, G_RSS, s.totals.rss);
			table_set_u64(&t, row, G_PSS, s.totals.pss);
			table_set_u64(&t, row, G_ANON, s.totals.anon);
			table_set_u64(&t, row, G_SWAP, s.totals.swap);
			table_set_u64(&t, row, G_LOCKED, s.totals.locked);
			printf("%d: %s\n", (int)s.pid, *s.cmdline ? s.cmdline : s.status.name);
			table_print(&t, stdout);
		}
		table_release(&t);
		mapgroup_free(g, ng);
		goto out;
	}

	{
		const struct region **order = xmalloc(sizeof(*order) * (s.nregions ? s.nregions : 1));
		size_t n = s.nregions;
		struct table full;

		for (size_t i = 0; i < n; i++)
			order[i] = &s.regions[i];
		if (sort_by != S_ADDR)
			qsort(order, n, sizeof(*order), cmp_region);
		if (top >= 0 && (size_t)top < n)
			n = (size_t)top;
		if (json) {
			struct json j;

			for (int k = 0; k < C_NR; k++)
				colidx[k] = k;
			table_init(&full, cols, C_NR);
			for (size_t i = 0; i < n; i++)
				set_region_row(&full, table_add_row(&full), &s, order[i], &tmp);
			json_init(&j, stdout);
			json_obj_begin(&j, NULL);
			json_i64(&j, "pid", s.pid);
			json_str(&j, "name", s.status.name);
			json_str(&j, "cmdline", s.cmdline);
			json_u64(&j, "mapping_count", s.nregions);
			json_totals(&j, &s);
			table_json(&full, &j, "mappings");
			json_obj_end(&j);
			json_finish(&j);
		} else {
			/* Only the shown columns are filled: 10,000 rows stay cheap. */
			struct table_col *pc = xmalloc(sizeof(*pc) * (size_t)nshown);
			size_t row;

			for (int k = 0; k < C_NR; k++)
				colidx[k] = -1;
			for (int k = 0; k < nshown; k++) {
				pc[k] = cols[shown[k]];
				colidx[shown[k]] = k;
			}
			table_init(&full, pc, nshown);
			full.style = &listed;
			for (size_t i = 0; i < n; i++)
				set_region_row(&full, table_add_row(&full), &s, order[i], &tmp);
			row = table_add_row(&full);
			for (int k = 0; k < nshown; k++) {
				const struct mem_counts *m = &s.totals;
				uint64_t v;

				switch (shown[k]) {
				case C_SIZE: v = m->size; break;
				case C_RSS: v = m->rss; break;
				case C_PSS: v = m->pss; break;
				case C_DIRTY: v = m->shared_dirty + m->private_dirty; break;
				case C_ANON: v = m->anon; break;
				case C_SWAP: v = m->swap; break;
				case C_LOCKED: v = m->locked; break;
				case C_THP: v = m->thp; break;
				default:
					table_set_str(&full, row, k, k == 0 ? "total" : "");
					continue;
				}
				table_set_u64(&full, row, k, v);
			}
			printf("%d: %s\n", (int)s.pid, *s.cmdline ? s.cmdline : s.status.name);
			table_print(&full, stdout);
			free(pc);
		}
		table_release(&full);
		free(order);
	}
out:
	snapshot_release(&s);
	strbuf_release(&err);
	strbuf_release(&tmp);
	return ret;
}
