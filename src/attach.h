/* attach: the HotSpot dynamic attach client — run a diagnostic command inside a live JVM. */
#ifndef OFFHEAP_ATTACH_H
#define OFFHEAP_ATTACH_H

#include <sys/types.h>

struct strbuf;

#define ATTACH_DEFAULT_TIMEOUT_MS 10000

/*
 * Runs one diagnostic command line (e.g. "VM.native_memory summary scale=KB")
 * in the JVM pid, as JDK's jcmd does, speaking protocol 2 where the JVM
 * offers it and protocol 1 otherwise.
 *
 * On return 0 a reply was read: *status is the JVM's status code (0 =
 * executed; the text may still report a problem) and out holds the text
 * after the status line. On failure returns -errno and err says why:
 *   -ESRCH        no such process, or it exited during the attach
 *   -ENOTSUP      not a HotSpot JVM (OpenJ9, or not Java at all)
 *   -ECONNREFUSED the JVM does not listen (attach disabled, stale socket)
 *   -ETIMEDOUT    no socket appeared within timeout_ms
 *   -EACCES/-EPERM not allowed (another user's JVM without root)
 *   -EPROTO       a reply that does not parse
 * Never signals a process that does not catch SIGQUIT. Caller owns out/err.
 */
int attach_jcmd(pid_t pid, const char *cmdline, int timeout_ms, int *status, struct strbuf *out,
		struct strbuf *err);

#endif
