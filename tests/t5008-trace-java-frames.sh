#!/bin/sh
# offheap trace names a JVM's Java frames from its own structures (vmStructs), read from
# outside: an interpreted frame (-Xint) by its method, signature, source file and line, in
# the text report, --json and -o; compiled frames are walked through by their code blobs'
# frame sizes, up to the VM's call stub and its C++ caller, and named by their method, on
# JDK 17 and Temurin 25, with G1, Parallel and ZGC. The traced JVM runs on afterwards.
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

require_jdk17 java javac
compile_fixtures "$JAVA17" MapLeak
# The line of MapLeak.java whose call maps the file: the interpreted frame's line.
LINE=$(grep -n 'getChannel().map(' "$ROOT/tests/java/MapLeak.java" | cut -d: -f1)
setup_or_fail "MapLeak.java has its map call" test -n "$LINE"

# start NAME RATE MAX JAVA [OPTS...]: MapLeak at RATE maps a second, MAX at most; sets PID_NAME
start() {
	_n=$1
	_r=$2
	_m=$3
	_j=$4
	shift 4
	mkdir -p "files.$_n" &&
		start_bg "$_j" -Xmx64m "$@" -cp "$CLASSES" MapLeak "ready.$_n" "files.$_n" "$_r" "$_m" 120 &&
		eval "PID_$_n=\$BG_PID"
}
start j17int 10 600 "$JAVA17" -Xint
start j17jit 50 1000 "$JAVA17" -XX:+UseParallelGC
if have_jdk25 java; then
	start j25int 10 600 "$JAVA25" -Xint -XX:+UseZGC
fi
NAMES="j17int j17jit ${PID_j25int:+j25int}"
for n in $NAMES; do
	wait_for 60 "test -s ready.$n" || fail_all "$n started"
done
# compiled: 250 calls of the map path, past C1's threshold of 200 (Tier3InvocationThreshold)
wait_for 60 "test \$(ls files.j17jit | wc -l) -ge 250" || fail_all "j17jit mapped 250 files"

# frames FILE: the frames of the stack that left the most mapped, one a line: a Java
# frame as a stack trace prints it, a native one by its (demangled) function
frames() {
	jq -r '.by_stack | max_by(.outstanding_bytes) | .frames[] |
		if .java then .function + (if .native then " (Native Method)"
			elif .file then " (\(.file):\(.line))" else "" end)
		else .demangled // .function // "?" end' "$1"
}

test_expect_success 'interpreted frames (JDK 17, -Xint): method, signature, file and line' '
	offheap trace $PID_j17int -d 2s --json -o int.db >int.json &&
	frames int.json >int.txt && cat int.txt &&
	grep -qx "MapLeak.main(java.lang.String\[\]) (MapLeak.java:$LINE)" int.txt &&
	grep -qx "sun.nio.ch.FileChannelImpl.map0(int, long, long, boolean) (Native Method)" int.txt &&
	grep -q "^sun.nio.ch.FileChannelImpl.map(java.nio.channels.FileChannel\$MapMode, long, long) (FileChannelImpl.java:[0-9]*)$" int.txt &&
	# the interpreted frames are marked java, with no address
	jq -e "[.by_stack[].frames[] | select(.java == true) | has(\"pc\")] | any | not" int.json &&
	# past them, the VM that called main
	grep -q "^JavaCalls::call_helper" int.txt &&
	n=$(sqlite3 int.db "SELECT count(*) FROM trace_frames WHERE function = '"'"'MapLeak.main(java.lang.String[])'"'"' AND file = '"'"'MapLeak.java'"'"' AND line = $LINE AND pc = 0") &&
	test "$n" -gt 0
'

test_expect_success 'the text report shows them as [java] frames' '
	offheap trace $PID_j17int -d 1s >int.out &&
	grep -q "^    \[java\] MapLeak.main(java.lang.String\[\]) (MapLeak.java:$LINE)$" int.out
'

test_expect_success 'compiled frames (JDK 17, Parallel GC, 50 maps/s): walked to the call stub and main' '
	offheap trace $PID_j17jit -d 2s --json >jit.json &&
	frames jit.json >jit.txt && cat jit.txt &&
	grep -q "MapLeak.main(java.lang.String\[\])" jit.txt &&
	grep -q "^JavaCalls::call_helper" jit.txt &&
	! grep -q "^?$" jit.txt &&
	# a compiled method is named by the JVM'"'"'s structures too: a frame of its own, no line
	jq -e "[.by_stack[].frames[] | select(.java == true and .native == false and .line == 0)] | length > 0" jit.json
'

if test -n "${PID_j25int:-}"; then
	test_expect_success 'Temurin 25, -Xint, ZGC: interpreted frames named, with lines' '
		offheap trace $PID_j25int -d 2s --json >j25.json &&
		frames j25.json >j25.txt && cat j25.txt &&
		grep -qx "MapLeak.main(java.lang.String\[\]) (MapLeak.java:$LINE)" j25.txt &&
		grep -q "^sun.nio.ch.FileChannelImpl.mapInternal(.*) (FileChannelImpl.java:[0-9]*)$" j25.txt
	'
else
	test_skip 'Temurin 25, -Xint, ZGC: interpreted frames named, with lines' "no Temurin 25 in $JDK25"
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
