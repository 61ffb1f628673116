/* jitmap: asks a live JVM for its perf map (JIT code and its Java names) and reads it. */
#ifndef OFFHEAP_JITMAP_H
#define OFFHEAP_JITMAP_H

#include <stdbool.h>
#include <sys/types.h>

struct perfmap;
struct strbuf;

/*
 * For pid, a process with libjvm.so mapped: runs 'jcmd PID Compiler.perfmap'
 * (at most timeout_ms), reads the map the JVM wrote as /tmp/perf-NSPID.map
 * in its own root, and appends it to m (sorted). The file is removed again
 * unless jitmap_map_kept says it was there before. Returns 0; -ENODEV when pid is no JVM (or is gone); -ENOTSUP when the
 * JVM refuses attach (-XX:+DisableAttachMechanism) or has no
 * Compiler.perfmap (JDK 16 and older); another -errno when the attach or
 * the read fails. err says why in every failure.
 */
/*
 * Whether the map at path, about to be asked of pid, is one to keep after
 * reading: true when it is there and was not left by a dead process that had
 * this PID before (PIDs wrap; such a map is older than the process).
 */
bool jitmap_map_kept(pid_t pid, const char *path);

int jitmap_fetch(pid_t pid, int timeout_ms, struct perfmap *m, struct strbuf *err);

#endif
