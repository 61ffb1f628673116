/* dump: copy a region of a process's memory to a file without stopping it. */
#include "cmd.h"
#include "cmdutil.h"
#include "dumpcli.h"
#include "json.h"
#include "outfile.h"
#include "parse.h"
#include "snapshot.h"
#include "strbuf.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1u << 20)

static void print_help(void)
{
	printf(
	    "usage: offheap dump PID REGION -o FILE [options]\n\n"
	    "Copies memory of PID to FILE without stopping it (process_vm_readv, else\n"
	    "/proc/PID/mem) and writes FILE.json describing it. Unreadable pages are\n"
	    "zero-filled and listed as holes, so FILE has the layout of gdb's\n"
	    "'dump binary memory FILE START END'.\n\n"
	    "REGION:\n"
	    "  START-END          an address range (hexadecimal)\n"
	    "  START+LEN          LEN bytes from START (hexadecimal 0x…, or a size: 4M)\n"
	    "  --map N            the N-th mapping (0-based) of 'offheap maps --sort addr'\n"
	    "  --class CLASS      every readable mapping of CLASS (heap, arena, anon, stack…)\n\n"
	    "options:\n"
	    "  -o, --output FILE  where to write (required)\n"
	    "  --limit SIZE       refuse more than SIZE (default 1G)\n"
	    "  -f, --force        dump even beyond --limit; replace FILE and FILE.json\n"
	    "  -q, --quiet        no progress bar\n"
	    "  -h, --help         this help\n\n"
	    "exit status: 0 ok, 1 failed or partial (the process exited), 2 usage\n\n"
	    "EXAMPLES\n"
	    "  offheap dump 4242 --class heap -o heap.bin\n"
	    "  offheap dump 4242 7f3a00000000+64M -o arena.bin && offheap inspect arena.bin\n");
}

/* path is there and not a symbolic link */
static bool exists(const char *path, struct stat *sb)
{
	return !lstat(path, sb) && !S_ISLNK(sb->st_mode);
}

static int bar_shown = -1;	/* the percentage drawn last, -1 when none is on screen */

static void progress(uint64_t done, uint64_t total)
{
	int w = 40, k = total ? (int)(done * w / total) : w;
	int pc = total ? (int)(done * 100 / total) : 100;

	if (pc == bar_shown)
		return;
	fprintf(stderr, "\rdump [%.*s%*s] %3d%%", k, "########################################",
		w - k, "", pc);
	bar_shown = pc;
	if (done == total) {
		fputc('\n', stderr);
		bar_shown = -1;
	}
}

/* Ends an unfinished bar's line, so that a message starts on its own. */
static void progress_end(void)
{
	if (bar_shown >= 0)
		fputc('\n', stderr);
	bar_shown = -1;
}

static int write_sidecar(const char *path, bool overwrite, const struct snapshot *s,
			 const struct dump_range *v, size_t nv, const struct dump_reader *rd,
			 uint64_t bytes, bool partial, struct strbuf *err)
{
	struct outfile of;
	FILE *f;
	struct json j;
	uint64_t off = 0;
	int ret;

	ret = outfile_open(&of, path, overwrite, err);
	if (ret)
		return ret;
	f = outfile_stream(&of);
	if (!f) {
		outfile_abort(&of);
		strbuf_addf(err, "cannot write '%s': %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	json_init(&j, f);
	json_obj_begin(&j, NULL);
	json_str(&j, "format", "offheap-dump-1");
	json_i64(&j, "pid", s->pid);
	json_u64(&j, "time_ns", s->time_ns);
	json_str(&j, "cmdline", s->cmdline);
	json_bool(&j, "partial", partial);
	json_u64(&j, "bytes", bytes);
	json_u64(&j, "bytes_read", rd->bytes_read);
	json_arr_begin(&j, "regions");
	for (size_t i = 0; i < nv; i++) {
		json_obj_begin(&j, NULL);
		json_u64(&j, "start", v[i].start);
		json_u64(&j, "end", v[i].end);
		json_u64(&j, "file_offset", off);
		json_u64(&j, "mapping_start", v[i].r->start);
		json_u64(&j, "mapping_end", v[i].r->end);
		json_str(&j, "class", region_class_name(v[i].r->cls));
		json_str(&j, "perms", v[i].r->perms);
		json_str(&j, "path", v[i].r->path);
		json_obj_end(&j);
		off += v[i].end - v[i].start;
	}
	json_arr_end(&j);
	json_arr_begin(&j, "holes");
	for (size_t i = 0; i < rd->nholes; i++) {
		json_obj_begin(&j, NULL);
		json_u64(&j, "start", rd->holes[i].start);
		json_u64(&j, "end", rd->holes[i].end);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
	json_finish(&j);
	return outfile_commit(&of, err);
}

int cmd_dump(int argc, char **argv)
{
	enum { OPT_LIMIT = 256, OPT_MAP, OPT_CLASS };
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"limit", required_argument, NULL, OPT_LIMIT},
	    {"force", no_argument, NULL, 'f'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"map", required_argument, NULL, OPT_MAP},
	    {"class", required_argument, NULL, OPT_CLASS},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *ops[2] = {NULL, NULL}, *out = NULL;
	struct dump_sel sel = {.kind = DUMP_SEL_RANGE, .map = -1, .cls = -1};
	bool have_sel = false, force = false, quiet = false, partial = false;
	uint64_t limit = 1ULL << 30, total = 0, done = 0;
	struct snapshot s;
	struct strbuf err = STRBUF_INIT;
	struct dump_range *v = NULL;
	struct dump_reader rd;
	size_t nv = 0, nops = 0;
	char side[4200];
	struct stat sb;
	struct outfile of;
	unsigned char *buf;
	const char *delay_env = getenv("OFFHEAP_DUMP_TEST_DELAY_MS");
	long delay_ms = delay_env ? atol(delay_env) : 0;
	pid_t pid;
	int c, ret, rc = EXIT_OK;

	optind = 1;
	for (;;) {
		c = getopt_long(argc, argv, "+o:fqh", opts, NULL);
		if (c == -1) {
			if (optind >= argc)
				break;
			if (!strcmp(argv[optind - 1], "--") && optind > 1 && nops == 0) {
				/* fallthrough: operands after -- */
			}
			if (nops >= 2)
				usage_die("dump", "unexpected argument '%s'", argv[optind]);
			ops[nops++] = argv[optind++];
			continue;
		}
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case OPT_LIMIT:
			if (parse_size(optarg, &limit))
				usage_die("dump", "bad --limit '%s'", optarg);
			break;
		case 'f':
			force = true;
			break;
		case 'q':
			quiet = true;
			break;
		case OPT_MAP:
			dumpcli_map("dump", optarg, &sel, &have_sel);
			break;
		case OPT_CLASS:
			dumpcli_class("dump", optarg, &sel, &have_sel);
			break;
		case 'h':
			print_help();
			return EXIT_OK;
		default:
			usage_die("dump", "unknown option");
		}
	}
	if (!ops[0])
		usage_die("dump", "which process? (offheap dump PID REGION -o FILE)");
	if (ops[1])
		dumpcli_range("dump", ops[1], &sel, &have_sel);
	if (!have_sel)
		usage_die("dump", "which region? (START-END, START+LEN, --map N or --class CLASS)");
	if (!out)
		usage_die("dump", "-o FILE is required");
	if (strlen(out) > 4000 || !*out)
		usage_die("dump", "output path too long");
	if (cmd_resolve_pid(ops[0], &pid))
		return EXIT_RUNTIME;

	snapshot_init(&s);
	ret = snapshot_take(pid, SNAP_NO_THREAD_SP, &s, &err);
	if (ret) {
		rc = cmd_report_error(ret, err.buf);
		goto out_snap;
	}
	ret = dump_select(s.regions, s.nregions, s.pid, &sel, &v, &nv, &err);
	if (ret) {
		error("%s", err.buf);
		hint("'offheap maps %d --sort addr' lists the mappings", (int)pid);
		rc = EXIT_RUNTIME;
		goto out_snap;
	}
	for (size_t i = 0; i < nv; i++)
		total += v[i].end - v[i].start;
	if (total > limit && !force) {
		char a[32], b[32];

		error("%s to dump is more than the limit of %s", format_size(a, sizeof(a), total),
		      format_size(b, sizeof(b), limit));
		hint("--limit SIZE raises it, --force ignores it");
		rc = EXIT_RUNTIME;
		goto out_sel;
	}

	/*
	 * Existing files are refused before any memory is read, as snap and record
	 * refuse theirs (a symbolic link is left to outfile, which says so).
	 */
	snprintf(side, sizeof(side), "%s.json", out);
	if (!force && (exists(out, &sb) || exists(side, &sb))) {
		error("'%s' already exists", exists(out, &sb) ? out : side);
		hint("use --force to replace it, or choose another file");
		rc = EXIT_RUNTIME;
		goto out_sel;
	}
	if (outfile_open(&of, out, force, &err)) {
		rc = error("%s", err.buf) ? EXIT_RUNTIME : 0;
		goto out_sel;
	}
	buf = xmalloc(CHUNK);
	dump_reader_init(&rd, pid);
	quiet = quiet || !isatty(2) || total < (64u << 20);
	for (size_t i = 0; i < nv && !partial; i++) {
		for (uint64_t a = v[i].start; a < v[i].end;) {
			size_t len = v[i].end - a < CHUNK ? (size_t)(v[i].end - a) : CHUNK, got = 0;

			strbuf_reset(&err);
			ret = dump_read(&rd, a, buf, len, &got, &err);
			if (ret && ret != -ESRCH) {
				progress_end();
				error("%s", err.buf);
				rc = EXIT_RUNTIME;
				goto fail;
			}
			if (!ret)
				got = len;
			if ((ret = outfile_write(&of, buf, got))) {
				progress_end();
				error("cannot write '%s': %s", out, strerror(-ret));
				rc = EXIT_RUNTIME;
				goto fail;
			}
			done += got;
			if (rd.exited) {
				partial = true;
				break;
			}
			a += len;
			if (!quiet)
				progress(done, total);
			if (delay_ms > 0) {
				struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000};

				nanosleep(&ts, NULL);
			}
		}
	}
	strbuf_reset(&err);
	ret = write_sidecar(side, force, &s, v, nv, &rd, done, partial, &err);
	if (ret) {
		error("%s", err.buf);
		rc = EXIT_RUNTIME;
		goto fail;
	}
	strbuf_reset(&err);
	if (outfile_commit(&of, &err)) {
		error("%s", err.buf);
		unlink(side);
		rc = EXIT_RUNTIME;
		goto fail;
	}
	progress_end();
	if (partial) {
		char a[32], b[32];

		error("process %d exited during the dump: %s of %s kept in '%s', marked partial",
		      (int)pid, format_size(a, sizeof(a), done), format_size(b, sizeof(b), total),
		      out);
		rc = EXIT_RUNTIME;
	} else {
		char a[32];

		fprintf(stderr, "dumped %s from %zu range%s of process %d to %s (%zu hole%s)\n",
			format_size(a, sizeof(a), done), nv, nv == 1 ? "" : "s", (int)pid, out,
			rd.nholes, rd.nholes == 1 ? "" : "s");
	}
	goto out_rd;
fail:
	progress_end();
	outfile_abort(&of);
out_rd:
	dump_reader_release(&rd);
	free(buf);
out_sel:
	free(v);
out_snap:
	snapshot_release(&s);
	strbuf_release(&err);
	return rc;
}
