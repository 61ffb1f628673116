#!/bin/sh
# Snapshot of a process with 10,000 mappings: offheap maps/snap vs pmap -x, same process, same run.
# Goal (PEERS.md): a snapshot in at most 20 ms.
set -eu
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-21}

"$HELPERS/leaker" --maps 10000 --idle-threads 8 --lifetime 300 --ready /tmp/offheap-bench-ready.$$ &
pid=$!
BENCH_PIDS="$pid"
while [ ! -s /tmp/offheap-bench-ready.$$ ]; do sleep 0.05; done
rm -f /tmp/offheap-bench-ready.$$
n=$(wc -l </proc/$pid/maps)
echo "process $pid: $n mappings, $(ls /proc/$pid/task | wc -l) threads; median of $RUNS runs"

# In-process: snapshot_take() alone, and the kernel's smaps text alone, for the floor.
"$BUILD/bench/snaptime" "$pid" "$RUNS" | while read -r what ms unit; do
	printf "%-34s %8s ms\n" "$what (in process)" "$ms"
done
maps=$(median_ms "$RUNS" "$OFFHEAP" maps "$pid")
json=$(median_ms "$RUNS" "$OFFHEAP" maps "$pid" --json)
pmapx=$(median_ms "$RUNS" pmap -x "$pid")
raw=$(median_ms "$RUNS" cat /proc/$pid/smaps)
printf "%-34s %8s ms\n" "cat /proc/PID/smaps (kernel floor)" "$raw"
printf "%-34s %8s ms\n" "offheap maps PID" "$maps"
printf "%-34s %8s ms\n" "offheap maps PID --json" "$json"
printf "%-34s %8s ms\n" "pmap -x PID" "$pmapx"
if "$OFFHEAP" snap --help >/dev/null 2>&1; then
	snap=$(median_ms "$RUNS" sh -c "rm -f /tmp/offheap-bench.$$.db; exec '$OFFHEAP' snap $pid -o /tmp/offheap-bench.$$.db")
	rm -f /tmp/offheap-bench.$$.db
	printf "%-34s %8s ms\n" "offheap snap PID -o F" "$snap"
	echo "ratio snap / pmap -x: $(ratio "$snap" "$pmapx")"
fi
echo "ratio maps / pmap -x: $(ratio "$maps" "$pmapx")"
