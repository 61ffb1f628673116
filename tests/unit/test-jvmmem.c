/* Unit tests for jvmmem's parsers of jcmd replies: VM.flags (both forms), GC.heap_info, VM.info. */
#include "jvmmem.h"
#include "tap.h"

int main(void)
{
	struct jvm_flags f;
	uint64_t lo, hi, o, r;

	ok(jvmmem_parse_flags("-XX:CICompilerCount=2 -XX:MaxHeapSize=268435456 "
			      "-XX:ReservedCodeCacheSize=251658240 -XX:ThreadStackSize=512\n",
			      &f) == 0,
	   "VM.flags parses");
	ok(f.max_heap.set && f.max_heap.val == 268435456, "MaxHeapSize");
	ok(f.thread_stack.set && f.thread_stack.val == 512, "ThreadStackSize");
	ok(!f.max_direct.set, "an absent flag stays unset");
	ok(jvmmem_parse_flags("-XX:SoftMaxHeapSize=1 -XX:MaxHeapSize=2", &f) == 0 &&
		   f.max_heap.val == 2,
	   "SoftMaxHeapSize is not MaxHeapSize");
	ok(jvmmem_parse_flags("   size_t MaxHeapSize                              = 268435456"
			      "                                 {product} {command line}\n"
			      "    uintx MaxMetaspaceSize                         = 18446744073709551615"
			      "    {product} {default}\n"
			      " uint64_t MaxDirectMemorySize                      = 0      {product}\n",
			      &f) == 0,
	   "VM.flags -all parses");
	ok(f.max_heap.val == 268435456 && f.max_metaspace.val == 18446744073709551615ULL &&
		   f.max_direct.set && f.max_direct.val == 0,
	   "table values, the unlimited metaspace too");
	ok(jvmmem_parse_flags("nothing here", &f) < 0, "no flags: -EINVAL");
	ok(jvmmem_parse_flags("-XX:MaxHeapSize=abc", &f) < 0, "a non-number is not taken");

	ok(jvmmem_parse_heap_range(" garbage-first heap   total 262144K, used 5512K "
				   "[0x00000000f0000000, 0x0000000100000000)\n region size 1024K\n",
				   &lo, &hi) == 0 &&
		   lo == 0xf0000000 && hi == 0x100000000,
	   "G1 heap range");
	ok(jvmmem_parse_heap_range(" def new generation   total 9792K, used 4389K [0x00000000fc000000, "
				   "0x00000000fcaa0000, 0x00000000fd550000)\n"
				   " tenured generation   total 21888K, used 0K [0x00000000fd550000, "
				   "0x00000000fd550000, 0x0000000100000000)\n",
				   &lo, &hi) == 0 &&
		   lo == 0xfc000000 && hi == 0x100000000,
	   "Serial: the union of the generations");
	ok(jvmmem_parse_heap_range("no range", &lo, &hi) < 0, "no range: -EINVAL");
	ok(jvmmem_parse_heap_range("[0x10, 0x", &lo, &hi) < 0, "an unclosed range is refused");

	ok(jvmmem_parse_cheap("Process Memory:\nC-Heap outstanding allocations: 23358K, retained: 2877K\n",
			      &o, &r) == 0 &&
		   o == 23358 * 1024ULL && r == 2877 * 1024ULL,
	   "C-Heap outstanding and retained");
	ok(jvmmem_parse_cheap("C-Heap outstanding allocations: lots", &o, &r) < 0,
	   "a malformed C-Heap line is refused");
	return done_testing();
}
