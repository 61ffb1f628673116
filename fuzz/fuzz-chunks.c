/*
 * fuzz-chunks: the glibc chunk walk of offheap inspect on a region's bytes
 * (the target's memory, so hostile chunk headers): inspect_walk_chunks as the
 * brk heap and as an arena heap, then the top sizes. Split from fuzz-inspect,
 * whose string, page and pointer scans cost far more per byte than the walk:
 * together they ran a few hundred inputs a second. The first byte picks the
 * region's alignment.
 */
#include "fuzz.h"

#include "inspect.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *bytes;
	struct inspect in;
	struct inspect_region r;
	const struct inspect_size *sz[16];
	uint64_t start = 0x7f0000000000;

	if (!size)
		return 0;
	start += data[0] & 15 ? (uint64_t)(data[0] & 15) << 3 : 0;
	bytes = (unsigned char *)fuzz_dup(data + 1, size - 1);
	r.start = start;
	r.end = start + size - 1;
	r.cls = RC_ARENA;
	r.data = bytes;
	inspect_init(&in, NULL, 0, RC_NR);
	inspect_walk_chunks(&in, &r, true);
	inspect_walk_chunks(&in, &r, false);
	inspect_top_sizes(&in, sz, 16);
	inspect_release(&in);
	free(bytes);
	return 0;
}
