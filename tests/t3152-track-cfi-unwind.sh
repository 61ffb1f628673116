#!/bin/sh
# liboffheap.so's own CFI unwinder (preload/cfi.c) against libunwind, the
# referee: build/liboffheap-check.so unwinds every exact-mode stack both ways
# and counts the stacks that differ in any frame, on real Debian programs
# (built without frame pointers: git, python3, sqlite3) and on a helper that
# allocates in signal handlers, on the thread's stack and on an alternate
# one, and on a loop whose signals land in PLT stubs. Then: the signal leak is charged through the signal frame to main; code
# in no module (JIT) ends the stack cleanly; dlopen of a bare name still finds
# the library through the caller's RUNPATH (the dlopen hook is transparent).
. "$(dirname "$0")/test-lib.sh"

CHECK="$BUILD/liboffheap-check.so"
UNWINDEE="$BUILD/helpers/unwindee"

# checked NAME CMD...: CMD under the checking tracker, exact; every process it
# ran printed its count, at least one stack was compared, none differed.
checked() {
	_name=$1
	shift
	OFFHEAP_OUT="$TRASH/$_name.shm" OFFHEAP_SAMPLE=0 OFFHEAP_CHECK_SHOW=1 \
		LD_PRELOAD="$CHECK" "$@" >"$_name.out" 2>"$_name.err" &&
	grep "^walk check:" "$_name.err" >"$_name.counts" &&
	cat "$_name.counts" &&
	! grep -v "^walk check: [0-9]* match, 0 mismatch$" "$_name.counts" &&
	test "$(awk '{ s += $3 } END { print s }' "$_name.counts")" -ge 100
}

test_expect_success 'the checking tracker is built' '
	test -f "$CHECK" && test -x "$UNWINDEE"
'

test_expect_success 'git log -p: every stack equals libunwind'"'"'s' '
	git init -q repo &&
	for i in 1 2 3 4 5 6; do
		seq 1 $((i * 300)) >repo/f$i &&
		git -C repo add f$i &&
		git -C repo -c user.name=t -c user.email=t@t commit -q -m "c$i" || return 1
	done &&
	checked git git -C repo log -p &&
	grep -q "^+1800$" git.out
'

test_expect_success 'python3: every stack equals libunwind'"'"'s' '
	checked py python3 -c "
import json
d = {str(i): [i] * (i % 7) for i in range(3000)}
s = json.dumps(d)
print(len(json.loads(s)))
" &&
	grep -q "^3000$" py.out
'

test_expect_success 'sqlite3: every stack equals libunwind'"'"'s' '
	checked sq sqlite3 :memory: "CREATE TABLE t(x, y);
		INSERT INTO t SELECT value, hex(randomblob(20)) FROM generate_series(1, 3000);
		CREATE INDEX ty ON t(y); SELECT count(*) FROM t;" &&
	grep -q "^3000$" sq.out
'

test_expect_success 'signal handlers: every stack equals libunwind'"'"'s' '
	checked sig "$UNWINDEE" signal 200 &&
	grep -q "^ok 200$" sig.out
'

# A loop that is mostly a call through the PLT (toupper is glibc's inline
# lookup through __ctype_toupper_loc, a function of a few instructions):
# interrupted at random, some signals land in the PLT stub itself, whose CFA
# is a DWARF expression of rip (by hand: 53 of 2000 had rip in the stub).
cat >plt.c <<'CEOF'
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static volatile int handled;
static const int rounds = 2000;
static pthread_t main_thread;
static void *keep[64];

static void on_signal(int sig)
{
	(void)sig;
	free(keep[handled % 64]);
	keep[handled % 64] = malloc(64);
	handled++;
}

static void *signaller(void *arg)
{
	struct timespec pause = { 0, 200000 };

	for (int i = 0; i < rounds; i++) {
		pthread_kill(main_thread, SIGUSR1);
		for (int w = 0; handled <= i && w < 50000; w++)
			nanosleep(&pause, NULL);
		if (handled <= i) {
			fprintf(stderr, "signal %d not handled\n", i);
			exit(1);
		}
	}
	return arg;
}

int main(void)
{
	volatile int c = 'a';
	unsigned long x = 0;
	pthread_t t;

	main_thread = pthread_self();
	signal(SIGUSR1, on_signal);
	if (pthread_create(&t, NULL, signaller, NULL))
		return 1;
	while (handled < rounds)
		x += (unsigned long)toupper(c);
	pthread_join(t, NULL);
	printf("handled %d %lu\n", handled, x & 0);
	return 0;
}
CEOF

test_expect_success 'signals into PLT stubs: every stack equals libunwind'"'"'s' '
	cc -O2 -g -o plt plt.c -lpthread -Wl,-z,lazy &&
	checked plt ./plt &&
	grep -q "^handled 2000 0$" plt.out &&
	test "$(awk "{ s += \$3 } END { print s }" plt.counts)" -ge 2000
'

# Stacks that share a part and differ elsewhere, as the stack tails meet
# them: the same frames through left or right and under one or other (each
# pair of the same frame size, so the frames above them sit in the same slots
# with other return addresses), under 0..4 recursive frames, without frame
# pointers. A reused tail's frames must still be the unwinder's.
cat >tails.c <<'CEOF'
#include <stdio.h>
#include <stdlib.h>

static void *keep[256];
static volatile int sink;

__attribute__((noinline)) static void *leaf(int n)
{
	void *p = malloc(16 + (unsigned)n % 64);

	sink += n;
	return p;
}

__attribute__((noinline)) static void *mid(int n)
{
	void *p = leaf(n);

	sink++;
	return p;
}

__attribute__((noinline)) static void *left(int n)
{
	void *p = mid(n);

	sink += 2;
	return p;
}

__attribute__((noinline)) static void *right(int n)
{
	void *p = mid(n);

	sink += 3;
	return p;
}

__attribute__((noinline)) static void *deep(int d, int n)
{
	void *p = d ? deep(d - 1, n) : (n & 1 ? left(n) : right(n));

	sink++;
	return p;
}

__attribute__((noinline)) static void *one(int i)
{
	void *p = i % 3 ? deep(i % 5, i / 3) : i & 1 ? left(i) : right(i);

	sink += 4;
	return p;
}

__attribute__((noinline)) static void *other(int i)
{
	void *p = i % 3 ? deep(i % 5, i / 3) : i & 1 ? left(i) : right(i);

	sink += 5;
	return p;
}

int main(void)
{
	for (int i = 0; i < 6000; i++) {
		free(keep[i % 256]);
		keep[i % 256] = i / 7 % 2 ? one(i) : other(i);
	}
	printf("done\n");
	return 0;
}
CEOF

test_expect_success 'stack tails that differ inside: every stack equals libunwind'"'"'s' '
	cc -O2 -g -fomit-frame-pointer -o tails tails.c &&
	checked tails ./tails &&
	grep -q "^done$" tails.out &&
	test "$(awk "{ s += \$3 } END { print s }" tails.counts)" -ge 6000
'

test_expect_success 'the check can fail: a wrong rule is caught' '
	OFFHEAP_OUT="$TRASH/p.shm" OFFHEAP_SAMPLE=0 OFFHEAP_CHECK_POISON=1 \
		LD_PRELOAD="$CHECK" "$UNWINDEE" signal 50 2>err >out &&
	cat err &&
	grep -q "^walk check: [0-9]* match, [1-9][0-9]* mismatch$" err
'

# frames NAME FUNCTION: the functions of the stack charged for FUNCTION's live
# bytes in recording NAME.db, innermost first, one per line; fails unless
# FUNCTION's site holds exactly the bytes given.
frames() {
	"$OFFHEAP" report "$1.db" --top 100 --json >"$1.rep" &&
	python3 -c "
import json, sys
d = json.load(open(\"$1.rep\"))
sites = [t for t in d[\"top\"] if t[\"frames\"] and t[\"frames\"][0][\"function\"] == \"$2\"]
assert len(sites) >= 1, [t[\"frames\"][:1] for t in d[\"top\"]]
live = sum(t[\"live_bytes\"] for t in sites)
assert live == $3, live
for f in sites[0][\"frames\"]:
	print(f[\"function\"])
" >"$1.frames" &&
	cat "$1.frames"
}

test_expect_success 'recorded: signal leaks are charged through the signal frame to main' '
	"$OFFHEAP" record --exact -o sig.db -- "$UNWINDEE" signal 100 >out &&
	grep -q "^ok 100$" out &&
	frames sig sig_leak $((100 * 4096)) &&
	grep -q "^on_signal$" sig.frames &&
	grep -q "^spin_leaf$" sig.frames &&
	grep -q "^busy$" sig.frames &&
	grep -q "^main$" sig.frames
'

test_expect_success 'recorded: a stack through code in no module ends there, cleanly' '
	"$OFFHEAP" record --exact -o jit.db -- "$UNWINDEE" jit 300 >out &&
	grep -q "^ok 300$" out &&
	frames jit jit_alloc $((300 * 512)) &&
	! grep -q "^main$" jit.frames
'

cat >plug.c <<'CEOF'
int plug_answer(void) { return 42; }
CEOF
cat >opener.c <<'CEOF'
#include <dlfcn.h>
#include <stdio.h>
int main(void)
{
	void *h = dlopen("libplug.so", RTLD_NOW);
	int (*f)(void);

	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 1;
	}
	f = (int (*)(void))dlsym(h, "plug_answer");
	printf("answer %d\n", f ? f() : -1);
	return dlclose(h);
}
CEOF

test_expect_success 'dlopen of a bare name searches the caller'"'"'s RUNPATH' '
	mkdir -p plugins &&
	cc -O2 -fPIC -shared -o plugins/libplug.so plug.c &&
	cc -O2 -o opener opener.c -Wl,--enable-new-dtags -Wl,-rpath,"\$ORIGIN/plugins" -ldl &&
	./opener >plain.out &&
	OFFHEAP_OUT="$TRASH/o.shm" OFFHEAP_SAMPLE=0 LD_PRELOAD="$BUILD/liboffheap.so" \
		./opener >tracked.out &&
	grep -q "^answer 42$" tracked.out
'

test_done
