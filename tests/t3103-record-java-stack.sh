#!/bin/sh
# Whole Java stacks above native allocations: a JVM whose user code
# (Orders.main or Thread.run -> Orders$Worker.run -> Orders.parse ->
# Orders$Codec.open -> new GZIPInputStream) makes Inflaters, in several
# threads, with the JIT compiling the chain and the collector running. The
# tracker asks the JVM (JVMTI, from the JNI method's thread) for the Java
# frames above Java_java_util_zip_Inflater_init: every site through
# Orders.parse names it once with its file and line, up to Orders.main or
# Thread.run, and one Java path is one site whatever the tier (interpreted,
# compiled, inlined) of its frames. record -- java on JDK 17 (G1 and ZGC)
# and Temurin 25 (ZGC), record -p on a running JDK 17 (with a thread whose
# stack is deeper than the tracker keeps); the JVM exits 0 each time.
TEST_TIMEOUT=120
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

require_jdk17 java javac
setup_or_fail "javac compiles tests/java/Orders.java and VmLeak.java" \
	"$JDK17/javac" -d "$TRASH/classes" "$ROOT/tests/java/Orders.java" \
	"$ROOT/tests/java/VmLeak.java"
# the lines the stacks must name, read from the fixture
PARSE_LINE=$(grep -n "// parse calls open" "$ROOT/tests/java/Orders.java" | cut -d: -f1)
OPEN_LINE=$(grep -n "// Codec.open" "$ROOT/tests/java/Orders.java" | cut -d: -f1)
MAIN_LINE=$(grep -n "// main calls parse" "$ROOT/tests/java/Orders.java" | head -1 | cut -d: -f1)
test -n "$PARSE_LINE" && test -n "$OPEN_LINE" && test -n "$MAIN_LINE" ||
	fail_all "the fixture's marked lines are found"

# check.py JSON PATHS [DEEP]: the sites whose stack runs from zlib through
# Orders.parse; PATHS: how many of them start at inflateInit2_ (the Java
# paths); 0: any number, at least 1. DEEP: a site of the deep thread must be
# there, cut at the tracker's 64 frames and marked so.
cat >check.py <<EOF
import json, sys
top = json.load(open(sys.argv[1]))["top"]
want = int(sys.argv[2])
deep = len(sys.argv) > 3
sites = []
for t in top:
    fr = t["frames"]
    names = [f["function"] for f in fr]
    if "Orders.parse" in names and "java.util.zip.Inflater.<init>" in names:
        sites.append(fr)
assert sites, "no site through Orders.parse"
seen = set()
for fr in sites:
    names = [f["function"] for f in fr]
    # native frames up to the JNI method, then only named Java frames: no
    # code-cache frame (native wrapper, interpreter, JIT) is left
    assert "Java_java_util_zip_Inflater_init" in names, ("no JNI frame", names)
    j = names.index("Java_java_util_zip_Inflater_init")
    assert not any(f["java"] for f in fr[:j + 1]), names
    assert all(f["java"] and f["module"] is None for f in fr[j + 1:]), names
    assert names[j + 1] == "java.util.zip.Inflater.init", names
    assert names.count("Orders.parse") == 1, names
    p = fr[names.index("Orders.parse")]
    assert (p["file"], p["line"]) == ("Orders.java", $PARSE_LINE), p
    o = fr[names.index("Orders\$Codec.open")]
    assert (o["file"], o["line"]) == ("Orders.java", $OPEN_LINE), o
    if names[-1] == "(more Java frames)":
        # cut: the innermost frames kept, all of them Java but the native ones
        assert deep and len(fr) == 64 and fr[-1]["java"] and names[-2] == "Orders.down", names
        continue
    assert names[-1] in ("Orders.main", "java.lang.Thread.run"), names
    if names[-1] == "Orders.main" and want:
        assert fr[-1]["line"] == $MAIN_LINE, fr[-1]
    key = tuple((f["function"], f["line"]) for f in fr)
    assert key not in seen, ("one Java path in two sites", names)
    seen.add(key)
paths = [fr for fr in sites if fr[0]["function"] == "inflateInit2_"]
ends = set(fr[-1]["function"] for fr in paths)
if deep:
    assert "(more Java frames)" in ends, ends
if want:
    assert len(paths) == want, [[f["function"] for f in fr] for fr in paths]
    assert ends == {"Orders.main", "java.lang.Thread.run"}, ends
else:
    assert paths, "no site from inflateInit2_"
print(len(paths), "Java paths to inflateInit2_")
EOF

# java_case NAME JAVA GC: record the fixture to its end
java_case() {
	_n=$1 _java=$2 _gc=$3
	test_expect_success "$_n: record -- java: the whole Java stack, one site per path" '
		"$OFFHEAP" record -i 250ms -o $_n.db -- "$_java" -Xmx96m $_gc \
			-XX:ErrorFile="$TRASH/hs_err_$_n.log" -cp "$TRASH/classes" Orders 2500 3 \
			>$_n.out 2>$_n.err &&
		grep -q "^kept 1000$" $_n.out &&
		test ! -e "$TRASH/hs_err_$_n.log" &&
		"$OFFHEAP" report $_n.db --top 0 --json >$_n.json &&
		python3 check.py $_n.json 2 &&
		"$OFFHEAP" report $_n.db --top 0 >$_n.txt &&
		grep -q "^      \[java\] Orders.parse (Orders.java:$PARSE_LINE)$" $_n.txt &&
		grep -q "^      \[java\] java.util.zip.Inflater.init (Inflater.java)$" $_n.txt
	'
}

java_case jdk17-g1 "$JDK17/java" -XX:+UseG1GC
java_case jdk17-zgc "$JDK17/java" -XX:+UseZGC
if have_jdk25 java; then
	java_case jdk25-zgc "$JDK25/java" -XX:+UseZGC
else
	test_skip "jdk25-zgc: record -- java: the whole Java stack, one site per path" \
		"no Temurin 25 in $JDK25"
fi

# The collapsed format weighs a stack by its live bytes at the end, and the
# recording is sampled (a mean of 512 KiB): main's 250 kept streams (7 KiB
# each) may have no sample and no line, while the workers' 750 have about
# ten. Either root is a whole Java path.
test_expect_success "formats: collapsed and pprof carry the Java frames" '
	"$OFFHEAP" report jdk17-g1.db --top 0 --format collapsed >c &&
	{ grep -Eq "^(\[java\]_Orders.main|\[java\]_java.lang.Thread.run;\[java\]_Orders\\\$Worker.run;\[java\]_Orders.loop);\[java\]_Orders.parse;\[java\]_Orders\\\$Codec.open;.*;\[java\]_java.util.zip.Inflater.init;Java_java_util_zip_Inflater_init;inflateInit2_ [0-9]+$" c ||
		{ echo "no whole Java path in the collapsed stacks; those through Orders.parse:"; grep "Orders.parse" c; false; }; } &&
	"$OFFHEAP" report jdk17-g1.db --format pprof -o g1.pb.gz &&
	{ gzip -dc g1.pb.gz | grep -aq "\[java\] Orders.parse" ||
		{ echo "no Orders.parse in the pprof profile"; false; }; }
'

test_expect_success "record -p: a running JDK 17 gets the same frames, and runs on; a deep stack is cut" '
	start_bg "$JDK17/java" -Xmx96m -XX:ErrorFile="$TRASH/hs_err_p.log" -Dorders.deep=80 \
		-cp "$TRASH/classes" \
		Orders 2500 2 "$TRASH/p-ready" "$TRASH/p-stop" >p.out 2>p.err &&
	JPID=$BG_PID &&
	wait_for 60 "test -e p-ready" &&
	"$OFFHEAP" record -p $JPID -d 1500ms -o p.db 2>p.rec &&
	: >p-stop &&
	test_exit_code 0 wait $JPID &&
	grep -q "^kept " p.out &&
	test ! -e "$TRASH/hs_err_p.log" &&
	"$OFFHEAP" report p.db --top 0 --json >p.json &&
	python3 check.py p.json 0 deep
'

LEAK_LINE=$(grep -n "// leakBuffer allocates" "$ROOT/tests/java/VmLeak.java" | cut -d: -f1)
INTERN_LINE=$(grep -n "// internNames interns" "$ROOT/tests/java/VmLeak.java" | cut -d: -f1)
test -n "$LEAK_LINE" && test -n "$INTERN_LINE" || fail_all "VmLeak's marked lines are found"

# vmcheck.py JSON INTERN: the direct buffers' site (and, INTERN=1, an
# interned string's) has the libjvm frames, then only named Java frames
# through VmLeak's method at its line; no frame is left unnamed.
cat >vmcheck.py <<EOF
import json, sys
top = json.load(open(sys.argv[1]))["top"]
intern = sys.argv[2] == "1"
for t in top:
    for f in t["frames"]:
        assert f["function"] != "(Java frame not named)", t["frames"]

def vm_sites(native, api, method, line):
    found = 0
    for t in top:
        fr = t["frames"]
        names = [f["function"] for f in fr]
        if method not in names or api not in names:
            continue
        # the VM's frames (libjvm.so) below the first Java frame, the Java frames above
        j = [f["java"] for f in fr].index(True)
        if names[j] != native:
            continue
        assert j > 0 and all(f["module"].endswith("/libjvm.so") for f in fr[:j]), names
        assert all(f["java"] and f["module"] is None for f in fr[j:]), names
        assert names.index(api) < names.index(method), names
        m = fr[names.index(method)]
        assert (m["file"], m["line"]) == ("VmLeak.java", line), m
        assert names[-1] == "VmLeak.main", names
        found += 1
    assert found, ("no site from", native, "through", method)
    return found

# (JDK 25's Unsafe_AllocateMemory0 tail-calls os::malloc: it has no frame)
print(vm_sites("jdk.internal.misc.Unsafe.allocateMemory0", "java.nio.ByteBuffer.allocateDirect",
               "VmLeak.leakBuffer", $LEAK_LINE), "direct buffer sites")
if intern:
    print(vm_sites("java.lang.String.intern", "java.lang.String.intern",
                   "VmLeak.internNames", $INTERN_LINE), "intern sites")
EOF

# vm_case NAME JAVA GC: the VM's allocations under record -- java
vm_case() {
	_n=$1 _java=$2 _gc=$3
	test_expect_success "$_n: record -- java: the VM's allocations get their Java callers" '
		"$OFFHEAP" record --exact -i 250ms -o vm-$_n.db -- "$_java" -Xmx96m $_gc \
			-XX:ErrorFile="$TRASH/hs_err_vm_$_n.log" -cp "$TRASH/classes" VmLeak 800 \
			>vm-$_n.out 2>vm-$_n.err &&
		grep -q "^buffers 800$" vm-$_n.out &&
		test ! -e "$TRASH/hs_err_vm_$_n.log" &&
		"$OFFHEAP" report vm-$_n.db --top 0 --json >vm-$_n.json &&
		python3 vmcheck.py vm-$_n.json 1 &&
		"$OFFHEAP" report vm-$_n.db --top 0 >vm-$_n.txt &&
		grep -q "^      \[java\] VmLeak.leakBuffer (VmLeak.java:$LEAK_LINE)$" vm-$_n.txt &&
		grep -q "^      \[java\] java.nio.ByteBuffer.allocateDirect (ByteBuffer.java:[0-9]*)$" vm-$_n.txt
	'
}

vm_case jdk17-g1 "$JDK17/java" -XX:+UseG1GC
vm_case jdk17-zgc "$JDK17/java" -XX:+UseZGC
if have_jdk25 java; then
	vm_case jdk25-zgc "$JDK25/java" -XX:+UseZGC
else
	test_skip "jdk25-zgc: record -- java: the VM's allocations get their Java callers" \
		"no Temurin 25 in $JDK25"
fi

# vmp_case NAME JAVA GC: the same under record -p; the namer leaves at the detach
vmp_case() {
	_n=$1 _java=$2 _gc=$3
	test_expect_success "$_n: record -p: the VM's allocations get their Java callers; the namer leaves" '
		start_bg "$_java" -Xmx96m $_gc -XX:MaxDirectMemorySize=1g \
			-XX:ErrorFile="$TRASH/hs_err_vmp_$_n.log" -cp "$TRASH/classes" \
			VmLeak 200 "$TRASH/vmp-$_n-ready" "$TRASH/vmp-$_n-stop" >vmp-$_n.out 2>vmp-$_n.err &&
		JPID=$BG_PID &&
		wait_for 60 "test -e vmp-$_n-ready" &&
		"$OFFHEAP" record --exact -p $JPID -d 1500ms -o vmp-$_n.db 2>vmp-$_n.rec &&
		wait_for 30 "! grep -qx offheap-java /proc/$JPID/task/*/comm" &&
		: >vmp-$_n-stop &&
		test_exit_code 0 wait $JPID &&
		grep -q "^buffers " vmp-$_n.out &&
		test ! -e "$TRASH/hs_err_vmp_$_n.log" &&
		"$OFFHEAP" report vmp-$_n.db --top 0 --json >vmp-$_n.json &&
		python3 vmcheck.py vmp-$_n.json 0
	'
}

vmp_case jdk17-zgc "$JDK17/java" -XX:+UseZGC
if have_jdk25 java; then
	vmp_case jdk25-g1 "$JDK25/java" -XX:+UseG1GC
else
	test_skip "jdk25-g1: record -p: the VM's allocations get their Java callers; the namer leaves" \
		"no Temurin 25 in $JDK25"
fi

test_done
