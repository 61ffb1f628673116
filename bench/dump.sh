#!/bin/sh
# offheap dump vs gdb's 'dump binary memory' on the same 1 GiB anonymous region of
# the same process, in the same run; gdb's wall time is the time it keeps the target
# stopped (offheap stops nothing). Then offheap inspect on that dump, and on 1 GiB of
# random bytes (the worst case for the string table).
# Goals (issue 6): dump >= 1 GB/s; inspect 1 GiB in <= 3 s.
set -eu
. "$(dirname "$0")/lib.sh"
MIB=${MIB:-1024}
DIR=${DIR:-/tmp/offheap-bench-dump.$$}
mkdir -p "$DIR"
trap 'for p in $BENCH_PIDS; do kill -KILL $p 2>/dev/null; done; rm -rf "$DIR"' EXIT

"$HELPERS/anonhold" "$MIB" "$DIR/ready" 600 &
pid=$!
BENCH_PIDS="$pid"
while [ ! -s "$DIR/ready" ]; do sleep 0.1; done
addr=$(python3 -c "
for l in open('/proc/$pid/maps'):
    f = l.split()
    a, b = (int(x, 16) for x in f[0].split('-'))
    if f[1] == 'rw-p' and len(f) == 5 and b - a >= $MIB << 20:
        print(hex(a)); break
")
end=$(printf "0x%x" $((addr + (MIB << 20))))
bytes=$((MIB << 20))
echo "process $pid: ${MIB} MiB touched anonymous memory at $addr-$end; one run each"

t() {
	_t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	_t1=$(date +%s%N)
	echo $(((_t1 - _t0) / 1000000))
}

sync
od=$(t "$OFFHEAP" dump "$pid" "$addr-$end" -o "$DIR/offheap.bin")
gd=$(t gdb -p "$pid" -batch -ex "dump binary memory $DIR/gdb.bin $addr $end")
same=different
cmp -s "$DIR/offheap.bin" "$DIR/gdb.bin" && same=identical
rm -f "$DIR/gdb.bin"
ins=$(t "$OFFHEAP" inspect "$DIR/offheap.bin")
head -c "$bytes" /dev/urandom >"$DIR/random.bin"
insr=$(t "$OFFHEAP" inspect --raw "$DIR/random.bin")

mbps() { awk -v b="$1" -v ms="$2" 'BEGIN { printf "%.0f", ms ? b / 1e6 / (ms / 1000) : 0 }'; }
printf "%-52s %7s ms %6s MB/s\n" "offheap dump (target not stopped)" "$od" "$(mbps $bytes $od)"
printf "%-52s %7s ms %6s MB/s\n" "gdb -batch dump binary memory (target stopped)" "$gd" "$(mbps $bytes $gd)"
printf "%-52s %7s ms\n" "time the target is stopped: offheap / gdb" "0 / $gd"
printf "%-52s %7s ms %6s MB/s\n" "offheap inspect of the dump (one byte value)" "$ins" "$(mbps $bytes $ins)"
printf "%-52s %7s ms %6s MB/s\n" "offheap inspect --raw of random bytes" "$insr" "$(mbps $bytes $insr)"
echo "files: $same"
echo "ratio gdb / offheap dump time: $(ratio "$gd" "$od")"
