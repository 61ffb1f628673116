/*
 * anonhold: holds SIZE MiB of touched anonymous memory, writes READY_FILE, then sleeps
 * (at most LIFETIME seconds, default 120, so a test never leaves it behind).
 *
 *   anonhold MIB READY_FILE [LIFETIME]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t mib;
	char *p;
	FILE *f;

	if (argc < 3) {
		fprintf(stderr, "usage: anonhold MIB READY_FILE [LIFETIME]\n");
		return 2;
	}
	mib = strtoul(argv[1], NULL, 10);
	p = malloc(mib << 20);
	if (!p)
		return 1;
	memset(p, 0x5a, mib << 20);
	f = fopen(argv[2], "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", (int)getpid());
	fclose(f);
	sleep(argc > 3 ? (unsigned)atoi(argv[3]) : 120);
	return p[0] == 0x5a ? 0 : 1;
}
