#!/bin/sh
# offheap jvm with G1, Parallel, Serial, Shenandoah and ZGC on JDK 17 and 25: the heap figures
# come from GC.heap_info and agree with hsperfdata; ZGC's reply is understood too.
TEST_TIMEOUT=300
. "$(dirname "$0")/test-lib.sh"

JAVA17=/usr/bin/java
JAVA25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
MAX=268435456
cp "$ROOT/tests/java/DirectHold.java" .

test_expect_success 'compile DirectHold' '
	"${JAVA17%/java}/javac" -d classes DirectHold.java
'

# heap_case JAVA GC: an idle -Xmx256m JVM with -XX:+UseGC. After a full GC
# (GC.run: every collector updates its hsperfdata counters at the end of a
# collection, and the idle JVM allocates next to nothing after it), offheap
# jvm's used must be within 2 MiB of hsperfdata's (ZGC prints MiB), its
# committed within 5 % (Parallel and Serial count both survivor spaces in
# hsperfdata, GC.heap_info only one), and max is -Xmx exactly.
heap_case() {
	rm -f ready j.json t.txt s.json &&
	start_bg "$1" -XX:+Use"$2"GC -Xmx256m -cp classes DirectHold 0 ready 120 &&
	p=$BG_PID && wait_ready ready 60 &&
	offheap jcmd $p GC.run >/dev/null &&
	offheap jvm $p --json >j.json && offheap jvm $p >t.txt &&
	offheap jstat --json $p >s.json &&
	used=$(jq .heap.used j.json) && committed=$(jq .heap.committed j.json) &&
	hs_used=$(jq "[.S0U, .S1U, .EU, .OU] | map(. // 0) | add" s.json) &&
	hs_committed=$(jq "[.S0C, .S1C, .EC, .OC] | map(. // 0) | add" s.json) &&
	say "$2: used $used (hsperfdata $hs_used)" &&
	say "$2: committed $committed (hsperfdata $hs_committed)" &&
	jq -e ".heap.source == \"GC.heap_info\" and .heap.max == $MAX" j.json &&
	test $((used > hs_used ? used - hs_used : hs_used - used)) -le $((2 * 1024 * 1024)) &&
	test "$committed" -gt 0 && test "$committed" -le $MAX &&
	within_pct "$committed" "$hs_committed" 5 &&
	jq -e ".heap.resident > 0 and .heap.resident <= .heap.committed" j.json &&
	grep -E "^  used .*\(GC.heap_info\)" t.txt &&
	grep -E "^  resident +[0-9.]+ [KM]i?B +the part of the heap in RAM" t.txt &&
	! grep "timed out after" t.txt && ! grep "^not checked" t.txt
	rc=$?
	stop_bg $p
	return $rc
}

for gc in G1 Parallel Serial Shenandoah Z; do
	test_expect_success "JDK 17, ${gc}GC: heap used/committed/max" "heap_case $JAVA17 $gc"
done

# ZGC: the heap is the memfd "java_heap", mapped at addresses GC.heap_info does not print.
test_expect_success 'JDK 17, ZGC: the java_heap mappings are the Java heap' '
	start_bg "$JAVA17" -XX:+UseZGC -Xmx256m -cp classes DirectHold 0 ready.z 120 &&
	p=$BG_PID && wait_ready ready.z 60 &&
	offheap jvm $p >tz.txt &&
	grep -E "^  resident .*\(ZGC.s java_heap\)" tz.txt &&
	offheap jvm $p --json | jq -e ".heap.resident > 0 and .heap.start == null"
'

if [ -x "$JAVA25" ]; then
	for gc in G1 Parallel Serial Shenandoah Z; do
		test_expect_success "JDK 25, ${gc}GC: heap used/committed/max" "heap_case $JAVA25 $gc"
	done
else
	for gc in G1 Parallel Serial Shenandoah Z; do
		test_skip "JDK 25, ${gc}GC: heap used/committed/max" "no Temurin 25 at $JAVA25"
	done
fi

test_done
