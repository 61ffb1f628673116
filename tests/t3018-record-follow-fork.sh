#!/bin/sh
# offheap record --follow-fork: each forked child is a run of its own, with its own leak,
# and an exec is a run of its own too; report lists the runs, shows one section each and
# --run picks one. Without --follow-fork the children are not recorded.
. "$(dirname "$0")/test-lib.sh"

# forkleak 3: the parent leaks 60000 bytes (leak_in_parent), child I leaks I x 100000 bytes
# in I x 10 blocks (leak_in_childI), then the parent execs keeper (10 blocks of 4096 bytes).
test_expect_success 'record --follow-fork of a command whose children leak' '
	"$OFFHEAP" record --follow-fork --exact -o f.db -- \
		"$HELPERS/forkleak" 3 "$HELPERS/keeper" 4096 10 >out 2>err &&
	cat err &&
	grep -q "^40960$" out &&
	! grep -q "not recorded" err &&
	test "$(sqlite3 f.db "SELECT count(*) FROM alloc_run")" = 5 &&
	test "$(sqlite3 f.db "SELECT count(*) FROM alloc_run WHERE parent_run = 1 AND ppid =
		(SELECT pid FROM alloc_run WHERE id = 1)")" = 3
'

test_expect_success 'report lists the runs and shows one section per run' '
	"$OFFHEAP" report f.db >rep &&
	cat rep &&
	grep -q "^5 runs" rep &&
	test "$(grep -c "^== run " rep)" = 5 &&
	grep -Eq "^ +1 +[0-9]+ +- +exec +58\.6 KiB  .*forkleak 3 " rep &&
	test "$(grep -Ec "^ +[2-4] +[0-9]+ +1 +exit +" rep)" = 3 &&
	grep -Eq "^ +5 +[0-9]+ +- +exit 0 +.*keeper 4096 10$" rep
'

test_expect_success 'each child has its own leak under its own run, and only that' '
	for id in $(sqlite3 f.db "SELECT id FROM alloc_run WHERE parent_run = 1"); do
		"$OFFHEAP" report f.db --run $id >run.$id &&
		grep -q "^== run $id: pid [0-9]*, forked by run 1, exit: " run.$id &&
		test "$(grep -c "^      leak_in_" run.$id)" = 1 &&
		i=$(sed -n "s/^      leak_in_child\([123]\) .*/\1/p" run.$id) &&
		grep -q "^leaked at exit: ${i}00000 bytes in ${i}0 blocks$" run.$id &&
		echo $i >>seen || return 1
	done &&
	test "$(sort seen | tr "\n" " ")" = "1 2 3 "
'

test_expect_success 'the parent figures exclude the children' '
	"$OFFHEAP" report f.db --run 1 >run.1 &&
	cat run.1 &&
	grep -q "^leaked at exit: 60000 bytes in 6 blocks$" run.1 &&
	grep -q "leak_in_parent" run.1 &&
	! grep -q "leak_in_child" run.1 &&
	"$OFFHEAP" report f.db --run 5 >run.5 &&
	grep -q "keep_block" run.5 &&
	! grep -q "leak_in_" run.5
'

test_expect_success '--json --run carries the run, the list of runs and its sites' '
	id=$(sqlite3 f.db "SELECT id FROM alloc_run WHERE parent_run = 1 LIMIT 1") &&
	"$OFFHEAP" report f.db --run $id --json >j &&
	python3 -c "
import json, sys
d = json.load(open(\"j\"))
assert d[\"run\"][\"id\"] == $id and d[\"run\"][\"parent_run\"] == 1, d[\"run\"]
assert d[\"run\"][\"ended\"] == \"exit\", d[\"run\"]
assert len(d[\"runs\"]) == 5
assert d[\"at_exit\"][\"live_bytes\"] == d[\"run\"][\"live_bytes\"]
names = [f[\"function\"] for s in d[\"top\"] for f in s[\"frames\"]]
assert sum(n.startswith(\"leak_in_child\") for n in names) == 1, names
"
'

test_expect_success 'the other formats show the command last image, or --run' '
	"$OFFHEAP" report f.db --format collapsed >c &&
	grep -q "keep_block" c &&
	! grep -q "leak_in_" c &&
	"$OFFHEAP" report f.db --format collapsed --run 1 >c1 &&
	grep -q "leak_in_parent" c1 &&
	! grep -q "keep_block" c1
'

test_expect_success '--run of a run the recording does not hold fails and lists them' '
	test_exit_code 1 "$OFFHEAP" report f.db --run 99 2>err &&
	grep -q "^offheap: error: .f.db. has no run 99$" err &&
	grep -q "^hint: its runs are 1, 2, 3, 4, 5$" err &&
	test_exit_code 2 "$OFFHEAP" report f.db --run x
'

test_expect_success 'without --follow-fork the children are absent' '
	"$OFFHEAP" record --exact -o n.db -- "$HELPERS/forkleak" 3 "$HELPERS/keeper" 4096 10 \
		>out 2>err &&
	cat err &&
	test "$(sqlite3 n.db "SELECT count(*) FROM alloc_run")" = 2 &&
	"$OFFHEAP" report n.db >rep &&
	grep -q "^2 runs" rep &&
	grep -q "leak_in_parent" rep &&
	! grep -q "leak_in_child" rep
'

test_expect_success 'a process started by posix_spawn (no fork handler) is followed too' '
	"$OFFHEAP" record --follow-fork --exact -o sp.db -- \
		"$HELPERS/forker" spawn "$HELPERS/keeper" 4096 10 >out 2>err &&
	cat err &&
	! grep -q "started other processes" err &&
	id=$(sqlite3 sp.db "SELECT id FROM alloc_run WHERE parent_run = 1 AND command LIKE \"%keeper 4096 10\"") &&
	test -n "$id" &&
	"$OFFHEAP" report sp.db --run "$id" >rep &&
	cat rep &&
	grep -q "^leaked at exit: 4[0-9]* bytes in 1[0-9] blocks$" rep &&
	grep -q "^#[0-9] steady  live 40.0 KiB in 10 blocks at the end" rep &&
	grep -q "keep_block" rep
'

test_expect_success '--max-children: the limit is kept and said' '
	"$OFFHEAP" record --follow-fork --max-children 1 --exact -o m.db -- \
		"$HELPERS/forkleak" 3 >out 2>err &&
	cat err &&
	grep -q "^offheap: warning: 2 processes of the command were not recorded: --follow-fork records at most 1$" err &&
	test "$(sqlite3 m.db "SELECT count(*) FROM alloc_run WHERE parent_run = 1")" = 1 &&
	test_exit_code 2 "$OFFHEAP" record --max-children 1 -o x.db -- true
'

test_expect_success 'a child killed mid-run leaves a usable run' '
	start_bg "$OFFHEAP" record --follow-fork --exact -i 50ms -o k.db -- \
		"$HELPERS/forkleak" hang kid.pid &&
	rec=$BG_PID &&
	wait_ready kid.pid &&
	kid=$(cat kid.pid) &&
	wait_for 10 "test \"\$(sqlite3 k.db \"SELECT count(*) FROM alloc_site x
		JOIN alloc_stack s ON s.id = x.stack_id JOIN alloc_run r ON r.id = s.run_id
		WHERE r.pid = $kid\")\" -ge 1" &&
	kill -KILL "$kid" &&
	wait "$rec" &&
	id=$(sqlite3 k.db "SELECT id FROM alloc_run WHERE pid = $kid") &&
	"$OFFHEAP" report k.db --run "$id" >rep &&
	cat rep &&
	grep -q "^== run $id: pid $kid, forked by run 1, vanished: " rep &&
	grep -q "^leaked at exit: 300000 bytes in 30 blocks$" rep &&
	grep -q "leak_in_child3 (tests/helpers/forkleak.c" rep
'

test_done
