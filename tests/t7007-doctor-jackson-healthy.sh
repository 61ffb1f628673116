#!/bin/sh
# offheap doctor on Debian's libraries: Jackson (jackson-core) interning the
# field names of JSON keyed by ids (INTERN_FIELD_NAMES) with NMT off is the
# interned-strings leak, or, when VM.stringtable cannot be read, says so
# under "Not checked" — asked three times, since a string table being
# resized answers without statistics; and the H2 database's TCP server under
# a loopback load is healthy: no leak finding. The two JVMs run side by side.
. "$(dirname "$0")/test-lib.sh"
. "$ROOT/tests/doctor-lib.sh"

JACKSON=/usr/share/java/jackson-core.jar
H2=/usr/share/java/h2.jar
require_jdk17 java javac
test -r $JACKSON || fail_all "no $JACKSON (libjackson2-core-java: run scripts/setup-deps --test)"
test -r $H2 || fail_all "no $H2 (libh2-java: run scripts/setup-deps --test)"
setup_or_fail "javac compiles JacksonIntern and H2Healthy" \
	"$JDK17/javac" -cp "$JACKSON:$H2" -d classes \
	"$ROOT/tests/java/JacksonIntern.java" "$ROOT/tests/java/H2Healthy.java"

start_bg "$JAVA17" -XX:NativeMemoryTracking=off -Xmx128m -Xss512k -cp "classes:$JACKSON" \
	JacksonIntern ready.jackson 500 120
jackson=$BG_PID
start_bg "$JAVA17" -XX:NativeMemoryTracking=summary -Xmx128m -Xss512k -cp "classes:$H2" \
	H2Healthy ready.h2 2 120
h2=$BG_PID
wait_for 60 "test -s ready.jackson && test -s ready.h2" ||
	fail_all "JacksonIntern or H2Healthy did not start"

# The server is diagnosed once it has served 20000 round trips (warmed up), not sooner:
# a JVM still compiling its hot paths grows, and that is not a leak. Its window is 8 s
# (the three Jackson runs take as long): in 4 s a burst of its connection threads'
# arenas read as steady growth one run in seven.
test_expect_success 'the JVMs are diagnosed side by side' '
	wait_for 120 "test -s ready.h2.warm" &&
	{ offheap doctor $h2 -q --json -d 8s >h2.json & dh=$!; } &&
	for k in 1 2 3; do
		offheap doctor $jackson -q --json -d 2s >jackson$k.json || return 1
	done &&
	wait $dh &&
	for f in h2 jackson1 jackson2 jackson3; do
		jq -r "(.findings[] | \"# $f: \(.severity) \(.pattern): \(.title)\"),
			(.not_checked[] | \"# $f not checked: \(.)\")" $f.json
	done
'

# Each run: the finding, or the reason the string table could not be read.
for k in 1 2 3; do
	test_expect_success "Jackson, NMT off, run $k: interned strings, or why not" '
		jq -e ".nmt == \"off\"" jackson'$k'.json &&
		if jq -e "[.findings[] | select(.pattern == \"interned-strings\")] | length == 1" jackson'$k'.json
		then
			jq -e ".findings[] | select(.pattern == \"interned-strings\") | .fix | test(\"INTERN_FIELD_NAMES\")" jackson'$k'.json &&
			jq -e ".findings[] | select(.pattern == \"interned-strings\") | .evidence | map(test(\"^not known: NMT Symbol\")) | any" jackson'$k'.json
		else
			jq -e ".not_checked | map(test(\"^the StringTable \\\\(VM.stringtable\\\\): .+\")) | any" jackson'$k'.json
		fi
	'
done

test_expect_success 'at least one Jackson run read the string table and named the leak' '
	cat jackson1.json jackson2.json jackson3.json |
		jq -s -e "map(.findings[] | select(.pattern == \"interned-strings\")) | length >= 1"
'

test_expect_success 'H2 under a loopback load: no leak finding' '
	jq -r ".findings[] | \"\(.severity) \(.pattern): \(.title)\", (.evidence[] | \"  \(.)\")" h2.json &&
	jq -r ".not_checked[]" h2.json &&
	jq -e ".is_jvm and .samples >= 10" h2.json &&
	jq -e "(.leak | not) and ([.findings[] | select(.severity == \"leak\")] | length == 0)" h2.json
'

test_done
