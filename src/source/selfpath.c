/*
 * selfpath: where offheap's own pieces are, found from the path of the running binary.
 *
 * No path is compiled in: the layout of an installed tree ($PREFIX/bin/offheap,
 * $PREFIX/lib/offheap/liboffheap.so) is fixed, so the binary finds its library
 * from where it runs, and the build tree (both files in build/) works the same way.
 */
#include "selfpath.h"
#include "strbuf.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The directory of the running binary into buf. Returns 0 or -errno. */
static int self_dir(char *buf, size_t n)
{
	char self[PATH_MAX];
	/* our own binary, never a --proc-root tree's: not through procfs */
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (len < 0)
		return -errno;
	self[len] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	return snprintf(buf, n, "%s", slash == self ? "/" : self) < (int)n ? 0 : -ENAMETOOLONG;
}

int selfpath_tracker(char *buf, size_t n, struct strbuf *err)
{
	static const char *const places[] = { "", "/" SELFPATH_LIBDIR };
	const char *test = getenv("OFFHEAP_TEST_LIBRARY");
	char dir[PATH_MAX];
	int ret;

	if (test && *test)
		return snprintf(buf, n, "%s", test) < (int)n ? 0 : -ENAMETOOLONG;

	ret = self_dir(dir, sizeof(dir));
	if (ret) {
		strbuf_addf(err, "cannot read /proc/self/exe: %s", strerror(-ret));
		return ret;
	}
	strbuf_addstr(err, "no liboffheap.so in");
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		char path[PATH_MAX], real[PATH_MAX];

		if (snprintf(path, sizeof(path), "%s%s/liboffheap.so", dir, places[i]) >=
		    (int)sizeof(path))
			return -ENAMETOOLONG;
		/* "/usr/bin/../lib/offheap/liboffheap.so" shown and preloaded as /usr/lib/… */
		if (!access(path, R_OK) && realpath(path, real)) {
			strbuf_reset(err);
			return snprintf(buf, n, "%s", real) < (int)n ? 0 : -ENAMETOOLONG;
		}
		strbuf_addf(err, "%s '%s%s'", i ? " nor" : "", dir, places[i]);
	}
	return -ENOENT;
}
