#!/bin/sh
# offheap doctor on JDK 17 fixtures: a thread leak (named by its thread
# group) and direct buffers kept reachable (NMT Other), named by the
# fixture's line that calls ByteBuffer.allocateDirect; without NMT, at a
# rate too low for the class histogram to show them, by doctor's recording.
TEST_TIMEOUT=150
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

require_jdk17 java javac
compile_fixtures "$JAVA17" ThreadLeak DirectLeak
DIRECT_LINE=$(grep -n "kept.add(ByteBuffer.allocateDirect" "$ROOT/tests/java/DirectLeak.java" | cut -d: -f1)
test -n "$DIRECT_LINE" || fail_all "DirectLeak's allocateDirect line is found"
START_LINE=$(grep -n "t.start();" "$ROOT/tests/java/ThreadLeak.java" | cut -d: -f1)
test -n "$START_LINE" || fail_all "ThreadLeak's Thread.start line is found"

test_expect_success 'a thread leak is found, its thread group named, and the code that starts them' '
	start_fixture "$JAVA17" summary ThreadLeak 5 &&
	doctor_json $JPID t.json &&
	stop_bg $JPID &&
	test "$(first_leak t.json)" = thread-leak &&
	jq -e ".findings[0].culprit | test(\"leaky-worker-#\")" t.json &&
	jq -e --arg by ", by ThreadLeak.main (ThreadLeak.java:$START_LINE)" \
		".findings[0].culprit | endswith(\$by)" t.json &&
	jq -e ".findings[0].evidence | map(test(\"java.threads.live\")) | any" t.json &&
	jq -e ".findings[0].fix | test(\"pool\")" t.json &&
	jq -e ".is_jvm and .nmt == \"summary\"" t.json
'

test_expect_success 'direct buffers kept reachable are found in NMT Other' '
	start_fixture "$JAVA17" summary DirectLeak 2048 &&
	doctor_json $JPID d.json &&
	stop_bg $JPID &&
	test "$(first_leak d.json)" = direct-buffers &&
	jq -e ".findings[0].culprit | test(\"^java\\\\.nio\\\\.ByteBuffer\\\\.allocateDirect .* ← DirectLeak\\\\.main \\\\(DirectLeak\\\\.java:$DIRECT_LINE\\\\)\")" d.json &&
	jq -e ".findings[0].fix | test(\"MaxDirectMemorySize\")" d.json &&
	jq -e "[.findings[] | select(.pattern == \"thread-leak\")] | length == 0" d.json
'

test_expect_success 'without NMT, a few buffers a second: direct buffers, by the growing site' '
	start_fixture "$JAVA17" off DirectLeak 700 &&
	doctor_json $JPID d0.json &&
	stop_bg $JPID &&
	test "$(first_leak d0.json)" = direct-buffers &&
	jq -e ".findings[0].culprit | test(\"← DirectLeak\\\\.main \\\\(DirectLeak\\\\.java:$DIRECT_LINE\\\\)\")" d0.json &&
	jq -e ".findings[0].fix | test(\"MaxDirectMemorySize\")" d0.json &&
	jq -e "[.findings[] | select(.pattern == \"native-outside-nmt\")] | length == 0" d0.json
'

test_done
