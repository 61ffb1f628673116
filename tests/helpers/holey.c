/*
 * holey: maps 16 pages filled with 0xab, makes pages 4 and 5 PROT_NONE,
 * unmaps pages 12 and 13, writes STATUS_FILE ("pid N", "addr 0xADDR"), then sleeps (at most
 * LIFETIME seconds).
 *
 *   holey STATUS_FILE [LIFETIME]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long pg = sysconf(_SC_PAGESIZE);
	char tmp[4096];
	char *p;
	FILE *f;

	if (argc < 2) {
		fprintf(stderr, "usage: holey STATUS_FILE [LIFETIME]\n");
		return 2;
	}
	p = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memset(p, 0xab, 16 * pg);
	if (mprotect(p + 4 * pg, 2 * pg, PROT_NONE) || munmap(p + 12 * pg, 2 * pg))
		return 1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
	f = fopen(tmp, "w");
	if (!f)
		return 1;
	fprintf(f, "pid %d\naddr %p\n", (int)getpid(), (void *)p);
	if (fclose(f) || rename(tmp, argv[1]))
		return 1;
	sleep(argc > 2 ? (unsigned)atoi(argv[2]) : 120);
	return 0;
}
