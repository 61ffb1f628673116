/*
 * pslist: the process list behind `offheap ps`.
 *
 * One read of /proc/PID/status gives what top shows and more: VmRSS and its
 * split RssAnon/RssFile/RssShmem (Linux 4.5+), VmSwap, Threads, Uid, PPid.
 * Kernel threads have no Vm* lines and are children of kthreadd (pid 2).
 * A JVM is a process that maps libjvm.so (HotSpot and OpenJ9 both ship
 * one); its NMT level comes from hsperfdata's java.rt.vmArgs, which needs
 * no attach. A status file from a recorded tree may be garbage: unknown
 * lines are ignored and numbers are parsed strictly.
 */
#include "pslist.h"
#include "procfs.h"
#include "region.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "  1234 kB" → bytes; false when it is not that. */
static bool parse_kb(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (v > (UINT64_MAX - 9) / 10 / 1024)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (!digits)
		return false;
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncmp(s, "kB", 2))
		return false;
	*out = v * 1024;
	return true;
}

static bool parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	while (*s == ' ' || *s == '\t')
		s++;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || errno || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool pslist_parse_status(const char *text, struct ps_proc *p)
{
	const char *line = text;
	bool vm = false, kthread = false;

	snprintf(p->name, sizeof(p->name), "?");
	p->state = '?';
	p->threads = -1;
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		char buf[256];
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		const char *v;
		long n;

		/* Lines longer than any real one are garbage: skip them. */
		if (len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = '\0';
			v = strchr(buf, ':');
			if (v) {
				size_t klen = (size_t)(v - buf);

				v++;
#define KEY(k) (klen == sizeof(k) - 1 && !memcmp(buf, k, klen))
				if (KEY("Name")) {
					while (*v == ' ' || *v == '\t')
						v++;
					snprintf(p->name, sizeof(p->name), "%s", v);
				} else if (KEY("State")) {
					while (*v == ' ' || *v == '\t')
						v++;
					if (*v)
						p->state = *v;
				} else if (KEY("PPid") && parse_num(v, 0, INT32_MAX, &n)) {
					p->ppid = (pid_t)n;
				} else if (KEY("Uid")) {
					unsigned long r, e;

					if (sscanf(v, "%lu %lu", &r, &e) == 2) {
						p->uid = (uid_t)e;
						p->have_uid = true;
					}
				} else if (KEY("Kthread") && parse_num(v, 0, 1, &n)) {
					kthread = n == 1;
				} else if (KEY("Threads") && parse_num(v, 0, INT32_MAX, &n)) {
					p->threads = (int)n;
				} else if (KEY("VmRSS") && parse_kb(v, &p->rss)) {
					p->have_mem = vm = true;
				} else if (KEY("RssAnon")) {
					parse_kb(v, &p->anon);
				} else if (KEY("RssFile")) {
					parse_kb(v, &p->file);
				} else if (KEY("RssShmem")) {
					parse_kb(v, &p->shmem);
				} else if (KEY("VmSwap")) {
					parse_kb(v, &p->swap);
				}
#undef KEY
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	/* "Kthread:" exists since Linux 6.x; before, kthreadd and its children. */
	return kthread || (!vm && (p->pid == 2 || p->ppid == 2));
}

int pslist_maps_libjvm(pid_t pid)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = procfs_read_pid(pid, "maps", &sb, 256u << 20);

	for (const char *s = sb.buf; !ret && *s;) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		if (region_path_is_libjvm(s, len))
			ret = 1;
		s += len + !!nl;
	}
	strbuf_release(&sb);
	return ret;
}

enum ps_tri pslist_is_jvm(pid_t pid)
{
	int r = pslist_maps_libjvm(pid);

	if (r == -EACCES || r == -EPERM)
		return PS_UNKNOWN;
	return r > 0 ? PS_YES : PS_NO;
}

static char *read_cmdline(pid_t pid, struct strbuf *sb)
{
	if (procfs_read_pid(pid, "cmdline", sb, 1 << 20) || !sb->len)
		return NULL;
	while (sb->len && sb->buf[sb->len - 1] == '\0')
		sb->len--;
	for (size_t i = 0; i < sb->len; i++)
		if (sb->buf[i] == '\0' || sb->buf[i] == '\n' || sb->buf[i] == '\t')
			sb->buf[i] = ' ';
	sb->buf[sb->len] = '\0';
	return sb->len ? xstrdup(sb->buf) : NULL;
}

int pslist_scan(unsigned flags, struct ps_proc **out, size_t *n)
{
	struct strbuf sb = STRBUF_INIT;
	struct ps_proc *v = NULL;
	size_t nr = 0, alloc = 0, npids;
	pid_t *pids;
	int ret = procfs_list_pids(&pids, &npids);

	*out = NULL;
	*n = 0;
	if (ret)
		return ret;
	for (size_t i = 0; i < npids; i++) {
		struct ps_proc p = { .pid = pids[i], .nmt = HSPERF_NMT_UNKNOWN };
		int r = procfs_read_pid(p.pid, "status", &sb, 1 << 20);

		if (r == -ESRCH)
			continue;	/* exited since the listing */
		if (!r && pslist_parse_status(sb.buf, &p))
			continue;	/* kernel thread */
		if (r) {
			snprintf(p.name, sizeof(p.name), "?");
			p.state = '?';
			p.threads = -1;
		}
		if (p.state == 'Z' || p.state == 'X')
			continue;	/* no memory left to show */
		p.jvm = pslist_is_jvm(p.pid);
		if ((flags & PSLIST_JVM_ONLY) && p.jvm != PS_YES)
			continue;
		if (!(flags & PSLIST_NO_CMDLINE))
			p.cmdline = read_cmdline(p.pid, &sb);
		if (p.jvm == PS_YES && !(flags & PSLIST_NO_NMT)) {
			struct hsperf h = HSPERF_INIT;
			struct strbuf err = STRBUF_INIT;

			if (!hsperf_open(&h, p.pid, &err))
				p.nmt = hsperf_nmt(&h);
			hsperf_release(&h);
			strbuf_release(&err);
		}
		/* Vanished while we read it: leave it out rather than show zeros. */
		if (r && !procfs_pid_alive(p.pid)) {
			free(p.cmdline);
			continue;
		}
		ALLOC_GROW(v, nr + 1, alloc);
		v[nr++] = p;
	}
	free(pids);
	strbuf_release(&sb);
	*out = v;
	*n = nr;
	return 0;
}

void pslist_free(struct ps_proc *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].cmdline);
	free(v);
}

static enum ps_sort sort_key;

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return (a < b) - (a > b);
}

static int cmp_proc(const void *a, const void *b)
{
	const struct ps_proc *x = a, *y = b;
	int c = 0;

	switch (sort_key) {
	case PS_SORT_RSS: c = cmp_u64_desc(x->rss, y->rss); break;
	case PS_SORT_ANON: c = cmp_u64_desc(x->anon, y->anon); break;
	case PS_SORT_SWAP: c = cmp_u64_desc(x->swap, y->swap); break;
	case PS_SORT_PID: break;
	}
	if (c)
		return c;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

void pslist_sort(struct ps_proc *v, size_t n, enum ps_sort key)
{
	sort_key = key;
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_proc);
}

int pslist_sort_parse(const char *s)
{
	static const char *const names[] = { "rss", "anon", "swap", "pid" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	return -1;
}
