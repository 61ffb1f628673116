#!/bin/sh
# offheap doctor on JDK 17 fixtures: Inflaters never end()ed (native memory
# outside NMT, the zlib states found in the arenas, the culprit the fixture's
# own line), the same without NMT, and a busy healthy JVM that must get no
# leak finding.
TEST_TIMEOUT=190
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

require_jdk17 java javac
compile_fixtures "$JAVA17" InflaterDrip BusyHealthy
# zlib's state is malloc'd by new Inflater(), its window by the inflate: either line
LINES="$(grep -n "new Inflater()" "$ROOT/tests/java/InflaterDrip.java" | cut -d: -f1)|$(grep -n "inf.inflate(out)" "$ROOT/tests/java/InflaterDrip.java" | cut -d: -f1)"

# by_main FILE: the zlib finding's culprit reaches InflaterDrip.main at one of those lines
by_main() {
	jq -r ".findings[] | select(.pattern == \"zlib-inflater\") | \"# culprit: \(.culprit)\"" "$1" &&
	jq -e ".findings[] | select(.pattern == \"zlib-inflater\") | .culprit |
		test(\"^java\\\\.util\\\\.zip\\\\.Inflater.* ← InflaterDrip\\\\.main \\\\(InflaterDrip\\\\.java:($LINES)\\\\)\")" "$1"
}

test_expect_success 'Inflaters never ended: zlib named as the culprit, outside NMT' '
	start_fixture "$JAVA17" summary InflaterDrip 50 &&
	doctor_json $JPID z.json &&
	stop_bg $JPID &&
	test "$(first_leak z.json)" = zlib-inflater &&
	jq -e ".findings[0].culprit | test(\"Inflater\")" z.json &&
	jq -e ".findings[0].fix | test(\"end\\\\(\\\\)\")" z.json &&
	jq -e ".findings[0].evidence | map(test(\"NMT committed outside the Java heap moved only\")) | any" z.json &&
	by_main z.json
'

test_expect_success 'without NMT the Inflaters are still found, and NMT is listed as not checked' '
	start_fixture "$JAVA17" off InflaterDrip 50 &&
	doctor_json $JPID zo.json -d 8s &&
	stop_bg $JPID &&
	test "$(first_leak zo.json)" = zlib-inflater &&
	jq -e ".nmt == \"off\"" zo.json &&
	jq -e ".not_checked | map(test(\"NativeMemoryTracking\")) | any" zo.json &&
	by_main zo.json
'

# Its LRU cache fills in its first seconds (longer on a loaded machine): doctor
# starts once the fixture says its warm-up is over.
test_expect_success 'a busy healthy JVM gets no leak finding' '
	WARM=1 start_fixture "$JAVA17" summary BusyHealthy &&
	doctor_json $JPID h.json --fail-on-leak &&
	stop_bg $JPID &&
	jq -e ".leak | not" h.json &&
	jq -e "[.findings[] | select(.severity == \"leak\")] | length == 0" h.json &&
	jq -e ".samples >= 25" h.json
'

test_done
