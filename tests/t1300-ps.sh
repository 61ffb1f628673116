#!/bin/sh
# offheap ps on the live system: a helper holding anonymous memory and a JVM with NMT
# appear with the right marks and sizes; sort keys, --top, --jvm and --json hold.
. "$(dirname "$0")/test-lib.sh"

start_bg "$HELPERS/anonhold" 96 "$TRASH/hold.ready"
hold=$BG_PID
if [ -x /usr/bin/java ] && [ -x /usr/bin/javac ]; then
	javac -d "$TRASH" "$TEST_DIRECTORY/java/GcIdle.java" &&
	start_bg java -Xmx32m -XX:TieredStopAtLevel=1 -XX:NativeMemoryTracking=detail \
		-cp "$TRASH" GcIdle "$TRASH/jvm.ready" 120000 &&
	jvm=$BG_PID
fi
wait_ready "$TRASH/hold.ready" 10 || exit 1
[ -n "${jvm:-}" ] && { wait_ready "$TRASH/jvm.ready" 60 || exit 1; }

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

if [ -n "${jvm:-}" ]; then
	test_expect_success 'the JVM is marked, with its NMT level from hsperfdata' '
		jq -e ".processes[] | select(.pid == $jvm) | .jvm == true and .nmt == \"detail\"" \
			ps.json &&
		offheap ps >ps.txt &&
		grep -E "^ *$jvm .* yes +detail +java " ps.txt
	'
	test_expect_success '--jvm lists JVMs only' '
		offheap ps --jvm --json >jvm.json &&
		jq -e "[.processes[].jvm] | all" jvm.json &&
		jq -e "[.processes[].pid] | any(. == $jvm) and all(. != $hold)" jvm.json
	'
else
	test_skip 'the JVM is marked, with its NMT level from hsperfdata' 'no JDK at /usr/bin'
	test_skip '--jvm lists JVMs only' 'no JDK at /usr/bin'
fi

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

test_expect_success 'kernel threads are left out' '
	if grep -q "^Kthread:.*1" /proc/2/status 2>/dev/null || test "$(cat /proc/2/comm)" = kthreadd
	then
		jq -e "[.processes[].pid] | all(. != 2)" ps.json
	fi
'

test_expect_success 'as an unprivileged user: other users processes still listed, JVM "?"' '
	command -v setpriv >/dev/null || { echo "no setpriv"; return 0; }
	offheap_as_nobody ps --json >u.json &&
	jq -e ".processes[] | select(.pid == $hold) | .jvm == null and .rss > 0" u.json &&
	if [ -n "${jvm:-}" ]; then
		jq -e ".processes[] | select(.pid == $jvm) | .jvm == null and .nmt == null" u.json
	fi
'

test_expect_success 'processes that come and go during the scan: no error' '
	( i=0; while [ $i -lt 400 ]; do /bin/true; i=$((i + 1)); done ) &
	churn=$!
	n=0
	while [ $n -lt 15 ]; do
		offheap ps --json >c.json && jq -e ".processes | length > 3" c.json >/dev/null ||
			{ kill $churn; exit 1; }
		n=$((n + 1))
	done
	kill $churn 2>/dev/null
	wait $churn
	true
'

test_expect_success 'usage errors exit 2' '
	test_exit_code 2 offheap ps --sort size &&
	test_exit_code 2 offheap ps --top 0 &&
	test_exit_code 2 offheap ps extra &&
	offheap ps --help | grep EXAMPLES
'

test_done
