#!/bin/sh
# bench/jstat.sh: offheap jstat PID vs the JDK's jstat -gc PID on the same idle JVM.
# N runs of each (default 10), median wall time and median peak RSS (/usr/bin/time %M),
# and the ratios. Usage: bench/jstat.sh [N] [PID]  (without PID it starts a JDK 17 JVM).
set -eu
cd "$(dirname "$0")/.."
N=${1:-10}
PID=${2:-}
OFFHEAP=${OFFHEAP:-build/offheap}
JSTAT=${JSTAT:-/usr/bin/jstat}
[ -x /usr/bin/time ] || { echo "bench/jstat.sh: needs /usr/bin/time (Debian 'time')" >&2; exit 1; }
[ -x "$JSTAT" ] || { echo "bench/jstat.sh: no jstat at $JSTAT" >&2; exit 1; }
[ -x "$OFFHEAP" ] || { echo "bench/jstat.sh: build first (make)" >&2; exit 1; }

TMP=$(mktemp -d)
JVM=""
cleanup() { [ -n "$JVM" ] && kill "$JVM" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
if [ -z "$PID" ]; then
	javac -d "$TMP" tests/java/GcIdle.java
	java -Xmx64m -cp "$TMP" GcIdle "$TMP/ready" 600000 >/dev/null 2>&1 &
	JVM=$!
	PID=$JVM
	i=0
	while [ ! -s "$TMP/ready" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
fi

# run LABEL CMD...: N runs; one "seconds kib" line per run into $TMP/LABEL
run() {
	label=$1
	shift
	: >"$TMP/$label"
	for _ in $(seq "$N"); do
		/usr/bin/time -f '%e %M' -o "$TMP/t" "$@" >/dev/null 2>&1
		# %e has 10 ms resolution: measure wall time ourselves in ns.
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s%N)
		echo "$(( (e - s) / 1000 )) $(cut -d' ' -f2 "$TMP/t")" >>"$TMP/$label"
	done
}
median() {	# median COLUMN FILE
	cut -d' ' -f"$1" "$2" | sort -n | awk '{ v[NR] = $1 } END {
		print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

run offheap "$OFFHEAP" jstat "$PID"
run jstat "$JSTAT" -gc "$PID"
ou=$(median 1 "$TMP/offheap") om=$(median 2 "$TMP/offheap")
ju=$(median 1 "$TMP/jstat") jm=$(median 2 "$TMP/jstat")
echo "runs: $N each, target JVM $PID ($(nproc) CPUs)"
awk -v ou="$ou" -v ju="$ju" -v om="$om" -v jm="$jm" 'BEGIN {
	printf "%-16s %10s %15s\n", "tool", "wall (ms)", "peak RSS (KiB)"
	printf "%-16s %10.2f %15d\n", "offheap jstat", ou / 1000, om
	printf "%-16s %10.2f %15d\n", "jstat -gc", ju / 1000, jm }'
awk -v ou="$ou" -v ju="$ju" -v om="$om" -v jm="$jm" 'BEGIN {
	printf "ratio: %.0fx faster, %.0fx less memory (goal: >= 30x, >= 10x)\n", ju / ou, jm / om }'
