#!/bin/sh
# The culprit of an allocation site is the code that decided to allocate, not
# the wrapper that forwarded it: a C leak through strdup, through a wrapper of
# the program's own that no list names (my_make_buf, called from three
# functions), and through operator new inside std::vector is named after its
# caller by 'doctor FILE' and by 'report' (text, --json, html); a stripped
# program's site is an address in its module, never an outer named frame.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

# Built here, never sanitized (the tracker is preloaded into them).
setup_or_fail "cc builds wrapleak" \
	cc -O0 -g -o wrapleak "$ROOT/tests/helpers/culprit/wrapleak.c"
setup_or_fail "g++ builds vecleak" \
	g++ -O0 -g -o vecleak "$ROOT/tests/helpers/culprit/vecleak.cc"
setup_or_fail "strip makes a copy of wrapleak without symbols" \
	strip -o wrapleak-stripped wrapleak

# record NAME CMD...: an exact recording NAME.db of CMD (600 rounds: ~2.4 MiB kept).
record() {
	_n=$1
	shift
	offheap record --exact --interval 200ms -o "$_n.db" -- "$@" >"$_n.out" 2>"$_n.err"
}

test_expect_success 'a leak through strdup is its caller'"'"'s, not __strdup'"'"'s' '
	record dup ./wrapleak strdup 600 &&
	offheap doctor dup.db --json >dup.json &&
	jq -r ".findings[0].culprit" dup.json &&
	jq -e ".findings[0].pattern == \"malloc-leak\"" dup.json &&
	jq -e ".findings[0].culprit | test(\"^remember_name \\\\(.*wrapleak.c:[0-9]+\\\\) in wrapleak\$\")" dup.json &&
	jq -e ".findings[0].evidence | map(test(\"through __strdup\")) | any" dup.json &&
	offheap report dup.db --top 1 >dup.txt &&
	grep "^    site: remember_name (.*wrapleak.c:[0-9]*) in wrapleak\$" dup.txt &&
	! grep "site: __strdup" dup.txt
'

test_expect_success 'a wrapper of the program'"'"'s own is told by its callers, every format' '
	record wrap ./wrapleak wrap 600 &&
	offheap doctor wrap.db --json >wrap.json &&
	jq -r ".findings[0].culprit" wrap.json &&
	jq -e ".findings[0].culprit | test(\"^load_users \\\\(\")" wrap.json &&
	jq -e ".findings[0].evidence | map(test(\"through my_make_buf\")) | any" wrap.json &&
	offheap report wrap.db --json >rep.json &&
	jq -r "[.top[] | select(.growth_bytes > 262144) | .site | sub(\" .*\"; \"\")] | sort | join(\",\")" rep.json >sites &&
	echo "load_items,load_orders,load_users" >expect &&
	diff expect sites &&
	offheap report wrap.db >rep.txt &&
	grep "^     *[0-9.]* [KM]iB  load_users (" rep.txt &&
	! grep "site: my_make_buf" rep.txt &&
	offheap report wrap.db --format html -o wrap.html &&
	grep -q "<summary>load_users (" wrap.html
'

test_expect_success 'operator new inside std::vector is charged to the code that filled it' '
	record vec ./vecleak 600 &&
	offheap doctor vec.db --json >vec.json &&
	jq -r ".findings[0].culprit" vec.json &&
	jq -e ".findings[0].culprit | test(\"^cache_record\\\\(unsigned long\\\\) \\\\(.*vecleak.cc:[0-9]+\\\\) in vecleak\$\")" vec.json &&
	offheap report vec.db --json >vrep.json &&
	jq -e ".top[0].site | test(\"^cache_record\")" vrep.json
'

test_expect_success 'a stripped program'"'"'s site is an address in its module' '
	record strip ./wrapleak-stripped wrap 600 &&
	offheap report strip.db --json >srep.json &&
	jq -r ".top[0].site" srep.json &&
	jq -e ".top[0].site | test(\"^0x[0-9a-f]+ in wrapleak-stripped\\\\+0x[0-9a-f]+\$\")" srep.json &&
	offheap report strip.db >srep.txt &&
	grep "^    site: 0x[0-9a-f]* in wrapleak-stripped+0x[0-9a-f]*\$" srep.txt &&
	! grep "site: __libc_start" srep.txt
'

test_done
