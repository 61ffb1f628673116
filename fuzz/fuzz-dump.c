/* fuzz-dump: the sidecar of a dump file (offheap inspect reads it back: dump_sidecar_parse). */
#include "fuzz.h"

#include "dump.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size);
	struct dump_sidecar sc;
	struct strbuf err = STRBUF_INIT;

	memset(&sc, 0, sizeof(sc));
	if (!dump_sidecar_parse(text, size, &sc, &err)) {
		uint64_t off = 0;

		/* the contract: ascending, contiguous in the file */
		for (size_t i = 0; i < sc.nranges; i++) {
			if (sc.ranges[i].start >= sc.ranges[i].end || sc.ranges[i].file_offset != off)
				abort();
			off += sc.ranges[i].end - sc.ranges[i].start;
		}
	}
	dump_sidecar_release(&sc);
	strbuf_release(&err);
	free(text);
	return 0;
}
