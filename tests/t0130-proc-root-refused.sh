#!/bin/sh
# --proc-root with a command that works on a live process: refused by the dispatcher, with
# one message and exit code for them all, before the command runs; the commands that read
# /proc (maps, ps) accept it.
. "$(dirname "$0")/test-lib.sh"

tree="$FIXTURES/proc-leaker"
pid=$(cat "$tree/PID")
PR="--proc-root $tree/proc"

# refused CMD ARGS...: exit 1, exactly the shared error and hint, nothing on stdout.
refused() {
	test_exit_code 1 offheap $PR "$@" >out 2>err &&
	cat >want <<-EOF &&
	offheap: error: '$1' works on a live process and cannot read a --proc-root tree
	hint: run it without --proc-root, on the machine where the process runs
	EOF
	diff -u want err &&
	test_must_fail test -s out
}

test_expect_success 'jcmd refuses --proc-root' '
	refused jcmd $pid VM.version
'

test_expect_success 'nmt refuses --proc-root' '
	refused nmt $pid summary
'

test_expect_success 'trace of a PID refuses --proc-root' '
	refused trace $pid
'

test_expect_success 'trace of a command refuses --proc-root and does not run it' '
	refused trace -- touch ran-by-trace &&
	test_must_fail test -e ran-by-trace
'

test_expect_success 'dump refuses --proc-root' '
	refused dump $pid heap -o dump.bin &&
	test_must_fail test -e dump.bin
'

test_expect_success 'record refuses --proc-root and does not run the command' '
	refused record -o rec.db -- touch ran-by-record &&
	test_must_fail test -e ran-by-record &&
	test_must_fail test -e rec.db
'

test_expect_success 'the help of a live command is still shown with --proc-root' '
	offheap $PR jcmd --help >help &&
	grep "^usage: offheap jcmd" help &&
	offheap $PR help trace >help &&
	grep "^usage: offheap trace" help
'

test_expect_success 'the global help names the commands that refuse --proc-root' '
	offheap --help >help &&
	grep "work on a live process: jcmd nmt trace dump record$" help
'

test_expect_success 'maps and ps accept --proc-root' '
	offheap $PR maps $pid >maps.out &&
	grep "^total " maps.out &&
	offheap $PR ps --json >ps.json &&
	jq -e "[.processes[].pid] | index($pid) != null" ps.json
'

test_done
