#!/bin/sh
# offheap report --format pprof: a gzipped profile.proto that 'go tool pprof'
# reads back: the leaking function on top with its exact live bytes, the
# alloc_space sample type, inlined frames as lines of one location, errors.
. "$(dirname "$0")/test-lib.sh"

cat >leak.c <<'CEOF'
#include <stdlib.h>
#include <string.h>
#include <time.h>
static inline __attribute__((always_inline)) void *fill_block(size_t n)
{
	char *p = malloc(n);
	if (p)
		memset(p, 3, n);
	return p;
}
__attribute__((noinline)) void *pp_leak_site(size_t n)
{
	return fill_block(n);
}
/* allocates more in total than the leak but frees it all */
__attribute__((noinline)) void pp_churn_site(int i)
{
	void *volatile p = malloc(50000 + i);
	memset(p, 1, 100);
	free(p);
}
int main(void)
{
	struct timespec ts = { 0, 20000000 };
	for (int i = 0; i < 25; i++) {
		if (!pp_leak_site(12288))
			return 1;
		pp_churn_site(i);
		nanosleep(&ts, NULL);
	}
	return 0;
}
CEOF

test_expect_success 'record a leaky program and write pprof' '
	cc -O2 -g -o leak leak.c &&
	"$OFFHEAP" record --exact -i 50ms -o leak.db -- ./leak &&
	"$OFFHEAP" report leak.db --format pprof -o leak.pb.gz &&
	gzip -t leak.pb.gz &&
	"$OFFHEAP" report leak.db --format pprof >stdout.pb.gz &&
	cmp leak.pb.gz stdout.pb.gz
'

test_expect_success '-o without pprof, a binary profile to a terminal, bad -o' '
	test_exit_code 2 "$OFFHEAP" report leak.db -o x.pb.gz &&
	test_exit_code 2 "$OFFHEAP" report leak.db --format protobuf &&
	test_exit_code 1 "$OFFHEAP" report leak.db --format pprof -o "$TRASH/no/such/dir/x.pb.gz" 2>err &&
	grep -q "cannot create" err &&
	if command -v script >/dev/null; then
		script -qec "\"$OFFHEAP\" report leak.db --format pprof" /dev/null >tty.out 2>&1
		test $? = 2 && grep -q "not writing a binary profile to a terminal" tty.out
	fi
'

if ! command -v go >/dev/null; then
	test_skip 'go tool pprof reads the profile' 'go is not installed (Debian golang-go)'
	test_done
fi
GOCACHE=$TRASH/gocache HOME=$TRASH
export GOCACHE HOME

test_expect_success 'go tool pprof -top: the leaking function on top, exact live bytes' '
	go tool pprof -top -unit=B leak.pb.gz >top 2>&1 &&
	cat top &&
	grep -q "^Type: inuse_space" top &&
	sed -n "/flat%/{n;p;}" top >first &&
	grep -q "^ *307200B .* fill_block (inline)$" first &&
	grep -q "307200B .*pp_leak_site$" top &&
	! grep -q pp_churn_site top
'

test_expect_success 'the inlined frame and its caller are one location' '
	go tool pprof -raw leak.pb.gz >raw 2>&1 &&
	grep -A1 " fill_block .*leak.c:" raw | tail -1 | grep -q "^  *pp_leak_site .*leak.c:" &&
	grep -q "^inuse_space/bytes\[dflt\] inuse_objects/count alloc_space/bytes alloc_objects/count" raw &&
	grep -q "^ *307200 *25 *307200 *25: " raw
'

test_expect_success '-sample_index=alloc_space: the churn allocated more' '
	go tool pprof -top -unit=B -sample_index=alloc_space leak.pb.gz >alloc 2>&1 &&
	cat alloc &&
	grep -q "^Type: alloc_space" alloc &&
	sed -n "/flat%/{n;p;}" alloc >first &&
	grep -q "^ *1250300B .* pp_churn_site$" first &&
	go tool pprof -top -sample_index=inuse_objects leak.pb.gz >objs 2>&1 &&
	grep -q "^ *25 .*fill_block" objs
'

test_done
