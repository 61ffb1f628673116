/*
 * symbolize: code addresses of a process → source-level frames, with elfutils libdwfl.
 *
 * The module list comes from /proc/PID/maps (dwfl_linux_proc_maps_report);
 * ELF files and their separate debug files are found by libdwfl's standard
 * callbacks (build-id under /usr/lib/debug/.build-id, .gnu_debuglink, and
 * debuginfod when DEBUGINFOD_URLS is set). Names come from DWARF when the
 * module has it, else from the ELF symbol table. Inlined calls are recovered
 * from the DW_TAG_inlined_subroutine DIEs that enclose the address (the
 * innermost scope from dwarf_getscopes, its parents from dwarf_getscopes_die):
 * each inlined frame's location is the line-table row for the address
 * (innermost) or the DW_AT_call_file/DW_AT_call_line of the inline instance
 * inside it, the same walk eu-addr2line -i does. An address outside every
 * CU's ranges has no file:line, even when a line table row precedes it.
 *
 * Results are cached per (pc, is_return); libdwfl caches ELF and DWARF per
 * module. Module lists are only ever added to (dwfl_report_begin_add) so
 * addresses in a library that was unloaded since still resolve.
 */
#include "symbolize.h"
#include "procfs.h"
#include "strbuf.h"
#include "xalloc.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* A function symbol, for the binary search that replaces libdwfl's linear one. */
struct sym_sym {
	uint64_t addr;		/* absolute, in the process */
	uint64_t size;		/* st_size, 0 when unknown */
	uint64_t reach;		/* the furthest end of this symbol and those before it */
	const char *name;	/* in the module's string table (lives with the Dwfl) */
	int global;		/* 1 for global/weak: preferred at equal addresses */
};

struct sym_module {
	char *path;		/* module name as reported (a path for files) */
	char *build_id;		/* hex, or NULL */
	struct sym_sym *syms;	/* function symbols by address, once loaded */
	size_t nsyms;
	bool syms_loaded;
	bool sizeless;		/* a symbol in code of size 0 (it may cover any gap),
				   or a sized one that is not a function (not in syms) */
	bool c_library;		/* named from its symbols only (c_library()) */
};

struct sym_entry {
	uint64_t key;		/* pc << 1 | is_return; 0 marks an empty slot */
	struct sym_frame *frames;	/* nframes entries */
	size_t nframes;
};

struct symbolizer {
	pid_t pid;		/* the process whose maps we read, 0 for a captured list */
	Dwfl *dwfl;		/* module list and per-module ELF/DWARF caches */
	bool stale;		/* the process may have loaded code since the last read */
	struct sym_entry *tab;	/* open-addressing hash of resolved addresses */
	size_t tab_size, tab_used;	/* slots (a power of 2), slots in use */
	struct sym_module **mods;	/* every sym_module, to free */
	size_t nmods, mods_alloc;
};

static char *debuginfo_path;

/* Whether path holds a file whose CRC-32 (zlib's, as .gnu_debuglink stores it) is crc. */
static int open_crc(const char *path, GElf_Word crc)
{
	unsigned char buf[65536];
	uLong c = crc32(0, Z_NULL, 0);
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		c = crc32(c, buf, (uInt)n);
	if (n < 0 || (GElf_Word)c != crc) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/*
 * The separate debug file named by .gnu_debuglink, where GDB and libdwfl look:
 * beside the file, in .debug/ beside it, under /usr/lib/debug + its folder.
 */
static int find_debuglink(const char *file_name, const char *link, GElf_Word crc,
			  char **debuginfo_file_name)
{
	char dir[PATH_MAX], path[PATH_MAX];
	const char *slash;
	static const char *const pre[] = {"", "", "/usr/lib/debug"}, *const sub[] = {"", ".debug/", ""};

	if (!file_name || !link || !*link || !(slash = strrchr(file_name, '/')) ||
	    (size_t)(slash - file_name) >= sizeof(dir))
		return -1;
	memcpy(dir, file_name, (size_t)(slash - file_name));
	dir[slash - file_name] = '\0';
	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
		int fd;

		if (snprintf(path, sizeof(path), "%s%s/%s%s", pre[i], dir, sub[i], link) >=
			(int)sizeof(path) ||
		    !strcmp(path, file_name))
			continue;
		if ((fd = open_crc(path, crc)) >= 0) {
			*debuginfo_file_name = strdup(path);
			return fd;
		}
	}
	return -1;
}

/*
 * dwfl_standard_find_debuginfo falls back to debuginfod for every module
 * without local debug information (most of a Debian system), and libdw
 * loads libdebuginfod (with libcurl, GnuTLS, Kerberos) for that even when no
 * server is set: 20 ms of CPU per run. Without DEBUGINFOD_URLS only the
 * local places are searched: the build-id tree, then .gnu_debuglink.
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			  Dwarf_Addr base, const char *file_name, const char *debuglink_file,
			  GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	const char *urls = getenv("DEBUGINFOD_URLS");
	int fd;

	if (urls && *urls)
		return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name,
						    debuglink_file, debuglink_crc,
						    debuginfo_file_name);
	fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name,
					  debuglink_file, debuglink_crc, debuginfo_file_name);
	if (fd >= 0)
		return fd;
	return find_debuglink(file_name, debuglink_file, debuglink_crc, debuginfo_file_name);
}

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

/* The path of a maps line (text up to its end), or NULL when it has none. */
static const char *maps_line_path(const char *line, const char *end, size_t *len)
{
	const char *p = memchr(line, '/', (size_t)(end - line));

	if (!p)
		return NULL;
	*len = (size_t)(end - p);
	return p;
}

/*
 * The lines of maps text whose file is mapped executable somewhere (all of
 * that file's lines: the first one gives its load bias), appended to out.
 * elfutils makes a module of every mapped file, and spans one from the
 * first to the last mapping of its name: a process that maps data files
 * (a JVM's MappedByteBuffers) would have addresses of its JIT code
 * attributed to one of them.
 */
static void maps_code_only(const char *text, size_t len, struct strbuf *out)
{
	const char **code = NULL;
	size_t *code_len = NULL, ncode = 0, acode = 0, alen = 0;
	const char *end = text + len;

	for (int pass = 0; pass < 2; pass++)
		for (const char *line = text; line < end;) {
			const char *nl = memchr(line, '\n', (size_t)(end - line));
			const char *stop = nl ? nl : end, *path, *sp = memchr(line, ' ', (size_t)(stop - line));
			size_t plen = 0;
			bool keep = false;

			path = maps_line_path(line, stop, &plen);
			if (path && pass == 0 && sp && stop - sp > 4 && sp[3] == 'x') {
				ALLOC_GROW(code, ncode + 1, acode);
				ALLOC_GROW(code_len, ncode + 1, alen);
				code[ncode] = path;
				code_len[ncode++] = plen;
			}
			for (size_t i = 0; path && pass == 1 && !keep && i < ncode; i++)
				keep = code_len[i] == plen && !memcmp(code[i], path, plen);
			if (keep) {
				strbuf_add(out, line, (size_t)(stop - line));
				strbuf_addch(out, '\n');
			}
			line = nl ? nl + 1 : end;
		}
	free(code);
	free(code_len);
}

/* Reports the code modules of maps text to dwfl (added to those it has when add). */
static int report_maps(Dwfl *dwfl, const char *text, size_t len, bool add)
{
	struct strbuf code = STRBUF_INIT;
	FILE *f;
	int ret;

	maps_code_only(text, len, &code);
	if (!code.len) {
		strbuf_release(&code);
		return 0;
	}
	f = fmemopen(code.buf, code.len, "r");
	if (!f) {
		strbuf_release(&code);
		return errno;
	}
	if (add)
		dwfl_report_begin_add(dwfl);
	else
		dwfl_report_begin(dwfl);
	ret = dwfl_linux_proc_maps_report(dwfl, f);
	dwfl_report_end(dwfl, NULL, NULL);
	fclose(f);
	strbuf_release(&code);
	return ret;
}

static int read_maps(struct symbolizer *sym, struct strbuf *err)
{
	struct strbuf maps = STRBUF_INIT;
	int ret;

	ret = procfs_read_pid(sym->pid, "maps", &maps, 64u << 20);
	if (ret) {
		if (err)
			strbuf_addf(err, "cannot read the memory map of process %d: %s",
				    (int)sym->pid, strerror(-ret));
		strbuf_release(&maps);
		return ret;
	}
	ret = report_maps(sym->dwfl, maps.buf, maps.len, true);
	strbuf_release(&maps);
	sym->stale = false;
	if (ret) {
		if (err)
			strbuf_addf(err, "cannot read the module list of process %d: %s",
				    (int)sym->pid, ret > 0 ? strerror(ret) : dwfl_errmsg(-1));
		return ret > 0 ? -ret : -EIO;
	}
	return 0;
}

int symbolize_new(pid_t pid, struct symbolizer **out, struct strbuf *err)
{
	struct symbolizer *sym = xcalloc(1, sizeof(*sym));
	int ret;

	sym->pid = pid;
	sym->dwfl = dwfl_begin(&proc_callbacks);
	if (!sym->dwfl) {
		if (err)
			strbuf_addf(err, "cannot start libdwfl: %s", dwfl_errmsg(-1));
		free(sym);
		return -ENOMEM;
	}
	sym->tab_size = 1024;
	sym->tab = xcalloc(sym->tab_size, sizeof(*sym->tab));
	ret = read_maps(sym, err);
	if (ret) {
		symbolize_free(sym);
		return ret;
	}
	*out = sym;
	return 0;
}

int symbolize_new_maps(const char *maps, size_t len, struct symbolizer **out,
		       struct strbuf *err)
{
	struct symbolizer *sym = xcalloc(1, sizeof(*sym));
	int ret;

	sym->dwfl = dwfl_begin(&proc_callbacks);
	if (!sym->dwfl) {
		if (err)
			strbuf_addf(err, "cannot start libdwfl: %s", dwfl_errmsg(-1));
		free(sym);
		return -ENOMEM;
	}
	sym->tab_size = 1024;
	sym->tab = xcalloc(sym->tab_size, sizeof(*sym->tab));
	if (!len) {
		if (err)
			strbuf_addf(err, "an empty module list");
		symbolize_free(sym);
		return -EINVAL;
	}
	ret = report_maps(sym->dwfl, maps, len, false);
	if (ret) {
		if (err)
			strbuf_addf(err, "cannot read the module list: %s",
				    ret > 0 ? strerror(ret) : dwfl_errmsg(-1));
		symbolize_free(sym);
		return ret > 0 ? -ret : -EINVAL;
	}
	*out = sym;
	return 0;
}

void symbolize_free(struct symbolizer *sym)
{
	if (!sym)
		return;
	for (size_t i = 0; i < sym->tab_size; i++) {
		struct sym_entry *e = &sym->tab[i];

		if (!e->key)
			continue;
		for (size_t k = 0; k < e->nframes; k++) {
			if (e->frames[k].demangled != e->frames[k].function)
				free((char *)e->frames[k].demangled);
			free((char *)e->frames[k].function);
			free((char *)e->frames[k].file);
		}
		free(e->frames);
	}
	free(sym->tab);
	for (size_t i = 0; i < sym->nmods; i++) {
		free(sym->mods[i]->syms);
		free(sym->mods[i]->path);
		free(sym->mods[i]->build_id);
		free(sym->mods[i]);
	}
	free(sym->mods);
	if (sym->dwfl)
		dwfl_end(sym->dwfl);
	free(sym);
}

void symbolize_invalidate(struct symbolizer *sym)
{
	sym->stale = true;
}

/*
 * The module whose range holds pc. dwfl_addrmodule alone (elfutils 0.188)
 * also answers for a pc in the gap after a module, up to the next one: a
 * JVM's code cache, mapped between two libraries, was the first library's
 * (libnio.so's _fini).
 */
static Dwfl_Module *module_at(struct symbolizer *sym, uint64_t pc)
{
	Dwfl_Module *mod = dwfl_addrmodule(sym->dwfl, pc);
	Dwarf_Addr lo, hi;

	if (!mod || !dwfl_module_info(mod, NULL, &lo, &hi, NULL, NULL, NULL, NULL) || pc < lo ||
	    pc >= hi)
		return NULL;
	return mod;
}

int symbolize_note(struct symbolizer *sym, uint64_t pc)
{
	if (module_at(sym, pc))
		return 0;
	if (!sym->stale || !sym->pid)
		return -ENOENT;
	read_maps(sym, NULL);
	return module_at(sym, pc) ? 0 : -ENOENT;
}

void symbolize_refresh(struct symbolizer *sym)
{
	if (sym->stale && sym->pid)
		read_maps(sym, NULL);
}

/*
 * The C library and the dynamic loader: every frame of theirs is named from
 * the symbol table (libc6-dbg's, when installed), without a source line.
 * A line in glibc's sources names nothing the user can change, and the
 * first one asked for makes libdw inflate the library's whole debug
 * information: 16 MB and some 65 ms at the end of a `git log` recording
 * whose stacks pass through fopen, opendir and tzset.
 */
static bool c_library(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so.", 8) || !strncmp(base, "ld-linux", 8) ||
	       !strncmp(base, "libc.musl-", 10) || !strncmp(base, "ld-musl-", 8);
}

/* Our per-module record (path, build-id), kept in the module's userdata slot. */
static struct sym_module *module_info(struct symbolizer *sym, Dwfl_Module *mod)
{
	void **userdata;
	const char *name = dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	const unsigned char *bits;
	GElf_Addr vaddr;
	Dwarf_Addr bias;
	struct sym_module *m;
	int len;

	if (*userdata)
		return *userdata;
	m = xcalloc(1, sizeof(*m));
	m->path = xstrdup(name ? name : "?");
	m->c_library = c_library(m->path);
	/* The build-id note is read with the ELF file. */
	dwfl_module_getelf(mod, &bias);
	len = dwfl_module_build_id(mod, &bits, &vaddr);
	if (len > 0) {
		m->build_id = xmalloc((size_t)len * 2 + 1);
		for (int i = 0; i < len; i++)
			snprintf(m->build_id + 2 * i, 3, "%02x", bits[i]);
	}
	ALLOC_GROW(sym->mods, sym->nmods + 1, sym->mods_alloc);
	sym->mods[sym->nmods++] = m;
	*userdata = m;
	return m;
}

/*
 * C++ names through libstdc++'s __cxa_demangle, loaded on first use with
 * dlopen so that a C program does not link the C++ runtime for it; when it
 * is absent, names stay mangled.
 */
typedef char *(*demangle_fn)(const char *, char *, size_t *, int *);

static char *demangle(const char *name)
{
	static demangle_fn fn;
	static bool tried;
	int status = -1;
	char *out;

	if (!name || strncmp(name, "_Z", 2))
		return NULL;
	if (!tried) {
		void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);

		tried = true;
		if (h)
			*(void **)&fn = dlsym(h, "__cxa_demangle");
	}
	if (!fn)
		return NULL;
	out = fn(name, NULL, NULL, &status);
	if (status != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * Sorts syms by address, globals first at equal addresses: a stable radix
 * sort, a pass for the binding then one per byte of the addresses that
 * differ. libjvm.so's 57 000 symbols took qsort a tenth of a whole
 * `offheap trace -- java -version`.
 */
static void sort_syms(struct sym_sym *syms, size_t n)
{
	struct sym_sym *tmp = xmalloc(n * sizeof(*tmp)), *from = syms, *to = tmp;
	uint64_t differ = 0;

	for (size_t i = 1; i < n; i++)
		differ |= syms[i].addr ^ syms[0].addr;
	for (int pass = -1; pass < 8; pass++) {
		size_t count[257] = { 0 };
		int shift = pass * 8;

		if (pass >= 0 && !((differ >> shift) & 0xff))
			continue;
		for (size_t i = 0; i < n; i++)
			count[(pass < 0 ? !from[i].global : (from[i].addr >> shift) & 0xff) + 1]++;
		for (int b = 0; b < 256; b++)
			count[b + 1] += count[b];
		for (size_t i = 0; i < n; i++)
			to[count[pass < 0 ? !from[i].global : (from[i].addr >> shift) & 0xff]++] =
				from[i];
		struct sym_sym *t = from;

		from = to;
		to = t;
	}
	if (from != syms)
		memcpy(syms, from, n * sizeof(*syms));
	free(tmp);
}

/* Section shndx of elf holds code; true when that cannot be told. */
static bool in_code(Elf *elf, GElf_Word shndx)
{
	Elf_Scn *scn;
	GElf_Shdr sh;

	if (!elf || shndx >= SHN_LORESERVE || !(scn = elf_getscn(elf, shndx)) ||
	    !gelf_getshdr(scn, &sh))
		return true;
	return (sh.sh_flags & SHF_EXECINSTR) != 0;
}

/*
 * dwfl_module_addrname scans the whole symbol table for each address
 * (elfutils 0.188): with libjvm.so's 57 000 symbols that is most of a
 * report's time. Read the function symbols once and sort them instead.
 */
static void load_syms(struct sym_module *m, Dwfl_Module *mod)
{
	int n = dwfl_module_getsymtab(mod);
	size_t alloc = 0;
	GElf_Addr bias;
	Elf *elf = dwfl_module_getelf(mod, &bias);

	m->syms_loaded = true;
	for (int i = 1; i < n; i++) {
		GElf_Sym gs;
		GElf_Addr addr;
		GElf_Word shndx;
		const char *name = dwfl_module_getsym_info(mod, i, &gs, &addr, &shndx, NULL, NULL);
		int type = GELF_ST_TYPE(gs.st_info);

		/* (__bss_start, _edata, _end: sizeless, but no pc is in their sections) */
		if (!m->sizeless && name && *name && shndx != SHN_UNDEF && addr &&
		    type != STT_SECTION && type != STT_FILE && type != STT_TLS &&
		    (!gs.st_size || (type != STT_FUNC && type != STT_GNU_IFUNC)) && in_code(elf, shndx))
			m->sizeless = true;
		if (!name || !*name || shndx == SHN_UNDEF || !addr ||
		    (type != STT_FUNC && type != STT_GNU_IFUNC))
			continue;
		ALLOC_GROW(m->syms, m->nsyms + 1, alloc);
		m->syms[m->nsyms++] = (struct sym_sym){
			addr, gs.st_size, 0, name, GELF_ST_BIND(gs.st_info) != STB_LOCAL,
		};
	}
	if (m->nsyms)
		sort_syms(m->syms, m->nsyms);
	for (size_t i = 0; i < m->nsyms; i++) {
		uint64_t end = m->syms[i].addr + m->syms[i].size;

		m->syms[i].reach = i && m->syms[i - 1].reach > end ? m->syms[i - 1].reach : end;
	}
}

/* The function symbol holding addr, or NULL. */
static const char *find_sym(struct sym_module *m, Dwfl_Module *mod, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!m->syms_loaded)
		load_syms(m, mod);
	hi = m->nsyms;
	/* The last symbol starting at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	const struct sym_sym *sy = &m->syms[lo - 1];

	/* The global one of several at the same address. */
	while (sy > m->syms && sy[-1].addr == sy->addr)
		sy--;
	if (sy->size && addr >= sy->addr + sy->size) {
		/*
		 * Past its end: a symbol without size may still cover it, else
		 * none. dwfl_module_addrname scans every symbol for that, so
		 * only where one may: a symbol of size 0 or not a function, or
		 * an earlier function reaching past this one's end. A stripped
		 * program's exported functions all have sizes, and most of its
		 * frames fall between them (cc1: 28,898 symbols scanned for each).
		 */
		return m->sizeless || addr < m->syms[lo - 1].reach ? dwfl_module_addrname(mod, addr)
								 : NULL;
	}
	return sy->name;
}

static char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *name;

	/* The linkage name is what the symbol table has: prefer it for C++. */
	name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (!name)
		name = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
	return name ? xstrdup(name) : NULL;
}

static void push_frame(struct sym_frame **v, size_t *n, size_t *alloc, const struct sym_frame *f)
{
	char *d = demangle(f->function);

	ALLOC_GROW(*v, *n + 1, *alloc);
	(*v)[*n] = *f;
	(*v)[*n].demangled = d ? d : f->function;
	(*n)++;
}

/*
 * The C library's frames below main and below a thread's function: every
 * stack has them, they say nothing about the program, and asking for their
 * line would make libdw load (and inflate) the library's whole debug
 * information, some 100 ms at the end of every run where libc6-dbg is
 * installed. Named from the symbol table alone.
 */
static bool start_frame(const char *name)
{
	static const char *const names[] = {
		"__libc_start_call_main", "__libc_start_main", "__libc_start_main_impl",
		"_start", "start_thread", "clone", "clone3", "__clone", "__clone3",
	};
	size_t n;

	if (!name)
		return false;
	n = strcspn(name, "@");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && !strncmp(name, names[i], n))
			return true;
	return false;
}

/* The frames for one address inside mod: inlined calls, then the enclosing function. */
static void resolve(struct symbolizer *sym, uint64_t pc, uint64_t addr, struct sym_entry *e)
{
	Dwfl_Module *mod = module_at(sym, addr);
	struct sym_frame base = { .pc = pc };
	struct sym_frame *v = NULL;
	size_t n = 0, alloc = 0;
	const char *symname = NULL, *file = NULL;
	int line = 0;
	Dwarf_Addr bias = 0;
	Dwarf_Die *cudie;
	Dwarf_Die *scopes = NULL;
	int nscopes;
	bool have_sub = false;

	if (!mod)
		goto out;
	struct sym_module *m = module_info(sym, mod);
	Dwarf_Addr start;

	dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
	base.module = m->path;
	base.build_id = m->build_id;
	base.module_offset = pc - start;
	symname = find_sym(m, mod, addr);

	cudie = m->c_library || start_frame(symname) ? NULL : dwfl_module_addrdie(mod, addr, &bias);
	/*
	 * libdwfl picks the CU whose first address is the last one at or below
	 * addr, and the line table then gives that CU's last row for any address
	 * past its end: code without DWARF (crt1.o's _start) would get a line of
	 * the CU before it. Only an address inside the CU's ranges has a line.
	 */
	if (cudie && dwarf_haspc(cudie, addr - bias) <= 0)
		cudie = NULL;
	if (cudie) {
		Dwfl_Line *dl = dwfl_module_getsrc(mod, addr);

		if (dl)
			file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
	}
	nscopes = cudie ? dwarf_getscopes(cudie, addr - bias, &scopes) : 0;
	/*
	 * dwarf_getscopes stops at the innermost inline instance and goes on
	 * with the scopes of its abstract definition, so it loses every level
	 * it was inlined through. The DIE tree above the innermost scope, as
	 * dwarf_getscopes_die gives it, has each of them.
	 */
	if (nscopes > 0) {
		Dwarf_Die inner = scopes[0];

		free(scopes);
		scopes = NULL;
		nscopes = dwarf_getscopes_die(&inner, &scopes);
	}
	for (int i = 0; i < nscopes; i++) {
		int tag = dwarf_tag(&scopes[i]);
		struct sym_frame f = base;

		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		f.function = die_name(&scopes[i]);
		if (tag == DW_TAG_subprogram && symname) {
			free((char *)f.function);
			f.function = xstrdup(symname);
		}
		f.file = file ? xstrdup(file) : NULL;
		f.line = line;
		if (tag == DW_TAG_subprogram) {
			push_frame(&v, &n, &alloc, &f);
			have_sub = true;
			break;
		}
		f.inlined = true;
		push_frame(&v, &n, &alloc, &f);
		/* The next frame out is at this inline instance's call site. */
		Dwarf_Attribute attr;
		Dwarf_Word fidx = 0, cline = 0;
		Dwarf_Files *files;
		size_t nfiles;

		file = NULL;
		line = 0;
		if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &fidx) == 0 &&
		    dwarf_getsrcfiles(cudie, &files, &nfiles) == 0 && fidx < nfiles)
			file = dwarf_filesrc(files, fidx, NULL, NULL);
		if (dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &cline) == 0)
			line = (int)cline;
	}
	free(scopes);
	if (!have_sub) {
		struct sym_frame f = base;

		f.function = symname ? xstrdup(symname) : NULL;
		f.file = file ? xstrdup(file) : NULL;
		f.line = line;
		push_frame(&v, &n, &alloc, &f);
	}
out:
	if (!n)
		push_frame(&v, &n, &alloc, &base);
	e->frames = v;
	e->nframes = n;
}

static uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static void tab_grow(struct symbolizer *sym)
{
	struct sym_entry *old = sym->tab;
	size_t oldn = sym->tab_size;

	sym->tab_size *= 2;
	sym->tab = xcalloc(sym->tab_size, sizeof(*sym->tab));
	for (size_t i = 0; i < oldn; i++) {
		if (!old[i].key)
			continue;
		size_t j = hash64(old[i].key) & (sym->tab_size - 1);

		while (sym->tab[j].key)
			j = (j + 1) & (sym->tab_size - 1);
		sym->tab[j] = old[i];
	}
	free(old);
}

void symbolize_pc(struct symbolizer *sym, uint64_t pc, bool is_return,
		  const struct sym_frame **frames, size_t *n)
{
	uint64_t key = (pc << 1) | is_return | (pc ? 0 : 2);
	size_t j;

	if ((sym->tab_used + 1) * 4 > sym->tab_size * 3)
		tab_grow(sym);
	j = hash64(key) & (sym->tab_size - 1);
	while (sym->tab[j].key && sym->tab[j].key != key)
		j = (j + 1) & (sym->tab_size - 1);
	if (!sym->tab[j].key) {
		sym->tab[j].key = key;
		sym->tab_used++;
		resolve(sym, pc, is_return && pc ? pc - 1 : pc, &sym->tab[j]);
	}
	*frames = sym->tab[j].frames;
	*n = sym->tab[j].nframes;
}

const char *symbolize_format(const struct sym_frame *f, char *buf, size_t n)
{
	const char *base = f->module ? strrchr(f->module, '/') : NULL;

	base = base ? base + 1 : f->module;
	const char *fn = f->demangled ? f->demangled : f->function;

	if (fn && f->file)
		snprintf(buf, n, "%s (%s:%d)%s", fn, f->file, f->line,
			 f->inlined ? " [inlined]" : "");
	else if (fn)
		snprintf(buf, n, "%s (%s)", fn, base ? base : "?");
	else if (base)
		snprintf(buf, n, "0x%" PRIx64 " (%s+0x%" PRIx64 ")", f->pc, base, f->module_offset);
	else
		snprintf(buf, n, "0x%" PRIx64 " (no module: JIT or generated code)", f->pc);
	return buf;
}
