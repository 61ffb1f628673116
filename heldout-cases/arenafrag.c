/* 8 worker threads, each with its own glibc arena, malloc and free mixed sizes;
 * every 64th small block is kept (bounded per thread, replaced in a ring), which
 * pins the arenas' tops. Not a leak: live data is bounded. args: lifetime_s */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static time_t end;

static void *worker(void *arg)
{
	enum { KEEP = 2048 };
	void **keep = calloc(KEEP, sizeof(*keep));
	void *tmp[256];
	unsigned seed = (unsigned)(long)arg, k = 0;

	while (time(NULL) < end) {
		for (int i = 0; i < 256; i++) {
			size_t sz = (rand_r(&seed) % 4 == 0) ? 8192 + rand_r(&seed) % 60000 : 32 + rand_r(&seed) % 1000;
			tmp[i] = malloc(sz);
			memset(tmp[i], 1, sz);
		}
		for (int i = 0; i < 256; i++) {
			if (i % 64 == 0) {
				free(keep[k % KEEP]);
				keep[k++ % KEEP] = tmp[i];
			} else {
				free(tmp[i]);
			}
		}
		usleep(2000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[8];

	end = time(NULL) + atol(argv[1]);
	for (long i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	return 0;
}
