/*
 * Unit tests for jvmmem's parsers of jcmd replies: VM.flags (both forms), GC.heap_info, VM.info;
 * GC.heap_info of every collector and direct memory from NMT, on real JDK 17 and 25 captures.
 */
#include "jvmmem.h"
#include "fixture.h"
#include "tap.h"

#include <stdarg.h>

#define K 1024ULL
#define M (1024ULL * 1024)

/* What each capture in tests/fixtures/jvmmem says; max 0 = not printed. */
static const struct {
	const char *file;
	uint64_t used, committed, max;
	bool range;
} heap_infos[] = {
	{ "heap_info-17-g1.txt", 1439 * K, 262144 * K, 0, true },
	{ "heap_info-17-parallel.txt", 3932 * K, (76288 + 175104) * K, 0, true },
	{ "heap_info-17-serial.txt", 5596 * K, (78656 + 174784) * K, 0, true },
	{ "heap_info-17-shenandoah.txt", 1280 * K, 256 * M, 256 * M, true },
	{ "heap_info-17-z.txt", 2 * M, 256 * M, 256 * M, false },
	{ "heap_info-25-g1.txt", 2190 * K, 262144 * K, 262144 * K, true },
	{ "heap_info-25-parallel.txt", (5242 + 1166) * K, (76288 + 175104) * K, 0, true },
	{ "heap_info-25-serial.txt", (5596 + 1166) * K, (78656 + 174784) * K, 0, true },
	{ "heap_info-25-shenandoah.txt", 2048 * K, 256 * M, 256 * M, true },
	{ "heap_info-25-z.txt", 4 * M, 256 * M, 256 * M, false },
};

/* A test description with the fixture's name in it (one at a time). */
static const char *what(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *what(const char *fmt, ...)
{
	static char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static void test_heap_info(void)
{
	struct strbuf sb = STRBUF_INIT;
	struct jvm_heap_info h;

	for (size_t i = 0; i < sizeof(heap_infos) / sizeof(heap_infos[0]); i++) {
		const char *name = heap_infos[i].file;

		fixture_load(name, &sb);
		is_int(jvmmem_parse_heap_info(sb.buf, &h), 0, what("%s parses", name));
		ok(h.have_sizes, what("%s: sizes found", name));
		is_u64(h.used, heap_infos[i].used, what("%s: used", name));
		is_u64(h.committed, heap_infos[i].committed, what("%s: committed", name));
		is_u64(h.max, heap_infos[i].max, what("%s: max", name));
		ok(h.have_range == heap_infos[i].range,
		   what("%s: range %s", name,
			heap_infos[i].range ? "found" : "absent (ZGC prints none)"));
		if (heap_infos[i].range)
			ok(h.lo == 0xf0000000 && h.hi == 0x100000000,
			   what("%s: the -Xmx256m reservation", name));
	}
	ok(jvmmem_parse_heap_info("Metaspace       used 77K, committed 320K, reserved 1114112K\n",
				  &h) < 0,
	   "metaspace alone is not the heap");
	ok(jvmmem_parse_heap_info(" ZHeap           used lots\n", &h) < 0,
	   "a ZHeap line without sizes is refused");
	strbuf_release(&sb);
}

/* Direct memory is NMT Other, 0 when NMT prints none — never Internal. */
static void test_direct(void)
{
	static const struct {
		const char *file;
		int64_t direct;
	} cases[] = {
		{ "nmt-summary-17-no-direct.txt", 0 },
		{ "nmt-summary-25-no-direct.txt", 0 },
		{ "nmt-summary-17-direct64m.txt", 64 * M },
		{ "nmt-summary-25-direct64m.txt", 64 * M },
	};
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct jvmmem j;
		struct jvm_budget b;

		jvmmem_init(&j);
		fixture_load(cases[i].file, &sb);
		is_int(nmt_parse(sb.buf, sb.len, &j.nmt, &err), 0,
		       what("%s parses", cases[i].file));
		ok(nmt_category_find(&j.nmt, "Internal") != NULL,
		   what("%s has Internal", cases[i].file));
		j.have_nmt = true;
		jvmmem_budget(&j, &b);
		is_int(b.direct, cases[i].direct, what("%s: direct memory", cases[i].file));
		jvmmem_release(&j);
	}
	strbuf_release(&sb);
	strbuf_release(&err);
}

int main(int argc, char **argv)
{
	struct jvm_flags f;
	uint64_t lo, hi, o, r;

	fixture_dir(argc > 0 ? argv[0] : "test-jvmmem", "jvmmem");
	test_heap_info();
	test_direct();

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

	/* VM.info's metaspace now: JDK 17's heap section, JDK 25's Metaspace section */
	ok(jvmmem_parse_metaspace("Event: 0.8 {metaspace Before GC invocations=0 (full 0):\n"
				  " Metaspace       used 8361K, committed 8512K, reserved 1114112K\n"
				  "}\nHeap:\n garbage-first heap   total 131072K, used 1562K\n"
				  " Metaspace       used 375K, committed 512K, reserved 1114112K\n",
				  &o) == 0 && o == 375 * 1024ULL,
	   "JDK 17: the heap section's figure, not a GC event's");
	ok(jvmmem_parse_metaspace("Metaspace:\nMetaspace        used 9510K, committed 9664K, "
				  "reserved 1114112K\n class space     used 1177K\n",
				  &o) == 0 && o == 9510 * 1024ULL,
	   "JDK 25: the Metaspace section's figure");
	ok(jvmmem_parse_metaspace("Event: 0.8 {metaspace After GC invocations=1 (full 0):\n"
				  " Metaspace       used 8361K, committed 8512K\n}\n",
				  &o) < 0,
	   "a GC event's figure alone is the past: refused");
	ok(jvmmem_parse_metaspace(" Metaspace       used lots\n", &o) < 0 &&
		   jvmmem_parse_metaspace("", &o) < 0,
	   "a malformed or missing line is refused");
	return done_testing();
}
