/* tracedb: a trace's events, stacks, regions and thread totals into SQLite tables trace_*. */
#ifndef OFFHEAP_TRACEDB_H
#define OFFHEAP_TRACEDB_H

struct perfmap;
struct store;
struct trace;
struct strbuf;

/*
 * Appends one run to the recording st (store_open_append: an existing file
 * of ours, or a new one committed by the caller). The tables are made with
 * CREATE TABLE IF NOT EXISTS and all named trace_*, so they live beside the
 * store's own tables (docs/SCHEMA.md); every row carries run_id:
 *
 *   trace_runs(run_id, pid, command, started_at, duration_ns, calls, exit_status)
 *   trace_threads(run_id, tid, pid, name, calls, mapped, unmapped, brk_grown,
 *                 brk_shrunk, advised, failed)
 *   trace_stacks(run_id, stack_id, pid, depth, calls, mapped)
 *   trace_frames(run_id, stack_id, level, pc, function, file, line, module,
 *                build_id, inlined, demangled)  -- level 0 is innermost;
 *                                        inlined frames get their own levels
 *   trace_events(run_id, seq, ts_ns, tid, pid, thread, syscall, arg0..arg5,
 *                result, stack_id)    -- result is -errno on failure
 *   trace_regions(run_id, pid, start, end, kind, tid, thread, stack_id, born_ns)
 *                                      -- born during the trace, still mapped
 *
 * command is the traced command line (NULL when attached); started_at is a
 * Unix time. jit (may be NULL) is a traced JVM's perf map: a frame in no
 * ELF module that it holds is stored with its name there as function
 * ("[java] pkg.Class.method(args)", "Interpreter"). Returns 0 or -errno with err filled; the run is written in one
 * transaction, so a failure leaves the file as it was.
 */
int tracedb_write(struct store *st, const struct trace *t, const char *command,
		  long long started_at, int exit_status, const struct perfmap *jit,
		  struct strbuf *err);

#endif
