#!/bin/sh
# offheap report on a file without a single allocation site fails (exit 1) with an error and a
# hint, in every format: a snapshot (no alloc_* tables), a recording of a program that allocated
# nothing, a recording of a static program (the tracker never started).
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'a snapshot: exit 1, no allocation data, how to make some' '
	start_bg "$HELPERS/trackee" sleep 20 &&
	"$OFFHEAP" snap $BG_PID -o snap.db &&
	test_exit_code 1 "$OFFHEAP" report snap.db >out 2>err &&
	cat err &&
	test ! -s out &&
	grep -q "^offheap: error: .snap.db. holds no allocation data" err &&
	grep -q "^hint: make one with .offheap record" err
'

test_expect_success 'a recording of a program that allocated nothing: exit 1 in every format' '
	"$OFFHEAP" record --exact -o none.db -- "$HELPERS/trackee" exit 0 &&
	test "$(sqlite3 none.db "SELECT count(*) FROM alloc_run")" = 1 &&
	test "$(sqlite3 none.db "SELECT count(*) FROM alloc_stack")" = 0 &&
	for f in text json collapsed pprof html; do
		test_exit_code 1 "$OFFHEAP" report none.db --format $f >out 2>err &&
		cat err &&
		grep -q "^offheap: error: .none.db. holds no" err &&
		grep -q "^hint: the recorded command allocated nothing the tracker saw" err || return 1
	done
'

test_expect_success 'the same file as --base: exit 1' '
	"$OFFHEAP" record --exact -o some.db -- "$HELPERS/trackee" grow 2 &&
	"$OFFHEAP" report some.db >/dev/null &&
	test_exit_code 1 "$OFFHEAP" report some.db --base none.db >out 2>err &&
	grep -q "^offheap: error: .none.db. holds no allocation data" err
'

printf "int main(void) { return 0; }\n" >static.c
if cc -static -o static static.c 2>/dev/null; then
	test_expect_success 'a recording of a static program: exit 1, the tracker never started' '
		"$OFFHEAP" record -o static.db -- ./static 2>rec &&
		test "$(sqlite3 static.db "SELECT count(*) FROM alloc_run")" = 0 &&
		test_exit_code 1 "$OFFHEAP" report static.db >out 2>err &&
		cat err &&
		grep -q "^offheap: error: .static.db. holds no allocation data" err &&
		grep -q "^hint: the tracker never started" err
	'
else
	test_skip 'a recording of a static program' 'cc -static fails (no static libc)'
fi

test_done
