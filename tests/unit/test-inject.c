/*
 * test-inject: the ELF reader inject uses on a target's libc, checked against the
 * dynamic loader's own answer in this process: the offset of dlopen, dlsym and
 * malloc in our libc file is what dladdr says; hostile and cut-short files fail.
 */
#include "tap.h"

#include "inject.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void *map_file(const char *path, size_t *len)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st))
		return NULL;
	*len = (size_t)st.st_size;
	p = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * name's offset in our libc as the loader sees it, against inject_elf_symbol's. The
 * symbol is looked up in libc itself: a sanitizer build interposes malloc and dlopen.
 */
static void check_symbol(void *libc, const void *elf, size_t len, uintptr_t base,
			 const char *name)
{
	void *addr = dlsym(libc, name);
	uint64_t value = 0, size = 0;
	char what[128];

	snprintf(what, sizeof(what), "%s: the offset dladdr gives", name);
	is_int(inject_elf_symbol(elf, len, name, &value, &size), 0, name);
	ok(addr && value == (uint64_t)((uintptr_t)addr - base), what);
	snprintf(what, sizeof(what), "%s: a function with a size", name);
	ok(size > 0, what);
}

int main(void)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	Dl_info info;
	size_t len = 0;
	void *elf;
	uint64_t value, size, vaddr;
	char junk[256];

	if (!libc || !dladdr(dlsym(libc, "dlopen"), &info) || !info.dli_fname) {
		ok(false, "dladdr finds our libc");
		return done_testing();
	}
	elf = map_file(info.dli_fname, &len);
	ok(elf != NULL, "our libc is readable");
	if (!elf)
		return done_testing();

	check_symbol(libc, elf, len, (uintptr_t)info.dli_fbase, "dlopen");
	check_symbol(libc, elf, len, (uintptr_t)info.dli_fbase, "dlsym");
	check_symbol(libc, elf, len, (uintptr_t)info.dli_fbase, "malloc");
	is_int(inject_elf_symbol(elf, len, "no_such_symbol_here", &value, &size), -ENOENT,
	       "an absent name");
	is_int(inject_elf_first_load(elf, len, &vaddr), 0, "a first PT_LOAD");
	is_u64(vaddr, 0, "a shared library's first segment is at 0");

	is_int(inject_elf_symbol(elf, 64, "dlopen", &value, &size), -ENOEXEC,
	       "the header alone: its section table is out of the file");
	memset(junk, 0, sizeof(junk));
	is_int(inject_elf_symbol(junk, sizeof(junk), "dlopen", &value, &size), -ENOEXEC,
	       "not an ELF file");
	is_int(inject_elf_first_load(junk, sizeof(junk), &vaddr), -ENOEXEC,
	       "not an ELF file has no segment");
	munmap(elf, len);
	return done_testing();
}
