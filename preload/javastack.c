/* javastack: the Java frames above an allocation of a JNI method or of the VM for Java code. */

/*
 * A JVM's native wrappers, interpreter and compiled code have no unwind
 * information: the native walk of an allocation made by a JNI method (zlib
 * under java.util.zip.Inflater.init) stops at the first code-cache frame.
 * Above it, the thread's Java stack is what the JVM itself knows: JVMTI's
 * GetStackTrace on the current thread, which needs no handshake, only the
 * VM transition every JNI call makes. That transition is safe from
 * _thread_in_native alone; from any other state (in the VM, in compiled Java
 * code calling a stub) it corrupts the VM. So the call is made only when
 *
 *  - the walk ended at a pc in no module (a code cache), no frame below it
 *    lies in libjvm.so (the VM's own code runs _thread_in_vm) or in the C
 *    library (whose locks, stdio's among them, a VM thread stopped at a
 *    safepoint may want while we wait at the transition for it to end),
 *    no signal frame was crossed, the hook is not nested and the loader is
 *    quiet (stackwalk.c);
 *  - the thread is a JavaThread (JavaVM GetEnv gives its JNIEnv, with no
 *    transition) whose _thread_state, read at the offsets the JVM exports
 *    in gHotSpotVMStructs, is _thread_in_native.
 *
 * Without the vmStructs (not HotSpot) nothing is asked. The JavaVM comes
 * from JNI_GetCreatedJavaVMs (preloaded, attached or injected alike), the
 * jvmtiEnv from GetEnv(JVMTI_VERSION_1_2) the first time a thread passes
 * the checks (GetEnv gives none before the live phase); one thread prepares
 * (a CAS), the others skip the Java part meanwhile; a JVM not there or not
 * ready yet is tried again at the 2^k-th candidate stack only (once the JVM
 * is found, only stacks the JNI path would take are candidates). The one lock
 * of ours held across a JVMTI call is name_lock, taken by threads in native
 * code only (see name_of), and the JVM's allocations inside one are not
 * recorded (java_busy).
 *
 * A Java frame is named once: (jmethodID, bci) and then (jmethodID, line)
 * map to a record of the names region (trackshm.h) through a process-wide
 * table whose entries are written under a per-entry lock bit and read with
 * a check of the key before and after (a reader never waits).
 *
 * The VM's own work for Java code (ByteBuffer.allocateDirect's
 * Unsafe_AllocateMemory0, String.intern's JVM_InternString, defineClass,
 * Thread.start) runs _thread_in_vm with libjvm.so frames below the code
 * cache: no JVMTI or JNI call may be made there (its transition from in_vm
 * corrupts the VM). Its Java frames come from AsyncGetCallTrace instead,
 * which makes no transition, takes no lock and allocates nothing (it is
 * made for signal handlers). It is called on the current thread with a NULL
 * ucontext only when the thread is _thread_in_vm, or _thread_in_native with
 * a libjvm.so or C library frame below (JDK 25's Unsafe_AllocateMemory0 is
 * a leaf that never leaves native). For those states HotSpot's forte.cpp
 * (JDK 17u and JDK 25 alike) asks pd_get_top_frame_for_signal_handler with
 * isInJava false, which on linux x86_64 (javaThread_linux_x86.cpp) takes
 * the top frame from the thread's last-Java-frame anchor, set by the native
 * wrapper or the runtime call that entered the VM, and returns false
 * without reading the ucontext when there is no walkable anchor. The thread
 * is not safepoint-safe while in the VM, so its frames hold still while
 * they are walked. A negative count (no ClassLoad event enabled, a GC
 * running, no walkable frame) keeps the native frames as they were.
 *
 * AGCT reports (jmethodID, bci), and only for methods whose jmethodIDs
 * exist; naming needs JVMTI, so the hook hands out a *pending* record
 * (jmethodID and bci kept in pend[], the record not ready) and the namer
 * names it: a daemon Java thread of ours ("offheap tracker", attached with
 * AttachCurrentThreadAsDaemon, in native state between its calls) that
 * makes its own jvmtiEnv, enables ClassLoad (which AGCT requires) and
 * ClassPrepare (whose callback makes the jmethodIDs of each new class with
 * GetClassMethods), makes those of the classes already loaded, then names
 * the pending records every NAMER_TICK_MS. A method whose class was
 * unloaded since is "(unloaded)" (JVMTI answers with an error, no crash).
 * The VMDeath callback makes a last pass, so a program that ends leaves no
 * frame unnamed. The namer is started from a hook that is quiet (as for
 * the JNI path) with no C library frame below (pthread_create wants libc's
 * locks), in the process that found the JVM complete (JNI_GetCreatedJavaVMs
 * gives it only then; a forked child never starts one), and attaches
 * before asking for a jvmtiEnv (GetEnv for JVMTI in the live phase wants a
 * Java thread). A detach (attach.c) asks it to stop: it makes a last pass,
 * lets its jvmtiEnv go and detaches from the JVM; a daemon never holds up
 * the JVM's exit.
 */
#include "internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

typedef int32_t jint;
typedef int64_t jlocation;
typedef void *jmethodID;
typedef void *jclass;

struct jvmti_frame {
	jmethodID method;
	jlocation location; /* the bci; -1 in a native method */
};

struct jvmti_line {
	jlocation start;
	jint line;
};

#define JNI_VERSION_1_6	  0x00010006
#define JVMTI_VERSION_1_2 0x30010200

/* The functions used, by their place in the JVM's tables (jni.h, jvmti.h numbering). */
#define VM_GET_ENV		6  /* JNIInvokeInterface: 3 reserved, Destroy, Attach, Detach */
#define JNI_DELETE_LOCAL_REF	23 /* JNINativeInterface, 0-based */
#define JVMTI_DEALLOCATE	47 /* jvmtiInterface_1, numbered from 1 */
#define JVMTI_CLASS_SIGNATURE	48
#define JVMTI_SOURCE_FILE_NAME	50
#define JVMTI_METHOD_NAME	64
#define JVMTI_DECLARING_CLASS	65
#define JVMTI_LINE_NUMBER_TABLE 70
#define JVMTI_STACK_TRACE	104
#define JVMTI_DISPOSE		127
#define JVMTI_ADD_CAPABILITIES	142
#define CAN_GET_SOURCE_FILE_NAME (1U << 11) /* jvmtiCapabilities' first word */
#define CAN_GET_LINE_NUMBERS	 (1U << 12)

static inline void *jfn(void *env, int i)
{
	return (*(void *const *const *)env)[i];
}

#define JVMTI(env, n, type) ((type)jfn(env, (n) - 1))

enum { J_NONE, J_BUSY, J_PREPARED, J_READY, J_NEVER };

/* AsyncGetCallTrace's frame and trace (HotSpot's forte.cpp) */
struct agct_frame {
	jint bci; /* -3: a native method */
	jmethodID method;
};

struct agct_trace {
	void *env;
	jint n; /* frames filled; < 0: no trace */
	struct agct_frame *frames;
};

static void (*agct)(struct agct_trace *, jint, void *);
static pid_t prep_pid; /* the process that prepared (a forked child is not it) */

static int jstate;
static void *vm;    /* JavaVM * */
static void *jvmti; /* jvmtiEnv * */
static uint64_t jvm_lo, jvm_hi, libc_lo, libc_hi;
static long off_state, off_base, off_size; /* JavaThread::_thread_state, _stack_base, _stack_size */
static long off_env = -1; /* where the JNIEnv lies in a JavaThread (calibrate) */
static int in_native = 4;	/* _thread_in_native, from the VM's constants when exported */
static int in_vm = 6;		/* _thread_in_vm, likewise */
static uint64_t candidates;	/* stacks that met the walk's conditions before J_READY */

TLS int java_busy;

/*
 * (jmethodID, key) -> record index; key: the bci, or LINE_KEY | line (the
 * JNI path, which names a bci by its line at once), or PEND_KEY | bci (a
 * pending record of the VM path, whose line is not known when it is handed
 * out). The two paths keep apart: a JNI stack that took a pending record for
 * one bci and the line's record for another would be two stacks for one
 * Java path.
 */
#define NAME_BITS 16 /* 4 keys a record at most: a full table would name a frame twice */
#define LINE_KEY  (1ULL << 32)
#define PEND_KEY  (1ULL << 33)
#define BUSY	  1ULL

struct name_slot {
	uint64_t method; /* BUSY while written; 0: empty */
	uint64_t key;	 /* the key, java_epoch in the top 16 bits */
	uint64_t idx;
};

static struct name_slot *names; /* 1 << NAME_BITS slots, mapped when prepared */
static uint32_t java_epoch;	/* bumped when the names region is replaced */

void javastack_forget(void)
{
	__atomic_add_fetch(&java_epoch, 1, __ATOMIC_RELEASE);
}

static uint64_t name_key(uint64_t key)
{
	return key | (uint64_t)(__atomic_load_n(&java_epoch, __ATOMIC_ACQUIRE) & 0xffff) << 48;
}

static struct name_slot *name_slot(uint64_t method, uint64_t key, int i)
{
	uint64_t h = (method ^ key * 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL;

	return &names[((h >> (64 - NAME_BITS)) + (uint64_t)i) & ((1U << NAME_BITS) - 1)];
}

/* The record of (method, key), or 0. */
static uint32_t name_get(uint64_t method, uint64_t key)
{
	key = name_key(key);
	for (int i = 0; i < 8; i++) {
		struct name_slot *s = name_slot(method, key, i);
		uint64_t m = __atomic_load_n(&s->method, __ATOMIC_ACQUIRE), k, idx;

		if (!m)
			return 0;
		k = __atomic_load_n(&s->key, __ATOMIC_RELAXED);
		idx = __atomic_load_n(&s->idx, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (m == method && k == key && __atomic_load_n(&s->method, __ATOMIC_RELAXED) == m)
			return (uint32_t)idx;
	}
	return 0;
}

/* Remembers (method, key) -> idx when a slot is free; a full run of slots forgets it. */
static void name_put(uint64_t method, uint64_t key, uint32_t idx)
{
	key = name_key(key);
	for (int i = 0; i < 8; i++) {
		struct name_slot *s = name_slot(method, key, i);
		uint64_t m = __atomic_load_n(&s->method, __ATOMIC_ACQUIRE);

		if (m == BUSY || (m && __atomic_load_n(&s->key, __ATOMIC_RELAXED) >> 48 ==
					       (key >> 48)))
			continue; /* taken in this epoch */
		if (!__atomic_compare_exchange_n(&s->method, &m, BUSY, false, __ATOMIC_ACQUIRE,
						 __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&s->key, key, __ATOMIC_RELAXED);
		__atomic_store_n(&s->idx, idx, __ATOMIC_RELAXED);
		__atomic_store_n(&s->method, method, __ATOMIC_RELEASE);
		return;
	}
}

/* ---- finding the JVM ---- */

/* The offsets the JVM exports for JavaThread's fields; false when they are not all there. */
static bool read_vmstructs(void)
{
	void **structs = dlsym(RTLD_DEFAULT, "gHotSpotVMStructs");
	uint64_t *tn = dlsym(RTLD_DEFAULT, "gHotSpotVMStructEntryTypeNameOffset");
	uint64_t *fn = dlsym(RTLD_DEFAULT, "gHotSpotVMStructEntryFieldNameOffset");
	uint64_t *off = dlsym(RTLD_DEFAULT, "gHotSpotVMStructEntryOffsetOffset");
	uint64_t *stride = dlsym(RTLD_DEFAULT, "gHotSpotVMStructEntryArrayStride");
	void **ints = dlsym(RTLD_DEFAULT, "gHotSpotVMIntConstants");
	uint64_t *in_name = dlsym(RTLD_DEFAULT, "gHotSpotVMIntConstantEntryNameOffset");
	uint64_t *in_value = dlsym(RTLD_DEFAULT, "gHotSpotVMIntConstantEntryValueOffset");
	uint64_t *in_stride = dlsym(RTLD_DEFAULT, "gHotSpotVMIntConstantEntryArrayStride");

	off_state = off_base = off_size = -1;
	if (!structs || !*structs || !tn || !fn || !off || !stride || !*stride)
		return false;
	for (const char *e = *structs; e; e += *stride) {
		const char *type = *(const char *const *)(e + *tn);
		const char *field = *(const char *const *)(e + *fn);

		if (!type)
			break;
		if (!field || strcmp(type, "JavaThread"))
			continue;
		if (!strcmp(field, "_thread_state"))
			off_state = (long)*(const uint64_t *)(e + *off);
		else if (!strcmp(field, "_stack_base"))
			off_base = (long)*(const uint64_t *)(e + *off);
		else if (!strcmp(field, "_stack_size"))
			off_size = (long)*(const uint64_t *)(e + *off);
	}
	if (ints && *ints && in_name && in_value && in_stride && *in_stride)
		for (const char *e = *ints; *(const char *const *)(e + *in_name); e += *in_stride) {
			if (!strcmp(*(const char *const *)(e + *in_name), "_thread_in_native"))
				in_native = *(const int32_t *)(e + *in_value);
			else if (!strcmp(*(const char *const *)(e + *in_name), "_thread_in_vm"))
				in_vm = *(const int32_t *)(e + *in_value);
		}
	return off_state >= 0 && off_base >= 0 && off_size >= 0;
}

/* *out = the word at a, read by the kernel: false, not a fault, when a is not mapped. */
static bool safe_read(uint64_t a, uint64_t *out)
{
	struct iovec local = {out, 8}, remote = {(void *)(uintptr_t)a, 8};

	return syscall(SYS_process_vm_readv, getpid(), &local, 1UL, &remote, 1UL, 0UL) == 8;
}

/*
 * The JNIEnv is a field of the JavaThread, at an offset the vmStructs do not
 * give. Found once, from a thread in native code: the one distance d (up to
 * CALIBRATE_MAX) at which env - d looks like this thread's JavaThread: its
 * stack (_stack_base, _stack_size) holds our stack pointer and its
 * _thread_state is _thread_in_native. Memory around env is read by the
 * kernel (process_vm_readv), so a wrong guess cannot fault.
 */
#define CALIBRATE_MAX 8192

static bool calibrate(const char *env)
{
	uint64_t sp = (uint64_t)(uintptr_t)__builtin_frame_address(0), base, size, state;
	long found = -1;

	for (long d = 8; d <= CALIBRATE_MAX; d += 8) {
		uint64_t t = (uint64_t)(uintptr_t)(env - d);

		if (!safe_read(t + (uint64_t)off_base, &base) ||
		    !safe_read(t + (uint64_t)off_size, &size) || size < 65536 ||
		    size > (1ULL << 32) || base < size || sp >= base || sp < base - size ||
		    !safe_read(t + (uint64_t)(off_state & ~7L), &state) ||
		    (int32_t)(state >> (off_state & 7) * 8) != in_native)
			continue;
		if (found >= 0)
			return false; /* two candidates: trust neither */
		found = d;
	}
	if (found < 0)
		return false;
	__atomic_store_n(&off_env, found, __ATOMIC_RELEASE);
	return true;
}

/*
 * The JavaVM, the vmStructs offsets and the code ranges of libjvm.so and the
 * C library: 1; 0 when the JVM is not there yet; -1 for a JVM that is no
 * HotSpot (no vmStructs): never asked.
 */
static int prepare(void)
{
	int (*created)(void **, jint, jint *) = dlsym(RTLD_DEFAULT, "JNI_GetCreatedJavaVMs");
	jint n = 0;
	long r;

	if (!created || created(&vm, 1, &n) || n < 1 || !vm)
		return 0;
	if (!read_vmstructs())
		return -1;
	agct = (void (*)(struct agct_trace *, jint, void *))dlsym(RTLD_DEFAULT, "AsyncGetCallTrace");
	prep_pid = getpid();
	if (cfi_module_range((uint64_t)(uintptr_t)created, &jvm_lo, &jvm_hi) != 1 ||
	    cfi_module_range((uint64_t)(uintptr_t)&fclose, &libc_lo, &libc_hi) != 1)
		return 0;
	r = syscall(SYS_mmap, NULL, sizeof(struct name_slot) << NAME_BITS, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r < 0 && r > -4096)
		return 0;
	names = (struct name_slot *)r;
	return 1;
}

/* This thread's JNIEnv when it is a Java thread running native code; else NULL. */
static void *native_env(void)
{
	jint (*get_env)(void *, void **, jint) = jfn(vm, VM_GET_ENV);
	void *env = NULL;
	const char *thread;

	if (get_env(vm, &env, JNI_VERSION_1_6) || !env)
		return NULL;
	if (off_env < 0 && !calibrate(env))
		return NULL;
	thread = (const char *)env - off_env;
	if (__atomic_load_n((const int32_t *)(thread + off_state), __ATOMIC_ACQUIRE) != in_native)
		return NULL;
	return env;
}

/*
 * The jvmtiEnv, asked for from a thread in native code; false (nothing
 * kept) before the live phase, when the capabilities cannot be added yet.
 */
static bool make_jvmti(void)
{
	jint (*get_env)(void *, void **, jint) = jfn(vm, VM_GET_ENV);
	uint32_t caps[4] = {CAN_GET_SOURCE_FILE_NAME | CAN_GET_LINE_NUMBERS, 0, 0, 0};
	void *env = NULL;

	if (get_env(vm, &env, JVMTI_VERSION_1_2) || !env)
		return false;
	if (JVMTI(env, JVMTI_ADD_CAPABILITIES, int (*)(void *, const void *))(env, caps)) {
		JVMTI(env, JVMTI_DISPOSE, int (*)(void *))(env);
		return false;
	}
	jvmti = env;
	return true;
}

/* No frame below the code cache is the VM's or the C library's. */
static bool frames_clear(const uint64_t *frames, int n)
{
	for (int i = 0; i < n; i++)
		if ((frames[i] >= jvm_lo && frames[i] < jvm_hi) ||
		    (frames[i] >= libc_lo && frames[i] < libc_hi))
			return false;
	return true;
}

/*
 * This thread's JNIEnv when the JVM may be asked for the Java frames above
 * the native frames[0..n) (the thread is in native code); else NULL. One
 * thread gets the JVM ready at a time; the others skip meanwhile.
 */
static void *ready_env(const uint64_t *frames, int n)
{
	int s = __atomic_load_n(&jstate, __ATOMIC_ACQUIRE);
	void *env;

	if (s == J_READY)
		return frames_clear(frames, n) ? native_env() : NULL;
	if (s == J_BUSY || s == J_NEVER)
		return NULL;
	if (s == J_NONE || s == J_PREPARED) {
		uint64_t c;

		/*
		 * Once prepared, only a JNI method's stack can make the JVM ready:
		 * the VM's work for Java code (allocateDirect, intern) is counted
		 * out, else a JVM busy with it would take the 2^k-th turns and
		 * leave its JNI stacks without their Java frames for a long while.
		 */
		if (s == J_PREPARED && !frames_clear(frames, n))
			return NULL;
		c = __atomic_add_fetch(&candidates, 1, __ATOMIC_RELAXED);

		if (c & (c - 1))
			return NULL; /* tried again at the 2^k-th stack only */
	}
	if (!__atomic_compare_exchange_n(&jstate, &s, J_BUSY, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		return NULL;
	if (s == J_NONE) {
		int p = prepare();

		if (p <= 0) {
			__atomic_store_n(&jstate, p < 0 ? J_NEVER : J_NONE, __ATOMIC_RELEASE);
			return NULL;
		}
	}
	env = frames_clear(frames, n) ? native_env() : NULL;
	if (!env || !make_jvmti()) {
		__atomic_store_n(&jstate, J_PREPARED, __ATOMIC_RELEASE);
		return NULL;
	}
	__atomic_store_n(&jstate, J_READY, __ATOMIC_RELEASE);
	return env;
}

/* ---- naming frames ---- */

static void jvmti_free(void *ti, void *p)
{
	if (p)
		JVMTI(ti, JVMTI_DEALLOCATE, int (*)(void *, void *))(ti, p);
}

static void copy_cut(char *dst, size_t n, const char *src)
{
	size_t len = src ? strlen(src) : 0;

	if (len >= n)
		len = n - 1;
	if (len)
		memcpy(dst, src, len);
	dst[len] = 0;
}

/* The line of bci in method; 0 when the JVM has no line table for it. */
static int line_of(void *ti, jmethodID method, jlocation bci)
{
	struct jvmti_line *t = NULL;
	jint n = 0, line = 0;
	jlocation best = -1;

	if (JVMTI(ti, JVMTI_LINE_NUMBER_TABLE, int (*)(void *, jmethodID, jint *, void *))(
		    ti, method, &n, &t))
		return 0;
	/* the entry that starts last at or before bci (the table need not be sorted) */
	for (jint i = 0; i < n; i++)
		if (t[i].start <= bci && t[i].start > best) {
			best = t[i].start;
			line = t[i].line;
		}
	jvmti_free(ti, t);
	return line;
}

/* A free index of the names region; 0 when it is full. */
static uint32_t take_index(void)
{
	uint32_t n = __atomic_load_n(&hdr->java_n, __ATOMIC_RELAXED);

	/*
	 * The record's page has storage before its index is handed out: every
	 * record up to java_n may be read (name_pending, the recorder).
	 */
	do {
		if (n + 1 >= hdr->java_max || !java_ready(n + 1))
			return 0;
	} while (!__atomic_compare_exchange_n(&hdr->java_n, &n, n + 1, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return n + 1;
}

/* Writes record r: cls, method, file and line (not ready yet). */
static void put_record(struct trackshm_java *r, const char *sig, const char *name,
		       const char *file, int line)
{
	/* "Ljava/util/zip/Inflater;" -> "java.util.zip.Inflater" */
	copy_cut(r->cls, sizeof(r->cls), sig && sig[0] == 'L' ? sig + 1 : sig);
	for (char *p = r->cls; *p; p++)
		if (*p == '/')
			*p = '.';
		else if (*p == ';' && !p[1])
			*p = 0;
	copy_cut(r->method, sizeof(r->method), name);
	copy_cut(r->file, sizeof(r->file), file);
	r->line = line;
}

#define JVMTI_ERROR_INVALID_METHODID 23

/*
 * Names method at line into record r (ti: a jvmtiEnv, env: this thread's
 * JNIEnv, in native code): 0, or JVMTI's error (r untouched), which is
 * JVMTI_ERROR_INVALID_METHODID when the method's class was unloaded.
 */
static int name_fill(void *ti, void *env, struct trackshm_java *r, jmethodID method, int line)
{
	char *sig = NULL, *name = NULL, *file = NULL;
	jclass cls = NULL;
	int err;

	err = JVMTI(ti, JVMTI_METHOD_NAME, int (*)(void *, jmethodID, char **, char **, char **))(
		ti, method, &name, NULL, NULL);
	if (err)
		return err;
	if (!JVMTI(ti, JVMTI_DECLARING_CLASS, int (*)(void *, jmethodID, jclass *))(
		    ti, method, &cls) && cls) {
		JVMTI(ti, JVMTI_CLASS_SIGNATURE, int (*)(void *, jclass, char **, char **))(
			ti, cls, &sig, NULL);
		JVMTI(ti, JVMTI_SOURCE_FILE_NAME, int (*)(void *, jclass, char **))(ti, cls, &file);
		/* a local reference in the calling frame: let it go now */
		((void (*)(void *, jclass))jfn(env, JNI_DELETE_LOCAL_REF))(env, cls);
	}
	put_record(r, sig, name, file, line);
	jvmti_free(ti, sig);
	jvmti_free(ti, name);
	jvmti_free(ti, file);
	return 0;
}

/* A new record for method at line; 0 when the region is full or the JVM says nothing. */
static uint32_t name_new(void *env, jmethodID method, int line)
{
	struct trackshm_java r;
	uint32_t idx;

	memset(&r, 0, sizeof(r));
	if (name_fill(jvmti, env, &r, method, line))
		return 0;
	idx = take_index();
	if (!idx)
		return 0;
	memcpy(java_names[idx].cls, r.cls, sizeof(r.cls));
	memcpy(java_names[idx].method, r.method, sizeof(r.method));
	memcpy(java_names[idx].file, r.file, sizeof(r.file));
	java_names[idx].line = r.line;
	__atomic_store_n(&java_names[idx].ready, 1, __ATOMIC_RELEASE);
	return idx;
}

/* The record naming (method, bci), made when new; 0 when none can be. */
/*
 * One thread names a frame at a time: two threads that met the same new
 * frame at once (worker threads starting together) made two records for it,
 * and one Java path became two stacks. The lock is taken only on a miss, by
 * threads in native code (the JNI path), for which a safepoint never waits:
 * the one that holds it may wait in a JVMTI call for a safepoint to end,
 * the others yield meanwhile, and nobody waits for them.
 */
static int name_lock;

static uint32_t name_of(void *env, jmethodID method, jlocation bci)
{
	uint64_t m = (uint64_t)(uintptr_t)method, key = (uint32_t)bci;
	uint32_t idx = name_get(m, key);
	int line;

	if (idx || !m)
		return idx;
	while (__atomic_exchange_n(&name_lock, 1, __ATOMIC_ACQUIRE))
		syscall(SYS_sched_yield);
	idx = name_get(m, key); /* named meanwhile by the thread that held the lock */
	if (!idx) {
		line = bci >= 0 ? line_of(jvmti, method, bci) : 0;
		idx = name_get(m, LINE_KEY | (uint32_t)line);
		if (!idx && (idx = name_new(env, method, line)))
			name_put(m, LINE_KEY | (uint32_t)line, idx);
		if (idx)
			name_put(m, key, idx);
	}
	__atomic_store_n(&name_lock, 0, __ATOMIC_RELEASE);
	return idx;
}

/* ---- the VM's allocations for Java code: pending frames and their namer ---- */

#define VM_ATTACH_DAEMON      7 /* JNIInvokeInterface: AttachCurrentThreadAsDaemon */
#define VM_DETACH	      5
#define JVMTI_SET_EVENT_MODE  2
#define JVMTI_CLASS_METHODS   52
#define JVMTI_LOADED_CLASSES  78
#define JVMTI_SET_CALLBACKS   122
#define JVMTI_ENABLE	      1
#define EV_VM_DEATH	      51
#define EV_CLASS_LOAD	      55
#define EV_CLASS_PREPARE      56
#define NAMER_TICK_MS	      20

/* A record handed out by a _thread_in_vm walk, named later by the namer. */
struct pending {
	uint64_t method; /* the jmethodID; 0: none (yet) */
	int64_t bci;
	uint32_t epoch; /* java_epoch when it was handed out */
};

static struct pending pend[TRACKSHM_JAVA_MAX];
static uint32_t pend_lo;     /* every record below it is ready (in pend_epoch) */
static uint32_t pend_epoch;
static uint64_t unknown_rec; /* epoch << 32 | the record of frames with no jmethodID */

enum { N_NONE, N_READY };
static pid_t namer_pid;	  /* the process whose namer runs (or starts); 0: none */
static int namer_state;	  /* N_READY: jmethodIDs are made, AGCT may be called */
static int namer_stop;	  /* asked to stop (detach) */
static int namer_done;	  /* stopped: done with the shared file */
static int vm_dead;	  /* the VMDeath callback made the last pass: JVMTI answers no more */
static pthread_mutex_t namer_lock = PTHREAD_MUTEX_INITIALIZER; /* one naming pass at a time */

/* The record of (method, bci): one handed out before, or a new pending one; 0: region full. */
static uint32_t pending_of(jmethodID method, jint bci)
{
	uint64_t m = (uint64_t)(uintptr_t)method, key = PEND_KEY | (uint32_t)bci, u;
	uint32_t idx, ep = __atomic_load_n(&java_epoch, __ATOMIC_ACQUIRE) & 0xffff;

	if (!m) {
		/* no jmethodID (a method of a class loaded before ours were made) */
		u = __atomic_load_n(&unknown_rec, __ATOMIC_ACQUIRE);
		if (u >> 32 == ep + 1ULL)
			return (uint32_t)u;
		idx = take_index();
		if (!idx)
			return 0;
		put_record(&java_names[idx], NULL, "(unknown Java method)", NULL, 0);
		__atomic_store_n(&java_names[idx].ready, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&unknown_rec, (ep + 1ULL) << 32 | idx, __ATOMIC_RELEASE);
		return idx;
	}
	idx = name_get(m, key);
	if (idx)
		return idx;
	idx = take_index();
	if (!idx)
		return 0;
	pend[idx].bci = bci;
	pend[idx].epoch = ep;
	__atomic_store_n(&pend[idx].method, m, __ATOMIC_RELEASE);
	name_put(m, key, idx);
	return idx;
}

/*
 * Names the pending records (ti, env: the namer's, or a thread's in a
 * JVMTI callback, in native code). A method the JVM no longer knows (its
 * class was unloaded) is "(unloaded)". Under namer_lock.
 */
static void name_pending(void *ti, void *env)
{
	uint32_t ep = __atomic_load_n(&java_epoch, __ATOMIC_ACQUIRE) & 0xffff, n, lo;
	bool gap = false;

	if (!__atomic_load_n(&active, __ATOMIC_ACQUIRE) || !java_names || vm_dead)
		return;
	if (pend_epoch != ep) {
		pend_epoch = ep;
		pend_lo = 1;
	}
	n = __atomic_load_n(&hdr->java_n, __ATOMIC_ACQUIRE) + 1;
	if (n > hdr->java_max)
		n = hdr->java_max;
	lo = pend_lo < 1 ? 1 : pend_lo;
	for (uint32_t i = lo; i < n; i++) {
		struct trackshm_java *r = &java_names[i];
		uint64_t m;
		int line, err;

		if (!__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE)) {
			m = __atomic_load_n(&pend[i].method, __ATOMIC_ACQUIRE);
			if (!m || pend[i].epoch != ep) {
				gap = true; /* being written, by a hook */
				continue;
			}
			line = pend[i].bci >= 0 ? line_of(ti, (jmethodID)m, pend[i].bci) : 0;
			err = name_fill(ti, env, r, (jmethodID)m, line);
			if (err == JVMTI_ERROR_INVALID_METHODID)
				put_record(r, NULL, "(unloaded)", NULL, 0);
			else if (err) { /* (the JVM is ending) */
				gap = true;
				continue;
			}
			__atomic_store_n(&r->ready, 1, __ATOMIC_RELEASE);
		}
		if (!gap)
			pend_lo = i + 1;
	}
}

/* Makes the jmethodIDs of cls's methods (GetClassMethods does), which AGCT reports. */
static void make_ids(void *ti, jclass cls)
{
	jmethodID *m = NULL;
	jint n = 0;

	if (!JVMTI(ti, JVMTI_CLASS_METHODS, int (*)(void *, jclass, jint *, jmethodID **))(
		    ti, cls, &n, &m))
		jvmti_free(ti, m);
}

static void on_class_load(void *ti, void *env, void *thread, jclass cls)
{
	(void)ti, (void)env, (void)thread, (void)cls;
}

static void on_class_prepare(void *ti, void *env, void *thread, jclass cls)
{
	(void)env, (void)thread;
	java_busy++;
	make_ids(ti, cls);
	java_busy--;
}

/* The JVM ends: the last pending records are named now, while JVMTI still answers. */
static void on_vm_death(void *ti, void *env)
{
	java_busy++;
	pthread_mutex_lock(&namer_lock);
	name_pending(ti, env);
	vm_dead = 1;
	pthread_mutex_unlock(&namer_lock);
	java_busy--;
}

/* The JVMTI setup AGCT needs: ClassLoad enabled, and jmethodIDs for every method. */
static bool namer_setup(void *ti, void *env)
{
	uint32_t caps[4] = {CAN_GET_SOURCE_FILE_NAME | CAN_GET_LINE_NUMBERS, 0, 0, 0};
	int (*mode)(void *, int, int, void *, ...) = JVMTI(ti, JVMTI_SET_EVENT_MODE,
							    int (*)(void *, int, int, void *, ...));
	void *cb[7] = {NULL, (void *)on_vm_death, NULL, NULL, NULL, (void *)on_class_load,
		       (void *)on_class_prepare};
	jclass *classes = NULL;
	jint n = 0;

	if (JVMTI(ti, JVMTI_ADD_CAPABILITIES, int (*)(void *, const void *))(ti, caps) ||
	    JVMTI(ti, JVMTI_SET_CALLBACKS, int (*)(void *, void *, jint))(ti, cb, sizeof(cb)) ||
	    mode(ti, JVMTI_ENABLE, EV_CLASS_PREPARE, NULL) ||
	    mode(ti, JVMTI_ENABLE, EV_CLASS_LOAD, NULL) || mode(ti, JVMTI_ENABLE, EV_VM_DEATH, NULL))
		return false;
	/* classes prepared from now on get their ids in the callback; these now */
	if (JVMTI(ti, JVMTI_LOADED_CLASSES, int (*)(void *, jint *, jclass **))(ti, &n, &classes))
		return false;
	for (jint i = 0; i < n; i++) {
		make_ids(ti, classes[i]);
		((void (*)(void *, jclass))jfn(env, JNI_DELETE_LOCAL_REF))(env, classes[i]);
	}
	jvmti_free(ti, classes);
	return true;
}

static bool namer_go_on(void)
{
	return !__atomic_load_n(&namer_stop, __ATOMIC_ACQUIRE) &&
	       __atomic_load_n(&active, __ATOMIC_ACQUIRE);
}

/*
 * The namer: a daemon Java thread ("offheap tracker") that waits for the
 * live phase, makes the setup AGCT needs, then names pending records every
 * NAMER_TICK_MS until the tracker stops; then it lets its jvmtiEnv go and
 * detaches from the JVM.
 */
static void *namer(void *arg)
{
	struct {
		jint version;
		char *name;
		void *group;
	} args = {JNI_VERSION_1_6, "offheap tracker", NULL};
	struct timespec tick = {0, NAMER_TICK_MS * 1000000L};
	jint (*get_env)(void *, void **, jint) = jfn(vm, VM_GET_ENV);
	void *ti = NULL, *env = NULL;
	bool attached = false;

	(void)arg;
	java_busy++; /* the JVM's allocations for this thread are not the program's */
	prctl(PR_SET_NAME, "offheap-java");
	/*
	 * The JVM is complete (JNI_GetCreatedJavaVMs gave it): attach first,
	 * since GetEnv for JVMTI in the live phase wants a Java thread; it
	 * gives a jvmtiEnv from the live phase on.
	 */
	if (namer_go_on() &&
	    !((jint (*)(void *, void **, void *))jfn(vm, VM_ATTACH_DAEMON))(vm, &env, &args) && env) {
		attached = true;
		while (namer_go_on() && (get_env(vm, &ti, JVMTI_VERSION_1_2) || !ti)) {
			ti = NULL;
			nanosleep(&tick, NULL);
		}
		if (ti && (off_env >= 0 || calibrate(env)) && namer_setup(ti, env))
			__atomic_store_n(&namer_state, N_READY, __ATOMIC_RELEASE);
	}
	while (__atomic_load_n(&namer_state, __ATOMIC_ACQUIRE) == N_READY && namer_go_on()) {
		pthread_mutex_lock(&namer_lock);
		name_pending(ti, env);
		pthread_mutex_unlock(&namer_lock);
		nanosleep(&tick, NULL);
	}
	/* the last pass: records handed out until now get their names */
	__atomic_store_n(&namer_state, N_NONE, __ATOMIC_RELEASE);
	if (attached) {
		pthread_mutex_lock(&namer_lock);
		name_pending(ti, env);
		pthread_mutex_unlock(&namer_lock);
	}
	__atomic_store_n(&namer_done, 1, __ATOMIC_RELEASE);
	if (ti)
		JVMTI(ti, JVMTI_DISPOSE, int (*)(void *))(ti);
	if (attached)
		((jint (*)(void *))jfn(vm, VM_DETACH))(vm);
	java_busy--;
	/* stopped: a later attach may start another; failed: this JVM is not asked again */
	if (!namer_go_on())
		__atomic_store_n(&namer_pid, 0, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Starts the namer from a hook where that is safe: the JVM prepared in this
 * process, no frame of the C library below (pthread_create takes its locks)
 * and, as every walk that gets here, no loader change under way, not
 * nested, no signal frame. Once per process until it stops.
 */
static void namer_start(const uint64_t *frames, int n)
{
	int s = __atomic_load_n(&jstate, __ATOMIC_ACQUIRE);
	pid_t me = getpid(), none = 0;
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;

	if ((s != J_PREPARED && s != J_READY) || !agct || prep_pid != me ||
	    __atomic_load_n(&namer_pid, __ATOMIC_ACQUIRE) == me)
		return;
	for (int i = 0; i < n; i++)
		if (frames[i] >= libc_lo && frames[i] < libc_hi)
			return;
	if (!__atomic_compare_exchange_n(&namer_pid, &none, me, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return;
	__atomic_store_n(&namer_stop, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&namer_done, 0, __ATOMIC_RELEASE);
	if (pthread_attr_init(&attr)) {
		__atomic_store_n(&namer_pid, 0, __ATOMIC_RELEASE);
		return;
	}
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, &attr, namer, NULL))
		__atomic_store_n(&namer_pid, 0, __ATOMIC_RELEASE);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
}

void javastack_stop(void)
{
	struct timespec ms = {0, 1000000};

	if (__atomic_load_n(&namer_pid, __ATOMIC_ACQUIRE) != getpid())
		return;
	__atomic_store_n(&namer_stop, 1, __ATOMIC_RELEASE);
	/* bounded: a namer stuck in the JVM past this writes into the anonymous grave */
	for (int i = 0; i < 2000 && !__atomic_load_n(&namer_done, __ATOMIC_ACQUIRE) &&
			__atomic_load_n(&namer_pid, __ATOMIC_ACQUIRE) == getpid();
	     i++)
		nanosleep(&ms, NULL);
}

/*
 * The Java frames of a thread in the VM's own code (_thread_in_vm), from
 * AsyncGetCallTrace: see the header. frames[n - 1] (the code-cache frame)
 * is replaced by pending records; true then.
 */
static bool vm_extend(uint64_t *frames, int *depth, int max)
{
	struct agct_frame af[TRACKSHM_MAX_DEPTH + 1];
	struct agct_trace t = {NULL, 0, af};
	int n = *depth, room = max - (n - 1), take, k = n - 1;
	jint (*get_env)(void *, void **, jint);
	const char *thread;
	int32_t state;
	bool more;

	if (__atomic_load_n(&namer_pid, __ATOMIC_ACQUIRE) != getpid()) {
		namer_start(frames, n - 1);
		return false;
	}
	/*
	 * A stack with nothing of the VM's or the C library's below is a JNI
	 * method's, named by the JNI path alone: walked here while the JVM was
	 * not ready for that path, its Java frames took pending records and
	 * one Java path became two sites.
	 */
	if (__atomic_load_n(&namer_state, __ATOMIC_ACQUIRE) != N_READY ||
	    __atomic_load_n(&off_env, __ATOMIC_ACQUIRE) < 0 || frames_clear(frames, n - 1))
		return false;
	get_env = jfn(vm, VM_GET_ENV);
	if (get_env(vm, &t.env, JNI_VERSION_1_6) || !t.env)
		return false;
	thread = (const char *)t.env - off_env;
	state = __atomic_load_n((const int32_t *)(thread + off_state), __ATOMIC_ACQUIRE);
	if (state != in_vm && state != in_native)
		return false;
	agct(&t, room + 1, NULL);
	if (t.n <= 0)
		return false;
	more = t.n > room;
	take = more ? room - 1 : t.n;
	for (int i = 0; i < take; i++) {
		uint32_t idx = pending_of(af[i].method, af[i].bci);

		if (!idx) { /* the names region is full */
			more = true;
			break;
		}
		frames[k++] = TRACKSHM_JAVA_TAG | idx;
	}
	if (more)
		frames[k++] = TRACKSHM_JAVA_TAG;
	*depth = k;
	return true;
}

bool javastack_extend(uint64_t *frames, int *depth, int max)
{
	struct jvmti_frame jf[TRACKSHM_MAX_DEPTH + 1];
	uint64_t lo, hi;
	int n = *depth, room = max - (n - 1), got = 0, take, k = n - 1;
	bool more;
	void *env;

	if (n < 2 || room < 2 || room > TRACKSHM_MAX_DEPTH || !java_names || java_busy ||
	    __atomic_load_n(&jstate, __ATOMIC_ACQUIRE) == J_NEVER)
		return false;
	if (cfi_module_range(frames[n - 1], &lo, &hi) != 0)
		return false; /* in a module (with no unwind rule there), or cannot tell */
	java_busy++;
	env = ready_env(frames, n - 1);
	if (!env) {
		/* not a JNI method: perhaps the VM working for Java code */
		more = __atomic_load_n(&jstate, __ATOMIC_ACQUIRE) != J_NONE &&
		       vm_extend(frames, depth, max);
		java_busy--;
		return more;
	}
	if (JVMTI(jvmti, JVMTI_STACK_TRACE, int (*)(void *, void *, jint, jint, void *, jint *))(
		    jvmti, NULL, 0, room + 1, jf, &got) ||
	    got < 1) {
		java_busy--;
		return false;
	}
	/* more frames than fit: the innermost are kept, and index 0 says so */
	more = got > room;
	take = more ? room - 1 : got;
	for (int i = 0; i < take; i++) {
		uint32_t idx = name_of(env, jf[i].method, jf[i].location);

		if (!idx) { /* the names region is full */
			more = true;
			break;
		}
		frames[k++] = TRACKSHM_JAVA_TAG | idx;
	}
	if (more)
		frames[k++] = TRACKSHM_JAVA_TAG;
	java_busy--;
	*depth = k;
	return true;
}
