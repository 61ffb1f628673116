#!/bin/sh
# The tracker's file on a full file system. A store to a hole of a shared file mapping on a
# full file system raises SIGBUS, and on tmpfs any touch of one does: the recorded command
# must never die of its tracker, nor the recorder of its reads. The file is put (TMPDIR) on
# a 512 KiB tmpfs filled to leave a few sizes free: no room to start, room for the first
# page only, room for some of the 256 stacks of `trackee stacks 8`, room enough. The
# command's output and exit code stay its own, the totals stay exact (stacks with no room
# are counted under "other"), and offheap says once what happened.
. "$(dirname "$0")/test-lib.sh"

small_disk 512

# leaked FILE: the report's "leaked at exit" line of recording FILE.
leaked() { offheap report "$1" | grep "^leaked at exit:"; }

# no_left: the tracker's files are gone from the tmpfs.
no_left() { ! ls "$SMALL" | grep "^offheap-"; }

test_expect_success 'with room: the reference run' '
	fill 500 &&
	TMPDIR="$SMALL" offheap record --exact -o ref.db -- "$HELPERS/trackee" stacks 8 \
		>ref.out 2>ref.err &&
	cat ref.err &&
	test -s ref.out &&
	! grep "file system" ref.err &&
	leaked ref.db >ref.leak &&
	cat ref.leak &&
	test "$(cat ref.out)" = 16384 &&
	test "$(offheap report --json ref.db | jq ".sites | length")" -ge 256 &&
	! offheap report ref.db | grep "incomplete" &&
	no_left
'

test_expect_success 'no room at all: the command runs unrecorded, and offheap says why' '
	fill 0 &&
	TMPDIR="$SMALL" offheap record --exact -o none.db -- "$HELPERS/trackee" stacks 8 \
		>none.out 2>none.err &&
	cat none.err &&
	diff -u ref.out none.out &&
	test "$(grep -c "^offheap: warning: the tracker could not start: the file system of its file .*is full" none.err)" = 1 &&
	grep "^hint: free space there, or set TMPDIR" none.err &&
	! grep "statically linked" none.err &&
	no_left
'

# Room for the header page and a few more (256 stacks of 832 bytes need 53 pages): the
# stacks with no room are counted under "other", so the totals are those of the reference run.
for k in 4 12 60 120; do
	test_expect_success "$k KiB free: the command unharmed, the totals exact, the figures said incomplete" '
		fill $k &&
		TMPDIR="$SMALL" offheap record --exact -o r$k.db -- "$HELPERS/trackee" stacks 8 \
			>r$k.out 2>r$k.err &&
		cat r$k.err &&
		diff -u ref.out r$k.out &&
		test "$(grep -c "^offheap: warning: the file system of the tracker.s file .* is full: allocations from call stacks first seen from now on are counted as \"other\"" r$k.err)" = 1 &&
		grep "^hint: free space there" r$k.err &&
		leaked r$k.db >r$k.leak &&
		diff -u ref.leak r$k.leak &&
		offheap report r$k.db | grep "(the tracker.s file system was full: figures are incomplete)" &&
		offheap report --json r$k.db | jq -e ".tracker_disk_full == true and .incomplete == true" &&
		offheap report --json ref.db | jq -e ".tracker_disk_full == false" &&
		offheap report --json r$k.db | jq ".sites | length" >r$k.sites &&
		test "$(cat r$k.sites)" -lt 257 &&
		no_left
	'
done

test_expect_success 'the more room, the more stacks kept apart from "other"' '
	cat r4.sites r12.sites r60.sites r120.sites &&
	test "$(cat r4.sites)" -le "$(cat r12.sites)" &&
	test "$(cat r12.sites)" -lt "$(cat r60.sites)" &&
	test "$(cat r60.sites)" -lt "$(cat r120.sites)"
'

# A real program with hundreds of call stacks, at a few sizes: it runs to its end with its
# own output whatever the room.
cat >churn.py <<'EOF'
import json, re, zlib
rows = [{"k%d" % i: [i, str(i) * 3, {"x": i / 7}]} for i in range(4000)]
text = json.dumps(rows)
pat = re.compile(r'"k(\d+)7"')
print(len(text), len(pat.findall(text)), zlib.crc32(zlib.compress(text.encode())))
EOF
python3 churn.py >py.ref

for k in 0 8 24 64; do
	test_expect_success "python3 with $k KiB free: its own output and exit code" '
		fill $k &&
		TMPDIR="$SMALL" offheap record --exact -o py$k.db -- python3 churn.py >py$k.out 2>py$k.err &&
		cat py$k.err &&
		diff -u py.ref py$k.out &&
		grep "file system .*is full" py$k.err &&
		no_left
	'
done

# runs FILE: the runs of recording FILE (report --json lists them when there are several).
runs() { offheap report --json "$1" | jq "[.runs // [] | length, 1] | max"; }

test_expect_success 'record --follow-fork, little room: every process ends as it would' '
	fill 500 &&
	"$HELPERS/forkleak" 3 >fork.ref; echo $? >fork.rc &&
	TMPDIR="$SMALL" offheap record --exact --follow-fork -o fkref.db -- "$HELPERS/forkleak" 3 \
		>/dev/null &&
	test "$(runs fkref.db)" = 4 &&
	told=0 &&
	for k in 8 20 40; do
		fill $k &&
		{ TMPDIR="$SMALL" offheap record --exact --follow-fork -o fk$k.db -- \
			"$HELPERS/forkleak" 3 >fk$k.out 2>fk$k.err; echo $? >fk$k.rc; } &&
		cat fk$k.err &&
		diff -u fork.ref fk$k.out &&
		diff -u fork.rc fk$k.rc &&
		! grep -i "bus error" fk$k.err &&
		say "$k KiB free: $(runs fk$k.db) runs" &&
		if [ "$(runs fk$k.db)" -lt 4 ]; then
			test "$(grep -c "^offheap: warning: processes of the command are not recorded: the file system of their files. directory .* is full" fk$k.err)" = 1 &&
			told=$((told + 1))
		fi &&
		no_left || return 1
	done &&
	test $told -ge 1
'

test_done
