#!/bin/sh
# One command-line vocabulary (docs/ARCHITECTURE.md, "Options"): a short letter means the
# same long option in every command, read from each command's own getopt table (offheap
# --list-options CMD). The one documented exception: jstat's -t is --timestamp (the JDK's
# jstat), -t is --timeout everywhere else. Every table command takes the output options.
. "$(dirname "$0")/test-lib.sh"

# letters FILES...: "-x --long CMD" for each short letter of the listings opts.CMD.
letters() {
	for f in "$@"; do
		awk -F "	" -v cmd="${f#opts.}" '$2 != "" { print $2, ($1 == "" ? "(none)" : $1), cmd }' "$f"
	done
}

# clashes: the letters of stdin that name two long options, the exception left out.
clashes() {
	grep -v "^-t --timestamp jstat\$" | awk '{ print $1, $2 }' | sort -u | awk '{ print $1 }' |
		uniq -d
}

test_expect_success 'every command lists its options' '
	offheap --list-commands >cmds &&
	test "$(wc -l <cmds)" -ge 16 &&
	while read -r cmd; do
		offheap --list-options "$cmd" >"opts.$cmd" &&
		test -s "opts.$cmd" || return 1
	done <cmds
'

test_expect_success 'no short letter has two meanings across commands' '
	letters opts.* >all &&
	grep -q "^-t --timestamp jstat\$" all &&
	grep -q "^-t --timeout nmt\$" all &&
	clashes <all >bad &&
	test ! -s bad
'

test_expect_success 'the check finds a letter given a second meaning' '
	printf "%s\t%s\t%s\n" --since -s arg --help -h "" >opts.planted &&
	letters opts.* | clashes >bad &&
	test "$(cat bad)" = "-s"
'

test_expect_success 'the letters that moved: maps -o, nmt -s, serve -l are gone' '
	! grep -q "	-o	" opts.maps &&
	grep -q "^--output		arg\$" opts.maps &&
	grep -q "^--since		arg\$" opts.nmt &&
	grep -q "^--listen		arg\$" opts.serve &&
	test_exit_code 2 offheap serve -l 127.0.0.1:0 2>err &&
	test_exit_code 2 offheap nmt -s x 1 diff 2>err
'

test_expect_success 'every table command takes the output options, in the same words' '
	for cmd in ps maps diff nmt jstat trace watch; do
		for o in columns no-headings raw bytes; do
			grep -q "^--$o	" "opts.$cmd" || { echo "$cmd lacks --$o"; return 1; }
		done &&
		offheap "$cmd" --help >help &&
		grep -q "^      --no-headings   no header line\$" help &&
		grep -q "^      --bytes         sizes as exact byte counts" help || return 1
	done &&
	for cmd in ps maps diff jstat; do
		grep -q "^--output		arg\$" "opts.$cmd" || return 1
	done
'

test_expect_success 'a duration option is refused in the same words everywhere' '
	test_exit_code 2 offheap watch 1 --interval 10ms 2>err &&
	grep "^offheap: error: --interval takes a duration from 100ms to 1h, not .10ms.\$" err &&
	test_exit_code 2 offheap doctor 1 --interval 10ms 2>err &&
	grep "^offheap: error: --interval takes a duration from 100ms to 1h, not .10ms.\$" err &&
	test_exit_code 2 offheap serve --interval 10ms 1 2>err &&
	grep "^offheap: error: --interval takes a duration from 100ms to 1h, not .10ms.\$" err &&
	test_exit_code 2 offheap inspect 1 --malloc --budget 0 2>err &&
	grep "^offheap: error: --budget takes a duration of 1ms or more, not .0.\$" err &&
	test_exit_code 2 offheap jcmd --timeout soon 1 VM.version 2>err &&
	grep "^offheap: error: --timeout takes a duration from 1ms to 1h, not .soon.\$" err
'

test_expect_success 'a bad option: one error line in every command, glibc'"'"'s words, exit 2' '
	while read -r cmd; do
		test_exit_code 2 offheap $cmd --no-such-option 2>err &&
		printf "%s\n" "offheap: error: $cmd: unrecognized option '"'"'--no-such-option'"'"'" \
			"Try '"'"'offheap $cmd --help'"'"' for more information." >want &&
		diff -u want err || return 1
	done <cmds &&
	test_exit_code 2 offheap ps -Z 2>err &&
	grep -x "offheap: error: ps: invalid option -- .Z." err &&
	test_exit_code 2 offheap watch --interval 2>err &&
	grep -x "offheap: error: watch: option .--interval. requires an argument" err &&
	test_exit_code 2 offheap --no-such-option 2>err &&
	test "$(head -1 err)" = "offheap: error: unrecognized option '"'"'--no-such-option'"'"'"
'

test_done
