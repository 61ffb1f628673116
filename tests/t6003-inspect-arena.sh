#!/bin/sh
# offheap inspect --class arena on a process whose blocks come from a glibc
# arena (allocated by a second thread): the first chunk after heap_info and
# malloc_state is found, the walk reaches the top chunk, and the strings and
# chunk sizes are those of the blocks.
. "$(dirname "$0")/test-lib.sh"

start_bg "$HELPERS/jsonheap" 24 "$TRASH/status" 100 arena
wait_ready "$TRASH/status" 30 || { echo "not ok - jsonheap did not start"; exit 1; }
pid=$(awk '$1 == "pid" { print $2 }' "$TRASH/status")
grep -q "^glibc 1" "$TRASH/status" || skip_all "the helper does not use glibc malloc (sanitizer build)"
chunk=$(awk '$1 == "chunk" { print $2 }' "$TRASH/status")
n0=$(awk '$1 == "n0" { print $2 }' "$TRASH/status")
total=$(awk '$1 ~ /^n[012]$/ { t += $2 } END { print t }' "$TRASH/status")

test_expect_success 'inspect --class arena: names, counts, chunk walk to the top' '
	offheap inspect $pid --class arena --top 5 >out &&
	cat out &&
	c=$(awk "\$3 == \"ascii\" && \$4 == \"\\\"customerAccountId\\\":\" { print \$2 }" out) &&
	within_pct "$c" $n0 5 &&
	grep "^malloc chunks of .* stopped at .*: top chunk" out &&
	sed -n "/^chunk sizes/,\$p" out | sed -n 3p >first &&
	test "$(awk "{ print \$1 }" first)" = "$chunk" &&
	within_pct "$(awk "{ print \$2 }" first)" $total 5
'

test_expect_success 'the same from a dump of the arena' '
	offheap dump $pid --class arena -o a.bin 2>/dev/null &&
	offheap inspect a.bin --json >a.json &&
	python3 -c "
import json
d = json.load(open(\"a.json\"))
w = [x for x in d[\"chunk_walks\"] if x[\"chunks\"] > 0]
assert w and w[0][\"stop\"] == \"top chunk\", d[\"chunk_walks\"]
assert d[\"chunk_sizes\"][0][\"size\"] == $chunk, d[\"chunk_sizes\"]
"
'

test_done
