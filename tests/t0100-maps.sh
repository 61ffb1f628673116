#!/bin/sh
# offheap maps on live processes: classes, thread stacks, totals equal smaps_rollup, options.
. "$(dirname "$0")/test-lib.sh"

start_bg "$HELPERS/leaker" --mmap-thread pool-grower --chunk 1M --rate 50 --max 24M \
	--malloc-threads 2 --malloc-size 64k --idle-threads 2 \
	--status status --ready ready --lifetime 60
pid=$BG_PID
wait_ready ready

test_expect_success 'the named mmap thread has its stack, with TID and name' '
	wait_for 10 "grep -q \"mmap_bytes 25165824\" status" &&
	offheap maps $pid --wide >out &&
	tid=$(grep -l "^pool-grower" /proc/$pid/task/*/comm | sed "s,.*/task/\([0-9]*\)/comm,\1,") &&
	grep -E "stack +$tid +pool-grower +\[stack:$tid pool-grower\]$" out &&
	grep -E "stack +$tid +pool-grower +\[stack:$tid pool-grower\] guard$" out
'

test_expect_success 'every thread stack is found, the main one too' '
	offheap maps $pid --json >maps.json &&
	for t in /proc/$pid/task/*; do
		tid=${t##*/} &&
		jq -e --argjson t $tid "[.mappings[] | select(.class == \"stack\" and .tid == \$t)] | length >= 1" maps.json >/dev/null ||
		{ echo "no stack for thread $tid"; return 1; }
	done
'

test_expect_success 'glibc arenas of the malloc threads are classed arena' '
	jq -e "[.mappings[] | select(.class == \"arena\")] | length >= 2" maps.json
'

test_expect_success 'the mapped chunks show as anonymous memory of the right size' '
	anon=$(jq "[.mappings[] | select(.class == \"anon\") | .rss] | add" maps.json) &&
	test "$anon" -ge 25165824
'

# Pss and Shared_* move whenever another process maps or drops the same library pages
# (other tests run in parallel), so they are compared within 1 %; the rest exactly.
test_expect_success 'totals equal smaps_rollup exactly' '
	offheap maps $pid --json >a.json &&
	grep -E "^(Rss|Pss|Anonymous|Swap|Locked|Private_Dirty):" /proc/$pid/smaps_rollup >rollup &&
	within_pct $(jq .totals.pss a.json) $(awk "/^Pss:/ { print \$2 * 1024 }" rollup) 1 &&
	for pair in Rss:rss Anonymous:anon Swap:swap Locked:locked Private_Dirty:private_dirty; do
		key=${pair%%:*} field=${pair#*:} &&
		want=$(awk -v k="$key:" "\$1 == k { print \$2 * 1024 }" rollup) &&
		got=$(jq ".totals.$field" a.json) &&
		{ test "$got" = "$want" || { echo "$key: offheap $got, smaps_rollup $want"; return 1; }; }
	done &&
	jq -e ".totals_source == \"smaps_rollup\"" a.json
'

test_expect_success 'the mappings add up to the totals (RSS, anon, swap, size)' '
	jq -e "([.mappings[].rss] | add) == .totals.rss and ([.mappings[].anon] | add) == .totals.anon and ([.mappings[].size] | add) == .totals.size" a.json
'

test_expect_success 'the text total line equals the rollup RSS: --bytes exact, by default with its unit' '
	offheap maps $pid --bytes >text &&
	rss_kb=$(awk "/^Rss:/ { print \$2 }" /proc/$pid/smaps_rollup) &&
	awk -v want=$((rss_kb * 1024)) "\$1 == \"total\" { exit (\$3 == want ? 0 : 1) }" text &&
	offheap maps $pid >text &&
	head -n 2 text | tail -n 1 | grep -E "^Address +Perm +Offset +Size +RSS +PSS +Dirty +Anon +Swap +Locked +THP +Class +Mapping$" &&
	awk "\$1 == \"total\" { print \$3 }" text >human &&
	grep -E "^[0-9]+(\.[0-9])?[KMG]$" human
'

test_expect_success '--sort rss orders rows by RSS, --top limits them' '
	offheap maps $pid --sort rss --top 5 --output rss --bytes >top &&
	test $(wc -l <top) -eq 8 &&
	sed -n "3,7p" top >rows && sort -rn rows | cmp - rows
'

test_expect_success '--output, --no-headings, --raw: a stack named with its thread, escaped' '
	tid=$(grep -l "^pool-grower" /proc/$pid/task/*/comm | sed "s,.*/task/\([0-9]*\)/comm,\1,") &&
	offheap maps $pid --output tid,class,mapping --raw --no-headings >raw &&
	grep -x "$tid stack \[stack:$tid\\\\x20pool-grower\]" raw &&
	grep -x "$tid stack \[stack:$tid\\\\x20pool-grower\]\\\\x20guard" raw &&
	! grep -q "^Address\|^TID" raw &&
	sed -e 1d -e "/^total /d" raw >rows &&
	test "$(awk "NF != 3" rows | wc -l)" = 0 &&
	offheap maps $pid --by class --output group,mappings,rss --bytes --no-headings >groups &&
	test "$(awk "\$1 == \"total\" { print \$3 }" groups)" = \
		"$(offheap maps $pid --json | jq .totals.rss)" ||
	{ offheap maps $pid --json | jq .totals.rss; cat groups; false; }
'

test_expect_success '--sort addr orders rows by address' '
	offheap maps $pid --sort addr --output start,rss >addrs &&
	sed -e "1,2d" -e "\$d" addrs | awk "{ print \$1 }" >col &&
	test $(wc -l <col) -gt 20 && sort -c col
'

test_expect_success '--by class totals add up to the process total' '
	offheap maps $pid --by class --json >by.json &&
	jq -e "([.groups[].rss] | add) == .totals.rss" by.json &&
	jq -e "[.groups[].group] | index(\"stack\") != null and index(\"lib\") != null" by.json
'

test_expect_success '--by path groups stacks and arenas together' '
	offheap maps $pid --by path >bypath &&
	grep "^\[stacks\]" bypath && grep "^\[arenas\]" bypath && grep "libc.so" bypath
'

test_expect_success 'the PID may be given as a unique process name' '
	cp "$HELPERS/leaker" ./uniqleak &&
	start_bg ./uniqleak --lifetime 20 --ready r2 &&
	wait_ready r2 &&
	offheap maps uniqleak --top 1 >byname &&
	head -1 byname | grep "^$BG_PID: "
'

test_expect_success 'bad options are usage errors (exit 2)' '
	test_exit_code 2 offheap maps $pid --sort nope 2>err && grep "unknown sort key" err &&
	test_exit_code 2 offheap maps 2>err && grep "a PID is needed" err &&
	test_exit_code 2 offheap maps $pid $pid 2>err &&
	test_exit_code 2 offheap maps $pid --output rss,nope 2>err &&
	grep -x "offheap: error: unknown column .nope. (valid: start,end,.*,mapping,group,mappings)" err &&
	test_exit_code 2 offheap maps $pid -o rss 2>err
'

test_done
