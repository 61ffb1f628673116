/* infile: the one way offheap opens a FILE argument it reads (a regular file, never blocking). */
#ifndef OFFHEAP_INFILE_H
#define OFFHEAP_INFILE_H

#include <sys/stat.h>

struct strbuf;

/*
 * A FILE argument (a recording, a dump, its sidecar, an NMT baseline) may be
 * anything someone put at that path: a FIFO, whose open(2) blocks until a
 * writer comes, a device, whose open may do something, or a directory. Only
 * a regular file is read: path is stat(2)ed first and anything else refused
 * unopened; then it is opened with O_NONBLOCK|O_NOCTTY (a FIFO swapped in
 * after the stat opens at once instead of waiting) and the descriptor is
 * fstat(2)ed again, so what is read is what was checked. A final symbolic
 * link is followed (a link to a recording is a fine argument): the checks
 * are on the file it reaches.
 *
 * what names the file for messages ("a recording"; NULL: "a regular file").
 *
 * infile_open returns a descriptor (O_RDONLY, O_CLOEXEC, O_NONBLOCK cleared)
 * that the caller closes, and fills *st when st is not NULL; or a negative
 * errno with err filled: -EISDIR for a directory, -EINVAL for another kind
 * of file ("'F' is a FIFO, not a recording"), the open's or stat's -errno
 * ("cannot open 'F': No such file or directory").
 */
int infile_open(const char *path, const char *what, struct stat *st, struct strbuf *err);

/* infile_open, then close: 0, or -errno with err as above. */
int infile_check(const char *path, const char *what, struct strbuf *err);

/* "a FIFO", "a directory", "a character device"…: what mode's file type is. */
const char *infile_kind(mode_t mode);

#endif
