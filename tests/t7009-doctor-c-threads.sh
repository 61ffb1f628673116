#!/bin/sh
# offheap doctor on C programs that start threads (tests/helpers/threadleak.c):
# threads that never end and threads that end but are never joined (their
# number flat, their stacks kept) are thread leaks, each named by the code
# that starts them (spawn_loop, from the short trace of the stacks' maps),
# at two rates ten times apart, and the kept stacks' pages are not also an
# mmap-growth; threads that are joined, or detached, are no leak. Run side
# by side.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

# Built here, never sanitized: the stacks must be glibc's, as in any program.
setup_or_fail "cc builds the threadleak helper" \
	cc -O1 -g -o threadleak "$ROOT/tests/helpers/threadleak.c" -lpthread
SPAWN_LINE=$(grep -n "pthread_create(&t, &attr" "$ROOT/tests/helpers/threadleak.c" | cut -d: -f1)
test -n "$SPAWN_LINE" || fail_all "threadleak's pthread_create line is found"

# start NAME MODE RATE: threadleak MODE at RATE threads a second; sets PID_NAME
start() {
	start_bg ./threadleak "$2" "$3" "ready.$1" 60 &&
	eval "PID_$1=\$BG_PID"
}

start blocked blocked 20
start unjoined unjoined 20
start unjoined_fast unjoined 200
start joined joined 50
start detached detached 50
wait_for 30 "test -s ready.blocked && test -s ready.unjoined && test -s ready.unjoined_fast &&
	test -s ready.joined && test -s ready.detached" || fail_all "threadleak started"

# starter FILE: the thread-leak finding names spawn_loop at its pthread_create line
starter() {
	jq -r ".findings[] | \"# \(.severity) \(.pattern): \(.title) | \(.culprit)\"" "$1" &&
	jq -e ".findings[] | select(.pattern == \"thread-leak\") | .culprit |
		test(\"started by spawn_loop \\\\(.*threadleak\\\\.c:$SPAWN_LINE\\\\)\")" "$1" &&
	jq -e ".findings[] | select(.pattern == \"thread-leak\") | .culprit_frames[0] |
		test(\"^spawn_loop \")" "$1"
}

test_expect_success 'the programs are diagnosed side by side' '
	for n in blocked unjoined unjoined_fast joined detached; do
		eval "pid=\$PID_$n" &&
		{ offheap doctor $pid -q --json -d 4s >$n.json & eval "d_$n=\$!"; } || return 1
	done &&
	for n in blocked unjoined unjoined_fast joined detached; do
		eval "wait \$d_$n" || return 1
	done
'

test_expect_success 'threads that never end: a thread leak, named by who starts them' '
	jq -e ".leak" blocked.json &&
	jq -e ".findings[0].pattern == \"thread-leak\" and .findings[0].severity == \"leak\"" blocked.json &&
	jq -e ".findings[0].title | test(\"threads in [0-9]+ s and still rising\")" blocked.json &&
	starter blocked.json
'

for n in unjoined unjoined_fast; do
	test_expect_success "threads that end unjoined ($n): a thread leak of kept stacks, named" "
		jq -e \".leak\" $n.json &&
		jq -e \".findings[] | select(.pattern == \\\"thread-leak\\\" and .severity == \\\"leak\\\") |
			.title | test(\\\"never joined\\\")\" $n.json &&
		jq -e \".findings[] | select(.pattern == \\\"thread-leak\\\") | .evidence |
			map(test(\\\"^thread stacks that no live thread owns: \\\")) | any\" $n.json &&
		jq -e \".findings[] | select(.pattern == \\\"thread-leak\\\") | .fix | test(\\\"pthread_join\\\")\" $n.json &&
		jq -e \"[.findings[] | select(.pattern == \\\"mmap-growth\\\")] | length == 0\" $n.json &&
		starter $n.json
	"
done

test_expect_success 'offheap maps labels the kept stacks; the joined program has few' '
	offheap maps $PID_unjoined --by path >u.txt &&
	n=$(awk "/^\[stack of an ended thread\]/ { print \$(NF - 6) }" u.txt) &&
	say "unjoined: $n stacks of ended threads" &&
	test "$n" -ge 20 &&
	offheap maps $PID_joined --by path >j.txt &&
	m=$(awk "/^\[stack of an ended thread\]/ { print \$(NF - 6) }" j.txt) &&
	say "joined: ${m:-0} (glibc keeps up to 40 MiB of freed stacks)" &&
	test "${m:-0}" -le 5
'

test_expect_success 'threads that are joined, or detached, are no leak' '
	for n in joined detached; do
		jq -r ".findings[] | \"# $n: \(.severity) \(.pattern): \(.title)\"" $n.json &&
		jq -e "(.leak | not) and ([.findings[] | select(.severity == \"leak\")] | length == 0)" $n.json ||
			return 1
	done
'

test_done
