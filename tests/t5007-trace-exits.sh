#!/bin/sh
# offheap trace -- CMD: mappings are charged to the process image that made them; a child that
# exits (or execs) releases what it held, a child alive at the end keeps it under its PID.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

# 200 short children, one that maps and exits, one that maps and outlives the command.
cat >run.sh <<EOF
for i in \$(seq 200); do /bin/true; done
"$HELPERS/mmapper" --lifetime 1 --no-churn &
echo \$! >short.pid
wait \$!
"$HELPERS/mmapper" --lifetime 60 --no-churn --count "$TRASH/count" &
echo \$! >long.pid
echo \$\$ >sh.pid
wait
EOF

# The first SIGTERM goes to the command (sh ends); the second ends the trace, which then
# ends the children still running: what they held then is what the trace shows.
start_bg "$OFFHEAP" trace --json -- sh run.sh >out.json 2>trace.err
tpid=$BG_PID
wait_for 60 "test -s count && test -s sh.pid" ||
	fail_all "the long-lived child maps within 60 s" trace.err
shpid=$(cat sh.pid)
kill -TERM $tpid
wait_for 20 "! test -e /proc/$shpid" || fail_all "sh ends at the first SIGTERM" trace.err
kill -TERM $tpid
wait $tpid
status=$?
short=$(cat short.pid)
long=$(cat long.pid)

test_expect_success 'the trace ends with the command'"'"'s status and a report' '
	test $status = 143 &&
	jq -e ".exit_code == 143" out.json
'

test_expect_success 'the 200 children that ran and exited hold nothing' '
	jq -e "[.by_process[] | select(.process == \"true\")] | length == 200" out.json &&
	jq -e "[.by_process[] | select(.process == \"true\") |
		select(.state != \"ended\" or .outstanding_bytes != 0 or .released_bytes == 0)] |
		length == 0" out.json &&
	jq -e ".by_thread_name[] | select(.thread == \"true\") |
		.outstanding_bytes == 0 and .mapped_bytes > 0" out.json
'

test_expect_success 'a child that mapped and exited is not counted; it released what it held' '
	jq -e "[.by_process[] | select(.pid == $short and .process == \"mmapper\")] | length == 1" out.json &&
	jq -e ".by_process[] | select(.pid == $short and .process == \"mmapper\") |
		.state == \"ended\" and .outstanding_bytes == 0 and .regions == 0 and
		.released_bytes >= 1048576" out.json
'

test_expect_success 'a child alive at the end is counted under its PID (its grower'"'"'s chunks)' '
	jq -e ".by_process[] | select(.pid == $long and .process == \"mmapper\") |
		.outstanding_bytes >= 1048576 and .regions >= 1" out.json &&
	want=$(jq ".by_process[] | select(.pid == $long and .process == \"mmapper\") |
		.outstanding_bytes" out.json) &&
	jq -e ".by_thread_name[] | select(.thread == \"pool-grower\") |
		.outstanding_bytes >= 1048576 and .outstanding_bytes <= $want" out.json
'

test_expect_success 'a fork starts with its parent'"'"'s regions, and its exec releases them' '
	jq -e "[.by_process[] | select(.pid == $shpid)][0].outstanding_bytes > 0" out.json &&
	jq -e ".by_process[] | select(.pid == $long and .process == \"sh\") |
		.outstanding_bytes == 0 and .released_bytes > 0" out.json
'

test_expect_success 'the total is the sum over processes' '
	jq -e ".outstanding_bytes == ([.by_process[].outstanding_bytes] | add)" out.json &&
	jq -e ".regions == ([.by_process[].regions] | add)" out.json
'

test_done
