/* Unit tests for hsperf: recorded hsperfdata of JDK 17 and 25, and hostile variants of it. */
#include "hsperf.h"
#include "strbuf.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *load(const char *name, size_t *len)
{
	const char *dir = getenv("FIXTURES");
	char path[4096];
	unsigned char *buf = malloc(1 << 20);
	FILE *f;

	snprintf(path, sizeof(path), "%s/hsperf/%s", dir ? dir : "tests/fixtures", name);
	f = fopen(path, "rb");
	if (!f || !buf) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

static void put32(unsigned char *p, uint32_t v)
{
	/* The fixtures are little-endian. */
	p[0] = v & 0xff;
	p[1] = v >> 8 & 0xff;
	p[2] = v >> 16 & 0xff;
	p[3] = v >> 24;
}

/* Parses a modified copy of buf; returns hsperf_parse's result. */
static int parse_copy(struct hsperf *h, const unsigned char *buf, size_t len, struct strbuf *err)
{
	strbuf_reset(err);
	return hsperf_parse(h, buf, len, err);
}

static void test_jdk17(void)
{
	struct hsperf h = HSPERF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct hsperf_vm vm;
	size_t len;
	unsigned char *buf = load("jdk17-g1-nmt.hsperf", &len);
	int64_t v = 0;
	char *s;

	is_int(hsperf_parse(&h, buf, len, &err), 0, "jdk17: parses");
	is_int(h.num_entries, 187, "jdk17: 187 entries in the prologue");
	is_u64(h.nr, 187, "jdk17: all 187 parsed");
	ok(!h.partial && !h.big_endian && h.major == 2 && h.minor == 0, "jdk17: LE, version 2.0");
	ok(!hsperf_get_long(&h, "sun.os.hrt.frequency", &v) && v == 1000000000,
	   "jdk17: hrt frequency 1 GHz");
	ok(!hsperf_get_long(&h, "sun.ci.nmethodCodeSize", &v) && v == 1068160,
	   "jdk17: nmethodCodeSize");
	is_int(hsperf_get_long(&h, "no.such.counter", &v), -ENOENT, "jdk17: absent counter");
	is_int(hsperf_get_long(&h, "java.rt.vmArgs", &v), -EINVAL, "jdk17: string is not a long");
	s = hsperf_get_string(&h, "sun.gc.collector.2.name");
	is_str(s, "G1 concurrent cycle pauses", "jdk17: G1 has collector 2");
	free(s);
	ok(hsperf_get_string(&h, "java.threads.live") == NULL, "jdk17: a long is not a string");
	is_int(hsperf_nmt(&h), HSPERF_NMT_SUMMARY, "jdk17: NMT summary from vmArgs");
	hsperf_vm_info(&h, &vm);
	ok(vm.threads_live == 6 && vm.threads_daemon == 5 && vm.threads_peak == 6 &&
	   vm.threads_started == 6, "jdk17: threads live/daemon/peak/started");
	ok(vm.classes_loaded == 1481 + 809 && vm.classes_unloaded == 0, "jdk17: classes, with the shared ones");
	ok(vm.metaspace_capacity == 0 && vm.ccs_used == 0, "jdk17: metaspace before any GC");
	ok(vm.start_time_ms == 1795280524978, "jdk17: VM start time");
	ok(vm.uptime_ms == 9058, "jdk17: uptime from hrt ticks");
	is_int(hsperf_uptime_ms(&h, 1795280524978 + 60000), 9058,
	       "jdk17: the ticks win over the clock");
	is_str(vm.vm_version, "17.0.15+6-Debian-1deb12u1", "jdk17: VM version");
	is_str(vm.vm_name, "OpenJDK 64-Bit Server VM", "jdk17: VM name");
	is_str(vm.command, "jdk.compiler/com.sun.tools.javac.launcher.Main Idle.java 900000",
	       "jdk17: java command");
	hsperf_vm_release(&vm);
	hsperf_release(&h);
	strbuf_release(&err);
	free(buf);
}

static void test_jdk25(void)
{
	struct hsperf h = HSPERF_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t len;
	unsigned char *buf = load("jdk25-parallel.hsperf", &len);
	struct hsperf_vm vm;
	int64_t v;
	char *s;

	is_int(hsperf_parse(&h, buf, len, &err), 0, "jdk25: parses");
	is_u64(h.nr, 206, "jdk25: 206 entries");
	is_int(hsperf_nmt(&h), HSPERF_NMT_OFF, "jdk25: NMT off without the flag");
	is_int(hsperf_get_long(&h, "sun.gc.collector.2.invocations", &v), -ENOENT,
	       "jdk25: ParallelGC has no collector 2");
	s = hsperf_get_string(&h, "java.property.java.vm.version");
	is_str(s, "25.0.3+9-LTS", "jdk25: VM version");
	free(s);
	/* JDK 25 exports no sun.os.hrt.ticks (JDK-8241678): the age counts from the VM's start. */
	is_int(hsperf_get_long(&h, "sun.os.hrt.ticks", &v), -ENOENT, "jdk25: no hrt ticks");
	is_int(hsperf_uptime_ms(&h, 1795280524978 + 7500), 7500,
	       "jdk25: uptime from createVmBeginTime");
	is_int(hsperf_uptime_ms(&h, 1795280524978 - 1000), 0,
	       "jdk25: a clock set back gives 0, not a negative age");
	is_int(hsperf_uptime_ms(&h, -1), -1, "jdk25: no clock, no ticks: unknown");
	hsperf_vm_info(&h, &vm);
	is_int(vm.uptime_ms, -1, "jdk25: a parsed buffer was not written now: uptime unknown");
	hsperf_vm_release(&vm);
	hsperf_release(&h);
	strbuf_release(&err);
	free(buf);
}

/*
 * fuzz/regress/hsperf/vm-info-sum-overflow: loaded and shared class counts whose
 * sum overflows int64 (UBSan in hsperf_vm_info); the sum is held at the maximum.
 */
static void test_sum_overflow(void)
{
	struct hsperf h = HSPERF_INIT;
	struct strbuf err = STRBUF_INIT;
	struct hsperf_vm vm;
	unsigned char *buf = malloc(1 << 16);
	FILE *f = fopen("fuzz/regress/hsperf/vm-info-sum-overflow", "rb");
	size_t len = f && buf ? fread(buf, 1, 1 << 16, f) : 0;
	int64_t a = 0, b = 0;

	if (f)
		fclose(f);
	is_int(hsperf_parse(&h, buf, len, &err), 0, "the overflowing counters parse");
	ok(!hsperf_get_long(&h, "java.cls.loadedClasses", &a) &&
	   !hsperf_get_long(&h, "java.cls.sharedLoadedClasses", &b) && a > INT64_MAX - b,
	   "their sum is beyond int64");
	hsperf_vm_info(&h, &vm);
	ok(vm.classes_loaded == INT64_MAX, "classes loaded: held at the maximum, not wrapped");
	ok(vm.uptime_ms >= -1, "uptime: not wrapped either");
	hsperf_vm_release(&vm);
	hsperf_release(&h);
	strbuf_release(&err);
	free(buf);
}

static void test_hostile(void)
{
	struct hsperf h = HSPERF_INIT;
	struct strbuf err = STRBUF_INIT;
	size_t len;
	unsigned char *orig = load("jdk17-g1-nmt.hsperf", &len);
	unsigned char *b = malloc(len);
	uint32_t first_len = orig[32] | orig[33] << 8 | orig[34] << 16 | (uint32_t)orig[35] << 24;
	unsigned seed = 42;
	int crashes = 0;

	memcpy(b, orig, len);
	b[0] = 0xcb;
	is_int(parse_copy(&h, b, len, &err), -EPROTO, "bad magic refused");
	ok(strstr(err.buf, "magic") != NULL, "bad magic: says so");

	memcpy(b, orig, len);
	b[5] = 3;
	is_int(parse_copy(&h, b, len, &err), -EPROTO, "version 3 refused");

	memcpy(b, orig, len);
	b[4] = 7;
	is_int(parse_copy(&h, b, len, &err), -EPROTO, "bad byte order refused");

	memcpy(b, orig, len);
	b[7] = 0;
	is_int(parse_copy(&h, b, len, &err), -EAGAIN, "not yet accessible");

	is_int(parse_copy(&h, orig, 31, &err), -EPROTO, "shorter than the prologue");
	is_int(parse_copy(&h, orig, 0, &err), -EPROTO, "empty file");

	memcpy(b, orig, len);
	put32(b + 24, 1u << 30);
	is_int(parse_copy(&h, b, len, &err), -EPROTO, "entry offset past the end refused");
	put32(b + 24, 4);
	is_int(parse_copy(&h, b, len, &err), -EPROTO, "entry offset inside the prologue refused");

	memcpy(b, orig, len);
	put32(b + 28, 0x7fffffff);
	is_int(parse_copy(&h, b, len, &err), 0, "huge num_entries: parses");
	ok(h.nr == 187 && h.partial, "huge num_entries: walk stops at the real end");

	memcpy(b, orig, len);
	put32(b + 28, (uint32_t)-5);
	is_int(parse_copy(&h, b, len, &err), -EPROTO, "negative num_entries refused");

	/* Truncated in the middle of the entries: what is whole is kept. */
	is_int(parse_copy(&h, orig, 4000, &err), 0, "truncated: parses");
	ok(h.partial && h.nr > 10 && h.nr < 187, "truncated: a prefix of the entries");
	ok(hsperf_lookup(&h, "sun.os.hrt.ticks") == NULL, "truncated: later entries absent");

	memcpy(b, orig, len);
	put32(b + 32, 0);
	is_int(parse_copy(&h, b, len, &err), 0, "entry_length 0: no loop");
	ok(h.partial && h.nr == 0, "entry_length 0: nothing parsed");

	memcpy(b, orig, len);
	put32(b + 32, 0x7ffffff0);
	is_int(parse_copy(&h, b, len, &err), 0, "entry_length past the end");
	ok(h.partial && h.nr == 0, "entry_length past the end: nothing parsed");

	memcpy(b, orig, len);
	put32(b + 36, 0x7ffffff0);
	ok(!parse_copy(&h, b, len, &err) && h.nr == 0, "name offset past the end");
	put32(b + 36, (uint32_t)-8);
	ok(!parse_copy(&h, b, len, &err) && h.nr == 0, "negative name offset");

	memcpy(b, orig, len);
	put32(b + 48, 0x7ffffff0);
	ok(!parse_copy(&h, b, len, &err) && h.nr == 0, "data offset past the end");

	/* Unterminated name: fill the first entry's name up to its end. */
	memcpy(b, orig, len);
	memset(b + 32 + 20, 'x', first_len - 20);
	ok(!parse_copy(&h, b, len, &err) && h.nr == 0, "unterminated name refused");

	/* A string longer than its entry. */
	{
		const struct hsperf_entry *e;
		size_t off;

		is_int(parse_copy(&h, orig, len, &err), 0, "reparse");
		e = hsperf_lookup(&h, "java.rt.vmArgs");
		off = (size_t)((const unsigned char *)e->name - h.data);
		/* Back to the entry start: the name follows the 20-byte header. */
		off -= 20;
		memcpy(b, orig, len);
		put32(b + off + 8, 1u << 20);
		ok(!parse_copy(&h, b, len, &err) && h.partial && !hsperf_lookup(&h, "java.rt.vmArgs"),
		   "string vector past its entry refused");
	}

	/* Unterminated string value: returned with its length, still terminated for us. */
	{
		const struct hsperf_entry *e;
		size_t doff;
		char *s;

		parse_copy(&h, orig, len, &err);
		e = hsperf_lookup(&h, "sun.rt.javaCommand");
		doff = (size_t)((const unsigned char *)e->str - h.data);
		memcpy(b, orig, len);
		/* vector_length of the entry, from its header before the name */
		{
			size_t eoff = (size_t)((const unsigned char *)e->name - h.data) - 20;
			uint32_t vl = b[eoff + 8] | b[eoff + 9] << 8;

			memset(b + doff, 'A', vl);
		}
		parse_copy(&h, b, len, &err);
		s = hsperf_get_string(&h, "sun.rt.javaCommand");
		ok(s && strspn(s, "A") == strlen(s) && strlen(s) > 0, "unterminated string bounded");
		free(s);
	}

	/* Random corruption: never a crash, never past the buffer (run under ASan too). */
	for (int i = 0; i < 3000; i++) {
		memcpy(b, orig, len);
		for (int k = 0; k < 8; k++) {
			seed = seed * 1103515245 + 12345;
			size_t pos = (seed >> 8) % 4096;

			seed = seed * 1103515245 + 12345;
			b[pos] = (unsigned char)(seed >> 16);
		}
		strbuf_reset(&err);
		if (hsperf_parse(&h, b, len - (i % 7) * 1000, &err) == 0) {
			(void)hsperf_nmt(&h);
			for (size_t k = 0; k < h.nr; k++)
				if (h.entries[k].type == 'B' && h.entries[k].str_len > len)
					crashes++;
		}
	}
	is_int(crashes, 0, "3000 random corruptions: every value within the buffer");

	hsperf_release(&h);
	strbuf_release(&err);
	free(b);
	free(orig);
}

int main(void)
{
	test_jdk17();
	test_jdk25();
	test_sum_overflow();
	test_hostile();
	return done_testing();
}
