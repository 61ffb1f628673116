#!/bin/sh
# offheap record of a JVM: Inflaters that are never end()ed leak zlib's
# state; the top growing site names inflateInit2_ under
# Java_java_util_zip_Inflater_init, and the Java frames above them as the
# JVM names them (the tracker asks JVMTI: t3103); record still asks the JVM
# for its perf map (alloc_jitmap) for the JIT frames of other stacks.
# Run on OpenJDK 17 and Temurin 25.
TEST_TIMEOUT=110
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

require_jdk17 java javac
setup_or_fail "javac compiles tests/java/InflaterLoop.java" \
	"$JDK17/javac" -d "$TRASH/classes" "$ROOT/tests/java/InflaterLoop.java"

# jvm_case NAME JAVA
jvm_case() {
	name=$1 java=$2
	test_expect_success "$name: record the leaking JVM (exits on its own)" '
		"$OFFHEAP" record -i 200ms -o $name.db -- \
			"$java" -cp "$TRASH/classes" InflaterLoop 30 100 100 >$name.out &&
		grep -q "^kept 3000$" $name.out
	'
	test_expect_success "$name: top growing site is inflateInit2_ under the JNI function" '
		"$OFFHEAP" report $name.db --top 1 >$name.top &&
		cat $name.top &&
		grep -q "^#1 GROWING" $name.top &&
		grep -n "^ *inflateInit2_ " $name.top | head -1 | cut -d: -f1 >zl &&
		grep -n "^ *Java_java_util_zip_Inflater_init " $name.top | head -1 | cut -d: -f1 >jni &&
		test "$(cat zl)" -lt "$(cat jni)"
	'
	test_expect_success "$name: the perf map is kept, Java frames named above the JNI function" '
		test "$(sqlite3 $name.db "SELECT count(*) FROM alloc_jitmap")" -gt 10 &&
		"$OFFHEAP" report $name.db --top 0 >$name.all &&
		# the JNI function, then the native method and its callers, whatever
		# their tier (no perf-map or Interpreter frame between them)
		awk "/^#[0-9]/ { jni = 0 }
		     /^ *Java_java_util_zip_Inflater_init / { jni = 1; next }
		     jni == 1 && /^ *\[java\] java.util.zip.Inflater.init \(Inflater.java\)\$/ { jni = 2; next }
		     jni == 1 { jni = 0 }
		     jni == 2 && /^ *\[java\] InflaterLoop.round \(InflaterLoop.java:17\)\$/ { found = 1 }
		     END { exit !found }" $name.all &&
		! grep -q "^ *0x[0-9a-f]*$" $name.top
	'
	test_expect_success "$name: the map file offheap caused is removed" '
		pid=$(sqlite3 $name.db "SELECT pid FROM alloc_run LIMIT 1") &&
		test -n "$pid" && test ! -e /tmp/perf-$pid.map
	'
	test_expect_success "$name: json, collapsed and pprof carry the Java names" '
		"$OFFHEAP" report $name.db --top 1 --json >j &&
		python3 -c "
import json
t = json.load(open(\"j\"))[\"top\"][0]
names = [f[\"function\"] for f in t[\"frames\"]]
assert names[0] == \"inflateInit2_\", names
assert names[2] == \"java.util.zip.Inflater.init\", names
assert t[\"frames\"][2][\"java\"] and not t[\"frames\"][1][\"java\"], t[\"frames\"]
assert \"InflaterLoop.round\" in names, names
" &&
		"$OFFHEAP" report $name.db --top 1 --format collapsed >c &&
		grep -q "\[java\]_InflaterLoop.round;.*\[java\]_java.util.zip.Inflater.init;Java_java_util_zip_Inflater_init;inflateInit2_ " c &&
		"$OFFHEAP" report $name.db --format pprof -o $name.pb.gz &&
		gzip -dc $name.pb.gz | grep -aq "\[java\] java.util.zip.Inflater.init"
	'
}

jvm_case jdk17 "$JDK17/java"
# 800 states of 7 KiB in under a second: at the default 512 KiB about 11
# samples, and the site's last ones may miss the intervals that make it grow
# (0.3 % of runs, 1 % loaded); at 64 KiB about 80.
test_expect_success 'a JVM that disables attach: a warning, no SIGQUIT dump, no perf map' '
	"$OFFHEAP" record --sample 64k -i 200ms -o noattach.db -- "$JDK17/java" \
		-XX:+DisableAttachMechanism -cp "$TRASH/classes" InflaterLoop 8 100 100 \
		>noattach.out 2>noattach.err &&
	cat noattach.err &&
	grep -q "^kept 800$" noattach.out && ! grep -q "Full thread dump" noattach.out &&
	grep -q "disables attach: JIT frames stay addresses" noattach.err &&
	test "$(sqlite3 noattach.db "SELECT count(*) FROM alloc_jitmap")" = 0 &&
	"$OFFHEAP" report noattach.db --top 1 >top &&
	grep -q Java_java_util_zip_Inflater_init top &&
	# the frames above the JNI function come from the tracker (JVMTI), which
	# needs no attach mechanism: Java frames still, but none from a perf map
	grep -q "^ *\[java\] InflaterLoop.round (InflaterLoop.java:17)$" top &&
	! grep -q "^ *\[java\] .*(boolean)$" top
'
if have_jdk25 java; then
	jvm_case jdk25 "$JDK25/java"
else
	# the tests of jvm_case
	for t in "record the leaking JVM (exits on its own)" \
		"top growing site is inflateInit2_ under the JNI function" \
		"the perf map is kept, Java frames named above the JNI function" \
		"the map file offheap caused is removed" \
		"json, collapsed and pprof carry the Java names"; do
		test_skip "jdk25: $t" "no Temurin 25 in $JDK25"
	done
fi

test_done
