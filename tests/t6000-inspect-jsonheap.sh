#!/bin/sh
# offheap inspect on a process holding ~50 MiB of 4 KiB heap blocks of random
# bytes, each carrying one of three JSON field names: the three names rank
# first with counts within 5 % of the truth, and the blocks' chunk size is the
# top in-use size of the heap's chunk walk.
. "$(dirname "$0")/test-lib.sh"

start_bg "$HELPERS/jsonheap" 50 "$TRASH/status" 100
wait_ready "$TRASH/status" 30 || { echo "not ok - jsonheap did not start"; exit 1; }
pid=$(awk '$1 == "pid" { print $2 }' "$TRASH/status")
grep -q "^glibc 1" "$TRASH/status" || skip_all "the helper does not use glibc malloc (sanitizer build)"
chunk=$(awk '$1 == "chunk" { print $2 }' "$TRASH/status")
n0=$(awk '$1 == "n0" { print $2 }' "$TRASH/status")
n1=$(awk '$1 == "n1" { print $2 }' "$TRASH/status")
n2=$(awk '$1 == "n2" { print $2 }' "$TRASH/status")

# count NAME: the count of the string NAME in the text output, as ranked.
count_of() {
	awk -v s="$1" '$3 == "ascii" && $4 == s { print $2; exit }' out
}

test_expect_success 'inspect --class heap ranks the three JSON names first' '
	offheap inspect $pid --class heap --top 10 >out &&
	cat out &&
	sed -n "/^repeated strings/,/^\$/p" out | sed -n 3,5p | awk "{ print \$4 }" | sort >top3 &&
	printf "%s\n" "\"customerAccountId\":" "\"merchantCategoryCode\":" \
		"\"transactionTimestamp\":" | sort >want &&
	cmp top3 want
'

test_expect_success 'their counts are within 5% of the truth' '
	within_pct "$(count_of "\"customerAccountId\":")" $n0 5 &&
	within_pct "$(count_of "\"transactionTimestamp\":")" $n1 5 &&
	within_pct "$(count_of "\"merchantCategoryCode\":")" $n2 5
'

test_expect_success 'the chunk walk shows the block size as the top in-use size' '
	sed -n "/^chunk sizes/,\$p" out >sizes &&
	test "$(sed -n 3p sizes | awk "{ print \$1 }")" = "$chunk" &&
	within_pct "$(sed -n 3p sizes | awk "{ print \$2 }")" $((n0 + n1 + n2)) 5 &&
	grep "stopped at .*: top chunk" out
'

test_expect_success 'inspect --json says the same' '
	offheap inspect $pid --class heap --top 3 --json >out.json &&
	python3 -c "
import json, sys
d = json.load(open(\"out.json\"))
names = sorted(s[\"string\"] for s in d[\"strings\"])
assert names == sorted([\"\\\"customerAccountId\\\":\", \"\\\"transactionTimestamp\\\":\", \"\\\"merchantCategoryCode\\\":\"]), names
assert d[\"chunk_sizes\"][0][\"size\"] == $chunk, d[\"chunk_sizes\"]
assert d[\"pages\"][\"compressed_or_random\"] > 12000, d[\"pages\"]
assert d[\"pointers\"][\"words\"] > 0
assert d[\"partial\"] is False
"
'

test_expect_success 'dump --class heap then inspect the file: the same ranking' '
	offheap dump $pid --class heap -o heap.bin &&
	test -s heap.bin && test -s heap.bin.json &&
	offheap inspect heap.bin --top 10 >fout &&
	sed -n "/^repeated strings/,/^\$/p" fout | sed -n 3,5p | awk "{ print \$4 }" | sort >ftop3 &&
	cmp ftop3 want &&
	test "$(sed -n "/^chunk sizes/,\$p" fout | sed -n 3p | awk "{ print \$1 }")" = "$chunk"
'

test_done
