/*
 * fuzz-maps: /proc/PID/maps lines. offheap reads them with the smaps header
 * parser (a maps file is an smaps file without field lines) and, to find a
 * JVM, by looking for libjvm.so in the text (pslist, attach: strstr on a
 * NUL-terminated buffer, nothing to fuzz). The module list the symbolizer
 * reads is parsed by libdwfl (dwfl_linux_proc_maps_report), not by us.
 */
#include "fuzz.h"

#include "classify.h"
#include "smaps.h"
#include "snapshot.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size);
	struct strbuf err = STRBUF_INIT;
	struct snapshot s;

	snapshot_init(&s);
	if (!smaps_parse(text, size, &s.regions, &s.nregions, &s.alloc_regions, &err)) {
		s.is_jvm = true;
		classify_regions(&s);
	}
	snapshot_release(&s);
	strbuf_release(&err);
	free(text);
	return 0;
}
