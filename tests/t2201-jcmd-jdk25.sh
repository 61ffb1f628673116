#!/bin/sh
# offheap jcmd against a real Temurin 25 JVM (attach protocol 2, streaming): output byte for
# byte as JDK 25's jcmd; a JVM stopped before its first attach is waited for, never
# signalled, and prints no thread dump when it resumes.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JDK=$JDK25
have_jdk25 java jcmd || skip_all "no Temurin 25 in $JDK"

start_bg "$JDK/java" -Xmx64m "$ROOT/tests/java/Idle.java" 120 "$TRASH/ready" >"$TRASH/jvm.out" 2>&1
JPID=$BG_PID
wait_ready "$TRASH/ready" 60 || fail_all "the JVM starts within 60 s" "$TRASH/jvm.out"

test_expect_success 'stopped before the first attach: times out, sends no signal' '
	kill -STOP $JPID &&
	# kill returns before the signal takes effect
	wait_for 10 "grep -q \"^State:.*T\" /proc/$JPID/status" &&
	test_exit_code 1 offheap jcmd --timeout 1s $JPID VM.version >out 2>err;
	rc=$?;
	grep SigPnd /proc/$JPID/status >pending;
	grep ShdPnd /proc/$JPID/status >>pending;
	kill -CONT $JPID;
	cat err;
	test $rc = 0 &&
	grep "^offheap: error: process $JPID is stopped" err &&
	test "$(grep -c "Pnd:[[:space:]]*0*\$" pending)" = 2 &&
	! test -e /tmp/.java_pid$JPID &&
	! ls -a "$TRASH" | grep attach_pid
'

test_expect_success 'first attach over protocol 2 after it resumed' '
	offheap jcmd $JPID VM.version >out &&
	echo "$JPID:" >want && head -n 1 out >first && cmp want first &&
	grep "^JDK 25" out
'

for cmd in VM.version VM.flags help "help Thread.print" VM.command_line; do
	test_expect_success "'$cmd' is byte for byte what JDK 25's jcmd prints" "
		offheap jcmd \$JPID $cmd >ours &&
		\$JDK/jcmd \$JPID $cmd >theirs &&
		cmp ours theirs
	"
done

test_expect_success 'a command without output says so, as jcmd does' '
	offheap jcmd $JPID GC.run >ours &&
	$JDK/jcmd $JPID GC.run >theirs &&
	cmp ours theirs
'

test_expect_success 'unknown command: stdout and exit code as jcmd, the JVM message' '
	test_exit_code 1 offheap jcmd $JPID No.such_command >ours 2>err &&
	test_exit_code 1 $JDK/jcmd $JPID No.such_command >theirs 2>theirs.err &&
	cmp ours theirs &&
	sed -n "s/^offheap: error: //p" err >msg &&
	cmp msg theirs.err
'

test_expect_success 'a long multi-line reply arrives whole (Thread.print)' '
	offheap jcmd $JPID Thread.print >out &&
	grep "^Full thread dump" out &&
	grep "\"main\"" out &&
	tail -n 3 out | grep -i "JNI global refs"
'

test_expect_success 'the JVM printed no thread dump (SIGQUIT only ever started the listener)' '
	! grep "Full thread dump" "$TRASH/jvm.out"
'

stop_bg "$JPID"
# A killed JVM leaves its socket and hsperfdata file behind.
rm -f /tmp/.java_pid$JPID /tmp/hsperfdata_*/$JPID
test_done
