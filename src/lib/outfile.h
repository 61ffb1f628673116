/* outfile: the one way offheap writes an output file (temporary file, fsync, rename). */
#ifndef OFFHEAP_OUTFILE_H
#define OFFHEAP_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct strbuf;

/*
 * Writing path goes to a temporary file beside it, "DIR/.NAME.tmp-XXXXXX",
 * created with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600; outfile_commit
 * fsyncs it and renames it onto path (then fsyncs the directory), so a
 * reader sees the old file or the whole new one, never half of one.
 *
 * path itself being a symbolic link is refused (-ELOOP), dangling or not:
 * offheap never writes through a link planted at its output path. With
 * overwrite false an existing path is refused (-EEXIST), at open and again
 * at the rename (RENAME_NOREPLACE), so a file that appears meanwhile is kept.
 *
 * Until the commit the temporary file is registered with a handler of
 * SIGINT, SIGTERM, SIGHUP and SIGQUIT that unlinks it before the signal
 * ends the process; outfile_abort (and any failed commit) unlinks it too.
 * At most OUTFILE_MAX files are open at once.
 */
#define OUTFILE_MAX 4

struct outfile {
	char *path;	/* the target */
	char *tmp;	/* the temporary file; NULL once committed or aborted */
	int fd;		/* open on tmp, -1 when closed */
	FILE *f;	/* fdopen(fd) once outfile_stream asked for it */
	int slot;	/* index in the signal handler's table */
	bool overwrite;
};

/* Creates the temporary file of path. Returns 0, or -errno with err filled. */
int outfile_open(struct outfile *of, const char *path, bool overwrite, struct strbuf *err);

/* Writes all of buf to the temporary file (retrying short writes). Returns 0 or -errno. */
int outfile_write(struct outfile *of, const void *buf, size_t len);

/* A stdio stream on the temporary file (owned by of), or NULL with errno. */
FILE *outfile_stream(struct outfile *of);

/*
 * Flushes, fsyncs and closes the temporary file, renames it onto path and
 * fsyncs the directory. Returns 0, or -errno with err filled; on failure the
 * temporary file is gone and path is as it was.
 */
int outfile_commit(struct outfile *of, struct strbuf *err);

/* Closes and unlinks the temporary file unless committed; frees of. Idempotent. */
void outfile_abort(struct outfile *of);

#endif
