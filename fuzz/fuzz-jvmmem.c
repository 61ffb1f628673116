/*
 * fuzz-jvmmem: the jcmd replies offheap jvm and doctor read: VM.flags,
 * GC.heap_info, VM.info, VM.classloader_stats, VM.stringtable,
 * GC.class_histogram.
 */
#include "fuzz.h"

#include "jvmmem.h"
#include "probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);
	struct jvm_flags f;
	uint64_t a, b;

	jvmmem_parse_flags(text, &f);
	if (!jvmmem_parse_heap_range(text, &a, &b) && a >= b)
		abort();
	jvmmem_parse_cheap(text, &a, &b);
	jvmmem_parse_metaspace(text, &a);
	{
		struct loader_stats ls;

		if (!probe_parse_loaders(text, &ls) &&
		    (ls.top_count > ls.loaders || ls.top_classes > ls.classes))
			abort();
		static const char *const cls[] = { "java.util.zip.Inflater",
						   "java.nio.DirectByteBuffer" };
		int listed = probe_flag_listed(text, "TrimNativeHeapInterval");

		probe_parse_table_entries(text, &a);
		if (probe_parse_class_count(text, cls, 2, &a) && a)
			abort(); /* not a histogram: nothing counted */
		if (listed < 0 || listed > 2)
			abort();
	}
	free(text);
	return 0;
}
