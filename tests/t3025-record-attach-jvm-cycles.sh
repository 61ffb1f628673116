#!/bin/sh
# offheap record -p, 20 attach/detach cycles back to back on a JVM under load (the real
# tracker, sampled): tests/java/BusyHealthy.java churns the Java heap and inflates and
# deflates through zlib's malloc on four threads while the tracker is patched in and out.
# After the cycles the JVM still answers jcmd and ends normally on SIGTERM. One JVM per
# JDK: OpenJDK 17 always, Temurin 25 when installed.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

require_jdk17 java

# cycles NAME JDKBIN: the 20 cycles, jcmd, and the SIGTERM end on that JDK.
cycles() {
	_n=$1 _jdk=$2
	start_bg "$_jdk/java" -Xmx128m "$ROOT/tests/java/BusyHealthy.java" "$TRASH/$_n-ready" \
		5 2 300 >"$TRASH/$_n-jvm.out" 2>&1
	JPID=$BG_PID
	wait_ready "$TRASH/$_n-ready" 90 || fail_all "the $_n JVM starts within 90 s" "$TRASH/$_n-jvm.out"

	test_expect_success "$_n: 20 attach/detach cycles under load, each detached" '
		i=0 &&
		while test $i -lt 20
		do
			"$OFFHEAP" record -p $JPID -d 300ms --sample 64k -o $_n-$i.db 2>err-$i || {
				cat err-$i; return 1; }
			grep -q "^offheap record: detached from process $JPID; " err-$i || {
				cat err-$i; return 1; }
			i=$((i + 1))
		done &&
		test $i -eq 20 &&
		kill -0 $JPID
	'

	test_expect_success "$_n: after the cycles the JVM answers jcmd" '
		"$OFFHEAP" jcmd $JPID VM.version >v &&
		grep -q "^JDK [0-9]" v
	'

	test_expect_success "$_n: the JVM ends normally on SIGTERM" '
		kill -TERM $JPID &&
		test_exit_code 143 wait $JPID
	'
}

cycles jdk17 "$JDK17"
if have_jdk25 java; then
	cycles jdk25 "$JDK25"
else
	test_skip "jdk25: 20 attach/detach cycles under load" "no Temurin 25 in $JDK25"
fi

test_done
