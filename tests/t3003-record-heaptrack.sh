#!/bin/sh
# offheap record --exact and heaptrack agree on the bytes a C program leaks (within 1 %).
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

command -v heaptrack >/dev/null && command -v heaptrack_print >/dev/null ||
	skip_all "heaptrack is not installed (Debian heaptrack)"
setup_or_fail "cc builds the trackee helper" \
	cc -O2 -g -o "$TRASH/trackee" "$ROOT/tests/helpers/trackee.c" -lpthread -ldl

# ht_leaked FILE: heaptrack_print's "total memory leaked" in bytes (its K/M/G are 1000s).
ht_leaked() {
	heaptrack_print "$1" 2>/dev/null | sed -n 's/^total memory leaked: //p' | awk '{
		v = $1 + 0; u = substr($1, length($1))
		if (u == "K") v *= 1e3; else if (u == "M") v *= 1e6; else if (u == "G") v *= 1e9
		printf "%d\n", v }'
}

# our_live DB: live bytes at the end over every site.
our_live() {
	"$OFFHEAP" report "$1" --top 0 --json |
		python3 -c "import json, sys; print(sum(t['live_bytes'] for t in json.load(sys.stdin)['top']))"
}

for mode in "grow 40" "storm 4 20000"; do
	name=${mode%% *}
	test_expect_success "leaked bytes equal heaptrack's: trackee $mode" '
		heaptrack -o "$TRASH/ht-$name" "$TRASH/trackee" $mode >/dev/null 2>&1 &&
		ht=$(ht_leaked "$TRASH/ht-$name.zst") &&
		"$OFFHEAP" record --exact -o "$name.db" -- "$TRASH/trackee" $mode >/dev/null &&
		ours=$(our_live "$name.db") &&
		echo "heaptrack $ht offheap $ours" &&
		test "$ht" -gt 0 && within_pct "$ours" "$ht" 1
	'
done

test_done
