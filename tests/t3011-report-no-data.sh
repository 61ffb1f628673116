#!/bin/sh
# offheap report on a file without allocation data fails (exit 1) with an error and a hint, in
# every format: a snapshot (no alloc_* tables), a recording of a static program (the tables,
# but the tracker never started). A run in which the tracker saw no allocation is data: 0 sites.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'a snapshot: exit 1, no allocation data, how to make some' '
	start_bg "$HELPERS/trackee" sleep 20 >/dev/null &&
	"$OFFHEAP" snap $BG_PID -o snap.db &&
	test_exit_code 1 "$OFFHEAP" report snap.db >out 2>err &&
	cat err &&
	test ! -s out &&
	grep -q "^offheap: error: .snap.db. holds no allocation data" err &&
	grep -q "^hint: make one with .offheap record" err
'

printf "int main(void) { return 0; }\n" >static.c
if cc -static -o static static.c 2>/dev/null; then
	test_expect_success 'a recording of a static program: exit 1 in every format' '
		"$OFFHEAP" record -o static.db -- ./static 2>rec &&
		test "$(sqlite3 static.db "SELECT count(*) FROM alloc_run")" = 0 &&
		for f in text json collapsed pprof html; do
			test_exit_code 1 "$OFFHEAP" report static.db --format $f >out 2>err &&
			cat err &&
			grep -q "^offheap: error: .static.db. holds no" err &&
			grep -q "^hint: .*statically linked or setuid" err || return 1
		done
	'

	test_expect_success 'the same file as --base: exit 1' '
		"$OFFHEAP" record --exact -o some.db -- "$HELPERS/trackee" grow 2 &&
		"$OFFHEAP" report some.db >/dev/null &&
		test_exit_code 1 "$OFFHEAP" report some.db --base static.db >out 2>err &&
		grep -q "^offheap: error: .static.db. holds no allocation data" err
	'
else
	test_skip 'a recording of a static program' 'cc -static fails (no static libc)'
fi

test_expect_success 'a run in which nothing was allocated: 0 sites, exit 0' '
	"$OFFHEAP" record --exact -o none.db -- "$HELPERS/trackee" exit 0 &&
	test "$(sqlite3 none.db "SELECT count(*) FROM alloc_stack")" = 0 &&
	"$OFFHEAP" report none.db >out &&
	grep -q "^0 sites" out
'

test_done
