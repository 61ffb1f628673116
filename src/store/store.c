/*
 * store: snapshots and recordings in one SQLite file.
 *
 * The format is documented in docs/SCHEMA.md; this file is its only writer.
 * A new file is written to a temporary file beside its final path and
 * renamed into place only when complete (fsync of the file, rename, fsync
 * of the directory), so a reader never sees half a snapshot. A recording
 * stays open after that first commit and every later sample is one
 * transaction, so a crash of the recorder loses at most that sample.
 *
 * SQLite integers are signed 64-bit: unsigned byte counts and addresses are
 * stored bit for bit, so an address at or above 2^63 ([vsyscall]) reads back
 * negative in sqlite3 but round-trips exactly here.
 *
 * Opening checks the 100-byte SQLite header ourselves before SQLite sees the
 * file (https://www.sqlite.org/fileformat2.html#the_database_header): magic
 * string, page size, the in-header page count against the file size (a
 * truncated copy), application_id (another program's database) and
 * user_version (a newer format), so each kind of bad file gets its own error.
 */
#include "store.h"
#include "infile.h"
#include "outfile.h"
#include "snapshot.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The mem_counts fields, in column order: one list for DDL, writes and reads. */
#define MEM_COUNTS_COLS(X)                                                                 \
	X(size) X(rss) X(pss) X(shared_clean) X(shared_dirty) X(private_clean)             \
	X(private_dirty) X(referenced) X(anon) X(swap) X(swap_pss) X(locked) X(thp)
#define MC_NCOLS 13

#define MC_DDL(f) #f " INTEGER NOT NULL, "
#define MC_NAME(f) ", " #f
#define MC_QMARK(f) ", ?"

static const char schema_sql[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE process ("
	" id INTEGER PRIMARY KEY,"
	" pid INTEGER NOT NULL, nspid INTEGER NOT NULL, start_time INTEGER NOT NULL,"
	" name TEXT NOT NULL, cmdline TEXT NOT NULL, exe TEXT NOT NULL,"
	" ruid INTEGER NOT NULL, euid INTEGER NOT NULL, rgid INTEGER NOT NULL,"
	" egid INTEGER NOT NULL, is_jvm INTEGER NOT NULL,"
	" UNIQUE (pid, start_time));"
	"CREATE TABLE sample ("
	" id INTEGER PRIMARY KEY,"
	" process_id INTEGER NOT NULL REFERENCES process (id),"
	" t_ns INTEGER NOT NULL,"
	" state TEXT NOT NULL, ppid INTEGER NOT NULL, threads INTEGER NOT NULL,"
	" has_mm INTEGER NOT NULL,"
	" vm_peak INTEGER NOT NULL, vm_size INTEGER NOT NULL, vm_hwm INTEGER NOT NULL,"
	" vm_rss INTEGER NOT NULL, rss_anon INTEGER NOT NULL, rss_file INTEGER NOT NULL,"
	" rss_shmem INTEGER NOT NULL, vm_swap INTEGER NOT NULL,"
	" sig_blk INTEGER NOT NULL, sig_ign INTEGER NOT NULL, sig_cgt INTEGER NOT NULL, "
	MEM_COUNTS_COLS(MC_DDL)
	" totals_source TEXT NOT NULL,"
	" cgroup_path TEXT, cgroup_limit INTEGER, cgroup_usage INTEGER,"
	" cgroup_swap_limit INTEGER, cgroup_swap_usage INTEGER,"
	" nregions INTEGER, nthreads INTEGER);"
	"CREATE INDEX sample_process_t ON sample (process_id, t_ns);"
	"CREATE TABLE class_total ("
	" sample_id INTEGER NOT NULL REFERENCES sample (id), class TEXT NOT NULL,"
	" count INTEGER NOT NULL, size INTEGER NOT NULL, rss INTEGER NOT NULL,"
	" pss INTEGER NOT NULL, anon INTEGER NOT NULL, swap INTEGER NOT NULL,"
	" locked INTEGER NOT NULL, private_dirty INTEGER NOT NULL,"
	" PRIMARY KEY (sample_id, class)) WITHOUT ROWID;"
	"CREATE INDEX class_total_class ON class_total (class, sample_id);"
	"CREATE TABLE region ("
	" sample_id INTEGER NOT NULL REFERENCES sample (id),"
	" start INTEGER NOT NULL, \"end\" INTEGER NOT NULL, perms TEXT NOT NULL,"
	" offset INTEGER NOT NULL, dev_major INTEGER NOT NULL, dev_minor INTEGER NOT NULL,"
	" inode INTEGER NOT NULL, path TEXT NOT NULL, class TEXT NOT NULL,"
	" tid INTEGER, guard INTEGER NOT NULL, "
	MEM_COUNTS_COLS(MC_DDL)
	" PRIMARY KEY (sample_id, start)) WITHOUT ROWID;"
	"CREATE TABLE thread ("
	" sample_id INTEGER NOT NULL REFERENCES sample (id), tid INTEGER NOT NULL,"
	" name TEXT NOT NULL, sp INTEGER,"
	" PRIMARY KEY (sample_id, tid)) WITHOUT ROWID;";

static const char *const required_tables[] = { "meta", "process", "sample", "class_total",
						"region", "thread" };

static const char sample_cols[] =
	"process_id, t_ns, state, ppid, threads, has_mm, vm_peak, vm_size, vm_hwm, vm_rss,"
	" rss_anon, rss_file, rss_shmem, vm_swap, sig_blk, sig_ign, sig_cgt"
	MEM_COUNTS_COLS(MC_NAME)
	", totals_source, cgroup_path, cgroup_limit, cgroup_usage, cgroup_swap_limit,"
	" cgroup_swap_usage, nregions, nthreads";
#define SAMPLE_NCOLS (17 + MC_NCOLS + 8)

static const char region_cols[] =
	"sample_id, start, \"end\", perms, offset, dev_major, dev_minor, inode, path, class,"
	" tid, guard" MEM_COUNTS_COLS(MC_NAME);
#define REGION_NCOLS (12 + MC_NCOLS)

struct store {
	sqlite3 *db;
	char *path;		/* the final path */
	char *tmp;		/* the temporary file while not committed (out.tmp), else NULL */
	struct outfile out;	/* the file being created, until committed */
	enum store_kind kind;
	bool readonly;		/* opened by store_open */
	bool sync_at_close;	/* a recording written without syncs: one fsync when closed */
	sqlite3_stmt *sel_proc, *ins_proc, *ins_sample, *ins_class, *ins_region, *ins_thread;
	/*
	 * store_read_snapshot's statements, prepared at the first read: a
	 * statement of many columns costs more to prepare (each column's name
	 * is made) than to run on one sample
	 */
	sqlite3_stmt *rd_sample[2], *rd_proc, *rd_regions, *rd_threads;
};

static int sql_error(struct store *st, struct strbuf *err, const char *what)
{
	int rc = sqlite3_errcode(st->db);

	/* the file the user named, not the temporary one it is written as until committed */
	strbuf_addf(err, "cannot %s '%s': %s", what, st->path, sqlite3_errmsg(st->db));
	if (rc == SQLITE_FULL)
		return -ENOSPC;
	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		return -EBADMSG;
	if (rc == SQLITE_READONLY || rc == SQLITE_PERM)
		return -EACCES;
	return -EIO;
}

static int exec(struct store *st, const char *sql, const char *what, struct strbuf *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sql_error(st, err, what);
	return 0;
}

static void finalize_all(struct store *st)
{
	sqlite3_finalize(st->sel_proc);
	sqlite3_finalize(st->ins_proc);
	sqlite3_finalize(st->ins_sample);
	sqlite3_finalize(st->ins_class);
	sqlite3_finalize(st->ins_region);
	sqlite3_finalize(st->ins_thread);
	st->sel_proc = st->ins_proc = st->ins_sample = NULL;
	st->ins_class = st->ins_region = st->ins_thread = NULL;
	sqlite3_finalize(st->rd_sample[0]);
	sqlite3_finalize(st->rd_sample[1]);
	sqlite3_finalize(st->rd_proc);
	sqlite3_finalize(st->rd_regions);
	sqlite3_finalize(st->rd_threads);
	st->rd_sample[0] = st->rd_sample[1] = st->rd_proc = st->rd_regions = st->rd_threads = NULL;
}

/*
 * The one fsync of a recording written with synchronous = OFF: through
 * SQLite's own file handle, which is the file's descriptor.
 */
static void sync_db(struct store *st)
{
	sqlite3_file *f = NULL;

	if (sqlite3_file_control(st->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) == SQLITE_OK &&
	    f && f->pMethods)
		f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	finalize_all(st);
	if (st->db && st->sync_at_close)
		sync_db(st);
	sqlite3_close(st->db);
	if (st->tmp)
		outfile_abort(&st->out);
	free(st->path);
	free(st);
}

/* A store is used by one thread: no per-call mutex (a tenth of the insert time). */
static int open_db(struct store *st, const char *file, int flags, struct strbuf *err)
{
	if (sqlite3_open_v2(file, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		int ret = sql_error(st, err, "open");

		sqlite3_close(st->db);
		st->db = NULL;
		return ret;
	}
	sqlite3_busy_timeout(st->db, 2000);
	sqlite3_extended_result_codes(st->db, 0);
	return 0;
}

static int put_meta(struct store *st, const char *key, const char *val, struct strbuf *err)
{
	sqlite3_stmt *stmt;
	int ret = 0;

	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO meta VALUES (?, ?)", -1, &stmt,
			       NULL) != SQLITE_OK)
		return sql_error(st, err, "write");
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, val, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE)
		ret = sql_error(st, err, "write");
	sqlite3_finalize(stmt);
	return ret;
}

/* The meta rows; with_schema: the pragmas and tables first, in the same transaction. */
static int write_schema(struct store *st, bool with_schema, struct strbuf *err)
{
	char buf[256], host[256] = "";
	struct timespec ts;
	struct tm tm;
	int ret;

	snprintf(buf, sizeof(buf), "PRAGMA application_id = %d; PRAGMA user_version = %d;",
		 STORE_APPLICATION_ID, STORE_SCHEMA_VERSION);
	ret = exec(st, "BEGIN", "write", err);
	if (!ret && with_schema)
		ret = exec(st, buf, "write", err);
	if (!ret && with_schema)
		ret = exec(st, schema_sql, "write", err);
	if (!ret)
		ret = put_meta(st, "format", "offheap", err);
	snprintf(buf, sizeof(buf), "%d", STORE_SCHEMA_VERSION);
	if (!ret)
		ret = put_meta(st, "version", buf, err);
	if (!ret)
		ret = put_meta(st, "kind",
			       st->kind == STORE_SNAPSHOT ? "snapshot" : "recording", err);
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!ret)
		ret = put_meta(st, "created", buf, err);
	gethostname(host, sizeof(host) - 1);
	if (!ret)
		ret = put_meta(st, "host", host, err);
	if (!ret)
		ret = exec(st, "COMMIT", "write", err);
	else
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

const char *store_schema(void)
{
	return schema_sql;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An image's header: SQLite's, with our application id at offset 68. */
static bool image_ours(const unsigned char *p, size_t n)
{
	return n >= 100 && n % 512 == 0 && !memcmp(p, "SQLite format 3", 16) &&
	       be32(p + 68) == STORE_APPLICATION_ID;
}

int store_create_image(const char *path, enum store_kind kind, const void *image, size_t n,
		       bool overwrite, struct store **out, struct strbuf *err)
{
	struct store *st;
	int ret;

	if (image && !image_ours(image, n)) {
		strbuf_addf(err, "cannot create '%s': the built-in empty file is not ours", path);
		return -EINVAL;
	}
	st = xcalloc(1, sizeof(*st));
	ret = outfile_open(&st->out, path, overwrite, err);
	if (ret) {
		free(st);
		return ret;
	}
	st->path = xstrdup(path);
	st->tmp = st->out.tmp;
	st->kind = kind;
	if (image && (ret = outfile_write(&st->out, image, n))) {
		/* as SQLite says it when its own writes fail so (sql_error) */
		strbuf_addf(err, "cannot write '%s': %s", path,
			    ret == -ENOSPC ? "the disk is full" : strerror(-ret));
		goto fail;
	}
	ret = open_db(st, st->tmp, SQLITE_OPEN_READWRITE, err);
	if (ret)
		goto fail;
	/*
	 * Recordings hold twenty tables, most of them almost empty (a page each
	 * at the least), and small rows: SQLite's smallest page keeps a short
	 * run's file small (an empty recording: 80 KiB in 4 KiB pages, 18 KiB).
	 */
	if (kind == STORE_RECORDING && !image)
		ret = exec(st, "PRAGMA page_size = 512;", "write", err);
	/* The temporary file is thrown away on any failure: no journal needed until commit. */
	if (!ret)
		ret = exec(st, "PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF;", "write",
			   err);
	if (!ret)
		ret = write_schema(st, !image, err);
	if (ret)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return ret;
}

int store_create(const char *path, enum store_kind kind, bool overwrite, struct store **out,
		 struct strbuf *err)
{
	return store_create_image(path, kind, NULL, 0, overwrite, out, err);
}

int store_commit(struct store *st, struct strbuf *err)
{
	int ret;

	if (!st->tmp)
		return 0;
	finalize_all(st);
	if (sqlite3_close(st->db) != SQLITE_OK) {
		strbuf_addf(err, "cannot close '%s': %s", st->tmp, sqlite3_errmsg(st->db));
		return -EIO;
	}
	st->db = NULL;
	/* outfile_commit fsyncs its descriptor: the same file SQLite wrote. */
	st->tmp = NULL;
	ret = outfile_commit(&st->out, err);
	if (ret)
		return ret;
	/*
	 * A recording grows in place, one transaction per interval, with the
	 * rollback journal: a recorder or target killed mid-way leaves the file
	 * as of its last commit (the journal undoes the rest when it is next
	 * opened). That needs no fsync, which only matters when the machine
	 * itself goes down; three per interval (journal, folder, file) were most
	 * of the recorder's fixed cost. The file is synced once, when closed.
	 */
	if (st->kind == STORE_RECORDING) {
		ret = open_db(st, st->path, SQLITE_OPEN_READWRITE, err);
		if (!ret)
			ret = exec(st, "PRAGMA synchronous = OFF;", "write", err);
		st->sync_at_close = !ret;
	}
	return ret;
}

#define STORE_HEADER_SIZE 100 /* SQLite's database header */

/*
 * Checks the first n bytes (at most 100) of a file of size bytes, named
 * path in messages, against the SQLite header we write.
 */
static int check_header_bytes(const char *path, const unsigned char *h, size_t n, uint64_t size,
			      struct strbuf *err)
{
	uint64_t page_size, pages, need;
	uint32_t app, ver;

	if (size == 0) {
		strbuf_addf(err, "'%s' is empty, not an offheap snapshot", path);
		return -ENODATA;
	}
	if (n < 16 || memcmp(h, "SQLite format 3", 16)) {
		strbuf_addf(err, "'%s' is not an offheap snapshot (not an SQLite database)", path);
		return -ENOTSUP;
	}
	if (n < STORE_HEADER_SIZE) {
		strbuf_addf(err, "'%s' is truncated: %zu bytes, less than an SQLite header", path,
			    n);
		return -EBADMSG;
	}
	page_size = (uint64_t)h[16] << 8 | h[17];
	if (page_size == 1)
		page_size = 65536;
	if (page_size < 512 || (page_size & (page_size - 1))) {
		strbuf_addf(err, "'%s' is corrupt: page size %" PRIu64 " in its header", path,
			    page_size);
		return -EBADMSG;
	}
	app = be32(h + 68);
	ver = be32(h + 60);
	if (app != STORE_APPLICATION_ID) {
		strbuf_addf(err,
			    "'%s' is an SQLite database of another program, not an offheap snapshot (application_id 0x%08x)",
			    path, app);
		return -EPROTO;
	}
	if (ver == 0 || ver > STORE_SCHEMA_VERSION) {
		strbuf_addf(err,
			    "'%s' has format version %u; this offheap reads versions 1 to %d",
			    path, ver, STORE_SCHEMA_VERSION);
		return -EPROTO;
	}
	/* The in-header size is valid only when the two counters agree (SQLite >= 3.7.0). */
	pages = be32(h + 28);
	need = pages * page_size;
	if (be32(h + 24) == be32(h + 92) && pages && size < need) {
		strbuf_addf(err, "'%s' is truncated: %" PRIu64 " bytes of %" PRIu64, path, size,
			    need);
		return -EBADMSG;
	}
	if (size % page_size) {
		strbuf_addf(err, "'%s' is truncated: %" PRIu64 " bytes, not a whole number of pages",
			    path, size);
		return -EBADMSG;
	}
	return 0;
}

/* Checks the SQLite header of path against what we write, before SQLite opens it. */
static int check_header(const char *path, struct strbuf *err)
{
	unsigned char h[STORE_HEADER_SIZE];
	struct stat sb;
	ssize_t n = 0;
	int fd, ret;

	fd = infile_open(path, "an offheap recording", &sb, err);
	if (fd < 0)
		return fd;
	if (sb.st_size > 0 && (n = pread(fd, h, sizeof(h), 0)) < 0) {
		ret = -errno;
		strbuf_addf(err, "cannot read '%s': %s", path, strerror(errno));
	} else {
		ret = check_header_bytes(path, h, (size_t)n, (uint64_t)sb.st_size, err);
	}
	close(fd);
	return ret;
}

/* After SQLite opened the file: every table a snapshot or recording has. */
static int check_tables(struct store *st, const char *path, struct strbuf *err)
{
	sqlite3_stmt *stmt = NULL;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
			       -1, &stmt, NULL) != SQLITE_OK)
		return sql_error(st, err, "read");
	for (size_t i = 0; !ret && i < sizeof(required_tables) / sizeof(required_tables[0]); i++) {
		sqlite3_reset(stmt);
		sqlite3_bind_text(stmt, 1, required_tables[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_DONE) {
			strbuf_addf(err, "'%s' is damaged: it has no table '%s'", path,
				    required_tables[i]);
			ret = -EBADMSG;
		} else if (rc != SQLITE_ROW) {
			ret = sql_error(st, err, "read");
		}
	}
	sqlite3_finalize(stmt);
	return ret;
}

/* Opens an existing file of ours, read-only or for appending (then never through a link). */
static int open_existing(const char *path, bool writable, struct store **out,
			 struct strbuf *err)
{
	struct store *st;
	struct stat sb;
	int ret;

	if (writable && !lstat(path, &sb) && S_ISLNK(sb.st_mode)) {
		strbuf_addf(err, "'%s' is a symbolic link: offheap does not write through one", path);
		return -ELOOP;
	}
	ret = check_header(path, err);
	if (ret)
		return ret;
	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	st->readonly = !writable;
	st->kind = STORE_RECORDING;
	ret = open_db(st, path, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, err);
	if (!ret)
		ret = check_tables(st, path, err);
	if (ret) {
		store_close(st);
		return ret;
	}
	*out = st;
	return 0;
}

int store_open(const char *path, struct store **out, struct strbuf *err)
{
	return open_existing(path, false, out, err);
}

int store_open_image(const void *data, size_t len, const char *name, struct store **out,
		     struct strbuf *err)
{
	struct store *st;
	unsigned char *image;
	int ret = check_header_bytes(name, data, len < STORE_HEADER_SIZE ? len : STORE_HEADER_SIZE,
				     len, err);

	if (ret)
		return ret;
	st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(name);
	st->readonly = true;
	st->kind = STORE_RECORDING;
	ret = open_db(st, ":memory:", SQLITE_OPEN_READWRITE, err);
	if (ret)
		goto fail;
	image = sqlite3_malloc64(len);
	if (!image) {
		strbuf_addf(err, "out of memory for a copy of '%s'", name);
		ret = -ENOMEM;
		goto fail;
	}
	memcpy(image, data, len);
	/* FREEONCLOSE: SQLite owns the copy from here, even when the call fails */
	if (sqlite3_deserialize(st->db, "main", image, (sqlite3_int64)len, (sqlite3_int64)len,
				SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_READONLY) !=
	    SQLITE_OK) {
		ret = sql_error(st, err, "open");
		goto fail;
	}
	ret = check_tables(st, name, err);
	if (ret)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return ret;
}

int store_open_append(const char *path, struct store **out, struct strbuf *err)
{
	struct stat sb;

	if (lstat(path, &sb) && errno == ENOENT)
		return store_create(path, STORE_RECORDING, false, out, err);
	return open_existing(path, true, out, err);
}

const char *store_path(const struct store *st)
{
	return st->path;
}

/* A statement kept in st, prepared at its first use and reset at each next one. */
static int prepare_as(struct store *st, sqlite3_stmt **stmt, const char *sql, const char *what,
		      struct strbuf *err)
{
	if (*stmt) {
		sqlite3_reset(*stmt);
		sqlite3_clear_bindings(*stmt);
		return 0;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL) !=
	    SQLITE_OK)
		return sql_error(st, err, what);
	return 0;
}

static int prepare(struct store *st, sqlite3_stmt **stmt, const char *sql, struct strbuf *err)
{
	return prepare_as(st, stmt, sql, "write", err);
}

static int prepare_inserts(struct store *st, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	int ret;

	if (st->ins_sample)
		return 0;
	ret = prepare(st, &st->sel_proc, "SELECT id FROM process WHERE pid = ? AND start_time = ?",
		      err);
	if (!ret)
		ret = prepare(st, &st->ins_proc,
			      "INSERT INTO process (pid, nspid, start_time, name, cmdline, exe,"
			      " ruid, euid, rgid, egid, is_jvm) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
			      err);
	if (!ret)
		ret = prepare(st, &st->ins_class,
			      "INSERT INTO class_total VALUES (?,?,?,?,?,?,?,?,?,?)", err);
	if (!ret)
		ret = prepare(st, &st->ins_thread, "INSERT INTO thread VALUES (?,?,?,?)", err);
	if (!ret) {
		strbuf_addf(&sql, "INSERT INTO region (%s) VALUES (?", region_cols);
		for (int i = 1; i < REGION_NCOLS; i++)
			strbuf_addstr(&sql, ",?");
		strbuf_addch(&sql, ')');
		ret = prepare(st, &st->ins_region, sql.buf, err);
	}
	if (!ret) {
		strbuf_reset(&sql);
		strbuf_addf(&sql, "INSERT INTO sample (%s) VALUES (?", sample_cols);
		for (int i = 1; i < SAMPLE_NCOLS; i++)
			strbuf_addstr(&sql, ",?");
		strbuf_addch(&sql, ')');
		ret = prepare(st, &st->ins_sample, sql.buf, err);
	}
	strbuf_release(&sql);
	return ret;
}

static void bind_u64(sqlite3_stmt *stmt, int *i, uint64_t v)
{
	sqlite3_bind_int64(stmt, (*i)++, (sqlite3_int64)v);
}

static void bind_mem_counts(sqlite3_stmt *stmt, int *i, const struct mem_counts *m)
{
#define MC_BIND(f) bind_u64(stmt, i, m->f);
	MEM_COUNTS_COLS(MC_BIND)
#undef MC_BIND
}

static int step_done(struct store *st, sqlite3_stmt *stmt, struct strbuf *err)
{
	int rc = sqlite3_step(stmt);

	sqlite3_reset(stmt);
	if (rc != SQLITE_DONE)
		return sql_error(st, err, "write");
	return 0;
}

static int find_process(struct store *st, const struct snapshot *s, int64_t *id,
			struct strbuf *err)
{
	int ret;
	const struct proc_status *ps = &s->status;
	sqlite3_stmt *q = st->sel_proc;
	int rc, i = 1;

	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	sqlite3_bind_int64(q, 1, s->pid);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)s->start_time);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
		return 0;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return sql_error(st, err, "read");
	q = st->ins_proc;
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	sqlite3_bind_int64(q, i++, s->pid);
	sqlite3_bind_int64(q, i++, ps->nspid ? ps->nspid : s->pid);
	bind_u64(q, &i, s->start_time);
	sqlite3_bind_text(q, i++, ps->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, i++, s->cmdline ? s->cmdline : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(q, i++, s->exe ? s->exe : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, i++, ps->ruid);
	sqlite3_bind_int64(q, i++, ps->euid);
	sqlite3_bind_int64(q, i++, ps->rgid);
	sqlite3_bind_int64(q, i++, ps->egid);
	sqlite3_bind_int(q, i++, s->is_jvm);
	if ((ret = step_done(st, q, err)))
		return ret;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static int insert_sample(struct store *st, const struct snapshot *s, int64_t proc_id,
			 unsigned flags, int64_t *id, struct strbuf *err)
{
	int ret;
	const struct proc_status *ps = &s->status;
	const struct cgroup_mem *cg = &s->cgroup;
	sqlite3_stmt *q = st->ins_sample;
	char state[2] = { ps->state ? ps->state : '?', 0 };
	int i = 1;

	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	sqlite3_bind_int64(q, i++, proc_id);
	bind_u64(q, &i, s->time_ns);
	sqlite3_bind_text(q, i++, state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, i++, ps->ppid);
	sqlite3_bind_int64(q, i++, ps->threads);
	sqlite3_bind_int(q, i++, ps->has_mm);
	bind_u64(q, &i, ps->vm_peak);
	bind_u64(q, &i, ps->vm_size);
	bind_u64(q, &i, ps->vm_hwm);
	bind_u64(q, &i, ps->vm_rss);
	bind_u64(q, &i, ps->rss_anon);
	bind_u64(q, &i, ps->rss_file);
	bind_u64(q, &i, ps->rss_shmem);
	bind_u64(q, &i, ps->vm_swap);
	bind_u64(q, &i, ps->sig_blk);
	bind_u64(q, &i, ps->sig_ign);
	bind_u64(q, &i, ps->sig_cgt);
	bind_mem_counts(q, &i, &s->totals);
	sqlite3_bind_text(q, i++, s->totals_from_rollup ? "smaps_rollup" : "smaps", -1,
			  SQLITE_STATIC);
	if (cg->known) {
		sqlite3_bind_text(q, i++, cg->path, -1, SQLITE_STATIC);
		if (cg->limit >= 0)
			sqlite3_bind_int64(q, i, cg->limit);
		i++;
		bind_u64(q, &i, cg->usage);
		if (cg->swap_limit >= 0)
			sqlite3_bind_int64(q, i, cg->swap_limit);
		i++;
		bind_u64(q, &i, cg->swap_usage);
	} else {
		i += 5;
	}
	if (!(flags & STORE_NO_REGIONS))
		sqlite3_bind_int64(q, i, (sqlite3_int64)s->nregions);
	i++;
	if (!(flags & STORE_NO_THREADS))
		sqlite3_bind_int64(q, i, (sqlite3_int64)s->nthreads);
	if ((ret = step_done(st, q, err)))
		return ret;
	*id = sqlite3_last_insert_rowid(st->db);
	return 0;
}

static int insert_classes(struct store *st, const struct snapshot *s, int64_t sid,
			  struct strbuf *err)
{
	int ret;
	struct {
		uint64_t count;
		struct mem_counts m;
	} c[RC_NR];

	memset(c, 0, sizeof(c));
	for (size_t r = 0; r < s->nregions; r++) {
		const struct region *reg = &s->regions[r];
		unsigned k = (unsigned)reg->cls < RC_NR ? (unsigned)reg->cls : RC_ANON;
		const struct mem_counts *m = &reg->m;

		c[k].count++;
		c[k].m.size += m->size;
		c[k].m.rss += m->rss;
		c[k].m.pss += m->pss;
		c[k].m.anon += m->anon;
		c[k].m.swap += m->swap;
		c[k].m.locked += m->locked;
		c[k].m.private_dirty += m->private_dirty;
	}
	for (int k = 0; k < RC_NR; k++) {
		sqlite3_stmt *q = st->ins_class;
		int i = 1;

		if (!c[k].count)
			continue;
		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
		sqlite3_bind_int64(q, i++, sid);
		sqlite3_bind_text(q, i++, region_class_name(k), -1, SQLITE_STATIC);
		bind_u64(q, &i, c[k].count);
		bind_u64(q, &i, c[k].m.size);
		bind_u64(q, &i, c[k].m.rss);
		bind_u64(q, &i, c[k].m.pss);
		bind_u64(q, &i, c[k].m.anon);
		bind_u64(q, &i, c[k].m.swap);
		bind_u64(q, &i, c[k].m.locked);
		bind_u64(q, &i, c[k].m.private_dirty);
		if ((ret = step_done(st, q, err)))
			return ret;
	}
	return 0;
}

static int insert_regions(struct store *st, const struct snapshot *s, int64_t sid,
			  struct strbuf *err)
{
	int ret;

	for (size_t r = 0; r < s->nregions; r++) {
		const struct region *reg = &s->regions[r];
		sqlite3_stmt *q = st->ins_region;
		int i = 1;

		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
		sqlite3_bind_int64(q, i++, sid);
		bind_u64(q, &i, reg->start);
		bind_u64(q, &i, reg->end);
		sqlite3_bind_text(q, i++, reg->perms, -1, SQLITE_STATIC);
		bind_u64(q, &i, reg->offset);
		sqlite3_bind_int64(q, i++, reg->dev_major);
		sqlite3_bind_int64(q, i++, reg->dev_minor);
		bind_u64(q, &i, reg->inode);
		sqlite3_bind_text(q, i++, reg->path ? reg->path : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(q, i++, region_class_name(reg->cls), -1, SQLITE_STATIC);
		if (reg->tid)
			sqlite3_bind_int64(q, i, reg->tid);
		i++;
		sqlite3_bind_int(q, i++, reg->guard);
		bind_mem_counts(q, &i, &reg->m);
		if ((ret = step_done(st, q, err)))
			return ret;
	}
	return 0;
}

/* Adds n to meta 'regions_reconciled' (smaps entries of a changing map dropped or cut). */
static int count_reconciled(struct store *st, size_t n, struct strbuf *err)
{
	sqlite3_stmt *q;
	int ret = 0;

	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO meta VALUES ('regions_reconciled', ?1) ON CONFLICT (key)"
			       " DO UPDATE SET value = CAST(value AS INTEGER) + ?1",
			       -1, &q, NULL) != SQLITE_OK)
		return sql_error(st, err, "write");
	sqlite3_bind_int64(q, 1, (sqlite3_int64)n);
	if (sqlite3_step(q) != SQLITE_DONE)
		ret = sql_error(st, err, "write");
	sqlite3_finalize(q);
	return ret;
}

static int insert_threads(struct store *st, const struct snapshot *s, int64_t sid,
			  struct strbuf *err)
{
	for (size_t t = 0; t < s->nthreads; t++) {
		const struct thread *th = &s->threads[t];
		sqlite3_stmt *q = st->ins_thread;

		sqlite3_reset(q);
		sqlite3_clear_bindings(q);
		sqlite3_bind_int64(q, 1, sid);
		sqlite3_bind_int64(q, 2, th->tid);
		sqlite3_bind_text(q, 3, th->name, -1, SQLITE_STATIC);
		if (th->sp)
			sqlite3_bind_int64(q, 4, (sqlite3_int64)th->sp);
		else
			sqlite3_bind_null(q, 4);
		int ret = step_done(st, q, err);

		if (ret)
			return ret;
	}
	return 0;
}

int store_append_snapshot(struct store *st, const struct snapshot *s, unsigned flags,
			  struct strbuf *err)
{
	return store_append_sample(st, s, flags, NULL, NULL, NULL, err);
}

int store_append_sample(struct store *st, const struct snapshot *s, unsigned flags,
			int (*extra)(struct sqlite3 *db, int64_t sample_id, void *ctx,
				     struct strbuf *err),
			void *ctx, int64_t *sample_id, struct strbuf *err)
{
	int64_t proc_id = 0, sid = 0;
	int ret;

	if (st->readonly) {
		strbuf_addf(err, "cannot write '%s': opened read-only", st->path);
		return -EBADF;
	}
	ret = prepare_inserts(st, err);
	if (ret)
		return ret;
	ret = exec(st, "BEGIN IMMEDIATE", "write", err);
	if (ret)
		return ret;
	ret = find_process(st, s, &proc_id, err);
	if (!ret)
		ret = insert_sample(st, s, proc_id, flags, &sid, err);
	if (!ret)
		ret = insert_classes(st, s, sid, err);
	if (!ret && !(flags & STORE_NO_REGIONS))
		ret = insert_regions(st, s, sid, err);
	if (!ret && s->reconciled)
		ret = count_reconciled(st, s->reconciled, err);
	if (!ret && !(flags & STORE_NO_THREADS))
		ret = insert_threads(st, s, sid, err);
	if (!ret && extra)
		ret = extra(st->db, sid, ctx, err);
	if (!ret)
		ret = exec(st, "COMMIT", "write", err);
	if (!ret && sample_id)
		*sample_id = sid;
	if (ret)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

int store_count_samples(struct store *st, uint64_t *n, struct strbuf *err)
{
	sqlite3_stmt *q;
	int ret = 0;

	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sample", -1, &q, NULL) != SQLITE_OK)
		return sql_error(st, err, "read");
	if (sqlite3_step(q) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(q, 0);
	else
		ret = sql_error(st, err, "read");
	sqlite3_finalize(q);
	return ret;
}

int store_meta(struct store *st, const char *key, struct strbuf *out, struct strbuf *err)
{
	sqlite3_stmt *q;
	int ret = 0, rc;

	if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = ?", -1, &q, NULL) !=
	    SQLITE_OK)
		return sql_error(st, err, "read");
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	strbuf_reset(out);
	/* A NULL value (a file not written by us) reads as absent. */
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		strbuf_addstr(out, (const char *)sqlite3_column_text(q, 0));
	else if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		ret = -ENOENT;
	else
		ret = sql_error(st, err, "read");
	sqlite3_finalize(q);
	return ret;
}

static uint64_t col_u64(sqlite3_stmt *q, int *i)
{
	return (uint64_t)sqlite3_column_int64(q, (*i)++);
}

static const char *col_text(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);

	return t ? (const char *)t : "";
}

static void col_mem_counts(sqlite3_stmt *q, int *i, struct mem_counts *m)
{
#define MC_READ(f) m->f = col_u64(q, i);
	MEM_COUNTS_COLS(MC_READ)
#undef MC_READ
}

static int read_sample_row(struct store *st, sqlite3_stmt *q, struct snapshot *s,
			   int64_t *proc_id)
{
	struct proc_status *ps = &s->status;
	struct cgroup_mem *cg = &s->cgroup;
	int i = 0;

	*proc_id = sqlite3_column_int64(q, i++);
	s->time_ns = col_u64(q, &i);
	ps->state = col_text(q, i++)[0];
	ps->ppid = (pid_t)sqlite3_column_int64(q, i++);
	ps->threads = sqlite3_column_int(q, i++);
	ps->has_mm = sqlite3_column_int(q, i++);
	ps->vm_peak = col_u64(q, &i);
	ps->vm_size = col_u64(q, &i);
	ps->vm_hwm = col_u64(q, &i);
	ps->vm_rss = col_u64(q, &i);
	ps->rss_anon = col_u64(q, &i);
	ps->rss_file = col_u64(q, &i);
	ps->rss_shmem = col_u64(q, &i);
	ps->vm_swap = col_u64(q, &i);
	ps->sig_blk = col_u64(q, &i);
	ps->sig_ign = col_u64(q, &i);
	ps->sig_cgt = col_u64(q, &i);
	col_mem_counts(q, &i, &s->totals);
	s->totals_from_rollup = !strcmp(col_text(q, i++), "smaps_rollup");
	cg->known = sqlite3_column_type(q, i) != SQLITE_NULL;
	snprintf(cg->path, sizeof(cg->path), "%s", col_text(q, i++));
	cg->limit = sqlite3_column_type(q, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, i);
	i++;
	cg->usage = col_u64(q, &i);
	cg->swap_limit =
		sqlite3_column_type(q, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, i);
	i++;
	cg->swap_usage = col_u64(q, &i);
	return 0;
}

static int read_process(struct store *st, int64_t proc_id, struct snapshot *s,
			struct strbuf *err)
{
	struct proc_status *ps = &s->status;
	sqlite3_stmt *q;
	int ret = 0, i = 0;

	ret = prepare_as(st, &st->rd_proc,
			 "SELECT pid, nspid, start_time, name, cmdline, exe, ruid, euid, rgid,"
			 " egid, is_jvm FROM process WHERE id = ?",
			 "read", err);
	if (ret)
		return ret;
	q = st->rd_proc;
	sqlite3_bind_int64(q, 1, proc_id);
	if (sqlite3_step(q) != SQLITE_ROW) {
		ret = -EBADMSG;
		strbuf_addf(err, "'%s' is damaged: a sample names process %lld, which is absent",
			    st->path, (long long)proc_id);
		goto out;
	}
	s->pid = (pid_t)sqlite3_column_int64(q, i++);
	ps->tgid = s->pid;
	ps->nspid = (pid_t)sqlite3_column_int64(q, i++);
	s->start_time = col_u64(q, &i);
	snprintf(ps->name, sizeof(ps->name), "%s", col_text(q, i++));
	s->cmdline = xstrdup(col_text(q, i++));
	s->exe = xstrdup(col_text(q, i++));
	ps->ruid = (uid_t)sqlite3_column_int64(q, i++);
	ps->euid = (uid_t)sqlite3_column_int64(q, i++);
	ps->rgid = (gid_t)sqlite3_column_int64(q, i++);
	ps->egid = (gid_t)sqlite3_column_int64(q, i++);
	s->is_jvm = sqlite3_column_int(q, i++);
out:
	sqlite3_reset(q);
	return ret;
}

static int read_regions(struct store *st, int64_t sid, struct snapshot *s, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *q;
	int ret = 0, rc;

	/* Addresses >= 2^63 are stored negative: they sort after all others. */
	strbuf_addf(&sql, "SELECT %s FROM region WHERE sample_id = ? ORDER BY start < 0, start",
		    region_cols);
	rc = prepare_as(st, &st->rd_regions, sql.buf, "read", err);
	strbuf_release(&sql);
	if (rc)
		return rc;
	q = st->rd_regions;
	sqlite3_bind_int64(q, 1, sid);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct region *r;
		int cls, i = 1;

		ALLOC_GROW(s->regions, s->nregions + 1, s->alloc_regions);
		r = &s->regions[s->nregions++];
		memset(r, 0, sizeof(*r));
		r->start = col_u64(q, &i);
		r->end = col_u64(q, &i);
		snprintf(r->perms, sizeof(r->perms), "%s", col_text(q, i++));
		r->offset = col_u64(q, &i);
		r->dev_major = (unsigned)sqlite3_column_int64(q, i++);
		r->dev_minor = (unsigned)sqlite3_column_int64(q, i++);
		r->inode = col_u64(q, &i);
		r->path = xstrdup(col_text(q, i++));
		cls = region_class_parse(col_text(q, i++));
		r->cls = cls < 0 ? RC_ANON : (enum region_class)cls;
		r->tid = (pid_t)sqlite3_column_int64(q, i++);
		r->guard = sqlite3_column_int(q, i++);
		col_mem_counts(q, &i, &r->m);
	}
	if (rc != SQLITE_DONE)
		ret = sql_error(st, err, "read");
	sqlite3_reset(q);
	return ret;
}

static int read_threads(struct store *st, int64_t sid, struct snapshot *s, struct strbuf *err)
{
	sqlite3_stmt *q;
	int ret = 0, rc;

	ret = prepare_as(st, &st->rd_threads,
			 "SELECT tid, name, sp FROM thread WHERE sample_id = ? ORDER BY tid", "read",
			 err);
	if (ret)
		return ret;
	q = st->rd_threads;
	sqlite3_bind_int64(q, 1, sid);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct thread *t;

		ALLOC_GROW(s->threads, s->nthreads + 1, s->alloc_threads);
		t = &s->threads[s->nthreads++];
		memset(t, 0, sizeof(*t));
		t->tid = (pid_t)sqlite3_column_int64(q, 0);
		snprintf(t->name, sizeof(t->name), "%s", col_text(q, 1));
		t->sp = (uint64_t)sqlite3_column_int64(q, 2);
	}
	if (rc != SQLITE_DONE)
		ret = sql_error(st, err, "read");
	sqlite3_reset(q);
	return ret;
}

int store_read_snapshot(struct store *st, int64_t n, struct snapshot *s, struct strbuf *err)
{
	struct strbuf sql = STRBUF_INIT;
	sqlite3_stmt *q = NULL;
	int64_t sid, proc_id;
	int ret = 0, rc;

	strbuf_addf(&sql, "SELECT %s, id FROM sample ORDER BY id %s LIMIT 1 OFFSET ?",
		    sample_cols, n < 0 ? "DESC" : "ASC");
	rc = prepare_as(st, &st->rd_sample[n < 0], sql.buf, "read", err);
	strbuf_release(&sql);
	if (rc)
		return rc;
	q = st->rd_sample[n < 0];
	sqlite3_bind_int64(q, 1, n < 0 ? -(n + 1) : n);
	rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		ret = -ENOENT;
		if (n < 0)
			strbuf_addf(err, "'%s' holds no sample", st->path);
		else
			strbuf_addf(err, "'%s' has no sample %lld", st->path, (long long)n);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = sql_error(st, err, "read");
		goto out;
	}
	read_sample_row(st, q, s, &proc_id);
	sid = sqlite3_column_int64(q, SAMPLE_NCOLS);
	ret = read_process(st, proc_id, s, err);
	if (!ret)
		ret = read_regions(st, sid, s, err);
	if (!ret)
		ret = read_threads(st, sid, s, err);
out:
	sqlite3_reset(q);
	return ret;
}

struct sqlite3 *store_db(struct store *st)
{
	return st->db;
}
