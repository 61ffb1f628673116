# bench/lib.sh: timing helpers for the benchmark scripts (sourced).
# Every benchmark runs the peer tool on the same work in the same run and prints ratios.

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$ROOT/${OFFHEAP_BUILD:-build}"
OFFHEAP="$BUILD/offheap"
HELPERS="$BUILD/helpers"
BENCH_PIDS=""
trap 'for p in $BENCH_PIDS; do kill -KILL $p 2>/dev/null; done' EXIT

# median_ms RUNS CMD...: runs CMD RUNS times (output discarded), prints the median wall ms.
median_ms() {
	_runs=$1
	shift
	_i=0
	while [ $_i -lt "$_runs" ]; do
		_t0=$(date +%s%N)
		"$@" >/dev/null 2>&1
		_t1=$(date +%s%N)
		echo $(((_t1 - _t0) / 1000))
		_i=$((_i + 1))
	done | sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f\n", m / 1000 }'
}

# peak_kib CMD...: peak RSS of one run of CMD in KiB (GNU time).
peak_kib() {
	/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1
}

# ratio A B: A / B with two decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.2f\n", a / b }'
}
