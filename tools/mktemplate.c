/*
 * mktemplate: writes allocdb_template, the empty recording that offheap record
 * copies instead of executing the schema (store_create_image), as a C file.
 *
 *   mktemplate OUT.c
 *
 * The file is made by SQLite from store_schema() and allocdb_schema(), the
 * same SQL store_create and allocdb_open execute, so the template cannot
 * drift from them: the build remakes it whenever the core library changes.
 * OUT.c is written whole or not at all (a temporary file, renamed).
 */
#include "allocdb.h"
#include "store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, const char *why)
{
	fprintf(stderr, "mktemplate: %s: %s\n", what, why);
	return 1;
}

/* The empty recording at path; 0, or 1 with a message. */
static int make_db(const char *path)
{
	char pragmas[160];
	sqlite3 *db = NULL;
	int rc;

	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA page_size = 512; PRAGMA application_id = %d; PRAGMA user_version = %d;",
		 STORE_APPLICATION_ID, STORE_SCHEMA_VERSION);
	rc = sqlite3_open(path, &db) != SQLITE_OK ||
	     sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK ||
	     sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	     sqlite3_exec(db, store_schema(), NULL, NULL, NULL) != SQLITE_OK ||
	     sqlite3_exec(db, allocdb_schema(), NULL, NULL, NULL) != SQLITE_OK ||
	     sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK;
	if (rc)
		rc = fail(path, db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_close(db);
	return rc;
}

/* The whole of path into a malloc'ed buffer; NULL with errno. */
static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long size;

	if (!f)
		return NULL;
	errno = 0;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) ||
	    !(buf = malloc((size_t)size)) || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		buf = NULL;
		if (!errno)
			errno = EIO;
	}
	fclose(f);
	*n = buf ? (size_t)size : 0;
	return buf;
}

static int write_c(FILE *f, const unsigned char *b, size_t n)
{
	fprintf(f, "/* Made by tools/mktemplate from store_schema() and allocdb_schema(). */\n"
		   "#include \"allocdb.h\"\n\n"
		   "const size_t allocdb_template_size = %zu;\n"
		   "const unsigned char allocdb_template[] = {",
		n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s0x%02x,", i % 12 ? " " : "\n\t", b[i]);
	fprintf(f, "\n};\n");
	return ferror(f);
}

int main(int argc, char **argv)
{
	char db[4096], tmp[4096];
	unsigned char *image;
	size_t n;
	FILE *f;
	int rc;

	if (argc != 2)
		return fail("usage", "mktemplate OUT.c");
	if ((size_t)snprintf(db, sizeof(db), "%s.db", argv[1]) >= sizeof(db) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]) >= sizeof(tmp))
		return fail(argv[1], "path too long");
	unlink(db);
	if (make_db(db))
		return 1;
	image = slurp(db, &n);
	unlink(db);
	if (!image)
		return fail(db, strerror(errno));
	f = fopen(tmp, "w");
	if (!f) {
		free(image);
		return fail(tmp, strerror(errno));
	}
	rc = write_c(f, image, n);
	free(image);
	if (fclose(f) || rc) {
		unlink(tmp);
		return fail(tmp, "write failed");
	}
	if (rename(tmp, argv[1])) {
		rc = errno;
		unlink(tmp);
		return fail(argv[1], strerror(rc));
	}
	return 0;
}
