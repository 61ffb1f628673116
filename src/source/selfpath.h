/* selfpath: where offheap's own pieces are, found from the path of the running binary. */
#ifndef OFFHEAP_SELFPATH_H
#define OFFHEAP_SELFPATH_H

#include <stddef.h>

struct strbuf;

/* Where `make install` puts the tracker, relative to the directory of the binary. */
#define SELFPATH_LIBDIR "../lib/offheap"

/*
 * Finds liboffheap.so, the tracker that record preloads into a command or
 * loads into a running process. The places, in order:
 *   1. $OFFHEAP_TEST_LIBRARY, when set (the tests' stand-in tracker, t3020);
 *   2. beside the binary (the build tree: build/offheap, build/liboffheap.so);
 *   3. SELFPATH_LIBDIR from the binary's directory (make install, the .deb:
 *      /usr/bin/offheap finds /usr/lib/offheap/liboffheap.so).
 * The binary is /proc/self/exe, the live one whatever --proc-root says, with
 * its symbolic links resolved: a link to an installed offheap finds the
 * library of the tree it points into, and an installed tree can be moved.
 * Returns 0 with the path in buf, or -errno (-ENOENT when no place holds a
 * readable file; err then lists the places looked at).
 */
int selfpath_tracker(char *buf, size_t n, struct strbuf *err);

#endif
