/*
 * probe: one look inside a live process for what the series cannot show —
 * its malloc regions (mallocprobe.h: zlib stream states, free chunks) and the JVM's
 * flags, class loaders and string table (jcmds asked and their replies parsed).
 */
#ifndef OFFHEAP_PROBE_H
#define OFFHEAP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mallocprobe.h"

struct doctor_probes;
struct strbuf;

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

/*
 * The instances of the classes cls[0..ncls) (exact names) added up from a
 * GC.class_histogram reply (0 when none is listed). Returns 0 or -EINVAL
 * (not a histogram).
 */
int probe_parse_class_count(const char *text, const char *const *cls, size_t ncls,
			    uint64_t *count);

/*
 * How a 'VM.flags -all' reply lists flag name: 0 not listed (this JVM has
 * no such flag, or keeps it locked), 1 a flag that can be set, 2 an
 * experimental or diagnostic one (it needs -XX:+Unlock...VMOptions).
 */
int probe_flag_listed(const char *text, const char *name);

/* The class loader, string table and zlib object counts of a JVM, from probe_jvm. */
struct jvm_probe {
	bool loaders_ok, strings_ok;	/* which of the replies were read */
	bool histogram_ok;
	struct loader_stats loaders;
	uint64_t strings;		/* string table entries */
	/* from the class histogram: instances, reachable or not */
	uint64_t zlib_objects;		/* java.util.zip.Inflater + Deflater */
	uint64_t direct_objects;	/* java.nio.DirectByteBuffer (+R, read-only) */
	char loaders_error[160];	/* why loaders_ok is false ("" when it is true) */
	char strings_error[160];	/* why strings_ok is false */
	char histogram_error[160];	/* why histogram_ok is false */
};

/*
 * Asks the JVM pid for VM.classloader_stats, VM.stringtable and
 * 'GC.class_histogram -all' (cheap jcmds; -all walks the heap without a
 * GC: zlib and direct buffer objects) and parses them into jp; a request that fails leaves its _ok false
 * and says why in its _error. A request that fails is asked once more: a
 * JVM on a saturated machine may miss one deadline and meet the next; one
 * that misses both is asked nothing more; a string table being resized has
 * no statistics, and is asked again a few times. timeout_ms bounds each
 * request (attach_jcmd).
 */
void probe_jvm(pid_t pid, int timeout_ms, struct jvm_probe *jp);

/*
 * Asks the JVM pid for 'GC.class_histogram' without -all, which runs a full
 * collection first, and sets *direct to the DirectByteBuffer objects still
 * reachable; returns 0, or -1 with why in why[n]. Not a cheap jcmd: the
 * collection stops the JVM for as long as it takes (doctor asks only when
 * its verdict on direct buffers hinges on it, and never with --no-gc).
 */
int probe_direct_live(pid_t pid, int timeout_ms, uint64_t *direct, char *why, size_t n);

/*
 * Asks the JVM pid for 'VM.flags -all' (within timeout_ms) and sets the caps
 * of p (have_flags, max_heap, max_direct, max_metaspace, code_cache,
 * thread_stack, trim_native_flag) when it answers and returns 0; otherwise p
 * is left as it was and -1 is returned with why in why[n].
 */
int probe_jvm_flags(pid_t pid, int timeout_ms, struct doctor_probes *p, char *why, size_t n);

#endif
