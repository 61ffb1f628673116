#!/bin/sh
# bench/unwind.sh: what exact mode costs per malloc/free pair with and without frame
# pointers. bench/mallocstorm.c is built twice here (-fno-omit-frame-pointer and
# -fomit-frame-pointer) and run with DEPTH 0 (malloc called from the thread's loop) and
# DEPTH 4 (through four more functions); each plain and under liboffheap.so exact (no
# recorder: the tracker alone). Rounds are interleaved; prints median CPU times and the
# cost per pair, (exact - plain) / pairs, and the ratio without / with frame pointers.
# BASE=DIR adds the liboffheap.so of another build (e.g. /work/main/build) as a baseline.
# Usage: bench/unwind.sh [N [PAIRS]]
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-5}
PAIRS=${2:-1000000}
THREADS=2
LIB="$BUILD/liboffheap.so"
BASE_LIB=${BASE:+$BASE/liboffheap.so}
[ -f "$LIB" ] || { echo "bench/unwind.sh: build first (make)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cc -O2 -g -fno-omit-frame-pointer -o "$TMP/storm-fp" "$ROOT/bench/mallocstorm.c" -lpthread
cc -O2 -g -fomit-frame-pointer -o "$TMP/storm-nofp" "$ROOT/bench/mallocstorm.c" -lpthread

PERF=$(command -v perf || true)
[ -n "$PERF" ] && ! "$PERF" stat -x, -e task-clock -o "$TMP/p" true >/dev/null 2>&1 && PERF=
# cpu NAME CMD...: appends CMD's CPU ms (perf task-clock, else GNU time) to $TMP/NAME.
cpu() {
	_name=$1
	shift
	if [ -n "$PERF" ]; then
		"$PERF" stat -x, -e task-clock -o "$TMP/p" "$@" >/dev/null 2>&1 || true
		awk -F, '/task-clock/ { print $1 }' "$TMP/p" >>"$TMP/$_name"
	else
		/usr/bin/time -f "%U %S" -o "$TMP/p" "$@" >/dev/null 2>&1 || true
		awk '{ print ($1 + $2) * 1000 }' "$TMP/p" >>"$TMP/$_name"
	fi
}

med() {
	sort -n "$TMP/$1" | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m }'
}

i=0
while [ $i -lt "$N" ]; do
	for fp in fp nofp; do
		for d in 0 4; do
			cpu "plain-$fp-$d" "$TMP/storm-$fp" $THREADS "$PAIRS" $d
			cpu "exact-$fp-$d" env OFFHEAP_OUT="$TMP/x.shm" OFFHEAP_SAMPLE=0 LD_PRELOAD="$LIB" \
				"$TMP/storm-$fp" $THREADS "$PAIRS" $d
			[ -n "$BASE_LIB" ] && cpu "base-$fp-$d" env OFFHEAP_OUT="$TMP/x.shm" OFFHEAP_SAMPLE=0 \
				LD_PRELOAD="$BASE_LIB" "$TMP/storm-$fp" $THREADS "$PAIRS" $d
		done
	done
	i=$((i + 1))
done

# per_pair A B: (A - B) ms over THREADS * PAIRS pairs, in ns.
per_pair() {
	awk -v a="$1" -v b="$2" -v n=$((THREADS * PAIRS)) 'BEGIN { printf "%.1f\n", (a - b) * 1e6 / n }'
}

echo "exact mode per malloc/free pair, $THREADS threads x $PAIRS pairs, median CPU of $N interleaved rounds"
for d in 0 4; do
	for fp in fp nofp; do
		p=$(med "plain-$fp-$d")
		e=$(med "exact-$fp-$d")
		printf "  depth %d %-5s plain %8s ms  exact %8s ms  +%6s ns/pair" $d $fp "$p" "$e" "$(per_pair "$e" "$p")"
		[ -n "$BASE_LIB" ] && printf "  (base %8s ms  +%6s ns/pair)" "$(med "base-$fp-$d")" \
			"$(per_pair "$(med "base-$fp-$d")" "$p")"
		echo
	done
	echo "  depth $d: cost without frame pointers / with: $(ratio "$(per_pair "$(med "exact-nofp-$d")" "$(med "plain-nofp-$d")")" "$(per_pair "$(med "exact-fp-$d")" "$(med "plain-fp-$d")")")x"
done
