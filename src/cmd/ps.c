/*
 * offheap ps: processes by resident memory, with the anonymous/file split and swap, and
 * which of them are JVMs and whether their Native Memory Tracking is on.
 */
#include "cmd.h"
#include "cmdutil.h"
#include "json.h"
#include "parse.h"
#include "pslist.h"
#include "table.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	COL_PID, COL_USER, COL_THR, COL_RSS, COL_ANON, COL_FILE, COL_SWAP, COL_JVM, COL_NMT,
	COL_CMD, NCOL
};

static const struct table_col cols[NCOL] = {
	[COL_PID] = { "pid", "PID", TK_U64, false },
	[COL_USER] = { "user", "USER", TK_STR, false },
	[COL_THR] = { "threads", "THR", TK_U64, false },
	[COL_RSS] = { "rss", "RSS", TK_KIB, false },
	[COL_ANON] = { "anon", "ANON", TK_KIB, false },
	[COL_FILE] = { "file", "FILE", TK_KIB, false },
	[COL_SWAP] = { "swap", "SWAP", TK_KIB, false },
	[COL_JVM] = { "jvm", "JVM", TK_STR, false },
	[COL_NMT] = { "nmt", "NMT", TK_STR, false },
	[COL_CMD] = { "command", "COMMAND", TK_STR, true },
};

/* Text output cuts long command lines (class paths) unless --wide. */
#define CMD_WIDTH 100

static const struct table_colset colsets[] = { { cols, NCOL } };

static void usage(FILE *out)
{
	fprintf(out,
		"usage: offheap ps [--sort rss|anon|swap|pid] [--top N] [--jvm] [--wide] [--json]\n"
		"                  [--output COLS] [--no-headings] [--raw] [--bytes]\n\n"
		"Lists processes by resident memory (RSS) with its anonymous and file-backed\n"
		"parts and swap, from /proc/PID/status. JVMs (libjvm.so mapped) are marked, with\n"
		"their Native Memory Tracking level from hsperfdata: off, summary, detail, or '?'\n"
		"when it cannot be read. Kernel threads are left out. '?' in the JVM column: the\n"
		"process's maps cannot be read (run as root).\n\n"
		"  -s, --sort KEY   rss (default), anon, swap: largest first; pid: ascending\n"
		"  -n, --top N      only the first N processes\n"
		"      --jvm        only JVMs\n"
		"  -w, --wide       do not cut long command lines\n"
		"      --json       the list as JSON (sizes in bytes)\n"
		"  -h, --help       this help\n");
	cmd_table_help(out, false, colsets, 1);
	fprintf(out,
		"\n"
		"Exit status: 0 ok, 1 runtime error, 2 usage error.\n\n"
		"EXAMPLES\n"
		"  offheap ps --top 10\n"
		"  offheap ps --jvm --sort anon\n"
		"  offheap ps --sort swap --json | jq '.processes[0]'\n");
}

/* getpwuid for each distinct uid once. */
struct user_cache {
	uid_t uid;
	char name[33];
};

static const char *user_name(uid_t uid, struct user_cache **cache, size_t *n, size_t *alloc)
{
	struct passwd *pw;

	for (size_t i = 0; i < *n; i++)
		if ((*cache)[i].uid == uid)
			return (*cache)[i].name;
	ALLOC_GROW(*cache, *n + 1, *alloc);
	(*cache)[*n].uid = uid;
	pw = getpwuid(uid);
	if (pw && strlen(pw->pw_name) < sizeof((*cache)[*n].name))
		snprintf((*cache)[*n].name, sizeof((*cache)[*n].name), "%s", pw->pw_name);
	else
		snprintf((*cache)[*n].name, sizeof((*cache)[*n].name), "%lu", (unsigned long)uid);
	return (*cache)[(*n)++].name;
}

static const char *jvm_mark(const struct ps_proc *p)
{
	return p->jvm == PS_YES ? "yes" : p->jvm == PS_UNKNOWN ? "?" : "";
}

static void print_json(const struct ps_proc *v, size_t n, struct user_cache **uc, size_t *nu,
		       size_t *au)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_arr_begin(&j, "processes");
	for (size_t i = 0; i < n; i++) {
		const struct ps_proc *p = &v[i];

		json_obj_begin(&j, NULL);
		json_i64(&j, "pid", p->pid);
		if (p->have_uid) {
			json_u64(&j, "uid", p->uid);
			json_str(&j, "user", user_name(p->uid, uc, nu, au));
		} else {
			json_null(&j, "uid");
			json_null(&j, "user");
		}
		json_str(&j, "name", p->name);
		json_str(&j, "command", p->cmdline);
		if (p->threads >= 0)
			json_i64(&j, "threads", p->threads);
		else
			json_null(&j, "threads");
		if (p->have_mem) {
			json_u64(&j, "rss", p->rss);
			json_u64(&j, "anon", p->anon);
			json_u64(&j, "file", p->file);
			json_u64(&j, "shmem", p->shmem);
			json_u64(&j, "swap", p->swap);
		} else {
			json_null(&j, "rss");
			json_null(&j, "anon");
			json_null(&j, "file");
			json_null(&j, "shmem");
			json_null(&j, "swap");
		}
		if (p->jvm == PS_UNKNOWN)
			json_null(&j, "jvm");
		else
			json_bool(&j, "jvm", p->jvm == PS_YES);
		if (p->jvm == PS_YES)
			json_str(&j, "nmt", hsperf_nmt_name(p->nmt));
		else
			json_null(&j, "nmt");
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
}

static void print_text(const struct ps_proc *v, size_t n, bool wide,
		       const struct table_style *style, struct user_cache **uc, size_t *nu,
		       size_t *au)
{
	struct table t;

	table_init(&t, cols, NCOL);
	t.style = style;
	for (size_t i = 0; i < n; i++) {
		const struct ps_proc *p = &v[i];
		size_t r = table_add_row(&t);
		char buf[CMD_WIDTH + 8];

		table_set_u64(&t, r, COL_PID, (uint64_t)p->pid);
		if (p->have_uid)
			table_set_str(&t, r, COL_USER, user_name(p->uid, uc, nu, au));
		if (p->threads >= 0)
			table_set_u64(&t, r, COL_THR, (uint64_t)p->threads);
		if (p->have_mem) {
			table_set_u64(&t, r, COL_RSS, p->rss);
			table_set_u64(&t, r, COL_ANON, p->anon);
			table_set_u64(&t, r, COL_FILE, p->file);
			table_set_u64(&t, r, COL_SWAP, p->swap);
		}
		table_set_str(&t, r, COL_JVM, jvm_mark(p));
		if (p->jvm == PS_YES)
			table_set_str(&t, r, COL_NMT, hsperf_nmt_name(p->nmt));
		else
			table_set_str(&t, r, COL_NMT, "");
		if (!p->cmdline) {
			snprintf(buf, sizeof(buf), "[%s]", p->name);
			table_set_str(&t, r, COL_CMD, buf);
		} else if (!wide && strlen(p->cmdline) > CMD_WIDTH) {
			snprintf(buf, sizeof(buf), "%.*s...", CMD_WIDTH - 3, p->cmdline);
			table_set_str(&t, r, COL_CMD, buf);
		} else {
			table_set_str(&t, r, COL_CMD, p->cmdline);
		}
	}
	table_print(&t, stdout);
	table_release(&t);
}

int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sort", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 'n' },
		{ "jvm", no_argument, NULL, 'J' },
		{ "wide", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		CMD_TABLE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct table_style style = { 0 };
	struct user_cache *uc = NULL;
	size_t nu = 0, au = 0, n, shown;
	struct ps_proc *v;
	unsigned flags = 0;
	bool json = false, wide = false;
	int c, key = PS_SORT_RSS, top = 0, ret;

	while ((c = getopt_long(argc, argv, "+s:n:wh", opts, NULL)) != -1) {
		if (cmd_table_option(c, optarg, &style))
			continue;
		switch (c) {
		case 's':
			key = pslist_sort_parse(optarg);
			if (key < 0)
				usage_die("ps", "unknown sort key '%s' (rss, anon, swap, pid)", optarg);
			break;
		case 'n':
			if (parse_int(optarg, 1, INT_MAX, &top))
				usage_die("ps", "bad --top '%s'", optarg);
			break;
		case 'J':
			flags |= PSLIST_JVM_ONLY;
			break;
		case 'w':
			wide = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'offheap ps --help' for more information.\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		usage_die("ps", "unexpected argument '%s'", argv[optind]);
	cmd_table_check("ps", &style, colsets, 1);
	ret = pslist_scan(flags, &v, &n);
	if (ret)
		return error("cannot list processes: %s", strerror(-ret)), EXIT_RUNTIME;
	pslist_sort(v, n, (enum ps_sort)key);
	shown = top && (size_t)top < n ? (size_t)top : n;
	if (json)
		print_json(v, shown, &uc, &nu, &au);
	else
		print_text(v, shown, wide, &style, &uc, &nu, &au);
	pslist_free(v, n);
	free(uc);
	return EXIT_OK;
}
