#!/bin/sh
# offheap report, doctor FILE and --base on a generated recording of mid size (bench/recgen:
# 300 intervals x 200 stacks, every stack in every interval): the figures the reader computes
# in one pass match what the tables hold, read back with plain SQL.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

N=300
S=200
setup_or_fail "bench/recgen writes a $N x $S recording" "$BUILD/bench/recgen" rec.db $N $S
# the tables themselves: the stacks' figures at the final interval (every stack has a row)
live=$(sqlite3 rec.db "SELECT sum(live_bytes) FROM alloc_site
	WHERE interval_id = (SELECT max(id) FROM alloc_interval)")
count=$(sqlite3 rec.db "SELECT sum(live_count) FROM alloc_site
	WHERE interval_id = (SELECT max(id) FROM alloc_interval)")

test_expect_success 'report --json: the run'"'"'s totals and the intervals are the tables'"'"'' '
	offheap report --json --top 1000 rec.db >r.json &&
	test "$live" -gt 0 &&
	jq -e ".run.live_bytes == $live and .run.live_count == $count" r.json &&
	jq -e ".at_exit.live_bytes == $live and .at_exit.live_count == $count" r.json &&
	jq -e ".intervals == $N" r.json &&
	jq -e "[.top[]] | length == $S" r.json &&
	jq -e "[.top[].live_bytes] | add == $live" r.json
'

# recgen: stack i grows by 64 + i bytes an interval when i % 8 == 0, the others go up and down
test_expect_success 'every growing stack is found with its exact slope over all intervals' '
	seq 64 8 $((64 + S - 1)) >want &&
	jq -r "[.top[] | select(.growing) | .slope_bytes_per_interval] | sort | .[]" r.json >got &&
	diff -u want got &&
	jq -e "[.top[] | select(.growing) | .intervals_grew] | unique == [$((N - 1))]" r.json
'

test_expect_success 'report --base with the file itself leaves nothing live' '
	offheap report --json --top 1000 --base rec.db rec.db >b.json &&
	jq -e "[.top[]] | length == $S" b.json &&
	jq -e "[.top[] | select(.live_bytes != 0)] | length == 0" b.json
'

test_expect_success 'text, collapsed, pprof and html read the same recording' '
	offheap report rec.db >r.txt &&
	grep -q "level0_fn_" r.txt &&
	offheap report --format collapsed --top 1000 rec.db >r.folded &&
	test $(wc -l <r.folded) = $S &&
	offheap report --format pprof -o r.pb rec.db &&
	test -s r.pb &&
	offheap report --format html -o r.html rec.db &&
	grep -q "level0_fn_" r.html
'

test_expect_success 'doctor FILE reads it' '
	offheap doctor --json rec.db >d.json &&
	jq -e ".file == \"rec.db\"" d.json
'

test_done
