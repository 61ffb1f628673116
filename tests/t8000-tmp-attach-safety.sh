#!/bin/sh
# Files in a shared /tmp and in the JVM's cwd, planted or tampered with, around a real JVM:
# sockets of another owner or with group/other bits, symlinked socket, trigger and
# hsperfdata files, a JVM of another user while offheap is not root. Each is refused with a
# clear error and exit 1; the JVM is never signalled in vain (no thread dump in its
# output); nothing is created but the attach protocol's own files, and nothing left behind.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JAVA=$JDK17/java
require_jdk17 java
[ "$(id -u)" = 0 ] || skip_all "needs root (chown to another user, setpriv)"
command -v setpriv >/dev/null || skip_all "needs setpriv"
command -v python3 >/dev/null || skip_all "needs python3 to plant a socket"
NOBODY=$(id -u nobody) || skip_all "no user nobody"

mkdir cwd
start_bg env -C "$TRASH/cwd" "$JAVA" "$ROOT/tests/java/Idle.java" 110 "$TRASH/ready" \
	>jvm.out 2>&1
A=$BG_PID
SOCK=/tmp/.java_pid$A
PERF=/tmp/hsperfdata_root/$A

# plant_socket PATH MODE OWNER: a listening-free Unix socket file, as a JVM leaves one.
plant_socket() {
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$1" &&
		chmod "$2" "$1" && chown "$3" "$1"
}

# What exists for the JVM: the entries of /tmp and hsperfdata_root naming its pid, and
# its cwd. (/tmp is shared with other programs: only names with our pid are compared.)
inventory() {
	{ ls -a /tmp; ls -a /tmp/hsperfdata_root; } | grep -E "(^|[^0-9])$A\$" | sort
	echo "cwd:"
	ls -a "$TRASH/cwd"
}

# The JVM is alive, was never sent a SIGQUIT that it took for a thread dump request.
jvm_untouched() {
	kill -0 $A && ! grep -q "Full thread dump" jvm.out
}

test_expect_success 'setup: the JVM runs, no attach socket yet' '
	wait_ready ready 60 &&
	test -f $PERF && ! test -e $SOCK &&
	inventory >before &&
	cat before
'

test_expect_success 'a planted socket owned by another user: refused before any signal' '
	plant_socket $SOCK 600 nobody &&
	test_exit_code 1 offheap jcmd $A VM.version >out 2>err;
	rc=$?; rm -f $SOCK; cat err;
	test $rc = 0 &&
	grep "^offheap: error: refusing .*/tmp/.java_pid$A.: owned by uid $NOBODY, the JVM runs as uid 0$" err &&
	grep "^hint: " err && ! test -s out &&
	jvm_untouched && inventory >now && cmp before now
'

test_expect_success 'a planted socket with group or other permission bits: refused' '
	plant_socket $SOCK 660 root &&
	test_exit_code 1 offheap jcmd $A VM.version 2>err1;
	rc1=$?; chmod 606 $SOCK &&
	test_exit_code 1 offheap jcmd $A VM.version 2>err2;
	rc2=$?; rm -f $SOCK; cat err1 err2;
	test $rc1 = 0 && test $rc2 = 0 &&
	grep "^offheap: error: refusing .*/tmp/.java_pid$A.: mode 0660 lets other users in$" err1 &&
	grep "^offheap: error: refusing .*/tmp/.java_pid$A.: mode 0606 lets other users in$" err2 &&
	jvm_untouched && inventory >now && cmp before now
'

test_expect_success 'a symlink as the socket, to a good socket: not followed' '
	plant_socket "$TRASH/elsewhere.sock" 600 root &&
	ln -s "$TRASH/elsewhere.sock" $SOCK &&
	test_exit_code 1 offheap jcmd $A VM.version 2>err;
	rc=$?; rm -f $SOCK; cat err;
	test $rc = 0 &&
	grep "^offheap: error: refusing .*/tmp/.java_pid$A.: not a socket (a symbolic link)$" err &&
	jvm_untouched && inventory >now && cmp before now
'

test_expect_success 'a trigger symlink in the cwd to another user'\''s file: refused, no signal' '
	echo precious >victim && chown nobody victim && cp victim victim.orig &&
	ln -sf "$TRASH/victim" cwd/.attach_pid$A &&
	test_exit_code 1 offheap jcmd $A VM.version 2>err;
	rc=$?; cat err;
	test $rc = 0 &&
	grep "^offheap: error: refusing to signal process $A: .$TRASH/cwd/.attach_pid$A. (owned by uid $NOBODY) is in the way" err &&
	grep "^hint: remove that file" err &&
	test -L cwd/.attach_pid$A && cmp victim victim.orig &&
	test "$(stat -c %u victim)" = $NOBODY &&
	rm cwd/.attach_pid$A && jvm_untouched && inventory >now && cmp before now
'

test_expect_success 'trigger symlinks in the cwd and in /tmp: a clear error, nothing written' '
	ln -sf "$TRASH/made-in-cwd" cwd/.attach_pid$A &&
	ln -s "$TRASH/made-in-tmp" /tmp/.attach_pid$A &&
	test_exit_code 1 offheap jcmd --timeout 5s $A VM.version 2>err;
	rc=$?; rm -f /tmp/.attach_pid$A; cat err;
	test $rc = 0 &&
	grep "^offheap: error: cannot create the attach trigger file .\.attach_pid$A. for process $A in its cwd (File exists) or in .*(File exists)$" err &&
	! test -e made-in-cwd && ! test -e made-in-tmp &&
	test -L cwd/.attach_pid$A && rm cwd/.attach_pid$A &&
	jvm_untouched && inventory >now && cmp before now
'

test_expect_success 'a dangling trigger symlink in the cwd: the attach goes through /tmp' '
	ln -sf "$TRASH/made-in-cwd" cwd/.attach_pid$A &&
	offheap jcmd $A VM.version >out 2>err;
	rc=$?; cat err;
	test $rc = 0 && grep "^JDK 17" out &&
	! test -e made-in-cwd && test -L cwd/.attach_pid$A && rm cwd/.attach_pid$A &&
	! test -e /tmp/.attach_pid$A && test -S $SOCK &&
	jvm_untouched && inventory >now &&
	{ cat before; echo ".java_pid$A"; } | sort >want &&
	sort now >now.sorted && sort want >want.sorted && cmp want.sorted now.sorted
'

test_expect_success 'the JVM socket given group bits, then another owner: refused' '
	chmod 660 $SOCK &&
	test_exit_code 1 offheap jcmd $A VM.version 2>err1;
	rc1=$?; chmod 600 $SOCK && chown nobody $SOCK &&
	test_exit_code 1 offheap jcmd $A VM.version 2>err2;
	rc2=$?; chown root $SOCK; cat err1 err2;
	test $rc1 = 0 && test $rc2 = 0 &&
	grep "refusing .*/tmp/.java_pid$A.: mode 0660 lets other users in$" err1 &&
	grep "refusing .*/tmp/.java_pid$A.: owned by uid $NOBODY, the JVM runs as uid 0$" err2 &&
	offheap jcmd $A VM.version >out && grep "^JDK 17" out && jvm_untouched
'

test_expect_success 'the JVM socket moved away and replaced by a symlink to it: refused' '
	mv $SOCK "$TRASH/moved.sock" && ln -s "$TRASH/moved.sock" $SOCK &&
	test_exit_code 1 offheap jcmd $A VM.version 2>err;
	rc=$?; rm -f $SOCK; mv "$TRASH/moved.sock" $SOCK; cat err;
	test $rc = 0 &&
	grep "^offheap: error: refusing .*/tmp/.java_pid$A.: not a socket (a symbolic link)$" err &&
	offheap jcmd $A VM.version >out && grep "^JDK 17" out && jvm_untouched
'

test_expect_success 'the hsperfdata file replaced by a symlink to it: refused' '
	offheap jstat $A >out && test -s out &&
	mv $PERF "$TRASH/perf" && ln -s "$TRASH/perf" $PERF &&
	test_exit_code 1 offheap jstat $A >out 2>err;
	rc=$?; rm -f $PERF; mv "$TRASH/perf" $PERF; cat err;
	test $rc = 0 && ! test -s out &&
	grep "^offheap: error: refusing .*/hsperfdata_root/$A.: it is a symbolic link$" err &&
	grep "^hint: " err &&
	offheap jstat $A >out && test -s out && jvm_untouched
'

test_expect_success 'the hsperfdata file replaced by a symlink: jvm names the refusal' '
	mv $PERF "$TRASH/perf" && ln -s "$TRASH/perf" $PERF &&
	offheap jvm $A >out 2>err;
	rc=$?; offheap jvm $A --json >out.json 2>>err;
	rc2=$?; rm -f $PERF; mv "$TRASH/perf" $PERF; cat out err;
	test $rc = 0 && test $rc2 = 0 &&
	grep "^not checked: the JVM.s counters (hsperfdata): refusing .*/hsperfdata_root/$A.: it is a symbolic link$" out &&
	! grep "not a JVM" out &&
	grep -q "\"hsperf_error\": *\"refusing .*symbolic link\"" out.json &&
	offheap jvm $A >out && ! grep "^not checked: the JVM.s counters" out && jvm_untouched
'

test_expect_success 'another user'\''s hsperfdata file in its place: refused' '
	mv $PERF "$TRASH/perf" && cp "$TRASH/perf" $PERF && chown nobody $PERF &&
	test_exit_code 1 offheap jstat $A >out 2>err;
	rc=$?; rm -f $PERF; mv "$TRASH/perf" $PERF; cat err;
	test $rc = 0 &&
	grep "^offheap: error: refusing .*/hsperfdata_root/$A.: owned by uid $NOBODY, but process $A runs as uid 0$" err &&
	jvm_untouched
'

test_expect_success 'a copy in place of the file the JVM maps: refused as not mapped' '
	mv $PERF "$TRASH/perf" && cp "$TRASH/perf" $PERF &&
	test_exit_code 1 offheap jstat $A >out 2>err;
	rc=$?; rm -f $PERF; mv "$TRASH/perf" $PERF; cat err;
	test $rc = 0 &&
	grep "^offheap: error: refusing .*/hsperfdata_root/$A.: process $A does not map it" err &&
	grep "^hint: " err && jvm_untouched
'

test_expect_success 'not root, the JVM of another user: jcmd, nmt, jvm refused, no signal' '
	test_exit_code 1 offheap_as_nobody jcmd $A VM.version >out 2>err &&
	cat err &&
	grep "^offheap: error: not allowed to attach to process $A: it belongs to uid 0 and offheap runs as uid $NOBODY$" err &&
	grep "^hint: run offheap as the JVM.s user or as root$" err && ! test -s out &&
	test_exit_code 1 offheap_as_nobody nmt $A 2>err &&
	grep "^offheap: error: not allowed to attach to process $A" err &&
	test_exit_code 1 offheap_as_nobody jvm $A >out 2>err && cat err &&
	grep "^offheap: error: " err &&
	jvm_untouched && inventory >now &&
	{ cat before; echo ".java_pid$A"; } | sort >want &&
	sort now >now.sorted && cmp want now.sorted
'

test_expect_success 'not root: jstat of another user'\''s JVM: permission denied and a hint' '
	test_exit_code 1 offheap_as_nobody jstat $A >out 2>err &&
	cat err &&
	grep "^offheap: error: .*hsperfdata_root/$A.*Permission denied" err &&
	grep "^hint: run as the JVM.s user or as root$" err && jvm_untouched
'

test_expect_success 'nothing left behind: only the JVM socket the protocol needs' '
	inventory >now && sort now >now.sorted && cmp want now.sorted &&
	! ls -a cwd | grep attach_pid && ! test -e /tmp/.attach_pid$A &&
	jvm_untouched
'

test_done
