#!/bin/sh
# bench/track-sqlite.sh: the tracker alone in exact mode (LD_PRELOAD=liboffheap.so,
# OFFHEAP_SAMPLE=0, no recorder) on `sqlite3 :memory:` running 200k INSERTs: Debian's
# libsqlite3 has no frame pointers, and each INSERT makes about 22 allocations through
# 10-17 frames of it, so this is where the stack walk's cache of stack tails is tested.
# Prints the median and the lowest CPU time (perf task-clock, else GNU time user + sys) of
# plain and tracked runs, interleaved N rounds (default 5), and the ratios to plain.
# BASE=FILE adds another liboffheap.so (e.g. one built at an older commit) to each round.
# Usage: [BASE=FILE] bench/track-sqlite.sh [N]
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-5}
LIB="$BUILD/liboffheap.so"
BASE=${BASE:-}
[ -f "$LIB" ] || { echo "bench/track-sqlite.sh: build first (make)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench/track-sqlite.sh: no sqlite3" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
awk 'BEGIN { print "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v REAL);"; print "BEGIN;";
	for (i = 0; i < 200000; i++)
		printf "INSERT INTO t (name, v) VALUES (%cname-%d%c, %d.5);\n", 39, i, 39, i;
	print "COMMIT;" }' >"$TMP/ins.sql"

PERF=$(command -v perf || true)
[ -n "$PERF" ] && ! "$PERF" stat -x, -e task-clock -o "$TMP/p" true >/dev/null 2>&1 && PERF=
# cpu NAME LIB: one run (LIB empty: plain); appends its CPU ms to $TMP/NAME.
cpu() {
	rm -f "$TMP/q.trk"
	if [ -n "$2" ]; then
		set -- "$1" env OFFHEAP_SAMPLE=0 OFFHEAP_OUT="$TMP/q.trk" LD_PRELOAD="$2" sqlite3 :memory:
	else
		set -- "$1" sqlite3 :memory:
	fi
	_name=$1
	shift
	if [ -n "$PERF" ]; then
		"$PERF" stat -x, -e task-clock -o "$TMP/p" "$@" <"$TMP/ins.sql" >/dev/null 2>&1
		awk -F, '/task-clock/ { print $1 }' "$TMP/p" >>"$TMP/$_name"
	else
		/usr/bin/time -f "%U %S" -o "$TMP/p" "$@" <"$TMP/ins.sql" >/dev/null 2>&1
		awk '{ print ($1 + $2) * 1000 }' "$TMP/p" >>"$TMP/$_name"
	fi
}

# stat NAME: "median min" of $TMP/NAME
stat() {
	sort -n "$TMP/$1" | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f %.1f\n", m, v[1] }'
}

i=0
while [ $i -lt "$N" ]; do
	cpu plain ""
	cpu exact "$LIB"
	[ -n "$BASE" ] && cpu base "$BASE"
	i=$((i + 1))
done
set -- $(stat plain)
PMED=$1
PMIN=$2
echo "sqlite3 :memory:, 200k INSERTs, tracker alone (exact, no recorder); CPU ms of $N interleaved rounds"
for c in plain exact ${BASE:+base}; do
	set -- $(stat $c)
	printf '  %-6s median %8.1f (%5.2fx)   lowest %8.1f (%5.2fx)\n' "$c" "$1" \
		"$(echo "$1 $PMED" | awk '{ printf "%.2f", $1 / $2 }')" "$2" \
		"$(echo "$2 $PMIN" | awk '{ printf "%.2f", $1 / $2 }')"
done
[ -n "$BASE" ] && echo "  base is $BASE"
exit 0
