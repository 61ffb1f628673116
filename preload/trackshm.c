/* trackshm: liboffheap.so's side of the file shared with offheap record (trackshm.h). */

/*
 * open_shared sizes, maps and initialises the file named by OFFHEAP_OUT (a
 * header, then the stack table; the address table is private memory in the
 * same OFFHEAP_MAX_MEM budget), and handshakes with the recorder at start
 * and at exit when OFFHEAP_SYNC asks for it. The per-stack counters are
 * sharded by thread so that the common update needs no atomic
 * read-modify-write. fork and descendants are counted in the header, or
 * (OFFHEAP_FOLLOW) record into files of their own.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#ifdef OFFHEAP_CHECK_WALK
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

bool active; /* recording in this process */
static bool sync_mode; /* OFFHEAP_SYNC: the recorder waits on our handshakes */
struct trackshm_header *hdr;
struct trackshm_stack *stacks;
uint32_t max_stacks;
uint64_t sample_mean;
uint64_t sample_big; /* BIG_MEANS * sample_mean: always recorded from there */
static TLS unsigned shard_plus1; /* this thread's counter shard + 1; 0: not chosen */
static unsigned next_shard;
static pthread_key_t live_key; /* its destructor folds a thread's delta of live bytes */
static bool live_key_ok;
static bool once; /* the key and the fork handlers are set up */
uint32_t shm_epoch; /* bumped by each shared_open */
struct trackshm_java *java_names;

/*
 * The Java names region: TRACKSHM_JAVA_MAX records, fewer under a small
 * ceiling (at most an eighth of it), so that it never eats the stack table.
 */
static uint32_t java_max = TRACKSHM_JAVA_MAX;
#define JAVA_BYTES ((uint64_t)java_max * sizeof(struct trackshm_java))
static TLS uint32_t shard_epoch; /* the shm_epoch of shard_plus1 and live_delta */
static size_t shm_bytes; /* the mapping of hdr */
static void *grave; /* the last detached file's address, now anonymous memory */
static size_t grave_bytes;

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	uint64_t v = 0;

	if (!s || !*s)
		return def;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (uint64_t)(*s - '0');
	if (*s == 'k' || *s == 'K')
		v <<= 10;
	else if (*s == 'm' || *s == 'M')
		v <<= 20;
	else if (*s == 'g' || *s == 'G')
		v <<= 30;
	return v;
}

/*
 * The recorder sleeps up to 10 ms between its looks, and a handshake that
 * waited for the next look would add that to the target's start and exit.
 * OFFHEAP_SYNC holds the recorder's PID: its own child (the command, and
 * every image it execs) wakes it with SIGURG, which it waits for. Nobody
 * else is sent anything: a process whose parent is another (a grandchild,
 * an orphan) waits for the look, as before.
 */
static void wake_recorder(void)
{
	uint64_t pid = env_u64("OFFHEAP_SYNC", 0);

	if (pid > 1 && pid <= INT32_MAX && (pid_t)pid == getppid())
		kill((pid_t)pid, SIGURG);
}

static int64_t env_pid(void)
{
	const char *s = getenv("OFFHEAP_PID");

	return s ? (int64_t)env_u64("OFFHEAP_PID", 0) : -1;
}

static void fork_fold(void);
static uint64_t realtime_ns(void);
static void thread_exit_fold(void *arg);
static void live_reset(void);
static void fold_now(bool direct);

static bool follow_child(void);

static void child_after_fork(void)
{
	if (follow_child())
		return;
	active = false;
	__atomic_fetch_add(&hdr->children, 1, __ATOMIC_RELAXED); /* the mapping is shared */
}

/* A descendant of the recorded process: counted in its header, not recorded. */
static void count_descendant(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	struct trackshm_header *h;
	struct stat st;

	if (fd < 0)
		return;
	/* a mapping past the end of a file faults */
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(*h)) {
		close(fd);
		return;
	}
	h = (void *)syscall(SYS_mmap, NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if ((long)h < 0 && (long)h > -4096)
		return;
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) == TRACKSHM_MAGIC &&
	    h->version == TRACKSHM_VERSION)
		__atomic_fetch_add(&h->children, 1, __ATOMIC_RELAXED);
	syscall(SYS_munmap, h, sizeof(*h));
}

/* The bytes of the file: header, stack table, names. */
static uint64_t file_bytes(void)
{
	return sizeof(*hdr) + (uint64_t)max_stacks * sizeof(*stacks) + JAVA_BYTES;
}

/* The regions of the file mapped at p. */
static void set_regions(void *p)
{
	hdr = p;
	stacks = (struct trackshm_stack *)((char *)p + sizeof(*hdr));
	java_names = (struct trackshm_java *)(stacks + max_stacks);
}

/*
 * The index of the stack table, in this process's memory: a slot holds an
 * entry's number, found by the entry's hash (linear probes), 0 when free.
 * It has at least twice as many slots as the table has entries. Entries
 * are handed out in order, so that the stacks met fill the file's first
 * pages one after another: spread over the table by their hash, each took
 * a page of its own (543 stacks, 2.2 MB of a git run's memory, and as many
 * page faults in the target and in the recorder).
 */
uint32_t *stack_index;
uint64_t index_mask;
static uint64_t index_size; /* bytes of stack_index's mapping */

static uint64_t index_bytes(void)
{
	uint64_t n = 64;

	while (n < 2 * (uint64_t)max_stacks)
		n *= 2;
	return n * sizeof(*stack_index);
}

/*
 * *p, an array of this process of *size bytes, zeroed (its pages given
 * back), or a new one when it holds less than need (the old one is left
 * mapped: a hook since a detach may still read it). false: no memory.
 */
static bool zeroed_array(void **p, uint64_t *size, uint64_t need)
{
	if (need > *size) {
		void *m = (void *)syscall(SYS_mmap, NULL, need, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if ((long)m < 0 && (long)m > -4096)
			return false;
		*p = m;
		*size = need;
	} else if (syscall(SYS_madvise, *p, *size, MADV_DONTNEED)) {
		memset(*p, 0, *size);
	}
	return true;
}

/* An empty index for the table's size; false: no memory. */
static bool index_reset(void)
{
	void *p = stack_index;

	if (!zeroed_array(&p, &index_size, index_bytes()))
		return false;
	stack_index = p;
	index_mask = index_bytes() / sizeof(*stack_index) - 1;
	return true;
}

static bool stack_ready(uint32_t idx);

uint32_t take_entry(void)
{
	uint64_t n = __atomic_load_n(&hdr->nstacks, __ATOMIC_RELAXED);

	/*
	 * The entry's pages have storage before it is handed out: every entry
	 * below nstacks may be read (copy_peak_sites, the recorder).
	 */
	do {
		if (n >= max_stacks || !stack_ready((uint32_t)n))
			return 0;
	} while (!__atomic_compare_exchange_n(&hdr->nstacks, &n, n + 1, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return (uint32_t)n;
}

/*
 * ---- storage for the file's pages ----
 *
 * Had before anything touches them: on a full file system a store to a
 * hole of a shared file mapping raises SIGBUS (on tmpfs any access does),
 * and the target would die of its tracker. The header's page gets its
 * storage when the file is opened (the whole file, on a disk with room);
 * a page of stack entries or Java names the first time it is needed.
 * shm_backed has a bit per page of the file that has storage. shm_back
 * gets it for [off, off + len) (fallocate); false, with TRACKSHM_NOSPACE
 * set, when it cannot: nothing may touch those bytes.
 */
static uint64_t *shm_backed;
static uint64_t backed_size; /* bytes of shm_backed's mapping */
static int shm_fd = -1;	     /* the file, kept open to give its pages storage */
static dev_t shm_dev;
static ino_t shm_ino;
static char shm_path[PATH_MAX]; /* to open it again when the program closed shm_fd */
static bool shm_nofalloc; /* its file system has no fallocate: pages are touched as before */

/* The first bytes of the file: the header and entry 0 ("other"), written from the start. */
#define FIRST_BYTES (sizeof(struct trackshm_header) + sizeof(struct trackshm_stack))

/*
 * Storage for [off, off + len) of fd (mode 0 may make the file longer):
 * true when it has it, or when its file system cannot allocate ahead.
 */
static bool allocate(int fd, uint64_t off, uint64_t len, int mode)
{
	if (!fallocate(fd, mode, (off_t)off, (off_t)len))
		return true;
	if (errno != EOPNOTSUPP && errno != ENOSYS)
		return false;
	shm_nofalloc = true;
	return true;
}

static void mark_backed(uint64_t off, uint64_t len)
{
	for (uint64_t p = off >> 12; p <= (off + len - 1) >> 12; p++)
		__atomic_fetch_or(&shm_backed[p >> 6], 1ULL << (p & 63), __ATOMIC_RELEASE);
}

/* Whether fd is still the file we mapped (a program may close it, and the number be reused). */
static bool is_ours(int fd)
{
	struct stat st;

	return fd >= 0 && !fstat(fd, &st) && st.st_dev == shm_dev && st.st_ino == shm_ino;
}

/*
 * fd, the file at path mapped bytes long, becomes the file whose pages
 * shm_back gives storage: none of its pages is marked yet. The last file's
 * descriptor is closed if it still is ours.
 */
static bool shm_adopt(int fd, const char *path, uint64_t bytes)
{
	uint64_t need = (((bytes + 4095) >> 12) + 63) / 64 * sizeof(uint64_t);
	void *map = shm_backed;
	struct stat st;
	size_t n = strlen(path);

	if (fstat(fd, &st) || n >= sizeof(shm_path) || !zeroed_array(&map, &backed_size, need))
		return false;
	shm_backed = map;
	if (shm_fd >= 0 && shm_fd != fd && is_ours(shm_fd))
		close(shm_fd);
	shm_dev = st.st_dev;
	shm_ino = st.st_ino;
	memcpy(shm_path, path, n + 1);
	__atomic_store_n(&shm_fd, fd, __ATOMIC_RELEASE);
	return true;
}

/* Lets the file's descriptor go (a detach). */
static void shm_let_go(void)
{
	int fd = __atomic_exchange_n(&shm_fd, -1, __ATOMIC_ACQ_REL);

	if (is_ours(fd))
		close(fd);
}

static bool shm_back(uint64_t off, uint64_t len)
{
	int saved = errno, fd = __atomic_load_n(&shm_fd, __ATOMIC_ACQUIRE);
	uint64_t from = off & ~4095ULL, to = (off + len + 4095) & ~4095ULL;
	bool ok = true;

	if (!shm_nofalloc && !is_ours(fd)) {
		/*
		 * Closed by the program (a daemon closing every descriptor),
		 * and the number perhaps another file's now: open ours again
		 * (not once detached: the recorder is letting it go).
		 */
		fd = __atomic_load_n(&active, __ATOMIC_ACQUIRE)
			     ? open(shm_path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)
			     : -1;
		if (fd >= 0 && !is_ours(fd)) {
			close(fd);
			fd = -1;
		}
		if (fd >= 0)
			__atomic_store_n(&shm_fd, fd, __ATOMIC_RELEASE);
	}
	if (!shm_nofalloc)
		ok = fd >= 0 && allocate(fd, from, to - from, FALLOC_FL_KEEP_SIZE);
	if (ok)
		mark_backed(from, to - from);
	else
		__atomic_fetch_or(&hdr->flags, TRACKSHM_NOSPACE, __ATOMIC_RELAXED);
	errno = saved;
	return ok;
}

static bool page_backed(uint64_t page)
{
	return __atomic_load_n(&shm_backed[page >> 6], __ATOMIC_ACQUIRE) >> (page & 63) & 1;
}

/* Whether [off, off + len) (len <= 4096) may be touched: storage got now if need be. */
static bool bytes_ready(uint64_t off, uint64_t len)
{
	if (page_backed(off >> 12) && page_backed((off + len - 1) >> 12))
		return true;
	return shm_back(off, len);
}

static bool stack_ready(uint32_t idx)
{
	return bytes_ready(sizeof(*hdr) + (uint64_t)idx * sizeof(*stacks), sizeof(*stacks));
}

bool java_ready(uint32_t idx)
{
	return bytes_ready(sizeof(*hdr) + (uint64_t)max_stacks * sizeof(*stacks) +
				   (uint64_t)idx * sizeof(*java_names),
			   sizeof(*java_names));
}

/*
 * On a disk with room to spare, storage for the whole file at once: a
 * page at a time cost 4,096 stacks 5 ms more on ext4 (a system call or
 * two and a costlier fault each). Disk blocks reserved this way cost no
 * memory; on tmpfs they would, so there the pages get storage as they are
 * used. Nor is the reserve taken where it would be more than a tenth of
 * the room free: the program may need that room itself. false: page by
 * page.
 */
static bool back_whole(int fd, uint64_t bytes)
{
	struct statfs fs;

	if (fstatfs(fd, &fs) || fs.f_type == TMPFS_MAGIC || shm_nofalloc ||
	    (uint64_t)fs.f_bavail * (uint64_t)fs.f_bsize / 10 < bytes)
		return false;
	return allocate(fd, 0, bytes, FALLOC_FL_KEEP_SIZE);
}

/* The file is empty and no page of it can have storage: says so to the recorder (trackshm.h). */
static void mark_nospace(int fd)
{
	if (ftruncate(fd, TRACKSHM_NOSPACE_SIZE))
		return; /* (the recorder then cannot tell why nothing came) */
}

/*
 * A new file (fd, bytes long once made ready, now shorter): storage for
 * its first page before it grows, so that the recorder, which maps the
 * file as soon as it holds a header, never reads a page without; then the
 * whole length. false, errno set: the file system is full (or the file
 * could not grow).
 */
static bool make_ready(int fd, uint64_t bytes)
{
	return allocate(fd, 0, FIRST_BYTES, 0) && !ftruncate(fd, (off_t)bytes);
}

/* --follow-fork: a process of the command's tree records into its own file (trackshm.h). */
static char follow_dir[PATH_MAX]; /* OFFHEAP_FOLLOW; "" when not following */

static void follow_init(void)
{
	const char *d = getenv("OFFHEAP_FOLLOW");
	size_t n = d ? strlen(d) : 0;

	/* a copy: the program may change its environment */
	if (n && n < sizeof(follow_dir) - 32 && d[0] == '/')
		memcpy(follow_dir, d, n + 1);
}

/* follow_dir/name in buf, the name a pid or a word; false when there is no directory. */
static bool follow_path(char *buf, size_t n, long pid, const char *word)
{
	size_t len = strlen(follow_dir), k = 0;
	char digits[24];

	if (!len || len + 32 > n)
		return false;
	memcpy(buf, follow_dir, len);
	buf[len++] = '/';
	if (word) {
		k = strlen(word);
		memcpy(buf + len, word, k + 1);
		return true;
	}
	do
		digits[k++] = (char)('0' + pid % 10);
	while ((pid /= 10) && k < sizeof(digits));
	while (k)
		buf[len++] = digits[--k];
	buf[len] = '\0';
	return true;
}

/* One more followed process, if the recorder's limit allows it (trackshm_follow). */
static bool follow_take(void)
{
	struct trackshm_follow *f;
	char path[PATH_MAX];
	struct stat st;
	bool ok = false;
	int fd;

	if (!follow_path(path, sizeof(path), 0, "follow"))
		return false;
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(*f)) {
		close(fd);
		return false;
	}
	f = (void *)syscall(SYS_mmap, NULL, sizeof(*f), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if ((long)f < 0 && (long)f > -4096)
		return false;
	if (__atomic_load_n(&f->magic, __ATOMIC_ACQUIRE) == TRACKSHM_FOLLOW_MAGIC) {
		ok = __atomic_fetch_add(&f->taken, 1, __ATOMIC_RELAXED) <
		     __atomic_load_n(&f->max, __ATOMIC_RELAXED);
		if (!ok)
			__atomic_fetch_add(&f->refused, 1, __ATOMIC_RELAXED);
	}
	syscall(SYS_munmap, f, sizeof(*f));
	return ok;
}

/*
 * A new image in a process other than the command's: its file in
 * follow_dir, made at its fork (then *ppid is the forking process) or now
 * (a descendant started without our fork handler: vfork, posix_spawn).
 * false: not followed.
 */
static bool follow_image(char *path, size_t n, int32_t *ppid)
{
	struct trackshm_header h;
	int fd;

	if (!follow_path(path, n, (long)getpid(), NULL))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		if (pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && h.magic == TRACKSHM_MAGIC)
			*ppid = h.ppid;
		close(fd);
		return true;
	}
	if (!follow_take())
		return false;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return false;
	close(fd);
	*ppid = (int32_t)getppid();
	return true;
}

/*
 * In a forked child (atfork handler): its own file, with an empty stack
 * table (the one cache that names an entry, this thread's last stack, is
 * forgotten) and an empty address table (the inherited blocks were charged
 * in the parent). false: the child is not followed.
 */
static bool follow_child(void)
{
	uint64_t stack_bytes = file_bytes();
	struct trackshm_header *h;
	char path[PATH_MAX];
	void *p;
	int fd;

	if (!active || !follow_path(path, sizeof(path), (long)getpid(), NULL) || !follow_take())
		return false;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	shm_nofalloc = false;
	if (fd < 0 || !make_ready(fd, stack_bytes)) {
		/* said in the parent's header (still ours): the recorder tells why */
		if (errno == ENOSPC || errno == EDQUOT)
			__atomic_fetch_or(&hdr->flags, TRACKSHM_CHILD_NOSPACE, __ATOMIC_RELAXED);
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		return false;
	}
	p = (void *)syscall(SYS_mmap, NULL, stack_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (((long)p < 0 && (long)p > -4096) || !shm_adopt(fd, path, stack_bytes)) {
		if (!((long)p < 0 && (long)p > -4096))
			syscall(SYS_munmap, p, stack_bytes);
		close(fd);
		unlink(path);
		return false;
	}
	mark_backed(0, back_whole(fd, stack_bytes) ? stack_bytes : FIRST_BYTES);
	h = p;
	h->version = TRACKSHM_VERSION;
	h->header_size = sizeof(*h);
	h->stack_size = sizeof(*stacks);
	h->max_stacks = max_stacks;
	h->java_max = java_max;
	h->generation = realtime_ns();
	h->flags = hdr->flags & (TRACKSHM_EXACT | TRACKSHM_DEGRADED);
	h->sample_mean = hdr->sample_mean;
	h->degraded_ns = hdr->degraded_ns;
	h->degraded_kib = hdr->degraded_kib;
	h->max_mem_mib = hdr->max_mem_mib;
	h->pid = (int32_t)getpid();
	h->ppid = hdr->pid;
	addr_init(); /* (empties it: the table is mapped) */
	index_reset(); /* (empties it: of the same size, mapped) */
	syscall(SYS_munmap, hdr, stack_bytes);
	set_regions(p);
	javastack_forget();
	stacks[0].hash = 1;
	stacks[0].ready = 1;
	hdr->nstacks = 1;
	stackwalk_forget();
	__atomic_store_n(&h->magic, TRACKSHM_MAGIC, __ATOMIC_RELEASE);
	return true;
}

/*
 * An exec replaced the image that recorded into fd's file, and no exit
 * handshake ran: do it on its behalf before the counters are reset, so
 * that the recorder copies what the old image did since its last interval.
 */
static void exec_handshake(int fd)
{
	struct timespec ms = {0, 1000000};
	struct trackshm_header *h;
	struct stat st;
	uint64_t gen;

	if (!env_u64("OFFHEAP_SYNC", 0) || fstat(fd, &st) || st.st_size < (off_t)sizeof(*h))
		return;
	h = (void *)syscall(SYS_mmap, NULL, sizeof(*h), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if ((long)h < 0 && (long)h > -4096)
		return;
	gen = h->generation;
	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) == TRACKSHM_MAGIC &&
	    h->version == TRACKSHM_VERSION && h->pid == (int32_t)getpid() &&
	    __atomic_load_n(&h->exit_ack, __ATOMIC_ACQUIRE) != gen) {
		__atomic_store_n(&h->exiting, gen, __ATOMIC_RELEASE);
		wake_recorder();
		for (int i = 0; i < 2000; i++) {
			if (__atomic_load_n(&h->exit_ack, __ATOMIC_ACQUIRE) == gen)
				break;
			nanosleep(&ms, NULL);
		}
	}
	syscall(SYS_munmap, h, sizeof(*h));
}

/* Zeroes the free filter: whole pages by giving them back, the edges by hand. */
static void filter_clear(void)
{
	uintptr_t a = (uintptr_t)filter, e = a + sizeof(filter);
	uintptr_t pa = (a + 4095) & ~(uintptr_t)4095, pe = e & ~(uintptr_t)4095;

	filter_full = false;
	if (pe <= pa || madvise((void *)pa, pe - pa, MADV_DONTNEED)) {
		memset(filter, 0, sizeof(filter));
		return;
	}
	memset(filter, 0, pa - a);
	memset((void *)pe, 0, e - pe);
}

/* The stack table in n entries, entry 0 ("other") among them; at least 16. */
static void size_table(uint64_t n)
{
	max_stacks = (uint32_t)(n < 16 ? 16 : n > TRACKSHM_MAX_STACKS ? TRACKSHM_MAX_STACKS : n);
}

int shared_open(const char *path, bool create, uint64_t max_mem, uint64_t sample, bool sync,
		bool wait_ack, int32_t ppid)
{
	uint64_t stack_bytes;
	struct timespec ts;
	struct stat st;
	bool punched;
	int fd;
	void *p;

	if (max_mem < (1ULL << 20))
		max_mem = 1ULL << 20;
	size_table(env_u64("OFFHEAP_MAX_STACKS", 32768));
	if (JAVA_BYTES > max_mem / 8)
		java_max = (uint32_t)(max_mem / 8 / sizeof(struct trackshm_java));
	stack_bytes = file_bytes();
	if (stack_bytes + index_bytes() > max_mem / 2) {
		/* max_mem >= 1 MiB: half of it holds the header, the names and 16 stacks */
		size_table((max_mem / 2 - sizeof(*hdr) - JAVA_BYTES) /
			   (sizeof(*stacks) + 4 * sizeof(*stack_index)));
		stack_bytes = file_bytes();
	}
	addr_budget = max_mem - stack_bytes - index_bytes();

	fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : O_NOFOLLOW), 0600);
	if (fd < 0)
		return -errno;
	if (create)
		exec_handshake(fd);
	shm_nofalloc = false;
	/*
	 * Never shrink: the recorder may have the file mapped (an exec
	 * re-initialises it), and reading past a shrunk end would fault.
	 */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (st.st_size < (off_t)stack_bytes && !make_ready(fd, stack_bytes))) {
		int e = S_ISREG(st.st_mode) ? errno : EINVAL;

		if ((e == ENOSPC || e == EDQUOT) && !st.st_size)
			mark_nospace(fd);
		close(fd);
		return -e;
	}
	/*
	 * A file used before: zero the stack table without touching its pages
	 * (their storage goes with them: the first page gets it again; a file
	 * system that cannot punch has the whole file's).
	 */
	punched = st.st_size && !fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					   (off_t)sizeof(*hdr), (off_t)(stack_bytes - sizeof(*hdr)));
	if (st.st_size && !allocate(fd, 0, punched ? FIRST_BYTES : stack_bytes, 0)) {
		close(fd);
		return -ENOSPC;
	}
	p = (void *)syscall(SYS_mmap, NULL, stack_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if ((long)p < 0 && (long)p > -4096) {
		close(fd);
		return (int)(long)p;
	}
	if (!shm_adopt(fd, path, stack_bytes)) {
		syscall(SYS_munmap, p, stack_bytes);
		close(fd);
		return -ENOMEM;
	}
	mark_backed(0, (st.st_size && !punched) || back_whole(fd, stack_bytes) ? stack_bytes
									      : FIRST_BYTES);
	/*
	 * A read of an entry's hash would otherwise read ahead around it (a
	 * page cache page per hole page) and map what is around: the table
	 * counts in our memory only where stacks are.
	 */
	syscall(SYS_madvise, p, stack_bytes, MADV_RANDOM);
	/* another attach: the blocks and stacks of the last one are forgotten */
	if (!addr_init() || !index_reset()) {
		syscall(SYS_munmap, p, stack_bytes);
		shm_let_go();
		return -ENOMEM;
	}
	if (shm_epoch)
		filter_clear();
	set_regions(p);
	shm_bytes = stack_bytes;
	javastack_forget();
	__atomic_store_n(&hdr->magic, 0, __ATOMIC_RELEASE);
	if (st.st_size && !punched)
		memset(stacks, 0, stack_bytes - sizeof(*hdr));
	memset((char *)hdr + sizeof(hdr->magic), 0, sizeof(*hdr) - sizeof(hdr->magic));
	sample_mean = sample;
	sample_big = sample_mean > UINT64_MAX / BIG_MEANS ? UINT64_MAX : sample_mean * BIG_MEANS;
#ifdef OFFHEAP_CHECK_WALK
	check_poison = env_u64("OFFHEAP_CHECK_POISON", 0);
#endif
	if (!sample_mean)
		__atomic_store_n(&filter_full, true, __ATOMIC_RELAXED);

	clock_gettime(CLOCK_REALTIME, &ts);
	hdr->version = TRACKSHM_VERSION;
	hdr->header_size = sizeof(*hdr);
	hdr->stack_size = sizeof(*stacks);
	hdr->max_stacks = max_stacks;
	hdr->java_max = java_max;
	hdr->generation = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	hdr->flags = sample_mean ? 0 : TRACKSHM_EXACT;
	hdr->sample_mean = sample_mean;
	hdr->pid = (int32_t)getpid();
	hdr->ppid = ppid;
	hdr->max_mem_mib = (uint32_t)(max_mem >> 20);
	stacks[0].hash = 1;
	stacks[0].ready = 1;
	hdr->nstacks = 1;
	next_shard = 0;
	/* every thread's shard, live delta and last stack belong to the last file */
	__atomic_add_fetch(&shm_epoch, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&hdr->magic, TRACKSHM_MAGIC, __ATOMIC_RELEASE);

#ifdef OFFHEAP_CHECK_WALK
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
#endif
	sync_mode = sync;
	if (sync_mode && wait_ack) {
		struct timespec ms = {0, 1000000};

		wake_recorder();
		for (int i = 0; i < 2000; i++) {
			if (__atomic_load_n(&hdr->ack, __ATOMIC_ACQUIRE) == hdr->generation)
				break;
			nanosleep(&ms, NULL);
		}
	}
	if (!once) {
		once = true;
		live_key_ok = !pthread_key_create(&live_key, thread_exit_fold);
		pthread_atfork(fork_fold, NULL, child_after_fork);
	}
	__atomic_store_n(&active, true, __ATOMIC_RELEASE);
	return 0;
}

void open_shared(void)
{
	const char *path = getenv("OFFHEAP_OUT");
	int64_t want_pid = env_pid();
	char own[PATH_MAX];
	int32_t ppid = 0;

	if (!path || !*path)
		return;
	follow_init();
	if (want_pid >= 0 && want_pid != (int64_t)getpid()) {
		if (!follow_image(own, sizeof(own), &ppid)) {
			count_descendant(path);
			return;
		}
		path = own;
	}
	shared_open(path, true, env_u64("OFFHEAP_MAX_MEM", 64ULL << 20),
		    env_u64("OFFHEAP_SAMPLE", 512 * 1024), env_u64("OFFHEAP_SYNC", 0) != 0, true, ppid);
}

void shared_close(bool (*recorder_alive)(void))
{
	struct timespec ms = {0, 1000000};
	uint64_t gen = hdr->generation;
	void *anon;

	fold_now(false);
	if (sync_mode && recorder_alive) {
		__atomic_store_n(&hdr->exiting, gen, __ATOMIC_RELEASE);
		for (int i = 0; i < 2000; i++) {
			if (__atomic_load_n(&hdr->exit_ack, __ATOMIC_ACQUIRE) == gen)
				break;
			if (i % 100 == 99 && !recorder_alive())
				break;
			nanosleep(&ms, NULL);
		}
	}
	/*
	 * The recorder's file is let go, but its address stays mapped (to
	 * anonymous memory) for a hook still running since the detach; the
	 * last detach's such mapping is surely unused by now.
	 */
	shm_let_go();
	if (grave)
		syscall(SYS_munmap, grave, grave_bytes);
	anon = (void *)syscall(SYS_mmap, hdr, shm_bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
	grave = anon == (void *)hdr ? (void *)hdr : NULL;
	grave_bytes = shm_bytes;
}

/*
 * At exit the libraries loaded since the start (a JVM's libjvm.so is
 * dlopened) are still mapped: let the recorder read the last stacks and the
 * module list now, or their frames could not be named once we are gone.
 * Bounded wait; a process that ends by _exit or a signal skips this.
 */
__attribute__((destructor)) static void exit_handshake(void)
{
	struct timespec ms = {0, 1000000};
	uint64_t gen;

	if (!active || !hdr || hdr->pid != (int32_t)getpid())
		return;
	/* this thread's delta; threads still running keep theirs (< TRACKSHM_FOLD each) */
	fold_now(true);
	if (!sync_mode)
		return;
	gen = hdr->generation;
	__atomic_store_n(&hdr->exiting, gen, __ATOMIC_RELEASE);
	wake_recorder();
	for (int i = 0; i < 2000; i++) {
		if (__atomic_load_n(&hdr->exit_ack, __ATOMIC_ACQUIRE) == gen)
			break;
		nanosleep(&ms, NULL);
	}
}


/*
 * The first TRACKSHM_SHARDS - 1 threads that record own shards 1.. and add to
 * them without atomic read-modify-writes (a plain 64-bit store is atomic for
 * the reader); later threads share shard 0 with atomic adds, and so does a
 * signal handler that interrupts its thread's own update (counting is set).
 */
static TLS int counting;

/* The thread's first record: its shard, and its delta of live bytes folded when it exits. */
__attribute__((noinline, cold)) static void add_first(uint32_t idx, bool is_free, uint64_t bytes,
						      uint32_t count)
{
	unsigned n = __atomic_fetch_add(&next_shard, 1, __ATOMIC_RELAXED);

	if (shard_epoch != shm_epoch)
		live_reset();
	shard_plus1 = n < TRACKSHM_SHARDS - 1 ? n + 2 : 1;
	if (live_key_ok)
		pthread_setspecific(live_key, (void *)1);
	add_counts(idx, is_free, bytes, count);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void degrade(void)
{
	uint64_t mean = sample_mean ? sample_mean * 2 : DEGRADE_MEAN;

	if (mean > (1ULL << 30))
		return; /* coarse enough: blocks that find no slot are counted as dropped */
	/* big before mean: a hook that sees the new mean sees its threshold */
	__atomic_store_n(&sample_big, mean * BIG_MEANS, __ATOMIC_RELEASE);
	__atomic_store_n(&sample_mean, mean, __ATOMIC_RELEASE);
	__atomic_store_n(&hdr->degraded_kib, (uint32_t)(mean >> 10), __ATOMIC_RELAXED);
	if (!__atomic_load_n(&hdr->degraded_ns, __ATOMIC_RELAXED))
		__atomic_store_n(&hdr->degraded_ns, realtime_ns(), __ATOMIC_RELAXED);
	__atomic_fetch_or(&hdr->flags, TRACKSHM_DEGRADED, __ATOMIC_RELEASE);
}

/*
 * Copies every stack's live bytes into its peak_live: the sites live at
 * (about) the peak. One thread at a time; a thread that finds another
 * copying skips (the next growth by 1/64 copies again). The copy is not
 * atomic against other threads' updates, which may move it by what they
 * allocate meanwhile; within one thread it is exact. A stack still being
 * entered (not ready) is left for the next copy.
 */
static void copy_peak_sites(void)
{
	int64_t sum = 0;
	uint64_t n;

	if (__atomic_exchange_n(&hdr->sites_busy, 1, __ATOMIC_ACQUIRE))
		return;
	n = __atomic_load_n(&hdr->nstacks, __ATOMIC_ACQUIRE);
	if (n > max_stacks)
		n = max_stacks;
	/* entry 0 ("other", where stacks go once the table is full) and those handed out */
	for (uint32_t i = 0; i < n; i++) {
		struct trackshm_stack *s = &stacks[i];
		uint64_t live = 0;

		if (!__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE))
			continue;
		for (int j = 0; j < TRACKSHM_SHARDS; j++)
			live += __atomic_load_n(&s->shard[j].alloc_bytes, __ATOMIC_RELAXED) -
				__atomic_load_n(&s->shard[j].free_bytes, __ATOMIC_RELAXED);
		__atomic_store_n(&s->peak_live, (int64_t)live, __ATOMIC_RELAXED);
		sum += (int64_t)live;
	}
	__atomic_store_n(&hdr->sites_live, sum, __ATOMIC_RELAXED);
	__atomic_store_n(&hdr->sites_ns, realtime_ns(), __ATOMIC_RELAXED);
	__atomic_fetch_add(&hdr->sites_seq, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&hdr->sites_busy, 0, __ATOMIC_RELEASE);
}

/*
 * Folds d into the total of live bytes: one atomic add, so the totals the
 * adds return are the successive values of one sequence, and the peak is
 * their maximum (a new peak is a CAS loop).
 */
static void add_live(int64_t d)
{
	int64_t now = __atomic_add_fetch(&hdr->live, d, __ATOMIC_RELAXED);
	int64_t peak = __atomic_load_n(&hdr->peak, __ATOMIC_RELAXED);
	int64_t snap;

	if (d <= 0 || now <= peak)
		return;
	do {
		if (__atomic_compare_exchange_n(&hdr->peak, &peak, now, true, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			__atomic_store_n(&hdr->peak_ns, realtime_ns(), __ATOMIC_RELAXED);
			break;
		}
	} while (now > peak);
	snap = __atomic_load_n(&hdr->sites_live, __ATOMIC_RELAXED);
	if (now >= TRACKSHM_PEAK_FLOOR && now - snap >= snap / 64 + 1)
		copy_peak_sites();
}

/*
 * Each thread keeps what it charged less what it discharged in live_delta
 * and folds it into the shared total only when |live_delta| reaches
 * TRACKSHM_FOLD (and at thread exit, fork and exit), so that the hot path
 * touches no shared cache line for the total. The peak is checked at each
 * fold, so it is exact to within nthreads x TRACKSHM_FOLD: each thread's
 * unfolded part is below TRACKSHM_FOLD. In a single-threaded program the
 * peak found is within TRACKSHM_FOLD below the true one.
 *
 * A thread folds directly (live_direct) once its exit has begun, as the
 * last frees of pthread key destructors come after ours; so does the
 * thread that runs the exit destructors. A signal handler that interrupts
 * the thread's own update (counting is set) adds to the total directly.
 */
static TLS int64_t live_delta;
static TLS bool live_direct;

/* An earlier attach's delta is not this file's. */
static void live_reset(void)
{
	live_delta = 0;
	live_direct = false;
	shard_epoch = __atomic_load_n(&shm_epoch, __ATOMIC_ACQUIRE);
}

static void fold_mine(void)
{
	int64_t d = live_delta;

	live_delta = 0;
	if (d)
		add_live(d);
}

/* Folds this thread's delta now; direct: and every later change as it comes. */
__attribute__((noinline)) static void fold_now(bool direct)
{
	counting = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	live_direct |= direct;
	fold_mine();
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	counting = 0;
}

static void thread_exit_fold(void *arg)
{
	(void)arg;
	if (shard_epoch == __atomic_load_n(&shm_epoch, __ATOMIC_ACQUIRE))
		fold_now(true); /* (else its delta was an earlier attach's) */
	stackwalk_thread_exit();
}

/* The forking thread's delta goes in before the child shares the mapping (not from a handler). */
static void fork_fold(void)
{
	if (active && !counting && shard_epoch == __atomic_load_n(&shm_epoch, __ATOMIC_ACQUIRE))
		fold_now(false);
}

/* A signal handler's record that interrupted its thread's own (counting is set). */
__attribute__((noinline, cold)) static void add_nested(uint32_t idx, bool is_free, uint64_t bytes,
						       uint32_t count)
{
	struct trackshm_counters *c = &stacks[idx].shard[0];

	__atomic_fetch_add(is_free ? &c->free_bytes : &c->alloc_bytes, bytes, __ATOMIC_RELAXED);
	__atomic_fetch_add(is_free ? &c->free_count : &c->alloc_count, count, __ATOMIC_RELAXED);
	add_live(is_free ? -(int64_t)bytes : (int64_t)bytes);
}

void add_counts(uint32_t idx, bool is_free, uint64_t bytes, uint32_t count)
{
	struct trackshm_counters *c;
	uint64_t *b, *n;
	int64_t d;

	/* the rare cases are tail calls, so that the common one saves no registers */
	if (__builtin_expect(counting, 0)) {
		add_nested(idx, is_free, bytes, count);
		return;
	}
	if (__builtin_expect(!shard_plus1 || shard_epoch != shm_epoch, 0)) {
		add_first(idx, is_free, bytes, count);
		return;
	}
	c = &stacks[idx].shard[shard_plus1 - 1];
	b = is_free ? &c->free_bytes : &c->alloc_bytes;
	n = is_free ? &c->free_count : &c->alloc_count;
	counting = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (shard_plus1 == 1) {
		__atomic_fetch_add(b, bytes, __ATOMIC_RELAXED);
		__atomic_fetch_add(n, count, __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(b, __atomic_load_n(b, __ATOMIC_RELAXED) + bytes, __ATOMIC_RELAXED);
		__atomic_store_n(n, __atomic_load_n(n, __ATOMIC_RELAXED) + count, __ATOMIC_RELAXED);
	}
	/* after the stack's counters: a copy of the sites taken at the fold includes this block */
	d = live_delta + (is_free ? -(int64_t)bytes : (int64_t)bytes);
	live_delta = d;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	counting = 0;
	if (__builtin_expect(d >= TRACKSHM_FOLD || d <= -TRACKSHM_FOLD || live_direct, 0))
		fold_now(false);
}
