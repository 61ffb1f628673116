#!/bin/sh
# offheap doctor on Temurin 25: the Inflater leak (zlib outside NMT) and a
# thread leak are found the same way as on JDK 17.
TEST_TIMEOUT=150
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

have_jdk25 java javac || skip_all "no Temurin 25 in $JDK25"
compile_fixtures "$JAVA25" InflaterDrip ThreadLeak

test_expect_success 'JDK 25: Inflaters never ended are named' '
	start_fixture "$JAVA25" summary InflaterDrip 50 &&
	doctor_json $JPID z.json &&
	stop_bg $JPID &&
	test "$(first_leak z.json)" = zlib-inflater &&
	jq -e ".is_jvm and .nmt == \"summary\"" z.json
'

test_expect_success 'JDK 25: a thread leak is named by its group' '
	start_fixture "$JAVA25" summary ThreadLeak 5 &&
	doctor_json $JPID t.json -d 8s &&
	stop_bg $JPID &&
	test "$(first_leak t.json)" = thread-leak &&
	jq -e ".findings[0].culprit | test(\"leaky-worker-#\")" t.json
'

test_done
