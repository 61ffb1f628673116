/* tracedb: writes a trace into SQLite tables trace_*, one run per call (schema in tracedb.h). */
#include "tracedb.h"
#include "perfmap.h"
#include "store.h"
#include "strbuf.h"
#include "symbolize.h"
#include "trace.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS trace_runs(run_id INTEGER PRIMARY KEY, pid INTEGER,"
	" command TEXT, started_at INTEGER, duration_ns INTEGER, calls INTEGER,"
	" exit_status INTEGER);"
	"CREATE TABLE IF NOT EXISTS trace_threads(run_id INTEGER, tid INTEGER, pid INTEGER,"
	" name TEXT, calls INTEGER, mapped INTEGER, unmapped INTEGER, brk_grown INTEGER,"
	" brk_shrunk INTEGER, advised INTEGER, failed INTEGER);"
	"CREATE TABLE IF NOT EXISTS trace_stacks(run_id INTEGER, stack_id INTEGER, pid INTEGER,"
	" depth INTEGER, calls INTEGER, mapped INTEGER, PRIMARY KEY(run_id, stack_id));"
	"CREATE TABLE IF NOT EXISTS trace_frames(run_id INTEGER, stack_id INTEGER,"
	" level INTEGER, pc INTEGER, function TEXT, file TEXT, line INTEGER, module TEXT,"
	" build_id TEXT, inlined INTEGER, demangled TEXT);"
	"CREATE TABLE IF NOT EXISTS trace_events(run_id INTEGER, seq INTEGER, ts_ns INTEGER,"
	" tid INTEGER, pid INTEGER, thread TEXT, syscall TEXT, arg0 INTEGER, arg1 INTEGER,"
	" arg2 INTEGER, arg3 INTEGER, arg4 INTEGER, arg5 INTEGER, result INTEGER,"
	" stack_id INTEGER);"
	"CREATE TABLE IF NOT EXISTS trace_regions(run_id INTEGER, pid INTEGER, start INTEGER,"
	" end INTEGER, kind TEXT, tid INTEGER, thread TEXT, stack_id INTEGER, born_ns INTEGER);";

static const char *const kind_names[] = { "mmap", "brk", "shm" };

static int step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : rc;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

int tracedb_write(struct store *store, const struct trace *t, const char *command,
		  long long started_at, int exit_status, const struct perfmap *jit,
		  struct strbuf *err)
{
	sqlite3 *db = store_db(store);
	sqlite3_stmt *st[6] = { NULL };
	static const char *const sql[6] = {
		"INSERT INTO trace_runs(pid, command, started_at, duration_ns, calls, exit_status)"
		" VALUES(?,?,?,?,?,?)",
		"INSERT INTO trace_threads VALUES(?,?,?,?,?,?,?,?,?,?,?)",
		"INSERT INTO trace_stacks VALUES(?,?,?,?,?,?)",
		"INSERT INTO trace_frames VALUES(?,?,?,?,?,?,?,?,?,?,?)",
		"INSERT INTO trace_events VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		"INSERT INTO trace_regions VALUES(?,?,?,?,?,?,?,?,?)",
	};
	sqlite3_int64 run;
	int rc, ret = 0;

	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
	for (int i = 0; i < 6 && rc == SQLITE_OK; i++)
		rc = sqlite3_prepare_v2(db, sql[i], -1, &st[i], NULL);
	if (rc != SQLITE_OK)
		goto fail;

	sqlite3_bind_int64(st[0], 1, t->opts.argv ? t->child : t->opts.pid);
	bind_text_or_null(st[0], 2, command);
	sqlite3_bind_int64(st[0], 3, started_at);
	sqlite3_bind_int64(st[0], 4, (sqlite3_int64)t->elapsed_ns);
	sqlite3_bind_int64(st[0], 5, (sqlite3_int64)t->seq);
	if (exit_status >= 0)
		sqlite3_bind_int(st[0], 6, exit_status);
	if ((rc = step(st[0])))
		goto fail;
	run = sqlite3_last_insert_rowid(db);

	for (size_t i = 0; i < t->nthreads; i++) {
		const struct trace_thread *th = &t->threads[i];
		sqlite3_int64 v[] = { run, th->tid, th->pid };
		sqlite3_uint64 u[] = { th->calls, th->mapped, th->unmapped, th->brk_grown,
				       th->brk_shrunk, th->advised, th->failed };

		for (int k = 0; k < 3; k++)
			sqlite3_bind_int64(st[1], k + 1, v[k]);
		sqlite3_bind_text(st[1], 4, th->name, -1, SQLITE_TRANSIENT);
		for (int k = 0; k < 7; k++)
			sqlite3_bind_int64(st[1], k + 5, (sqlite3_int64)u[k]);
		if ((rc = step(st[1])))
			goto fail;
	}
	for (size_t s = 0; s < t->nstacks; s++) {
		const struct trace_stack *sk = &t->stacks[s];
		struct symbolizer *sym = trace_symbolizer(sk);
		int level = 0;

		sqlite3_bind_int64(st[2], 1, run);
		sqlite3_bind_int64(st[2], 2, (sqlite3_int64)s);
		sqlite3_bind_int64(st[2], 3, sk->mm->pid);
		sqlite3_bind_int64(st[2], 4, sk->depth);
		sqlite3_bind_int64(st[2], 5, (sqlite3_int64)sk->calls);
		sqlite3_bind_int64(st[2], 6, (sqlite3_int64)sk->mapped);
		if ((rc = step(st[2])))
			goto fail;
		for (uint32_t d = 0; d < sk->depth; d++) {
			const struct sym_frame *fr = NULL;
			size_t nf = 0;

			const struct perfmap_entry *je = NULL;
			char name[1024];

			const struct trace_jframe *java = trace_java_frame(sk, d);

			if (sym && !java)
				symbolize_pc(sym, sk->pcs[d], d > 0, &fr, &nf);
			/* JIT code: in no module, named by the JVM (a return address may end its range) */
			if (jit && (!nf || (!fr[nf - 1].function && !fr[nf - 1].module)))
				je = perfmap_find(jit, d > 0 ? sk->pcs[d] - 1 : sk->pcs[d]);
			for (size_t k = 0; k < (nf ? nf : 1); k++) {
				sqlite3_bind_int64(st[3], 1, run);
				sqlite3_bind_int64(st[3], 2, (sqlite3_int64)s);
				sqlite3_bind_int(st[3], 3, level++);
				sqlite3_bind_int64(st[3], 4, java ? 0 : (sqlite3_int64)sk->pcs[d]);
				if (java) {
					/* a Java frame the trace named: its method, file and line, no address */
					sqlite3_bind_text(st[3], 5, java->name, -1, SQLITE_TRANSIENT);
					bind_text_or_null(st[3], 6, java->file);
					sqlite3_bind_int(st[3], 7, java->line);
					sqlite3_bind_int(st[3], 10, 0);
				} else if (je) {
					sqlite3_bind_text(st[3], 5,
							  perfmap_frame_name(je, name, sizeof(name)),
							  -1, SQLITE_TRANSIENT);
					sqlite3_bind_int(st[3], 7, 0);
					sqlite3_bind_int(st[3], 10, 0);
				} else if (nf) {
					bind_text_or_null(st[3], 5, fr[k].function);
					bind_text_or_null(st[3], 6, fr[k].file);
					sqlite3_bind_int(st[3], 7, fr[k].line);
					bind_text_or_null(st[3], 8, fr[k].module);
					bind_text_or_null(st[3], 9, fr[k].build_id);
					sqlite3_bind_int(st[3], 10, fr[k].inlined);
					bind_text_or_null(st[3], 11, fr[k].demangled);
				}
				if ((rc = step(st[3])))
					goto fail;
			}
		}
	}
	for (size_t i = 0; i < t->nevents; i++) {
		const struct trace_event *ev = &t->events[i];

		sqlite3_bind_int64(st[4], 1, run);
		sqlite3_bind_int64(st[4], 2, (sqlite3_int64)ev->seq);
		sqlite3_bind_int64(st[4], 3, (sqlite3_int64)ev->ts_ns);
		sqlite3_bind_int64(st[4], 4, ev->tid);
		sqlite3_bind_int64(st[4], 5, ev->pid);
		sqlite3_bind_text(st[4], 6, t->names[ev->name], -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st[4], 7, trace_sys_name(ev->sys), -1, SQLITE_STATIC);
		for (int k = 0; k < 6; k++)
			sqlite3_bind_int64(st[4], 8 + k, (sqlite3_int64)ev->args[k]);
		sqlite3_bind_int64(st[4], 14, ev->ret);
		if (ev->stack != UINT32_MAX)
			sqlite3_bind_int64(st[4], 15, ev->stack);
		if ((rc = step(st[4])))
			goto fail;
	}
	for (size_t m = 0; m < t->nmms; m++) {
		const struct trace_mm *mm = t->mms[m];

		for (size_t i = 0; i < mm->nregions; i++) {
			const struct trace_region *r = &mm->regions[i];

			sqlite3_bind_int64(st[5], 1, run);
			sqlite3_bind_int64(st[5], 2, mm->pid);
			sqlite3_bind_int64(st[5], 3, (sqlite3_int64)r->start);
			sqlite3_bind_int64(st[5], 4, (sqlite3_int64)r->end);
			sqlite3_bind_text(st[5], 5, kind_names[r->kind], -1, SQLITE_STATIC);
			sqlite3_bind_int64(st[5], 6, r->tid);
			sqlite3_bind_text(st[5], 7, t->names[r->name], -1, SQLITE_TRANSIENT);
			if (r->stack != UINT32_MAX)
				sqlite3_bind_int64(st[5], 8, r->stack);
			sqlite3_bind_int64(st[5], 9, (sqlite3_int64)r->born_ns);
			if ((rc = step(st[5])))
				goto fail;
		}
	}
	rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	goto out;
fail:
	strbuf_addf(err, "cannot write '%s': %s", store_path(store), sqlite3_errmsg(db));
	ret = -EIO;
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
out:
	for (int i = 0; i < 6; i++)
		sqlite3_finalize(st[i]);
	return ret;
}
