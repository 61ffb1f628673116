/* perfmap: the JVM's perf map (/tmp/perf-PID.map): JIT code ranges and their Java names. */
#ifndef OFFHEAP_PERFMAP_H
#define OFFHEAP_PERFMAP_H

#include <stddef.h>
#include <stdint.h>

struct strbuf;

struct perfmap_entry {
	uint64_t start, size; /* the code range [start, start + size) */
	char *name; /* as the JVM wrote it, e.g. "long java.util.zip.Inflater.init(boolean)" */
};

struct perfmap {
	struct perfmap_entry *v; /* sorted by start; overlaps resolved to the later line */
	size_t nr, alloc;
};

/*
 * Parses the text of a perf map: lines "START SIZE NAME", START and SIZE in
 * hex with or without 0x (JDK 17+ writes 0x%016lx, older agents bare hex).
 * Lines that do not parse, empty ranges and ranges that wrap are skipped;
 * *skipped (may be NULL) counts them. Appends to m (may already hold
 * entries), then sorts it. Returns 0 or -ENOMEM.
 */
int perfmap_parse(struct perfmap *m, const char *text, size_t len, size_t *skipped);

/* Adds one entry (name copied); call perfmap_sort after the last. Returns 0 or -ENOMEM. */
int perfmap_add(struct perfmap *m, uint64_t start, uint64_t size, const char *name);
void perfmap_sort(struct perfmap *m);

/* The entry holding pc, or NULL. */
const struct perfmap_entry *perfmap_find(const struct perfmap *m, uint64_t pc);

/*
 * How offheap names a frame in the entry: "[java] NAME" for a Java method
 * ("long java.util.zip.Inflater.init(boolean)", "Lfoo/Bar;::baz"), else NAME
 * itself ("Interpreter", "I2C/C2I adapters", "StubRoutines (1)").
 * Written into buf (truncated to n), which is returned.
 */
const char *perfmap_frame_name(const struct perfmap_entry *e, char *buf, size_t n);

void perfmap_release(struct perfmap *m);

#endif
