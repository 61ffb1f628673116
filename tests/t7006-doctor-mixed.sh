#!/bin/sh
# offheap doctor on a JVM that leaks direct buffers AND zlib streams at once
# (tests/java/MixedLeak): one finding each, with NMT on (G1, JDK 17); with
# NMT off (Parallel GC) both are still named (the class histogram counts the
# Inflaters and the DirectByteBuffers), and the missing NMT is said in the
# evidence rather than turning them into generic native growth;
# on Temurin 25 with ZGC (when installed) both are found too. The JVMs run
# side by side and are diagnosed at the same time.
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

require_jdk17 java javac
compile_fixtures "$JAVA17" MixedLeak
CLASSES17=$CLASSES

# start_mixed JAVA CLASSES NAME JVM-OPTIONS...: MixedLeak at 2 MiB/s of direct
# buffers and 100 Inflaters/s (~4 MiB/s resident); sets PID_NAME.
start_mixed() {
	_java=$1 _cp=$2 _name=$3
	shift 3
	start_bg "$_java" -Xmx128m -Xss512k -XX:MaxDirectMemorySize=256m "$@" -cp "$_cp" \
		MixedLeak "ready.$_name" 2048 100 120 &&
	eval "PID_$_name=\$BG_PID"
}

start_mixed "$JAVA17" "$CLASSES17" on -XX:NativeMemoryTracking=summary -XX:+UseG1GC
start_mixed "$JAVA17" "$CLASSES17" off -XX:NativeMemoryTracking=off -XX:+UseParallelGC
if have_jdk25 java javac; then
	compile_fixtures "$JAVA25" MixedLeak
	start_mixed "$JAVA25" "$CLASSES" zgc -XX:NativeMemoryTracking=summary -XX:+UseZGC
fi
wait_for 60 "test -s ready.on && test -s ready.off" ||
	fail_all "MixedLeak did not start on JDK 17"

test_expect_success 'the JVMs are diagnosed side by side' '
	{ offheap doctor $PID_on -q --json -d 4s >on.json & d1=$!; } &&
	{ offheap doctor $PID_off -q --json -d 4s >off.json & d2=$!; } &&
	if test -n "${PID_zgc:-}"; then
		wait_for 60 "test -s ready.zgc" &&
		offheap doctor $PID_zgc -q --json -d 4s >zgc.json
	fi &&
	wait $d1 && wait $d2 &&
	for f in on off zgc; do
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
	jq -e "[.findings[] | select(.pattern == \"native-outside-nmt\")] | length == 0" on.json
'

test_expect_success 'NMT off, Parallel GC: both leaks still named, NMT said missing' '
	jq -e ".nmt == \"off\"" off.json &&
	jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"zlib-inflater\") != null" off.json &&
	jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"direct-buffers\") != null" off.json &&
	jq -e ".findings[] | select(.pattern == \"direct-buffers\") | .evidence | map(test(\"^DirectByteBuffer objects\")) | any" off.json &&
	jq -e "[.findings[] | select(.pattern == \"native-outside-nmt\")] | length == 0" off.json &&
	jq -e ".findings[] | select(.pattern == \"zlib-inflater\") | .evidence | map(test(\"^not known: what NMT accounts for\")) | any" off.json &&
	jq -e ".findings[] | select(.pattern == \"zlib-inflater\") | .culprit | test(\"Inflater\")" off.json
'

if test -n "${PID_zgc:-}"; then
	test_expect_success 'JDK 25, ZGC, NMT on: both leaks named' '
		jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"direct-buffers\") != null" zgc.json &&
		jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"zlib-inflater\") != null" zgc.json
	'
else
	test_skip 'JDK 25, ZGC, NMT on: both leaks named' "no Temurin 25 in $JDK25"
fi

test_done
