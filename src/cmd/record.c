/*
 * record: 'offheap record -- CMD' — runs CMD with liboffheap.so and records its
 * allocation sites by call stack into a SQLite recording. The engine (the
 * tracker's file, the exit handshake, intervals, perf maps of JVMs, symbols)
 * is src/analysis/recorder.c; this file holds the options, the messages and
 * the exit codes.
 */
#include "cmd.h"
#include "allocdb.h"
#include "parse.h"
#include "recorder.h"
#include "store.h"
#include "strbuf.h"
#include "usage.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void print_help(FILE *out)
{
	fprintf(out,
		"usage: offheap record [-o FILE] [--exact | --sample BYTES] [--interval DUR]\n"
		"                      [--max-memory SIZE] [--force] -- COMMAND [ARGS...]\n\n"
		"Run COMMAND with liboffheap.so preloaded: malloc, calloc, realloc, free, the\n"
		"aligned allocators and anonymous mmap/munmap/mremap are charged to their call\n"
		"stacks, and every interval the live bytes of each stack are written into the\n"
		"SQLite recording FILE (tables alloc_*). Read it with 'offheap report FILE'.\n\n"
		"Options:\n"
		"  -o, --output FILE   the recording (default offheap-record.db)\n"
		"  -f, --force         replace FILE if it exists\n"
		"      --exact         record every allocation\n"
		"      --sample BYTES  sample on average one allocation every BYTES allocated\n"
		"                      (Poisson by bytes; default 512k); a block of 4 times\n"
		"                      BYTES or more is always recorded\n"
		"  -i, --interval DUR  how often the counters are written (default 1s)\n"
		"      --max-memory SIZE  ceiling of the tracker's own memory in COMMAND\n"
		"                      (default 64m, at least 1m); when its tables reach it,\n"
		"                      it samples (coarser and coarser) and says so\n"
		"  -h, --help          this help\n\n"
		"SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to offheap go to COMMAND. A child\n"
		"that COMMAND forks is not recorded; a process that execs keeps the tracker.\n"
		"A JVM (JDK 17+) is asked for its perf map (Compiler.perfmap) while it runs\n"
		"and before a signal is passed on, so the report names JIT frames.\n\n"
		"Exit codes: COMMAND's exit code (128+N when killed by signal N), 127 COMMAND not\n"
		"found, 126 not runnable, 1 runtime error (also when COMMAND exited 0 but some\n"
		"intervals could not be written, e.g. the disk is full), 2 usage error.\n\n"
		"Examples:\n"
		"  offheap record -o leak.db -- ./server --port 8080\n"
		"  offheap record --exact -i 200ms -- python3 script.py\n"
		"  offheap report leak.db\n");
}

/* The progress line, on a terminal. */
struct progress {
	bool on;
	bool have_first;
	int64_t first_live;	/* live bytes at the first progress line */
};

static void show_progress(struct recorder *r, struct progress *pg)
{
	char live[32], growth[32];
	struct recorder_progress p;

	recorder_progress(r, &p);
	if (!pg->on || !p.any)
		return;
	if (!pg->have_first) {
		pg->first_live = p.live_bytes;
		pg->have_first = true;
	}
	fprintf(stderr, "\roffheap record: %" PRId64 "s, live %s (%s since start), %zu sites\033[K",
		p.elapsed_ms / 1000,
		format_size(live, sizeof(live), p.live_bytes > 0 ? (uint64_t)p.live_bytes : 0),
		format_dsize(growth, sizeof(growth), p.live_bytes - pg->first_live), p.sites);
	fflush(stderr);
}

/* Says what the recorder noticed since the last call. */
static void show_notices(struct recorder *r)
{
	size_t n;
	const struct recorder_notice *no = recorder_notices(r, &n);

	for (size_t i = 0; i < n; i++) {
		switch (no[i].kind) {
		case RECORDER_NO_ATTACH:
			warning("the JVM %d disables attach: Java frames stay addresses",
				(int)no[i].pid);
			break;
		case RECORDER_NO_PERFMAP:
			warning("the JVM %d gives no perf map: Java frames stay addresses",
				(int)no[i].pid);
			hint("Compiler.perfmap needs JDK 17 or newer");
			break;
		case RECORDER_MAP_FAILED:
			warning("cannot ask the JVM %d for its perf map: %s", (int)no[i].pid,
				no[i].detail);
			break;
		case RECORDER_MAP_UNSTORED:
			warning("%s", no[i].detail);
			break;
		case RECORDER_DEGRADED:
			warning("%s", no[i].detail);
			hint("a larger --max-memory keeps it exact for longer");
			break;
		case RECORDER_LOST:
			warning("%s", no[i].detail);
			warning("the recording misses intervals until it can be written again");
			break;
		}
	}
	recorder_clear_notices(r);
}

/* The tracker never started in the command: say why. */
static void explain_nothing(const char *name)
{
	struct recorder_nothing why;

	recorder_explain_nothing(name, &why);
	switch (why.why) {
	case RECORDER_WHY_SETUID:
		warning("the tracker reported nothing: '%s' is set-user-ID (to uid %u), and the loader ignores LD_PRELOAD for such a program", why.prog, why.id);
		hint("record it as the user it runs as (here uid %u), or record a copy without the set-user-ID bit", why.id);
		return;
	case RECORDER_WHY_SETGID:
		warning("the tracker reported nothing: '%s' is set-group-ID (to gid %u), and the loader ignores LD_PRELOAD for such a program", why.prog, why.id);
		hint("record it with gid %u, or record a copy without the set-group-ID bit", why.id);
		return;
	case RECORDER_WHY_CAPS:
		warning("the tracker reported nothing: '%s' has file capabilities, and the loader ignores LD_PRELOAD for such a program", why.prog);
		hint("record it as root, or record a copy without the capabilities (setcap -r)");
		return;
	case RECORDER_WHY_STATIC:
		break;
	}
	warning("the tracker reported nothing (is '%s' statically linked?)", name);
}

/* liboffheap.so next to our own binary. */
static int find_library(char *buf, size_t n)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (len < 0)
		return -errno;
	self[len] = '\0';
	if (snprintf(buf, n, "%s/liboffheap.so", dirname(self)) >= (int)n)
		return -ENAMETOOLONG;
	return access(buf, R_OK) ? -errno : 0;
}

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"exact", no_argument, NULL, 'e'},
	    {"sample", required_argument, NULL, 's'},
	    {"interval", required_argument, NULL, 'i'},
	    {"max-memory", required_argument, NULL, 'M'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = "offheap-record.db";
	uint64_t sample = 512 * 1024, interval_ms = 1000, max_mem = 64 << 20;
	char max_mem_buf[32];
	bool max_mem_set = false;
	bool force = false, exact = false, sampled = false, unlink_out = false;
	struct strbuf err = STRBUF_INIT, cmdline = STRBUF_INIT;
	char lib[PATH_MAX];
	struct recorder *r = NULL;
	struct recorder_result res;
	struct progress pg = {0};
	struct allocdb *adb = NULL;
	struct store *st = NULL;
	int c, ret, exit_code = EXIT_RUNTIME;

	while ((c = getopt_long(argc, argv, "+o:fi:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'e':
			exact = true;
			break;
		case 's':
			if (parse_size(optarg, &sample) || !sample)
				usage_die("record",
					  "--sample wants a size above 0 (e.g. 512k), not '%s'",
					  optarg);
			sampled = true;
			break;
		case 'i':
			if (parse_duration_ms(optarg, &interval_ms) || interval_ms < 10 ||
			    interval_ms > 3600 * 1000)
				usage_die("record",
					  "--interval wants a duration from 10ms to 1h, not '%s'",
					  optarg);
			break;
		case 'M':
			if (parse_size(optarg, &max_mem) || max_mem < (1 << 20))
				usage_die("record",
					  "--max-memory wants a size of at least 1m, not '%s'",
					  optarg);
			max_mem_set = true;
			break;
		case 'h':
			print_help(stdout);
			return EXIT_OK;
		default:
			usage_die("record", "see 'offheap record --help'");
		}
	}
	if (exact && sampled)
		usage_die("record", "--exact and --sample exclude each other");
	if (optind >= argc)
		usage_die("record", "no command to run (offheap record -- COMMAND [ARGS...])");
	if (exact)
		sample = 0;
	for (int i = optind; i < argc; i++)
		strbuf_addf(&cmdline, "%s%s", i > optind ? " " : "", argv[i]);

	if (find_library(lib, sizeof(lib))) {
		error("cannot find liboffheap.so next to the offheap binary");
		hint("build it with 'make' or install it next to offheap");
		goto out;
	}
	if (recorder_new(lib, sample, cmdline.buf, &r, &err)) {
		error("%s", err.buf);
		goto out;
	}

	ret = store_create(out, STORE_RECORDING, force, &st, &err);
	if (!ret)
		ret = store_commit(st, &err);
	if (!ret)
		ret = allocdb_open(store_db(st), true, &adb, &err);
	if (ret) {
		error("%s", err.buf);
		if (ret == -EEXIST)
			hint("use --force to replace it, or choose another file");
		goto out;
	}

	/* the tracker reads its ceiling from its environment (preload/hooks.c) */
	if (max_mem_set) {
		snprintf(max_mem_buf, sizeof(max_mem_buf), "%" PRIu64, max_mem);
		setenv("OFFHEAP_MAX_MEM", max_mem_buf, 1);
	}
	pg.on = isatty(STDERR_FILENO);
	if (recorder_start(r, adb, argv + optind, interval_ms, &err)) {
		error("%s", err.buf);
		goto out;
	}
	while (!recorder_exited(r)) {
		bool polled = recorder_step(r);

		show_notices(r);
		if (polled)
			show_progress(r, &pg);
	}
	if (pg.on && pg.have_first)
		fputc('\n', stderr);
	recorder_finish(r, &res);
	if (res.exec_errno) {
		error("cannot run '%s': %s", argv[optind], strerror(res.exec_errno));
		exit_code = res.exec_errno == ENOENT ? 127 : 126;
		/* Nothing ran, so the recording holds nothing: leave no file to refuse later. */
		unlink_out = true;
		goto out;
	}
	if (WIFEXITED(res.status))
		exit_code = WEXITSTATUS(res.status);
	else
		exit_code = 128 + WTERMSIG(res.status);
	if (!res.any)
		explain_nothing(argv[optind]);
	else if (!res.stacks && res.children) {
		warning("'%s' recorded no allocation and started other processes, which are not recorded",
			argv[optind]);
		hint("the tracker follows exec, not fork: record the program that does the work ('offheap record -- PROG ARGS'), or have the command exec it ('sh -c \"exec PROG ARGS\"')");
	}
	if (res.lost || res.names_lost) {
		struct strbuf what = STRBUF_INIT;

		/* The file holds every interval committed before: readable, never half-written. */
		if (res.lost)
			strbuf_addf(&what, "%u intervals", res.lost);
		if (res.names_lost)
			strbuf_addf(&what, "%sthe function names", res.lost ? " and " : "");
		error("the recording '%s' is incomplete: %s could not be written (%s)", out, what.buf,
		      res.lost_why);
		strbuf_release(&what);
		hint("free space where the recording is written, or choose another file with -o");
		if (exit_code == 0)
			exit_code = EXIT_RUNTIME;
	}
out:
	recorder_free(r);
	allocdb_free(adb);
	store_close(st);
	if (unlink_out)
		unlink(out);
	strbuf_release(&err);
	strbuf_release(&cmdline);
	return exit_code;
}
