#!/bin/sh
# offheap doctor on mapped files that pile up: a JVM keeping MappedByteBuffers
# (tests/java/MapLeak) at rates ten times apart, on JDK 17 and (when
# installed) Temurin 25, and a C program keeping its mmaps of files
# (tests/helpers/filemapper.c) are mapped-files leaks named by the files'
# folded path, memfds kept mapped a shared-memory leak; the C program that
# unmaps each file is no leak. Side by side. doctor's short trace names the
# thread and the code that maps: the C function, the program's Java method
# (interpreted or compiled, past the JDK's FileChannel.map).
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

require_jdk17 java javac
compile_fixtures "$JAVA17" MapLeak
# Built here, never sanitized, like the programs users run.
setup_or_fail "cc builds the filemapper helper" \
	cc -O1 -g -o filemapper "$ROOT/tests/helpers/filemapper.c"

# start NAME CMD...: sets PID_NAME; the files go to ./files.NAME
start() {
	_n=$1
	shift
	mkdir -p "files.$_n" && start_bg "$@" && eval "PID_$_n=\$BG_PID"
}
start j17 "$JAVA17" -Xmx64m -cp "$CLASSES" MapLeak ready.j17 files.j17 4 2000 120
start j17fast "$JAVA17" -Xmx64m -cp "$CLASSES" MapLeak ready.j17fast files.j17fast 40 2000 120
if have_jdk25 java; then
	start j25 "$JAVA25" -Xmx64m -cp "$CLASSES" MapLeak ready.j25 files.j25 10 2000 120
fi
start ckeep ./filemapper keep 20 files.ckeep ready.ckeep 120
start cunmap ./filemapper unmap 20 files.cunmap ready.cunmap 120
start cmemfd ./filemapper memfd 20 files.cmemfd ready.cmemfd 120
NAMES="j17 j17fast ${PID_j25:+j25} ckeep cunmap cmemfd"
for n in $NAMES; do
	wait_for 60 "test -s ready.$n" || fail_all "$n started"
done

test_expect_success 'the programs are diagnosed side by side' '
	for n in $NAMES; do
		eval "pid=\$PID_$n" &&
		{ offheap doctor $pid -q --json -d 4s >$n.json & eval "d_$n=\$!"; } || return 1
	done &&
	for n in $NAMES; do
		eval "wait \$d_$n" || return 1
		jq -r ".findings[] | \"# $n: \(.severity) \(.pattern): \(.title) | \(.culprit)\"" $n.json
	done
'

# mapped FILE: a mapped-files leak naming the fixture's folded file path
mapped() {
	jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"mapped-files\") != null" "$1" &&
	jq -e ".findings[] | select(.pattern == \"mapped-files\") | .culprit |
		test(\"files mapped and never unmapped: .*/files\\\\.[a-z0-9#]+/seg-#\\\\.dat. \\\\(\\\\+[0-9]+ mappings\\\\)\")" "$1" &&
	jq -e ".findings[] | select(.pattern == \"mapped-files\") | .evidence |
		map(test(\"^mappings of data files: \")) | any" "$1"
}

# maps_in FILE PATTERN RE: the finding's culprit names who maps, matching RE
maps_in() {
	jq -e --arg re ", mapped by thread '[^']+' in ($3)" \
		".findings[] | select(.pattern == \"$2\") | .culprit | test(\$re)" "$1"
}

test_expect_success 'JDK 17, MappedByteBuffers kept, 4/s and 40/s: mapped-files, named' '
	for n in j17 j17fast; do
		mapped $n.json &&
		jq -e ".findings[] | select(.pattern == \"mapped-files\") | .fix | test(\"MappedByteBuffers\")" $n.json &&
		maps_in $n.json mapped-files "MapLeak\\.main\\(java\\.lang\\.String\\[\\]\\)" ||
			return 1
	done
'

if test -n "${PID_j25:-}"; then
	test_expect_success 'Temurin 25: mapped-files, named' '
		mapped j25.json &&
		maps_in j25.json mapped-files "MapLeak\\.main\\(java\\.lang\\.String\\[\\]\\)"
	'
else
	test_skip 'Temurin 25: mapped-files, named' "no Temurin 25 in $JDK25"
fi

test_expect_success 'C, mmaps of files kept: mapped-files with munmap as the fix, and who maps' '
	mapped ckeep.json &&
	jq -e ".findings[] | select(.pattern == \"mapped-files\") | .fix | test(\"munmap\")" ckeep.json &&
	maps_in ckeep.json mapped-files "map_segment \\(.*filemapper\\.c:[0-9]+\\)"
'

test_expect_success 'C, memfds kept mapped: shared-memory, named' '
	jq -e "[.findings[] | select(.severity == \"leak\") | .pattern] | index(\"shared-memory\") != null" cmemfd.json &&
	jq -e ".findings[] | select(.pattern == \"shared-memory\") | .culprit |
		test(\"shared memory mapped and never unmapped: ./memfd:offheap-seg \\\\(deleted\\\\). \\\\(\\\\+[0-9]+ mappings\\\\)\")" cmemfd.json &&
	maps_in cmemfd.json shared-memory "map_segment \\(.*filemapper\\.c:[0-9]+\\)"
'

test_expect_success 'C, each file unmapped: no leak' '
	jq -e "(.leak | not) and ([.findings[] | select(.severity == \"leak\")] | length == 0)" cunmap.json
'

test_done
