/*
 * inject: makes a running process dlopen a library and call one of its
 * functions, through ptrace alone (x86-64).
 *
 * One thread is taken with PTRACE_SEIZE and stopped with PTRACE_INTERRUPT
 * (no SIGSTOP: the process sees no signal). Its registers, general and
 * extended (the XSAVE area: the called code may use vector registers the
 * interrupted code holds live), are saved. Two short calls are made on its
 * own stack, below the 128-byte red zone of the x86-64 ABI, each returning
 * to address 0 so that its end is a SIGSEGV we catch: mmap for a few pages
 * and mprotect to make the first executable. Into them go a trampoline, the
 * saved registers and the strings. The thread is then pointed at the
 * trampoline and detached: untraced, it calls dlopen, dlsym and the
 * function, stores the result and a status where we poll them, reloads
 * every register (xrstor, then the general ones, rflags, rsp) and jumps
 * back to where it was stopped. So a recorder killed at any moment after
 * the detach leaves a target that finishes the calls and goes on; only the
 * microseconds of the two short calls depend on us. orig_rax is set to -1
 * while we run calls, so the kernel does not take the new rip for an
 * interrupted system call to restart; the trampoline restarts one itself,
 * as the kernel would (arch/x86/kernel/signal.c, arch_do_signal_or_restart):
 * rax = the call's number, rip back over the 2-byte syscall instruction.
 * The pages stay mapped in the target (a few KiB per call).
 *
 * Safe point: the thread must not be inside the allocator or the dynamic
 * loader, since dlopen takes their locks and would deadlock on (or corrupt)
 * the state the interrupted code holds. Its rip and the return addresses in
 * the top of its stack are checked against libc's malloc and dl* functions
 * and ld.so's text; when one matches, the thread runs on for a moment and
 * is asked again, a bounded number of times.
 *
 * dlopen/dlsym/dlerror: glibc 2.34 and later export them from libc.so.6;
 * older ones have __libc_dlopen_mode/__libc_dlsym there (musl: in its one
 * ld-musl object). Their offsets come from the target's own libc file (read
 * through /proc/PID/root, or /proc/PID/map_files when that file was
 * replaced), and the load base from /proc/PID/maps: our own libc may be
 * another one than the target's (a container).
 */
#include "inject.h"
#include "procfs.h"
#include "proc.h"
#include "smaps.h"
#include "strbuf.h"
#include "xalloc.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libunwind-ptrace.h>

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

#define SAFE_TRIES 50		/* stops tried before giving up on a safe point */
#define STACK_SCAN 2048		/* bytes of the stack top searched for return addresses */
#define XSTATE_MAX (64u << 10)	/* bigger than any XSAVE area (AMX: about 11 KiB) */
#define MAX_STRING 1024		/* bytes of a string argument, its NUL included */

/* Where a function of the target lies, to tell whether a thread is inside it. */
struct range {
	uint64_t start, end;
};

/* What the target's libc and loader give us. */
struct target_libc {
	uint64_t dlopen, dlsym, dlerror; /* addresses in the target; dlerror may be 0 */
	uint64_t mmap, mprotect;	 /* for the trampoline's pages */
	struct range *unsafe;		 /* malloc family, dl* functions, ld.so's text */
	size_t nunsafe, aunsafe;
};

/* One stopped thread. */
struct session {
	pid_t pid, tid;
	int timeout_ms;
	int64_t deadline;	/* of the whole injection: no step gets a fresh timeout */
	struct user_regs_struct saved;
	unsigned char *xstate;	/* the XSAVE area, xlen bytes; NULL: the FXSAVE one below */
	size_t xlen;
	struct user_fpregs_struct fp;
	bool attached, stopped, dirty; /* dirty: registers changed since the stop */
	struct strbuf *err;
};

/* Functions whose locks dlopen may take again. */
static const char *const unsafe_names[] = {
	"malloc", "free", "calloc", "realloc", "reallocarray", "memalign", "posix_memalign",
	"aligned_alloc", "valloc", "pvalloc", "malloc_trim", "malloc_usable_size", "mallinfo",
	"mallinfo2", "malloc_info", "malloc_stats", "mallopt", "cfree", "__libc_malloc",
	"__libc_free", "__libc_calloc", "__libc_realloc", "__libc_memalign", "dlopen", "dlclose",
	"dlsym", "dlvsym", "dlerror", "dladdr", "dladdr1", "dlinfo", "dlmopen", "dl_iterate_phdr",
	"__libc_dlopen_mode", "__libc_dlsym", "__libc_dlclose", "fork", "_Fork", "vfork",
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_us(long us)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000};

	nanosleep(&ts, NULL);
}

/* ---- ELF ---- */

/*
 * Copies n bytes at off out of the file in buf (len bytes): the offsets come
 * from the file, so they may be unaligned or out of bounds. false when out.
 */
static bool elf_get(const void *buf, size_t len, uint64_t off, void *out, size_t n)
{
	if (off > len || n > len - off)
		return false;
	memcpy(out, (const char *)buf + off, n);
	return true;
}

static bool elf_header(const void *buf, size_t len, Elf64_Ehdr *eh)
{
	return elf_get(buf, len, 0, eh, sizeof(*eh)) && !memcmp(eh->e_ident, ELFMAG, SELFMAG) &&
	       eh->e_ident[EI_CLASS] == ELFCLASS64 && eh->e_ident[EI_DATA] == ELFDATA2LSB &&
	       eh->e_machine == EM_X86_64;
}

static bool elf_section(const void *buf, size_t len, const Elf64_Ehdr *eh, size_t i,
			Elf64_Shdr *sh)
{
	return i < eh->e_shnum &&
	       elf_get(buf, len, eh->e_shoff + i * sizeof(*sh), sh, sizeof(*sh));
}

static bool section_fits(const Elf64_Shdr *sh, size_t len)
{
	return sh->sh_type != SHT_NOBITS && sh->sh_offset <= len && sh->sh_size <= len - sh->sh_offset;
}

int inject_elf_first_load(const void *buf, size_t len, uint64_t *vaddr)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;

	if (!elf_header(buf, len, &eh) || eh.e_phentsize != sizeof(Elf64_Phdr))
		return -ENOEXEC;
	for (size_t i = 0; i < eh.e_phnum; i++) {
		if (!elf_get(buf, len, eh.e_phoff + i * sizeof(ph), &ph, sizeof(ph)))
			return -ENOEXEC;
		if (ph.p_type == PT_LOAD) {
			*vaddr = ph.p_vaddr;
			return 0;
		}
	}
	return -ENOEXEC;
}

/* Searches one symbol table; *rank: 2 default version, 1 hidden version, 0 none yet. */
static void search_table(const void *buf, size_t len, const Elf64_Ehdr *eh, size_t idx,
			 const char *name, uint64_t *value, uint64_t *size, int *rank)
{
	Elf64_Shdr tab, str, ver = {0}, sh;
	bool have_ver = false;
	size_t nsym, namelen = strlen(name);

	if (!elf_section(buf, len, eh, idx, &tab) || tab.sh_entsize != sizeof(Elf64_Sym) ||
	    !section_fits(&tab, len) || !elf_section(buf, len, eh, tab.sh_link, &str) ||
	    !section_fits(&str, len))
		return;
	nsym = tab.sh_size / sizeof(Elf64_Sym);
	if (tab.sh_type == SHT_DYNSYM) {
		for (size_t i = 0; i < eh->e_shnum && elf_section(buf, len, eh, i, &sh); i++)
			if (sh.sh_type == SHT_GNU_versym && sh.sh_link == idx &&
			    section_fits(&sh, len) && sh.sh_size / 2 >= nsym) {
				ver = sh;
				have_ver = true;
			}
	}
	for (size_t i = 0; i < nsym; i++) {
		const char *strs = (const char *)buf + str.sh_offset;
		Elf64_Sym s;
		int type, r = 2;

		memcpy(&s, (const char *)buf + tab.sh_offset + i * sizeof(s), sizeof(s));
		type = ELF64_ST_TYPE(s.st_info);
		if (s.st_shndx == SHN_UNDEF || (type != STT_FUNC && type != STT_OBJECT) ||
		    s.st_name >= str.sh_size || str.sh_size - s.st_name <= namelen ||
		    memcmp(strs + s.st_name, name, namelen + 1))
			continue;
		if (have_ver) {
			uint16_t v;

			memcpy(&v, (const char *)buf + ver.sh_offset + 2 * i, sizeof(v));
			if (v & 0x8000)
				r = 1;
		}
		if (r > *rank) {
			*rank = r;
			*value = s.st_value;
			*size = s.st_size;
		}
	}
}

int inject_elf_symbol(const void *buf, size_t len, const char *name, uint64_t *value,
		      uint64_t *size)
{
	static const uint32_t order[] = {SHT_DYNSYM, SHT_SYMTAB};
	Elf64_Ehdr eh;
	Elf64_Shdr sh;
	int rank = 0;

	if (!elf_header(buf, len, &eh) || eh.e_shentsize != sizeof(Elf64_Shdr))
		return -ENOEXEC;
	for (size_t k = 0; k < 2 && !rank; k++)
		for (size_t i = 0; i < eh.e_shnum && !rank; i++) {
			if (!elf_section(buf, len, &eh, i, &sh))
				return -ENOEXEC;
			if (sh.sh_type == order[k])
				search_table(buf, len, &eh, i, name, value, size, &rank);
		}
	return rank ? 0 : -ENOENT;
}

/* ---- the target's libc ---- */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static bool is_libc(const char *path)
{
	const char *b = base_name(path);

	return !strncmp(b, "libc.so", 7) || (!strncmp(b, "libc-", 5) && strstr(b, ".so")) ||
	       !strncmp(b, "ld-musl-", 8);
}

static bool is_loader(const char *path)
{
	const char *b = base_name(path);

	return !strncmp(b, "ld-linux", 8) || !strncmp(b, "ld64.so", 7);
}

int inject_map_module(pid_t pid, const struct region *r, void **data, size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	int fd = -1;

	if (!procfs_path(path, sizeof(path), "/%d/root%s", (int)pid, r->path))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && (fstat(fd, &st) || st.st_ino != r->inode)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0 && !procfs_path(path, sizeof(path), "/%d/map_files/%" PRIx64 "-%" PRIx64,
				   (int)pid, r->start, r->end))
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
		close(fd);
		return -ENOEXEC;
	}
	*len = (size_t)st.st_size;
	*data = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (*data == MAP_FAILED)
		return -errno;
	return 0;
}

static void add_unsafe(struct target_libc *t, uint64_t start, uint64_t end)
{
	ALLOC_GROW(t->unsafe, t->nunsafe + 1, t->aunsafe);
	t->unsafe[t->nunsafe].start = start;
	t->unsafe[t->nunsafe].end = end;
	t->nunsafe++;
}

static uint64_t sym_addr(const void *data, size_t len, uint64_t bias, const char *name)
{
	uint64_t v, sz;

	return inject_elf_symbol(data, len, name, &v, &sz) ? 0 : bias + v;
}

/* Finds dlopen & co. and the unsafe ranges in pid. 0 or -errno (err filled). */
static int load_target_libc(pid_t pid, struct target_libc *t, struct strbuf *err)
{
	struct strbuf maps = STRBUF_INIT, perr = STRBUF_INIT;
	struct region *regs = NULL;
	size_t n = 0, alloc = 0;
	const struct region *libc = NULL;
	void *data = MAP_FAILED;
	size_t len = 0;
	uint64_t vaddr, bias, v, sz;
	int ret;

	ret = procfs_read_pid(pid, "maps", &maps, 64u << 20);
	if (!ret)
		ret = smaps_parse(maps.buf, maps.len, &regs, &n, &alloc, &perr);
	if (ret) {
		strbuf_addf(err, "cannot read the memory map of process %d: %s", (int)pid,
			    perr.len ? perr.buf : strerror(-ret));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (is_loader(regs[i].path) && strchr(regs[i].perms, 'x'))
			add_unsafe(t, regs[i].start, regs[i].end);
		if (!libc && regs[i].offset == 0 && regs[i].path[0] == '/' && is_libc(regs[i].path))
			libc = &regs[i];
	}
	if (!libc) {
		strbuf_addf(err, "process %d has no libc in its memory map (statically linked?)",
			    (int)pid);
		ret = -ENOEXEC;
		goto out;
	}
	ret = inject_map_module(pid, libc, &data, &len);
	if (!ret && inject_elf_first_load(data, len, &vaddr))
		ret = -ENOEXEC;
	if (ret) {
		strbuf_addf(err, "cannot read the libc of process %d ('%s'): %s", (int)pid,
			    libc->path, strerror(-ret));
		goto out;
	}
	bias = libc->start - (vaddr & ~(uint64_t)(sysconf(_SC_PAGESIZE) - 1));
	t->dlopen = sym_addr(data, len, bias, "dlopen");
	t->dlsym = sym_addr(data, len, bias, "dlsym");
	t->dlerror = sym_addr(data, len, bias, "dlerror");
	if (!t->dlopen || !t->dlsym) {
		/* glibc before 2.34: libdl's functions sit on these */
		t->dlopen = sym_addr(data, len, bias, "__libc_dlopen_mode");
		t->dlsym = sym_addr(data, len, bias, "__libc_dlsym");
		t->dlerror = 0;
	}
	if (!t->dlopen || !t->dlsym) {
		strbuf_addf(err, "no dlopen in the libc of process %d ('%s')", (int)pid, libc->path);
		ret = -ENOEXEC;
		goto out;
	}
	t->mmap = sym_addr(data, len, bias, "mmap");
	t->mprotect = sym_addr(data, len, bias, "mprotect");
	if (!t->mmap || !t->mprotect) {
		strbuf_addf(err, "no mmap or mprotect in the libc of process %d ('%s')", (int)pid,
			    libc->path);
		ret = -ENOEXEC;
		goto out;
	}
	for (size_t i = 0; i < sizeof(unsafe_names) / sizeof(unsafe_names[0]); i++)
		if (!inject_elf_symbol(data, len, unsafe_names[i], &v, &sz))
			add_unsafe(t, bias + v, bias + v + (sz ? sz : 1));
out:
	if (data != MAP_FAILED)
		munmap(data, len);
	for (size_t i = 0; i < n; i++)
		free(regs[i].path);
	free(regs);
	strbuf_release(&maps);
	strbuf_release(&perr);
	return ret;
}

static bool in_unsafe(const struct target_libc *t, uint64_t addr)
{
	for (size_t i = 0; i < t->nunsafe; i++)
		if (addr >= t->unsafe[i].start && addr < t->unsafe[i].end)
			return true;
	return false;
}

/* ---- checks ---- */

/* The number after "name:" in status text, -1 when absent. */
static long status_field(const char *text, const char *name)
{
	const char *p = strstr(text, name);

	return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

int inject_check(pid_t pid, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT, perr = STRBUF_INIT;
	struct proc_status st;
	struct target_libc t = {0};
	long tracer;
	int ret;

	ret = procfs_read_pid(pid, "status", &sb, 1u << 20);
	if (ret == -ESRCH || ret == -ENOENT) {
		strbuf_addf(err, "no process %d", (int)pid);
		ret = -ESRCH;
		goto out;
	}
	if (!ret)
		ret = proc_status_scan(sb.buf, sb.len, &st, &perr);
	if (ret) {
		strbuf_addf(err, "cannot read the status of process %d: %s", (int)pid,
			    perr.len ? perr.buf : strerror(-ret));
		goto out;
	}
	if (st.state == 'Z' || st.state == 'X') {
		strbuf_addf(err, "process %d has exited (a zombie)", (int)pid);
		ret = -EAGAIN;
		goto out;
	}
	/*
	 * proc_status keeps no TracerPid: the one line read here. Asked first:
	 * a traced process is often in a tracing stop ('t') at the moment we
	 * look, and the tracer is what is in the way, not the stop.
	 */
	tracer = status_field(sb.buf, "\nTracerPid:");
	if (tracer > 0) {
		strbuf_addf(err, "process %d is already traced by process %ld", (int)pid, tracer);
		ret = -EBUSY;
		goto out;
	}
	if (st.state == 'T' || st.state == 't') {
		strbuf_addf(err, "process %d is stopped", (int)pid);
		ret = -EAGAIN;
		goto out;
	}
	if (geteuid() != 0 && (st.ruid != geteuid() || st.euid != geteuid())) {
		strbuf_addf(err, "process %d belongs to uid %u and offheap runs as uid %u", (int)pid,
			    (unsigned)st.euid, (unsigned)geteuid());
		ret = -EPERM;
		goto out;
	}
	ret = load_target_libc(pid, &t, err);
out:
	free(t.unsafe);
	strbuf_release(&sb);
	strbuf_release(&perr);
	return ret;
}

/* ---- the library in the target's mount namespace ---- */

int inject_place_library(pid_t pid, const char *lib, char *path, size_t n, bool *copied,
			 struct strbuf *err)
{
	char there[PATH_MAX], tmpl[PATH_MAX];
	struct stat ours, theirs;
	int in = -1, fd = -1, ret = 0;
	size_t off;

	*copied = false;
	if (stat(lib, &ours)) {
		ret = -errno;
		strbuf_addf(err, "cannot stat '%s': %s", lib, strerror(errno));
		return ret;
	}
	if (!procfs_path(there, sizeof(there), "/%d/root%s", (int)pid, lib) &&
	    !stat(there, &theirs) && theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino)
		return snprintf(path, n, "%s", lib) < (int)n ? 0 : -ENAMETOOLONG;

	/* another mount namespace (a container): a copy in its /tmp */
	if (procfs_path(tmpl, sizeof(tmpl), "/%d/root/tmp/liboffheap-XXXXXX.so", (int)pid))
		return -ENAMETOOLONG;
	fd = mkstemps(tmpl, 3);
	if (fd < 0) {
		ret = -errno;
		strbuf_addf(err, "cannot copy the tracker into the root of process %d ('%s'): %s",
			    (int)pid, tmpl, strerror(errno));
		return ret;
	}
	in = open(lib, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		ret = -errno;
		goto fail;
	}
	for (;;) {
		char buf[65536];
		ssize_t got = read(in, buf, sizeof(buf));

		if (got < 0) {
			ret = -errno;
			goto fail;
		}
		if (!got)
			break;
		for (off = 0; off < (size_t)got;) {
			ssize_t w = write(fd, buf + off, (size_t)got - off);

			if (w < 0) {
				ret = -errno;
				goto fail;
			}
			off += (size_t)w;
		}
	}
	if (fchmod(fd, 0644)) {
		ret = -errno;
		goto fail;
	}
	close(in);
	close(fd);
	*copied = true;
	return snprintf(path, n, "/tmp/%s", base_name(tmpl)) < (int)n ? 0 : -ENAMETOOLONG;
fail:
	strbuf_addf(err, "cannot copy the tracker to '%s': %s", tmpl, strerror(-ret));
	if (in >= 0)
		close(in);
	close(fd);
	unlink(tmpl);
	return ret;
}

void inject_remove_copy(pid_t pid, const char *path)
{
	char there[PATH_MAX];

	if (!procfs_path(there, sizeof(there), "/%d/root%s", (int)pid, path))
		unlink(there);
}

/* ---- ptrace ---- */

/* Why ptrace refused pid: what to tell the user. */
static void explain_eperm(pid_t pid, struct strbuf *err)
{
	char path[PATH_MAX];
	struct strbuf sb = STRBUF_INIT;
	long scope = -1;

	if (!procfs_path(path, sizeof(path), "/sys/kernel/yama/ptrace_scope") &&
	    !procfs_read_file(path, &sb, 64))
		scope = strtol(sb.buf, NULL, 10);
	if (scope >= 1 && geteuid() != 0)
		strbuf_addf(err, "the kernel refuses to let offheap trace process %d: Yama's ptrace_scope is %ld",
			    (int)pid, scope);
	else
		strbuf_addf(err, "the kernel refuses to let offheap trace process %d (Operation not permitted)",
			    (int)pid);
	strbuf_release(&sb);
}

/*
 * Waits for the next stop or end of s->tid, at most until deadline (ms).
 * 0 and *status, -ETIMEDOUT, or -ESRCH when it exited.
 */
static int wait_thread(struct session *s, int64_t deadline, int *status)
{
	for (;;) {
		pid_t p = waitpid(s->tid, status, __WALL | WNOHANG);

		if (p == s->tid) {
			if (WIFEXITED(*status) || WIFSIGNALED(*status)) {
				s->attached = s->stopped = false;
				strbuf_addf(s->err, "process %d exited during the injection",
					    (int)s->pid);
				return -ESRCH;
			}
			return 0;
		}
		if (p < 0 && errno != EINTR) {
			s->attached = s->stopped = false;
			strbuf_addf(s->err, "process %d exited during the injection", (int)s->pid);
			return -ESRCH;
		}
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		nap_us(500);
	}
}

/*
 * Stops the thread with PTRACE_INTERRUPT; a signal that arrives first is
 * delivered and the interrupt still follows. 0 once in the interrupt's stop.
 */
static int stop_thread(struct session *s, int64_t deadline)
{
	int status, ret;

	if (ptrace(PTRACE_INTERRUPT, s->tid, 0, 0))
		return -errno;
	for (;;) {
		ret = wait_thread(s, deadline, &status);
		if (ret == -ETIMEDOUT)
			strbuf_addf(s->err, "process %d did not stop within %d ms", (int)s->pid,
				    s->timeout_ms);
		if (ret)
			return ret;
		if (!WIFSTOPPED(status))
			continue;
		if ((status >> 16) == PTRACE_EVENT_STOP) {
			int sig = WSTOPSIG(status);

			if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
				/* a group stop: the process was stopped by job control */
				strbuf_addf(s->err, "process %d is stopped", (int)s->pid);
				return -EAGAIN;
			}
			s->stopped = true;
			return 0;
		}
		/* a signal on its way in: let it go, our interrupt is still pending */
		if (ptrace(PTRACE_CONT, s->tid, 0, (void *)(long)WSTOPSIG(status)))
			return -errno;
	}
}

static int save_regs(struct session *s)
{
	struct iovec iov;

	if (ptrace(PTRACE_GETREGS, s->tid, 0, &s->saved))
		return -errno;
	if (!s->xstate)
		s->xstate = xmalloc(XSTATE_MAX);
	iov.iov_base = s->xstate;
	iov.iov_len = XSTATE_MAX;
	if (!ptrace(PTRACE_GETREGSET, s->tid, (void *)NT_X86_XSTATE, &iov)) {
		s->xlen = iov.iov_len;
		return 0;
	}
	free(s->xstate);
	s->xstate = NULL;
	return ptrace(PTRACE_GETFPREGS, s->tid, 0, &s->fp) ? -errno : 0;
}

static int restore_regs(struct session *s)
{
	struct iovec iov = {.iov_base = s->xstate, .iov_len = s->xlen};

	if (ptrace(PTRACE_SETREGS, s->tid, 0, &s->saved))
		return -errno;
	if (s->xstate ? ptrace(PTRACE_SETREGSET, s->tid, (void *)NT_X86_XSTATE, &iov)
		      : ptrace(PTRACE_SETFPREGS, s->tid, 0, &s->fp))
		return -errno;
	s->dirty = false;
	return 0;
}

#define UNWIND_MAX 64 /* frames of the stopped thread looked at */

/*
 * The stopped thread's call stack by its unwind tables (libunwind over
 * ptrace): ips[0] is where it stopped. Returns the frames found; below 2
 * when the stack could not be unwound.
 */
static int stopped_stack(pid_t tid, uint64_t *ips, int max)
{
	unw_addr_space_t as = unw_create_addr_space(&_UPT_accessors, 0);
	void *upt = as ? _UPT_create(tid) : NULL;
	unw_cursor_t c;
	int n = 0;

	if (upt && !unw_init_remote(&c, as, upt)) {
		do {
			unw_word_t ip;

			if (unw_get_reg(&c, UNW_REG_IP, &ip))
				break;
			ips[n++] = ip;
		} while (n < max && unw_step(&c) > 0);
	}
	if (upt)
		_UPT_destroy(upt);
	if (as)
		unw_destroy_addr_space(as);
	return n;
}

/*
 * True when the stopped thread is outside the allocator and the loader.
 * Its frames are unwound: the malloc family's helpers (_int_malloc, the
 * arena locks) are no exported symbols, but they return into one. Where
 * the stack cannot be unwound, every word of its top is taken for a return
 * address, which a stale slot can make look unsafe (then another stop is
 * tried).
 */
static bool at_safe_point(struct session *s, const struct target_libc *t)
{
	uint64_t words[STACK_SCAN / 8], ips[UNWIND_MAX];
	ssize_t got;
	int fd, n;

	if (in_unsafe(t, s->saved.rip))
		return false;
	n = stopped_stack(s->tid, ips, UNWIND_MAX);
	if (n >= 2) {
		for (int i = 0; i < n; i++)
			if (in_unsafe(t, ips[i]) || (i && in_unsafe(t, ips[i] - 1)))
				return false;
		return true;
	}
	fd = procfs_open_pid(s->pid, "mem");
	if (fd < 0)
		return true; /* the rip was checked; the stack cannot be */
	got = pread(fd, words, sizeof(words), (off_t)s->saved.rsp);
	close(fd);
	for (ssize_t i = 0; i < got / 8; i++)
		if (in_unsafe(t, words[i]))
			return false;
	return true;
}

/* Picks a thread of pid that is not a zombie (a leader that called pthread_exit is one). */
static pid_t pick_thread(pid_t pid)
{
	struct strbuf sb = STRBUF_INIT;
	pid_t *tids = NULL, tid = pid;
	size_t n = 0;

	if (procfs_list_tids(pid, &tids, &n))
		return pid;
	for (size_t i = 0; i < n; i++) {
		char name[64];
		const char *p;

		snprintf(name, sizeof(name), "task/%d/stat", (int)tids[i]);
		if (procfs_read_pid(pid, name, &sb, 4096) || !(p = strrchr(sb.buf, ')')))
			continue;
		if (p[1] == ' ' && p[2] != 'Z' && p[2] != 'X') {
			tid = tids[i];
			break;
		}
	}
	free(tids);
	strbuf_release(&sb);
	return tid;
}

static int poke(struct session *s, uint64_t addr, const void *data, size_t len)
{
	for (size_t off = 0; off < len; off += 8) {
		uint64_t word = 0;

		if (len - off < 8) {
			errno = 0;
			word = (uint64_t)ptrace(PTRACE_PEEKDATA, s->tid, (void *)(addr + off), 0);
			if (errno)
				return -errno;
			memcpy(&word, (const char *)data + off, len - off);
		} else {
			memcpy(&word, (const char *)data + off, 8);
		}
		if (ptrace(PTRACE_POKEDATA, s->tid, (void *)(addr + off), (void *)word))
			return -errno;
	}
	return 0;
}

/* Reads the target's memory at addr (the thread need not be stopped). 0 or -errno. */
static int read_mem(pid_t pid, uint64_t addr, void *buf, size_t n)
{
	int fd = procfs_open_pid(pid, "mem");
	ssize_t got;

	if (fd < 0)
		return fd;
	got = pread(fd, buf, n, (off_t)addr);
	close(fd);
	return got == (ssize_t)n ? 0 : got < 0 ? -errno : -EIO;
}

/*
 * Calls fn(a[0], ..., a[5]) in the stopped thread, on its stack below the
 * red zone, returning to address 0. *ret is rax.
 */
static int call6(struct session *s, uint64_t fn, const uint64_t a[6], uint64_t *ret)
{
	struct user_regs_struct regs = s->saved, now;
	uint64_t sp = s->saved.rsp - 128, zero = 0;
	int64_t deadline = s->deadline;
	int status, r;

	/* at the callee's entry rsp + 8 is 16-aligned (the ABI), and [rsp] returns to 0 */
	sp = (sp & ~(uint64_t)15) - 8;
	if ((r = poke(s, sp, &zero, 8)))
		return r;
	regs.rip = fn;
	regs.rsp = sp;
	regs.rdi = a[0];
	regs.rsi = a[1];
	regs.rdx = a[2];
	regs.rcx = a[3];
	regs.r8 = a[4];
	regs.r9 = a[5];
	regs.rax = 0;
	/* not a system call to restart: the kernel would move rip back by 2 */
	regs.orig_rax = (uint64_t)-1;
	s->dirty = true;
	if (ptrace(PTRACE_SETREGS, s->tid, 0, &regs) || ptrace(PTRACE_CONT, s->tid, 0, 0))
		return -errno;
	s->stopped = false;
	for (;;) {
		r = wait_thread(s, deadline, &status);
		if (r == -ETIMEDOUT)
			strbuf_addf(s->err, "timed out after %d ms waiting for a call injected into process %d to return",
				    s->timeout_ms, (int)s->pid);
		if (r)
			return r;
		if (!WIFSTOPPED(status))
			continue;
		if ((status >> 16) == 0 && WSTOPSIG(status) == SIGSEGV) {
			if (ptrace(PTRACE_GETREGS, s->tid, 0, &now))
				return -errno;
			if (now.rip == 0) {
				s->stopped = true;
				*ret = now.rax;
				return 0;
			}
			/*
			 * Not our return: a fault the process may handle itself (a JVM's
			 * null checks and safepoint polls are SIGSEGVs). It gets it; a real
			 * crash ends the process, which the next wait sees.
			 */
		}
		/* a group stop or another signal: the call goes on, the signal is delivered */
		if (ptrace(PTRACE_CONT, s->tid, 0,
			   (void *)(long)((status >> 16) ? 0 : WSTOPSIG(status))))
			return -errno;
	}
}

/*
 * The trampoline: the thread runs dlopen, dlsym and the function by itself,
 * untraced, then puts every register back and jumps to where it was
 * stopped. Nothing then depends on offheap staying alive: a recorder killed
 * in the middle leaves a target that finishes the calls and goes on.
 *
 * Its pages, mapped in the target by an injected mmap (left there, 3 pages
 * or more): the code (made read+exec), the data below, and the XSAVE area.
 */
enum {
	TR_STATUS = 0,	  /* 0 running, 1 done, 2 dlopen failed, 3 no such function */
	TR_RESULT = 8,	  /* the function's rax; dlerror()'s pointer on status 2 */
	TR_RIP = 16,	  /* where the thread goes back to */
	TR_REGS = 64,	  /* the general registers, TRR_* below */
	TR_STRINGS = 512, /* path, function name, argument */
};
/* Offsets of the registers in the TR_REGS block. */
enum { TRR_RAX, TRR_RBX, TRR_RCX, TRR_RDX, TRR_RSI, TRR_RDI, TRR_RBP, TRR_R8, TRR_R9, TRR_R10,
       TRR_R11, TRR_R12, TRR_R13, TRR_R14, TRR_R15, TRR_RSP, TRR_FLAGS, TRR_N };

/* Machine code, appended byte by byte. */
struct code {
	unsigned char b[1024];
	size_t n;
};

static void emit(struct code *c, const void *bytes, size_t n)
{
	if (c->n + n <= sizeof(c->b))
		memcpy(c->b + c->n, bytes, n);
	c->n += n;
}

static void emit1(struct code *c, unsigned v)
{
	unsigned char b = (unsigned char)v;

	emit(c, &b, 1);
}

static void emit32(struct code *c, uint32_t v)
{
	emit(c, &v, 4);
}

/* movabs reg, imm64 (reg: 0 rax, 1 rcx, 6 rsi, 7 rdi) */
static void emit_movabs(struct code *c, unsigned reg, uint64_t v)
{
	emit1(c, 0x48);
	emit1(c, 0xb8 + reg);
	emit(c, &v, 8);
}

/* A jump or jz with a 32-bit displacement to fill in later: returns where. */
static size_t emit_jump(struct code *c, bool jz)
{
	if (jz) {
		emit1(c, 0x0f);
		emit1(c, 0x84);
	} else {
		emit1(c, 0xe9);
	}
	emit32(c, 0);
	return c->n - 4;
}

static void patch_jump(struct code *c, size_t at)
{
	uint32_t rel = (uint32_t)(c->n - (at + 4));

	if (at + 4 <= sizeof(c->b))
		memcpy(c->b + at, &rel, 4);
}

/* The restart of a system call the stop interrupted, as the kernel would do it. */
static void restart_syscall_regs(struct user_regs_struct *r)
{
	long rax = (long)r->rax;

	if ((long)r->orig_rax < 0)
		return;
	/*
	 * -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND: the call again.
	 * -ERESTART_RESTARTBLOCK (nanosleep, poll, futex waits with a timeout)
	 * would go on through restart_syscall(2) from the thread's restart block,
	 * but the injected calls may have reset it (every nanosleep does): the
	 * call is made again with its arguments, which the kernel kept in their
	 * registers; a relative timeout starts over.
	 */
	if (rax == -512 || rax == -513 || rax == -514 || rax == -516) {
		r->rax = r->orig_rax;
		r->rip -= 2;
	}
}

/* Writes the trampoline's code for base (its code page) into c. */
static void build_trampoline(struct code *c, const struct target_libc *t, uint64_t base,
			     uint64_t data, uint64_t xarea, bool xsave, uint64_t path,
			     uint64_t func, uint64_t arg, unsigned dlflags)
{
	static const unsigned char regs_load[][3] = {
		/* mov REG, [rcx+d8]: REX, 8B, modrm (01 reg 001) — rax..r15 but rcx, rsp */
		{0x48, 0x8b, 0x41}, {0x48, 0x8b, 0x59}, {0, 0, 0},	    {0x48, 0x8b, 0x51},
		{0x48, 0x8b, 0x71}, {0x48, 0x8b, 0x79}, {0x48, 0x8b, 0x69}, {0x4c, 0x8b, 0x41},
		{0x4c, 0x8b, 0x49}, {0x4c, 0x8b, 0x51}, {0x4c, 0x8b, 0x59}, {0x4c, 0x8b, 0x61},
		{0x4c, 0x8b, 0x69}, {0x4c, 0x8b, 0x71}, {0x4c, 0x8b, 0x79},
	};
	size_t fail_open, fail_sym, to_store1, to_store2;
	uint32_t rel;

	c->n = 0;
	/* h = dlopen(path, flags) */
	emit_movabs(c, 7, path);
	emit1(c, 0xbe); /* mov esi, imm32 */
	emit32(c, dlflags);
	emit_movabs(c, 0, t->dlopen);
	emit(c, "\xff\xd0", 2);	    /* call rax */
	emit(c, "\x48\x85\xc0", 3); /* test rax, rax */
	fail_open = emit_jump(c, true);
	/* f = dlsym(h, func) */
	emit(c, "\x48\x89\xc7", 3); /* mov rdi, rax */
	emit_movabs(c, 6, func);
	emit_movabs(c, 0, t->dlsym);
	emit(c, "\xff\xd0", 2);
	emit(c, "\x48\x85\xc0", 3);
	fail_sym = emit_jump(c, true);
	/* f(arg) */
	emit_movabs(c, 7, arg);
	emit(c, "\xff\xd0", 2);
	emit1(c, 0xba); /* mov edx, 1 */
	emit32(c, 1);
	to_store1 = emit_jump(c, false);
	/* dlopen failed: keep dlerror()'s text */
	patch_jump(c, fail_open);
	if (t->dlerror) {
		emit_movabs(c, 0, t->dlerror);
		emit(c, "\xff\xd0", 2);
	} else {
		emit(c, "\x31\xc0", 2); /* xor eax, eax */
	}
	emit1(c, 0xba);
	emit32(c, 2);
	to_store2 = emit_jump(c, false);
	patch_jump(c, fail_sym);
	emit(c, "\x31\xc0", 2);
	emit1(c, 0xba);
	emit32(c, 3);
	/* store: the result, then the status the tracer polls */
	patch_jump(c, to_store1);
	patch_jump(c, to_store2);
	emit_movabs(c, 1, data);
	emit(c, "\x48\x89\x41\x08", 4); /* mov [rcx+8], rax */
	emit(c, "\x48\x89\x11", 3);	/* mov [rcx], rdx */
	/* the vector and x87 state: xrstor64 [rcx] with every component, or fxrstor64 */
	emit1(c, 0xb8);
	emit32(c, 0xffffffff);
	emit1(c, 0xba);
	emit32(c, 0xffffffff);
	emit_movabs(c, 1, xarea);
	emit(c, xsave ? "\x48\x0f\xae\x29" : "\x48\x0f\xae\x09", 4);
	/*
	 * The general registers: flags first (popfq needs the stack), rsp and rcx
	 * last. rcx points 64 bytes into the block: every offset fits a signed byte.
	 */
	emit_movabs(c, 1, data + TR_REGS + 64);
	emit(c, "\xff\x71", 2); /* push qword [rcx+d8] */
	emit1(c, TRR_FLAGS * 8 - 64);
	emit1(c, 0x9d); /* popfq */
	for (unsigned i = 0; i < TRR_RSP; i++) {
		if (i == TRR_RCX)
			continue;
		emit(c, regs_load[i], 3);
		emit1(c, i * 8 - 64);
	}
	emit(c, "\x48\x8b\x61", 3); /* mov rsp, [rcx+d8] */
	emit1(c, TRR_RSP * 8 - 64);
	emit(c, "\x48\x8b\x49", 3); /* mov rcx, [rcx+d8] */
	emit1(c, TRR_RCX * 8 - 64);
	/* jmp [rip + rel32] to TR_RIP, read from the data page */
	emit(c, "\xff\x25", 2);
	rel = (uint32_t)((data + TR_RIP) - (base + c->n + 4));
	emit32(c, rel);
}

/* Puts the thread back as it was and lets it go. */
static void end_session(struct session *s)
{
	if (s->attached) {
		if (s->dirty && !s->stopped) {
			/* a call still running: stop it where it is (the deadline passed) */
			int status;

			if (!ptrace(PTRACE_INTERRUPT, s->tid, 0, 0) &&
			    !wait_thread(s, now_ms() + 1000, &status))
				s->stopped = true;
		}
		if (s->dirty && s->stopped)
			restore_regs(s);
		ptrace(PTRACE_DETACH, s->tid, 0, 0);
	}
	free(s->xstate);
	s->xstate = NULL;
}

int inject_dlcall(pid_t pid, const char *path, const char *func, const char *arg, unsigned flags,
		  int timeout_ms, long *result, struct strbuf *err)
{
	struct session s = {.pid = pid, .err = err};
	struct target_libc t = {0};
	struct user_regs_struct back, launch;
	struct code code;
	uint64_t regs[TRR_N], hdr[3];
	int64_t deadline;
	uint64_t base = 0, data, xarea, size, str, a[6];
	size_t lens[3];
	const char *strs[3] = {path, func, arg};
	int ret, tries;

	s.timeout_ms = timeout_ms > 0 ? timeout_ms : INJECT_DEFAULT_TIMEOUT_MS;
	deadline = now_ms() + s.timeout_ms;
	s.deadline = deadline;
	for (int i = 0; i < 3; i++) {
		lens[i] = strs[i] ? strlen(strs[i]) + 1 : 0;
		if (lens[i] > MAX_STRING) {
			strbuf_addf(err, "an argument of more than 1 KiB cannot be passed");
			return -E2BIG;
		}
	}
	ret = load_target_libc(pid, &t, err);
	if (ret)
		goto out;
	s.tid = pick_thread(pid);
	if (ptrace(PTRACE_SEIZE, s.tid, 0, 0)) {
		ret = -errno;
		if (ret == -EPERM)
			explain_eperm(pid, err);
		else if (ret == -ESRCH)
			strbuf_addf(err, "no process %d", (int)pid);
		else
			strbuf_addf(err, "cannot trace process %d: %s", (int)pid, strerror(errno));
		goto out;
	}
	s.attached = true;
	for (tries = 0;; tries++) {
		ret = stop_thread(&s, deadline);
		if (ret)
			goto out;
		ret = save_regs(&s);
		if (ret) {
			strbuf_addf(err, "cannot read the registers of process %d: %s", (int)pid,
				    strerror(-ret));
			goto out;
		}
		if (at_safe_point(&s, &t))
			break;
		if (tries + 1 >= SAFE_TRIES || now_ms() >= deadline) {
			strbuf_addf(err, "process %d stayed inside its allocator or loader: no safe point to load the tracker",
				    (int)pid);
			ret = -EDEADLK;
			goto out;
		}
		if (ptrace(PTRACE_CONT, s.tid, 0, 0)) {
			ret = -errno;
			goto out;
		}
		s.stopped = false;
		nap_us(2000);
	}

	/* the pages: code, data, then the XSAVE area (64-byte aligned: page aligned) */
	size = 8192 + (((s.xstate ? s.xlen : sizeof(s.fp)) + 4095) & ~(uint64_t)4095);
	a[0] = 0, a[1] = size, a[2] = PROT_READ | PROT_WRITE;
	a[3] = MAP_PRIVATE | MAP_ANONYMOUS, a[4] = (uint64_t)-1, a[5] = 0;
	ret = call6(&s, t.mmap, a, &base);
	if (!ret && base >= (uint64_t)-4095) {
		strbuf_addf(err, "process %d cannot map the trampoline's pages: %s", (int)pid,
			    strerror((int)-(int64_t)base));
		ret = -ENOMEM;
	}
	if (ret)
		goto out;
	data = base + 4096;
	xarea = base + 8192;

	/* where the thread goes back to: as the kernel would restart its system call */
	back = s.saved;
	restart_syscall_regs(&back);
	regs[TRR_RAX] = back.rax, regs[TRR_RBX] = back.rbx, regs[TRR_RCX] = back.rcx;
	regs[TRR_RDX] = back.rdx, regs[TRR_RSI] = back.rsi, regs[TRR_RDI] = back.rdi;
	regs[TRR_RBP] = back.rbp, regs[TRR_R8] = back.r8, regs[TRR_R9] = back.r9;
	regs[TRR_R10] = back.r10, regs[TRR_R11] = back.r11, regs[TRR_R12] = back.r12;
	regs[TRR_R13] = back.r13, regs[TRR_R14] = back.r14, regs[TRR_R15] = back.r15;
	regs[TRR_RSP] = back.rsp, regs[TRR_FLAGS] = back.eflags;
	hdr[0] = 0, hdr[1] = 0, hdr[2] = back.rip;
	str = data + TR_STRINGS;
	ret = poke(&s, data, hdr, sizeof(hdr));
	if (!ret)
		ret = poke(&s, data + TR_REGS, regs, sizeof(regs));
	for (int i = 0; i < 3 && !ret; i++)
		if (strs[i])
			ret = poke(&s, str + MAX_STRING * i, strs[i], lens[i]);
	if (!ret)
		ret = s.xstate ? poke(&s, xarea, s.xstate, s.xlen) : poke(&s, xarea, &s.fp, sizeof(s.fp));
	build_trampoline(&code, &t, base, data, xarea, s.xstate != NULL, str,
			 str + MAX_STRING, strs[2] ? str + 2 * MAX_STRING : 0,
			 RTLD_NOW | ((flags & INJECT_LOADED) ? RTLD_NOLOAD : 0));
	if (!ret && code.n > sizeof(code.b))
		ret = -E2BIG;
	if (!ret)
		ret = poke(&s, base, code.b, code.n);
	if (ret) {
		if (!err->len)
			strbuf_addf(err, "cannot write into process %d: %s", (int)pid, strerror(-ret));
		goto out;
	}
	a[0] = base, a[1] = 4096, a[2] = PROT_READ | PROT_EXEC, a[3] = a[4] = a[5] = 0;
	ret = call6(&s, t.mprotect, a, &hdr[0]);
	if (!ret && hdr[0]) {
		strbuf_addf(err, "process %d cannot make the trampoline executable", (int)pid);
		ret = -EPERM;
	}
	if (ret)
		goto out;

	/* off it goes, untraced: the thread restores itself at the end */
	launch = s.saved;
	launch.rip = base;
	launch.rsp = ((s.saved.rsp - 256) & ~(uint64_t)15);
	launch.orig_rax = (uint64_t)-1;
	if (ptrace(PTRACE_SETREGS, s.tid, 0, &launch) || ptrace(PTRACE_DETACH, s.tid, 0, 0)) {
		ret = -errno;
		strbuf_addf(err, "cannot start the trampoline in process %d: %s", (int)pid,
			    strerror(errno));
		goto out;
	}
	s.attached = false;

	for (;;) {
		if (read_mem(pid, data, hdr, 2 * sizeof(uint64_t))) {
			strbuf_addf(err, "process %d exited during the injection", (int)pid);
			ret = -ESRCH;
			goto out;
		}
		if (hdr[0])
			break;
		if (now_ms() >= deadline) {
			strbuf_addf(err, "timed out after %d ms waiting for a call injected into process %d to return",
				    s.timeout_ms, (int)pid);
			ret = -ETIMEDOUT;
			goto out;
		}
		nap_us(500);
	}
	if (hdr[0] == 2) {
		char why[512] = "";

		if (hdr[1] && !read_mem(pid, hdr[1], why, sizeof(why) - 1))
			why[sizeof(why) - 1] = '\0';
		else
			why[0] = '\0';
		if (flags & INJECT_LOADED)
			strbuf_addf(err, "'%s' is not loaded in process %d", path, (int)pid);
		else
			strbuf_addf(err, "process %d cannot load '%s': %s", (int)pid, path,
				    *why ? why : "dlopen failed");
		ret = -ENOENT;
	} else if (hdr[0] == 3) {
		strbuf_addf(err, "'%s' has no function '%s'", path, func);
		ret = -ENOENT;
	} else {
		*result = (long)(int)hdr[1]; /* the functions called return an int */
	}
out:
	end_session(&s);
	free(t.unsafe);
	return ret;
}
