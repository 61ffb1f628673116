/*
 * record: 'offheap record -- CMD' — runs CMD with liboffheap.so and records its
 * allocation sites by call stack into a SQLite recording; 'offheap record -p
 * PID' loads the tracker into a running process and detaches at the end. The
 * engine (the tracker's file, the exit handshake, intervals, perf maps of
 * JVMs, symbols, the attach) is src/analysis/recorder.c; this file holds the
 * options, the messages and the exit codes.
 */
#include "cmd.h"
#include "allocdb.h"
#include "cmdutil.h"
#include "parse.h"
#include "recorder.h"
#include "selfpath.h"
#include "store.h"
#include "strbuf.h"
#include "usage.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
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
		"                      [--follow-fork [--max-children N]] [--max-memory SIZE]\n"
		"                      [--force] -- COMMAND [ARGS...]\n"
		"       offheap record -p PID [-d DURATION] [-o FILE] [--exact | --sample BYTES]\n"
		"                      [--max-memory SIZE] [--timeout DUR]\n"
		"       offheap record --stop PID\n\n"
		"Run COMMAND with liboffheap.so preloaded: malloc, calloc, realloc, free, the\n"
		"aligned allocators and anonymous mmap/munmap/mremap are charged to their call\n"
		"stacks, and every interval the live bytes of each stack are written into the\n"
		"SQLite recording FILE (tables alloc_*). Read it with 'offheap report FILE'.\n\n"
		"Options:\n"
		"  -p, --pid PID       attach to the running process PID instead of running a\n"
		"                      command, and detach at the end\n"
		"  -d, --duration DUR  with -p: stop after DUR (default: Ctrl-C, --stop or the\n"
		"                      process's exit)\n"
		"      --timeout DUR   with -p: how long loading the tracker may take, in all\n"
		"                      (default 10s)\n"
		"      --stop PID      end the 'record -p PID' running in another shell\n"
		"  -o, --output FILE   the recording (default offheap-record.db)\n"
		"  -f, --force         replace FILE if it exists\n"
		"      --exact         record every allocation\n"
		"      --sample BYTES  sample on average one allocation every BYTES allocated\n"
		"                      (Poisson by bytes; default 512k); a block of 4 times\n"
		"                      BYTES or more is always recorded\n"
		"  -i, --interval DUR  how often the counters are written (default 1s)\n"
		"      --follow-fork   record the processes COMMAND forks or spawns (and theirs)\n"
		"                      too, each image as a run of its own\n"
		"      --max-children N  with --follow-fork, record at most N of them (default\n"
		"                      64); the others are counted and said\n"
		"      --max-memory SIZE  ceiling of the tracker's own memory in COMMAND or PID\n"
		"                      (default 64m, at least 1m); when its tables reach it,\n"
		"                      it samples (coarser and coarser) and says so\n"
		"  -h, --help          this help\n\n"
		"SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to offheap go to COMMAND. A child\n"
		"that COMMAND forks is not recorded unless --follow-fork; a process that execs\n"
		"keeps the tracker, and each image is a run ('offheap report --run ID').\n"
		"A JVM (JDK 17+) is asked for its perf map (Compiler.perfmap) while it runs\n"
		"and before a signal is passed on, so the report names JIT frames.\n\n"
		"With -p the tracker is loaded into PID: a HotSpot JVM loads it as an agent\n"
		"(attach 'load'), any other process by a dlopen injected with ptrace (so\n"
		"not while another tracer holds it). Blocks allocated before the attach are\n"
		"not counted. At the end the tracker is detached: it stays loaded, inert.\n\n"
		"Exit codes: COMMAND's exit code (128+N when killed by signal N), 127 COMMAND not\n"
		"found, 126 not runnable, 1 runtime error (also when COMMAND exited 0 but some\n"
		"intervals could not be written, e.g. the disk is full), 2 usage error.\n"
		"With -p or --stop: 0 recorded (or stopped), 1 runtime error (the process\n"
		"cannot be attached to, the detach failed, intervals lost), 2 usage error.\n\n"
		"Examples:\n"
		"  offheap record -o leak.db -- ./server --port 8080\n"
		"  offheap record --exact -i 200ms -- python3 script.py\n"
		"  offheap record --follow-fork -o make.db -- make -j4\n"
		"  offheap record -p 16473 -d 10m -o live.db\n"
		"  offheap record --stop 16473\n"
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
			warning("the JVM %d disables attach: JIT frames stay addresses",
				(int)no[i].pid);
			break;
		case RECORDER_NO_PERFMAP:
			warning("the JVM %d gives no perf map: JIT frames stay addresses",
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
		case RECORDER_NOSPACE:
			warning("%s", no[i].detail);
			hint("free space there, or set TMPDIR to a directory on a file system with room");
			break;
		case RECORDER_LOST:
			warning("%s", no[i].detail);
			warning("the recording misses intervals until it can be written again");
			break;
		case RECORDER_AGENT_REFUSED:
			warning("%s", no[i].detail);
			warning("loading the tracker into the JVM %d by ptrace instead", (int)no[i].pid);
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

/* The hint for a process record -p cannot attach to. */
static void attach_hint(int ret, pid_t pid)
{
	switch (ret) {
	case -EBUSY:
		hint("a debugger or strace holds it and a process has one tracer: detach it first");
		break;
	case -EPERM:
	case -EACCES:
		cmd_hint_denied("run as the process owner or as root; Yama's kernel.yama.ptrace_scope 1 or more allows only root",
				"offheap runs as root already: is it traced by another (TracerPid in /proc/PID/status)? "
				"else Yama's ptrace_scope 3, a security module or a user namespace refuses ptrace");
		break;
	case -ENOEXEC:
		hint("the tracker can only be loaded into a dynamically linked program; 'offheap trace %d' follows the mmap calls of any program",
		     (int)pid);
		break;
	case -EPROTONOSUPPORT:
		hint("record -p knows HotSpot JVMs only (OpenJDK, Temurin, ...); for another JVM, restart it under 'offheap record -- CMD'");
		break;
	case -EALREADY:
		hint("end the other recording first ('offheap record --stop %d')", (int)pid);
		break;
	case -EDEADLK:
	case -ETIMEDOUT:
		hint("try again; nothing was changed in process %d", (int)pid);
		break;
	case -ENOSPC:
	case -EDQUOT:
		hint("the tracker's file lives in the /tmp of process %d: free space there", (int)pid);
		break;
	default:
		break;
	}
}

/* record --stop PID */
static int record_stop(const char *arg)
{
	struct strbuf err = STRBUF_INIT;
	pid_t pid, rec;
	char *end;
	long n = strtol(arg, &end, 10);
	int ret;

	if (*end || n <= 0 || n > INT_MAX)
		usage_die("record", "--stop wants the PID given to 'record -p', not '%s'", arg);
	pid = (pid_t)n;
	ret = recorder_stop(pid, 60000, &rec, &err);
	if (ret) {
		error("%s", err.buf);
		if (ret == -ENOENT)
			hint("'record --stop' ends a 'record -p %d' started by the same user", (int)pid);
		strbuf_release(&err);
		return EXIT_RUNTIME;
	}
	strbuf_release(&err);
	return EXIT_OK;
}

/* record -p PID: attach, record until the end, detach. r and adb are set up. */
static int record_attached(struct recorder *r, struct allocdb *adb, pid_t pid, const char *out,
			   uint64_t interval_ms, uint64_t duration_ms, bool *unlink_out)
{
	struct strbuf err = STRBUF_INIT;
	struct recorder_result res;
	struct progress pg = {0};
	enum recorder_way way;
	enum recorder_end end;
	int ret, exit_code = EXIT_OK;

	ret = recorder_attach(r, adb, pid, interval_ms, duration_ms, &way, &err);
	show_notices(r);
	if (ret) {
		error("%s", err.buf);
		attach_hint(ret, pid);
		strbuf_release(&err);
		/* nothing was recorded: leave no file to refuse later */
		*unlink_out = true;
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "offheap record: attached to process %d (%s); stop with Ctrl-C or 'offheap record --stop %d'\n",
		(int)pid, way == RECORDER_VIA_AGENT ? "as a JVM agent" : "by ptrace", (int)pid);
	pg.on = isatty(STDERR_FILENO);
	while ((end = recorder_attach_done(r)) == RECORDER_END_NONE) {
		bool polled = recorder_attach_step(r);

		show_notices(r);
		if (polled)
			show_progress(r, &pg);
	}
	if (pg.on && pg.have_first)
		fputc('\n', stderr);
	ret = recorder_attach_end(r, &err);
	show_notices(r);
	if (ret) {
		error("%s", err.buf);
		hint("the tracker turns itself off once this offheap has exited");
		exit_code = EXIT_RUNTIME;
	} else if (end == RECORDER_END_EXIT) {
		fprintf(stderr, "offheap record: process %d exited\n", (int)pid);
	} else {
		fprintf(stderr, "offheap record: detached from process %d; the tracker stays loaded in it, inert%s\n",
			(int)pid, way == RECORDER_VIA_AGENT ? " (a JVM never unloads an agent)" : "");
	}
	recorder_finish(r, &res);
	if (!res.any)
		warning("the tracker in process %d reported nothing", (int)pid);
	if (res.lost || res.names_lost) {
		error("the recording '%s' is incomplete: %s could not be written (%s)", out,
		      res.lost ? "some intervals" : "the function names", res.lost_why);
		hint("free space where the recording is written, or choose another file with -o");
		exit_code = EXIT_RUNTIME;
	}
	strbuf_release(&err);
	return exit_code;
}

/* "cannot run '16473'": a bare number was meant as a process to attach to. */
static void hint_pid(const char *name)
{
	char *end;
	long n = strtol(name, &end, 10);

	if (*name && !*end && n > 0 && n <= INT_MAX)
		hint("to record the running process %ld, use 'offheap record -p %ld'", n, n);
}

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"exact", no_argument, NULL, 'e'},
	    {"sample", required_argument, NULL, 's'},
	    {"interval", required_argument, NULL, 'i'},
	    {"follow-fork", no_argument, NULL, 'F'},
	    {"max-children", required_argument, NULL, 'C'},
	    {"max-memory", required_argument, NULL, 'm'},
	    {"pid", required_argument, NULL, 'p'},
	    {"duration", required_argument, NULL, 'd'},
	    {"stop", required_argument, NULL, 'S'},
	    {"timeout", required_argument, NULL, 'T'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = "offheap-record.db";
	uint64_t sample = 512 * 1024, interval_ms = 1000, duration_ms = 0, max_mem = 0;
	uint64_t timeout_ms = 0;
	const char *pid_arg = NULL, *stop_arg = NULL;
	pid_t pid = 0;
	bool force = false, exact = false, sampled = false, unlink_out = false, follow = false;
	int max_children = -1;
	struct strbuf err = STRBUF_INIT, cmdline = STRBUF_INIT;
	char lib[PATH_MAX];
	struct recorder *r = NULL;
	struct recorder_result res;
	struct progress pg = {0};
	struct allocdb *adb = NULL;
	struct store *st = NULL;
	int c, ret, exit_code = EXIT_RUNTIME;

	while ((c = getopt_long(argc, argv, "+o:fi:p:d:h", longopts, NULL)) != -1) {
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
		case 'F':
			follow = true;
			break;
		case 'C':
			if (parse_int(optarg, 1, 100000, &max_children))
				usage_die("record", "--max-children wants a number from 1 to 100000, not '%s'",
					  optarg);
			break;
		case 'm':
			if (parse_size(optarg, &max_mem) || max_mem < (1 << 20))
				usage_die("record",
					  "--max-memory wants a size of at least 1m, not '%s'",
					  optarg);
			break;
		case 'p':
			pid_arg = optarg;
			break;
		case 'T':
			if (parse_duration_ms(optarg, &timeout_ms) || !timeout_ms ||
			    timeout_ms > 3600000)
				usage_die("record", "--timeout takes a duration from 1ms to 1h, not '%s'",
					  optarg);
			break;
		case 'd':
			if (parse_duration_ms(optarg, &duration_ms) || duration_ms < 100 ||
			    duration_ms > 7 * 24 * 3600000ULL)
				usage_die("record", "-d takes a duration from 100ms to 7d, not '%s'",
					  optarg);
			break;
		case 'S':
			stop_arg = optarg;
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
	if (max_children >= 0 && !follow)
		usage_die("record", "--max-children is for --follow-fork");
	if (follow && pid_arg)
		usage_die("record", "--follow-fork is for a command; -p records the one process");
	if (stop_arg) {
		if (pid_arg || optind < argc)
			usage_die("record", "--stop takes only the PID of a 'record -p'");
		return record_stop(stop_arg);
	}
	if (pid_arg && optind < argc)
		usage_die("record", "-p and a command exclude each other");
	if (duration_ms && !pid_arg)
		usage_die("record", "-d goes with -p (a command is recorded until it exits)");
	if (timeout_ms && !pid_arg)
		usage_die("record", "--timeout goes with -p (loading the tracker into a running process)");
	if (optind >= argc && !pid_arg)
		usage_die("record", "no command to run (offheap record -- COMMAND [ARGS...])");
	if (exact)
		sample = 0;
	if (pid_arg) {
		if (cmd_resolve_pid(pid_arg, &pid))
			return EXIT_RUNTIME;
		strbuf_addf(&cmdline, "pid %d", (int)pid);
	}
	for (int i = optind; i < argc; i++)
		strbuf_addf(&cmdline, "%s%s", i > optind ? " " : "", argv[i]);

	if (selfpath_tracker(lib, sizeof(lib), &err)) {
		error("cannot find the tracker: %s", err.buf);
		hint("build it with 'make', or install offheap with 'make install'");
		goto out;
	}
	if (recorder_new(lib, sample, cmdline.buf, &r, &err) ||
	    (follow && recorder_follow(r, max_children < 0 ? 64 : (unsigned)max_children, &err))) {
		error("%s", err.buf);
		goto out;
	}

	ret = store_create_image(out, STORE_RECORDING, allocdb_template, allocdb_template_size,
				 force, &st, &err);
	if (!ret)
		ret = store_commit(st, &err);
	if (!ret) {
		ret = allocdb_open(store_db(st), true, &adb, &err);
		/* the file is ours, committed without its tables: leave nothing behind */
		unlink_out = ret != 0;
	}
	if (ret) {
		error("%s", err.buf);
		if (ret == -EEXIST)
			hint("use --force to replace it, or choose another file");
		else if (ret == -ENOSPC)
			hint("the disk holding '%s' is full: free some space or choose another file",
			     out);
		goto out;
	}

	if (max_mem)
		recorder_set_max_memory(r, max_mem);
	if (timeout_ms)
		recorder_set_attach_timeout(r, (int)timeout_ms);
	if (pid_arg) {
		exit_code = record_attached(r, adb, pid, out, interval_ms, duration_ms,
					    &unlink_out);
		goto out;
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
		if (res.exec_errno == ENOENT)
			hint_pid(argv[optind]);
		exit_code = res.exec_errno == ENOENT ? 127 : 126;
		/* Nothing ran, so the recording holds nothing: leave no file to refuse later. */
		unlink_out = true;
		goto out;
	}
	if (WIFEXITED(res.status))
		exit_code = WEXITSTATUS(res.status);
	else
		exit_code = 128 + WTERMSIG(res.status);
	if (res.no_space) {
		warning("the tracker could not start: the file system of its file '%s' is full",
			res.tracker_file);
		hint("free space there, or set TMPDIR to a directory on a file system with room");
	} else if (!res.any) {
		explain_nothing(argv[optind]);
	}
	if (res.refused) {
		warning("%" PRIu64 " processes of the command were not recorded: --follow-fork records at most %u",
			res.refused, res.follow_max);
		hint("raise the limit with --max-children N");
	}
	if (res.any && !res.stacks && res.children && !follow) {
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
