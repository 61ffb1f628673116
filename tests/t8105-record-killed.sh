#!/bin/sh
# offheap record killed by SIGKILL: the tracker's shared file (/tmp/offheap-track.*, several
# MiB) is not left behind, and the recording says it was cut short instead of passing its
# unnamed stacks off as the tracker's "other" entry.
. "$(dirname "$0")/test-lib.sh"

STEP=4096
NAP_MS=5

progress() { sed 's/^0*//; s/^$/0/' "$1"; }

test_expect_success 'SIGKILL of record: no tracker file left, the report says it was cut short' '
	start_bg "$OFFHEAP" record --exact --follow-fork -i 100ms -o rk.db -- \
		"$HELPERS/stress" grow $STEP 3000 $NAP_MS "$TRASH/rk.progress" &&
	rp=$BG_PID &&
	wait_for 20 "test -s rk.progress && test \$(progress rk.progress) -gt 200000" &&
	# three intervals written (a growth needs them), however late a loaded machine makes them
	wait_for 20 "test \$(sqlite3 rk.db \"SELECT count(*) FROM alloc_interval\" 2>/dev/null || echo 0) -ge 4" &&
	pid=$(sqlite3 rk.db "SELECT pid FROM alloc_run LIMIT 1") &&
	shm=$(tr "\0" "\n" </proc/$pid/environ | sed -n "s/^OFFHEAP_OUT=//p") &&
	dir=$(tr "\0" "\n" </proc/$pid/environ | sed -n "s/^OFFHEAP_FOLLOW=//p") &&
	echo "tracker file $shm, follow directory $dir" &&
	test -f "$shm" && test -d "$dir" &&
	kill -KILL $rp && { wait $rp; rc=$?; } ; test $rc = 137 &&
	wait_for 10 "! test -e \"$shm\" && ! test -e \"$dir\"" &&
	# the target runs on, its mapping intact; it is ours to stop
	grep -q "offheap-track" /proc/$pid/maps &&
	kill -KILL $pid &&
	"$OFFHEAP" report rk.db >out &&
	cat out &&
	grep "^the recording was cut short: it has no end (offheap record was killed" out &&
	# the frames were not named (names are written when record ends): their addresses
	grep "^#1 GROWING" -A2 out | grep "^ *site: 0x[0-9a-f]*$" &&
	grep "^#1 GROWING" -A2 out | grep "^ *0x[0-9a-f]*$" &&
	! grep "(other: stacks beyond the tracker" out &&
	"$OFFHEAP" report --format html -o rk.html rk.db &&
	! grep -q "stacks beyond the tracker" rk.html
'

test_expect_success 'a record that ends well leaves no guardian and no file behind' '
	"$OFFHEAP" record --exact -o ok.db -- "$HELPERS/stress" grow $STEP 20 1 "$TRASH/ok.progress" >out 2>err &&
	"$OFFHEAP" report ok.db >rep &&
	! grep "cut short" rep && ! grep "no frames" rep
'

test_done
