/* fuzz-smaps: /proc/PID/smaps and smaps_rollup text (smaps_parse, smaps_read, classify_regions). */
#include "fuzz.h"

#include <sys/mman.h>

#include "classify.h"
#include "smaps.h"
#include "snapshot.h"
#include "strbuf.h"

/* smaps_read reads in chunks: a memfd makes the chunk boundaries fall anywhere in the text. */
static void read_from_fd(const uint8_t *data, size_t size)
{
	struct region *regions = NULL;
	size_t n = 0, alloc = 0;
	struct strbuf err = STRBUF_INIT;
	int fd = memfd_create("smaps", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	lseek(fd, 0, SEEK_SET);
	smaps_read(fd, 1u << 20, &regions, &n, &alloc, &err);
	close(fd);
	for (size_t i = 0; i < n; i++)
		free(regions[i].path);
	free(regions);
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size);
	struct strbuf err = STRBUF_INIT;
	struct snapshot s;
	struct mem_counts m;

	snapshot_init(&s);
	if (!smaps_parse(text, size, &s.regions, &s.nregions, &s.alloc_regions, &err)) {
		/* what a snap does next with the regions: classify them (no threads known) */
		s.is_jvm = size && (data[0] & 1);
		/* as snapshot_take: a read of a changing map made a map again */
		smaps_reconcile(s.regions, &s.nregions);
		for (size_t i = 1; i < s.nregions; i++)
			if (s.regions[i].start < s.regions[i - 1].end ||
			    s.regions[i].start <= s.regions[i - 1].start)
				abort();
		classify_regions(&s);
	}
	snapshot_release(&s);
	strbuf_reset(&err);
	smaps_parse_rollup(text, size, &m, &err);
	strbuf_release(&err);
	read_from_fd(data, size);
	free(text);
	return 0;
}
