/* proc: per-process facts from /proc — status, start time, threads, command line, cgroup. */
#ifndef OFFHEAP_PROC_H
#define OFFHEAP_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct strbuf;

/* The lines of /proc/PID/status that were found (struct proc_status.seen). */
enum proc_status_seen {
	PROC_SEEN_NAME = 1 << 0,
	PROC_SEEN_STATE = 1 << 1,
	PROC_SEEN_UID = 1 << 2,
	PROC_SEEN_GID = 1 << 3,
	PROC_SEEN_SIGIGN = 1 << 4,
	PROC_SEEN_SIGCGT = 1 << 5,
	PROC_SEEN_NSPID = 1 << 6,	/* NSpid: or, without it, NStgid: (Linux 4.1+) */
};

/* From /proc/PID/status; sizes in bytes. */
struct proc_status {
	char name[64];		/* Name: (comm) */
	char state;		/* R, S, D, Z … */
	pid_t tgid, ppid, nspid;	/* nspid: last NSpid (pid inside its namespace) */
	uid_t ruid, euid;
	gid_t rgid, egid;
	int threads;
	uint64_t vm_peak, vm_size, vm_hwm, vm_rss, rss_anon, rss_file, rss_shmem, vm_swap;
	uint64_t sig_blk, sig_ign, sig_cgt;
	bool has_mm;		/* false for kernel threads and zombies (no Vm* lines) */
	unsigned seen;		/* enum proc_status_seen */
};

struct thread {
	pid_t tid;
	char name[64];		/* comm of the thread */
	uint64_t sp;		/* stack pointer when sampled, 0 when not known */
};

/* Memory cgroup of the process (cgroup v2, or v1's memory controller). */
struct cgroup_mem {
	bool known;		/* found and read */
	char path[512];		/* path inside the cgroup hierarchy */
	int64_t limit;		/* memory.max / limit_in_bytes; -1 = unlimited */
	uint64_t usage;		/* memory.current / usage_in_bytes */
	int64_t swap_limit;	/* memory.swap.max; -1 unlimited or not known */
	uint64_t swap_usage;	/* memory.swap.current */
};

/*
 * Parses /proc/PID/status text into st. Lines it does not know are
 * skipped; a known line with a malformed value gives -EINVAL (err names it).
 * Sizes become bytes; st->seen says which lines were there, for a caller
 * that needs some (attach: Uid, Gid, SigIgn, SigCgt). proc_status_scan
 * requires no line; proc_status_parse refuses a status without "Name:".
 */
int proc_status_scan(const char *text, size_t len, struct proc_status *st, struct strbuf *err);
int proc_status_parse(const char *text, size_t len, struct proc_status *st, struct strbuf *err);
int proc_status_read(pid_t pid, struct proc_status *st, struct strbuf *err);

/*
 * Parses /proc/PID/stat for field 22, starttime (clock ticks after boot):
 * with the PID it names one process for good, even when PIDs are reused.
 * The comm field may hold spaces and parentheses, so fields are counted
 * from the last ')'.
 */
int proc_stat_starttime(const char *text, size_t len, uint64_t *starttime);
int proc_read_starttime(pid_t pid, uint64_t *starttime);

/* Whether pid is a kernel thread (PF_KTHREAD in /proc/PID/stat's flags). */
int proc_read_kthread(pid_t pid, bool *kthread);

/*
 * Parses /proc/PID/task/TID/syscall for the stack pointer: "NR a0…a5 SP PC"
 * in a syscall, "-1 SP PC" blocked outside one, "running" (no SP: *sp = 0).
 */
int proc_syscall_sp(const char *text, size_t len, uint64_t *sp);

/*
 * Lists the threads of pid with their names and, unless skip_sp, their stack
 * pointers. Threads that exit during the walk are left out. *threads is
 * malloc'd (caller frees). -ESRCH when the process is gone.
 */
int proc_threads_read(pid_t pid, bool skip_sp, struct thread **threads, size_t *n);

/*
 * Parses /proc/PID/limits for the soft "Max stack size" in bytes (0 when
 * unlimited or absent): the size glibc gives a thread's stack by default.
 */
uint64_t proc_limits_stack(const char *text, size_t len);

/* argv joined by single spaces (caller frees); "" for kernel threads. */
int proc_cmdline_read(pid_t pid, char **out);
/* The executable's path (caller frees); "" when it cannot be read. */
char *proc_exe_read(pid_t pid);

/*
 * Parses /proc/PID/cgroup and reads the memory controller's limit and usage
 * (v2: memory.max/current/swap.*; v1: memory.limit_in_bytes/usage_in_bytes)
 * under the system root's /sys/fs/cgroup. cg->known stays false when there
 * is no memory controller to read; that is not an error.
 */
int proc_cgroup_parse(const char *text, size_t len, struct cgroup_mem *cg);
void proc_cgroup_read(pid_t pid, struct cgroup_mem *cg);

#endif
