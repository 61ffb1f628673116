// SPDX-License-Identifier: MIT
/* dump: copy a range of another process's memory without stopping it. */
#include "dump.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "parse.h"
#include "procfs.h"
#include "strbuf.h"
#include "xalloc.h"

void dump_reader_init(struct dump_reader *r, pid_t pid)
{
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->memfd = -1;
}

void dump_reader_release(struct dump_reader *r)
{
	if (r->memfd >= 0)
		close(r->memfd);
	free(r->holes);
	dump_reader_init(r, 0);
}

static void add_hole(struct dump_reader *r, uint64_t start, uint64_t end)
{
	if (r->nholes && r->holes[r->nholes - 1].end == start) {
		r->holes[r->nholes - 1].end = end;
		return;
	}
	ALLOC_GROW(r->holes, r->nholes + 1, r->alloc_holes);
	r->holes[r->nholes].start = start;
	r->holes[r->nholes].end = end;
	r->nholes++;
}

/* One attempt: returns bytes read (may be short), or -errno. */
static ssize_t read_once(struct dump_reader *r, uint64_t addr, void *buf, size_t len)
{
	ssize_t n;

	if (!r->use_mem) {
		struct iovec local = { buf, len };
		struct iovec remote = { (void *)(uintptr_t)addr, len };

		n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
		if (n >= 0)
			return n;
		if (errno != EPERM && errno != ENOSYS)
			return -errno;
		r->use_mem = true;
	}
	if (r->memfd < 0) {
		r->memfd = procfs_open_pid(r->pid, "mem");
		if (r->memfd < 0)
			return r->memfd;
	}
	n = pread(r->memfd, buf, len, (off_t)addr);
	if (n < 0)
		return errno == EIO ? -EFAULT : -errno;
	if (n == 0 && !procfs_pid_alive(r->pid))
		return -ESRCH;
	return n;
}

int dump_read(struct dump_reader *r, uint64_t addr, void *buf, size_t len, size_t *done,
	      struct strbuf *err)
{
	unsigned char *p = buf;
	size_t off = 0;

	while (off < len) {
		ssize_t n = read_once(r, addr + off, p + off, len - off);

		if (n > 0) {
			off += (size_t)n;
			r->bytes_read += (uint64_t)n;
			continue;
		}
		if (n == -ESRCH || (n == 0 && !procfs_pid_alive(r->pid))) {
			r->exited = true;
			memset(p + off, 0, len - off);
			*done = off;
			strbuf_addf(err, "process %d exited while it was read", (int)r->pid);
			return -ESRCH;
		}
		if (n == 0 || n == -EFAULT || n == -EIO || n == -ENOMEM) {
			/* The page at addr + off is not readable: a hole. */
			uint64_t a = addr + off;
			uint64_t pend = (a & ~(DUMP_PAGE - 1)) + DUMP_PAGE;
			size_t hl = (size_t)(pend - a);

			if (hl > len - off)
				hl = len - off;
			memset(p + off, 0, hl);
			add_hole(r, a, a + hl);
			off += hl;
			continue;
		}
		*done = off;
		strbuf_addf(err, "cannot read the memory of process %d: %s", (int)r->pid,
			    strerror((int)-n));
		return (int)n;
	}
	*done = off;
	return 0;
}

static int parse_hex(const char *s, size_t n, uint64_t *out)
{
	char buf[32];

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!strncmp(buf, "0x", 2) || !strncmp(buf, "0X", 2)) {
		if (!buf[2])
			return -EINVAL;
		memmove(buf, buf + 2, n - 1);
	}
	for (char *q = buf; *q; q++)
		if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') ||
		      (*q >= 'A' && *q <= 'F')))
			return -EINVAL;
	if (strlen(buf) > 16)
		return -EINVAL;
	*out = strtoull(buf, NULL, 16);
	return 0;
}

int dump_parse_range(const char *arg, uint64_t *start, uint64_t *end)
{
	const char *sep = strpbrk(arg, "-+");
	uint64_t a, b;

	if (!sep || parse_hex(arg, (size_t)(sep - arg), &a))
		return -EINVAL;
	if (*sep == '-') {
		if (parse_hex(sep + 1, strlen(sep + 1), &b) || b <= a)
			return -EINVAL;
	} else {
		uint64_t len;

		if (!strncmp(sep + 1, "0x", 2)) {
			if (parse_hex(sep + 1, strlen(sep + 1), &len))
				return -EINVAL;
		} else if (parse_size(sep + 1, &len)) {
			return -EINVAL;
		}
		if (!len || a + len < a)
			return -EINVAL;
		b = a + len;
	}
	*start = a;
	*end = b;
	return 0;
}

int dump_select(const struct snapshot *s, const struct dump_sel *sel, struct dump_range **out,
		size_t *n, struct strbuf *err)
{
	struct dump_range *v = NULL;
	size_t nr = 0, alloc = 0;

	if (sel->kind == DUMP_SEL_MAP) {
		if (sel->map < 0 || (size_t)sel->map >= s->nregions) {
			strbuf_addf(err, "no mapping %ld: process %d has %zu (0 to %zu)", sel->map,
				    (int)s->pid, s->nregions, s->nregions ? s->nregions - 1 : 0);
			return -ENOENT;
		}
		ALLOC_GROW(v, 1, alloc);
		v[0].r = &s->regions[sel->map];
		v[0].start = v[0].r->start;
		v[0].end = v[0].r->end;
		nr = 1;
	} else if (sel->kind == DUMP_SEL_CLASS) {
		for (size_t i = 0; i < s->nregions; i++) {
			const struct region *r = &s->regions[i];

			if ((int)r->cls != sel->cls || r->guard || r->perms[0] != 'r')
				continue;
			ALLOC_GROW(v, nr + 1, alloc);
			v[nr].r = r;
			v[nr].start = r->start;
			v[nr].end = r->end;
			nr++;
		}
		if (!nr) {
			strbuf_addf(err, "process %d has no readable %s mapping", (int)s->pid,
				    region_class_name((enum region_class)sel->cls));
			return -ENOENT;
		}
	} else {
		const struct region *hit = NULL;

		for (size_t i = 0; i < s->nregions; i++) {
			const struct region *r = &s->regions[i];

			if (r->end > sel->start && r->start < sel->end) {
				hit = r;
				break;
			}
		}
		if (!hit) {
			strbuf_addf(err, "0x%llx-0x%llx is not mapped in process %d",
				    (unsigned long long)sel->start, (unsigned long long)sel->end,
				    (int)s->pid);
			return -ENOENT;
		}
		ALLOC_GROW(v, 1, alloc);
		v[0].r = hit;
		v[0].start = sel->start;
		v[0].end = sel->end;
		nr = 1;
	}
	*out = v;
	*n = nr;
	return 0;
}
