/*
 * fuzz-window: one window of a malloc heap as the malloc probe samples it
 * (src/analysis/mallocprobe.c): inspect_window on hostile bytes, its chunk
 * walk with resynchronisation, the settling of its last chunk (with the first
 * two words of the input as the header read past it) and its zlib state scan. The first byte picks
 * the alignment, whether the heap is the brk heap and whether the window
 * opens the heap; the second where the window ends inside the bytes (the
 * rest is the margin read past it); with bit 6 of the first byte the walk
 * starts at a chunk said to be known (as chain_windows asks). Aborts when a
 * result leaves the heap, or the walk's end lies before its start.
 */
#include "fuzz.h"

#include "inspect.h"
#include "snapshot.h"

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inspect_map heaps[2];
	struct inspect_zcand *c = NULL;
	struct inspect_win w;
	unsigned char *bytes;
	size_t nc = 0, ac = 0, len;
	uint64_t base = 0x7f0000000000;

	if (size < 3)
		return 0;
	len = size - 2;
	bytes = (unsigned char *)fuzz_dup(data + 2, len);
	memset(&w, 0, sizeof(w));
	w.start = base + (data[0] & 7) * 8 + ((data[0] & 8) ? 0 : 4096);
	w.data = bytes;
	w.data_end = w.start + len;
	w.end = w.start + len * data[1] / 255;
	w.heap_start = (data[0] & 8) ? w.start : base;
	w.heap_end = w.data_end + ((data[0] & 32) ? 0 : 4096);
	w.main_arena = data[0] & 16;
	heaps[0] = (struct inspect_map){ base - 0x10000, base - 0x8000, RC_ARENA };
	heaps[1] = (struct inspect_map){ w.heap_start, w.heap_end, RC_ARENA };
	w.heaps = heaps;
	w.nheaps = 2;
	if (data[0] & 64)
		w.known_first = w.heap_start + ((uint64_t)data[1] * 16) % (w.heap_end - w.heap_start);
	inspect_window(&w, &c, &nc, &ac);
	if (w.exit && (w.exit < w.first || w.exit > w.heap_end))
		abort();
	if (w.inuse_bytes + w.free_bytes + w.pending_size > w.heap_end - w.heap_start)
		abort();
	if (w.pending_hdr && (w.pending_hdr < w.data_end - 8 || w.pending_hdr >= w.heap_end))
		abort();
	if (w.pending_hdr && len >= 16)
		inspect_window_settle(&w, get_u64(bytes), get_u64(bytes + 8));
	if (w.inuse_bytes + w.free_bytes > w.heap_end - w.heap_start)
		abort();
	for (size_t i = 0; i < nc; i++)
		if (c[i].state < w.start || c[i].state >= w.end || !(c[i].strm >= heaps[0].start))
			abort();
	free(c);
	free(bytes);
	return 0;
}
