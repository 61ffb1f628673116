#!/bin/sh
# offheap snap of a process that exits while it is being read: exit 1 with a clean
# message, and neither FILE nor its temporary file is left behind.
. "$(dirname "$0")/test-lib.sh"

# 60000 mappings make /proc/PID/smaps long enough to read that the helper can be
# killed in the middle of it. Each try: start, snap in the background, kill, reap.
# The outcome of one try depends on timing; a try that ends before the kill is
# fine (a whole file); what must hold is: never a partial file, never a temporary,
# and at least one try catches the exit mid-snapshot.
try_once() {
	rm -f ready
	start_bg "$HELPERS/leaker" --maps 60000 --ready ready --lifetime 60
	lp=$BG_PID
	wait_ready ready 20 || { kill -KILL $lp; wait $lp; return 2; }
	"$OFFHEAP" snap $lp -o out/s.db 2>err &
	sp=$!
	sleep "$1"
	kill -KILL $lp
	wait $lp 2>/dev/null
	wait $sp
	rc=$?
	cat err
	ls -A out
	if [ $rc -eq 0 ]; then
		test "$(sqlite3 out/s.db "SELECT count(*) FROM region")" -gt 60000 || return 1
		rm out/s.db
		return 3
	fi
	[ $rc -eq 1 ] || { echo "exit code $rc"; return 1; }
	[ -z "$(ls -A out)" ] || { echo "left behind: $(ls -A out)"; return 1; }
	if grep -qx "offheap: error: process $lp exited during the snapshot" err; then
		return 0
	fi
	# Killed before the snapshot began, or while the file was written.
	grep -q "^offheap: error: no process $lp$" err && return 3
	echo "unexpected message"
	return 1
}

test_expect_success 'a process that exits during the snapshot leaves no file' '
	mkdir out &&
	caught=0 &&
	for delay in 0.2 0.3 0.1 0.4 0.05 0.15; do
		try_once $delay
		rc=$?
		[ $rc -eq 0 ] && { caught=1; break; }
		[ $rc -eq 3 ] || return 1
	done &&
	test $caught = 1
'

# Interrupted (Ctrl-C, a timeout's SIGTERM) while reading: the temporary file goes too.
test_expect_success 'snap killed by SIGTERM or SIGINT leaves no temporary file' '
	rm -f ready &&
	start_bg "$HELPERS/leaker" --maps 60000 --ready ready --lifetime 60 &&
	lp=$BG_PID &&
	wait_ready ready 20 &&
	caught=0 &&
	# Several delays: a snap of 60,000 mappings takes 0.1 to 1 s with the load.
	for try in TERM:0.01 INT:0.03 TERM:0.06 INT:0.1 TERM:0.2 INT:0.3; do
		sig=${try%%:*} delay=${try#*:}
		# not the offheap function: $! must be the offheap process itself
		"$OFFHEAP" snap $lp -o out/s.db 2>err &
		sp=$!
		sleep $delay
		kill -$sig $sp
		wait $sp
		rc=$?
		if [ $rc -eq 0 ]; then
			rm out/s.db
			continue
		fi
		test $rc -gt 128 || { echo "exit code $rc"; return 1; }
		# A signal after the rename, before the exit: the file is whole, and kept.
		if test -e out/s.db; then
			test "$(sqlite3 out/s.db "SELECT count(*) FROM region")" -gt 60000 ||
				{ echo "a partial s.db"; return 1; }
			rm out/s.db
			continue
		fi
		test -z "$(ls -A out)" || { echo "left behind: $(ls -A out)"; return 1; }
		caught=$((caught + 1))
	done &&
	kill -KILL $lp &&
	test $caught -ge 1
'

test_done
