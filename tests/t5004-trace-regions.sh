#!/bin/sh
# The interval map: partial munmap, mremap shrink and move, MAP_FIXED replacement, brk up and
# down, madvise and System V shm give exact outstanding bytes (the helper's "remapper" thread).
. "$(dirname "$0")/test-lib.sh"

# Under 'make asan' the traced helpers are sanitized too, and LeakSanitizer's exit-time helper
# is a CLONE_UNTRACED child: it inherits the seccomp filter untraced and gets ENOSYS for mmap.
# No leak checker that needs ptrace can run under a tracer anyway.
ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS

M=1048576

test_expect_success 'trace the remapper' '
	offheap trace --json --top 1000 -o rec.db -- "$HELPERS/mmapper" --lifetime 1 --no-churn --remap >r.json &&
	jq -e ".exit_code == 0" r.json
'

test_expect_success 'outstanding at remapper(): 6 MiB mapped + 512 KiB brk + 1 MiB shm, exactly' '
	jq "[.regions_alive[] | select(.thread == \"remapper\" and (.site | startswith(\"remapper \")))]" r.json >rem.json &&
	jq -e "length == 6" rem.json &&
	jq -e "map(.size_bytes) | add == $((7 * M + M / 2))" rem.json &&
	jq -e "[.[] | select(.kind == \"brk\")] | map(.size_bytes) | add == $((M / 2))" rem.json &&
	jq -e "[.[] | select(.kind == \"shm\")] | map(.size_bytes) | add == $M" rem.json
'

# A sanitized helper (make asan) maps and unmaps for itself in the same thread.
if grep -q __asan_init "$HELPERS/mmapper"; then
	test_skip 'the thread'"'"'s totals are exact' 'the helper is built with AddressSanitizer'
else
test_expect_success 'the thread'"'"'s totals are exact' '
	jq -e ".by_thread_name[] | select(.thread == \"remapper\") | .outstanding_bytes == $((7 * M + M / 2))" r.json &&
	jq -e ".by_thread_name[] | select(.thread == \"remapper\") | .net_bytes == $((7 * M + M / 2))" r.json &&
	jq -e ".threads[] | select(.name == \"remapper\") | .mapped_bytes == $((8 * M + 6 * M + 2 * M + M + M / 2))" r.json &&
	jq -e ".threads[] | select(.name == \"remapper\") | .unmapped_bytes == $((2 * M + 6 * M + M + M + M / 2))" r.json &&
	jq -e ".threads[] | select(.name == \"remapper\") | .brk_growth_bytes == $((M / 2))" r.json &&
	jq -e ".threads[] | select(.name == \"remapper\") | .advised_bytes == $M" r.json &&
	jq -e ".threads[] | select(.name == \"remapper\") | .calls == 12 and .failed == 0" r.json &&
	jq -e "[.regions_alive[] | select(.thread == \"remapper\")] | length == 6" r.json
'
fi

test_expect_success 'the recording holds the same regions and calls' '
	want=$(jq ".by_thread_name[] | select(.thread == \"remapper\") | .outstanding_bytes" r.json) &&
	test "$(sqlite3 rec.db "select sum(end - start) from trace_regions where thread = '"'"'remapper'"'"'")" = "$want" &&
	test "$(sqlite3 rec.db "select count(*) from trace_regions where thread = '"'"'remapper'"'"' and kind = '"'"'shm'"'"'")" = 1 &&
	test "$(sqlite3 rec.db "select count(*) from trace_events where thread = '"'"'remapper'"'"' and syscall = '"'"'mremap'"'"'")" = 2
'

test_done
