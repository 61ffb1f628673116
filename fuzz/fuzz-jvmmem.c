/* fuzz-jvmmem: the jcmd replies offheap jvm reads: VM.flags, GC.heap_info, VM.info. */
#include "fuzz.h"

#include "jvmmem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	struct jvm_flags f;
	uint64_t a, b;

	jvmmem_parse_flags(text, &f);
	if (!jvmmem_parse_heap_range(text, &a, &b) && a >= b)
		abort();
	jvmmem_parse_cheap(text, &a, &b);
	free(text);
	return 0;
}
