/* Unit tests for pslist: /proc/PID/status parsing (recorded files, hostile lines), sorting. */
#include "pslist.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *load(const char *rel)
{
	const char *dir = getenv("FIXTURES");
	char path[4096];
	static char buf[1 << 16];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc-ps/proc/%s", dir ? dir : "tests/fixtures", rel);
	f = fopen(path, "rb");
	if (!f) {
		printf("Bail out! cannot read %s\n", path);
		exit(1);
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

int main(void)
{
	struct ps_proc p;
	struct ps_proc v[4];

	memset(&p, 0, sizeof(p));
	p.pid = 4695;
	ok(!pslist_parse_status(load("4695/status"), &p), "JVM: not a kernel thread");
	is_str(p.name, "java", "JVM: name");
	ok(p.rss == 81892ull * 1024 && p.anon == 51100ull * 1024 && p.file == 30792ull * 1024,
	   "JVM: rss, anon, file in bytes");
	ok(p.have_mem && p.swap == 0 && p.threads == 19 && p.have_uid && p.uid == 0,
	   "JVM: swap, threads, uid");
	is_int(p.state, 'S', "JVM: state");

	memset(&p, 0, sizeof(p));
	p.pid = 2;
	ok(pslist_parse_status(load("2/status"), &p), "kthreadd is a kernel thread");
	memset(&p, 0, sizeof(p));
	p.pid = 10;
	ok(pslist_parse_status(load("10/status"), &p), "a kworker is a kernel thread");
	memset(&p, 0, sizeof(p));
	p.pid = 10;
	ok(pslist_parse_status("Name:\tkworker\nPPid:\t2\n", &p), "old kernel: child of kthreadd");

	memset(&p, 0, sizeof(p));
	p.pid = 888;
	ok(!pslist_parse_status(load("888/status"), &p), "garbage: parsed, not a kthread");
	ok(!p.have_mem && p.threads == -1 && !p.have_uid, "garbage: nothing made up");
	is_str(p.name, "bad", "garbage: the one good line is used");

	memset(&p, 0, sizeof(p));
	ok(!pslist_parse_status("VmRSS:\t12 kB\nVmSwap:\t3 MB\nThreads:\t99999999999\n", &p) &&
	   p.rss == 12 * 1024 && p.swap == 0 && p.threads == -1, "wrong unit and overflow refused");
	memset(&p, 0, sizeof(p));
	ok(!pslist_parse_status("", &p) && !strcmp(p.name, "?") && p.state == '?', "empty");

	memset(v, 0, sizeof(v));
	v[0].pid = 30, v[0].rss = 5, v[0].swap = 9;
	v[1].pid = 10, v[1].rss = 7, v[1].swap = 1;
	v[2].pid = 20, v[2].rss = 5, v[2].swap = 9;
	v[3].pid = 5, v[3].rss = 1, v[3].swap = 0;
	pslist_sort(v, 4, PS_SORT_RSS);
	ok(v[0].pid == 10 && v[1].pid == 20 && v[2].pid == 30 && v[3].pid == 5,
	   "rss: largest first, ties by pid");
	pslist_sort(v, 4, PS_SORT_SWAP);
	ok(v[0].pid == 20 && v[1].pid == 30 && v[2].pid == 10, "swap: largest first");
	pslist_sort(v, 4, PS_SORT_PID);
	ok(v[0].pid == 5 && v[3].pid == 30, "pid: ascending");
	is_int(pslist_sort_parse("anon"), PS_SORT_ANON, "sort key anon");
	is_int(pslist_sort_parse("size"), -1, "unknown sort key");
	return done_testing();
}
