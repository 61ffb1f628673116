/* Unit tests for inspect.c (strings, pages, signatures, chunk walk) and dump.c's parsers. */
#include "tap.h"

#include <stdlib.h>
#include <string.h>

#include "dump.h"
#include "inspect.h"
#include "snapshot.h"
#include "strbuf.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint64_t count_of(const struct inspect *in, const char *s, bool utf16)
{
	const struct inspect_string *top[64];
	size_t n = inspect_top_strings(in, top, 64);

	for (size_t i = 0; i < n; i++)
		if (top[i]->utf16 == utf16 && !strcmp(top[i]->s, s))
			return top[i]->count;
	return 0;
}

static void run(struct inspect *in, unsigned char *buf, size_t len, int cls)
{
	struct inspect_region r = {0x10000, 0x10000 + len, cls, buf};

	inspect_init(in, NULL, 0, RC_NR);
	inspect_run(in, &r, 1);
}

static void put_utf16(unsigned char *p, const char *s)
{
	for (; *s; s++, p += 2) {
		p[0] = (unsigned char)*s;
		p[1] = 0;
	}
}

static void test_strings(void)
{
	size_t len = 1 << 20;
	unsigned char *buf = calloc(len, 1);
	static const char *const words[3] = {"alpha-key", "\"beta\":", "gamma_gamma_gamma"};
	uint64_t want[3] = {0, 0, 0}, u16 = 0;
	struct inspect in;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = next();

		memcpy(buf + i, &v, 8);
	}
	/* at the very start and the very end, with NULs around */
	memcpy(buf, "alpha-key", 10);
	want[0]++;
	buf[len - 10] = 0;
	memcpy(buf + len - 9, "alpha-key", 9);
	want[0]++;
	for (int n = 0; n < 3000; n++) {
		size_t k = next() % 3, w = strlen(words[k]);
		size_t off = (next() % (len / 64 - 1)) * 64 + 16;

		if (off + w + 2 >= len - 16)
			continue;
		buf[off - 1] = 0;
		memcpy(buf + off, words[k], w + 1);
	}
	for (int n = 0; n < 50; n++) {
		size_t off = (next() % (len / 64 - 1)) * 64 + 31;

		buf[off - 1] = buf[off - 2] = 1;
		put_utf16(buf + off, "WideString");
		buf[off + 20] = 1;
		buf[off + 21] = 1;
	}
	for (size_t i = 0; i + 20 <= len; i++) {
		unsigned char w[20];

		put_utf16(w, "WideString");
		if (!memcmp(buf + i, w, 20) && !(buf[i - 1] == 0 && buf[i - 2] >= 0x20))
			u16++;
	}
	/* count what is really there: each word framed by NULs */
	want[0] = want[1] = want[2] = 0;
	for (size_t i = 0; i < len; i++)
		for (int k = 0; k < 3; k++) {
			size_t w = strlen(words[k]);

			if (i + w <= len && !memcmp(buf + i, words[k], w) &&
			    (i == 0 || !buf[i - 1]) && (i + w == len || !buf[i + w]))
				want[k]++;
		}
	run(&in, buf, len, -1);
	is_u64(count_of(&in, "alpha-key", false), want[0], "ascii string, at both ends too");
	is_u64(count_of(&in, "\"beta\":", false), want[1], "a JSON key");
	is_u64(count_of(&in, "gamma_gamma_gamma", false), want[2], "a long string");
	is_u64(count_of(&in, "WideString", true), u16, "UTF-16LE string");
	ok(want[0] > 500 && want[1] > 500 && want[2] > 500 && u16 >= 40,
	   "the planted strings are there");
	inspect_release(&in);
	free(buf);
}

static void test_pages(void)
{
	size_t len = 4 * 4096;
	unsigned char *buf = calloc(len, 1);
	struct inspect in;

	for (size_t i = 4096; i < 8192; i++)
		buf[i] = "The quick brown fox jumps over the lazy dog. "[i % 45];
	for (size_t i = 8192; i < 12288; i++)
		buf[i] = (unsigned char)next();
	for (size_t i = 12288; i < len; i++)
		buf[i] = (unsigned char)(i % 7 == 0 ? 0x80 : 0);
	/* signatures in the last page */
	memcpy(buf + 12300, "\x1f\x8b\x08\x00", 4);
	memcpy(buf + 12400, "\x78\x9c", 2);
	memcpy(buf + 12500, "\xca\xfe\xba\xbe\x00\x00\x00\x3d", 8);
	memcpy(buf + 12600,
	       "\x7f"
	       "ELF\x02\x01\x01",
	       7);
	memcpy(buf + 12700, "{\"key\":1}", 9);
	memcpy(buf + 12800, "<?xml version", 13);
	run(&in, buf, len, -1);
	is_u64(in.pages[IP_ZERO], 1, "one zero page");
	is_u64(in.pages[IP_TEXT], 1, "one text page");
	is_u64(in.pages[IP_RANDOM], 1, "one random page");
	is_u64(in.pages[IP_OTHER], 1, "one other page");
	is_u64(in.sigs[IS_GZIP], 1, "gzip");
	is_u64(in.sigs[IS_ZLIB], 1, "zlib");
	is_u64(in.sigs[IS_JAVA_CLASS], 1, "Java class file");
	is_u64(in.sigs[IS_ELF], 1, "ELF");
	is_u64(in.sigs[IS_JSON], 1, "JSON");
	is_u64(in.sigs[IS_XML], 1, "XML");
	inspect_release(&in);
	free(buf);
}

static void put_chunk(unsigned char *heap, size_t off, uint64_t size)
{
	memcpy(heap + off + 8, &size, 8);
}

static void test_chunks(void)
{
	size_t len = 1 << 16, off = 0;
	unsigned char *heap = calloc(len, 1);
	struct inspect in;
	struct inspect_region r = {0x20000, 0x20000 + len, RC_HEAP, heap};
	const struct inspect_size *top[8];
	size_t n;

	/* 10 in-use 48-byte chunks, one free 96-byte, 5 in-use 1040, then the top */
	for (int i = 0; i < 10; i++, off += 48)
		put_chunk(heap, off, 48 | 1);
	put_chunk(heap, off, 96 | 1);
	off += 96;
	for (int i = 0; i < 5; i++, off += 1040)
		put_chunk(heap, off, 1040 | (i ? 1 : 0)); /* i == 0: previous (96) free */
	put_chunk(heap, off, (len - off) | 1);
	inspect_init(&in, NULL, 0, RC_NR);
	inspect_walk_chunks(&in, &r, true);
	is_u64(in.nwalks, 1, "one walk");
	is_u64(in.walks[0].chunks, 16, "16 chunks before the top");
	is_str(in.walks[0].stop, "top chunk", "stops at the top chunk");
	is_u64(in.walks[0].top_size, len - off, "top size");
	n = inspect_top_sizes(&in, top, 8);
	is_u64(n, 3, "three sizes");
	is_u64(top[0]->size, 1040, "1040 first by bytes in use");
	is_u64(top[0]->inuse, 5, "five of them");
	is_u64(top[2]->size, 96, "96 last");
	is_u64(top[2]->freed, 1, "free");
	inspect_release(&in);

	/* a broken header: stops, never runs off */
	put_chunk(heap, 48 * 3, 7);
	inspect_init(&in, NULL, 0, RC_NR);
	inspect_walk_chunks(&in, &r, true);
	is_str(in.walks[0].stop, "implausible chunk header", "stops at a bad size");
	is_u64(in.walks[0].chunks, 3, "three chunks before it");
	inspect_release(&in);

	/* an arena heap: heap_info + malloc_state, then chunks with NON_MAIN_ARENA */
	memset(heap, 0xee, len);
	off = 2240;
	for (int i = 0; i < 20; i++, off += 64)
		put_chunk(heap, off, 64 | 4 | 1);
	put_chunk(heap, off, (len - off) | 1); /* glibc leaves NON_MAIN_ARENA off the top */
	r.cls = RC_ARENA;
	inspect_init(&in, NULL, 0, RC_NR);
	inspect_walk_chunks(&in, &r, false);
	is_u64(in.walks[0].first, r.start + 2240, "arena: first chunk found after the header");
	is_u64(in.walks[0].chunks, 20, "arena: 20 chunks");
	is_str(in.walks[0].stop, "top chunk", "arena: stops at the top");
	is_u64(in.walks[0].top_size, len - off, "arena: top size");
	is_u64(in.walks[0].stop_addr, r.start + off, "arena: top address");
	inspect_release(&in);

	/* a shrunk arena heap: heap_info.size ends it before the mapping does */
	memset(heap, 0, len);
	off = 2240;
	{
		uint64_t hsize = len / 2;

		memcpy(heap + 16, &hsize, 8);
		for (int i = 0; i < 10; i++, off += 64)
			put_chunk(heap, off, 64 | 4 | 1);
		put_chunk(heap, off, (hsize - off) | 1);
		inspect_init(&in, NULL, 0, RC_NR);
		inspect_walk_chunks(&in, &r, false);
		is_u64(in.walks[0].chunks, 10, "shrunk arena: 10 chunks");
		is_str(in.walks[0].stop, "top chunk", "shrunk arena: the top ends at heap_info.size");
		is_u64(in.walks[0].top_size, hsize - off, "shrunk arena: top size");
		inspect_release(&in);
	}

	/* all garbage: no first chunk */
	memset(heap, 0xff, len);
	inspect_init(&in, NULL, 0, RC_NR);
	inspect_walk_chunks(&in, &r, false);
	is_u64(in.walks[0].first, 0, "garbage: no first chunk");
	inspect_release(&in);
	free(heap);
}

static void put64(unsigned char *heap, size_t off, uint64_t v)
{
	memcpy(heap + off, &v, 8);
}

static uint64_t get64(const unsigned char *heap, size_t off)
{
	uint64_t v;

	memcpy(&v, heap + off, 8);
	return v;
}

/*
 * An arena heap laid out as glibc would: Inflater-like triples (a 128-byte
 * z_stream whose state field points at a 7184-byte state whose first word
 * points back, then a 32 KiB window) among filler chunks of any size, some
 * of them free (size repeated in the next chunk's prev_size, PREV_INUSE
 * clear, fd and bk into the heap), and large chunks in use whose payload
 * looks like a run of free 256-byte chunks but for their links, then the
 * top. Cut into windows of several sizes, inspect_window must find what
 * the whole walk finds, and every state, once.
 */
static void test_windows(void)
{
	const size_t len = 8u << 20, first = 2240;
	const uint64_t base = 0x7f0004000000ULL;
	unsigned char *heap = malloc(len);
	struct inspect_map hm = {base, base + len, RC_ARENA};
	struct inspect_region r = {base, base + len, RC_ARENA, heap};
	struct inspect in;
	uint64_t states = 0, prev_size = 0, off = first, large = 0;
	bool prev_free = false;

	memset(heap, 0x5a, len);
	memset(heap, 0, first);
	put64(heap, 16, len); /* heap_info.size */
	while (off + 200000 < len) {
		uint64_t pick = next() % 8, sz;
		bool free_it = !prev_free && pick == 0;

		if (pick == 1) {
			/* z_stream, state, window: in use, in a row */
			uint64_t zs = off, st = off + 128;

			put64(heap, zs + 8, 128 | 4 | (prev_free ? 0 : 1));
			if (prev_free)
				put64(heap, zs, prev_size);
			put64(heap, st + 8, 7184 | 4 | 1);
			put64(heap, st + 7184 + 8, 32816 | 4 | 1);
			put64(heap, zs + 16 + INSPECT_ZSTREAM_STATE, base + st + 16);
			put64(heap, st + 16, base + zs + 16);
			memcpy(heap + st + 24, &(uint32_t){16180}, 4);
			off = st + 7184 + 32816;
			states++;
			prev_free = false;
			continue;
		}
		if (pick == 3 && off + 300000 + 200000 >= len)
			pick = 4; /* no room for a large one */
		sz = pick == 2 ? 100000 : pick == 3 ? 300000 : 32 + (next() % 4000) * 16;
		if (pick == 3) {
			free_it = false;
			large++;
			/* payload: fake free chunks, prev_size and size 256, links no pointers */
			for (uint64_t u = off + 16; u + 32 <= off + sz; u += 256) {
				put64(heap, u, 256);
				put64(heap, u + 8, 256 | 4);
				put64(heap, u + 16, 0x4141414141414141ULL);
				put64(heap, u + 24, 0x20);
			}
		}
		put64(heap, off + 8, sz | (free_it ? 0 : 4) | (prev_free ? 0 : 1));
		if (prev_free)
			put64(heap, off, prev_size);
		if (free_it) {
			put64(heap, off + 16, base + first); /* fd, bk: a bin's neighbours */
			put64(heap, off + 24, base + off);
		}
		prev_free = free_it;
		prev_size = sz;
		off += sz;
	}
	/* the last chunk before the top is in use */
	put64(heap, off + 8, 64 | 4 | (prev_free ? 0 : 1));
	if (prev_free)
		put64(heap, off, prev_size);
	off += 64;
	put64(heap, off + 8, (len - off) | 1);

	inspect_init(&in, NULL, 0, RC_NR);
	inspect_walk_chunks(&in, &r, false);
	ok(!strcmp(in.walks[0].stop, "top chunk"), "windows: the whole walk reaches the top");
	for (size_t wsz = 4096; wsz <= (2u << 20); wsz *= 8) {
		uint64_t chunks = 0, inuse = 0, freed = 0, zlib = 0, resyncs = 0;
		struct inspect_zcand *c = NULL;
		size_t nc = 0, ac = 0;
		char what[96];

		for (uint64_t a = base; a < base + len; a += wsz) {
			struct inspect_win w;
			uint64_t end = a + wsz < base + len ? a + wsz : base + len;

			memset(&w, 0, sizeof(w));
			w.start = a;
			w.end = end;
			w.data = heap + (a - base);
			w.data_end = end + 4096 < base + len ? end + 4096 : base + len;
			w.heap_start = base;
			w.heap_end = base + len;
			w.heaps = &hm;
			w.nheaps = 1;
			nc = 0;
			inspect_window(&w, &c, &nc, &ac);
			for (size_t k = 0; k < nc; k++)
				if (get64(heap, c[k].strm + INSPECT_ZSTREAM_STATE - base) == c[k].state)
					w.zlib++;
			if (w.pending_hdr)
				inspect_window_settle(&w, get64(heap, w.pending_hdr - 8 - base),
						      get64(heap, w.pending_hdr - base));
			chunks += w.chunks;
			inuse += w.inuse_bytes;
			freed += w.free_bytes;
			zlib += w.zlib;
			resyncs += w.resyncs;
		}
		snprintf(what, sizeof(what), "windows of %zu: the chunks of the whole walk", wsz);
		is_u64(chunks, in.walks[0].chunks, what);
		snprintf(what, sizeof(what), "windows of %zu: its bytes in use", wsz);
		is_u64(inuse, in.walks[0].inuse_bytes, what);
		snprintf(what, sizeof(what), "windows of %zu: its free bytes", wsz);
		is_u64(freed, in.walks[0].free_bytes, what);
		snprintf(what, sizeof(what), "windows of %zu: every zlib state once", wsz);
		is_u64(zlib, states, what);
		snprintf(what, sizeof(what), "windows of %zu: no header to walk past", wsz);
		is_u64(resyncs, 0, what);
		free(c);
	}
	ok(states > 5 && in.walks[0].free_bytes > 0 && large > 0,
	   "windows: the heap has states, free chunks and large ones with fake chunks inside");
	printf("# %" PRIu64 " states, %" PRIu64 " free bytes, %" PRIu64 " large\n", states,
	       in.walks[0].free_bytes, large);
	inspect_release(&in);
	free(heap);
}

static void test_parsers(void)
{
	uint64_t a, b;
	struct dump_sidecar sc;
	struct strbuf err = STRBUF_INIT;
	const char *good = "{\"format\": \"offheap-dump-1\", \"pid\": 42, \"partial\": false, "
			   "\"bytes\": 8192, \"regions\": [{\"start\": 4096, \"end\": 8192, "
			   "\"file_offset\": 0, \"class\": \"heap\", \"path\": \"[he}ap\\\"]\"}, "
			   "{\"start\": 65536, \"end\": 69632, \"file_offset\": 4096, \"class\": "
			   "\"arena\"}], \"holes\": [{\"start\": 1, \"end\": 2}]}";

	ok(!dump_parse_range("7f00+4K", &a, &b) && a == 0x7f00 && b == 0x7f00 + 4096, "START+SIZE");
	ok(!dump_parse_range("0x1000-0x2000", &a, &b) && a == 0x1000 && b == 0x2000, "START-END");
	ok(!dump_parse_range("1000+0x10", &a, &b) && b == 0x1010, "START+0xLEN");
	ok(dump_parse_range("2000-1000", &a, &b) < 0, "END before START");
	ok(dump_parse_range("zz-1000", &a, &b) < 0, "not hex");
	ok(dump_parse_range("1000", &a, &b) < 0, "no END");
	ok(dump_parse_range("ffffffffffffffff+2", &a, &b) < 0, "wraps");
	ok(dump_parse_range("1+0", &a, &b) < 0, "empty");

	ok(!dump_sidecar_parse(good, strlen(good), &sc, &err), "a good sidecar");
	is_u64(sc.nranges, 2, "two ranges");
	is_int(sc.ranges[1].cls, RC_ARENA, "class");
	is_u64(sc.nholes, 1, "one hole");
	is_int((int)sc.pid, 42, "pid");
	dump_sidecar_release(&sc);
	/* every prefix of a good sidecar is bad, and none crashes */
	for (size_t n = 0; n + 1 < strlen(good); n++) {
		strbuf_reset(&err);
		if (!dump_sidecar_parse(good, n, &sc, &err)) {
			ok(0, "a prefix parsed");
			dump_sidecar_release(&sc);
			break;
		}
	}
	ok(1, "no prefix parses");
	strbuf_release(&err);
}

int main(void)
{
	test_strings();
	test_pages();
	test_chunks();
	test_windows();
	test_parsers();
	return done_testing();
}
