/* inject: loads a shared library into a running process and calls into it, by ptrace, without gdb. */
#ifndef OFFHEAP_INJECT_H
#define OFFHEAP_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct region;
struct strbuf;

#define INJECT_DEFAULT_TIMEOUT_MS 10000

/* What inject_dlcall does to the library (flags). */
enum inject_flags {
	INJECT_LOADED = 1 << 0, /* it is loaded already: dlopen with RTLD_NOLOAD, never load it */
};

/*
 * Why pid cannot be injected into, before it is touched: gone, a zombie or
 * stopped, traced by another process (TracerPid), owned by another user while
 * we are not root, or without a dynamic loader (statically linked). Returns
 * 0 or -errno with err saying why:
 *   -ESRCH    no such process
 *   -EBUSY    another tracer is attached (err names it)
 *   -EPERM    another user's process and we are not root
 *   -ENOEXEC  no libc in its memory map: linked statically
 *   -EAGAIN   a zombie or a stopped process
 */
int inject_check(pid_t pid, struct strbuf *err);

/*
 * Makes lib (a path of ours) reachable inside pid's mount namespace: when
 * /proc/PID/root/LIB is not our file (device and inode differ), copies it to
 * /proc/PID/root/tmp/ under a unique name, mode 0644. Fills path (n bytes)
 * with the path to pass to the target and copied with whether a copy was made
 * (the caller removes it with inject_remove_copy when done). 0 or -errno.
 */
int inject_place_library(pid_t pid, const char *lib, char *path, size_t n, bool *copied,
			 struct strbuf *err);
/* Removes a copy inject_place_library made for pid. */
void inject_remove_copy(pid_t pid, const char *path);

/*
 * In one thread of pid, stopped with PTRACE_SEIZE + PTRACE_INTERRUPT at a
 * point outside its malloc and its dynamic loader: h = dlopen(path, RTLD_NOW)
 * (RTLD_NOLOAD too with INJECT_LOADED), f = dlsym(h, func), *result = f(arg)
 * (arg NULL: f gets NULL), run by a trampoline the thread executes untraced
 * (see inject.c), which then puts every register (general and extended
 * state) back as it was, restarts an interrupted system call and returns to
 * where the thread was. path and func are as the target sees them; dlopen,
 * dlsym and dlerror are found in the target's own libc file. The trampoline's
 * pages (3 or more) stay mapped in the target.
 *
 * timeout_ms bounds every wait (the stop, each call). Returns 0, or -errno
 * with err filled:
 *   -ESRCH     the process is gone, or exited during the injection
 *   -EPERM     ptrace refused (err: Yama's ptrace_scope, another tracer, credentials)
 *   -ENOEXEC   no dlopen in the target (statically linked, or an unknown libc)
 *   -ENOENT    dlopen failed (err has dlerror's text) or func is not in the library
 *   -ETIMEDOUT the thread did not stop, or a call did not return, in time
 *   -EDEADLK   no safe point (always inside malloc or the loader) after bounded retries
 *   -E2BIG     a string argument of more than 1 KiB
 *   -ENOMEM    the target could not map the trampoline's pages
 */
int inject_dlcall(pid_t pid, const char *path, const char *func, const char *arg, unsigned flags,
		  int timeout_ms, long *result, struct strbuf *err);

/*
 * Maps (read-only, private) the whole file behind region r of pid: through
 * pid's root when that path is still the mapped file (same inode), else
 * through /proc/PID/map_files. 0 (*data, *len: munmap them) or -errno;
 * -ENOEXEC when it is no regular file the size of an ELF header at least.
 */
int inject_map_module(pid_t pid, const struct region *r, void **data, size_t *len);

/* The internals below are exposed for the fuzz harness (fuzz/fuzz-inject.c). */

/*
 * Looks name up in the dynamic symbol table (then the static one) of the ELF
 * image in buf (len bytes, a whole file): *value and *size of a defined
 * function or object, preferring the default version (name@@VER) when the
 * name has several. Returns 0, -ENOENT (absent), -ENOEXEC (not a 64-bit ELF
 * file of this machine, or tables that do not fit in len).
 */
int inject_elf_symbol(const void *buf, size_t len, const char *name, uint64_t *value,
		      uint64_t *size);
/* The virtual address of the first PT_LOAD segment (the load bias is its map start minus it). */
int inject_elf_first_load(const void *buf, size_t len, uint64_t *vaddr);

#endif
