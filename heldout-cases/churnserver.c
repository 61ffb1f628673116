/* A healthy request loop: parse buffers, a bounded connection table, everything
 * freed. args: requests/s lifetime_s */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct conn { char *buf; size_t len; };

int main(int argc, char **argv)
{
	int rate = atoi(argv[1]);
	time_t end = time(NULL) + atol(argv[2]);
	struct conn table[512] = { { 0 } };
	unsigned long n = 0;

	while (time(NULL) < end) {
		for (int i = 0; i < rate / 10; i++, n++) {
			struct conn *c = &table[n % 512];
			char *req = malloc(4096 + n % 8192);

			memset(req, 'r', 4096);
			free(c->buf);
			c->len = 1024 + n % 3000;
			c->buf = malloc(c->len);
			memcpy(c->buf, req, c->len);
			free(req);
		}
		usleep(100000);
	}
	return 0;
}
