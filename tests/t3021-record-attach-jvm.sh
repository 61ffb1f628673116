#!/bin/sh
# offheap record -p on HotSpot JVMs, with the stand-in tracker (tests/helpers/injstub):
# a JVM loads it as an agent (Agent_OnAttach gets the arguments), one run with
# -XX:-EnableDynamicAgentLoading refuses and gets it by ptrace instead, with a warning;
# both are detached by ptrace and keep answering jcmd. JDK 17 always, Temurin 25 when
# installed.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

require_jdk17 java
setup_or_fail "cc builds the stand-in tracker" \
	cc -shared -fPIC -O2 -o "$TRASH/injstub.so" "$ROOT/tests/helpers/injstub/injstub.c"
OFFHEAP_TEST_LIBRARY=$TRASH/injstub.so
export OFFHEAP_TEST_LIBRARY

# jvm_tests NAME JDKBIN: the agent and the refused-agent runs on that JDK.
jvm_tests() {
	_n=$1 _jdk=$2
	INJSTUB_LOG=$TRASH/$_n-agent.log start_bg "$_jdk/java" -Xmx64m \
		"$ROOT/tests/java/Idle.java" 120 "$TRASH/$_n-ready" >"$TRASH/$_n-jvm.out" 2>&1
	JPID=$BG_PID
	INJSTUB_LOG=$TRASH/$_n-ptrace.log start_bg "$_jdk/java" -XX:-EnableDynamicAgentLoading \
		-Xmx64m "$ROOT/tests/java/Idle.java" 120 "$TRASH/$_n-ready2" >"$TRASH/$_n-jvm2.out" 2>&1
	JPID2=$BG_PID
	wait_ready "$TRASH/$_n-ready" 60 || fail_all "the $_n JVM starts within 60 s" "$TRASH/$_n-jvm.out"
	wait_ready "$TRASH/$_n-ready2" 60 || fail_all "the $_n JVM starts within 60 s" "$TRASH/$_n-jvm2.out"

	test_expect_success "$_n: loaded as an agent, detached by ptrace, still answers" '
		"$OFFHEAP" record -p $JPID -d 300ms -o $_n-agent.db 2>err &&
		cat err $_n-agent.log &&
		grep -q "^offheap record: attached to process $JPID (as a JVM agent); " err &&
		grep -q "^offheap record: detached from process $JPID; the tracker stays loaded in it, inert (a JVM never unloads an agent)$" err &&
		test $(wc -l <$_n-agent.log) -eq 3 &&
		grep -Eq "^agent out=/tmp/offheap-track\.[A-Za-z0-9]{6},sample=524288,pid=[0-9]+$" $_n-agent.log &&
		test "$(sed -n 2p $_n-agent.log)" = "attach $(sed -n "1s/^agent //p" $_n-agent.log)" &&
		test "$(sed -n 3p $_n-agent.log)" = detach &&
		"$OFFHEAP" jcmd $JPID VM.version >v &&
		grep -q "^JDK [0-9]" v
	'

	test_expect_success "$_n: -XX:-EnableDynamicAgentLoading refuses; ptrace instead, said so" '
		"$OFFHEAP" record -p $JPID2 -d 300ms -o $_n-ptrace.db 2>err &&
		cat err $_n-ptrace.log &&
		grep -q "^offheap: warning: the JVM $JPID2 refused to load '\''$TRASH/injstub.so'\'' as an agent: .*EnableDynamicAgentLoading" err &&
		grep -q "^offheap: warning: loading the tracker into the JVM $JPID2 by ptrace instead$" err &&
		grep -q "^offheap record: attached to process $JPID2 (by ptrace); " err &&
		test $(wc -l <$_n-ptrace.log) -eq 2 &&
		grep -q "^attach out=" $_n-ptrace.log &&
		test "$(sed -n 2p $_n-ptrace.log)" = detach &&
		"$OFFHEAP" jcmd $JPID2 VM.version >v &&
		grep -q "^JDK [0-9]" v
	'

	test_expect_success "$_n: both JVMs end normally on SIGTERM" '
		kill -TERM $JPID $JPID2 &&
		test_exit_code 143 wait $JPID &&
		test_exit_code 143 wait $JPID2
	'
}

jvm_tests jdk17 "$JDK17"
if have_jdk25 java; then
	jvm_tests jdk25 "$JDK25"
else
	test_skip "jdk25: agent and ptrace ways" "no Temurin 25 in $JDK25"
fi

test_done
