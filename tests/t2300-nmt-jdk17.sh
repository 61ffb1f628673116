#!/bin/sh
# offheap nmt against OpenJDK 17 with -XX:NativeMemoryTracking=summary: figures equal jcmd's,
# baseline and diff (the JVM's and --since FILE) see 32 MiB of direct memory, bad baseline
# files are refused, a JVM without NMT gets the error and the hint; with NMT detail, the Java
# code a site's stack ends in is named from the JVM's own structures.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/nmt-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JAVA=$JDK17/java
JCMD=$JDK17/jcmd
require_jdk17 java jcmd

# two JVMs started together: one with NMT, one without
start_nmt_jvm "$JAVA" summary "$TRASH/d" 32
NPID=$JPID
start_nmt_jvm "$JAVA" off "$TRASH/off" 1
OFFPID=$JPID
wait_ready "$TRASH/d/ready" 60 || fail_all "the JVM with NMT starts within 60 s" "$TRASH/d.out"
wait_ready "$TRASH/off/ready" 60 || fail_all "the JVM without NMT starts within 60 s" "$TRASH/off.out"

test_expect_success 'summary --json: stable figures equal what jcmd reports' '
	offheap nmt $NPID summary --json >s.json &&
	heap=$(jcmd_kb $JCMD $NPID "Java Heap" reserved) &&
	same_kb "$(json_cat s.json "Java Heap" .reserved)" $heap "Java Heap reserved" &&
	cds=$(jcmd_kb $JCMD $NPID "Shared class space" reserved) &&
	same_kb "$(json_cat s.json "Shared class space" .reserved)" $cds "CDS reserved" &&
	cds=$(jcmd_kb $JCMD $NPID "Shared class space" committed) &&
	same_kb "$(json_cat s.json "Shared class space" .committed)" $cds "CDS committed" &&
	total=$(jcmd_kb $JCMD $NPID Total reserved) &&
	within_pct "$(jq .total.reserved s.json)" $((total * 1024)) 1 &&
	test "$(jq -r .kind s.json)" = summary &&
	test "$(json_cat s.json Thread .threads)" -ge 5 &&
	test "$(json_cat s.json Class .classes)" -ge 100 &&
	test "$(json_cat s.json Class .metadata.used)" -gt 0
'

test_expect_success 'summary text: a table of categories and the total' '
	offheap nmt $NPID >s.txt &&
	head -n 1 s.txt | grep "^JVM $NPID: native memory tracked by NMT" &&
	grep "^CATEGORY  *RESERVED  *COMMITTED" s.txt &&
	grep "^Java Heap  *128M  *128M " s.txt &&
	grep "^Total " s.txt &&
	grep "^threads: " s.txt &&
	offheap nmt $NPID --bytes >b.txt &&
	head -n 1 b.txt | grep "^JVM $NPID: native memory tracked by NMT, bytes$" &&
	grep "^Java Heap  *134217728  *134217728 " b.txt &&
	offheap nmt $NPID --columns committed,category --bytes --raw --no-headings >r.txt &&
	grep -x "134217728 Java\\\\x20Heap" r.txt &&
	! grep -q "^CATEGORY" r.txt
'

# jcmd rounds each figure to the nearest MB; the stable ones (the heap, the class space
# reservation, the CDS archive) must match figure for figure.
test_expect_success 'scale=MB (jcmd spelling) and --scale gb: tables in MiB and GiB as jcmd' '
	offheap nmt $NPID summary scale=MB >m.txt &&
	head -n 1 m.txt | grep "native memory tracked by NMT, MiB$" &&
	"$JCMD" $NPID VM.native_memory summary scale=MB >j.txt &&
	for cat in "Java Heap" Class "Shared class space"; do
		want=$(awk -v c="$cat" "index(\$0, \"- \") && index(\$0, c \" (reserved=\") {
			sub(/.*reserved=/, \"\"); sub(/MB.*/, \"\"); print }" j.txt) &&
		got=$(awk -v c="$cat" "index(\$0, c) == 1 { n = split(c, w, \" \"); print \$(n + 1) }" m.txt) &&
		say "$cat reserved: jcmd $want MB, offheap $got" &&
		test -n "$want" && test "$want" = "$got" || return 1
	done &&
	grep "^Java Heap  *128  *128 " m.txt &&
	offheap nmt $NPID --scale gb >g.txt &&
	head -n 1 g.txt | grep "GiB$" && grep "^Class  *1 " g.txt &&
	test_exit_code 2 offheap nmt $NPID scale=TB 2>err && grep "scale=KB, MB or GB" err
'

test_expect_success 'baseline -o FILE: the JVM takes its baseline and FILE is saved' '
	offheap nmt $NPID baseline -o base.nmt >b.txt &&
	grep "^JVM $NPID took its NMT baseline" b.txt &&
	head -n 1 base.nmt | grep "^offheap-nmt-baseline 1 pid=$NPID start=[0-9]* time=[0-9]* kind=summary bytes=[0-9]*$" &&
	grep "^Total: reserved=" base.nmt &&
	! ls -a | grep offheap-nmt
'

test_expect_success 'direct memory grows Other by 32 MiB: JVM baseline diff' '
	allocate "$TRASH/d" 32 &&
	offheap nmt $NPID diff --json >d.json &&
	test "$(jq -r .kind d.json)" = summary.diff &&
	within_pct "$(json_cat d.json Other .committed_delta)" 33554432 5 &&
	within_pct "$(json_cat d.json Other .malloc.size_delta)" 33554432 5 &&
	test "$(json_cat d.json "Java Heap" .committed_delta)" -eq 0
'

test_expect_success 'the same growth with --since FILE (offheap computes the diff)' '
	offheap nmt $NPID diff --since base.nmt --json >s.json &&
	test "$(jq -r .baseline.file s.json)" = base.nmt &&
	within_pct "$(json_cat s.json Other .committed_delta)" 33554432 5 &&
	test "$(json_cat s.json "Java Heap" .committed_delta)" -eq 0
'

test_expect_success 'diff text: largest committed growth first' '
	offheap nmt $NPID diff --since base.nmt >d.txt &&
	sed -n 3p d.txt | grep -E "^Other +[0-9.]+[KMG] +\+3[0-9.]*M +[0-9.]+[KMG] +\+3[0-9.]*M$" &&
	offheap nmt $NPID diff --since base.nmt --bytes >d.txt &&
	sed -n 3p d.txt | grep -E "^Other +[0-9]+ +\+3[0-9]* +[0-9]+ +\+3[0-9]{7}$"
'

test_expect_success '--since works although the JVM baseline is replaced' '
	offheap nmt $NPID baseline --json >b.json &&
	jq -e ".pid == $NPID and .jvm_baseline == true and .file == null" b.json &&
	offheap nmt $NPID diff --json >j.json &&
	test "$(json_cat j.json Other .committed_delta)" -lt 1048576 &&
	offheap nmt $NPID diff --since base.nmt --json >s.json &&
	within_pct "$(json_cat s.json Other .committed_delta)" 33554432 5
'

test_expect_success 'a baseline of another process is refused' '
	sed "1s/pid=$NPID /pid=1 /" base.nmt >other.nmt &&
	test_exit_code 1 offheap nmt $NPID diff --since other.nmt 2>err &&
	grep "^offheap: error: baseline .other.nmt. was taken from process 1, not $NPID$" err &&
	grep "^hint: " err
'

test_expect_success 'a baseline of an earlier JVM with the same PID is refused' '
	sed "1s/ start=[0-9]* / start=12345 /" base.nmt >old.nmt &&
	test_exit_code 1 offheap nmt $NPID diff --since old.nmt 2>err &&
	grep "is from an earlier JVM that had PID $NPID" err
'

test_expect_success 'a truncated or foreign baseline file is refused' '
	head -c 1500 base.nmt >cut.nmt &&
	test_exit_code 1 offheap nmt $NPID diff --since cut.nmt 2>err &&
	grep "^offheap: error: baseline .cut.nmt. is truncated: [0-9]* of [0-9]* bytes" err &&
	printf "hello\n" >foreign.nmt &&
	test_exit_code 1 offheap nmt $NPID diff --since foreign.nmt 2>err &&
	grep "^offheap: error: .foreign.nmt. is not an offheap NMT baseline$" err &&
	sed "s/^Total: reserved=[0-9]/Total: reserved=x/" base.nmt >bad.nmt &&
	line=$(grep -n "^Total: reserved=x" bad.nmt | cut -d: -f1) &&
	test_exit_code 1 offheap nmt $NPID diff --since bad.nmt 2>err &&
	grep "^offheap: error: baseline .bad.nmt. does not parse: line $line: " err &&
	test_exit_code 1 offheap nmt $NPID diff --since missing.nmt 2>err &&
	grep "cannot open .missing.nmt." err
'

test_expect_success 'detail on a summary-mode JVM: error and hint, exit 1' '
	test_exit_code 1 offheap nmt $NPID detail 2>err &&
	grep "^offheap: error: JVM $NPID tracks native memory in summary mode only" err &&
	grep "^hint: .*-XX:NativeMemoryTracking=detail" err
'

test_expect_success 'NMT off: the error, the restart hint, exit 1' '
	test_exit_code 1 offheap nmt $OFFPID >out 2>err &&
	test ! -s out &&
	grep -x "offheap: error: native memory tracking is not enabled in JVM $OFFPID" err &&
	grep -x "hint: NMT is chosen at launch: restart the JVM with -XX:NativeMemoryTracking=summary" err &&
	test_exit_code 1 offheap nmt $OFFPID diff 2>err &&
	grep "not enabled in JVM $OFFPID" err
'

test_expect_success 'no such process; usage errors exit 2' '
	test_exit_code 1 offheap nmt 999999999 2>err &&
	grep -x "offheap: error: no process 999999999" err &&
	test_exit_code 2 offheap nmt 2>/dev/null &&
	test_exit_code 2 offheap nmt $NPID frobnicate 2>err &&
	grep "unknown mode" err &&
	test_exit_code 2 offheap nmt $NPID summary -o x 2>/dev/null &&
	test_exit_code 2 offheap nmt $NPID diff --since x --detail 2>/dev/null &&
	offheap nmt --help | grep -A3 "^Examples:" | grep "offheap nmt"
'

# NMT's detail stacks end at the first frame of Java code: a JVM allocating direct
# buffers all the time (its native wrapper of Unsafe.allocateMemory0 compiled) gets it named
mkdir dl
start_bg "$JAVA" -XX:NativeMemoryTracking=detail -Xmx256m -XX:MaxDirectMemorySize=1g \
	"$ROOT/tests/java/DirectLeak.java" dl/ready 8192 120 >dl.out 2>&1
DLPID=$BG_PID
wait_ready dl/ready 60 || fail_all "DirectLeak starts within 60 s" dl.out
# the JIT compiles a native method's wrapper once it is called often: wait for it
wait_for 60 "offheap jcmd $DLPID Compiler.codelist 2>/dev/null | grep -q 'Unsafe.allocateMemory0'" ||
	fail_all "the JVM compiles allocateMemory0's wrapper within 60 s" dl.out

test_expect_success 'detail: the Java code a direct buffer site ends in is named' '
	offheap nmt $DLPID detail --json >dl.json &&
	jq -e "[.malloc_sites[] | select(.category == \"Other\") | .frames[] |
		select(.java == [\"jdk.internal.misc.Unsafe.allocateMemory0(long) (Native Method)\"])] |
		length > 0" dl.json &&
	offheap nmt $DLPID detail --top 50 >dl.txt &&
	grep -x "        \[java\] jdk.internal.misc.Unsafe.allocateMemory0(long) (Native Method)" dl.txt
'
stop_bg $DLPID

stop_bg $NPID
stop_bg $OFFPID
test_done
