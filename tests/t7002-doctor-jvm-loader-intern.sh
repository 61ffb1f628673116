#!/bin/sh
# offheap doctor on JDK 17 fixtures: class loaders created and kept (named
# by their type from VM.classloader_stats) and String.intern() of unbounded
# keys (the StringTable and NMT Symbol grow).
TEST_TIMEOUT=150
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

require_jdk17 java javac
compile_fixtures "$JAVA17" LoaderLeak InternLeak

test_expect_success 'a class loader leak is found and the loader type named' '
	start_fixture "$JAVA17" summary LoaderLeak 30 &&
	doctor_json $JPID l.json &&
	stop_bg $JPID &&
	test "$(first_leak l.json)" = classloader-leak &&
	jq -e ".findings[0].culprit | test(\"LoaderLeak.ByteLoader\")" l.json &&
	jq -e ".findings[0].evidence | map(test(\"metaspace|Metaspace\")) | any" l.json
'

test_expect_success 'interned unbounded keys are found in the StringTable' '
	start_fixture "$JAVA17" summary InternLeak 20000 1 &&
	doctor_json $JPID i.json &&
	stop_bg $JPID &&
	test "$(first_leak i.json)" = interned-strings &&
	jq -e ".findings[0].culprit | test(\"String.intern\")" i.json &&
	jq -e ".findings[0].evidence | map(test(\"StringTable entries\")) | any" i.json &&
	jq -e ".findings[0].fix | test(\"INTERN_FIELD_NAMES\")" i.json
'

test_done
