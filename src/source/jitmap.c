/*
 * jitmap: asks a live JVM for its perf map (JIT code and its Java names) and reads it.
 *
 * JIT code lives in the JVM's code cache, which no ELF file describes, so a
 * return address in it symbolizes to nothing. HotSpot (JDK 17+) writes the
 * code cache as a perf map on the diagnostic command Compiler.perfmap, to
 * /tmp/perf-<pid>.map where <pid> is its pid in its own namespace and /tmp
 * is its own (read here through /proc/PID/root). The map is a snapshot: code
 * compiled after it is missing, code freed before it is gone, so callers ask
 * for it at the end of what they observe. perfmap.c parses it.
 */
#include "jitmap.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "perfmap.h"
#include "proc.h"
#include "procfs.h"
#include "pslist.h"
#include "strbuf.h"

static double seconds(const struct timespec *ts)
{
	return (double)ts->tv_sec + (double)ts->tv_nsec / 1e9;
}

/*
 * PIDs wrap (pid_max may be 32768), so a map already there may have been left
 * by a dead process that had this PID. A map older than the process is such a
 * leftover: nobody's, and the fetch rewrites it anyway, so it goes like a map
 * the fetch made. A map the JVM wrote before (a user's own jcmd) stays.
 */
bool jitmap_map_kept(pid_t pid, const char *path)
{
	struct timespec boot, real;
	struct stat st;
	uint64_t start;
	long hz = sysconf(_SC_CLK_TCK);

	if (stat(path, &st))
		return false;
	if (hz <= 0 || proc_read_starttime(pid, &start) ||
	    clock_gettime(CLOCK_BOOTTIME, &boot) || clock_gettime(CLOCK_REALTIME, &real))
		return true;
	/* a second of slack: starttime counts ticks, mtime may be coarse */
	return seconds(&real) - seconds(&st.st_mtim) <= seconds(&boot) - (double)start / hz + 1.0;
}

int jitmap_fetch(pid_t pid, int timeout_ms, struct perfmap *m, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT, out = STRBUF_INIT;
	struct attach_proc p;
	char path[PATH_MAX];
	bool existed;
	int status = 0, ret;

	if (pslist_maps_libjvm(pid) != 1) {
		strbuf_addf(err, "process %d is not a JVM", (int)pid);
		ret = -ENODEV;
		goto out;
	}
	if ((ret = procfs_read_pid(pid, "status", &sb, 1u << 20)) ||
	    (ret = attach_parse_status(sb.buf, pid, &p))) {
		strbuf_addf(err, "cannot read the status of process %d", (int)pid);
		goto out;
	}
	/* a JVM that refuses attach would only be sent SIGQUIT for nothing */
	if (!procfs_read_pid(pid, "cmdline", &sb, 1u << 20) &&
	    memmem(sb.buf, sb.len, "-XX:+DisableAttachMechanism", 27)) {
		strbuf_addstr(err, "the JVM refuses attach (-XX:+DisableAttachMechanism)");
		ret = -ENOTSUP;
		goto out;
	}
	if ((ret = procfs_path(path, sizeof(path), "/%d/root/tmp/perf-%d.map", (int)pid,
			       (int)p.nspid))) {
		strbuf_addstr(err, "perf map path too long");
		goto out;
	}
	existed = jitmap_map_kept(pid, path);
	ret = attach_jcmd(pid, "Compiler.perfmap", timeout_ms, &status, &out, err);
	if (ret)
		goto out;
	if (status || strstr(out.buf, "Unknown diagnostic command") ||
	    strstr(out.buf, "Exception")) {
		strbuf_addstr(err, "the JVM has no Compiler.perfmap (JDK 17 or later has)");
		ret = -ENOTSUP;
		goto out;
	}
	strbuf_reset(&sb);
	ret = procfs_read_file(path, &sb, 256u << 20);
	if (!existed)
		unlink(path);
	if (ret) {
		strbuf_addf(err, "cannot read '%s': %s", path, strerror(-ret));
		goto out;
	}
	if ((ret = perfmap_parse(m, sb.buf, sb.len, NULL)))
		strbuf_addstr(err, "out of memory reading the perf map");
out:
	strbuf_release(&sb);
	strbuf_release(&out);
	return ret;
}
