/* fuzz: what the libFuzzer harnesses (fuzz/fuzz-*.c) share. */
#ifndef OFFHEAP_FUZZ_H
#define OFFHEAP_FUZZ_H

/*
 * Each harness is one LLVMFuzzerTestOneInput over one parser family, linked
 * against the core (src/ without offheap.c) built with ASan and UBSan
 * (make fuzz-build). Inputs are hostile bytes: every harness hands them to
 * the parser exactly as offheap would get them (a buffer of len bytes, a
 * NUL-terminated string, or a file), then releases everything, so leaks
 * show too.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A malloc'd NUL-terminated copy of the input (a NUL inside ends the string early). */
static inline char *fuzz_strdup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * A malloc'd exact copy of the input in a buffer of its own size, so that
 * ASan sees a read one byte past the end (libFuzzer's own buffer is exact
 * too; the copy keeps a parser from writing into it).
 */
static inline char *fuzz_dup(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	return s;
}

/*
 * For the harnesses that read an SQLite image: one thread only, so SQLite
 * needs neither its mutexes nor its memory statistics (a lock around
 * every allocation). Called from LLVMFuzzerInitialize, before SQLite
 * initialises; about 8 % more inputs a second under ASan.
 * ASan's quarantine is cut from 256 to 16 MiB for them: one input's image
 * and page cache come and go in a few MiB, so a freed block is still
 * poisoned for the rest of its input, but the allocator no longer faults
 * in fresh pages for every input (a tenth of the harness's CPU went to
 * clearing them). ASAN_OPTIONS given at run time still override it.
 */
#define FUZZ_SQLITE_SETUP()                                              \
	const char *__asan_default_options(void);                         \
	const char *__asan_default_options(void)                          \
	{                                                                 \
		return "quarantine_size_mb=16";                           \
	}                                                                 \
	int LLVMFuzzerInitialize(int *argc, char ***argv);                \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                 \
	{                                                                 \
		(void)argc;                                               \
		(void)argv;                                               \
		sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);               \
		sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);               \
		return 0;                                                 \
	}

static char fuzz_dir[4096];

/* Removes the temporary directory and what the parsers left in it (journals). */
static void fuzz_dir_remove(void)
{
	char path[4096 + 256];
	struct dirent *de;
	DIR *d = opendir(fuzz_dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(fuzz_dir);
}

/*
 * Writes the input to a file in a temporary directory of this process
 * (removed at exit) and returns its path (static storage).
 */
static inline const char *fuzz_write_file(const uint8_t *data, size_t size, const char *name)
{
	static char path[4096 + 64];
	FILE *f;

	if (!fuzz_dir[0]) {
		const char *tmp = getenv("TMPDIR");

		snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/offheap-fuzz-XXXXXX", tmp ? tmp : "/tmp");
		if (!mkdtemp(fuzz_dir))
			abort();
		atexit(fuzz_dir_remove);
	}
	snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
	unlink(path);
	f = fopen(path, "we");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	if (fclose(f))
		abort();
	return path;
}

#endif
