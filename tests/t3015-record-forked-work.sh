#!/bin/sh
# offheap record of a command that forks its real work (timeout, sh -c 'prog; exit 0') records
# nothing of that work: it says so at the end, with how to record it, instead of silence.
. "$(dirname "$0")/test-lib.sh"

hint_re="^hint: the tracker follows exec, not fork: record the program that does the work"

test_expect_success 'fork, then exec in the child: warned, with a hint' '
	"$OFFHEAP" record --exact -o fork.db -- "$HELPERS/forker" fork "$HELPERS/keeper" 4096 10 \
		>out 2>err &&
	cat err &&
	grep -q "^40960$" out &&
	grep -q "^offheap: warning: .*forker. recorded no allocation and started other processes" err &&
	grep -q "$hint_re" err
'

test_expect_success 'posix_spawn (no fork handlers): warned too' '
	"$OFFHEAP" record --exact -o spawn.db -- "$HELPERS/forker" spawn "$HELPERS/keeper" 4096 10 \
		>out 2>err &&
	cat err &&
	grep -q "recorded no allocation and started other processes" err
'

test_expect_success 'sh -c "prog; exit 0" with a sample mean sh never reaches' '
	"$OFFHEAP" record --sample 1g -o sh.db -- sh -c "\"$HELPERS/keeper\" 4096 10; exit 0" \
		>out 2>err &&
	cat err &&
	grep -q "^offheap: warning: .sh. recorded no allocation and started other processes" err
'

test_expect_success 'a command that records nothing and forks nothing: no such warning' '
	"$OFFHEAP" record --exact -o none.db -- "$HELPERS/trackee" exit 0 >out 2>err &&
	cat err &&
	! grep -q "started other processes" err
'

test_expect_success 'the program itself recorded: no such warning' '
	"$OFFHEAP" record --exact -o direct.db -- "$HELPERS/keeper" 4096 10 >out 2>err &&
	cat err &&
	! grep -q "started other processes" err &&
	"$OFFHEAP" report direct.db | grep -q keep_block
'

test_done
