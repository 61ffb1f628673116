#!/bin/sh
# A pid reused between look-up and attach, made deterministic in a pid namespace of our
# own (ns_last_pid picks the next pid; nothing else forks there), with a private /tmp:
# a JVM is SIGKILLed while offheap waits to signal it, and a sleep takes its pid. offheap
# must not signal the sleep (SIGQUIT would kill it), and must refuse the dead JVM's
# leftover hsperfdata file and socket. Also: the hsperfdata directory as a symlink.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JAVA=$JDK17/java
require_jdk17 java
[ "$(id -u)" = 0 ] || skip_all "needs root (pid and mount namespaces)"
command -v unshare >/dev/null || skip_all "needs unshare"
command -v python3 >/dev/null || skip_all "needs python3 to plant a socket"
unshare --pid --fork --mount --mount-proc true 2>/dev/null ||
	skip_all "cannot create pid and mount namespaces here"

# The JVM's /tmp is $TRASH/jtmp; $TRASH itself stays reachable under its own name in it.
mkdir -p jtmp/"${TRASH##*/}" jtmp/.hosttmp jcwd r
# The checkout may itself sit under /tmp (a CI clone), hidden by the private /tmp: what
# runs inside is copied into $TRASH first.
setup_or_fail "offheap copied into $TRASH" cp "$OFFHEAP" offheap.bin
setup_or_fail "Idle.java copied into $TRASH" cp "$ROOT/tests/java/Idle.java" Idle.java
OFFHEAP=$TRASH/offheap.bin

# Runs as pid 1 of the new namespace. Every step writes r/STEP.{rc,out,err}.
cat >inner.sh <<'EOF'
set -u
cd "$TRASH" || exit 1
mount --make-rprivate / &&
	mount --bind "$TRASH" "$TRASH/jtmp/${TRASH##*/}" &&
	mount --bind /tmp "$TRASH/jtmp/.hosttmp" &&
	mount --rbind "$TRASH/jtmp" /tmp || { echo "cannot mount a private /tmp" >r/fail; exit 1; }
# Sanitizer reports (make asan) still go to the folder tests/run watches.
ASAN_OPTIONS=$(echo "${ASAN_OPTIONS:-}" | sed "s#log_path=/tmp/#log_path=/tmp/.hosttmp/#")
UBSAN_OPTIONS=$(echo "${UBSAN_OPTIONS:-}" | sed "s#log_path=/tmp/#log_path=/tmp/.hosttmp/#")
export ASAN_OPTIONS UBSAN_OPTIONS

step() {	# step NAME CMD...: runs CMD, keeps its exit code and output
	_n=$1; shift
	"$@" >r/$_n.out 2>r/$_n.err
	echo $? >r/$_n.rc
}
state() { sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' /proc/$1/status 2>/dev/null; }
waitfor() {	# waitfor TENTHS 'condition' (times the runner's OFFHEAP_TIME_FACTOR)
	_i=0
	while ! eval "$2"; do
		_i=$((_i + 1)); [ $_i -ge $(($1 * ${OFFHEAP_TIME_FACTOR:-1})) ] && return 1; sleep 0.1
	done
}

(cd jcwd && exec "$JAVA" "$TRASH/Idle.java" 100 "$TRASH/ready") >jvm.out 2>&1 &
J=$!
echo $J >r/jpid
waitfor 600 'test -s ready' || { echo "the JVM did not start" >r/fail; kill -9 $J; exit 1; }
ls -a /tmp >r/tmp.before

# The hsperfdata directory replaced by a symlink to it.
mv /tmp/hsperfdata_root /tmp/perf-real && ln -s perf-real /tmp/hsperfdata_root
step dirlink "$OFFHEAP" jstat $J
rm /tmp/hsperfdata_root && mv /tmp/perf-real /tmp/hsperfdata_root
step dirback "$OFFHEAP" jstat $J

# offheap has looked J up and waits for the stopped JVM to resume before signalling it.
kill -STOP $J
waitfor 100 '[ "$(state $J)" = T ]' || echo "the JVM did not stop" >r/fail
"$OFFHEAP" jcmd --timeout 30s $J VM.version >r/reuse.out 2>r/reuse.err &
O=$!
waitfor 100 'test -e jcwd/.attach_pid$J || test -e /tmp/.attach_pid$J' ||
	echo "offheap made no trigger file" >r/fail
kill -STOP $O
waitfor 100 '[ "$(state $O)" = T ]' || echo "offheap did not stop" >r/fail
kill -KILL $J
wait $J
# The next pid is J: nothing else forks in this namespace until the sleep has it.
echo $((J - 1)) >/proc/sys/kernel/ns_last_pid
sleep 600 &
S=$!
echo $S >r/spid
# Asleep before offheap goes on: on a loaded machine a just-forked sleep can still be
# running (R) when offheap is done, and only S says it is alive and was not signalled.
waitfor 100 '[ "$(state $S)" = S ]' || echo "the sleep did not start" >r/fail
kill -CONT $O
wait $O
echo $? >r/reuse.rc
state $S >r/reuse.state
ls -a jcwd >r/jcwd.after

# The dead JVM's hsperfdata file (SIGKILL leaves it) now names the sleep.
step staleperf "$OFFHEAP" jstat $J
# A dead JVM's socket under the sleep's pid.
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' /tmp/.java_pid$J &&
	chmod 600 /tmp/.java_pid$J
step stalesock "$OFFHEAP" jcmd $J VM.version
state $S >r/stale.state
rm -f /tmp/.java_pid$J /tmp/hsperfdata_root/$J
ls -a /tmp >r/tmp.after
kill -KILL $S
EOF

test_expect_success 'setup: a JVM in its own pid namespace, offheap beside it' '
	TRASH="$TRASH" JAVA="$JAVA" OFFHEAP="$OFFHEAP" ROOT="$ROOT" \
		timeout -k 5 $((100 * OFFHEAP_TIME_FACTOR)) unshare --pid --fork --kill-child --mount --mount-proc sh inner.sh;
	! test -e r/fail || { cat r/fail; false; }
'

test_expect_success 'the hsperfdata directory as a symlink: not followed, said so' '
	cat r/dirlink.err &&
	test "$(cat r/dirlink.rc)" = 1 && ! test -s r/dirlink.out &&
	grep "^offheap: error: no hsperfdata for process $(cat r/jpid): refusing .*/tmp/hsperfdata_root., a symbolic link$" r/dirlink.err &&
	grep "^hint: " r/dirlink.err &&
	test "$(cat r/dirback.rc)" = 0 && test -s r/dirback.out
'

test_expect_success 'the pid was taken over by a sleep: it is not signalled' '
	cat r/reuse.err &&
	test "$(cat r/spid)" = "$(cat r/jpid)" &&
	test "$(cat r/reuse.rc)" = 1 &&
	test "$(cat r/reuse.err)" = "offheap: error: process $(cat r/jpid) exited during the attach" &&
	test "$(cat r/reuse.state)" = S &&
	! grep attach_pid r/jcwd.after
'

test_expect_success 'the dead JVM'\''s hsperfdata file under the new process: refused' '
	cat r/staleperf.err &&
	test "$(cat r/staleperf.rc)" = 1 && ! test -s r/staleperf.out &&
	grep "^offheap: error: refusing .*/hsperfdata_root/$(cat r/jpid).: process $(cat r/jpid) does not map it" r/staleperf.err &&
	grep "^hint: the JVM that wrote it is gone" r/staleperf.err
'

test_expect_success 'a dead JVM'\''s socket under the new process: refused, no signal' '
	cat r/stalesock.err &&
	test "$(cat r/stalesock.rc)" = 1 &&
	grep "^offheap: error: process $(cat r/jpid) is not a HotSpot JVM (no libjvm.so in its memory map): .*/tmp/.java_pid$(cat r/jpid). is left over" r/stalesock.err &&
	test "$(cat r/stale.state)" = S
'

test_expect_success 'nothing left behind in the private /tmp' '
	grep -v -e "^\.java_pid" -e "^hsperfdata_" r/tmp.before >want &&
	grep -v -e "^\.java_pid" -e "^hsperfdata_" r/tmp.after >got &&
	diff want got && ! grep attach_pid r/tmp.after
'

test_done
