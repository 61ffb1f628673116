#!/bin/sh
# offheap snap and diff on recorded /proc trees (--proc-root): the leaker's tree, and a copy
# changed by hand — heap grown at its end, an anonymous mapping born below the others, one
# gone, a thread gone and one born — give a diff equal to the golden output.
. "$(dirname "$0")/test-lib.sh"

tree="$FIXTURES/proc-leaker"
pid=$(cat "$tree/PID")
golden="$FIXTURES/diff-leaker"

# mutate DIR: the changes above, made to the smaps, smaps_rollup and task/ of the copy DIR.
mutate() {
	p="$1/proc/$pid"
	awk '
	/^[0-9a-f]+-[0-9a-f]+ / {
		skip = grow = 0
		if ($1 == "7fcfbb37b000-7fcfbb37d000") { skip = 1; next }
		if ($1 == "7fcfac000000-7fcfac021000") {
			print "7fcfa8000000-7fcfa8400000 rw-p 00000000 00:00 0 "
			n = split("Size Rss Pss Pss_Dirty Private_Dirty Referenced Anonymous", k, " ")
			for (i = 1; i <= n; i++) printf "%s: 4096 kB\n", k[i]
			print "KernelPageSize: 4 kB"
			print "MMUPageSize: 4 kB"
			print "Swap: 0 kB"
			print "VmFlags: rd wr mr mw me ac "
		}
		if ($1 == "55741b7e0000-55741b801000") {
			sub(/^55741b7e0000-55741b801000/, "55741b7e0000-55741b901000")
			grow = 1
		}
		print
		next
	}
	skip { next }
	grow && /^(Size|Rss|Pss|Pss_Dirty|Private_Dirty|Referenced|Anonymous):/ {
		printf "%s %d kB\n", $1, $2 + 1024
		next
	}
	{ print }' "$p/smaps" >smaps.new && mv smaps.new "$p/smaps" &&
	# rollup: +1024 (heap) +4096 (born) -4 (gone)
	awk '/^(Rss|Pss|Pss_Dirty|Pss_Anon|Private_Dirty|Referenced|Anonymous):/ {
		printf "%s %d kB\n", $1, $2 + 5116
		next
	} { print }' "$p/smaps_rollup" >rollup.new && mv rollup.new "$p/smaps_rollup" &&
	rm -r "$p/task/8300" &&
	mkdir "$p/task/8301" &&
	echo late-0 >"$p/task/8301/comm" &&
	echo "running" >"$p/task/8301/syscall"
}

test_expect_success 'snap of a recorded tree' '
	offheap --proc-root "$tree/proc" snap $pid -o a.db 2>err &&
	grep -q "^offheap: saved $pid (leaker) to .a.db.: RSS 9.7 MiB, anon 8.3 MiB, swap 0 B, 37 mappings, 5 threads$" err &&
	test "$(sqlite3 a.db "SELECT rss FROM sample")" = $((9920 * 1024))
'

test_expect_success 'snap of the changed copy' '
	cp -r "$tree" b && chmod -R u+w b &&
	mutate b &&
	offheap --proc-root b/proc snap $pid -o b.db 2>err &&
	cat err &&
	grep -q ", 37 mappings, 5 threads$" err
'

test_expect_success 'diff equals the golden output in bytes (header line aside)' '
	offheap diff a.db b.db --top 0 --bytes >out &&
	sed 1d out >body &&
	diff -u "$golden/expect-diff.txt" body &&
	head -n 1 out | grep -q "^pid $pid (leaker)  .*  interval [0-9.]* s$"
'

test_expect_success 'diff --json: each rule in its place' '
	offheap diff a.db b.db --json --top 0 >d.json &&
	test "$(jq -r ".mappings[] | select(.start == \"0x55741b7e0000\") | .state + \" \" + .match" d.json)" = "grew same-start" &&
	test "$(jq -r ".mappings[] | select(.start == \"0x7fcfa8000000\") | .state" d.json)" = born &&
	test "$(jq -r ".mappings[] | select(.start == \"0x7fcfbb37b000\") | .state" d.json)" = gone &&
	test "$(jq ".delta.rss" d.json)" = $((5116 * 1024)) &&
	test "$(jq -r "[.threads.born[].name, .threads.gone[].name] | join(\",\")" d.json)" = late-0,pool-grower
'

test_expect_success 'diff --since on the changed tree refuses nothing and agrees' '
	offheap --proc-root b/proc diff $pid --since a.db --json --top 0 >s.json &&
	test "$(jq .delta s.json)" = "$(jq .delta d.json)" &&
	test "$(jq .classes s.json)" = "$(jq .classes d.json)"
'

test_done
