#!/bin/sh
# offheap record -p refuses a JVM that is not HotSpot (OpenJ9, ...), before it places
# or loads anything: the fixture is a running program that maps a libjvm.so without
# HotSpot's gHotSpotVMStructs, as OpenJ9's libjvm.so is. The refusal names the file and
# hints at recording from the start; the target's map gains nothing and it ends right.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

mkdir -p "$TRASH/j9/lib/default" &&
printf 'int j9_fixture_version(void) { return 29; }\n' >"$TRASH/j9.c" ||
	fail_all "the fixture's source is written" /dev/null
setup_or_fail "cc builds a libjvm.so that is not HotSpot's" \
	cc -shared -fPIC -o "$TRASH/j9/lib/default/libjvm.so" "$TRASH/j9.c"

LD_PRELOAD=$TRASH/j9/lib/default/libjvm.so start_bg "$HELPERS/attachee" --ready ready \
	--until until --lifetime 100
PID=$BG_PID

test_expect_success 'the fixture runs with its libjvm.so mapped' '
	wait_ready ready &&
	grep -q "/j9/lib/default/libjvm\.so$" /proc/$PID/maps
'

test_expect_success 'record -p refuses it: not HotSpot, with a hint' '
	cp /proc/$PID/maps maps.before &&
	test_must_fail "$OFFHEAP" record -p $PID -d 300ms -o j9.db 2>err &&
	cat err &&
	grep -q "^offheap: error: process $PID is a JVM that is not HotSpot: its '\''$TRASH/j9/lib/default/libjvm.so'\'' has no gHotSpotVMStructs$" err &&
	grep -q "^hint: record -p knows HotSpot JVMs only" err &&
	test ! -e j9.db &&
	! grep -q "liboffheap\|offheap-track" /proc/$PID/maps &&
	test "$(wc -l <maps.before)" -eq "$(wc -l </proc/$PID/maps)"
'

test_expect_success 'the refused target goes on and ends right' '
	touch until &&
	test_exit_code 0 wait $PID
'

test_done
