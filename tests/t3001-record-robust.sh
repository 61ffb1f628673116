#!/bin/sh
# offheap record under stress and with real programs: a 16-thread storm, realloc
# corner cases, fork and exec, output unchanged, exit codes and signals passed on.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

# The target is built here, never sanitized: the build's helpers are ASan
# programs under 'make asan', and an ASan program refuses a preloaded library.
setup_or_fail "cc builds the trackee helper" \
	cc -O2 -g -o "$TRASH/trackee" "$ROOT/tests/helpers/trackee.c" -lpthread -ldl

# live_of DB FUNCTION: live bytes at the end summed over the stacks holding FUNCTION.
live_of() {
	"$OFFHEAP" report "$1" --top 0 --json | python3 -c "
import json, sys
d = json.load(sys.stdin)
print(sum(t['live_bytes'] for t in d['top']
	  if any((f['function'] or '').startswith('$2') for f in t['frames'])))"
}

test_expect_success '16-thread storm (exact): live bytes = what the program holds' '
	"$OFFHEAP" record --exact -o storm.db -- "$TRASH/trackee" storm 16 20000 >held &&
	test "$(live_of storm.db storm_keep)" = "$(cat held)" &&
	test "$(cat held)" -gt 0
'

test_expect_success 'storm: every malloc of the storm was counted, none dropped' '
	test "$(sqlite3 storm.db "SELECT max(x.alloc_count) FROM alloc_site x
		JOIN alloc_frame f ON f.stack_id = x.stack_id
		WHERE f.function LIKE '\''storm_keep%'\''")" = $((16 * 20000 / 16)) &&
	test "$(sqlite3 storm.db "SELECT dropped FROM alloc_interval WHERE final = 1")" = 0
'

test_expect_success 'realloc(NULL, n) counts as malloc, realloc(p, 0) as free' '
	"$OFFHEAP" record --exact -o realloc.db -- "$TRASH/trackee" realloc >held &&
	test "$(live_of realloc.db realloc_keep)" = 3000 &&
	test "$(sqlite3 realloc.db "SELECT sum(live_bytes) FROM alloc_site x
		WHERE x.interval_id = (SELECT max(id) FROM alloc_interval)
		AND x.live_bytes = 500")" = ""
'

test_expect_success 'fork: the child is not recorded, the parent is' '
	test_exit_code 7 "$OFFHEAP" record --exact -o fork.db -- "$TRASH/trackee" fork &&
	test "$(live_of fork.db fork_keep)" = 5000 &&
	"$OFFHEAP" report fork.db --top 0 --json >j &&
	! grep -q 123456 j
'

test_expect_success 'exec: the new image is recorded as a new run' '
	"$OFFHEAP" record --exact -o exec.db -- sh -c "exec \"$TRASH/trackee\" realloc" >out &&
	test "$(cat out)" = 3000 &&
	test "$(sqlite3 exec.db "SELECT count(*) FROM alloc_run")" -ge 2 &&
	test "$(live_of exec.db realloc_keep)" = 3000
'

test_expect_success 'real programs print the same with and without the tracker' '
	python3 -c "import json; print(json.dumps({\"a\": list(range(50))}))" >py.plain &&
	"$OFFHEAP" record -o py.db -- \
		python3 -c "import json; print(json.dumps({\"a\": list(range(50))}))" >py.rec &&
	cmp py.plain py.rec &&
	sqlite3 :memory: "SELECT 1+1, upper('\''x'\'');" >sq.plain &&
	"$OFFHEAP" record --exact -o sq.db -- sqlite3 :memory: "SELECT 1+1, upper('\''x'\'');" >sq.rec &&
	cmp sq.plain sq.rec &&
	git --version >git.plain &&
	"$OFFHEAP" record -o git.db -- git --version >git.rec &&
	cmp git.plain git.rec &&
	test "$(sqlite3 sq.db "SELECT count(*) FROM alloc_stack")" -gt 0
'

test_expect_success 'at the ceiling the tracker degrades, says so, and the program runs on' '
	python3 -c "print(sum(len(str(i)) for i in range(100000)))" >cap.plain &&
	OFFHEAP_MAX_STACKS=16 OFFHEAP_MAX_MEM=1m "$OFFHEAP" record --exact -o cap.db -- \
		python3 -c "print(sum(len(str(i)) for i in range(100000)))" >cap.rec &&
	cmp cap.plain cap.rec &&
	"$OFFHEAP" report cap.db >out &&
	grep -q "tracker reached its memory ceiling" out &&
	grep -q "(other: stacks beyond the tracker" out &&
	test "$(sqlite3 cap.db "SELECT count(*) FROM alloc_stack")" -le 16
'

test_expect_success 'allocation in signal handlers, at thread exit, across dlopen/dlclose' '
	"$OFFHEAP" record --exact -o sig.db -- "$TRASH/trackee" signal 200000 >out &&
	test "$(cat out)" = ok &&
	"$OFFHEAP" record --exact -o tex.db -- "$TRASH/trackee" threadexit 200 >out &&
	test "$(cat out)" = ok &&
	"$OFFHEAP" report tex.db --top 0 --json >j &&
	python3 -c "
import json
d = json.load(open(\"j\"))
s = [t for t in d[\"top\"] if any((f[\"function\"] or \"\").startswith(\"at_thread_exit\") for f in t[\"frames\"])]
assert s and s[0][\"alloc_count\"] == 200 and s[0][\"live_bytes\"] == 0, s
" &&
	"$OFFHEAP" record --exact -o dl.db -- "$TRASH/trackee" dlopen 50 >out &&
	test "$(cat out)" = ok
'

test_expect_success 'exit code of the command is passed on' '
	test_exit_code 3 "$OFFHEAP" record -o e3.db -- "$TRASH/trackee" exit 3 &&
	test_exit_code 0 "$OFFHEAP" record -f -o e3.db -- "$TRASH/trackee" exit 0 &&
	test_exit_code 127 "$OFFHEAP" record -o e127.db -- ./no-such-program 2>err &&
	grep -q "cannot run" err &&
	! test -e e127.db &&
	test_exit_code 127 "$OFFHEAP" record -o e127.db -- ./no-such-program 2>err &&
	! grep -q "already exists" err
'

test_expect_success 'SIGTERM to offheap reaches the command (its handler exits 42)' '
	start_bg "$OFFHEAP" record -o term.db -- "$TRASH/trackee" sleep 20 >term.out &&
	rp=$BG_PID &&
	wait_for 10 "grep -q ^sleeping term.out" &&
	kill -TERM $rp &&
	{ wait $rp; rc=$?; } ; test $rc = 42
'

test_expect_success 'SIGKILL of the command: 128+9, the recording stays readable' '
	start_bg "$OFFHEAP" record -o kill.db -- "$TRASH/trackee" sleep 20 &&
	rp=$BG_PID &&
	wait_for 10 "test -s kill.db && sqlite3 kill.db \"SELECT count(*) FROM alloc_interval\" 2>/dev/null | grep -qv ^0" &&
	pkid=$(sqlite3 kill.db "SELECT pid FROM alloc_run LIMIT 1") &&
	kill -KILL $pkid &&
	{ wait $rp; rc=$?; } ; test $rc = 137 &&
	"$OFFHEAP" report kill.db >out && grep -q "sites" out
'

test_done
