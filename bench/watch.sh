#!/bin/sh
# bench/watch.sh: what 'offheap watch' costs, against 'watch -n1 pmap -x PID' (procps) on
# the same processes in the same run, and how large its recording grows per hour.
#
# Targets: a C process with 200 extra mappings (leaker --maps 200) and an idle JDK 17 JVM
# with -XX:NativeMemoryTracking=summary (every tick also asks it for the NMT summary).
#   1. one tick (bench/watchtick: sampler_tick into a recording, median of RUNS) against
#      one 'pmap -x PID' (median wall time of RUNS runs);
#   2. DURATION seconds (default 60) of 'offheap watch PID -i 1s' and of
#      'watch -n1 pmap -x PID', all four at once: CPU from /proc/PID/stat
#      (utime+stime+cutime+cstime: procps watch's pmap children count too);
#   3. the recording's size: bytes per sample and per set of regions (the pages of their
#      tables in the DURATION runs, plain and with --regions-every 10s), extrapolated
#      per hour for -i 1s, 2s (default) and 10s, with the default --regions-every 10m
#      and with --regions-every 1m.
# Usage: bench/watch.sh   (DURATION=60 RUNS=21 in the environment to change them)
set -eu
. "$(dirname "$0")/lib.sh"
DURATION=${DURATION:-60}
RUNS=${RUNS:-21}
JAVA=${JAVA:-/usr/bin/java}
command -v pmap >/dev/null && command -v watch >/dev/null ||
	{ echo "bench/watch.sh: needs pmap and watch (Debian 'procps')" >&2; exit 1; }
[ -x "$JAVA" ] || { echo "bench/watch.sh: no JDK at $JAVA" >&2; exit 1; }
[ -x "$BUILD/bench/watchtick" ] || { echo "bench/watch.sh: build first (make)" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'for p in $BENCH_PIDS; do kill -KILL $p 2>/dev/null; done; rm -rf "$TMP"' EXIT
life=$((DURATION + 120))

"$HELPERS/leaker" --maps 200 --lifetime "$life" --ready "$TMP/c.ready" &
cpid=$!
BENCH_PIDS="$cpid"
"${JAVA%/java}/javac" -d "$TMP" "$ROOT/tests/java/Idle.java"
"$JAVA" -XX:NativeMemoryTracking=summary -Xmx64m -cp "$TMP" Idle "$life" "$TMP/j.ready" &
jpid=$!
BENCH_PIDS="$BENCH_PIDS $jpid"
i=0
while { [ ! -s "$TMP/c.ready" ] || [ ! -s "$TMP/j.ready" ]; } && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -s "$TMP/j.ready" ] || { echo "bench/watch.sh: the JVM did not start" >&2; exit 1; }

# cpu_s PID: utime+stime+cutime+cstime of PID in seconds.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13 + $14 + $15) / hz }' \
		"/proc/$1/stat"
}
# size FILE, nsamples FILE
size() { stat -c %s "$1"; }
nsamples() { sqlite3 "$1" "SELECT count(*) FROM sample"; }
nregions() { sqlite3 "$1" "SELECT count(DISTINCT sample_id) FROM region"; }
# pages FILE 'NAME', ...: bytes of the pages of those tables and indexes.
pages() { sqlite3 "$1" "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ($2)"; }

echo "targets: C process $cpid ($(wc -l <"/proc/$cpid/maps") mappings), JVM $jpid" \
	"($(wc -l <"/proc/$jpid/maps") mappings, $(ls "/proc/$jpid/task" | wc -l) threads, NMT summary)"
echo "$(nproc) CPUs; $RUNS runs for times, $DURATION s for CPU and size"
echo
echo "== one sample"
printf "%-8s %14s %20s %12s %14s\n" target "watch tick" "tick with regions" "pmap -x" "pmap / tick"
for t in c j; do
	eval pid=\$${t}pid
	"$BUILD/bench/watchtick" "$pid" "$RUNS" >"$TMP/tick.$t"
	tick=$(sed -n 's/^tick \([0-9.]*\) ms/\1/p' "$TMP/tick.$t")
	treg=$(sed -n 's/^tick_with_regions \([0-9.]*\) ms/\1/p' "$TMP/tick.$t")
	pm=$(median_ms "$RUNS" pmap -x "$pid")
	printf "%-8s %11s ms %17s ms %9s ms %14s\n" "$([ $t = c ] && echo C || echo JVM)" \
		"$tick" "$treg" "$pm" "$(ratio "$pm" "$tick")"
done

echo
echo "== $DURATION s at one sample a second (all at once)"
start_bg_w() { "$@" & BENCH_PIDS="$BENCH_PIDS $!"; }
for t in c j; do
	eval pid=\$${t}pid
	start_bg_w "$OFFHEAP" watch "$pid" -i 1s -o "$TMP/$t.db" --plain >/dev/null
	eval ow_$t=\$!
	start_bg_w "$OFFHEAP" watch "$pid" -i 1s -o "$TMP/$t.every.db" --plain \
		--regions-every 10s >/dev/null
	eval ev_$t=\$!
	start_bg_w env TERM=xterm watch -n1 pmap -x "$pid" >/dev/null 2>&1
	eval pw_$t=\$!
	start_bg_w "$OFFHEAP" watch "$pid" -i 100ms -o "$TMP/$t.fast.db" --plain >/dev/null
	eval fa_$t=\$!
done
sleep "$DURATION"
for t in c j; do
	eval ow=\$ow_$t pw=\$pw_$t ev=\$ev_$t fa=\$fa_$t
	eval cpu_ow_$t=$(cpu_s "$ow")
	eval cpu_pw_$t=$(cpu_s "$pw")
	kill -INT "$ow" "$ev" "$fa"
	kill -TERM "$pw"
	wait "$ow" "$ev" "$fa" || true
	wait "$pw" 2>/dev/null || true
done
printf "%-8s %22s %22s %14s %14s\n" target "offheap watch CPU" "watch pmap -x CPU" \
	"pmap / offheap" "ms CPU/sample"
for t in c j; do
	eval a=\$cpu_ow_$t b=\$cpu_pw_$t
	n=$(nsamples "$TMP/$t.db")
	printf "%-8s %20s s %20s s %14s %14s\n" "$([ $t = c ] && echo C || echo JVM)" "$a" "$b" \
		"$(ratio "$b" "$a")" "$(awk -v a="$a" -v n="$n" 'BEGIN { printf "%.2f", a * 1000 / n }')"
done

echo
echo "== recording size"
printf "%-6s %10s %8s %9s %11s %11s %9s %9s %9s %9s %11s\n" target "file" samples \
	"file/smp" "per sample" "region set" fixed "-i 1s/h" "-i 2s/h" "-i 10s/h" "2s, 1m/h"
for t in c j; do
	db=$TMP/$t.db every=$TMP/$t.every.db fast=$TMP/$t.fast.db
	n=$(nsamples "$db") nf=$(nsamples "$fast") rn=$(nregions "$every") s=$(size "$db")
	# Pages (dbstat) of the tables every sample writes, in the run of many samples; of
	# those only a set of regions writes (mappings and threads), in the run with many
	# sets; the rest of the -i 1s file (schema, process, meta) is fixed.
	tabs="'sample', 'sample_process_t', 'class_total', 'class_total_class',
		'sample_counter', 'sample_nmt', 'sample_tgroup'"
	awk -v n="$n" -v nf="$nf" -v perf="$(pages "$fast" "$tabs")" -v per="$(pages "$db" "$tabs")" \
		-v rn="$rn" -v reg="$(pages "$every" "'region', 'thread'")" \
		-v regdb="$(pages "$db" "'region', 'thread'")" -v s="$s" \
		-v who="$([ $t = c ] && echo C || echo JVM)" 'BEGIN {
		ps = perf / nf
		rs = reg / rn
		fixed = s - per - regdb
		for (k = 0; k < 3; k++) {
			iv = k == 0 ? 1 : k == 1 ? 2 : 10
			h[k] = fixed + 3600 / iv * ps + 7 * rs
		}
		m = fixed + 1800 * ps + 61 * rs
		printf "%-6s %8.0f K %8d %7.0f B %9.0f B %9.0f B %7.0f B %6.1f MB %6.1f MB %6.1f MB %8.1f MB\n",
			who, s / 1024, n, s / n, ps, rs, fixed, h[0] / 1e6, h[1] / 1e6, h[2] / 1e6,
			m / 1e6 }'
done
echo "(file: the -i 1s run; per sample: its tables' pages in the -i 100ms run, same content,"
echo " ten times the samples; an hour: fixed + 3600/interval samples + 7 sets of regions for"
echo " the default --regions-every 10m, 61 for 1m)"
