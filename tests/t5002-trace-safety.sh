#!/bin/sh
# offheap trace leaves its target as it found it: detaches on every way out, passes signals
# on, keeps group-stops, and refuses clearly when it cannot trace.
. "$(dirname "$0")/test-lib.sh"

cp "$HELPERS/mmapper" ./mm-t5002 || exit 1
start_bg ./mm-t5002 --lifetime 60 --grow-rate 10 --churn-rate 50 --spawn-rate 50 \
	--ready ready --heartbeat beat --usr1 usr1
pid=$BG_PID
wait_ready ready || { echo "not ok - helper did not start"; exit 1; }

# still_runs: the helper is untraced, not stopped, and its heartbeat moves on.
still_runs() {
	grep -q "^TracerPid:[[:space:]]*0$" /proc/$pid/status &&
	! grep -q "^State:[[:space:]]*[tT]" /proc/$pid/status &&
	for tid in $(ls /proc/$pid/task); do
		grep -q "^TracerPid:[[:space:]]*0$" /proc/$pid/task/$tid/status 2>/dev/null ||
			test ! -e /proc/$pid/task/$tid || return 1
	done &&
	b1=$(cat beat) && wait_for 5 "test \$(cat beat) -gt $b1"
}

# traced_a_while: the target, traced, has gone 25 beats on (about half a
# second of its own work, with some 25 maps and unmaps of its churner).
traced_a_while() {
	_b=$(cat beat) && wait_for 10 "test \$(cat beat) -ge $((_b + 25))"
}

test_expect_success 'threads born and dying during the trace are followed, never hung on' '
	offheap trace $pid -d 2s --json >spawn.json &&
	n=$(jq "[.threads[] | select(.name == \"spawner\" or .name == \"mm-t5002\")] | length" spawn.json) &&
	echo "short-lived threads seen: $n" &&
	test "$n" -ge 20 &&
	still_runs
'

test_expect_success 'SIGINT ends an attached trace with a report, and the target runs on' '
	"$OFFHEAP" trace $pid --json >int.json &
	tp=$! &&
	wait_for 10 "grep -q \"^TracerPid:[[:space:]]*$tp\$\" /proc/$pid/status" &&
	traced_a_while &&
	kill -INT $tp &&
	{ wait $tp; rc=$?; } ;
	test "$rc" = 0 &&
	jq -e ".calls > 0" int.json &&
	still_runs
'

test_expect_success 'SIGTERM likewise' '
	"$OFFHEAP" trace $pid >term.txt &
	tp=$! &&
	wait_for 10 "grep -q \"^TracerPid:[[:space:]]*$tp\$\" /proc/$pid/status" &&
	traced_a_while &&
	kill -TERM $tp &&
	{ wait $tp; rc=$?; } ;
	test "$rc" = 0 &&
	grep -q "^Per thread:" term.txt &&
	still_runs
'

test_expect_success 'signals reach the target while traced' '
	"$OFFHEAP" trace $pid -d 3s >sig.txt &
	tp=$! &&
	wait_for 10 "grep -q \"^TracerPid:[[:space:]]*$tp\$\" /proc/$pid/status" &&
	kill -USR1 $pid &&
	wait_for 5 "test -s usr1" &&
	wait $tp &&
	test "$(cat usr1)" = 1 &&
	still_runs
'

test_expect_success 'a group-stop stays a stop while traced, SIGCONT resumes' '
	"$OFFHEAP" trace $pid -d 3s >stop.txt &
	tp=$! &&
	wait_for 10 "grep -q \"^TracerPid:[[:space:]]*$tp\$\" /proc/$pid/status" &&
	kill -STOP $pid &&
	wait_for 5 "grep -q \"^State:[[:space:]]*T\" /proc/$pid/status" &&
	b1=$(cat beat) && sleep 0.3 && test "$(cat beat)" = "$b1" &&
	kill -CONT $pid &&
	wait_for 5 "test \$(cat beat) -gt $b1" &&
	wait $tp &&
	still_runs
'

test_expect_success 'a target stopped before the trace is still stopped after it' '
	kill -STOP $pid &&
	wait_for 5 "grep -q \"^State:[[:space:]]*T\" /proc/$pid/status" &&
	offheap trace $pid -d 500ms >stopped.txt
	rc=$?
	# After the detach the kernel puts the thread back in its group stop; on a
	# loaded machine "t (tracing stop)" can show for a moment first.
	wait_for 5 "grep -q \"^State:[[:space:]]*T\" /proc/$pid/status" &&
	wait_for 5 "grep -q \"^TracerPid:[[:space:]]*0\$\" /proc/$pid/status"
	ok=$?
	kill -CONT $pid
	test $rc -eq 0 && test $ok -eq 0 && still_runs
'

test_expect_success 'a target already traced is refused with the tracer named' '
	"$OFFHEAP" trace $pid -d 20s >first.txt 2>&1 &
	tp=$! &&
	wait_for 5 "grep -q \"^TracerPid:[[:space:]]*$tp\$\" /proc/$pid/status" &&
	test_exit_code 1 offheap trace $pid -d 1s 2>err &&
	kill -INT $tp && wait $tp &&
	cat err &&
	grep "offheap: error: process $pid is already traced by process $tp (offheap)" err &&
	grep "^hint: " err &&
	still_runs
'

test_expect_success 'EPERM: nobody may not trace a root process' '
	command -v setpriv >/dev/null || { echo "setpriv missing"; return 1; }
	test_exit_code 1 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$OFFHEAP" trace $pid -d 1s 2>err &&
	cat err &&
	grep "offheap: error: cannot trace process $pid: Operation not permitted" err &&
	grep "^hint: run as the process owner or as root" err &&
	still_runs
'

test_expect_success 'a target that exits ends the trace (no wait for -d)' '
	start_bg ./mm-t5002 --lifetime 3 --no-churn --ready ready.short &&
	short=$BG_PID &&
	wait_ready ready.short &&
	offheap trace $short -d 60s --json >exit.json &&
	jq -e ".duration_ms < 10000" exit.json &&
	jq -e "[.by_thread_name[] | select(.thread == \"pool-grower\")] | length == 1" exit.json
'

stop_bg $pid
test_done
