/* jitmap: asks a live JVM for its perf map (JIT code and its Java names) and reads it. */
#ifndef OFFHEAP_JITMAP_H
#define OFFHEAP_JITMAP_H

#include <sys/types.h>

struct perfmap;
struct strbuf;

/*
 * For pid, a process with libjvm.so mapped: runs 'jcmd PID Compiler.perfmap'
 * (at most timeout_ms), reads the map the JVM wrote as /tmp/perf-NSPID.map
 * in its own root, and appends it to m (sorted). The file is removed again
 * unless it was there before. Returns 0; -ENODEV when pid is no JVM (or is gone); -ENOTSUP when the
 * JVM refuses attach (-XX:+DisableAttachMechanism) or has no
 * Compiler.perfmap (JDK 16 and older); another -errno when the attach or
 * the read fails. err says why in every failure.
 */
int jitmap_fetch(pid_t pid, int timeout_ms, struct perfmap *m, struct strbuf *err);

#endif
