#!/bin/sh
# offheap record -p on a process whose malloc is jemalloc (Debian's libjemalloc2 by
# LD_PRELOAD), not glibc's: the tracker binds to the malloc the process binds to
# (dlsym(RTLD_DEFAULT)), so it tracks jemalloc's blocks as it tracks glibc's: the leak is
# ranked first, and after the detach the program ends with the right answer.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
test -r $JEMALLOC || fail_all "libjemalloc2 is installed (scripts/setup-deps --test)" /dev/null

LD_PRELOAD=$JEMALLOC start_bg "$HELPERS/attachee" --ready ready --until until --lifetime 100 \
	--wait-lib liboffheap.so --attached attached --leak-size 65536 --leak-max 300
PID=$BG_PID

test_expect_success 'the target runs, with jemalloc as its malloc' '
	wait_ready ready &&
	grep -q "libjemalloc\.so\.2$" /proc/$PID/maps
'

test_expect_success 'attached while running: the leak through jemalloc is ranked first' '
	"$OFFHEAP" record -p $PID -d 3s -i 200ms --exact -o leak.db 2>err ||
		{ cat err; return 1; }
	cat err &&
	test -s attached &&
	grep -q "^offheap record: attached to process $PID (by ptrace); " err &&
	grep -q "^offheap record: detached from process $PID; " err &&
	"$OFFHEAP" report leak.db --top 1 >out &&
	cat out &&
	sed -n "/^#1/,/^\$/p" out >top &&
	grep -q attachee_leak_after_attach top
'

test_expect_success 'after the detach the target goes on and computes right' '
	touch until &&
	test_exit_code 0 wait $PID
'

test_done
