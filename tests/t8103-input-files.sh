#!/bin/sh
# Every FILE argument offheap reads must be a regular file (src/lib/infile): a FIFO, a
# device or a directory is refused with exit 1, a message naming what it is and a hint,
# and never opened in a way that blocks. Each command runs under timeout: a regression
# that opens the FIFO waits for a writer, and timeout's 124 fails the test instead of
# hanging it.
. "$(dirname "$0")/test-lib.sh"

mkfifo fifo && mkdir adir || exit 1
LIMIT=$((10 * OFFHEAP_TIME_FACTOR))

# refused WHAT FILE ARGS...: offheap ARGS exits 1 within LIMIT, says FILE is WHAT, with a hint.
refused() {
	_what=$1 _file=$2
	shift 2
	test_exit_code 1 timeout "$LIMIT" "$OFFHEAP" "$@" >out 2>err
	_rc=$?
	cat err
	test $_rc -eq 0 &&
	grep -q "^offheap: error: '$_file' is $_what, not " err &&
	grep -q "^hint: " err &&
	test ! -s out
}

test_expect_success 'report: a FIFO is refused, not opened' '
	refused "a FIFO" fifo report fifo
'

test_expect_success 'report --format html and pprof: a FIFO is refused' '
	refused "a FIFO" fifo report --format html -o page.html fifo &&
	refused "a FIFO" fifo report --format pprof -o prof.pb.gz fifo &&
	test ! -e page.html && test ! -e prof.pb.gz
'

test_expect_success 'report --base: a FIFO is refused' '
	offheap snap $$ -o snap.db &&
	refused "a FIFO" fifo report snap.db --base fifo
'

test_expect_success 'diff: a FIFO as either file, or as --since' '
	refused "a FIFO" fifo diff fifo snap.db &&
	refused "a FIFO" fifo diff snap.db fifo &&
	refused "a FIFO" fifo diff fifo &&
	refused "a FIFO" fifo diff $$ --since fifo
'

test_expect_success 'doctor: a FIFO is refused' '
	refused "a FIFO" fifo doctor fifo
'

test_expect_success 'doctor: a directory is not a recording file, not a process name' '
	refused "a directory" adir doctor adir &&
	grep -q "not a recording file" err &&
	! grep "no process named" err &&
	refused "a directory" adir/ doctor adir/
'

test_expect_success 'inspect: a FIFO, with or without --raw, and a device' '
	refused "a FIFO" fifo inspect fifo &&
	refused "a FIFO" fifo inspect --raw fifo &&
	refused "a character device" /dev/zero inspect --raw /dev/zero
'

test_expect_success 'nmt diff --since: a FIFO baseline is refused' '
	refused "a FIFO" fifo nmt $$ diff --since fifo
'

test_expect_success 'devices and directories: report, diff' '
	refused "a character device" /dev/null report /dev/null &&
	refused "a directory" adir report adir &&
	refused "a character device" /dev/zero diff /dev/zero snap.db
'

test_expect_success 'a symbolic link to a regular file is read' '
	ln -s snap.db link.db &&
	offheap diff link.db snap.db >out &&
	test -s out
'

test_done
