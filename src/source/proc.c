/*
 * proc: facts about one process from /proc — status, stat, task/, cmdline,
 * exe, cgroup. Everything here reads through procfs.c, so a recorded tree
 * (--proc-root) parses the same as the live one; every parser treats its
 * input as hostile (bounded numbers, no assumptions on line order).
 */
#include "proc.h"
#include "parse.h"
#include "procfs.h"
#include "strbuf.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* scan_dec after blanks. */
static bool dec(const char **p, const char *end, uint64_t *out)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
	return scan_dec(p, end, out);
}

/* scan_hex after blanks and an optional 0x. */
static bool hex(const char **p, const char *end, uint64_t *out)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
	if (end - *p > 2 && (*p)[0] == '0' && ((*p)[1] == 'x' || (*p)[1] == 'X'))
		*p += 2;
	return scan_hex(p, end, out);
}

/* A signal mask: hex, then nothing but blanks. */
static bool mask(const char *s, const char *end, uint64_t *out)
{
	if (!hex(&s, end, out))
		return false;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s == end;
}

/* "   123 kB" → bytes. */
static bool kb(const char *s, const char *end, uint64_t *out)
{
	uint64_t v;

	if (!dec(&s, end, &v) || v > (1ULL << 53))
		return false;
	while (s < end && *s == ' ')
		s++;
	if (end - s != 2 || memcmp(s, "kB", 2))
		return false;
	*out = v * 1024;
	return true;
}

/* The last number of a list such as "NSpid:\t4242\t17". */
static bool last_dec(const char *s, const char *end, uint64_t *out)
{
	bool any = false;

	while (s < end) {
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		if (s == end)
			break;
		if (!dec(&s, end, out))
			return false;
		any = true;
	}
	return any;
}

static bool ids(const char *s, const char *end, uint32_t *real, uint32_t *eff)
{
	uint64_t r, e;

	if (!dec(&s, end, &r) || !dec(&s, end, &e) || r > UINT32_MAX || e > UINT32_MAX)
		return false;
	*real = (uint32_t)r;
	*eff = (uint32_t)e;
	return true;
}

int proc_status_scan(const char *text, size_t len, struct proc_status *st, struct strbuf *err)
{
	const char *p = text, *end = text + len;
	bool from_nspid = false;

	memset(st, 0, sizeof(*st));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end, *colon, *v;
		size_t klen;
		uint64_t x = 0;
		bool okv = true;

		colon = memchr(p, ':', (size_t)(eol - p));
		if (!colon) {
			p = eol + 1;
			continue;
		}
		klen = (size_t)(colon - p);
		v = colon + 1;
#define K(lit) (klen == sizeof(lit) - 1 && !memcmp(p, lit, klen))
		if (K("Name")) {
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			snprintf(st->name, sizeof(st->name), "%.*s",
				 (int)(eol - v > 63 ? 63 : eol - v), v);
			st->seen |= PROC_SEEN_NAME;
		} else if (K("State")) {
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			st->state = v < eol ? *v : '?';
			st->seen |= PROC_SEEN_STATE;
		} else if (K("Tgid")) {
			okv = dec(&v, eol, &x) && x <= INT_MAX;
			st->tgid = (pid_t)x;
		} else if (K("PPid")) {
			okv = dec(&v, eol, &x) && x <= INT_MAX;
			st->ppid = (pid_t)x;
		} else if (K("NSpid") || K("NStgid")) {
			/* The pid in each nested namespace, outermost first; NStgid is the
			 * same for a thread-group leader and stands in for an NSpid: line. */
			okv = last_dec(v, eol, &x) && x >= 1 && x <= INT_MAX;
			if (K("NSpid") || !from_nspid)
				st->nspid = (pid_t)x;
			from_nspid = from_nspid || K("NSpid");
			st->seen |= PROC_SEEN_NSPID;
		} else if (K("Uid")) {
			okv = ids(v, eol, &st->ruid, &st->euid);
			st->seen |= PROC_SEEN_UID;
		} else if (K("Gid")) {
			okv = ids(v, eol, &st->rgid, &st->egid);
			st->seen |= PROC_SEEN_GID;
		} else if (K("Threads")) {
			okv = dec(&v, eol, &x) && x <= INT_MAX;
			st->threads = (int)x;
		} else if (K("VmPeak")) {
			okv = kb(v, eol, &st->vm_peak);
		} else if (K("VmSize")) {
			okv = kb(v, eol, &st->vm_size);
			st->has_mm = true;
		} else if (K("VmHWM")) {
			okv = kb(v, eol, &st->vm_hwm);
		} else if (K("VmRSS")) {
			okv = kb(v, eol, &st->vm_rss);
		} else if (K("RssAnon")) {
			okv = kb(v, eol, &st->rss_anon);
		} else if (K("RssFile")) {
			okv = kb(v, eol, &st->rss_file);
		} else if (K("RssShmem")) {
			okv = kb(v, eol, &st->rss_shmem);
		} else if (K("VmSwap")) {
			okv = kb(v, eol, &st->vm_swap);
		} else if (K("SigBlk")) {
			okv = mask(v, eol, &st->sig_blk);
		} else if (K("SigIgn")) {
			okv = mask(v, eol, &st->sig_ign);
			st->seen |= PROC_SEEN_SIGIGN;
		} else if (K("SigCgt")) {
			okv = mask(v, eol, &st->sig_cgt);
			st->seen |= PROC_SEEN_SIGCGT;
		}
#undef K
		if (!okv) {
			strbuf_addf(err, "malformed status line '%.*s'",
				    (int)(eol - p > 80 ? 80 : eol - p), p);
			return -EINVAL;
		}
		p = eol + 1;
	}
	if (!st->nspid)
		st->nspid = st->tgid;
	return 0;
}

int proc_status_parse(const char *text, size_t len, struct proc_status *st, struct strbuf *err)
{
	int ret = proc_status_scan(text, len, st, err);

	if (!ret && !(st->seen & PROC_SEEN_NAME)) {
		strbuf_addstr(err, "status has no Name: line");
		ret = -EINVAL;
	}
	return ret;
}

int proc_status_read(pid_t pid, struct proc_status *st, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = procfs_read_pid(pid, "status", &sb, 1 << 20);

	if (ret)
		strbuf_addf(err, "cannot read status of process %d: %s", (int)pid, strerror(-ret));
	else
		ret = proc_status_parse(sb.buf, sb.len, st, err);
	strbuf_release(&sb);
	return ret;
}

/* Field n (4 or more: a number) of /proc/PID/stat. */
static int stat_field(const char *text, size_t len, int n, uint64_t *v)
{
	const char *end = text + len, *p = NULL;

	/* comm may contain ')' itself: the real end is the last one. */
	for (const char *s = text; s < end; s++)
		if (*s == ')')
			p = s;
	if (!p)
		return -EINVAL;
	p++;
	/* Field 3 (state) follows the comm. */
	for (int field = 3; field < n; field++) {
		while (p < end && *p == ' ')
			p++;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		if (p >= end)
			return -EINVAL;
	}
	while (p < end && *p == ' ')
		p++;
	return dec(&p, end, v) ? 0 : -EINVAL;
}

int proc_stat_starttime(const char *text, size_t len, uint64_t *starttime)
{
	return stat_field(text, len, 22, starttime);
}

int proc_read_kthread(pid_t pid, bool *kthread)
{
	struct strbuf sb = STRBUF_INIT;
	uint64_t flags = 0;
	int ret = procfs_read_pid(pid, "stat", &sb, 1 << 16);

	if (!ret)
		ret = stat_field(sb.buf, sb.len, 9, &flags);
	/* PF_KTHREAD (include/linux/sched.h), stable since Linux 2.6 */
	*kthread = !ret && (flags & 0x00200000);
	strbuf_release(&sb);
	return ret;
}

int proc_read_starttime(pid_t pid, uint64_t *starttime)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = procfs_read_pid(pid, "stat", &sb, 1 << 16);

	if (!ret)
		ret = proc_stat_starttime(sb.buf, sb.len, starttime);
	strbuf_release(&sb);
	return ret;
}

int proc_syscall_sp(const char *text, size_t len, uint64_t *sp)
{
	const char *p = text, *end = text + len;
	uint64_t v;
	int skip;

	*sp = 0;
	if (len >= 7 && !memcmp(text, "running", 7))
		return 0;
	while (p < end && *p == ' ')
		p++;
	if (p < end && *p == '-') {
		/* "-1 SP PC": blocked, but not inside a system call. */
		p++;
		if (!dec(&p, end, &v))
			return -EINVAL;
		skip = 0;
	} else {
		if (!dec(&p, end, &v))
			return -EINVAL;
		skip = 6;
	}
	for (int i = 0; i < skip; i++)
		if (!hex(&p, end, &v))
			return -EINVAL;
	return hex(&p, end, sp) ? 0 : -EINVAL;
}

int proc_threads_read(pid_t pid, bool skip_sp, struct thread **threads, size_t *n)
{
	struct strbuf sb = STRBUF_INIT;
	pid_t *tids = NULL;
	size_t ntids = 0, nr = 0;
	struct thread *v;
	int ret;

	*threads = NULL;
	*n = 0;
	ret = procfs_list_tids(pid, &tids, &ntids);
	if (ret)
		return ret;
	v = xcalloc(ntids ? ntids : 1, sizeof(*v));
	for (size_t i = 0; i < ntids; i++) {
		char name[64];
		struct thread *t = &v[nr];

		snprintf(name, sizeof(name), "task/%d/comm", (int)tids[i]);
		if (procfs_read_pid(pid, name, &sb, 4096))
			continue;	/* the thread exited meanwhile */
		strbuf_rtrim(&sb);
		t->tid = tids[i];
		snprintf(t->name, sizeof(t->name), "%s", sb.buf);
		/* A thread running on a CPU has no SP to show: ask a few times. */
		for (int tries = 0; !skip_sp && tries < 3; tries++) {
			snprintf(name, sizeof(name), "task/%d/syscall", (int)tids[i]);
			if (procfs_read_pid(pid, name, &sb, 4096) ||
			    proc_syscall_sp(sb.buf, sb.len, &t->sp) || t->sp)
				break;
			sched_yield();
		}
		nr++;
	}
	free(tids);
	strbuf_release(&sb);
	if (!nr && !procfs_pid_alive(pid)) {
		free(v);
		return -ESRCH;
	}
	*threads = v;
	*n = nr;
	return 0;
}

uint64_t proc_limits_stack(const char *text, size_t len)
{
	static const char key[] = "Max stack size";
	const char *p = memmem(text, len, key, sizeof(key) - 1), *end = text + len;
	uint64_t v;

	if (!p)
		return 0;
	p += sizeof(key) - 1;
	return dec(&p, end, &v) ? v : 0;
}

int proc_cmdline_read(pid_t pid, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = procfs_read_pid(pid, "cmdline", &sb, 1 << 20);

	*out = NULL;
	if (ret) {
		strbuf_release(&sb);
		return ret;
	}
	while (sb.len && sb.buf[sb.len - 1] == '\0')
		sb.len--;
	for (size_t i = 0; i < sb.len; i++)
		if (sb.buf[i] == '\0')
			sb.buf[i] = ' ';
	sb.buf[sb.len] = '\0';
	*out = strbuf_detach(&sb, NULL);
	return 0;
}

char *proc_exe_read(pid_t pid)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t r;

	if (procfs_path(path, sizeof(path), "%d/exe", (int)pid))
		return xstrdup("");
	r = readlink(path, target, sizeof(target) - 1);
	if (r < 0)
		return xstrdup("");
	target[r] = '\0';
	return xstrdup(target);
}

int proc_cgroup_parse(const char *text, size_t len, struct cgroup_mem *cg)
{
	const char *p = text, *end = text + len;
	bool v1 = false;

	memset(cg, 0, sizeof(*cg));
	/* Prefer v1's memory controller when present; else the v2 "0::" line. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *c1 = memchr(p, ':', (size_t)(eol - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;

		if (c2) {
			size_t clen = (size_t)(c2 - c1 - 1);
			bool is_mem = false;

			/* The controller list may be "memory" or e.g. "cpu,memory". */
			for (const char *s = c1 + 1; s < c2;) {
				const char *comma = memchr(s, ',', (size_t)(c2 - s));
				const char *e = comma ? comma : c2;

				if (e - s == 6 && !memcmp(s, "memory", 6))
					is_mem = true;
				s = e + 1;
			}
			if ((is_mem || (clen == 0 && !v1)) && eol - c2 - 1 < (long)sizeof(cg->path)) {
				snprintf(cg->path, sizeof(cg->path), "%.*s", (int)(eol - c2 - 1),
					 c2 + 1);
				v1 = is_mem;
				cg->known = true;
			}
		}
		p = eol + 1;
	}
	if (!cg->known)
		return -ENOENT;
	return v1 ? 1 : 2;
}

/* Reads one number (or "max") from a cgroup file. */
static int read_cg_value(const char *path, int64_t *out)
{
	struct strbuf sb = STRBUF_INIT;
	uint64_t v;
	const char *p;
	int ret = procfs_read_file(path, &sb, 4096);

	if (ret)
		goto out;
	strbuf_rtrim(&sb);
	p = sb.buf;
	if (!strcmp(sb.buf, "max")) {
		*out = -1;
	} else if (dec(&p, sb.buf + sb.len, &v) && !*p) {
		/* v1 says "unlimited" with a huge page-rounded number. */
		*out = v >= (1ULL << 62) ? -1 : (int64_t)v;
	} else {
		ret = -EINVAL;
	}
out:
	strbuf_release(&sb);
	return ret;
}

void proc_cgroup_read(pid_t pid, struct cgroup_mem *cg)
{
	struct strbuf sb = STRBUF_INIT;
	char path[PATH_MAX];
	int64_t v;
	int ver;

	memset(cg, 0, sizeof(*cg));
	if (procfs_read_pid(pid, "cgroup", &sb, 1 << 16))
		goto out;
	ver = proc_cgroup_parse(sb.buf, sb.len, cg);
	cg->known = false;
	if (ver < 0 || strstr(cg->path, "/.."))
		goto out;
	const char *base = ver == 1 ? "/sys/fs/cgroup/memory" : "/sys/fs/cgroup";
	const char *lim = ver == 1 ? "memory.limit_in_bytes" : "memory.max";
	const char *use = ver == 1 ? "memory.usage_in_bytes" : "memory.current";
	const char *sep = strcmp(cg->path, "/") ? "/" : "";

	if (sysroot_path(path, sizeof(path), "%s%s%s%s", base, cg->path, sep, lim) ||
	    read_cg_value(path, &cg->limit))
		goto out;
	if (sysroot_path(path, sizeof(path), "%s%s%s%s", base, cg->path, sep, use) ||
	    read_cg_value(path, &v) || v < 0)
		goto out;
	cg->usage = (uint64_t)v;
	cg->known = true;
	cg->swap_limit = -1;
	if (ver == 2) {
		if (!sysroot_path(path, sizeof(path), "%s%s%smemory.swap.max", base, cg->path, sep))
			read_cg_value(path, &cg->swap_limit);
		if (!sysroot_path(path, sizeof(path), "%s%s%smemory.swap.current", base, cg->path,
				  sep) &&
		    !read_cg_value(path, &v) && v >= 0)
			cg->swap_usage = (uint64_t)v;
	}
out:
	strbuf_release(&sb);
}
