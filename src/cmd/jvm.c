/* jvm: one screen answering "where is this JVM's memory" — heap, NMT, what NMT cannot see, caps, budget. */
#include "cmd.h"
#include "cmdutil.h"
#include "attach.h"
#include "json.h"
#include "jvmmem.h"
#include "parse.h"
#include "strbuf.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *sz(char *buf, size_t n, int64_t v)
{
	if (v < 0)
		return "?";
	return format_size(buf, n, (uint64_t)v);
}

static void row(const char *label, int64_t bytes, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void row(const char *label, int64_t bytes, const char *fmt, ...)
{
	char b[32];
	va_list ap;

	printf("  %-22s %11s", label, sz(b, sizeof(b), bytes));
	if (fmt && *fmt) {
		fputs("   ", stdout);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	putchar('\n');
}

static int cmp_cat(const void *a, const void *b)
{
	const struct nmt_category *x = *(const struct nmt_category *const *)a;
	const struct nmt_category *y = *(const struct nmt_category *const *)b;

	return (x->committed.val < y->committed.val) - (x->committed.val > y->committed.val);
}

static const char *cat_note(const char *name)
{
	if (!strcmp(name, "Other"))
		return "direct buffers, Unsafe.allocateMemory";
	if (!strcmp(name, "Internal"))
		return "JDK 8: also direct buffers";
	if (!strcmp(name, "Class"))
		return "class metadata (metaspace)";
	if (!strcmp(name, "Thread"))
		return "thread stacks and thread data";
	if (!strcmp(name, "Code"))
		return "JIT code cache";
	if (!strcmp(name, "Symbol"))
		return "symbols, interned strings";
	if (!strcmp(name, "GC"))
		return "collector data structures";
	return "";
}

static void print_text(const struct jvmmem *j, const struct jvm_budget *b)
{
	const struct snapshot *s = &j->snap;
	const struct jvm_flags *f = &j->flags;
	char x[32], y[32], z[32];

	printf("JVM %d: %s\n", (int)s->pid, *s->cmdline ? s->cmdline : s->status.name);
	if (j->have_hsperf)
		printf("%s %s, up %" PRId64 " s, NMT %s\n", j->vm.vm_name ? j->vm.vm_name : "JVM",
		       j->vm.vm_version ? j->vm.vm_version : "", j->vm.uptime_ms / 1000,
		       hsperf_nmt_name(j->vm.nmt));

	printf("\nProcess (what the kernel charges)\n");
	row("RSS", (int64_t)s->status.vm_rss, "anon %s, file %s, shmem %s",
	    sz(x, sizeof(x), (int64_t)s->status.rss_anon), sz(y, sizeof(y), (int64_t)s->status.rss_file),
	    sz(z, sizeof(z), (int64_t)s->status.rss_shmem));
	row("swap", (int64_t)s->status.vm_swap, NULL);
	if (s->cgroup.known)
		row("cgroup usage", (int64_t)s->cgroup.usage, "limit %s (%s)",
		    s->cgroup.limit < 0 ? "none" : sz(x, sizeof(x), s->cgroup.limit), s->cgroup.path);

	printf("\nJava heap\n");
	row("max", j->heap_max ? (int64_t)j->heap_max : -1, "MaxHeapSize (-Xmx)");
	row("committed", j->heap_committed ? (int64_t)j->heap_committed : -1, NULL);
	row("used", j->have_heap_used ? (int64_t)j->heap_used : -1,
	    "live and not yet collected objects (%s)",
	    j->heap_from_jcmd ? "GC.heap_info" : "hsperfdata, as of the last GC");
	if (j->have_heap_range)
		row("resident", (int64_t)j->heap_rss,
		    "the part of the heap in RAM [%#" PRIx64 ", %#" PRIx64 ")", j->heap_lo,
		    j->heap_hi);
	else if (j->have_heap_rss)
		row("resident", (int64_t)j->heap_rss,
		    "the part of the heap in RAM (ZGC's java_heap)");
	else
		row("resident", -1, "%s",
		    j->have_heap_info ? "unknown: GC.heap_info printed no heap addresses"
				      : "unknown: GC.heap_info did not answer");

	if (j->have_nmt) {
		const struct nmt_category **order = xmalloc(sizeof(*order) * (j->nmt.ncats + 1));

		printf("\nNative Memory Tracking (committed)\n");
		for (size_t i = 0; i < j->nmt.ncats; i++)
			order[i] = &j->nmt.cats[i];
		qsort(order, j->nmt.ncats, sizeof(*order), cmp_cat);
		for (size_t i = 0; i < j->nmt.ncats; i++)
			if (order[i]->committed.val >= 1024 * 1024)
				row(order[i]->name, (int64_t)order[i]->committed.val, "%s",
				    cat_note(order[i]->name));
		row("total", b->nmt_committed, "reserved %s",
		    sz(x, sizeof(x), (int64_t)j->nmt.total_reserved.val));
		free(order);
	} else {
		printf("\nNative Memory Tracking: %s\n",
		       j->have_hsperf && j->vm.nmt == HSPERF_NMT_OFF
			       ? "off — restart with -XX:NativeMemoryTracking=summary to see categories"
			       : "not available");
	}

	printf("\nThreads, metaspace, code, direct memory\n");
	{
		int64_t xss = f->thread_stack.set ? (int64_t)f->thread_stack.val * 1024 : -1;

		row("thread stacks", (int64_t)j->stack_rss,
		    "resident; %zu threads (%" PRId64 " Java) x %s -Xss", s->nthreads,
		    j->have_hsperf ? j->vm.threads_live : -1, sz(x, sizeof(x), xss));
	}
	if (j->have_hsperf && j->vm.metaspace_used >= 0)
		row("metaspace used", j->vm.metaspace_used, "capacity %s; class space used %s",
		    sz(x, sizeof(x), j->vm.metaspace_capacity), sz(y, sizeof(y), j->vm.ccs_used));
	if (j->have_hsperf && j->vm.nmethod_code_size >= 0)
		row("JIT code", j->vm.nmethod_code_size, "cap %s ReservedCodeCacheSize",
		    sz(x, sizeof(x), f->code_cache.set ? (int64_t)f->code_cache.val : -1));
	row("direct memory", b->direct, "%s",
	    b->direct < 0 ? "needs NMT"
			  : "NMT Other (direct buffers, Unsafe); cap MaxDirectMemorySize");

	printf("\nNative memory outside NMT\n");
	row("at least", b->outside_nmt_rss, "%s",
	    !j->have_nmt ? "needs NMT"
			 : "of anonymous RSS that no NMT category can hold (RssAnon - NMT, heap and "
			   "stacks by RSS)");
	row("C-heap - NMT malloc", b->outside_nmt_cheap, "%s",
	    j->have_cheap ? "glibc's outstanding malloc bytes that NMT did not make"
			  : "needs VM.info C-Heap figures (JDK 21+ on glibc) and NMT");
	row("glibc arenas", (int64_t)j->arena_rss, "%" PRIu64 " arenas resident (MALLOC_ARENA_MAX caps them)",
	    j->arena_count);

	printf("\nBudget\n");
	if (b->worst_case >= 0) {
		uint64_t heap = f->max_heap.val;
		uint64_t direct = f->max_direct.set && f->max_direct.val ? f->max_direct.val : heap;

		row("worst case", b->worst_case,
		    "heap %s + direct %s + metaspace %s + code cache %s + stacks + the rest as now",
		    sz(x, sizeof(x), (int64_t)heap), sz(y, sizeof(y), (int64_t)direct),
		    b->worst_unbounded ? "unbounded (MaxMetaspaceSize not set)"
				       : sz(z, sizeof(z), (int64_t)f->max_metaspace.val),
		    sz((char[32]){ 0 }, 32, (int64_t)f->code_cache.val));
		if (b->limit > 0) {
			double pct = 100.0 * (double)b->worst_case / (double)b->limit;

			row("container limit", b->limit, "the flags allow %.0f%% of it%s", pct,
			    pct > 100 ? ": the container can OOM-kill this JVM" : "");
		} else {
			printf("  no container memory limit\n");
		}
	} else {
		printf("  unknown: needs VM.flags over the attach socket\n");
	}
	if (!j->attach_ok || j->attach_error[0])
		printf("\nnot checked: %s\n", j->attach_error[0] ? j->attach_error : "attach failed");
	if (j->hsperf_error[0])
		printf("%snot checked: the JVM's counters (hsperfdata): %s\n",
		       !j->attach_ok || j->attach_error[0] ? "" : "\n", j->hsperf_error);
}

static void print_json(const struct jvmmem *j, const struct jvm_budget *b)
{
	const struct snapshot *s = &j->snap;
	struct json js;

	json_init(&js, stdout);
	json_obj_begin(&js, NULL);
	json_i64(&js, "pid", s->pid);
	json_str(&js, "cmdline", s->cmdline);
	json_str(&js, "nmt", j->have_hsperf ? hsperf_nmt_name(j->vm.nmt) : NULL);
	json_str(&js, "vm_version", j->have_hsperf ? j->vm.vm_version : NULL);
	json_obj_begin(&js, "process");
	json_u64(&js, "rss", s->status.vm_rss);
	json_u64(&js, "rss_anon", s->status.rss_anon);
	json_u64(&js, "rss_file", s->status.rss_file);
	json_u64(&js, "rss_shmem", s->status.rss_shmem);
	json_u64(&js, "swap", s->status.vm_swap);
	json_u64(&js, "threads", s->nthreads);
	if (s->cgroup.known) {
		json_i64(&js, "cgroup_limit", s->cgroup.limit);
		json_u64(&js, "cgroup_usage", s->cgroup.usage);
	}
	json_obj_end(&js);
	json_obj_begin(&js, "heap");
	json_u64(&js, "max", j->heap_max);
	json_u64(&js, "committed", j->heap_committed);
	json_u64(&js, "used", j->heap_used);
	json_str(&js, "source", j->heap_from_jcmd ? "GC.heap_info"
				: j->have_heap_used ? "hsperfdata" : NULL);
	if (j->have_heap_rss)
		json_u64(&js, "resident", j->heap_rss);
	if (j->have_heap_range) {
		json_u64(&js, "start", j->heap_lo);
		json_u64(&js, "end", j->heap_hi);
	}
	json_obj_end(&js);
	if (j->have_nmt) {
		json_arr_begin(&js, "nmt_categories");
		for (size_t i = 0; i < j->nmt.ncats; i++) {
			json_obj_begin(&js, NULL);
			json_str(&js, "name", j->nmt.cats[i].name);
			json_u64(&js, "reserved", j->nmt.cats[i].reserved.val);
			json_u64(&js, "committed", j->nmt.cats[i].committed.val);
			json_obj_end(&js);
		}
		json_arr_end(&js);
	}
	json_obj_begin(&js, "native");
	json_u64(&js, "stack_rss", j->stack_rss);
	json_u64(&js, "arena_rss", j->arena_rss);
	json_u64(&js, "arena_count", j->arena_count);
	if (j->have_cheap) {
		json_u64(&js, "cheap_outstanding", j->cheap_outstanding);
		json_u64(&js, "cheap_retained", j->cheap_retained);
	}
	json_i64(&js, "nmt_committed", b->nmt_committed);
	json_i64(&js, "nmt_touched", b->nmt_touched);
	json_i64(&js, "outside_nmt_rss", b->outside_nmt_rss);
	json_i64(&js, "outside_nmt_cheap", b->outside_nmt_cheap);
	json_i64(&js, "direct", b->direct);
	json_obj_end(&js);
	if (j->have_hsperf) {
		json_obj_begin(&js, "counters");
		json_i64(&js, "threads_live", j->vm.threads_live);
		json_i64(&js, "classes_loaded", j->vm.classes_loaded);
		json_i64(&js, "classes_unloaded", j->vm.classes_unloaded);
		json_i64(&js, "metaspace_used", j->vm.metaspace_used);
		json_i64(&js, "metaspace_capacity", j->vm.metaspace_capacity);
		json_i64(&js, "nmethod_code_size", j->vm.nmethod_code_size);
		json_obj_end(&js);
	}
	if (j->have_flags) {
		json_obj_begin(&js, "flags");
		if (j->flags.max_heap.set)
			json_u64(&js, "MaxHeapSize", j->flags.max_heap.val);
		if (j->flags.thread_stack.set)
			json_u64(&js, "ThreadStackSize", j->flags.thread_stack.val * 1024);
		if (j->flags.max_metaspace.set)
			json_u64(&js, "MaxMetaspaceSize", j->flags.max_metaspace.val);
		if (j->flags.max_direct.set)
			json_u64(&js, "MaxDirectMemorySize", j->flags.max_direct.val);
		if (j->flags.code_cache.set)
			json_u64(&js, "ReservedCodeCacheSize", j->flags.code_cache.val);
		json_obj_end(&js);
	}
	json_obj_begin(&js, "budget");
	json_i64(&js, "worst_case", b->worst_case);
	json_bool(&js, "unbounded", b->worst_unbounded);
	json_i64(&js, "limit", b->limit);
	json_obj_end(&js);
	json_str(&js, "attach_error", j->attach_error[0] ? j->attach_error : NULL);
	json_str(&js, "hsperf_error", j->hsperf_error[0] ? j->hsperf_error : NULL);
	json_obj_end(&js);
	json_finish(&js);
}

static void print_help(void)
{
	printf("usage: offheap jvm PID [--json] [--timeout DURATION]\n\n"
	       "Where a JVM's memory is, on one screen: RSS as the kernel charges it, the Java\n"
	       "heap (max, committed, used, and how much of it is resident), NMT categories\n"
	       "when NMT is on, thread stacks, metaspace, JIT code, direct memory, native memory\n"
	       "outside NMT (anonymous RSS that NMT does not account for; VM.info's C-heap\n"
	       "outstanding minus NMT malloc), glibc arenas, the caps from VM.flags and the\n"
	       "cgroup limit, and a budget: the worst case the flags allow against that limit.\n"
	       "Reads /proc and hsperfdata; asks the JVM over its attach socket for VM.flags,\n"
	       "GC.heap_info, VM.native_memory summary and VM.info. What it could not ask is\n"
	       "said at the end.\n\n"
	       "Options:\n"
	       "      --json             everything as JSON (bytes)\n"
	       "  -t, --timeout DURATION attach timeout (default 10s)\n"
	       "  -h, --help             this help\n\n"
	       "Exit status: 0 ok, 1 no such process / not a JVM / unreadable, 2 usage error.\n\n"
	       "EXAMPLES\n"
	       "  offheap jvm 4242\n"
	       "  offheap jvm java --json | jq .budget\n");
}

int cmd_jvm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pid_arg = NULL;
	uint64_t timeout_ms = ATTACH_DEFAULT_TIMEOUT_MS;
	bool json = false;
	struct jvmmem j;
	struct jvm_budget b;
	struct strbuf err = STRBUF_INIT;
	pid_t pid;
	int c, ret;

	while ((c = cmd_getopt(argc, argv, "+t:h", opts, &pid_arg)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 't':
			timeout_ms = cmd_opt_duration("jvm", "--timeout", optarg, 1, 3600000);
			break;
		case 'h':
			print_help();
			return EXIT_OK;
		case 1:
			usage_die("jvm", "one PID only");
		default:
			usage_die("jvm", "unknown option");
		}
	}
	if (!pid_arg)
		usage_die("jvm", "a PID is needed");
	if (cmd_resolve_pid(pid_arg, &pid))
		return EXIT_RUNTIME;
	jvmmem_init(&j);
	ret = jvmmem_collect(pid, (int)timeout_ms, &j, &err);
	if (ret) {
		cmd_report_error(ret, err.buf);
		if (ret == -ENOTSUP)
			hint("'offheap maps %d' shows any process's memory", (int)pid);
		ret = EXIT_RUNTIME;
		goto out;
	}
	jvmmem_budget(&j, &b);
	if (json)
		print_json(&j, &b);
	else
		print_text(&j, &b);
	ret = EXIT_OK;
out:
	jvmmem_release(&j);
	strbuf_release(&err);
	return ret;
}
