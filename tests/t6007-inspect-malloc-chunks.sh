#!/bin/sh
# The malloc probe's chunk counts (offheap inspect --malloc, doctor's
# fragmentation rule) against glibc's own mallinfo2(). zchurn makes deflate
# streams in 2 and 4 threads and ends most of them in batches, as a JVM's
# Cleaner does: large free chunks that keep the stale headers (links and all)
# of the chunks they were made of, across many windows. A window's walk that
# started on such a header counted it: 1.7 GiB "free" in 524 MB of heaps.
# Read whole, the windows are put end to end: in use and free now agree with
# glibc's, and every stream is counted once.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

# field NAME FILE: a "NAME N" line's number
field() {
	sed -n "s/^$1 //p" "$2"
}

# check NAME: inspect's counts of zchurn run NAME against its mallinfo2
check() {
	offheap inspect $(cat "$1.pid") --malloc --budget 20s --json >"$1.json" &&
		jq -c .malloc "$1.json" && cat "$1.ready" &&
		jq -e ".malloc.exact and (.malloc.chunks_overcounted | not)" "$1.json" &&
		# fastbin chunks are free to glibc, in use to a walk
		within_pct "$(jq .malloc.inuse_bytes "$1.json")" \
			$(($(field inuse_bytes "$1.ready") + $(field fastbin_bytes "$1.ready"))) 2 &&
		# glibc's free bytes include the tops, the walk's do not
		free=$(jq .malloc.free_bytes "$1.json") &&
		test "$free" -le "$(field free_bytes "$1.ready")" &&
		within_pct "$free" "$(field free_bytes "$1.ready")" 5 &&
		test "$(jq .malloc.zlib_streams "$1.json")" -eq "$(field streams "$1.ready")"
}

start_bg "$HELPERS/zchurn" four.ready 4 4000 800 780 120
echo $BG_PID >four.pid
start_bg "$HELPERS/zchurn" two.ready 2 3000 1000 990 120
echo $BG_PID >two.pid
wait_for 60 "test -s four.ready && test -s two.ready" || fail_all "zchurn made its streams"

test_expect_success '4 threads, most streams ended: in use and free as glibc counts them' '
	check four
'

test_expect_success '2 threads, 99 % ended: the same' '
	check two
'

test_expect_success 'the text report says the same, with no warning' '
	offheap inspect $(cat two.pid) --malloc --budget 20s >two.txt &&
	cat two.txt &&
	grep "^read all of them (exact)" two.txt &&
	! grep -q "^warning:" two.txt
'

stop_bg "$(cat four.pid)"
stop_bg "$(cat two.pid)"
test_done
