#!/bin/sh
# The malloc probe at scale (offheap inspect --malloc, doctor's zlib evidence).
# A JDK 17 JVM keeps Inflaters it never end()s, made by 4 threads (so in
# several arenas) among filler blocks malloc'd by the same threads, in more
# than 1 GiB of arena heaps. Sampled within a small budget, the zlib streams
# counted are within 20 % of jmap -histo:live's Inflaters, at 6000 and again
# at 18000 (doctor sees the growth); on a small JVM whose heaps fit the budget
# the count is exact; read whole, the big one's count is too (arena heaps that
# the kernel merged into one anonymous mapping are found by their heap_info:
# missing them lost an eighth of the streams). The JVMs run on after every probe.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

JAVA17=$JDK17/java
require_jdk17 java javac jmap
setup_or_fail "InflaterArenas.java copied" cp "$ROOT/tests/java/InflaterArenas.java" .
setup_or_fail "javac compiles InflaterArenas.java" "$JDK17/javac" -d classes InflaterArenas.java

# inflaters PID: the java.util.zip.Inflater instances jmap -histo:live counts
inflaters() {
	"$JDK17/jmap" -histo:live "$1" >histo &&
		awk '$4 == "java.util.zip.Inflater" { n = $2 } END { if (n) print n; else exit 1 }' histo
}

# arena_kib PID: KiB resident in the brk heap and the arena heaps (read-write,
# anonymous, 64 MiB-aligned) of PID, from its smaps
arena_kib() {
	awk '
	/^[0-9a-f]+-[0-9a-f]+ / {
		split($1, r, "-"); s = r[1]; n = length(s)
		aligned = n >= 7 && substr(s, n - 5) == "000000" &&
			index("048c", substr(s, n - 6, 1)) > 0
		take = ($6 == "[heap]") || (NF == 5 && $2 == "rw-p" && aligned)
		next
	}
	take && $1 == "Rss:" { kib += $2 }
	END { print kib + 0 }' "/proc/$1/smaps"
}

mkdir small big
start_bg "$JAVA17" -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp classes InflaterArenas small 2 1500 1500 0 120 >small.out 2>&1
small=$BG_PID
wait_for 60 "test -s small/phase1" ||
	fail_all "the small JVM makes its 1500 Inflaters within 60 s" small.out

test_expect_success 'heaps that fit the budget are read whole: the count is exact' '
	grep "^done 1500$" small/phase1 &&
	offheap inspect $small --malloc --json >s.json &&
	jq -e ".malloc.exact and .malloc.sampled_bytes == .malloc.total_bytes" s.json &&
	jq -e ".malloc.zlib_streams == 1500 and .malloc.zlib_streams_error == 0" s.json &&
	offheap inspect $small --malloc >s.txt &&
	grep "^read all of them (exact)" s.txt &&
	grep "^zlib streams: 1500$" s.txt
'

test_expect_success 'inspect --malloc takes a PID alone and a budget above 0' '
	test_exit_code 2 offheap inspect $small --malloc --class heap &&
	test_exit_code 2 offheap inspect $small --malloc --budget 0 &&
	test_exit_code 2 offheap doctor small.out --probe-budget 10ms
'
stop_bg $small

start_bg "$JAVA17" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp classes InflaterArenas big 4 6000 18000 144 300 >big.out 2>&1
jvm=$BG_PID
wait_for 120 "test -s big/phase1" ||
	fail_all "the JVM makes 6000 Inflaters among 0.8 GiB of filler within 120 s" big.out

test_expect_success 'the arena heaps hold more than 1 GiB (the precondition)' '
	arena_kib $jvm >kib &&
	echo "$(cat kib) KiB resident in the malloc heaps" &&
	test "$(cat kib)" -ge 1048576
'

test_expect_success 'read whole, every arena heap is found: the 6000 are all counted' '
	inflaters $jvm >n1 &&
	test "$(cat n1)" -ge 6000 &&
	offheap inspect $jvm --malloc --budget 20s --json >w.json &&
	jq -c .malloc w.json &&
	jq -e ".malloc.exact == true" w.json &&
	within_pct "$(jq .malloc.zlib_streams w.json)" "$(cat n1)" 1
'

test_expect_success 'sampled, 6000 Inflaters are counted within 20 %' '
	inflaters $jvm >n1 &&
	test "$(cat n1)" -ge 6000 &&
	offheap inspect $jvm --malloc --budget 40ms --json >a.json &&
	jq -e ".malloc.exact == false and .malloc.sampled_bytes < .malloc.total_bytes" a.json &&
	jq -c .malloc a.json &&
	jq -e ".malloc.zlib_streams_error > 0 and .malloc.total_bytes >= 1073741824" a.json &&
	within_pct "$(jq .malloc.zlib_streams a.json)" "$(cat n1)" 20 &&
	offheap inspect $jvm --malloc --budget 40ms >a.txt &&
	grep "^sampled .* of .* windows) in" a.txt &&
	grep "^zlib streams: \\(.*\\)$" a.txt
'

test_expect_success 'doctor samples both probes and sees 6000 grow to 18000' '
	start_bg "$OFFHEAP" doctor $jvm -d 120s -i 200ms --probe-budget 40ms --json >d.json 2>d.err &&
	doc=$BG_PID &&
	wait_for 60 "grep -q \"^offheap doctor: sampling\" d.err" &&
	: >big/more &&
	wait_for 60 "test -s big/phase2" &&
	kill -INT $doc &&
	wait $doc &&
	grep "^done 18000$" big/phase2 &&
	inflaters $jvm >n2 &&
	test "$(cat n2)" -ge 18000 &&
	jq -e ".malloc_heaps.exact == false" d.json &&
	jq -e ".malloc_heaps.sampled_bytes_last < .malloc_heaps.total_bytes_last" d.json &&
	within_pct "$(jq .malloc_heaps.zlib_streams_first d.json)" "$(cat n1)" 20 &&
	within_pct "$(jq .malloc_heaps.zlib_streams_last d.json)" "$(cat n2)" 20
'

test_expect_success 'sampled, 18000 Inflaters are counted within 20 %' '
	offheap inspect $jvm --malloc --budget 40ms --json >b.json &&
	jq -e ".malloc.exact == false" b.json &&
	within_pct "$(jq .malloc.zlib_streams b.json)" "$(cat n2)" 20
'

test_expect_success 'the JVM runs on after the probes' '
	: >big/ping &&
	wait_for 30 "test -s big/pong" &&
	kill -0 $jvm &&
	! grep -E "^State:[[:space:]]+[tT]" /proc/$jvm/status
'

test_done
