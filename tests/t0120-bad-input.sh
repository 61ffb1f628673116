#!/bin/sh
# Bad input on live processes: no such PID, permission denied, a process that exits mid-read.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'no such PID: the exact message, exit 1' '
	pid=4194303 &&
	while test -d /proc/$pid; do pid=$((pid - 1)); done &&
	test_exit_code 1 offheap maps $pid 2>err &&
	echo "offheap: error: no process $pid" >want &&
	diff -u want err
'

test_expect_success 'no process by that name: exit 1' '
	test_exit_code 1 offheap maps no-such-process-name-xyz 2>err &&
	grep "offheap: error: no process named .no-such-process-name-xyz." err
'

test_expect_success 'a kernel thread has no memory map: clear error' '
	test_exit_code 1 offheap maps 2 2>err &&
	grep "has no user memory" err
'

if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	test_expect_success 'permission denied: error and a hint, exit 1' '
		start_bg "$HELPERS/leaker" --lifetime 30 --ready ready &&
		wait_ready ready &&
		test_exit_code 1 offheap_as_nobody maps $BG_PID 2>err &&
		grep "offheap: error: cannot read /proc/$BG_PID/smaps: Permission denied" err &&
		grep "^hint: run as the process owner or as root" err
	'
else
	test_skip 'permission denied: error and a hint, exit 1' 'needs root and setpriv'
fi

# Processes that exit while offheap reads them: every run must end in a whole map
# (exit 0: the header, the column line and the total, nothing on stderr; read before
# the exec it is the map of a copy of this shell) or in one
# error line saying the process went (exit 1, nothing on stdout); any other exit
# code, a partial map, a second message or another error fails. Bounded: 40 processes.
test_expect_success 'a process exiting mid-read: a whole map or its one error line' '
	i=0 && errors=0 &&
	while [ $i -lt 40 ]; do
		# Lifetimes from 0 to 28 ms put the exit at every stage of the snapshot.
		lt=$(awk -v i=$i "BEGIN { printf \"%.4f\", (i % 20) * 0.0015 }") &&
		start_bg "$HELPERS/leaker" --maps 3000 --idle-threads 4 --lifetime $lt &&
		p=$BG_PID &&
		{ offheap maps $p >out 2>err; rc=$?; } &&
		{ wait $p || { echo "leaker $p: exit $?"; return 1; }; } &&
		case $rc in
		0)	test ! -s err &&
			head -n 1 out | grep -q "^$p: " &&
			sed -n 2p out | grep -q "^Address  *Perm  *Offset" &&
			test "$(grep -c "^total " out)" = 1 && tail -n 1 out | grep -q "^total " ;;
		1)	test ! -s out && test "$(wc -l <err)" = 1 &&
			grep -Eq "^offheap: error: (no process $p|process $p exited during the snapshot|process $p has exited|cannot read /proc/$p/[a-z_]+: (No such process|No such file or directory))" err &&
			errors=$((errors + 1)) ;;
		*)	false ;;
		esac ||
		{ echo "run $i (lifetime $lt s): exit $rc"; head -n 3 out; tail -n 1 out; cat err; return 1; }
		i=$((i + 1))
	done &&
	say "$errors of 40 runs saw the process go"
'

test_expect_success 'a zombie: it has exited, exit 1' '
	start_bg sh -c "sleep 0.1 & exec sleep 20" &&
	wait_for 10 "pgrep -P $BG_PID >kid && grep -q \"^State:[[:space:]]*Z\" /proc/\$(cat kid)/status" &&
	z=$(cat kid) &&
	test_exit_code 1 offheap maps $z 2>err &&
	grep "offheap: error: process $z has exited (a zombie its parent has not reaped)" err
'

test_expect_success 'unknown command: exit 2' '
	test_exit_code 2 offheap frobnicate 2>err && grep "is not an offheap command" err
'

test_expect_success 'help and version go to stdout, exit 0' '
	offheap --help | grep "^usage: offheap" &&
	offheap maps --help | grep EXAMPLES &&
	offheap help maps | grep "offheap maps PID" &&
	offheap --version | grep "^offheap [0-9]"
'

test_done
