#!/bin/sh
# offheap jvm on real JVMs: heap, NMT, native memory outside NMT (an Inflater leak), caps, budget.
TEST_TIMEOUT=150
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JAVA17=$JDK17/java
JAVA25=$JDK25/java
require_jdk17 java javac
setup_or_fail "InflaterLeak.java copied" cp "$ROOT/tests/java/InflaterLeak.java" .
# Single-file launch compiles in the JVM; precompile once so each JVM starts quicker.
setup_or_fail "javac compiles InflaterLeak.java" "$JDK17/javac" -d classes InflaterLeak.java

start_bg "$JAVA17" -XX:NativeMemoryTracking=summary -Xmx256m -Xss512k -cp classes \
	InflaterLeak trig 1500 120 >"$TRASH/jvm.out" 2>&1
jvm=$BG_PID
wait_for 30 "$OFFHEAP jstat $jvm >/dev/null 2>&1" ||
	fail_all "the JVM starts (its hsperfdata readable) within 30 s" "$TRASH/jvm.out"

test_expect_success 'JSON: heap max is -Xmx, stack size is -Xss, NMT categories present' '
	offheap jvm $jvm --json >j1.json &&
	jq -e ".heap.max == 268435456 and .flags.MaxHeapSize == 268435456" j1.json &&
	jq -e ".flags.ThreadStackSize == 524288" j1.json &&
	jq -e ".nmt == \"summary\" and ([.nmt_categories[].name] | index(\"Java Heap\") != null)" j1.json &&
	jq -e ".heap.resident > 0 and .heap.resident <= .heap.committed and .heap.used <= .heap.committed" j1.json
'

test_expect_success 'text: every section, and the heap range' '
	offheap jvm $jvm >t1 &&
	grep "^Java heap" t1 && grep "^Native Memory Tracking (committed)" t1 &&
	grep "^Native memory outside NMT" t1 && grep "^Budget" t1 &&
	grep -E "resident .*the part of the heap in RAM \[0x[0-9a-f]+, 0x[0-9a-f]+\)" t1 &&
	! grep "^not checked" t1
'

test_expect_success 'the budget adds heap, direct memory (= heap) and code cache at least' '
	jq -e ".budget.worst_case >= 268435456 * 2 + .flags.ReservedCodeCacheSize" j1.json &&
	jq -e ".budget.unbounded == true" j1.json
'

# Each live Inflater holds zlib's inflate state (several KiB, malloc'd by
# inflateInit2_) in native memory: NMT does not see it, glibc's C-heap counter
# does. 1500 of them must add at least 3 KiB each.
test_expect_success 'an Inflater leak shows as C-heap outside NMT' '
	jq -e ".native.outside_nmt_cheap != -1" j1.json ||
		{ echo "this JDK prints no C-Heap figures in VM.info"; return 1; }
	before=$(jq .native.outside_nmt_cheap j1.json) &&
	touch trig && wait_for 30 "test -s trig.done" &&
	offheap jvm $jvm --json >j2.json &&
	after=$(jq .native.outside_nmt_cheap j2.json) &&
	say "C-heap outside NMT: $before -> $after" &&
	test $((after - before)) -ge $((1500 * 3 * 1024))
'

test_expect_success 'a JVM that disables attach: the hsperfdata view, and why the rest is missing' '
	start_bg "$JAVA17" -XX:+DisableAttachMechanism -Xmx64m -cp classes InflaterLeak none 1 60 &&
	p=$BG_PID && wait_for 30 "$OFFHEAP jstat $p >/dev/null 2>&1" &&
	offheap jvm $p --timeout 3s >t3 &&
	grep "^not checked: " t3 && grep "used " t3 &&
	offheap jvm $p --timeout 3s --json | jq -e ".attach_error != null" &&
	stop_bg $p
'

if have_jdk25 java; then
	test_expect_success 'Temurin 25 without NMT: says how to turn it on' '
		start_bg "$JAVA25" -Xmx128m -cp classes InflaterLeak none 1 60 &&
		p=$BG_PID && wait_for 30 "$OFFHEAP jstat $p >/dev/null 2>&1" &&
		offheap jvm $p >t4 &&
		grep "Native Memory Tracking: off .* -XX:NativeMemoryTracking=summary" t4 &&
		offheap jvm $p --json | jq -e ".nmt == \"off\" and .heap.max == 134217728 and .native.cheap_outstanding > 0" &&
		stop_bg $p
	'
else
	test_skip 'Temurin 25 without NMT: says how to turn it on' "no Temurin 25 in $JDK25"
fi

test_expect_success 'not a JVM: exit 1 with a hint' '
	start_bg sleep 30 &&
	test_exit_code 1 offheap jvm $BG_PID 2>err &&
	grep "offheap: error: process $BG_PID is not a JVM" err && grep "^hint: " err
'

# A memory cgroup with a limit below what the flags allow: the budget must say so.
cg_v1=/sys/fs/cgroup/memory
cg=""
if [ "$(id -u)" -eq 0 ] && [ -w "$cg_v1" ] && mkdir "$cg_v1/offheap-t2400-$$" 2>/dev/null; then
	cg="$cg_v1/offheap-t2400-$$"
	echo $((400 * 1024 * 1024)) >"$cg/memory.limit_in_bytes"
elif [ "$(id -u)" -eq 0 ] && [ -f /sys/fs/cgroup/cgroup.controllers ] &&
	mkdir /sys/fs/cgroup/offheap-t2400-$$ 2>/dev/null; then
	cg=/sys/fs/cgroup/offheap-t2400-$$
	echo $((400 * 1024 * 1024)) >"$cg/memory.max" || cg=""
fi
if [ -n "$cg" ]; then
	test_expect_success 'in a 400 MiB container the budget warns of an OOM kill' '
		start_bg sh -c "echo \$\$ >\"$cg/cgroup.procs\" && exec \"$JAVA17\" -Xmx256m -cp classes InflaterLeak none 1 60" &&
		p=$BG_PID && wait_for 30 "$OFFHEAP jstat $p >/dev/null 2>&1" &&
		offheap jvm $p --json >j5.json &&
		jq -e ".budget.limit == 419430400 and .budget.worst_case > 419430400" j5.json &&
		offheap jvm $p >t5 && grep "the container can OOM-kill this JVM" t5 &&
		stop_bg $p
	'
	rmdir "$cg" 2>/dev/null
else
	test_skip 'in a 400 MiB container the budget warns of an OOM kill' 'cannot make a memory cgroup here'
fi

test_done
