# require-lib.sh: what a script needs before its tests can run (sourced after test-lib.sh).
#
# What scripts/setup-deps --test installs (OpenJDK 17 in /usr/bin, cc, g++) is never a skip:
# absent, or installed but unable to compile or start, the script fails and says why. Only
# what Debian does not ship (Temurin 25) may be absent, and then its tests are skipped with
# that reason.

JDK17=/usr/bin
JDK25=/usr/lib/jvm/temurin-25-jdk-amd64/bin

# fail_all REASON [LOG]: ends the script as one more failed test named REASON, with the
# file LOG (what the failed command printed) shown under it; prove counts the failure.
fail_all() {
	_fa_log=${2:-}
	test_expect_success "$1" '
		if test -n "$_fa_log"; then cat "$_fa_log"; fi
		return 1
	'
	test_done
}

# setup_or_fail REASON CMD...: runs CMD; when it fails, so does the script (fail_all REASON
# with CMD's output).
setup_or_fail() {
	_sf_reason=$1
	shift
	"$@" >"$TRASH/.setup.log" 2>&1 || fail_all "$_sf_reason" "$TRASH/.setup.log"
}

# require_jdk17 TOOL...: fails the script unless OpenJDK 17 has each TOOL (java, javac,
# jcmd, ...) in /usr/bin.
require_jdk17() {
	for _t in "$@"; do
		[ -x "$JDK17/$_t" ] ||
			fail_all "OpenJDK 17 has no $JDK17/$_t (run scripts/setup-deps --test)"
	done
}

# have_jdk25 TOOL...: true when Temurin 25 has each TOOL. Debian does not ship it: when it
# is absent the caller skips its tests (test_skip or skip_all, "no Temurin 25 in $JDK25").
have_jdk25() {
	for _t in "$@"; do
		[ -x "$JDK25/$_t" ] || return 1
	done
}
