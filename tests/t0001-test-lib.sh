#!/bin/sh
# The test library itself: skip, watchdog, time factor and the TAP it prints. Each case runs
# a small script that sources test-lib.sh, as a real test does, and reads what it printed.
# A script's output is read through a pipe, so the reading ends only when every process
# holding the pipe has gone: a watchdog that outlived its script would be caught here.
. "$(dirname "$0")/test-lib.sh"

# sub NAME BODY: writes a script NAME.sh that sources the library and then runs BODY.
sub() {
	{
		echo '#!/bin/sh'
		echo "${PRE:-}"
		echo ". '$TEST_DIRECTORY/test-lib.sh'"
		printf '%s\n' "$2"
	} >"$1.sh"
}

# run_sub NAME: runs NAME.sh, output in NAME.out, exit code in NAME.rc. Its own folder is
# made in ours (TMPDIR): a script the watchdog kills cannot remove it, and left in /tmp
# it stayed there after every suite run.
run_sub() {
	(TMPDIR="$TRASH" sh "./$1.sh" 2>"$1.err"; echo $? >"$1.rc") | cat >"$1.out"
}

test_expect_success 'skip_all at once: the plan says skip, exit 0, no watchdog left behind' '
	PRE="TEST_TIMEOUT=1" sub skip "skip_all \"nothing to test here\"" &&
	OFFHEAP_TIME_FACTOR=1 run_sub skip &&
	cat skip.out &&
	test "$(cat skip.out)" = "1..0 # SKIP nothing to test here" &&
	test "$(cat skip.rc)" = 0
'

test_expect_success 'skip_all after a started process: it is killed, nothing more printed' '
	PRE="TEST_TIMEOUT=1" sub skiplate "start_bg sleep 317
echo \$BG_PID >\"$TRASH/skiplate.pid\"
skip_all late" &&
	OFFHEAP_TIME_FACTOR=1 run_sub skiplate &&
	test "$(cat skiplate.out)" = "1..0 # SKIP late" &&
	pid=$(cat skiplate.pid) &&
	wait_for 10 "! kill -0 $pid 2>/dev/null"
'

test_expect_success 'a hanging test is failed by the watchdog, its processes killed' '
	PRE="TEST_TIMEOUT=1" sub hang "start_bg sleep 317
echo \$BG_PID >\"$TRASH/hang.pid\"
test_expect_success quick true
test_expect_success hangs \"sleep 317\"
test_done" &&
	OFFHEAP_TIME_FACTOR=2 run_sub hang &&
	cat hang.out &&
	grep -x "ok 1 - quick" hang.out &&
	grep -x "not ok - hang.sh timed out after 2s" hang.out &&
	! grep "^1\.\." hang.out &&
	test "$(cat hang.rc)" != 0 &&
	pid=$(cat hang.pid) &&
	wait_for 10 "! kill -0 $pid 2>/dev/null" &&
	wait_for 10 "! pgrep -x -f \"sleep 317\" >/dev/null"
'

test_expect_success 'results: a failing body fails its test only, the plan counts all' '
	sub mixed "test_expect_success one true
test_expect_success two \"return 1\"
test_skip three \"a reason\"
test_expect_success four \"false; true\"
test_done" &&
	run_sub mixed &&
	cat mixed.out &&
	grep -x "ok 1 - one" mixed.out &&
	grep -x "not ok 2 - two" mixed.out &&
	grep -x "ok 3 - three # skip a reason" mixed.out &&
	grep -x "ok 4 - four" mixed.out &&
	grep -x "1\.\.4" mixed.out &&
	test "$(cat mixed.rc)" = 1 &&
	sub allok "test_expect_success one true
test_done" &&
	run_sub allok && test "$(cat allok.rc)" = 0 && grep -x "1\.\.1" allok.out
'

test_expect_success 'wait_for: its limit is scaled by OFFHEAP_TIME_FACTOR and said' '
	sub waits "test_expect_success gives-up \"wait_for 1 false\"
test_done" &&
	OFFHEAP_TIME_FACTOR=3 run_sub waits &&
	grep -x "not ok 1 - gives-up" waits.out &&
	grep "gave up after 3s waiting for: false" waits.out
'

test_expect_success 'a bad OFFHEAP_TIME_FACTOR bails out' '
	sub badf "test_done" &&
	OFFHEAP_TIME_FACTOR=x run_sub badf &&
	grep "^Bail out! OFFHEAP_TIME_FACTOR" badf.out &&
	test "$(cat badf.rc)" = 1
'

test_expect_success 'test_must_fail tells a crash from a failure' '
	test_must_fail false &&
	! test_must_fail true &&
	! test_must_fail sh -c "kill -SEGV \$\$"
'

test_done
