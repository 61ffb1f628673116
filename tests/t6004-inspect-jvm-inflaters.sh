#!/bin/sh
# offheap inspect on a JDK 17 JVM that keeps 2000 Inflaters it never end()s:
# their zlib states are found (back pointer from the z_stream), the arena
# walks reach their top chunks, and one chunk size is in use 2000 times
# or more (the inflate_state).
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JAVA17=$JDK17/java
require_jdk17 java javac
setup_or_fail "InflaterLeak.java copied" cp "$ROOT/tests/java/InflaterLeak.java" .
setup_or_fail "javac compiles InflaterLeak.java" "$JDK17/javac" -d classes InflaterLeak.java
start_bg "$JAVA17" -Xmx64m -cp classes InflaterLeak trig 2000 100 >"$TRASH/jvm.out" 2>&1
jvm=$BG_PID
: >trig
wait_for 60 "test -s trig.done" || fail_all "the JVM makes its 2000 Inflaters within 60 s" "$TRASH/jvm.out"

test_expect_success 'the zlib states of the Inflaters are found' '
	offheap inspect $jvm --class arena --force --json >a.json &&
	jq -e ".signatures.zlib_stream_state >= 2000 and .signatures.zlib_stream_state <= 2400" a.json
'

test_expect_success 'every arena walk reaches its top chunk' '
	jq -e "[.chunk_walks[] | select(.stop != \"top chunk\")] | length == 0" a.json &&
	jq -e "[.chunk_walks[] | select(.chunks > 0)] | length > 0" a.json
'

test_expect_success 'one chunk size is in use at least 2000 times' '
	offheap inspect $jvm --class arena --force --top 200 --json >b.json &&
	jq -e "[.chunk_sizes[] | select(.inuse >= 2000 and .size > 1024)] | length >= 1" b.json
'

test_expect_success 'the brk heap of the JVM walks to its top too' '
	offheap inspect $jvm --class heap >h &&
	grep "^malloc chunks of .*: top chunk" h
'

test_done
