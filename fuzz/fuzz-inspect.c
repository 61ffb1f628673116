/*
 * fuzz-inspect: offheap inspect on a region's bytes, which are the target's
 * memory and so hostile: strings, pages, signatures, pointers (against a
 * small map of the address space), and the top strings. The chunk walk has
 * a harness of its own (fuzz-chunks). The first byte picks the region's
 * alignment.
 */
#include "fuzz.h"

#include "inspect.h"
#include "snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct inspect_map maps[] = {
		{ 0x555555554000, 0x555555600000, RC_LIB },
		{ 0x7f0000000000, 0x7f0004000000, RC_ARENA },
		{ 0x7ffff7a00000, 0x7ffff7c00000, RC_LIB },
	};
	unsigned char *bytes;
	struct inspect in;
	struct inspect_region r;
	const struct inspect_string *ts[16];
	uint64_t start = 0x7f0000000000;

	if (!size)
		return 0;
	start += data[0] & 15 ? (uint64_t)(data[0] & 15) << 3 : 0;
	bytes = (unsigned char *)fuzz_dup(data + 1, size - 1);
	r.start = start;
	r.end = start + size - 1;
	r.cls = RC_ARENA;
	r.data = bytes;
	inspect_init(&in, maps, sizeof(maps) / sizeof(maps[0]), RC_NR);
	inspect_run(&in, &r, 1);
	inspect_top_strings(&in, ts, 16);
	inspect_release(&in);
	free(bytes);
	return 0;
}
