#!/bin/sh
# offheap record -p refuses what it cannot attach to, with the reason, a hint and exit
# code 1, leaving neither the target changed nor a recording behind: no such process,
# another tracer, another user's process, a statically linked program; a target killed
# in the middle of the attach ends the recorder with an error; a recorder killed there
# leaves a target that finishes the attach and goes on. 'record 1234' hints at -p.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

setup_or_fail "cc builds the stand-in tracker" \
	cc -shared -fPIC -O2 -o "$TRASH/injstub.so" "$ROOT/tests/helpers/injstub/injstub.c"
setup_or_fail "cc builds a statically linked target" \
	cc -static -O2 -o "$TRASH/static-attachee" "$ROOT/tests/helpers/attachee.c" -lpthread -lm
OFFHEAP_TEST_LIBRARY=$TRASH/injstub.so
export OFFHEAP_TEST_LIBRARY

test_expect_success 'no such process' '
	test_exit_code 1 "$OFFHEAP" record -p 4194304 -o none.db 2>err &&
	cat err &&
	test "$(cat err)" = "offheap: error: no process 4194304" &&
	test ! -e none.db
'

test_expect_success 'usage: -p with a command, -d without -p, --stop with a command' '
	test_exit_code 2 "$OFFHEAP" record -p 1 -- true 2>err &&
	grep -q "^offheap: error: -p and a command exclude each other$" err &&
	test_exit_code 2 "$OFFHEAP" record -d 1s -- true 2>err &&
	grep -q "^offheap: error: -d goes with -p" err &&
	test_exit_code 2 "$OFFHEAP" record --stop 1 -- true 2>err &&
	grep -q "^offheap: error: --stop takes only the PID" err
'

INJSTUB_LOG=$TRASH/stub.log start_bg "$HELPERS/attachee" --ready ready --until until --lifetime 100
PID=$BG_PID

test_expect_success 'a bare number as the command hints at -p' '
	wait_ready ready &&
	test_exit_code 127 "$OFFHEAP" record -o bare.db $PID 2>err &&
	cat err &&
	grep -q "^offheap: error: cannot run '\''$PID'\'': No such file or directory$" err &&
	grep -q "^hint: to record the running process $PID, use '\''offheap record -p $PID'\''$" err
'

test_expect_success 'another tracer holds the target: refused, the target is left alone' '
	start_bg "$HELPERS/ptholder" $PID held 100 &&
	HOLDER=$BG_PID &&
	wait_ready held &&
	test_exit_code 1 "$OFFHEAP" record -p $PID -o traced.db 2>err &&
	cat err &&
	grep -q "^offheap: error: process $PID is already traced by process $HOLDER$" err &&
	grep -q "^hint: a debugger or strace holds it and a process has one tracer: detach it first$" err &&
	test ! -e traced.db &&
	test ! -e stub.log &&
	stop_bg $HOLDER
'

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	test_expect_success 'another user'\''s process, offheap not root: refused before ptrace' '
		nobody_dir &&
		mkdir -p "$NOBODY_DIR/out" && chown nobody "$NOBODY_DIR/out" &&
		test_exit_code 1 offheap_as_nobody record -p $PID -o "$NOBODY_DIR/out/other.db" 2>err &&
		cat err &&
		grep -q "^offheap: error: process $PID belongs to uid 0 and offheap runs as uid $(id -u nobody)$" err &&
		grep -q "^hint: run as the process owner or as root; " err &&
		test ! -e "$NOBODY_DIR/out/other.db"
	'
else
	test_skip "another user's process" "needs root and setpriv to run offheap as nobody"
fi

test_expect_success 'the target, no longer traced, computed right' '
	wait_for 10 "grep -q \"^TracerPid:[[:space:]]*0$\" /proc/$PID/status" &&
	touch until &&
	test_exit_code 0 wait $PID
'

test_expect_success 'a statically linked program: refused, with what to use instead' '
	start_bg "$TRASH/static-attachee" --ready sready --lifetime 100 &&
	SPID=$BG_PID &&
	wait_ready sready &&
	test_exit_code 1 "$OFFHEAP" record -p $SPID -o static.db 2>err &&
	cat err &&
	grep -q "^offheap: error: process $SPID has no libc in its memory map (statically linked?)$" err &&
	grep -q "^hint: the tracker can only be loaded into a dynamically linked program; '\''offheap trace $SPID'\'' follows the mmap calls of any program$" err &&
	test ! -e static.db &&
	stop_bg $SPID
'

test_expect_success 'the target killed in the middle of the attach: an error, no recording' '
	rm -f ready stub.log &&
	INJSTUB_LOG=$TRASH/stub.log INJSTUB_HANG=30 start_bg "$HELPERS/attachee" --ready ready --lifetime 100 &&
	HPID=$BG_PID &&
	wait_ready ready &&
	start_bg "$OFFHEAP" record -p $HPID -o killed.db 2>kerr &&
	REC=$BG_PID &&
	wait_for 10 "grep -q ^attach stub.log" &&
	kill -KILL $HPID &&
	test_exit_code 1 wait $REC &&
	cat kerr &&
	grep -q "^offheap: error: process $HPID exited during the injection$" kerr &&
	test ! -e killed.db &&
	# no pid file of this recorder (PIDs wrap: one a killed recorder left for an
	# earlier process of this PID may be there, naming another recorder)
	! grep -qx "$REC" /tmp/offheap-$(id -u)/record-$HPID.pid 2>/dev/null
'

test_expect_success 'offheap killed in the middle of the attach: the target finishes it and goes on' '
	rm -f ready stub.log &&
	INJSTUB_LOG=$TRASH/stub.log INJSTUB_HANG=2 start_bg "$HELPERS/attachee" --ready ready \
		--until until2 --lifetime 100 &&
	HPID=$BG_PID &&
	wait_ready ready &&
	start_bg "$OFFHEAP" record -p $HPID -o orphan.db &&
	REC=$BG_PID &&
	wait_for 10 "grep -q ^attach stub.log" &&
	kill -KILL $REC &&
	wait_for 10 "grep -q \"^TracerPid:[[:space:]]*0$\" /proc/$HPID/status" &&
	touch until2 &&
	test_exit_code 0 wait $HPID &&
	# what a recorder killed by SIGKILL cannot remove: its pid file and the shared file
	rm -f /tmp/offheap-$(id -u)/record-$HPID.pid "$(sed -n "s/^attach out=\([^,]*\),.*/\1/p" stub.log)"
'

test_done
