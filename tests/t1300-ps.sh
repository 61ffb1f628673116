#!/bin/sh
# offheap ps on the live system: a helper holding anonymous memory and a JVM with NMT
# appear with the right marks and sizes; sort keys, --top, --jvm and --json hold.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

require_jdk17 java javac
setup_or_fail "javac compiles GcIdle.java" "$JDK17/javac" -d "$TRASH" "$TEST_DIRECTORY/java/GcIdle.java"
start_bg "$HELPERS/anonhold" 96 "$TRASH/hold.ready"
hold=$BG_PID
start_bg "$JDK17/java" -Xmx32m -XX:TieredStopAtLevel=1 -XX:NativeMemoryTracking=detail \
	-cp "$TRASH" GcIdle "$TRASH/jvm.ready" 120000 >"$TRASH/jvm.out" 2>&1
jvm=$BG_PID
wait_ready "$TRASH/hold.ready" 10 || fail_all "anonhold starts within 10 s"
wait_ready "$TRASH/jvm.ready" 60 || fail_all "the JVM starts within 60 s" "$TRASH/jvm.out"

test_expect_success 'the helper is listed with its anonymous memory, not as a JVM' '
	offheap ps --json >ps.json &&
	jq -e ".processes[] | select(.pid == $hold) |
		.anon >= 96 * 1048576 and .rss >= .anon and .jvm == false and .nmt == null and
		.threads == 1 and .name == \"anonhold\"" ps.json
'

test_expect_success 'RSS agrees with procps ps' '
	want=$(ps -o rss= -p $hold) &&
	got=$(offheap ps --json | jq ".processes[] | select(.pid == $hold) | .rss / 1024") &&
	within_pct "$got" "$want" 5
'

test_expect_success 'the JVM is marked, with its NMT level from hsperfdata' '
	jq -e ".processes[] | select(.pid == $jvm) | .jvm == true and .nmt == \"detail\"" \
		ps.json &&
	offheap ps >ps.txt &&
	grep -E "^ *$jvm .* yes +detail +$JDK17/java " ps.txt
'
test_expect_success '--raw --bytes --output: the exact RSS of the helper and its escaped command line' '
	offheap ps --raw --bytes --output pid,rss,command --no-headings >raw &&
	line=$(grep "^$hold " raw) &&
	rss=$(offheap ps --json | jq ".processes[] | select(.pid == $hold) | .rss") &&
	within_pct "$(echo "$line" | cut -d " " -f 2)" "$rss" 10 &&
	test "$(echo "$line" | cut -d " " -f 3-)" = "$HELPERS/anonhold\\x2096\\x20$TRASH/hold.ready" &&
	offheap ps --output pid,rss >human &&
	grep -E "^ *$hold +[0-9.]+[KM]$" human
'

test_expect_success '--jvm lists JVMs only' '
	offheap ps --jvm --json >jvm.json &&
	jq -e "[.processes[].jvm] | all" jvm.json &&
	jq -e "[.processes[].pid] | any(. == $jvm) and all(. != $hold)" jvm.json
'

test_expect_success 'sort orders hold: rss, anon, swap largest first, pid ascending' '
	for k in rss anon swap; do
		offheap ps --sort $k --json >s.json &&
		jq -e "[.processes[].$k // 0] as \$a | \$a == (\$a | sort | reverse)" s.json ||
		return 1
	done &&
	offheap ps --sort pid --json >s.json &&
	jq -e "[.processes[].pid] as \$a | \$a == (\$a | sort)" s.json &&
	offheap ps --sort anon --top 1 --json | jq -e ".processes | length == 1" &&
	offheap ps --top 3 >t.txt && test $(wc -l <t.txt) = 4 &&
	head -1 t.txt | grep -E "^ *PID +USER +THR +RSS +ANON +FILE +SWAP +JVM +NMT +COMMAND$"
'

test_expect_success '--sort anon: the first process holds at least the helper'"'"'s 96 MiB' '
	first=$(offheap ps --sort anon --json | jq ".processes[0].anon") &&
	test "$first" -ge $((96 * 1048576))
'

# Kernel threads: PF_KTHREAD (0x00200000) in the flags of /proc/PID/stat, field 9 (the
# name in field 2 may hold spaces and parentheses: fields are counted after the last ')').
kthreads() {
	for _f in /proc/[0-9]*/stat; do
		sed -n "s/^\([0-9]*\) .*) [A-Za-z] [-0-9]* [-0-9]* [-0-9]* [-0-9]* [-0-9]* \([0-9]*\) .*/\1 \2/p" \
			"$_f" 2>/dev/null
	done | awk "int(\$2 / 2097152) % 2 == 1 { print \$1 }"
}
# In a PID namespace of its own (a container) no kernel thread is visible.
if [ -n "$(kthreads)" ]; then
	test_expect_success 'kernel threads are left out' '
		kthreads >kt &&
		test -s kt &&
		offheap ps --json >k.json &&
		jq -e --slurpfile kt kt "[.processes[].pid] - \$kt == [.processes[].pid]" k.json &&
		jq -e --slurpfile kt kt ".processes | length > 3" k.json
	'
else
	test_skip 'kernel threads are left out' 'no kernel thread is visible (a PID namespace of its own)'
fi

if [ "$(id -u)" = 0 ]; then
	test_expect_success 'as an unprivileged user: other users processes still listed, JVM "?"' '
		offheap_as_nobody ps --json >u.json &&
		jq -e ".processes[] | select(.pid == $hold) | .jvm == null and .rss > 0" u.json &&
		jq -e ".processes[] | select(.pid == $jvm) | .jvm == null and .nmt == null" u.json
	'
else
	test_skip 'as an unprivileged user: other users processes still listed, JVM "?"' \
		'needs root (to run as nobody with setpriv)'
fi

# 400 short processes started one after another while ps scans 15 times.
test_expect_success 'processes that come and go during the scan: no error' '
	start_bg sh -c "i=0; while [ \$i -lt 400 ]; do /bin/true; i=\$((i + 1)); done" &&
	churn=$BG_PID &&
	n=0 &&
	while [ $n -lt 15 ]; do
		offheap ps --json >c.json 2>c.err &&
		test ! -s c.err &&
		jq -e ".processes | length > 3" c.json >/dev/null ||
		{ cat c.err; return 1; }
		n=$((n + 1))
	done &&
	wait $churn
'

test_expect_success 'usage errors exit 2' '
	test_exit_code 2 offheap ps --sort size &&
	test_exit_code 2 offheap ps --top 0 &&
	test_exit_code 2 offheap ps extra &&
	offheap ps --help | grep EXAMPLES
'

test_done
