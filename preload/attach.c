/* attach: liboffheap.so loaded into a running process starts and stops recording there. */

/*
 * offheap record -p loads the library into a process that did not start
 * with it (a JVM's Agent_OnAttach, or a dlopen injected by ptrace) and calls
 * offheap_attach("out=PATH,sample=BYTES,pid=RECORDER_PID[,maxmem=BYTES]").
 * Loaded that way, the library is not in the global scope: nothing calls
 * its hooks until they are patched into the objects' GOTs (gotpatch.c). The
 * real functions are the ones the process binds to, dlsym(RTLD_DEFAULT)
 * (checked to be a definition, not a main program's canonical PLT address,
 * else the one the constructor found after us).
 *
 * What was allocated before the attach is unknown: its frees miss the free
 * filter (or, in exact mode, the address table) and go straight to the
 * allocator. Detach puts the GOT entries back, stops recording and makes the
 * recorder's exit handshake; the library stays loaded (linked -z nodelete)
 * and inert: a thread still inside a hook finishes normally, and a block
 * recorded while attached and freed later goes to the real free (the
 * tracker adds no headers). The next attach starts a new file with a new
 * address table.
 *
 * Objects dlopen'ed while attached are patched after the real dlopen
 * returns; dlopen's GOT entries are patched for that. glibc finds the
 * library a bare name names through its caller's RUNPATH: a call from an
 * object with DT_RPATH or DT_RUNPATH is handed on as a tail call (the caller
 * stays the caller), and the watcher patches what it loaded.
 *
 * The watcher: a thread created by offheap_attach (never from a hook, never
 * under the loader's lock: Agent_OnAttach and the injected call run after
 * dlopen returned), all signals blocked, that every 150 ms detaches when the
 * recorder (pid and start time) is gone or asks for it (header's detach),
 * and patches objects loaded since its last look. One lock serialises
 * attach, detach, the watcher and the dlopen hook; no hook takes it.
 */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

typedef int32_t jint;
typedef struct offheap_javavm JavaVM; /* opaque: the agent needs nothing from the JVM */

/* What the injector and the JVM call (the rest of the library is hidden). */
EXPORT int offheap_attach(const char *args);
EXPORT int offheap_detach(void);
EXPORT jint Agent_OnAttach(JavaVM *vm, char *options, void *reserved);

static pthread_mutex_t attach_lock = PTHREAD_MUTEX_INITIALIZER;
static bool attached;
static pid_t attach_pid;      /* the process that attached (a forked child is not) */
static int recorder_pid;
static uint64_t recorder_start; /* its start time, clock ticks after boot */
static unsigned watch_gen;   /* a watcher whose generation is not this one ends */
static unsigned long long seen_adds; /* dl_iterate_phdr's count of loads at the last patch */
static void *(*real_dlopen)(const char *, int);

#define ARGS_MAX 4096

/* ---- the arguments ---- */

struct attach_args {
	char out[ARGS_MAX];
	uint64_t sample, maxmem;
	int pid;
	bool has_out, has_sample, has_pid, has_maxmem;
};

/* A decimal number of at most 19 digits, the whole of [s, e). */
static int parse_u64(const char *s, const char *e, uint64_t *v)
{
	if (s == e || e - s > 19)
		return -EINVAL;
	*v = 0;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	return 0;
}

static int parse_args(const char *args, struct attach_args *a)
{
	const char *p = args;
	size_t len;

	if (!args)
		return -EINVAL;
	len = strnlen(args, ARGS_MAX);
	if (len == ARGS_MAX)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	while (*p) {
		const char *end = strchr(p, ','), *eq;
		uint64_t v;

		if (!end)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (!eq)
			return -EINVAL;
#define KEY(k) ((size_t)(eq - p) == sizeof(k) - 1 && !memcmp(p, k, sizeof(k) - 1))
		if (KEY("out")) {
			if (a->has_out || eq + 1 == end || eq[1] != '/' ||
			    memchr(eq + 1, '\0', (size_t)(end - eq - 1)))
				return -EINVAL;
			memcpy(a->out, eq + 1, (size_t)(end - eq - 1));
			a->out[end - eq - 1] = '\0';
			a->has_out = true;
		} else if (KEY("sample")) {
			if (a->has_sample || parse_u64(eq + 1, end, &a->sample))
				return -EINVAL;
			a->has_sample = true;
		} else if (KEY("pid")) {
			/* 0: the recorder is in another pid namespace; its heartbeat is watched */
			if (a->has_pid || parse_u64(eq + 1, end, &v) || v > INT32_MAX)
				return -EINVAL;
			a->pid = (int)v;
			a->has_pid = true;
		} else if (KEY("maxmem")) {
			if (a->has_maxmem || parse_u64(eq + 1, end, &a->maxmem))
				return -EINVAL;
			a->has_maxmem = true;
		} else {
			return -EINVAL;
		}
#undef KEY
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return -EINVAL; /* a trailing comma */
	}
	if (!a->has_out || !a->has_sample || !a->has_pid)
		return -EINVAL;
	if (!a->has_maxmem)
		a->maxmem = 64ULL << 20;
	return 0;
}

/* ---- the recorder ---- */

/*
 * Field 22 of /proc/PID/stat (after the command, which may hold ')'), the
 * start time; 0 if there is no such process or it has ended.
 */
static uint64_t start_time(int pid)
{
	char path[64] = "/proc/", digits[16], buf[1024];
	const char *p;
	uint64_t v = 0;
	ssize_t n;
	int fd, field = 2, nd = 0;

	do
		digits[nd++] = (char)('0' + pid % 10);
	while ((pid /= 10) && nd < (int)sizeof(digits));
	for (int i = 0; i < nd; i++)
		path[6 + i] = digits[nd - 1 - i];
	memcpy(path + 6 + nd, "/stat", sizeof("/stat"));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	/* a zombie (a recorder whose parent has not reaped it yet) is gone */
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	for (p++; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	for (; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	return v;
}

static uint32_t beat_seen;    /* the header's heartbeat when last read */
static int64_t beat_seen_ms; /* our CLOCK_MONOTONIC ms when it last moved */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A recorder we can see by pid is alive while that process (same start time)
 * is; one we cannot (pid=0) while the heartbeat it stores in the header moves.
 */
static bool recorder_alive(void)
{
	uint32_t beat;

	if (recorder_pid)
		return start_time(recorder_pid) == recorder_start;
	beat = __atomic_load_n(&hdr->heartbeat, __ATOMIC_ACQUIRE);
	if (beat != beat_seen) {
		beat_seen = beat;
		beat_seen_ms = now_ms();
		return true;
	}
	return now_ms() - beat_seen_ms < TRACKSHM_HEARTBEAT_MS;
}

/* ---- patching ---- */

static void *hook_dlopen(const char *file, int mode);

/* What each hook forwards to: fills wants, sets the hooks' real pointers. */
static int bind_real(struct got_want *w)
{
	int n = 0;

	for (int i = 0; i <= nhook_syms; i++) {
		const char *name = i < nhook_syms ? hook_syms[i].name : "dlopen";
		void *hook = i < nhook_syms ? hook_syms[i].hook : (void *)hook_dlopen;
		void **real = i < nhook_syms ? hook_syms[i].real : (void **)&real_dlopen;
		void *p = dlsym(RTLD_DEFAULT, name);
		Dl_info di;

		/* a definition, not a canonical PLT address of the main program */
		if (p && !(dladdr(p, &di) && di.dli_saddr == p))
			p = real ? *real : NULL;
		if (p == hook)
			return -EBUSY; /* we are the global definition: preloaded */
		if (!p)
			continue;
		if (real)
			*real = p;
		w[n++] = (struct got_want){name, hook, p};
	}
	return n;
}

static struct got_want wants[64];
static int nwants;

static int patch_all(void)
{
	seen_adds = 0;
	return gotpatch_apply(wants, nwants);
}

static int count_adds(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(unsigned long long *)arg = info->dlpi_adds;
	return 1;
}

/* Patches objects loaded since the last look (the caller holds attach_lock). */
static void patch_new(void)
{
	unsigned long long adds = 0;

	dl_iterate_phdr(count_adds, &adds);
	if (adds == seen_adds)
		return;
	seen_adds = adds;
	gotpatch_apply(wants, nwants);
}

/* ---- detach ---- */

static void detach_locked(bool handshake)
{
	javastack_stop(); /* its last names, while the file is ours */
	gotpatch_restore();
	__atomic_store_n(&active, false, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&watch_gen, 1, __ATOMIC_RELEASE);
	/*
	 * A thread still inside a hook finishes with the tables it started
	 * with; a hook stuck for 2 s (stopped by a debugger) may then count
	 * into the next attach's file, no worse.
	 */
	hooks_quiesce();
	shared_close(handshake ? recorder_alive : NULL);
	attached = false;
}

EXPORT int offheap_detach(void)
{
	int r = 0;

	pthread_mutex_lock(&attach_lock);
	if (attached && attach_pid == getpid())
		detach_locked(true);
	else
		r = -ENOENT;
	pthread_mutex_unlock(&attach_lock);
	return r;
}

static void *watch(void *arg)
{
	unsigned gen = (unsigned)(uintptr_t)arg;
	struct timespec tick = {0, 150 * 1000000};

	prctl(PR_SET_NAME, "offheap-watch");
	for (;;) {
		bool gone, asked;

		nanosleep(&tick, NULL);
		pthread_mutex_lock(&attach_lock);
		if (__atomic_load_n(&watch_gen, __ATOMIC_ACQUIRE) != gen) {
			pthread_mutex_unlock(&attach_lock);
			return NULL;
		}
		gone = !recorder_alive();
		asked = __atomic_load_n(&hdr->detach, __ATOMIC_ACQUIRE) == hdr->generation;
		if (gone || asked) {
			detach_locked(!gone);
			pthread_mutex_unlock(&attach_lock);
			return NULL;
		}
		patch_new();
		pthread_mutex_unlock(&attach_lock);
	}
}

/* The watcher, with every signal blocked: the process's handlers are not for it. */
static int start_watcher(unsigned gen)
{
	pthread_attr_t attr;
	pthread_t t;
	sigset_t all, old;
	int r;

	if (pthread_attr_init(&attr))
		return -ENOMEM;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&t, &attr, watch, (void *)(uintptr_t)gen);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return -r;
}

/* ---- attach ---- */

static int attach_locked(const char *args)
{
	struct attach_args a;
	int r;

	if (attached && attach_pid != getpid()) {
		/* a forked child of an attached process: its copy of the patches is stale */
		gotpatch_restore();
		attached = false;
	}
	if (attached || active)
		return -EALREADY;
	r = parse_args(args, &a);
	if (r)
		return r;
	r = bind_real(wants);
	if (r < 0)
		return r;
	nwants = r;
	recorder_pid = a.pid;
	recorder_start = a.pid ? start_time(a.pid) : 0;
	if (a.pid && !recorder_start)
		return -ESRCH; /* not visible from here (another pid namespace) or gone */
	beat_seen_ms = now_ms();
	attach_mode = true;
	r = shared_open(a.out, false, a.maxmem, a.sample, true, false, 0);
	if (r)
		return r;
	/* the watcher first: its thread's creation allocates through the real malloc */
	r = start_watcher(__atomic_load_n(&watch_gen, __ATOMIC_ACQUIRE));
	if (r) {
		__atomic_store_n(&active, false, __ATOMIC_RELEASE);
		shared_close(NULL);
		return r;
	}
	attached = true;
	attach_pid = getpid();
	r = patch_all();
	if (r < 0) {
		detach_locked(false); /* never half-patched */
		return r;
	}
	return 0;
}

EXPORT int offheap_attach(const char *args)
{
	int r;

	pthread_mutex_lock(&attach_lock);
	r = attach_locked(args);
	pthread_mutex_unlock(&attach_lock);
	return r;
}

EXPORT jint Agent_OnAttach(JavaVM *vm, char *options, void *reserved)
{
	(void)vm;
	(void)reserved;
	return offheap_attach(options);
}

/* ---- dlopen ---- */

/* Whether glibc's search for file depends on which object called dlopen. */
static bool caller_matters(const char *file, const void *ret)
{
	struct link_map *lm = NULL;
	Dl_info di;

	if (!file || strchr(file, '/'))
		return false;
	if (!dladdr1(ret, &di, (void **)&lm, RTLD_DL_LINKMAP) || !lm)
		return true;
	for (const ElfW(Dyn) *d = lm->l_ld; d && d->d_tag != DT_NULL; d++)
		if (d->d_tag == DT_RPATH || d->d_tag == DT_RUNPATH)
			return true;
	return false;
}

static void *hook_dlopen(const char *file, int mode)
{
	void *h;

	cfi_dlopen(); /* the unwinder's module table is rebuilt by the next walk */
	if (caller_matters(file, __builtin_return_address(0)))
		return real_dlopen(file, mode); /* a tail call: the watcher patches it */
	h = real_dlopen(file, mode);
	if (h && !pthread_mutex_trylock(&attach_lock)) {
		if (attached)
			patch_new();
		pthread_mutex_unlock(&attach_lock);
	}
	return h;
}
