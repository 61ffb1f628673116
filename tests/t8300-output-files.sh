#!/bin/sh
# Every output file goes through one writer (src/lib/outfile): report -o (pprof, html),
# trace -o, dump -o (and its .json), nmt baseline -o, snap -o are created mode 0600 and
# never written through a symbolic link planted at the path, pointing at a file of root's
# elsewhere or at nothing: the command fails, the link's target is unchanged (or still
# absent), no temporary file is left.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/nmt-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

require_jdk17 java

start_nmt_jvm "$JDK17/java" summary "$TRASH/jvm" 1
NPID=$JPID
start_bg "$HELPERS/holey" "$TRASH/status" 100
wait_ready "$TRASH/status" 10 || fail_all "holey starts" "$TRASH/status"
pid=$(awk '$1 == "pid" { print $2 }' "$TRASH/status")
addr=$(awk '$1 == "addr" { print $2 }' "$TRASH/status")
mkdir "$TRASH/elsewhere"
echo "root's own file" >"$TRASH/elsewhere/victim"
cp "$TRASH/elsewhere/victim" "$TRASH/victim.orig"

# plant NAME: NAME.victim links to root's file, NAME.dangling to a name that does not exist.
plant() {
	ln -s "$TRASH/elsewhere/victim" "$1.victim" &&
	ln -s "$TRASH/elsewhere/$1.none" "$1.dangling"
}

# refused NAME: what the command printed (err.NAME.*) says why, the links and their targets
# are as planted, and nothing else appeared.
refused() {
	grep -q "'$1.victim' is a symbolic link: offheap does not write through one" err.$1.victim &&
	grep -q "'$1.dangling' is a symbolic link: offheap does not write through one" err.$1.dangling &&
	cmp "$TRASH/victim.orig" "$TRASH/elsewhere/victim" &&
	test "$(stat -c %U "$TRASH/elsewhere/victim")" = "$(id -un)" &&
	test -L "$1.victim" && test -L "$1.dangling" &&
	test ! -e "$TRASH/elsewhere/$1.none" &&
	test "$(ls "$TRASH/elsewhere")" = victim &&
	! ls -A | grep "\.tmp-"
}

mode_0600() {
	test "$(stat -c %a "$1")" = 600
}

test_expect_success 'setup: a recording with allocation data' '
	offheap record --exact -i 50ms -o rec.db -- "$HELPERS/mallocleak" 1 >/dev/null 2>rec.err &&
	mode_0600 rec.db
'

test_expect_success 'report --format pprof -o' '
	plant pb &&
	test_exit_code 1 offheap report rec.db --format pprof -o pb.victim 2>err.pb.victim &&
	test_exit_code 1 offheap report rec.db --format pprof -o pb.dangling 2>err.pb.dangling &&
	refused pb &&
	offheap report rec.db --format pprof -o out.pb.gz &&
	gzip -t out.pb.gz && mode_0600 out.pb.gz
'

test_expect_success 'report --format html -o' '
	plant html &&
	test_exit_code 1 offheap report rec.db --format html -o html.victim 2>err.html.victim &&
	test_exit_code 1 offheap report rec.db --format html -o html.dangling 2>err.html.dangling &&
	refused html &&
	offheap report rec.db --format html -o out.html &&
	grep -q "<html" out.html && mode_0600 out.html
'

test_expect_success 'trace -o: a new file and an append' '
	plant tr &&
	test_exit_code 1 offheap trace -o tr.victim -- true >/dev/null 2>err.tr.victim &&
	test_exit_code 1 offheap trace -o tr.dangling -- true >/dev/null 2>err.tr.dangling &&
	refused tr &&
	offheap trace -o tr.db -- true >/dev/null &&
	mode_0600 tr.db &&
	test "$(sqlite3 tr.db "PRAGMA application_id")" = 1330006096 &&
	offheap trace -o tr.db -- true >/dev/null &&
	test "$(sqlite3 tr.db "SELECT count(*) FROM trace_runs")" = 2 &&
	mode_0600 tr.db
'

test_expect_success 'dump -o, and its .json beside it' '
	plant dump &&
	test_exit_code 1 offheap dump $pid $addr+4K -o dump.victim 2>err.dump.victim &&
	test_exit_code 1 offheap dump $pid $addr+4K -o dump.dangling 2>err.dump.dangling &&
	refused dump &&
	ln -s "$TRASH/elsewhere/victim" side.bin.json &&
	test_exit_code 1 offheap dump $pid $addr+4K -o side.bin 2>err &&
	grep -q "side.bin.json. is a symbolic link" err &&
	test ! -e side.bin && test -L side.bin.json &&
	cmp "$TRASH/victim.orig" "$TRASH/elsewhere/victim" &&
	offheap dump $pid $addr+4K -o out.bin 2>/dev/null &&
	mode_0600 out.bin && mode_0600 out.bin.json &&
	! ls -A | grep "\.tmp-"
'

test_expect_success 'dump -o: an existing FILE or FILE.json is kept without --force' '
	echo mine >exists.bin &&
	test_exit_code 1 offheap dump $pid $addr+4K -o exists.bin 2>err &&
	grep -q "^offheap: error: .exists.bin. already exists" err &&
	grep -q "^hint: use --force" err &&
	test "$(cat exists.bin)" = mine && test ! -e exists.bin.json &&
	echo mine >only.bin.json &&
	test_exit_code 1 offheap dump $pid $addr+4K -o only.bin 2>err &&
	grep -q "^offheap: error: .only.bin.json. already exists" err &&
	test ! -e only.bin && test "$(cat only.bin.json)" = mine &&
	offheap dump $pid $addr+4K -o exists.bin --force 2>/dev/null &&
	test "$(wc -c <exists.bin)" = 4096 && mode_0600 exists.bin && mode_0600 exists.bin.json &&
	! ls -A | grep "\.tmp-"
'

test_expect_success 'snap -o, with --force too' '
	plant snap &&
	test_exit_code 1 offheap snap $pid -o snap.victim 2>err.snap.victim &&
	test_exit_code 1 offheap snap $pid -o snap.dangling 2>err.snap.dangling &&
	refused snap &&
	test_exit_code 1 offheap snap $pid --force -o snap.victim 2>err.snap.victim &&
	test_exit_code 1 offheap snap $pid --force -o snap.dangling 2>err.snap.dangling &&
	refused snap &&
	offheap snap $pid -o out.db >/dev/null &&
	mode_0600 out.db
'

test_expect_success 'nmt baseline -o' '
	wait_ready "$TRASH/jvm/ready" 60 &&
	plant nmt &&
	test_exit_code 1 offheap nmt $NPID baseline -o nmt.victim >/dev/null 2>err.nmt.victim &&
	test_exit_code 1 offheap nmt $NPID baseline -o nmt.dangling >/dev/null 2>err.nmt.dangling &&
	refused nmt &&
	offheap nmt $NPID baseline -o base.nmt >/dev/null &&
	head -n 1 base.nmt | grep -q "^offheap-nmt-baseline 1 pid=$NPID " &&
	mode_0600 base.nmt
'

test_expect_success 'nmt baseline -o: an existing FILE is kept without --force' '
	echo mine >kept.nmt &&
	test_exit_code 1 offheap nmt $NPID baseline -o kept.nmt >out 2>err &&
	grep -q "^offheap: error: .kept.nmt. already exists" err &&
	grep -q "^hint: use --force" err &&
	test "$(cat kept.nmt)" = mine && ! test -s out &&
	offheap nmt $NPID baseline -o kept.nmt --force >/dev/null &&
	head -n 1 kept.nmt | grep -q "^offheap-nmt-baseline 1 pid=$NPID " &&
	mode_0600 kept.nmt &&
	test_exit_code 2 offheap nmt $NPID baseline --force 2>err &&
	grep -q "force goes with" err
'


test_expect_success 'every file offheap writes is 0600 whatever the umask' '
	for u in 000 022 027; do
		say "umask $u" &&
		rm -rf "m$u" && mkdir "m$u" &&
		(
			umask $u &&
			cd "m$u" &&
			offheap snap $pid -o snap.db >/dev/null &&
			offheap watch $pid -d 300ms -i 100ms -o watch.db >/dev/null &&
			offheap doctor $pid -q -d 1s -o doctor.db >/dev/null &&
			offheap record --exact -o rec.db -- "$HELPERS/mallocleak" 1 >/dev/null 2>&1 &&
			offheap trace -o trace.db -- /bin/true >/dev/null &&
			offheap report rec.db --format pprof -o rep.pb.gz &&
			offheap report rec.db --format html -o rep.html &&
			offheap dump $pid $addr+4096 -o dump.bin >/dev/null &&
			offheap nmt $NPID baseline -o base.nmt >/dev/null
		) || return 1
		for f in snap.db watch.db doctor.db rec.db trace.db rep.pb.gz rep.html dump.bin \
			dump.bin.json base.nmt; do
			test "$(stat -c %a "m$u/$f")" = 600 ||
				{ echo "umask $u: $f is $(stat -c %a "m$u/$f")"; return 1; }
		done || return 1
		test "$(ls -A "m$u" | wc -l)" = 10 || { ls -la "m$u"; return 1; }
	done
'

test_done
