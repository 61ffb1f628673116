/*
 * trace: follow mmap/munmap/mremap/brk/madvise/shmat/shmdt with ptrace, per thread and stack.
 *
 * Two ways in. With a command, the child stops itself, we PTRACE_SEIZE it,
 * and before execve it installs a seccomp filter whose BPF program returns
 * SECCOMP_RET_TRACE for the traced calls and SECCOMP_RET_ALLOW for all
 * others, so only traced calls stop (PTRACE_EVENT_SECCOMP, Linux ≥ 3.5;
 * since 4.8 that stop counts as syscall-entry, so PTRACE_SYSCALL from it
 * stops once more at that call's exit, where we read the result). The
 * filter outlives us: a tracee whose tracer is gone gets ENOSYS for the
 * traced calls, so the command is run with PTRACE_O_EXITKILL.
 *
 * With a PID, every thread in /proc/PID/task is seized (the list is read
 * again until a pass finds nothing new, for threads born meanwhile), then
 * interrupted and resumed with PTRACE_SYSCALL: every system call of the
 * target stops twice, the cost of attaching to a running process.
 *
 * Both ways follow new threads (PTRACE_O_TRACECLONE) and, for a command,
 * new processes (fork/vfork) and execve. PTRACE_GET_SYSCALL_INFO (Linux
 * 5.3) says whether a stop is an entry or an exit, so a thread seized in
 * the middle of a call is never misread. Group-stops (PTRACE_EVENT_STOP
 * with a stop signal) are left stopped with PTRACE_LISTEN, and every
 * signal-delivery-stop is resumed with its signal, so the target sees its
 * signals as before (man 2 ptrace, "Group-stop").
 *
 * The calls that change the map of one address space are let into the
 * kernel one at a time (gate_enter()): ptrace reports their exits in no
 * particular order, and an munmap and the mmap that gets the same address
 * back must be applied in the order the kernel made them.
 *
 * The stack at each traced call is unwound remotely while the thread sits
 * in its syscall-entry stop, with libunwind-ptrace (DWARF CFI, so code
 * built without frame pointers unwinds too). A JVM's Java frames have no
 * CFI: where the unwind reaches its code, hotspot.c walks and names them
 * from the JVM's own structures, and libunwind starts again past them.
 */
#include "trace.h"
#include "hotspot.h"
#include "procfs.h"
#include "strbuf.h"
#include "symbolize.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libunwind-ptrace.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE_ROUND(x) (((x) + 4095) & ~(uint64_t)4095)

/*
 * What our libunwind accessors get: libunwind-ptrace's own state, plus the
 * registers read once per stop (PTRACE_GETREGS instead of one PTRACE_PEEKUSER
 * each) and /proc/TID/mem for memory (one pread instead of PTRACE_PEEKDATA).
 */
#define UA_PAGES 8

struct unw_arg {
	void *upt;			/* _UPT_create() state */
	pid_t tid;
	int memfd;			/* /proc/TID/mem, or -1 */
	bool have_regs;			/* regs holds this stop's registers */
	struct user_regs_struct regs;
	/* Pages read during this stop: one pread of a page costs what one of a word does. */
	uint64_t page_addr[UA_PAGES];	/* page address + 1, 0 = empty */
	unsigned next_page;		/* round-robin victim */
	unsigned char page[UA_PAGES][4096];
};

/* A traced thread. */
struct tthread {
	pid_t tid;
	struct trace_mm *mm;
	unsigned stat;			/* index into trace.threads */
	struct unw_arg *upt;		/* unwinding state for this thread, or NULL */
	bool pending;			/* a traced call entered, result not read yet */
	struct trace_event ev;		/* that call */
	bool gone;			/* exited or detached */
	bool foreign;			/* not ours (another process in attach mode): detach */
	bool waiting;			/* left stopped at entry until its gate opens */
	struct tthread *next_waiting;	/* the next one in that gate's queue */
	uint64_t comm_ns;		/* trace time its name was last read */
};

/*
 * One per address space: the thread whose map-changing call is in the kernel
 * (entered, exit not yet seen), and the threads stopped at the entry of such a
 * call, in the order they arrived. See gate_enter().
 */
struct gate {
	struct tthread *holder;		/* NULL: open */
	uint64_t since_ns;		/* trace time the holder went in */
	struct tthread *head, *tail;	/* waiting, through tthread.next_waiting */
};

/* A holder that takes longer lets the next one go (see gate_expire()). */
#define GATE_HOLD_NS 1000000000ULL

struct tracer {
	struct tthread **threads;
	size_t nthreads, alloc;
	struct timespec t0;
	bool stopping;
	bool execd;			/* the command's execve succeeded */
	int errpipe;			/* the command's exec errno arrives here, or -1 */
	struct tthread *recent[1024];	/* by TID % 1024: most lookups end here */
	struct gate *gates;		/* by trace_mm.id - 1 */
	size_t ngates;
	uint64_t gates_ns;		/* trace time gate_expire() last looked */
};

static const int sys_nr[TRACE_NSYS] = {
	[TRACE_MMAP] = SYS_mmap,	[TRACE_MUNMAP] = SYS_munmap,
	[TRACE_MREMAP] = SYS_mremap,	[TRACE_BRK] = SYS_brk,
	[TRACE_MADVISE] = SYS_madvise,	[TRACE_SHMAT] = SYS_shmat,
	[TRACE_SHMDT] = SYS_shmdt,
};

static const char *const sys_names[TRACE_NSYS] = {
	"mmap", "munmap", "mremap", "brk", "madvise", "shmat", "shmdt",
};

const char *trace_sys_name(enum trace_sys sys)
{
	return sys < TRACE_NSYS ? sys_names[sys] : "?";
}

static int sys_from_nr(uint64_t nr)
{
	for (int i = 0; i < TRACE_NSYS; i++)
		if ((uint64_t)sys_nr[i] == nr)
			return i;
	return -1;
}

static uint64_t now_ns(const struct tracer *tr)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)(ts.tv_sec - tr->t0.tv_sec) * 1000000000ULL +
	       (uint64_t)(ts.tv_nsec - tr->t0.tv_nsec);
}

/* ---- the model: names, threads, stacks, address spaces, regions ---- */

static uint32_t intern_name(struct trace *t, const char *name)
{
	for (size_t i = 0; i < t->nnames; i++)
		if (!strncmp(t->names[i], name, 16))
			return (uint32_t)i;
	ALLOC_GROW(t->names, t->nnames + 1, t->names_alloc);
	snprintf(t->names[t->nnames], 16, "%s", name);
	return (uint32_t)t->nnames++;
}

static void read_comm(pid_t pid, pid_t tid, char name[16])
{
	struct strbuf sb = STRBUF_INIT;
	char rel[64];

	snprintf(rel, sizeof(rel), "task/%d/comm", (int)tid);
	if (procfs_read_pid(pid, rel, &sb, 256) == 0) {
		strbuf_rtrim(&sb);
		snprintf(name, 16, "%s", sb.buf);
	} else if (!name[0]) {
		snprintf(name, 16, "?");
	}
	strbuf_release(&sb);
}

/* The process (Tgid) a thread belongs to, from /proc/TID/status; 0 when gone. */
static pid_t read_tgid(pid_t tid)
{
	struct strbuf sb = STRBUF_INIT;
	pid_t tgid = 0;
	const char *p;

	if (procfs_read_pid(tid, "status", &sb, 1 << 16) == 0 &&
	    (p = strstr(sb.buf, "\nTgid:")))
		tgid = (pid_t)strtol(p + 6, NULL, 10);
	strbuf_release(&sb);
	return tgid;
}

static unw_accessors_t ua_accessors;
static void mods_free(struct unw_mods *m);

static struct trace_mm *mm_new(struct trace *t, pid_t pid)
{
	struct trace_mm *mm = xcalloc(1, sizeof(*mm));

	mm->id = (unsigned)t->nmms + 1;
	mm->pid = pid;
	read_comm(pid, pid, mm->comm);
	mm->unw_as = unw_create_addr_space(&ua_accessors, 0);
	if (mm->unw_as)
		unw_set_caching_policy(mm->unw_as, UNW_CACHE_GLOBAL);
	ALLOC_GROW(t->mms, t->nmms + 1, t->mms_alloc);
	t->mms[t->nmms++] = mm;
	return mm;
}

static void mm_free(struct trace_mm *mm)
{
	if (!mm)
		return;
	free(mm->regions);
	symbolize_free(mm->sym);
	mods_free(mm->unw_mods);
	hotspot_close(mm->hs);
	for (size_t i = 0; i < mm->njframes; i++) {
		free(mm->jframes[i].name);
		free(mm->jframes[i].file);
	}
	free(mm->jframes);
	if (mm->unw_as)
		unw_destroy_addr_space(mm->unw_as);
	free(mm);
}

/* Index of the first region whose end is above addr. */
static size_t region_find(const struct trace_mm *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm->nregions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mm->regions[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Removes [a, b) from the map, splitting regions it cuts. The parts
 * removed are appended to *out (when out is not NULL; caller frees).
 * Returns the bytes removed.
 */
static uint64_t region_remove(struct trace_mm *mm, uint64_t a, uint64_t b,
			      struct trace_region **out, size_t *nout, size_t *aout)
{
	size_t i = region_find(mm, a);
	uint64_t removed = 0;

	while (i < mm->nregions && mm->regions[i].start < b) {
		struct trace_region *r = &mm->regions[i];
		uint64_t cs = r->start > a ? r->start : a;
		uint64_t ce = r->end < b ? r->end : b;

		removed += ce - cs;
		if (out) {
			ALLOC_GROW(*out, *nout + 1, *aout);
			(*out)[*nout] = *r;
			(*out)[*nout].start = cs;
			(*out)[*nout].end = ce;
			(*nout)++;
		}
		if (r->start < a && r->end > b) {
			struct trace_region tail = *r;

			tail.start = b;
			r->end = a;
			ALLOC_GROW(mm->regions, mm->nregions + 1, mm->alloc);
			memmove(&mm->regions[i + 2], &mm->regions[i + 1],
				(mm->nregions - i - 1) * sizeof(*mm->regions));
			mm->regions[i + 1] = tail;
			mm->nregions++;
			break;
		} else if (r->start < a) {
			r->end = a;
			i++;
		} else if (r->end > b) {
			r->start = b;
			break;
		} else {
			memmove(&mm->regions[i], &mm->regions[i + 1],
				(mm->nregions - i - 1) * sizeof(*mm->regions));
			mm->nregions--;
		}
	}
	return removed;
}

/* Inserts r, replacing whatever it overlaps; returns the bytes of known regions replaced. */
static uint64_t region_insert(struct trace_mm *mm, const struct trace_region *r)
{
	uint64_t replaced;
	size_t i;

	if (r->end <= r->start)
		return 0;
	replaced = region_remove(mm, r->start, r->end, NULL, NULL, NULL);
	i = region_find(mm, r->start);
	ALLOC_GROW(mm->regions, mm->nregions + 1, mm->alloc);
	memmove(&mm->regions[i + 1], &mm->regions[i], (mm->nregions - i) * sizeof(*mm->regions));
	mm->regions[i] = *r;
	mm->nregions++;
	return replaced;
}

static uint32_t stack_intern(struct trace *t, struct trace_mm *mm, const uint64_t *pcs,
			     uint32_t depth)
{
	uint64_t h = 1469598103934665603ULL ^ mm->id;
	size_t mask, j;

	for (uint32_t i = 0; i < depth; i++)
		h = (h ^ pcs[i]) * 1099511628211ULL;
	if ((t->nstacks + 1) * 2 > t->stack_hash_size) {
		size_t n = t->stack_hash_size ? t->stack_hash_size * 2 : 1024;

		free(t->stack_hash);
		t->stack_hash = xcalloc(n, sizeof(*t->stack_hash));
		t->stack_hash_size = n;
		for (size_t s = 0; s < t->nstacks; s++) {
			j = t->stacks[s].hash & (n - 1);
			while (t->stack_hash[j])
				j = (j + 1) & (n - 1);
			t->stack_hash[j] = (uint32_t)s + 1;
		}
	}
	mask = t->stack_hash_size - 1;
	for (j = h & mask; t->stack_hash[j]; j = (j + 1) & mask) {
		struct trace_stack *st = &t->stacks[t->stack_hash[j] - 1];

		if (st->hash == h && st->mm == mm && st->depth == depth &&
		    !memcmp(st->pcs, pcs, depth * sizeof(*pcs)))
			return t->stack_hash[j] - 1;
	}
	ALLOC_GROW(t->stacks, t->nstacks + 1, t->stacks_alloc);
	struct trace_stack *st = &t->stacks[t->nstacks];

	memset(st, 0, sizeof(*st));
	st->mm = mm;
	st->hash = h;
	st->depth = depth;
	st->pcs = xmalloc((depth ? depth : 1) * sizeof(*pcs));
	memcpy(st->pcs, pcs, depth * sizeof(*pcs));
	t->stack_hash[j] = (uint32_t)t->nstacks + 1;
	/* Make sure the modules are known while the process is alive and stopped. */
	if (!mm->sym)
		symbolize_new(mm->pid, &mm->sym, NULL);
	if (mm->sym)
		for (uint32_t i = 0; i < depth; i++)
			if (!(pcs[i] & TRACE_JAVA_TAG))
				symbolize_note(mm->sym, pcs[i]);
	return (uint32_t)t->nstacks++;
}

struct symbolizer *trace_symbolizer(const struct trace_stack *st)
{
	return st->mm ? st->mm->sym : NULL;
}

const struct trace_jframe *trace_java_frame(const struct trace_stack *st, uint32_t d)
{
	uint64_t i;

	if (d >= st->depth || !(st->pcs[d] & TRACE_JAVA_TAG) || !st->mm)
		return NULL;
	i = st->pcs[d] & ~TRACE_JAVA_TAG;
	return i < st->mm->njframes ? &st->mm->jframes[i] : NULL;
}

char *trace_java_frame_text(const struct trace_jframe *j, char *buf, size_t n)
{
	struct hotspot_name nm = { .line = j->line, .native = j->native };
	size_t len = (size_t)snprintf(buf, n, "[java] ");

	snprintf(nm.method, sizeof(nm.method), "%s", j->name);
	snprintf(nm.file, sizeof(nm.file), "%s", j->file ? j->file : "");
	if (len < n)
		hotspot_name_format(&nm, buf + len, n - len);
	return buf;
}

/* ---- threads ---- */

static struct tthread *thread_find(struct tracer *tr, pid_t tid)
{
	struct tthread **slot = &tr->recent[(unsigned)tid % 1024];

	if (*slot && (*slot)->tid == tid && !(*slot)->gone)
		return *slot;
	/* Every thread ever seen stays in the list: search from the newest. */
	for (size_t i = tr->nthreads; i-- > 0;) {
		if (tr->threads[i]->tid == tid && !tr->threads[i]->gone) {
			*slot = tr->threads[i];
			return *slot;
		}
	}
	return NULL;
}

static struct trace_mm *mm_for_pid(struct trace *t, pid_t pid)
{
	for (size_t i = t->nmms; i-- > 0;)
		if (t->mms[i]->pid == pid && !t->mms[i]->exited)
			return t->mms[i];
	return mm_new(t, pid);
}

static struct tthread *thread_add(struct trace *t, struct tracer *tr, pid_t tid, pid_t pid)
{
	struct tthread *th = xcalloc(1, sizeof(*th));
	struct trace_thread *ts;

	th->tid = tid;
	th->mm = mm_for_pid(t, pid);
	ALLOC_GROW(t->threads, t->nthreads + 1, t->threads_alloc);
	ts = &t->threads[t->nthreads];
	memset(ts, 0, sizeof(*ts));
	ts->tid = tid;
	ts->pid = pid;
	read_comm(pid, tid, ts->name);
	th->stat = (unsigned)t->nthreads++;
	ALLOC_GROW(tr->threads, tr->nthreads + 1, tr->alloc);
	tr->threads[tr->nthreads++] = th;
	tr->recent[(unsigned)tid % 1024] = th;
	return th;
}

static struct unw_arg *ua_current;

static void unw_arg_free(struct unw_arg *ua)
{
	if (!ua)
		return;
	if (ua == ua_current)
		ua_current = NULL;
	if (ua->upt)
		_UPT_destroy(ua->upt);
	if (ua->memfd >= 0)
		close(ua->memfd);
	free(ua);
}

static void thread_gone(struct tthread *th)
{
	th->gone = true;
	unw_arg_free(th->upt);
	th->upt = NULL;
}

/* ---- libunwind accessors: _UPT_* with faster register and memory reads ---- */

/*
 * The thread being unwound. libunwind-ptrace calls back into the address
 * space's accessors with its own state as the argument (from inside
 * _UPT_find_proc_info), so each accessor accepts either, and the module
 * state mod_upt_current as well while one is in use (ua_find_proc_info()).
 */
static void *mod_upt_current;

static struct unw_arg *ua_of(void *arg)
{
	if (ua_current && (arg == ua_current || arg == ua_current->upt ||
			   (mod_upt_current && arg == mod_upt_current)))
		return ua_current;
	return NULL;
}

static void *upt_of(void *arg)
{
	struct unw_arg *ua = ua_of(arg);

	return ua ? ua->upt : arg;
}

/*
 * Unwind tables by code module, per address space. A libunwind-ptrace state
 * keeps the tables of the last module it looked in only, and a miss reads
 * /proc/PID/maps and opens and maps the module's file again: one per thread
 * thrashed on every stack that crosses modules (libc, libjvm, libc again) and
 * every new thread started cold. Here each executable file mapping gets its
 * own state, shared by the threads of the address space; a mapping that goes
 * (munmap, mremap, MAP_FIXED over it) drops its state.
 */
#define MOD_SLOTS 32

struct unw_mod {
	uint64_t lo, hi;	/* the executable mapping: [lo, hi); hi 0 = empty slot */
	void *upt;		/* _UPT_create() state for its tables, NULL: not a file (JIT) */
	pid_t tid;		/* the thread it was made with (its /proc/TID/maps is read) */
	uint64_t used;		/* clock for least-recently-used eviction */
};

struct unw_mods {
	struct unw_mod slot[MOD_SLOTS];
	uint64_t clock;
};

static struct unw_mods *mods_current;	/* the address space being unwound */

static void mod_clear(struct unw_mod *s)
{
	if (s->upt)
		_UPT_destroy(s->upt);
	memset(s, 0, sizeof(*s));
}

static void mods_drop(struct unw_mods *m, uint64_t lo, uint64_t hi)
{
	for (int i = 0; m && i < MOD_SLOTS; i++)
		if (m->slot[i].hi && m->slot[i].lo < hi && lo < m->slot[i].hi)
			mod_clear(&m->slot[i]);
}

static void mods_free(struct unw_mods *m)
{
	mods_drop(m, 0, UINT64_MAX);
	free(m);
}

/*
 * The executable mapping of tid holding ip, from /proc/TID/maps: true and its
 * range, *file telling whether a file backs it; false when no such mapping.
 */
static bool exec_mapping(pid_t tid, uint64_t ip, uint64_t *lo, uint64_t *hi, bool *file)
{
	struct strbuf sb = STRBUF_INIT;
	bool found = false;

	if (procfs_read_pid(tid, "maps", &sb, 64 << 20) == 0) {
		for (const char *p = sb.buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
			char perms[5], *end;
			uint64_t a = strtoull(p, &end, 16), b;

			if (*end != '-')
				break;
			b = strtoull(end + 1, &end, 16);
			if (ip < a || ip >= b)
				continue;
			const char *nl = strchr(end, '\n');
			const char *path = strchr(end, '/');

			found = sscanf(end, " %4s", perms) == 1 && perms[2] == 'x';
			*file = path && (!nl || path < nl);
			*lo = a;
			*hi = b;
			break;
		}
	}
	strbuf_release(&sb);
	return found;
}

/* The slot of the executable mapping holding ip (filled on first use), or NULL. */
static struct unw_mod *mod_find(struct unw_mods *m, pid_t tid, uint64_t ip)
{
	struct unw_mod *victim;
	uint64_t lo, hi;
	bool file;

	if (!m)
		return NULL;
	victim = &m->slot[0];
	for (int i = 0; i < MOD_SLOTS; i++) {
		struct unw_mod *s = &m->slot[i];

		if (s->hi && s->lo <= ip && ip < s->hi) {
			s->used = ++m->clock;
			return s;
		}
		if (!s->hi || (victim->hi && s->used < victim->used))
			victim = s;
	}
	if (!exec_mapping(tid, ip, &lo, &hi, &file))
		return NULL;
	mod_clear(victim);
	victim->upt = file ? _UPT_create(tid) : NULL;
	victim->tid = tid;
	victim->lo = lo;
	victim->hi = hi;
	victim->used = ++m->clock;
	return victim;
}

static int mod_find_proc_info(unw_addr_space_t as, struct unw_mod *s, unw_word_t ip,
			      unw_proc_info_t *pi, int need)
{
	int ret;

	/* Its tables are read from the target through the current thread (ua_of()). */
	mod_upt_current = s->upt;
	ret = _UPT_find_proc_info(as, ip, pi, need, s->upt);
	mod_upt_current = NULL;
	return ret;
}

static int ua_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need,
			     void *arg)
{
	struct unw_arg *ua = ua_of(arg);
	struct unw_mod *s = ua ? mod_find(mods_current, ua->tid, ip) : NULL;
	int ret;

	if (!s)
		return _UPT_find_proc_info(as, ip, pi, need, upt_of(arg));
	/* JIT or interpreter code: no tables, and no need to read the maps again. */
	if (!s->upt)
		return -UNW_ENOINFO;
	ret = mod_find_proc_info(as, s, ip, pi, need);
	/* Made with a thread gone since, whose maps cannot be read: make it again with ours. */
	if (ret < 0 && s->tid != ua->tid && kill(s->tid, 0) < 0 && errno == ESRCH) {
		_UPT_destroy(s->upt);
		s->upt = _UPT_create(ua->tid);
		s->tid = ua->tid;
		if (s->upt)
			ret = mod_find_proc_info(as, s, ip, pi, need);
		else
			s->hi = 0;
	}
	return ret;
}

static void ua_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	_UPT_put_unwind_info(as, pi, upt_of(arg));
}

static int ua_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *dil, void *arg)
{
	return _UPT_get_dyn_info_list_addr(as, dil, upt_of(arg));
}

static int ua_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
			 void *arg)
{
	struct unw_arg *ua = ua_of(arg);

	if (ua && !write && ua->memfd >= 0 && (addr & 7) == 0) {
		uint64_t pa = addr & ~(uint64_t)4095;
		unsigned i;

		for (i = 0; i < UA_PAGES; i++)
			if (ua->page_addr[i] == pa + 1)
				break;
		if (i == UA_PAGES) {
			i = ua->next_page++ % UA_PAGES;
			ua->page_addr[i] = 0;
			if (pread(ua->memfd, ua->page[i], 4096, (off_t)pa) != 4096) {
				/* The page may be readable in part only: fall back to the word. */
				if (pread(ua->memfd, val, sizeof(*val), (off_t)addr) ==
				    (ssize_t)sizeof(*val))
					return 0;
				return -UNW_EINVAL;
			}
			ua->page_addr[i] = pa + 1;
		}
		memcpy(val, ua->page[i] + (addr - pa), sizeof(*val));
		return 0;
	}
	return _UPT_access_mem(as, addr, val, write, upt_of(arg));
}

static int ua_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write,
			 void *arg)
{
	struct unw_arg *ua = ua_of(arg);
	const struct user_regs_struct *r = ua ? &ua->regs : NULL;

	if (r && !write && ua->have_regs && reg >= 0 && reg <= UNW_X86_64_RIP) {
		const unsigned long long v[] = {
			r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi, r->rbp, r->rsp,
			r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip,
		};

		*val = v[reg];
		return 0;
	}
	return _UPT_access_reg(as, reg, val, write, upt_of(arg));
}

static int ua_access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write,
			   void *arg)
{
	return _UPT_access_fpreg(as, reg, val, write, upt_of(arg));
}

static int ua_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	return -UNW_EINVAL;	/* we only look */
}

static int ua_get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf, size_t len,
			    unw_word_t *off, void *arg)
{
	return _UPT_get_proc_name(as, addr, buf, len, off, upt_of(arg));
}

static unw_accessors_t ua_accessors = {
	.find_proc_info = ua_find_proc_info,
	.put_unwind_info = ua_put_unwind_info,
	.get_dyn_info_list_addr = ua_get_dyn_info_list_addr,
	.access_mem = ua_access_mem,
	.access_reg = ua_access_reg,
	.access_fpreg = ua_access_fpreg,
	.resume = ua_resume,
	.get_proc_name = ua_get_proc_name,
};

static struct unw_arg *unw_arg_new(pid_t tid)
{
	struct unw_arg *ua = xcalloc(1, sizeof(*ua));
	char path[64];

	ua->tid = tid;
	ua->upt = _UPT_create(tid);
	if (!ua->upt) {
		free(ua);
		return NULL;
	}
	ua->memfd = -1;
	if (procfs_path(path, sizeof(path), "/%d/mem", (int)tid) == 0)
		ua->memfd = open(path, O_RDONLY | O_CLOEXEC);
	return ua;
}

/* ---- Java frames ---- */

/* Distinct Java frames named per process; past them a frame keeps its address. */
#define JFRAMES_MAX 4096
/* How often a process with code outside any file is looked at again for a JVM. */
#define HOTSPOT_RETRY_NS 1000000000ULL

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * mm's HotSpot structures, looked for when a stack first reaches code that
 * no file backs (a JIT's, the interpreter's); a JVM still starting has no
 * interpreter yet, so a failure is tried again a second later.
 */
static struct hotspot *mm_hotspot(struct trace_mm *mm)
{
	uint64_t now;

	if (mm->hs)
		return mm->hs;
	now = mono_ns();
	if (mm->hs_tried_ns && now - mm->hs_tried_ns < HOTSPOT_RETRY_NS)
		return NULL;
	mm->hs = hotspot_open(mm->pid);
	if (!mm->hs)
		mm->hs_tried_ns = now;
	return mm->hs;
}

/* The tagged pc of the Java frame (method, bci), named the first time it is met; 0 if it cannot be. */
static uint64_t java_frame_tag(struct trace_mm *mm, uint64_t method, int bci)
{
	struct trace_jframe *j;
	struct hotspot_name nm;

	for (size_t i = 0; i < mm->njframes; i++)
		if (mm->jframes[i].method == method && mm->jframes[i].bci == bci)
			return TRACE_JAVA_TAG | i;
	if (mm->njframes >= JFRAMES_MAX || hotspot_method_name(mm->hs, method, bci, &nm))
		return 0;
	ALLOC_GROW(mm->jframes, mm->njframes + 1, mm->ajframes);
	j = &mm->jframes[mm->njframes];
	j->method = method;
	j->bci = bci;
	j->name = xstrdup(nm.method);
	j->file = *nm.file ? xstrdup(nm.file) : NULL;
	j->line = nm.line;
	j->native = nm.native;
	return TRACE_JAVA_TAG | mm->njframes++;
}

/* Java frames a compiled frame may stand for: the methods inlined at a call, and its own. */
#define INLINED_MAX 32

/*
 * The Java frames at pc (the thread is stopped), as tagged pcs in out (up
 * to max, max ≥ 1): an interpreted frame by its method and bci (its frame
 * pointer is fp); a compiled one by every method inlined at its call and
 * its own, each with its bci, so a method is the same frame whatever its
 * tier. A frame that reads as neither (a stub) is its pc. The count.
 */
static uint32_t java_frames(struct trace_mm *mm, uint64_t pc, uint64_t fp, uint64_t *out,
			    uint32_t max)
{
	struct hotspot_scope sc[INLINED_MAX];
	uint32_t k = 0;
	int n;

	if (hotspot_in_interpreter(mm->hs, pc))
		n = hotspot_frame(mm->hs, fp, &sc[0].method, &sc[0].bci) ? 0 : 1;
	else
		n = hotspot_compiled_frames(mm->hs, pc, sc, max < INLINED_MAX ? (int)max : INLINED_MAX);
	for (int i = 0; i < n && k < max; i++) {
		uint64_t tag = java_frame_tag(mm, sc[i].method, sc[i].bci);

		if (tag)
			out[k++] = tag;
	}
	if (!k)
		out[k++] = pc;
	return k;
}

/* ---- events ---- */

/*
 * Walks a JVM's frames from the first one in its code (cur's frame), with
 * hotspot_step: no unwind tables describe them, and compiled frames keep
 * no frame pointer. Appends them to pcs (a Java frame as the tagged pc of
 * its method, a stub as its address) and returns true with cur set up again, from the
 * registers of the first frame past them (the VM's call stub's caller), so
 * the unwinder goes on; false when the walk ends inside the Java frames.
 */
static bool walk_java(struct tthread *th, struct hotspot *hs, unw_cursor_t *cur, uint64_t *pcs,
		      uint32_t *n, uint32_t depth)
{
	struct hotspot_regs r;
	unw_word_t v[3];
	struct unw_arg *ua = th->upt;

	if (unw_get_reg(cur, UNW_REG_IP, &v[0]) < 0 || unw_get_reg(cur, UNW_REG_SP, &v[1]) < 0 ||
	    unw_get_reg(cur, UNW_X86_64_RBP, &v[2]) < 0)
		return false;
	r.pc = v[0];
	r.sp = r.usp = v[1];
	r.fp = v[2];
	while (*n < depth && hotspot_in_code(hs, r.pc)) {
		*n += java_frames(th->mm, r.pc, r.fp, pcs + *n, depth - *n);
		if (hotspot_step(hs, &r))
			return false;
	}
	if (*n >= depth || !ua->have_regs)
		return false;
	/* the other registers stay as at the stop: the frames past are C++ with tables */
	ua->regs.rip = r.pc;
	ua->regs.rsp = r.sp;
	ua->regs.rbp = r.fp;
	memset(ua->page_addr, 0, sizeof(ua->page_addr));
	return unw_init_remote(cur, th->mm->unw_as, ua) == 0;
}

static uint32_t unwind(struct trace *t, struct tthread *th)
{
	uint64_t pcs[256];
	int depth = t->opts.depth < 256 ? t->opts.depth : 256;
	unw_cursor_t cur;
	uint32_t n = 0;

	if (depth <= 0 || !th->mm->unw_as)
		return UINT32_MAX;
	if (!th->upt)
		th->upt = unw_arg_new(th->tid);
	if (!th->upt)
		return UINT32_MAX;
	th->upt->have_regs = ptrace(PTRACE_GETREGS, th->tid, 0, &th->upt->regs) == 0;
	memset(th->upt->page_addr, 0, sizeof(th->upt->page_addr));
	if (!th->mm->unw_mods)
		th->mm->unw_mods = xcalloc(1, sizeof(struct unw_mods));
	mods_current = th->mm->unw_mods;
	ua_current = th->upt;
	/* A thread that dies under us makes a step fail: keep what we have. */
	if (unw_init_remote(&cur, th->mm->unw_as, th->upt) == 0) {
		for (bool step = false; (int)n < depth;) {
			struct unw_mod *m;
			struct hotspot *hs;
			unw_word_t ip;

			if ((step && unw_step(&cur) <= 0) || unw_get_reg(&cur, UNW_REG_IP, &ip) < 0 ||
			    !ip)
				break;
			/*
			 * Code no file backs: a JVM's frames are walked by its own
			 * structures, and the cursor starts again past them (the
			 * walk takes one frame at least: each section of Java
			 * frames, a JNI call's callbacks too, ends).
			 */
			if (n > 0 && (m = mod_find(mods_current, th->tid, ip)) && !m->upt &&
			    (hs = mm_hotspot(th->mm)) && hotspot_in_code(hs, ip)) {
				if (!walk_java(th, hs, &cur, pcs, &n, (uint32_t)depth))
					break;
				step = false;
				continue;
			}
			pcs[n++] = ip;
			step = true;
		}
	}
	ua_current = NULL;
	mods_current = NULL;
	return stack_intern(t, th->mm, pcs, n);
}

static void on_entry(struct trace *t, struct tracer *tr, struct tthread *th, uint64_t nr,
		     const uint64_t *args)
{
	int sys = sys_from_nr(nr);
	struct trace_thread *ts = &t->threads[th->stat];

	th->pending = false;
	if (sys < 0)
		return;
	memset(&th->ev, 0, sizeof(th->ev));
	th->ev.ts_ns = now_ns(tr);
	th->ev.tid = th->tid;
	th->ev.pid = th->mm->pid;
	th->ev.sys = sys;
	th->ev.mm = th->mm;
	memcpy(th->ev.args, args, sizeof(th->ev.args));
	/* Names change seldom: read again at most every 20 ms (three system calls). */
	if (!th->comm_ns || th->ev.ts_ns - th->comm_ns > 20000000ULL) {
		read_comm(th->mm->pid, th->tid, ts->name);
		th->comm_ns = th->ev.ts_ns ? th->ev.ts_ns : 1;
	}
	th->ev.name = intern_name(t, ts->name);
	th->ev.stack = unwind(t, th);
	th->pending = true;
}

/* mremap: shrink, grow, or move (what we knew of the old range moves along). */
static void apply_mremap(struct trace_mm *mm, struct trace_thread *ts, struct trace_stack *st,
			 const struct trace_event *ev, struct trace_region *r)
{
	uint64_t a = ev->args[0], na = (uint64_t)ev->ret;
	uint64_t oldlen = PAGE_ROUND(ev->args[1]), newlen = PAGE_ROUND(ev->args[2]);
	struct trace_region *parts = NULL;
	size_t np = 0, pa = 0;
	bool file = false; /* grown in place: not known, called anonymous */

	if (na == a) {
		if (newlen < oldlen)
			region_remove(mm, a + newlen, a + oldlen, NULL, NULL, NULL);
	} else {
		region_remove(mm, a, a + oldlen, &parts, &np, &pa);
		for (size_t i = 0; i < np; i++) {
			if (parts[i].start - a >= newlen)
				continue;
			parts[i].end = parts[i].end - a > newlen ? a + newlen : parts[i].end;
			parts[i].start = parts[i].start - a + na;
			parts[i].end = parts[i].end - a + na;
			/* Moving over mappings of ours (MREMAP_FIXED) unmaps them. */
			ts->unmapped += region_insert(mm, &parts[i]);
		}
		file = np && parts[0].file;
		free(parts);
	}
	if (newlen > oldlen) {
		r->start = na + oldlen;
		r->end = na + newlen;
		r->prot = PROT_READ | PROT_WRITE;
		r->kind = TRACE_REGION_MMAP;
		r->file = file;
		ts->unmapped += region_insert(mm, r);
		ts->mapped += newlen - oldlen;
		if (st)
			st->mapped += newlen - oldlen;
	} else {
		ts->unmapped += oldlen - newlen;
	}
}

/* brk: the growth is a region of its own, a shrink cuts the top off. */
static void apply_brk(struct trace_mm *mm, struct trace_thread *ts, struct trace_stack *st,
		      const struct trace_event *ev, struct trace_region *r)
{
	uint64_t nb = (uint64_t)ev->ret;

	/* brk(0) asks: it tells us where the break is, nothing moved. */
	if (!mm->brk_cur || !ev->args[0]) {
		/* Nothing moved since the start: the start was this (the heap's end is rounded). */
		if (mm->brk_start == mm->brk_cur)
			mm->brk_start = nb;
		mm->brk_cur = nb;
		return;
	}
	if (nb > mm->brk_cur) {
		r->start = PAGE_ROUND(mm->brk_cur);
		r->end = PAGE_ROUND(nb);
		r->prot = PROT_READ | PROT_WRITE;
		r->kind = TRACE_REGION_BRK;
		region_insert(mm, r);
		ts->brk_grown += nb - mm->brk_cur;
		if (st)
			st->mapped += r->end - r->start;
	} else if (nb < mm->brk_cur) {
		region_remove(mm, PAGE_ROUND(nb), PAGE_ROUND(mm->brk_cur), NULL, NULL, NULL);
		ts->brk_shrunk += mm->brk_cur - nb;
	}
	mm->brk_cur = nb;
}

static void apply(struct trace *t, struct tthread *th, struct trace_event *ev)
{
	struct trace_thread *ts = &t->threads[th->stat];
	struct trace_mm *mm = th->mm;
	struct trace_stack *st = ev->stack != UINT32_MAX ? &t->stacks[ev->stack] : NULL;
	struct trace_region r = {
		.born_ns = ev->ts_ns, .stack = ev->stack, .name = ev->name, .tid = ev->tid,
	};
	uint64_t len, a = ev->args[0];

	if (st)
		st->calls++;
	if (ev->ret < 0 && ev->ret > -4096 && ev->sys != TRACE_BRK) {
		ts->failed++;
		return;
	}
	ts->calls++;
	switch (ev->sys) {
	case TRACE_MMAP:
		len = PAGE_ROUND(ev->args[1]);
		r.start = (uint64_t)ev->ret;
		r.end = r.start + len;
		r.prot = (int)ev->args[2];
		r.kind = TRACE_REGION_MMAP;
		r.file = !(ev->args[3] & MAP_ANONYMOUS) && (int)ev->args[4] >= 0;
		if (ev->args[3] & MAP_FIXED)
			mods_drop(mm->unw_mods, r.start, r.end);
		/* MAP_FIXED over a mapping of ours unmaps it. */
		ts->unmapped += region_insert(mm, &r);
		ts->mapped += len;
		if (st)
			st->mapped += len;
		/* A library loaded: the symbolizer must read the module list again. */
		if ((ev->args[2] & PROT_EXEC) && (int)ev->args[4] >= 0 && mm->sym)
			symbolize_invalidate(mm->sym);
		break;
	case TRACE_MUNMAP:
		len = PAGE_ROUND(ev->args[1]);
		mods_drop(mm->unw_mods, a, a + len);
		region_remove(mm, a, a + len, NULL, NULL, NULL);
		ts->unmapped += len;
		break;
	case TRACE_MREMAP:
		mods_drop(mm->unw_mods, a, a + PAGE_ROUND(ev->args[1]));
		apply_mremap(mm, ts, st, ev, &r);
		break;
	case TRACE_BRK:
		apply_brk(mm, ts, st, ev, &r);
		break;
	case TRACE_MADVISE:
		if (ev->args[2] == MADV_DONTNEED || ev->args[2] == MADV_FREE)
			ts->advised += PAGE_ROUND(ev->args[1]);
		break;
	case TRACE_SHMAT: {
		struct shmid_ds ds;

		/* The size is the segment's; we can ask as root or as its owner. */
		if (shmctl((int)ev->args[0], IPC_STAT, &ds) != 0)
			break;
		r.start = (uint64_t)ev->ret;
		r.end = r.start + PAGE_ROUND(ds.shm_segsz);
		r.prot = PROT_READ | ((ev->args[2] & SHM_RDONLY) ? 0 : PROT_WRITE);
		r.kind = TRACE_REGION_SHM;
		ts->unmapped += region_insert(mm, &r);
		ts->mapped += r.end - r.start;
		if (st)
			st->mapped += r.end - r.start;
		break;
	}
	case TRACE_SHMDT: {
		size_t i = region_find(mm, a);

		if (i < mm->nregions && mm->regions[i].start == a &&
		    mm->regions[i].kind == TRACE_REGION_SHM) {
			uint64_t end = mm->regions[i].end;

			ts->unmapped += end - a;
			region_remove(mm, a, end, NULL, NULL, NULL);
		}
		break;
	}
	default:
		break;
	}
}

/* A traced call's result arrived: account for it (the thread already runs on). */
static void finish_event(struct trace *t, struct tthread *th, struct trace_event *ev,
			 int64_t rval)
{
	ev->ret = rval;
	ev->seq = ++t->seq;
	apply(t, th, ev);
	if (t->opts.keep_events) {
		ALLOC_GROW(t->events, t->nevents + 1, t->events_alloc);
		t->events[t->nevents++] = *ev;
	}
	if (t->opts.on_event)
		t->opts.on_event(ev, t->opts.arg);
}

/* ---- ptrace plumbing ---- */

static bool is_stop_signal(int sig)
{
	return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

/* Resumes a stopped thread the way the mode wants, delivering sig. */
static void resume(struct trace *t, struct tthread *th, int sig)
{
	int req = (!t->seccomp || th->pending) ? PTRACE_SYSCALL : PTRACE_CONT;

	if (ptrace(req, th->tid, 0, (void *)(long)sig) < 0 && errno == ESRCH)
		thread_gone(th);
}

static void detach(struct tthread *th, int sig)
{
	ptrace(PTRACE_DETACH, th->tid, 0, (void *)(long)sig);
	thread_gone(th);
}

/* ---- gates: one map-changing call at a time in each address space ---- */

/* madvise changes no mapping: its calls need no turn. */
static bool changes_map(enum trace_sys sys)
{
	return sys != TRACE_MADVISE;
}

static struct gate *gate_of(struct tracer *tr, const struct trace_mm *mm)
{
	if (mm->id > tr->ngates) {
		size_t n = tr->ngates * 2 > mm->id ? tr->ngates * 2 : mm->id + 8;

		tr->gates = xrealloc(tr->gates, n * sizeof(*tr->gates));
		memset(tr->gates + tr->ngates, 0, (n - tr->ngates) * sizeof(*tr->gates));
		tr->ngates = n;
	}
	return &tr->gates[mm->id - 1];
}

/*
 * The holder's call is over (or it is gone, or took too long): the first
 * waiter still alive goes in. When we are stopping, the waiters are let go
 * instead, their calls not counted.
 */
static void gate_pass(struct trace *t, struct tracer *tr, struct gate *g)
{
	g->holder = NULL;
	while (g->head) {
		struct tthread *w = g->head;

		g->head = w->next_waiting;
		if (!g->head)
			g->tail = NULL;
		w->next_waiting = NULL;
		w->waiting = false;
		if (w->gone)
			continue;
		if (tr->stopping) {
			w->pending = false;
			detach(w, 0);
			continue;
		}
		g->holder = w;
		g->since_ns = now_ns(tr);
		resume(t, w, 0);
		if (!w->gone)
			return;
		g->holder = NULL;
	}
}

/*
 * th stopped at the entry of a call that changes the map (mmap, munmap, …):
 * it goes on if no other such call of its address space is in the kernel,
 * else it stays stopped in the queue until gate_pass().
 *
 * Why: the kernel makes the calls of one address space one after the other
 * (mmap_lock), but nothing in ptrace tells us in which order. Each call is
 * accounted at its exit stop, and waitpid(-1) reports stopped threads in the
 * order of the tracer's list of tracees, not of their stops; a thread may
 * also be preempted between the end of its call and its exit stop. So when
 * thread A unmaps X and thread B's mmap is then given X, B's exit can reach
 * us first: B's new region would replace the old X and A's munmap remove
 * B's region. With one call in flight per address space, the exit order is
 * the kernel's order.
 */
static void gate_enter(struct trace *t, struct tracer *tr, struct tthread *th)
{
	struct gate *g = gate_of(tr, th->mm);

	if (g->holder && g->holder != th && (g->holder->gone || !g->holder->pending))
		gate_pass(t, tr, g);
	if (g->holder && g->holder != th) {
		th->waiting = true;
		th->next_waiting = NULL;
		if (g->tail)
			g->tail->next_waiting = th;
		else
			g->head = th;
		g->tail = th;
		return;
	}
	g->holder = th;
	g->since_ns = now_ns(tr);
	resume(t, th, 0);
}

/* A waiting thread reported a stop: only SIGKILL wakes it, and its call will not happen. */
static void gate_unqueue(struct tracer *tr, struct tthread *th)
{
	struct gate *g = gate_of(tr, th->mm);
	struct tthread **pp = &g->head, *prev = NULL;

	while (*pp && *pp != th) {
		prev = *pp;
		pp = &(*pp)->next_waiting;
	}
	if (*pp) {
		*pp = th->next_waiting;
		if (g->tail == th)
			g->tail = prev;
	}
	th->next_waiting = NULL;
	th->waiting = false;
	th->pending = false;
}

/*
 * A call that holds its gate for more than GATE_HOLD_NS lets the next one
 * in: a map-changing call that waits for another thread of its process (a
 * userfaultfd monitor, a FUSE server in the same process) must not hang it.
 * The order of those two calls is then the exit order, as without gates.
 */
static void gate_expire(struct trace *t, struct tracer *tr)
{
	uint64_t now = now_ns(tr);

	for (size_t i = 0; i < tr->ngates; i++) {
		struct gate *g = &tr->gates[i];

		if (g->head && (!g->holder || now - g->since_ns > GATE_HOLD_NS))
			gate_pass(t, tr, g);
	}
}

/*
 * A fork child starts with a copy of its parent's address space: the
 * regions born during the trace are mapped in both (until one of them
 * unmaps, execs or exits). Nothing when the child has mapped already (its
 * first stop was seen before the parent's fork event).
 */
static void mm_fork(struct trace_mm *child, const struct trace_mm *parent)
{
	if (child == parent || child->nregions)
		return;
	if (parent->nregions) {
		ALLOC_GROW(child->regions, parent->nregions, child->alloc);
		memcpy(child->regions, parent->regions,
		       parent->nregions * sizeof(*parent->regions));
		child->nregions = parent->nregions;
	}
	if (!child->brk_cur) {
		child->brk_start = parent->brk_start;
		child->brk_cur = parent->brk_cur;
	}
}

/* The traced process: the command's, or the PID attached to. */
static pid_t root_pid(const struct trace *t)
{
	return t->opts.argv ? t->child : (pid_t)t->opts.pid;
}

/*
 * mm's process exited: another process than the traced one no longer holds
 * what it mapped (the traced one's regions stay, see trace.h). Exits seen
 * while the trace ends (the command's children killed at -d) keep theirs:
 * they were mapped when the trace ended.
 */
static void mm_exit(struct trace *t, struct tracer *tr, struct trace_mm *mm)
{
	mm->exited = true;
	if (tr->stopping || mm->pid == root_pid(t))
		return;
	for (size_t i = 0; i < mm->nregions; i++)
		mm->released += mm->regions[i].end - mm->regions[i].start;
	mm->nreleased += mm->nregions;
	mm->nregions = 0;
}

static void handle_new(struct trace *t, struct tracer *tr, struct tthread *parent, int event)
{
	unsigned long msg = 0;
	pid_t ntid, tgid;
	struct tthread *th;

	if (ptrace(PTRACE_GETEVENTMSG, parent->tid, 0, &msg) < 0)
		return;
	ntid = (pid_t)msg;
	if ((th = thread_find(tr, ntid))) {
		if (event == PTRACE_EVENT_FORK && !th->foreign)
			mm_fork(th->mm, parent->mm);
		return;
	}
	tgid = event == PTRACE_EVENT_CLONE ? read_tgid(ntid) : ntid;
	if (!tgid)
		tgid = ntid;
	/* A vfork child shares its parent's memory until it execs. */
	th = thread_add(t, tr, ntid, tgid);
	if (event == PTRACE_EVENT_VFORK)
		th->mm = parent->mm;
	/* Attached to one process: its children are not ours. */
	if (!t->opts.argv && tgid != (pid_t)t->opts.pid)
		th->foreign = true;
	else if (event == PTRACE_EVENT_FORK)
		mm_fork(th->mm, parent->mm);
}

static void handle_exec(struct trace *t, struct tracer *tr, struct tthread *th)
{
	unsigned long former = 0;

	ptrace(PTRACE_GETEVENTMSG, th->tid, 0, &former);
	/* The other threads of the process are gone; the exec'ing one now has the leader's TID. */
	for (size_t i = 0; i < tr->nthreads; i++) {
		struct tthread *o = tr->threads[i];

		if (o != th && !o->gone && o->mm == th->mm && o->tid != th->tid)
			thread_gone(o);
	}
	/*
	 * The old image is gone with its mappings: they are not outstanding. A
	 * vfork child leaves its parent's memory (which it borrowed) alone.
	 */
	if (th->mm->pid == th->tid || th->mm->pid == (pid_t)former) {
		struct trace_mm *mm = th->mm;

		mm->exited = true;
		for (size_t i = 0; i < mm->nregions; i++)
			mm->released += mm->regions[i].end - mm->regions[i].start;
		mm->nreleased += mm->nregions;
		mm->nregions = 0;
	}
	th->mm = mm_new(t, th->tid);
	th->pending = false;
	/* A new image: /proc/TID/mem must be opened again. */
	unw_arg_free(th->upt);
	th->upt = NULL;
}

static void handle_stop_of(struct trace *t, struct tracer *tr, struct tthread *th, pid_t tid,
			   int status)
{
	int sig, event;

	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		if (tid == t->child && t->child) {
			t->child_status = status;
			t->child_exited = true;
		}
		/* the leader's exit is reported once its threads are gone: the process's */
		if (th->mm->pid == tid)
			mm_exit(t, tr, th->mm);
		thread_gone(th);
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	sig = WSTOPSIG(status);
	event = (unsigned)status >> 16;
	if (th->foreign || tr->stopping) {
		/* Keep a signal that was on its way; a group-stop stays a stop. */
		detach(th, event == 0 && sig != (SIGTRAP | 0x80) ? sig : 0);
		return;
	}
	if (sig == (SIGTRAP | 0x80) || event == PTRACE_EVENT_SECCOMP) {
		struct __ptrace_syscall_info info;

		memset(&info, 0, sizeof(info));
		if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof(info), &info) <= 0) {
			resume(t, th, 0);
			return;
		}
		if (info.arch != AUDIT_ARCH_X86_64) {
			th->pending = false;
		} else if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
			on_entry(t, tr, th, info.entry.nr, info.entry.args);
		} else if (info.op == PTRACE_SYSCALL_INFO_SECCOMP) {
			on_entry(t, tr, th, info.seccomp.nr, info.seccomp.args);
		} else if (info.op == PTRACE_SYSCALL_INFO_EXIT && th->pending) {
			struct trace_event ev = th->ev;
			struct gate *g = gate_of(tr, th->mm);

			/*
			 * Let it and the next call in its gate run first: nothing
			 * below needs them stopped, and the next call's exit is
			 * read after this one is accounted.
			 */
			th->pending = false;
			resume(t, th, 0);
			if (g->holder == th)
				gate_pass(t, tr, g);
			finish_event(t, th, &ev, info.exit.rval);
			return;
		}
		if (th->pending && changes_map(th->ev.sys))
			gate_enter(t, tr, th);
		else
			resume(t, th, 0);
		return;
	}
	switch (event) {
	case PTRACE_EVENT_CLONE:
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
		handle_new(t, tr, th, event);
		resume(t, th, 0);
		return;
	case PTRACE_EVENT_EXEC:
		if (th->tid == t->child)
			tr->execd = true;
		handle_exec(t, tr, th);
		resume(t, th, 0);
		return;
	case PTRACE_EVENT_EXIT:
		/* Its last name: threads are often named after their first mappings. */
		read_comm(th->mm->pid, tid, t->threads[th->stat].name);
		resume(t, th, 0);
		return;
	case PTRACE_EVENT_STOP:
		if (is_stop_signal(sig)) {
			/* Group-stop: stay stopped until SIGCONT, but keep telling us. */
			if (ptrace(PTRACE_LISTEN, tid, 0, 0) < 0 && errno == ESRCH)
				thread_gone(th);
		} else {
			resume(t, th, 0);
		}
		return;
	case 0:
		resume(t, th, sig);	/* a signal for the target: pass it on */
		return;
	default:
		resume(t, th, 0);
		return;
	}
}

static void handle_stop(struct trace *t, struct tracer *tr, pid_t tid, int status)
{
	struct tthread *th = thread_find(tr, tid);
	struct trace_mm *mm;
	struct gate *g;

	if (!th) {
		/* A new thread can report before its parent's clone event. */
		pid_t tgid = read_tgid(tid);

		th = thread_add(t, tr, tid, tgid ? tgid : tid);
		if (!t->opts.argv && tgid != (pid_t)t->opts.pid)
			th->foreign = true;
	}
	if (th->waiting)
		gate_unqueue(tr, th);
	mm = th->mm;	/* an exec changes th->mm */
	handle_stop_of(t, tr, th, tid, status);
	/* A holder that exited, exec'd or was detached in its call opens its gate. */
	g = gate_of(tr, mm);
	if (g->holder && (g->holder->gone || !g->holder->pending))
		gate_pass(t, tr, g);
}

static size_t live_threads(const struct tracer *tr)
{
	size_t n = 0;

	for (size_t i = 0; i < tr->nthreads; i++)
		n += !tr->threads[i]->gone;
	return n;
}

/* Stop every thread we still trace and detach from it; gives up after a bound, never hangs. */
static void detach_all(struct trace *t, struct tracer *tr)
{
	struct timespec ts = { 0, 20 * 1000000L };
	int status;
	pid_t tid;

	tr->stopping = true;
	/* Threads left stopped at a call's entry report nothing more: let them go now. */
	for (size_t i = 0; i < tr->ngates; i++)
		gate_pass(t, tr, &tr->gates[i]);
	for (size_t i = 0; i < tr->nthreads; i++)
		if (!tr->threads[i]->gone &&
		    ptrace(PTRACE_INTERRUPT, tr->threads[i]->tid, 0, 0) < 0 && errno == ESRCH)
			thread_gone(tr->threads[i]);
	for (int round = 0; round < 150 && live_threads(tr); round++) {
		while ((tid = waitpid(-1, &status, __WALL | WNOHANG)) > 0)
			handle_stop(t, tr, tid, status);
		if (tid < 0 && errno == ECHILD)
			break;
		if (live_threads(tr))
			nanosleep(&ts, NULL);
	}
	t->undetached = (unsigned)live_threads(tr);
}

/* The current break of a running process: the end of its [heap] mapping. */
static void read_heap_end(struct trace_mm *mm)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p;

	if (procfs_read_pid(mm->pid, "maps", &sb, 64 << 20) == 0 &&
	    (p = strstr(sb.buf, " [heap]\n"))) {
		while (p > sb.buf && p[-1] != '\n')
			p--;
		const char *dash = strchr(p, '-');

		/* The trace measures growth from here on. */
		if (dash)
			mm->brk_start = mm->brk_cur = strtoull(dash + 1, NULL, 16);
	}
	strbuf_release(&sb);
}

static int cmp_tid(const void *a, const void *b)
{
	const struct trace_thread *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

/*
 * Regions are grouped by thread name, and a thread's last name says more than
 * the one it had at the call (JVM threads map their first memory before they
 * are named): give every region its thread's last name.
 */
static void rename_regions(struct trace *t)
{
	struct trace_thread *by_tid = xmalloc((t->nthreads + 1) * sizeof(*by_tid));
	size_t n = 0;

	/* The latest thread of each TID (TIDs can be reused during a long trace). */
	for (size_t i = t->nthreads; i-- > 0;)
		by_tid[n++] = t->threads[i];
	qsort(by_tid, n, sizeof(*by_tid), cmp_tid);
	for (size_t m = 0; m < t->nmms; m++) {
		struct trace_mm *mm = t->mms[m];

		for (size_t i = 0; i < mm->nregions; i++) {
			struct trace_thread key = { .tid = mm->regions[i].tid };
			struct trace_thread *th;

			th = bsearch(&key, by_tid, n, sizeof(*by_tid), cmp_tid);

			if (th && th->name[0])
				mm->regions[i].name = intern_name(t, th->name);
		}
	}
	free(by_tid);
}

static int seize(pid_t tid, unsigned long opts)
{
	return ptrace(PTRACE_SEIZE, tid, 0, (void *)opts) < 0 ? -errno : 0;
}

/*
 * Why PTRACE_SEIZE of tid may fail with EPERM and still leave nothing to do:
 * the thread has begun to exit (its exit_state is set; it is about to leave
 * the task list), or it is traced by us already — a thread that a seized
 * thread cloned is attached by PTRACE_O_TRACECLONE before this loop has seen
 * its clone event, and the main loop takes it in at its first stop. True in
 * either case, or when the thread is gone.
 */
static bool seize_needless(pid_t pid, pid_t tid)
{
	struct strbuf sb = STRBUF_INIT;
	char rel[64];
	const char *p;
	bool needless = true;

	snprintf(rel, sizeof(rel), "task/%d/status", (int)tid);
	if (procfs_read_pid(pid, rel, &sb, 1 << 16) == 0) {
		p = strstr(sb.buf, "\nState:");
		needless = p && (strstr(p, "\nState:\tZ") == p || strstr(p, "\nState:\tX") == p);
		p = strstr(sb.buf, "\nTracerPid:");
		if (p && strtol(p + 11, NULL, 10) == (long)getpid())
			needless = true;
	}
	strbuf_release(&sb);
	return needless;
}

/* Seizes every thread of pid, reading the task list until a pass finds none new. */
static int attach_pid(struct trace *t, struct tracer *tr, struct strbuf *err)
{
	unsigned long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
			     PTRACE_O_TRACEEXIT;
	pid_t pid = t->opts.pid;
	struct strbuf sb = STRBUF_INIT;
	const char *p;
	int ret;

	ret = procfs_read_pid(pid, "status", &sb, 1 << 16);
	if (ret) {
		strbuf_addf(err, "no process %d", (int)pid);
		strbuf_release(&sb);
		return -ESRCH;
	}
	p = strstr(sb.buf, "\nTracerPid:");
	if (p && strtol(p + 11, NULL, 10) != 0) {
		long tracer = strtol(p + 11, NULL, 10);
		char comm[16] = "";

		read_comm((pid_t)tracer, (pid_t)tracer, comm);
		strbuf_addf(err, "process %d is already traced by process %ld (%s)", (int)pid,
			    tracer, comm);
		strbuf_release(&sb);
		return -EBUSY;
	}
	strbuf_release(&sb);
	for (int pass = 0; pass < 50; pass++) {
		pid_t *tids = NULL;
		size_t n = 0, added = 0;

		ret = procfs_list_tids(pid, &tids, &n);
		if (ret) {
			if (!tr->nthreads) {
				strbuf_addf(err, "no process %d", (int)pid);
				return -ESRCH;
			}
			break;
		}
		for (size_t i = 0; i < n; i++) {
			if (thread_find(tr, tids[i]))
				continue;
			ret = seize(tids[i], opts);
			if (ret == -ESRCH)
				continue;	/* exited meanwhile */
			if (ret == -EPERM && tr->nthreads && seize_needless(pid, tids[i]))
				continue;
			if (ret) {
				pid_t tid = tids[i];

				free(tids);
				if (ret == -EPERM && tr->nthreads == 0) {
					strbuf_addf(err, "cannot trace process %d: %s", (int)pid,
						    strerror(-ret));
					return ret;
				}
				strbuf_addf(err, "cannot trace thread %d of process %d: %s",
					    (int)tid, (int)pid, strerror(-ret));
				return ret;
			}
			struct tthread *th = thread_add(t, tr, tids[i], pid);

			/* Seized threads run without syscall stops until stopped once. */
			if (ptrace(PTRACE_INTERRUPT, th->tid, 0, 0) < 0 && errno == ESRCH)
				thread_gone(th);
			added++;
		}
		free(tids);
		if (!added && pass > 0)
			break;
	}
	if (!live_threads(tr)) {
		strbuf_addf(err, "no process %d", (int)pid);
		return -ESRCH;
	}
	read_heap_end(tr->threads[0]->mm);
	return 0;
}

/* The BPF program: SECCOMP_RET_TRACE for the traced calls on x86-64, allow the rest. */
static int install_filter(void)
{
	struct sock_filter prog[4 + TRACE_NSYS + 2];
	struct sock_fprog fprog;
	int n = 0;

	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, arch));
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1,
						 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, nr));
	for (int i = 0; i < TRACE_NSYS; i++)
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
							 (unsigned)sys_nr[i],
							 (unsigned char)(TRACE_NSYS - i), 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE);
	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	/*
	 * SPEC_ALLOW (Linux 4.17): a filter would otherwise also switch on the
	 * speculative-store-bypass mitigation for the command, slowing all of it.
	 */
	for (int tries = 0; tries < 2; tries++) {
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW,
			    &fprog) == 0)
			return 0;
		if (errno == EINVAL &&
		    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) == 0)
			return 0;
		/* Without CAP_SYS_ADMIN a filter needs no_new_privs. */
		if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			break;
	}
	return -errno;
}

static int start_command(struct trace *t, struct tracer *tr, const sigset_t *oldmask,
			 struct strbuf *err)
{
	unsigned long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
			     PTRACE_O_TRACEVFORK | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP |
			     PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL;
	int status, ret, pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		strbuf_addf(err, "cannot fork: %s", strerror(errno));
		return ret;
	}
	if (pid == 0) {
		int e;

		close(pfd[0]);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		/* Wait here until the parent has seized us. */
		raise(SIGSTOP);
		e = 0;
		if (t->opts.stdout_to_stderr && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			e = -errno;
		if (!e)
			e = install_filter();
		if (!e) {
			execvp(t->opts.argv[0], t->opts.argv);
			e = -errno;
		}
		e = -e;
		if (write(pfd[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(e == ENOENT ? 127 : 126);
	}
	close(pfd[1]);
	t->child = pid;
	if (waitpid(pid, &status, WSTOPPED) < 0 || !WIFSTOPPED(status)) {
		ret = -ECHILD;
		strbuf_addf(err, "the command did not start");
		goto fail;
	}
	ret = seize(pid, opts);
	if (ret) {
		strbuf_addf(err, "cannot trace the command: %s", strerror(-ret));
		kill(pid, SIGKILL);
		goto fail;
	}
	thread_add(t, tr, pid, pid);
	kill(pid, SIGCONT);
	t->seccomp = true;
	/* The pipe closes on exec; read at the end, a number on it is the child's errno. */
	tr->errpipe = pfd[0];
	return 0;
fail:
	close(pfd[0]);
	return ret;
}

int trace_run(struct trace *t, const struct trace_opts *opts, struct strbuf *err)
{
	struct tracer *tr = xcalloc(1, sizeof(*tr));
	sigset_t set, old;
	struct timespec ts;
	uint64_t deadline_ns;
	int ret = 0, status, forwarded = 0;
	pid_t tid;

	memset(t, 0, sizeof(*t));
	t->opts = *opts;
	t->priv = tr;
	tr->errpipe = -1;
	clock_gettime(CLOCK_MONOTONIC, &tr->t0);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	ret = opts->argv ? start_command(t, tr, &old, err) : attach_pid(t, tr, err);
	if (ret && !(opts->argv && t->child)) {
		detach_all(t, tr);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &tr->t0);
	clock_gettime(CLOCK_REALTIME, &ts);
	t->start_unix_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	deadline_ns = opts->duration_ms ? opts->duration_ms * 1000000ULL : 0;
	for (;;) {
		siginfo_t si;
		struct timespec to = { 0, 100 * 1000000L };
		uint64_t now;

		while ((tid = waitpid(-1, &status, __WALL | WNOHANG)) > 0)
			handle_stop(t, tr, tid, status);
		if (tid < 0 && errno == ECHILD)
			break;
		if (!live_threads(tr) && (!t->child || t->child_exited))
			break;
		now = now_ns(tr);
		if (deadline_ns && now >= deadline_ns)
			break;
		if (now - tr->gates_ns >= 100000000ULL) {
			gate_expire(t, tr);
			tr->gates_ns = now;
		}
		if (deadline_ns && deadline_ns - now < 100000000ULL)
			to.tv_nsec = (long)(deadline_ns - now);
		int sig = sigtimedwait(&set, &si, &to);

		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			t->stop_signal = sig;
			/*
			 * A command gets the first one too (unless the terminal sent it
			 * to the whole group already) and we report when it ends.
			 */
			if (t->child && !t->child_exited && !forwarded++) {
				if (si.si_code == SI_USER || si.si_code == SI_QUEUE)
					kill(t->child, sig);
				continue;
			}
			break;
		}
	}
	t->elapsed_ns = now_ns(tr);
	for (size_t i = 0; i < tr->nthreads; i++) {
		struct tthread *th = tr->threads[i];

		if (!th->gone)
			read_comm(th->mm->pid, th->tid, t->threads[th->stat].name);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	t->end_unix_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (t->opts.argv) {
		/*
		 * Ended early (-d, a second signal): the filter would leave the
		 * command and its children with ENOSYS for their mmaps once we
		 * detach, so end them instead.
		 */
		if (t->child && !t->child_exited)
			kill(t->child, SIGKILL);
		for (size_t i = 0; i < tr->nthreads; i++)
			if (!tr->threads[i]->gone)
				kill(tr->threads[i]->mm->pid, SIGKILL);
	}
	detach_all(t, tr);
	/*
	 * The command may still be ours when it stops next: a thread whose ptrace
	 * call failed with ESRCH while it died is marked gone, not detached, and
	 * a killed tracee can still stop at PTRACE_EVENT_EXIT. That stop is not
	 * its exit status: let it go and wait on (a detached child stops no more).
	 */
	for (int i = 0; t->child && !t->child_exited && i < 16; i++) {
		if (waitpid(t->child, &status, __WALL) != t->child)
			break;
		if (WIFSTOPPED(status)) {
			ptrace(PTRACE_DETACH, t->child, 0, 0);
			continue;
		}
		t->child_status = status;
		t->child_exited = true;
	}
	if (tr->errpipe >= 0 && !tr->execd && t->child_exited) {
		int e = 0;

		if (read(tr->errpipe, &e, sizeof(e)) == (ssize_t)sizeof(e) && e > 0) {
			strbuf_addf(err, "cannot run '%s': %s", opts->argv[0], strerror(e));
			ret = -e;
		}
	}
	rename_regions(t);
out:
	if (tr->errpipe >= 0)
		close(tr->errpipe);
	tr->errpipe = -1;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!t->elapsed_ns)
		t->elapsed_ns = now_ns(tr);
	return ret;
}

void trace_release(struct trace *t)
{
	struct tracer *tr = t->priv;

	if (tr) {
		for (size_t i = 0; i < tr->nthreads; i++) {
			thread_gone(tr->threads[i]);
			free(tr->threads[i]);
		}
		free(tr->threads);
		free(tr->gates);
		free(tr);
	}
	for (size_t i = 0; i < t->nmms; i++)
		mm_free(t->mms[i]);
	free(t->mms);
	for (size_t i = 0; i < t->nstacks; i++)
		free(t->stacks[i].pcs);
	free(t->stacks);
	free(t->stack_hash);
	free(t->names);
	free(t->threads);
	free(t->events);
	memset(t, 0, sizeof(*t));
}
