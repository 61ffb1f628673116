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

test_expect_success 'text output' '
	offheap $PR ps >out &&
	grep -E "^4695 .* 19 +81892 +51100 +30792 +0 +yes +summary +java -XX:Native" out &&
	grep -E "^ *555 +4000123 +1 +5000 +4000 +1000 +300000 +victim --big$" out &&
	grep -E "^ *888 +- +- +- +- +- +- +garbage$" out
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
