/* A logger whose worker thread "ring-writer" maps a fresh 1 MiB segment each
 * time the ring wraps and forgets to munmap the previous one. args: MiB/s lifetime_s */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static int rate;
static time_t end;

static void *segment_new(void)
{
	void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		abort();
	memset(p, 'x', 1 << 20);
	return p;
}

static void *writer(void *arg)
{
	prctl(PR_SET_NAME, "ring-writer");
	while (time(NULL) < end) {
		for (int i = 0; i < rate; i++)
			segment_new();	/* the old segment is never unmapped */
		sleep(1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	rate = atoi(argv[1]);
	end = time(NULL) + atol(argv[2]);
	pthread_create(&t, NULL, writer, NULL);
	pthread_join(t, NULL);
	return 0;
}
