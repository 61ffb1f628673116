/* attach: the HotSpot dynamic attach client — run a diagnostic command inside a live JVM. */
#ifndef OFFHEAP_ATTACH_H
#define OFFHEAP_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct strbuf;

#define ATTACH_DEFAULT_TIMEOUT_MS 10000
/* Replies larger than this are refused (-EFBIG): a JVM never needs more for one command. */
#define ATTACH_MAX_REPLY (64u << 20)

/*
 * Runs one diagnostic command line (e.g. "VM.native_memory summary scale=KB")
 * in the JVM pid, as JDK's jcmd does, speaking protocol 2 where the JVM
 * offers it and protocol 1 otherwise.
 *
 * timeout_ms bounds the whole call: the wait for the attach socket to
 * appear, the connections, and every byte of both requests and replies
 * (one deadline set at the start; a JVM that trickles its reply byte by
 * byte is cut off when it passes, with -ETIMEDOUT and "timed out after Ns
 * waiting for ...").
 *
 * On return 0 a reply was read: *status is the JVM's status code (0 =
 * executed; the text may still report a problem) and out holds the text
 * after the status line. On failure returns -errno and err says why:
 *   -ESRCH        no such process, or it exited during the attach
 *   -ENOTSUP      not a HotSpot JVM (OpenJ9, or not Java at all)
 *   -ECONNREFUSED the JVM does not listen (attach disabled, stale socket)
 *   -ETIMEDOUT    no socket appeared, or the JVM did not answer, within timeout_ms
 *   -EACCES/-EPERM not allowed (another user's JVM without root, unsafe socket)
 *   -EEXIST       someone else's .attach_pid file in the JVM's cwd would defeat the trigger
 *   -EPROTO       a reply that does not parse
 *   -EFBIG        a reply larger than ATTACH_MAX_REPLY
 *   -E2BIG        a command line too long for the protocol
 * Never signals a process that does not catch SIGQUIT, nor one that took over the pid
 * after the look-up (the process is held by a pidfd). Caller owns out/err.
 */
int attach_jcmd(pid_t pid, const char *cmdline, int timeout_ms, int *status, struct strbuf *out,
		struct strbuf *err);

/*
 * Loads the library at path (absolute, as the JVM sees it) into the JVM pid as
 * a JVMTI agent with the attach operation "load": the JVM dlopens it and calls
 * its Agent_OnAttach(vm, options, NULL). Returns 0 when the agent's answer is
 * 0; -EPERM when the JVM refused (JDK 21+ started with
 * -XX:-EnableDynamicAgentLoading, or the agent returned an error: err quotes
 * the JVM's reply); else the errors of attach_jcmd. out holds the reply.
 */
int attach_load(pid_t pid, const char *path, const char *options, int timeout_ms,
		struct strbuf *out, struct strbuf *err);

/*
 * True when pid looks like a HotSpot JVM offheap can attach to: libjvm.so in
 * its memory map, an attach socket, or an hsperfdata file. Sends nothing.
 */
bool attach_is_jvm(pid_t pid);

/*
 * Refuses a JVM that is not HotSpot (OpenJ9, ...): 0 when pid maps no libjvm.so or
 * maps one that exports gHotSpotVMStructs; -EPROTONOSUPPORT with the reason in err
 * when its libjvm.so lacks it; another -errno (in err) when the file cannot be read.
 */
int attach_check_hotspot(pid_t pid, struct strbuf *err);

/* The internals below are exposed for the unit tests (tests/unit/test-attach.c). */

/* What attach needs from /proc/PID/status. */
struct attach_proc {
	pid_t nspid;	  /* pid inside the target's own pid namespace */
	uid_t euid;	  /* effective uid: the socket's owner, the peer the JVM accepts */
	gid_t egid;	  /* effective gid */
	bool quit_caught; /* SigCgt has SIGQUIT and SigIgn does not */
	bool gone;	  /* state Z (zombie) or X (dead) */
	bool nspid_known; /* status had NSpid:/NStgid: (Linux 4.1+) */
};

/*
 * Parses the text of /proc/PID/status for pid (whose number is the nspid
 * when the kernel has no NSpid: line) with proc_status_scan. Returns 0, or
 * -EPROTO when a needed line (Uid:, Gid:, SigCgt:, SigIgn:) is missing or
 * any line proc.c knows is malformed.
 */
int attach_parse_status(const char *text, pid_t pid, struct attach_proc *p);

/*
 * The host pid in the first line of /proc/PID/sched, "java (4242, #threads: 19)",
 * as the kernel prints it for a reader outside the task's pid namespace. Returns 0
 * or -EPROTO. (How to find the nspid on kernels before 4.1, which lack NSpid:.)
 */
int attach_parse_sched_pid(const char *text, pid_t *pid);

/*
 * Appends a protocol 1 request to req: "1" NUL cmd NUL arg0 NUL arg1 NUL
 * arg2 NUL (NULL args are empty). -E2BIG when cmd is over 16 bytes or an
 * argument over 1024 (the JVM's limits); req is then unchanged.
 */
int attach_encode_v1(struct strbuf *req, const char *cmd, const char *arg0, const char *arg1,
		     const char *arg2);
/*
 * Appends a protocol 2 request: "2" NUL size NUL cmd NUL then each argument
 * and NUL, where size counts every byte after its own NUL. -E2BIG over 256 KiB.
 */
int attach_encode_v2(struct strbuf *req, const char *cmd, const char *const *args, size_t nargs);

/*
 * Parses the start of a reply: a decimal status (maybe negative), then "\n".
 * On 0, *status is set and *text_off is where the text begins. -EAGAIN when
 * len bytes are a valid but unfinished status line; -EPROTO otherwise.
 */
int attach_parse_reply(const char *buf, size_t len, int *status, size_t *text_off);

/*
 * Checks that path is safe to connect to: a socket itself (never through a
 * symlink), no group or other permission bits, owned by owner. Returns 0,
 * -ENOENT when absent, -EPERM (err says why) when present but unsafe.
 */
int attach_check_socket(const char *path, uid_t owner, struct strbuf *err);

/*
 * The protocol version and options a "getversion options" reply announces
 * ("2 streaming" → 2, *streaming true). A failed probe (status -1) is 1.
 */
int attach_parse_version(int status, const char *text, bool *streaming);

#endif
