#!/bin/sh
# A program that dlopens a library, allocates through it and exits within one
# interval: its frames in that library must still be named (the exit handshake
# lets the recorder read the module list before the process is gone).
. "$(dirname "$0")/test-lib.sh"

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

JAVA=/usr/bin/java
if [ -x "$JAVA" ]; then
	test_expect_success 'java -version: libjvm.so frames are named' '
		"$OFFHEAP" record --exact -o jv.db -- "$JAVA" -version 2>/dev/null &&
		"$OFFHEAP" report jv.db --top 3 >jrep &&
		grep -q "JNI_CreateJavaVM libjvm.so" jrep &&
		grep -q "os::malloc" jrep
	'
else
	test_skip 'java -version: libjvm.so frames are named' "no JDK at $JAVA"
fi

test_done
