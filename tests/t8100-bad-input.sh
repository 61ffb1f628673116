#!/bin/sh
# The bad-input catalogue of docs/RELIABILITY.md, across every command that takes a PID:
# no such process, not a JVM, permission denied (as nobody), NMT off, attach disabled.
# Each: the documented message and exit code, no output file, the target left alone.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JAVA=$JDK17/java

NOPID=$(dead_pid)

test_expect_success 'no such PID: every command says exactly that, exit 1' '
	for c in "maps $NOPID" "snap $NOPID -o s.db" "jstat $NOPID" "jcmd $NOPID VM.version" \
		"nmt $NOPID" "nmt $NOPID baseline" "jvm $NOPID" "trace $NOPID" \
		"dump $NOPID 1000-2000 -o d.bin" "inspect $NOPID 1000-2000"; do
		test_exit_code 1 offheap $c >out 2>err &&
		echo "offheap: error: no process $NOPID" >want &&
		cmp want err && ! test -s out || { echo "offheap $c"; cat err; return 1; }
	done &&
	! test -e s.db && ! test -e d.bin
'

test_expect_success 'not a JVM: jstat, jcmd, nmt, jvm on a C process refuse it, no signal' '
	start_bg sleep 60 &&
	spid=$BG_PID &&
	wait_for 5 "grep -q sleep /proc/$spid/comm" &&
	# (a JVM that had this pid before and was SIGKILLed may have left files behind: they
	# are refused as left over, another clear error)
	test_exit_code 1 offheap jstat $spid 2>err &&
	grep -e "^offheap: error: no hsperfdata for process $spid (not a JVM, or started with -XX:-UsePerfData)$" \
		-e "^offheap: error: refusing .*/$spid.: process $spid does not map it" err &&
	grep "^hint: " err &&
	for c in "jcmd $spid VM.version" "nmt $spid"; do
		test_exit_code 1 offheap $c 2>err &&
		grep "^offheap: error: process $spid is not a HotSpot JVM (no libjvm.so in its memory map)" err &&
		grep "^hint: offheap ${c%% *} talks to HotSpot JVMs" err || return 1
	done &&
	test_exit_code 1 offheap jvm $spid 2>err &&
	grep "^offheap: error: process $spid is not a JVM (no libjvm.so in its memory map)$" err &&
	grep "^hint: .offheap maps $spid. shows any process.s memory$" err &&
	grep -q "^State:.*S (sleeping)" /proc/$spid/status &&
	! test -e /tmp/.attach_pid$spid && ! test -e /proc/$spid/cwd/.attach_pid$spid &&
	stop_bg $spid
'

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	test_expect_success 'EPERM: as nobody, root'\''s process: each command says why, with a hint' '
		start_bg sleep 60 &&
		spid=$BG_PID &&
		nobody_dir && W="$NOBODY_DIR/w" && mkdir -p "$W" && chmod 777 "$W" &&
		for c in "maps $spid" "dump $spid 1000-2000 -o $W/d.bin" \
			"inspect $spid 1000-2000" "jvm $spid"; do
			test_exit_code 1 offheap_as_nobody $c >out 2>err &&
			grep "^offheap: error: cannot read /proc/$spid/smaps: Permission denied$" err &&
			grep "^hint: run as the process owner or as root$" err ||
			{ echo "offheap $c"; cat err; return 1; }
		done &&
		test_exit_code 1 offheap_as_nobody snap $spid -o "$W/s.db" 2>err && cat err &&
		grep "^offheap: error: .*/proc/$spid/.*Permission denied" err &&
		grep "^hint: run as the process owner or as root$" err &&
		test_exit_code 1 offheap_as_nobody trace $spid 2>err &&
		grep "^offheap: error: cannot trace process $spid: Operation not permitted$" err &&
		grep "^hint: run as the process owner or as root" err &&
		test -z "$(ls -A "$W")" &&
		grep -q "^State:.*S (sleeping)" /proc/$spid/status &&
		stop_bg $spid
	'
else
	test_skip 'EPERM: as nobody, root'\''s process: each command says why, with a hint' \
		'needs root and setpriv'
fi

require_jdk17 java

start_bg "$JAVA" "$ROOT/tests/java/Idle.java" 100 "$TRASH/ready1" >jvm1.out 2>&1
OFF=$BG_PID
start_bg "$JAVA" -XX:+DisableAttachMechanism "$ROOT/tests/java/Idle.java" 100 "$TRASH/ready2" \
	>jvm2.out 2>&1
DIS=$BG_PID

test_expect_success 'NMT off: nmt says how to turn it on, jvm reports without it' '
	wait_ready ready1 60 &&
	test_exit_code 1 offheap nmt $OFF >out 2>err &&
	! test -s out &&
	grep -x "offheap: error: native memory tracking is not enabled in JVM $OFF" err &&
	grep -x "hint: NMT is chosen at launch: restart the JVM with -XX:NativeMemoryTracking=summary" err &&
	offheap jvm $OFF >out &&
	grep "Native Memory Tracking: off .* -XX:NativeMemoryTracking=summary" out &&
	offheap jvm $OFF --json | jq -e ".nmt == \"off\"" &&
	! grep "Full thread dump" jvm1.out
'

test_expect_success 'attach disabled: nmt refuses at once, the JVM left alone' '
	wait_ready ready2 60 &&
	test_exit_code 1 offheap nmt $DIS >out 2>err &&
	grep "^offheap: error: process $DIS does not accept attach requests: it runs with -XX:+DisableAttachMechanism$" err &&
	grep "^hint: restart the JVM without -XX:+DisableAttachMechanism" err &&
	! test -e /tmp/.attach_pid$DIS && ! grep "Full thread dump" jvm2.out && kill -0 $DIS
'

test_done
