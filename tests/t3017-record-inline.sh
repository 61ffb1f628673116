#!/bin/sh
# offheap record + report name every inlined level of a stack, as valgrind does: a C++
# std::vector growth inlined five deep (resize -> _M_default_append -> _M_allocate ->
# allocator_traits::allocate -> __new_allocator::allocate) shows each level at its own
# file:line. And a frame in code without DWARF (_start, from crt1.o) has no file:line,
# though a CU's line table ends just before it.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

command -v valgrind >/dev/null || fail_all 'valgrind is installed (scripts/setup-deps --test)'

cat >vec.cc <<'CEOF'
#include <vector>
static std::vector<char> *keep[30];
__attribute__((noinline)) static void grow_one(int i, unsigned long n)
{
	std::vector<char> *v = new std::vector<char>;
	v->resize(n);
	keep[i] = v;
}
int main()
{
	for (int i = 0; i < 30; i++)
		grow_one(i, 8192);
	return keep[29]->size() == 8192 ? 0 : 1;
}
CEOF
setup_or_fail 'g++ builds the C++ fixture' g++ -O2 -g -o vec vec.cc

test_expect_success 'valgrind names the frames of the vector data (the reference)' '
	timeout $((100 * OFFHEAP_TIME_FACTOR)) valgrind --tool=memcheck --leak-check=full \
		--show-leak-kinds=all --num-callers=30 --log-file=vg.log ./vec &&
	sed -n "/245,760 bytes in 30 blocks/,/^==[0-9]*== *$/p" vg.log >vg.site &&
	cat vg.site &&
	grep -q "_M_default_append (vector.tcc:" vg.site &&
	grep -q "_M_allocate (stl_vector.h:" vg.site
'

test_expect_success 'exact: every function valgrind names, in order, same file:line' '
	"$OFFHEAP" record --exact -o vec.db -- ./vec &&
	"$OFFHEAP" report vec.db --top 1 >out &&
	cat out &&
	"$OFFHEAP" report vec.db --top 1 --json >j &&
	python3 - vg.site j <<-PYEOF
	import json, os, re, sys
	vg = []
	for l in open(sys.argv[1]):
	    m = re.search(r"(?:at|by) 0x[0-9A-F]+: (.*?)(?: \((\S+):(\d+)\))?$", l)
	    if m:
	        vg.append((m.group(1), m.group(2), int(m.group(3) or 0)))
	# From the first frame after the allocator (operator new) down to main.
	names = [v[0] for v in vg]
	vg = vg[1:names.index("main") + 1]
	assert len(vg) >= 7, vg
	top = json.load(open(sys.argv[2]))["top"][0]
	assert top["live_bytes"] == 30 * 8192, top
	ours = [(f["function"] or "", os.path.basename(f["file"] or ""), f["line"])
	        for f in top["frames"]]
	def same(v, o):
	    # valgrind names an inlined frame by its bare DW_AT_name ("allocate").
	    return o == v or o.startswith(v + "(") or ("::" + v + "(") in o
	k = 0
	for name, file, line in vg:
	    while k < len(ours) and not same(name, ours[k][0]):
	        k += 1
	    assert k < len(ours), "valgrind frame %s (%s:%d) missing in %s" % (name, file, line, ours)
	    if file:
	        assert ours[k][1:] == (file, line), (name, file, line, ours[k])
	    k += 1
	PYEOF
'

test_expect_success 'the bottom frame _start has no file:line, main has one' '
	"$OFFHEAP" record --exact -i 50ms -o leak.db -- "$HELPERS/mallocleak" 0.2 &&
	"$OFFHEAP" report leak.db --top 1 >out &&
	cat out &&
	sed -n "/^#1/,/^\$/p" out >top &&
	grep -q "^ *_start mallocleak$" top &&
	! grep -q "_start (" top &&
	grep -q "^ *main (tests/helpers/mallocleak.c:[0-9]*) mallocleak$" top
'

test_done
