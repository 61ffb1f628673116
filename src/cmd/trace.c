/*
 * trace: 'offheap trace PID' / 'offheap trace -- CMD' — who maps memory, by thread and stack.
 *
 * The tracing is src/source/trace.c; this file parses the command line, prints the
 * live --events log and the report (text or --json), and writes -o FILE.
 */
#include "cmd.h"
#include "cmdutil.h"
#include "jitmap.h"
#include "json.h"
#include "parse.h"
#include "perfmap.h"
#include "store.h"
#include "strbuf.h"
#include "symbolize.h"
#include "table.h"
#include "trace.h"
#include "tracedb.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static const struct table_colset colsets[5];

static void print_help(FILE *out)
{
	fprintf(out,
		"usage: offheap trace [OPTIONS] PID\n"
		"       offheap trace [OPTIONS] -- COMMAND [ARGS...]\n\n"
		"Follow mmap, munmap, mremap, brk, madvise(DONTNEED/FREE), shmat and\n"
		"shmdt of a process (every thread, also threads born during the trace)\n"
		"with ptrace, and report the mapped bytes still outstanding at the end by\n"
		"thread name and by call stack. Ends after --duration, when the target\n"
		"ends, or on Ctrl-C/SIGTERM (with a command, the first signal goes to the\n"
		"command and the report follows its exit).\n\n"
		"Options:\n"
		"  -d, --duration DUR   stop after DUR (3s, 500ms, 2m); default: until the end\n"
		"                       (a command is killed then: it cannot run on untraced)\n"
		"      --events         a strace-like live log of each call on stderr\n"
		"      --json           the report as JSON on stdout (a command's own stdout\n"
		"                       then goes to stderr, so stdout is JSON only)\n"
		"  -o, --output FILE    also write the trace into SQLite FILE (tables trace_*)\n"
		"      --depth N        frames per stack (default 24, 0 = no stacks)\n"
		"      --top N          stacks and regions listed (default 10)\n"
		"  -h, --help           this help\n");
	cmd_table_help(out, true, colsets, 5);
	fprintf(out,
		"\n"
		"Attaching to a PID stops every system call of the target twice (entry and exit);\n"
		"with a command only the traced calls stop (a seccomp filter). With a command,\n"
		"offheap exits with the command's exit code.\n\n"
		"Exit codes: 0 ok (or the command's code; 126/127 when it cannot run),\n"
		"1 runtime error, 2 usage error.\n\n"
		"Examples:\n"
		"  offheap trace 4242 -d 10s\n"
		"  offheap trace --events -- java -version\n"
		"  offheap trace 4242 -d 1m --json -o trace.db\n"
		"  offheap trace --json -- ./server 2>server.log | jq .outstanding_bytes\n");
}

struct opts {
	bool json, events;
	int top;
	struct table_style style;	/* --columns, --no-headings, --raw, --bytes */
};

static bool is_wrapper(const char *fn)
{
	static const char *const names[] = {
		"mmap", "mmap64", "__mmap", "__mmap64", "munmap", "__munmap", "mremap",
		"__mremap", "brk", "__brk", "sbrk", "__sbrk", "madvise", "__madvise",
		"shmat", "shmdt", "syscall", "__GI___mmap64", "__GI___munmap",
	};

	for (size_t i = 0; fn && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(fn, names[i]))
			return true;
	return false;
}

/* The JIT code of a traced JVM, asked for at the end of the trace (empty otherwise). */
static struct perfmap jit;

/* How long the JVM may take to write its perf map. */
#define JIT_MAP_TIMEOUT_MS 5000

/*
 * Frame d of st symbolized (inlined frames innermost first) in *f, *n; none
 * for an interpreted Java frame, whose pc is no address, or without sym.
 */
static void frame_syms(struct symbolizer *sym, const struct trace_stack *st, uint32_t d,
		       const struct sym_frame **f, size_t *n)
{
	*f = NULL;
	*n = 0;
	if (sym && !trace_java_frame(st, d))
		symbolize_pc(sym, st->pcs[d], d > 0, f, n);
}

/*
 * The name of frame d of st when it is a Java frame: named by the trace
 * from the JVM's structures, or in no ELF module (f[0..n) as frame_syms gave them) and in
 * the JVM's perf map: "[java] pkg.Class.method(args)…", "Interpreter", …
 * in buf; else NULL.
 */
static const char *jit_frame(const struct trace_stack *st, uint32_t d, const struct sym_frame *f,
			     size_t n, char *buf, size_t len)
{
	const struct perfmap_entry *e;
	const struct trace_jframe *java = trace_java_frame(st, d);

	if (java)
		return trace_java_frame_text(java, buf, len);
	if (!jit.nr || (n && (f[n - 1].function || f[n - 1].module)))
		return NULL;
	/* a return address may be just past its method's code */
	e = perfmap_find(&jit, d > 0 ? st->pcs[d] - 1 : st->pcs[d]);
	return e ? perfmap_frame_name(e, buf, len) : NULL;
}

/* The first frame past the system call wrappers (mmap, sbrk, …): the code that asked. */
static size_t site_index(const struct trace_stack *st)
{
	struct symbolizer *sym = trace_symbolizer(st);

	for (uint32_t d = 0; sym && d < st->depth; d++) {
		const struct sym_frame *f;
		size_t n;

		frame_syms(sym, st, d, &f, &n);
		if (!n || !is_wrapper(f[n - 1].function))
			return d;
	}
	return 0;
}

static const char *frame_text(const struct trace_stack *st, size_t d, char *buf, size_t n)
{
	struct symbolizer *sym = trace_symbolizer(st);
	const struct sym_frame *f;
	size_t nf;

	if (d >= st->depth)
		return "?";
	frame_syms(sym, st, (uint32_t)d, &f, &nf);
	if (jit_frame(st, (uint32_t)d, f, nf, buf, n))
		return buf;
	if (!nf) {
		snprintf(buf, n, "0x%" PRIx64, st->pcs[d]);
		return buf;
	}
	/* The outermost of the inlined frames is the function the address is in. */
	return symbolize_format(&f[nf - 1], buf, n);
}

/* ---- the live log ---- */

static void add_flags(struct strbuf *sb, uint64_t v, const char *const *names,
		      const uint64_t *bits, int n)
{
	bool any = false;

	for (int i = 0; i < n; i++) {
		if (bits[i] && (v & bits[i]) == bits[i]) {
			strbuf_addf(sb, "%s%s", any ? "|" : "", names[i]);
			v &= ~bits[i];
			any = true;
		}
	}
	if (v || !any)
		strbuf_addf(sb, "%s%#" PRIx64, any ? "|" : "", v);
}

static void on_event(const struct trace_event *ev, void *arg)
{
	static const char *const pn[] = { "PROT_READ", "PROT_WRITE", "PROT_EXEC" };
	static const uint64_t pb[] = { PROT_READ, PROT_WRITE, PROT_EXEC };
	static const char *const fn[] = { "MAP_SHARED", "MAP_PRIVATE", "MAP_FIXED",
					  "MAP_ANONYMOUS", "MAP_NORESERVE", "MAP_STACK",
					  "MAP_FIXED_NOREPLACE", "MAP_POPULATE", "MAP_DENYWRITE",
					  "MAP_GROWSDOWN", "MAP_HUGETLB" };
	static const uint64_t fb[] = { MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS,
				       MAP_NORESERVE, MAP_STACK, MAP_FIXED_NOREPLACE,
				       MAP_POPULATE, MAP_DENYWRITE, MAP_GROWSDOWN, MAP_HUGETLB };
	struct trace *t = arg;
	struct strbuf sb = STRBUF_INIT;
	const uint64_t *a = ev->args;
	char buf[512];

	strbuf_addf(&sb, "%3" PRIu64 ".%06" PRIu64 " [%d %s] %s(",
		    (uint64_t)(ev->ts_ns / 1000000000ULL),
		    (uint64_t)(ev->ts_ns / 1000 % 1000000), (int)ev->tid, t->names[ev->name],
		    trace_sys_name(ev->sys));
	switch (ev->sys) {
	case TRACE_MMAP:
		strbuf_addf(&sb, "%#" PRIx64 ", %" PRIu64 ", ", a[0], a[1]);
		if (!a[2])
			strbuf_addstr(&sb, "PROT_NONE");
		else
			add_flags(&sb, a[2], pn, pb, 3);
		strbuf_addstr(&sb, ", ");
		add_flags(&sb, a[3], fn, fb, 11);
		strbuf_addf(&sb, ", %d, %#" PRIx64 ")", (int)a[4], a[5]);
		break;
	case TRACE_MUNMAP:
	case TRACE_SHMDT:
		strbuf_addf(&sb, "%#" PRIx64, a[0]);
		if (ev->sys == TRACE_MUNMAP)
			strbuf_addf(&sb, ", %" PRIu64, a[1]);
		strbuf_addch(&sb, ')');
		break;
	case TRACE_MREMAP:
		strbuf_addf(&sb, "%#" PRIx64 ", %" PRIu64 ", %" PRIu64 ", %#" PRIx64 ")", a[0],
			    a[1], a[2], a[3]);
		break;
	case TRACE_BRK:
		strbuf_addf(&sb, "%#" PRIx64 ")", a[0]);
		break;
	case TRACE_MADVISE:
		strbuf_addf(&sb, "%#" PRIx64 ", %" PRIu64 ", %s)", a[0], a[1],
			    a[2] == MADV_DONTNEED ? "MADV_DONTNEED" :
			    a[2] == MADV_FREE ? "MADV_FREE" : "...");
		break;
	case TRACE_SHMAT:
		strbuf_addf(&sb, "%d, %#" PRIx64 ", %#" PRIx64 ")", (int)a[0], a[1], a[2]);
		break;
	default:
		strbuf_addch(&sb, ')');
	}
	if (ev->ret < 0 && ev->ret > -4096)
		strbuf_addf(&sb, " = -1 %s", strerror((int)-ev->ret));
	else if (ev->sys == TRACE_MUNMAP || ev->sys == TRACE_MADVISE || ev->sys == TRACE_SHMDT)
		strbuf_addf(&sb, " = %" PRId64, ev->ret);
	else
		strbuf_addf(&sb, " = %#" PRIx64, (uint64_t)ev->ret);
	if (ev->stack != UINT32_MAX) {
		const struct trace_stack *st = &t->stacks[ev->stack];

		strbuf_addf(&sb, " <- %s", frame_text(st, site_index(st), buf, sizeof(buf)));
	}
	fprintf(stderr, "%s\n", sb.buf);
	strbuf_release(&sb);
}

/* ---- the report ---- */

struct name_row {
	uint32_t name;
	uint64_t outstanding, regions, mapped, unmapped, calls;
};

struct stack_row {
	uint32_t stack;		/* UINT32_MAX: no stack */
	uint64_t outstanding, regions;
	uint64_t names[4];	/* thread names (interned +1) holding its regions */
};

static int cmp_name_row(const void *a, const void *b)
{
	const struct name_row *x = a, *y = b;

	if (x->outstanding != y->outstanding)
		return x->outstanding < y->outstanding ? 1 : -1;
	return x->mapped < y->mapped ? 1 : x->mapped > y->mapped ? -1 : 0;
}

static int cmp_stack_row(const void *a, const void *b)
{
	const struct stack_row *x = a, *y = b;

	return x->outstanding < y->outstanding ? 1 : x->outstanding > y->outstanding ? -1 : 0;
}

/* An address space (a process image) and what it holds at the end. */
struct process_row {
	const struct trace_mm *mm;
	uint64_t outstanding;
};

static int cmp_process_row(const void *a, const void *b)
{
	const struct process_row *x = a, *y = b;

	if (x->outstanding != y->outstanding)
		return x->outstanding > y->outstanding ? -1 : 1;
	if (x->mm->released != y->mm->released)
		return x->mm->released > y->mm->released ? -1 : 1;
	return x->mm->id < y->mm->id ? -1 : x->mm->id > y->mm->id;
}

static int cmp_region(const void *a, const void *b)
{
	const struct trace_region *x = *(struct trace_region *const *)a;
	const struct trace_region *y = *(struct trace_region *const *)b;
	uint64_t sx = x->end - x->start, sy = y->end - y->start;

	return sx < sy ? 1 : sx > sy ? -1 : (x->start > y->start) - (x->start < y->start);
}

static const char *const kind_names[] = { "mmap", "brk", "shm" };

enum { NC_NAME, NC_OUT, NC_REG, NC_MAPPED, NC_UNMAPPED, NC_NET, NC_CALLS };
static const struct table_col name_cols[] = {
	{ "thread", "THREAD", TK_STR, true },
	{ "outstanding_bytes", "OUTSTANDING", TK_KIB, false },
	{ "regions", "REGIONS", TK_U64, false },
	{ "mapped_bytes", "MAPPED", TK_KIB, false },
	{ "unmapped_bytes", "UNMAPPED", TK_KIB, false },
	{ "net_bytes", "NET", TK_DKIB, false },
	{ "calls", "CALLS", TK_U64, false },
};

enum { TC_TID, TC_PID, TC_NAME, TC_CALLS, TC_MAPPED, TC_UNMAPPED, TC_NET, TC_BRK, TC_ADV, TC_FAIL };
static const struct table_col thread_cols[] = {
	{ "tid", "TID", TK_U64, false },
	{ "pid", "PID", TK_U64, false },
	{ "name", "NAME", TK_STR, true },
	{ "calls", "CALLS", TK_U64, false },
	{ "mapped_bytes", "MAPPED", TK_KIB, false },
	{ "unmapped_bytes", "UNMAPPED", TK_KIB, false },
	{ "net_bytes", "NET", TK_DKIB, false },
	{ "brk_growth_bytes", "BRK", TK_DKIB, false },
	{ "advised_bytes", "MADVISED", TK_KIB, false },
	{ "failed", "FAILED", TK_U64, false },
};

enum { BC_PID, BC_NAME, BC_START, BC_END, BC_GROWTH };
static const struct table_col brk_cols[] = {
	{ "pid", "PID", TK_U64, false },
	{ "process", "PROCESS", TK_STR, true },
	{ "start", "BRK_AT_START", TK_HEX, false },
	{ "end", "BRK_AT_END", TK_HEX, false },
	{ "growth_bytes", "GROWTH", TK_DKIB, false },
};

enum { PC_PID, PC_NAME, PC_STATE, PC_OUT, PC_REG, PC_REL, PC_RELREG };
static const struct table_col process_cols[] = {
	{ "pid", "PID", TK_U64, false },
	{ "process", "PROCESS", TK_STR, true },
	{ "state", "STATE", TK_STR, true },
	{ "outstanding_bytes", "OUTSTANDING", TK_KIB, false },
	{ "regions", "REGIONS", TK_U64, false },
	{ "released_bytes", "RELEASED", TK_KIB, false },
	{ "released_regions", "RELEASED_REGIONS", TK_U64, false },
};

enum { RC_START, RC_SIZE, RC_KIND, RC_TID, RC_NAME, RC_AGE, RC_SITE };
static const struct table_col region_cols[] = {
	{ "start", "START", TK_HEX, false },
	{ "size_bytes", "SIZE", TK_KIB, false },
	{ "kind", "KIND", TK_STR, true },
	{ "tid", "TID", TK_U64, false },
	{ "thread", "THREAD", TK_STR, true },
	{ "age_ms", "AGE_MS", TK_U64, false },
	{ "site", "SITE", TK_STR, true },
};

static const struct table_colset colsets[5] = {
	{ process_cols, 7 }, { name_cols, 7 }, { thread_cols, 10 }, { brk_cols, 5 },
	{ region_cols, 7 },
};

static void json_stack(struct json *j, const struct trace_stack *st)
{
	struct symbolizer *sym = trace_symbolizer(st);
	char buf[32], name[1024];

	json_arr_begin(j, "frames");
	for (uint32_t d = 0; d < st->depth; d++) {
		const struct sym_frame *f = NULL;
		size_t n = 0;

		frame_syms(sym, st, d, &f, &n);
		for (size_t k = 0; k < (n ? n : 1); k++) {
			json_obj_begin(j, NULL);
			const struct trace_jframe *java = trace_java_frame(st, d);

			if (java) {
				/* named by the trace: no address (an interpreted frame's says nothing) */
				json_str(j, "function", java->name);
				json_str(j, "file", java->file);
				json_u64(j, "line", (uint64_t)java->line);
				json_bool(j, "native", java->native);
				json_bool(j, "java", true);
				json_obj_end(j);
				continue;
			}
			snprintf(buf, sizeof(buf), "0x%" PRIx64, st->pcs[d]);
			json_str(j, "pc", buf);
			if (jit_frame(st, d, f, n, name, sizeof(name))) {
				json_str(j, "function", name);
				json_bool(j, "jit", true);
			} else if (n) {
				json_str(j, "function", f[k].function);
				json_str(j, "demangled", f[k].demangled);
				json_str(j, "file", f[k].file);
				json_u64(j, "line", (uint64_t)f[k].line);
				json_str(j, "module", f[k].module);
				json_str(j, "build_id", f[k].build_id);
				json_bool(j, "inlined", f[k].inlined);
			}
			json_obj_end(j);
		}
	}
	json_arr_end(j);
}

static void report(struct trace *t, const struct opts *o, int exit_code)
{
	struct name_row *nr = xcalloc(t->nnames + 1, sizeof(*nr));
	struct stack_row *sr = xcalloc(t->nstacks + 1, sizeof(*sr));
	struct trace_region **regs = NULL;
	size_t nregs = 0, aregs = 0;
	uint64_t outstanding = 0, now = t->elapsed_ns;
	struct table tn, tt, tb, trg, tp;
	struct process_row *pr = xcalloc(t->nmms + 1, sizeof(*pr));
	size_t npr = 0, nexited = 0, nreleased = 0;
	uint64_t released = 0;
	struct json j;
	char buf[512];
	size_t nsr = t->nstacks + 1;

	for (size_t i = 0; i < t->nnames; i++)
		nr[i].name = (uint32_t)i;
	for (size_t i = 0; i < nsr; i++)
		sr[i].stack = i < t->nstacks ? (uint32_t)i : UINT32_MAX;
	for (size_t m = 0; m < t->nmms; m++) {
		struct trace_mm *mm = t->mms[m];

		pr[npr].mm = mm;
		nexited += mm->exited;
		released += mm->released;
		nreleased += mm->nreleased;
		for (size_t i = 0; i < mm->nregions; i++) {
			struct trace_region *r = &mm->regions[i];
			uint64_t sz = r->end - r->start;
			struct stack_row *s = &sr[r->stack != UINT32_MAX ? r->stack : t->nstacks];

			outstanding += sz;
			pr[npr].outstanding += sz;
			nr[r->name].outstanding += sz;
			nr[r->name].regions++;
			s->outstanding += sz;
			s->regions++;
			for (int k = 0; k < 4; k++) {
				if (s->names[k] == r->name + 1)
					break;
				if (!s->names[k]) {
					s->names[k] = r->name + 1;
					break;
				}
			}
			ALLOC_GROW(regs, nregs + 1, aregs);
			regs[nregs++] = r;
		}
		if (pr[npr].outstanding || mm->released)
			npr++;
	}
	for (size_t i = 0; i < t->nthreads; i++) {
		const struct trace_thread *th = &t->threads[i];
		uint32_t n;

		for (n = 0; n < t->nnames && strncmp(t->names[n], th->name, 16); n++)
			;
		if (n == t->nnames)
			continue;	/* made no traced call */
		nr[n].mapped += th->mapped + th->brk_grown;
		nr[n].unmapped += th->unmapped + th->brk_shrunk;
		nr[n].calls += th->calls;
	}
	if (t->nnames)
		qsort(nr, t->nnames, sizeof(*nr), cmp_name_row);
	qsort(sr, nsr, sizeof(*sr), cmp_stack_row);
	if (nregs)
		qsort(regs, nregs, sizeof(*regs), cmp_region);

	table_init(&tn, name_cols, 7);
	tn.style = &o->style;
	for (size_t i = 0; i < t->nnames; i++) {
		size_t row;

		/* A name only seen at a call, the thread renamed since: nothing of its own. */
		if (!nr[i].outstanding && !nr[i].calls && !nr[i].mapped && !nr[i].unmapped)
			continue;
		row = table_add_row(&tn);

		table_set_str(&tn, row, NC_NAME, t->names[nr[i].name]);
		table_set_u64(&tn, row, NC_OUT, nr[i].outstanding);
		table_set_u64(&tn, row, NC_REG, nr[i].regions);
		table_set_u64(&tn, row, NC_MAPPED, nr[i].mapped);
		table_set_u64(&tn, row, NC_UNMAPPED, nr[i].unmapped);
		table_set_i64(&tn, row, NC_NET, (int64_t)(nr[i].mapped - nr[i].unmapped));
		table_set_u64(&tn, row, NC_CALLS, nr[i].calls);
	}
	table_init(&tt, thread_cols, 10);
	tt.style = &o->style;
	for (size_t i = 0; i < t->nthreads; i++) {
		const struct trace_thread *th = &t->threads[i];
		size_t row;

		if (!th->calls && !th->failed)
			continue;
		row = table_add_row(&tt);
		table_set_u64(&tt, row, TC_TID, (uint64_t)th->tid);
		table_set_u64(&tt, row, TC_PID, (uint64_t)th->pid);
		table_set_str(&tt, row, TC_NAME, th->name);
		table_set_u64(&tt, row, TC_CALLS, th->calls);
		table_set_u64(&tt, row, TC_MAPPED, th->mapped);
		table_set_u64(&tt, row, TC_UNMAPPED, th->unmapped);
		table_set_i64(&tt, row, TC_NET, (int64_t)(th->mapped - th->unmapped));
		table_set_i64(&tt, row, TC_BRK, (int64_t)(th->brk_grown - th->brk_shrunk));
		table_set_u64(&tt, row, TC_ADV, th->advised);
		table_set_u64(&tt, row, TC_FAIL, th->failed);
	}
	table_init(&tb, brk_cols, 5);
	tb.style = &o->style;
	for (size_t m = 0; m < t->nmms; m++) {
		const struct trace_mm *mm = t->mms[m];
		size_t row;

		/* an image that ended during the trace holds no break any more (the traced one: its end) */
		if (!mm->brk_cur || (mm->exited && mm->pid != (t->opts.argv ? t->child : t->opts.pid)))
			continue;
		row = table_add_row(&tb);
		table_set_u64(&tb, row, BC_PID, (uint64_t)mm->pid);
		table_set_str(&tb, row, BC_NAME, mm->comm);
		table_set_u64(&tb, row, BC_START, mm->brk_start);
		table_set_u64(&tb, row, BC_END, mm->brk_cur);
		table_set_i64(&tb, row, BC_GROWTH, (int64_t)(mm->brk_cur - mm->brk_start));
	}
	if (npr)
		qsort(pr, npr, sizeof(*pr), cmp_process_row);
	table_init(&tp, process_cols, 7);
	tp.style = &o->style;
	for (size_t i = 0; i < npr; i++) {
		const struct trace_mm *mm = pr[i].mm;
		size_t row = table_add_row(&tp);

		table_set_u64(&tp, row, PC_PID, (uint64_t)mm->pid);
		table_set_str(&tp, row, PC_NAME, mm->comm);
		table_set_str(&tp, row, PC_STATE, mm->exited ? "ended" : "running");
		table_set_u64(&tp, row, PC_OUT, pr[i].outstanding);
		table_set_u64(&tp, row, PC_REG, mm->nregions);
		table_set_u64(&tp, row, PC_REL, mm->released);
		table_set_u64(&tp, row, PC_RELREG, mm->nreleased);
	}
	table_init(&trg, region_cols, 7);
	trg.style = &o->style;
	for (size_t i = 0; i < nregs && (int)i < o->top; i++) {
		const struct trace_region *r = regs[i];
		size_t row = table_add_row(&trg);

		table_set_u64(&trg, row, RC_START, r->start);
		table_set_u64(&trg, row, RC_SIZE, r->end - r->start);
		table_set_str(&trg, row, RC_KIND, kind_names[r->kind]);
		table_set_u64(&trg, row, RC_TID, (uint64_t)r->tid);
		table_set_str(&trg, row, RC_NAME, t->names[r->name]);
		table_set_u64(&trg, row, RC_AGE, (now - r->born_ns) / 1000000);
		if (r->stack != UINT32_MAX) {
			const struct trace_stack *st = &t->stacks[r->stack];

			table_set_str(&trg, row, RC_SITE, frame_text(st, site_index(st), buf,
								      sizeof(buf)));
		}
	}

	if (o->json) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_u64(&j, "pid", (uint64_t)(t->opts.argv ? t->child : t->opts.pid));
		if (t->opts.argv) {
			json_arr_begin(&j, "command");
			for (char **a = t->opts.argv; *a; a++)
				json_str(&j, NULL, *a);
			json_arr_end(&j);
			json_i64(&j, "exit_code", exit_code);
		}
		json_u64(&j, "duration_ms", t->elapsed_ns / 1000000);
		json_u64(&j, "started_at_ms", t->start_unix_ns / 1000000);
		json_u64(&j, "ended_at_ms", t->end_unix_ns / 1000000);
		json_u64(&j, "calls", t->seq);
		json_u64(&j, "outstanding_bytes", outstanding);
		json_u64(&j, "regions", nregs);
		json_u64(&j, "images_ended", nexited);
		json_u64(&j, "released_bytes", released);
		json_u64(&j, "released_regions", nreleased);
		table_json(&tp, &j, "by_process");
		table_json(&tn, &j, "by_thread_name");
		json_arr_begin(&j, "by_stack");
		for (size_t i = 0; i < nsr && (int)i < o->top && sr[i].outstanding; i++) {
			json_obj_begin(&j, NULL);
			json_u64(&j, "outstanding_bytes", sr[i].outstanding);
			json_u64(&j, "regions", sr[i].regions);
			json_arr_begin(&j, "threads");
			for (int k = 0; k < 4 && sr[i].names[k]; k++)
				json_str(&j, NULL, t->names[sr[i].names[k] - 1]);
			json_arr_end(&j);
			if (sr[i].stack != UINT32_MAX) {
				const struct trace_stack *st = &t->stacks[sr[i].stack];

				json_u64(&j, "mapped_bytes", st->mapped);
				json_u64(&j, "calls", st->calls);
				json_str(&j, "site",
					 frame_text(st, site_index(st), buf, sizeof(buf)));
				json_stack(&j, st);
			}
			json_obj_end(&j);
		}
		json_arr_end(&j);
		table_json(&tt, &j, "threads");
		table_json(&tb, &j, "brk");
		table_json(&trg, &j, "regions_alive");
		json_obj_end(&j);
		json_finish(&j);
	} else {
		if (t->opts.argv)
			printf("offheap trace: '%s' (PID %d)", t->opts.argv[0], (int)t->child);
		else
			printf("offheap trace: process %d", (int)t->opts.pid);
		printf(", %.2f s, %" PRIu64 " calls, %s still mapped in %zu regions born "
		       "during the trace\n", (double)t->elapsed_ns / 1e9, t->seq,
		       format_size(buf, sizeof(buf), outstanding), nregs);
		if (released)
			printf("Released when their process exited or exec'd (not counted): %s in "
			       "%zu regions of %zu ended images\n",
			       format_size(buf, sizeof(buf), released), nreleased, nexited);
		/* one process that holds everything: the table would say what the line does */
		if (npr > 1 || (npr == 1 && released)) {
			printf("\nOutstanding by process image");
			if (npr > (size_t)o->top)
				printf(" (largest %d of %zu)", o->top, npr);
			printf(":\n");
			tp.nrows = npr < (size_t)o->top ? npr : (size_t)o->top;
			table_print(&tp, stdout);
			tp.nrows = npr;
		}
		printf("\nOutstanding by thread name (mapped minus unmapped during the trace):\n");
		table_print(&tn, stdout);
		printf("\nOutstanding by stack:\n");
		for (size_t i = 0; i < nsr && (int)i < o->top && sr[i].outstanding; i++) {
			printf("#%zu %s in %" PRIu64 " regions, threads:", i + 1,
			       format_size(buf, sizeof(buf), sr[i].outstanding), sr[i].regions);
			for (int k = 0; k < 4 && sr[i].names[k]; k++)
				printf(" %s", t->names[sr[i].names[k] - 1]);
			printf("\n");
			if (sr[i].stack == UINT32_MAX) {
				printf("    (no stack)\n");
				continue;
			}
			const struct trace_stack *st = &t->stacks[sr[i].stack];
			struct symbolizer *sym = trace_symbolizer(st);

			for (uint32_t d = 0; d < st->depth; d++) {
				const struct sym_frame *f = NULL;
				size_t n = 0;

				frame_syms(sym, st, d, &f, &n);
				if (jit_frame(st, d, f, n, buf, sizeof(buf))) {
					printf("    %s\n", buf);
					continue;
				}
				if (!n) {
					printf("    0x%" PRIx64 "\n", st->pcs[d]);
					continue;
				}
				for (size_t k = 0; k < n; k++)
					printf("    %s\n",
					       symbolize_format(&f[k], buf, sizeof(buf)));
			}
		}
		printf("\nPer thread:\n");
		table_print(&tt, stdout);
		if (tb.nrows) {
			printf("\nbrk:\n");
			table_print(&tb, stdout);
		}
		printf("\nRegions born during the trace and still mapped");
		if (nregs > (size_t)o->top)
			printf(" (largest %d of %zu)", o->top, nregs);
		printf(":\n");
		table_print(&trg, stdout);
	}
	table_release(&tn);
	table_release(&tt);
	table_release(&tb);
	table_release(&trg);
	table_release(&tp);
	free(pr);
	free(regs);
	free(nr);
	free(sr);
}

int cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "events", no_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "depth", required_argument, NULL, 'D' },
		{ "top", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		CMD_TABLE_OPTIONS_NO_OUTPUT,
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .top = 10 };
	struct trace_opts to = { .depth = 24 };
	struct strbuf err = STRBUF_INIT, cmdline = STRBUF_INIT;
	const char *output = NULL, *pid_arg = NULL;
	struct trace t;
	long long started_at;
	int c, ret, exit_code = EXIT_OK;
	bool command = false;

	/* Options may follow the PID (offheap trace PID -d 3s); a command comes after '--'. */
	for (;;) {
		c = getopt_long(argc, argv, "+d:o:h", longopts, NULL);
		if (c == -1) {
			command = optind > 1 && !strcmp(argv[optind - 1], "--");
			if (command || optind >= argc)
				break;
			if (pid_arg)
				usage_die("trace", "too many arguments (a command goes after '--')");
			pid_arg = argv[optind++];
			continue;
		}
		if (cmd_table_option(c, optarg, &o.style))
			continue;
		switch (c) {
		case 'd':
			if (parse_duration_ms(optarg, &to.duration_ms) || !to.duration_ms)
				usage_die("trace", "invalid duration '%s'", optarg);
			break;
		case 'e':
			o.events = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'D':
			if (parse_int(optarg, 0, 256, &to.depth))
				usage_die("trace", "invalid depth '%s' (0 to 256)", optarg);
			break;
		case 't':
			if (parse_int(optarg, 1, 100000, &o.top))
				usage_die("trace", "invalid count '%s'", optarg);
			break;
		case 'h':
			print_help(stdout);
			return EXIT_OK;
		default:
			usage_die("trace", "unknown option");
		}
	}
	cmd_table_check("trace", &o.style, colsets, 5);
	if (command && pid_arg)
		usage_die("trace", "give a PID or a command after '--', not both");
	if (command && optind >= argc)
		usage_die("trace", "no command after '--'");
	if (!command && !pid_arg)
		usage_die("trace", "no process given");
	if (command) {
		to.argv = argv + optind;
		for (int i = optind; i < argc; i++)
			strbuf_addf(&cmdline, "%s%s", i > optind ? " " : "", argv[i]);
	} else {
		if (cmd_resolve_pid(pid_arg, &to.pid))
			return EXIT_RUNTIME;
	}
	to.keep_events = output != NULL;
	/* The command's output would break the JSON: it goes where our diagnostics go. */
	to.stdout_to_stderr = command && o.json;
	if (o.events) {
		to.on_event = on_event;
		to.arg = &t;
	}
	started_at = (long long)time(NULL);
	ret = trace_run(&t, &to, &err);
	if (ret && !(command && t.child_exited && !err.len)) {
		error("%s", err.buf);
		if (ret == -EPERM) {
			cmd_hint_denied("run as the process owner or as root; ptrace may also be "
					"restricted by kernel.yama.ptrace_scope, a container's "
					"seccomp profile or a missing CAP_SYS_PTRACE",
					"offheap runs as root already: ptrace is refused by Yama's "
					"kernel.yama.ptrace_scope 3, a container's seccomp profile, a "
					"missing CAP_SYS_PTRACE or a security module");
		} else if (ret == -EBUSY) {
			hint("a process can have one tracer only (a debugger, strace, or another "
			     "offheap trace): stop that one first");
		}
		/* As a shell: 127 not found, 126 found but not runnable. */
		if (command && t.child_exited &&
		    (ret == -ENOENT || ret == -EACCES || ret == -ENOEXEC))
			exit_code = ret == -ENOENT ? 127 : 126;
		else
			exit_code = EXIT_RUNTIME;
		trace_release(&t);
		strbuf_release(&err);
		strbuf_release(&cmdline);
		return exit_code;
	}
	if (command && t.child_exited) {
		if (WIFEXITED(t.child_status))
			exit_code = WEXITSTATUS(t.child_status);
		else if (WIFSIGNALED(t.child_status))
			exit_code = 128 + WTERMSIG(t.child_status);
	} else if (command) {
		/* Never pass an unknown end for a success. */
		warning("the command's exit status was not seen");
		exit_code = EXIT_RUNTIME;
	}
	if (t.undetached)
		warning("%u threads did not stop to be detached", t.undetached);
	/* A JVM's JIT code has no symbols: its perf map names it (detached by now). */
	if (!command) {
		strbuf_reset(&err);
		ret = jitmap_fetch(to.pid, JIT_MAP_TIMEOUT_MS, &jit, &err);
		if (ret && ret != -ENODEV)
			warning("Java frames stay addresses: %s", err.buf);
	}
	report(&t, &o, exit_code);
	fflush(stdout);
	if (output) {
		struct store *st = NULL;

		strbuf_reset(&err);
		if (store_open_append(output, &st, &err) ||
		    tracedb_write(st, &t, command ? cmdline.buf : NULL, started_at,
				  command && t.child_exited ? exit_code : -1, &jit, &err) ||
		    store_commit(st, &err)) {
			error("%s", err.buf);
			exit_code = EXIT_RUNTIME;
		}
		store_close(st);
	}
	perfmap_release(&jit);
	trace_release(&t);
	strbuf_release(&err);
	strbuf_release(&cmdline);
	return exit_code;
}
