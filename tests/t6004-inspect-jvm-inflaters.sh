#!/bin/sh
# offheap inspect on a JDK 17 JVM that keeps 2000 Inflaters it never end()s:
# their zlib states are found (back pointer from the z_stream), the arena
# walks reach their top chunks, and one chunk size is in use 2000 times
# or more (the inflate_state).
. "$(dirname "$0")/test-lib.sh"

JAVA17=/usr/bin/java
[ -x "$JAVA17" ] || skip_all "no JDK 17 at $JAVA17"
cp "$ROOT/tests/java/InflaterLeak.java" .
"${JAVA17%/java}/javac" -d classes InflaterLeak.java || skip_all "javac failed"
start_bg "$JAVA17" -Xmx64m -cp classes InflaterLeak trig 2000 100
jvm=$BG_PID
: >trig
wait_for 60 "test -s trig.done" || { echo "not ok - the JVM did not make its Inflaters"; exit 1; }

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
