#!/bin/sh
# offheap trace --json -- CMD: stdout is the JSON object only; CMD's stdout goes to stderr.
. "$(dirname "$0")/test-lib.sh"

# As in t5001: LeakSanitizer's helper would get ENOSYS from the seccomp filter.
ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS

# 20000 lines on each of stdout and stderr, interleaved, from the command and from a child.
cat >noisy.sh <<'EOF'
i=0
while [ $i -lt 100 ]; do
	seq -f "out $i %g" 1 100
	seq -f "err $i %g" 1 100 >&2
	i=$((i + 1))
done
sh -c 'seq -f "child-out %g" 1 10000; seq -f "child-err %g" 1 10000 >&2'
exit 3
EOF

test_expect_success '--json: a command that prints a lot leaves stdout parseable' '
	test_exit_code 3 offheap trace --json -- sh noisy.sh >out.json 2>err &&
	jq -s -e "length == 1" out.json &&
	jq -e ".exit_code == 3 and .calls > 0" out.json &&
	! grep -q "out " out.json
'

test_expect_success '--json: the command'"'"'s stdout and stderr both reach stderr, whole' '
	test "$(grep -c "^out [0-9]* [0-9]*$" err)" = 10000 &&
	test "$(grep -c "^err [0-9]* [0-9]*$" err)" = 10000 &&
	test "$(grep -c "^child-out [0-9]*$" err)" = 10000 &&
	test "$(grep -c "^child-err [0-9]*$" err)" = 10000 &&
	grep -x "out 99 100" err &&
	grep -x "child-out 10000" err
'

test_expect_success '--json into a pipe: jq reads it while the command writes to stderr' '
	offheap trace --json -- sh noisy.sh 2>err2 | jq -e ".exit_code == 3" >verdict &&
	test "$(cat verdict)" = true &&
	test "$(grep -c "^child-out " err2)" = 10000
'

test_expect_success '--json: stdin still reaches the command, its output goes to stderr' '
	echo hello | offheap trace --json -- cat >cat.json 2>cat.err &&
	grep -x hello cat.err &&
	jq -e ".exit_code == 0" cat.json
'

test_expect_success 'without --json the command keeps its stdout, before the report' '
	offheap trace -- sh -c "echo hello; echo oops >&2" >text.out 2>text.err &&
	head -n 1 text.out | grep -x hello &&
	grep -q "^offheap trace: .sh. (PID [0-9]*)" text.out &&
	grep -x oops text.err &&
	! grep -q hello text.err
'

test_done
