/*
 * snapshot: one consistent-as-possible look at a process.
 *
 * /proc gives no atomic view: status, smaps and the task list are read one
 * after the other while the process runs. The order here (status first to
 * learn the process exists, then smaps and its rollup back to back, then
 * threads) keeps the figures that are compared with each other as close in
 * time as /proc allows. A process that exits in between makes the whole
 * snapshot fail with -ESRCH: a half snapshot would mislead a diff.
 *
 * smaps itself is not atomic either: the kernel releases the mmap lock
 * between the pages of a read, and a process that maps, unmaps or
 * mprotects meanwhile is listed partly before and partly after the change
 * (a mapping twice under one start, one overlapping another). Such a read
 * is made a map again by smaps_reconcile (the newer entry wins) and the
 * snapshot says how many entries it changed: re-reading would race again.
 */
#include "snapshot.h"
#include "classify.h"
#include "proc.h"
#include "procfs.h"
#include "smaps.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* smaps of a process with a million mappings is ~1 GB; refuse beyond that. */
#define SMAPS_MAX (1024UL << 20)

void snapshot_init(struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
}

void snapshot_release(struct snapshot *s)
{
	for (size_t i = 0; i < s->nregions; i++)
		free(s->regions[i].path);
	free(s->regions);
	free(s->threads);
	free(s->cmdline);
	free(s->exe);
	snapshot_init(s);
}

const struct thread *snapshot_thread(const struct snapshot *s, pid_t tid)
{
	size_t lo = 0, hi = s->nthreads;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->threads[mid].tid == tid)
			return &s->threads[mid];
		if (s->threads[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *snapshot_region_label(const struct snapshot *s, const struct region *r,
				  struct strbuf *sb)
{
	const struct thread *t;

	strbuf_reset(sb);
	switch (r->cls) {
	case RC_STACK:
		t = r->tid ? snapshot_thread(s, r->tid) : NULL;
		if (r->tid)
			strbuf_addf(sb, "[stack:%d %s]%s", (int)r->tid, t ? t->name : "?",
				    r->guard ? " guard" : "");
		else if (*r->path)
			strbuf_addstr(sb, r->path);
		else	/* the stack of a thread that was running when sampled */
			strbuf_addf(sb, "[stack:? running thread]%s", r->guard ? " guard" : "");
		break;
	case RC_ARENA:
		strbuf_addstr(sb, r->guard ? "[arena reserve]" : "[arena]");
		break;
	case RC_ANON:
		strbuf_addstr(sb, r->kept_stack ? "[stack of an ended thread]"
			      : *r->path ? r->path : "[anon]");
		break;
	default:
		strbuf_addstr(sb, *r->path ? r->path : "[anon]");
	}
	return sb->buf;
}

/* Turns a read error into the message a user needs. */
static int read_failed(pid_t pid, const char *what, int ret, struct strbuf *err)
{
	if (ret == -ESRCH)
		strbuf_addf(err, "process %d exited during the snapshot", (int)pid);
	else
		strbuf_addf(err, "cannot read /proc/%d/%s: %s", (int)pid, what, strerror(-ret));
	return ret;
}

int snapshot_take(pid_t pid, unsigned flags, struct snapshot *s, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT, perr = STRBUF_INIT;
	struct timespec ts;
	bool kthread;
	int ret, fd;

	snapshot_init(s);
	s->pid = pid;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->time_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;

	ret = procfs_read_pid(pid, "status", &sb, 1 << 20);
	if (ret) {
		if (ret == -ESRCH)
			strbuf_addf(err, "no process %d", (int)pid);
		else
			strbuf_addf(err, "cannot read /proc/%d/status: %s", (int)pid,
				    strerror(-ret));
		goto fail;
	}
	ret = proc_status_parse(sb.buf, sb.len, &s->status, &perr);
	if (ret) {
		strbuf_addf(err, "/proc/%d/status: %s", (int)pid, perr.buf);
		goto fail;
	}
	if (!s->status.has_mm) {
		/* A process that has exited but is not yet reaped keeps only its status. */
		if (s->status.state == 'Z' || s->status.state == 'X') {
			strbuf_addf(err, "process %d has exited (a zombie its parent has not reaped)",
				    (int)pid);
			ret = -ESRCH;
			goto fail;
		}
		/*
		 * A process killed meanwhile drops its memory before it turns
		 * zombie: only a kernel thread has none and stays.
		 */
		if (proc_read_kthread(pid, &kthread) || !kthread) {
			strbuf_addf(err, "process %d exited during the snapshot", (int)pid);
			ret = -ESRCH;
			goto fail;
		}
		strbuf_addf(err, "process %d has no user memory (a kernel thread)", (int)pid);
		ret = -EINVAL;
		goto fail;
	}
	ret = proc_read_starttime(pid, &s->start_time);
	if (ret) {
		read_failed(pid, "stat", ret, err);
		goto fail;
	}

	fd = procfs_open_pid(pid, "smaps");
	if (fd < 0) {
		ret = read_failed(pid, "smaps", fd, err);
		goto fail;
	}
	ret = smaps_read(fd, SMAPS_MAX, &s->regions, &s->nregions, &s->alloc_regions, &perr);
	close(fd);
	if (ret == -ESRCH || (ret == 0 && !s->nregions && !procfs_pid_alive(pid))) {
		/* A process that exits while smaps is read leaves it short or empty. */
		ret = read_failed(pid, "smaps", -ESRCH, err);
		goto fail;
	}
	if (ret == -EINVAL) {
		strbuf_addf(err, "/proc/%d/smaps: %s", (int)pid, perr.buf);
		goto fail;
	}
	if (ret) {
		read_failed(pid, "smaps", ret, err);
		goto fail;
	}
	/* The map changed while it was read: the same start twice, or overlaps. */
	s->reconciled = smaps_reconcile(s->regions, &s->nregions);

	ret = procfs_read_pid(pid, "smaps_rollup", &sb, 1 << 16);
	if (!ret) {
		strbuf_reset(&perr);
		ret = smaps_parse_rollup(sb.buf, sb.len, &s->totals, &perr);
		if (ret) {
			strbuf_addf(err, "/proc/%d/smaps_rollup: %s", (int)pid, perr.buf);
			goto fail;
		}
		s->totals_from_rollup = true;
	} else if (ret == -ESRCH) {
		read_failed(pid, "smaps_rollup", ret, err);
		goto fail;
	}
	/* The rollup has no Size line: virtual size is the sum of the mappings. */
	{
		struct mem_counts sum = { 0 };

		for (size_t i = 0; i < s->nregions; i++)
			mem_counts_add(&sum, &s->regions[i].m);
		if (!s->totals_from_rollup)
			s->totals = sum;
		s->totals.size = sum.size;
	}

	ret = proc_threads_read(pid, flags & SNAP_NO_THREAD_SP, &s->threads, &s->nthreads);
	if (ret) {
		read_failed(pid, "task", ret, err);
		goto fail;
	}
	s->alloc_threads = s->nthreads;

	ret = proc_cmdline_read(pid, &s->cmdline);
	if (ret) {
		read_failed(pid, "cmdline", ret, err);
		goto fail;
	}
	s->exe = proc_exe_read(pid);
	proc_cgroup_read(pid, &s->cgroup);
	if (!procfs_read_pid(pid, "limits", &sb, 1 << 16))
		s->stack_rlimit = proc_limits_stack(sb.buf, sb.len);
	classify_regions(s);

	/* The last word on whether the process lived through all of it. */
	if (!procfs_pid_alive(pid)) {
		ret = read_failed(pid, "status", -ESRCH, err);
		goto fail;
	}
	ret = 0;
	goto out;
fail:
	snapshot_release(s);
	s->pid = pid;
out:
	strbuf_release(&sb);
	strbuf_release(&perr);
	return ret;
}
