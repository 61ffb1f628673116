/*
 * docattach: doctor's attached recording and its short trace window.
 *
 * The recording is our own binary's 'record -p', a child process: the
 * recorder engine keeps its signal mask, its children and its SQLite file
 * to itself, and doctor's sampler runs on undisturbed. Its file lives in a
 * directory only we can enter, removed with everything in it at the end.
 */
#include "docattach.h"
#include "allocdb.h"
#include "doctor.h"
#include "jitmap.h"
#include "perfmap.h"
#include "series.h"
#include "store.h"
#include "strbuf.h"
#include "symbolize.h"
#include "trace.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1ULL << 20)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Removes the directory and what the child left in it (its file, SQLite's journal). */
static void remove_dir(struct docattach_rec *d)
{
	DIR *dir;
	struct dirent *e;

	if (!d->dir[0])
		return;
	dir = opendir(d->dir);
	if (dir) {
		int fd = dirfd(dir);

		while ((e = readdir(dir)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(fd, e->d_name, 0);
		closedir(dir);
	}
	rmdir(d->dir);
	d->dir[0] = '\0';
}

int docattach_record_start(struct docattach_rec *d, const char *self, pid_t pid,
			   uint64_t window_ms, struct strbuf *err)
{
	const char *tmp = getenv("TMPDIR");
	char pidbuf[24], dur[32], interval[32], sample[32];
	uint64_t iv = window_ms / 16;
	int pfd[2], e;
	pid_t parent = getpid(), child;

	memset(d, 0, sizeof(*d));
	d->err_fd = -1;
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (snprintf(d->dir, sizeof(d->dir), "%s/offheap-doctor.XXXXXX", tmp) >= (int)sizeof(d->dir)) {
		d->dir[0] = '\0';
		strbuf_addf(err, "the temporary directory's path is too long");
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(d->dir)) {
		e = errno;
		strbuf_addf(err, "cannot make a directory in %s: %s", tmp, strerror(e));
		d->dir[0] = '\0';
		return -e;
	}
	snprintf(d->db, sizeof(d->db), "%s/rec.db", d->dir);
	if (pipe2(pfd, O_CLOEXEC)) {
		e = errno;
		strbuf_addf(err, "pipe: %s", strerror(e));
		remove_dir(d);
		return -e;
	}
	iv = iv < 200 ? 200 : iv > 5000 ? 5000 : iv;
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	snprintf(dur, sizeof(dur), "%" PRIu64 "ms", window_ms + 30000);
	snprintf(interval, sizeof(interval), "%" PRIu64 "ms", iv);
	snprintf(sample, sizeof(sample), "%u", DOCATTACH_SAMPLE);
	child = fork();
	if (child < 0) {
		e = errno;
		strbuf_addf(err, "fork: %s", strerror(e));
		close(pfd[0]);
		close(pfd[1]);
		remove_dir(d);
		return -e;
	}
	if (!child) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* Ours to end: not the terminal's Ctrl-C, and not outliving us. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		/* a full pipe drops the child's messages rather than stopping it */
		fcntl(pfd[1], F_SETFL, O_NONBLOCK);
		dup2(pfd[1], STDERR_FILENO);
		execl(self, "offheap", "record", "-p", pidbuf, "-d", dur, "-i", interval,
		      "--sample", sample, "-o", d->db, (char *)NULL);
		dprintf(STDERR_FILENO, "offheap: error: cannot run %s: %s\n", self, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	fcntl(pfd[0], F_SETPIPE_SZ, 1 << 20);
	d->err_fd = pfd[0];
	d->child = child;
	d->started_ms = now_ms();
	return 0;
}

static void drain(struct docattach_rec *d)
{
	char buf[4096];
	ssize_t n;

	while (d->err_fd >= 0 && (n = read(d->err_fd, buf, sizeof(buf))) > 0) {
		size_t room = sizeof(d->log) - 1 - d->loglen;

		if ((size_t)n > room)
			n = (ssize_t)room;
		memcpy(d->log + d->loglen, buf, (size_t)n);
		d->loglen += (size_t)n;
		d->log[d->loglen] = '\0';
	}
}

int docattach_record_wait(struct docattach_rec *d, uint64_t wait_ms)
{
	uint64_t end = now_ms() + wait_ms;

	while (d->child > 0) {
		struct pollfd pfd = { .fd = d->err_fd, .events = POLLIN };
		uint64_t now = now_ms();
		siginfo_t si;

		drain(d);
		if (strstr(d->log, "attached to process"))
			return 0;
		/* ended: left to be reaped by docattach_record_end */
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)d->child, &si, WEXITED | WNOHANG | WNOWAIT) || si.si_pid)
			return -ECHILD;
		if (now >= end)
			return -ETIMEDOUT;
		poll(&pfd, 1, (int)(end - now < 50 ? end - now : 50));
	}
	return -ECHILD;
}

/* The child's last "error: " message, without the prefix; else its last line. */
static void child_error(const char *log, struct strbuf *why)
{
	const char *best = NULL, *last = NULL, *p = log;

	while (p && *p) {
		const char *nl = strchr(p, '\n'), *e = strstr(p, "error: ");

		if (e && (!nl || e < nl))
			best = e + 7;
		if (p != nl)
			last = p;
		p = nl ? nl + 1 : NULL;
	}
	if (!best)
		best = last;
	if (best)
		strbuf_add(why, best, strchrnul(best, '\n') - best);
}

static int load(const char *path, struct alloc_data *out, struct strbuf *why)
{
	struct store *st = NULL;
	struct allocdb *adb = NULL;
	int ret = store_open(path, &st, why);

	if (!ret)
		ret = allocdb_open(store_db(st), false, &adb, why);
	if (!ret)
		ret = allocdb_load(adb, out, why);
	allocdb_free(adb);
	store_close(st);
	return ret;
}

int docattach_record_end(struct docattach_rec *d, uint64_t wait_ms, struct alloc_data *out,
			 struct strbuf *why)
{
	uint64_t end = now_ms() + wait_ms;
	int status = 0, ret = -ECHILD;
	bool killed = false;

	memset(out, 0, sizeof(*out));
	if (d->child > 0) {
		pid_t w;

		kill(d->child, SIGINT);
		while ((w = waitpid(d->child, &status, WNOHANG)) == 0) {
			struct timespec ts = { 0, 10 * 1000000 };

			drain(d);
			if (!killed && now_ms() >= end) {
				kill(d->child, SIGKILL);
				killed = true;
			}
			nanosleep(&ts, NULL);
		}
		drain(d);
		d->child = 0;
		if (killed) {
			strbuf_addf(why, "the recorder did not detach within %.0f s and was killed (the tracker in the process turns itself off)",
				    (double)wait_ms / 1000);
			ret = -ETIMEDOUT;
		} else if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			child_error(d->log, why);
			if (!why->len)
				strbuf_addf(why, "the recorder failed (status %#x)", status);
			ret = strstr(why->buf, "ermission") || strstr(why->buf, "not permitted")
				      ? -EPERM : -EIO;
		} else {
			ret = load(d->db, out, why);
			if (!ret && !out->detached) {
				alloc_data_release(out);
				memset(out, 0, sizeof(*out));
				strbuf_addf(why, "the process ended during the window");
				ret = -ESRCH;
			}
		}
	}
	if (d->err_fd >= 0)
		close(d->err_fd);
	d->err_fd = -1;
	remove_dir(d);
	return ret;
}

/* How long a traced JVM may take to write its perf map (Compiler.perfmap). */
#define DOCATTACH_JIT_MAP_MS 5000

/* Threads more at the end than at the start for a trace of who starts them. */
#define TRACE_MIN_THREADS 4
/* Mappings of files and shared memory more at the end, for a trace of who maps them. */
#define TRACE_MIN_MAPPINGS 4

bool docattach_wants_trace(const struct series *s)
{
	const struct series_point *a, *b;
	int64_t anon, malloc_d;

	if (!s || s->n < 2)
		return false;
	a = &s->pts[0];
	b = &s->pts[s->n - 1];
	anon = (int64_t)b->cls[RC_ANON].rss - (int64_t)a->cls[RC_ANON].rss;
	malloc_d = (int64_t)(b->cls[RC_HEAP].rss + b->cls[RC_ARENA].rss) -
		   (int64_t)(a->cls[RC_HEAP].rss + a->cls[RC_ARENA].rss);
	if (anon >= (int64_t)(2 * MIB) && anon > malloc_d)
		return true;
	/* data files or shared memory mapped again and again: who maps them */
	if ((int64_t)(b->cls_count[RC_FILE] + b->cls_count[RC_SHM]) -
		    (int64_t)(a->cls_count[RC_FILE] + a->cls_count[RC_SHM]) >=
	    TRACE_MIN_MAPPINGS)
		return true;
	/*
	 * Threads, or stacks of ended threads, piling up in a program that is no
	 * JVM (whose recording names the code that starts threads): each new
	 * one maps its stack, so the trace sees who creates them.
	 */
	return !s->is_jvm &&
	       (b->threads - a->threads >= TRACE_MIN_THREADS ||
		(a->counter[SC_STACKS_KEPT] >= 0 &&
		 b->counter[SC_STACKS_KEPT] - a->counter[SC_STACKS_KEPT] >= TRACE_MIN_THREADS));
}

/* System call wrappers: the code that asked is the first frame past them. */
static bool is_syscall_wrapper(const char *fn)
{
	static const char *const names[] = { "mmap", "mmap64", "__mmap", "__mmap64", "mremap",
					     "__mremap", "syscall", "__GI___mmap64",
					     "__GI___mremap" };

	for (size_t i = 0; fn && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(fn, names[i]))
			return true;
	return false;
}

struct site_sum {
	uint64_t outstanding, regions;
	uint32_t name;
};

static void fill_site(const struct trace *t, uint32_t si, const struct site_sum *sum,
		      const struct perfmap *jit, struct doctor_mmap_site *out)
{
	const struct trace_stack *st = &t->stacks[si];
	struct symbolizer *sym = trace_symbolizer(st);
	bool past = false;

	snprintf(out->thread, sizeof(out->thread), "%s", t->names[sum->name]);
	out->outstanding = sum->outstanding;
	out->regions = sum->regions;
	for (uint32_t k = 0; sym && k < st->depth && out->nframes < FINDING_MAX_FRAMES; k++) {
		const struct trace_jframe *java = trace_java_frame(st, k);
		const struct sym_frame *f;
		size_t n;

		if (java) {
			past = true;
			trace_java_frame_text(java, out->frames[out->nframes++], sizeof(out->frames[0]));
			continue;
		}
		symbolize_pc(sym, st->pcs[k], k > 0, &f, &n);
		/*
		 * A JVM's JIT code and stubs have no symbols: its perf map names
		 * them (a return address may be just past its method's code).
		 */
		if (jit && jit->nr && !f[n - 1].function) {
			const struct perfmap_entry *e =
				perfmap_find(jit, k > 0 ? st->pcs[k] - 1 : st->pcs[k]);
			char name[160];

			if (e) {
				past = true;
				snprintf(out->frames[out->nframes++], sizeof(out->frames[0]), "%s",
					 perfmap_frame_name(e, name, sizeof(name)));
				continue;
			}
		}
		/* a function inlined at the pc is a frame of its own, innermost first */
		for (size_t j = 0; j < n && out->nframes < FINDING_MAX_FRAMES; j++) {
			const char *fn = f[j].demangled ? f[j].demangled : f[j].function;
			const char *mod = f[j].module ? strrchr(f[j].module, '/') : NULL;

			if (!past && is_syscall_wrapper(fn))
				continue;
			past = true;
			mod = mod ? mod + 1 : f[j].module;
			if (fn && f[j].file && f[j].line > 0)
				snprintf(out->frames[out->nframes++], sizeof(out->frames[0]),
					 "%s (%s:%d)%s%s", fn, f[j].file, f[j].line, mod ? " in " : "",
					 mod ? mod : "");
			else if (fn)
				snprintf(out->frames[out->nframes++], sizeof(out->frames[0]), "%s%s%s",
					 fn, mod ? " in " : "", mod ? mod : "");
			else
				snprintf(out->frames[out->nframes++], sizeof(out->frames[0]),
					 "0x%" PRIx64 "%s%s", st->pcs[k], mod ? " in " : "",
					 mod ? mod : " (no module: JIT or generated code)");
		}
	}
}

/*
 * The stack that left the most mapped, among the regions of one sort: by
 * bytes for anonymous memory, by mappings for files (a leak of mappings is
 * their number).
 */
static void best_site(const struct trace *t, bool file, const struct perfmap *jit,
		      struct doctor_mmap_site *out)
{
	struct site_sum *sums = xcalloc(t->nstacks ? t->nstacks : 1, sizeof(*sums));
	size_t best = SIZE_MAX;

	for (size_t m = 0; m < t->nmms; m++) {
		const struct trace_mm *mm = t->mms[m];

		for (size_t i = 0; i < mm->nregions; i++) {
			const struct trace_region *r = &mm->regions[i];
			struct site_sum *sm;

			if (r->kind != TRACE_REGION_MMAP || r->file != file || r->stack >= t->nstacks)
				continue;
			sm = &sums[r->stack];
			sm->outstanding += r->end - r->start;
			sm->regions++;
			sm->name = r->name;
			if (best == SIZE_MAX ||
			    (file ? sm->regions > sums[best].regions ||
					    (sm->regions == sums[best].regions &&
					     sm->outstanding > sums[best].outstanding)
				  : sm->outstanding > sums[best].outstanding))
				best = r->stack;
		}
	}
	if (best != SIZE_MAX)
		fill_site(t, (uint32_t)best, &sums[best], jit, out);
	free(sums);
}

int docattach_trace(pid_t pid, uint64_t window_ms, bool jvm, struct doctor_mmap_site *anon,
		    struct doctor_mmap_site *file, struct strbuf *err)
{
	struct trace_opts o = { .pid = pid, .duration_ms = window_ms, .depth = 24 };
	struct perfmap jit = { 0 };
	struct strbuf why = STRBUF_INIT;
	struct trace t;
	int ret;

	memset(anon, 0, sizeof(*anon));
	memset(file, 0, sizeof(*file));
	memset(&t, 0, sizeof(t));
	anon->window_ms = file->window_ms = window_ms;
	ret = trace_run(&t, &o, err);
	if (ret) {
		trace_release(&t);
		return ret;
	}
	anon->window_ms = file->window_ms = t.elapsed_ns / 1000000;
	/* asked once the trace is over: the JVM writes its map while not stopped */
	if (jvm && jitmap_fetch(pid, DOCATTACH_JIT_MAP_MS, &jit, &why))
		perfmap_release(&jit); /* the frames stay addresses */
	best_site(&t, false, &jit, anon);
	best_site(&t, true, &jit, file);
	perfmap_release(&jit);
	strbuf_release(&why);
	trace_release(&t);
	return 0;
}
