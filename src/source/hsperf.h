/* hsperf: the HotSpot performance-counter file (hsperfdata) that jstat reads, parsed safely. */
#ifndef OFFHEAP_HSPERF_H
#define OFFHEAP_HSPERF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct strbuf;

/* Files larger than this are refused (the JVM's default is 32 KiB, -XX:PerfDataMemorySize). */
#define HSPERF_MAX_SIZE (16u << 20)

/* One counter. Strings and names point into the owning struct hsperf's copy of the file. */
struct hsperf_entry {
	const char *name;	/* NUL-terminated, inside the entry */
	char type;		/* 'J' long, 'B' byte array (a string when units == 5) */
	uint8_t units;		/* 1 none, 2 bytes, 3 ticks, 4 events, 5 string, 6 hertz */
	uint8_t variability;	/* 1 constant, 2 monotonic, 3 variable */
	int64_t value;		/* 'J': the value */
	const char *str;	/* 'B': the bytes, not necessarily NUL-terminated */
	size_t str_len;		/* 'B': bytes up to the first NUL (or the vector's end) */
};

struct hsperf {
	pid_t pid;			/* the JVM (0 when parsed from a buffer) */
	int fd;				/* the open file, -1 when parsed from a buffer */
	char path[4096];		/* where the file is, for messages */
	unsigned char *data;		/* a private copy of the file, size bytes (owned) */
	size_t size;
	bool big_endian;		/* prologue byte 4 == 0 */
	uint8_t major, minor;		/* format version (2.0 since JDK 6) */
	bool accessible;		/* the JVM finished writing the prologue */
	int32_t num_entries;		/* as the prologue says */
	int64_t mod_time_stamp;		/* ticks of the last change to the entry list */
	struct hsperf_entry *entries;	/* the valid entries, in file order (owned) */
	size_t nr, alloc;
	bool partial;			/* a malformed entry stopped the walk; nr < num_entries */
};

#define HSPERF_INIT { .fd = -1 }

/* What -XX:NativeMemoryTracking says, as far as hsperfdata shows it. */
enum hsperf_nmt {
	HSPERF_NMT_UNKNOWN = -1,	/* no java.rt.vmArgs (e.g. the file is unreadable) */
	HSPERF_NMT_OFF = 0,
	HSPERF_NMT_SUMMARY,
	HSPERF_NMT_DETAIL,
};

/*
 * Finds the hsperfdata file of pid: <tmp>/hsperfdata_<user>/<nspid>, where
 * tmp is /proc/PID/root/tmp (the JVM's own /tmp, also inside a container),
 * else /tmp, and user is any (the JVM's, which may differ from ours).
 * Does not open it. Returns 0 and the path in buf, or -errno with err set:
 * -ESRCH no such process, -ENOENT no file (not a JVM, or -XX:-UsePerfData),
 * -ELOOP the only file for it is behind an hsperfdata_* symlink (not followed).
 */
int hsperf_find(pid_t pid, char *buf, size_t n, struct strbuf *err);

/*
 * Opens and parses the hsperfdata file of pid. The file must be a regular
 * file (never a symlink), owned by the process's effective uid, at most
 * HSPERF_MAX_SIZE bytes, and mapped by the live process (else it is left
 * over from an earlier process with the same pid). Returns 0, or -errno with
 * err set: as hsperf_find, and -ELOOP (a symlink), -EPERM (wrong owner or not
 * a regular file), -ESTALE (not mapped by the process), -EFBIG, -EPROTO (not
 * hsperfdata), -EAGAIN (the JVM is still starting).
 * h must be HSPERF_INIT or released; release it after either outcome.
 */
int hsperf_open(struct hsperf *h, pid_t pid, struct strbuf *err);

/*
 * Re-reads the open file and parses it again (counters change, entries are
 * appended while the JVM runs). Pointers from earlier lookups become invalid.
 * Returns as hsperf_open.
 */
int hsperf_refresh(struct hsperf *h, struct strbuf *err);

/*
 * Parses len bytes of hsperfdata (copied). Every offset and length is
 * checked against len; the entry walk is bounded by num_entries and by len.
 * Returns 0 (h->partial when a bad entry cut the walk short), or -EPROTO
 * (a bad prologue) / -EAGAIN (not accessible yet) with err set.
 */
int hsperf_parse(struct hsperf *h, const void *buf, size_t len, struct strbuf *err);

/* Frees what h holds and closes the file; h is HSPERF_INIT afterwards. */
void hsperf_release(struct hsperf *h);

/* The entry with this name, or NULL. Valid until the next refresh/release. */
const struct hsperf_entry *hsperf_lookup(const struct hsperf *h, const char *name);
/* A 'J' counter: 0, or -ENOENT (absent) / -EINVAL (not a long). */
int hsperf_get_long(const struct hsperf *h, const char *name, int64_t *val);
/* A 'B' counter as a malloc'd NUL-terminated string (caller frees), or NULL. */
char *hsperf_get_string(const struct hsperf *h, const char *name);

/*
 * The Java heap from the generations hsperfdata exports (Serial, Parallel,
 * G1): the sum of their spaces' use, their capacity and maxCapacity, in
 * bytes; 0 where none is exported (ZGC, Shenandoah).
 */
void hsperf_heap(const struct hsperf *h, uint64_t *used, uint64_t *committed, uint64_t *max);

/* The NMT level from -XX:NativeMemoryTracking= in java.rt.vmArgs (the last one wins). */
enum hsperf_nmt hsperf_nmt(const struct hsperf *h);
/* "off", "summary", "detail", "?" */
const char *hsperf_nmt_name(enum hsperf_nmt m);

/* What the rest of offheap wants to know about a JVM. Counts are -1 when absent. */
struct hsperf_vm {
	enum hsperf_nmt nmt;
	int64_t threads_live, threads_daemon, threads_peak, threads_started;
	int64_t classes_loaded, classes_unloaded;	/* including shared (CDS) classes */
	int64_t metaspace_capacity, metaspace_used;	/* bytes */
	int64_t ccs_capacity, ccs_used;			/* compressed class space, bytes */
	int64_t nmethod_code_size;			/* bytes of JIT-compiled code */
	int64_t start_time_ms;				/* VM start, ms since the epoch */
	int64_t uptime_ms;				/* as hsperf_uptime_ms, now */
	char *command;		/* sun.rt.javaCommand (main class and arguments), or NULL */
	char *vm_version;	/* java.property.java.vm.version, or NULL */
	char *vm_name;		/* java.property.java.vm.name, or NULL */
};

/*
 * How long the JVM has run at now_ms (ms since the epoch), in ms:
 * sun.os.hrt.ticks / sun.os.hrt.frequency where the JVM exports the ticks
 * (JDK 24 and older, refreshed every 50 ms by its StatSampler), else
 * now_ms - sun.rt.createVmBeginTime (JDK 25 removed the sampler and the
 * ticks, JDK-8241678; its jstat -t counts from createVmBeginTime too).
 * now_ms < 0 means no clock (a file parsed from a buffer): ticks only.
 * Returns -1 when neither way is open.
 */
int64_t hsperf_uptime_ms(const struct hsperf *h, int64_t now_ms);

/*
 * Fills vm from h; strings are malloc'd, freed by hsperf_vm_release. The
 * uptime is taken at the current time when h is a live JVM's file.
 */
void hsperf_vm_info(const struct hsperf *h, struct hsperf_vm *vm);
void hsperf_vm_release(struct hsperf_vm *vm);

#endif
