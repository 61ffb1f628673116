#!/bin/sh
# offheap doctor on zlib streams left to the Cleaner (ZlibCleaner.java): every
# request makes a Deflater or a GZIPInputStream and drops it without end() or
# close(). Nothing stays reachable and each collection lets the Cleaner free
# the states in a batch, so the counts at doctor's first and last look may
# not rise; doctor's own recording sees the batch and names the code (G1).
# The same program ending its streams gets no leak. JDK 17 with G1 and NMT,
# Deflaters; Temurin 25 with ZGC, no NMT, GZIPInputStreams, whose concurrent
# collector frees them as it goes rather than in one batch: named all the
# same, from the counts.
TEST_TIMEOUT=190
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

require_jdk17 java javac
compile_fixtures "$JAVA17" ZlibCleaner
COMPRESS_LINE=$(grep -n "// compress makes a Deflater" "$ROOT/tests/java/ZlibCleaner.java" | cut -d: -f1)
# the state is malloc'd where the stream is opened, the window at the first read
UNZIP_LINE=$(grep -n "// unzip opens a stream" "$ROOT/tests/java/ZlibCleaner.java" | cut -d: -f1)
READ_LINE=$(grep -n "// unzip reads part" "$ROOT/tests/java/ZlibCleaner.java" | cut -d: -f1)
test -n "$COMPRESS_LINE" && test -n "$UNZIP_LINE" && test -n "$READ_LINE" || fail_all "the fixture's marked lines are found"

# cleaner FILE METHOD LINES [batch]: the zlib finding names METHOD at one of
# LINES (a|b), and with "batch" its evidence has the batch of frees doctor's
# recording saw after a collection
cleaner() {
	test "$(first_leak "$1")" = zlib-inflater &&
	jq -e --arg re "← ZlibCleaner\\.$2 \\(ZlibCleaner\\.java:($3)\\)" \
		"[.findings[] | select(.pattern == \"zlib-inflater\")][0].culprit | test(\$re)" "$1" &&
	jq -e "[.findings[] | select(.pattern == \"zlib-inflater\")][0].fix | test(\"end\\\\(\\\\)\")" "$1" &&
	if test "${4:-}" = batch; then
		jq -e "[.findings[] | select(.pattern == \"zlib-inflater\")][0].evidence |
			map(test(\"then fell to .* freed at once, after a collection\")) | any" "$1"
	fi
}

test_expect_success 'JDK 17, G1, NMT: Deflaters left to the Cleaner are named' '
	WARM=1 start_fixture "$JAVA17" summary ZlibCleaner deflate 200 &&
	doctor_json $JPID d.json &&
	stop_bg $JPID &&
	cleaner d.json compress $COMPRESS_LINE batch
'

test_expect_success 'JDK 17, G1: the same program ending its Deflaters gets no leak' '
	WARM=1 start_fixture "$JAVA17" summary ZlibCleaner deflate 200 close &&
	doctor_json $JPID ok.json &&
	stop_bg $JPID &&
	jq -e "[.findings[] | select(.severity == \"leak\" or .pattern == \"zlib-inflater\")] | length == 0" ok.json &&
	jq -e ".samples >= 25" ok.json
'

if have_jdk25 java javac; then
	compile_fixtures "$JAVA25" ZlibCleaner
	test_expect_success 'Temurin 25, ZGC, no NMT: GZIPInputStreams left to the Cleaner are named' '
		JOPTS=-XX:+UseZGC WARM=1 start_fixture "$JAVA25" off ZlibCleaner gzip 1000 &&
		doctor_json $JPID g.json &&
		stop_bg $JPID &&
		cleaner g.json unzip "$UNZIP_LINE|$READ_LINE"
	'
else
	test_skip "Temurin 25, ZGC, no NMT: GZIPInputStreams left to the Cleaner are named" \
		"no Temurin 25 in $JDK25"
fi

test_done
