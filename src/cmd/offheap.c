/*
 * offheap: where a process's memory goes, what is growing, and which code does it.
 *
 * The dispatcher: global options, then a subcommand from the table below
 * (after git.c). Each subcommand lives in src/cmd/NAME.c.
 */
#include "cmd.h"
#include "complete.h"
#include "procfs.h"
#include "usage.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef OFFHEAP_VERSION
#define OFFHEAP_VERSION "0.1.0"
#endif
const char offheap_version[] = OFFHEAP_VERSION;

/* What the dispatcher sets up or checks before it runs a command (git.c's RUN_SETUP). */
enum command_flags {
	NEED_LIVE = 1 << 0,	/* works on a live process: --proc-root is refused */
};

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	unsigned flags;		/* enum command_flags */
};

static const struct command commands[] = {
	{ "ps", cmd_ps, "processes by RSS, anon and swap; marks JVMs", 0 },
	{ "maps", cmd_maps, "every mapping of a process, classified and sortable", 0 },
	{ "snap", cmd_snap, "save a snapshot of a process's memory to a file", 0 },
	{ "diff", cmd_diff, "what grew between two snapshots, or since one", 0 },
	{ "watch", cmd_watch, "sample a process over time into a recording", 0 },
	{ "jstat", cmd_jstat, "JVM GC counters from hsperfdata (jstat -gc)", 0 },
	{ "jcmd", cmd_jcmd, "run a JVM diagnostic command over the attach socket", NEED_LIVE },
	{ "nmt", cmd_nmt, "JVM Native Memory Tracking: summary, detail, baseline, diff",
	  NEED_LIVE },
	{ "jvm", cmd_jvm, "where a JVM's memory is: heap, NMT, native outside NMT", 0 },
	{ "trace", cmd_trace, "mmap/munmap/brk by thread and call stack", NEED_LIVE },
	{ "dump", cmd_dump, "copy a region's bytes without stopping the process", NEED_LIVE },
	{ "inspect", cmd_inspect, "what a region's bytes are", 0 },
	{ "record", cmd_record, "track allocations by call stack into a recording", NEED_LIVE },
	{ "report", cmd_report, "leak report from a recording", 0 },
	{ "doctor", cmd_doctor, "run the whole procedure and name the culprit", 0 },
	{ "serve", cmd_serve, "export processes' memory to Prometheus (/metrics)", 0 },
};

/* "offheap CMD -h" and "offheap help CMD" print the help whatever the global options. */
static bool asks_help(int argc, char **argv)
{
	return argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"));
}

static void print_help(FILE *out)
{
	fprintf(out, "usage: offheap [--proc-root DIR] COMMAND [ARGS...]\n"
		     "       offheap COMMAND --help\n\n"
		     "Find where a process's memory goes, what is growing, and which code does it.\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nGlobal options:\n"
		     "  --proc-root DIR   read DIR instead of /proc (a recorded tree; /sys and /tmp\n"
		     "                    are taken from DIR/..); refused by the commands that\n"
		     "                    work on a live process:");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].flags & NEED_LIVE)
			fprintf(out, " %s", commands[i].name);
	fprintf(out, "\n"
		     "  -h, --help        this help\n"
		     "  -V, --version     print the version\n"
		     "  --list-commands   the commands, one a line (for shell completions)\n"
		     "  --list-options CMD  CMD's options, one a line: LONG, SHORT and\n"
		     "                    whether it takes an argument (arg/opt), tab-separated\n\n"
		     "PID may be a process ID or a process name that matches one process.\n\n"
		     "Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 a --fail-on threshold\n"
		     "was crossed.\n\n"
		     "Examples:\n"
		     "  offheap ps\n"
		     "  offheap maps 4242 --sort rss --top 20\n"
		     "  offheap snap 4242 -o before.db; sleep 60; offheap diff 4242 --since before.db\n"
		     "\nSee offheap(1) for each command.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "proc-root", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "list-commands", no_argument, NULL, 'C' },
		{ "list-options", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 },
	};
	char *hargv[3] = { NULL, "--help", NULL };
	int c;

	/* A reader that closes its end (| head) must not kill us mid-write. */
	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			procfs_set_root(optarg);
			break;
		case 'h':
			print_help(stdout);
			return EXIT_OK;
		case 'V':
			printf("offheap %s\n", offheap_version);
			return EXIT_OK;
		case 'C':
			for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
				printf("%s\n", commands[i].name);
			return EXIT_OK;
		case 'L':
			for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
				if (!strcmp(optarg, commands[i].name))
					return complete_list_options(commands[i].fn, optarg);
			error("'%s' is not an offheap command", optarg);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "Try 'offheap --help' for more information.\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		print_help(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 < argc) {
			hargv[0] = argv[optind + 1];
			argv = hargv;
			argc = 2;
			optind = 0;
			goto dispatch;
		}
		print_help(stdout);
		return EXIT_OK;
	}
	argc -= optind;
	argv += optind;
dispatch:
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name))
			continue;
		if ((commands[i].flags & NEED_LIVE) && !procfs_is_live() && !asks_help(argc, argv)) {
			error("'%s' works on a live process and cannot read a --proc-root tree",
			      argv[0]);
			hint("run it without --proc-root, on the machine where the process runs");
			return EXIT_RUNTIME;
		}
		optind = 0;	/* a fresh getopt for the subcommand */
		int ret = commands[i].fn(argc, argv);

		/* A full disk must not pass for success; a reader that went away (| head) may. */
		if ((fflush(stdout) || ferror(stdout)) && errno != EPIPE && ret == EXIT_OK) {
			error("cannot write output: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		return ret;
	}
	error("'%s' is not an offheap command", argv[0]);
	fprintf(stderr, "Try 'offheap --help' for more information.\n");
	return EXIT_USAGE;
}
