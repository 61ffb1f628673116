/*
 * offheap jstat: the columns of `jstat -gc`, read from hsperfdata without a JDK.
 *
 * Column widths, header centring and number formats follow jstat's own
 * option table (jdk.jcmd, sun/tools/jstat/resources/jstat_options, "gc"):
 * sizes in KiB as "0.0", times in seconds as "0.000", counts as "0", a
 * counter the collector lacks as "-", columns separated by one space.
 */
#include "cmd.h"
#include "cmdutil.h"
#include "hsperf.h"
#include "json.h"
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum gc_kind {
	GC_KIB,		/* bytes counter shown in KiB */
	GC_COUNT,	/* events */
	GC_TIME,	/* ticks shown in seconds */
	GC_TOTAL,	/* sum of the collectors' ticks in seconds */
};

struct gc_col {
	const char *header;	/* as jstat prints it, also the JSON key */
	int width;		/* jstat's column width */
	enum gc_kind kind;
	const char *counter;	/* hsperfdata name */
};

static const struct gc_col gc_cols[] = {
	{ "S0C", 11, GC_KIB, "sun.gc.generation.0.space.1.capacity" },
	{ "S1C", 11, GC_KIB, "sun.gc.generation.0.space.2.capacity" },
	{ "S0U", 11, GC_KIB, "sun.gc.generation.0.space.1.used" },
	{ "S1U", 11, GC_KIB, "sun.gc.generation.0.space.2.used" },
	{ "EC", 12, GC_KIB, "sun.gc.generation.0.space.0.capacity" },
	{ "EU", 12, GC_KIB, "sun.gc.generation.0.space.0.used" },
	{ "OC", 12, GC_KIB, "sun.gc.generation.1.space.0.capacity" },
	{ "OU", 12, GC_KIB, "sun.gc.generation.1.space.0.used" },
	{ "MC", 10, GC_KIB, "sun.gc.metaspace.capacity" },
	{ "MU", 10, GC_KIB, "sun.gc.metaspace.used" },
	{ "CCSC", 9, GC_KIB, "sun.gc.compressedclassspace.capacity" },
	{ "CCSU", 9, GC_KIB, "sun.gc.compressedclassspace.used" },
	{ "YGC", 6, GC_COUNT, "sun.gc.collector.0.invocations" },
	{ "YGCT", 9, GC_TIME, "sun.gc.collector.0.time" },
	{ "FGC", 5, GC_COUNT, "sun.gc.collector.1.invocations" },
	{ "FGCT", 9, GC_TIME, "sun.gc.collector.1.time" },
	{ "CGC", 5, GC_COUNT, "sun.gc.collector.2.invocations" },
	{ "CGCT", 9, GC_TIME, "sun.gc.collector.2.time" },
	{ "GCT", 9, GC_TOTAL, NULL },
};
#define NCOLS (sizeof(gc_cols) / sizeof(gc_cols[0]))

/* One column's value in a sample; set false prints "-" (null in JSON). */
struct gc_val {
	bool set;
	double d;	/* KiB or seconds */
	int64_t n;	/* counts, and bytes for sizes */
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: offheap jstat [-gc] [-hN] [--json] PID [INTERVAL [COUNT]]\n"
		"       offheap jstat --list [--json]\n\n"
		"Prints the garbage collector counters of a running JVM, the columns of\n"
		"'jstat -gc', read from its hsperfdata file: no JDK, no attach, no signal.\n"
		"Sizes are KiB, times seconds; '-' marks a counter the collector lacks.\n\n"
		"  -gc, --gc          the -gc columns (the default and only set)\n"
		"  -hN, --header N    repeat the header every N samples\n"
		"  -l, --list         list the JVMs that have hsperfdata\n"
		"      --json         one JSON object per sample: the columns (sizes in bytes,\n"
		"                     times in seconds) and more (threads, classes, NMT level,\n"
		"                     VM version, command)\n"
		"  -h, --help         this help\n\n"
		"INTERVAL is milliseconds, or a duration with a unit (500ms, 1s, 2m);\n"
		"COUNT is the number of samples (default: one sample without INTERVAL,\n"
		"until the JVM exits with it).\n\n"
		"Exit status: 0 ok, 1 runtime error (no such process, no hsperfdata),\n"
		"2 usage error.\n\n"
		"EXAMPLES\n"
		"  offheap jstat 4242\n"
		"  offheap jstat -gc 4242 1s 10\n"
		"  offheap jstat --json 4242 | jq .OU\n"
		"  offheap jstat --list\n");
}

static void sample(const struct hsperf *h, struct gc_val *vals)
{
	int64_t freq = 0, v;
	double total = 0;

	if (hsperf_get_long(h, "sun.os.hrt.frequency", &freq) || freq <= 0)
		freq = 0;
	for (size_t i = 0; i < NCOLS; i++) {
		const struct gc_col *c = &gc_cols[i];
		struct gc_val *o = &vals[i];

		memset(o, 0, sizeof(*o));
		switch (c->kind) {
		case GC_KIB:
			if (!hsperf_get_long(h, c->counter, &v)) {
				o->set = true;
				o->d = (double)v / 1024;
				o->n = v;
			}
			break;
		case GC_COUNT:
			if (!hsperf_get_long(h, c->counter, &v)) {
				o->set = true;
				o->n = v;
			}
			break;
		case GC_TIME:
			if (freq && !hsperf_get_long(h, c->counter, &v)) {
				o->set = true;
				o->d = (double)v / (double)freq;
				total += (double)v;
			}
			break;
		case GC_TOTAL:
			/* jstat sums the collectors that exist (ParallelGC has no collector 2). */
			if (freq) {
				o->set = true;
				o->d = total / (double)freq;
			}
			break;
		}
	}
}

static void print_header(void)
{
	for (size_t i = 0; i < NCOLS; i++) {
		int w = gc_cols[i].width, len = (int)strlen(gc_cols[i].header);
		int left = (w - len) / 2;

		/* jstat centres headers, the odd space going to the right. */
		printf("%s%*s%s%*s", i ? " " : "", left, "", gc_cols[i].header, w - len - left, "");
	}
	putchar('\n');
}

static void print_row(const struct gc_val *vals)
{
	for (size_t i = 0; i < NCOLS; i++) {
		const struct gc_col *c = &gc_cols[i];
		const struct gc_val *v = &vals[i];
		char buf[64];

		if (!v->set)
			snprintf(buf, sizeof(buf), "-");
		else if (c->kind == GC_KIB)
			snprintf(buf, sizeof(buf), "%.1f", v->d);
		else if (c->kind == GC_COUNT)
			snprintf(buf, sizeof(buf), "%lld", (long long)v->n);
		else
			snprintf(buf, sizeof(buf), "%.3f", v->d);
		printf("%s%*s", i ? " " : "", c->width, buf);
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

static void print_json(const struct hsperf *h, pid_t pid, const struct gc_val *vals)
{
	struct hsperf_vm vm;
	struct json j;

	hsperf_vm_info(h, &vm);
	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_i64(&j, "pid", pid);
	for (size_t i = 0; i < NCOLS; i++) {
		const struct gc_val *v = &vals[i];

		if (!v->set)
			json_null(&j, gc_cols[i].header);
		else if (gc_cols[i].kind == GC_COUNT || gc_cols[i].kind == GC_KIB)
			json_i64(&j, gc_cols[i].header, v->n);
		else
			json_double(&j, gc_cols[i].header, v->d);
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

static int list_jvms(bool json)
{
	static const struct table_col cols[] = {
		{ "pid", "PID", TK_U64, false },
		{ "nmt", "NMT", TK_STR, false },
		{ "vm_version", "VERSION", TK_STR, false },
		{ "command", "COMMAND", TK_STR, false },
	};
	struct table t;
	pid_t *pids;
	size_t n;
	int ret = procfs_list_pids(&pids, &n);

	if (ret)
		return error("cannot list processes: %s", strerror(-ret)), EXIT_RUNTIME;
	table_init(&t, cols, 4);
	for (size_t i = 0; i < n; i++) {
		struct hsperf h = HSPERF_INIT;
		struct strbuf err = STRBUF_INIT;
		char path[PATH_MAX];

		/* Cheap test first: most processes have no hsperfdata at all. */
		if (!hsperf_find(pids[i], path, sizeof(path), &err) &&
		    !hsperf_open(&h, pids[i], &err)) {
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

/* The other statistics jstat can show; named so the error says what is missing. */
static bool is_jstat_option(const char *s)
{
	static const char *const names[] = {
		"class", "compiler", "gccapacity", "gccause", "gcmetacapacity", "gcnew",
		"gcnewcapacity", "gcold", "gcoldcapacity", "gcutil", "printcompilation",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return true;
	return false;
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

int cmd_jstat(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "gc", no_argument, NULL, 'g' },
		{ "header", required_argument, NULL, 'H' },
		{ "list", no_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct hsperf h = HSPERF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct gc_val vals[NCOLS];
	bool json = false, list = false;
	int header_every = 0, count = 1, c, ret;
	uint64_t interval = 0;
	struct timespec next;
	pid_t pid;

	/* jstat's own spellings, which getopt cannot take: -gc and -h<lines>. */
	for (int i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "-gc")) {
			argv[i] = "--gc";
		} else if (!strncmp(argv[i], "-h", 2) && argv[i][2]) {
			if (parse_int(argv[i] + 2, 1, INT_MAX, &header_every))
				usage_die("jstat", "bad header interval '%s'", argv[i] + 2);
			argv[i] = "--gc";
		} else if (is_jstat_option(argv[i] + 1)) {
			usage_die("jstat", "only -gc is supported, not '%s'", argv[i]);
		}
	}
	while ((c = getopt_long(argc, argv, "+hl", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			break;
		case 'H':
			if (parse_int(optarg, 1, INT_MAX, &header_every))
				usage_die("jstat", "bad header interval '%s'", optarg);
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
		return list_jvms(json);
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
		sample(&h, vals);
		if (json) {
			print_json(&h, pid, vals);
		} else {
			if (i == 0 || (header_every && i % header_every == 0))
				print_header();
			print_row(vals);
		}
		if (fflush(stdout) && errno == EPIPE)
			break;
	}
	ret = EXIT_OK;
out:
	hsperf_release(&h);
	strbuf_release(&err);
	return ret;
}
