#!/bin/sh
# offheap doctor PID attaches for its sampling window (its own 'record -p',
# sampled) and traces a short window when anonymous mappings grow, so the
# findings name the code: a C malloc leak by its function (with and without
# frame pointers; 4 MiB/s, to stand out on a loaded machine), a named
# thread's mmap growth by thread and function, a JDK 17 JVM's Inflater leak
# (NMT off) by the Java frame above zlib. With --no-attach nothing is placed
# in the target; a refused attach is said under "Not checked" with a hint;
# Ctrl-C ends the window. After every run: the target runs on, the tracker
# in it is inert, no temporary file and no child is left.
# The JVM case names the fixture's own Java frame above the JDK's and zlib
# (the tracker's Java stacks, preload/javastack.c).
TEST_TIMEOUT=90
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

require_jdk17 java
setup_or_fail "cc builds mallocleak without frame pointers" \
	cc -O2 -g -fomit-frame-pointer -o leak-nofp "$ROOT/tests/helpers/mallocleak.c"
setup_or_fail "cc builds mallocleak with frame pointers" \
	cc -O2 -g -fno-omit-frame-pointer -o leak-fp "$ROOT/tests/helpers/mallocleak.c"
# doctor's private directories are made in TMPDIR: one per doctor run at the
# same time, so that a leftover shows
setup_or_fail "TMPDIRs of their own" mkdir "$TRASH/tmp" "$TRASH/tmp-jvm" "$TRASH/tmp-nofp" "$TRASH/tmp-fp"
TMPDIR=$TRASH/tmp
export TMPDIR

# The JVM compiles its source itself (no javac step) while the C cases run.
start_bg "$JDK17/java" -Xmx64m -Xss512k -XX:NativeMemoryTracking=off \
	"$ROOT/tests/java/InflaterDrip.java" jready 100 60
jvm=$BG_PID
start_bg ./leak-nofp 60 4
nofp=$BG_PID
start_bg ./leak-fp 60 4
fp=$BG_PID
start_bg "$HELPERS/maphoard" mready 60
hoard=$BG_PID

# doctor_bg NAME PID ARGS...: offheap doctor --json in the background, its
# TMPDIR tmp-NAME; NAME.rc when done.
doctor_bg() {
	_n=$1
	shift
	start_bg env TMPDIR="$TRASH/tmp-$_n" sh -c \
		'"$@" >"$0.json" 2>"$0.err"; echo $? >"$0.rc"' "$_n" "$OFFHEAP" doctor "$@" --json
}

# clean_after PID [TMPDIR]: PID runs on, and doctor left no file and no recorder child behind.
clean_after() {
	kill -0 "$1" &&
	test -z "$(ls -A "${2:-$TRASH/tmp}")" &&
	! pgrep -f "^offheap record -p $1 " >/dev/null
}

test_expect_success '--no-attach: mmap growth found, nothing placed in the process, not traced' '
	doctor_bg nofp $nofp -d 3s &&
	doctor_bg fp $fp -d 3s &&
	wait_for 10 "test -s mready" &&
	offheap doctor $hoard -d 2s --no-attach --json >na.json 2>na.err &&
	jq -e ".findings[0].pattern == \"mmap-growth\"" na.json &&
	jq -e ".findings[0].culprit | test(\"^anonymous mappings\")" na.json &&
	jq -e ".not_checked | map(test(\"--no-attach\")) | any" na.json &&
	! grep -q liboffheap /proc/$hoard/maps &&
	! grep -q tracing na.err &&
	grep -q "^TracerPid:[[:space:]]*0$" /proc/$hoard/status &&
	clean_after $hoard
'

test_expect_success 'a C malloc leak: its function is named, with and without frame pointers' '
	wait_for 40 "test -s nofp.rc && test -s fp.rc" &&
	cat nofp.err fp.err &&
	test "$(cat nofp.rc)" = 0 && test "$(cat fp.rc)" = 0 &&
	for f in nofp fp; do
		jq -r "(.findings[] | \"\\(.pattern): \\(.culprit)\"), (.not_checked[] | \"not checked: \\(.)\")" $f.json &&
		jq -e "[.findings[] | select((.pattern == \"native-growth\" or .pattern == \"malloc-leak\")
			and (.culprit | test(\"^leak_session_buffer \\\\(.*mallocleak.c:[0-9]+\\\\) in leak-\"))
			and (.culprit_frames[0] | test(\"^leak_session_buffer \")))] | length > 0" $f.json ||
		return 1
	done &&
	clean_after $nofp "$TRASH/tmp-nofp" && clean_after $fp "$TRASH/tmp-fp"
'

test_expect_success 'mmap growth: the thread name and the function that maps, from a short trace' '
	wait_for 60 "test -s jready" &&
	doctor_bg jvm $jvm -d 4s &&
	offheap doctor $hoard -d 3s >mm.txt 2>mm.err &&
	cat mm.txt mm.err &&
	grep -q "^offheap doctor: tracing the mmap calls of $hoard for 1.0 s" mm.err &&
	grep -q "^\[leak\] anonymous mmap memory grows .*(mmap-growth)$" mm.txt &&
	grep -q "^  culprit:  thread .slab-hoarder. maps it in hoard_slab (.*maphoard.c:[0-9]*) in maphoard$" mm.txt &&
	grep -q "^  evidence: traced for 1.0 s: thread .slab-hoarder. left .* mapped in [0-9]* regions" mm.txt &&
	grep -q "^TracerPid:[[:space:]]*0$" /proc/$hoard/status &&
	clean_after $hoard
'

test_expect_success 'Ctrl-C while attached: the window ends, the diagnosis comes, exit 0' '
	start_bg env TMPDIR="$TRASH/tmp-fp" "$OFFHEAP" doctor $fp -d 60s --json >int.json 2>int.err &&
	doc=$BG_PID &&
	wait_for 30 "grep -q \"^offheap doctor: sampling\" int.err" &&
	pgrep -f "^offheap record -p $fp " >/dev/null &&
	kill -INT $doc &&
	wait $doc &&
	jq -e ".not_checked | map(test(\"cut short by a signal\")) | any" int.json &&
	clean_after $fp "$TRASH/tmp-fp"
'

test_expect_success 'the tracker doctor placed is inert: a new record -p attaches and detaches' '
	"$OFFHEAP" record -p $fp -d 300ms -o again.db 2>again.err &&
	test "$(sqlite3 again.db "SELECT ended FROM alloc_run")" = detached &&
	clean_after $fp
'

test_expect_success 'a refused attach (another tracer holds it): Not checked, why and a hint; exit 0' '
	start_bg "$OFFHEAP" trace $nofp -d 60s >/dev/null 2>&1 &&
	tracer=$BG_PID &&
	wait_for 10 "! grep -q \"^TracerPid:[[:space:]]*0$\" /proc/$nofp/status" &&
	offheap doctor $nofp -d 1s -i 200ms --json >ref.json 2>ref.err &&
	cat ref.err &&
	jq -r ".not_checked[]" ref.json &&
	jq -e ".samples >= 3" ref.json &&
	jq -e ".not_checked | map(test(\"^the code behind native growth .*: process $nofp is already traced by process $tracer; hint: run doctor as the process.s user or as root\")) | any" ref.json &&
	stop_bg $tracer &&
	clean_after $nofp
'

test_expect_success 'JDK 17, NMT off, Inflaters kept: zlib named, the culprit is the fixture'"'"'s own Java code' '
	wait_for 40 "test -s jvm.rc" &&
	cat jvm.err &&
	test "$(cat jvm.rc)" = 0 &&
	jq -r ".findings[] | \"\(.pattern): \(.culprit)\", (.culprit_frames[] | \"  \(.)\")" jvm.json &&
	jq -e "[.findings[] | select(.severity == \"leak\")][0].pattern |
		. == \"zlib-inflater\" or . == \"native-outside-nmt\"" jvm.json &&
	jq -e "[.findings[] | select(.severity == \"leak\")][0] |
		(.culprit | test(\"^java\\\\.util\\\\.zip\\\\.Inflater\\\\.[a-zA-Z]+.* ← InflaterDrip\\\\.main \\\\(InflaterDrip\\\\.java:[0-9]+\\\\), native (inflate|inflateInit2_) in libz\"))
		and (.culprit_frames | map(test(\"^java\\\\.util\\\\.zip\\\\.Inflater\\\\.\")) | any)
		and (.evidence | map(test(\"^growing site \\\\(attached for\")) | any)" jvm.json &&
	clean_after $jvm "$TRASH/tmp-jvm"
'

test_done
