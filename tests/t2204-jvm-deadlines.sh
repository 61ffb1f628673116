#!/bin/sh
# Deadlines on the attach: a fake JVM (tests/helpers/fakejvm) opens its attach socket after
# the .attach_pid/SIGQUIT dance, as HotSpot does, and then answers every request one byte at
# a time. Each command must end with a timeout of its own, whole (not restarted at each byte):
# jcmd and nmt fail with "timed out after ...", jvm, doctor and watch report without the JVM's
# answers and say why. `timeout 60` only guards against a hang (exit 124 fails the test); no
# timing is asserted.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

# A copy of the helper as .../lib/server/libjvm.so: what offheap takes for a HotSpot JVM.
mkdir -p jdk/lib/server && cp "$HELPERS/fakejvm" jdk/lib/server/libjvm.so ||
	fail_all "the fake libjvm.so is in place"
start_bg "$HELPERS/fakejvm" --lib "$TRASH/jdk/lib/server/libjvm.so" --ready ready \
	--served served --trickle-ms 400 --lifetime 120
FJ=$BG_PID
wait_ready ready || fail_all "the fake JVM starts"

# hang_guard CMD...: runs offheap with a 60 s guard; its exit code is kept in $rc.
hang_guard() {
	timeout 60 "$OFFHEAP" "$@"
	rc=$?
	test $rc != 124 || { echo "offheap $* still ran after 60 s"; return 1; }
}

test_expect_success 'jcmd --timeout 2s: times out as a whole, exit 1, a hint' '
	hang_guard jcmd --timeout 2s $FJ VM.version >out 2>err &&
	test $rc = 1 &&
	grep "^offheap: error: timed out after 2s waiting for the JVM.s reply (process $FJ)" err &&
	grep "^hint: .*--timeout" err &&
	test_must_fail test -s out &&
	grep "^request getversion" served &&
	test -S /tmp/.java_pid$FJ &&
	! test -e /tmp/.attach_pid$FJ
'

test_expect_success 'nmt --timeout 1s: the same error' '
	hang_guard nmt --timeout 1s $FJ summary >out 2>err &&
	test $rc = 1 &&
	grep "^offheap: error: timed out after 1s waiting for the JVM.s reply (process $FJ)" err &&
	grep "^hint: " err
'

test_expect_success 'jvm --timeout 1s: the OS view, and the timeout as what was not checked' '
	: >served &&
	hang_guard jvm --timeout 1s $FJ >out 2>err &&
	test $rc = 0 &&
	grep "^not checked: timed out after 1s waiting for the JVM.s reply" out &&
	test $(grep -c "^request " served) = 1
'

test_expect_success 'doctor -d 2s --timeout 1s: findings, and the JVM asked once only' '
	: >served &&
	hang_guard doctor -d 2s --timeout 1s -q $FJ >out 2>err &&
	test $rc = 0 &&
	grep "attach (flags, class loaders, string table, class histogram, C-Heap): timed out after 1s waiting for the JVM.s reply" out &&
	test $(grep -c "^request " served) = 1
'

test_expect_success 'watch --timeout 1s: samples, the timeout named, asked again backing off' '
	: >served &&
	hang_guard watch -d 3s -i 200ms --timeout 1s -o w.db $FJ >out 2>err &&
	test $rc = 0 &&
	grep "^NMT not read: timed out after 1s waiting for the JVM.s reply" out &&
	sqlite3 w.db "select count(*) from sample" >n && test $(cat n) -ge 2 &&
	req=$(grep -c "^request " served) &&
	say "$req requests over $(cat n) samples" &&
	# asked again after 2 ticks, then 4: not once, and not at every tick
	test $req -ge 2 && test $req -lt $(cat n)
'

test_expect_success 'record -p --timeout 1s: the agent load times out, no ptrace fallback, no file' '
	: >served &&
	hang_guard record -p $FJ --timeout 1s -d 1s -o rp.db >out 2>err &&
	test $rc = 1 &&
	grep "^offheap: error: timed out after 1s waiting for the JVM.s reply (process $FJ)" err &&
	grep "^hint: " err &&
	test "$(grep -c "^request " served)" = 1 &&
	! test -e rp.db &&
	! grep -q "offheap-track\|liboffheap" /proc/$FJ/maps
'

test_expect_success 'bad --timeout words are usage errors' '
	test_exit_code 2 offheap record --timeout 1s -o x.db -- true 2>err &&
	grep "timeout goes with -p" err &&
	test_exit_code 2 offheap watch -d 2s --timeout never $FJ 2>err &&
	grep "takes a duration" err &&
	test_exit_code 2 offheap doctor -d 2s --timeout 0 $FJ 2>err &&
	grep "takes a duration" err
'

test_expect_success 'a symlink as its hsperfdata file: named as such by jstat, jvm, watch, doctor' '
	hsdir=/tmp/hsperfdata_$(id -un) &&
	if ! test -d $hsdir; then mkdir -m 755 $hsdir && made_hsdir=1; fi &&
	echo "not a JVM counter file" >hs-target &&
	ln -s "$TRASH/hs-target" $hsdir/$FJ &&
	{
		test_exit_code 1 offheap jstat $FJ >out 2>err.jstat &&
		hang_guard jvm --timeout 1s $FJ >out.jvm 2>&1 && test $rc = 0 &&
		hang_guard watch -d 1s -i 200ms --timeout 1s -o hs.db $FJ >out.watch 2>&1 &&
		test $rc = 0 &&
		hang_guard doctor -q -d 1s --timeout 1s $FJ >out.doctor 2>&1 && test $rc = 0
	}
	ran=$?
	rm -f $hsdir/$FJ
	if test -n "${made_hsdir:-}"; then rmdir $hsdir; fi
	test $ran = 0 &&
	grep "^offheap: error: refusing .*hsperfdata_.*/$FJ.: it is a symbolic link" err.jstat &&
	grep "^not checked: the JVM.s counters (hsperfdata): refusing .*: it is a symbolic link" out.jvm &&
	grep "^hsperfdata not read: refusing .*: it is a symbolic link" out.watch &&
	grep "JVM counters.*refusing .*: it is a symbolic link" out.doctor &&
	cmp hs-target - <<-EOF
	not a JVM counter file
	EOF
'

test_expect_success 'an unsafe socket refused as root: the hint does not say "run as root"' '
	test -S /tmp/.java_pid$FJ &&
	chmod 0666 /tmp/.java_pid$FJ &&
	test_exit_code 1 offheap jcmd --timeout 1s $FJ VM.version >out 2>err &&
	grep "^offheap: error: refusing .*/tmp/.java_pid$FJ.: mode 0666 lets other users in" err &&
	if test "$(id -u)" = 0; then
		grep "^hint: offheap runs as root already" err && ! grep "^hint:.*or as root" err
	else
		grep "^hint: run offheap as the JVM.s user or as root" err
	fi
'

stop_bg $FJ
rm -f /tmp/.java_pid$FJ
test_done
