#!/bin/sh
# A full disk, said once and clearly by every command that writes a recording: one error
# line naming the file the user gave (not the temporary file it is written as), the reason
# once (never two errors glued together), a hint, and no file left that holds nothing.
# The disk is a 512 KiB tmpfs filled to a few sizes, so that the write fails at the start,
# at the first sample, or later.
. "$(dirname "$0")/test-lib.sh"

small_disk 512

start_bg sleep 120
SP=$BG_PID

# check_err FILE NAME: a failure's stderr FILE, for the output NAME, is one clear message.
check_err() {
	cat "$1"
	test "$(grep -c "^offheap: error:" "$1")" = 1 &&
	! grep "\.tmp-" "$1" &&
	! grep "full[a-z]" "$1" &&
	test "$(grep "^offheap: error:" "$1" | grep -o "disk is full" | wc -l)" = 1 &&
	grep "^offheap: error: .*$NAME\|^offheap: error: .*allocation data\|^offheap: error: .*the recording" "$1" &&
	grep "^hint: .*full" "$1"
}

test_expect_success 'snap, watch, doctor -o, record: one clear message for a full disk' '
	failed=0 &&
	for k in 90 70 50 30 10; do
		say "about $k KiB free" &&
		fill $k &&
		if ! "$OFFHEAP" snap $SP -o "$SMALL/s.db" >out 2>err; then
			NAME=s.db check_err err && failed=$((failed + 1)) || return 1
		fi &&
		if ! "$OFFHEAP" watch -d 1s -i 200ms -o "$SMALL/w.db" $SP >out 2>err; then
			NAME=w.db check_err err && failed=$((failed + 1)) || return 1
		fi &&
		if ! "$OFFHEAP" doctor -q -d 1s -o "$SMALL/d.db" $SP >out 2>err; then
			NAME=d.db check_err err && failed=$((failed + 1)) || return 1
		fi &&
		if ! "$OFFHEAP" record --exact --follow-fork -i 20ms -o "$SMALL/r.db" -- \
			"$HELPERS/forkleak" 3 >out 2>err; then
			NAME=r.db check_err err && failed=$((failed + 1)) || return 1
			# a recording that could not even get its tables is removed
			if grep "cannot create tables" err; then ! test -e "$SMALL/r.db" || return 1; fi
		fi || return 1
	done &&
	say "$failed runs failed on the full disk" &&
	test $failed -ge 8
'

stop_bg $SP
test_done
