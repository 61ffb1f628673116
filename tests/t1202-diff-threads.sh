#!/bin/sh
# offheap diff: threads born and gone between two snapshots, by TID and name; and
# diff --since refusing a PID that now belongs to another process.
. "$(dirname "$0")/test-lib.sh"

start_bg "$HELPERS/spawner" --threads 2 --ready ready --lifetime 100
pid=$BG_PID
wait_ready ready || exit 1
ntasks() { ls /proc/$pid/task | wc -l; }

tid_of() {
	for t in /proc/$pid/task/*; do
		[ "$(cat $t/comm)" = "$1" ] && basename $t
	done
}

offheap snap $pid -o a.db 2>/dev/null
gone_tid=$(tid_of early-1)
# SIGUSR2 ends the newest thread (early-1), then SIGUSR1 twice starts late-0 and late-1.
kill -USR2 $pid && wait_for 5 '[ $(ntasks) -eq 2 ]' &&
kill -USR1 $pid && wait_for 5 '[ $(ntasks) -eq 3 ]' &&
kill -USR1 $pid && wait_for 5 '[ $(ntasks) -eq 4 ]'
wait_for 5 '[ -n "$(tid_of late-1)" ]'
late0=$(tid_of late-0)
late1=$(tid_of late-1)
offheap snap $pid -o b.db 2>/dev/null

test_expect_success 'setup: threads changed between the snapshots' '
	test -s a.db && test -s b.db && test -n "$gone_tid" && test -n "$late0" && test -n "$late1"
'

test_expect_success 'diff text lists the threads born and gone with names' '
	offheap diff a.db b.db --by thread >t.txt &&
	cat t.txt &&
	grep -q "^Threads: 3 -> 4, 2 born, 1 gone$" t.txt &&
	grep -q "^born  *$late0  *late-0$" t.txt &&
	grep -q "^born  *$late1  *late-1$" t.txt &&
	grep -q "^gone  *$gone_tid  *early-1$" t.txt &&
	! grep -q "early-0" t.txt
'

test_expect_success 'diff --json lists them too' '
	offheap diff a.db b.db --json >t.json &&
	test "$(jq -r "[.threads.born[].name] | join(\",\")" t.json)" = late-0,late-1 &&
	test "$(jq -r ".threads.gone[0].tid" t.json)" = "$gone_tid" &&
	test "$(jq ".threads.born_count, .threads.gone_count, .threads.before, .threads.after" t.json |
		tr "\n" " ")" = "2 1 3 4 "
'

test_expect_success 'diff PID --since FILE sees the same threads' '
	offheap diff $pid --since a.db --json --by thread >s.json &&
	test "$(jq -r "[.threads.born[].name] | join(\",\")" s.json)" = late-0,late-1 &&
	test "$(jq -r ".threads.gone[0].name" s.json)" = early-1
'

test_expect_success '--top limits the threads listed' '
	offheap diff a.db b.db --json --top 1 >t1.json &&
	test "$(jq ".threads.born | length" t1.json)" = 1 &&
	test "$(jq ".threads.born_count" t1.json)" = 2
'

test_expect_success 'diff --since refuses a PID reused by another process (exit 1)' '
	cp a.db reused.db &&
	sqlite3 reused.db "UPDATE process SET start_time = start_time + 1" &&
	test_exit_code 1 offheap diff $pid --since reused.db >out 2>err &&
	cat err &&
	grep -q "^offheap: error: process $pid is not the process of .reused.db.: it started at another time (the PID was reused)$" err &&
	grep -q "^hint: use --force" err &&
	test ! -s out &&
	offheap diff $pid --since reused.db --force >out &&
	grep -q "^Threads:" out
'

test_expect_success 'diff --since refuses a snapshot of another PID (exit 1)' '
	cp a.db other.db &&
	sqlite3 other.db "UPDATE process SET pid = 1" &&
	test_exit_code 1 offheap diff $pid --since other.db 2>err &&
	cat err &&
	grep -q "^offheap: error: .other.db. is a snapshot of process 1 (spawner), not of $pid$" err
'

test_expect_success 'diff A B of two processes warns but compares' '
	offheap diff other.db b.db >out 2>err &&
	grep -q "^offheap: warning: the snapshots are of different processes: 1 (spawner) and $pid (spawner)$" err &&
	grep -q "^Threads" out
'

test_expect_success 'a snapshot without threads: the thread section says so' '
	offheap snap $pid -o nothreads.db --no-threads 2>/dev/null &&
	offheap diff nothreads.db b.db >out &&
	grep -q "^Threads: 4 -> 4 (the list was not recorded: snap --no-threads)$" out &&
	! grep -q "^born" out &&
	offheap diff $pid --since nothreads.db --json >out.json &&
	test "$(jq .threads out.json)" = null
'

test_expect_success 'diff --since a process that is gone: exit 1' '
	test_exit_code 1 offheap diff 4242999 --since a.db 2>err &&
	test "$(cat err)" = "offheap: error: no process 4242999"
'

test_done
