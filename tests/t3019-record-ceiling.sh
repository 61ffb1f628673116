#!/bin/sh
# The tracker's own memory in the target: bounded by the live heap it follows, and past
# record --max-memory it degrades to sampling, says so, and its estimates stay unbiased.
. "$(dirname "$0")/test-lib.sh"

# The ceiling: 600000 blocks of 64 bytes need an address table far above 1 MiB. The
# tracker records exactly until its table cannot grow (a few thousand blocks), then samples
# every 64 KiB (or coarser). The live bytes of keep_small are then the exact part plus a
# sampled estimate of the rest, whose relative standard deviation is at most that of
# sampling all N blocks of size s with p = 1 - exp(-s/mean), each weighted s/p:
# sqrt((1 - p) / (N p)). Six of them: a correct tracker fails about once in 10^9 runs.
SIZE=64
COUNT=600000

test_expect_success 'past --max-memory the tracker samples, says so, and estimates right' '
	"$OFFHEAP" record --exact --max-memory 1m -o cap.db -- \
		"$HELPERS/smallheap" $SIZE $COUNT - >out 2>err &&
	cat err &&
	test "$(cat out)" = $((SIZE * COUNT)) &&
	grep "warning: exact until [0-9.]* s, then sampled every [0-9.]* KiB: the tracker reached its 1.0 MiB ceiling" err &&
	"$OFFHEAP" report cap.db >rep &&
	grep "^exact until [0-9.]* s, then sampled every [0-9.]* KiB: the tracker reached its 1.0 MiB ceiling" rep &&
	! grep "figures are incomplete" rep &&
	"$OFFHEAP" report cap.db --top 0 --json >j &&
	python3 -c "
import json, math
d = json.load(open(\"j\"))
assert d[\"degraded\"] and not d[\"incomplete\"] and d[\"dropped_blocks\"] == 0, d
assert d[\"max_memory\"] == 1 << 20 and d[\"degraded_sample_mean\"] >= 65536, d
s = [t for t in d[\"top\"] if any(f[\"function\"] == \"keep_small\" for f in t[\"frames\"])]
assert len(s) == 1, s
size, n, mean = $SIZE, $COUNT, d[\"degraded_sample_mean\"]
p = 1 - math.exp(-size / mean)
tol = 6 * math.sqrt((1 - p) / (n * p))
got, want = s[0][\"live_bytes\"], size * n
print(\"keep_small live %d, true %d, tolerance %.1f%%\" % (got, want, 100 * tol))
assert abs(got - want) <= tol * want, (got, want, tol)
"
'

# hwm PID: the peak resident set of PID in KiB (VmHWM)
hwm() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

# The bound under --exact on a helper whose live heap is known: 40000 blocks of 512 bytes
# (20 MB). The tracker's part of the peak RSS (exact minus plain, both at the helper's
# ready point) must stay within half the live bytes plus 4 MiB: its constant part (the
# 1 MiB free filter, the stack table's touched pages, its library and libunwind).
test_expect_success 'under --exact the tracker takes at most half the live heap plus 4 MiB' '
	start_bg "$HELPERS/smallheap" 512 40000 plain.ready &&
	wait_ready plain.ready 30 &&
	read pid live <plain.ready &&
	plain=$(hwm $pid) &&
	rm plain.ready &&
	start_bg "$OFFHEAP" record --exact -o rss.db -- "$HELPERS/smallheap" 512 40000 exact.ready &&
	rec=$BG_PID &&
	wait_ready exact.ready 30 &&
	read pid live <exact.ready &&
	exact=$(hwm $pid) &&
	rm exact.ready &&
	wait $rec &&
	echo "live $live bytes, VmHWM plain $plain KiB, exact $exact KiB" &&
	test $(( (exact - plain) * 1024 )) -le $(( live / 2 + 4 * 1048576 )) &&
	"$OFFHEAP" report rss.db --json >j &&
	python3 -c "
import json
d = json.load(open(\"j\"))
assert not d[\"degraded\"] and not d[\"incomplete\"], d
"
'

test_done
