/* hotspot: a live HotSpot JVM's Java frames, read from outside through its vmStructs. */
#ifndef OFFHEAP_HOTSPOT_H
#define OFFHEAP_HOTSPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct hotspot;
struct strbuf;

/*
 * Reads what naming interpreted frames needs from pid's libjvm.so: the
 * offsets HotSpot exports in gHotSpotVMStructs and gHotSpotVMTypes, and the
 * range of the template interpreter's code. The caller must be allowed to
 * read pid's memory (its tracer). Returns NULL when pid maps no libjvm.so,
 * when it exports no vmStructs (not HotSpot) or lacks a field used here,
 * and while its interpreter is not generated yet (early in its start): the
 * caller may ask again later. Free with hotspot_close().
 */
struct hotspot *hotspot_open(pid_t pid);
void hotspot_close(struct hotspot *hs);

/* Whether pc lies in the interpreter's code (its frames keep rbp as their frame pointer). */
bool hotspot_in_interpreter(const struct hotspot *hs, uint64_t pc);

/* Whether pc lies in the interpreter or in a blob of the code cache (compiled code, stubs). */
bool hotspot_in_code(const struct hotspot *hs, uint64_t pc);

/*
 * A frame of Java code: pc, sp, fp (rbp) as an unwinder gives them, and the
 * unextended sp, the sp before an interpreted callee extended the frame for
 * its arguments (sp itself otherwise).
 */
struct hotspot_regs {
	uint64_t pc, sp, fp, usp;
};

/*
 * Steps r from a frame in hotspot_in_code() to its caller: through an
 * interpreted frame or a stub by rbp, through compiled code by its blob's
 * frame size (the code cache is read for it). 0, or -EFAULT where the frame
 * does not read as one (the walk stops there).
 */
int hotspot_step(struct hotspot *hs, struct hotspot_regs *r);

/* The bci of a native method's frame (its bcp slot is empty), and of a compiled one (not known). */
#define HOTSPOT_BCI_NATIVE   (-1)
#define HOTSPOT_BCI_COMPILED (-2)

/*
 * The interpreted frame whose frame pointer is fp, in a thread stopped by
 * the caller: its Method* and bytecode index (HOTSPOT_BCI_NATIVE for a
 * native method). 0, or -EFAULT when the frame does not read as one.
 */
int hotspot_frame(struct hotspot *hs, uint64_t fp, uint64_t *method, int *bci);

/* A Java frame a compiled frame stands for: its Method* and bci (or HOTSPOT_BCI_*). */
struct hotspot_scope {
	uint64_t method;
	int bci;
};

/*
 * The Java frames of the compiled frame whose return address is pc, innermost
 * first, in out (up to max): the methods the compiler inlined at that call
 * and the one compiled, each with the bci of its call, read from the
 * nmethod's PcDescs and scopes. Where those are not known (a JDK whose
 * layout is not one of ours, a pc that is no call's return), the compiled
 * method alone with HOTSPOT_BCI_COMPILED; a native method's wrapper with
 * HOTSPOT_BCI_NATIVE. The count, or -ENOENT when pc is in no nmethod (a
 * stub, an adapter) or it does not read as one.
 */
int hotspot_compiled_frames(struct hotspot *hs, uint64_t pc, struct hotspot_scope *out, int max);

/*
 * Decodes a scope's header from debug-information bytes: its sender's
 * offset, its method's metadata index and its bci + 1, in hdr. 0, or
 * -EINVAL when buf ends first.
 */
int hotspot_scope_header(const unsigned char *buf, size_t len, bool unsigned5, uint32_t hdr[3]);

/* A Java frame's name, as a stack trace prints it. */
struct hotspot_name {
	char method[512];	/* "pkg.Class.method(arg.Type[], int)" */
	char file[128];		/* "Class.java", "" when not known */
	int line;		/* 0 when not known (compiled, no table) */
	bool native;		/* a native method: "(Native Method)" */
};

/*
 * The name of method at bci in *out: file and line for a bci of its code,
 * native for HOTSPOT_BCI_NATIVE, neither for HOTSPOT_BCI_COMPILED. Every
 * read of the target is checked: a method freed meanwhile, or bytes that do
 * not read as HotSpot's structures, give -EFAULT.
 */
int hotspot_method_name(struct hotspot *hs, uint64_t method, int bci, struct hotspot_name *out);

/* "pkg.Class.method(args) (File.java:42)", "… (Native Method)", or the method alone, in buf. */
char *hotspot_name_format(const struct hotspot_name *nm, char *buf, size_t n);

/*
 * The argument types of a method signature, "(Ljava/lang/String;[II)V" as
 * "java.lang.String, int[], int", appended to sb; a malformed signature
 * stops at the first type that does not parse.
 */
void hotspot_signature_args(struct strbuf *sb, const char *sig);

/* Decodes line-number table bytes (HotSpot's compressed pairs) for bci: the line, or -1. */
int hotspot_line_of(const unsigned char *tab, size_t len, int bci, bool unsigned5);

#endif
