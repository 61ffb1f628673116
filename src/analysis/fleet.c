/*
 * fleet: the processes offheap serve watches, sampled a round at a time.
 *
 * Each process has a sampler (src/analysis/sampler.c: /proc, hsperfdata,
 * NMT) and a series that slides over the last max_points points, so its
 * memory stays bounded however long the exporter runs. After each point
 * the trends and doctor's series rules run over the window: the rules that
 * need a probe into the process (chunk walks, class loaders, zlib states)
 * are not run — a scrape target must not be stopped or read through.
 *
 * A PID given by the user is watched until its process exits, and never
 * again (the PID may be reused by another process). With a rescan, a
 * process gone from /proc is dropped and a new one is opened when the cap
 * on processes allows it; the processes of other users are not tried
 * without root (their smaps cannot be read), only counted.
 */
#include "fleet.h"
#include "pslist.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void fleet_init(struct fleet *f, enum fleet_mode mode, const pid_t *pids, size_t npids,
		size_t max_procs, size_t max_points, unsigned sampler_flags, int timeout_ms)
{
	memset(f, 0, sizeof(*f));
	f->mode = mode;
	f->max_procs = max_procs ? max_procs : 1;
	f->max_points = max_points < 3 ? 3 : max_points;
	f->sampler_flags = sampler_flags;
	f->timeout_ms = timeout_ms;
	if (npids) {
		f->pids = xmalloc(npids * sizeof(*f->pids));
		memcpy(f->pids, pids, npids * sizeof(*f->pids));
		f->npids = npids;
	}
}

static void proc_free(struct fleet_proc *p)
{
	if (!p)
		return;
	sampler_close(&p->sp);
	series_release(&p->s);
	free(p->trends);
	doctor_report_release(&p->doc);
	free(p);
}

void fleet_release(struct fleet *f)
{
	for (size_t i = 0; i < f->n; i++)
		proc_free(f->procs[i]);
	free(f->procs);
	free(f->pids);
	memset(f, 0, sizeof(*f));
}

static struct fleet_proc *find_proc(const struct fleet *f, pid_t pid)
{
	for (size_t i = 0; i < f->n; i++)
		if (f->procs[i]->pid == pid)
			return f->procs[i];
	return NULL;
}

static void forget_pid(struct fleet *f, pid_t pid)
{
	for (size_t i = 0; i < f->npids; i++) {
		if (f->pids[i] != pid)
			continue;
		memmove(f->pids + i, f->pids + i + 1, (f->npids - i - 1) * sizeof(*f->pids));
		f->npids--;
		return;
	}
}

/* Drops procs[i]: it exited (or is no longer wanted). */
static void drop(struct fleet *f, size_t i, bool exited)
{
	if (exited) {
		f->exited_total++;
		forget_pid(f, f->procs[i]->pid);
	}
	proc_free(f->procs[i]);
	memmove(f->procs + i, f->procs + i + 1, (f->n - i - 1) * sizeof(*f->procs));
	f->n--;
}

static void insert(struct fleet *f, struct fleet_proc *p)
{
	size_t i = f->n;

	ALLOC_GROW(f->procs, f->n + 1, f->alloc);
	while (i > 0 && f->procs[i - 1]->pid > p->pid) {
		f->procs[i] = f->procs[i - 1];
		i--;
	}
	f->procs[i] = p;
	f->n++;
}

/* Opens pid within the cap; counts what is left out. */
static void try_open(struct fleet *f, pid_t pid)
{
	struct strbuf err = STRBUF_INIT;
	struct fleet_proc *p;
	int ret;

	if (f->n >= f->max_procs) {
		f->over_cap++;
		return;
	}
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	series_init(&p->s);
	doctor_report_init(&p->doc);
	/* a scraped fleet runs for days: a JVM that stalled once is asked again */
	ret = sampler_open(&p->sp, pid, f->sampler_flags | SAMPLER_RETRY, f->timeout_ms, &p->s,
			   NULL, &err);
	strbuf_release(&err);
	if (ret) {
		if (ret == -ESRCH)
			forget_pid(f, pid);
		else
			f->unreadable++;
		series_release(&p->s);
		doctor_report_release(&p->doc);
		sampler_close(&p->sp);
		free(p);
		return;
	}
	insert(f, p);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/*
 * The processes to watch this round, in the order to open them. Returns 0
 * or -errno; *out is malloc'd.
 */
static int wanted(struct fleet *f, pid_t **out, size_t *nout)
{
	struct ps_proc *v = NULL;
	size_t n = 0, k = 0;
	uid_t me = geteuid();
	int ret;

	*out = NULL;
	*nout = 0;
	if (f->mode == FLEET_PIDS) {
		if (!f->npids)
			return 0;
		*out = xmalloc(f->npids * sizeof(**out));
		memcpy(*out, f->pids, f->npids * sizeof(**out));
		*nout = f->npids;
		return 0;
	}
	ret = pslist_scan((f->mode == FLEET_JVMS ? PSLIST_JVM_ONLY : 0) | PSLIST_NO_CMDLINE |
				  PSLIST_NO_NMT,
			  &v, &n);
	if (ret)
		return ret;
	pslist_sort(v, n, PS_SORT_RSS);
	*out = xmalloc((n + 1) * sizeof(**out));
	for (size_t i = 0; i < n; i++) {
		if (v[i].pid == getpid())
			continue;
		if (me && v[i].have_uid && v[i].uid != me) {
			if (!find_proc(f, v[i].pid))
				f->unreadable++;
			continue;
		}
		(*out)[k++] = v[i].pid;
	}
	*nout = k;
	pslist_free(v, n);
	return 0;
}

static void recompute(struct fleet_proc *p)
{
	struct doctor_probes probes;

	free(p->trends);
	p->trends = NULL;
	p->ntrends = series_trends(&p->s, &p->trends);
	p->nmt_on = p->sp.nmt_ok;
	memset(&probes, 0, sizeof(probes));
	probes.cgroup_limit = -1;
	probes.nmt_on = p->nmt_on;
	doctor_report_release(&p->doc);
	doctor_report_init(&p->doc);
	doctor_diagnose(&p->s, &probes, &p->doc);
}

int fleet_round(struct fleet *f, struct strbuf *err)
{
	uint64_t start = now_ns(CLOCK_MONOTONIC);
	pid_t *want, *sorted;
	size_t nwant;
	int ret;

	f->over_cap = f->unreadable = 0;
	ret = wanted(f, &want, &nwant);
	if (ret) {
		strbuf_addf(err, "cannot list the processes: %s", strerror(-ret));
		nwant = 0;
	}
	/* A rescan that no longer lists a process: it exited. */
	if (!ret && f->mode != FLEET_PIDS) {
		sorted = xmalloc((nwant + 1) * sizeof(*sorted));
		if (nwant)
			memcpy(sorted, want, nwant * sizeof(*sorted));
		qsort(sorted, nwant, sizeof(*sorted), cmp_pid);
		for (size_t i = f->n; i-- > 0;)
			if (!bsearch(&f->procs[i]->pid, sorted, nwant, sizeof(*sorted), cmp_pid))
				drop(f, i, true);
		free(sorted);
	}
	for (size_t i = 0; i < nwant; i++)
		if (!find_proc(f, want[i]))
			try_open(f, want[i]);
	free(want);

	for (size_t i = f->n; i-- > 0;) {
		struct fleet_proc *p = f->procs[i];
		struct strbuf terr = STRBUF_INIT;
		int rc = sampler_tick(&p->sp, 0, &terr);

		strbuf_release(&terr);
		if (rc == -ESRCH) {
			drop(f, i, true);
			continue;
		}
		/* Another failure (a read refused midway): the window keeps its points. */
		if (p->s.n > f->max_points)
			series_drop_front(&p->s, p->s.n - f->max_points);
		if (p->s.n)
			recompute(p);
	}
	f->rounds++;
	f->round_s = (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9;
	f->round_end_ns = now_ns(CLOCK_REALTIME);
	return ret;
}
