/* pslist: every process with its memory totals from /proc/PID/status, and which ones are JVMs. */
#ifndef OFFHEAP_PSLIST_H
#define OFFHEAP_PSLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hsperf.h"

/* Tri-state answers: yes, no, or could not tell (permission). */
enum ps_tri { PS_NO = 0, PS_YES = 1, PS_UNKNOWN = -1 };

struct ps_proc {
	pid_t pid;
	pid_t ppid;
	uid_t uid;		/* effective uid (second field of Uid:) */
	bool have_uid;
	char name[64];		/* Name: (comm), "?" when status says nothing */
	char state;		/* first letter of State:, '?' when absent */
	char *cmdline;		/* argv joined by spaces (owned), NULL when empty/unreadable */
	int threads;		/* Threads:, -1 when absent */
	bool have_mem;		/* status had VmRSS (false: unreadable or malformed) */
	uint64_t rss;		/* VmRSS, bytes */
	uint64_t anon;		/* RssAnon, bytes */
	uint64_t file;		/* RssFile, bytes */
	uint64_t shmem;		/* RssShmem, bytes */
	uint64_t swap;		/* VmSwap, bytes */
	enum ps_tri jvm;	/* libjvm.so is mapped */
	enum hsperf_nmt nmt;	/* for JVMs: NMT level from hsperfdata, UNKNOWN otherwise */
};

/*
 * Parses the text of /proc/PID/status into p (which the caller zeroed and
 * whose pid is set). Lines it does not know, or cannot read, are ignored.
 * Returns true when it looks like a kernel thread (no memory lines, and a
 * child of kthreadd or kthreadd itself).
 */
bool pslist_parse_status(const char *text, struct ps_proc *p);

/*
 * Does pid map libjvm.so (region_path_is_libjvm on each line of /proc/PID/maps)?
 * 1 yes, 0 no, -errno when maps cannot be read.
 */
int pslist_maps_libjvm(pid_t pid);

/*
 * Is pid a JVM: pslist_maps_libjvm as a tri-state. PS_UNKNOWN when maps cannot
 * be read for want of rights (another user's process without root); any other
 * failure, a gone process included, is PS_NO.
 */
enum ps_tri pslist_is_jvm(pid_t pid);

/* Which processes pslist_scan keeps, and how much it reads about each. */
enum {
	PSLIST_JVM_ONLY = 1 << 0,	/* only processes with libjvm.so mapped */
	PSLIST_NO_CMDLINE = 1 << 1,	/* do not read cmdline */
	PSLIST_NO_NMT = 1 << 2,		/* do not open hsperfdata of JVMs */
};

/*
 * Reads every process of the proc root: status, cmdline, maps (JVM mark),
 * and hsperfdata of JVMs (NMT level). Kernel threads and zombies are left
 * out; processes that exit during the scan are skipped silently; a process
 * whose files cannot be read is kept with what status gives. *out is
 * malloc'd (free with pslist_free). Returns 0 or -errno (the proc root
 * cannot be listed).
 */
int pslist_scan(unsigned flags, struct ps_proc **out, size_t *n);
void pslist_free(struct ps_proc *v, size_t n);

enum ps_sort { PS_SORT_RSS, PS_SORT_ANON, PS_SORT_SWAP, PS_SORT_PID };
/* Largest first (PID: ascending); ties by PID. */
void pslist_sort(struct ps_proc *v, size_t n, enum ps_sort key);
/* "rss" … "pid" → key; -1 when unknown. */
int pslist_sort_parse(const char *s);

#endif
