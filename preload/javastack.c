/* javastack: the Java frames above a native allocation made in a JNI method. */

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
 * ready yet is tried again at the 2^k-th candidate stack only. No lock of ours is held across a JVMTI call, and the
 * JVM's allocations inside one are not recorded (java_busy).
 *
 * A Java frame is named once: (jmethodID, bci) and then (jmethodID, line)
 * map to a record of the names region (trackshm.h) through a process-wide
 * table whose entries are written under a per-entry lock bit and read with
 * a check of the key before and after (a reader never waits).
 */
#include "internal.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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

static int jstate;
static void *vm;    /* JavaVM * */
static void *jvmti; /* jvmtiEnv * */
static uint64_t jvm_lo, jvm_hi, libc_lo, libc_hi;
static long off_state, off_base, off_size; /* JavaThread::_thread_state, _stack_base, _stack_size */
static long off_env = -1; /* where the JNIEnv lies in a JavaThread (calibrate) */
static int in_native = 4;	/* _thread_in_native, from the VM's constants when exported */
static uint64_t candidates;	/* stacks that met the walk's conditions before J_READY */

TLS int java_busy;

/* (jmethodID, key) -> record index; key: the bci, or LINE_KEY | line */
#define NAME_BITS 14
#define LINE_KEY  (1ULL << 32)
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
		for (const char *e = *ints; *(const char *const *)(e + *in_name); e += *in_stride)
			if (!strcmp(*(const char *const *)(e + *in_name), "_thread_in_native")) {
				in_native = *(const int32_t *)(e + *in_value);
				break;
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
		uint64_t c = __atomic_add_fetch(&candidates, 1, __ATOMIC_RELAXED);

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

static void jvmti_free(void *p)
{
	if (p)
		JVMTI(jvmti, JVMTI_DEALLOCATE, int (*)(void *, void *))(jvmti, p);
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
static int line_of(jmethodID method, jlocation bci)
{
	struct jvmti_line *t = NULL;
	jint n = 0, line = 0;
	jlocation best = -1;

	if (JVMTI(jvmti, JVMTI_LINE_NUMBER_TABLE, int (*)(void *, jmethodID, jint *, void *))(
		    jvmti, method, &n, &t))
		return 0;
	/* the entry that starts last at or before bci (the table need not be sorted) */
	for (jint i = 0; i < n; i++)
		if (t[i].start <= bci && t[i].start > best) {
			best = t[i].start;
			line = t[i].line;
		}
	jvmti_free(t);
	return line;
}

/* A new record for method at line; 0 when the region is full or the JVM says nothing. */
static uint32_t name_new(void *env, jmethodID method, int line)
{
	struct trackshm_java *r;
	char *sig = NULL, *name = NULL, *file = NULL;
	jclass cls = NULL;
	uint32_t idx;

	if (JVMTI(jvmti, JVMTI_METHOD_NAME, int (*)(void *, jmethodID, char **, char **, char **))(
		    jvmti, method, &name, NULL, NULL))
		return 0;
	if (!JVMTI(jvmti, JVMTI_DECLARING_CLASS, int (*)(void *, jmethodID, jclass *))(
		    jvmti, method, &cls) && cls) {
		JVMTI(jvmti, JVMTI_CLASS_SIGNATURE, int (*)(void *, jclass, char **, char **))(
			jvmti, cls, &sig, NULL);
		JVMTI(jvmti, JVMTI_SOURCE_FILE_NAME, int (*)(void *, jclass, char **))(jvmti, cls,
										       &file);
		/* a local reference in the JNI method's frame: let it go now */
		((void (*)(void *, jclass))jfn(env, JNI_DELETE_LOCAL_REF))(env, cls);
	}
	/* (a full region is not taken again: java_n must not wrap to a used index) */
	idx = __atomic_load_n(&hdr->java_n, __ATOMIC_RELAXED) < hdr->java_max
		      ? __atomic_add_fetch(&hdr->java_n, 1, __ATOMIC_RELAXED)
		      : hdr->java_max;
	if (idx < hdr->java_max) {
		r = &java_names[idx];
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
		__atomic_store_n(&r->ready, 1, __ATOMIC_RELEASE);
	} else {
		idx = 0;
	}
	jvmti_free(sig);
	jvmti_free(name);
	jvmti_free(file);
	return idx;
}

/* The record naming (method, bci), made when new; 0 when none can be. */
static uint32_t name_of(void *env, jmethodID method, jlocation bci)
{
	uint64_t m = (uint64_t)(uintptr_t)method, key = (uint32_t)bci;
	uint32_t idx = name_get(m, key);
	int line;

	if (idx || !m)
		return idx;
	line = bci >= 0 ? line_of(method, bci) : 0;
	idx = name_get(m, LINE_KEY | (uint32_t)line);
	if (!idx) {
		idx = name_new(env, method, line);
		if (!idx)
			return 0;
		name_put(m, LINE_KEY | (uint32_t)line, idx);
	}
	name_put(m, key, idx);
	return idx;
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
	if (!env ||
	    JVMTI(jvmti, JVMTI_STACK_TRACE, int (*)(void *, void *, jint, jint, void *, jint *))(
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
