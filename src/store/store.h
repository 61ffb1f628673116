/* store: snapshots and recordings in one SQLite file (docs/SCHEMA.md is the format). */
#ifndef OFFHEAP_STORE_H
#define OFFHEAP_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

struct snapshot;
struct sqlite3;
struct strbuf;

/*
 * A file is a series of samples of one or more processes; a snapshot file
 * is a recording of one sample. The file is marked as ours by
 * PRAGMA application_id = STORE_APPLICATION_ID and carries its schema
 * version in PRAGMA user_version. A reader refuses versions newer than
 * STORE_SCHEMA_VERSION.
 */
#define STORE_APPLICATION_ID 0x4f464850	/* "OFHP" */
#define STORE_SCHEMA_VERSION 1

struct store;

enum store_kind {
	STORE_SNAPSHOT,		/* meta kind = "snapshot": one sample */
	STORE_RECORDING,	/* meta kind = "recording": a series */
};

/*
 * Creates a new file at path, atomically, through outfile (outfile.h): a
 * temporary file in the same directory, which store_commit fsyncs and
 * renames onto path; a symbolic link at path is refused. Until then path is
 * untouched; store_close without a commit (or any failure, or a fatal
 * signal) unlinks the temporary file.
 * With overwrite false the commit fails with -EEXIST if path exists by then;
 * store_create checks it first too, so no work is wasted.
 * Returns 0 and *out (freed by store_close), or -errno with err filled.
 */
int store_create(const char *path, enum store_kind kind, bool overwrite, struct store **out,
		 struct strbuf *err);

/*
 * As store_create, but the file starts as a copy of image (n bytes), an
 * empty file of ours made at build time with more tables than the store's
 * own (record's empty recording: allocdb_template). Writing it costs less
 * than executing the schema: 1.3 ms, a tenth of a short recording's CPU
 * time in the recorder. The meta rows are written as by store_create.
 * -EINVAL when image is not an SQLite file with our application id.
 */
int store_create_image(const char *path, enum store_kind kind, const void *image, size_t n,
		       bool overwrite, struct store **out, struct strbuf *err);

/* The store's own tables (docs/SCHEMA.md), as SQL: for tools/mktemplate. */
const char *store_schema(void);

enum store_append_flags {
	STORE_NO_REGIONS = 1 << 0,	/* keep class totals only (long recordings) */
	STORE_NO_THREADS = 1 << 1,	/* leave the thread table empty for this sample */
};

/*
 * Appends one sample of s (process row found or added by pid + start_time),
 * its class totals, and unless flags say otherwise its regions and threads,
 * in one transaction: a failure leaves the file as it was.
 * Returns 0, or -errno (-EIO for an SQLite failure) with err filled.
 */
int store_append_snapshot(struct store *st, const struct snapshot *s, unsigned flags,
			  struct strbuf *err);

/*
 * As store_append_snapshot, and then, inside the same transaction, extra(db,
 * sample id, ctx) writes the caller's rows for this sample (series: the JVM
 * tables); its failure rolls the whole sample back. *sample_id (may be
 * NULL) gets the new sample's id.
 */
int store_append_sample(struct store *st, const struct snapshot *s, unsigned flags,
			int (*extra)(struct sqlite3 *db, int64_t sample_id, void *ctx,
				     struct strbuf *err),
			void *ctx, int64_t *sample_id, struct strbuf *err);

/*
 * Makes a created file visible at its path: fsync, rename, fsync of the
 * directory. A recording stays open for more appends, which then go to the
 * file at its final path. Returns 0 or -errno with err filled (the
 * temporary file is then unlinked by store_close).
 */
int store_commit(struct store *st, struct strbuf *err);

/*
 * Opens an existing file read-only and checks it is ours. Errors, each with
 * its own message in err: -ENOENT/-EACCES… (cannot open), -ENODATA (empty
 * file), -ENOTSUP (not an SQLite database, e.g. a text file), -EPROTO (an
 * SQLite database of another program, or of a newer offheap), -EBADMSG
 * (truncated or corrupt). Returns 0 and *out (freed by store_close).
 */
int store_open(const char *path, struct store **out, struct strbuf *err);

/*
 * store_open for an image of such a file held in memory (len bytes at data,
 * copied), named name in messages: the same checks and errors, read-only,
 * no file. For the fuzzers, which would otherwise write a file per input.
 */
int store_open_image(const void *data, size_t len, const char *name, struct store **out,
		     struct strbuf *err);

/*
 * Opens path to add rows to it (tracedb: the trace_* tables): an existing
 * file of ours is opened read-write after store_open's checks (a symbolic
 * link at path is refused, -ELOOP); an absent one is made by store_create
 * (a recording) and is visible only after store_commit. Returns 0 and *out
 * (freed by store_close), or -errno with err filled.
 */
int store_open_append(const char *path, struct store **out, struct strbuf *err);

/* The path st was created or opened at (for messages). */
const char *store_path(const struct store *st);

/* Frees st; NULL is a no-op. An uncommitted created file is unlinked. */
void store_close(struct store *st);

/* The number of samples in the file. Returns 0 or -errno with err filled. */
int store_count_samples(struct store *st, uint64_t *n, struct strbuf *err);

/*
 * Reads sample number n (0 = the first, in the order they were appended;
 * -1 = the last) into s, which must be initialised and empty; the caller
 * releases it with snapshot_release. A sample stored without regions or
 * threads comes back with none. Returns 0, -ENOENT when there is no such
 * sample, or -errno with err filled.
 */
int store_read_snapshot(struct store *st, int64_t n, struct snapshot *s, struct strbuf *err);

/* The value of a meta key into out (replacing it); -ENOENT when absent. */
int store_meta(struct store *st, const char *key, struct strbuf *out, struct strbuf *err);

/*
 * The SQLite handle of st, for modules that keep their own tables in the same
 * file (allocdb: the alloc_* tables). Owned by st; NULL between a failed
 * commit and store_close.
 */
struct sqlite3 *store_db(struct store *st);

#endif
