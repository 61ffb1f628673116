#!/bin/sh
# offheap jcmd across users and namespaces, as root: a JVM running as another user (we switch
# to its uid/gid for the trigger file and the connection), and a JVM in its own pid and
# mount namespace with a private /tmp (nspid from NSpid:, files through /proc/PID/root/tmp).
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JAVA=$JDK17/java
require_jdk17 java
[ "$(id -u)" = 0 ] || skip_all "needs root"
command -v setpriv >/dev/null && command -v unshare >/dev/null || skip_all "needs setpriv and unshare"

NOBODY_UID=$(id -u nobody) || skip_all "no user nobody"

# Started together: JVM start-up is the slow part on 2 cores.
setup_or_fail "a folder for nobody" nobody_dir
setup_or_fail "Idle.java copied for nobody" cp "$ROOT/tests/java/Idle.java" "$NOBODY_DIR/"
start_bg setpriv --reuid=nobody --regid=nogroup --clear-groups \
	sh -c 'cd / && exec "$0" "$@"' "$JAVA" -Xmx32m "$NOBODY_DIR/Idle.java" 120 \
	>"$TRASH/nobody.out" 2>&1
NPID=$BG_PID
# The private /tmp hides everything under the host's /tmp, this checkout too
# when it lives there: the program's source is carried into the new /tmp.
start_bg unshare --pid --fork --kill-child --mount --mount-proc \
	sh -c 'src=$(cat "$1") && mount -t tmpfs tmpfs /tmp &&
		printf "%s\n" "$src" >/tmp/Idle.java && exec "$0" -Xmx32m /tmp/Idle.java 120 /tmp/ready' \
	"$JAVA" "$ROOT/tests/java/Idle.java" >"$TRASH/ns.out" 2>&1
UPID=$BG_PID

test_expect_success 'a JVM of another user: attach as root switches to its ids' '
	wait_for 60 "test -S /tmp/.java_pid$NPID || grep -q Idle /proc/$NPID/cmdline" &&
	wait_for 60 "test -e /tmp/hsperfdata_nobody/$NPID" &&
	offheap jcmd $NPID VM.version >out &&
	grep "^JDK 17" out &&
	test "$(stat -c %u /tmp/.java_pid$NPID)" = "$NOBODY_UID" &&
	! test -e /tmp/.attach_pid$NPID &&
	test "$(id -u)" = 0
'
stop_bg "$NPID"
rm -f /tmp/.java_pid$NPID /tmp/hsperfdata_nobody/$NPID

test_expect_success 'a JVM in its own pid and mount namespace' '
	wait_for 10 "pgrep -P $UPID >child" &&
	JPID=$(cat child) &&
	BG_PIDS="$BG_PIDS $JPID" &&
	wait_for 60 "test -s /proc/$JPID/root/tmp/ready" &&
	grep "^NSpid:[[:space:]]*$JPID[[:space:]]*1\$" /proc/$JPID/status &&
	offheap jcmd $JPID VM.version >out &&
	echo "$JPID:" >want && head -n 1 out >first && cmp want first &&
	grep "^JDK 17" out &&
	test -S /proc/$JPID/root/tmp/.java_pid1 &&
	! ls -a "$TRASH" /proc/$JPID/root/tmp | grep attach_pid
'
stop_bg "$UPID"

test_done
