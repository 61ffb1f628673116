#!/bin/sh
# offheap trace: outstanding bytes stay exact while threads map and unmap the same addresses.
#
# mapchurn's workers map and unmap regions of a few sizes at the same time,
# so the kernel hands an address one thread has just unmapped to another
# thread's mmap; a tracer that applies the two calls in the wrong order loses
# the new region (and charges its size to the wrong thread as unmapped).
# A race shows in some runs only: each check runs the helper many times.
. "$(dirname "$0")/test-lib.sh"

# As in t5001: LeakSanitizer's helper would get ENOSYS from the seccomp filter.
ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS

# check_report JSON STATUS: every churn thread holds exactly the bytes the
# helper says, by thread name (outstanding) and by TID (mapped - unmapped), and
# the churn threads together hold the helper's total.
check_report() {
	want=$(awk '$1 == "total" { print $2 }' "$2") &&
	test -n "$want" &&
	got=$(jq '[.by_thread_name[] | select(.thread | startswith("churn-")) |
		.outstanding_bytes] | add' "$1") &&
	{ test "$got" = "$want" || { echo "churn threads hold $got bytes, want $want"; return 1; }; } &&
	sum=$(jq '[.by_thread_name[] | .outstanding_bytes] | add' "$1") &&
	jq -e ".outstanding_bytes == $sum" "$1" >/dev/null &&
	while read -r name tid bytes; do
		test "$name" = total && continue
		out=$(jq --arg n "$name" '.by_thread_name[] | select(.thread == $n) |
			.outstanding_bytes' "$1") &&
		net=$(jq ".threads[] | select(.tid == $tid) | .net_bytes" "$1") &&
		{ test "$out" = "$bytes" && test "$net" = "$bytes" ||
			{ echo "$name (TID $tid) holds $out bytes, net $net, want $bytes"; return 1; }; } ||
			return 1
	done <"$2"
}

test_expect_success 'a command: 4 to 16 threads, exact by thread in each of 10 runs' '
	for run in 1 2 3 4 5 6 7 8 9 10; do
		threads=$((4 + run % 4 * 4)) &&
		rm -f st &&
		offheap trace --json -- "$HELPERS/mapchurn" --threads $threads --rounds 300 \
			--status st >run.json &&
		jq -e ".exit_code == 0" run.json >/dev/null &&
		check_report run.json st ||
			{ echo "run $run ($threads threads) is wrong"; return 1; }
	done
'

test_expect_success 'attached to a PID: exact by thread in each of 3 runs' '
	for run in 1 2 3; do
		rm -f ready go st &&
		start_bg "$HELPERS/mapchurn" --threads 8 --rounds 200 --ready ready --go go \
			--status st &&
		pid=$BG_PID &&
		wait_ready ready &&
		start_bg "$OFFHEAP" trace --json $pid >att.json &&
		tracer=$BG_PID &&
		wait_for 10 "grep -q \"^TracerPid:[[:space:]]*$tracer\$\" /proc/$pid/status" &&
		>go &&
		wait_for 60 "test -s st" &&
		wait $tracer &&
		check_report att.json st ||
			{ echo "run $run is wrong"; return 1; }
	done
'

test_done
