#!/bin/sh
# offheap record -p PID, the injector alone: a stand-in for liboffheap.so's attach
# interface (tests/helpers/injstub) logs what it is called with. The arguments arrive
# intact, offheap_detach is called at the end, --stop ends a recorder from another
# shell, and the target's computation, which spans every injection, comes out right:
# registers and interrupted system calls were restored.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

setup_or_fail "cc builds the stand-in tracker" \
	cc -shared -fPIC -O2 -o "$TRASH/injstub.so" "$ROOT/tests/helpers/injstub/injstub.c"
OFFHEAP_TEST_LIBRARY=$TRASH/injstub.so
export OFFHEAP_TEST_LIBRARY

INJSTUB_LOG=$TRASH/stub.log start_bg "$HELPERS/attachee" --ready ready --until until --lifetime 100
PID=$BG_PID

test_expect_success 'the target runs' '
	wait_ready ready
'

test_expect_success 'record -p: offheap_attach gets the file, the sampling and our pid; detach follows' '
	"$OFFHEAP" record -p $PID -d 300ms -o one.db 2>err &&
	cat err stub.log &&
	grep -q "^offheap record: attached to process $PID (by ptrace); stop with Ctrl-C or '\''offheap record --stop $PID'\''$" err &&
	grep -q "^offheap record: detached from process $PID; the tracker stays loaded in it, inert$" err &&
	test $(wc -l <stub.log) -eq 2 &&
	grep -Eq "^attach out=/tmp/offheap-track\.[A-Za-z0-9]{6},sample=524288,pid=[0-9]+$" stub.log &&
	test "$(sed -n 2p stub.log)" = detach &&
	test -s one.db
'

test_expect_success '--exact and --sample reach the tracker' '
	: >stub.log &&
	"$OFFHEAP" record -p $PID -d 100ms --exact -o exact.db 2>err &&
	"$OFFHEAP" record -p $PID -d 100ms --sample 64k -o sampled.db 2>err &&
	cat stub.log &&
	grep -q ",sample=0,pid=" stub.log &&
	grep -q ",sample=65536,pid=" stub.log &&
	test $(grep -c "^detach$" stub.log) -eq 2
'

test_expect_success 'record --stop PID ends the recorder of PID, which detaches' '
	: >stub.log &&
	start_bg "$OFFHEAP" record -p $PID -o stopped.db &&
	REC=$BG_PID &&
	wait_for 10 "grep -q ^attach stub.log" &&
	"$OFFHEAP" record --stop $PID &&
	wait $REC &&
	test "$(tail -n 1 stub.log)" = detach &&
	test ! -e /tmp/offheap-$(id -u)/record-$PID.pid &&
	test -s stopped.db
'

test_expect_success 'record --stop with no recorder for the pid fails and says so' '
	test_exit_code 1 "$OFFHEAP" record --stop $PID 2>err &&
	cat err &&
	grep -q "^offheap: error: no '\''offheap record -p $PID'\'' is running as this user$" err
'

# A recorder killed by SIGKILL leaves its pid file; by the next --stop its PID may be
# another offheap's (pid_max may be 32768), which the old executable check let through.
test_expect_success 'record --stop leaves alone the offheap that a stale pid file names' '
	start_bg "$OFFHEAP" watch $PID -i 1s -o watch.db --plain >/dev/null 2>&1 &&
	OTHER=$BG_PID &&
	wait_for 10 "readlink /proc/$OTHER/exe | grep -q /offheap\$" &&
	printf "%s\n" $OTHER >/tmp/offheap-$(id -u)/record-$PID.pid &&
	test_exit_code 1 "$OFFHEAP" record --stop $PID 2>err &&
	cat err &&
	grep -q "^offheap: error: no '\''offheap record -p $PID'\'' is running as this user$" err &&
	kill -0 $OTHER &&
	test ! -e /tmp/offheap-$(id -u)/record-$PID.pid &&
	stop_bg $OTHER
'

test_expect_success 'the target exits while recorded: the recording ends, no detach is tried' '
	: >stub.log &&
	INJSTUB_LOG=$TRASH/stub.log start_bg "$HELPERS/attachee" --ready eready --until euntil \
		--lifetime 100 &&
	EPID=$BG_PID &&
	wait_ready eready &&
	start_bg "$OFFHEAP" record -p $EPID -o exited.db 2>eerr &&
	REC=$BG_PID &&
	wait_for 10 "grep -q ^attach stub.log" &&
	touch euntil &&
	test_exit_code 0 wait $EPID &&
	test_exit_code 0 wait $REC &&
	cat eerr &&
	grep -q "^offheap record: process $EPID exited$" eerr &&
	! grep -q "^detach" stub.log &&
	test ! -e /tmp/offheap-$(id -u)/record-$EPID.pid
'

test_expect_success '20 attach/detach cycles: every one detaches, the target still computes right' '
	: >stub.log &&
	i=0 &&
	while [ $i -lt 20 ]; do
		"$OFFHEAP" record -p $PID -d 100ms -o cycle.db -f 2>err || { cat err; return 1; }
		i=$((i + 1))
	done &&
	test $(grep -c "^attach " stub.log) -eq 20 &&
	test $(grep -c "^detach$" stub.log) -eq 20 &&
	touch until &&
	test_exit_code 0 wait $PID
'

test_expect_success 'a target that mallocs and frees all the time: 20 cycles, no deadlock, right answer' '
	: >stub.log &&
	INJSTUB_LOG=$TRASH/stub.log start_bg "$HELPERS/attachee" --ready cready --until cuntil \
		--churn 2000 --lifetime 100 &&
	CPID=$BG_PID &&
	wait_ready cready &&
	i=0 &&
	while [ $i -lt 20 ]; do
		"$OFFHEAP" record -p $CPID -d 100ms -o churn.db -f 2>err || { cat err; return 1; }
		i=$((i + 1))
	done &&
	test $(grep -c "^detach$" stub.log) -eq 20 &&
	touch cuntil &&
	test_exit_code 0 wait $CPID
'

test_done
