#!/bin/sh
# liboffheap.so attached to a running process that did not start with it
# (offheap_attach / offheap_detach, issue 15), without offheap record: the
# helper dlopens the library itself. 50 attach/detach cycles while 16
# threads run a malloc family and mmap storm that checks its own results,
# the program linked three ways (the default, full RELRO, lazy binding
# without RELRO); after each detach every GOT entry holds what it held
# before, no stack freed more than it allocated (frees of blocks from
# before the attach count nothing) and blocks from the attach are freed
# after it. The recorder killed while attached (reaped, or a zombie): the
# library detaches itself and the program goes on, unpatched.
TEST_TIMEOUT=400
. "$(dirname "$0")/test-lib.sh"

LIB=$BUILD/liboffheap.so

for v in attacher attacher-relro attacher-lazy; do
	test_expect_success "$v: 50 attach/detach cycles under a 16-thread storm" '
		: >"track.$v" &&
		"$HELPERS/$v" "$LIB" "$TRASH/track.$v" 50 16 >"out.$v" &&
		grep "^cycles 50 ops [0-9]* errors 0 stacks [0-9]*$" "out.$v"
	'
done

test_expect_success 'the recorder killed while attached: the library detaches itself' '
	start_bg sleep 3600 && rec=$BG_PID &&
	: >track.w &&
	start_bg "$HELPERS/attacher" --watch "$LIB" "$TRASH/track.w" "$rec" "$TRASH/ready" \
		>out.w && tgt=$BG_PID &&
	wait_ready ready &&
	stop_bg "$rec" &&
	wait "$tgt" &&
	grep "^detached itself$" out.w
'

# The recorder killed but not reaped (its parent does not wait): a zombie
# keeps its pid and start time, and is gone all the same.
test_expect_success 'the recorder a zombie: the library detaches itself' '
	start_bg sh -c "sleep 3600 & echo \$! >rec.pid; exec sleep 3600" &&
	wait_ready rec.pid &&
	rec=$(cat rec.pid) &&
	BG_PIDS="$BG_PIDS $rec" &&
	: >track.z &&
	start_bg "$HELPERS/attacher" --watch "$LIB" "$TRASH/track.z" "$rec" "$TRASH/ready.z" \
		>out.z && tgt=$BG_PID &&
	wait_ready ready.z &&
	kill -KILL "$rec" &&
	wait_for 10 "grep -q \"^State:.*Z\" /proc/$rec/status" &&
	wait "$tgt" &&
	grep "^detached itself$" out.z
'

test_done
