/* gotpatch: swaps GOT entries of the loaded objects for the tracker's hooks, and back. */

/*
 * An object calls a function of another one through its GOT: a JUMP_SLOT
 * relocation (the PLT's slot, resolved at load with -z now, else at the
 * first call through a stub of the object's own PLT) or a GLOB_DAT one (a
 * function pointer taken, or -fno-plt calls). Attaching rewrites those
 * entries that name an interposed function, in every object but
 * liboffheap.so itself and the dynamic loader, with one atomic 8-byte store
 * each, remembering (address, original) to put back at detach.
 *
 * Under RELRO the GOT page was made read-only after relocation: it is made
 * writable for the store, then given back the protection /proc/self/maps
 * gave it. Everything runs inside dl_iterate_phdr's callback, which holds
 * the loader's lock: no object comes or goes meanwhile. The dynamic
 * section's addresses are absolute once glibc relocated them, and relative
 * to the load address where the loader left them alone (the vDSO, musl).
 * Callers serialise (attach.c's lock); nothing here allocates.
 */
#include "internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define R_JUMP_SLOT R_X86_64_JUMP_SLOT
#define R_GLOB_DAT  R_X86_64_GLOB_DAT
#elif defined(__aarch64__)
#define R_JUMP_SLOT R_AARCH64_JUMP_SLOT
#define R_GLOB_DAT  R_AARCH64_GLOB_DAT
#else
#define R_JUMP_SLOT (-1)
#define R_GLOB_DAT  (-1)
#endif

struct patched {
	uintptr_t addr; /* the GOT entry */
	uintptr_t orig; /* what it held */
	uintptr_t hook; /* what we stored */
};

#define MAX_PATCHED (1U << 16) /* 1.5 MiB of records, mapped at the first attach */

static struct patched *patched;
static uint32_t npatched;

struct apply_ctx {
	const struct got_want *w;
	int n;
	int done;   /* entries patched */
	int err;    /* first -errno */
	uintptr_t maps_lo, maps_hi; /* the mapping last read from /proc/self/maps */
	int maps_prot;
};

/* The range of the mappings of an object and whether it holds addr. */
static bool object_holds(const struct dl_phdr_info *info, uintptr_t addr)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && addr >= lo && addr < lo + ph->p_memsz)
			return true;
	}
	return false;
}

static bool skip_object(const struct dl_phdr_info *info)
{
	uintptr_t vdso = getauxval(AT_SYSINFO_EHDR);

	if (object_holds(info, (uintptr_t)skip_object))
		return true; /* liboffheap.so */
	if (info->dlpi_addr && info->dlpi_addr == getauxval(AT_BASE))
		return true; /* the loader */
	return vdso && object_holds(info, vdso);
}

static unsigned long hex(const char **p)
{
	unsigned long v = 0;

	for (;; (*p)++) {
		char c = **p;

		if (c >= '0' && c <= '9')
			v = v * 16 + (unsigned long)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (unsigned long)(c - 'a' + 10);
		else
			return v;
	}
}

/*
 * The protection of the mapping holding addr, read from /proc/self/maps
 * with raw reads (no stdio: no allocation). -1 when not found.
 */
static int maps_prot(struct apply_ctx *c, uintptr_t addr)
{
	char buf[4096];
	size_t have = 0;
	int fd, prot = -1;

	if (addr >= c->maps_lo && addr < c->maps_hi)
		return c->maps_prot;
	fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *nl;
		const char *line = buf;

		if (r <= 0)
			break;
		have += (size_t)r;
		buf[have] = '\0';
		while ((nl = strchr(line, '\n'))) {
			const char *q = line;
			uintptr_t lo = hex(&q), hi;

			if (*q++ == '-') {
				hi = hex(&q);
				if (*q == ' ' && addr >= lo && addr < hi) {
					prot = (q[1] == 'r' ? PROT_READ : 0) |
					       (q[2] == 'w' ? PROT_WRITE : 0) |
					       (q[3] == 'x' ? PROT_EXEC : 0);
					c->maps_lo = lo;
					c->maps_hi = hi;
					c->maps_prot = prot;
					goto out;
				}
			}
			line = nl + 1;
		}
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0; /* a line this long is not a mapping we look for */
	}
out:
	close(fd);
	return prot;
}

/* Stores v into the GOT entry at addr, making its page writable meanwhile. 0 or -errno. */
static int got_store(struct apply_ctx *c, uintptr_t addr, uintptr_t v)
{
	uintptr_t page = addr & ~(uintptr_t)(getpagesize() - 1);
	int prot = maps_prot(c, addr);

	if (prot < 0)
		return -EFAULT;
	if (prot & PROT_WRITE) {
		__atomic_store_n((uintptr_t *)addr, v, __ATOMIC_RELEASE);
		return 0;
	}
	if (mprotect((void *)page, (size_t)getpagesize(), prot | PROT_WRITE))
		return -errno;
	__atomic_store_n((uintptr_t *)addr, v, __ATOMIC_RELEASE);
	mprotect((void *)page, (size_t)getpagesize(), prot);
	return 0;
}

/* The dynamic entry's address: absolute when the loader relocated it. */
static uintptr_t dyn_ptr(const struct dl_phdr_info *info, uintptr_t p)
{
	return p < info->dlpi_addr ? p + info->dlpi_addr : p;
}

static void patch_rela(struct apply_ctx *c, const struct dl_phdr_info *info,
		       const ElfW(Rela) *rel, size_t nrel, const ElfW(Sym) *symtab,
		       const char *strtab, size_t strsz)
{
	for (size_t i = 0; i < nrel; i++) {
		long type = (long)ELF64_R_TYPE(rel[i].r_info);
		const char *name;
		uintptr_t addr, cur;
		uint32_t st_name;
		int k;

		if (type != R_JUMP_SLOT && type != R_GLOB_DAT)
			continue;
		st_name = symtab[ELF64_R_SYM(rel[i].r_info)].st_name;
		if (!st_name || st_name >= strsz)
			continue;
		name = strtab + st_name;
		for (k = 0; k < c->n; k++)
			if (name[0] == c->w[k].name[0] && !strcmp(name, c->w[k].name))
				break;
		if (k == c->n)
			continue;
		addr = info->dlpi_addr + rel[i].r_offset;
		cur = __atomic_load_n((uintptr_t *)addr, __ATOMIC_ACQUIRE);
		if (cur == (uintptr_t)c->w[k].hook)
			continue;
		/*
		 * Something else (another interposer, a copy of its own, a
		 * canonical PLT address): left alone, its calls are not ours.
		 * A JUMP_SLOT pointing into its own object is a lazy stub
		 * that would resolve to the real function.
		 */
		if (cur != (uintptr_t)c->w[k].expect &&
		    !(type == R_JUMP_SLOT && object_holds(info, cur)))
			continue;
		if (npatched == MAX_PATCHED) {
			c->err = c->err ? c->err : -ENOSPC;
			return;
		}
		if (got_store(c, addr, (uintptr_t)c->w[k].hook)) {
			c->err = c->err ? c->err : -EFAULT;
			continue;
		}
		patched[npatched++] = (struct patched){addr, cur, (uintptr_t)c->w[k].hook};
		c->done++;
	}
}

static int apply_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct apply_ctx *c = arg;
	const ElfW(Dyn) *dyn = NULL;
	const ElfW(Sym) *symtab = NULL;
	const char *strtab = NULL;
	uintptr_t jmprel = 0, rela = 0;
	size_t pltrelsz = 0, relasz = 0, strsz = 0;
	long pltrel = DT_RELA;

	(void)size;
	if (skip_object(info))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	if (!dyn)
		return 0;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		switch (dyn->d_tag) {
		case DT_SYMTAB:
			symtab = (const ElfW(Sym) *)dyn_ptr(info, dyn->d_un.d_ptr);
			break;
		case DT_STRTAB:
			strtab = (const char *)dyn_ptr(info, dyn->d_un.d_ptr);
			break;
		case DT_STRSZ:
			strsz = dyn->d_un.d_val;
			break;
		case DT_JMPREL:
			jmprel = dyn_ptr(info, dyn->d_un.d_ptr);
			break;
		case DT_PLTRELSZ:
			pltrelsz = dyn->d_un.d_val;
			break;
		case DT_PLTREL:
			pltrel = (long)dyn->d_un.d_val;
			break;
		case DT_RELA:
			rela = dyn_ptr(info, dyn->d_un.d_ptr);
			break;
		case DT_RELASZ:
			relasz = dyn->d_un.d_val;
			break;
		}
	}
	if (!symtab || !strtab)
		return 0;
	if (jmprel && pltrel == DT_RELA)
		patch_rela(c, info, (const ElfW(Rela) *)jmprel, pltrelsz / sizeof(ElfW(Rela)), symtab,
			   strtab, strsz);
	if (rela)
		patch_rela(c, info, (const ElfW(Rela) *)rela, relasz / sizeof(ElfW(Rela)), symtab,
			   strtab, strsz);
	return 0;
}

int gotpatch_apply(const struct got_want *w, int n)
{
	struct apply_ctx c = {.w = w, .n = n};

	if (R_JUMP_SLOT < 0)
		return -ENOTSUP;
	if (!patched) {
		long r = syscall(SYS_mmap, NULL, MAX_PATCHED * sizeof(*patched),
				 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				 -1, 0);

		if (r < 0 && r > -4096)
			return -ENOMEM;
		patched = (struct patched *)r;
	}
	dl_iterate_phdr(apply_one, &c);
	return c.err ? c.err : c.done;
}

static int restore_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct apply_ctx *c = arg;

	(void)size;
	if (skip_object(info))
		return 0;
	/*
	 * Newest first: an object dlclose'd while attached may have been
	 * replaced at the same address by another, patched later, whose
	 * record is then the one that counts.
	 */
	for (uint32_t i = npatched; i-- > 0;) {
		struct patched *p = &patched[i];

		/* an entry of an object unloaded since is not there any more */
		if (!p->addr || !object_holds(info, p->addr))
			continue;
		if (__atomic_load_n((uintptr_t *)p->addr, __ATOMIC_ACQUIRE) == p->hook)
			got_store(c, p->addr, p->orig);
		p->addr = 0;
	}
	return 0;
}

void gotpatch_restore(void)
{
	struct apply_ctx c = {0};

	if (!patched)
		return;
	dl_iterate_phdr(restore_one, &c);
	npatched = 0;
}
