/*
 * record: 'offheap record -- CMD' — runs CMD with liboffheap.so and records its
 * allocation sites by call stack into a SQLite recording.
 *
 * The tracker in the target keeps per-stack counters in a shared file
 * (preload/trackshm.h); every interval this command copies the stacks whose
 * counters changed into the alloc_* tables (src/store/allocdb.c), one transaction
 * per interval, in place: the recording is created atomically (empty, with
 * its schema) before the command starts and then grows, so a recording ended
 * by SIGKILL of either side is valid up to the last interval. Stacks are
 * symbolized at the end (and at each exec) from the target's module list,
 * which is read while it runs; the symbolized frames are stored, so the
 * report needs neither the target nor its binaries.
 *
 * JVM targets (libjvm.so mapped): JIT code has no symbols, so while the JVM
 * lives this command asks it for its perf map ('jcmd PID Compiler.perfmap',
 * JDK 17+, over the attach socket) whenever new stacks appeared, at most
 * every JIT_MAP_MIN_MS, and once more when a signal is passed on to it;
 * each map read (/proc/PID/root/tmp/perf-NSPID.map) replaces the run's
 * alloc_jitmap rows, and the map file is removed when it was ours. A JVM
 * that exits on its own keeps the last map asked for.
 */
#include "cmd.h"
#include "allocdb.h"
#include "attach.h"
#include "parse.h"
#include "perfmap.h"
#include "proc.h"
#include "procfs.h"
#include "store.h"
#include "strbuf.h"
#include "symbolize.h"
#include "trackfile.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

static void print_help(FILE *out)
{
	fprintf(out,
		"usage: offheap record [-o FILE] [--exact | --sample BYTES] [--interval DUR]\n"
		"                      [--force] -- COMMAND [ARGS...]\n\n"
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

/* One stack seen in the shared file, for the current run. */
struct rstack {
	int64_t id;
	int64_t live_bytes;
	uint64_t alloc_count, free_count;
	uint32_t depth;
	uint64_t pcs[TRACK_MAX_DEPTH];
	bool known;
	bool symbolized;
};

struct recorder {
	pid_t child;
	const char *command;
	struct allocdb *adb;
	struct trackfile *tf;
	struct track_view view;
	struct symbolizer *sym;
	uint64_t generation;
	bool exiting;		/* this poll is the exit handshake of the current image */
	uint64_t final_gen;	/* the image whose final interval is written; 0 none */
	uint64_t children;	/* processes started below the images, not recorded */
	uint64_t gen_children;	/* of them, counted in the current image's header */
	size_t stacks;		/* stacks seen over every image */
	int64_t run_id;
	struct rstack *slots; /* by slot */
	size_t nslots;
	int64_t *ids;
	bool *changed;
	size_t aids, achanged;
	struct timespec start;
	bool progress;
	bool any;
	bool have_first;
	int64_t first_live;	/* live bytes at the first progress line */
	/* JVM targets: the perf map (see the file header) */
	bool jvm;		/* the current image has libjvm.so mapped */
	int jvm_checks;		/* looks for libjvm.so in the current image */
	int map_failures;	/* consecutive failed requests; JIT_MAP_TRIES stops them */
	bool map_given_up;
	pid_t nspid;		/* the JVM's pid in its namespace: the map's name */
	int64_t map_ms;		/* when the map was last asked for; -1 never */
	size_t map_sites;	/* sites at that moment */
	int map_file;		/* -1 unknown, 0 the map file was absent before us, 1 it existed */
	unsigned lost;		/* intervals that could not be written */
	bool names_lost;	/* the function names of the last image could not be written */
	struct strbuf lost_why;	/* the first reason */
};

#define JIT_MAP_MIN_MS 2000
#define JIT_MAP_TIMEOUT_MS 3000
#define JIT_MAP_TRIES 5
#define JVM_CHECKS 20

static int64_t elapsed_ms(const struct recorder *r)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - r->start.tv_sec) * 1000 +
	       (now.tv_nsec - r->start.tv_nsec) / 1000000;
}

/* Writes the frames of every stack of the current run not yet symbolized. */
static int symbolize_run(struct recorder *r, struct strbuf *err)
{
	int ret;

	if (!r->nslots)
		return 0;
	ret = allocdb_begin(r->adb, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < r->nslots; i++) {
		struct rstack *s = &r->slots[i];
		int level = 0;

		if (!s->known || s->symbolized)
			continue;
		s->symbolized = true;
		for (uint32_t k = 0; k < s->depth; k++) {
			const struct sym_frame *fr;
			size_t n = 1;
			struct sym_frame bare = {.pc = s->pcs[k]};

			if (r->sym)
				symbolize_pc(r->sym, s->pcs[k], true, &fr, &n);
			else
				fr = &bare;
			for (size_t j = 0; j < n; j++) {
				ret = allocdb_add_frame(r->adb, s->id, level++, &fr[j], err);
				if (ret)
					return ret;
			}
		}
	}
	return allocdb_commit(r->adb, err);
}

static int new_run(struct recorder *r, struct strbuf *err)
{
	char *exe;
	int ret;

	if (r->any) {
		/* the previous image: symbolize what it left while its modules are known */
		ret = symbolize_run(r, err);
		if (ret)
			return ret;
		/*
		 * It ended by exec, which runs no exit handshake and reset the
		 * counters: its final interval repeats the last one copied.
		 */
		if (r->final_gen != r->generation) {
			ret = allocdb_end_run(r->adb, r->run_id, elapsed_ms(r), err);
			if (ret)
				return ret;
			r->final_gen = r->generation;
		}
	}
	symbolize_free(r->sym);
	r->sym = NULL;
	if (symbolize_new(r->view.pid, &r->sym, err)) {
		strbuf_reset(err); /* frames stay bare addresses */
		r->sym = NULL;
	}
	if (r->slots)
		memset(r->slots, 0, r->nslots * sizeof(*r->slots));
	r->jvm = false;
	r->jvm_checks = r->map_failures = 0;
	r->map_given_up = false;
	r->map_ms = -1;
	r->map_sites = 0;
	r->map_file = -1;
	r->generation = r->view.generation;
	r->gen_children = 0;
	r->any = true;
	ret = allocdb_add_run(r->adb, r->generation, r->view.pid, r->view.sample_mean, r->command,
			      &r->run_id, err);
	if (ret)
		return ret;
	/* the image waits for our ack (OFFHEAP_SYNC): its executable is still there to read */
	exe = proc_exe_read(r->view.pid);
	if (*exe)
		ret = allocdb_set_exe(r->adb, r->run_id, exe, err);
	free(exe);
	return ret;
}

/* Copies the counters once; writes one interval. -EAGAIN: nothing yet. */
static int poll_once(struct recorder *r, bool alive, struct strbuf *err)
{
	struct track_view *v = &r->view;
	bool invalidated = false;
	int ret;

	if (!r->tf)
		return -EAGAIN;
	ret = trackfile_read(r->tf, v, err);
	if (ret)
		return ret;
	if (!r->any || v->generation != r->generation) {
		ret = new_run(r, err);
		trackfile_ack(r->tf, v->generation);
		if (ret)
			return ret;
	}
	if (v->children > r->gen_children) {
		r->children += v->children - r->gen_children;
		r->gen_children = v->children;
	}
	/* its final interval is in (exit handshake): what follows is not its to record */
	if (r->final_gen == r->generation)
		return 0;
	ALLOC_GROW(r->ids, v->nr + 1, r->aids);
	ALLOC_GROW(r->changed, v->nr + 1, r->achanged);
	ret = allocdb_begin(r->adb, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < v->nr; i++) {
		const struct track_site *site = &v->sites[i];
		struct rstack *s;

		if (site->slot >= r->nslots) {
			size_t n = r->nslots ? r->nslots : 1024;

			while (n <= site->slot)
				n *= 2;
			r->slots = xrealloc(r->slots, n * sizeof(*r->slots));
			memset(r->slots + r->nslots, 0, (n - r->nslots) * sizeof(*r->slots));
			r->nslots = n;
		}
		s = &r->slots[site->slot];
		if (!s->known) {
			ret = allocdb_add_stack(r->adb, r->run_id, site->slot, site->frames,
						site->depth, &s->id, err);
			if (ret)
				goto fail;
			s->known = true;
			r->stacks++;
			s->depth = site->depth;
			memcpy(s->pcs, site->frames, site->depth * sizeof(s->pcs[0]));
			s->live_bytes = INT64_MIN;
			if (r->sym && alive) {
				if (!invalidated)
					symbolize_invalidate(r->sym);
				invalidated = true;
				for (uint32_t k = 0; k < site->depth; k++)
					symbolize_note(r->sym, site->frames[k]);
			}
		}
		r->ids[i] = s->id;
		r->changed[i] = s->live_bytes != site->live_bytes ||
				s->alloc_count != site->alloc_count ||
				s->free_count != site->free_count;
		s->live_bytes = site->live_bytes;
		s->alloc_count = site->alloc_count;
		s->free_count = site->free_count;
	}
	/*
	 * The poll of an exiting image (exit handshake) sees memory that exit
	 * handlers already freed: like the one after exit, it is the final
	 * interval, kept out of the growth trend.
	 */
	ret = allocdb_add_interval(r->adb, r->run_id, elapsed_ms(r), v, r->ids, r->changed,
				   !alive || r->exiting, err);
	if (ret)
		goto fail;
	ret = allocdb_commit(r->adb, err);
	if (!ret && (!alive || r->exiting))
		r->final_gen = r->generation;
	return ret;
fail:
	allocdb_commit(r->adb, err);
	return ret;
}

static void check_jvm(struct recorder *r)
{
	struct strbuf sb = STRBUF_INIT;
	struct attach_proc p;

	if (r->jvm || r->jvm_checks >= JVM_CHECKS || !r->any)
		return;
	r->jvm_checks++;
	if (procfs_read_pid(r->child, "maps", &sb, 256u << 20) ||
	    (!strstr(sb.buf, "/libjvm.so\n") && !strstr(sb.buf, "/libjvm.so (deleted)\n")))
		goto out;
	if (procfs_read_pid(r->child, "status", &sb, 1u << 20) ||
	    attach_parse_status(sb.buf, r->child, &p))
		goto out;
	r->jvm = true;
	r->nspid = p.nspid;
	/* a JVM that refuses attach would only be sent SIGQUIT for nothing */
	if (!procfs_read_pid(r->child, "cmdline", &sb, 1u << 20) &&
	    memmem(sb.buf, sb.len, "-XX:+DisableAttachMechanism", 27)) {
		warning("the JVM %d disables attach: Java frames stay addresses", (int)r->child);
		r->map_given_up = true;
	}
out:
	strbuf_release(&sb);
}

/*
 * Asks the live JVM for its perf map and stores it for the current run.
 * Failures only warn (Java frames then stay addresses); after JIT_MAP_TRIES
 * in a row, or a JVM without Compiler.perfmap, it stops asking.
 */
static void jit_map(struct recorder *r)
{
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, text = STRBUF_INIT;
	struct perfmap m = {0};
	char path[PATH_MAX];
	int status = 0, ret;

	if (!r->jvm || r->map_given_up)
		return;
	r->map_ms = elapsed_ms(r);
	r->map_sites = r->view.nr;
	if (procfs_path(path, sizeof(path), "/%d/root/tmp/perf-%d.map", (int)r->child,
			(int)r->nspid))
		goto out;
	if (r->map_file < 0)
		r->map_file = access(path, F_OK) == 0;
	ret = attach_jcmd(r->child, "Compiler.perfmap", JIT_MAP_TIMEOUT_MS, &status, &out, &err);
	if (!ret && (status || strstr(out.buf, "Unknown diagnostic command") ||
		     strstr(out.buf, "Exception"))) {
		/* JDK 16 and older have no Compiler.perfmap */
		warning("the JVM %d gives no perf map: Java frames stay addresses", (int)r->child);
		hint("Compiler.perfmap needs JDK 17 or newer");
		r->map_given_up = true;
		goto out;
	}
	if (ret) {
		if (ret != -ESRCH && ++r->map_failures >= JIT_MAP_TRIES) {
			warning("cannot ask the JVM %d for its perf map: %s", (int)r->child,
				err.buf);
			r->map_given_up = true;
		}
		goto out;
	}
	r->map_failures = 0;
	ret = procfs_read_file(path, &text, 256u << 20);
	if (r->map_file == 0)
		unlink(path);
	if (ret)
		goto out;
	if (perfmap_parse(&m, text.buf, text.len, NULL))
		goto out;
	strbuf_reset(&err);
	if (allocdb_begin(r->adb, &err) || allocdb_set_jitmap(r->adb, r->run_id, &m, &err) ||
	    allocdb_commit(r->adb, &err))
		warning("%s", err.buf);
out:
	perfmap_release(&m);
	strbuf_release(&text);
	strbuf_release(&out);
	strbuf_release(&err);
}

static void show_progress(struct recorder *r)
{
	char live[32], growth[32];
	int64_t secs = elapsed_ms(r) / 1000;

	if (!r->progress || !r->any)
		return;
	if (!r->have_first) {
		r->first_live = r->view.live_bytes;
		r->have_first = true;
	}
	fprintf(stderr, "\roffheap record: %" PRId64 "s, live %s (%s since start), %zu sites\033[K",
		secs,
		format_size(live, sizeof(live),
			    r->view.live_bytes > 0 ? (uint64_t)r->view.live_bytes : 0),
		format_dsize(growth, sizeof(growth), r->view.live_bytes - r->first_live),
		r->view.nr);
	fflush(stderr);
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

/*
 * The file execvp ran for name: name itself when it holds a '/', else the
 * first executable file of that name in PATH. 0, or -ENOENT.
 */
static int find_program(const char *name, char *buf, size_t n)
{
	const char *path = getenv("PATH"), *p, *end;

	if (strchr(name, '/'))
		return snprintf(buf, n, "%s", name) < (int)n ? 0 : -ENAMETOOLONG;
	for (p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin"; *p; p = end + !!*end) {
		end = strchrnul(p, ':');
		if (snprintf(buf, n, "%.*s%s%s", (int)(end - p), p, end > p ? "/" : "", name) <
			(int)n &&
		    !access(buf, X_OK))
			return 0;
	}
	return -ENOENT;
}

/*
 * The tracker never started in the command: say why. ld.so ignores
 * LD_PRELOAD (but for libraries in its trusted folders) in secure-execution
 * mode (AT_SECURE), which the kernel sets when the program runs with other
 * credentials than its caller's: set-user-ID or set-group-ID to another
 * user or group, or file capabilities for a caller that is not root; not
 * on a file system mounted nosuid. Otherwise the likely cause is a program
 * linked statically: there is no loader to preload anything.
 */
static void explain_nothing(const char *name)
{
	char prog[PATH_MAX];
	struct statvfs vfs;
	struct stat st;
	bool caps;

	if (find_program(name, prog, sizeof(prog)) || stat(prog, &st) ||
	    (!statvfs(prog, &vfs) && (vfs.f_flag & ST_NOSUID)))
		goto static_linked;
	caps = getxattr(prog, "security.capability", NULL, 0) > 0;
	if ((st.st_mode & S_ISUID) && st.st_uid != getuid()) {
		warning("the tracker reported nothing: '%s' is set-user-ID (to uid %u), and the loader ignores LD_PRELOAD for such a program", prog, (unsigned)st.st_uid);
		hint("record it as the user it runs as (here uid %u), or record a copy without the set-user-ID bit", (unsigned)st.st_uid);
		return;
	}
	if ((st.st_mode & S_ISGID) && st.st_gid != getgid()) {
		warning("the tracker reported nothing: '%s' is set-group-ID (to gid %u), and the loader ignores LD_PRELOAD for such a program", prog, (unsigned)st.st_gid);
		hint("record it with gid %u, or record a copy without the set-group-ID bit", (unsigned)st.st_gid);
		return;
	}
	if (caps && getuid() != 0) {
		warning("the tracker reported nothing: '%s' has file capabilities, and the loader ignores LD_PRELOAD for such a program", prog);
		hint("record it as root, or record a copy without the capabilities (setcap -r)");
		return;
	}
static_linked:
	warning("the tracker reported nothing (is '%s' statically linked?)", name);
}

static const int passed[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static pid_t start_child(char **argv, const char *lib, const char *shm, const char *sample,
			 const sigset_t *oldmask, int *errpipe)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		const char *old = getenv("LD_PRELOAD");
		char pidbuf[32];
		struct strbuf pre = STRBUF_INIT;
		int e;

		close(pfd[0]);
		strbuf_addstr(&pre, lib);
		if (old && *old)
			strbuf_addf(&pre, " %s", old);
		snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
		setenv("LD_PRELOAD", pre.buf, 1);
		setenv("OFFHEAP_OUT", shm, 1);
		setenv("OFFHEAP_PID", pidbuf, 1);
		setenv("OFFHEAP_SAMPLE", sample, 1);
		setenv("OFFHEAP_SYNC", "1", 1);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		execvp(argv[0], argv);
		e = errno;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(e == ENOENT ? 127 : 126);
	}
	close(pfd[1]);
	*errpipe = pfd[0];
	return pid;
}

int cmd_record(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"force", no_argument, NULL, 'f'},
	    {"exact", no_argument, NULL, 'e'},
	    {"sample", required_argument, NULL, 's'},
	    {"interval", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = "offheap-record.db";
	uint64_t sample = 512 * 1024, interval_ms = 1000;
	bool force = false, exact = false, sampled = false;
	struct strbuf err = STRBUF_INIT, cmdline = STRBUF_INIT;
	char lib[PATH_MAX], shm[PATH_MAX] = "", samplebuf[32];
	struct recorder r = {0};
	struct store *st = NULL;
	sigset_t set, oldmask;
	int c, ret, status = 0, errpipe = -1, child_errno = 0, exit_code = EXIT_RUNTIME;
	int shmfd = -1;
	bool exited = false;
	int64_t next_ms;

	strbuf_init(&r.lost_why, 0);
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
	snprintf(samplebuf, sizeof(samplebuf), "%" PRIu64, sample);
	for (int i = optind; i < argc; i++)
		strbuf_addf(&cmdline, "%s%s", i > optind ? " " : "", argv[i]);

	if (find_library(lib, sizeof(lib))) {
		error("cannot find liboffheap.so next to the offheap binary");
		hint("build it with 'make' or install it next to offheap");
		goto out;
	}
	if (sysroot_path(shm, sizeof(shm), "/tmp/offheap-track.XXXXXX") ||
	    (shmfd = mkstemp(shm)) < 0) {
		error("cannot create the tracker's file in /tmp: %s", strerror(errno));
		goto out;
	}
	close(shmfd);

	ret = store_create(out, STORE_RECORDING, force, &st, &err);
	if (!ret)
		ret = store_commit(st, &err);
	if (!ret)
		ret = allocdb_open(store_db(st), true, &r.adb, &err);
	if (ret) {
		error("%s", err.buf);
		if (ret == -EEXIST)
			hint("use --force to replace it, or choose another file");
		goto out;
	}

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		sigaddset(&set, passed[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &oldmask);

	r.command = cmdline.buf;
	r.progress = isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &r.start);
	r.child = start_child(argv + optind, lib, shm, samplebuf, &oldmask, &errpipe);
	if (r.child < 0) {
		error("cannot start '%s': %s", argv[optind], strerror(errno));
		goto out_mask;
	}
	if (trackfile_open(shm, &r.tf, &err)) {
		error("%s", err.buf);
		kill(r.child, SIGKILL);
		waitpid(r.child, &status, 0);
		goto out_mask;
	}

	next_ms = (int64_t)interval_ms;
	while (!exited) {
		uint64_t exiting;
		int64_t wait_ms = next_ms - elapsed_ms(&r);
		struct timespec ts;
		siginfo_t info;
		int sig;

		if (wait_ms > 10)
			wait_ms = 10;
		if (wait_ms < 0)
			wait_ms = 0;
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (wait_ms % 1000) * 1000000;
		sig = sigtimedwait(&set, &info, &ts);
		if (sig == SIGCHLD) {
			pid_t p = waitpid(r.child, &status, WNOHANG);

			if (p == r.child && (WIFEXITED(status) || WIFSIGNALED(status)))
				exited = true;
		} else if (sig > 0) {
			/*
			 * Signals from the terminal reach the command's process
			 * group already; pass on those sent to us alone.
			 */
			if (info.si_code == SI_USER || info.si_code == SI_QUEUE ||
			    info.si_code == SI_TKILL) {
				/* the JVM may exit on it: its last chance to name Java frames */
				if (sig != SIGQUIT)
					jit_map(&r);
				kill(r.child, sig);
			} else if (sig != SIGQUIT) {
				jit_map(&r);
			}
		}
		/*
		 * A new image (the start, an exec) waits for us: look every 10 ms,
		 * its module list must be read while it lives.
		 */
		exiting = trackfile_exiting(r.tf);
		/* an exiting image is polled once: it waits for that, and exits after */
		if (exited || elapsed_ms(&r) >= next_ms ||
		    (exiting == r.generation && r.final_gen != r.generation) ||
		    trackfile_generation(r.tf) != r.generation) {
			strbuf_reset(&err);
			r.exiting = exiting && exiting == r.generation;
			ret = poll_once(&r, !exited, &err);
			if (ret && ret != -EAGAIN) {
				/* Once: a full disk would repeat it every interval. */
				if (!r.lost++) {
					warning("%s", err.buf);
					warning("the recording misses intervals until it can be written again");
					strbuf_addstr(&r.lost_why, err.buf);
				}
				strbuf_reset(&err);
			}
			/* its last stacks are in: the exiting image may go on */
			if (r.exiting)
				trackfile_ack_exit(r.tf, exiting);
			/* an exiting JVM can no longer answer on its attach socket */
			if (!exited && !r.exiting) {
				check_jvm(&r);
				if (r.jvm && r.view.nr != r.map_sites &&
				    (r.map_ms < 0 || elapsed_ms(&r) - r.map_ms >= JIT_MAP_MIN_MS))
					jit_map(&r);
			}
			show_progress(&r);
			next_ms = elapsed_ms(&r) + (int64_t)interval_ms;
		}
	}
	if (r.progress && r.any)
		fputc('\n', stderr);
	if (read(errpipe, &child_errno, sizeof(child_errno)) == (ssize_t)sizeof(child_errno)) {
		error("cannot run '%s': %s", argv[optind], strerror(child_errno));
		exit_code = child_errno == ENOENT ? 127 : 126;
		goto out_mask;
	}
	strbuf_reset(&err);
	if (r.any && symbolize_run(&r, &err)) {
		r.names_lost = true;
		if (!r.lost_why.len)
			strbuf_addstr(&r.lost_why, err.buf);
	}
	if (WIFEXITED(status))
		exit_code = WEXITSTATUS(status);
	else
		exit_code = 128 + WTERMSIG(status);
	if (!r.any)
		explain_nothing(argv[optind]);
	else if (!r.stacks && r.children) {
		warning("'%s' recorded no allocation and started other processes, which are not recorded",
			argv[optind]);
		hint("the tracker follows exec, not fork: record the program that does the work ('offheap record -- PROG ARGS'), or have the command exec it ('sh -c \"exec PROG ARGS\"')");
	}
	if (r.lost || r.names_lost) {
		struct strbuf what = STRBUF_INIT;

		/* The file holds every interval committed before: readable, never half-written. */
		if (r.lost)
			strbuf_addf(&what, "%u intervals", r.lost);
		if (r.names_lost)
			strbuf_addf(&what, "%sthe function names", r.lost ? " and " : "");
		error("the recording '%s' is incomplete: %s could not be written (%s)", out, what.buf,
		      r.lost_why.buf);
		strbuf_release(&what);
		hint("free space where the recording is written, or choose another file with -o");
		if (exit_code == 0)
			exit_code = EXIT_RUNTIME;
	}
out_mask:
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
out:
	if (errpipe >= 0)
		close(errpipe);
	if (shm[0] && shmfd >= 0)
		unlink(shm);
	trackfile_close(r.tf);
	track_view_release(&r.view);
	symbolize_free(r.sym);
	free(r.slots);
	free(r.ids);
	free(r.changed);
	allocdb_free(r.adb);
	store_close(st);
	strbuf_release(&err);
	strbuf_release(&r.lost_why);
	strbuf_release(&cmdline);
	return exit_code;
}
