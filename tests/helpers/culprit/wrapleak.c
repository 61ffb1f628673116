/*
 * wrapleak: a C program that leaks through allocation wrappers, for the
 * culprit tests (tests/t3030-report-culprit.sh). Built by the test (-O0 -g),
 * and stripped there for the unnamed-frame case.
 *
 * Usage: wrapleak strdup|wrap ROUNDS
 *   strdup: remember_name() keeps a strdup of a 4 KiB string each round;
 *   wrap:   load_users(), load_orders() and load_items() each keep a block
 *           made by my_make_buf(), a wrapper of malloc that no list names,
 *           each round (3, 1 and 1 KiB).
 * A round every 4 ms (about 1 MiB/s); the bytes kept depend on ROUNDS only,
 * not on how fast a loaded machine runs it. Exits 0 after ROUNDS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void **kept;
static size_t nkept, akept;

static void keep(void *p)
{
	if (nkept == akept) {
		akept = akept ? 2 * akept : 1024;
		kept = realloc(kept, akept * sizeof(*kept));
		if (!kept)
			abort();
	}
	kept[nkept++] = p;
}

__attribute__((noinline)) static void remember_name(const char *name)
{
	char *p = strdup(name);

	if (!p)
		abort();
	keep(p);
}

__attribute__((noinline)) static void *my_make_buf(size_t size)
{
	void *p = malloc(size);

	if (!p)
		abort();
	memset(p, 0x5a, size);
	return p;
}

__attribute__((noinline)) static void load_users(void)
{
	keep(my_make_buf(3072));
}

__attribute__((noinline)) static void load_orders(void)
{
	keep(my_make_buf(1024));
}

__attribute__((noinline)) static void load_items(void)
{
	keep(my_make_buf(1024));
}

int main(int argc, char **argv)
{
	static char name[4096];
	struct timespec tick = { 0, 4000000 };
	long rounds;
	int wrap;

	if (argc != 3 || (strcmp(argv[1], "strdup") && strcmp(argv[1], "wrap"))) {
		fprintf(stderr, "usage: wrapleak strdup|wrap ROUNDS\n");
		return 2;
	}
	wrap = !strcmp(argv[1], "wrap");
	memset(name, 'n', sizeof(name) - 1);
	rounds = atol(argv[2]);
	for (long i = 0; i < rounds; i++) {
		if (wrap) {
			load_users();
			load_orders();
			load_items();
		} else {
			remember_name(name);
		}
		nanosleep(&tick, NULL);
	}
	printf("kept %zu blocks\n", nkept);
	return 0;
}
