#!/bin/sh
# offheap record -p with the real tracker on the two targets issue [4/7] is judged on:
# - a C program already running that leaks through a library built without frame
#   pointers (-fomit-frame-pointer): attached by ptrace, the report ranks the leak
#   first and names main -> the library's function -> its inner static function;
# - a JVM started without any flag that leaks through java.util.zip (Inflaters never
#   ended, what an unclosed GZIPInputStream leaves): attached as an agent, the report
#   names inflateInit2_ with the Java frame that reached it, holding what the Inflaters
#   kept (sampled every 16 KiB: a batch of 100 Inflaters allocates some 700 KiB, about
#   one sample at the default).
# Both targets go on after the detach and end normally.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

cat >main.c <<'CEOF'
/* Leaks 8 KiB through libfix every 5 ms (at most 4000 times) until the file argv[2] exists. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
void *fix_make_record(size_t n);
int main(int argc, char **argv)
{
	struct timespec ts = {0, 5000000};
	FILE *f = fopen(argv[1], "w");

	if (argc < 3 || !f || fputs("ready\n", f) < 0 || fclose(f))
		return 2;
	for (int i = 0; access(argv[2], F_OK); i++) {
		if (i < 4000 && !fix_make_record(8192))
			return 3;
		free(malloc(100 + i % 50)); /* freed at once: not a leak */
		nanosleep(&ts, NULL);
	}
	return 0;
}
CEOF
setup_or_fail "cc builds the leaking program and its library without frame pointers" \
	sh -c 'cc -O2 -g -fomit-frame-pointer -fPIC -shared -o libfix.so "$1" &&
	       cc -O0 -g -o leaky main.c -L. -lfix -Wl,-rpath,"$PWD"' sh "$ROOT/tests/helpers/nofp/fix.c"

start_bg ./leaky leaky.ready leaky.stop
CPID=$BG_PID

test_expect_success 'C: the leak through a library without frame pointers is ranked first' '
	wait_ready leaky.ready &&
	"$OFFHEAP" record -p $CPID -d 2s -i 200ms --exact -o c.db 2>err &&
	cat err &&
	grep -q "^offheap record: attached to process $CPID (by ptrace); " err &&
	grep -q "^offheap record: detached from process $CPID; " err &&
	"$OFFHEAP" report c.db --top 1 >out &&
	cat out &&
	sed -n "/^#1/,/^\$/p" out >top &&
	grep -q "^#1 GROWING" top &&
	grep -n "fix_inner_leak" top | head -n 1 | cut -d: -f1 >inner &&
	grep -n "fix_make_record" top | head -n 1 | cut -d: -f1 >lib &&
	grep -n " main " top | head -n 1 | cut -d: -f1 >main &&
	test -s inner && test -s lib && test -s main &&
	test "$(cat inner)" -lt "$(cat lib)" && test "$(cat lib)" -lt "$(cat main)" &&
	grep -q "^still live at the detach: " out
'

test_expect_success 'C: after the detach the program goes on and ends normally' '
	touch leaky.stop &&
	test_exit_code 0 wait $CPID
'

# java_case NAME JDKBIN: the java.util.zip leak on that JDK.
java_case() {
	_n=$1 _jdk=$2
	start_bg "$_jdk/java" -Xmx64m "$ROOT/tests/java/InflaterLeak.java" "$TRASH/$_n.trig" 100 300 \
		>"$TRASH/$_n-jvm.out" 2>&1
	JPID=$BG_PID
	# the first batch: the JVM runs its loop (and has compiled what it needs)
	touch "$TRASH/$_n.trig"
	wait_ready "$TRASH/$_n.trig.done" 90 || fail_all "the $_n JVM starts within 90 s" "$TRASH/$_n-jvm.out"

	test_expect_success "$_n: a JVM without flags, attached as an agent, names inflateInit2_ and its Java caller" '
		"$OFFHEAP" record -p $JPID -d 4s -i 500ms --sample 16k -o $_n.db 2>err &
		REC=$! &&
		wait_for 60 "grep -q \"^offheap record: attached to process $JPID (as a JVM agent)\" err" &&
		i=0 &&
		while [ $i -lt 3 ]; do
			i=$((i + 1)) &&
			rm -f "$TRASH/$_n.trig.done" &&
			touch "$TRASH/$_n.trig" &&
			wait_ready "$TRASH/$_n.trig.done" 30 || break
		done &&
		test $i = 3 &&
		test_exit_code 0 wait $REC &&
		cat err &&
		grep -q "^offheap record: detached from process $JPID; " err &&
		"$OFFHEAP" report $_n.db --top 0 >out &&
		"$OFFHEAP" report $_n.db --top 0 --json >out.json &&
		sed -n "1,/^\$/p; /inflateInit2_/,/^\$/p" out | head -n 60 &&
		# every site whose allocation is zlib'"'"'s, reached from the JNI function and
		# its Java caller (named by the tracker through JVMTI; from the JIT map or
		# Interpreter when a stack was taken before the tracker found the JVM); the
		# JVM'"'"'s own compiler arenas may rank above them while it warms up
		python3 -c "
import json, re, sys
t = json.load(open(\"out.json\"))
live = 0
for s in t[\"top\"]:
    f = [x[\"function\"] or \"\" for x in s[\"frames\"]]
    if len(f) >= 3 and f[0] == \"inflateInit2_\" and f[1] == \"Java_java_util_zip_Inflater_init\" and \
       re.match(r\"(\\[java\\] .*java\\.util\\.zip\\.Inflater\\.init|Interpreter|java\\.util\\.zip\\.Inflater\\.init\$)\", f[2]):
        live += s[\"live_bytes\"]
# 3 batches of 100 Inflaters of some 7 KiB each: about 2.1 MiB, sampled every 16 KiB
print(\"inflateInit2_ sites live:\", live)
sys.exit(0 if live >= 1 << 20 else 1)
"
	'

	test_expect_success "$_n: after the detach the JVM answers and ends normally" '
		"$OFFHEAP" jcmd $JPID VM.version >v &&
		grep -q "^JDK [0-9]" v &&
		kill -TERM $JPID &&
		test_exit_code 143 wait $JPID
	'
}

require_jdk17 java
java_case jdk17 "$JDK17"
if have_jdk25 java; then
	java_case jdk25 "$JDK25"
else
	test_skip "jdk25: the java.util.zip leak, attached" "no Temurin 25 in $JDK25"
	test_skip "jdk25: after the detach" "no Temurin 25 in $JDK25"
fi

test_done
