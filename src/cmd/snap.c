/* snap: save one snapshot of a process's memory to a file, the baseline for 'offheap diff'. */
#include "cmd.h"
#include "cmdutil.h"
#include "json.h"
#include "parse.h"
#include "snapshot.h"
#include "store.h"
#include "strbuf.h"
#include "usage.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void print_help(void)
{
	printf("usage: offheap snap PID -o FILE [--force] [--no-threads] [--json]\n\n"
	       "Saves a snapshot of process PID to FILE: every mapping with its RSS, PSS,\n"
	       "anonymous, swapped and locked memory and its class, the totals, the threads\n"
	       "(TID and name), the memory cgroup and the process's identity (start time,\n"
	       "command line). FILE is an SQLite database (see offheap-snap(1) for its tables);\n"
	       "it is written to a temporary file beside FILE and renamed into place when\n"
	       "complete, so FILE is never left half-written. Compare it later with\n"
	       "'offheap diff PID --since FILE' or 'offheap diff FILE1 FILE2'.\n\n"
	       "Options:\n"
	       "  -o, --output FILE  where to write the snapshot (required)\n"
	       "  -f, --force        replace FILE if it exists\n"
	       "      --no-threads   do not store the thread list (diff then shows no threads)\n"
	       "      --json         also print the summary as JSON on stdout\n"
	       "  -h, --help         this help\n\n"
	       "A one-line summary goes to stderr.\n\n"
	       "Exit status: 0 saved, 1 the process could not be read or FILE not written\n"
	       "(FILE exists and no --force, the directory is missing...), 2 usage error.\n\n"
	       "EXAMPLES\n"
	       "  offheap snap 4242 -o before.db\n"
	       "  offheap snap java -o /var/tmp/app-$(date +%%s).db\n"
	       "  offheap snap 4242 -o before.db; sleep 600; offheap diff 4242 --since before.db\n"
	       "  sqlite3 before.db 'SELECT class, rss FROM class_total'\n");
}

int cmd_snap(int argc, char **argv)
{
	enum { OPT_NO_THREADS = 256, OPT_JSON };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "no-threads", no_argument, NULL, OPT_NO_THREADS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pid_arg = NULL, *out = NULL;
	bool force = false, no_threads = false, json = false;
	struct strbuf err = STRBUF_INIT;
	struct store *st = NULL;
	struct snapshot s;
	char rss[32], anon[32], swap[32];
	pid_t pid;
	int c, rc, ret = EXIT_RUNTIME;

	snapshot_init(&s);
	while ((c = cmd_getopt(argc, argv, "+o:fh", opts, &pid_arg)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'f':
			force = true;
			break;
		case OPT_NO_THREADS:
			no_threads = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			print_help();
			return EXIT_OK;
		case 1:
			usage_die("snap", "one PID only, not '%s'", argv[optind - 1]);
		default:
			usage_die("snap", "unknown option");
		}
	}
	if (optind < argc)
		usage_die("snap", "unexpected argument '%s'", argv[optind]);
	if (!pid_arg)
		usage_die("snap", "which process? (offheap snap PID -o FILE)");
	if (!out || !*out)
		usage_die("snap", "-o FILE is required");

	if (cmd_resolve_pid(pid_arg, &pid))
		return EXIT_RUNTIME;
	/* The file first: a bad -o fails before the process is read. */
	if (cmd_store_create(out, STORE_SNAPSHOT, force, true, &st))
		goto out;
	/* Stack pointers even with --no-threads: they tell thread stacks from anon memory. */
	rc = snapshot_take(pid, 0, &s, &err);
	if (rc) {
		cmd_report_error(rc, err.buf);
		goto out;
	}
	rc = store_append_snapshot(st, &s, no_threads ? STORE_NO_THREADS : 0, &err);
	if (!rc)
		rc = cmd_store_commit(st, &err);
	if (rc) {
		error("%s", err.buf);
		if (rc == -EEXIST)
			hint("use --force to replace it, or choose another file");
		goto out;
	}
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "file", out);
		json_u64(&j, "pid", (uint64_t)s.pid);
		json_str(&j, "name", s.status.name);
		json_u64(&j, "start_time", s.start_time);
		json_u64(&j, "time_ns", s.time_ns);
		json_u64(&j, "rss", s.totals.rss);
		json_u64(&j, "pss", s.totals.pss);
		json_u64(&j, "anon", s.totals.anon);
		json_u64(&j, "swap", s.totals.swap);
		json_u64(&j, "size", s.totals.size);
		json_u64(&j, "mappings", s.nregions);
		json_u64(&j, "reconciled", s.reconciled);
		json_u64(&j, "threads", (uint64_t)s.status.threads);
		json_bool(&j, "is_jvm", s.is_jvm);
		json_obj_end(&j);
		json_finish(&j);
	}
	fprintf(stderr, "offheap: saved %d (%s) to '%s': RSS %s, anon %s, swap %s, %zu mappings, %d threads\n",
		(int)s.pid, s.status.name, out, format_size(rss, sizeof(rss), s.totals.rss),
		format_size(anon, sizeof(anon), s.totals.anon),
		format_size(swap, sizeof(swap), s.totals.swap), s.nregions, s.status.threads);
	if (s.reconciled)
		fprintf(stderr, "offheap: the map changed while it was read: %zu %s reconciled\n",
			s.reconciled, s.reconciled == 1 ? "entry" : "entries");
	ret = EXIT_OK;
out:
	store_close(st);
	snapshot_release(&s);
	strbuf_release(&err);
	return ret;
}
