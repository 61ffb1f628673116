#!/bin/sh
# offheap record when things go wrong: the disk fills up (a 512 KiB tmpfs), the target
# is SIGKILLed, offheap itself is SIGKILLed; and recordings that are truncated or another
# program's SQLite database given to report and diff. The recording stays readable, the
# target unharmed, errors are clear, nothing crashes.
. "$(dirname "$0")/test-lib.sh"

STRESS="$HELPERS/stress"
STEP=4096
NAP_MS=5
INTERVAL_MS=200

# live_at_end DB: live bytes at the last interval of the stack that grows (stress_malloc).
live_at_end() {
	sqlite3 "$1" "SELECT coalesce(sum(s.live_bytes), 0) FROM alloc_site s
		JOIN alloc_frame f ON f.stack_id = s.stack_id AND f.level = 0
		WHERE f.function = 'stress_malloc' AND s.interval_id =
		(SELECT max(x.interval_id) FROM alloc_site x WHERE x.stack_id = s.stack_id)"
}

# biggest_at_end DB: the live bytes of the biggest stack at the last interval (the growing
# one), for a recording whose stacks have no names (they are written when record ends).
biggest_at_end() {
	sqlite3 "$1" "SELECT coalesce(max(s.live_bytes), 0) FROM alloc_site s
		WHERE s.interval_id = (SELECT max(x.interval_id) FROM alloc_site x
		WHERE x.stack_id = s.stack_id)"
}

# the bytes the grow helper has reported holding (it may hold one step more)
progress() { sed 's/^0*//; s/^$/0/' "$1"; }

test_expect_success 'SIGKILL of the target: readable, its last counters all there' '
	start_bg "$OFFHEAP" record --exact -i ${INTERVAL_MS}ms -o tk.db -- \
		"$STRESS" grow $STEP 3000 $NAP_MS "$TRASH/tk.progress" &&
	rp=$BG_PID &&
	wait_for 20 "test -s tk.progress && test \$(progress tk.progress) -gt 400000" &&
	pid=$(sqlite3 tk.db "SELECT pid FROM alloc_run LIMIT 1") &&
	kill -KILL $pid &&
	{ wait $rp; rc=$?; } ; test $rc = 137 &&
	held=$(progress tk.progress) && got=$(live_at_end tk.db) &&
	echo "held $held, recorded $got" &&
	test "$got" -ge "$held" && test "$got" -le $((held + STEP)) &&
	test "$(sqlite3 tk.db "SELECT final FROM alloc_interval ORDER BY id DESC LIMIT 1")" = 1 &&
	"$OFFHEAP" report tk.db >out && grep -q "stress_malloc" out
'

test_expect_success 'SIGKILL of offheap record: readable, at most one interval lost' '
	start_bg "$OFFHEAP" record --exact -i ${INTERVAL_MS}ms -o rk.db -- \
		"$STRESS" grow $STEP 3000 $NAP_MS "$TRASH/rk.progress" &&
	rp=$BG_PID &&
	wait_for 20 "test -s rk.progress && test \$(progress rk.progress) -gt 400000" &&
	pid=$(sqlite3 rk.db "SELECT pid FROM alloc_run LIMIT 1") &&
	shm=$(tr "\0" "\n" </proc/$pid/environ | sed -n "s/^OFFHEAP_OUT=//p") &&
	kill -KILL $rp && wait $rp;
	held=$(progress rk.progress) &&
	# the target runs on without its recorder: it is ours to stop
	kill -KILL $pid && rm -f "$shm" &&
	got=$(biggest_at_end rk.db) && echo "held $held, recorded $got" &&
	# it grows by at most STEP every NAP_MS: what one interval (and as much again for
	# scheduling) can add, an interval being as late as the machine is loaded
	test "$got" -gt 0 && test "$got" -le "$held" &&
	test $((held - got)) -le $((2 * INTERVAL_MS / NAP_MS * STEP * OFFHEAP_TIME_FACTOR)) &&
	test "$(sqlite3 rk.db "PRAGMA integrity_check")" = ok &&
	"$OFFHEAP" report rk.db >out && grep -q "intervals" out
'

test_expect_success 'a truncated recording: report and diff say so, exit 1' '
	cp tk.db cut.db && truncate -s $(($(stat -c %s cut.db) / 2)) cut.db &&
	test_exit_code 1 "$OFFHEAP" report cut.db >out 2>err &&
	grep "^offheap: error: .cut.db. is truncated: " err && ! test -s out &&
	test_exit_code 1 "$OFFHEAP" diff cut.db tk.db >out 2>err &&
	grep "^offheap: error: .cut.db. is truncated: " err &&
	head -c 1000 tk.db >cut2.db &&
	test_exit_code 1 "$OFFHEAP" report cut2.db 2>err && grep "truncated" err
'

test_expect_success 'another program'\''s SQLite database: report and diff refuse it' '
	sqlite3 foreign.db "CREATE TABLE alloc_site (x); INSERT INTO alloc_site VALUES (1);" &&
	test_exit_code 1 "$OFFHEAP" report foreign.db >out 2>err &&
	grep "^offheap: error: .foreign.db. is an SQLite database of another program" err &&
	test_exit_code 1 "$OFFHEAP" diff foreign.db tk.db >out 2>err &&
	grep "^offheap: error: .foreign.db. is an SQLite database of another program" err
'

SMALL="$TRASH/small"
mkdir "$SMALL"
if ! mount -t tmpfs -o size=512k tmpfs "$SMALL" 2>/dev/null; then
	test_skip 'full disk while recording' 'cannot mount a tmpfs here (needs root)'
	test_done
fi

test_expect_success 'full disk while recording: said once, an error at the end, exit 1' '
	"$STRESS" 8 40000 30 30 60 >plain.out &&
	# 480 KiB of 512 taken: the recording starts (18 KiB), then fills the rest within
	# its first 100 intervals of about 180
	dd if=/dev/zero of="$SMALL/filler" bs=1k count=480 2>/dev/null &&
	test_exit_code 1 "$OFFHEAP" record --exact -i 20ms -o "$SMALL/rec.db" -- \
		"$STRESS" 8 40000 30 30 60 >rec.out 2>err;
	rc=$?; cat err; test $rc = 0 &&
	cmp plain.out rec.out &&
	test "$(grep -c "misses intervals" err)" = 1 &&
	# the function names, stored once per address, may fit in what the intervals left
	grep "^offheap: error: the recording .*small/rec.db. is incomplete: [0-9]* intervals\( and the function names\)\? could not be written (.*disk is full)$" err &&
	grep "^hint: free space" err &&
	test "$(sqlite3 "$SMALL/rec.db" "PRAGMA integrity_check")" = ok &&
	test "$(ls -A "$SMALL" | sort | tr "\n" " ")" = "filler rec.db " &&
	"$OFFHEAP" report "$SMALL/rec.db" >out && grep -q intervals out
'

umount "$SMALL"

test_done
