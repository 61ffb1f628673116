/*
 * mallocprobe: counts zlib streams and malloc chunks in all of a process's
 * glibc heaps within a time budget, by sampling.
 *
 * The heaps are the brk heap and the arena heaps (64 MiB-aligned mappings
 * that start with a heap_info whose third word is the heap's size now). They
 * are cut into windows of MALLOC_PROBE_WINDOW bytes, read in an order that
 * spreads any first n of them evenly over all the heaps (bit-reversed window
 * numbers, rotated by a random amount: every window is equally likely to be
 * read, none of the heaps is favoured) until all are read or the reads have
 * taken the budget. A state or a chunk belongs to the window where it
 * starts, so the windows tile the heaps. A window's walk starts where a
 * chain of chunks checks out, which inside a large chunk may be the stale
 * headers it keeps of the chunks it was made of: when all are read, the
 * walks are put end to end (chain_windows) and the counts are exact;
 * otherwise each total is extrapolated by the ratio estimator (the
 * count per byte of the windows read times the bytes of all) with its
 * standard error, N * sqrt((1 - n/N) * s^2 / n) (Cochran, Sampling
 * Techniques, 3rd ed., 6.3), s^2 taken from the successive differences of
 * the residuals y - R x in address order as for a systematic sample
 * (Wolter, Introduction to Variance Estimation, 8.2): data that clusters
 * in some heaps (one thread's streams in its arena) does not inflate it.
 *
 * A zlib state (inflate_state or deflate_state) starts with a pointer to its
 * z_stream, whose state field points back at it, followed by a mode or status
 * in a known range; JDK 17's Inflater.init callocs the z_stream, zlib
 * allocates the state (about 7 KiB) and, at the first inflate, the 32 KiB
 * window: one state is one stream, which is what is counted. A z_stream
 * outside the window read is checked by reading its one word, many per
 * system call. The memory changes while it is read: a chunk that moves may
 * make a walk resynchronise or one state be missed, never harm the target.
 */
#include "mallocprobe.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "classify.h"
#include "dump.h"
#include "inspect.h"
#include "region.h"
#include "snapshot.h"
#include "strbuf.h"
#include "xalloc.h"

/* bytes read past a window's end: the successor header of most chunks starting in it */
#define MARGIN (64ULL << 10)

struct window {
	uint64_t start, end;
	int heap; /* index in the heaps */
};

/* What one window read holds: its bytes, and what was counted in it. */
enum { S_BYTES, S_ZLIB, S_INUSE, S_FREE, S_NR };
struct sample {
	double v[S_NR];
	bool read;
	uint64_t first, exit; /* its walk's first chunk and where its last one ends (0: not known) */
};

/* What reading a window needs, kept across windows. */
struct reader {
	struct dump_reader rd;
	const struct inspect_map *heaps;
	size_t nheaps;
	unsigned char *buf;
	bool *present;
	struct inspect_zcand *cands;
	size_t ncands, alloc_cands;
	uint64_t *addrs, *vals;
	bool *ok;
	size_t nwords;
	struct malloc_probe *out;
	pid_t pid;
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/*
 * The reads are timed by this thread's CPU time: the system calls run in the
 * target's address space for that long, while time the reader spent waiting
 * for a CPU on a loaded machine would otherwise count against the budget.
 */
static uint64_t cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* splitmix64 */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * The order the windows are read in: bit-reversed indices rotated by rot,
 * so that the first n of any n are spread evenly over the address space
 * (each window is among them with probability n / N, whatever rot).
 */
static size_t *spread_order(size_t n, size_t rot)
{
	size_t *o = xcalloc(n, sizeof(*o)), k = 0, bits = 0;

	while (((size_t)1 << bits) < n)
		bits++;
	for (size_t j = 0; k < n; j++) {
		size_t r = 0;

		for (size_t b = 0; b < bits; b++)
			if (j >> b & 1)
				r |= (size_t)1 << (bits - 1 - b);
		if (r < n)
			o[k++] = (r + rot) % n;
	}
	return o;
}

/*
 * The total of count k over all N windows (X bytes) from the n read, and its
 * standard error: the ratio estimator, its variance from the successive
 * differences of the residuals in address order (the sample is spread like a
 * systematic one, which a simple random sample's variance would overstate).
 */
static void estimate(const struct sample *smp, size_t N, size_t n, double X, int k,
		     uint64_t *est, uint64_t *se)
{
	double sy = 0, sx = 0, r, ss = 0, prev = 0, v;
	bool first = true;

	for (size_t i = 0; i < N; i++) {
		if (!smp[i].read)
			continue;
		sy += smp[i].v[k];
		sx += smp[i].v[S_BYTES];
	}
	if (n == N || !n || sx <= 0) {
		*est = (uint64_t)llround(sy);
		*se = 0;
		return;
	}
	r = sy / sx;
	*est = (uint64_t)llround(r * X);
	if (n < 2) {
		*se = *est;
		return;
	}
	for (size_t i = 0; i < N; i++) {
		double d;

		if (!smp[i].read)
			continue;
		d = smp[i].v[k] - r * smp[i].v[S_BYTES];
		if (!first)
			ss += (d - prev) * (d - prev);
		prev = d;
		first = false;
	}
	v = (1.0 - (double)n / (double)N) * ss / (2.0 * (double)(n - 1)) / (double)n;
	*se = (uint64_t)llround((double)N * sqrt(v > 0 ? v : 0));
}

/* Reads the words at addrs, counting the time in *ns. */
static int read_words(struct dump_reader *rd, const uint64_t *addrs, uint64_t *vals, bool *ok,
		      size_t n, struct malloc_probe *out)
{
	uint64_t t0 = cpu_ns(), w0 = now_ns();
	int ret = n ? dump_read_words(rd, addrs, vals, ok, n) : 0;

	out->read_ns += cpu_ns() - t0;
	out->read_wall_ns += now_ns() - w0;
	return ret;
}

static void words_error(struct strbuf *err, pid_t pid, int ret)
{
	if (ret == -ESRCH)
		strbuf_addf(err, "process %d exited while it was read", (int)pid);
	else
		strbuf_addf(err, "cannot read the memory of process %d: %s", (int)pid,
			    strerror(-ret));
}

/*
 * Arena heaps the maps do not show: the kernel merges an arena heap's
 * read-write part with an adjacent anonymous mapping of the same
 * permissions (the next arena heap, filled up to its end; another mmap),
 * and the merged mapping is classed anon. Every 64 MiB-aligned address
 * inside an anonymous read-write mapping is a candidate, taken when it
 * starts with a heap_info that checks out: ar_ptr just past it (an arena's
 * first heap, prev 0) or in another heap's first bytes (prev set, aligned),
 * size and mprotect_size page multiples within the heap, size first. A
 * Java heap or any other data does not hold that by chance. Only a first
 * page in RAM is read (a heap's is: it holds heap_info; without pagemap,
 * none), so a huge reserved mapping (a sanitizer's shadow) costs its
 * pagemap entries and no memory of the target; at most MERGED_LOOK
 * addresses (4 TiB of mappings) are looked up, and MERGED_MAX of them read.
 */
#define MERGED_MAX  4096
#define MERGED_LOOK 65536
static int merged_heaps(struct dump_reader *rd, const struct snapshot *s,
			struct inspect_map **heaps, size_t *nheaps, size_t *alloc,
			struct malloc_probe *out)
{
	const uint64_t hsz = GLIBC_ARENA_HEAP_SIZE;
	uint64_t *addrs = NULL, *vals = NULL, *cand = NULL;
	size_t n = 0, alloc_c = 0, looked = 0;
	bool *ok = NULL, present;
	int ret = 0;

	for (size_t i = 0; i < s->nregions && n < MERGED_MAX && looked < MERGED_LOOK; i++) {
		const struct region *r = &s->regions[i];

		if (r->cls != RC_ANON || strcmp(r->perms, "rw-p") || r->path[0])
			continue;
		for (uint64_t a = (r->start + hsz - 1) & ~(hsz - 1);
		     a + 4096 <= r->end && n < MERGED_MAX && looked < MERGED_LOOK; a += hsz, looked++) {
			/* without pagemap nothing is read: a read could give the target a page */
			if (dump_present(rd, a, 1, &present))
				goto done;
			if (!present)
				continue;
			ALLOC_GROW(cand, n + 1, alloc_c);
			cand[n++] = a;
		}
	}
done:
	if (!n) {
		free(cand);
		return 0;
	}
	addrs = xcalloc(n * 4, sizeof(*addrs));
	vals = xcalloc(n * 4, sizeof(*vals));
	ok = xcalloc(n * 4, sizeof(*ok));
	for (size_t k = 0; k < n * 4; k++)
		addrs[k] = cand[k / 4] + (k % 4) * 8;
	ret = read_words(rd, addrs, vals, ok, n * 4, out);
	for (size_t k = 0; !ret && k < n; k++) {
		const uint64_t *w = &vals[k * 4], a = cand[k];
		uint64_t ar = w[0], prev = w[1], size = w[2], mprot = w[3], end;
		const struct region *r;

		if (!ok[k * 4] || !ok[k * 4 + 1] || !ok[k * 4 + 2] || !ok[k * 4 + 3])
			continue;
		if (size < 4096 || size > hsz || size % 4096 || mprot < size || mprot > hsz ||
		    mprot % 4096 || (ar & 7) || (ar & (hsz - 1)) < 32 || (ar & (hsz - 1)) > 64)
			continue;
		if (prev ? (prev % hsz || prev == a || (ar & ~(hsz - 1)) == a)
			 : (ar & ~(hsz - 1)) != a)
			continue;
		r = classify_find(s->regions, s->nregions, a);
		if (!r)
			continue;
		end = a + hsz < r->end ? a + hsz : r->end;
		ALLOC_GROW(*heaps, *nheaps + 1, *alloc);
		(*heaps)[(*nheaps)++] = (struct inspect_map){a, end, RC_ARENA};
		/* the mapping's resident bytes, its share */
		out->rss += (uint64_t)((double)r->m.rss * (double)(end - a) /
				       (double)(r->end - r->start));
		out->arenas++;
		out->merged++;
	}
	free(addrs);
	free(vals);
	free(ok);
	free(cand);
	return ret;
}

static int cmp_map(const void *a, const void *b)
{
	const struct inspect_map *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Reads [addr, addr + len) into buf, the pages in RAM only (the others are
 * zero, as an anonymous page never touched is): reading a page the target
 * never touched would give it one. Without pagemap, *pagemap becomes false
 * and everything is read.
 */
static int read_present(struct dump_reader *rd, uint64_t addr, unsigned char *buf, size_t len,
			bool *present, bool *pagemap, struct strbuf *err)
{
	size_t npages = (len + DUMP_PAGE - 1) / DUMP_PAGE, got;

	if (*pagemap && dump_present(rd, addr, npages, present))
		*pagemap = false;
	if (!*pagemap)
		return dump_read(rd, addr, buf, len, &got, err);
	for (size_t p = 0; p < npages;) {
		size_t q = p, off = p * DUMP_PAGE, end;
		int ret;

		while (q < npages && present[q] == present[p])
			q++;
		end = q * DUMP_PAGE < len ? q * DUMP_PAGE : len;
		if (!present[p])
			memset(buf + off, 0, end - off);
		else if ((ret = dump_read(rd, addr + off, buf + off, end - off, &got, err)))
			return ret;
		p = q;
	}
	return 0;
}

/*
 * Reads window wi and counts in it: its chunks (from known_first, a chunk
 * known to start there, or 0: from the first place a chain checks out) and
 * its zlib states, into *smp.
 */
static int read_window(struct reader *r, const struct window *wi, uint64_t known_first,
		       struct sample *smp, struct strbuf *err)
{
	const struct inspect_map *h = &r->heaps[wi->heap];
	uint64_t dend = wi->end + MARGIN < h->end ? wi->end + MARGIN : h->end, t, tw;
	struct inspect_win w;
	size_t n;
	int ret;

	t = cpu_ns();
	tw = now_ns();
	ret = read_present(&r->rd, wi->start, r->buf, (size_t)(dend - wi->start), r->present,
			   &r->out->pagemap, err);
	r->out->read_ns += cpu_ns() - t;
	r->out->read_wall_ns += now_ns() - tw;
	if (ret)
		return ret;
	memset(&w, 0, sizeof(w));
	w.start = wi->start;
	w.end = wi->end;
	w.data = r->buf;
	w.data_end = dend;
	w.heap_start = h->start;
	w.heap_end = h->end;
	w.main_arena = h->cls == RC_HEAP;
	w.heaps = r->heaps;
	w.nheaps = r->nheaps;
	w.known_first = known_first;
	r->ncands = 0;
	inspect_window(&w, &r->cands, &r->ncands, &r->alloc_cands);
	n = r->ncands + (w.pending_hdr ? 2 : 0);
	if (n > r->nwords) {
		r->nwords = n;
		r->addrs = xrealloc(r->addrs, n * sizeof(*r->addrs));
		r->vals = xrealloc(r->vals, n * sizeof(*r->vals));
		r->ok = xrealloc(r->ok, n * sizeof(*r->ok));
	}
	for (size_t k = 0; k < r->ncands; k++)
		r->addrs[k] = r->cands[k].strm + INSPECT_ZSTREAM_STATE;
	if (w.pending_hdr) {
		r->addrs[r->ncands] = w.pending_hdr - 8;
		r->addrs[r->ncands + 1] = w.pending_hdr;
	}
	ret = read_words(&r->rd, r->addrs, r->vals, r->ok, n, r->out);
	if (ret) {
		words_error(err, r->pid, ret);
		return ret;
	}
	for (size_t k = 0; k < r->ncands; k++)
		if (r->ok[k] && r->vals[k] == r->cands[k].state)
			w.zlib++;
	if (w.pending_hdr && r->ok[r->ncands] && r->ok[r->ncands + 1]) {
		inspect_window_settle(&w, r->vals[r->ncands], r->vals[r->ncands + 1]);
	} else if (w.pending_hdr) {
		w.chunks--; /* its successor could not be read: not counted */
		w.exit = 0;
	}
	*smp = (struct sample){{(double)(w.end - w.start), (double)w.zlib, (double)w.inuse_bytes,
				(double)w.free_bytes},
			       true, w.first, w.exit};
	return 0;
}

/*
 * With every window read, the walks are put end to end, heap by heap in
 * address order: a window's chunks start where the last chunk of the
 * window before it ends. A window whose walk started elsewhere took for
 * chunks the stale headers left inside a larger chunk (what a free chunk's
 * payload keeps of the chunks it was made of, links and all: 11 GiB "free"
 * in 893 MB of heaps). Such a window is counted again from where its chunks
 * really start, or counts none when a chunk from before covers it whole.
 * A heap's first window starts at its first chunk.
 */
static int chain_windows(struct reader *r, const struct window *win, size_t nwin,
			 struct sample *smp, struct strbuf *err)
{
	uint64_t carry = 0;

	for (size_t i = 0; i < nwin; i++) {
		struct sample *sm = &smp[i];
		int ret;

		if (!i || win[i].heap != win[i - 1].heap || !carry) {
			carry = sm->exit;
			continue;
		}
		if (carry >= win[i].end) {
			/* inside a chunk that started before: no chunk starts here */
			sm->v[S_INUSE] = sm->v[S_FREE] = 0;
			continue;
		}
		if (sm->first != carry) {
			double zlib = sm->v[S_ZLIB];

			r->out->rewalked++;
			ret = read_window(r, &win[i], carry < win[i].start ? win[i].start : carry, sm,
					  err);
			if (ret)
				return ret;
			sm->v[S_ZLIB] = zlib; /* its states were counted already */
		}
		carry = sm->exit;
	}
	return 0;
}

int probe_malloc(pid_t pid, uint64_t budget_ns, struct malloc_probe *out, struct strbuf *err)
{
	struct snapshot s;
	struct reader rdr = { .out = out, .pid = pid };
	struct dump_reader *rd = &rdr.rd;
	struct inspect_map *heaps = NULL;
	struct window *win = NULL;
	struct sample *smp = NULL;
	uint64_t seed, t0 = now_ns(), cap;
	size_t *order = NULL;
	size_t nheaps = 0, alloc_heaps = 0, nwin = 0, alloc_win = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	out->budget_ns = budget_ns;
	/* the analysis between reads is ours, not the target's: bound it apart */
	cap = budget_ns * 8 > 2000000000ULL ? budget_ns * 8 : 2000000000ULL;
	snapshot_init(&s);
	dump_reader_init(rd, pid);
	ret = snapshot_take(pid, SNAP_NO_THREAD_SP, &s, err);
	if (ret)
		goto out;
	for (size_t i = 0; i < s.nregions; i++) {
		const struct region *r = &s.regions[i];

		if ((r->cls != RC_HEAP && r->cls != RC_ARENA) || r->guard || r->perms[0] != 'r')
			continue;
		ALLOC_GROW(heaps, nheaps + 1, alloc_heaps);
		heaps[nheaps++] = (struct inspect_map){r->start, r->end, (int)r->cls};
		out->rss += r->m.rss;
		if (r->cls == RC_ARENA)
			out->arenas++;
	}
	ret = merged_heaps(rd, &s, &heaps, &nheaps, &alloc_heaps, out);
	if (ret) {
		words_error(err, pid, ret);
		goto out;
	}
	if (out->merged)
		qsort(heaps, nheaps, sizeof(*heaps), cmp_map);
	out->regions = nheaps;
	if (!nheaps) {
		strbuf_addf(err, "process %d has no glibc malloc heap", (int)pid);
		ret = -ENOENT;
		goto out;
	}
	/* an arena heap ends where its heap_info.size says: a shrunk heap keeps its mapping */
	rdr.addrs = xcalloc(nheaps, sizeof(*rdr.addrs));
	rdr.vals = xcalloc(nheaps, sizeof(*rdr.vals));
	rdr.ok = xcalloc(nheaps, sizeof(*rdr.ok));
	rdr.nwords = nheaps;
	for (size_t i = 0; i < nheaps; i++)
		rdr.addrs[i] = heaps[i].start + 16;
	ret = read_words(rd, rdr.addrs, rdr.vals, rdr.ok, nheaps, out);
	if (ret) {
		words_error(err, pid, ret);
		goto out;
	}
	for (size_t i = 0; i < nheaps; i++) {
		uint64_t len = heaps[i].end - heaps[i].start;

		if (heaps[i].cls == RC_ARENA && rdr.ok[i] && rdr.vals[i] >= 4096 && rdr.vals[i] <= len &&
		    !(rdr.vals[i] & 4095))
			heaps[i].end = heaps[i].start + rdr.vals[i];
		out->total_bytes += heaps[i].end - heaps[i].start;
		for (uint64_t a = heaps[i].start; a < heaps[i].end; a += MALLOC_PROBE_WINDOW) {
			ALLOC_GROW(win, nwin + 1, alloc_win);
			win[nwin++] = (struct window){
				a, heaps[i].end - a < MALLOC_PROBE_WINDOW ? heaps[i].end
									  : a + MALLOC_PROBE_WINDOW,
				(int)i};
		}
	}
	out->windows = nwin;
	seed = now_ns() ^ ((uint64_t)pid << 32) ^ (uint64_t)getpid();
	order = spread_order(nwin, nwin ? (size_t)(next_rand(&seed) % nwin) : 0);
	smp = xcalloc(nwin, sizeof(*smp));
	rdr.heaps = heaps;
	rdr.nheaps = nheaps;
	rdr.buf = xmalloc(MALLOC_PROBE_WINDOW + MARGIN);
	rdr.present = xcalloc((MALLOC_PROBE_WINDOW + MARGIN) / DUMP_PAGE + 1, sizeof(*rdr.present));
	out->pagemap = true;
	for (size_t i = 0; i < nwin; i++) {
		/*
		 * Fewer windows than MALLOC_PROBE_MIN_WINDOWS give no usable error
		 * (a loaded machine's first reads cost more CPU): the budget counts
		 * from there; the wall cap still bounds the whole probe.
		 */
		if ((out->read_ns >= budget_ns && i >= MALLOC_PROBE_MIN_WINDOWS) ||
		    now_ns() - t0 >= cap)
			break;
		ret = read_window(&rdr, &win[order[i]], 0, &smp[order[i]], err);
		if (ret)
			goto out;
		out->windows_read++;
		out->sampled_bytes += win[order[i]].end - win[order[i]].start;
		out->zlib_seen += (uint64_t)smp[order[i]].v[S_ZLIB];
	}
	out->exact = out->windows_read == nwin;
	if (out->exact && (ret = chain_windows(&rdr, win, nwin, smp, err)))
		goto out;
	estimate(smp, nwin, out->windows_read, (double)out->total_bytes, S_ZLIB,
		 &out->zlib_states, &out->zlib_err);
	estimate(smp, nwin, out->windows_read, (double)out->total_bytes, S_INUSE, &out->inuse,
		 &out->inuse_err);
	estimate(smp, nwin, out->windows_read, (double)out->total_bytes, S_FREE, &out->free,
		 &out->free_err);
	out->overcount = out->inuse + out->free >
			 out->total_bytes + out->total_bytes / 16 + 2 * (out->inuse_err + out->free_err);
	ret = 0;
out:
	out->wall_ns = now_ns() - t0;
	dump_reader_release(rd);
	free(rdr.buf);
	free(rdr.present);
	free(smp);
	free(rdr.cands);
	free(rdr.addrs);
	free(rdr.vals);
	free(rdr.ok);
	free(win);
	free(order);
	free(heaps);
	snapshot_release(&s);
	return ret;
}
