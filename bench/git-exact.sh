#!/bin/sh
# bench/git-exact.sh: exact mode on a real program built without frame pointers:
# `git log -p -n 200` on this repository (REPO=DIR for another), plain, under
# liboffheap.so alone (exact, no recorder), under `offheap record --exact` (recorder,
# symbolization and database included) and under heaptrack when installed, in the same
# run. Rounds are interleaved (default 3); prints median wall and CPU (user + sys, of the
# command and its children, GNU time) and the ratios to plain.
# BASE=DIR adds `offheap record --exact` of another build (e.g. /work/main/build).
# Usage: bench/git-exact.sh [N]
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-3}
REPO=${REPO:-$ROOT}
LIB="$BUILD/liboffheap.so"
HT=$(command -v heaptrack || true)
[ -x "$OFFHEAP" ] || { echo "bench/git-exact.sh: build first (make)" >&2; exit 1; }
git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1 || { echo "bench/git-exact.sh: $REPO is no git repository" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# run NAME CMD...: appends "wall_ms cpu_ms" of one run of CMD to $TMP/NAME.
run() {
	_name=$1
	shift
	/usr/bin/time -f "%e %U %S" -o "$TMP/t" "$@" >/dev/null 2>&1 || true
	awk '{ printf "%.1f %.1f\n", $1 * 1000, ($2 + $3) * 1000 }' "$TMP/t" >>"$TMP/$_name"
}

med() {
	sort -n -k"$2" "$TMP/$1" | awk -v c="$2" '{ v[NR] = $c } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m }'
}

set -- git -C "$REPO" log -p -n 200
i=0
while [ $i -lt "$N" ]; do
	run plain "$@"
	run alone env OFFHEAP_OUT="$TMP/x.shm" OFFHEAP_SAMPLE=0 LD_PRELOAD="$LIB" "$@"
	run exact "$OFFHEAP" record -f --exact -o "$TMP/e.db" -- "$@"
	[ -n "${BASE:-}" ] && run base "$BASE/offheap" record -f --exact -o "$TMP/b.db" -- "$@"
	[ -n "$HT" ] && run ht "$HT" -o "$TMP/ht" "$@"
	i=$((i + 1))
done

line() {
	printf "  %-36s wall %8s ms (%6sx)   cpu %8s ms (%6sx)\n" "$1" "$(med "$2" 1)" \
		"$(ratio "$(med "$2" 1)" "$(med plain 1)")" "$(med "$2" 2)" \
		"$(ratio "$(med "$2" 2)" "$(med plain 2)")"
}

echo "git log -p -n 200, median of $N interleaved rounds (x plain)"
line "plain" plain
line "liboffheap.so exact, no recorder" alone
line "offheap record --exact" exact
[ -n "${BASE:-}" ] && line "offheap record --exact ($BASE)" base
if [ -n "$HT" ]; then
	line "heaptrack" ht
	echo "  heaptrack / offheap record --exact: wall $(ratio "$(med ht 1)" "$(med exact 1)")x  cpu $(ratio "$(med ht 2)" "$(med exact 2)")x"
else
	echo "  heaptrack not installed"
fi
