/* fuzz-hsperf: hsperfdata files (hsperf_parse) and what offheap reads from them. */
#include "fuzz.h"

#include "hsperf.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hsperf h = HSPERF_INIT;
	struct strbuf err = STRBUF_INIT;

	if (!hsperf_parse(&h, data, size, &err)) {
		struct hsperf_vm vm;
		int64_t v;
		char *s;

		hsperf_vm_info(&h, &vm);
		hsperf_vm_release(&vm);
		hsperf_nmt(&h);
		hsperf_get_long(&h, "sun.gc.generation.0.capacity", &v);
		s = hsperf_get_string(&h, "java.rt.vmArgs");
		free(s);
		for (size_t i = 0; i < h.nr; i++) {
			const struct hsperf_entry *e = &h.entries[i];

			/* every name and string must lie inside the copy */
			if (strlen(e->name) >= h.size)
				abort();
			if (e->type == 'B' && e->str_len && e->str[e->str_len - 1] == '\0')
				abort();
		}
	}
	hsperf_release(&h);
	strbuf_release(&err);
	return 0;
}
