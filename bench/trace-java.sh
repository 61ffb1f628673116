#!/bin/sh
# bench/trace-java.sh: whole-command cost of 'offheap trace -- java -version' against strace.
#
# Runs 'strace -f -e trace=memory -o /dev/null java -version' and
# 'offheap trace --json -- java -version >/dev/null' REPS times each (5 by default),
# interleaved so a busy machine hurts both alike, and prints the median wall time of
# each and their ratio. The offheap time is the whole command: tracing, the symbolized
# report and its output. With BASE=/path/to/another/offheap that binary is run too, in
# the same rounds (a baseline, e.g. BASE=/work/main/build/offheap).
#
# Usage: bench/trace-java.sh [JAVA]     (JAVA defaults to java; REPS, OFFHEAP, BASE)
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
JAVA=${1:-java}
REPS=${REPS:-5}
BASE=${BASE:-}
command -v strace >/dev/null || { echo "bench/trace-java.sh: strace not found" >&2; exit 1; }
command -v "$JAVA" >/dev/null || { echo "bench/trace-java.sh: '$JAVA' not found" >&2; exit 1; }
[ -x "$OFFHEAP" ] || { echo "bench/trace-java.sh: build offheap first (make all)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# once FILE CMD...: appends the wall ms of one run of CMD (all output discarded) to FILE.
once() {
	_f=$1
	shift
	_t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || echo "bench/trace-java.sh: '$*' failed" >&2
	_t1=$(date +%s%N)
	echo $(((_t1 - _t0) / 1000000)) >>"$_f"
}

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

r=0
while [ $r -lt "$REPS" ]; do
	once "$tmp/strace" strace -f -e trace=memory -o /dev/null "$JAVA" -version
	once "$tmp/offheap" "$OFFHEAP" trace --json -- "$JAVA" -version
	[ -z "$BASE" ] || once "$tmp/base" "$BASE" trace --json -- "$JAVA" -version
	r=$((r + 1))
done

st=$(median "$tmp/strace")
off=$(median "$tmp/offheap")
echo "$JAVA -version, median of $REPS interleaved runs (load average $(cut -d' ' -f1 /proc/loadavg))"
printf '%-52s %6s ms\n' "strace -f -e trace=memory -o /dev/null" "$st"
printf '%-52s %6s ms  %sx strace\n' "offheap trace --json ($OFFHEAP)" "$off" "$(ratio "$off" "$st")"
if [ -n "$BASE" ]; then
	base=$(median "$tmp/base")
	printf '%-52s %6s ms  %sx strace\n' "offheap trace --json ($BASE)" "$base" \
		"$(ratio "$base" "$st")"
fi
