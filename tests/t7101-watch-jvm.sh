#!/bin/sh
# offheap watch on real JVMs: a thread leak (ThreadLeak, 5 threads a second)
# with NMT on is recorded with its NMT summary, hsperfdata counters and
# thread groups at every sample, and its trends name the leak; a JVM without
# NMT says so and is still sampled; JDK 25 once.
TEST_TIMEOUT=150
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JAVA17=$JDK17/java
JAVA25=$JDK25/java
require_jdk17 java javac
setup_or_fail "ThreadLeak.java and Idle.java copied" \
	cp "$ROOT/tests/java/ThreadLeak.java" "$ROOT/tests/java/Idle.java" .
setup_or_fail "javac compiles ThreadLeak.java and Idle.java" \
	"$JDK17/javac" --release 17 -d classes ThreadLeak.java Idle.java

samples() { sqlite3 "$1" "SELECT count(*) FROM sample"; }
# per_sample FILE SQL: SQL must count one row per sample; prints the samples it missed.
missing() { sqlite3 "$1" "SELECT count(*) FROM sample WHERE id NOT IN ($2)"; }

# checks_leak DB JSON: what a watch of ThreadLeak with NMT on must hold.
checks_leak() {
	n=$(samples "$1") &&
	say "$n samples" &&
	test "$n" -ge 5 &&
	jq -e '.is_jvm and .nmt_error == "" and .hsperf_error == ""' "$2" &&
	# The NMT summary at every sample, with its Total and Thread rows.
	test "$(missing "$1" "SELECT sample_id FROM sample_nmt WHERE category = 'Total'")" -eq 0 &&
	test "$(missing "$1" "SELECT sample_id FROM sample_nmt WHERE category = 'Thread'")" -eq 0 &&
	test "$(sqlite3 "$1" "SELECT count(*) FROM sample_nmt WHERE category = 'Total'
		AND (committed IS NULL OR committed <= 0)")" -eq 0 &&
	# hsperfdata's thread count at every sample, and it grew.
	test "$(missing "$1" "SELECT sample_id FROM sample_counter
		WHERE name = 'java.threads.live'")" -eq 0 &&
	sqlite3 "$1" "SELECT value FROM sample_counter WHERE name = 'java.threads.live'
		ORDER BY sample_id" >live &&
	test "$(tail -n 1 live)" -ge $(($(head -n 1 live) + 5)) &&
	# The leaking pool by its folded name, growing from sample to sample.
	sqlite3 "$1" "SELECT count FROM sample_tgroup WHERE name = 'leaky-worker-#'
		ORDER BY sample_id" >pool &&
	say "leaky-worker-#: $(tr "\n" " " <pool)" &&
	test "$(tail -n 1 pool)" -ge $(($(head -n 1 pool) + 5)) &&
	test "$(sort -n pool | tr "\n" " ")" = "$(tr "\n" " " <pool)" &&
	# The trends name it.
	jq -e '.trends[] | select(.figure == "counter:java.threads.live") |
		.trend == "growing" and .per_hour > 5 * 3600 * 0.5' "$2" &&
	jq -e '.trends[] | select(.figure == "tgroup:leaky-worker-#") | .trend == "growing"' "$2" &&
	jq -e '.trends[] | select(.figure == "nmt:Thread") | .trend == "growing"' "$2" &&
	jq -e '[.trends[] | select(.figure == "nmt:Total")] | length == 1' "$2"
}

# start_jvm JAVA READY ARGS...: a JVM running classes/ARGS (its output in READY.out),
# waits until it is ready; the script fails when it does not start.
start_jvm() {
	_java=$1 _ready=$2
	shift 2
	start_bg "$_java" -Xmx64m -Xss512k -cp classes "$@" >"$_ready.out" 2>&1
	wait_ready "$_ready" 60 || fail_all "$_java $* starts within 60 s" "$_ready.out"
}

start_jvm "$JAVA17" tl17 -XX:NativeMemoryTracking=summary ThreadLeak tl17 5 120
leak17=$BG_PID

test_expect_success 'JDK 17 thread leak: NMT, counters and thread groups at every sample' '
	offheap watch $leak17 -i 500ms -d 3s --json -o leak17.db >leak17.json &&
	checks_leak leak17.db leak17.json
'

test_expect_success 'JDK 17: the terminal view shows the JVM figures' '
	script -qc "$OFFHEAP watch $leak17 -i 300ms -d 1s -o tty.db" /dev/null >tty.out &&
	tr -d "\r" <tty.out >tty.txt &&
	grep "^CLASS  *MAPS" tty.txt &&
	grep "^java-heap  *[0-9]" tty.txt &&
	grep "^nmt:Total  *[0-9.]* [KMG]iB" tty.txt &&
	grep "^counter:java.threads.live  *[0-9]" tty.txt &&
	! grep "^NMT:" tty.txt
'

test_expect_success 'JDK 17: doctor reads the recording and names the thread leak' '
	offheap doctor leak17.db --json >doc17.json &&
	jq -e "(.live | not) and .is_jvm" doc17.json &&
	jq -e ".findings[] | select(.pattern == \"thread-leak\")" doc17.json
'
stop_bg $leak17

start_jvm "$JAVA17" idle17 Idle 120 idle17
idle17=$BG_PID

test_expect_success 'a JVM without NMT: nmt_error says NMT is off, samples still recorded' '
	offheap watch $idle17 -i 500ms -d 2s --json -o idle.db >idle.json &&
	jq -e ".is_jvm and (.nmt_error | test(\"NMT is off\")) and .hsperf_error == \"\"" \
		idle.json &&
	n=$(samples idle.db) &&
	test "$n" -ge 4 &&
	test "$(sqlite3 idle.db "SELECT count(*) FROM sample_nmt")" -eq 0 &&
	test "$(missing idle.db "SELECT sample_id FROM sample_counter
		WHERE name = '\''java.threads.live'\''")" -eq 0 &&
	jq -e ".trends[] | select(.figure == \"rss\") | .trend == \"flat\" or .trend == \"noisy\"" \
		idle.json &&
	offheap watch $idle17 -i 500ms -d 1s -o idle2.db >idle.txt &&
	grep "^NMT not read: NMT is off" idle.txt
'

# The kept thread stacks (offheap.stacks.*) are the OS's view, counted for any process.
test_expect_success '--no-jvm: no hsperfdata, no attach, the OS view only' '
	offheap watch $idle17 -i 500ms -d 1s --no-jvm --json -o nojvm.db >nojvm.json &&
	test "$(sqlite3 nojvm.db "SELECT count(*) FROM sample_counter
		WHERE name NOT LIKE '\''offheap.stacks.%'\''")" -eq 0 &&
	test "$(sqlite3 nojvm.db "SELECT count(*) FROM sample_counter
		WHERE name = '\''offheap.stacks.kept'\''")" -ge 2 &&
	jq -e "[.trends[] | select(.figure | startswith(\"counter:\")) |
		select(.figure | startswith(\"counter:offheap.stacks.\") | not)] | length == 0" nojvm.json
'
stop_bg $idle17

if have_jdk25 java; then
	start_jvm "$JAVA25" tl25 -XX:NativeMemoryTracking=summary ThreadLeak tl25 5 120
	leak25=$BG_PID
	test_expect_success 'JDK 25 thread leak: the same figures' '
		offheap watch $leak25 -i 500ms -d 3s --json -o leak25.db >leak25.json &&
		checks_leak leak25.db leak25.json
	'
	stop_bg $leak25
else
	test_skip 'JDK 25 thread leak: the same figures' "no Temurin 25 in $JDK25"
fi

test_done
