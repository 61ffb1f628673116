/* fuzz-perfmap: the JVM's /tmp/perf-PID.map (perfmap_parse, lookups, frame names). */
#include "fuzz.h"

#include "perfmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size);
	struct perfmap m = { 0 };
	size_t skipped = 0;
	char name[256];

	if (!perfmap_parse(&m, text, size, &skipped)) {
		for (size_t i = 0; i < m.nr; i++) {
			const struct perfmap_entry *e = &m.v[i];

			if (!e->size || e->start + e->size < e->start)
				abort();
			if (perfmap_find(&m, e->start) == NULL)
				abort();
			perfmap_find(&m, e->start + e->size - 1);
			perfmap_find(&m, e->start - 1);
			perfmap_frame_name(e, name, sizeof(name));
		}
	}
	perfmap_release(&m);
	free(text);
	return 0;
}
