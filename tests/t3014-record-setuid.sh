#!/bin/sh
# offheap record of a program the loader runs in secure-execution mode (set-user-ID or
# set-group-ID to someone else, file capabilities), where LD_PRELOAD is ignored: the warning
# names that reason and says what to do, instead of asking whether it is statically linked.
. "$(dirname "$0")/test-lib.sh"

[ "$(id -u)" = 0 ] || skip_all 'needs root (to make set-user-ID copies and run them as nobody)'

test_expect_success 'setup: offheap, its library and a helper, runnable by nobody' '
	nobody_dir &&
	cp "$BUILD/liboffheap.so" "$NOBODY_DIR/" && chmod 755 "$NOBODY_DIR/liboffheap.so" &&
	mkdir "$NOBODY_DIR/out" && chown nobody "$NOBODY_DIR/out" &&
	for v in plain suid sgid caps; do
		cp "$HELPERS/keeper" "$NOBODY_DIR/keeper-$v" && chown root:root "$NOBODY_DIR/keeper-$v" &&
		chmod 755 "$NOBODY_DIR/keeper-$v" || return 1
	done &&
	chmod 4755 "$NOBODY_DIR/keeper-suid" &&
	chmod 2755 "$NOBODY_DIR/keeper-sgid"
'

test_expect_success 'as nobody, a plain copy is recorded (the setup works)' '
	offheap_as_nobody record --exact -o "$NOBODY_DIR/out/plain.db" -- \
		"$NOBODY_DIR/keeper-plain" 1000000 1 >out 2>err &&
	cat err &&
	! grep -q "reported nothing" err &&
	"$OFFHEAP" report "$NOBODY_DIR/out/plain.db" | grep -q keep_block
'

test_expect_success 'set-user-ID root, run as nobody: the reason and a hint' '
	offheap_as_nobody record -o "$NOBODY_DIR/out/suid.db" -- "$NOBODY_DIR/keeper-suid" 1000 1 \
		>out 2>err &&
	cat err &&
	grep -q "^offheap: warning: the tracker reported nothing: .*keeper-suid. is set-user-ID (to uid 0)" err &&
	grep -q "^hint: record it as the user it runs as (here uid 0)" err &&
	! grep -q "statically linked" err
'

test_expect_success 'set-group-ID root, run as nobody: the reason' '
	offheap_as_nobody record -o "$NOBODY_DIR/out/sgid.db" -- "$NOBODY_DIR/keeper-sgid" 1000 1 \
		>out 2>err &&
	cat err &&
	grep -q "^offheap: warning: the tracker reported nothing: .*keeper-sgid. is set-group-ID (to gid 0)" err
'

if command -v setcap >/dev/null; then
	test_expect_success 'file capabilities, run as nobody: the reason' '
		setcap cap_net_raw+ep "$NOBODY_DIR/keeper-caps" &&
		offheap_as_nobody record -o "$NOBODY_DIR/out/caps.db" -- "$NOBODY_DIR/keeper-caps" 1000 1 \
			>out 2>err &&
		cat err &&
		grep -q "^offheap: warning: the tracker reported nothing: .*keeper-caps. has file capabilities" err
	'
else
	test_skip 'file capabilities' 'setcap is not installed (Debian libcap2-bin)'
fi

test_expect_success 'a static program still gets the static question' '
	printf "int main(void) { return 0; }\n" >static.c &&
	cc -static -o static static.c &&
	"$OFFHEAP" record -o static.db -- ./static 2>err &&
	grep -q "statically linked" err
'

test_done
