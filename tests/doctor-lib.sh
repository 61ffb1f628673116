# doctor-lib.sh: running offheap doctor on the JVM leak fixtures (sourced after test-lib.sh).

. "$TEST_DIRECTORY/require-lib.sh"

JAVA17=$JDK17/java
JAVA25=$JDK25/java

# compile_fixtures JAVA CLASS...: compiles tests/java/CLASS.java into ./classes-VERSION
# with that JDK's javac; the script fails when it cannot.
compile_fixtures() {
	_java=$1
	shift
	CLASSES=$TRASH/classes-$(basename "$(dirname "$(dirname "$_java")")")
	setup_or_fail "a folder for the classes" mkdir -p "$CLASSES"
	for _c in "$@"; do
		setup_or_fail "$_c.java copied" cp "$ROOT/tests/java/$_c.java" "$TRASH/"
	done
	setup_or_fail "${_java%/java}/javac compiles $*" "${_java%/java}/javac" -d "$CLASSES" \
		$(for _c in "$@"; do echo "$TRASH/$_c.java"; done)
}

# start_fixture JAVA NMT CLASS ARGS...: starts the fixture (NMT = summary|off),
# sets JPID, waits for its ready file, then with WARM=1 for the fixture's own
# word that its warm-up is over (ready.CLASS.warm), else 2 s of its leak.
# JOPTS: more JVM options (a collector).
start_fixture() {
	_java=$1 _nmt=$2 _cls=$3
	shift 3
	rm -f "ready.$_cls" "ready.$_cls.warm"
	# shellcheck disable=SC2086
	start_bg "$_java" -XX:NativeMemoryTracking="$_nmt" -Xmx128m -Xss512k ${JOPTS:-} -cp "$CLASSES" \
		"$_cls" "ready.$_cls" "$@"
	JPID=$BG_PID
	wait_for 60 "test -s ready.$_cls" || { say "$_cls did not start"; return 1; }
	if [ -n "${WARM:-}" ]; then
		wait_for 120 "test -s ready.$_cls.warm" || { say "$_cls did not warm up"; return 1; }
	else
		sleep 2
	fi
}

# doctor_json PID FILE [ARGS...]: offheap doctor --json for 10 s (or ARGS).
doctor_json() {
	_pid=$1 _out=$2
	shift 2
	offheap doctor "$_pid" -q --json -d 10s "$@" >"$_out" || return 1
	jq -r '"# \(.samples) samples over \(.duration_s) s; \(.findings | length) findings",
		(.findings[] | "# \(.severity) \(.pattern): \(.title) | \(.culprit)"),
		(.not_checked[] | "# not checked: \(.)")' "$_out"
}

# first_leak FILE: the pattern of the first finding of severity leak.
first_leak() {
	jq -r '[.findings[] | select(.severity == "leak")][0].pattern' "$1"
}
