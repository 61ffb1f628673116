#!/bin/sh
# offheap nmt against Temurin 25 (attach protocol 2, NMT text of 25) with
# -XX:NativeMemoryTracking=detail: figures equal jcmd's, the virtual memory map and call
# sites, a detail baseline, and 32 MiB of direct memory in detail.diff and --since; the
# Java code NMT's stacks end in is named from the JVM's own structures (hotspot).
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/nmt-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

J25=$JDK25
have_jdk25 java jcmd || skip_all "no Temurin 25 in $J25"

start_nmt_jvm "$J25/java" detail "$TRASH/d" 32
wait_ready "$TRASH/d/ready" 60 || fail_all "the JVM starts within 60 s" "$TRASH/d.out"

test_expect_success 'summary --json: stable figures equal what jcmd (25) reports' '
	offheap nmt $JPID summary --json >s.json &&
	heap=$(jcmd_kb $J25/jcmd $JPID "Java Heap" reserved) &&
	same_kb "$(json_cat s.json "Java Heap" .reserved)" $heap "Java Heap reserved" &&
	cds=$(jcmd_kb $J25/jcmd $JPID "Shared class space" reserved) &&
	same_kb "$(json_cat s.json "Shared class space" .reserved)" $cds "CDS reserved" &&
	total=$(jcmd_kb $J25/jcmd $JPID Total reserved) &&
	within_pct "$(jq .total.reserved s.json)" $((total * 1024)) 1 &&
	test "$(jq .total.malloc.count s.json)" -gt 1000 &&
	test "$(json_cat s.json Thread .threads)" -ge 5
'

test_expect_success 'detail --json: memory map, malloc and mmap sites with frames' '
	offheap nmt $JPID detail --json >d.json &&
	test "$(jq -r .kind d.json)" = detail &&
	test "$(jq ".regions | length" d.json)" -gt 10 &&
	test "$(jq ".malloc_sites | length" d.json)" -gt 10 &&
	test "$(jq ".mmap_sites | length" d.json)" -gt 3 &&
	heap=$(json_cat d.json "Java Heap" .reserved) &&
	test "$(jq "[.regions[] | select(.category == \"Java Heap\") | .reserved] | add" d.json)" -eq $heap &&
	jq -e "[.regions[].frames[] | select(.library == \"libjli.so\")] | length > 0" d.json &&
	jq -e "[.malloc_sites[].frames[] | select(.symbol != null and .offset > 0)] | length > 10" d.json &&
	jq -e "[.regions[].committed[]] | length > 5" d.json
'

test_expect_success 'detail text: the table, then the largest sites with their frames' '
	offheap nmt $JPID detail --top 3 >d.txt &&
	grep "^CATEGORY " d.txt &&
	grep "^malloc sites ([0-9]*, largest first):" d.txt &&
	grep "^mmap sites ([0-9]*, largest committed first):" d.txt &&
	grep "^virtual memory map: [0-9]* reserved regions" d.txt &&
	grep "^        [A-Za-z_:]*.*+0x[0-9a-f]*" d.txt
'

test_expect_success 'baseline -o FILE --detail saves the detail report' '
	offheap nmt $JPID baseline -o base.nmt --detail >b.txt &&
	grep "^saved the detail to .base.nmt." b.txt &&
	head -n 1 base.nmt | grep " kind=detail bytes=" &&
	grep "^Virtual memory map:" base.nmt
'

test_expect_success 'direct memory: the JVM detail.diff shows the growing site' '
	allocate "$TRASH/d" 32 &&
	offheap nmt $JPID diff --detail --json >dd.json &&
	test "$(jq -r .kind dd.json)" = detail.diff &&
	within_pct "$(json_cat dd.json Other .committed_delta)" 33554432 5 &&
	site=$(jq "[.malloc_sites[] | select(.category == \"Other\") | .size_delta] | max" dd.json) &&
	within_pct "$site" 33554432 5 &&
	# NMT ends its stack at the first Java frame: read from the JVM, the interpreter
	# that called allocateMemory0 (one call: never compiled) is said to be one
	jq -e "[.malloc_sites[] | select(.category == \"Other\" and .size_delta > 30000000) |
		.frames[] | select(.jit)] | all(.interpreted == true)" dd.json &&
	jq -e "[.malloc_sites[] | select(.category == \"Other\" and .size_delta > 30000000) |
		.frames[] | select(.jit)] | length > 0" dd.json
'

test_expect_success 'direct memory: JVM summary.diff and --since FILE agree' '
	offheap nmt $JPID diff --json >d.json &&
	within_pct "$(json_cat d.json Other .committed_delta)" 33554432 5 &&
	offheap nmt $JPID diff --since base.nmt --json >s.json &&
	test "$(jq -r .kind s.json)" = summary.diff &&
	within_pct "$(json_cat s.json Other .committed_delta)" 33554432 5 &&
	within_pct "$(json_cat s.json Other .malloc.count_delta)" 1 100 &&
	offheap nmt $JPID diff --detail >dd.txt &&
	grep "^malloc sites ([0-9]*, largest growth first):" dd.txt &&
	sed -n "/^malloc sites/{n;p}" dd.txt | grep "^  3[0-9]\.[0-9] MiB (+3[0-9]\.[0-9] MiB)"
'

stop_bg $JPID
test_done
