#!/bin/sh
# offheap ps on a recorded /proc tree (tests/fixtures/proc-ps): a JDK 17 JVM with NMT summary,
# a process in swap, kernel threads, a zombie, and one garbage status file.
. "$(dirname "$0")/test-lib.sh"

cp -r "$FIXTURES/proc-ps" tree &&
mkdir -p tree/tmp/hsperfdata_app &&
cp "$FIXTURES/hsperf/jdk17-g1-nmt.hsperf" tree/tmp/hsperfdata_app/4695 || exit 1
# The JVM's file must belong to the JVM's user: make that us.
me=$(id -u)
sed -i "s/^Uid:.*/Uid:\t$me\t$me\t$me\t$me/" tree/proc/4695/status
PR="--proc-root $TRASH/tree/proc"

test_expect_success 'every process listed, by RSS, kernel threads and zombie left out' '
	offheap $PR ps --json >ps.json &&
	jq -e "[.processes[].pid] == [4695, 555, 1, 777, 888]" ps.json
'

test_expect_success 'the JVM: marked, NMT summary, sizes from status in bytes' '
	jq -e ".processes[0] | .jvm == true and .nmt == \"summary\" and .threads == 19 and
		.rss == 81892 * 1024 and .anon == 51100 * 1024 and .file == 30792 * 1024 and
		.swap == 0 and (.command | startswith(\"java -XX:NativeMemoryTracking=summary\"))" \
		ps.json
'

test_expect_success 'the garbage status file: listed with nulls, no crash' '
	jq -e ".processes[] | select(.pid == 888) | .rss == null and .threads == null and
		.uid == null and .name == \"bad\" and .jvm == false" ps.json
'

test_expect_success 'text output: sizes with their unit, --bytes exact' '
	offheap $PR ps >out &&
	grep -E "^4695 .* 19 +80M +49.9M +30.1M +0B +yes +summary +java -XX:Native" out &&
	grep -E "^ *555 +4000123 +1 +4.9M +3.9M +1000K +293M +victim --big$" out &&
	grep -E "^ *888 +- +- +- +- +- +- +garbage$" out &&
	offheap $PR ps --bytes >out &&
	grep -E "^4695 .* 19 +83857408 +52326400 +31531008 +0 +yes +summary +java -XX:Native" out &&
	grep -E "^ *555 +4000123 +1 +5120000 +4096000 +1024000 +307200000 +victim --big$" out
'

test_expect_success '--output, --no-headings, --raw: lsblk-like columns' '
	offheap $PR ps --sort pid --output pid,swap,command --no-headings --raw --bytes >out &&
	printf "%s\n" "1 0 /sbin/init\\x20splash" "555 307200000 victim\\x20--big" \
		"777 0 sleep\\x2060" "888 - garbage" \
		"4695 0 java\\x20-XX:NativeMemoryTracking=summary\\x20Idle.java\\x20900000" >want &&
	diff -u want out &&
	offheap $PR ps --sort pid --top 2 --columns COMMAND,PID >out &&
	printf "%s\n" "COMMAND            PID" "/sbin/init splash    1" "victim --big       555" >want &&
	diff -u want out &&
	test_exit_code 2 offheap $PR ps --output pid,size,rss 2>err &&
	test "$(head -n 1 err)" = "offheap: error: unknown column '"'"'size'"'"' (valid: pid,user,threads,rss,anon,file,swap,jvm,nmt,command)" &&
	test "$(wc -l <err)" = 2
'

test_expect_success '--sort swap, --sort pid, --top, --jvm' '
	offheap $PR ps --sort swap --top 1 --json | jq -e "[.processes[].pid] == [555]" &&
	offheap $PR ps --sort pid --json | jq -e "[.processes[].pid] == [1, 555, 777, 888, 4695]" &&
	offheap $PR ps --jvm --json | jq -e "[.processes[].pid] == [4695]"
'

test_expect_success 'NMT "?" when the hsperfdata cannot be read' '
	rm tree/tmp/hsperfdata_app/4695 &&
	offheap $PR ps --jvm >out &&
	grep -E "^4695 .* yes +\? +java" out
'

test_done
