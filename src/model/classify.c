/*
 * classify: names what each mapping is used for.
 *
 * Kernels since 4.5 label only the main thread's stack ("[stack]"); the
 * others are plain anonymous mappings. A thread's stack is found from its
 * stack pointer (/proc/PID/task/TID/syscall): the mapping that contains the
 * SP is that thread's stack, and a PROT_NONE mapping right below it is its
 * guard (glibc's guard page, or HotSpot's guard zones merged with it).
 *
 * glibc's non-main arenas live in "heaps" that new_heap() maps as
 * HEAP_MAX_SIZE (64 MiB) of PROT_NONE aligned to 64 MiB, then mprotects the
 * low part read-write as the arena grows (glibc malloc/arena.c). So an arena
 * heap shows as an anonymous rw-p mapping at a 64 MiB-aligned address whose
 * size, together with the ---p mapping right after it, is exactly 64 MiB.
 * A Java heap is aligned too but reserved as a multiple of its own size, so
 * the exact 64 MiB total keeps most of them out; the JVM's own view (NMT)
 * can later reclassify.
 */
#include "classify.h"

#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !memcmp(s + n - m, suffix, m);
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* An ELF object: "libz.so.1.2.13", "ld-linux-x86-64.so.2", "x.so (deleted)". */
static bool is_shared_object(const char *path)
{
	const char *b = basename_of(path), *so = strstr(b, ".so");

	return so && (so[3] == '\0' || so[3] == '.' || so[3] == ' ');
}

static bool is_shm_path(const char *path)
{
	return starts_with(path, "/dev/shm/") || starts_with(path, "/SYSV") ||
	       starts_with(path, "/memfd:") || starts_with(path, "/dev/zero") ||
	       starts_with(path, "[anon_shmem");
}

static enum region_class by_path(const struct region *r, const char *exe)
{
	const char *p = r->path;
	bool shared = r->perms[3] == 's';

	if (!strcmp(p, "[heap]"))
		return RC_HEAP;
	if (!strcmp(p, "[stack]"))
		return RC_STACK;
	if (is_shm_path(p) || (shared && !*p))
		return RC_SHM;
	if (p[0] == '[')
		return starts_with(p, "[anon:") ? RC_ANON : RC_SPECIAL;
	if (!*p)
		return RC_ANON;
	if (ends_with(p, ".jar") || ends_with(p, ".jmod") || ends_with(p, "/lib/modules") ||
	    ends_with(p, ".jar (deleted)"))
		return RC_JAR;
	if (is_shared_object(p) || (exe && *exe && !strcmp(p, exe)))
		return RC_LIB;
	return RC_FILE;
}

static bool anon_private(const struct region *r)
{
	return !r->path[0] && r->perms[3] == 'p';
}

static bool is_none(const struct region *r)
{
	return !strncmp(r->perms, "---", 3);
}

struct region *classify_find(struct region *regions, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < regions[mid].start)
			hi = mid;
		else if (addr >= regions[mid].end)
			lo = mid + 1;
		else
			return &regions[mid];
	}
	return NULL;
}

static void mark_arenas(struct region *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct region *rw = &r[i], *reserve = NULL;
		uint64_t total;

		if (rw->cls != RC_ANON || strncmp(rw->perms, "rw-", 3) ||
		    rw->start % GLIBC_ARENA_HEAP_SIZE)
			continue;
		total = rw->end - rw->start;
		if (i + 1 < n && r[i + 1].start == rw->end && r[i + 1].cls == RC_ANON &&
		    is_none(&r[i + 1])) {
			reserve = &r[i + 1];
			total += reserve->end - reserve->start;
		}
		if (total != GLIBC_ARENA_HEAP_SIZE)
			continue;
		rw->cls = RC_ARENA;
		if (reserve) {
			reserve->cls = RC_ARENA;
			reserve->guard = true;
		}
	}
}

static void mark_stacks(struct snapshot *s)
{
	for (size_t i = 0; i < s->nregions; i++)
		if (s->regions[i].cls == RC_STACK && !strcmp(s->regions[i].path, "[stack]"))
			s->regions[i].tid = s->pid;
	for (size_t t = 0; t < s->nthreads; t++) {
		struct region *r;
		size_t idx;

		if (!s->threads[t].sp)
			continue;
		r = classify_find(s->regions, s->nregions, s->threads[t].sp);
		if (!r || (r->cls != RC_ANON && r->cls != RC_STACK && r->cls != RC_ARENA))
			continue;
		r->cls = RC_STACK;
		r->tid = s->threads[t].tid;
		r->guard = false;
		idx = (size_t)(r - s->regions);
		if (idx > 0) {
			struct region *g = &s->regions[idx - 1];

			if (g->end == r->start && anon_private(g) && is_none(g) &&
			    (g->cls == RC_ANON || g->cls == RC_ARENA)) {
				g->cls = RC_STACK;
				g->tid = r->tid;
				g->guard = true;
			}
		}
	}
}

/*
 * An executable whose path is not known (a recorded tree has no exe link)
 * is still an ELF file: a file with an executable mapping. Its other
 * mappings sit next to that one, so looking at the neighbours is enough.
 */
static void mark_elf_neighbours(struct region *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].cls != RC_FILE)
			continue;
		for (size_t j = i >= 4 ? i - 4 : 0; j < n && j <= i + 4; j++) {
			if (r[j].perms[2] == 'x' && !strcmp(r[j].path, r[i].path)) {
				r[i].cls = RC_LIB;
				break;
			}
		}
	}
}

/* The sizes a thread stack has in this process: the default and those of its threads' stacks. */
#define STACK_SIZES 16
struct stack_sizes {
	uint64_t size[STACK_SIZES];
	size_t n;
};

static void stack_sizes(const struct snapshot *s, struct stack_sizes *z)
{
	z->n = 0;
	if (s->stack_rlimit)
		z->size[z->n++] = s->stack_rlimit;
	for (size_t k = 0; k < s->nregions && z->n < STACK_SIZES; k++) {
		const struct region *q = &s->regions[k];
		uint64_t size = q->end - q->start;
		size_t j = 0;

		if (q->cls != RC_STACK || q->guard || q->tid == s->pid)
			continue;
		while (j < z->n && z->size[j] != size)
			j++;
		if (j == z->n)
			z->size[z->n++] = size;
	}
}

/*
 * regions[i] has a thread stack's shape: anonymous, read-write, a PROT_NONE
 * guard of at most 1 MiB right below, and one of the sizes z.
 */
static bool stack_shaped(const struct snapshot *s, size_t i, const struct stack_sizes *z)
{
	const struct region *r = &s->regions[i], *g = i ? &s->regions[i - 1] : NULL;
	uint64_t size = r->end - r->start;

	if (!g || r->cls != RC_ANON || strncmp(r->perms, "rw-p", 4) || r->path[0] ||
	    g->end != r->start || g->cls != RC_ANON || !is_none(g) ||
	    g->end - g->start > (1 << 20))
		return false;
	for (size_t j = 0; j < z->n; j++)
		if (z->size[j] == size)
			return true;
	return false;
}

/*
 * A thread that was running on a CPU when sampled has no readable stack
 * pointer. Its stack still has the shape glibc gives every thread stack: a
 * PROT_NONE guard right below a read-write mapping whose size is the default
 * (soft RLIMIT_STACK) or the size of a stack found by its SP in this same
 * process. Such mappings become stacks of an unknown thread (tid 0), at most
 * as many as there are threads without an SP, so that a diff does not see a
 * stack turn into anonymous memory because a thread happened to run.
 */
static void mark_unseen_stacks(struct snapshot *s)
{
	struct stack_sizes z;
	size_t unseen = 0;

	for (size_t t = 0; t < s->nthreads; t++)
		if (!s->threads[t].sp && s->threads[t].tid != s->pid)
			unseen++;
	if (!unseen)
		return;
	stack_sizes(s, &z);
	for (size_t i = 1; i < s->nregions && unseen; i++) {
		struct region *r = &s->regions[i], *g = &s->regions[i - 1];

		if (!stack_shaped(s, i, &z))
			continue;
		r->cls = g->cls = RC_STACK;
		r->tid = g->tid = 0;
		g->guard = true;
		unseen--;
	}
}

/* The stacks of threads that ended (never joined, or in glibc's cache): see classify.h. */
static void mark_kept_stacks(struct snapshot *s)
{
	struct stack_sizes z;

	stack_sizes(s, &z);
	for (size_t i = 1; i < s->nregions; i++)
		s->regions[i].kept_stack = stack_shaped(s, i, &z);
}

void classify_regions(struct snapshot *s)
{
	s->is_jvm = false;
	for (size_t i = 0; i < s->nregions; i++) {
		struct region *r = &s->regions[i];

		r->cls = by_path(r, s->exe);
		r->tid = 0;
		r->guard = false;
		r->kept_stack = false;
		if (r->cls == RC_LIB && region_path_is_libjvm(r->path, strlen(r->path)))
			s->is_jvm = true;
	}
	mark_elf_neighbours(s->regions, s->nregions);
	mark_arenas(s->regions, s->nregions);
	mark_stacks(s);
	mark_unseen_stacks(s);
	mark_kept_stacks(s);
}

size_t classify_kept_stacks(const struct snapshot *s, uint64_t *rss)
{
	size_t n = 0;

	*rss = 0;
	for (size_t i = 0; i < s->nregions; i++)
		if (s->regions[i].kept_stack) {
			n++;
			*rss += s->regions[i].m.rss;
		}
	return n;
}
