#!/bin/sh
# offheap jstat against real JVMs: the same text as the JDK's jstat for every option, on
# JDK 17 and 25, with SerialGC, ParallelGC, G1 and ZGC; -t, --json, --list, header
# repetition, and a JVM without hsperfdata.
TEST_TIMEOUT=150
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

J17=$JDK17
J25=$JDK25
require_jdk17 java javac jstat
setup_or_fail "javac compiles GcIdle.java" $J17/javac -d "$TRASH" "$TEST_DIRECTORY/java/GcIdle.java"

# All JVMs start at once (starting is the slow part); each writes its ready file after a GC.
JVMS=""
start_jvm() {	# start_jvm TAG BIN ARGS...
	tag=$1 bin=$2
	shift 2
	start_bg "$bin/java" -Xmx64m -Xss512k -XX:TieredStopAtLevel=1 "$@" -cp "$TRASH" \
		GcIdle "$TRASH/$tag.ready" >"$TRASH/$tag.log" 2>&1
	eval "pid_$tag=$BG_PID"
	JVMS="$JVMS $tag"
}
start_jvm 17serial $J17 -XX:+UseSerialGC
start_jvm 17parallel $J17 -XX:+UseParallelGC
start_jvm 17g1 $J17 -XX:+UseG1GC -XX:NativeMemoryTracking=summary
start_jvm 17noperf $J17 -XX:-UsePerfData
start_jvm 17z $J17 -XX:+UseZGC
if have_jdk25 java jstat; then
	start_jvm 25serial $J25 -XX:+UseSerialGC
	start_jvm 25parallel $J25 -XX:+UseParallelGC
	start_jvm 25g1 $J25 -XX:+UseG1GC -XX:NativeMemoryTracking=detail
	have25=1
fi
for tag in $JVMS; do
	wait_ready "$TRASH/$tag.ready" 60 ||
		fail_all "the $tag JVM starts within 60 s" "$TRASH/$tag.log"
done

# same_as_jstat TAG JSTATDIR [OPTION]: offheap's text equals jstat's (-gc when no OPTION:
# offheap's default); counters of an idle JVM can still move between the two reads, so up
# to three tries.
same_as_jstat() {
	eval "p=\$pid_$1"
	for try in 1 2 3; do
		"$2/jstat" ${3:--gc} "$p" >"$1$3.want" 2>&1 &&
		offheap jstat $3 "$p" >"$1$3.got" &&
		diff -u "$1$3.want" "$1$3.got" >"$1$3.diff" && return 0
	done
	cat "$1$3.diff"
	return 1
}

OPTIONS="-class -compiler -gc -gccapacity -gccause -gcmetacapacity -gcnew -gcnewcapacity
	-gcold -gcoldcapacity -gcutil -printcompilation"
# The JDK's own list of options: a new one there must be added here (and to jstatcols).
test_expect_success 'the options are those jstat -options lists' '
	$J17/jstat -options | sort >want &&
	for o in $OPTIONS; do echo $o; done | sort >got &&
	diff -u want got
'

for o in $OPTIONS; do
	test_expect_success "JDK 17 G1: offheap jstat $o = jstat $o" "
		same_as_jstat 17g1 $J17 $o
	"
done
# Each jstat run starts a JVM: the other collectors and JDK 25 get the options whose
# columns depend on the collector or the version.
for o in -gcutil -gcnew; do
	for gc in serial parallel z; do
		test_expect_success "JDK 17 $gc: offheap jstat $o = jstat $o" "
			same_as_jstat 17$gc $J17 $o
		"
	done
done
if [ -n "${have25:-}" ]; then
	for o in -gcutil -gccause -class -compiler; do
		test_expect_success "JDK 25 G1: offheap jstat $o = jstat $o" "
			same_as_jstat 25g1 $J25 $o
		"
	done
	test_expect_success "JDK 25 parallel: offheap jstat -gcutil = jstat -gcutil" "
		same_as_jstat 25parallel $J25 -gcutil
	"
else
	test_skip "JDK 25: every option as jstat" "no Temurin 25 in $J25"
fi

# -t: the columns after the timestamp are jstat's; the timestamp is the JVM's uptime, read
# a moment apart, so it only has to lie between two of jstat's.
test_expect_success '-t: a Timestamp column first, the JVM uptime in seconds' '
	$J17/jstat -gcutil -t $pid_17g1 >w1 &&
	offheap jstat -gcutil -t $pid_17g1 >got &&
	$J17/jstat -gcutil -t $pid_17g1 >w2 &&
	head -1 w1 >want.head && head -1 got >got.head && diff -u want.head got.head &&
	t1=$(awk "NR == 2 { print \$1 }" w1) && t=$(awk "NR == 2 { print \$1 }" got) &&
	t2=$(awk "NR == 2 { print \$1 }" w2) &&
	say "jstat $t1, offheap $t, jstat $t2" &&
	awk -v a=$t1 -v b=$t -v c=$t2 "BEGIN { exit !(a - 0.2 <= b && b <= c + 0.2) }" &&
	offheap jstat -t --json $pid_17g1 | jq -e ".Timestamp > 0 and .option == \"gc\""
'

for gc in serial parallel g1; do
	test_expect_success "JDK 17 $gc: offheap jstat PID = jstat -gc PID" "
		same_as_jstat 17$gc $J17
	"
	if [ -n "${have25:-}" ]; then
		test_expect_success "JDK 25 $gc: offheap jstat PID = jstat -gc PID" "
			same_as_jstat 25$gc $J25
		"
	else
		test_skip "JDK 25 $gc: offheap jstat PID = jstat -gc PID" "no Temurin 25 in $J25"
	fi
done

test_expect_success 'the GC was seen: YGC or FGC counted, old gen in use' '
	offheap jstat --json $pid_17serial >s.json &&
	jq -e "(.YGC + .FGC) >= 1 and .OU > 0 and .MU > 0 and .GCT > 0" s.json
'

test_expect_success '--json: extra counters of a G1 JVM with NMT' '
	offheap jstat --json $pid_17g1 >g.json &&
	jq -e ".pid == $pid_17g1 and .nmt == \"summary\" and .CGC != null" g.json &&
	jq -e ".threads.live >= 5 and .threads.peak >= .threads.live" g.json &&
	jq -e ".classes.loaded > 400 and .nmethod_code_bytes >= 0" g.json &&
	jq -e "(.vm_version | startswith(\"17.\")) and (.command | startswith(\"GcIdle \"))" g.json &&
	offheap jstat $pid_17g1 --json -gcutil | jq -e ".option == \"gcutil\" and .O > 0"
'

if [ -n "${have25:-}" ]; then
	test_expect_success '--json: JDK 25 with NMT detail, ParallelGC without collector 2' '
		offheap jstat --json $pid_25g1 | jq -e ".nmt == \"detail\"" &&
		offheap jstat --json $pid_25parallel >p.json &&
		jq -e ".CGC == null and .CGCT == null and (.vm_version | startswith(\"25\"))" p.json
	'
else
	test_skip '--json: JDK 25 with NMT detail, ParallelGC without collector 2' \
		"no Temurin 25 in $J25"
fi

test_expect_success 'INTERVAL COUNT and -hN: samples and repeated headers as jstat' '
	offheap jstat -h2 $pid_17g1 20ms 5 >out &&
	test $(grep -c "S0C" out) = 3 && test $(wc -l <out) = 8 &&
	$J17/jstat -gc -h2 $pid_17g1 20 5 >want &&
	test "$(grep -n S0C out | cut -d: -f1)" = "$(grep -n S0C want | cut -d: -f1)" &&
	offheap jstat --json $pid_17g1 1 3 | jq -s -e "length == 3"
'

# 600 samples 100 ms apart: a sampler that missed the exit would print all of them.
test_expect_success 'sampling stops when the JVM exits' '
	start_jvm short $J17 -XX:+UseSerialGC &&
	wait_ready "$TRASH/short.ready" 60 &&
	start_bg "$OFFHEAP" jstat $pid_short 100 600 >out &&
	sampler=$BG_PID &&
	wait_for 30 "test \$(wc -l <out) -ge 3" &&
	kill $pid_short &&
	wait $sampler &&
	n=$(wc -l <out) && say "$n lines" && test $n -lt 601
'

test_expect_success '--list shows the JVMs with hsperfdata, not the one without' '
	offheap jstat --list >out &&
	grep "^ *$pid_17g1 *summary *17\." out &&
	grep "^ *$pid_17serial " out &&
	! grep "^ *$pid_17noperf " out
'

test_expect_success 'a JVM with -XX:-UsePerfData: clear error and hint' '
	test_exit_code 1 offheap jstat $pid_17noperf 2>err &&
	grep "error: no hsperfdata for process $pid_17noperf" err &&
	grep "hint: process $pid_17noperf is a JVM without hsperfdata: it runs with -XX:-UsePerfData" err
'

test_expect_success 'not a JVM: clear error and hint' '
	start_bg sleep 300 &&
	test_exit_code 1 offheap jstat $BG_PID 2>err &&
	grep "error: no hsperfdata for process $BG_PID" err &&
	grep "hint: .offheap jstat --list" err
'

test_done
