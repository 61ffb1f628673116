#!/bin/sh
# offheap jcmd failures: each a clear message, exit 1 (2 for usage), no hang, and no signal
# to a process that is not a JVM or that refuses attach.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JAVA=$JDK17/java

NOPID=$(dead_pid)

test_expect_success 'no such process' '
	test_exit_code 1 offheap jcmd $NOPID VM.version >out 2>err &&
	echo "offheap: error: no process $NOPID" >want &&
	cmp want err && test_must_fail test -s out
'

test_expect_success 'usage errors exit 2' '
	test_exit_code 2 offheap jcmd 2>err && grep "missing PID" err &&
	test_exit_code 2 offheap jcmd $$ 2>err && grep "missing the command" err &&
	test_exit_code 2 offheap jcmd --timeout soon $$ VM.version 2>err &&
	grep "^offheap: error: --timeout takes a duration from 1ms to 1h, not .soon.$" err &&
	test_exit_code 2 offheap jcmd --bogus 2>err &&
	offheap jcmd --help >help && grep "^Examples:" help
'

test_expect_success 'not a JVM: refused before any signal' '
	start_bg sleep 60 &&
	SPID=$BG_PID &&
	wait_for 5 "grep -q sleep /proc/$SPID/comm" &&
	test_exit_code 1 offheap jcmd $SPID VM.version >out 2>err &&
	grep "^offheap: error: process $SPID is not a HotSpot JVM" err &&
	grep "^hint: " err &&
	grep "^State:.*sleeping" /proc/$SPID/status &&
	! test -e /tmp/.attach_pid$SPID &&
	stop_bg $SPID
'

test_expect_success 'an unsafe socket where the JVM socket should be is refused' '
	start_bg sleep 60 &&
	SPID=$BG_PID &&
	mkfifo /tmp/.java_pid$SPID &&
	test_exit_code 1 offheap jcmd $SPID VM.version >out 2>err;
	rc=$?;
	rm -f /tmp/.java_pid$SPID;
	stop_bg $SPID;
	test $rc = 0 && grep "refusing .*/tmp/.java_pid$SPID.: not a socket" err
'

test_expect_success 'OpenJ9 is recognised and refused with a reason' '
	start_bg sleep 60 &&
	SPID=$BG_PID &&
	mkdir -p /tmp/.com_ibm_tools_attach/$SPID &&
	: >/tmp/.com_ibm_tools_attach/$SPID/attachInfo &&
	test_exit_code 1 offheap jcmd $SPID VM.version >out 2>err;
	rc=$?;
	rm -rf /tmp/.com_ibm_tools_attach/$SPID;
	rmdir /tmp/.com_ibm_tools_attach 2>/dev/null;
	stop_bg $SPID;
	test $rc = 0 && grep "^offheap: error: process $SPID is an OpenJ9 JVM" err
'

# --proc-root (attach needs the live system) is refused by the dispatcher: t0130.

require_jdk17 java

# Both JVMs start together: JVM start-up is the slow part on 2 cores.
start_bg "$JAVA" -XX:+DisableAttachMechanism "$ROOT/tests/java/Idle.java" 120 "$TRASH/ready1" \
	>"$TRASH/jvm1.out" 2>&1
DPID=$BG_PID
start_bg "$JAVA" "$ROOT/tests/java/Idle.java" 120 "$TRASH/ready2" >"$TRASH/jvm2.out" 2>&1
GPID=$BG_PID
# -Xrs: the JVM leaves SIGQUIT alone (default action: core dump) and listens from the start.
start_bg env --default-signal=QUIT "$JAVA" -Xrs "$ROOT/tests/java/Idle.java" 120 "$TRASH/ready3" \
	>"$TRASH/jvm3.out" 2>&1
XPID=$BG_PID

test_expect_success 'attach disabled: refused at once, the JVM left alone' '
	wait_ready "$TRASH/ready1" 60 &&
	test_exit_code 1 offheap jcmd $DPID VM.version >out 2>err &&
	grep "^offheap: error: process $DPID does not accept attach requests: it runs with -XX:+DisableAttachMechanism" err &&
	grep "^hint: restart the JVM without -XX:+DisableAttachMechanism" err &&
	! grep "Full thread dump" "$TRASH/jvm1.out" &&
	! ls -a "$TRASH" | grep attach_pid
'
stop_bg "$DPID"
rm -f /tmp/hsperfdata_*/$DPID

test_expect_success 'JVM gone mid-way: noticed well before the timeout' '
	wait_ready "$TRASH/ready2" 60 &&
	kill -STOP $GPID &&
	# kill returns before the signal takes effect
	wait_for 10 "grep -q \"^State:.*T\" /proc/$GPID/status" &&
	start_bg sh -c "\"\$0\" jcmd --timeout 60s $GPID VM.version >out 2>err; echo \$? >rc" \
		"$OFFHEAP" &&
	# The trigger file is made before the wait for the stopped JVM to resume.
	wait_for 10 "test -e \"$TRASH/.attach_pid$GPID\"" &&
	stop_bg $GPID &&
	wait_for 10 "test -s rc" &&
	cat err &&
	test "$(cat rc)" = 1 &&
	grep "^offheap: error: process $GPID exited during the attach" err &&
	! ls -a "$TRASH" | grep attach_pid
'

rm -f /tmp/hsperfdata_*/$GPID

test_expect_success 'JVM gone before: no process' '
	test_exit_code 1 offheap jcmd $GPID VM.version 2>err &&
	grep "^offheap: error: no process $GPID" err
'

test_expect_success 'a -Xrs JVM: its socket is open from the start' '
	wait_ready "$TRASH/ready3" 60 &&
	test -S /tmp/.java_pid$XPID &&
	offheap jcmd $XPID VM.version >out &&
	grep "^JDK 17" out
'

test_expect_success 'a -Xrs JVM whose socket is gone: refused, never signalled' '
	cgt=$(sed -n "s/^SigCgt:[[:space:]]*//p" /proc/$XPID/status) &&
	ign=$(sed -n "s/^SigIgn:[[:space:]]*//p" /proc/$XPID/status) &&
	test $((0x$cgt & 4)) = 0 && test $((0x$ign & 4)) = 0 &&
	rm /tmp/.java_pid$XPID &&
	test_exit_code 1 offheap jcmd $XPID VM.version >out 2>err &&
	cat err &&
	grep "^offheap: error: process $XPID has no attach socket and does not catch SIGQUIT" err &&
	kill -0 $XPID &&
	grep "^State:[[:space:]]*S" /proc/$XPID/status &&
	! ls -a "$TRASH" | grep attach_pid
'
stop_bg "$XPID"
rm -f /tmp/hsperfdata_*/$XPID

test_done
