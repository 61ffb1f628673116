/* trackfile: reads the counters liboffheap.so shares through its file (preload/trackshm.h). */

/*
 * The file is mapped read-only and shared; the target keeps writing while we
 * read. Sizes come from the header and are checked against the file size
 * before any entry is touched; the file may grow (an exec'd image with a
 * larger table), in which case it is mapped again.
 */
#include "trackfile.h"
/* The one reader of the tracker's ABI outside preload/ (docs/ARCHITECTURE.md). */
#include "../../preload/trackshm.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"
#include "xalloc.h"

_Static_assert(TRACK_MAX_DEPTH == TRACKSHM_MAX_DEPTH, "trackfile.h and trackshm.h disagree");
_Static_assert(TRACK_JAVA_TAG == TRACKSHM_JAVA_TAG, "trackfile.h and trackshm.h disagree");
_Static_assert((int)TRACK_STACKS_FULL == (int)TRACKSHM_STACKS_FULL, "the ABI's bits");
_Static_assert((int)TRACK_NOSPACE == (int)TRACKSHM_NOSPACE, "the ABI's bits");
_Static_assert((int)TRACK_CHILD_NOSPACE == (int)TRACKSHM_CHILD_NOSPACE, "the ABI's bits");
_Static_assert((int)TRACK_ADDRS_FULL == (int)TRACKSHM_ADDRS_FULL, "the ABI's bits");
_Static_assert((int)TRACK_EXACT == (int)TRACKSHM_EXACT, "the ABI's bits");
_Static_assert((int)TRACK_DEGRADED == (int)TRACKSHM_DEGRADED, "the ABI's bits");

struct trackfile {
	int fd;
	char *path;
	void *map;
	size_t len;
};

int trackfile_open(const char *path, struct trackfile **out, struct strbuf *err)
{
	struct trackfile *tf;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int ret = -errno;

		strbuf_addf(err, "cannot open '%s': %s", path, strerror(errno));
		return ret;
	}
	tf = xcalloc(1, sizeof(*tf));
	tf->fd = fd;
	tf->path = xstrdup(path);
	*out = tf;
	return 0;
}

void trackfile_close(struct trackfile *tf)
{
	if (!tf)
		return;
	if (tf->map)
		munmap(tf->map, tf->len);
	close(tf->fd);
	free(tf->path);
	free(tf);
}

static int remap(struct trackfile *tf, struct strbuf *err)
{
	struct stat st;
	void *p;

	if (fstat(tf->fd, &st)) {
		strbuf_addf(err, "cannot stat '%s': %s", tf->path, strerror(errno));
		return -errno;
	}
	if ((size_t)st.st_size == tf->len && tf->map)
		return 0;
	if (tf->map)
		munmap(tf->map, tf->len);
	tf->map = NULL;
	tf->len = 0;
	if (st.st_size < (off_t)sizeof(struct trackshm_header))
		return -EAGAIN;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, tf->fd, 0);
	if (p == MAP_FAILED) {
		strbuf_addf(err, "cannot map '%s': %s", tf->path, strerror(errno));
		return -errno;
	}
	/*
	 * No read-ahead: a fault on the table would read the pages around it
	 * too, holes included (allocated and zeroed in the page cache): 9 ms
	 * of the recorder's CPU on a half-second program.
	 */
	madvise(p, (size_t)st.st_size, MADV_RANDOM);
	tf->map = p;
	tf->len = (size_t)st.st_size;
	return 0;
}

void track_view_release(struct track_view *v)
{
	free(v->sites);
	memset(v, 0, sizeof(*v));
}

/* Milliseconds from the image's start to ns (both CLOCK_REALTIME); 0 when never or before. */
static uint64_t since_ms(uint64_t ns, uint64_t generation)
{
	return ns > generation ? (ns - generation) / 1000000 : 0;
}

/* Entry i (at s) into v when it is ready and has counted anything. */
static void read_entry(struct track_view *v, const struct trackshm_stack *s, uint32_t i)
{
	uint64_t ab = 0, ac = 0, fb = 0, fc = 0;
	struct track_site *o;
	uint32_t depth;

	if (!__atomic_load_n(&s->hash, __ATOMIC_RELAXED) ||
	    !__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
		return;
	/* frees first: a block's free never shows without its allocation */
	for (int k = 0; k < TRACKSHM_SHARDS; k++) {
		fb += __atomic_load_n(&s->shard[k].free_bytes, __ATOMIC_ACQUIRE);
		fc += __atomic_load_n(&s->shard[k].free_count, __ATOMIC_ACQUIRE);
	}
	for (int k = 0; k < TRACKSHM_SHARDS; k++) {
		ab += __atomic_load_n(&s->shard[k].alloc_bytes, __ATOMIC_ACQUIRE);
		ac += __atomic_load_n(&s->shard[k].alloc_count, __ATOMIC_ACQUIRE);
	}
	if (!ac && !ab)
		return;
	ALLOC_GROW(v->sites, v->nr + 1, v->alloc);
	o = &v->sites[v->nr++];
	o->alloc_bytes = ab;
	o->alloc_count = ac;
	o->free_bytes = fb;
	o->free_count = fc;
	depth = s->depth > TRACKSHM_MAX_DEPTH ? TRACKSHM_MAX_DEPTH : s->depth;
	o->slot = i;
	o->depth = depth;
	o->live_bytes = (int64_t)(o->alloc_bytes - o->free_bytes);
	o->live_count = (int64_t)(o->alloc_count - o->free_count);
	o->peak_live = __atomic_load_n(&s->peak_live, __ATOMIC_RELAXED);
	memcpy(o->frames, s->frames, depth * sizeof(o->frames[0]));
	/* hostile counters: wrap as the differences above do, no signed overflow */
	v->live_bytes = (int64_t)((uint64_t)v->live_bytes + (uint64_t)o->live_bytes);
}

int trackfile_read(struct trackfile *tf, struct track_view *v, struct strbuf *err)
{
	const struct trackshm_header *h;
	const char *base;
	uint64_t n;
	int ret = remap(tf, err);

	if (ret)
		return ret;
	h = tf->map;
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != TRACKSHM_MAGIC)
		return -EAGAIN;
	if (h->version != TRACKSHM_VERSION || h->header_size != sizeof(*h) ||
	    h->stack_size != sizeof(struct trackshm_stack)) {
		strbuf_addf(err, "'%s': tracker format version %u, this offheap reads %u", tf->path,
			    h->version, TRACKSHM_VERSION);
		return -EPROTO;
	}
	if (h->max_stacks > TRACKSHM_MAX_STACKS) {
		strbuf_addf(err, "'%s': %u stacks, more than a tracker makes (%u)", tf->path,
			    h->max_stacks, TRACKSHM_MAX_STACKS);
		return -EPROTO;
	}
	if ((uint64_t)h->max_stacks * sizeof(struct trackshm_stack) + sizeof(*h) > tf->len) {
		/* grown since mapped, or hostile: map again once (remap keeps a same-size map) */
		munmap(tf->map, tf->len);
		tf->map = NULL;
		tf->len = 0;
		ret = remap(tf, err);
		if (ret)
			return ret;
		h = tf->map;
		if ((uint64_t)h->max_stacks * sizeof(struct trackshm_stack) + sizeof(*h) >
		    tf->len) {
			strbuf_addf(err, "'%s': stack table larger than the file", tf->path);
			return -EPROTO;
		}
	}
	v->generation = h->generation;
	v->seq = __atomic_load_n(&h->seq, __ATOMIC_ACQUIRE);
	v->flags = h->flags;
	v->sample_mean = h->sample_mean;
	v->dropped = h->dropped;
	v->partial = h->partial;
	v->children = h->children;
	v->pid = h->pid;
	v->ppid = h->ppid;
	v->peak_bytes = __atomic_load_n(&h->peak, __ATOMIC_RELAXED);
	v->peak_ms = since_ms(__atomic_load_n(&h->peak_ns, __ATOMIC_RELAXED), h->generation);
	v->sites_seq = __atomic_load_n(&h->sites_seq, __ATOMIC_ACQUIRE);
	v->sites_live = __atomic_load_n(&h->sites_live, __ATOMIC_RELAXED);
	v->sites_ms = since_ms(__atomic_load_n(&h->sites_ns, __ATOMIC_RELAXED), h->generation);
	v->degraded_kib = __atomic_load_n(&h->degraded_kib, __ATOMIC_RELAXED);
	v->degraded_ms = h->degraded_ns ? since_ms(h->degraded_ns, h->generation) : 0;
	v->max_mem_mib = h->max_mem_mib;
	v->nr = 0;
	v->live_bytes = 0;
	base = (const char *)tf->map + sizeof(*h);
	/* the entries handed out, in order; none past them (on tmpfs a read of a hole faults) */
	n = __atomic_load_n(&h->nstacks, __ATOMIC_ACQUIRE);
	if (n > h->max_stacks)
		n = h->max_stacks;
	for (uint32_t i = 0; i < n; i++)
		read_entry(v, (const void *)(base + (size_t)i * sizeof(struct trackshm_stack)), i);
	return 0;
}

/* src into dst, which holds more: a copy cut at src's size, always terminated. */
static void copy_name(char *dst, size_t dn, const char *src, size_t sn)
{
	size_t n = strnlen(src, sn < dn ? sn : dn - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

int trackfile_java(struct trackfile *tf, uint64_t pc, struct track_java *out)
{
	struct strbuf err = STRBUF_INIT;
	const struct trackshm_header *h;
	const struct trackshm_java *r;
	uint64_t i = pc & ~TRACKSHM_JAVA_TAG, off;
	int ret;

	if (!(pc & TRACKSHM_JAVA_TAG) || !i)
		return -ENOENT;
	ret = remap(tf, &err);
	strbuf_release(&err);
	if (ret)
		return ret == -EAGAIN ? -ENOENT : ret;
	h = tf->map;
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != TRACKSHM_MAGIC ||
	    h->version != TRACKSHM_VERSION || h->header_size != sizeof(*h) ||
	    h->stack_size != sizeof(struct trackshm_stack))
		return -EPROTO;
	/* a record past java_n may have no storage (on tmpfs, a read of it faults) */
	if (i >= h->java_max || i > __atomic_load_n(&h->java_n, __ATOMIC_ACQUIRE))
		return -ENOENT;
	off = sizeof(*h) + (uint64_t)h->max_stacks * sizeof(struct trackshm_stack) +
	      i * sizeof(*r);
	if (off + sizeof(*r) > tf->len)
		return -ENOENT;
	r = (const struct trackshm_java *)((const char *)tf->map + off);
	if (!__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE))
		return -ENOENT;
	copy_name(out->cls, sizeof(out->cls), r->cls, sizeof(r->cls));
	copy_name(out->method, sizeof(out->method), r->method, sizeof(r->method));
	copy_name(out->file, sizeof(out->file), r->file, sizeof(r->file));
	out->line = r->line > 0 ? r->line : 0;
	return 0;
}

bool trackfile_no_space(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && st.st_size == TRACKSHM_NOSPACE_SIZE;
}

void trackfile_ack(struct trackfile *tf, uint64_t generation)
{
	struct trackshm_header *h = tf->map;

	if (h && tf->len >= sizeof(*h))
		__atomic_store_n(&h->ack, generation, __ATOMIC_RELEASE);
}

uint64_t trackfile_generation(struct trackfile *tf)
{
	struct strbuf err = STRBUF_INIT;
	const struct trackshm_header *h;
	uint64_t g = 0;

	if (!remap(tf, &err)) {
		h = tf->map;
		if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) == TRACKSHM_MAGIC)
			g = h->generation;
	}
	strbuf_release(&err);
	return g;
}

uint64_t trackfile_exiting(struct trackfile *tf)
{
	struct strbuf err = STRBUF_INIT;
	const struct trackshm_header *h;
	uint64_t g = 0;

	if (!remap(tf, &err)) {
		h = tf->map;
		if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) == TRACKSHM_MAGIC)
			g = __atomic_load_n(&h->exiting, __ATOMIC_ACQUIRE);
	}
	strbuf_release(&err);
	return g;
}

void trackfile_ack_exit(struct trackfile *tf, uint64_t generation)
{
	struct trackshm_header *h = tf->map;

	if (h && tf->len >= sizeof(*h))
		__atomic_store_n(&h->exit_ack, generation, __ATOMIC_RELEASE);
}

void trackfile_request_detach(struct trackfile *tf, uint64_t generation)
{
	struct trackshm_header *h = tf->map;

	if (h && tf->len >= sizeof(*h))
		__atomic_store_n(&h->detach, generation, __ATOMIC_RELEASE);
}

void trackfile_heartbeat(struct trackfile *tf, uint32_t ms)
{
	struct trackshm_header *h = tf->map;

	if (h && tf->len >= sizeof(*h))
		__atomic_store_n(&h->heartbeat, ms, __ATOMIC_RELEASE);
}

int trackfile_follow_create(const char *dir, uint64_t max, struct strbuf *err)
{
	struct trackshm_follow f = {.magic = TRACKSHM_FOLLOW_MAGIC, .max = max};
	char path[PATH_MAX];
	int fd, ret = 0;

	if (snprintf(path, sizeof(path), "%s/follow", dir) >= (int)sizeof(path)) {
		strbuf_addf(err, "path too long: '%s'", dir);
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, &f, sizeof(f)) != (ssize_t)sizeof(f))
		ret = -errno;
	if (ret)
		strbuf_addf(err, "cannot create '%s': %s", path, strerror(-ret));
	if (fd >= 0)
		close(fd);
	return ret;
}

uint64_t trackfile_follow_refused(const char *dir)
{
	struct trackshm_follow f;
	char path[PATH_MAX];
	ssize_t n = 0;
	int fd;

	if (snprintf(path, sizeof(path), "%s/follow", dir) >= (int)sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	n = pread(fd, &f, sizeof(f), 0);
	close(fd);
	return n == (ssize_t)sizeof(f) && f.magic == TRACKSHM_FOLLOW_MAGIC ? f.refused : 0;
}
