#!/bin/sh
# The tracker under stress: 16 threads allocating and freeing at full speed (malloc,
# calloc, realloc, posix_memalign, aligned_alloc, mmap, free, munmap) while another
# thread forks (with and without exec) and another dlopens and dlcloses libz and libm
# (tests/helpers/stress.c). Exact and sampled: no crash, no deadlock (bounded by
# timeout), the program's output unchanged by the tracker, and in exact mode the live
# bytes of the recording's final interval equal what the program says it still holds.
TEST_TIMEOUT=240
. "$(dirname "$0")/test-lib.sh"

command -v timeout >/dev/null || skip_all "timeout(1) not installed"
STRESS="$HELPERS/stress"
# THREADS OPS FORKS DLOPENS SECONDS: a few seconds of work each on a quiet machine (the
# suite's slowest file: 50000 operations a thread are enough to interleave them all);
# SECONDS bounds it, stretched on a loaded one like every limit (OFFHEAP_TIME_FACTOR).
F=$OFFHEAP_TIME_FACTOR
ARGS="16 50000 100 250 $((60 * F))"

# held_of DB: live bytes and blocks at the end of the stacks whose allocating frame (the
# caller of malloc or mmap) is one of the program's stress_* functions.
held_of() {
	"$OFFHEAP" report "$1" --top 0 --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
mine = [t for t in d["top"]
	if t["frames"] and (t["frames"][0]["function"] or "").startswith("stress_")]
print(sum(t["live_bytes"] for t in mine), sum(t["live_count"] for t in mine))'
}

test_expect_success 'without the tracker: the work is done, no error' '
	timeout -k 5 $((90 * F)) "$STRESS" $ARGS >plain.out &&
	grep -qx "errors 0" plain.out && grep -qx "forks_ok 50" plain.out &&
	grep -qx "execs_ok 50" plain.out && grep -qx "dlopens_ok 250" plain.out
'

test_expect_success 'exact: no crash, no deadlock, the same output' '
	timeout -k 5 $((100 * F)) "$OFFHEAP" record --exact -i 200ms -o exact.db -- "$STRESS" $ARGS \
		>exact.out 2>exact.err;
	rc=$?; cat exact.err;
	test $rc = 0 && cmp plain.out exact.out
'

test_expect_success 'exact: live bytes at the end = what the program holds' '
	held_of exact.db >got &&
	echo "$(sed -n "s/^held_bytes //p" plain.out) $(sed -n "s/^held_blocks //p" plain.out)" >want &&
	cat got want && cmp want got &&
	"$OFFHEAP" report exact.db --json | jq -e ".incomplete == false and .dropped_blocks == 0" &&
	test "$(sqlite3 exact.db "SELECT count(*) FROM alloc_run")" = 1 &&
	test "$(sqlite3 exact.db "SELECT final FROM alloc_interval ORDER BY id DESC LIMIT 1")" = 1
'

test_expect_success 'sampled: no crash, no deadlock, the same output, a fair estimate' '
	timeout -k 5 $((100 * F)) "$OFFHEAP" record --sample 16384 -i 200ms -o sampled.db -- \
		"$STRESS" $ARGS >sampled.out 2>sampled.err;
	rc=$?; cat sampled.err;
	test $rc = 0 && cmp plain.out sampled.out &&
	held_of sampled.db >got && cat got &&
	within_pct "$(cut -d" " -f1 got)" "$(sed -n "s/^held_bytes //p" plain.out)" 25
'

test_done
