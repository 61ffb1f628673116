#!/bin/sh
# offheap record -p on a target in its own pid namespace (unshare --pid --fork
# --mount-proc), where the recorder's pid means nothing: the recorder passes pid=0 and
# stores a heartbeat in the shared file's header at each step; the tracker detaches when
# asked through the header, or by itself once the heartbeat has stood still for 5 s. So a
# recorder killed with SIGKILL leaves a target that unpatches itself and keeps running.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

command -v unshare >/dev/null || skip_all "needs unshare"
unshare --pid --fork --mount-proc true 2>/dev/null ||
	skip_all "unshare cannot make a pid namespace here"

# ns_target NAME: starts attachee in a pid namespace of its own; sets T to its pid here.
ns_target() {
	start_bg unshare --pid --fork --kill-child --mount-proc "$HELPERS/attachee" \
		--ready "$TRASH/$1-ready" --until "$TRASH/$1-until" --lifetime 100 \
		--wait-lib liboffheap.so --attached "$TRASH/$1-attached" \
		--leak-size 65536 --leak-max 300
	U=$BG_PID
	wait_ready "$TRASH/$1-ready" 30 &&
	T=$(cat /proc/$U/task/$U/children) &&
	T=${T%% *} &&
	test -n "$T" &&
	test "$(readlink /proc/$T/ns/pid)" != "$(readlink /proc/self/ns/pid)"
}

test_expect_success 'a target in another pid namespace' '
	ns_target a
'

test_expect_success 'record -p attaches by heartbeat, records, detaches' '
	"$OFFHEAP" record -p $T -d 2s -i 200ms --exact -o a.db 2>err ||
		{ cat err; return 1; }
	cat err &&
	grep -q "^offheap record: attached to process $T (by ptrace); " err &&
	grep -q "^offheap record: detached from process $T; " err &&
	test -s a-attached &&
	"$OFFHEAP" report a.db --top 1 >out &&
	sed -n "/^#1/,/^\$/p" out >top &&
	grep -q attachee_leak_after_attach top &&
	wait_for 10 "! cat /proc/$T/task/*/comm 2>/dev/null | grep -q offheap-watch"
'

test_expect_success 'after the detach the target ends right' '
	touch a-until &&
	test_exit_code 0 wait $U
'

test_expect_success 'another target in its own pid namespace' '
	ns_target b
'

test_expect_success 'the recorder killed by SIGKILL: the target detaches itself and runs on' '
	start_bg "$OFFHEAP" record -p $T -d 200s --sample 64k -o b.db 2>b-err &&
	R=$BG_PID &&
	wait_for 30 "grep -q \"^offheap record: attached to process $T\" b-err" &&
	cat /proc/$T/task/*/comm 2>/dev/null | grep -q offheap-watch &&
	kill -KILL $R &&
	wait_for 30 "! cat /proc/$T/task/*/comm 2>/dev/null | grep -q offheap-watch" &&
	kill -0 $T &&
	# what a recorder killed by SIGKILL cannot remove: its pid file (left, it would
	# outlast the run, and a later process given this PID would find it)
	grep -qx "$R" /tmp/offheap-$(id -u)/record-$T.pid &&
	rm -f /tmp/offheap-$(id -u)/record-$T.pid
'

test_expect_success 'and then ends right' '
	touch b-until &&
	test_exit_code 0 wait $U
'

test_done
