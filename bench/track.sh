#!/bin/sh
# bench/track.sh: the allocation tracker on a malloc-heavy micro (2 threads × 2M
# malloc/free pairs, build/bench/mallocstorm): plain, liboffheap.so alone (forwarding
# only; exact; sampled 512k), offheap record --exact and sampled (the recorder's start,
# sampling and symbolization included), and heaptrack when installed, in the same run.
# Runs are interleaved (one of each configuration per round, N rounds, default 5) so a
# load change on a shared machine hits every configuration alike; prints the median wall
# time and the median CPU time (user + sys) of each, and the ratios.
# Usage: bench/track.sh [N]
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-5}
MICRO="$BUILD/bench/mallocstorm"
[ -x "$MICRO" ] && [ -x "$OFFHEAP" ] || { echo "bench/track.sh: build first (make)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
LIB="$BUILD/liboffheap.so"
HT=$(command -v heaptrack || true)

# run NAME CMD...: one run timed by the clock, one by perf; appends "wall_ms cpu_ms" to $TMP/NAME. CPU time is
# perf stat's task-clock when perf works, else GNU time's (10 ms resolution).
PERF=$(command -v perf || true)
[ -n "$PERF" ] && ! "$PERF" stat -x, -e task-clock -o "$TMP/p" true >/dev/null 2>&1 && PERF=
run() {
	_name=$1
	shift
	_t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || true
	_t1=$(date +%s%N)
	if [ -n "$PERF" ]; then
		"$PERF" stat -x, -e task-clock -o "$TMP/p" "$@" >/dev/null 2>&1 || true
		_cpu=$(awk -F, '/task-clock/ { print $1 }' "$TMP/p")
	else
		/usr/bin/time -f "%U %S" -o "$TMP/p" "$@" >/dev/null 2>&1 || true
		_cpu=$(awk '{ print ($1 + $2) * 1000 }' "$TMP/p")
	fi
	echo "$(((_t1 - _t0) / 1000)) $_cpu" | awk '{ printf "%.1f %.1f\n", $1 / 1000, $2 }' >>"$TMP/$_name"
}

i=0
while [ $i -lt "$N" ]; do
	run plain "$MICRO" 2 2000000
	run fwd env LD_PRELOAD="$LIB" "$MICRO" 2 2000000
	run pexact env OFFHEAP_OUT="$TMP/x.shm" OFFHEAP_SAMPLE=0 LD_PRELOAD="$LIB" "$MICRO" 2 2000000
	run psampled env OFFHEAP_OUT="$TMP/y.shm" LD_PRELOAD="$LIB" "$MICRO" 2 2000000
	run exact "$OFFHEAP" record -f --exact -o "$TMP/e.db" -- "$MICRO" 2 2000000
	run sampled "$OFFHEAP" record -f -o "$TMP/s.db" -- "$MICRO" 2 2000000
	run empty "$OFFHEAP" record -f --exact -o "$TMP/z.db" -- "$MICRO" 2 0
	[ -n "$HT" ] && run ht "$HT" -o "$TMP/ht" "$MICRO" 2 2000000
	i=$((i + 1))
done

# med NAME COLUMN: median of one column (1 wall, 2 cpu).
med() {
	sort -n -k"$2" "$TMP/$1" | awk -v c="$2" '{ v[NR] = $c } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m }'
}

line() {
	printf "  %-38s %8s ms (%5sx)   cpu %8s ms (%5sx)\n" "$1" "$(med "$2" 1)" \
		"$(ratio "$(med "$2" 1)" "$(med plain 1)")" "$(med "$2" 2)" \
		"$(ratio "$(med "$2" 2)" "$(med plain 2)")"
}

echo "micro: 2 threads x 2M malloc/free pairs, median of $N interleaved rounds (x plain)"
line "plain" plain
line "liboffheap.so forwarding only" fwd
line "liboffheap.so sampled, no recorder" psampled
line "liboffheap.so exact, no recorder" pexact
line "offheap record (sampled 512k)" sampled
line "offheap record --exact" exact
line "offheap record --exact, 0 pairs" empty
if [ -n "$HT" ]; then
	line "heaptrack" ht
	echo "  heaptrack / offheap record --exact:        wall $(ratio "$(med ht 1)" "$(med exact 1)")x  cpu $(ratio "$(med ht 2)" "$(med exact 2)")x"
	echo "  heaptrack / liboffheap.so exact (alone):   wall $(ratio "$(med ht 1)" "$(med pexact 1)")x  cpu $(ratio "$(med ht 2)" "$(med pexact 2)")x"
else
	echo "  heaptrack          not installed"
fi
