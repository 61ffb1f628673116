/*
 * dump: copy a range of another process's memory without stopping it.
 *
 * process_vm_readv(2) (Linux 3.2) copies what the target may read: it stops at
 * the first page that is not readable (PROT_NONE, unmapped) and returns the
 * bytes before it, so a short read means "a hole at the next page". Where it
 * is refused (EPERM under some seccomp filters) we pread /proc/PID/mem, which
 * reads with FOLL_FORCE and so also returns PROT_NONE pages, as gdb does. Both
 * fail with ESRCH once the process has exited. The sidecar format is
 * described in docs/offheap-dump.1.
 */
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
	r->mapfd = -1;
	/* for the test suite: the fallback path without a seccomp filter */
	r->use_mem = pid && getenv("OFFHEAP_DUMP_FORCE_PROC_MEM") != NULL;
}

void dump_reader_release(struct dump_reader *r)
{
	if (r->memfd >= 0)
		close(r->memfd);
	if (r->mapfd >= 0)
		close(r->mapfd);
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
		struct iovec local = {buf, len};
		struct iovec remote = {(void *)(uintptr_t)addr, len};

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

#define PM_PRESENT (1ULL << 63) /* pagemap: the page is in RAM */

int dump_present(struct dump_reader *r, uint64_t addr, size_t npages, bool *present)
{
	uint64_t ent[512];
	size_t i = 0;

	for (size_t k = 0; k < npages; k++)
		present[k] = true;
	if (r->mapfd < 0) {
		r->mapfd = procfs_open_pid(r->pid, "pagemap");
		if (r->mapfd < 0)
			return r->mapfd;
	}
	while (i < npages) {
		size_t k = npages - i < 512 ? npages - i : 512;
		ssize_t n = pread(r->mapfd, ent, k * 8, (off_t)((addr / DUMP_PAGE + i) * 8));

		if (n <= 0 || n % 8) {
			int e = n < 0 ? -errno : -EIO;

			for (size_t j = 0; j < npages; j++)
				present[j] = true;
			return e;
		}
		for (size_t j = 0; j < (size_t)n / 8; j++)
			present[i + j] = (ent[j] & PM_PRESENT) != 0;
		i += (size_t)n / 8;
	}
	return 0;
}

/* iovecs per process_vm_readv: well below IOV_MAX (1024) */
#define WORDS_PER_CALL 512

int dump_read_words(struct dump_reader *r, const uint64_t *addrs, uint64_t *vals, bool *ok,
		    size_t n)
{
	struct iovec local[WORDS_PER_CALL], remote[WORDS_PER_CALL];
	size_t i = 0;

	memset(vals, 0, n * sizeof(*vals));
	memset(ok, 0, n * sizeof(*ok));
	while (i < n && !r->use_mem) {
		size_t k = n - i < WORDS_PER_CALL ? n - i : WORDS_PER_CALL;
		ssize_t got;

		for (size_t j = 0; j < k; j++) {
			local[j] = (struct iovec){&vals[i + j], 8};
			remote[j] = (struct iovec){(void *)(uintptr_t)addrs[i + j], 8};
		}
		got = process_vm_readv(r->pid, local, k, remote, k, 0);
		if (got < 0 && (errno == EPERM || errno == ENOSYS)) {
			r->use_mem = true;
			break;
		}
		if (got < 0 && errno == ESRCH) {
			r->exited = true;
			return -ESRCH;
		}
		if (got < 0 && errno != EFAULT)
			return -errno;
		/*
		 * The call stops at the first word it cannot read: the words
		 * before it are read, that one is not, the next call goes on
		 * after it.
		 */
		if (got < 0)
			got = 0;
		r->bytes_read += (uint64_t)got;
		for (size_t j = 0; j < (size_t)got / 8; j++)
			ok[i + j] = true;
		if ((size_t)got / 8 < k)
			vals[i + (size_t)got / 8] = 0;
		i += (size_t)got / 8 + ((size_t)got / 8 < k ? 1 : 0);
	}
	for (; i < n; i++) {
		ssize_t got = read_once(r, addrs[i], &vals[i], 8);

		if (got == -ESRCH) {
			r->exited = true;
			return -ESRCH;
		}
		if (got < 0 && got != -EFAULT)
			return (int)got;
		if (got == 8) {
			ok[i] = true;
			r->bytes_read += 8;
		} else {
			vals[i] = 0;
		}
	}
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

int dump_select(const struct region *regions, size_t nregions, pid_t pid,
		const struct dump_sel *sel, struct dump_range **out, size_t *n, struct strbuf *err)
{
	struct dump_range *v = NULL;
	size_t nr = 0, alloc = 0;

	if (sel->kind == DUMP_SEL_MAP) {
		if (sel->map < 0 || (size_t)sel->map >= nregions) {
			strbuf_addf(err, "no mapping %ld: process %d has %zu (0 to %zu)", sel->map,
				    (int)pid, nregions, nregions ? nregions - 1 : 0);
			return -ENOENT;
		}
		ALLOC_GROW(v, 1, alloc);
		v[0].r = &regions[sel->map];
		v[0].start = v[0].r->start;
		v[0].end = v[0].r->end;
		nr = 1;
	} else if (sel->kind == DUMP_SEL_CLASS) {
		for (size_t i = 0; i < nregions; i++) {
			const struct region *r = &regions[i];

			if ((int)r->cls != sel->cls || r->guard || r->perms[0] != 'r')
				continue;
			ALLOC_GROW(v, nr + 1, alloc);
			v[nr].r = r;
			v[nr].start = r->start;
			v[nr].end = r->end;
			nr++;
		}
		if (!nr) {
			strbuf_addf(err, "process %d has no readable %s mapping", (int)pid,
				    region_class_name((enum region_class)sel->cls));
			return -ENOENT;
		}
	} else {
		const struct region *hit = NULL;

		for (size_t i = 0; i < nregions; i++) {
			const struct region *r = &regions[i];

			if (r->end > sel->start && r->start < sel->end) {
				hit = r;
				break;
			}
		}
		if (!hit) {
			strbuf_addf(err, "0x%llx-0x%llx is not mapped in process %d",
				    (unsigned long long)sel->start, (unsigned long long)sel->end,
				    (int)pid);
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

/* A small reader for the sidecar's JSON: objects, arrays, strings, numbers, literals. */
struct jr {
	const char *p, *end;
	int depth;
};

static void jr_ws(struct jr *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static bool jr_lit(struct jr *j, char c)
{
	jr_ws(j);
	if (j->p < j->end && *j->p == c) {
		j->p++;
		return true;
	}
	return false;
}

/* A string into out (at most n - 1 bytes, escapes kept but not decoded but \" skipped). */
static int jr_str(struct jr *j, char *out, size_t n)
{
	size_t k = 0;

	if (!jr_lit(j, '"'))
		return -EINVAL;
	while (j->p < j->end && *j->p != '"') {
		if (*j->p == '\\') {
			if (++j->p >= j->end)
				return -EINVAL;
		}
		if (out && k + 1 < n)
			out[k++] = *j->p;
		j->p++;
	}
	if (j->p >= j->end)
		return -EINVAL;
	j->p++;
	if (out)
		out[k] = 0;
	return 0;
}

static int jr_skip(struct jr *j);

static int jr_skip_container(struct jr *j, char close, bool obj)
{
	if (++j->depth > 32)
		return -EINVAL;
	if (jr_lit(j, close)) {
		j->depth--;
		return 0;
	}
	do {
		if (obj && (jr_str(j, NULL, 0) || !jr_lit(j, ':')))
			return -EINVAL;
		if (jr_skip(j))
			return -EINVAL;
	} while (jr_lit(j, ','));
	j->depth--;
	return jr_lit(j, close) ? 0 : -EINVAL;
}

static int jr_skip(struct jr *j)
{
	jr_ws(j);
	if (j->p >= j->end)
		return -EINVAL;
	if (*j->p == '"')
		return jr_str(j, NULL, 0);
	if (*j->p == '{') {
		j->p++;
		return jr_skip_container(j, '}', true);
	}
	if (*j->p == '[') {
		j->p++;
		return jr_skip_container(j, ']', false);
	}
	if (!strchr("-0123456789tfn", *j->p))
		return -EINVAL;
	while (j->p < j->end && strchr("-+.eE0123456789truefalsn", *j->p))
		j->p++;
	return 0;
}

static int jr_u64(struct jr *j, uint64_t *v)
{
	uint64_t x = 0;
	const char *s;

	jr_ws(j);
	s = j->p;
	while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
		if (x > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		x = x * 10 + (uint64_t)(*j->p - '0');
		j->p++;
	}
	if (j->p == s)
		return -EINVAL;
	*v = x;
	return 0;
}

static int parse_range(struct jr *j, struct dump_file_range *fr)
{
	char key[32], val[64];
	unsigned seen = 0;

	memset(fr, 0, sizeof(*fr));
	fr->cls = -1;
	if (!jr_lit(j, '{'))
		return -EINVAL;
	if (jr_lit(j, '}'))
		return -EINVAL;
	do {
		uint64_t *num = NULL;

		if (jr_str(j, key, sizeof(key)) || !jr_lit(j, ':'))
			return -EINVAL;
		if (!strcmp(key, "start"))
			num = &fr->start, seen |= 1;
		else if (!strcmp(key, "end"))
			num = &fr->end, seen |= 2;
		else if (!strcmp(key, "file_offset"))
			num = &fr->file_offset, seen |= 4;
		else if (!strcmp(key, "mapping_start"))
			num = &fr->map_start;
		else if (!strcmp(key, "mapping_end"))
			num = &fr->map_end;
		if (num) {
			if (jr_u64(j, num))
				return -EINVAL;
		} else if (!strcmp(key, "class")) {
			if (jr_str(j, val, sizeof(val)))
				return -EINVAL;
			fr->cls = region_class_parse(val);
		} else if (jr_skip(j)) {
			return -EINVAL;
		}
	} while (jr_lit(j, ','));
	if (!jr_lit(j, '}') || seen != 7)
		return -EINVAL;
	return 0;
}

int dump_sidecar_parse(const char *text, size_t len, struct dump_sidecar *sc, struct strbuf *err)
{
	struct jr j = {text, text + len, 0};
	char key[32], val[32];
	size_t alloc = 0;
	bool have_regions = false, have_format = false;

	memset(sc, 0, sizeof(*sc));
	sc->pid = -1;
	if (!jr_lit(&j, '{'))
		goto bad;
	do {
		if (jr_str(&j, key, sizeof(key)) || !jr_lit(&j, ':'))
			goto bad;
		if (!strcmp(key, "format")) {
			if (jr_str(&j, val, sizeof(val)) || strcmp(val, "offheap-dump-1"))
				goto bad;
			have_format = true;
		} else if (!strcmp(key, "pid")) {
			uint64_t v;

			if (jr_u64(&j, &v) || v > INT32_MAX)
				goto bad;
			sc->pid = (long)v;
		} else if (!strcmp(key, "bytes")) {
			if (jr_u64(&j, &sc->bytes))
				goto bad;
		} else if (!strcmp(key, "partial")) {
			jr_ws(&j);
			if ((size_t)(j.end - j.p) >= 4 && !strncmp(j.p, "true", 4))
				sc->partial = true, j.p += 4;
			else if ((size_t)(j.end - j.p) >= 5 && !strncmp(j.p, "false", 5))
				j.p += 5;
			else
				goto bad;
		} else if (!strcmp(key, "regions")) {
			if (!jr_lit(&j, '['))
				goto bad;
			have_regions = true;
			if (jr_lit(&j, ']'))
				continue;
			do {
				struct dump_file_range fr;
				uint64_t want = sc->nranges
						    ? sc->ranges[sc->nranges - 1].file_offset +
							  sc->ranges[sc->nranges - 1].end -
							  sc->ranges[sc->nranges - 1].start
						    : 0;

				if (sc->nranges >= 1000000 || parse_range(&j, &fr))
					goto bad;
				if (fr.end <= fr.start || fr.file_offset != want ||
				    (sc->nranges && fr.start < sc->ranges[sc->nranges - 1].end))
					goto bad;
				ALLOC_GROW(sc->ranges, sc->nranges + 1, alloc);
				sc->ranges[sc->nranges++] = fr;
			} while (jr_lit(&j, ','));
			if (!jr_lit(&j, ']'))
				goto bad;
		} else if (!strcmp(key, "holes")) {
			const char *s;

			jr_ws(&j);
			s = j.p;
			if (jr_skip(&j))
				goto bad;
			for (; s < j.p; s++)
				sc->nholes += *s == '{';
		} else if (jr_skip(&j)) {
			goto bad;
		}
	} while (jr_lit(&j, ','));
	if (!jr_lit(&j, '}'))
		goto bad;
	jr_ws(&j);
	if (j.p != j.end || !have_regions || !have_format || !sc->nranges)
		goto bad;
	return 0;
bad:
	strbuf_addf(err, "not a sidecar written by 'offheap dump' (bad JSON near byte %zu)",
		    (size_t)(j.p - text));
	dump_sidecar_release(sc);
	return -EINVAL;
}

void dump_sidecar_release(struct dump_sidecar *sc)
{
	free(sc->ranges);
	memset(sc, 0, sizeof(*sc));
}
