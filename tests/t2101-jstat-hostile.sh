#!/bin/sh
# offheap jstat on recorded and planted hsperfdata: golden output, and files it must refuse.
. "$(dirname "$0")/test-lib.sh"

# A recorded tree: proc/PID/status for each case, tmp/hsperfdata_*/PID beside it.
me=$(id -u)
mkproc() {	# mkproc PID UID
	mkdir -p root/proc/$1
	printf 'Name:\tjava\nState:\tS (sleeping)\nPPid:\t1\nUid:\t%s\t%s\t%s\t%s\nNSpid:\t%s\n' \
		"$2" "$2" "$2" "$2" "$1" >root/proc/$1/status
}
mkdir -p root/tmp/hsperfdata_app root/tmp/hsperfdata_evil
mkproc 4245 "$me"
cp "$FIXTURES/hsperf/jdk17-g1-nmt.hsperf" root/tmp/hsperfdata_app/4245
mkproc 4246 "$me"
cp "$FIXTURES/hsperf/jdk25-parallel.hsperf" root/tmp/hsperfdata_app/4246
mkproc 4251 "$me"
cp "$FIXTURES/hsperf/jdk17-serial-gc.hsperf" root/tmp/hsperfdata_app/4251
mkproc 4242 "$me"
ln -s ../hsperfdata_app/4245 root/tmp/hsperfdata_evil/4242
mkproc 4243 12345
cp "$FIXTURES/hsperf/jdk17-g1-nmt.hsperf" root/tmp/hsperfdata_app/4243
mkproc 4244 "$me"
head -c 20 "$FIXTURES/hsperf/jdk17-g1-nmt.hsperf" >root/tmp/hsperfdata_app/4244
mkproc 4247 "$me"
printf 'this is not hsperfdata, but long enough to pass the size check\n' \
	>root/tmp/hsperfdata_app/4247
mkproc 4248 "$me"
mkdir -p root/tmp/hsperfdata_app/4248
mkproc 4249 "$me"
mkproc 4250 "$me"
mkdir -p root/elsewhere
cp "$FIXTURES/hsperf/jdk17-g1-nmt.hsperf" root/elsewhere/4250
ln -s ../elsewhere root/tmp/hsperfdata_linked
PR="--proc-root $TRASH/root/proc"

test_expect_success 'JDK 17 G1 recording prints exactly what jstat -gc printed' '
	offheap $PR jstat 4245 >out &&
	diff -u "$FIXTURES/hsperf/jdk17-g1-nmt.jstat-gc" out
'

test_expect_success 'JDK 25 ParallelGC recording: "-" for the missing collector, as jstat' '
	offheap $PR jstat -gc 4246 >out &&
	diff -u "$FIXTURES/hsperf/jdk25-parallel.jstat-gc" out
'

test_expect_success 'JDK 17 SerialGC after collections: fractions and times as jstat' '
	offheap $PR jstat 4251 >out &&
	diff -u "$FIXTURES/hsperf/jdk17-serial-gc.jstat-gc" out
'

test_expect_success '--json of a recording: columns, nulls, extra counters' '
	offheap $PR jstat --json 4246 >out.json &&
	jq -e ".pid == 4246 and .EC == 97280 * 1024 and .CGC == null and .CGCT == null" out.json &&
	jq -e ".nmt == \"off\" and .vm_version == \"25.0.3+9-LTS\" and .threads.live > 0" out.json &&
	offheap $PR jstat --json 4245 >out17.json &&
	jq -e ".nmt == \"summary\" and .classes.loaded == 2290 and .CGC == 0" out17.json
'

test_expect_success 'a symlink planted as the hsperfdata file is refused' '
	test_exit_code 1 offheap $PR jstat 4242 2>err &&
	grep "error: refusing .*hsperfdata_evil/4242.: it is a symbolic link" err &&
	grep "^hint:" err
'

test_expect_success 'an hsperfdata directory that is a symlink is not followed' '
	test_exit_code 1 offheap $PR jstat 4250 2>err &&
	grep "error: no hsperfdata for process 4250" err
'

test_expect_success 'a file owned by another user than the process is refused' '
	test_exit_code 1 offheap $PR jstat 4243 2>err &&
	grep "error: refusing .*4243.: owned by uid $me, but process 4243 runs as uid 12345" err
'

test_expect_success 'truncated and foreign files are errors, not crashes' '
	test_exit_code 1 offheap $PR jstat 4244 2>err &&
	grep "too short for hsperfdata" err &&
	test_exit_code 1 offheap $PR jstat 4247 2>err &&
	grep "not an hsperfdata file" err &&
	test_exit_code 1 offheap $PR jstat 4248 2>err &&
	grep "error: refusing .*4248.: not a regular file" err
'

test_expect_success 'no hsperfdata: clear message and hint' '
	test_exit_code 1 offheap $PR jstat 4249 2>err &&
	grep "error: no hsperfdata for process 4249 (not a JVM, or started with -XX:-UsePerfData)" err &&
	grep "^hint: .offheap jstat --list" err
'

test_expect_success 'no such process' '
	test_exit_code 1 offheap $PR jstat 4999 2>err &&
	test "$(cat err)" = "offheap: error: no process 4999"
'

test_expect_success '--list on the recording shows the readable JVMs only, and says which not' '
	offheap $PR jstat --list >out 2>err &&
	for p in 4242 4243 4244 4247 4248 4250; do
		grep "^offheap: warning: process $p not listed: " err || return 1
	done &&
	grep "process 4242 not listed: refusing .*: it is a symbolic link$" err &&
	grep "process 4243 not listed: refusing .*: owned by uid $me, but process 4243 runs as uid 12345$" err &&
	test $(wc -l <err) = 6 &&
	grep "^ *4245 *summary *17.0.15+6-Debian-1deb12u1 *jdk.compiler" out &&
	grep "^ *4246 *off *25.0.3+9-LTS" out &&
	! grep -E "^ *(4242|4243|4244|4247|4248|4249|4250) " out &&
	offheap $PR jstat --list --json | jq -e "[.jvms[].pid] == [4245, 4246, 4251]" &&
	offheap $PR jstat --list --output pid,nmt --no-headings --raw >out &&
	printf "4245 summary\n4246 off\n" >want &&
	head -n 2 out | diff -u want - &&
	test "$(wc -l <out)" = 3 &&
	test_exit_code 2 offheap $PR jstat --list --output pid,rss 2>err &&
	grep -x "offheap: error: unknown column .rss. (valid: pid,nmt,vm_version,command)" err
'

test_expect_success 'live: a symlink planted in /tmp for a non-JVM process is refused' '
	start_bg sleep 300 &&
	d=/tmp/hsperfdata_offheap-t2101-$$ &&
	mkdir -p $d &&
	ln -s "$TRASH/root/tmp/hsperfdata_app/4245" $d/$BG_PID &&
	test_exit_code 1 offheap jstat $BG_PID 2>err; rc=$?
	rm -rf $d
	test $rc = 0 && grep "it is a symbolic link" err
'

test_expect_success 'usage errors exit 2' '
	test_exit_code 2 offheap jstat &&
	test_exit_code 2 offheap jstat -gcutil -class 1 2>err &&
	grep "one statistics option at a time, not -gcutil and -class" err &&
	test_exit_code 2 offheap jstat -gcfoo 1 2>err && grep "unknown statistics option .-gcfoo. (-gc, -gcutil" err &&
	test_exit_code 2 offheap jstat 1 0 &&
	test_exit_code 2 offheap jstat 1 1s 0 &&
	test_exit_code 2 offheap jstat 1 fast &&
	test_exit_code 2 offheap jstat -h0 1 &&
	offheap jstat --help | grep EXAMPLES
'

test_done
