#!/bin/sh
# offheap record --sample: the live bytes a site is charged estimate what it holds. One kept
# block of 4 to 100 means is always recorded with its size; many small blocks (1 byte up to
# 3 means) are estimated within six standard deviations of the sampling (N blocks of size s,
# each sampled with p = 1 - exp(-s/mean) and weighted s/p: relative deviation
# sqrt((1 - p) / (N p))), so a correct tracker fails about once in 10^9 runs.
. "$(dirname "$0")/test-lib.sh"

# site_live DB: the live bytes of the keep_block site
site_live() {
	"$OFFHEAP" report "$1" --top 0 --json >j &&
	python3 -c "
import json
d = json.load(open(\"j\"))
s = [t for t in d[\"top\"] if any(f[\"function\"] == \"keep_block\" for f in t[\"frames\"])]
assert len(s) == 1, s
print(s[0][\"live_bytes\"])
"
}

# one_block MEAN SIZE: one kept block of SIZE is charged SIZE, within 1%
one_block() {
	"$OFFHEAP" record --sample "$1" -o one-$1-$2.db -- "$HELPERS/keeper" "$2" 1 >/dev/null &&
	got=$(site_live one-$1-$2.db) &&
	echo "mean $1, one block of $2: $got" &&
	within_pct "$got" "$2" 1
}

test_expect_success 'one block of 8 MiB at the default mean (512k, 16 means)' '
	"$OFFHEAP" record -o big.db -- "$HELPERS/keeper" 8388608 1 >/dev/null &&
	got=$(site_live big.db) &&
	echo "$got" &&
	within_pct "$got" 8388608 1
'

test_expect_success 'one block of 4, 10, 16, 20 and 100 means (16k)' '
	for s in 65536 163840 262144 327680 1638400; do
		one_block 16384 $s || return 1
	done
'

# many MEAN SIZE N: N kept blocks of SIZE, estimated within 6 standard deviations
many() {
	"$OFFHEAP" record --sample "$1" -o many-$1-$2.db -- "$HELPERS/keeper" "$2" "$3" >/dev/null &&
	got=$(site_live many-$1-$2.db) &&
	awk -v m="$1" -v s="$2" -v n="$3" -v got="$got" "BEGIN {
		p = 1 - exp(-s / m); want = s * n
		tol = 6 * sqrt((1 - p) / (n * p))
		d = got / want - 1; if (d < 0) d = -d
		printf \"mean %d, %d blocks of %d: %d, want %d +- %.1f%%\\n\", m, n, s, got, want, tol * 100
		exit (d <= tol ? 0 : 1) }"
}

test_expect_success 'many blocks of 1 byte (mean 64: p = 0.016)' '
	many 64 1 300000
'

test_expect_success 'many blocks of 100 bytes (mean 4k: p = 0.024)' '
	many 4096 100 200000
'

test_expect_success 'many blocks of a quarter mean, a mean, 3 means (16k)' '
	many 16384 4096 20000 &&
	many 16384 16384 3000 &&
	many 16384 49152 1000
'

test_done
