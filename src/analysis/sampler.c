/*
 * sampler: one point of a process per tick, from the cheapest sources that
 * answer: /proc (always), hsperfdata (a JVM's shared counters: a file read,
 * no attach), and the NMT summary over the attach socket when NMT is on.
 *
 * A JVM is asked nothing that stops it: VM.native_memory summary and
 * GC.heap_info run in its attach listener thread without a safepoint;
 * VM.info (for C-Heap outstanding) prints every thread, so it is asked only
 * when the caller says so (doctor: at the first and the last point).
 */
#include "sampler.h"
#include "attach.h"
#include "jvmmem.h"
#include "nmt.h"
#include "snapshot.h"
#include "store.h"
#include "strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Runs one jcmd line into out; on failure notes why in note (once) and
 * returns -errno; a success clears note. After a timeout the JVM is asked
 * nothing: each tick waiting out another would stall the sampling. With
 * SAMPLER_RETRY it is asked again after 2, 4, 8 … ticks (at most
 * SAMPLER_MAX_BACKOFF), one request each time, and answered requests end
 * the back-off: a JVM stopped by a long GC pause or a debugger comes back.
 */
static int jcmd(struct sampler *sp, const char *line, struct strbuf *out, char *note, size_t n)
{
	struct strbuf err = STRBUF_INIT;
	int status = 0, ret;

	strbuf_reset(out);
	if (sp->unresponsive && (!(sp->flags & SAMPLER_RETRY) || sp->ticks < sp->retry_tick)) {
		if (!note[0] && note != sp->attach_error)
			snprintf(note, n, "%s", sp->attach_error);
		strbuf_release(&err);
		return -ETIMEDOUT;
	}
	ret = attach_jcmd(sp->pid, line, sp->timeout_ms, &status, out, &err);
	if (!ret && status)
		ret = -EPROTO;
	if (ret && !note[0])
		snprintf(note, n, "%s", err.len ? err.buf : out->buf);
	if (ret == -ETIMEDOUT) {
		sp->unresponsive = true;
		sp->backoff = sp->backoff ? sp->backoff * 2 : 2;
		if (sp->backoff > SAMPLER_MAX_BACKOFF)
			sp->backoff = SAMPLER_MAX_BACKOFF;
		sp->retry_tick = sp->ticks + sp->backoff;
		if (!sp->attach_error[0])
			snprintf(sp->attach_error, sizeof(sp->attach_error), "%s", err.buf);
	} else if (!ret) {
		if (sp->unresponsive) {
			sp->unresponsive = false;
			sp->backoff = 0;
			sp->attach_error[0] = 0;
		}
		note[0] = 0;
	}
	strbuf_release(&err);
	return ret;
}

static void open_jvm(struct sampler *sp)
{
	struct strbuf perr = STRBUF_INIT, out = STRBUF_INIT;

	if (hsperf_open(&sp->h, sp->pid, &perr)) {
		snprintf(sp->hsperf_error, sizeof(sp->hsperf_error), "%s", perr.buf);
		hsperf_release(&sp->h);
		sp->nmt_mode = HSPERF_NMT_UNKNOWN;
	} else {
		sp->have_hsperf = true;
		sp->nmt_mode = hsperf_nmt(&sp->h);
	}
	if (!jcmd(sp, "GC.heap_info", &out, sp->attach_error, sizeof(sp->attach_error)) &&
	    !jvmmem_parse_heap_range(out.buf, &sp->heap_lo, &sp->heap_hi))
		sp->have_heap_range = true;
	if (sp->nmt_mode == HSPERF_NMT_OFF) {
		snprintf(sp->nmt_error, sizeof(sp->nmt_error),
			 "NMT is off (the JVM was started without -XX:NativeMemoryTracking)");
		sp->flags |= SAMPLER_NO_NMT;
	}
	strbuf_release(&perr);
	strbuf_release(&out);
}

int sampler_open(struct sampler *sp, pid_t pid, unsigned flags, int timeout_ms, struct series *s,
		 struct store *st, struct strbuf *err)
{
	struct snapshot snap;
	int ret;

	memset(sp, 0, sizeof(*sp));
	sp->h = (struct hsperf)HSPERF_INIT;
	sp->pid = pid;
	sp->flags = flags;
	sp->timeout_ms = timeout_ms;
	sp->s = s;
	sp->st = st;
	snapshot_init(&snap);
	ret = snapshot_take(pid, SNAP_NO_THREAD_SP, &snap, err);
	sp->jvm = !ret && snap.is_jvm;
	snapshot_release(&snap);
	if (ret)
		return ret;
	if (st) {
		ret = series_db_create(store_db(st), err);
		if (ret)
			return ret;
	}
	if (sp->jvm && !(flags & SAMPLER_NO_JVM))
		open_jvm(sp);
	return 0;
}

struct extra_ctx {
	const struct series_point *p;
};

static int write_extra(struct sqlite3 *db, int64_t sid, void *ctx, struct strbuf *err)
{
	return series_db_write(db, sid, ((struct extra_ctx *)ctx)->p, err);
}

int sampler_tick(struct sampler *sp, unsigned tick_flags, struct strbuf *err)
{
	struct snapshot snap;
	struct nmt_report nmt;
	struct strbuf out = STRBUF_INIT, perr = STRBUF_INIT;
	struct series_point *p;
	bool have_nmt = false, have_hsperf = false;
	uint64_t cheap = 0, retained, meta = 0;
	bool have_cheap = false, have_meta = false;
	int ret;

	snapshot_init(&snap);
	nmt_report_init(&nmt);
	ret = snapshot_take(sp->pid, 0, &snap, err);
	if (ret)
		goto out;
	if (sp->s->n && snap.start_time != sp->s->start_time) {
		strbuf_addf(err, "process %d has exited (its PID now names another process)",
			    (int)sp->pid);
		ret = -ESRCH;
		goto out;
	}
	if (sp->have_heap_range)
		jvmmem_mark_heap(&snap, sp->heap_lo, sp->heap_hi);
	if (sp->have_hsperf) {
		strbuf_reset(&perr);
		if (hsperf_refresh(&sp->h, &perr)) {
			snprintf(sp->hsperf_error, sizeof(sp->hsperf_error), "%s", perr.buf);
			hsperf_release(&sp->h);
			sp->have_hsperf = false;
		} else {
			have_hsperf = true;
		}
	}
	if (sp->jvm && !(sp->flags & (SAMPLER_NO_JVM | SAMPLER_NO_NMT))) {
		sp->nmt_ok = false;
		if (!jcmd(sp, "VM.native_memory summary scale=KB", &out, sp->nmt_error,
			  sizeof(sp->nmt_error))) {
			strbuf_reset(&perr);
			if (nmt_parse(out.buf, out.len, &nmt, &perr)) {
				if (!sp->nmt_error[0])
					snprintf(sp->nmt_error, sizeof(sp->nmt_error),
						 "the NMT summary does not parse: %s", perr.buf);
			} else if (nmt.kind == NMT_SUMMARY || nmt.kind == NMT_DETAIL) {
				have_nmt = sp->nmt_ok = true;
			} else if (nmt.kind == NMT_NOT_ENABLED) {
				snprintf(sp->nmt_error, sizeof(sp->nmt_error),
					 "NMT is off (the JVM was started without -XX:NativeMemoryTracking)");
				sp->flags |= SAMPLER_NO_NMT;
			}
		}
	}
	if (sp->jvm && !(sp->flags & SAMPLER_NO_JVM) && (tick_flags & TICK_CHEAP) &&
	    !jcmd(sp, "VM.info", &out, sp->attach_error, sizeof(sp->attach_error))) {
		have_cheap = !jvmmem_parse_cheap(out.buf, &cheap, &retained);
		have_meta = !jvmmem_parse_metaspace(out.buf, &meta);
	}

	if (!sp->ticks) {
		sp->files_first = mapgroup_build(&snap, MAPGROUP_FILES, NULL, &sp->nfiles_first);
	} else {
		mapgroup_free(sp->files_last, sp->nfiles_last);
		sp->files_last = mapgroup_build(&snap, MAPGROUP_FILES, NULL, &sp->nfiles_last);
	}
	p = series_add(sp->s, &snap, have_hsperf ? &sp->h : NULL, have_nmt ? &nmt : NULL);
	if (have_cheap)
		p->counter[SC_CHEAP_OUTSTANDING] = (int64_t)cheap;
	if (have_meta && meta <= INT64_MAX)
		p->counter[SC_META_VMINFO] = (int64_t)meta;
	sp->ticks++;
	if (sp->st) {
		struct extra_ctx ctx = { p };
		unsigned sflags = tick_flags & TICK_REGIONS ? 0 : STORE_NO_REGIONS | STORE_NO_THREADS;

		ret = store_append_sample(sp->st, &snap, sflags, write_extra, &ctx, NULL, err);
	}
out:
	nmt_report_release(&nmt);
	snapshot_release(&snap);
	strbuf_release(&out);
	strbuf_release(&perr);
	return ret;
}

void sampler_close(struct sampler *sp)
{
	hsperf_release(&sp->h);
	mapgroup_free(sp->files_first, sp->nfiles_first);
	mapgroup_free(sp->files_last, sp->nfiles_last);
	sp->files_first = sp->files_last = NULL;
	sp->nfiles_first = sp->nfiles_last = 0;
}

const char *sampler_grown_files(const struct sampler *sp, enum region_class cls, size_t *from,
				size_t *to)
{
	const struct map_group *g = mapgroup_grown(sp->files_first, sp->nfiles_first,
						   sp->files_last, sp->nfiles_last, cls, from, to);

	return g ? g->key : NULL;
}
