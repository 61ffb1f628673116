#!/bin/sh
# offheap doctor on C programs: anonymous mmap growth, malloc fragmentation
# (a warning, not a leak), a malloc leak named by its site from an 'offheap
# record' recording, a steady process that gets no finding; --json,
# --fail-on-leak, and bad input.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

# Built here, never sanitized: under 'make asan' the build's helpers use ASan's
# allocator (no glibc arenas to fragment) and refuse a preloaded tracker.
setup_or_fail "cc builds the fragger helper" \
	cc -O1 -g -o fragger "$ROOT/tests/helpers/fragger.c" -lpthread
setup_or_fail "cc builds the mallocleak helper" \
	cc -O0 -g -o mallocleak "$ROOT/tests/helpers/mallocleak.c"

start_bg "$HELPERS/leaker" --mmap-thread grower --rate 8 --ready lready --lifetime 60
leaker=$BG_PID
wait_ready lready || { echo "not ok - the leaker did not start"; exit 1; }

test_expect_success 'mmap growth of a C process is a leak, with its class and rate' '
	offheap doctor $leaker -d 3s -q --json >leak.json &&
	jq -e ".live and (.is_jvm | not) and .leak and .samples >= 10" leak.json &&
	jq -e ".findings[0].pattern == \"mmap-growth\" and .findings[0].severity == \"leak\"" leak.json &&
	jq -e ".findings[0].culprit | test(\"^thread .grower. maps it in grow_pool \")" leak.json &&
	jq -e ".findings[0].bytes_per_hour > 1e9 and .findings[0].confidence > 0.8" leak.json
'

test_expect_success 'the text report has the pattern, evidence, culprit and fix (--no-attach)' '
	offheap doctor $leaker -d 2s -q --no-attach >leak.txt &&
	grep "^\[leak\] anonymous mmap memory grows" leak.txt &&
	grep "^  evidence: class anon grew most: +" leak.txt &&
	grep "^  culprit:  anonymous mappings" leak.txt &&
	grep "^  fix:      .offheap trace PID." leak.txt &&
	grep "^Not checked:" leak.txt
'

test_expect_success '--fail-on-leak exits 3 on a leak' '
	test_exit_code 3 offheap doctor $leaker -d 2s -q --fail-on-leak >/dev/null
'
stop_bg $leaker

start_bg "$HELPERS/anonhold" 32 hready 60
hold=$BG_PID
wait_ready hready || { echo "not ok - anonhold did not start"; exit 1; }

test_expect_success 'a steady process gets no finding, and --fail-on-leak exits 0' '
	offheap doctor $hold -d 2s -q --fail-on-leak --json >steady.json &&
	jq -e "(.leak | not) and (.findings | length) == 0" steady.json &&
	offheap doctor $hold -d 2s -q >steady.txt &&
	grep "^No leak found" steady.txt
'
stop_bg $hold

start_bg sh -c "exec ./fragger fready 4 32768 1024 64 >fragger.out"
frag=$BG_PID
wait_ready fready 30 || { echo "not ok - fragger did not start"; exit 1; }

test_expect_success 'arena fragmentation is a warning, not a leak, with the fix' '
	offheap doctor $frag -d 2s -q --fail-on-leak --json >frag.json &&
	jq -e ".leak | not" frag.json &&
	jq -e "[.findings[] | select(.severity == \"leak\")] | length == 0" frag.json &&
	jq -e ".findings[] | select(.pattern == \"arena-fragmentation\") | .severity == \"warning\"" frag.json &&
	jq -e ".findings[] | select(.pattern == \"arena-fragmentation\") | .fix | test(\"MALLOC_ARENA_MAX\")" frag.json
'

test_expect_success 'the free bytes the chunk walk found are what glibc says is free' '
	ev=$(jq -r ".findings[] | select(.pattern == \"arena-fragmentation\") | .evidence[0]" frag.json) &&
	say "$ev" &&
	mib=$(echo "$ev" | sed -n "s/.*, free \([0-9.]*\) MiB\$/\1/p") &&
	freed=$(sed -n "s/^free_bytes //p" fready) &&
	say "doctor: $mib MiB free; mallinfo2: $freed bytes free" &&
	within_pct "$(awk "BEGIN { printf \"%d\", $mib * 1048576 }")" "$freed" 10
'
stop_bg $frag

test_expect_success 'a malloc leak recorded by offheap record is named by its site' '
	offheap record --exact --interval 200ms -o rec.db -- ./mallocleak 3 >/dev/null 2>rec.err &&
	offheap doctor rec.db --json >rec.json &&
	jq -e ".leak and (.live | not)" rec.json &&
	jq -e ".findings[0].pattern == \"malloc-leak\"" rec.json &&
	jq -e ".findings[0].culprit | test(\"^leak_session_buffer \\\\(.*mallocleak.c:[0-9]+\\\\)\")" rec.json &&
	test_exit_code 3 offheap doctor rec.db --fail-on-leak -q
'

test_expect_success 'bad input: no process, a missing or foreign file, usage errors' '
	nopid=$(dead_pid) &&
	test_exit_code 1 offheap doctor $nopid -d 1s 2>err &&
	grep "^offheap: error: no process $nopid" err &&
	printf "hello" >text.db &&
	test_exit_code 1 offheap doctor ./text.db 2>err &&
	grep "not an SQLite database" err &&
	: >empty.db &&
	test_exit_code 1 offheap doctor ./empty.db 2>err &&
	grep "empty" err &&
	test_exit_code 2 offheap doctor 2>err &&
	test_exit_code 2 offheap doctor 1 -d 0s 2>err &&
	test_exit_code 2 offheap doctor 1 -d 2s -i 1s 2>err &&
	grep "at least 3 samples" err &&
	test_exit_code 2 offheap doctor rec.db -o x.db 2>err
'

test_expect_success 'a snapshot file has too few samples for a trend, and says so' '
	start_bg "$HELPERS/anonhold" 4 h2 30 &&
	wait_ready h2 &&
	offheap snap $BG_PID -o one.db 2>/dev/null &&
	offheap doctor ./one.db --json >one.json &&
	jq -e "(.findings | length) == 0 and (.not_checked | map(test(\"at least 3\")) | any)" one.json
'

test_done
