/*
 * fuzz-proc: the small /proc/PID files, each input given to every parser
 * (they skip what is not theirs): status (proc.c, pslist.c, attach.c each
 * read it), stat, cgroup, task/TID/syscall, limits, sched.
 */
#include "fuzz.h"

#include "attach.h"
#include "proc.h"
#include "pslist.h"
#include "snapshot.h"
#include "strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_dup(data, size), *str = fuzz_strdup(data, size);
	struct strbuf err = STRBUF_INIT;
	struct proc_status st;
	struct ps_proc ps;
	struct attach_proc ap;
	struct cgroup_mem cg;
	uint64_t v;
	pid_t pid;

	proc_status_parse(text, size, &st, &err);
	memset(&ps, 0, sizeof(ps));
	ps.pid = 4242;
	pslist_parse_status(str, &ps);
	free(ps.cmdline);
	memset(&ap, 0, sizeof(ap));
	attach_parse_status(str, 4242, &ap);
	attach_parse_sched_pid(str, &pid);
	proc_stat_starttime(text, size, &v);
	proc_cgroup_parse(text, size, &cg);
	proc_syscall_sp(text, size, &v);
	proc_limits_stack(text, size);
	strbuf_release(&err);
	free(str);
	free(text);
	return 0;
}
