/* region: the names of the region classes, the JVM library's path, byte counts added up. */
#include "region.h"

#include <string.h>

static const char *const class_names[RC_NR] = {
	[RC_HEAP] = "heap",
	[RC_STACK] = "stack",
	[RC_ARENA] = "arena",
	[RC_ANON] = "anon",
	[RC_LIB] = "lib",
	[RC_JAR] = "jar",
	[RC_FILE] = "file",
	[RC_SHM] = "shm",
	[RC_SPECIAL] = "special",
	[RC_JAVA_HEAP] = "java-heap",
	[RC_CODE_CACHE] = "code-cache",
	[RC_METASPACE] = "metaspace",
};

const char *region_class_name(enum region_class c)
{
	return (unsigned)c < RC_NR ? class_names[c] : "?";
}

int region_class_parse(const char *name)
{
	for (int i = 0; i < RC_NR; i++)
		if (!strcmp(name, class_names[i]))
			return i;
	return -1;
}

void mem_counts_add(struct mem_counts *acc, const struct mem_counts *r)
{
	acc->size += r->size;
	acc->rss += r->rss;
	acc->pss += r->pss;
	acc->shared_clean += r->shared_clean;
	acc->shared_dirty += r->shared_dirty;
	acc->private_clean += r->private_clean;
	acc->private_dirty += r->private_dirty;
	acc->referenced += r->referenced;
	acc->anon += r->anon;
	acc->swap += r->swap;
	acc->swap_pss += r->swap_pss;
	acc->locked += r->locked;
	acc->thp += r->thp;
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

bool region_path_is_libjvm(const char *path, size_t len)
{
	return ends_with(path, len, "/libjvm.so") || ends_with(path, len, "/libjvm.so (deleted)");
}
