#!/bin/sh
# Every libFuzzer harness (fuzz/fuzz-NAME.c, built into build-fuzz/ by 'make fuzz-build',
# which 'make test' runs when clang is installed) for a few seconds on its seed corpus
# and its regression inputs (fuzz/regress/NAME: inputs that once crashed, leaked or hung).
# A crash, sanitizer report, leak or hang fails the harness. FUZZ_SMOKE_SECS (default 1)
# is the time per harness; the new inputs found go to the trash, never into fuzz/.
TEST_TIMEOUT=140
. "$(dirname "$0")/test-lib.sh"

FB="$ROOT/build-fuzz"
secs=${FUZZ_SMOKE_SECS:-1}
ls "$FB"/fuzz-* >/dev/null 2>&1 ||
	skip_all "no fuzz harnesses in build-fuzz/ (needs clang and libclang-rt-14-dev: make fuzz-build)"

for src in "$ROOT"/fuzz/fuzz-*.c; do
	name=$(basename "$src" .c)
	name=${name#fuzz-}
	test_expect_success "fuzz-$name: ${secs}s on its seeds and regressions, no crash, leak or hang" '
		test -x "$FB/fuzz-$name" || { echo "build-fuzz/fuzz-$name missing: make fuzz-build"; false; } &&
		mkdir -p "$TRASH/$name" "$TRASH/crash" &&
		dirs="$TRASH/$name $ROOT/fuzz/corpus/$name" &&
		test -n "$(ls "$ROOT/fuzz/corpus/$name")" &&
		if test -d "$ROOT/fuzz/regress/$name"; then dirs="$dirs $ROOT/fuzz/regress/$name"; fi &&
		opts= &&
		if test -f "$ROOT/fuzz/fuzz-$name.options"; then opts=$(cat "$ROOT/fuzz/fuzz-$name.options"); fi &&
		TMPDIR="$TRASH" "$FB/fuzz-$name" $opts -max_total_time=$secs -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix="$TRASH/crash/$name-" $dirs >"$TRASH/$name.log" 2>&1 ||
		{ grep -E "ERROR|SUMMARY|runtime error|Test unit written" "$TRASH/$name.log" | head -20; false; }
	'
done

test_done
