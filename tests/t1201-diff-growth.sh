#!/bin/sh
# offheap diff on a process that maps memory at a steady rate: the growth is found in the
# right class and mapping, to within 5 % of what the process says it mapped.
. "$(dirname "$0")/test-lib.sh"

start_bg "$HELPERS/leaker" --mmap-thread grower --rate 20 --chunk 1M --max 400M \
	--status status --ready ready --lifetime 100
pid=$BG_PID
wait_ready ready || exit 1

mapped() { awk '/^mmap_bytes/ {print $2}' status; }

# The helper's count is read just before and just after each snapshot: the snapshot
# saw a value between the two, so the midpoints bound the error to about one chunk.
m0=$(mapped); offheap snap $pid -o a.db 2>/dev/null; m1=$(mapped)
# Enough growth to measure (40 chunks), however slowly a loaded machine lets it come.
wait_for 60 '[ "$(mapped)" -ge $((m1 + 40 * 1048576)) ]'
m2=$(mapped); offheap snap $pid -o b.db 2>/dev/null; m3=$(mapped)
want=$(( (m2 + m3) / 2 - (m0 + m1) / 2 ))
say "helper mapped $want bytes between the snapshots ($m0 $m1 $m2 $m3)"

test_expect_success 'both snapshots were taken and the helper grew' '
	test -s a.db && test -s b.db && test "$want" -gt $((20 * 1048576))
'

test_expect_success 'diff --json: class anon grew by what the helper mapped (5 %)' '
	offheap diff a.db b.db --json >d.json &&
	got=$(jq ".classes[] | select(.class == \"anon\") | .rss_delta" d.json) &&
	say "anon rss delta $got, want $want" &&
	within_pct "$got" "$want" 5 &&
	got=$(jq ".classes[] | select(.class == \"anon\") | .anon_delta" d.json) &&
	within_pct "$got" "$want" 5 &&
	got=$(jq .delta.rss d.json) && within_pct "$got" "$want" 5
'

test_expect_success 'diff --json: the class that grew most is anon, first' '
	test "$(jq -r ".classes[0].class" d.json)" = anon
'

# The kernel merges each new chunk into the anonymous mapping above it until
# something is in the way; then a new mapping is born and grows in turn.
test_expect_success 'diff --json: the top mapping is an anonymous one that grew or was born' '
	jq -r ".mappings[0] | .class, .state" d.json >top &&
	test "$(sed -n 1p top)" = anon &&
	grep -qx -e grew -e born top
'

test_expect_success 'diff --json: the mapping deltas add up to the class delta' '
	offheap diff a.db b.db --json --top 0 >all.json &&
	test "$(jq "[.mappings[] | select(.class == \"anon\") | .rss_delta] | add" all.json)" = \
		"$(jq ".classes[] | select(.class == \"anon\") | .rss_delta" all.json)" &&
	test "$(jq "[.mappings[] | .rss_delta] | add" all.json)" = \
		"$(jq "[.classes[] | .rss_delta] | add" all.json)"
'

test_expect_success 'diff --json: identity, interval, files' '
	test "$(jq .pid d.json)" = $pid &&
	test "$(jq -r .name d.json)" = leaker &&
	test "$(jq -r .before.file d.json)" = a.db &&
	test "$(jq -r .after.file d.json)" = b.db &&
	# 40 chunks at 20 a second: at least 2 s apart (less a chunk), and counted in ns.
	test "$(jq ".interval_ns >= 1900000000 and .interval_ns < 600000000000" d.json)" = true &&
	test "$(jq ".after.rss - .before.rss == .delta.rss" d.json)" = true
'

test_expect_success 'diff text: header, totals, class table, mappings, threads' '
	offheap diff a.db b.db >d.txt &&
	cat d.txt &&
	grep -q "^pid $pid (leaker)  .* -> .*  interval [0-9.]* s$" d.txt &&
	grep -q "^RSS .* -> .* (+[0-9.]* MiB)$" d.txt &&
	grep -Eq "^anon +[0-9]+ +[-+][0-9]+ +[0-9.]+[BKMG] +[0-9.]+[KMG] +\+[1-9][0-9.]*[KMG] " d.txt &&
	grep -E "^Class +Mappings +\+/- +RSS before +RSS after +RSS delta +Anon delta +Swap delta +Size delta$" d.txt &&
	offheap diff a.db b.db --by class --bytes --output class,rss_delta --no-headings >b.txt &&
	test "$(awk "\$1 == \"anon\" { print \$2 }" b.txt)" = \
		"+$(offheap diff a.db b.db --json | jq ".classes[] | select(.class == \"anon\") | .rss_delta")" &&
	grep -q "^Mappings changed: [1-9]" d.txt &&
	grep -E -q "^(grew|born) .* anon .*\[anon\]$" d.txt &&
	grep -q "^Threads: 2 -> 2, 0 born, 0 gone$" d.txt
'

# The helper's other anonymous memory may shrink a little meanwhile (the
# sanitizer build's allocator gives its freed pages back): 5 %, as above.
test_expect_success 'diff PID --since FILE compares the live process' '
	m4=$(mapped) &&
	offheap diff $pid --since a.db --json >s.json &&
	test "$(jq -r .before.file s.json)" = a.db &&
	test "$(jq -r .after.file s.json)" = null &&
	got=$(jq ".classes[] | select(.class == \"anon\") | .rss_delta" s.json) &&
	say "anon rss delta since a.db $got, mapped since $((m4 - m1))" &&
	test "$got" -ge $(((m4 - m1) / 100 * 95)) &&
	offheap diff $pid --since a.db >s.txt &&
	grep -q "^pid $pid (leaker)" s.txt
'

test_expect_success '--fail-on-growth: exit 3 over the limit, 0 under it' '
	test_exit_code 3 offheap diff a.db b.db --fail-on-growth 1M >out 2>err &&
	cat err &&
	grep -q "^offheap: error: RSS grew by +[0-9.]* MiB, more than --fail-on-growth 1.0 MiB$" err &&
	grep -q "^RSS" out &&
	test_exit_code 0 offheap diff a.db b.db --fail-on-growth 10G >/dev/null &&
	test_exit_code 3 offheap diff $pid --since a.db --fail-on-growth 2M --json >out 2>/dev/null &&
	jq -e .delta.rss out >/dev/null &&
	test_exit_code 0 offheap diff b.db a.db --fail-on-growth 1M >/dev/null
'

test_expect_success '--by, --top and --sort shape the output' '
	offheap diff a.db b.db --json --by class >c.json &&
	test "$(jq "has(\"classes\"), has(\"mappings\"), has(\"threads\")" c.json | tr "\n" " ")" = \
		"true false false " &&
	offheap diff a.db b.db --json --by mapping,thread --top 1 >m.json &&
	test "$(jq ".mappings | length" m.json)" = 1 &&
	test "$(jq "has(\"classes\")" m.json)" = false &&
	offheap diff a.db b.db --by class >c.txt &&
	! grep -q "^Mappings" c.txt && grep -q "^By class" c.txt &&
	offheap diff a.db b.db --json --sort size >z.json &&
	test "$(jq ".mappings[0].size_delta > 0" z.json)" = true &&
	offheap diff b.db a.db --json >r.json &&
	test "$(jq ".delta.rss < 0" r.json)" = true
'

test_expect_success 'diff RECORDING compares its first sample with its last' '
	cp b.db b2.db &&
	sqlite3 b2.db "UPDATE sample SET id = 2; UPDATE region SET sample_id = 2;
		UPDATE class_total SET sample_id = 2; UPDATE thread SET sample_id = 2" &&
	cp a.db rec.db &&
	sqlite3 rec.db "ATTACH '\''b2.db'\'' AS b;
		INSERT INTO sample SELECT * FROM b.sample; INSERT INTO region SELECT * FROM b.region;
		INSERT INTO class_total SELECT * FROM b.class_total;
		INSERT INTO thread SELECT * FROM b.thread;
		UPDATE meta SET value = '\''recording'\'' WHERE key = '\''kind'\''" &&
	offheap diff rec.db --json >rec.json &&
	test "$(jq .delta rec.json)" = "$(jq .delta d.json)" &&
	test "$(jq .classes rec.json)" = "$(jq .classes d.json)" &&
	offheap diff a.db rec.db --json >last.json &&
	test "$(jq .delta last.json)" = "$(jq .delta d.json)" &&
	offheap diff a.db >one.txt 2>err &&
	grep -q "^offheap: warning: .a.db. holds one sample: nothing to compare it with$" err &&
	grep -q "^RSS .* (0 B)$" one.txt
'

test_expect_success 'usage errors exit 2' '
	test_exit_code 2 offheap diff 2>/dev/null &&
	test_exit_code 2 offheap diff $pid 2>/dev/null &&
	test_exit_code 2 offheap diff nosuch.db 2>/dev/null &&
	test_exit_code 2 offheap diff a.db b.db c.db 2>/dev/null &&
	test_exit_code 2 offheap diff a.db b.db --sort pss 2>/dev/null &&
	test_exit_code 2 offheap diff a.db b.db --by heap 2>/dev/null &&
	test_exit_code 2 offheap diff a.db b.db --fail-on-growth lots 2>/dev/null &&
	test_exit_code 2 offheap diff a.db b.db --top -1 2>/dev/null &&
	test_exit_code 2 offheap diff $pid a.db --since a.db 2>/dev/null
'

test_done
