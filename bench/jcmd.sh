#!/bin/sh
# bench/jcmd.sh: offheap jcmd PID CMD vs the JDK's jcmd PID CMD on the same idle JVM, which
# runs with NMT on, so CMD is "VM.native_memory summary" (VM.version with NMT off).
# N runs of each (default 10) after one warm-up run each (the warm-up opens the JVM's attach
# socket); median wall time, median peak RSS (/usr/bin/time %M), and the ratios.
# Usage: bench/jcmd.sh [N] [PID]   (without PID it starts an Idle JVM of JAVA, default JDK 17)
# JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java JCMD=.../jcmd bench/jcmd.sh  for Temurin 25.
set -eu
cd "$(dirname "$0")/.."
N=${1:-10}
PID=${2:-}
OFFHEAP=${OFFHEAP:-build/offheap}
JAVA=${JAVA:-/usr/bin/java}
JCMD=${JCMD:-$(dirname "$JAVA")/jcmd}
[ -x /usr/bin/time ] || { echo "bench/jcmd.sh: needs /usr/bin/time (Debian 'time')" >&2; exit 1; }
[ -x "$JCMD" ] || { echo "bench/jcmd.sh: no jcmd at $JCMD" >&2; exit 1; }
[ -x "$OFFHEAP" ] || { echo "bench/jcmd.sh: build first (make)" >&2; exit 1; }

TMP=$(mktemp -d)
JVM=""
cleanup() { [ -n "$JVM" ] && kill "$JVM" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
if [ -z "$PID" ]; then
	"$JAVA" -XX:NativeMemoryTracking=summary -Xmx64m tests/java/Idle.java 600 "$TMP/ready" \
		>/dev/null 2>&1 &
	JVM=$!
	PID=$JVM
	i=0
	while [ ! -s "$TMP/ready" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$TMP/ready" ] || { echo "bench/jcmd.sh: the JVM did not start" >&2; exit 1; }
fi
CMD="VM.native_memory summary"
"$OFFHEAP" jcmd "$PID" $CMD | grep -q "not enabled" && CMD=VM.version

# run LABEL CMD...: a warm-up, then N runs; one "microseconds KiB" line per run into $TMP/LABEL
run() {
	label=$1
	shift
	"$@" >/dev/null 2>&1
	: >"$TMP/$label"
	for _ in $(seq "$N"); do
		/usr/bin/time -f '%M' -o "$TMP/t" "$@" >/dev/null 2>&1
		# GNU time's %e has 10 ms resolution: time a second run ourselves, in ns.
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s%N)
		echo "$(((e - s) / 1000)) $(tail -n 1 "$TMP/t")" >>"$TMP/$label"
	done
}
median() {	# median COLUMN FILE
	cut -d' ' -f"$1" "$2" | sort -n | awk '{ v[NR] = $1 } END {
		print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# shellcheck disable=SC2086
run offheap "$OFFHEAP" jcmd "$PID" $CMD
# shellcheck disable=SC2086
run jcmd "$JCMD" "$PID" $CMD
ou=$(median 1 "$TMP/offheap") om=$(median 2 "$TMP/offheap")
ju=$(median 1 "$TMP/jcmd") jm=$(median 2 "$TMP/jcmd")
echo "command: $CMD; runs: $N each; JVM $PID: $("$JAVA" -version 2>&1 | head -n 1); $(nproc) CPUs"
awk -v ou="$ou" -v ju="$ju" -v om="$om" -v jm="$jm" 'BEGIN {
	printf "%-16s %10s %15s\n", "tool", "wall (ms)", "peak RSS (KiB)"
	printf "%-16s %10.2f %15d\n", "offheap jcmd", ou / 1000, om
	printf "%-16s %10.2f %15d\n", "jcmd", ju / 1000, jm
	printf "ratio: %.0fx faster, %.0fx less memory (goal: >= 30x, >= 10x)\n", ju / ou, jm / om }'
