#!/bin/sh
# offheap record and report: usage errors (exit 2), bad files (exit 1, clear
# message), never a crash.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

# The target is built here, never sanitized: the build's helpers are ASan
# programs under 'make asan', and an ASan program refuses a preloaded library.
setup_or_fail "cc builds the trackee helper" \
	cc -O2 -g -o "$TRASH/trackee" "$ROOT/tests/helpers/trackee.c" -lpthread -ldl

test_expect_success 'record: usage errors exit 2' '
	test_exit_code 2 "$OFFHEAP" record 2>err && grep -q "no command" err &&
	test_exit_code 2 "$OFFHEAP" record --exact --sample 1k -- true 2>err &&
	grep -q exclude err &&
	test_exit_code 2 "$OFFHEAP" record --sample lots -- true 2>err &&
	test_exit_code 2 "$OFFHEAP" record --interval 0 -- true 2>err &&
	test_exit_code 2 "$OFFHEAP" record --bogus -- true 2>err
'

test_expect_success 'record: an existing file needs --force' '
	: >exists.db &&
	test_exit_code 1 "$OFFHEAP" record -o exists.db -- true 2>err &&
	grep -q "already exists" err && grep -q "hint:.*--force" err &&
	"$OFFHEAP" record -f -o exists.db -- true
'

test_expect_success 'record --help ends with examples' '
	"$OFFHEAP" record --help >out && tail -4 out | grep -q "offheap record" &&
	"$OFFHEAP" report --help >out && tail -4 out | grep -q "offheap report"
'

test_expect_success 'report: usage errors exit 2' '
	test_exit_code 2 "$OFFHEAP" report 2>err &&
	test_exit_code 2 "$OFFHEAP" report a.db b.db 2>err &&
	test_exit_code 2 "$OFFHEAP" report a.db --format xml 2>err &&
	test_exit_code 2 "$OFFHEAP" report a.db --top -1 2>err
'

test_expect_success 'report: missing, text, snapshot-only and corrupt files exit 1' '
	test_exit_code 1 "$OFFHEAP" report missing.db 2>err && grep -q missing.db err &&
	echo hello >text.db &&
	test_exit_code 1 "$OFFHEAP" report text.db 2>err && grep -q "error:" err &&
	start_bg "$HELPERS/anonhold" 1 ready 30 &&
	hp=$BG_PID &&
	wait_ready ready &&
	"$OFFHEAP" snap $hp -o snap.db &&
	stop_bg $hp &&
	test_exit_code 1 "$OFFHEAP" report snap.db 2>err &&
	grep -q "holds no allocation data" err && grep -q "hint:" err
'

test_expect_success 'report: a recording with garbage in alloc_site does not crash' '
	"$OFFHEAP" record --exact -o g.db -- "$TRASH/trackee" realloc >/dev/null &&
	sqlite3 g.db "INSERT INTO alloc_site VALUES (999999, 1, 5, 5, 5, 5, 0, 0);
		UPDATE alloc_stack SET depth = -5;" &&
	"$OFFHEAP" report g.db >out && grep -q sites out
'

test_expect_success 'report --base: stacks present in the base are subtracted' '
	"$OFFHEAP" record --exact -o b1.db -- "$TRASH/trackee" grow 3 &&
	"$OFFHEAP" record --exact -o b2.db -- "$TRASH/trackee" grow 5 &&
	"$OFFHEAP" report b2.db --base b1.db --json --top 0 >j &&
	python3 -c "
import json
d = json.load(open(\"j\"))
g = [t for t in d[\"top\"] if any((f[\"function\"] or \"\").startswith(\"grow_step\") for f in t[\"frames\"])]
assert len(g) == 1 and g[0][\"live_bytes\"] == 2 * 4096, g
"
'

test_done
