/*
 * attacher: liboffheap.so attached to and detached from this running process, many times,
 * while threads allocate (issue 15); the library is dlopen'ed, never preloaded.
 *
 *   attacher LIB FILE CYCLES THREADS
 *   attacher --watch LIB FILE RECORDER_PID READY
 *
 * The first form: THREADS workers (at most 64) run a malloc, calloc, realloc,
 * reallocarray, posix_memalign, aligned_alloc, memalign, valloc, mmap, mremap, munmap
 * storm on rings of blocks, each block filled with a pattern checked before it is
 * resized or freed (calloc's zeroes too); rings outlive cycles, so blocks allocated
 * while attached are freed after the detach and the other way round. The main thread,
 * CYCLES times: reads the GOT entries of the malloc family in every object (through
 * dl_iterate_phdr), allocates 16 blocks, attaches (exact mode on even cycles, sampled
 * on odd ones) with this process as the recorder, checks that its own malloc entry
 * now points elsewhere, frees the 16 blocks, (the first time) dlopens libz.so.1 and
 * checks that its malloc entry was patched too, waits for the workers to do some work,
 * detaches (every third cycle by the header's detach request instead of
 * offheap_detach), acting as the recorder for the exit handshake, and checks that
 * every entry holds what it held before and that no stack of the file freed more
 * than it allocated. Also: a second attach is refused (-EALREADY), a second detach
 * (-ENOENT), bad arguments (-EINVAL) and a missing file (-ENOENT).
 * Prints "cycles N ops N errors 0" and exits 0; on any failure says what, exits 1.
 *
 * --watch: attaches with RECORDER_PID as the recorder, writes READY, and waits (at
 * most 60 s) until the library has detached itself (the recorder gone): every GOT
 * entry is back; then allocates and frees some more, prints "detached itself", exits 0.
 */

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../preload/trackshm.h"

#define RING	 64
#define MAX_WORK 64
#define MAX_GOT	 4096

enum kind { K_NONE, K_HEAP, K_MMAP };

struct block {
	unsigned char *p;
	size_t size;
	enum kind kind;
	unsigned char fill;
};

struct worker {
	pthread_t t;
	uint64_t rng;
	long ops;
	long errors;
	struct block ring[RING];
};

static struct worker workers[MAX_WORK];
static int nworkers;
static volatile int stop;
static int (*attach)(const char *);
static int (*detach)(void);
static void *lib_base;

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill(struct block *b)
{
	size_t step = b->size > 4096 ? 4093 : 1;

	for (size_t i = 0; i < b->size; i += step)
		b->p[i] = (unsigned char)(b->fill + i);
	b->p[b->size - 1] = b->fill;
}

static int check(const struct block *b, size_t upto)
{
	size_t step = b->size > 4096 ? 4093 : 1;

	for (size_t i = 0; i + 1 < upto; i += step)
		if (b->p[i] != (unsigned char)(b->fill + i))
			return -1;
	return upto == b->size && b->p[b->size - 1] != b->fill ? -1 : 0;
}

static size_t pick_size(uint64_t *s)
{
	uint64_t r = next(s);

	return r % 16 == 0 ? 100000 + r % 300000 : 1 + r % 4000;
}

static void take(struct worker *w, struct block *b)
{
	size_t n = pick_size(&w->rng);
	void *p = NULL;

	b->kind = K_HEAP;
	switch (next(&w->rng) % 9) {
	case 0:
		p = malloc(n);
		break;
	case 1:
		p = calloc(1, n);
		if (p)
			for (size_t i = 0; i < n; i += 97)
				if (((unsigned char *)p)[i])
					w->errors++;
		break;
	case 2:
		p = realloc(NULL, n);
		break;
	case 3:
		if (posix_memalign(&p, 64, n))
			p = NULL;
		break;
	case 4:
		p = aligned_alloc(256, (n + 255) & ~(size_t)255);
		break;
	case 5:
		p = memalign(128, n);
		break;
	case 6:
		p = valloc(n);
		break;
	case 7:
		p = reallocarray(NULL, n, 1);
		break;
	default:
		p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			p = NULL;
		b->kind = K_MMAP;
		break;
	}
	if (!p) {
		w->errors++;
		b->kind = K_NONE;
		return;
	}
	b->p = p;
	b->size = n;
	b->fill = (unsigned char)next(&w->rng);
	fill(b);
}

static void give(struct worker *w, struct block *b)
{
	size_t n;
	void *p;

	if (check(b, b->size))
		w->errors++;
	switch (next(&w->rng) % 3) {
	case 0: /* resize */
		n = pick_size(&w->rng);
		if (b->kind == K_MMAP) {
			p = mremap(b->p, b->size, n, MREMAP_MAYMOVE);
			if (p == MAP_FAILED) {
				w->errors++;
				return;
			}
		} else {
			p = realloc(b->p, n);
			if (!p) {
				w->errors++;
				return;
			}
		}
		b->p = p;
		if (check(b, n < b->size ? n : b->size - 1))
			w->errors++;
		b->size = n;
		fill(b);
		return;
	default:
		if (b->kind == K_MMAP) {
			if (munmap(b->p, b->size))
				w->errors++;
		} else {
			free(b->p);
		}
		b->kind = K_NONE;
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;

	while (!stop) {
		struct block *b = &w->ring[next(&w->rng) % RING];

		if (b->kind == K_NONE)
			take(w, b);
		else
			give(w, b);
		__atomic_add_fetch(&w->ops, 1, __ATOMIC_RELAXED);
	}
	for (int i = 0; i < RING; i++)
		if (w->ring[i].kind != K_NONE) {
			if (check(&w->ring[i], w->ring[i].size))
				w->errors++;
			if (w->ring[i].kind == K_MMAP)
				munmap(w->ring[i].p, w->ring[i].size);
			else
				free(w->ring[i].p);
		}
	return NULL;
}

/* ---- the GOT entries, read as the loader left them ---- */

static const char *const names[] = {
	"malloc", "calloc", "realloc", "reallocarray", "free", "posix_memalign",
	"aligned_alloc", "memalign", "valloc", "pvalloc", "mmap", "munmap", "mremap",
	"dlopen", "dlclose",
};

struct got {
	uintptr_t addr, value;
	const char *name;
	int own_malloc; /* this program's malloc entry */
	int malloc;     /* an entry for malloc */
	const char *obj;
};

struct got_list {
	struct got e[MAX_GOT];
	int n;
};

static int is_name(const char *s)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return 1;
	return 0;
}

static uintptr_t dptr(const struct dl_phdr_info *info, uintptr_t p)
{
	return p < info->dlpi_addr ? p + info->dlpi_addr : p;
}

static void scan_rela(struct got_list *l, const struct dl_phdr_info *info, const ElfW(Rela) *r,
		      size_t n, const ElfW(Sym) *sym, const char *str, int main_obj)
{
	for (size_t i = 0; i < n && l->n < MAX_GOT; i++) {
		long t = (long)ELF64_R_TYPE(r[i].r_info);
		const char *name = str + sym[ELF64_R_SYM(r[i].r_info)].st_name;

		if ((t != R_X86_64_JUMP_SLOT && t != R_X86_64_GLOB_DAT) || !is_name(name))
			continue;
		l->e[l->n].addr = info->dlpi_addr + r[i].r_offset;
		l->e[l->n].value = *(uintptr_t *)l->e[l->n].addr;
		l->e[l->n].name = name;
		l->e[l->n].own_malloc = main_obj && !strcmp(name, "malloc");
		l->e[l->n].malloc = !strcmp(name, "malloc");
		l->e[l->n].obj = info->dlpi_name;
		l->n++;
	}
}

static int got_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct got_list *l = arg;
	const ElfW(Dyn) *d = NULL;
	const ElfW(Sym) *sym = NULL;
	const char *str = NULL;
	uintptr_t jmprel = 0, rela = 0;
	size_t pltsz = 0, relasz = 0;
	int main_obj = !info->dlpi_name || !info->dlpi_name[0];

	(void)size;
	if (info->dlpi_addr == (uintptr_t)lib_base || info->dlpi_addr == getauxval(AT_BASE) ||
	    info->dlpi_addr == getauxval(AT_SYSINFO_EHDR))
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			d = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	for (; d && d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_SYMTAB)
			sym = (const ElfW(Sym) *)dptr(info, d->d_un.d_ptr);
		else if (d->d_tag == DT_STRTAB)
			str = (const char *)dptr(info, d->d_un.d_ptr);
		else if (d->d_tag == DT_JMPREL)
			jmprel = dptr(info, d->d_un.d_ptr);
		else if (d->d_tag == DT_PLTRELSZ)
			pltsz = d->d_un.d_val;
		else if (d->d_tag == DT_RELA)
			rela = dptr(info, d->d_un.d_ptr);
		else if (d->d_tag == DT_RELASZ)
			relasz = d->d_un.d_val;
	}
	if (!sym || !str)
		return 0;
	if (jmprel)
		scan_rela(l, info, (const ElfW(Rela) *)jmprel, pltsz / sizeof(ElfW(Rela)), sym, str,
			  main_obj);
	if (rela)
		scan_rela(l, info, (const ElfW(Rela) *)rela, relasz / sizeof(ElfW(Rela)), sym, str,
			  main_obj);
	return 0;
}

static void got_read(struct got_list *l)
{
	l->n = 0;
	dl_iterate_phdr(got_one, l);
}

/* Whether e held a lazy binding stub: an address in its own object. */
static int lazy_stub(const struct got *e)
{
	Dl_info entry, value;

	return dladdr((void *)e->addr, &entry) && dladdr((void *)e->value, &value) &&
	       entry.dli_fbase == value.dli_fbase;
}

/* The entries of a that b does not hold with the same value. */
static int got_changed(const struct got_list *a, const struct got_list *b, int own_malloc_only)
{
	int changed = 0;

	for (int i = 0; i < a->n; i++) {
		if (own_malloc_only && !a->e[i].own_malloc)
			continue;
		for (int j = 0; j < b->n; j++)
			if (b->e[j].addr == a->e[i].addr) {
				Dl_info di;

				if (b->e[j].value == a->e[i].value)
					break;
				/*
				 * A lazy entry put back to its PLT stub is bound by the
				 * loader at its next call: to the global definition.
				 */
				if (b->e[j].value == (uintptr_t)dlsym(RTLD_DEFAULT, a->e[i].name) &&
				    lazy_stub(&a->e[i]))
					break;
				changed++;
				if (!own_malloc_only && dladdr((void *)a->e[i].addr, &di))
					fprintf(stderr, "attacher: entry %#lx in %s: %#lx, now %#lx\n",
						(unsigned long)a->e[i].addr, di.dli_fname,
						(unsigned long)a->e[i].value,
						(unsigned long)b->e[j].value);
				break;
			}
	}
	return changed;
}

/* This program's malloc entry's value. */
static uintptr_t own_malloc(const struct got_list *l)
{
	for (int i = 0; i < l->n; i++)
		if (l->e[i].own_malloc)
			return l->e[i].value;
	return 0;
}

/* Entries for malloc in objects whose name holds obj (NULL: any) that hold v. */
static int holding(const struct got_list *l, const char *obj, uintptr_t v)
{
	int n = 0;

	for (int i = 0; i < l->n; i++)
		n += l->e[i].malloc && l->e[i].value == v &&
		     (!obj || (l->e[i].obj && strstr(l->e[i].obj, obj)));
	return n;
}

/* ---- the recorder's side of the file ---- */

static struct trackshm_header *file_map(const char *path)
{
	int fd = open(path, O_RDWR);
	struct stat st;
	void *p;

	if (fd < 0 || fstat(fd, &st) || st.st_size < (off_t)sizeof(struct trackshm_header))
		return NULL;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* Stacks that freed more than they allocated; sets *stacks to the entries in use. */
static int file_bad_stacks(const struct trackshm_header *h, int *stacks)
{
	const struct trackshm_stack *s = (const void *)((const char *)h + h->header_size);
	int bad = 0;

	*stacks = 0;
	for (uint32_t i = 0; i < h->max_stacks; i++) {
		uint64_t ab = 0, ac = 0, fb = 0, fc = 0;

		if (!s[i].hash)
			continue;
		for (int k = 0; k < TRACKSHM_SHARDS; k++) {
			ab += s[i].shard[k].alloc_bytes;
			ac += s[i].shard[k].alloc_count;
			fb += s[i].shard[k].free_bytes;
			fc += s[i].shard[k].free_count;
		}
		(*stacks)++;
		if (fb > ab || fc > ac)
			bad++;
	}
	return bad;
}

static struct trackshm_header *rec_hdr;

/* The recorder's exit handshake: acknowledges the generation the tracker is leaving. */
static void *ack_exits(void *arg)
{
	struct timespec ms = {0, 1000000};

	(void)arg;
	while (!stop) {
		struct trackshm_header *h = __atomic_load_n(&rec_hdr, __ATOMIC_ACQUIRE);

		if (h) {
			uint64_t e = __atomic_load_n(&h->exiting, __ATOMIC_ACQUIRE);

			if (e && __atomic_load_n(&h->exit_ack, __ATOMIC_ACQUIRE) != e)
				__atomic_store_n(&h->exit_ack, e, __ATOMIC_RELEASE);
		}
		nanosleep(&ms, NULL);
	}
	return NULL;
}

static long total_ops(void)
{
	long n = 0;

	for (int i = 0; i < nworkers; i++)
		n += __atomic_load_n(&workers[i].ops, __ATOMIC_RELAXED);
	return n;
}

static int fail(const char *what, int cycle, long v)
{
	fprintf(stderr, "attacher: cycle %d: %s (%ld)\n", cycle, what, v);
	return 1;
}

static void *load(const char *lib)
{
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	Dl_info di;

	if (!h) {
		fprintf(stderr, "attacher: %s\n", dlerror());
		return NULL;
	}
	attach = (int (*)(const char *))dlsym(h, "offheap_attach");
	detach = (int (*)(void))dlsym(h, "offheap_detach");
	if (!attach || !detach || !dladdr((void *)attach, &di)) {
		fprintf(stderr, "attacher: no offheap_attach in %s\n", lib);
		return NULL;
	}
	lib_base = (void *)((struct link_map *)h)->l_addr;
	return h;
}

static struct got_list before, during, after;

/* Every interposed function called once: lazy bindings resolved before the first look. */
static void *volatile sink; /* so that no call below is optimised away */

static void warm(void)
{
	void *p = NULL;

	free(sink = malloc(10));
	free(sink = calloc(1, 10));
	free(sink = realloc(NULL, 10));
	free(sink = reallocarray(NULL, 1, 10));
	if (!posix_memalign(&p, 64, 10))
		free(sink = p);
	free(sink = aligned_alloc(64, 64));
	free(sink = memalign(64, 10));
	free(sink = valloc(10));
	free(sink = pvalloc(10));
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		p = mremap(p, 4096, 8192, MREMAP_MAYMOVE);
		if (p != MAP_FAILED)
			munmap(p, 8192);
	}
}

static int run_watch(char **argv)
{
	char args[4200];
	struct timespec ms = {0, 10000000};
	FILE *f;
	int r, i;

	if (!load(argv[2]))
		return 1;
	warm();
	got_read(&before);
	snprintf(args, sizeof(args), "out=%s,sample=0,pid=%s", argv[3], argv[4]);
	r = attach(args);
	if (r)
		return fail("attach failed", 0, r);
	got_read(&during);
	if (!got_changed(&before, &during, 1))
		return fail("malloc's GOT entry not patched", 0, 0);
	f = fopen(argv[5], "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f))
		return fail("cannot write the ready file", 0, 0);
	for (i = 0; i < 6000; i++) {
		free(sink = malloc(100));
		got_read(&after);
		if (!got_changed(&before, &after, 0))
			break;
		nanosleep(&ms, NULL);
	}
	if (i == 6000)
		return fail("still patched after 60 s", 0, got_changed(&before, &after, 0));
	for (i = 0; i < 1000; i++)
		free(sink = malloc((size_t)i * 10 + 1));
	if (detach() != -ENOENT)
		return fail("detach after the watcher's detach not refused", 0, 0);
	printf("detached itself\n");
	return 0;
}

int main(int argc, char **argv)
{
	char args[4200], bad[4200];
	pthread_t acker;
	int cycles, r, bad_total = 0, stacks_total = 0;
	long errors = 0;

	if (argc == 6 && !strcmp(argv[1], "--watch"))
		return run_watch(argv);
	if (argc != 5) {
		fprintf(stderr, "usage: attacher LIB FILE CYCLES THREADS\n"
				"       attacher --watch LIB FILE RECORDER_PID READY\n");
		return 2;
	}
	cycles = atoi(argv[3]);
	nworkers = atoi(argv[4]);
	if (nworkers < 1 || nworkers > MAX_WORK || cycles < 1)
		return 2;
	if (!load(argv[1]))
		return 1;
	snprintf(bad, sizeof(bad), "out=%s.missing,sample=0,pid=%d", argv[2], (int)getpid());
	if ((r = attach(bad)) != -ENOENT)
		return fail("attach to a missing file not -ENOENT", 0, r);
	for (int i = 0; i < 6; i++) {
		static const char *const bads[] = {
			"out=relative,sample=0,pid=1", "sample=0,pid=1", "out=/x,sample=1k,pid=1",
			"out=/x,sample=0,pid=1,", "out=/x,sample=0,pid=-1", "out=/x,out=/y,sample=0,pid=1",
		};
		if ((r = attach(bads[i])) != -EINVAL)
			return fail(bads[i], 0, r);
	}
	if ((r = attach(NULL)) != -EINVAL)
		return fail("NULL arguments not -EINVAL", 0, r);
	warm();
	for (int i = 0; i < nworkers; i++) {
		workers[i].rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
		pthread_create(&workers[i].t, NULL, work, &workers[i]);
	}
	pthread_create(&acker, NULL, ack_exits, NULL);
	for (int c = 0; c < cycles; c++) {
		void *pre[16];
		long ops;
		int stacks;

		for (int i = 0; i < 16; i++)
			pre[i] = malloc(1000 + (size_t)c);
		snprintf(args, sizeof(args), "out=%s,sample=%s,pid=%d,maxmem=%d", argv[2],
			 c % 2 ? "65536" : "0", (int)getpid(), 16 << 20);
		got_read(&before);
		r = attach(args);
		if (r)
			return fail("attach failed", c, r);
		if (!rec_hdr)
			__atomic_store_n(&rec_hdr, file_map(argv[2]), __ATOMIC_RELEASE);
		if (!rec_hdr)
			return fail("cannot map the file", c, 0);
		if ((r = attach(args)) != -EALREADY)
			return fail("second attach not -EALREADY", c, r);
		got_read(&during);
		if (!got_changed(&before, &during, 1))
			return fail("malloc's GOT entry not patched", c, 0);
		for (int i = 0; i < 16; i++)
			free(pre[i]);
		/* a library loaded while attached is patched too, and restored at detach */
		if (c == 0) {
			if (!dlopen("libz.so.1", RTLD_NOW))
				return fail("cannot dlopen libz.so.1", c, 0);
			got_read(&after);
			if (!holding(&after, "libz.so", own_malloc(&during)))
				return fail("libz's malloc entry not patched after its dlopen", c, 0);
		}
		/* the workers run through the hooks for a while */
		ops = total_ops() + 500L * nworkers;
		for (int i = 0; i < 100000 && total_ops() < ops; i++)
			sched_yield();
		if (c % 3 == 2) {
			struct timespec ms = {0, 1000000};
			int i;

			__atomic_store_n(&rec_hdr->detach, rec_hdr->generation, __ATOMIC_RELEASE);
			for (i = 0; i < 20000 && detach() != -ENOENT; i++)
				nanosleep(&ms, NULL);
			if (i == 20000)
				return fail("the header's detach request not obeyed in 20 s", c, 0);
		} else if ((r = detach())) {
			return fail("detach failed", c, r);
		}
		if ((r = detach()) != -ENOENT)
			return fail("second detach not -ENOENT", c, r);
		if (rec_hdr->exit_ack != rec_hdr->generation)
			return fail("no exit handshake at detach", c, 0);
		got_read(&after);
		if ((r = got_changed(&before, &after, 0)))
			return fail("GOT entries not restored", c, r);
		if ((r = holding(&after, NULL, own_malloc(&during))))
			return fail("malloc entries still hooked after the detach", c, r);
		bad_total += file_bad_stacks(rec_hdr, &stacks);
		stacks_total += stacks;
		if (stacks < 2)
			return fail("nothing recorded", c, stacks);
	}
	stop = 1;
	for (int i = 0; i < nworkers; i++) {
		pthread_join(workers[i].t, NULL);
		errors += workers[i].errors;
	}
	pthread_join(acker, NULL);
	if (bad_total)
		return fail("stacks freed more than they allocated", cycles, bad_total);
	printf("cycles %d ops %ld errors %ld stacks %d\n", cycles, total_ops(), errors,
	       stacks_total);
	return errors ? 1 : 0;
}
