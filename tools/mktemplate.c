/*
 * mktemplate: writes allocdb_template, the empty recording that offheap record
 * copies instead of executing the schema (store_create_image), as a C file.
 *
 *   mktemplate OUT.c
 *
 * SQLite makes the file in memory from store_schema() and allocdb_schema(),
 * the same SQL store_create and allocdb_open execute, so the template cannot
 * drift from them: the build remakes it whenever the core library changes.
 * OUT.c is written through outfile: whole or not at all.
 */
#include "allocdb.h"
#include "outfile.h"
#include "store.h"
#include "strbuf.h"

#include <sqlite3.h>
#include <stdio.h>

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "mktemplate: %s: %s\n", what, why);
	return 1;
}

/* The empty recording's bytes (sqlite3_free them), or NULL with a message. */
static unsigned char *make_image(sqlite3_int64 *n)
{
	char pragmas[160];
	unsigned char *image = NULL;
	sqlite3 *db = NULL;

	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA page_size = 512; PRAGMA application_id = %d; PRAGMA user_version = %d;",
		 STORE_APPLICATION_ID, STORE_SCHEMA_VERSION);
	if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	    sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, store_schema(), NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, allocdb_schema(), NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK ||
	    !(image = sqlite3_serialize(db, "main", n, 0)))
		fail("the empty recording", db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_close(db);
	return image;
}

int main(int argc, char **argv)
{
	struct strbuf err = STRBUF_INIT;
	struct outfile of;
	unsigned char *image;
	sqlite3_int64 n;
	FILE *f;
	int rc = 1;

	if (argc != 2)
		return fail("usage", "mktemplate OUT.c");
	image = make_image(&n);
	if (!image)
		return 1;
	if (outfile_open(&of, argv[1], true, &err)) {
		fail(argv[1], err.buf);
		goto out;
	}
	f = outfile_stream(&of);
	if (!f) {
		outfile_abort(&of);
		fail(argv[1], "cannot write");
		goto out;
	}
	fprintf(f, "/* Made by tools/mktemplate from store_schema() and allocdb_schema(). */\n"
		   "#include \"allocdb.h\"\n\n"
		   "const size_t allocdb_template_size = %lld;\n"
		   "const unsigned char allocdb_template[] = {",
		(long long)n);
	for (sqlite3_int64 i = 0; i < n; i++)
		fprintf(f, "%s0x%02x,", i % 12 ? " " : "\n\t", image[i]);
	fprintf(f, "\n};\n");
	if (outfile_commit(&of, &err))
		fail(argv[1], err.buf);
	else
		rc = 0;
out:
	sqlite3_free(image);
	strbuf_release(&err);
	return rc;
}
