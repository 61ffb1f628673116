#!/bin/sh
# bench/report-scale.sh: how report, doctor FILE and report --base grow with a recording's rows.
#
# Generates allocation recordings with build/bench/recgen (the real store and
# allocdb writers; every stack changes in every interval, so alloc_site holds
# INTERVALS x STACKS rows) at 250x250, 500x500 and 1000x1000, then times, on
# each, every report format (text, json, collapsed, pprof, html), doctor FILE
# and report --base (the file against itself). It prints the median wall
# milliseconds of REPS runs (1 by default, after one run that must succeed)
# and, from one size to the next, the ratio of times beside the ratio of rows
# (4): a ratio near 4 is linear (at small sizes the start-up cost dominates).
#
# Usage: bench/report-scale.sh [SIZES...]     (sizes default to 250 500 1000)
set -eu
. "$(dirname "$0")/lib.sh"
REPS=${REPS:-1}
[ $# -gt 0 ] || set -- 250 500 1000
[ -x "$OFFHEAP" ] && [ -x "$BUILD/bench/recgen" ] ||
	{ echo "bench/report-scale.sh: build first (make all)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; for p in $BENCH_PIDS; do kill -KILL $p 2>/dev/null; done' EXIT

cases="text json collapsed pprof html doctor base"

# args CASE FILE: offheap's arguments for CASE on FILE (mktemp paths: no spaces).
args() {
	case $1 in
	text) echo "report $2" ;;
	json) echo "report --json $2" ;;
	collapsed) echo "report --format collapsed $2" ;;
	pprof) echo "report --format pprof -o $tmp/out.pb $2" ;;
	html) echo "report --format html -o $tmp/out.html $2" ;;
	doctor) echo "doctor $2" ;;
	base) echo "report --base $2 $2" ;;
	esac
}

# one CASE FILE: runs CASE on FILE (the files it writes removed first).
one() {
	rm -f "$tmp/out.pb" "$tmp/out.html"
	# shellcheck disable=SC2046
	"$OFFHEAP" $(args "$1" "$2")
}

printf '%-10s %8s %10s' size rows MB
echo ' (median wall ms)'
printf '%-10s %8s %10s' '' '' ''
for c in $cases; do printf ' %9s' "$c"; done
echo
prev=""
for n in "$@"; do
	f=$tmp/rec-$n.db
	"$BUILD/bench/recgen" "$f" "$n" "$n"
	mb=$(awk -v b="$(stat -c %s "$f")" 'BEGIN { printf "%.1f", b / 1048576 }')
	printf '%-10s %8s %10s' "${n}x$n" $((n * n)) "$mb"
	line=""
	for c in $cases; do
		one "$c" "$f" >/dev/null 2>"$tmp/err" ||
			{ echo "bench/report-scale.sh: $c failed:" >&2; cat "$tmp/err" >&2; exit 1; }
		t=$(median_ms "$REPS" one "$c" "$f")
		printf ' %9s' "$t"
		line="$line $t"
	done
	echo
	if [ -n "$prev" ]; then
		printf '%-10s %8s %10s' "  ratio" "x$(ratio $((n * n)) $((pn * pn)))" ""
		set -- $line
		for p in $prev; do
			printf ' %9s' "$(ratio "$1" "$p")"
			shift
		done
		echo
	fi
	prev=$line
	pn=$n
	last=$f
done

# On a shared machine the wall time carries the others' load: the CPU time does not.
printf '%-10s %8s %10s' "cpu ms" "" ""
for c in $cases; do
	rm -f "$tmp/out.pb" "$tmp/out.html"
	# shellcheck disable=SC2046
	/usr/bin/time -f "%U %S" -o "$tmp/cpu" "$OFFHEAP" $(args "$c" "$last") >/dev/null 2>&1
	printf ' %9s' "$(awk '{ printf "%.0f", ($1 + $2) * 1000 }' "$tmp/cpu")"
done
echo
