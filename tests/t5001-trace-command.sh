#!/bin/sh
# offheap trace -- CMD: exit codes pass through, the events log, --json, -o recording, children.
. "$(dirname "$0")/test-lib.sh"

# Under 'make asan' the traced helpers are sanitized too, and LeakSanitizer's exit-time helper
# is a CLONE_UNTRACED child: it inherits the seccomp filter untraced and gets ENOSYS for mmap.
# No leak checker that needs ptrace can run under a tracer anyway.
ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS

test_expect_success 'the exit code of the command passes through' '
	test_exit_code 7 offheap trace -- sh -c "exit 7" >out &&
	test_exit_code 0 offheap trace -- true >out &&
	grep -q "^offheap trace: .true." out
'

test_expect_success 'a command killed by a signal gives 128+N' '
	test_exit_code 143 offheap trace -- sh -c "kill -TERM \$\$" >out
'

test_expect_success 'a command that cannot run gives 127 and says why' '
	test_exit_code 127 offheap trace -- ./no-such-command 2>err &&
	grep "offheap: error: cannot run .\./no-such-command.: No such file or directory" err &&
	echo "not a program" >not-exec && chmod -x not-exec &&
	test_exit_code 126 offheap trace -- ./not-exec 2>err &&
	grep "offheap: error: cannot run .\./not-exec.: Permission denied" err
'

test_expect_success 'stdin reaches the command; with --json its stdout goes to stderr' '
	echo hello | offheap trace --json -- cat >out 2>err &&
	grep -x hello err &&
	jq -e .outstanding_bytes out &&
	echo hello | offheap trace -- cat >out 2>err &&
	head -n 1 out | grep -x hello
'

test_expect_success 'usage errors exit 2' '
	test_exit_code 2 offheap trace 2>err &&
	test_exit_code 2 offheap trace -d nonsense 1 2>err &&
	grep "invalid duration" err &&
	test_exit_code 2 offheap trace 1 2 2>err &&
	test_exit_code 2 offheap trace -- 2>err &&
	test_exit_code 2 offheap trace --depth 999 1 2>err
'

test_expect_success 'a missing PID is an error' '
	test_exit_code 1 offheap trace 99999999 2>err &&
	grep -x "offheap: error: no process 99999999" err
'

test_expect_success '--events logs each call with TID, thread and site' '
	offheap trace --events -- "$HELPERS/mmapper" --lifetime 2 --grow-rate 20 \
		--churn-rate 10 >report 2>events &&
	grep -E "^ *[0-9]+\.[0-9]{6} \[[0-9]+ pool-grower\] mmap\(0, 1048576, PROT_READ\|PROT_WRITE, MAP_PRIVATE\|MAP_ANONYMOUS, -1, 0\) = 0x[0-9a-f]+ <- grow_pool " events &&
	grep -E "\[[0-9]+ churner\] munmap\(0x[0-9a-f]+, 4194304\) = 0 <- churn_unmap " events &&
	grep -E "\] brk\(0\) = 0x[0-9a-f]+" events &&
	n=$(grep -c "pool-grower\] mmap(0, 1048576" events) &&
	{ test "$n" -ge 10 || { echo "only $n mmaps of pool-grower logged"; false; }; } &&
	grep "^pool-grower " report
'

test_expect_success '--json: command, exit code, outstanding by thread and stack' '
	offheap trace --json -- "$HELPERS/mmapper" --lifetime 2 --no-churn >out.json &&
	jq -e ".exit_code == 0" out.json &&
	jq -e ".command[1] == \"--lifetime\"" out.json &&
	jq -e "[.by_stack[] | select(.threads == [\"pool-grower\"])][0]" out.json >grow.json &&
	jq -e ".site | startswith(\"grow_pool \")" grow.json &&
	n=$(jq -r .regions grow.json) &&
	{ test "$n" -ge 10 || { echo "only $n regions of grow_pool"; false; }; } &&
	jq -e ".outstanding_bytes == $n * 1048576" grow.json &&
	jq -e ".frames[0].build_id | test(\"^[0-9a-f]{40}$\")" grow.json &&
	out=$(jq -r ".by_thread_name[] | select(.thread == \"pool-grower\") | .outstanding_bytes" out.json) &&
	test "$out" -ge $((n * 1048576))
'

test_expect_success 'children are followed through fork and exec; their exit releases' '
	offheap trace --json -- sh -c "\"$HELPERS/mmapper\" --lifetime 2 --no-churn; true" >fork.json &&
	jq -e "[.by_thread_name[] | select(.thread == \"pool-grower\" and .mapped_bytes >= 10 * 1048576 and .outstanding_bytes == 0)] | length == 1" fork.json &&
	jq -e "[.by_process[] | select(.process == \"mmapper\" and .state == \"ended\" and .outstanding_bytes == 0 and .released_bytes >= 10 * 1048576)] | length == 1" fork.json &&
	jq -e "[.threads[] | .pid] | unique | length >= 2" fork.json
'

test_expect_success '-o writes the trace_* tables; a second run appends' '
	offheap trace -o rec.db -- "$HELPERS/mmapper" --lifetime 2 --no-churn >out &&
	offheap trace -o rec.db -- true >out &&
	test "$(sqlite3 rec.db "select count(*) from trace_runs")" = 2 &&
	calls=$(sqlite3 rec.db "select calls from trace_runs where run_id = 1") &&
	test "$(sqlite3 rec.db "select count(*) from trace_events where run_id = 1")" = "$calls" &&
	sqlite3 rec.db "select count(*) from trace_frames where run_id = 1 and function = '"'"'grow_pool'"'"'" >n &&
	test "$(cat n)" -ge 1 &&
	sqlite3 rec.db "select sum(end - start) from trace_regions r where run_id = 1 and thread = '"'"'pool-grower'"'"'" >sz &&
	test "$(cat sz)" -ge $((10 * 1048576)) &&
	test "$(sqlite3 rec.db "select exit_status from trace_runs where run_id = 2")" = 0
'

test_expect_success 'the tables take --columns, --bytes, --no-headings, --raw' '
	offheap trace --columns thread,mapped_bytes --bytes --no-headings --raw \
		-- "$HELPERS/mmapper" --lifetime 2 --no-churn >cols.txt &&
	! grep -q "^THREAD" cols.txt &&
	mapped=$(awk "\$1 == \"pool-grower\" && NF == 2 { print \$2 }" cols.txt) &&
	test "$mapped" -ge $((10 * 1048576)) &&
	test_exit_code 2 offheap trace --columns nope -- true 2>err &&
	grep "^offheap: error: unknown column .nope. (valid: pid,process,state," err
'

test_expect_success '-d ends the command and its children (they cannot run on untraced)' '
	test_exit_code 137 offheap trace -d 500ms -- sh -c "sleep 29.71 & sleep 29.72; true" >d.txt &&
	grep -q "^offheap trace: .sh." d.txt &&
	wait_for 10 "! pgrep -f \"sleep 29.7[12]\" >/dev/null"
'

test_expect_success 'SIGTERM goes to the command, and the report follows its exit' '
	"$OFFHEAP" trace --json -- "$HELPERS/mmapper" --lifetime 30 --no-churn --ready ready \
		--count count >sig.json &
	tp=$! &&
	BG_PIDS="$BG_PIDS $tp" &&
	wait_ready ready &&
	wait_for 10 "test -s count && test \"\$(cat count)\" -ge 2" &&
	kill -TERM $tp &&
	{ wait $tp; rc=$?; } ;
	test "$rc" = 143 &&
	jq -e ".exit_code == 143" sig.json &&
	jq -e "[.by_thread_name[] | select(.thread == \"pool-grower\")] | length == 1" sig.json
'

test_done
