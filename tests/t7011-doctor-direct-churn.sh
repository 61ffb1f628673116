#!/bin/sh
# offheap doctor on direct buffers made faster than collections come. A
# program that drops them (tests/java/DirectChurn.java, a ring of buffers)
# grows its native memory and its DirectByteBuffer objects exactly like one
# that keeps them, until a GC: doctor runs two full collections a few
# seconds apart and tells the two apart. Dropped: no leak, a "buffer-churn"
# note naming the code; kept: the leak, with the collections as evidence;
# --no-gc: the old verdict, a leak of lower confidence saying no GC ran.
# Rates ten times apart, NMT on and off, G1, Parallel and (JDK 25) ZGC.
TEST_TIMEOUT=240
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

require_jdk17 java javac
compile_fixtures "$JAVA17" DirectChurn
LINE=$(grep -n "ByteBuffer b = ByteBuffer.allocateDirect" "$ROOT/tests/java/DirectChurn.java" | cut -d: -f1)
test -n "$LINE" || fail_all "DirectChurn's allocateDirect line is found"

# churn_said FILE: no finding of severity leak, and the churn said, naming the code
churn_said() {
	jq -e "[.findings[] | select(.severity == \"leak\")] | length == 0" "$1" &&
	jq -e --arg re "← DirectChurn\\.main \\(DirectChurn\\.java:$LINE\\)" \
		"[.findings[] | select(.pattern == \"buffer-churn\" and .severity == \"info\")][0].culprit | test(\$re)" "$1" &&
	jq -e "[.findings[] | select(.pattern == \"buffer-churn\")][0].evidence | map(test(\"two full collections\")) | any" "$1"
}

test_expect_success 'NMT off, G1, 200 buffers of 16 KiB a second dropped: no leak, the churn named' '
	start_fixture "$JAVA17" off DirectChurn 200 16 64 &&
	doctor_json $JPID g1.json &&
	stop_bg $JPID &&
	churn_said g1.json
'

test_expect_success 'NMT on, Parallel GC, ten times the rate: no leak, the churn named' '
	JOPTS=-XX:+UseParallelGC start_fixture "$JAVA17" summary DirectChurn 2000 2 64 &&
	doctor_json $JPID par.json &&
	stop_bg $JPID &&
	churn_said par.json
'

test_expect_success 'the same buffers kept (a ring that never wraps): the leak, kept after two collections' '
	start_fixture "$JAVA17" off DirectChurn 100 16 1000000 &&
	doctor_json $JPID kept.json &&
	stop_bg $JPID &&
	test "$(first_leak kept.json)" = direct-buffers &&
	jq -e --arg re "← DirectChurn\\.main \\(DirectChurn\\.java:$LINE\\)" \
		"[.findings[] | select(.pattern == \"direct-buffers\")][0].culprit | test(\$re)" kept.json &&
	jq -e "[.findings[] | select(.pattern == \"direct-buffers\")][0].evidence | map(test(\"still reachable after doctor.s two full collections\")) | any" kept.json &&
	jq -e "[.findings[] | select(.pattern == \"buffer-churn\")] | length == 0" kept.json
'

test_expect_success '--no-gc: no collection is run, and the growth is a leak that says no GC ran' '
	start_fixture "$JAVA17" off DirectChurn 200 16 64 &&
	doctor_json $JPID nogc.json --no-gc &&
	stop_bg $JPID &&
	test "$(first_leak nogc.json)" = direct-buffers &&
	jq -e "[.findings[] | select(.pattern == \"direct-buffers\")][0].evidence | map(test(\"no garbage collection ran in the window\")) | any" nogc.json &&
	jq -e "[.findings[].evidence[] | select(test(\"two full collections\"))] | length == 0" nogc.json
'

if have_jdk25 java javac; then
	compile_fixtures "$JAVA25" DirectChurn
	test_expect_success 'JDK 25, ZGC, NMT off: dropped buffers are no leak' '
		JOPTS=-XX:+UseZGC start_fixture "$JAVA25" off DirectChurn 200 16 64 &&
		doctor_json $JPID zgc.json &&
		stop_bg $JPID &&
		jq -e "[.findings[] | select(.severity == \"leak\")] | length == 0" zgc.json
	'
else
	test_skip 'JDK 25, ZGC, NMT off: dropped buffers are no leak' "no Temurin 25 in $JDK25"
fi

test_done
