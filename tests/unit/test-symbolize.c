/* test-symbolize: symbolize addresses of this very process (functions, inlining, modules). */
#include "tap.h"
#include "strbuf.h"
#include "symbolize.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) int probe_function(int x);
__attribute__((noinline)) int probe_function(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 3 + 1;
}

static inline __attribute__((always_inline)) uintptr_t inlined_here(void)
{
	uintptr_t pc;

	__asm__ volatile("lea 0(%%rip), %0" : "=r"(pc));
	return pc;
}

__attribute__((noinline)) uintptr_t outer_of_inline(void);
__attribute__((noinline)) uintptr_t outer_of_inline(void)
{
	return inlined_here();
}

/* Three levels of inlining into one function: every level is a frame. */
static inline __attribute__((always_inline)) uintptr_t inline_c(void)
{
	uintptr_t pc;

	__asm__ volatile("lea 0(%%rip), %0" : "=r"(pc));
	return pc;
}

static inline __attribute__((always_inline)) uintptr_t inline_b(void)
{
	return inline_c() + 0;	/* the call site of inline_c */
}

static inline __attribute__((always_inline)) uintptr_t inline_a(void)
{
	return inline_b() + 0;	/* the call site of inline_b */
}

__attribute__((noinline)) uintptr_t outer_of_chain(void);
__attribute__((noinline)) uintptr_t outer_of_chain(void)
{
	return inline_a();
}

/* crt1.o's entry point: no debug information, placed after our CUs. */
extern char _start[];

int main(void)
{
	struct strbuf err = STRBUF_INIT;
	struct symbolizer *sym = NULL;
	const struct sym_frame *f, *f2;
	size_t n, n2;
	char buf[512];
	int ret;

	ret = symbolize_new(getpid(), &sym, &err);
	is_int(ret, 0, "symbolize_new on ourselves");
	if (ret)
		return done_testing();

	symbolize_pc(sym, (uint64_t)(uintptr_t)probe_function, false, &f, &n);
	ok(n >= 1, "a function gives at least one frame");
	is_str(f[n - 1].function, "probe_function", "its name");
	ok(f[n - 1].file && strstr(f[n - 1].file, "test-symbolize.c"), "its source file");
	ok(f[n - 1].line > 0, "a line number");
	ok(f[n - 1].module && strstr(f[n - 1].module, "test-symbolize"), "the module is this test");
	ok(f[n - 1].build_id && strlen(f[n - 1].build_id) == 40, "a 20-byte build-id in hex");
	ok(!f[n - 1].inlined, "the outermost frame is not inlined");

	symbolize_pc(sym, (uint64_t)(uintptr_t)probe_function, false, &f2, &n2);
	ok(f2 == f && n2 == n, "a second lookup comes from the cache");

	/* The address after the lea: look up as a return address (pc - 1). */
	symbolize_pc(sym, outer_of_inline(), true, &f, &n);
	is_int(n, 2, "an inlined call gives two frames");
	if (n == 2) {
		is_str(f[0].function, "inlined_here", "innermost: the inlined function");
		ok(f[0].inlined, "marked inlined");
		is_str(f[1].function, "outer_of_inline", "then the function it is inlined into");
		ok(f[1].line > 0 && f[1].line != f[0].line, "at the call site's line");
	}

	/* Every level of a deep inline chain, each at its caller's call site. */
	symbolize_pc(sym, outer_of_chain(), true, &f, &n);
	is_int(n, 4, "three inlined calls give four frames");
	if (n == 4) {
		is_str(f[0].function, "inline_c", "innermost: inline_c");
		is_str(f[1].function, "inline_b", "then inline_b, which called it");
		is_str(f[2].function, "inline_a", "then inline_a");
		is_str(f[3].function, "outer_of_chain", "then the function it all went into");
		ok(f[0].inlined && f[1].inlined && f[2].inlined && !f[3].inlined,
		   "the three inlined frames are marked, the last is not");
		ok(f[1].line > f[0].line && f[2].line > f[1].line && f[3].line > f[2].line,
		   "each at its own call site (lines further down the file)");
		ok(f[1].file && strstr(f[1].file, "test-symbolize.c"), "call sites are in this file");
	}

	/*
	 * _start has no DWARF; the line table of the CU before it must not lend it
	 * that CU's last line. A return address inside it, as a stack shows it.
	 */
	symbolize_pc(sym, (uint64_t)(uintptr_t)_start + 8, true, &f, &n);
	ok(n == 1 && f[0].function && !strcmp(f[0].function, "_start"), "_start is named");
	ok(!f[n - 1].file && f[n - 1].line == 0, "_start has no file:line");
	symbolize_pc(sym, (uint64_t)(uintptr_t)main + 8, true, &f, &n);
	ok(f[n - 1].file && f[n - 1].line > 0, "main still has one");

	/* Not free or malloc: a sanitizer build interposes those. */
	symbolize_pc(sym, (uint64_t)(uintptr_t)&getppid, false, &f, &n);
	ok(f[n - 1].module && strstr(f[n - 1].module, "libc.so"), "a libc address is in libc.so");

	symbolize_pc(sym, 0x10, false, &f, &n);
	ok(n == 1 && !f[0].function && !f[0].module, "an unmapped address gives a bare frame");
	ok(strstr(symbolize_format(&f[0], buf, sizeof(buf)), "0x10") != NULL, "formatted as hex");
	is_int(symbolize_note(sym, 0x10), -ENOENT, "note: no module holds it");

	/* A library loaded after the symbolizer read the module list. */
	void *h = dlopen("libresolv.so.2", RTLD_NOW);
	void *fn = h ? dlsym(h, "__b64_ntop") : NULL;

	if (fn) {
		symbolize_invalidate(sym);
		is_int(symbolize_note(sym, (uint64_t)(uintptr_t)fn), 0, "note re-reads the modules");
		symbolize_pc(sym, (uint64_t)(uintptr_t)fn, false, &f, &n);
		ok(f[n - 1].function && strstr(f[n - 1].function, "b64_ntop"), "a symbol in the new library");
	}
	/* A C++ symbol is demangled (libstdc++ is there wherever a JDK is). */
	void *cxx = dlopen("libstdc++.so.6", RTLD_NOW);
	void *dtor = cxx ? dlsym(cxx, "_ZNSt9exceptionD2Ev") : NULL;

	if (dtor) {
		symbolize_invalidate(sym);
		symbolize_note(sym, (uint64_t)(uintptr_t)dtor);
		symbolize_pc(sym, (uint64_t)(uintptr_t)dtor, false, &f, &n);
		ok(f[n - 1].function && !strncmp(f[n - 1].function, "_ZN", 3), "raw name is mangled");
		ok(f[n - 1].demangled && strstr(f[n - 1].demangled, "exception::~exception()"),
		   "demangled");
		ok(strstr(symbolize_format(&f[n - 1], buf, sizeof(buf)), "::~exception()") != NULL,
		   "formatted demangled");
	}
	symbolize_pc(sym, (uint64_t)(uintptr_t)probe_function, false, &f, &n);
	ok(f[n - 1].demangled == f[n - 1].function, "a C name is its own demangled name");

	symbolize_free(sym);
	symbolize_free(NULL);

	/* From a captured module list, as for a process that is gone. */
	struct strbuf maps = STRBUF_INIT;
	FILE *mf = fopen("/proc/self/maps", "r");
	char line[4096];

	while (mf && fgets(line, sizeof(line), mf))
		strbuf_addstr(&maps, line);
	if (mf)
		fclose(mf);
	sym = NULL;
	is_int(symbolize_new_maps(maps.buf, maps.len, &sym, &err), 0, "symbolize_new_maps");
	if (sym) {
		symbolize_pc(sym, (uint64_t)(uintptr_t)probe_function, false, &f, &n);
		is_str(f[n - 1].function, "probe_function", "a name from a captured list");
		ok(f[n - 1].build_id && strlen(f[n - 1].build_id) == 40, "and the build-id");
		symbolize_free(sym);
	}
	sym = NULL;
	ok(symbolize_new_maps("", 0, &sym, &err) < 0 && !sym, "an empty list is refused");
	strbuf_release(&maps);

	/* Hostile text: refused or empty, never a crash. */
	static const char bad[] = "zzzz-yyyy r-xp nonsense\n7f00-7e00 r-xp 00000000 00:00 1 /x\n-\n";

	sym = NULL;
	ret = symbolize_new_maps(bad, sizeof(bad) - 1, &sym, &err);
	if (sym) {
		symbolize_pc(sym, 0x7f00, false, &f, &n);
		ok(n == 1 && !f[0].function, "garbage maps: no names");
		symbolize_free(sym);
	} else {
		ok(ret < 0, "garbage maps: refused");
	}
	strbuf_release(&err);
	return done_testing();
}
