#!/bin/sh
# offheap trace PID: outstanding mapped bytes go to the thread and function that mapped them.
. "$(dirname "$0")/test-lib.sh"

# A copy under a name of its own, so the name test finds this one only.
cp "$HELPERS/mmapper" ./mm-t5000 || exit 1
start_bg ./mm-t5000 --lifetime 40 --grow-rate 20 --churn-rate 20 \
	--ready ready --log grow.log --heartbeat beat
pid=$BG_PID
wait_ready ready || { echo "not ok - mmapper did not start"; exit 1; }

test_expect_success 'trace PID -d 3s reports JSON' '
	offheap trace $pid -d 3s --json >out.json &&
	jq -e .outstanding_bytes out.json >/dev/null
'

test_expect_success 'pool-grower holds what it mapped during the window (within 5%)' '
	start=$(jq -r .started_at_ms out.json) &&
	end=$(jq -r .ended_at_ms out.json) &&
	want=$(awk -v s="$start" -v e="$end" "\$1 * 1000 >= s && \$1 * 1000 <= e { n++ } END { print n * 1048576 }" grow.log) &&
	got=$(jq -r ".by_thread_name[] | select(.thread == \"pool-grower\") | .outstanding_bytes" out.json) &&
	echo "pool-grower: traced $got, helper logged $want" &&
	test "$want" -gt $((20 * 1048576)) &&
	within_pct "$got" "$want" 5
'

test_expect_success 'the churning thread nets to about zero' '
	mapped=$(jq -r ".by_thread_name[] | select(.thread == \"churner\") | .mapped_bytes" out.json) &&
	out=$(jq -r ".by_thread_name[] | select(.thread == \"churner\") | .outstanding_bytes" out.json) &&
	net=$(jq -r ".by_thread_name[] | select(.thread == \"churner\") | .net_bytes" out.json) &&
	echo "churner: mapped $mapped outstanding $out net $net" &&
	test "$mapped" -gt $((40 * 4194304)) &&
	test "$out" -le 4194304 &&
	test "${net#-}" -le 4194304
'

test_expect_success 'the top stack is pool-grower in grow_pool' '
	jq -e ".by_stack[0].threads == [\"pool-grower\"]" out.json &&
	jq -e ".by_stack[0].site | startswith(\"grow_pool \")" out.json &&
	jq -e "[.by_stack[0].frames[].function] | index(\"grower\")" out.json &&
	jq -e ".by_stack[0].frames[] | select(.function == \"grow_pool\") | .file | endswith(\"mmapper.c\")" out.json
'

test_expect_success 'per-thread totals and alive regions are listed' '
	jq -e "[.threads[] | select(.name == \"churner\")] | length == 1" out.json &&
	# Of the 10 largest, one may be a churner chunk caught between its mmap and munmap.
	jq -e "[.regions_alive[] | select(.thread == \"pool-grower\" and .size_bytes == 1048576)] | length >= 9" out.json
'

test_expect_success 'the target runs on untraced after the trace' '
	grep -q "^TracerPid:[[:space:]]*0$" /proc/$pid/status &&
	b1=$(cat beat) && wait_for 10 "test \$(cat beat) -gt $b1" &&
	! grep -q "^State:[[:space:]]*[tT]" /proc/$pid/status
'

test_expect_success 'text report names the thread and the function' '
	offheap trace $pid -d 1s >out.txt &&
	grep "^pool-grower " out.txt &&
	grep "grow_pool (.*mmapper.c:[0-9]*)" out.txt &&
	grep -q "^Per thread:" out.txt
'

test_expect_success 'a process name works as PID' '
	offheap trace mm-t5000 -d 300ms --json >byname.json &&
	jq -e ".pid == $pid" byname.json
'

stop_bg $pid
test_done
