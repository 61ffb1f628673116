#!/bin/sh
# offheap record writes exactly one final interval per run (alloc_interval.final = 1), and it is
# the run's last: the exit handshake's copy, not one more per poll until the process is gone.
. "$(dirname "$0")/test-lib.sh"

# one_final_per_run DB: every run has exactly one final row, and no row after it
one_final_per_run() {
	sqlite3 "$1" "SELECT r.id, (SELECT count(*) FROM alloc_interval i
		WHERE i.run_id = r.id AND i.final = 1) FROM alloc_run r" >finals &&
	cat finals &&
	test -s finals &&
	! grep -v "|1$" finals &&
	test "$(sqlite3 "$1" "SELECT count(*) FROM alloc_interval i WHERE i.id > (SELECT f.id
		FROM alloc_interval f WHERE f.run_id = i.run_id AND f.final = 1)")" = 0
}

test_expect_success 'a program that exits: one final interval, its last' '
	"$OFFHEAP" record --exact -i 10ms -o grow.db -- "$HELPERS/trackee" grow 10 &&
	test "$(sqlite3 grow.db "SELECT count(*) FROM alloc_run")" = 1 &&
	one_final_per_run grow.db
'

test_expect_success 'the final interval holds what the program held at its exit' '
	test "$(sqlite3 grow.db "SELECT live_bytes FROM alloc_interval WHERE final = 1")" = 40960
'

test_expect_success 'a program killed by a signal (no exit handshake): one final interval' '
	test_exit_code 137 "$OFFHEAP" record --exact -i 10ms -o killed.db -- \
		sh -c "kill -KILL \$\$" &&
	one_final_per_run killed.db
'

test_expect_success 'an image that execs: one final interval per run' '
	"$OFFHEAP" record --exact -i 10ms -o exec.db -- \
		sh -c "\"$HELPERS/trackee\" exit 0; exec \"$HELPERS/trackee\" grow 5" &&
	test "$(sqlite3 exec.db "SELECT count(*) FROM alloc_run")" = 2 &&
	one_final_per_run exec.db
'

test_done
