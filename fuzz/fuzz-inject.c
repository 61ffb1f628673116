/*
 * fuzz-inject: the ELF files inject reads from a target's root (its libc):
 * inject_elf_symbol and inject_elf_first_load. A container's libc is as
 * hostile as the container.
 */
#include "fuzz.h"

#include "inject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"dlopen", "dlsym", "malloc", "__libc_dlopen_mode", ""};
	uint8_t *copy = malloc(size ? size : 1);
	uint64_t value, sz;

	/* an exact-size buffer, so ASan sees a read past the file's end */
	memcpy(copy, data, size);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		inject_elf_symbol(copy, size, names[i], &value, &sz);
	inject_elf_first_load(copy, size, &value);
	free(copy);
	return 0;
}
