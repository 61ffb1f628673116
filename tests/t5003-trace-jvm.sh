#!/bin/sh
# offheap trace on real JVMs: a start traced end to end (both JDKs when present) exits as
# java does; attaching to a running JVM finds the thread that maps and leaves the JVM running.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JAVA17=$JDK17/java
JAVA25=$JDK25/java
require_jdk17 java javac
setup_or_fail "javac compiles TraceExit.java and TraceTarget.java" \
	"$JDK17/javac" -d . "$TEST_DIRECTORY/java/TraceExit.java" "$TEST_DIRECTORY/java/TraceTarget.java"

for java in $JAVA17 $JAVA25; do
	case $java in
	$JAVA17) name="OpenJDK 17" ;;
	*) name="Temurin 25" ;;
	esac
	if ! test -x "$java"; then
		test_skip "java -version traced end to end ($name)" "no Temurin 25 in $JDK25"
		continue
	fi
	test_expect_success "java -version traced end to end ($name)" '
		offheap trace --json -- '"$java"' -version >v.json 2>v.err &&
		grep -q "version" v.err &&
		jq -e ".exit_code == 0" v.json &&
		jq -e ".calls > 50" v.json &&
		jq -e ".outstanding_bytes > 0" v.json &&
		jq -e "[.by_stack[].frames[].module // empty | select(endswith(\"libjvm.so\"))] | length > 0" v.json
	'
done

test_expect_success 'java exit code passes through; its threads are attributed' '
	test_exit_code 42 offheap trace --json -- $JAVA17 -cp . TraceExit 42 >x.json &&
	jq -e ".exit_code == 42" x.json &&
	jq -e "[.threads[].name] | index(\"worker-0\")" x.json &&
	jq -e "[.threads[] | select(.name == \"java\")] | length >= 1" x.json
'

start_bg $JAVA17 -Xmx64m -XX:MaxDirectMemorySize=1g -cp . TraceTarget "$TRASH/beat" 60 \
	>"$TRASH/target.out" 2>&1
jpid=$BG_PID
wait_for 30 "test -s beat" || fail_all "TraceTarget starts within 30 s" "$TRASH/target.out"
wait_for 30 "test -s beat.jit" || fail_all "TraceTarget's jit-grower warms up within 30 s" "$TRASH/target.out"

test_expect_success 'attached to a running JVM: direct buffers are direct-grower'"'"'s, via Unsafe' '
	offheap trace $jpid -d 2s --json >a.json &&
	got=$(jq ".by_thread_name[] | select(.thread == \"direct-grower\") | .outstanding_bytes" a.json) &&
	echo "direct-grower outstanding: $got" &&
	test "$got" -ge $((20 * 1048576)) &&
	jq -e "[.by_stack[] | select(.threads | index(\"direct-grower\"))][0].frames | map(.function) | index(\"Unsafe_AllocateMemory0\")" a.json
'

test_expect_success 'attached to a JVM: compiled frames are named (text, --json, -o), the perf map asked for' '
	jq -e "[.by_stack[] | select(.threads | index(\"jit-grower\")) | .frames[] |
		select(.java == true and (.function | startswith(\"TraceTarget\")))] | length > 0" a.json &&
	jq -e "[.by_stack[].frames[] | select(.java == true and .native == true) | .function] |
		index(\"jdk.internal.misc.Unsafe.allocateMemory0(long)\")" a.json &&
	! test -e /tmp/perf-$jpid.map &&
	# a map left by a dead process that had this PID before (PIDs wrap) is not kept
	echo "7f0000000000 10 stale" >/tmp/perf-$jpid.map &&
	touch -d "@$(($(date +%s) - 7200))" /tmp/perf-$jpid.map &&
	offheap trace $jpid -d 1s -o jit.db >t.txt &&
	! test -e /tmp/perf-$jpid.map &&
	! grep stale t.txt &&
	grep "^    \[java\] " t.txt &&
	! grep "no module: JIT" t.txt &&
	n=$(sqlite3 jit.db "SELECT count(*) FROM trace_frames WHERE function LIKE '"'"'TraceTarget.%'"'"' AND pc = 0") &&
	test "$n" -gt 0
'

test_expect_success 'the JVM runs on untraced and unstopped afterwards' '
	grep -q "^TracerPid:[[:space:]]*0$" /proc/$jpid/status &&
	! grep -q "^State:[[:space:]]*[tT]" /proc/$jpid/status &&
	b=$(cat beat) && wait_for 5 "test \$(cat beat) -gt $b" &&
	jcmd $jpid VM.version >jv.txt && grep -q "JDK" jv.txt
'

stop_bg $jpid
test_done
