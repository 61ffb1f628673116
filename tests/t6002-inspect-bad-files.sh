#!/bin/sh
# offheap inspect on bad dump files: truncated, without sidecar, garbage
# sidecar, empty, a folder — clear messages, never a crash.
. "$(dirname "$0")/test-lib.sh"

start_bg "$HELPERS/holey" "$TRASH/status" 100
wait_ready "$TRASH/status" 10 || { echo "not ok - holey did not start"; exit 1; }
pid=$(awk '$1 == "pid" { print $2 }' "$TRASH/status")
addr=$(awk '$1 == "addr" { print $2 }' "$TRASH/status")

test_expect_success 'a good dump inspects cleanly' '
	offheap dump $pid $addr+64K -o good.bin 2>/dev/null &&
	offheap inspect good.bin >out &&
	grep "1 range, 2 holes" out &&
	grep "pages (4 KiB): 16, zero 4 (25.0%)" out
'

test_expect_success 'a live region with holes: the same profile, no pointer crash' '
	offheap inspect $pid $addr+64K >live &&
	grep "pages (4 KiB): 16, zero 4 (25.0%)" live &&
	grep "^pointers:" live
'

test_expect_success 'a truncated dump: says so, inspects what is there, exit 1' '
	head -c 20000 good.bin >trunc.bin && cp good.bin.json trunc.bin.json &&
	test_exit_code 1 offheap inspect trunc.bin >out 2>err &&
	grep "offheap: error: .trunc.bin. is truncated: 19.5 KiB where its sidecar says 64.0 KiB" err &&
	grep "PARTIAL" out &&
	grep "pages (4 KiB): 5," out
'

test_expect_success 'no sidecar: exit 1 with a hint; --raw inspects the bytes' '
	cp good.bin alone.bin &&
	test_exit_code 1 offheap inspect alone.bin >out 2>err &&
	grep "cannot read the sidecar .alone.bin.json.: No such file or directory" err &&
	grep "hint: .*--raw" err &&
	offheap inspect --raw alone.bin >out &&
	grep "pages (4 KiB): 16" out
'

test_expect_success 'garbage sidecars: exit 1, never a crash' '
	cp good.bin g.bin &&
	fails=0 &&
	for s in "" "{" "[]" "{}" "nonsense" "{\"format\": \"offheap-dump-1\"}" \
		"{\"format\": \"offheap-dump-1\", \"regions\": [{\"start\": 5, \"end\": 1, \"file_offset\": 0}]}" \
		"{\"format\": \"offheap-dump-1\", \"regions\": [{\"start\": 0, \"end\": 99999999999999999999999, \"file_offset\": 0}]}" \
		"{\"format\": \"offheap-dump-1\", \"regions\": [{\"start\": 0, \"end\": 16, \"file_offset\": 7}]}" \
		"{\"format\": \"other\", \"regions\": []}" \
		"$(printf "[%.0s" $(seq 1 200))"
	do
		printf "%s" "$s" >g.bin.json &&
		test_exit_code 1 offheap inspect g.bin >out 2>err &&
		grep "not a sidecar written by .offheap dump." err || fails=$((fails + 1))
	done &&
	test $fails -eq 0
'

test_expect_success 'a sidecar for more ranges than the file holds: inspected as truncated' '
	python3 -c "
import json
d = json.load(open(\"good.bin.json\"))
r = dict(d[\"regions\"][0])
r[\"start\"] = r[\"end\"] + 4096; r[\"end\"] = r[\"start\"] + 4096; r[\"file_offset\"] = 65536
d[\"regions\"].append(r)
json.dump(d, open(\"more.bin.json\", \"w\"))
" &&
	cp good.bin more.bin &&
	test_exit_code 1 offheap inspect more.bin >out 2>err &&
	grep "is truncated" err && grep "64.0 KiB" out
'

test_expect_success 'empty file, a folder, a missing file: exit 1' '
	: >empty.bin && cp good.bin.json empty.bin.json &&
	test_exit_code 1 offheap inspect empty.bin 2>err && grep "holds no bytes" err &&
	mkdir dir.bin &&
	test_exit_code 1 offheap inspect dir.bin 2>err && grep "is a directory, not a dump file" err &&
	test_exit_code 1 offheap inspect nosuch.bin 2>err &&
	grep "cannot open .nosuch.bin.: No such file or directory" err
'

test_expect_success 'inspect of a range that is not mapped: exit 1' '
	test_exit_code 1 offheap inspect $pid 0x1000+4K 2>err &&
	grep "is not mapped" err
'

test_expect_success 'usage errors: exit 2' '
	test_exit_code 2 offheap inspect 2>/dev/null &&
	test_exit_code 2 offheap inspect good.bin --top 0 2>/dev/null &&
	test_exit_code 2 offheap inspect $pid --class heap --raw 2>/dev/null &&
	test_exit_code 2 offheap inspect $pid bad-region 2>/dev/null
'

test_done
