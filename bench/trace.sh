#!/bin/sh
# bench/trace.sh: the cost of 'offheap trace -- CMD' against strace and against no tracing.
#
# Runs java -version (or the command given) REPS times each way — plain, under
# 'offheap trace --json', under 'strace -f -e trace=memory -o /dev/null' — and
# prints the median wall time of each and the ratios to plain. For offheap it
# also prints the median time the command itself ran under the trace (the JSON
# duration, before the report is symbolized and printed), which is the cost
# the traced program sees. One run of this script is one measurement.
#
# Usage: bench/trace.sh [COMMAND ARGS...]     (REPS=5 by default)
set -eu
cd "$(dirname "$0")/.."
OFFHEAP=${OFFHEAP:-build/offheap}
REPS=${REPS:-5}
[ $# -gt 0 ] || set -- java -version
command -v "$1" >/dev/null || { echo "bench/trace.sh: '$1' not found" >&2; exit 1; }
[ -x "$OFFHEAP" ] || { echo "bench/trace.sh: build offheap first (make all)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

now_ms() { date +%s%3N; }

# run LABEL CMD...: REPS timings (ms) of CMD into $tmp/LABEL, one per line.
run() {
	label=$1
	shift
	: >"$tmp/$label"
	i=0
	while [ $i -lt "$REPS" ]; do
		t0=$(now_ms)
		"$@" >"$tmp/out.json" 2>/dev/null || true
		t1=$(now_ms)
		echo $((t1 - t0)) >>"$tmp/$label"
		if [ "$label" = offheap ]; then
			jq -r .duration_ms "$tmp/out.json" >>"$tmp/offheap-cmd"
		fi
		i=$((i + 1))
	done
}

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

: >"$tmp/offheap-cmd"
# Interleave the ways so a busy machine hurts them alike.
r=0
while [ $r -lt "$REPS" ]; do
	REPS=1 run plain1 "$@"; cat "$tmp/plain1" >>"$tmp/plain"
	REPS=1 run offheap "$OFFHEAP" trace --json -- "$@"; cat "$tmp/offheap" >>"$tmp/offheap-all"
	if command -v strace >/dev/null; then
		REPS=1 run strace1 strace -f -e trace=memory -o /dev/null -- "$@"
		cat "$tmp/strace1" >>"$tmp/strace"
	fi
	r=$((r + 1))
done

plain=$(median "$tmp/plain")
off=$(median "$tmp/offheap-all")
offcmd=$(median "$tmp/offheap-cmd")
echo "command: $*   (median of $REPS runs, ms)"
printf '%-44s %6s ms\n' "plain" "$plain"
printf '%-44s %6s ms  %5.2fx plain\n' "offheap trace -- CMD (command runtime)" "$offcmd" \
	"$(echo "$offcmd $plain" | awk '{ print $1 / $2 }')"
printf '%-44s %6s ms  %5.2fx plain\n' "offheap trace -- CMD (total, with report)" "$off" \
	"$(echo "$off $plain" | awk '{ print $1 / $2 }')"
if [ -s "$tmp/strace" ]; then
	st=$(median "$tmp/strace")
	printf '%-44s %6s ms  %5.2fx plain\n' "strace -f -e trace=memory" "$st" \
		"$(echo "$st $plain" | awk '{ print $1 / $2 }')"
	printf '%-44s %13.2fx\n' "offheap total / strace" "$(echo "$off $st" | awk '{ print $1 / $2 }')"
fi
