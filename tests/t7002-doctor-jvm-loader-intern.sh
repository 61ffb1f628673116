#!/bin/sh
# offheap doctor on JDK 17 fixtures: class loaders created and kept (named
# by their type from VM.classloader_stats, with NMT and without: then the
# metaspace counter stays 0 until a GC and VM.info's figure shows the
# metadata grow) and String.intern() of unbounded keys (the StringTable and
# NMT Symbol grow).
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

DEFINE_LINE=$(grep -n "defineClass(\"Leaky\"" "$ROOT/tests/java/LoaderLeak.java" | cut -d: -f1)
test_expect_success 'without NMT: the same leak (metaspace from VM.info, current between GCs), and its code' '
	test -n "$DEFINE_LINE" &&
	start_fixture "$JAVA17" off LoaderLeak 40 &&
	doctor_json $JPID l0.json &&
	stop_bg $JPID &&
	test "$(first_leak l0.json)" = classloader-leak &&
	jq -e ".findings[0].culprit | test(\"LoaderLeak.ByteLoader\")" l0.json &&
	jq -e ".findings[0].evidence | map(contains(\"metaspace used (VM.info)\")) | any" l0.json &&
	jq -e --arg by ", by LoaderLeak\$ByteLoader.define (LoaderLeak.java:$DEFINE_LINE) ← LoaderLeak.main (LoaderLeak.java:" \
		".findings[0].culprit | contains(\$by)" l0.json
'

INTERN_LINE=$(grep -n "\.intern();" "$ROOT/tests/java/InternLeak.java" | cut -d: -f1)
test_expect_success 'interned unbounded keys are found in the StringTable, and the code' '
	test -n "$INTERN_LINE" &&
	start_fixture "$JAVA17" summary InternLeak 20000 1 &&
	doctor_json $JPID i.json &&
	stop_bg $JPID &&
	test "$(first_leak i.json)" = interned-strings &&
	jq -e ".findings[0].culprit | test(\"String.intern\")" i.json &&
	jq -e --arg by ", by InternLeak.main (InternLeak.java:$INTERN_LINE)" \
		".findings[0].culprit | endswith(\$by)" i.json &&
	jq -e ".findings[0].evidence | map(test(\"StringTable entries\")) | any" i.json &&
	jq -e ".findings[0].fix | test(\"INTERN_FIELD_NAMES\")" i.json
'

test_done
