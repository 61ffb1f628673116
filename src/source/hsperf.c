/*
 * hsperf: reading a JVM's hsperfdata file, the shared-memory counters that jstat shows.
 *
 * HotSpot maps <tmp>/hsperfdata_<user>/<nspid> (32 KiB by default) and writes
 * its counters there (src/hotspot/share/runtime/perfMemory.hpp). Layout,
 * format 2.0 (JDK 6 to 25): a 32-byte prologue -- magic CA FE C0 C0, byte
 * order (0 big, 1 little; applies to every field after it), major 2,
 * minor 0, accessible flag, used, overflow, mod_time_stamp (i64),
 * entry_offset, num_entries -- then entries, each with a 20-byte header:
 * entry_length, name_offset, vector_length, type ('J' long, 'B' bytes),
 * flags, units, variability, data_offset. The JVM appends entries while it
 * runs and bumps num_entries after each is complete, so it is re-read on
 * every sample. The file may belong to another user and lives in a world-
 * writable directory: it is opened without following symlinks, its owner
 * is checked, and every offset in it is validated before use. A JVM killed
 * by SIGKILL leaves its file behind, and its pid may be reused: the live
 * process must have the file mapped (/proc/PID/maps), else it is refused.
 */
#include "hsperf.h"
#include "parse.h"
#include "procfs.h"
#include "strbuf.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define PROLOGUE_SIZE 32
#define ENTRY_HEADER_SIZE 20

static uint32_t get_u32(const struct hsperf *h, size_t off)
{
	const unsigned char *p = h->data + off;

	if (h->big_endian)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static int32_t get_i32(const struct hsperf *h, size_t off)
{
	return (int32_t)get_u32(h, off);
}

static int64_t get_i64(const struct hsperf *h, size_t off)
{
	uint64_t hi = get_u32(h, off), lo = get_u32(h, off + 4);

	if (!h->big_endian) {
		uint64_t t = hi;

		hi = lo;
		lo = t;
	}
	return (int64_t)(hi << 32 | lo);
}

static void clear_parse(struct hsperf *h)
{
	free(h->data);
	h->data = NULL;
	h->size = 0;
	h->nr = 0;
	h->partial = false;
	h->num_entries = 0;
}

/*
 * Checks one entry at off (already known to leave room for its header
 * within end) and appends it. Returns its length, or 0 when it is malformed.
 */
static size_t parse_entry(struct hsperf *h, size_t off, size_t end)
{
	int32_t len = get_i32(h, off), name_off = get_i32(h, off + 4);
	int32_t vlen = get_i32(h, off + 8), data_off = get_i32(h, off + 16);
	const unsigned char *base = h->data + off;
	struct hsperf_entry e = { 0 };
	size_t value_size;

	if (len < ENTRY_HEADER_SIZE || (size_t)len > end - off)
		return 0;
	if (name_off < ENTRY_HEADER_SIZE || name_off >= len)
		return 0;
	if (!memchr(base + name_off, '\0', (size_t)(len - name_off)))
		return 0;
	if (data_off < ENTRY_HEADER_SIZE || data_off >= len || vlen < 0)
		return 0;
	e.name = (const char *)base + name_off;
	e.type = (char)base[12];
	e.units = base[14];
	e.variability = base[15];
	switch (e.type) {
	case 'J':
		if (vlen != 0)
			return 0;	/* arrays of longs are never written by HotSpot */
		value_size = 8;
		break;
	case 'B':
		value_size = (size_t)vlen;
		break;
	default:
		/* Other basic types are defined but unused: skip them, keep walking. */
		return (size_t)len;
	}
	if (value_size > (size_t)(len - data_off))
		return 0;
	if (e.type == 'J') {
		e.value = get_i64(h, off + (size_t)data_off);
	} else {
		e.str = (const char *)base + data_off;
		e.str_len = strnlen(e.str, value_size);
	}
	ALLOC_GROW(h->entries, h->nr + 1, h->alloc);
	h->entries[h->nr++] = e;
	return (size_t)len;
}

int hsperf_parse(struct hsperf *h, const void *buf, size_t len, struct strbuf *err)
{
	const unsigned char *p = buf;
	int32_t entry_off, used;
	size_t off, end;

	clear_parse(h);
	if (len < PROLOGUE_SIZE || p[0] != 0xca || p[1] != 0xfe || p[2] != 0xc0 || p[3] != 0xc0) {
		strbuf_addstr(err, "not an hsperfdata file (bad magic)");
		return -EPROTO;
	}
	if (p[4] > 1) {
		strbuf_addf(err, "bad byte order %u in hsperfdata", p[4]);
		return -EPROTO;
	}
	if (p[5] != 2) {
		strbuf_addf(err, "unsupported hsperfdata version %u.%u", p[5], p[6]);
		return -EPROTO;
	}
	if (len > HSPERF_MAX_SIZE) {
		strbuf_addf(err, "hsperfdata larger than %u bytes", HSPERF_MAX_SIZE);
		return -EFBIG;
	}
	h->data = xmalloc(len);
	memcpy(h->data, buf, len);
	h->size = len;
	h->big_endian = p[4] == 0;
	h->major = p[5];
	h->minor = p[6];
	h->accessible = p[7] != 0;
	used = get_i32(h, 8);
	h->mod_time_stamp = get_i64(h, 16);
	entry_off = get_i32(h, 24);
	h->num_entries = get_i32(h, 28);
	if (!h->accessible) {
		strbuf_addstr(err, "the JVM has not finished creating its hsperfdata yet");
		return -EAGAIN;
	}
	if (entry_off < PROLOGUE_SIZE || (size_t)entry_off > len || h->num_entries < 0) {
		strbuf_addf(err, "bad hsperfdata prologue (entry offset %d, %d entries)", entry_off,
			    h->num_entries);
		return -EPROTO;
	}
	/* Entries end where the JVM says it stopped writing, if that is sane. */
	end = len;
	if (used >= entry_off && (size_t)used <= len)
		end = (size_t)used;
	off = (size_t)entry_off;
	/* Every entry takes at least a header, so this bounds a hostile num_entries. */
	for (int32_t i = 0; i < h->num_entries; i++) {
		size_t n;

		if (end - off < ENTRY_HEADER_SIZE) {
			h->partial = true;
			break;
		}
		n = parse_entry(h, off, end);
		if (!n) {
			h->partial = true;
			break;
		}
		off += n;
	}
	return 0;
}

static char *next_line(char *s)
{
	char *nl = strchr(s, '\n');

	return nl ? nl + 1 : NULL;
}

static int read_status(pid_t pid, uid_t *uid, pid_t *nspid, struct strbuf *err)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = procfs_read_pid(pid, "status", &sb, 1 << 20);
	bool have_uid = false;
	char *line;

	*nspid = pid;
	if (ret) {
		if (ret == -ESRCH)
			strbuf_addf(err, "no process %d", (int)pid);
		else
			strbuf_addf(err, "cannot read status of process %d: %s", (int)pid,
				    strerror(-ret));
		goto out;
	}
	for (line = sb.buf; line && *line; line = next_line(line)) {
		if (!strncmp(line, "Uid:", 4)) {
			unsigned long r, e;

			if (sscanf(line + 4, "%lu %lu", &r, &e) == 2) {
				*uid = (uid_t)e;
				have_uid = true;
			}
		} else if (!strncmp(line, "NSpid:", 6)) {
			/* The last number is the pid inside the JVM's own namespace. */
			const char *s = line + 6, *nl = strchr(s, '\n');
			long v, last = -1;
			char *endp;

			while (*s && (!nl || s < nl)) {
				v = strtol(s, &endp, 10);
				if (endp == s)
					break;
				last = v;
				s = endp;
			}
			if (last > 0 && last <= INT_MAX)
				*nspid = (pid_t)last;
		}
	}
	if (!have_uid) {
		strbuf_addf(err, "no Uid line in status of process %d", (int)pid);
		ret = -EPROTO;
	}
out:
	strbuf_release(&sb);
	return ret;
}

/* lstat of dir/<nspid>. */
static int lstat_in(const char *dir, pid_t nspid, struct stat *st)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%d", dir, (int)nspid) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return lstat(path, st) ? -errno : 0;
}

/*
 * Looks for hsperfdata_*\/<nspid> in dir; the one owned by uid first. The path
 * of an hsperfdata_* symlink that leads to a file for nspid, not followed, goes
 * into links (the first).
 */
static int find_in(const char *dir, pid_t nspid, uid_t uid, char *buf, size_t n,
		   struct strbuf *links)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int found = -ENOENT;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (strncmp(de->d_name, "hsperfdata_", 11))
			continue;
		/* A directory planted as a symlink could lead anywhere. */
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
		    lstat(path, &st))
			continue;
		if (!S_ISDIR(st.st_mode)) {
			/* Only to say why: a stat through the link, never an open. */
			if (S_ISLNK(st.st_mode) && !links->len && !lstat_in(path, nspid, &st))
				strbuf_addstr(links, path);
			continue;
		}
		if (snprintf(path, sizeof(path), "%s/%s/%d", dir, de->d_name, (int)nspid) >=
		    (int)sizeof(path))
			continue;
		if (lstat(path, &st))
			continue;
		/* Prefer the owner's file; remember any other so the caller can refuse it. */
		if (found && strlen(path) < n) {
			snprintf(buf, n, "%s", path);
			found = 0;
		}
		if (S_ISREG(st.st_mode) && st.st_uid == uid && strlen(path) < n) {
			snprintf(buf, n, "%s", path);
			break;
		}
	}
	closedir(d);
	return found;
}

int hsperf_find(pid_t pid, char *buf, size_t n, struct strbuf *err)
{
	struct strbuf links = STRBUF_INIT;
	char dir[PATH_MAX];
	uid_t uid = 0;
	pid_t nspid;
	int ret = read_status(pid, &uid, &nspid, err);

	if (ret)
		return ret;
	/* The JVM's /tmp as it sees it; /tmp when its root is not reachable. */
	if (!procfs_path(dir, sizeof(dir), "%d/root/tmp", (int)pid) &&
	    !find_in(dir, nspid, uid, buf, n, &links))
		goto out;
	if (!sysroot_path(dir, sizeof(dir), "/tmp") && !find_in(dir, nspid, uid, buf, n, &links))
		goto out;
	if (!procfs_pid_alive(pid)) {
		strbuf_addf(err, "no process %d", (int)pid);
		ret = -ESRCH;
	} else if (links.len) {
		strbuf_addf(err, "no hsperfdata for process %d: refusing '%s', a symbolic link",
			    (int)pid, links.buf);
		ret = -ELOOP;
	} else {
		strbuf_addf(err, "no hsperfdata for process %d (not a JVM, or started with "
				 "-XX:-UsePerfData)", (int)pid);
		ret = -ENOENT;
	}
out:
	strbuf_release(&links);
	return ret;
}

/* Reads the whole open file into a fresh buffer and parses it. */
static int read_and_parse(struct hsperf *h, struct strbuf *err)
{
	struct stat st;
	unsigned char *buf;
	size_t got = 0;
	int ret;

	if (fstat(h->fd, &st) < 0) {
		ret = -errno;
		strbuf_addf(err, "cannot stat '%s': %s", h->path, strerror(-ret));
		return ret;
	}
	if (st.st_size < PROLOGUE_SIZE) {
		strbuf_addf(err, "'%s' is too short for hsperfdata", h->path);
		return -EPROTO;
	}
	if ((uint64_t)st.st_size > HSPERF_MAX_SIZE) {
		strbuf_addf(err, "'%s' is larger than %u bytes", h->path, HSPERF_MAX_SIZE);
		return -EFBIG;
	}
	buf = xmalloc((size_t)st.st_size);
	while (got < (size_t)st.st_size) {
		ssize_t r = pread(h->fd, buf + got, (size_t)st.st_size - got, (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			strbuf_addf(err, "cannot read '%s': %s", h->path, strerror(-ret));
			free(buf);
			return ret;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	ret = hsperf_parse(h, buf, got, err);
	free(buf);
	return ret;
}

/*
 * Opens <tmp>/<hsperfdata dir>/<file> refusing a symlink in either of the last two
 * components, so a directory swapped for a link after hsperf_find cannot redirect us.
 * Returns an fd or -errno.
 */
static int open_nofollow(const char *path)
{
	char dir[PATH_MAX];
	char *file, *sub;
	int tfd, dfd, fd, ret;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	file = strrchr(dir, '/');
	if (!file || file == dir)
		return -EINVAL;
	*file++ = '\0';
	sub = strrchr(dir, '/');
	if (!sub || sub == dir)
		return -EINVAL;
	*sub++ = '\0';
	/* The tmp dir itself may be /proc/PID/root/tmp, a magic link that must be followed. */
	tfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd < 0)
		return -errno;
	dfd = openat(tfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	ret = -errno;
	close(tfd);
	if (dfd < 0)
		return ret == -ENOTDIR ? -ELOOP : ret;
	fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	ret = -errno;
	close(dfd);
	return fd < 0 ? ret : fd;
}

/*
 * False when /proc/PID/maps is readable and maps neither the file st (by device
 * and inode) nor a file named like path's last two components (overlayfs shows
 * the inode of the layer below). True when maps cannot be read: no evidence.
 */
static bool maps_file(pid_t pid, const struct stat *st, const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	const char *tail = path + strlen(path);
	bool yes = false;
	size_t tlen;
	char *line;

	for (int slashes = 0; tail > path; tail--)
		if (tail[-1] == '/' && ++slashes == 2)
			break;
	tlen = strlen(tail);
	if (procfs_read_pid(pid, "maps", &sb, 64u << 20)) {
		strbuf_release(&sb);
		return true;
	}
	for (line = sb.buf; line && *line && !yes; line = next_line(line)) {
		unsigned long long ino;
		unsigned int maj, min;
		char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		int name_at = 0;

		if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &name_at) != 3)
			continue;
		if (maj == major(st->st_dev) && min == minor(st->st_dev) && ino == st->st_ino)
			yes = true;
		else if (name_at && len > tlen && !strncmp(line + len - tlen, tail, tlen) &&
			 line[len - tlen - 1] == '/')
			yes = true;
	}
	strbuf_release(&sb);
	return yes;
}

int hsperf_open(struct hsperf *h, pid_t pid, struct strbuf *err)
{
	uid_t uid = 0;
	pid_t nspid;
	struct stat st;
	int ret;

	h->pid = pid;
	ret = hsperf_find(pid, h->path, sizeof(h->path), err);
	if (ret)
		return ret;
	ret = read_status(pid, &uid, &nspid, err);
	if (ret)
		return ret;
	h->fd = open_nofollow(h->path);
	if (h->fd < 0) {
		ret = h->fd;
		h->fd = -1;
		if (ret == -ELOOP)
			strbuf_addf(err, "refusing '%s': it is a symbolic link", h->path);
		else
			strbuf_addf(err, "cannot open '%s': %s", h->path, strerror(-ret));
		return ret;
	}
	if (fstat(h->fd, &st) < 0) {
		ret = -errno;
		strbuf_addf(err, "cannot stat '%s': %s", h->path, strerror(-ret));
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		strbuf_addf(err, "refusing '%s': not a regular file", h->path);
		return -EPERM;
	}
	/* Anyone may plant a file in /tmp: only the JVM's own user can have written it. */
	if (st.st_uid != uid) {
		strbuf_addf(err, "refusing '%s': owned by uid %lu, but process %d runs as uid %lu",
			    h->path, (unsigned long)st.st_uid, (int)pid, (unsigned long)uid);
		return -EPERM;
	}
	if (procfs_is_live() && !maps_file(pid, &st, h->path)) {
		/* clang-format off */
		strbuf_addf(err, "refusing '%s': process %d does not map it (left over from an earlier process with that pid)",
			    h->path, (int)pid);
		/* clang-format on */
		return -ESTALE;
	}
	return read_and_parse(h, err);
}

int hsperf_refresh(struct hsperf *h, struct strbuf *err)
{
	if (h->fd < 0) {
		strbuf_addstr(err, "hsperfdata is not open");
		return -EBADF;
	}
	return read_and_parse(h, err);
}

void hsperf_release(struct hsperf *h)
{
	if (h->fd >= 0)
		close(h->fd);
	free(h->data);
	free(h->entries);
	memset(h, 0, sizeof(*h));
	h->fd = -1;
}

const struct hsperf_entry *hsperf_lookup(const struct hsperf *h, const char *name)
{
	for (size_t i = 0; i < h->nr; i++)
		if (!strcmp(h->entries[i].name, name))
			return &h->entries[i];
	return NULL;
}

int hsperf_get_long(const struct hsperf *h, const char *name, int64_t *val)
{
	const struct hsperf_entry *e = hsperf_lookup(h, name);

	if (!e)
		return -ENOENT;
	if (e->type != 'J')
		return -EINVAL;
	*val = e->value;
	return 0;
}

char *hsperf_get_string(const struct hsperf *h, const char *name)
{
	const struct hsperf_entry *e = hsperf_lookup(h, name);

	if (!e || e->type != 'B')
		return NULL;
	return xstrndup(e->str, e->str_len);
}

/* The level named by the last -XX:NativeMemoryTracking= option in s, or -1. */
static int nmt_in(const char *s)
{
	static const char opt[] = "-XX:NativeMemoryTracking=";
	int mode = -1;

	for (const char *p = s; (p = strstr(p, opt)); p++) {
		const char *v = p + sizeof(opt) - 1;
		size_t len = strcspn(v, " \t\n");

		if (p != s && p[-1] != ' ' && p[-1] != '\t')
			continue;
		if (len == 3 && !strncmp(v, "off", 3))
			mode = HSPERF_NMT_OFF;
		else if (len == 7 && !strncmp(v, "summary", 7))
			mode = HSPERF_NMT_SUMMARY;
		else if (len == 6 && !strncmp(v, "detail", 6))
			mode = HSPERF_NMT_DETAIL;
	}
	return mode;
}

enum hsperf_nmt hsperf_nmt(const struct hsperf *h)
{
	char *flags = hsperf_get_string(h, "java.rt.vmFlags");
	char *args = hsperf_get_string(h, "java.rt.vmArgs");
	int mode = HSPERF_NMT_UNKNOWN, m;

	if (args || flags)
		mode = HSPERF_NMT_OFF;
	/* A .hotspotrc flag is overridden by the command line. */
	if (flags && (m = nmt_in(flags)) >= 0)
		mode = m;
	if (args && (m = nmt_in(args)) >= 0)
		mode = m;
	free(flags);
	free(args);
	return (enum hsperf_nmt)mode;
}

const char *hsperf_nmt_name(enum hsperf_nmt m)
{
	switch (m) {
	case HSPERF_NMT_OFF: return "off";
	case HSPERF_NMT_SUMMARY: return "summary";
	case HSPERF_NMT_DETAIL: return "detail";
	default: return "?";
	}
}

static int64_t long_or(const struct hsperf *h, const char *name)
{
	int64_t v;

	return hsperf_get_long(h, name, &v) ? -1 : v;
}

/*
 * a + b, held at INT64_MAX (a hostile file's counters must not overflow), or a
 * alone when b is absent, -1 when a is.
 */
static int64_t sum_of(const struct hsperf *h, const char *a, const char *b)
{
	int64_t x = long_or(h, a), y = long_or(h, b);

	return x < 0 ? -1 : y < 0 ? x : x > INT64_MAX - y ? INT64_MAX : x + y;
}

int64_t hsperf_uptime_ms(const struct hsperf *h, int64_t now_ms)
{
	int64_t ticks = long_or(h, "sun.os.hrt.ticks"), freq = long_or(h, "sun.os.hrt.frequency");
	int64_t begin = long_or(h, "sun.rt.createVmBeginTime");

	if (ticks >= 0 && freq > 0)
		return sat_i64((double)ticks * 1000 / (double)freq);
	if (now_ms < 0 || begin <= 0)
		return -1;
	/* A wall clock set back since the JVM started must not make it negative. */
	return now_ms > begin ? now_ms - begin : 0;
}

void hsperf_vm_info(const struct hsperf *h, struct hsperf_vm *vm)
{
	int64_t now_ms = -1;
	struct timespec ts;

	/* A recorded file (a buffer, or a replayed /proc) was not written now. */
	if (h->fd >= 0 && procfs_is_live() && !clock_gettime(CLOCK_REALTIME, &ts))
		now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	vm->nmt = hsperf_nmt(h);
	vm->threads_live = long_or(h, "java.threads.live");
	vm->threads_daemon = long_or(h, "java.threads.daemon");
	vm->threads_peak = long_or(h, "java.threads.livePeak");
	vm->threads_started = long_or(h, "java.threads.started");
	/* As jstat -class: classes from the CDS archive are counted apart. */
	vm->classes_loaded = sum_of(h, "java.cls.loadedClasses", "java.cls.sharedLoadedClasses");
	vm->classes_unloaded = sum_of(h, "java.cls.unloadedClasses",
				      "java.cls.sharedUnloadedClasses");
	vm->metaspace_capacity = long_or(h, "sun.gc.metaspace.capacity");
	vm->metaspace_used = long_or(h, "sun.gc.metaspace.used");
	vm->ccs_capacity = long_or(h, "sun.gc.compressedclassspace.capacity");
	vm->ccs_used = long_or(h, "sun.gc.compressedclassspace.used");
	vm->nmethod_code_size = long_or(h, "sun.ci.nmethodCodeSize");
	vm->start_time_ms = long_or(h, "sun.rt.createVmBeginTime");
	vm->uptime_ms = hsperf_uptime_ms(h, now_ms);
	vm->command = hsperf_get_string(h, "sun.rt.javaCommand");
	vm->vm_version = hsperf_get_string(h, "java.property.java.vm.version");
	vm->vm_name = hsperf_get_string(h, "java.property.java.vm.name");
}

void hsperf_vm_release(struct hsperf_vm *vm)
{
	free(vm->command);
	free(vm->vm_version);
	free(vm->vm_name);
	memset(vm, 0, sizeof(*vm));
}

void hsperf_heap(const struct hsperf *h, uint64_t *used, uint64_t *committed, uint64_t *max)
{
	char name[96];

	*used = *committed = *max = 0;
	for (int g = 0; g < 2; g++) {
		int64_t v;

		snprintf(name, sizeof(name), "sun.gc.generation.%d.capacity", g);
		v = long_or(h, name);
		*committed += v > 0 ? (uint64_t)v : 0;
		snprintf(name, sizeof(name), "sun.gc.generation.%d.maxCapacity", g);
		v = long_or(h, name);
		*max += v > 0 ? (uint64_t)v : 0;
		for (int s = 0; s < 3; s++) {
			snprintf(name, sizeof(name), "sun.gc.generation.%d.space.%d.used", g, s);
			v = long_or(h, name);
			*used += v > 0 ? (uint64_t)v : 0;
		}
	}
}
