/*
 * probe: one look inside a live process for what the series cannot show —
 * its malloc regions (zlib stream states, free chunks) and the JVM's
 * flags, class loaders and string table (jcmds asked and their replies parsed).
 */
#ifndef OFFHEAP_PROBE_H
#define OFFHEAP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct doctor_probes;
struct strbuf;

/* The glibc malloc regions (brk heap and arenas) read and analysed. */
struct malloc_probe {
	uint64_t regions, bytes;	/* regions read and their bytes */
	uint64_t rss;			/* their resident bytes */
	uint64_t zlib_states;		/* zlib inflate/deflate states found in them */
	uint64_t inuse, free;		/* bytes in chunks in use and free, from the chunk walks */
	uint64_t arenas;		/* arena heaps (class arena, not reserves) */
	bool truncated;			/* limit reached: the rest was not read */
};

/*
 * Reads the brk heap and arena heaps of pid (at most limit bytes, largest
 * resident first) with process_vm_readv — the target is not stopped — and
 * counts zlib states and walks the malloc chunks. Returns 0 or -errno with
 * err filled (-ESRCH when the process is gone).
 */
int probe_malloc(pid_t pid, uint64_t limit, struct malloc_probe *out, struct strbuf *err);

/* VM.classloader_stats: the loader type with the most instances. */
struct loader_stats {
	char top_type[160];
	uint64_t top_count;	/* loaders of that type */
	uint64_t top_classes;	/* classes they hold */
	uint64_t loaders;	/* loaders in all */
	uint64_t classes;	/* classes in all */
};

/* Parses a VM.classloader_stats reply. Returns 0 or -EINVAL (no loader line). */
int probe_parse_loaders(const char *text, struct loader_stats *out);

/* Parses "Number of entries : N" of a VM.stringtable (or VM.symboltable) reply. */
int probe_parse_table_entries(const char *text, uint64_t *entries);

/* The class loader and string table statistics of a JVM, from probe_jvm. */
struct jvm_probe {
	bool loaders_ok, strings_ok;	/* which of the two replies were read */
	struct loader_stats loaders;
	uint64_t strings;		/* string table entries */
	char loaders_error[160];	/* why loaders_ok is false ("" when it is true) */
	char strings_error[160];	/* why strings_ok is false */
};

/*
 * Asks the JVM pid for VM.classloader_stats and VM.stringtable (two cheap
 * jcmds) and parses them into jp; a request that fails leaves its _ok false
 * and says why in its _error. A request that fails is asked once more: a
 * JVM on a saturated machine may miss one deadline and meet the next; one
 * that misses both is not asked for the string table. timeout_ms bounds
 * each request (attach_jcmd).
 */
void probe_jvm(pid_t pid, int timeout_ms, struct jvm_probe *jp);

/*
 * Asks the JVM pid for 'VM.flags -all' (within timeout_ms) and sets the caps of p (have_flags,
 * max_heap, max_direct, max_metaspace, code_cache, thread_stack) when it
 * answers; otherwise p is left as it was.
 */
void probe_jvm_flags(pid_t pid, int timeout_ms, struct doctor_probes *p);

#endif
