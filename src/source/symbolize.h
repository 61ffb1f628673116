/* symbolize: code addresses of a process → function, file:line, inlined frames, module. */
#ifndef OFFHEAP_SYMBOLIZE_H
#define OFFHEAP_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct strbuf;

/*
 * One source-level frame. A machine frame (one PC) gives one or more of
 * these: the inlined calls first, innermost first, then the function they
 * were inlined into. Strings are owned by the symbolizer and live until
 * symbolize_free(); any of them may be NULL when the information is absent
 * (no symbol table, no DWARF, an address outside every module such as JIT code).
 */
struct sym_frame {
	uint64_t pc;		/* the address asked about */
	const char *function;	/* symbol or DWARF name, as in the binary (mangled for C++) */
	const char *demangled;	/* C++ names demangled, else the same pointer as function */
	const char *file;	/* source file, or NULL */
	int line;		/* source line, 0 when unknown */
	const char *module;	/* path of the ELF module, or NULL */
	const char *build_id;	/* lowercase hex GNU build-id of the module, or NULL */
	uint64_t module_offset;	/* pc relative to the module's load bias */
	bool inlined;		/* this frame was inlined into the next one */
};

struct symbolizer;

/*
 * A symbolizer for the live process pid: reads its module list from
 * /proc/PID/maps (through procfs) and opens the ELF files and their
 * separate debug files (libdw's standard search). ELF/DWARF data is cached
 * per module and results per address, so asking again is cheap.
 *
 * Modules stay known after the process exits, so callers that collect
 * addresses while the process runs and resolve them later should call
 * symbolize_note() for each address while the process is still alive.
 *
 * Returns 0 and *out (free with symbolize_free), or -errno with err filled.
 */
int symbolize_new(pid_t pid, struct symbolizer **out, struct strbuf *err);
void symbolize_free(struct symbolizer *sym);

/*
 * A symbolizer for a process that may be gone: its module list is given as
 * the text of a /proc/PID/maps captured earlier (say, stored in a recording),
 * and the files are opened by the paths in it, so they must still be there
 * (checked against the build-ids a caller kept, if it cares). Notes and
 * invalidation do nothing. Returns 0 or -errno with err filled.
 */
int symbolize_new_maps(const char *maps, size_t len, struct symbolizer **out,
		       struct strbuf *err);

/*
 * The process may have loaded code since the module list was read. After
 * this, the next symbolize_note() of an address outside every known module
 * reads /proc/PID/maps again (once, not per address).
 */
void symbolize_invalidate(struct symbolizer *sym);

/*
 * Makes sure the module holding pc is known, re-reading the module list
 * if symbolize_invalidate() was called since the last read. Cheap when the
 * address is already covered. Returns 0, or -ENOENT when no module holds pc.
 */
int symbolize_note(struct symbolizer *sym, uint64_t pc);

/*
 * Re-reads the module list now if symbolize_invalidate() was called since
 * the last read: for addresses that a stale list may place in another
 * module's span (a library loaded into a gap between the mappings of a file
 * read before it, as a JVM's libzip.so among its CDS archive's).
 */
void symbolize_refresh(struct symbolizer *sym);

/*
 * Resolves pc into *frames (*n ≥ 1 entries, innermost first, owned by sym,
 * valid until symbolize_free). is_return is true for the PC of a caller
 * frame (a return address): lookup then uses pc - 1 so the call's own line
 * is found. Always succeeds: an unknown address gives one frame with only
 * pc set (and module when known).
 */
void symbolize_pc(struct symbolizer *sym, uint64_t pc, bool is_return,
		  const struct sym_frame **frames, size_t *n);

/* "function (file:line)" or "0xADDR (module+0xOFF)" into buf for one frame (demangled). */
const char *symbolize_format(const struct sym_frame *f, char *buf, size_t n);

#endif
