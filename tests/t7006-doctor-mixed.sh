#!/bin/sh
# offheap doctor on a JVM that leaks direct buffers AND zlib streams at once
# (tests/java/MixedLeak): one finding each, with NMT on (G1, JDK 17); with
# NMT off (Parallel GC) both are still named (the class histogram counts the
# Inflaters and the DirectByteBuffers), and the missing NMT is said in the
# evidence rather than turning them into generic native growth, also at ten
# times the rates;
# on Temurin 25 with ZGC (when installed) both are found too. The JVMs run
# side by side and are diagnosed at the same time. The direct buffers'
# culprit is the fixture's own line under ByteBuffer.allocateDirect, the zlib
# streams' its line under the Inflater, in every case, from doctor's attached
# recording. (The direct buffers' stacks, the VM's own
# work, once kept the tracker from asking the JVM for the JNI stacks' Java
# frames: one run in three named only Inflater.init.)
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

require_jdk17 java javac
compile_fixtures "$JAVA17" MixedLeak
CLASSES17=$CLASSES
DIRECT_LINE=$(grep -n "ByteBuffer.allocateDirect(" "$ROOT/tests/java/MixedLeak.java" | cut -d: -f1)
test -n "$DIRECT_LINE" || fail_all "MixedLeak's allocateDirect line is found"
# zlib's state is malloc'd by new Inflater(), its window by the inflate: either line
INFLATER_LINE=$(grep -n "new Inflater()" "$ROOT/tests/java/MixedLeak.java" | cut -d: -f1)
INFLATE_LINE=$(grep -n "inf.inflate(out)" "$ROOT/tests/java/MixedLeak.java" | cut -d: -f1)
test -n "$INFLATER_LINE" && test -n "$INFLATE_LINE" || fail_all "MixedLeak's Inflater lines are found"

# direct_culprit FILE: the direct-buffers finding names MixedLeak.main at its line
direct_culprit() {
	jq -r ".findings[] | select(.pattern == \"direct-buffers\") | \"# culprit: \(.culprit)\"" "$1" &&
	jq -e ".findings[] | select(.pattern == \"direct-buffers\") | .culprit |
		test(\"^java\\\\.nio\\\\.ByteBuffer\\\\.allocateDirect .* ← MixedLeak\\\\.main \\\\(MixedLeak\\\\.java:$DIRECT_LINE\\\\)\")" "$1"
}

# zlib_culprit FILE: the zlib-inflater finding names MixedLeak.main at one of its lines
zlib_culprit() {
	jq -r ".findings[] | select(.pattern == \"zlib-inflater\") | \"# culprit: \(.culprit)\"" "$1" &&
	jq -e ".findings[] | select(.pattern == \"zlib-inflater\") | .culprit |
		test(\"^java\\\\.util\\\\.zip\\\\.Inflater.* ← MixedLeak\\\\.main \\\\(MixedLeak\\\\.java:($INFLATER_LINE|$INFLATE_LINE)\\\\)\")" "$1"
}

# start_mixed JAVA CLASSES NAME RATE JVM-OPTIONS...: MixedLeak at RATE times 2 MiB/s
# of direct buffers and 100 Inflaters/s (~4 MiB/s resident); sets PID_NAME.
start_mixed() {
	_java=$1 _cp=$2 _name=$3 _rate=$4
	shift 4
	start_bg "$_java" -Xmx128m -Xss512k -XX:MaxDirectMemorySize=512m "$@" -cp "$_cp" \
		MixedLeak "ready.$_name" $((2048 * _rate)) $((100 * _rate)) 120 &&
	eval "PID_$_name=\$BG_PID"
}

start_mixed "$JAVA17" "$CLASSES17" on 1 -XX:NativeMemoryTracking=summary -XX:+UseG1GC
start_mixed "$JAVA17" "$CLASSES17" off 1 -XX:NativeMemoryTracking=off -XX:+UseParallelGC
# ten times the rates, NMT off: where the zlib count of the heaps once fell behind
start_mixed "$JAVA17" "$CLASSES17" fast 10 -XX:NativeMemoryTracking=off
# JDK 17's class files run on 25 as well: one javac for both
if have_jdk25 java; then
	start_mixed "$JAVA25" "$CLASSES17" zgc 1 -XX:NativeMemoryTracking=summary -XX:+UseZGC
fi
wait_for 60 "test -s ready.on && test -s ready.off && test -s ready.fast" ||
	fail_all "MixedLeak did not start on JDK 17"

test_expect_success 'the JVMs are diagnosed side by side' '
	{ offheap doctor $PID_on -q --json -d 4s >on.json & d1=$!; } &&
	{ offheap doctor $PID_off -q --json -d 4s >off.json & d2=$!; } &&
	{ offheap doctor $PID_fast -q --json -d 4s >fast.json & d3=$!; } &&
	if test -n "${PID_zgc:-}"; then
		wait_for 60 "test -s ready.zgc" &&
		offheap doctor $PID_zgc -q --json -d 4s >zgc.json
	fi &&
	wait $d1 && wait $d2 && wait $d3 &&
	for f in on off fast zgc; do
		test -s $f.json || continue
		jq -r "(.findings[] | \"# $f: \(.severity) \(.pattern) \(.confidence): \(.title)\"),
			(.not_checked[] | \"# $f not checked: \(.)\")" $f.json
	done
'

test_expect_success 'NMT on, G1: direct buffers and zlib streams, one finding each' '
	jq -e ".nmt == \"summary\"" on.json &&
	jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"direct-buffers\") != null" on.json &&
	jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"zlib-inflater\") != null" on.json &&
	jq -e ".findings[] | select(.pattern == \"zlib-inflater\") | .evidence | map(test(\"NMT committed outside the Java heap\")) | any" on.json &&
	jq -e "[.findings[] | select(.pattern == \"native-outside-nmt\")] | length == 0" on.json &&
	direct_culprit on.json &&
	zlib_culprit on.json
'

test_expect_success 'NMT off, Parallel GC: both leaks still named, NMT said missing' '
	jq -e ".nmt == \"off\"" off.json &&
	jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"zlib-inflater\") != null" off.json &&
	jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"direct-buffers\") != null" off.json &&
	jq -e ".findings[] | select(.pattern == \"direct-buffers\") | .evidence | map(test(\"^DirectByteBuffer objects\")) | any" off.json &&
	jq -e "[.findings[] | select(.pattern == \"native-outside-nmt\")] | length == 0" off.json &&
	jq -e ".findings[] | select(.pattern == \"zlib-inflater\") | .evidence | map(test(\"^not known: what NMT accounts for\")) | any" off.json &&
	zlib_culprit off.json &&
	direct_culprit off.json
'

test_expect_success 'ten times the rates, NMT off: both leaks named, not generic growth' '
	jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"zlib-inflater\") != null" fast.json &&
	jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"direct-buffers\") != null" fast.json &&
	jq -e "[.findings[] | select(.pattern == \"native-outside-nmt\")] | length == 0" fast.json &&
	zlib_culprit fast.json &&
	direct_culprit fast.json
'

if test -n "${PID_zgc:-}"; then
	test_expect_success 'JDK 25, ZGC, NMT on: both leaks named' '
		jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"direct-buffers\") != null" zgc.json &&
		jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"zlib-inflater\") != null" zgc.json &&
		direct_culprit zgc.json &&
		zlib_culprit zgc.json
	'
else
	test_skip 'JDK 25, ZGC, NMT on: both leaks named' "no Temurin 25 in $JDK25"
fi

test_done
