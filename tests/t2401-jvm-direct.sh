#!/bin/sh
# offheap jvm: direct memory is NMT "Other" — 0 when NMT prints no Other line, never "Internal".
TEST_TIMEOUT=150
. "$(dirname "$0")/test-lib.sh"

JAVA17=/usr/bin/java
JAVA25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
cp "$ROOT/tests/java/DirectHold.java" .

test_expect_success 'compile DirectHold' '
	"${JAVA17%/java}/javac" -d classes DirectHold.java
'

# direct_case JAVA MIB: starts DirectHold holding MIB MiB of direct buffers
# under NMT and checks what offheap jvm calls direct memory.
direct_case() {
	rm -f ready out.json out.txt nmt.txt &&
	start_bg "$1" -XX:NativeMemoryTracking=summary -Xmx256m -cp classes \
		DirectHold "$2" ready 120 &&
	p=$BG_PID && wait_ready ready 60 &&
	offheap jcmd $p VM.native_memory summary scale=KB >nmt.txt &&
	grep "^- *Internal (reserved=" nmt.txt &&
	offheap jvm $p --json >out.json && offheap jvm $p >out.txt &&
	direct=$(jq .native.direct out.json) && say "direct memory: $direct" &&
	if [ "$2" -eq 0 ]; then
		# A JVM that never touched NIO has no Other line; Internal still holds KiBs to MiBs.
		! grep "^- *Other (reserved=" nmt.txt &&
		test "$direct" -eq 0 &&
		grep -E "^  direct memory +0 B " out.txt
	else
		within_pct "$direct" $(($2 * 1024 * 1024)) 10
	fi
	rc=$?
	stop_bg $p
	return $rc
}

test_expect_success 'JDK 17 without direct buffers: direct memory is 0' '
	direct_case "$JAVA17" 0
'

test_expect_success 'JDK 17 holding 64 MiB of direct buffers: 64 MiB within 10 %' '
	direct_case "$JAVA17" 64
'

if [ -x "$JAVA25" ]; then
	test_expect_success 'JDK 25 without direct buffers: direct memory is 0' '
		direct_case "$JAVA25" 0
	'
	test_expect_success 'JDK 25 holding 64 MiB of direct buffers: 64 MiB within 10 %' '
		direct_case "$JAVA25" 64
	'
else
	test_skip 'JDK 25 without direct buffers: direct memory is 0' "no Temurin 25 at $JAVA25"
	test_skip 'JDK 25 holding 64 MiB of direct buffers: 64 MiB within 10 %' "no Temurin 25 at $JAVA25"
fi

test_done
