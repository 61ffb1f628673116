#!/bin/sh
# make install into a scratch root: the installed offheap finds its tracker in
# ../lib/offheap (record and report work, also once the tree is moved), its man
# pages render, and the bash and zsh completions offer commands, every option of
# every command (asked of the binary), PIDs with JVMs first, and recordings.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

require_jdk17 java javac
setup_or_fail "javac compiles Idle.java" "$JDK17/javac" -d "$TRASH" "$TEST_DIRECTORY/java/Idle.java"
start_bg "$JDK17/java" -Xmx32m -XX:TieredStopAtLevel=1 -cp "$TRASH" Idle 120 "$TRASH/jvm.ready"
jvm=$BG_PID
start_bg "$HELPERS/anonhold" 8 "$TRASH/hold.ready"
hold=$BG_PID
setup_or_fail "make install DESTDIR=$TRASH/root" \
	make -s -C "$ROOT" B="$BUILD" install DESTDIR="$TRASH/root" PREFIX=/usr/local
wait_ready "$TRASH/hold.ready" 10 || fail_all "anonhold starts within 10 s"
wait_ready "$TRASH/jvm.ready" 60 || fail_all "the JVM starts within 60 s"

P=$TRASH/root/usr/local
BASH_COMP=$P/share/bash-completion/completions/offheap
ZSH_COMP=$P/share/zsh/vendor-completions/_offheap

# complete WORD...: what the bash completion offers for the command line WORD...
# (the last word is the one being completed), one candidate a line.
complete() {
	PATH=$P/bin:$PATH bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _offheap;
		printf "%s\n" "${COMPREPLY[@]}"' complete "$BASH_COMP" "$@"
}

# zcomplete WORD...: the same for the zsh completion. Outside the line editor zsh's
# completion builtins do nothing, so each prints what it is given instead.
zcomplete() {
	PATH=$P/bin:$PATH zsh -f -c '
		compadd() { while [[ $1 == -* && $1 != -- ]]; do shift; done
			[[ $1 == -- ]] && shift; print -rl -- "$@"; }
		_describe() { local a=${@[-1]}; print -rl -- "${(@)${(@P)a}%%:*}"; }
		_files() { print -r -- "<files $*>"; }
		_message() { :; }
		compset() { :; }
		comp=$1; shift; words=("$@"); CURRENT=$#
		. "$comp"' zcomplete "$ZSH_COMP" "$@"
}

test_expect_success 'the files are where PREFIX says' '
	test -x "$P/bin/offheap" &&
	test -f "$P/lib/offheap/liboffheap.so" &&
	test -f "$P/share/man/man1/offheap.1" &&
	test -f "$P/share/man/man1/offheap-record.1" &&
	test -f "$BASH_COMP" && test -f "$ZSH_COMP" &&
	! test -e "$P/bin/liboffheap.so"
'

test_expect_success 'the installed binary says its version' '
	"$P/bin/offheap" --version >v &&
	offheap --version >want &&
	diff -u want v &&
	grep -E "^offheap [0-9]+\.[0-9]+\.[0-9]+" v
'

test_expect_success 'record finds the installed tracker and report reads the recording' '
	"$P/bin/offheap" record -o true.db -- /bin/true &&
	"$P/bin/offheap" report true.db &&
	"$P/bin/offheap" record --exact -o leak.db -- "$HELPERS/mallocleak" 0.3 &&
	"$P/bin/offheap" report leak.db >report &&
	grep leak_session_buffer report
'

test_expect_success 'a moved tree and a link to its binary still find the tracker' '
	mkdir moved &&
	cp -a "$P" moved/tree &&
	ln -s moved/tree/bin/offheap link &&
	./link record -o moved.db -- /bin/true &&
	rm moved/tree/lib/offheap/liboffheap.so &&
	test_must_fail ./link record -o nolib.db -- /bin/true 2>err &&
	grep "cannot find the tracker" err &&
	grep -F "moved/tree/bin/../lib/offheap" err &&
	! test -e nolib.db
'

test_expect_success 'every installed man page renders, with one footer: the version offheap says' '
	v=$("$P/bin/offheap" --version) &&
	for page in "$P"/share/man/man1/*.1; do
		MANWIDTH=80 man -P cat -l "$page" >page.txt 2>/dev/null &&
		grep -q "^NAME" page.txt &&
		grep -q "offheap" page.txt || { echo "$page does not render"; return 1; }
		name=$(basename "$page" .1 | tr a-z A-Z) &&
		tail -n 1 page.txt | grep -q "^$v  *[0-9-]*  *$name(1)\$" ||
			{ echo "$page: footer $(tail -n 1 page.txt)"; return 1; }
		grep -q "^\.SH EXIT STATUS" "$page" && grep -q "^\.SH EXAMPLES" "$page" ||
			{ echo "$page: no EXIT STATUS or EXAMPLES section"; return 1; }
	done
'

test_expect_success 'bash: commands' '
	complete offheap ma >got &&
	echo maps >want &&
	diff -u want got &&
	complete offheap "" >got &&
	"$P/bin/offheap" --list-commands >want &&
	diff -u want got
'

test_expect_success 'bash: every option of every command, as its getopt table has it' '
	for cmd in $("$P/bin/offheap" --list-commands); do
		"$P/bin/offheap" --list-options $cmd | cut -f1 | grep . | sort >want &&
		test -s want &&
		complete offheap $cmd -- | sort >got &&
		diff -u want got || { echo "in $cmd"; return 1; }
	done &&
	complete offheap maps --so >got &&
	echo --sort >want &&
	diff -u want got &&
	complete offheap ps --no-h >got &&
	echo --no-headings >want &&
	diff -u want got &&
	complete offheap trace --col >got &&
	echo --columns >want &&
	diff -u want got
'

test_expect_success 'each option a command parses is in its --help' '
	for cmd in $("$P/bin/offheap" --list-commands); do
		"$P/bin/offheap" $cmd --help >help &&
		for opt in $("$P/bin/offheap" --list-options $cmd | cut -f1); do
			grep -q -e "$opt\\b" help || { echo "$cmd: $opt is not in --help"; return 1; }
		done
	done
'

test_expect_success 'bash: PIDs, JVMs first for the JVM commands' '
	complete offheap maps "" >pids &&
	grep -x $hold pids && grep -x $jvm pids &&
	complete offheap maps ${hold%?} >pids &&
	grep -x $hold pids && ! grep -v "^${hold%?}" pids &&
	for cmd in jstat jcmd nmt jvm; do
		complete offheap $cmd "" >pids &&
		j=$(grep -n -x $jvm pids | cut -d: -f1) && h=$(grep -n -x $hold pids | cut -d: -f1) &&
		test "$j" -lt "$h" || { echo "$cmd: JVM $jvm at $j, not before $hold at $h"; return 1; }
	done &&
	complete offheap record -p "" >pids &&
	grep -x $hold pids
'

test_expect_success 'bash: recordings for report, diff and doctor; files for -o' '
	mkdir recs && : >recs/a.db && : >recs/b.txt &&
	complete offheap report recs/ >got &&
	echo recs/a.db >want &&
	diff -u want got &&
	complete offheap diff recs/a.db recs/ >got &&
	diff -u want got &&
	complete offheap doctor recs/ >got &&
	diff -u want got &&
	complete offheap record -o recs/b >got &&
	echo recs/b.txt >want &&
	diff -u want got &&
	complete offheap nmt $jvm d >got &&
	printf "detail\ndiff\n" >want &&
	diff -u want got
'

test_expect_success 'zsh: commands, options, JVMs first and recordings' '
	zsh -n "$ZSH_COMP" &&
	zcomplete offheap "" >got &&
	"$P/bin/offheap" --list-commands >want &&
	diff -u want got &&
	zcomplete offheap report -- >got &&
	"$P/bin/offheap" --list-options report | cut -f1 | grep . >want &&
	diff -u want got &&
	zcomplete offheap jstat "" >pids &&
	j=$(grep -n -x $jvm pids | cut -d: -f1) && h=$(grep -n -x $hold pids | cut -d: -f1) &&
	test "$j" -lt "$h" &&
	zcomplete offheap report "" >got &&
	echo "<files -g *.db>" >want &&
	diff -u want got
'

test_expect_success 'make uninstall removes what install put there' '
	make -s -C "$ROOT" B="$BUILD" uninstall DESTDIR="$TRASH/root" PREFIX=/usr/local &&
	! test -e "$P/bin/offheap" &&
	! test -e "$P/lib/offheap" &&
	! test -e "$BASH_COMP" && ! test -e "$ZSH_COMP" &&
	test -z "$(find "$P" -type f)"
'

test_done
