/* Unit tests for allocrank's culprit: which frame of a stack decided to allocate. */
#include "allocdb.h"
#include "allocrank.h"
#include "tap.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static struct alloc_stack *add_stack(struct alloc_data *d)
{
	struct alloc_stack *s;

	ALLOC_GROW(d->stacks, d->nr + 1, d->alloc);
	s = &d->stacks[d->nr];
	memset(s, 0, sizeof(*s));
	s->id = (int64_t)++d->nr;
	return s;
}

/* A frame: fn may be NULL; a "[java] " name is a Java frame (named from the perf map). */
static void add_frame(struct alloc_stack *s, const char *fn, const char *mod, uint64_t off)
{
	struct alloc_frame *f;

	ALLOC_GROW(s->frames, s->nframes + 1, s->aframes);
	f = &s->frames[s->nframes++];
	memset(f, 0, sizeof(*f));
	f->pc = 0x7f0000001000 + off;
	f->function = fn ? xstrdup(fn) : NULL;
	f->module = mod ? xstrdup(mod) : NULL;
	f->module_offset = off;
	f->jit = fn && !strncmp(fn, "[java] ", 7);
}

/* A Java frame the JVM named (the tracker's names region): class.method, file and line. */
static void add_java(struct alloc_stack *s, const char *fn, const char *file, int line)
{
	struct alloc_frame *f;

	add_frame(s, fn, NULL, 0);
	f = &s->frames[s->nframes - 1];
	f->java = true;
	f->file = file ? xstrdup(file) : NULL;
	f->line = line;
}

static const char *culprit(const struct allocrank_culprits *c, const struct alloc_stack *s)
{
	static char buf[256];

	return allocrank_site_label(c, s, buf, sizeof(buf));
}

int main(void)
{
	struct alloc_data d = { 0 };
	struct alloc_stack *zlib, *alone, *w[3], *stripped, *jdk, *getter[2], *direct, *cut, *chain;
	struct allocrank_culprits *c;
	const struct alloc_frame *via;
	static const char *const callers[] = { "load_users", "load_orders", "load_items" };

	/* GZIPInputStream kept open: zlib, JNI glue, JDK frames, then the application */
	zlib = add_stack(&d);
	add_frame(zlib, "inflateInit2_", "/usr/lib/x86_64-linux-gnu/libz.so.1", 0x10);
	add_frame(zlib, "Java_java_util_zip_Inflater_init",
		  "/usr/lib/jvm/java-17-openjdk-amd64/lib/libzip.so", 0x20);
	add_frame(zlib, "[java] long java.util.zip.Inflater.init(boolean)", NULL, 0);
	add_frame(zlib, "[java] void java.util.zip.GZIPInputStream.<init>(java.io.InputStream)",
		  NULL, 0);
	add_frame(zlib, "[java] void com.example.OrderService.parse(byte[])", NULL, 0);
	add_frame(zlib, "[java] void java.lang.Thread.run()", NULL, 0);
	/* a JDK thread with no application frame: the nearest Java frame */
	jdk = add_stack(&d);
	add_frame(jdk, "JVM_DoPrivileged", "/usr/lib/jvm/x/lib/server/libjvm.so", 0x30);
	add_frame(jdk, "[java] void java.lang.ref.Reference.processPendingReferences()", NULL, 0);
	/* make_table has one caller: it decides */
	alone = add_stack(&d);
	add_frame(alone, "make_table", "/usr/bin/app", 0x100);
	add_frame(alone, "main", "/usr/bin/app", 0x200);
	/* create_buf wraps malloc for three callers: they decide */
	for (int i = 0; i < 3; i++) {
		w[i] = add_stack(&d);
		add_frame(w[i], "malloc", "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x5);
		add_frame(w[i], "create_buf", "/usr/bin/app", 0x300);
		add_frame(w[i], callers[i], "/usr/bin/app", 0x400 + (uint64_t)i);
	}
	/* get_user has two callers but says nothing of allocating: it decides */
	for (int i = 0; i < 2; i++) {
		getter[i] = add_stack(&d);
		add_frame(getter[i], "get_user", "/usr/bin/app", 0x500);
		add_frame(getter[i], callers[i], "/usr/bin/app", 0x600 + (uint64_t)i);
	}
	/*
	 * The program's wrapper and its helper: parse_line -> xstrdup -> my_alloc,
	 * and no other caller of my_alloc in this recording
	 */
	chain = add_stack(&d);
	add_frame(chain, "malloc", "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x5);
	add_frame(chain, "my_alloc", "/usr/bin/app", 0x700);
	add_frame(chain, "xstrdup", "/usr/bin/app", 0x710);
	add_frame(chain, "parse_line", "/usr/bin/app", 0x720);
	add_frame(chain, "main", "/usr/bin/app", 0x730);
	stripped = add_stack(&d);
	add_frame(stripped, "__strdup", "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x9);
	add_frame(stripped, NULL, "/opt/app/server", 0x12cf);
	add_frame(stripped, "__libc_start_call_main", "/usr/lib/x86_64-linux-gnu/libc.so.6", 0x8);

	/* the VM's allocation for Java code, the Java frames named by the JVM (no "[java] ") */
	direct = add_stack(&d);
	add_frame(direct, "os::malloc(unsigned long, MEMFLAGS)", "/usr/lib/jvm/x/lib/server/libjvm.so", 0x40);
	add_frame(direct, "Unsafe_AllocateMemory0", "/usr/lib/jvm/x/lib/server/libjvm.so", 0x50);
	add_java(direct, "jdk.internal.misc.Unsafe.allocateMemory0", "Unsafe.java", 0);
	add_java(direct, "java.nio.ByteBuffer.allocateDirect", "ByteBuffer.java", 332);
	add_java(direct, "com.example.Cache.keep", "Cache.java", 28);
	add_java(direct, "java.lang.Thread.run", "Thread.java", 833);

	/* its Java frames cut short: the placeholder is no method of the application */
	cut = add_stack(&d);
	add_frame(cut, "os::malloc(unsigned long, MEMFLAGS)", "/usr/lib/jvm/x/lib/server/libjvm.so", 0x40);
	add_java(cut, "jdk.internal.misc.Unsafe.allocateMemory0", "Unsafe.java", 0);
	add_java(cut, "(more Java frames)", NULL, 0);

	c = allocrank_culprits_new(&d);
	is_str(culprit(c, cut), "[java] jdk.internal.misc.Unsafe.allocateMemory0 (Unsafe.java)",
	       "a stack cut short: its nearest Java method, not the placeholder");
	is_str(culprit(c, direct), "[java] com.example.Cache.keep (Cache.java:28)",
	       "the VM allocating for Java code: the application's method the JVM named");
	is_str(culprit(c, zlib), "[java] void com.example.OrderService.parse(byte[])",
	       "zlib under JNI under the JDK: the application's Java method");
	ok(allocrank_culprit(c, zlib, &via) && via &&
		   !strcmp(via->function, "[java] void java.util.zip.GZIPInputStream.<init>"
					  "(java.io.InputStream)"),
	   "... reached through GZIPInputStream.<init>");
	is_str(culprit(c, jdk), "[java] void java.lang.ref.Reference.processPendingReferences()",
	       "no application frame: the nearest Java frame, not libjvm");
	is_str(culprit(c, alone), "make_table in app", "an allocator-like name with one caller decides");
	for (int i = 0; i < 3; i++) {
		char want[64];

		snprintf(want, sizeof(want), "%s in app", callers[i]);
		is_str(culprit(c, w[i]), want, "a wrapper with three callers is passed over");
	}
	is_str(culprit(c, chain), "parse_line in app",
	       "an allocator-like function called by a wrapper is passed over with it");
	ok(allocrank_culprit(c, chain, &via) && via && !strcmp(via->function, "xstrdup"),
	   "... reached through xstrdup");
	is_str(culprit(c, getter[0]), "get_user in app",
	       "a name that does not read like an allocator decides");
	is_str(culprit(c, stripped), "0x7f00000022cf in server+0x12cf",
	       "an unnamed frame is the site, not an outer named one");
	is_str(culprit(NULL, w[0]), "create_buf in app", "without the recording, no detection");
	ok(!allocrank_culprit(c, add_stack(&d), NULL), "a stack without frames has no culprit");
	allocrank_culprits_free(c);
	allocrank_culprits_free(NULL);
	alloc_data_release(&d);
	return done_testing();
}
