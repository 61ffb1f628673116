#!/bin/sh
# scripts/demo (make demo) shows the product's point: doctor names the leaking
# JVM's pattern and fix, report names the leaking C function with file:line;
# it leaves no process or file behind, and a failing step fails the demo.
TEST_TIMEOUT=240
. "$(dirname "$0")/test-lib.sh"

leak_line=$(grep -n 'void \*p = malloc(size);' "$ROOT/tests/helpers/mallocleak.c" | cut -d: -f1)

# jvm_gone FILE: the JVM whose PID the demo printed in FILE is gone, and so are its files.
jvm_gone() {
	jpid=$(sed -n 's/^demo: started an upload service on OpenJDK 17, PID \([0-9]*\):.*/\1/p' "$1") &&
		test -n "$jpid" &&
		! grep -qs UploadService "/proc/$jpid/cmdline" &&
		! test -e "/tmp/.java_pid$jpid" &&
		! test -e "/tmp/hsperfdata_$(id -un)/$jpid"
}

test_expect_success 'the demo runs to the end' '
	mkdir tmp &&
	{ TMPDIR=$TRASH/tmp "$ROOT/scripts/demo" >out 2>err || { cat out err; false; }; } &&
	cat out &&
	grep "^demo: done" out
'

test_expect_success 'each step has a one-line header' '
	for n in 1 2 3 4 5 6; do
		grep "^\[$n/6\] [a-z]" out || return 1
	done
'

test_expect_success 'doctor names the Inflater leak, its culprit and its fix' '
	sed -n "/^\[4\/6\]/,/^\[5\/6\]/p" out >doctor &&
	grep "^\[leak\] zlib streams never ended: native memory outside NMT grows .*(zlib-inflater)$" doctor &&
	grep "^  culprit:  java.util.zip.Inflater\.[a-zA-Z<>]* ← [A-Za-z0-9_.]* ([A-Za-z0-9_]*\.java:[0-9]*), native inflate[a-zA-Z0-9_]* in libz" doctor &&
	grep "^  fix:      close every GZIPInputStream/.* in try-with-resources and call Inflater.end()" doctor
'

test_expect_success 'report names the leaking C function with file:line, first' '
	sed -n "/^\[6\/6\]/,\$p" out >report &&
	sed -n "/^#1 /,/^\$/p" report >top &&
	grep "^#1 GROWING" top &&
	test "$(sed -n 2p top)" = "    site: leak_session_buffer (tests/helpers/mallocleak.c:$leak_line) in mallocleak" &&
	test "$(sed -n 3p top)" = "      leak_session_buffer (tests/helpers/mallocleak.c:$leak_line) mallocleak"
'

test_expect_success 'the JVM is killed, its files and the temp folder removed' '
	jvm_gone out &&
	test -z "$(ls -A tmp)"
'

# A build folder whose offheap fails at doctor (the real one for all else):
# the demo must stop there, say so, exit non-zero, and still clean up.
test_expect_success 'a failing step fails the demo loudly, and it still cleans up' '
	mkdir -p fail/helpers &&
	ln -s "$BUILD/liboffheap.so" fail/liboffheap.so &&
	ln -s "$HELPERS/mallocleak" fail/helpers/mallocleak &&
	cat >fail/offheap <<-EOF &&
	#!/bin/sh
	[ "\$1" = doctor ] && { echo "offheap: error: doctor broken on purpose" >&2; exit 1; }
	exec "$OFFHEAP" "\$@"
	EOF
	chmod +x fail/offheap &&
	test_exit_code 1 env TMPDIR="$TRASH/tmp" OFFHEAP_BUILD="$TRASH/fail" "$ROOT/scripts/demo" \
		>fout 2>ferr &&
	cat ferr &&
	grep "^demo: error: step 4 failed: .offheap doctor [0-9]* -d 10s. exited with 1$" ferr &&
	! grep "^\[5/6\]" fout &&
	jvm_gone fout &&
	test -z "$(ls -A tmp)"
'

test_expect_success 'without a build the demo says what to run' '
	test_exit_code 1 env OFFHEAP_BUILD="$TRASH/nothing" "$ROOT/scripts/demo" >nout 2>nerr &&
	grep "^demo: error: .*not built (run .make all. first)" nerr
'

test_done
