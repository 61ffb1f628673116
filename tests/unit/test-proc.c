/* Unit tests for proc: status, stat, syscall and cgroup parsers, on real and hostile text. */
#include "proc.h"
#include "strbuf.h"
#include "tap.h"

#include <string.h>

static const char status[] =
	"Name:\tjava\n"
	"Umask:\t0022\n"
	"State:\tS (sleeping)\n"
	"Tgid:\t4242\n"
	"PPid:\t1\n"
	"Uid:\t1000\t1001\t1001\t1001\n"
	"Gid:\t100\t101\t101\t101\n"
	"NSpid:\t4242\t7\n"
	"VmPeak:\t  5000 kB\n"
	"VmSize:\t  4000 kB\n"
	"VmHWM:\t  300 kB\n"
	"VmRSS:\t  200 kB\n"
	"RssAnon:\t  150 kB\n"
	"RssFile:\t  40 kB\n"
	"RssShmem:\t  10 kB\n"
	"VmSwap:\t  5 kB\n"
	"Threads:\t19\n"
	"SigBlk:\t0000000000000000\n"
	"SigIgn:\t0000000000000001\n"
	"SigCgt:\t2000000181005ccf\n";

int main(void)
{
	struct strbuf err = STRBUF_INIT;
	struct proc_status st;
	struct cgroup_mem cg;
	uint64_t v;

	ok(proc_status_parse(status, strlen(status), &st, &err) == 0, "status parses");
	is_str(st.name, "java", "name");
	ok(st.state == 'S', "state");
	is_int(st.tgid, 4242, "tgid");
	is_int(st.nspid, 7, "nspid is the last NSpid number");
	is_int(st.ruid, 1000, "real uid");
	is_int(st.euid, 1001, "effective uid");
	is_int(st.egid, 101, "effective gid");
	is_int(st.threads, 19, "threads");
	is_u64(st.vm_rss, 200 * 1024, "VmRSS in bytes");
	is_u64(st.rss_anon, 150 * 1024, "RssAnon");
	is_u64(st.vm_swap, 5 * 1024, "VmSwap");
	ok(st.has_mm, "has memory");
	ok(st.sig_cgt & 0x4, "catches SIGQUIT");
	ok(!(st.sig_ign & 0x4), "does not ignore SIGQUIT");

	ok(proc_status_parse("Name:\tkthreadd\nTgid:\t2\nThreads:\t1\n", 34, &st, &err) == 0 &&
		   !st.has_mm && st.nspid == 2,
	   "a kernel thread has no memory; nspid falls back to tgid");
	ok(proc_status_parse("Tgid:\t2\n", 8, &st, &err) < 0, "no Name: refused");
	ok(proc_status_parse("Name:\tx\nVmRSS:\t12 MB\n", 22, &st, &err) < 0,
	   "a size not in kB refused");
	ok(proc_status_parse("Name:\tx\nThreads:\t99999999999999999999999\n", 38, &st, &err) < 0,
	   "an overflowing number refused");
	ok(proc_status_parse("Name:\tx\nUid:\t\n", 14, &st, &err) < 0, "an empty Uid refused");
	ok(proc_status_scan("Tgid:\t2\nSigIgn:\t0\n", 18, &st, &err) == 0 &&
		   st.seen == PROC_SEEN_SIGIGN,
	   "scan: no Name: needed, seen says which lines were there");
	ok(proc_status_scan("NStgid:\t40\t4\nNSpid:\t41\t5\n", 25, &st, &err) == 0 &&
		   st.nspid == 5 && (st.seen & PROC_SEEN_NSPID),
	   "scan: NSpid wins over NStgid");
	ok(proc_status_scan("NStgid:\t40\t4\n", 13, &st, &err) == 0 && st.nspid == 4,
	   "scan: NStgid stands in for a missing NSpid");
	ok(proc_status_scan("SigCgt:\t4 x\n", 12, &st, &err) < 0, "scan: a mask with garbage refused");
	ok(proc_status_scan("NSpid:\t0\n", 9, &st, &err) < 0, "scan: NSpid 0 refused");

	{
		const char *stat = "4242 (a) b) (c) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 "
				   "19 0 987654 4096000 50 18446744073709551615\n";

		ok(proc_stat_starttime(stat, strlen(stat), &v) == 0 && v == 987654,
		   "starttime after a comm with ') ('");
		ok(proc_stat_starttime("4242 (x) S 1 2", 14, &v) < 0, "short stat refused");
		ok(proc_stat_starttime("no paren", 8, &v) < 0, "stat without comm refused");
	}

	{
		const char *in_call = "230 0x0 0x0 0x7ffd0 0x7ffd0 0x0 0x5654 0x7ffdc46d7190 0x7fe29\n";
		const char *blocked = "-1 0x7f0000001000 0x7f0000002000\n";

		ok(proc_syscall_sp(in_call, strlen(in_call), &v) == 0 && v == 0x7ffdc46d7190,
		   "SP of a thread in a system call");
		ok(proc_syscall_sp(blocked, strlen(blocked), &v) == 0 && v == 0x7f0000001000,
		   "SP of a thread blocked outside one");
		ok(proc_syscall_sp("running\n", 8, &v) == 0 && v == 0, "a running thread has no SP");
		ok(proc_syscall_sp("230 0x0\n", 8, &v) < 0, "truncated syscall line refused");
		ok(proc_syscall_sp("", 0, &v) < 0, "empty syscall refused");
	}

	{
		const char *v1 = "9:name=systemd:/\n4:cpu,memory:/kube/pod1\n0::/\n";
		const char *v2 = "0::/system.slice/x.service\n";

		is_int(proc_cgroup_parse(v1, strlen(v1), &cg), 1, "v1 memory controller found");
		is_str(cg.path, "/kube/pod1", "v1 path, from a joint controller list");
		is_int(proc_cgroup_parse(v2, strlen(v2), &cg), 2, "v2 found");
		is_str(cg.path, "/system.slice/x.service", "v2 path");
		ok(proc_cgroup_parse("junk", 4, &cg) < 0, "junk has no cgroup");
	}
	{
		const char *lim = "Limit                     Soft Limit           Hard Limit           Units     \n"
				  "Max stack size            8388608              unlimited            bytes     \n";

		is_u64(proc_limits_stack(lim, strlen(lim)), 8388608, "soft stack limit");
		is_u64(proc_limits_stack("Max stack size unlimited", 24), 0, "unlimited is 0");
		is_u64(proc_limits_stack("junk", 4), 0, "absent is 0");
	}
	strbuf_release(&err);
	return done_testing();
}
