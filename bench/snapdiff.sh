#!/bin/sh
# Baseline and diff of a process with 10,000 mappings: offheap snap/diff vs the by-hand
# procedure (pmap -x to a file, later pmap -x again and diff(1)), same process, same run.
set -eu
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-11}
T=$(mktemp -d /tmp/offheap-bench.XXXXXX)
trap 'for p in $BENCH_PIDS; do kill -KILL $p 2>/dev/null; done; rm -rf "$T"' EXIT

"$HELPERS/leaker" --maps 10000 --mmap-thread grower --rate 20 --lifetime 300 --ready "$T/ready" &
pid=$!
BENCH_PIDS="$pid"
while [ ! -s "$T/ready" ]; do sleep 0.05; done
echo "process $pid: $(wc -l </proc/$pid/maps) mappings; median of $RUNS runs"

snap=$(median_ms "$RUNS" sh -c "rm -f '$T/a.db'; exec '$OFFHEAP' snap $pid -o '$T/a.db'")
pmap_save=$(median_ms "$RUNS" sh -c "pmap -x $pid >'$T/a.txt'")
sleep 1
"$OFFHEAP" snap $pid -o "$T/b.db" 2>/dev/null
diff_files=$(median_ms "$RUNS" "$OFFHEAP" diff "$T/a.db" "$T/b.db")
diff_live=$(median_ms "$RUNS" "$OFFHEAP" diff $pid --since "$T/a.db")
pmap_diff=$(median_ms "$RUNS" sh -c "pmap -x $pid >'$T/b.txt'; diff '$T/a.txt' '$T/b.txt'; true")
printf "%-36s %8s ms\n" "offheap snap PID -o F" "$snap"
printf "%-36s %8s ms\n" "pmap -x PID >F" "$pmap_save"
printf "%-36s %8s ms\n" "offheap diff A B" "$diff_files"
printf "%-36s %8s ms\n" "offheap diff PID --since A" "$diff_live"
printf "%-36s %8s ms\n" "pmap -x PID >G; diff F G" "$pmap_diff"
printf "%-36s %8s KiB\n" "snapshot file size" "$(( $(wc -c <"$T/a.db") / 1024 ))"
printf "%-36s %8s KiB\n" "pmap -x text size" "$(( $(wc -c <"$T/a.txt") / 1024 ))"
echo "ratio snap / pmap -x >F: $(ratio "$snap" "$pmap_save")"
echo "ratio diff --since / (pmap -x; diff): $(ratio "$diff_live" "$pmap_diff")"
