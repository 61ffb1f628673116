/*
 * filemapper: a C program that maps a new 1 MiB file of DIR (seg-N.dat) at
 * RATE a second and touches every page, keeping the mappings (keep) or
 * unmapping each one before the next (unmap, healthy); or (memfd) a new
 * 1 MiB memfd ("offheap-seg"), kept.
 *
 *   filemapper keep|unmap|memfd RATE DIR READY [LIFETIME_S=120]
 *
 * At most 2000 files: then it holds steady.
 */
/* memfd_create: _GNU_SOURCE, which the build defines */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SEG (1 << 20)

static __attribute__((noinline)) void *map_segment(const char *dir, int i)
{
	char path[4096];
	void *m;
	int fd;

	snprintf(path, sizeof(path), "%s/seg-%d.dat", dir, i);
	fd = dir ? open(path, O_RDWR | O_CREAT | O_TRUNC, 0600) : memfd_create("offheap-seg", 0);
	if (fd < 0 || ftruncate(fd, SEG)) {
		perror(path);
		exit(1);
	}
	m = mmap(NULL, SEG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED) {
		perror("filemapper: mmap");
		exit(1);
	}
	for (size_t p = 0; p < SEG; p += 4096)
		((volatile char *)m)[p] = 1;
	return m;
}

int main(int argc, char **argv)
{
	int keep, memfd, rate;
	time_t end;
	FILE *f;

	if (argc < 5 ||
	    (strcmp(argv[1], "keep") && strcmp(argv[1], "unmap") && strcmp(argv[1], "memfd")) ||
	    (rate = atoi(argv[2])) < 1 || rate > 1000) {
		fprintf(stderr, "usage: filemapper keep|unmap|memfd RATE DIR READY [LIFETIME_S]\n");
		return 2;
	}
	keep = strcmp(argv[1], "unmap") != 0;
	memfd = !strcmp(argv[1], "memfd");
	end = time(NULL) + (argc > 5 ? atol(argv[5]) : 120);
	f = fopen(argv[4], "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	for (int i = 0; time(NULL) < end; i++) {
		struct timespec gap = { 0, 1000000000L / rate };

		if (i < 2000) {
			void *m = map_segment(memfd ? NULL : argv[3], keep ? i : 0);

			if (!keep)
				munmap(m, SEG);
		}
		nanosleep(&gap, NULL);
	}
	return 0;
}
