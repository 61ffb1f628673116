/*
 * inject: makes a running process dlopen a library and call one of its
 * functions, through ptrace alone (x86-64).
 *
 * One thread is taken with PTRACE_SEIZE and stopped with PTRACE_INTERRUPT
 * (no SIGSTOP: the process sees no signal). Its registers, general and
 * extended (XSAVE area: the called code may use vector registers the
 * interrupted code holds live), are saved. Each call is set up on that
 * thread's own stack, below the 128-byte red zone of the x86-64 ABI: the
 * string arguments, then a return address of 0, so the callee's `ret`
 * faults at address 0 and we see a SIGSEGV signal-delivery-stop, read rax
 * and suppress the signal. orig_rax is set to -1 for the calls, so the
 * kernel does not take the injected rip for an interrupted system call to
 * restart; at the end the saved registers are put back exactly, with
 * orig_rax and the -ERESTART* code in rax, so a system call the stop
 * interrupted restarts as it would after any signal (kernel:
 * arch/x86/kernel/signal.c, arch_do_signal_or_restart).
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

#ifndef NT_X86_XSTATE
#define NT_X86_XSTATE 0x202
#endif

#define SAFE_TRIES 50		/* stops tried before giving up on a safe point */
#define STACK_SCAN 2048		/* bytes of the stack top searched for return addresses */
#define XSTATE_MAX (64u << 10)	/* bigger than any XSAVE area (AMX: about 11 KiB) */
#define MAX_STRING 4096		/* bytes of a string argument */

/* Where a function of the target lies, to tell whether a thread is inside it. */
struct range {
	uint64_t start, end;
};

/* What the target's libc and loader give us. */
struct target_libc {
	uint64_t dlopen, dlsym, dlerror; /* addresses in the target; dlerror may be 0 */
	struct range *unsafe;		 /* malloc family, dl* functions, ld.so's text */
	size_t nunsafe, aunsafe;
};

/* One stopped thread. */
struct session {
	pid_t pid, tid;
	int timeout_ms;
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

/*
 * Maps the file behind region r of pid: through its root when that is still
 * the mapped file (same inode), else through map_files. 0 or -errno.
 */
static int map_module(pid_t pid, const struct region *r, void **data, size_t *len)
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
	ret = map_module(pid, libc, &data, &len);
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
	if (st.state == 'T' || st.state == 't') {
		strbuf_addf(err, "process %d is stopped", (int)pid);
		ret = -EAGAIN;
		goto out;
	}
	/* proc_status keeps no TracerPid: the one line read here */
	tracer = status_field(sb.buf, "\nTracerPid:");
	if (tracer > 0) {
		strbuf_addf(err, "process %d is already traced by process %ld", (int)pid, tracer);
		ret = -EBUSY;
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

/* True when the stopped thread is outside the allocator and the loader. */
static bool at_safe_point(struct session *s, const struct target_libc *t)
{
	uint64_t words[STACK_SCAN / 8];
	ssize_t got;
	int fd;

	if (in_unsafe(t, s->saved.rip))
		return false;
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

/* Reads a NUL-terminated string of at most n - 1 bytes at addr into buf. */
static void peek_string(struct session *s, uint64_t addr, char *buf, size_t n)
{
	size_t i = 0;

	while (i + 1 < n) {
		uint64_t word;

		errno = 0;
		word = (uint64_t)ptrace(PTRACE_PEEKDATA, s->tid, (void *)(addr + i), 0);
		if (errno)
			break;
		for (int k = 0; k < 8 && i + 1 < n; k++, i++) {
			buf[i] = (char)(word >> (8 * k));
			if (!buf[i]) {
				return;
			}
		}
	}
	buf[i] = '\0';
}

/*
 * Calls fn(a0, a1) in the stopped thread, where a string argument (s0, s1
 * not NULL) is copied onto its stack and replaces a0 (a1). *ret is rax.
 */
static int call(struct session *s, uint64_t fn, uint64_t a0, const char *s0, uint64_t a1,
		const char *s1, uint64_t *ret)
{
	struct user_regs_struct regs = s->saved, now;
	uint64_t sp = s->saved.rsp - 128, zero = 0;
	int64_t deadline = now_ms() + s->timeout_ms;
	int status, r;

	if ((s0 && strnlen(s0, MAX_STRING) == MAX_STRING) ||
	    (s1 && strnlen(s1, MAX_STRING) == MAX_STRING)) {
		strbuf_addf(s->err, "an argument of %d bytes or more cannot be passed", MAX_STRING);
		return -E2BIG;
	}
	if (s0) {
		size_t len = strlen(s0) + 1;

		sp = (sp - len) & ~(uint64_t)7;
		if ((r = poke(s, sp, s0, len)))
			return r;
		a0 = sp;
	}
	if (s1) {
		size_t len = strlen(s1) + 1;

		sp = (sp - len) & ~(uint64_t)7;
		if ((r = poke(s, sp, s1, len)))
			return r;
		a1 = sp;
	}
	/* at the callee's entry rsp + 8 is 16-aligned (the ABI), and [rsp] returns to 0 */
	sp = (sp & ~(uint64_t)15) - 8;
	if ((r = poke(s, sp, &zero, 8)))
		return r;
	regs.rip = fn;
	regs.rsp = sp;
	regs.rdi = a0;
	regs.rsi = a1;
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
			strbuf_addf(s->err, "a call injected into process %d did not return within %d ms",
				    (int)s->pid, s->timeout_ms);
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
	int64_t deadline;
	uint64_t handle = 0, fn = 0, rv = 0;
	int ret, tries;

	s.timeout_ms = timeout_ms > 0 ? timeout_ms : INJECT_DEFAULT_TIMEOUT_MS;
	deadline = now_ms() + s.timeout_ms;
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

	ret = call(&s, t.dlopen, 0, path, RTLD_NOW | ((flags & INJECT_LOADED) ? RTLD_NOLOAD : 0),
		   NULL, &handle);
	if (!ret && !handle) {
		char why[512] = "";
		uint64_t msg = 0;

		if (t.dlerror && !call(&s, t.dlerror, 0, NULL, 0, NULL, &msg) && msg)
			peek_string(&s, msg, why, sizeof(why));
		if (flags & INJECT_LOADED)
			strbuf_addf(err, "'%s' is not loaded in process %d", path, (int)pid);
		else
			strbuf_addf(err, "process %d cannot load '%s': %s", (int)pid, path,
				    *why ? why : "dlopen failed");
		ret = -ENOENT;
	}
	if (!ret)
		ret = call(&s, t.dlsym, handle, NULL, 0, func, &fn);
	if (!ret && !fn) {
		strbuf_addf(err, "'%s' has no function '%s'", path, func);
		ret = -ENOENT;
	}
	if (!ret)
		ret = call(&s, fn, 0, arg, 0, NULL, &rv);
	if (!ret)
		*result = (long)(int)rv; /* the functions called return an int */
out:
	end_session(&s);
	free(t.unsafe);
	return ret;
}
