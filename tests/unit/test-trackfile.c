/* Unit tests for trackfile: the shared file read as hostile input. */
#include "tap.h"
#include "strbuf.h"
#include "trackfile.h"
/* The test plays the tracker: it writes the file by the ABI. */
#include "../../preload/trackshm.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/tmp/offheap-test-trackfile.XXXXXX";

static int write_file(const void *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t w;

	if (fd < 0)
		return -1;
	w = write(fd, buf, n);
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

/* Mappings of this process: a leaked mmap of the file shows as one more. */
static int count_maps(void)
{
	char buf[4096];
	int fd = open("/proc/self/maps", O_RDONLY), n = 0;
	ssize_t r;

	if (fd < 0)
		return -1;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < r; i++)
			n += buf[i] == '\n';
	close(fd);
	return n;
}

static int read_once(struct track_view *v)
{
	struct strbuf err = STRBUF_INIT;
	struct trackfile *tf;
	int ret = trackfile_open(path, &tf, &err);

	if (!ret) {
		ret = trackfile_read(tf, v, &err);
		trackfile_close(tf);
	}
	strbuf_release(&err);
	return ret;
}

int main(void)
{
	struct {
		struct trackshm_header h;
		struct trackshm_stack s[4];
	} f;
	struct track_view v = {0};
	int fd = mkstemp(path);

	ok(fd >= 0, "temporary file");
	close(fd);

	is_int(read_once(&v), -EAGAIN, "empty file: not started yet");

	memset(&f, 0, sizeof(f));
	write_file(&f, sizeof(f));
	is_int(read_once(&v), -EAGAIN, "no magic yet: not started yet");

	f.h.magic = TRACKSHM_MAGIC;
	f.h.version = 99;
	f.h.header_size = sizeof(f.h);
	f.h.stack_size = sizeof(f.s[0]);
	f.h.max_stacks = 4;
	write_file(&f, sizeof(f));
	is_int(read_once(&v), -EPROTO, "newer version refused");

	f.h.version = TRACKSHM_VERSION;
	f.h.max_stacks = 1000000;
	write_file(&f, sizeof(f));
	is_int(read_once(&v), -EPROTO, "stack table larger than the file refused");
	/* a table the tracker never makes: its slots would size the recorder's arrays */
	f.h.max_stacks = TRACKSHM_MAX_STACKS + 1;
	write_file(&f, sizeof(f));
	is_int(read_once(&v), -EPROTO, "more stacks than a tracker makes refused");

	/* fuzz/regress/trackfile: each read of that file mapped it again, the old map leaked */
	{
		struct strbuf err = STRBUF_INIT;
		struct trackfile *tf;
		int before, after, fails = 0;

		ok(!trackfile_open(path, &tf, &err), "open a file with a hostile table size");
		is_int(trackfile_read(tf, &v, &err), -EPROTO, "first read refused");
		before = count_maps();
		for (int i = 0; i < 200; i++)
			fails += trackfile_read(tf, &v, &err) == -EPROTO;
		after = count_maps();
		is_int(fails, 200, "every read refused");
		if (after > before)
			printf("# %d mappings before, %d after\n", before, after);
		/*
		 * A leak is one mapping a read: 200. Under ASan its allocator maps
		 * memory of its own as the error messages are built, a few dozen.
		 */
		ok(before > 0 && after - before < 100, "no mapping leaked by 200 reads");
		trackfile_close(tf);
		strbuf_release(&err);
	}

	f.h.max_stacks = 4;
	f.h.nstacks = 4;
	f.h.generation = 77;
	f.s[2].hash = 123;
	f.s[2].ready = 1;
	f.s[2].depth = 1000; /* hostile: clamped */
	f.s[2].shard[0].alloc_bytes = 3000; /* shards add up */
	f.s[2].shard[3].alloc_bytes = 2000;
	f.s[2].shard[1].alloc_count = 5;
	f.s[2].shard[2].free_bytes = 1000;
	f.s[2].shard[2].free_count = 1;
	f.s[3].hash = 124; /* not ready: skipped */
	f.s[3].shard[0].alloc_count = 9;
	f.s[2].peak_live = 6000;
	f.h.peak = 7000;
	f.h.peak_ns = 77 + 1500000000ULL; /* 1.5 s after the generation */
	f.h.sites_live = 6900;
	f.h.sites_ns = 77 + 1400000000ULL;
	f.h.sites_seq = 3;
	f.h.flags = TRACKSHM_EXACT | TRACKSHM_DEGRADED;
	f.h.degraded_ns = 77 + 1200000000ULL;
	f.h.degraded_kib = 64;
	f.h.max_mem_mib = 16;
	write_file(&f, sizeof(f));
	is_int(read_once(&v), 0, "a valid file reads");
	is_int((int)v.nr, 1, "one ready site");
	is_int((int)v.sites[0].slot, 2, "its slot");
	is_int((int)v.sites[0].depth, TRACKSHM_MAX_DEPTH, "depth clamped");
	is_int((int)v.sites[0].live_bytes, 4000, "live = alloc - free");
	is_int((int)v.live_bytes, 4000, "total live");
	is_u64(v.generation, 77, "generation");
	is_int((int)v.sites[0].peak_live, 6000, "the site's live bytes at the peak");
	is_int((int)v.peak_bytes, 7000, "the peak");
	is_u64(v.peak_ms, 1500, "the peak's time, after the image's start");
	is_int((int)v.sites_live, 6900, "the total the sites were copied at");
	is_u64(v.sites_ms, 1400, "and when");
	is_u64(v.sites_seq, 3, "the copy's number");
	ok(v.flags & TRACK_DEGRADED, "degraded at the ceiling");
	is_u64(v.degraded_ms, 1200, "since 1.2 s");
	is_int((int)v.degraded_kib, 64, "sampled every 64 KiB");
	is_int((int)v.max_mem_mib, 16, "the ceiling");

	/*
	 * Entries are handed out in order: those past nstacks are not read
	 * (on tmpfs their pages may have no storage), a hostile nstacks is
	 * held to the table.
	 */
	{
		struct {
			struct trackshm_header h;
			struct trackshm_stack s[8];
		} g;
		static const struct {
			uint64_t nstacks;
			int nr;
			const char *what;
		} c[] = {
			{0, 0, "nothing handed out: nothing read"},
			{4, 1, "entries past nstacks are not read"},
			{6, 2, "up to nstacks"},
			{UINT64_MAX, 3, "a hostile nstacks: the whole table"},
		};

		for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
			memset(&g, 0, sizeof(g));
			g.h = f.h;
			g.h.max_stacks = 8;
			g.h.nstacks = c[k].nstacks;
			for (int e = 3; e <= 7; e += 2) {
				g.s[e] = f.s[2];
				memset(g.s[e].shard, 0, sizeof(g.s[e].shard));
				g.s[e].shard[0].alloc_bytes = 100 * (uint64_t)e;
			}
			write_file(&g, sizeof(g));
			is_int(read_once(&v), 0, c[k].what);
			is_int((int)v.nr, c[k].nr, c[k].what);
			ok(!v.nr || (v.sites[0].slot == 3 && v.sites[0].alloc_bytes == 300 &&
				     v.sites[v.nr - 1].slot == 3 + 2 * (v.nr - 1)),
			   "in entry order, each its own counters");
		}
		track_view_release(&v);
	}

	/* fuzz/regress/trackfile: live bytes of hostile counters summed without overflow */
	f.s[2].shard[0].alloc_bytes = (uint64_t)INT64_MAX;
	f.s[2].shard[3].alloc_bytes = 0;
	f.s[2].shard[2].free_bytes = 0;
	f.s[1] = f.s[2];
	write_file(&f, sizeof(f));
	is_int(read_once(&v), 0, "sites with huge counters read");
	is_int((int)v.nr, 2, "both sites");
	ok(v.live_bytes == (int64_t)((uint64_t)INT64_MAX * 2), "their total wraps, as the counters do");
	track_view_release(&v);

	/* the Java frames' names after the stack table, read as hostile as the rest */
	{
		struct {
			struct trackshm_header h;
			struct trackshm_stack s[4];
			struct trackshm_java j[3];
		} g;
		struct strbuf err = STRBUF_INIT;
		struct track_java out;
		struct trackfile *tf;

		memset(&g, 0, sizeof(g));
		g.h = f.h;
		g.h.java_max = 3;
		g.h.java_n = 2;
		g.j[1].ready = 1;
		g.j[1].line = 131;
		memset(g.j[1].cls, 'A', sizeof(g.j[1].cls)); /* hostile: no terminator */
		strcpy(g.j[1].method, "<init>");
		strcpy(g.j[1].file, "Inflater.java");
		g.j[2].line = 7; /* not ready */
		write_file(&g, sizeof(g));
		ok(!trackfile_open(path, &tf, &err), "open a file with Java names");
		is_int(trackfile_java(tf, TRACK_JAVA_TAG | 1, &out), 0, "a ready record reads");
		is_int((int)strlen(out.cls), (int)sizeof(g.j[1].cls), "an unterminated class is cut");
		ok(!strcmp(out.method, "<init>") && !strcmp(out.file, "Inflater.java") &&
			   out.line == 131,
		   "method, file and line");
		is_int(trackfile_java(tf, TRACK_JAVA_TAG | 2, &out), -ENOENT, "not ready: not yet");
		is_int(trackfile_java(tf, TRACK_JAVA_TAG, &out), -ENOENT, "index 0 has no record");
		is_int(trackfile_java(tf, TRACK_JAVA_TAG | 3, &out), -ENOENT, "beyond java_max");
		is_int(trackfile_java(tf, 1, &out), -ENOENT, "a return address is no Java frame");
		g.h.java_max = 1000000; /* hostile: the region past the file's end */
		write_file(&g, sizeof(g));
		is_int(trackfile_java(tf, TRACK_JAVA_TAG | 999999, &out), -ENOENT,
		       "a record past the file's end");
		g.j[1].line = -5;
		write_file(&g, sizeof(g));
		ok(!trackfile_java(tf, TRACK_JAVA_TAG | 1, &out) && out.line == 0,
		   "a negative line reads as unknown");
		trackfile_close(tf);
		strbuf_release(&err);
	}
	unlink(path);
	return done_testing();
}
