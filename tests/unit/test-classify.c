/* Unit tests for classify: classes from paths, arenas, thread stacks from stack pointers. */
#include "classify.h"
#include "tap.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define MiB (1ULL << 20)

static struct snapshot s;

static struct region *add(uint64_t start, uint64_t end, const char *perms, const char *path)
{
	struct region *r;

	ALLOC_GROW(s.regions, s.nregions + 1, s.alloc_regions);
	r = &s.regions[s.nregions++];
	memset(r, 0, sizeof(*r));
	r->start = start;
	r->end = end;
	memcpy(r->perms, perms, 4);
	r->path = xstrdup(path);
	r->m.size = end - start;
	return r;
}

int main(void)
{
	struct thread threads[2] = { { 100, "main", 0 }, { 101, "pool-grower", 0x7f0000105000 } };
	struct region *r;

	snapshot_init(&s);
	s.pid = 100;
	s.exe = xstrdup("/opt/app/server");
	s.cmdline = xstrdup("");
	add(0x400000, 0x401000, "r-xp", "/opt/app/server");			/* 0 */
	add(0x401000, 0x402000, "r--p", "/opt/app/data.bin");			/* 1 */
	add(0x500000, 0x600000, "rw-p", "[heap]");				/* 2 */
	add(0x7c0000000000, 0x7c0000000000 + 2 * MiB, "rw-p", "");		/* 3 arena */
	add(0x7c0000000000 + 2 * MiB, 0x7c0000000000 + 64 * MiB, "---p", "");	/* 4 reserve */
	add(0x7c0008000000, 0x7c0008000000 + 64 * MiB, "rw-p", "");		/* 5 full arena */
	add(0x7c0010000000, 0x7c0010000000 + 2 * MiB, "rw-p", "");		/* 6 aligned, 32 MiB */
	add(0x7c0010000000 + 2 * MiB, 0x7c0010000000 + 32 * MiB, "---p", "");	/* 7 */
	add(0x7f0000000000, 0x7f0000001000, "---p", "");			/* 8 guard */
	add(0x7f0000001000, 0x7f0000801000, "rw-p", "");			/* 9 stack 101 */
	add(0x7f1000000000, 0x7f1000010000, "r--s", "/dev/shm/buf");		/* 10 */
	add(0x7f1000010000, 0x7f1000020000, "rw-s", "");			/* 11 */
	add(0x7f1000020000, 0x7f1000030000, "r-xp", "/usr/lib/libz.so.1.2.13");	/* 12 */
	add(0x7f1000030000, 0x7f1000040000, "r--s", "/usr/lib/jvm/lib/modules");	/* 13 */
	add(0x7f1000040000, 0x7f1000050000, "r--p", "/srv/app.jar");		/* 14 */
	add(0x7f1000050000, 0x7f1000060000, "r-xp", "/usr/lib/jvm/lib/server/libjvm.so"); /* 15 */
	add(0x7f1000060000, 0x7f1000070000, "rw-p", "[anon:java heap]");	/* 16 */
	add(0x7f1000070000, 0x7f1000072000, "r-xp", "[vdso]");			/* 17 */
	add(0x7f1000080000, 0x7f1000090000, "rw-p", "/memfd:jit (deleted)");	/* 18 */
	add(0x7ffd00000000, 0x7ffd00021000, "rw-p", "[stack]");		/* 19 */
	add(0x7ffe00000000, 0x7ffe00001000, "r--p", "/opt/bin/tool");		/* 20 */
	add(0x7ffe00001000, 0x7ffe00002000, "r-xp", "/opt/bin/tool");		/* 21 */
	s.threads = threads;
	s.nthreads = 2;
	classify_regions(&s);
	r = s.regions;

	is_str(region_class_name(r[0].cls), "lib", "the executable is lib");
	is_str(region_class_name(r[1].cls), "file", "a data file is file");
	is_str(region_class_name(r[2].cls), "heap", "[heap]");
	is_str(region_class_name(r[3].cls), "arena", "aligned rw + ---p making 64 MiB is an arena");
	ok(r[4].cls == RC_ARENA && r[4].guard, "its ---p part is the arena's reserve");
	is_str(region_class_name(r[5].cls), "arena", "a full 64 MiB aligned heap is an arena");
	is_str(region_class_name(r[6].cls), "anon", "aligned but not 64 MiB in all: not an arena");
	is_str(region_class_name(r[7].cls), "anon", "its ---p neither");
	ok(r[9].cls == RC_STACK && r[9].tid == 101, "the mapping holding a thread's SP is its stack");
	ok(r[8].cls == RC_STACK && r[8].tid == 101 && r[8].guard, "the ---p below is its guard");
	is_str(region_class_name(r[10].cls), "shm", "/dev/shm");
	is_str(region_class_name(r[11].cls), "shm", "shared anonymous");
	is_str(region_class_name(r[12].cls), "lib", "a versioned .so");
	is_str(region_class_name(r[13].cls), "jar", "the JDK modules image");
	is_str(region_class_name(r[14].cls), "jar", "a jar");
	ok(s.is_jvm, "libjvm.so makes it a JVM");
	is_str(region_class_name(r[16].cls), "anon", "a named anonymous mapping is anon");
	is_str(region_class_name(r[17].cls), "special", "[vdso]");
	is_str(region_class_name(r[18].cls), "shm", "memfd");
	ok(r[19].cls == RC_STACK && r[19].tid == 100, "[stack] is the main thread's");
	is_str(region_class_name(r[20].cls), "lib", "a file next to its executable mapping is lib");
	ok(classify_find(s.regions, s.nregions, 0x7f0000001000) == &r[9], "find at start");
	ok(classify_find(s.regions, s.nregions, 0x7f0000800fff) == &r[9], "find at end - 1");
	ok(classify_find(s.regions, s.nregions, 0x7f0000801000) == NULL, "find in a gap");
	ok(region_class_parse("arena") == RC_ARENA && region_class_parse("nope") == -1,
	   "class names parse back");
	s.threads = NULL;
	s.nthreads = 0;
	snapshot_release(&s);

	/* A thread running when sampled (no SP): its stack is found by its shape. */
	{
		struct thread th[3] = { { 200, "main", 0 }, { 201, "busy", 0 }, { 202, "idle", 0 } };

		snapshot_init(&s);
		s.pid = 200;
		s.exe = xstrdup("");
		s.cmdline = xstrdup("");
		s.stack_rlimit = 8 * MiB;
		add(0x7e0000000000, 0x7e0000001000, "---p", "");		/* 0 guard */
		add(0x7e0000001000, 0x7e0000801000, "rw-p", "");		/* 1 8 MiB */
		add(0x7e0001000000, 0x7e0001001000, "---p", "");		/* 2 */
		add(0x7e0001001000, 0x7e0001401000, "rw-p", "");		/* 3 4 MiB */
		add(0x7e0002000000, 0x7e0002001000, "---p", "");		/* 4 */
		add(0x7e0002001000, 0x7e0002801000, "rw-p", "");		/* 5 8 MiB */
		s.threads = th;
		s.nthreads = 2;
		classify_regions(&s);
		r = s.regions;
		ok(r[1].cls == RC_STACK && r[1].tid == 0 && r[0].cls == RC_STACK && r[0].guard,
		   "guard + rlimit-sized rw mapping: the stack of a thread without SP");
		is_str(region_class_name(r[3].cls), "anon", "another size stays anon");
		is_str(region_class_name(r[5].cls), "anon",
		       "no more such stacks than threads without an SP");
		s.threads = NULL;
		s.nthreads = 0;
		snapshot_release(&s);
	}
	/* Stacks of ended threads never joined: the shape with no thread in it. */
	{
		struct thread th[2] = { { 300, "main", 0 }, { 301, "worker", 0x7d0000100000 } };
		uint64_t rss;

		snapshot_init(&s);
		s.pid = 300;
		s.exe = xstrdup("");
		s.cmdline = xstrdup("");
		s.stack_rlimit = 8 * MiB;
		add(0x7d0000000000, 0x7d0000001000, "---p", "");		/* 0 guard */
		add(0x7d0000001000, 0x7d0000101000, "rw-p", "");		/* 1 1 MiB, live */
		add(0x7d0001000000, 0x7d0001001000, "---p", "");		/* 2 */
		add(0x7d0001001000, 0x7d0001801000, "rw-p", "")->m.rss = 16384; /* 3 8 MiB */
		add(0x7d0002000000, 0x7d0002001000, "---p", "");		/* 4 */
		add(0x7d0002001000, 0x7d0002101000, "rw-p", "")->m.rss = 8192;	/* 5 1 MiB */
		add(0x7d0003000000, 0x7d0003001000, "---p", "");		/* 6 */
		add(0x7d0003001000, 0x7d0003201000, "rw-p", "");		/* 7 2 MiB */
		add(0x7d0004000000, 0x7d0004001000, "rw-p", "");		/* 8 no guard */
		add(0x7d0005001000, 0x7d0005801000, "rw-p", "");		/* 9 guard not adjacent */
		add(0x7d0006000000, 0x7d0006800000, "rw-p", "");		/* 10 an arena's shape: */
		add(0x7d0006800000, 0x7d0007000000, "---p", "");		/* 11 ---p above */
		s.threads = th;
		s.nthreads = 2;
		classify_regions(&s);
		r = s.regions;
		ok(r[1].cls == RC_STACK && r[1].tid == 301, "kept: the live thread's stack is its own");
		is_int((int)classify_kept_stacks(&s, &rss), 2,
		       "kept: the default size and a live thread's size, with a guard right below");
		ok(rss == 16384 + 8192, "kept: their resident bytes summed");
		is_str(region_class_name(r[3].cls), "anon", "kept: they stay anon in the maps");
		s.threads = NULL;
		s.nthreads = 0;
		snapshot_release(&s);
	}
	{
		static const char line[] = "7f00-7f10 r-xp 0 08:01 42 /opt/jdk/lib/server/libjvm.so";

		ok(region_path_is_libjvm(line, strlen(line)), "libjvm: a maps line naming it");
		ok(region_path_is_libjvm("/j/libjvm.so (deleted)", 22), "libjvm: deleted still counts");
		ok(!region_path_is_libjvm("/j/libjvm.so.bak", 16), "libjvm: another name does not");
		ok(!region_path_is_libjvm("/j/notlibjvm.so", 15), "libjvm: a longer basename does not");
		add(0x1000, 0x2000, "r-xp", "/opt/jdk/lib/server/libjvm.so (deleted)");
		classify_regions(&s);
		ok(s.is_jvm, "libjvm: a snapshot mapping the deleted library is a JVM");
		snapshot_release(&s);
		add(0x1000, 0x2000, "r-xp", "/usr/lib/libjvmti.so");
		classify_regions(&s);
		ok(!s.is_jvm, "libjvm: another library is not");
		snapshot_release(&s);
	}
	return done_testing();
}
