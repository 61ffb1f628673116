#!/bin/sh
# offheap diff with files that are not snapshots: each gets its own clear error and exit 1,
# never a crash or a hang.
. "$(dirname "$0")/test-lib.sh"

start_bg "$HELPERS/spawner" --threads 1 --ready ready --lifetime 100
pid=$BG_PID
wait_ready ready || exit 1
offheap snap $pid -o good.db 2>/dev/null

# bad_file NAME 'message regex': diff good.db NAME and diff NAME good.db both fail so.
bad_file() {
	for args in "good.db $1" "$1 good.db" "$pid --since $1"; do
		test_exit_code 1 offheap diff $args >out 2>err || return 1
		cat err
		test ! -s out || { echo "output on stdout"; return 1; }
		grep -q "^offheap: error: $2$" err || { echo "no '$2'"; return 1; }
	done
}

test_expect_success 'setup: a good snapshot' '
	test -s good.db && offheap diff good.db good.db >/dev/null
'

test_expect_success 'a file that does not exist' '
	bad_file absent.db "cannot open .absent.db.: No such file or directory"
'

test_expect_success 'an empty file' '
	: >empty.db &&
	bad_file empty.db ".empty.db. is empty, not an offheap snapshot" &&
	grep -q "^hint: give a file written by .offheap snap." err
'

test_expect_success 'a text file' '
	printf "pid 4242\nrss 1234\n" >text.db &&
	bad_file text.db ".text.db. is not an offheap snapshot (not an SQLite database)"
'

test_expect_success 'a truncated snapshot' '
	size=$(wc -c <good.db) &&
	head -c $((size / 2)) good.db >half.db &&
	bad_file half.db ".half.db. is truncated: [0-9]* bytes of $size" &&
	grep -q "^hint: the file was cut short" err &&
	head -c 50 good.db >tiny.db &&
	bad_file tiny.db ".tiny.db. is truncated: 50 bytes, less than an SQLite header" &&
	head -c $((size - 1)) good.db >less1.db &&
	bad_file less1.db ".less1.db. is truncated: .*"
'

test_expect_success 'another program'\''s SQLite database' '
	sqlite3 foreign.db "CREATE TABLE sample (id INTEGER); INSERT INTO sample VALUES (1);" &&
	bad_file foreign.db ".foreign.db. is an SQLite database of another program, not an offheap snapshot (application_id 0x00000000)"
'

test_expect_success 'a snapshot of a newer format' '
	cp good.db newer.db &&
	sqlite3 newer.db "PRAGMA user_version = 99" &&
	bad_file newer.db ".newer.db. has format version 99; this offheap reads versions 1 to 1"
'

test_expect_success 'a snapshot whose tables were dropped' '
	cp good.db damaged.db &&
	sqlite3 damaged.db "DROP TABLE region" &&
	bad_file damaged.db ".damaged.db. is damaged: it has no table .region."
'

test_expect_success 'a snapshot with no sample' '
	cp good.db nosample.db &&
	sqlite3 nosample.db "DELETE FROM region; DELETE FROM thread; DELETE FROM class_total; DELETE FROM sample" &&
	bad_file nosample.db ".nosample.db. holds no sample"
'

test_expect_success 'a directory' '
	mkdir dir.db &&
	bad_file dir.db ".dir.db. is a directory, not a snapshot file"
'

test_expect_success 'garbage in the middle of a good file: an error, not a crash' '
	size=$(wc -c <good.db) &&
	cp good.db garbled.db &&
	tr "\\000" "\\377" </dev/zero | head -c $((size - 4096)) >ff &&
	dd if=ff of=garbled.db bs=1024 seek=2 conv=notrunc 2>/dev/null &&
	offheap diff good.db garbled.db >/dev/null 2>err
	rc=$?
	cat err
	test $rc -eq 1 && grep -q "^offheap: error: cannot read .garbled.db.: database disk image is malformed$" err
'

test_done
