#!/bin/sh
# The JVM's uptime in offheap jstat --json and offheap jvm, on JDK 17 (hrt ticks) and 25 (no
# ticks since JDK-8241678: counted from createVmBeginTime), against the age of the process.
TEST_TIMEOUT=120
. "$(dirname "$0")/test-lib.sh"

JAVA17=/usr/bin/java
JAVA25=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
cp "$ROOT/tests/java/DirectHold.java" .

test_expect_success 'compile DirectHold' '
	"${JAVA17%/java}/javac" -d classes DirectHold.java
'

# age PID: whole seconds since the process started (/proc/PID/stat field 22,
# in clock ticks since boot, against /proc/uptime). The name in field 2 may
# hold spaces: fields are counted after its closing parenthesis.
age() {
	awk -v hz="$(getconf CLK_TCK)" -v up="$(cut -d" " -f1 /proc/uptime)" \
		'{ sub(/.*\) /, ""); print int(up - $20 / hz) }' "/proc/$1/stat"
}

# uptime_case JAVA: waits until the JVM is at least 3 s old (so 0 cannot
# pass), then the uptime both commands print must be within 2 s of its age
# (the launcher starts the VM a moment after the process starts).
uptime_case() {
	rm -f ready j.json t.txt &&
	start_bg "$1" -Xmx64m -cp classes DirectHold 0 ready 120 &&
	p=$BG_PID && wait_ready ready 60 &&
	wait_for 30 "test \$(age $p) -ge 3" &&
	offheap jstat --json $p >j.json && offheap jvm $p >t.txt &&
	a=$(age $p) &&
	ms=$(jq .uptime_ms j.json) &&
	s=$(sed -n "s/.*, up \([0-9]*\) s, NMT .*/\1/p" t.txt) &&
	say "age $a s, jstat uptime $ms ms, jvm up $s s" &&
	test "$ms" != null && test -n "$s" &&
	test $((ms / 1000 - a)) -le 2 && test $((a - ms / 1000)) -le 2 &&
	test $((s - a)) -le 2 && test $((a - s)) -le 2
	rc=$?
	stop_bg $p
	return $rc
}

test_expect_success 'JDK 17: uptime within 2 s of the process age' '
	uptime_case "$JAVA17"
'

if [ -x "$JAVA25" ]; then
	test_expect_success 'JDK 25: uptime within 2 s of the process age' '
		uptime_case "$JAVA25"
	'
else
	test_skip 'JDK 25: uptime within 2 s of the process age' "no Temurin 25 at $JAVA25"
fi

test_done
