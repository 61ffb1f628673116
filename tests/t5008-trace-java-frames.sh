#!/bin/sh
# offheap trace names a JVM's Java frames from its own structures (vmStructs), read from
# outside: an interpreted frame (-Xint) by its method, signature, source file and line, in
# the text report, --json and -o; a compiled frame by every method the JIT inlined at the
# call and its own, each with its line (the nmethod's PcDescs and scopes), so one Java
# method is one frame whatever its tier; compiled frames are walked through by their code
# blobs' frame sizes, up to the VM's call stub and its C++ caller; on JDK 17 and Temurin 25,
# with G1, Parallel and ZGC. The traced JVM runs on afterwards.
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

require_jdk17 java javac
compile_fixtures "$JAVA17" MapLeak MapInline
CLASSES17=$CLASSES
# The lines of the calls that lead to the mapping: MapInline's own, the frames' lines.
line_of() {
	grep -n "$2" "$ROOT/tests/java/$1.java" | cut -d: -f1
}
L_MAP=$(line_of MapInline 'getChannel().map(')
L_KEEP=$(line_of MapInline 'm = open(file)')
L_MAIN=$(line_of MapInline 'keep(dir.resolve("seg-"')
L_LEAK=$(line_of MapLeak 'getChannel().map(')
setup_or_fail "MapInline.java and MapLeak.java have their calls" \
	test -n "$L_MAP" -a -n "$L_KEEP" -a -n "$L_MAIN" -a -n "$L_LEAK"

# start NAME CLASS RATE MAX WARM JAVA [OPTS...]: CLASS at RATE maps a second, MAX at most,
# after WARM warm-up calls (MapInline); the JVM's output in out.NAME; sets PID_NAME
start() {
	_n=$1
	_c=$2
	_r=$3
	_m=$4
	_w=$5
	_j=$6
	shift 6
	mkdir -p "files.$_n" &&
		start_bg "$_j" -Xmx64m "$@" -cp "$CLASSES" "$_c" "ready.$_n" "files.$_n" "$_r" "$_m" 120 \
			$_w >"out.$_n" 2>&1 &&
		eval "PID_$_n=\$BG_PID"
}
# compiled: -Xbatch compiles MapInline.keep during its warm-up, before it is ready, with
# open forced inline (and FileChannelImpl.map inlined by C2's own choice); PrintInlining and
# PrintCompilation say what the JIT did
JIT="-Xbatch -XX:-TieredCompilation -XX:CompileThreshold=500 -XX:CompileCommand=quiet
	-XX:CompileCommand=inline,MapInline::open -XX:+UnlockDiagnosticVMOptions -XX:+PrintInlining
	-XX:+PrintCompilation"
start mi17i MapInline 10 600 0 "$JAVA17" -Xint
start mi17c MapInline 20 1200 1000 "$JAVA17" -XX:+UseG1GC $JIT
start j17jit MapLeak 50 1000 "" "$JAVA17" -XX:+UseParallelGC
if have_jdk25 java; then
	compile_fixtures "$JAVA25" MapLeak MapInline
	start j25int MapLeak 10 600 "" "$JAVA25" -Xint -XX:+UseZGC
	start mi25c MapInline 20 1200 1000 "$JAVA25" -XX:+UseZGC $JIT
fi
CLASSES=$CLASSES17
NAMES="mi17i mi17c j17jit ${PID_j25int:+j25int mi25c}"
for n in $NAMES; do
	wait_for 60 "test -s ready.$n" || fail_all "$n started"
done
# compiled: 250 calls of the map path, past C1's threshold of 200 (Tier3InvocationThreshold)
wait_for 60 "test \$(ls files.j17jit | wc -l) -ge 250" || fail_all "j17jit mapped 250 files"

# frames FILE [true]: the frames of the stack that left the most mapped, one a line: a
# Java frame as a stack trace prints it, a native one by its (demangled) function; with
# true, the Java frames alone
frames() {
	jq -r '.by_stack | max_by(.outstanding_bytes) | .frames[] | select(.java or ($java | not)) |
		if .java then .function + (if .native then " (Native Method)"
			elif .file then " (\(.file):\(.line))" else "" end)
		else .demangled // .function // "?" end' --argjson java "${2:-false}" "$1"
}

# keep_compiled NAME: the compile id of MapInline.keep's nmethod in use in JVM NAME
# (Compiler.codelist: id, level, state 0 for in use, method), none when it is not compiled
keep_compiled() {
	eval "_p=\$PID_$1"
	offheap jcmd "$_p" Compiler.codelist 2>/dev/null |
		awk '$3 == 0 && $4 ~ /^MapInline\.keep\(/ { print $1 }' | sort -n | tail -n 1
}

# compiled_trace NAME: traces JVM NAME into NAME.json while MapInline.keep's nmethod
# stays the same (compiled before, the same after), with open inlined into every
# compile of keep (PrintInlining, in out.NAME); then its frames in NAME.txt. A JIT may
# throw keep's code away and compile it again (a class loaded meanwhile): the trace is
# then taken again, three times at most.
compiled_trace() {
	for _try in 1 2 3; do
		wait_for 60 "test -n \"\$(keep_compiled $1)\"" || return 1
		_id=$(keep_compiled "$1") &&
			eval "offheap trace \$PID_$1 -d 2s --json >$1.json" || return 1
		test "$(keep_compiled "$1")" = "$_id" && break
		say "MapInline.keep compiled again during the trace of $1 (try $_try)"
	done
	test "$(keep_compiled "$1")" = "$_id" &&
		awk '/MapInline::keep \(/ { k = 1; next } k && /MapInline::open .*inline/ { n++ } { k = 0 }
			END { exit !(n > 0) }' "out.$1" &&
		! grep -q "MapInline::open .*failed" "out.$1" &&
		frames "$1.json" >"$1.txt" && cat "$1.txt"
}

test_expect_success 'interpreted frames (JDK 17, -Xint): method, signature, file and line' '
	offheap trace $PID_mi17i -d 2s --json -o int.db >int.json &&
	frames int.json >int.txt && cat int.txt &&
	grep -qx "MapInline.open(java.nio.file.Path) (MapInline.java:$L_MAP)" int.txt &&
	grep -qx "MapInline.keep(java.nio.file.Path, boolean) (MapInline.java:$L_KEEP)" int.txt &&
	grep -qx "MapInline.main(java.lang.String\[\]) (MapInline.java:$L_MAIN)" int.txt &&
	grep -qx "sun.nio.ch.FileChannelImpl.map0(int, long, long, boolean) (Native Method)" int.txt &&
	grep -q "^sun.nio.ch.FileChannelImpl.map(java.nio.channels.FileChannel\$MapMode, long, long) (FileChannelImpl.java:[0-9]*)$" int.txt &&
	# the interpreted frames are marked java, with no address
	jq -e "[.by_stack[].frames[] | select(.java == true) | has(\"pc\")] | any | not" int.json &&
	# past them, the VM that called main
	grep -q "^JavaCalls::call_helper" int.txt &&
	n=$(sqlite3 int.db "SELECT count(*) FROM trace_frames WHERE function = '"'"'MapInline.main(java.lang.String[])'"'"' AND file = '"'"'MapInline.java'"'"' AND line = $L_MAIN AND pc = 0") &&
	test "$n" -gt 0
'

test_expect_success 'the text report shows them as [java] frames' '
	offheap trace $PID_mi17i -d 1s >int.out &&
	grep -q "^    \[java\] MapInline.main(java.lang.String\[\]) (MapInline.java:$L_MAIN)$" int.out
'

test_expect_success 'compiled with inlining (JDK 17, G1): the frames and lines of the interpreted JVM' '
	compiled_trace mi17c &&
	# the same Java frames, lines and all, as the -Xint JVM: one frame per method and call
	frames int.json true >int.java && frames mi17c.json true >mi17c.java &&
	test -s int.java && diff -u int.java mi17c.java &&
	grep -qx "MapInline.open(java.nio.file.Path) (MapInline.java:$L_MAP)" mi17c.txt &&
	# every frame of a Java method has its line
	jq -e "[.by_stack[].frames[] | select(.java == true and .native == false and .line == 0)] | length == 0" mi17c.json &&
	grep -q "^JavaCalls::call_helper" mi17c.txt
'

test_expect_success 'compiled frames (JDK 17, Parallel GC, 50 maps/s): walked to the call stub and main, with lines' '
	offheap trace $PID_j17jit -d 2s --json >jit.json &&
	frames jit.json >jit.txt && cat jit.txt &&
	grep -qx "MapLeak.main(java.lang.String\[\]) (MapLeak.java:$L_LEAK)" jit.txt &&
	grep -q "^JavaCalls::call_helper" jit.txt &&
	! grep -q "^?$" jit.txt
'

if test -n "${PID_j25int:-}"; then
	test_expect_success 'Temurin 25, -Xint, ZGC: interpreted frames named, with lines' '
		offheap trace $PID_j25int -d 2s --json >j25.json &&
		frames j25.json >j25.txt && cat j25.txt &&
		grep -qx "MapLeak.main(java.lang.String\[\]) (MapLeak.java:$L_LEAK)" j25.txt &&
		grep -q "^sun.nio.ch.FileChannelImpl.mapInternal(.*) (FileChannelImpl.java:[0-9]*)$" j25.txt
	'
	test_expect_success 'Temurin 25, compiled with inlining, ZGC: every method and line' '
		compiled_trace mi25c &&
		grep -qx "MapInline.open(java.nio.file.Path) (MapInline.java:$L_MAP)" mi25c.txt &&
		grep -qx "MapInline.keep(java.nio.file.Path, boolean) (MapInline.java:$L_KEEP)" mi25c.txt &&
		grep -qx "MapInline.main(java.lang.String\[\]) (MapInline.java:$L_MAIN)" mi25c.txt &&
		grep -q "^sun.nio.ch.FileChannelImpl.map(java.nio.channels.FileChannel\$MapMode, long, long) (FileChannelImpl.java:[0-9]*)$" mi25c.txt &&
		jq -e "[.by_stack[].frames[] | select(.java == true and .native == false and .line == 0)] | length == 0" mi25c.json
	'
else
	test_skip 'Temurin 25, -Xint, ZGC: interpreted frames named, with lines' "no Temurin 25 in $JDK25"
	test_skip 'Temurin 25, compiled with inlining, ZGC: every method and line' "no Temurin 25 in $JDK25"
fi

test_expect_success 'the traced JVMs run on, untraced' '
	for n in $NAMES; do
		eval "pid=\$PID_$n" &&
		grep -q "^TracerPid:[[:space:]]*0$" /proc/$pid/status &&
		c=$(ls files.$n | wc -l) &&
		wait_for 10 "test \$(ls files.$n | wc -l) -gt $c" || return 1
	done
'

for n in $NAMES; do
	eval "stop_bg \$PID_$n"
done
test_done
