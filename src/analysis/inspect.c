// SPDX-License-Identifier: MIT
/* inspect: what the bytes of a memory region are — strings, entropy, signatures, pointers, chunks.
 */
#include "inspect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define PAGE	   4096u
#define BLOCK	   (64u * PAGE)
/*
 * The hash tables start small and double while they are at most half full,
 * up to twice their caps: a small region (a fuzzer's input, a few pages)
 * does not pay for allocating and scanning 19 MiB of slots.
 */
#define STR_SLOTS  (INSPECT_STR_CAP * 2)
#define SIZE_SLOTS (INSPECT_SIZE_CAP * 2)
#define MIN_SLOTS  1024

static const char *const page_names[IP_NR] = {"zero", "text", "compressed_or_random", "other"};
static const char *const sig_names[IS_NR] = {
    "gzip", "zlib", "zlib_stream_state", "java_class", "elf", "json", "xml"};

const char *inspect_page_name(enum inspect_page p)
{
	return p < IP_NR ? page_names[p] : "?";
}

const char *inspect_sig_name(enum inspect_sig s)
{
	return s < IS_NR ? sig_names[s] : "?";
}

static unsigned char printable[256];
static double nlogn[PAGE + 1]; /* n * log2(n) */

static void init_tables(void)
{
	if (printable['A'])
		return;
	for (int c = 0x20; c < 0x7f; c++)
		printable[c] = 1;
	printable['\t'] = 1;
	nlogn[0] = 0;
	for (unsigned n = 1; n <= PAGE; n++)
		nlogn[n] = n * log2((double)n);
}

void inspect_init(struct inspect *in, const struct inspect_map *maps, size_t nmaps, int ncls)
{
	init_tables();
	memset(in, 0, sizeof(*in));
	in->str_slots = in->size_slots = MIN_SLOTS;
	in->strs = xcalloc(in->str_slots, sizeof(*in->strs));
	in->sizes = xcalloc(in->size_slots, sizeof(*in->sizes));
	in->maps = maps;
	in->nmaps = maps ? nmaps : 0;
	in->ncls = ncls;
	in->ptr_cls = xcalloc((size_t)ncls + 1, sizeof(*in->ptr_cls));
}

void inspect_release(struct inspect *in)
{
	if (in->strs)
		for (size_t i = 0; i < in->str_slots; i++)
			free(in->strs[i].s);
	free(in->strs);
	free(in->sizes);
	free(in->ptr_cls);
	free(in->walks);
	memset(in, 0, sizeof(*in));
}

static uint64_t hash_str(const unsigned char *s, size_t n, bool utf16)
{
	uint64_t h = utf16 ? 0x9e3779b97f4a7c15ULL : 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static void str_insert(struct inspect_string *tab, size_t slots, struct inspect_string *e)
{
	size_t i = hash_str((unsigned char *)e->s, e->len, e->utf16) & (slots - 1);

	while (tab[i].s)
		i = (i + 1) & (slots - 1);
	tab[i] = *e;
}

/* The strings into a new table of slots slots, dropping those seen fewer than t times. */
static void str_rehash(struct inspect *in, size_t slots, uint64_t t)
{
	struct inspect_string *old = in->strs;
	size_t nold = in->str_slots;

	in->strs = xcalloc(slots, sizeof(*in->strs));
	in->str_slots = slots;
	in->nstrs = 0;
	for (size_t i = 0; i < nold; i++) {
		if (!old[i].s)
			continue;
		if (old[i].count < t) {
			free(old[i].s);
			continue;
		}
		str_insert(in->strs, slots, &old[i]);
		in->nstrs++;
	}
	free(old);
}

/* Makes room: drops the strings seen fewer than t times, t doubling until half is free. */
static void str_sweep(struct inspect *in)
{
	uint64_t t = 2;

	in->sweeps++;
	while (in->nstrs >= INSPECT_STR_CAP / 2) {
		str_rehash(in, in->str_slots, t);
		t *= 2;
	}
}

static void str_add(struct inspect *in, const unsigned char *s, size_t n, bool utf16)
{
	size_t i;
	uint64_t h;

	if (n > INSPECT_STR_MAX)
		n = INSPECT_STR_MAX;
	h = hash_str(s, n, utf16);
	for (i = h & (in->str_slots - 1); in->strs[i].s; i = (i + 1) & (in->str_slots - 1)) {
		struct inspect_string *e = &in->strs[i];

		if (e->len == n && e->utf16 == utf16 && !memcmp(e->s, s, n)) {
			e->count++;
			return;
		}
	}
	if (in->nstrs >= INSPECT_STR_CAP) {
		str_sweep(in);
		str_add(in, s, n, utf16);
		return;
	}
	if ((in->nstrs + 1) * 2 > in->str_slots && in->str_slots < STR_SLOTS) {
		str_rehash(in, in->str_slots * 2, 0);
		str_add(in, s, n, utf16);
		return;
	}
	in->strs[i].s = xmalloc(n + 1);
	memcpy(in->strs[i].s, s, n);
	in->strs[i].s[n] = 0;
	in->strs[i].len = (uint32_t)n;
	in->strs[i].utf16 = utf16;
	in->strs[i].count = 1;
	in->nstrs++;
}

/*
 * Both scanners skip ahead: a run of at least INSPECT_STR_MIN characters
 * starting anywhere in [i, i + k] covers the byte(s) checked at i + k, so
 * when those do not fit, no run starts there and i jumps past them. Runs
 * starting before i were handled already (or are shorter than the minimum).
 */
/* All 8 bytes at p are in 0x20..0x7e (a tab makes it false: the byte loop takes over). */
static bool printable8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	uint64_t v;

	memcpy(&v, p, 8);
	if (v & high)
		return false;
	/* no byte below 0x20, none above 0x7e (each byte is below 0x80 here) */
	return !((v - ones * 0x20) & high) && !((v + ones * 1) & high);
}

static size_t scan_ascii(struct inspect *in, const unsigned char *d, size_t len, size_t i,
			 size_t until)
{
	const size_t k = INSPECT_STR_MIN - 1;

	while (i < until && i + k < len) {
		size_t b, j;

		if (!printable[d[i + k]]) {
			i += k + 1;
			continue;
		}
		/* the run holding i + k starts at i or later (see above) */
		for (b = i + k; b > i && printable[d[b - 1]]; b--)
			;
		for (j = i + k + 1; j + 8 <= len && printable8(d + j); j += 8)
			;
		for (; j < len && printable[d[j]]; j++)
			;
		if (j - b >= INSPECT_STR_MIN)
			str_add(in, d + b, j - b, false);
		i = j;
	}
	return i;
}

static bool u16char(const unsigned char *d)
{
	return printable[d[0]] && d[1] == 0;
}

static size_t scan_utf16(struct inspect *in, const unsigned char *d, size_t len, size_t i,
			 size_t until)
{
	const size_t k = 2 * INSPECT_STR_MIN - 2; /* bytes k and k + 1 of every run */
	unsigned char buf[INSPECT_STR_MAX];

	while (i < until && i + 1 < len) {
		size_t j = i, n = 0;

		if (i + k + 1 < len && !u16char(d + i + k) && !u16char(d + i + k - 1)) {
			i += k + 1;
			continue;
		}
		if (!u16char(d + i)) {
			i++;
			continue;
		}
		while (j + 1 < len && u16char(d + j)) {
			if (n < sizeof(buf))
				buf[n] = d[j];
			n++;
			j += 2;
		}
		if (n >= INSPECT_STR_MIN)
			str_add(in, buf, n < sizeof(buf) ? n : sizeof(buf), true);
		i = j;
	}
	return i;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	uint64_t acc = 0, v;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&v, p + i, 8);
		acc |= v;
	}
	for (; i < n; i++)
		acc |= p[i];
	return !acc;
}

static void scan_pages(struct inspect *in, const unsigned char *d, size_t len)
{
	for (size_t off = 0; off < len; off += PAGE) {
		/* four histograms: a run of one byte value does not serialise on one counter */
		unsigned cnt[4][256];
		size_t n = len - off < PAGE ? len - off : PAGE, print = 0, i = 0;
		const unsigned char *p = d + off;
		double h;

		in->page_bytes += n;
		if (all_zero(p, n)) {
			in->pages[IP_ZERO]++;
			continue;
		}
		memset(cnt, 0, sizeof(cnt));
		for (; i + 4 <= n; i += 4) {
			cnt[0][p[i]]++;
			cnt[1][p[i + 1]]++;
			cnt[2][p[i + 2]]++;
			cnt[3][p[i + 3]]++;
		}
		for (; i < n; i++)
			cnt[0][p[i]]++;
		h = nlogn[n];
		for (int c = 0; c < 256; c++) {
			unsigned t = cnt[0][c] + cnt[1][c] + cnt[2][c] + cnt[3][c];

			h -= nlogn[t];
			if (printable[c] || c == '\n' || c == '\r')
				print += t;
		}
		h /= (double)n;
		in->entropy_sum += h;
		if (print * 4 >= n * 3)
			in->pages[IP_TEXT]++;
		else if (h >= 7.0)
			in->pages[IP_RANDOM]++;
		else
			in->pages[IP_OTHER]++;
	}
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The fed region holding [addr, addr + n), or NULL. */
static const struct inspect_region *find_reg(const struct inspect *in, uint64_t addr, uint64_t n)
{
	size_t lo = 0, hi = in->nregs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct inspect_region *r = &in->regs[mid];

		if (addr < r->start)
			hi = mid;
		else if (addr >= r->end)
			lo = mid + 1;
		else
			return addr + n <= r->end && addr + n > addr ? r : NULL;
	}
	return NULL;
}

static bool zlib_status(uint32_t s)
{
	/* deflate_state.status, then inflate_state.mode (HEAD … SYNC) */
	return s == 42 || s == 57 || s == 69 || s == 73 || s == 91 || s == 103 || s == 113 ||
	       s == 666 || (s >= 16180 && s <= 16211);
}

/* Signatures starting in [d, d + len); their bytes may run on to d + room. */
static void scan_sigs(struct inspect *in, const unsigned char *d, size_t len, size_t room)
{
	static const unsigned char trig[] = {0x1f, 0x78, 0xca, 0x7f, '{', '<'};

	for (size_t t = 0; t < sizeof(trig); t++) {
		const unsigned char *p = d, *end = d + len;

		while (p < end && (p = memchr(p, trig[t], (size_t)(end - p)))) {
			size_t left = (size_t)(d + room - p);

			switch (trig[t]) {
			case 0x1f:
				if (left >= 10 && p[1] == 0x8b && p[2] == 8 && !(p[3] & 0xe0))
					in->sigs[IS_GZIP]++;
				break;
			case 0x78:
				if (left >= 2 &&
				    (p[1] == 0x01 || p[1] == 0x5e || p[1] == 0x9c ||
				     p[1] == 0xda) &&
				    (p[0] * 256 + p[1]) % 31 == 0)
					in->sigs[IS_ZLIB]++;
				break;
			case 0xca:
				if (left >= 8 && p[1] == 0xfe && p[2] == 0xba && p[3] == 0xbe) {
					unsigned major = (unsigned)p[6] << 8 | p[7];

					if (major >= 45 && major <= 80)
						in->sigs[IS_JAVA_CLASS]++;
				}
				break;
			case 0x7f:
				if (left >= 16 && !memcmp(p + 1, "ELF", 3) &&
				    (p[4] == 1 || p[4] == 2) && (p[5] == 1 || p[5] == 2) &&
				    p[6] == 1)
					in->sigs[IS_ELF]++;
				break;
			case '{':
				if (left >= 4 && p[1] == '"' && printable[p[2]]) {
					/* {"key": */
					size_t k = 2;

					while (k < left && k < 66 && printable[p[k]] && p[k] != '"')
						k++;
					if (k + 1 < left && p[k] == '"' && p[k + 1] == ':')
						in->sigs[IS_JSON]++;
				}
				break;
			case '<':
				if ((left >= 5 && !memcmp(p, "<?xml", 5)) ||
				    (left >= 3 && p[1] == '/' &&
				     ((p[2] | 0x20) >= 'a' && (p[2] | 0x20) <= 'z')))
					in->sigs[IS_XML]++;
				break;
			}
			p++;
		}
	}
}

static int map_class(const struct inspect *in, uint64_t v)
{
	size_t lo = 0, hi = in->nmaps;

	if (!in->nmaps || v < in->maps[0].start || v >= in->maps[in->nmaps - 1].end)
		return -1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v < in->maps[mid].start)
			hi = mid;
		else if (v >= in->maps[mid].end)
			lo = mid + 1;
		else
			return in->maps[mid].cls;
	}
	return -1;
}

/* The aligned words of r in [from, until). */
static void scan_words(struct inspect *in, const struct inspect_region *r, uint64_t from,
		       uint64_t until)
{
	uint64_t a = (from + 7) & ~7ULL;
	uint64_t lo = in->nregs ? in->regs[0].start : 0,
		 hi = in->nregs ? in->regs[in->nregs - 1].end : 0;

	for (; a + 8 <= until; a += 8) {
		uint64_t v = rd64(r->data + (a - r->start));

		if (in->maps) {
			int c;

			in->words++;
			c = v ? map_class(in, v) : -1;
			if (c >= 0 && c < in->ncls)
				in->ptr_cls[c]++;
			else
				in->ptr_none++;
		}
		if (v >= lo && v < hi && !(v & 7)) {
			/* z_stream.state (offset 56) pointing back here: a zlib stream's state */
			const struct inspect_region *z = find_reg(in, v, 64);

			if (z && rd64(z->data + (v - z->start) + INSPECT_ZSTREAM_STATE) == a &&
			    a + 12 <= r->end &&
			    zlib_status(rd32(r->data + (a - r->start) + 8)))
				in->sigs[IS_ZLIB_STATE]++;
		}
	}
}

void inspect_run(struct inspect *in, const struct inspect_region *regs, size_t n)
{
	in->regs = (struct inspect_region *)regs;
	in->nregs = n;
	for (size_t i = 0; i < n; i++) {
		const struct inspect_region *r = &regs[i];
		size_t len = (size_t)(r->end - r->start);

		in->bytes += len;
		size_t ai = 0, ui = 0;

		/* in blocks, so that each pass finds the block in the cache */
		for (size_t off = 0; off < len; off += BLOCK) {
			size_t bl = len - off < BLOCK ? len - off : BLOCK;

			scan_pages(in, r->data + off, bl);
			scan_sigs(in, r->data + off, bl, len - off);
			scan_words(in, r, r->start + off, r->start + off + bl);
			ai = scan_ascii(in, r->data, len, ai, off + bl);
			ui = scan_utf16(in, r->data, len, ui, off + bl);
		}
	}
}

static size_t size_slot(const struct inspect_size *tab, size_t slots, uint64_t sz)
{
	size_t i = (size_t)((sz >> 4) * 0x9e3779b97f4a7c15ULL >> 40) & (slots - 1);

	while (tab[i].size && tab[i].size != sz)
		i = (i + 1) & (slots - 1);
	return i;
}

static void size_add(struct inspect *in, uint64_t sz, bool inuse)
{
	size_t i = size_slot(in->sizes, in->size_slots, sz);

	if (!in->sizes[i].size) {
		if (in->nsizes >= INSPECT_SIZE_CAP) {
			in->sizes_dropped++;
			return;
		}
		if ((in->nsizes + 1) * 2 > in->size_slots && in->size_slots < SIZE_SLOTS) {
			struct inspect_size *old = in->sizes;
			size_t nold = in->size_slots;

			in->size_slots *= 2;
			in->sizes = xcalloc(in->size_slots, sizeof(*in->sizes));
			for (size_t k = 0; k < nold; k++)
				if (old[k].size)
					in->sizes[size_slot(in->sizes, in->size_slots, old[k].size)] =
						old[k];
			free(old);
			i = size_slot(in->sizes, in->size_slots, sz);
		}
		in->sizes[i].size = sz;
		in->nsizes++;
	}
	if (inuse)
		in->sizes[i].inuse++;
	else
		in->sizes[i].freed++;
}

#define PREV_INUSE     1ULL
#define IS_MMAPPED     2ULL
#define NON_MAIN_ARENA 4ULL

/* Checks the chunk at off: its size, or 0 when it is not plausible. */
static uint64_t chunk_size(const struct inspect_region *r, uint64_t off, bool main_arena)
{
	uint64_t len = r->end - r->start, size, sz;

	if (off + 16 > len)
		return 0;
	size = rd64(r->data + off + 8);
	sz = size & ~7ULL;
	/* free chunks and the top lose NON_MAIN_ARENA: only the main arena's absence is sure */
	if ((size & IS_MMAPPED) || (main_arena && (size & NON_MAIN_ARENA)))
		return 0;
	if (sz < 32 || (sz & 15) || sz > len - off)
		return 0;
	return sz;
}

/*
 * A plausible first chunk of an arena heap: 16 chunks in a row check out, or
 * the chain reaches the end, and at least one of them (the top excepted)
 * carries NON_MAIN_ARENA, as every chunk in use in an arena does.
 */
static bool plausible_chain(const struct inspect_region *r, uint64_t off)
{
	uint64_t len = r->end - r->start;
	bool marked = false;

	for (int k = 0; k < 16; k++) {
		uint64_t sz = chunk_size(r, off, false);

		if (!sz)
			return false;
		if (off + sz == len)
			return marked || k == 0;
		marked = marked || (rd64(r->data + off + 8) & NON_MAIN_ARENA);
		off += sz;
	}
	return marked;
}

void inspect_walk_chunks(struct inspect *in, const struct inspect_region *whole, bool main_arena)
{
	struct inspect_walk *w;
	struct inspect_region part = *whole;
	const struct inspect_region *r = &part;
	uint64_t len = whole->end - whole->start, off = 0;
	bool found = false;

	ALLOC_GROW(in->walks, in->nwalks + 1, in->alloc_walks);
	w = &in->walks[in->nwalks++];
	memset(w, 0, sizeof(*w));
	w->start = whole->start;
	w->end = whole->end;
	if (!main_arena && len >= 32) {
		/*
		 * heap_info.size (third word) is where the heap ends now: a heap
		 * shrunk with MADV_DONTNEED keeps its read-write mapping.
		 */
		uint64_t hsize = rd64(whole->data + 16);

		if (hsize >= 4096 && hsize <= len && !(hsize & 4095)) {
			part.end = part.start + hsize;
			len = hsize;
		}
	}
	if (main_arena) {
		/* brk starts page-aligned: the first chunk is at the start */
		off = (16 - (r->start & 15)) & 15;
		found = chunk_size(r, off, true) != 0;
	} else {
		/*
		 * heap_info, then (in an arena's first heap) its malloc_state,
		 * come before the first chunk: take the first 16-byte aligned
		 * place from 32 bytes on where a chain of chunks checks out.
		 */
		for (off = 32; off + 16 <= len && off < 16384; off += 16) {
			if ((r->start + off) & 15)
				continue;
			if (plausible_chain(r, off)) {
				found = true;
				break;
			}
		}
	}
	if (!found) {
		w->stop = "no plausible first chunk";
		w->stop_addr = r->start + off;
		return;
	}
	w->first = r->start + off;
	for (uint64_t steps = 0;; steps++) {
		uint64_t sz = chunk_size(r, off, main_arena);

		if (steps >= INSPECT_WALK_MAX) {
			w->stop = "step limit";
			break;
		}
		if (!sz) {
			w->stop = off + 16 > len ? "end of region" : "implausible chunk header";
			break;
		}
		if (off + sz + 16 > len) {
			/* the top chunk runs to the end of the heap */
			w->top_size = sz;
			w->stop = off + sz == len ? "top chunk" : "chunk at the end";
			break;
		}
		w->chunks++;
		if (rd64(r->data + off + sz + 8) & PREV_INUSE) {
			w->inuse_bytes += sz;
			size_add(in, sz, true);
		} else {
			w->free_bytes += sz;
			size_add(in, sz, false);
		}
		off += sz;
	}
	w->stop_addr = r->start + off;
}

/* The size of the chunk at c of window w when its header is plausible, else 0. */
static uint64_t win_size(const struct inspect_win *w, uint64_t c)
{
	uint64_t h, sz;

	if (c < w->heap_start || c < w->start || c + 16 > w->data_end)
		return 0;
	h = rd64(w->data + (c - w->start) + 8);
	sz = h & ~7ULL;
	if ((h & IS_MMAPPED) || (w->main_arena && (h & NON_MAIN_ARENA)))
		return 0;
	if (sz < 32 || (sz & 15) || sz > w->heap_end - c)
		return 0;
	return sz;
}

static int cmp_heap(const void *key, const void *elem);

/*
 * Whether the free chunk at c has the links of one: a chunk free in a bin
 * is on a doubly linked list, its fd and bk point at chunks of its arena or
 * at the arena's bins (in its malloc_state, inside its first heap; the brk
 * heap's are in the C library). Data that only looks like a chain of
 * chunks, inside a large chunk's payload where a window's walk may start,
 * seldom holds such words: without this its sizes, up to the heap's,
 * were counted as free (gigabytes in heaps of 900 MB).
 */
static bool win_links(const struct inspect_win *w, uint64_t c)
{
	uint64_t fd, bk;

	if (c + 32 > w->data_end)
		return true; /* not read: the successor's check decides */
	fd = rd64(w->data + (c - w->start) + 16);
	bk = rd64(w->data + (c - w->start) + 24);
	if ((fd & 7) || (bk & 7) || fd < 4096 || bk < 4096 || fd >> 47 || bk >> 47)
		return false;
	if (w->main_arena || !w->nheaps)
		return true;
	return bsearch(&fd, w->heaps, w->nheaps, sizeof(*w->heaps), cmp_heap) &&
	       bsearch(&bk, w->heaps, w->nheaps, sizeof(*w->heaps), cmp_heap);
}

/*
 * A chain of chunks checks out from c: each header is plausible, a chunk
 * that its successor marks in use carries NON_MAIN_ARENA exactly when the
 * heap is an arena's (glibc sets it on every chunk an arena hands out),
 * and a free one's size is repeated in its successor's prev_size and it
 * has a free chunk's links (win_links). It holds
 * when 16 chunks check out, or the chain reaches the top chunk, or it runs
 * past the bytes read after one chunk at least.
 */
static bool win_chain(const struct inspect_win *w, uint64_t c)
{
	for (int k = 0; k < 16; k++) {
		uint64_t sz = win_size(w, c), n, h, nh;

		if (!sz)
			return false;
		n = c + sz;
		if (n + 16 > w->heap_end)
			return n == w->heap_end;
		if (n + 16 > w->data_end)
			return k > 0;
		h = rd64(w->data + (c - w->start) + 8);
		nh = rd64(w->data + (n - w->start) + 8);
		if (nh & PREV_INUSE) {
			if (!(h & NON_MAIN_ARENA) != w->main_arena)
				return false;
		} else if (rd64(w->data + (n - w->start)) != sz || !win_links(w, c)) {
			return false;
		}
		c = n;
	}
	return true;
}

/* The first chunk at or after from, before the window's end, where a chain checks out; 0 none. */
static uint64_t win_resync(const struct inspect_win *w, uint64_t from)
{
	for (uint64_t c = (from + 15) & ~15ULL; c < w->end; c += 16)
		if (win_chain(w, c))
			return c;
	return 0;
}

void inspect_window_settle(struct inspect_win *w, uint64_t prev_size, uint64_t size)
{
	uint64_t next = w->pending_hdr - 8, nsz = size & ~7ULL;
	bool inuse = size & PREV_INUSE;

	if (!w->pending_hdr)
		return;
	if (!inuse && !w->pending_links) {
		w->chunks--; /* free, but without a free chunk's links: not a chunk */
		w->exit = 0;
		return;
	}
	if (w->pending_unsure) {
		/* the successor is a chunk, or the top, and agrees with the guess */
		bool fits = nsz >= 32 && !(nsz & 15) && nsz <= w->heap_end - next &&
			    !(size & IS_MMAPPED) && (!w->main_arena || !(size & NON_MAIN_ARENA));

		if (fits && inuse)
			fits = !(w->pending_head & NON_MAIN_ARENA) == w->main_arena;
		else if (fits)
			fits = prev_size == w->pending_size;
		if (!fits) {
			w->chunks--;
			w->exit = 0;
			return;
		}
	}
	if (inuse)
		w->inuse_bytes += w->pending_size;
	else
		w->free_bytes += w->pending_size;
}

static int cmp_heap(const void *key, const void *elem)
{
	uint64_t v = *(const uint64_t *)key;
	const struct inspect_map *m = elem;

	return v < m->start ? -1 : v >= m->end ? 1 : 0;
}

void inspect_window(struct inspect_win *w, struct inspect_zcand **cands, size_t *ncands,
		    size_t *alloc_cands)
{
	/* heap_info (and an arena's first heap's malloc_state) precede the first chunk */
	uint64_t from = w->start == w->heap_start && !w->main_arena ? w->start + 32 : w->start;
	uint64_t c = w->known_first >= w->start ? w->known_first : win_resync(w, from), lo, hi;

	w->first = c;
	w->exit = 0;
	if (!c) {
		/*
		 * No chain checks out: the window may hold the start of one
		 * chunk too long for the bytes read. Take the first plausible
		 * header whose successor lies past them; the caller reads that
		 * successor and inspect_window_settle keeps the guess only if
		 * it fits.
		 */
		for (uint64_t g = (from + 15) & ~15ULL; g < w->end; g += 16) {
			uint64_t sz = win_size(w, g);

			if (sz && g + sz + 16 > w->data_end && g + sz + 16 <= w->heap_end) {
				w->chunks++;
				w->pending_hdr = g + sz + 8;
				w->pending_size = sz;
				w->pending_head = rd64(w->data + (g - w->start) + 8);
				w->pending_links = win_links(w, g);
				w->pending_unsure = true;
				w->first = g;
				w->exit = g + sz;
				break;
			}
		}
	}
	while (c && c < w->end) {
		uint64_t sz = win_size(w, c), n;

		if (!sz) {
			w->resyncs++;
			c = win_resync(w, c + 16);
			continue;
		}
		n = c + sz;
		if (n + 16 > w->heap_end) {
			c = w->heap_end; /* the top chunk: the heap ends with it */
			break;
		}
		w->chunks++;
		if (n + 16 > w->data_end) {
			w->pending_hdr = n + 8;
			w->pending_size = sz;
			w->pending_head = rd64(w->data + (c - w->start) + 8);
			w->pending_links = win_links(w, c);
			c = n;
			break;
		}
		if (rd64(w->data + (n - w->start) + 8) & PREV_INUSE) {
			w->inuse_bytes += sz;
		} else if (win_links(w, c)) {
			w->free_bytes += sz;
		} else {
			/* free without links: the walk lost the chunks, find them again */
			w->chunks--;
			w->resyncs++;
			c = win_resync(w, c + 16);
			continue;
		}
		c = n;
	}
	if (w->first && c)
		w->exit = c;

	if (!w->nheaps)
		return;
	lo = w->heaps[0].start;
	hi = w->heaps[w->nheaps - 1].end;
	for (uint64_t a = (w->start + 7) & ~7ULL; a < w->end && a + 12 <= w->data_end; a += 8) {
		uint64_t v = rd64(w->data + (a - w->start));
		const struct inspect_map *h;

		if ((v & 7) || v < lo || v >= hi || !zlib_status(rd32(w->data + (a - w->start) + 8)))
			continue;
		h = bsearch(&v, w->heaps, w->nheaps, sizeof(*w->heaps), cmp_heap);
		if (!h || v + 64 > h->end)
			continue;
		if (v >= w->start && v + 64 <= w->data_end) {
			if (rd64(w->data + (v - w->start) + INSPECT_ZSTREAM_STATE) == a)
				w->zlib++;
			continue;
		}
		ALLOC_GROW(*cands, *ncands + 1, *alloc_cands);
		(*cands)[(*ncands)++] = (struct inspect_zcand){a, v};
	}
}

static int cmp_str(const void *a, const void *b)
{
	const struct inspect_string *x = *(const struct inspect_string *const *)a;
	const struct inspect_string *y = *(const struct inspect_string *const *)b;
	uint64_t bx = x->count * x->len, by = y->count * y->len;

	if (bx != by)
		return bx > by ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->s, y->s);
}

size_t inspect_top_strings(const struct inspect *in, const struct inspect_string **out, size_t n)
{
	const struct inspect_string **all = xmalloc((in->nstrs + 1) * sizeof(*all));
	size_t k = 0;

	for (size_t i = 0; i < in->str_slots; i++)
		if (in->strs[i].s && in->strs[i].count > 1)
			all[k++] = &in->strs[i];
	qsort(all, k, sizeof(*all), cmp_str);
	if (k > n)
		k = n;
	memcpy(out, all, k * sizeof(*all));
	free(all);
	return k;
}

static int cmp_size(const void *a, const void *b)
{
	const struct inspect_size *x = *(const struct inspect_size *const *)a;
	const struct inspect_size *y = *(const struct inspect_size *const *)b;
	uint64_t bx = x->inuse * x->size, by = y->inuse * y->size;

	if (bx != by)
		return bx > by ? -1 : 1;
	if (x->freed * x->size != y->freed * y->size)
		return x->freed * x->size > y->freed * y->size ? -1 : 1;
	return x->size < y->size ? -1 : x->size > y->size;
}

size_t inspect_top_sizes(const struct inspect *in, const struct inspect_size **out, size_t n)
{
	const struct inspect_size **all = xmalloc((in->nsizes + 1) * sizeof(*all));
	size_t k = 0;

	for (size_t i = 0; i < in->size_slots; i++)
		if (in->sizes[i].size)
			all[k++] = &in->sizes[i];
	qsort(all, k, sizeof(*all), cmp_size);
	if (k > n)
		k = n;
	memcpy(out, all, k * sizeof(*all));
	free(all);
	return k;
}
