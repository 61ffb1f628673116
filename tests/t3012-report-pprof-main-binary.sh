#!/bin/sh
# offheap report --format pprof: the profile's first Mapping is the main executable of the run,
# which 'go tool pprof' prints as "File:", not the library the first sample's leaf is in (libz,
# libstdc++). Recordings without alloc_run.exe fall back to the module of _start.
. "$(dirname "$0")/test-lib.sh"

command -v go >/dev/null || skip_all 'go is not installed (Debian golang-go)'
GOCACHE=$TRASH/gocache HOME=$TRASH GOTOOLCHAIN=local
export GOCACHE HOME GOTOOLCHAIN

cat >zmain.c <<'CEOF'
#include <string.h>
#include <zlib.h>
int main(void)
{
	static z_stream zs[8];

	for (int i = 0; i < 8; i++)
		if (deflateInit(&zs[i], 6) != Z_OK)
			return 1;
	return 0;
}
CEOF
cat >cxxmain.cc <<'CEOF'
#include <string>
#include <vector>
int main()
{
	static std::vector<std::string> keep;

	for (int i = 0; i < 50; i++)
		keep.push_back(std::string(5000, 'x'));
	return keep.size() == 50 ? 0 : 1;
}
CEOF

# file_line PROFILE: the "File:" line of go tool pprof -top
file_line() {
	go tool pprof -top "$1" >top 2>&1 && cat top >&2 && sed -n "s/^File: //p" top
}

test_expect_success 'through libz: the profile names the program, not libz' '
	cc -O1 -g -o zmain zmain.c -lz &&
	"$OFFHEAP" record --exact -o z.db -- ./zmain &&
	test "$(sqlite3 z.db "SELECT exe FROM alloc_run")" = "$TRASH/zmain" &&
	"$OFFHEAP" report z.db --format pprof -o z.pb.gz &&
	"$OFFHEAP" report z.db --top 1 | grep -q "deflateInit.*libz" &&
	test "$(file_line z.pb.gz)" = zmain
'

test_expect_success 'a recording without alloc_run.exe: the module of _start' '
	cp z.db old.db &&
	sqlite3 old.db "UPDATE alloc_run SET exe = NULL" &&
	"$OFFHEAP" report old.db --format pprof -o old.pb.gz &&
	test "$(file_line old.pb.gz)" = zmain
'

if command -v g++ >/dev/null; then
	test_expect_success 'through libstdc++: the profile names the program' '
		g++ -O1 -g -o cxxmain cxxmain.cc &&
		"$OFFHEAP" record --exact -o cxx.db -- ./cxxmain &&
		"$OFFHEAP" report cxx.db --format pprof -o cxx.pb.gz &&
		go tool pprof -raw cxx.pb.gz >raw 2>&1 &&
		grep -q "libstdc++" raw &&
		test "$(file_line cxx.pb.gz)" = cxxmain
	'
else
	test_skip 'through libstdc++' 'g++ is not installed'
fi

test_done
