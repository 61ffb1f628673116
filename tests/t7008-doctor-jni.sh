#!/bin/sh
# offheap doctor on a JVM whose own JNI library leaks (tests/java/JniLeak and
# jnileak.c: a context malloc'd per call, never freed): a leak of native
# memory (outside NMT, or the growing site of doctor's recording), with NMT on
# and off, on JDK 17 and on Temurin 25 when installed, and the culprit is the code: the native method, the program's
# method that called it with its line, and the library's function that
# allocates. The JVMs run side by side and are diagnosed at the same time.
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

require_jdk17 java javac
compile_fixtures "$JAVA17" JniLeak
# the JDK's home, where javac's package puts include/jni.h
JHOME=$(dirname "$(dirname "$(readlink -f "$JDK17/javac")")")
setup_or_fail "cc builds libjnileak.so against JDK 17's jni.h" \
	cc -O2 -g -shared -fPIC -I"$JHOME/include" -I"$JHOME/include/linux" \
	-o "$TRASH/libjnileak.so" "$ROOT/tests/java/jnileak.c"
CALL_LINE=$(grep -n "// handle opens a context" "$ROOT/tests/java/JniLeak.java" | cut -d: -f1)
test -n "$CALL_LINE" || fail_all "JniLeak's marked line is found"

# start_jni JAVA NAME KIB_PER_SEC JVM-OPTIONS...: sets PID_NAME
start_jni() {
	_java=$1 _name=$2 _rate=$3
	shift 3
	start_bg "$_java" -Xmx128m -Xss512k "$@" -Djava.library.path="$TRASH" -cp "$CLASSES" \
		JniLeak "ready.$_name" "$_rate" 120 &&
	eval "PID_$_name=\$BG_PID"
}

# rates ten times apart; the slow one grows 4 MiB in the window, twice doctor's floor
start_jni "$JAVA17" on 5120 -XX:NativeMemoryTracking=summary -XX:+UseG1GC
start_jni "$JAVA17" off 512 -XX:NativeMemoryTracking=off -XX:+UseParallelGC
if have_jdk25 java; then
	start_jni "$JAVA25" j25 512 -XX:NativeMemoryTracking=summary -XX:+UseZGC
fi
wait_for 60 "test -s ready.on && test -s ready.off" ||
	fail_all "JniLeak did not start on JDK 17"
test -z "${PID_j25:-}" || wait_for 60 "test -s ready.j25" ||
	fail_all "JniLeak did not start on Temurin 25"

# culprit FILE: the leak's culprit names the JNI method, its caller at its line, the library
culprit() {
	jq -r "[.findings[] | select(.severity == \"leak\")][0] | \"# \(.pattern): \(.culprit)\"" "$1" &&
	jq -e --arg c "JniLeak.openContext ← JniLeak.handle (JniLeak.java:$CALL_LINE), native context_new (" \
		"[.findings[] | select(.severity == \"leak\")][0].culprit | startswith(\$c)" "$1" &&
	jq -e "[.findings[] | select(.severity == \"leak\")][0].culprit | test(\"jnileak.c:[0-9]+\\\\) in libjnileak.so\$\")" "$1"
}

test_expect_success 'the JVMs are diagnosed side by side' '
	{ offheap doctor $PID_on -q --json -d 8s >on.json & d1=$!; } &&
	{ offheap doctor $PID_off -q --json -d 8s >off.json & d2=$!; } &&
	if test -n "${PID_j25:-}"; then
		offheap doctor $PID_j25 -q --json -d 8s >j25.json
	fi &&
	wait $d1 && wait $d2
'

# native_leak FILE: the first leak is native memory outside NMT or a growing malloc site
# (the attached recording's finding, when the window's native total made no trend yet)
native_leak() {
	case "$(first_leak "$1")" in
	native-outside-nmt | malloc-leak) ;;
	*) return 1 ;;
	esac
}

test_expect_success 'NMT on: native memory outside NMT, named down to the call' '
	native_leak on.json &&
	culprit on.json
'

test_expect_success 'NMT off, a tenth of the rate: a native leak, named down to the call' '
	native_leak off.json &&
	culprit off.json
'

if test -n "${PID_j25:-}"; then
	test_expect_success 'Temurin 25, ZGC, NMT on: the same' '
		native_leak j25.json &&
		culprit j25.json
	'
else
	test_skip 'Temurin 25, ZGC, NMT on: the same' "no Temurin 25 in $JDK25"
fi

test_done
