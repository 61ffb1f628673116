#!/bin/sh
# bench/track.sh: the allocation tracker on a malloc-heavy micro (2 threads × 2M
# malloc/free pairs, build/bench/mallocstorm): plain, offheap record --exact,
# offheap record (sampled, 512k), and heaptrack when installed, in the same run.
# Median wall time of N runs (default 5) and the ratios.
# Usage: bench/track.sh [N]
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-5}
MICRO="$BUILD/bench/mallocstorm"
[ -x "$MICRO" ] && [ -x "$OFFHEAP" ] || { echo "bench/track.sh: build first (make)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

plain=$(median_ms "$N" "$MICRO" 2 2000000)
exact=$(median_ms "$N" "$OFFHEAP" record -f --exact -o "$TMP/e.db" -- "$MICRO" 2 2000000)
sampled=$(median_ms "$N" "$OFFHEAP" record -f -o "$TMP/s.db" -- "$MICRO" 2 2000000)
# The tracker alone (no recorder: no start-up handshake, no symbolization at the end).
pexact=$(OFFHEAP_OUT="$TMP/x.shm" OFFHEAP_SAMPLE=0 LD_PRELOAD="$BUILD/liboffheap.so" \
	median_ms "$N" "$MICRO" 2 2000000)
psampled=$(OFFHEAP_OUT="$TMP/x.shm" LD_PRELOAD="$BUILD/liboffheap.so" \
	median_ms "$N" "$MICRO" 2 2000000)
echo "micro: 2 threads x 2M malloc/free pairs, median of $N runs (ms)"
echo "  liboffheap.so exact, no recorder    $pexact  ($(ratio "$pexact" "$plain")x plain)"
echo "  liboffheap.so sampled, no recorder  $psampled  ($(ratio "$psampled" "$plain")x plain)"
echo "  plain              $plain"
echo "  offheap --exact    $exact  ($(ratio "$exact" "$plain")x plain)"
echo "  offheap sampled    $sampled  ($(ratio "$sampled" "$plain")x plain)"
if command -v heaptrack >/dev/null; then
	ht=$(median_ms "$N" heaptrack -o "$TMP/ht" "$MICRO" 2 2000000)
	echo "  heaptrack          $ht  ($(ratio "$ht" "$plain")x plain)"
	echo "  heaptrack / offheap --exact: $(ratio "$ht" "$exact")x"
else
	echo "  heaptrack          not installed"
fi
