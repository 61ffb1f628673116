#!/bin/sh
# offheap doctor on Temurin 25: the Inflater leak (zlib outside NMT) and a
# thread leak are found the same way as on JDK 17, with the code: the line
# that makes the Inflaters, and the one that starts the threads.
TEST_TIMEOUT=150
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

have_jdk25 java javac || skip_all "no Temurin 25 in $JDK25"
compile_fixtures "$JAVA25" InflaterDrip ThreadLeak
# zlib's state is malloc'd by new Inflater(), its window by the first inflate: either line
INFLATER_LINE=$(grep -n "new Inflater()" "$ROOT/tests/java/InflaterDrip.java" | cut -d: -f1)
INFLATE_LINE=$(grep -n "inf.inflate(out)" "$ROOT/tests/java/InflaterDrip.java" | cut -d: -f1)
START_LINE=$(grep -n "t.start();" "$ROOT/tests/java/ThreadLeak.java" | cut -d: -f1)
test -n "$INFLATER_LINE" && test -n "$INFLATE_LINE" && test -n "$START_LINE" || fail_all "the fixtures' marked lines are found"

test_expect_success 'JDK 25: Inflaters never ended are named' '
	start_fixture "$JAVA25" summary InflaterDrip 50 &&
	doctor_json $JPID z.json &&
	stop_bg $JPID &&
	test "$(first_leak z.json)" = zlib-inflater &&
	jq -e ".is_jvm and .nmt == \"summary\"" z.json &&
	jq -e --arg re "← InflaterDrip\\.main \\(InflaterDrip\\.java:($INFLATER_LINE|$INFLATE_LINE)\\)" \
		"[.findings[] | select(.pattern == \"zlib-inflater\")][0].culprit | test(\$re)" z.json
'

test_expect_success 'JDK 25: a thread leak is named by its group' '
	start_fixture "$JAVA25" summary ThreadLeak 5 &&
	doctor_json $JPID t.json -d 8s &&
	stop_bg $JPID &&
	test "$(first_leak t.json)" = thread-leak &&
	jq -e ".findings[0].culprit | test(\"leaky-worker-#\")" t.json &&
	jq -e --arg by ", by ThreadLeak.main (ThreadLeak.java:$START_LINE)" \
		".findings[0].culprit | contains(\$by)" t.json
'

test_done
