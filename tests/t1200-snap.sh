#!/bin/sh
# offheap snap: writes one sample of a live process into an SQLite file, atomically,
# and refuses what it must (missing PID, existing file, bad -o).
. "$(dirname "$0")/test-lib.sh"

start_bg "$HELPERS/spawner" --threads 3 --ready ready --lifetime 100
pid=$BG_PID
wait_ready ready || exit 1

# Nothing but the file itself may be left in a directory by snap, success or failure.
only_files() {
	want="$1"
	shift
	got=$(ls -A "$@" | tr '\n' ' ')
	[ "$got" = "$want" ] || { echo "files: '$got', want '$want'"; return 1; }
}

test_expect_success 'snap writes a snapshot and a summary line' '
	mkdir out &&
	offheap snap $pid -o out/a.db 2>err &&
	cat err &&
	grep -q "^offheap: saved $pid (spawner) to .out/a.db.: RSS .*, 4 threads$" err &&
	only_files "a.db " out
'

test_expect_success 'the file is ours: application_id, user_version, meta' '
	test "$(sqlite3 out/a.db "PRAGMA application_id")" = 1330006096 &&
	test "$(sqlite3 out/a.db "PRAGMA user_version")" = 1 &&
	test "$(sqlite3 out/a.db "SELECT value FROM meta WHERE key = '\''kind'\''")" = snapshot &&
	test "$(sqlite3 out/a.db "SELECT count(*) FROM sample")" = 1
'

test_expect_success 'regions, threads and process identity match /proc' '
	test "$(sqlite3 out/a.db "SELECT count(*) FROM region")" = "$(wc -l </proc/$pid/maps)" &&
	test "$(sqlite3 out/a.db "SELECT count(*) FROM thread")" = 4 &&
	sqlite3 out/a.db "SELECT name FROM thread ORDER BY tid" >names &&
	grep -qx early-2 names &&
	test "$(sqlite3 out/a.db "SELECT pid || \" \" || start_time FROM process")" = \
		"$pid $(cut -d")" -f2 /proc/$pid/stat | cut -d" " -f21)" &&
	test "$(sqlite3 out/a.db "SELECT exe FROM process")" = "$(readlink /proc/$pid/exe)"
'

test_expect_success 'totals equal smaps_rollup and class totals add up to them' '
	rss_kb=$(awk "/^Rss:/ {print \$2}" /proc/$pid/smaps_rollup) &&
	test "$(sqlite3 out/a.db "SELECT rss / 1024 FROM sample")" = "$rss_kb" &&
	test "$(sqlite3 out/a.db "SELECT sum(rss) FROM class_total")" = \
		"$(sqlite3 out/a.db "SELECT sum(rss) FROM region")" &&
	test "$(sqlite3 out/a.db "SELECT count FROM class_total WHERE class = '\''stack'\''")" -ge 4
'

test_expect_success 'an existing file is kept without --force (exit 1)' '
	cksum out/a.db >before &&
	test_exit_code 1 offheap snap $pid -o out/a.db 2>err &&
	cat err &&
	grep -q "^offheap: error: .out/a.db. already exists$" err &&
	grep -q "^hint: use --force" err &&
	cksum out/a.db | cmp - before &&
	only_files "a.db " out
'

test_expect_success '--force replaces it' '
	sleep 0.01 &&
	offheap snap $pid -o out/a.db --force 2>err &&
	! cksum out/a.db | cmp -s - before &&
	only_files "a.db " out
'

test_expect_success '--no-threads stores no thread rows' '
	offheap snap $pid -o out/b.db --no-threads 2>/dev/null &&
	test "$(sqlite3 out/b.db "SELECT count(*) FROM thread")" = 0 &&
	test "$(sqlite3 out/b.db "SELECT nthreads IS NULL FROM sample")" = 1 &&
	rm out/b.db
'

test_expect_success '--json prints the summary on stdout' '
	offheap snap $pid -o out/j.db --json >j.json 2>/dev/null &&
	test "$(jq -r ".file, .pid, .name, .threads, .mappings" j.json | tr "\n" " ")" = \
		"out/j.db $pid spawner 4 $(wc -l </proc/$pid/maps) " &&
	test "$(jq .rss j.json)" = "$(sqlite3 out/j.db "SELECT rss FROM sample")" &&
	rm out/j.db
'

test_expect_success 'a process name works as PID' '
	offheap snap spawner -o out/c.db 2>/dev/null &&
	test "$(sqlite3 out/c.db "SELECT pid FROM process")" = $pid &&
	rm out/c.db
'

test_expect_success 'no such process: exit 1, exact message, no file' '
	test_exit_code 1 offheap snap 4242999 -o out/x.db 2>err &&
	cat err &&
	test "$(cat err)" = "offheap: error: no process 4242999" &&
	only_files "a.db " out
'

test_expect_success '-o into a directory that does not exist: exit 1' '
	test_exit_code 1 offheap snap $pid -o nosuch/dir/x.db 2>err &&
	cat err &&
	grep -q "^offheap: error: cannot create .nosuch/dir/x.db.: No such file or directory$" err &&
	test ! -e nosuch
'

test_expect_success '-o below a file (not a directory): exit 1' '
	test_exit_code 1 offheap snap $pid -o out/a.db/x.db 2>err &&
	cat err &&
	grep -q "^offheap: error: cannot create .out/a.db/x.db.: Not a directory$" err
'

test_expect_success '-o into a directory that is not writable: exit 1, nothing left' '
	mkdir ro &&
	if [ "$(id -u)" = 0 ]; then
		# root writes anywhere but in sysfs, which refuses new files with EACCES
		dir=/sys/kernel
	else
		chmod 555 ro && dir=ro
	fi &&
	test_exit_code 1 offheap snap $pid -o $dir/x.db 2>err &&
	cat err &&
	grep -q "^offheap: error: cannot create .$dir/x.db.: Permission denied$" err &&
	test ! -e $dir/x.db && only_files "" ro
'

test_expect_success '-o onto a directory: exit 1' '
	test_exit_code 1 offheap snap $pid -o out --force 2>err &&
	grep -q "^offheap: error: .out. is a directory$" err
'

test_expect_success 'usage errors exit 2' '
	test_exit_code 2 offheap snap $pid 2>err && grep -q "o FILE is required" err &&
	test_exit_code 2 offheap snap -o x.db 2>err && grep -q "which process" err &&
	test_exit_code 2 offheap snap $pid $pid -o x.db 2>/dev/null &&
	test_exit_code 2 offheap snap $pid -o x.db --bogus 2>/dev/null &&
	test ! -e x.db
'

test_expect_success '--help ends with examples' '
	offheap snap --help >help &&
	grep -q "^EXAMPLES" help && grep -q "Exit status" help
'

test_done
