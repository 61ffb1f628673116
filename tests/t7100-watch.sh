#!/bin/sh
# offheap watch on C programs: the trend of steady mmap growth (its rate
# against the leaker's own count), a steady process, a one-off step; plain
# lines and the terminal view; what the recording holds and what reads it
# (sqlite3, diff, doctor); SIGINT, a target that exits or is killed, a watch
# killed by SIGKILL, a full disk; bad input.
. "$(dirname "$0")/test-lib.sh"

# The tmpfs of the full-disk test is unmounted however the script ends.
SMALL="$TRASH/small"
trap 'umount "$SMALL" 2>/dev/null; _cleanup' EXIT

ESC=$(printf '\033')
now_ns() { date +%s%N; }
mmap_bytes() { sed -n 's/^mmap_bytes //p' "$1"; }
# samples FILE: the number of samples in a recording.
samples() { sqlite3 "$1" "SELECT count(*) FROM sample"; }
# plain_lines FILE: the lines 'watch' printed, one per sample (they start with a time).
plain_lines() { grep -c '^time=[0-9][0-9]:[0-9][0-9]:[0-9][0-9] rss=' "$1"; }
# readable FILE: sqlite3 finds it intact and doctor reads it.
readable() {
	test "$(sqlite3 "$1" "PRAGMA integrity_check")" = ok &&
		offheap doctor "$1" --json >"$1.doctor.json" &&
		jq -e '.live | not' "$1.doctor.json" >/dev/null
}

test_expect_success 'steady mmap growth is growing, at the rate the leaker grew' '
	start_bg "$HELPERS/leaker" --mmap-thread grower --rate 8 --status lst --ready lrd \
		--lifetime 30 &&
	leaker=$BG_PID &&
	wait_ready lrd &&
	b0=$(mmap_bytes lst) && t0=$(now_ns) &&
	offheap watch $leaker -i 200ms -d 3s --json -o leak.db >leak.json &&
	b1=$(mmap_bytes lst) && t1=$(now_ns) &&
	stop_bg $leaker &&
	true_rate=$(awk "BEGIN { printf \"%.0f\", ($b1 - $b0) / (($t1 - $t0) / 1e9) * 3600 }") &&
	jq -e ".samples >= 10 and .ended == \"duration reached\" and (.is_jvm | not)" leak.json &&
	jq -e ".trends[] | select(.figure == \"class:anon\") |
		.trend == \"growing\" and .confidence > 0.8" leak.json &&
	got=$(jq ".trends[] | select(.figure == \"class:anon\") | .per_hour" leak.json) &&
	say "class:anon per hour: watch $got, leaker $true_rate" &&
	within_pct "$got" "$true_rate" 25
'

test_expect_success 'a steady process is flat' '
	start_bg "$HELPERS/anonhold" 32 hrd 30 &&
	hold=$BG_PID &&
	wait_ready hrd &&
	offheap watch $hold -i 200ms -d 2s --json -o hold.db >hold.json &&
	stop_bg $hold &&
	jq -e ".trends[] | select(.figure == \"rss\") | .trend == \"flat\"" hold.json &&
	jq -e "[.trends[] | select(.trend == \"growing\")] | length == 0" hold.json
'

# 72 MiB, not 64: a 64 MiB anonymous mapping that the kernel happens to place at a
# 64 MiB boundary (1 in 32 with its 2 MiB alignment) is what a glibc arena heap looks
# like, and is counted as class:arena, not class:anon.
test_expect_success 'a one-off 72 MiB step is a step with no confidence, not growing' '
	start_bg "$HELPERS/stepper" 72 1200 srd 30 &&
	stepper=$BG_PID &&
	wait_ready srd &&
	offheap watch $stepper -i 200ms -d 3s --json -o step.db >step.json &&
	stop_bg $stepper &&
	grep stepped srd &&
	for f in rss anon class:anon; do
		jq -e ".trends[] | select(.figure == \"$f\") |
			.trend == \"step\" and .change >= 72 * 1048576 and .confidence < 0.5" \
			step.json || return 1
	done &&
	jq -e "[.trends[] | select(.trend == \"growing\")] | length == 0" step.json
'

test_expect_success 'an executor per task: pools cut at three lengths are one growing group' '
	start_bg "$HELPERS/threadleak" blocked 100 poolrd 60 8 &&
	pools=$BG_PID &&
	wait_ready poolrd &&
	wait_for 60 "test \$(ls /proc/$pools/task | wc -l) -ge 120" &&
	offheap watch $pools -i 200ms -d 2s --json -o pools.db >pools.json &&
	stop_bg $pools &&
	say "groups: $(jq -c "[.trends[] | select(.figure | startswith(\"tgroup:\")) | .figure]" pools.json)" &&
	jq -e "[.trends[] | select(.figure | startswith(\"tgroup:pool-\"))] | length == 1" pools.json &&
	jq -e ".trends[] | select(.figure == \"tgroup:pool-#-thread-#\") | .trend == \"growing\"" \
		pools.json
'

start_bg "$HELPERS/leaker" --mmap-thread grower --rate 8 --chunk 512k --ready prd --lifetime 60
pleaker=$BG_PID
wait_ready prd || { echo "not ok - the leaker did not start"; exit 1; }

test_expect_success 'not a terminal: one plain line per sample, then the summary' '
	offheap watch $pleaker -i 200ms -d 2s -o plain.db >plain.out 2>plain.err &&
	test ! -s plain.err &&
	n=$(plain_lines plain.out) &&
	say "$n lines for 2 s at 200 ms" &&
	test "$n" -ge 8 && test "$n" -le 11 &&
	! grep -q "$ESC" plain.out &&
	grep "^time=" plain.out | awk "{
		for (i = 1; i <= NF; i++)
			if (\$i !~ /^[a-z_.]+=[^ =]+\$/ || seen[NR, substr(\$i, 1, index(\$i, \"=\"))]++)
				exit 1
	}" &&
	grep "^time=.* rss.anon=[0-9.]*[KMG]iB" plain.out &&
	grep "^$n samples of $pleaker (leaker) over 00:02 (duration reached) in .plain.db.\$" \
		plain.out &&
	grep "^FIGURE  *FIRST  *LAST  *CHANGE  *RATE/H  *R2  *CONF  *TREND\$" plain.out &&
	grep "^class:anon .* growing\$" plain.out &&
	grep -E "^class:anon +[0-9.]+[BKMG] +[0-9.]+[KMG] +\+[0-9.]+[KMG] +\+[0-9.]+[KMG]/h " plain.out
'

test_expect_success 'the table of trends takes --columns, --no-headings, --bytes' '
	offheap watch $pleaker -i 200ms -d 1s -o cols.db --columns figure,last,trend --bytes \
		--no-headings >cols.out &&
	! grep -q "^FIGURE" cols.out &&
	grep -E "^rss +[0-9]+ +[a-z-]+\$" cols.out &&
	test "$(grep -E "^class:anon " cols.out | awk "{ print NF }")" = 3 &&
	test_exit_code 2 offheap watch $pleaker -d 1s --columns figure,size 2>err &&
	grep -x "offheap: error: unknown column .size. (valid: figure,first,last,change,per_hour,r2,confidence,trend)" err
'

test_expect_success 'the recording: a sample per line, class totals each, regions first and last' '
	n=$(plain_lines plain.out) &&
	test "$(samples plain.db)" -eq "$n" &&
	test "$(sqlite3 plain.db "SELECT value FROM meta WHERE key = '\''kind'\''")" = recording &&
	test "$(sqlite3 plain.db "SELECT count(DISTINCT sample_id) FROM class_total")" -eq "$n" &&
	test "$(sqlite3 plain.db "SELECT count(*) FROM class_total
		WHERE class = '\''anon'\''")" -eq "$n" &&
	sqlite3 plain.db "SELECT DISTINCT sample_id FROM region ORDER BY 1" >with-regions &&
	sqlite3 plain.db "SELECT min(id) FROM sample UNION ALL SELECT max(id) FROM sample" >ends &&
	cmp ends with-regions &&
	test "$(sqlite3 plain.db "SELECT count(DISTINCT sample_id) FROM sample_tgroup")" -eq "$n" &&
	sqlite3 plain.db "SELECT name FROM sample_tgroup WHERE sample_id = 1" | grep -x grower
'

test_expect_success '--regions-every stores the mappings of more samples' '
	offheap watch $pleaker -i 200ms -d 2s --regions-every 500ms -o every.db >/dev/null &&
	r=$(sqlite3 every.db "SELECT count(DISTINCT sample_id) FROM region") &&
	say "$r of $(samples every.db) samples hold regions" &&
	test "$r" -ge 4 && test "$r" -lt "$(samples every.db)"
'

test_expect_success 'diff reads the recording: first sample against the last' '
	offheap diff plain.db --json >diff.json &&
	jq -e ".classes[] | select(.class == \"anon\") | .rss_delta > 4 * 1048576" diff.json
'

test_expect_success 'doctor reads the recording and finds the mmap growth' '
	offheap doctor plain.db --json >pdoc.json &&
	jq -e "(.live | not) and .leak" pdoc.json &&
	jq -e ".findings[0].pattern == \"mmap-growth\" and .findings[0].severity == \"leak\"" \
		pdoc.json
'

test_expect_success 'on a terminal: the live view with the CLASS header and a row per class' '
	script -qc "$OFFHEAP watch $pleaker -i 200ms -d 1s -o tty.db" /dev/null >tty.out &&
	tr -d "\r" <tty.out >tty.txt &&
	grep "^$ESC\[H$ESC\[2Joffheap watch $pleaker (leaker)  .* elapsed" tty.txt &&
	grep "^CLASS  *MAPS  *RSS  *CHANGE  *RATE  *CONF  *TREND\$" tty.txt &&
	grep "^anon  *[0-9][0-9]*  *[0-9.]* [KMG]iB  *+[0-9.]* [KMG]iB  *+[0-9.]* [KMG]iB/h  *[01]\.[0-9][0-9]  *growing\$" tty.txt &&
	grep "^lib  *[0-9]" tty.txt &&
	grep "samples of $pleaker (leaker) over" tty.txt
'

# watch_bg FILE.db OUT ARGS...: a plain watch of $pleaker in the background into
# FILE.db, its output in OUT; sets $BG_PID (exec: the PID is the watch itself).
watch_bg() {
	_db=$1 _out=$2
	shift 2
	start_bg sh -c 'exec "$0" watch "$@"' "$OFFHEAP" "$@" -o "$_db" >"$_out" 2>&1
}

test_expect_success 'SIGINT ends the watch with its summary, exit 0, the file complete' '
	watch_bg int.db int.out $pleaker -i 200ms --plain &&
	w=$BG_PID &&
	wait_for 10 "test \$(plain_lines int.out) -ge 3" &&
	kill -INT $w &&
	wait $w &&
	grep "(stopped by a signal) in .int.db.\$" int.out &&
	test "$(samples int.db)" -eq "$(plain_lines int.out)" &&
	readable int.db &&
	sqlite3 int.db "SELECT DISTINCT sample_id FROM region ORDER BY 1" >with-regions &&
	sqlite3 int.db "SELECT min(id) FROM sample UNION ALL SELECT max(id) FROM sample" >ends &&
	cmp ends with-regions
'

test_expect_success 'SIGKILL of watch: the file stays readable, at most one sample lost' '
	watch_bg kill.db kill.out $pleaker -i 200ms &&
	w=$BG_PID &&
	wait_for 10 "test \$(plain_lines kill.out) -ge 5" &&
	kill -KILL $w &&
	{ wait $w; test $? -eq 137; } &&
	printed=$(plain_lines kill.out) &&
	got=$(samples kill.db) &&
	say "printed $printed, recorded $got" &&
	test "$got" -ge $((printed - 1)) &&
	readable kill.db &&
	! ls -a | grep "^\.kill\.db\.tmp-"
'
stop_bg $pleaker

test_expect_success 'a target that exits mid-watch ends it: "the process exited", exit 0' '
	start_bg "$HELPERS/leaker" --mmap-thread grower --rate 8 --ready erd --lifetime 1.5 &&
	wait_ready erd &&
	offheap watch $BG_PID -i 200ms -d 20s --regions-every 400ms -o exit.db >exit.out &&
	grep "(the process exited) in .exit.db.\$" exit.out &&
	test "$(samples exit.db)" -eq "$(plain_lines exit.out)" &&
	readable exit.db &&
	say "samples with regions: $(sqlite3 exit.db "SELECT group_concat(DISTINCT sample_id)
		FROM region")" &&
	offheap diff exit.db --json >exit.diff.json &&
	jq -e ".classes[] | select(.class == \"anon\") | .rss_delta > 0" exit.diff.json &&
	jq -e ".classes[] | select(.class == \"lib\") | .rss_after > 0 and .mappings_delta == 0" \
		exit.diff.json &&
	jq -e "[.mappings[] | select(.state == \"gone\")] | length == 0" exit.diff.json &&
	offheap watch $BG_PID -d 1s -o exit2.db 2>exit2.err;
	test $? -eq 1 && grep "^offheap: error: no process $BG_PID\$" exit2.err
'

test_expect_success 'diff refuses a recording whose only mappings are in its first sample' '
	sqlite3 exit.db "DELETE FROM region WHERE sample_id > 1" &&
	test_exit_code 1 offheap diff exit.db 2>err &&
	grep "^offheap: error: no sample of .exit.db. after the first holds the mappings\$" err &&
	grep "^hint: .*offheap doctor exit.db" err
'

test_expect_success 'SIGKILL of the target: the watch ends, exit 0, every sample kept' '
	start_bg "$HELPERS/leaker" --mmap-thread grower --rate 8 --ready krd --lifetime 30 &&
	target=$BG_PID &&
	wait_ready krd &&
	watch_bg tkill.db tkill.out $target -i 200ms -d 20s &&
	w=$BG_PID &&
	wait_for 10 "test \$(plain_lines tkill.out) -ge 4" &&
	kill -KILL $target &&
	wait $w &&
	grep "(the process exited) in .tkill.db.\$" tkill.out &&
	test "$(samples tkill.db)" -ge $(($(plain_lines tkill.out) - 1)) &&
	readable tkill.db &&
	jq -e ".samples == $(samples tkill.db)" tkill.db.doctor.json
'

if mkdir "$SMALL" && mount -t tmpfs -o size=256k tmpfs "$SMALL" 2>mount.err; then
	start_bg "$HELPERS/leaker" --maps 5000 --ready mrd --lifetime 60
	many=$BG_PID
	wait_ready mrd || { echo "not ok - the leaker did not start"; exit 1; }

	test_expect_success 'a full disk at the first sample: ENOSPC, a hint, no file left' '
		test_exit_code 1 offheap watch $many -i 200ms -d 2s -o "$SMALL/full.db" \
			>full.out 2>full.err &&
		cat full.err &&
		grep "^offheap: error: cannot write .*: database or disk is full\$" full.err &&
		grep "^hint: the disk holding .$SMALL/full.db. is full" full.err &&
		kill -0 $many &&
		test -z "$(ls -A "$SMALL")"
	'

	test_expect_success 'a full disk mid-run: ENOSPC, exit 1, the samples before it kept' '
		umount "$SMALL" &&
		mount -t tmpfs -o size=448k tmpfs "$SMALL" &&
		test_exit_code 1 offheap watch $many -i 200ms -d 2s -o "$SMALL/mid.db" \
			>mid.out 2>mid.err &&
		cat mid.err &&
		grep "^offheap: error: cannot write .$SMALL/mid.db.: database or disk is full\$" \
			mid.err &&
		grep "^hint: the disk is full: the recording keeps every sample before this one" \
			mid.err &&
		kill -0 $many &&
		test "$(samples "$SMALL/mid.db")" -eq "$(plain_lines mid.out)" &&
		readable "$SMALL/mid.db" &&
		! ls -A "$SMALL" | grep "\.tmp-"
	'
	stop_bg $many
	umount "$SMALL"
else
	test_skip 'a full disk: ENOSPC, a hint, the target unharmed' \
		"cannot mount a tmpfs: $(cat mount.err)"
fi

test_expect_success 'bad input: no process, an existing file, bad -i/-d, a directory' '
	nopid=$(dead_pid) &&
	test_exit_code 1 offheap watch $nopid -d 1s 2>err &&
	test "$(cat err)" = "offheap: error: no process $nopid" &&
	start_bg "$HELPERS/anonhold" 1 brd 30 &&
	wait_ready brd &&
	: >exists.db &&
	test_exit_code 1 offheap watch $BG_PID -d 1s -o exists.db 2>err &&
	grep "^offheap: error: .exists.db. already exists\$" err &&
	grep "^hint: use --force" err &&
	test ! -s exists.db &&
	for i in 10ms 2h abc 0 -1s ""; do
		test_exit_code 2 offheap watch $BG_PID -i "$i" -d 1s 2>err &&
		grep "^offheap: error: --interval takes a duration from 100ms to 1h, not " err || return 1
	done &&
	for d in 0 abc -5s; do
		test_exit_code 2 offheap watch $BG_PID -d "$d" 2>err &&
		grep "^offheap: error: --duration takes a duration of 1ms or more, not " err || return 1
	done &&
	test_exit_code 2 offheap watch $BG_PID --regions-every nope 2>err &&
	test_exit_code 2 offheap watch 2>err &&
	grep "which process" err &&
	test_exit_code 2 offheap watch $BG_PID $BG_PID 2>err &&
	test_exit_code 2 offheap watch $BG_PID --bogus 2>err &&
	mkdir adir &&
	test_exit_code 1 offheap watch $BG_PID -d 1s -o adir 2>err &&
	grep "^offheap: error: .adir. is a directory\$" err &&
	test -z "$(ls -A adir)" &&
	test_exit_code 1 offheap watch $BG_PID -d 1s -o nodir/x.db 2>err &&
	grep "^offheap: error: cannot create .nodir/x.db.: No such file or directory\$" err &&
	offheap watch --help >help &&
	grep "^Examples:" help
'

test_done
