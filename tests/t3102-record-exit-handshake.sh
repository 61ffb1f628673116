#!/bin/sh
# A program that dlopens a library, allocates through it and exits within one
# interval: its frames in that library must still be named (the exit handshake
# lets the recorder read the module list before the process is gone). Also:
# huge and overflowing sizes under the tracker, and java -version unchanged.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

cat >plug.c <<'CEOF'
#include <stdlib.h>
void *plug_keep[64];
__attribute__((noinline)) void plug_alloc(int i) { plug_keep[i] = malloc(4096 + i); }
CEOF
cat >main.c <<'CEOF'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	void *h = dlopen(argv[1], RTLD_NOW);
	void (*f)(int);

	if (!h)
		return fprintf(stderr, "%s\n", dlerror()), 2;
	*(void **)&f = dlsym(h, "plug_alloc");
	for (int i = 0; i < 64; i++)
		f(i);
	return 0; /* no dlclose: the library is mapped until the end */
}
CEOF

test_expect_success 'build the fixture' '
	cc -O1 -g -fPIC -shared -o libplug.so plug.c && cc -O1 -g -o dlmain main.c -ldl
'

test_expect_success 'a library dlopened by a short-lived program is named in the report' '
	"$OFFHEAP" record --exact -o short.db -- ./dlmain "$TRASH/libplug.so" &&
	"$OFFHEAP" report short.db --top 0 >rep &&
	grep -q "plug_alloc (.*plug.c:3) libplug.so" rep &&
	! grep -q "^ *0x[0-9a-f]* in libplug.so" rep
'

cat >huge.c <<'CEOF'
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
int main(void)
{
	void *p = malloc(16), *q;
	int bad = 0;

	bad += malloc(SIZE_MAX) != NULL;
	bad += malloc((size_t)1 << 62) != NULL;
	bad += calloc(SIZE_MAX / 2, 4) != NULL;	/* overflows */
	bad += reallocarray(NULL, SIZE_MAX / 2, 4) != NULL;
	q = realloc(p, SIZE_MAX);
	bad += q != NULL;
	bad += posix_memalign(&q, 64, SIZE_MAX) != ENOMEM;
	bad += aligned_alloc(64, SIZE_MAX - 63) != NULL;
	bad += posix_memalign(&q, 3, 64) != EINVAL;	/* not a power of two */
	free(p);	/* the failed realloc left it allocated */
	printf("%s\n", bad ? "wrong" : "ok");
	return bad;
}
CEOF

test_expect_success 'huge and overflowing sizes fail as glibc says, under the tracker too' '
	cc -O0 -o huge huge.c &&
	./huge >plain.out && test "$(cat plain.out)" = ok &&
	"$OFFHEAP" record --exact -o huge.db -- ./huge >exact.out &&
	test "$(cat exact.out)" = ok &&
	"$OFFHEAP" record --sample 1 -o huge2.db -- ./huge >sampled.out &&
	test "$(cat sampled.out)" = ok
'

require_jdk17 java
JAVA=$JDK17/java
test_expect_success 'java -version prints the same under the tracker' '
	"$JAVA" -version >jplain 2>&1 &&
	"$OFFHEAP" record -o jvs.db -- "$JAVA" -version >jtracked 2>&1 &&
	diff -u jplain jtracked
'
test_expect_success 'java -version: libjvm.so frames are named' '
	"$OFFHEAP" record --exact -o jv.db -- "$JAVA" -version 2>/dev/null &&
	"$OFFHEAP" report jv.db --top 3 >jrep &&
	grep -q "JNI_CreateJavaVM libjvm.so" jrep &&
	grep -q "os::malloc" jrep
'

test_done
