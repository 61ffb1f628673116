#!/bin/sh
# offheap dump: ranges, --map, --class, holes (PROT_NONE pages), gdb's layout,
# the limit, a range that is not mapped, a process that exits mid-dump.
. "$(dirname "$0")/test-lib.sh"

start_bg "$HELPERS/holey" "$TRASH/status" 100
wait_ready "$TRASH/status" 10 || { echo "not ok - holey did not start"; exit 1; }
pid=$(awk '$1 == "pid" { print $2 }' "$TRASH/status")
addr=$(awk '$1 == "addr" { print $2 }' "$TRASH/status")

# check_holey FILE HOLES: the 64 KiB from addr as holey maps them, with the
# pages of HOLES ("4 5 12 13") zero and listed in the sidecar.
check_holey() {
	python3 -c "
import json
b = open(\"$1\", \"rb\").read()
holes = [int(x) for x in \"$2\".split()]
assert len(b) == 65536, len(b)
for p in range(16):
    want = bytes(4096) if p in holes else b\"\\xab\" * 4096
    assert b[p * 4096:(p + 1) * 4096] == want, p
d = json.load(open(\"$1.json\"))
a = int(\"$addr\", 16)
runs = []
for p in holes:
    if runs and runs[-1][\"end\"] == a + p * 4096:
        runs[-1][\"end\"] += 4096
    else:
        runs.append({\"start\": a + p * 4096, \"end\": a + (p + 1) * 4096})
assert d[\"holes\"] == runs, (d[\"holes\"], runs)
assert d[\"regions\"][0][\"start\"] == a and d[\"regions\"][0][\"end\"] == a + 65536
assert d[\"bytes\"] == 65536 and d[\"bytes_read\"] == 65536 - 4096 * len(holes)
assert d[\"partial\"] is False and d[\"pid\"] == $pid
"
}

test_expect_success 'PROT_NONE and unmapped pages: holes zero-filled and recorded' '
	offheap dump $pid $addr+64K -o r.bin 2>err &&
	grep "2 holes" err &&
	check_holey r.bin "4 5 12 13"
'

test_expect_success 'the /proc/PID/mem fallback: unmapped pages are holes' '
	# /proc/PID/mem reads PROT_NONE pages (as gdb does); process_vm_readv does not
	OFFHEAP_DUMP_FORCE_PROC_MEM=1 "$OFFHEAP" dump $pid $addr+64K -o mem.bin 2>err &&
	grep "1 hole" err &&
	check_holey mem.bin "12 13"
'

test_expect_success 'START-END gives the same bytes as START+LEN' '
	end=$(printf "0x%x" $((addr + 65536))) &&
	offheap dump $pid $addr-$end -o r2.bin 2>/dev/null &&
	cmp r.bin r2.bin
'

if command -v gdb >/dev/null 2>&1; then
	test_expect_success 'the layout of gdb dump binary memory' '
		end=$(printf "0x%x" $((addr + 16384))) &&
		gdb -p $pid -batch -ex "dump binary memory g.bin $addr $end" >/dev/null 2>&1 &&
		offheap dump $pid $addr-$end -o o.bin 2>/dev/null &&
		cmp g.bin o.bin
	'
else
	test_skip 'the layout of gdb dump binary memory' 'gdb is not installed'
fi

test_expect_success '--map N is the N-th mapping (0-based) in address order' '
	n=$(awk -v a="${addr#0x}" "{ split(\$1, r, \"-\"); if (r[1] == a) { print NR - 1; exit } }" \
		/proc/$pid/maps) &&
	test -n "$n" &&
	offheap dump $pid --map $n -o m.bin 2>/dev/null &&
	test "$(wc -c <m.bin)" -eq 16384 &&
	grep "\"class\": \"anon\"" m.bin.json
'

test_expect_success '--class stack dumps the main stack' '
	offheap dump $pid --class stack -o h.bin 2>/dev/null &&
	grep "\"class\": \"stack\"" h.bin.json &&
	grep "\"path\": \"\\[stack\\]\"" h.bin.json
'

test_expect_success 'a range that is not mapped: exit 1, no file left' '
	test_exit_code 1 offheap dump $pid 0x1000+4K -o nm.bin 2>err &&
	grep "offheap: error: 0x1000-0x2000 is not mapped in process $pid" err &&
	! ls nm.bin* 2>/dev/null
'

test_expect_success 'a --map beyond the last mapping: exit 1' '
	test_exit_code 1 offheap dump $pid --map 100000 -o nm.bin 2>err &&
	grep "no mapping 100000" err
'

test_expect_success 'more than --limit needs --force' '
	test_exit_code 1 offheap dump $pid $addr+64K --limit 16K -o big.bin 2>err &&
	grep "more than the limit of 16.0 KiB" err && grep "hint: .*--force" err &&
	! ls big.bin* 2>/dev/null &&
	offheap dump $pid $addr+64K --limit 16K --force -o big.bin 2>/dev/null &&
	cmp big.bin r.bin
'

test_expect_success 'usage errors: exit 2' '
	test_exit_code 2 offheap dump $pid nonsense -o x.bin 2>err &&
	grep "bad region" err &&
	test_exit_code 2 offheap dump $pid $addr+4K 2>err && grep "\-o FILE is required" err &&
	test_exit_code 2 offheap dump $pid -o x.bin 2>err && grep "which region" err &&
	test_exit_code 2 offheap dump $pid --class nosuch -o x.bin 2>err &&
	grep "unknown class" err &&
	test_exit_code 2 offheap dump $pid 0x2000-0x1000 -o x.bin 2>/dev/null
'

test_expect_success 'no such PID: the exact message, exit 1' '
	np=4194303 &&
	while test -d /proc/$np; do np=$((np - 1)); done &&
	test_exit_code 1 offheap dump $np 0x1000+4K -o x.bin 2>err &&
	echo "offheap: error: no process $np" >want &&
	diff -u want err
'

test_expect_success 'the process exits mid-dump: what was read is kept, marked partial' '
	start_bg "$HELPERS/anonhold" 64 "$TRASH/ready2" 100 &&
	victim=$BG_PID &&
	wait_ready "$TRASH/ready2" &&
	maddr=$(python3 -c "
for l in open(\"/proc/$victim/maps\"):
    f = l.split()
    a, b = (int(x, 16) for x in f[0].split(\"-\"))
    if f[1] == \"rw-p\" and len(f) == 5 and b - a >= 64 << 20:
        print(f[0].split(\"-\")[0]); break
") &&
	test -n "$maddr" &&
	# killed once the dump has written some of it, however slow the machine
	{ (wait_for 30 "find . -maxdepth 1 -name \".p.bin.tmp-*\" -size +0c | grep -q ." &&
		kill -KILL $victim) & } &&
	killer=$! &&
	OFFHEAP_DUMP_TEST_DELAY_MS=20 test_exit_code 1 offheap dump $victim 0x$maddr+64M -o p.bin 2>err &&
	wait $killer &&
	cat err &&
	grep "process $victim exited during the dump" err && grep "marked partial" err &&
	size=$(wc -c <p.bin) && test $size -gt 0 && test $size -lt 67108864 &&
	grep "\"partial\": true" p.bin.json &&
	grep "\"bytes\": $size," p.bin.json &&
	test_exit_code 1 offheap inspect p.bin >pout 2>perr &&
	grep "partial dump" perr && grep PARTIAL pout
'

test_expect_success 'interrupted by SIGTERM: no file, no temporary file' '
	start_bg env OFFHEAP_DUMP_TEST_DELAY_MS=3000 "$OFFHEAP" dump $pid $addr+4K -o sig.bin &&
	wait_for 5 "ls .sig.bin.tmp-* >/dev/null 2>&1" &&
	kill -TERM $BG_PID &&
	rc=0 && { wait $BG_PID || rc=$?; } &&
	test "$rc" -eq 143 &&
	! ls -A | grep "sig\.bin"
'

if command -v script >/dev/null 2>&1; then
	test_expect_success 'a progress bar on a terminal for a large dump, none otherwise' '
		start_bg "$HELPERS/anonhold" 80 "$TRASH/ready3" 100 &&
		big=$BG_PID &&
		wait_ready "$TRASH/ready3" &&
		script -qec "$OFFHEAP dump $big --class anon -o bar.bin" /dev/null >tty.out &&
		grep "dump \[#*\] 100%" tty.out &&
		offheap dump $big --class anon -o bar2.bin 2>err &&
		! grep "100%" err &&
		cmp bar.bin bar2.bin &&
		stop_bg $big
	'
else
	test_skip 'a progress bar on a terminal for a large dump' 'script(1) is not installed'
fi

test_expect_success 'no temporary files are left behind' '
	! ls -A | grep "\.tmp-"
'

test_done
