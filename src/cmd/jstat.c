/*
 * offheap jstat: the statistics of the JDK's `jstat -OPTION`, read from
 * hsperfdata without a JDK. The columns are src/model/jstatcols's; this
 * file lays them out as jstat does (header centred or left, values right or
 * left, one space between columns) or as JSON.
 */
#include "cmd.h"
#include "cmdutil.h"
#include "hsperf.h"
#include "json.h"
#include "jstatcols.h"
#include "parse.h"
#include "procfs.h"
#include "pslist.h"
#include "strbuf.h"
#include "table.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct table_col list_cols[] = {
	{ "pid", "PID", TK_U64, false },
	{ "nmt", "NMT", TK_STR, false },
	{ "vm_version", "VERSION", TK_STR, false },
	{ "command", "COMMAND", TK_STR, false },
};

static const struct table_colset list_colsets[] = { { list_cols, 4 } };

static void usage(FILE *out)
{
	fprintf(out,
		"usage: offheap jstat [-OPTION] [-t] [-hN] [--json] PID [INTERVAL [COUNT]]\n"
		"       offheap jstat --list [--json] [--output COLS] [--no-headings] [--raw]\n\n"
		"Prints the statistics of a running JVM that the JDK's jstat prints, with\n"
		"its columns, read from the JVM's hsperfdata file: no JDK, no attach, no\n"
		"signal. Sizes are KiB, times seconds, percentages of capacity; '-' marks a\n"
		"counter the collector lacks.\n\n"
		"  -OPTION            the statistics, jstat's options, with one dash or two:\n"
		"                     --gc (the default), --gcutil, --gccause, --gccapacity,\n"
		"                     --gcnew, --gcnewcapacity, --gcold, --gcoldcapacity,\n"
		"                     --gcmetacapacity, --class, --compiler,\n"
		"                     --printcompilation\n"
		"  -t, --timestamp    a first column: seconds since the JVM started\n"
		"  -hN, --header N    repeat the header every N samples\n"
		"  -l, --list         list the JVMs that have hsperfdata\n"
		"      --json         one JSON object per sample: the columns (sizes in bytes,\n"
		"                     times in seconds) and more (threads, classes, NMT level,\n"
		"                     VM version, command)\n"
		"  -h, --help         this help\n"
		"The table of --list takes the output options of every table command:\n");
	cmd_table_help(out, false, list_colsets, 1);
	fprintf(out,
		"\n"
		"INTERVAL is milliseconds, or a duration with a unit (500ms, 1s, 2m);\n"
		"COUNT is the number of samples (default: one sample without INTERVAL,\n"
		"until the JVM exits with it).\n\n"
		"Exit status: 0 ok, 1 runtime error (no such process, no hsperfdata),\n"
		"2 usage error.\n\n"
		"EXAMPLES\n"
		"  offheap jstat 4242\n"
		"  offheap jstat -gcutil -t 4242 1s 10\n"
		"  offheap jstat --json 4242 | jq .OU\n"
		"  offheap jstat --list\n");
}

/* jstat's Timestamp column (-t): the JVM's uptime in seconds. */
static const struct jstat_col timestamp_col = {
	"Timestamp", JA_LEFT, JA_RIGHT, 15, 1, false, false, NULL, "",
};

struct view {
	const struct jstat_option *opt;
	bool timestamp;
};

/* The values of one sample: the timestamp (when asked) first, then opt's columns. */
static void sample(const struct hsperf *h, const struct view *v, struct jstat_val *vals)
{
	size_t k = 0;

	if (v->timestamp) {
		int64_t now_ms = -1, up;
		struct timespec ts;

		if (!clock_gettime(CLOCK_REALTIME, &ts))
			now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		up = hsperf_uptime_ms(h, now_ms);
		memset(&vals[k], 0, sizeof(vals[k]));
		vals[k].kind = up < 0 ? JV_NONE : JV_NUM;
		vals[k++].d = (double)up / 1000;
	}
	for (size_t i = 0; i < v->opt->ncols; i++)
		/* The tables are fixed and checked by test-jstatcols: no parse error here. */
		(void)jstat_eval(h, &v->opt->cols[i], &vals[k++]);
}

static const struct jstat_col *col_at(const struct view *v, size_t i)
{
	if (v->timestamp)
		return i ? &v->opt->cols[i - 1] : &timestamp_col;
	return &v->opt->cols[i];
}

static size_t ncols(const struct view *v)
{
	return v->opt->ncols + (v->timestamp ? 1 : 0);
}

static void print_header(const struct view *v)
{
	for (size_t i = 0; i < ncols(v); i++) {
		const struct jstat_col *c = col_at(v, i);
		int w = jstat_col_width(c), len = (int)strlen(c->header), left;

		/* jstat centres headers, the odd space going to the right. */
		left = c->halign == JA_CENTER ? (w - len) / 2 : c->halign == JA_LEFT ? 0 : w - len;
		printf("%s%*s%s%*s", i ? " " : "", left, "", c->header, w - len - left, "");
	}
	putchar('\n');
}

static void print_row(const struct view *v, const struct jstat_val *vals)
{
	for (size_t i = 0; i < ncols(v); i++) {
		const struct jstat_col *c = col_at(v, i);
		char buf[256];

		jstat_format(c, &vals[i], buf, sizeof(buf));
		if (c->align == JA_LEFT)
			printf("%s%-*s", i ? " " : "", jstat_col_width(c), buf);
		else
			printf("%s%*s", i ? " " : "", jstat_col_width(c), buf);
	}
	putchar('\n');
}

static void json_count(struct json *j, const char *key, int64_t v)
{
	if (v < 0)
		json_null(j, key);
	else
		json_i64(j, key, v);
}

static void print_json(const struct hsperf *h, pid_t pid, const struct view *v,
		       const struct jstat_val *vals)
{
	struct hsperf_vm vm;
	struct json j;

	hsperf_vm_info(h, &vm);
	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_i64(&j, "pid", pid);
	json_str(&j, "option", v->opt->name);
	for (size_t i = 0; i < ncols(v); i++) {
		const struct jstat_col *c = col_at(v, i);
		const struct jstat_val *x = &vals[i];
		const char *key = c->json ? c->json : c->header;

		if (x->kind == JV_NONE)
			json_null(&j, key);
		else if (x->kind == JV_STR)
			json_str(&j, key, x->s);
		else if (!isfinite(x->d))
			json_null(&j, key);
		/* Sizes in bytes and counts as integers; times and percentages as numbers. */
		else if (c->kib || c->decimals <= 0)
			json_i64(&j, key, (int64_t)x->d);
		else
			json_double(&j, key, x->d);
	}
	json_obj_begin(&j, "threads");
	json_count(&j, "live", vm.threads_live);
	json_count(&j, "daemon", vm.threads_daemon);
	json_count(&j, "peak", vm.threads_peak);
	json_count(&j, "started", vm.threads_started);
	json_obj_end(&j);
	json_obj_begin(&j, "classes");
	json_count(&j, "loaded", vm.classes_loaded);
	json_count(&j, "unloaded", vm.classes_unloaded);
	json_obj_end(&j);
	json_count(&j, "nmethod_code_bytes", vm.nmethod_code_size);
	json_str(&j, "nmt", vm.nmt == HSPERF_NMT_UNKNOWN ? NULL : hsperf_nmt_name(vm.nmt));
	json_count(&j, "start_time_ms", vm.start_time_ms);
	json_count(&j, "uptime_ms", vm.uptime_ms);
	json_str(&j, "vm_name", vm.vm_name);
	json_str(&j, "vm_version", vm.vm_version);
	json_str(&j, "command", vm.command);
	json_obj_end(&j);
	json_finish(&j);
	hsperf_vm_release(&vm);
}

/* Says why the hsperfdata of pid cannot be read, with what to do. */
static int open_failed(pid_t pid, int ret, const struct strbuf *err)
{
	error("%s", err->buf);
	switch (ret) {
	case -ENOENT:
		if (pslist_is_jvm(pid) == PS_YES)
			hint("process %d is a JVM without hsperfdata: it runs with -XX:-UsePerfData "
			     "or -XX:+PerfDisableSharedMem; 'offheap jcmd %d GC.heap_info' still "
			     "works", (int)pid, (int)pid);
		else
			hint("'offheap jstat --list' shows the JVMs that can be read");
		break;
	case -EACCES:
		cmd_hint_denied("run as the JVM's user or as root",
				"offheap runs as root already: a security module (SELinux, "
				"AppArmor) refuses it");
		break;
	case -ELOOP:
	case -EPERM:
		hint("the file was not written by the JVM; remove it, and check who can write "
		     "to that directory");
		break;
	case -EAGAIN:
		hint("the JVM is still starting; try again in a moment");
		break;
	case -ESTALE:
		hint("the JVM that wrote it is gone and pid %d now belongs to another process; "
		     "the file can be removed", (int)pid);
		break;
	}
	return EXIT_RUNTIME;
}

static int list_jvms(bool json, const struct table_style *style)
{
	struct table t;
	pid_t *pids;
	size_t n;
	int ret = procfs_list_pids(&pids, &n);

	if (ret)
		return error("cannot list processes: %s", strerror(-ret)), EXIT_RUNTIME;
	table_init(&t, list_cols, 4);
	t.style = style;
	for (size_t i = 0; i < n; i++) {
		struct hsperf h = HSPERF_INIT;
		struct strbuf err = STRBUF_INIT;
		char path[PATH_MAX];

		/* Cheap test first: most processes have no hsperfdata at all. */
		ret = hsperf_find(pids[i], path, sizeof(path), &err);
		if (!ret)
			ret = hsperf_open(&h, pids[i], &err);
		/*
		 * A file refused (a link, a stranger's, not hsperfdata) is said, not
		 * skipped in silence; none, a dead JVM's left over or a JVM still
		 * starting is no JVM to list.
		 */
		if (ret && ret != -ESRCH && ret != -ENOENT && ret != -ESTALE && ret != -EAGAIN)
			warning("process %d not listed: %s", (int)pids[i], err.buf);
		if (!ret) {
			struct hsperf_vm vm;
			size_t r = table_add_row(&t);

			hsperf_vm_info(&h, &vm);
			table_set_u64(&t, r, 0, (uint64_t)pids[i]);
			table_set_str(&t, r, 1, hsperf_nmt_name(vm.nmt));
			if (vm.vm_version)
				table_set_str(&t, r, 2, vm.vm_version);
			if (vm.command)
				table_set_str(&t, r, 3, vm.command);
			hsperf_vm_release(&vm);
		}
		hsperf_release(&h);
		strbuf_release(&err);
	}
	free(pids);
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		table_json(&t, &j, "jvms");
		json_obj_end(&j);
		json_finish(&j);
	} else {
		table_print(&t, stdout);
	}
	table_release(&t);
	return EXIT_OK;
}

/* jstat's INTERVAL: a bare number is milliseconds, else a duration with a unit. */
static int parse_interval(const char *s, uint64_t *ms)
{
	uint64_t v;

	if (!parse_u64(s, &v))
		*ms = v;
	else if (parse_duration_ms(s, ms))
		return -EINVAL;
	return *ms >= 1 && *ms <= 24ull * 3600 * 1000 ? 0 : -EINVAL;
}

static void sleep_until(struct timespec *next, uint64_t ms)
{
	next->tv_sec += (time_t)(ms / 1000);
	next->tv_nsec += (long)(ms % 1000) * 1000000;
	if (next->tv_nsec >= 1000000000) {
		next->tv_sec++;
		next->tv_nsec -= 1000000000;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR)
		;
}

/*
 * jstat's own spellings, which getopt cannot take: -OPTION (one dash, a long
 * name) and -h<lines>, anywhere on the line (options may follow the PID).
 * Rewritten in place to a long option getopt ignores.
 */
static void jstat_spellings(int argc, char **argv, struct view *v, int *header_every)
{
	for (int i = 1; i < argc; i++) {
		const char *name = argv[i] + 1 + (argv[i][1] == '-');
		const struct jstat_option *o;

		if (!strcmp(argv[i], "--"))
			break;
		if (argv[i][0] != '-')
			continue;
		if ((o = jstat_option_find(name))) {
			if (v->opt && v->opt != o)
				usage_die("jstat", "one statistics option at a time, not -%s and -%s",
					  v->opt->name, o->name);
			v->opt = o;
			argv[i] = "--gc"; /* a no-op for getopt: the option is taken */
		} else if (!strncmp(argv[i], "-h", 2) && argv[i][2] && argv[i][1] != '-') {
			if (parse_int(argv[i] + 2, 1, INT_MAX, header_every))
				usage_die("jstat", "bad header interval '%s'", argv[i] + 2);
			argv[i] = "--gc";
		} else if (argv[i][1] != '-' && argv[i][1] && argv[i][2]) {
			usage_die("jstat", "unknown statistics option '%s' (-gc, -gcutil, -gccause, "
					   "-gccapacity, -gcnew, -gcnewcapacity, -gcold, -gcoldcapacity, "
					   "-gcmetacapacity, -class, -compiler, -printcompilation)",
				  argv[i]);
		}
	}
}

int cmd_jstat(int argc, char **argv)
{
	/* The statistics are taken by jstat_spellings; listed here for the completions. */
	static const struct option opts[] = {
		{ "gc", no_argument, NULL, 'g' },
		{ "gcutil", no_argument, NULL, 'g' },
		{ "gccause", no_argument, NULL, 'g' },
		{ "gccapacity", no_argument, NULL, 'g' },
		{ "gcnew", no_argument, NULL, 'g' },
		{ "gcnewcapacity", no_argument, NULL, 'g' },
		{ "gcold", no_argument, NULL, 'g' },
		{ "gcoldcapacity", no_argument, NULL, 'g' },
		{ "gcmetacapacity", no_argument, NULL, 'g' },
		{ "class", no_argument, NULL, 'g' },
		{ "compiler", no_argument, NULL, 'g' },
		{ "printcompilation", no_argument, NULL, 'g' },
		{ "header", required_argument, NULL, 'H' },
		{ "timestamp", no_argument, NULL, 't' },
		{ "list", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		CMD_TABLE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct table_style style = { 0 };
	struct hsperf h = HSPERF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct jstat_val *vals = NULL;
	struct view v = { 0 };
	bool json = false, list = false;
	int header_every = 0, count = 1, c, ret;
	uint64_t interval = 0;
	struct timespec next;
	pid_t pid;

	jstat_spellings(argc, argv, &v, &header_every);
	if (!v.opt)
		v.opt = jstat_option_find("gc");
	while ((c = getopt_long(argc, argv, "hlt", opts, NULL)) != -1) {
		if (cmd_table_option(c, optarg, &style))
			continue;
		switch (c) {
		case 'g':
			break;
		case 'H':
			if (parse_int(optarg, 1, INT_MAX, &header_every))
				usage_die("jstat", "bad header interval '%s'", optarg);
			break;
		case 't':
			v.timestamp = true;
			break;
		case 'l':
			list = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'offheap jstat --help' for more information.\n");
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (list) {
		if (argc)
			usage_die("jstat", "--list takes no PID");
		cmd_table_check("jstat", &style, list_colsets, 1);
		return list_jvms(json, &style);
	}
	if (argc < 1)
		usage_die("jstat", "no PID given");
	if (argc > 3)
		usage_die("jstat", "too many arguments");
	if (argc >= 2 && parse_interval(argv[1], &interval))
		usage_die("jstat", "bad interval '%s' (milliseconds, or e.g. 1s)", argv[1]);
	if (argc >= 2)
		count = 0;	/* like jstat: until the JVM exits */
	if (argc == 3 && parse_int(argv[2], 1, INT_MAX, &count))
		usage_die("jstat", "bad count '%s'", argv[2]);

	if (cmd_resolve_pid(argv[0], &pid))
		return EXIT_RUNTIME;
	ret = hsperf_open(&h, pid, &err);
	if (ret) {
		ret = open_failed(pid, ret, &err);
		goto out;
	}
	vals = xcalloc(ncols(&v), sizeof(*vals));
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (int i = 0; !count || i < count; i++) {
		if (i) {
			sleep_until(&next, interval);
			/* The file outlives the JVM while we hold it open. */
			if (!procfs_pid_alive(pid))
				break;
			strbuf_reset(&err);
			if (hsperf_refresh(&h, &err)) {
				error("%s", err.buf);
				ret = EXIT_RUNTIME;
				goto out;
			}
		}
		sample(&h, &v, vals);
		if (json) {
			print_json(&h, pid, &v, vals);
		} else {
			if (i == 0 || (header_every && i % header_every == 0))
				print_header(&v);
			print_row(&v, vals);
		}
		for (size_t k = 0; k < ncols(&v); k++)
			jstat_val_release(&vals[k]);
		if (fflush(stdout) && errno == EPIPE)
			break;
	}
	ret = EXIT_OK;
out:
	free(vals);
	hsperf_release(&h);
	strbuf_release(&err);
	return ret;
}
