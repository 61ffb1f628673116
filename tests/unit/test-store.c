/* test-store: round trip of snapshots through SQLite, atomic create, and every kind of bad file. */
#include "allocdb.h"
#include "snapshot.h"
#include "store.h"
#include "strbuf.h"
#include "tap.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test-store.XXXXXX";

static void make_snapshot(struct snapshot *s, uint64_t t, uint64_t grow)
{
	static const struct {
		uint64_t start, end;
		const char *path;
		enum region_class cls;
	} regs[] = {
		{ 0x400000, 0x401000, "/usr/bin/prog", RC_LIB },
		{ 0x1000000, 0x1100000, "[heap]", RC_HEAP },
		{ 0x7f0000000000, 0x7f0000200000, "", RC_ANON },
		{ 0x7ffc00000000, 0x7ffc00021000, "[stack]", RC_STACK },
		{ 0xffffffffff600000ull, 0xffffffffff601000ull, "[vsyscall]", RC_SPECIAL },
	};

	snapshot_init(s);
	s->pid = 4242;
	s->time_ns = t;
	s->start_time = 123456;
	s->cmdline = xstrdup("prog --leak 'x y'");
	s->exe = xstrdup("/usr/bin/prog");
	snprintf(s->status.name, sizeof(s->status.name), "prog");
	s->status.state = 'S';
	s->status.tgid = 4242;
	s->status.ppid = 1;
	s->status.nspid = 17;
	s->status.ruid = s->status.euid = 1000;
	s->status.rgid = s->status.egid = 100;
	s->status.threads = 2;
	s->status.vm_rss = 3 << 20;
	s->status.has_mm = true;
	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
		struct region *r;

		ALLOC_GROW(s->regions, s->nregions + 1, s->alloc_regions);
		r = &s->regions[s->nregions++];
		memset(r, 0, sizeof(*r));
		r->start = regs[i].start;
		r->end = regs[i].end;
		r->path = xstrdup(regs[i].path);
		strcpy(r->perms, i == 0 ? "r-xp" : "rw-p");
		r->cls = regs[i].cls;
		r->dev_major = i == 0 ? 8 : 0;
		r->dev_minor = i == 0 ? 1 : 0;
		r->inode = i == 0 ? 99 : 0;
		r->m.size = r->end - r->start;
		r->m.rss = r->m.size / 2 + (i == 2 ? grow : 0);
		r->m.pss = r->m.rss;
		r->m.anon = i ? r->m.rss : 0;
		r->m.private_dirty = r->m.anon;
		r->m.swap = i == 2 ? 8192 : 0;
		r->m.thp = i == 2 ? 2 << 20 : 0;
		r->tid = r->cls == RC_STACK ? 4242 : 0;
		mem_counts_add(&s->totals, &r->m);
	}
	s->totals_from_rollup = true;
	ALLOC_GROW(s->threads, 2, s->alloc_threads);
	memset(s->threads, 0, 2 * sizeof(*s->threads));
	s->nthreads = 2;
	s->threads[0].tid = 4242;
	strcpy(s->threads[0].name, "prog");
	s->threads[0].sp = 0x7ffc00020000;
	s->threads[1].tid = 4250;
	strcpy(s->threads[1].name, "leaker");
	s->cgroup.known = true;
	snprintf(s->cgroup.path, sizeof(s->cgroup.path), "/system.slice/prog.service");
	s->cgroup.limit = -1;
	s->cgroup.usage = 5 << 20;
	s->cgroup.swap_limit = 1 << 30;
	s->is_jvm = false;
}

static int count_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Paths live until free_paths at the end. */
static char *paths[32];
static int npaths;

static char *path_in(const char *name)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "%s/%s", dir, name);
	if (npaths == (int)(sizeof(paths) / sizeof(paths[0])))
		abort();
	return paths[npaths++] = strbuf_detach(&sb, NULL);
}

static void free_paths(void)
{
	while (npaths)
		free(paths[--npaths]);
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "w");

	fwrite(data, 1, n, f);
	fclose(f);
}

static int open_err(const char *path, struct strbuf *err)
{
	struct store *st = NULL;
	int ret;

	strbuf_reset(err);
	ret = store_open(path, &st, err);
	store_close(st);
	return ret;
}

static bool same_regions(const struct snapshot *x, const struct snapshot *y)
{
	if (x->nregions != y->nregions) {
		printf("# %zu regions, want %zu\n", y->nregions, x->nregions);
		return false;
	}
	for (size_t i = 0; i < x->nregions; i++) {
		const struct region *p = &x->regions[i], *q = &y->regions[i];

		if (p->start != q->start || p->end != q->end || strcmp(p->path, q->path) ||
		    strcmp(p->perms, q->perms) || p->cls != q->cls || p->tid != q->tid ||
		    p->inode != q->inode || p->dev_major != q->dev_major ||
		    memcmp(&p->m, &q->m, sizeof(p->m))) {
			printf("# region %zu differs: %" PRIx64 "-%" PRIx64 " '%s' %s vs %" PRIx64
			       "-%" PRIx64 " '%s' %s\n", i, p->start, p->end, p->path, p->perms,
			       q->start, q->end, q->path, q->perms);
			for (size_t k = 0; k < sizeof(p->m) / 8; k++)
				printf("# %zu: %" PRIu64 " %" PRIu64 "\n", k, ((const uint64_t *)&p->m)[k], ((const uint64_t *)&q->m)[k]);
			printf("# cls %d %d tid %d %d dev %u %u ino %" PRIu64 "\n", p->cls, q->cls, p->tid, q->tid, p->dev_major, q->dev_major, q->inode);
			return false;
		}
	}
	return true;
}

int main(void)
{
	struct strbuf err = STRBUF_INIT, meta = STRBUF_INIT;
	struct snapshot s, r;
	struct store *st = NULL;
	char *snap = NULL, *rec, *bad;
	uint64_t n = 0;
	sqlite3 *db;
	struct stat sb;
	int ret;

	if (!mkdtemp(dir)) {
		printf("Bail out! cannot make a temporary directory\n");
		return 1;
	}
	snap = path_in("a.db");
	make_snapshot(&s, 1700000000123456789ull, 0);

	/* Create, append, and nothing at the path until the commit. */
	ret = store_create(snap, STORE_SNAPSHOT, false, &st, &err);
	is_int(ret, 0, "store_create");
	is_int(store_append_snapshot(st, &s, 0, &err), 0, "append a snapshot");
	ok(stat(snap, &sb) && errno == ENOENT, "nothing at the path before commit");
	is_int(count_entries(), 1, "one temporary file beside it");
	is_int(store_commit(st, &err), 0, "commit");
	store_close(st);
	st = NULL;
	is_int(count_entries(), 1, "after commit: only the file, no temporary left");
	ok(!stat(snap, &sb) && sb.st_size > 0, "the file is in place");

	/* Read it back. */
	ret = store_open(snap, &st, &err);
	is_int(ret, 0, "store_open of our file");
	if (ret)
		printf("# %s\n", err.buf);
	store_count_samples(st, &n, &err);
	is_u64(n, 1, "one sample");
	store_meta(st, "kind", &meta, &err);
	is_str(meta.buf, "snapshot", "meta kind");
	store_meta(st, "format", &meta, &err);
	is_str(meta.buf, "offheap", "meta format");
	snapshot_init(&r);
	is_int(store_read_snapshot(st, -1, &r, &err), 0, "read the last sample");
	is_int(r.pid, 4242, "pid");
	is_u64(r.time_ns, 1700000000123456789ull, "time_ns to the nanosecond");
	is_u64(r.start_time, 123456, "start_time");
	is_str(r.cmdline, "prog --leak 'x y'", "cmdline");
	is_str(r.exe, "/usr/bin/prog", "exe");
	is_str(r.status.name, "prog", "name");
	is_int(r.status.nspid, 17, "nspid");
	is_int(r.status.ruid, 1000, "uid");
	is_int(r.status.threads, 2, "threads count");
	ok(r.status.state == 'S', "state");
	ok(!memcmp(&r.totals, &s.totals, sizeof(r.totals)), "totals round-trip");
	ok(r.totals_from_rollup, "totals source");
	ok(same_regions(&s, &r), "regions round-trip, [vsyscall] above 2^63 last");
	ok(r.nthreads == 2 && r.threads[1].tid == 4250 && !strcmp(r.threads[1].name, "leaker") &&
		   r.threads[0].sp == 0x7ffc00020000 && r.threads[1].sp == 0,
	   "threads round-trip");
	ok(r.cgroup.known && r.cgroup.limit == -1 && r.cgroup.swap_limit == 1 << 30 &&
		   r.cgroup.usage == 5 << 20 && !strcmp(r.cgroup.path, "/system.slice/prog.service"),
	   "cgroup round-trip (unlimited as -1)");
	snapshot_release(&r);
	snapshot_init(&r);
	is_int(store_read_snapshot(st, 1, &r, &err), -ENOENT, "no second sample");
	snapshot_release(&r);
	ok(store_append_snapshot(st, &s, 0, &err) < 0, "a file opened to read refuses appends");
	store_close(st);
	st = NULL;

	/* An existing file is not replaced unless asked. */
	strbuf_reset(&err);
	is_int(store_create(snap, STORE_SNAPSHOT, false, &st, &err), -EEXIST,
	       "existing file: -EEXIST");
	ok(strstr(err.buf, "already exists") != NULL, "says it exists");
	ret = store_create(snap, STORE_SNAPSHOT, true, &st, &err);
	is_int(ret, 0, "create with overwrite");
	store_close(st);
	st = NULL;
	is_int(count_entries(), 1, "closed without commit: temporary removed, old file kept");
	is_int(open_err(snap, &err), 0, "old file intact");

	/* Failure paths of create. */
	bad = path_in("no/such/dir/x.db");
	strbuf_reset(&err);
	is_int(store_create(bad, STORE_SNAPSHOT, false, &st, &err), -ENOENT,
	       "a directory that does not exist");
	ok(strstr(err.buf, "No such file or directory") != NULL, "says why");

	/* A recording: stays open after commit, every append visible. */
	rec = path_in("rec.db");
	is_int(store_create(rec, STORE_RECORDING, false, &st, &err), 0, "create a recording");
	is_int(store_append_snapshot(st, &s, 0, &err), 0, "first sample");
	is_int(store_commit(st, &err), 0, "commit the recording");
	for (int i = 1; i < 5; i++) {
		struct snapshot t;

		make_snapshot(&t, 1700000000000000000ull + i * 1000000000ull, i * 4096);
		if (store_append_snapshot(st, &t, i % 2 ? STORE_NO_REGIONS : 0, &err))
			printf("# %s\n", err.buf);
		snapshot_release(&t);
	}
	store_close(st);
	st = NULL;
	is_int(count_entries(), 2, "two files, no temporaries");
	is_int(store_open(rec, &st, &err), 0, "open the recording");
	store_count_samples(st, &n, &err);
	is_u64(n, 5, "five samples");
	store_meta(st, "kind", &meta, &err);
	is_str(meta.buf, "recording", "meta kind recording");
	snapshot_init(&r);
	is_int(store_read_snapshot(st, 3, &r, &err), 0, "read sample 3");
	ok(r.nregions == 0 && r.nthreads == 2, "sample stored without regions has none");
	snapshot_release(&r);
	snapshot_init(&r);
	store_read_snapshot(st, -1, &r, &err);
	ok(r.nregions == 5 && r.regions[2].m.rss == 0x100000 + 4 * 4096, "last sample's regions");
	snapshot_release(&r);
	store_close(st);
	st = NULL;
	/* class_total is written for every sample, regions or not */
	sqlite3_open_v2(rec, &db, SQLITE_OPEN_READONLY, NULL);
	{
		sqlite3_stmt *q;

		sqlite3_prepare_v2(db, "SELECT count(*), sum(rss) FROM class_total WHERE class = 'anon'",
				   -1, &q, NULL);
		sqlite3_step(q);
		is_int(sqlite3_column_int(q, 0), 5, "class_total row for every sample");
		sqlite3_finalize(q);
	}
	sqlite3_close(db);

	/* Bad files, each with its own error. */
	is_int(open_err(path_in("absent.db"), &err), -ENOENT, "absent file");
	bad = path_in("empty.db");
	write_file(bad, "", 0);
	is_int(open_err(bad, &err), -ENODATA, "empty file");
	ok(strstr(err.buf, "is empty") != NULL, "says empty");
	bad = path_in("text.db");
	write_file(bad, "hello, this is text\n", 20);
	is_int(open_err(bad, &err), -ENOTSUP, "text file");
	ok(strstr(err.buf, "not an SQLite database") != NULL, "says not SQLite");
	bad = path_in("short.db");
	write_file(bad, "SQLite format 3\0abc", 19);
	is_int(open_err(bad, &err), -EBADMSG, "a file shorter than the header");
	{
		char *buf;
		FILE *f = fopen(snap, "r");
		long len;

		fseek(f, 0, SEEK_END);
		len = ftell(f);
		rewind(f);
		buf = xmalloc((size_t)len);
		if (fread(buf, 1, (size_t)len, f) != (size_t)len)
			printf("# short read\n");
		fclose(f);
		bad = path_in("trunc.db");
		write_file(bad, buf, (size_t)len / 2);
		is_int(open_err(bad, &err), -EBADMSG, "truncated to half");
		ok(strstr(err.buf, "truncated") != NULL, "says truncated");
		write_file(bad, buf, (size_t)len - 100);
		is_int(open_err(bad, &err), -EBADMSG, "truncated mid-page");
		/* the same file and its damages as images in memory: the same answers */
		strbuf_reset(&err);
		is_int(store_open_image(buf, (size_t)len, "img", &st, &err), 0, "an image opens");
		n = 0;
		store_count_samples(st, &n, &err);
		is_u64(n, 1, "its sample is read");
		store_close(st);
		st = NULL;
		strbuf_reset(&err);
		is_int(store_open_image(buf, (size_t)len / 2, "img", &st, &err), -EBADMSG,
		       "an image cut in half");
		ok(strstr(err.buf, "'img' is truncated") != NULL && !st, "says so, opens nothing");
		is_int(store_open_image(buf, 0, "img", &st, &err), -ENODATA, "an empty image");
		is_int(store_open_image("SQLite format 3\0abc", 19, "img", &st, &err), -EBADMSG,
		       "an image shorter than the header");
		is_int(store_open_image("hello", 5, "img", &st, &err), -ENOTSUP, "a text image");
		/* a newer format version */
		buf[60] = 0x7f;
		bad = path_in("newer.db");
		write_file(bad, buf, (size_t)len);
		is_int(open_err(bad, &err), -EPROTO, "a newer format version");
		ok(strstr(err.buf, "format version") != NULL, "says format version");
		free(buf);
	}
	bad = path_in("foreign.db");
	sqlite3_open(bad, &db);
	sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", NULL, NULL, NULL);
	sqlite3_close(db);
	is_int(open_err(bad, &err), -EPROTO, "another program's SQLite database");
	ok(strstr(err.buf, "another program") != NULL, "says another program");
	bad = path_in("lacking.db");
	sqlite3_open(bad, &db);
	sqlite3_exec(db, "PRAGMA application_id = 1330006096; PRAGMA user_version = 1;"
			 "CREATE TABLE meta (key, value);", NULL, NULL, NULL);
	sqlite3_close(db);
	is_int(open_err(bad, &err), -EBADMSG, "ours by its header but tables missing");
	ok(strstr(err.buf, "no table") != NULL, "names the missing table");
	is_int(open_err(dir, &err), -EISDIR, "a directory");

	/* fuzz/regress/store: allocdb_load failing after it read stacks kept them (a leak) */
	{
		struct allocdb *a = NULL;
		struct alloc_data d;
		uint64_t pcs[2] = { 0x401000, 0x402000 };
		int64_t run, stack;

		rec = path_in("alloc.db");
		ret = store_create(rec, STORE_RECORDING, false, &st, &err);
		ret = ret ? ret : allocdb_open(store_db(st), true, &a, &err);
		ret = ret ? ret : allocdb_begin(a, &err);
		ret = ret ? ret : allocdb_add_run(a, 1, 4242, 0, "prog", &run, &err);
		ret = ret ? ret : allocdb_add_stack(a, run, 1, pcs, 2, &stack, &err);
		ret = ret ? ret : allocdb_commit(a, &err);
		is_int(ret, 0, "a recording with one stack");
		is_int(sqlite3_exec(store_db(st), "DROP VIEW alloc_frame", NULL, NULL, NULL),
		       SQLITE_OK, "its frame view dropped");
		memset(&d, 0xff, sizeof(d));
		ok(allocdb_load(a, &d, &err) < 0, "load fails after reading the stacks");
		ok(d.nr == 0 && d.stacks == NULL, "and leaves nothing to release");
		allocdb_free(a);
		store_close(st);
		st = NULL;
	}

	snapshot_release(&s);
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			printf("# cannot remove %s\n", dir);
	}
	strbuf_release(&err);
	strbuf_release(&meta);
	free_paths();
	return done_testing();
}
