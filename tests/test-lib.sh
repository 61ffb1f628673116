# test-lib.sh: what every end-to-end test sources (after git's t/test-lib.sh).
#
#   . "$(dirname "$0")/test-lib.sh"
#   test_expect_success 'what it checks' '
#           offheap maps $pid >out && grep heap out
#   '
#   test_done
#
# Every process a test starts goes through start_bg, which records its PID;
# all of them are killed by PID when the script ends, however it ends. A
# watchdog ends the script after TEST_TIMEOUT seconds (default 120; set it
# before sourcing this file).
#
# Time limits are limits, never waits: wait_for returns as soon as its
# condition holds. On a loaded machine a limit must stretch, so every limit
# (TEST_TIMEOUT and wait_for's) is multiplied by OFFHEAP_TIME_FACTOR, a whole
# number the runner sets (tests/run; 1 when a script is run by hand).

TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$TEST_DIRECTORY/.." && pwd)
BUILD="$ROOT/${OFFHEAP_BUILD:-build}"
OFFHEAP="$BUILD/offheap"
HELPERS="$BUILD/helpers"
FIXTURES="$TEST_DIRECTORY/fixtures"
SHARED="$ROOT/../shared"
export LC_ALL=C
# The programs the tests run are Debian's (scripts/setup-deps --test), not whatever a
# user's PATH puts first: a version manager's shim (pyenv's python3 is a bash script
# that execs several times) changes what a tracked command is.
PATH=/usr/bin:/bin:/usr/sbin:/sbin:$PATH
export PATH
export ROOT BUILD OFFHEAP HELPERS FIXTURES

test_count=0
test_failed=0
BG_PIDS=""
TRASH=$(mktemp -d "${TMPDIR:-/tmp}/offheap-test.XXXXXX") || exit 1
: "${TEST_TIMEOUT:=120}"
: "${OFFHEAP_TIME_FACTOR:=1}"
case $OFFHEAP_TIME_FACTOR in
'' | *[!0-9]* | 0) echo "Bail out! OFFHEAP_TIME_FACTOR must be a whole number >= 1" && exit 1 ;;
esac
export OFFHEAP_TIME_FACTOR

offheap() { "$OFFHEAP" "$@"; }

# sqlite3 reading a recording that offheap is still writing waits for the writer's
# transaction instead of failing at once with "database is locked".
sqlite3() { command sqlite3 -cmd ".timeout 10000" "$@"; }

_cleanup() {
	# The watchdog first: from here on the script is ending by itself.
	[ -n "${_watchdog:-}" ] && kill -KILL "$_watchdog" 2>/dev/null
	# By PID and start time: the shell reaps a child that ended on its own,
	# and PIDs wrap (pid_max 32768 is gone through in one suite run), so a
	# PID started long ago may name another test's JVM by now.
	[ -r "$TRASH/.bg_pids" ] && while read -r p s; do
		[ "$(_starttime "$p")" = "$s" ] && kill -KILL "$p" 2>/dev/null
	done <"$TRASH/.bg_pids"
	for p in $BG_PIDS; do
		wait "$p" 2>/dev/null
	done
	# A JVM killed by SIGKILL cannot remove its attach socket and perf data:
	# remove those of the processes this test started, now gone.
	for p in $BG_PIDS; do
		[ -d "/proc/$p" ] && continue
		rm -f "/tmp/.java_pid$p" "/tmp/.attach_pid$p" /tmp/hsperfdata_*/"$p"
	done
	cd /
	[ -n "${SMALL:-}" ] && umount "$SMALL" 2>/dev/null
	# OFFHEAP_KEEP_TRASH=1 keeps a failed script's folder for a post-mortem
	if [ "$test_failed" -gt 0 ] && [ -n "${OFFHEAP_KEEP_TRASH:-}" ]; then
		echo "# kept $TRASH" >&2
	else
		rm -rf "$TRASH"
	fi
	[ -n "${NOBODY_DIR:-}" ] && rm -rf "$NOBODY_DIR"
}

# _starttime PID: the process's start time in clock ticks (field 22 of
# /proc/PID/stat, counted after the command name, which may hold spaces), or
# nothing when there is no such process. Together with the PID it names one
# process: a PID alone may have been reused.
_starttime() {
	read -r _st_line 2>/dev/null <"/proc/$1/stat" || return 0
	_st_line=${_st_line##*) }
	# shellcheck disable=SC2086
	set -- $_st_line
	shift 19
	echo "$1"
}

# The watchdog: a test that overruns its time is failed, not left hanging. It
# watches the script rather than waiting to be told to stop: a signal sent to a
# subshell that has not yet set its traps (skip_all at once) can be lost, and a
# watchdog that outlives its script would print into the next script's output
# and signal a PID that may belong to someone else. So it polls: the script
# gone (or its PID reused), it leaves quietly.
_test_pid=$$
_test_start=$(_starttime $$)
_test_limit=$((TEST_TIMEOUT * OFFHEAP_TIME_FACTOR))
# _kill_children SIG: signals the script's children but this watchdog.
_kill_children() {
	for _c in $(pgrep -P "$_test_pid"); do
		[ "$_c" = "$_me" ] || kill -"$1" "$_c" 2>/dev/null
	done
}
(
	trap - INT TERM EXIT
	read -r _me </proc/self/stat # read is built in: this subshell's own stat
	_me=${_me%% *}
	_end=$(($(date +%s) + _test_limit))
	while [ "$(date +%s)" -lt "$_end" ]; do
		[ "$(_starttime "$_test_pid")" = "$_test_start" ] || exit 0
		sleep 0.5 </dev/null >/dev/null 2>&1
	done
	[ "$(_starttime "$_test_pid")" = "$_test_start" ] || exit 0
	echo "not ok - $(basename "$0") timed out after ${_test_limit}s"
	# The script runs its trap only once its foreground command returns:
	# end that command too, then give the trap time to clean up.
	kill -TERM "$_test_pid" 2>/dev/null
	_kill_children TERM
	_i=0
	while [ $_i -lt 100 ] && [ "$(_starttime "$_test_pid")" = "$_test_start" ]; do
		sleep 0.1 </dev/null >/dev/null 2>&1
		_i=$((_i + 1))
	done
	# Still there: the processes it started are listed in its trash folder.
	if [ "$(_starttime "$_test_pid")" = "$_test_start" ]; then
		[ -r "$TRASH/.bg_pids" ] && while read -r _p _s; do
			[ "$(_starttime "$_p")" = "$_s" ] && kill -KILL "$_p" 2>/dev/null
		done <"$TRASH/.bg_pids"
		_kill_children KILL
		kill -KILL "$_test_pid" 2>/dev/null
	fi
	exit 0
) &
_watchdog=$!
trap _cleanup EXIT
trap 'echo "# interrupted"; exit 1' INT TERM

cd "$TRASH" || exit 1

say() { echo "# $*"; }

# start_bg CMD ARGS...: runs CMD in the background, sets $BG_PID, records it for cleanup.
# CMD must be a program, not a shell function (a function runs in a subshell,
# and $BG_PID would be that subshell): use "$OFFHEAP", not offheap.
start_bg() {
	"$@" &
	BG_PID=$!
	BG_PIDS="$BG_PIDS $BG_PID"
	echo "$BG_PID $(_starttime "$BG_PID")" >>"$TRASH/.bg_pids"
}

# stop_bg PID: kills one background process by PID now; one that start_bg
# started only while its start time says it is still that process.
stop_bg() {
	_sb_s=$(sed -n "s/^$1 //p" "$TRASH/.bg_pids" 2>/dev/null | tail -n 1)
	if [ -z "$_sb_s" ] || [ "$(_starttime "$1")" = "$_sb_s" ]; then
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
	return 0
}

# dead_pid: prints the PID of a child that has just exited and been reaped. The
# kernel hands PIDs out in rising order, so this one comes back only when they wrap
# (pid_max may be 32768, which a suite run goes through): unlike a fixed number, it
# is not somebody's process now nor in the next seconds.
dead_pid() {
	sh -c 'exit 0' &
	_dp=$!
	wait "$_dp"
	echo "$_dp"
}

# nobody_dir: a world-readable folder holding a copy of the offheap binary (and
# whatever a test copies there), for commands run as nobody: the checkout itself
# may sit below a folder that only root can enter. Sets $NOBODY_DIR.
nobody_dir() {
	if [ -z "${NOBODY_DIR:-}" ]; then
		NOBODY_DIR=$(mktemp -d /tmp/offheap-nobody.XXXXXX) && chmod 755 "$NOBODY_DIR" &&
			cp "$OFFHEAP" "$NOBODY_DIR/offheap" && chmod 755 "$NOBODY_DIR/offheap" || return 1
	fi
}

# as_nobody CMD...: runs CMD as user nobody (needs root and setpriv). Being a
# function, it runs in a subshell when put in the background: use setpriv itself
# with start_bg, so that $BG_PID is the process.
as_nobody() {
	nobody_dir && setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# offheap_as_nobody ARGS...: runs the copy of offheap as nobody.
offheap_as_nobody() {
	nobody_dir && as_nobody "$NOBODY_DIR/offheap" "$@"
}

# wait_for SECONDS 'shell condition': polls every 50 ms; fails after SECONDS
# (times OFFHEAP_TIME_FACTOR).
wait_for() {
	_wf_end=$(( $(date +%s) + $1 * OFFHEAP_TIME_FACTOR ))
	while ! eval "$2"; do
		[ "$(date +%s)" -ge "$_wf_end" ] && { say "gave up after $(($1 * OFFHEAP_TIME_FACTOR))s waiting for: $2"; return 1; }
		sleep 0.05
	done
}

# A helper started with --ready FILE writes it once set up; this waits for it.
wait_ready() { wait_for "${2:-10}" "test -s '$1'"; }

# The body runs in this shell (start_bg inside a test must record its PID) and
# inside a function of its own, so that "return 1" in a body fails that test
# instead of returning from _run_test before it prints a result. A body must
# not call exit: that would end the whole script.
_eval_body() {
	eval "$1"
}

_run_test() {
	test_count=$((test_count + 1))
	: >"$TRASH/.log"
	if _eval_body "$2" >"$TRASH/.log" 2>&1; then
		echo "ok $test_count - $1"
	else
		echo "not ok $test_count - $1"
		# On stderr too: prove shows it even when not verbose (a CI log says why).
		# (Not tee /dev/stderr: reopening a log file that stderr points to writes at
		# offset 0, over what is already there.)
		[ -s "$TRASH/.log" ] || echo "(the body printed nothing before it failed)" >"$TRASH/.log"
		sed -e 's/^/#   /' "$TRASH/.log" | tail -n 40 >"$TRASH/.tail"
		cat "$TRASH/.tail"
		cat "$TRASH/.tail" >&2
		test_failed=$((test_failed + 1))
	fi
}

# test_expect_success 'description' 'commands': passes when the commands exit 0.
test_expect_success() { _run_test "$1" "$2"; }

# test_skip 'description' 'reason': counts as a skipped test and says why.
test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # skip $2"
}

# skip_all 'reason': the whole script is skipped (e.g. a JDK that is absent).
skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

# small_disk KIB: a KIB tmpfs at $SMALL, for the full-disk tests (unmounted at the end); the
# whole script is skipped when it cannot be mounted (root only).
small_disk() {
	SMALL="$TRASH/small"
	SMALL_KIB=$1
	{ mkdir "$SMALL" && mount -t tmpfs -o size="${1}k" tmpfs "$SMALL" 2>/dev/null; } ||
		skip_all 'cannot mount a tmpfs here (needs root)'
}

# fill KIB: leaves at most KIB free on $SMALL, nothing else in it.
fill() {
	rm -rf "$SMALL"/* "$SMALL"/.[!.]* &&
	dd if=/dev/zero of="$SMALL/filler" bs=1k count=$((SMALL_KIB - $1)) 2>/dev/null
	test "$(df -k "$SMALL" | awk 'NR == 2 { print $4 }')" -le "$1"
}

# test_must_fail CMD...: CMD must exit non-zero without crashing (no signal death).
test_must_fail() {
	"$@"
	_rc=$?
	if [ $_rc -eq 0 ]; then
		echo "test_must_fail: command succeeded: $*"
		return 1
	elif [ $_rc -gt 128 ]; then
		echo "test_must_fail: command died by signal $((_rc - 128)): $*"
		return 1
	fi
	return 0
}

# test_exit_code N CMD...: CMD must exit with exactly N.
test_exit_code() {
	_want=$1
	shift
	"$@"
	_rc=$?
	[ $_rc -eq "$_want" ] || { echo "exit code $_rc, want $_want: $*" >&2; return 1; }
}

# within_pct GOT WANT PCT: GOT is within PCT percent of WANT.
within_pct() {
	awk -v g="$1" -v w="$2" -v p="$3" 'BEGIN {
		d = g - w; if (d < 0) d = -d
		if (w == 0) exit (g == 0 ? 0 : 1)
		exit (d * 100 <= p * w ? 0 : 1) }' ||
		{ echo "$1 is not within $3% of $2"; return 1; }
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ]
	exit $?
}
