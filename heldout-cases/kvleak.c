/* A config/session store with its own chained hash table. set() on an existing
 * key replaces the value and strdup's the key again, leaking the old key copy;
 * new sessions keep arriving. args: sets/s lifetime_s */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ent { char *key, *val; struct ent *next; };
static struct ent *tab[4096];

static unsigned hash(const char *s) { unsigned h = 5381; while (*s) h = h * 33 + (unsigned char)*s++; return h % 4096; }

static void kv_set(const char *k, const char *v)
{
	unsigned h = hash(k);
	struct ent *e;

	for (e = tab[h]; e; e = e->next)
		if (!strcmp(e->key, k)) {
			free(e->val);
			e->val = strdup(v);
			e->key = strdup(k);	/* bug: the old key is lost */
			return;
		}
	e = malloc(sizeof(*e));
	e->key = strdup(k);
	e->val = strdup(v);
	e->next = tab[h];
	tab[h] = e;
}

int main(int argc, char **argv)
{
	int rate = atoi(argv[1]);
	time_t end = time(NULL) + atol(argv[2]);
	char k[256], v[64];
	unsigned long n = 0;

	while (time(NULL) < end) {
		for (int i = 0; i < rate / 10; i++, n++) {
			snprintf(k, sizeof(k), "session:%lu:user-agent=Mozilla/5.0 (X11; Linux x86_64) padding padding padding padding padding padding padding", n % 5000);
			snprintf(v, sizeof(v), "%lu", n);
			kv_set(k, v);
		}
		usleep(100000);
	}
	return 0;
}
