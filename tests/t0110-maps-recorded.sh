#!/bin/sh
# offheap maps on a recorded /proc tree (--proc-root): golden output, and hostile trees.
. "$(dirname "$0")/test-lib.sh"

tree="$FIXTURES/proc-leaker"
pid=$(cat "$tree/PID")

test_expect_success 'maps of the recorded leaker equals the golden output (in bytes)' '
	offheap --proc-root "$tree/proc" maps $pid --sort addr --bytes >out &&
	diff -u "$tree/expect-maps-addr.txt" out
'

test_expect_success 'maps --by class of the recorded leaker equals the golden output (in bytes)' '
	offheap --proc-root "$tree/proc" maps $pid --by class --bytes >out &&
	diff -u "$tree/expect-maps-by-class.txt" out
'

test_expect_success 'the recorded thread stacks carry their thread names' '
	offheap --proc-root "$tree/proc" maps $pid --json >j &&
	jq -e "[.mappings[] | select(.class == \"stack\")] | length == 9 and
		all(.tid != null and .thread != null) and
		all((.perms == \"---p\") == (.mapping | endswith(\" guard\")))" j &&
	jq -r ".mappings[] | select(.class == \"stack\") | .thread" j | sort -u >names &&
	grep -x pool-grower names && grep -x worker-0 names && grep -x idle-0 names && grep -x leaker names
'

# A copy of the tree that each case below damages in its own way.
damage() {
	rm -rf bad && cp -r "$tree" bad && chmod -R u+w bad
}

test_expect_success 'garbage smaps: a clear error, exit 1, no crash' '
	damage && printf "\\001\\002garbage\\n\\377\\376\\n" >bad/proc/$pid/smaps &&
	test_exit_code 1 offheap --proc-root bad/proc maps $pid 2>err &&
	grep "offheap: error: /proc/$pid/smaps: line 1 does not parse" err
'

test_expect_success 'smaps cut in the middle of a header line: error names the line' '
	damage && head -n 30 "$tree/proc/$pid/smaps" >bad/proc/$pid/smaps &&
	printf "7fff" >>bad/proc/$pid/smaps &&
	test_exit_code 1 offheap --proc-root bad/proc maps $pid 2>err &&
	grep "line 31 does not parse: .7fff." err
'

test_expect_success 'garbage status: error, no crash' '
	damage && head -c 4096 /dev/urandom >bad/proc/$pid/status &&
	test_must_fail offheap --proc-root bad/proc maps $pid 2>err &&
	grep "offheap: error:" err
'

test_expect_success 'a FIFO in place of smaps does not hang' '
	damage && rm bad/proc/$pid/smaps && mkfifo bad/proc/$pid/smaps &&
	test_exit_code 1 offheap --proc-root bad/proc maps $pid 2>err &&
	grep "smaps" err
'

test_expect_success 'a symlink in place of smaps is not followed' '
	damage && rm bad/proc/$pid/smaps && ln -s /etc/passwd bad/proc/$pid/smaps &&
	test_exit_code 1 offheap --proc-root bad/proc maps $pid 2>err &&
	grep "smaps" err
'

test_expect_success 'garbage thread files and cgroup: still a map, no crash' '
	damage &&
	for f in bad/proc/$pid/task/*/syscall; do head -c 300 /dev/urandom >$f; done &&
	printf "::::\\n0::/../../etc\\n" >bad/proc/$pid/cgroup &&
	offheap --proc-root bad/proc maps $pid >out &&
	grep "^total" out
'

test_expect_success 'missing smaps_rollup: totals are the sum of smaps' '
	damage && rm bad/proc/$pid/smaps_rollup &&
	offheap --proc-root bad/proc maps $pid --json >j &&
	jq -e ".totals_source == \"smaps\" and .totals.rss == ([.mappings[].rss] | add)" j
'

# random FILE BYTES: the damaged tree with BYTES random bytes in place of FILE.
random() {
	damage && head -c "$2" /dev/urandom >bad/proc/$pid/$1
}

# Each file read gets its own message and exit 1, nothing on stdout; a garbage
# command line is only shown, the map is the same.
test_expect_success 'random bytes in one file: its error and exit 1, or the same map' '
	sed -n "/^Address/,\$p" "$tree/expect-maps-addr.txt" >want.table &&
	for f in smaps smaps_rollup status stat cmdline; do
		case $f in
		smaps | smaps_rollup) want="^offheap: error: /proc/$pid/$f: line [0-9]+ does not parse: " ;;
		status) want="^offheap: error: /proc/$pid/status: status has no Name: line$" ;;
		stat) want="^offheap: error: cannot read /proc/$pid/stat: " ;;
		cmdline) want= ;;
		esac &&
		for i in 1 2 3 4 5 6 7 8; do
			random $f $((i * 700)) &&
			if test -z "$want"; then
				offheap --proc-root bad/proc maps $pid --sort addr --bytes >out 2>err &&
				test ! -s err &&
				sed -n "/^Address/,\$p" out >got.table &&
				diff -u want.table got.table
			else
				test_exit_code 1 offheap --proc-root bad/proc maps $pid >out 2>err &&
				test ! -s out &&
				test "$(wc -l <err)" = 1 &&
				grep -aEq "$want" err
			fi ||
			{ echo "$f, $((i * 700)) random bytes:"; cat -v err; return 1; }
		done
	done
'

test_expect_success 'random bytes everywhere: one error naming a damaged file, exit 1' '
	for i in 1 2 3 4 5 6 7 8; do
		damage &&
		for f in smaps smaps_rollup status stat cmdline; do
			head -c $((i * 700)) /dev/urandom >bad/proc/$pid/$f
		done &&
		test_exit_code 1 offheap --proc-root bad/proc maps $pid >out 2>err &&
		test ! -s out &&
		test "$(wc -l <err)" = 1 &&
		grep -aEq "^offheap: error: (cannot read )?/proc/$pid/(smaps|smaps_rollup|status|stat): " err ||
		{ echo "$((i * 700)) random bytes:"; cat -v err; return 1; }
	done
'

test_done
