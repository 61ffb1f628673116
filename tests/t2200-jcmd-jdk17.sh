#!/bin/sh
# offheap jcmd against a real OpenJDK 17 JVM (attach protocol 1): output byte for byte as
# JDK's jcmd, the JVM's own errors, a stopped JVM, another user.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JAVA=$JDK17/java
JCMD=$JDK17/jcmd
require_jdk17 java jcmd

start_bg "$JAVA" -Xmx64m "$ROOT/tests/java/Idle.java" 120 "$TRASH/ready" >"$TRASH/jvm.out" 2>&1
JPID=$BG_PID
wait_ready "$TRASH/ready" 60 || fail_all "the JVM starts within 60 s" "$TRASH/jvm.out"

test_expect_success 'first attach starts the listener and leaves no trigger file' '
	offheap jcmd $JPID VM.version >out &&
	head -n 1 out >first && echo "$JPID:" >want && cmp want first &&
	grep "^JDK 17" out &&
	test -S /tmp/.java_pid$JPID &&
	! ls -a "$TRASH" | grep attach_pid &&
	! test -e /tmp/.attach_pid$JPID
'

for cmd in VM.version VM.flags help "help VM.native_memory" VM.command_line; do
	test_expect_success "'$cmd' is byte for byte what jcmd prints" "
		offheap jcmd \$JPID $cmd >ours &&
		\$JCMD \$JPID $cmd >theirs &&
		cmp ours theirs
	"
done

test_expect_success 'a command without output says so, as jcmd does' '
	offheap jcmd $JPID GC.run >ours &&
	$JCMD $JPID GC.run >theirs &&
	cmp ours theirs &&
	grep "^Command executed successfully$" ours
'

test_expect_success 'unknown command: the JVM message, stdout and exit code as jcmd' '
	test_exit_code 1 offheap jcmd $JPID No.such_command >ours 2>err &&
	test_exit_code 1 $JCMD $JPID No.such_command >theirs 2>/dev/null &&
	cmp ours theirs &&
	grep "^offheap: error: java.lang.IllegalArgumentException: Unknown diagnostic command$" err &&
	grep "^hint: .*help" err
'

test_expect_success 'bad argument to a command: the JVM message, exit 1' '
	test_exit_code 1 offheap jcmd $JPID VM.native_memory bogus >ours 2>err &&
	grep "Unknown argument .bogus. in diagnostic command" err
'

test_expect_success '--json carries status and output' '
	offheap jcmd --json $JPID VM.version >out.json &&
	grep "\"pid\": $JPID" out.json &&
	grep "\"status\": 0" out.json &&
	grep "\"output\": \"OpenJDK 64-Bit Server VM version 17" out.json
'

test_expect_success '-l lists the JVM with its main class and arguments' '
	offheap jcmd -l >list &&
	grep "^$JPID .*Idle.java 120 " list
'

test_expect_success 'a stopped JVM with its socket open: --timeout 1s, exit 1, then it works again' '
	kill -STOP $JPID &&
	# kill returns before the signal takes effect
	wait_for 10 "grep -q \"^State:.*T\" /proc/$JPID/status" &&
	test_exit_code 1 offheap jcmd --timeout 1s $JPID VM.version >out 2>err;
	rc=$?;
	kill -CONT $JPID;
	cat err;
	test $rc = 0 &&
	grep "^offheap: error: timed out after 1s waiting for the JVM.s reply (process $JPID)" err &&
	grep "^hint: .*stopped" err &&
	offheap jcmd $JPID VM.version >out &&
	grep "^JDK 17" out
'

if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	test_expect_success 'another user: a permission error and a hint, nothing sent' '
		test_exit_code 1 offheap_as_nobody jcmd $JPID VM.version >out 2>err &&
		grep "^offheap: error: not allowed to attach to process $JPID: it belongs to uid 0" err &&
		grep "^hint: run offheap as the JVM.s user or as root" err &&
		test_must_fail test -s out
	'
else
	test_skip 'another user' 'needs root and setpriv'
fi

test_expect_success 'the JVM printed no thread dump (SIGQUIT only ever started the listener)' '
	! grep "Full thread dump" "$TRASH/jvm.out"
'

stop_bg "$JPID"
# A killed JVM leaves its socket and hsperfdata file behind.
rm -f /tmp/.java_pid$JPID /tmp/hsperfdata_*/$JPID
test_done
