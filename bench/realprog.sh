#!/bin/sh
# bench/realprog.sh: the allocation tracker on real programs, built without frame pointers
# as Debian ships them: `git log -p -n 200` on a clone of this repository, `sqlite3 :memory:`
# running 200k INSERTs, `cc1 -O2` on a generated ~6k-line C file, and a python3 script
# that creates and drops dicts, lists and strings; and build/bench/stackstorm, 4,096 call
# stacks that each allocate a few times (the cost of entering stacks). Each runs plain, under
# `offheap record --exact`, under `offheap record` (sampled, 512 KiB) and under heaptrack
# when installed (its own recording, interpreted as it runs), in the same run.
# Runs are interleaved (one of each configuration per round, N rounds, default 3) so a
# load change on a shared machine hits every configuration alike. Prints per workload the
# median wall time, CPU time (user + sys, the whole tree) and peak RSS (ru_maxrss: the largest
# process of the tree, which is the target for these workloads) of each configuration, the
# recording's size (offheap's .db, heaptrack's .zst), and the ratios to plain and to heaptrack.
# heaptrack is not run on cc1 unless HT_CC1=1: it needed 19 GB there on a 2-core machine.
# Workload `true` is the recorder's fixed cost: start, first and final write, no work.
# BASE=DIR (another build folder, e.g. BASE=/work/main/build) adds that build's offheap
# record, exact and sampled, to every round: before and after in the same run.
# Usage: [BASE=DIR] bench/realprog.sh [N] [true|git|sqlite|cc1|python|stacks]...
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-3}
[ $# -gt 0 ] && shift
WORK=${*:-true git sqlite cc1 python stacks}
BASE=${BASE:-}
[ -x "$OFFHEAP" ] || { echo "bench/realprog.sh: build first (make)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
HT=$(command -v heaptrack || true)
CC1=$(gcc -print-prog-name=cc1)

# The inputs, made once so every configuration does the same work.
setup() {
	case $1 in
	git)
		git clone -q --no-hardlinks "$ROOT" "$TMP/repo"
		;;
	sqlite)
		awk 'BEGIN { print "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, v REAL);";
			print "BEGIN;";
			for (i = 0; i < 200000; i++)
				printf "INSERT INTO t (name, v) VALUES (%cname-%d%c, %d.5);\n", 39, i, 39, i;
			print "COMMIT;";
			print "SELECT count(*), sum(v) FROM t GROUP BY substr(name, 1, 7);" }' \
			>"$TMP/ins.sql"
		;;
	cc1)
		awk 'BEGIN { print "#include <stddef.h>";
			print "struct node { struct node *next; long key; double w[4]; };";
			for (f = 0; f < 300; f++) {
				printf "static long f%d(struct node *n, long k)\n{\n\tlong s = %d;\n", f, f;
				print "\tfor (; n; n = n->next) {";
				print "\t\tswitch ((n->key ^ k) & 7) {";
				for (c = 0; c < 6; c++)
					printf "\t\tcase %d: s += n->key * %d + (long)n->w[%d]; break;\n", c, c + f, c % 4;
				print "\t\tdefault: s -= k; break;\n\t\t}";
				printf "\t\tif (s > %d)\n\t\t\ts = s / 3 + f%d(NULL, s);\n", 1000 + f, (f > 0 ? f - 1 : 0);
				print "\t}\n\treturn s;\n}\n";
			}
			print "long run(struct node *n)\n{\n\tlong s = 0;";
			for (f = 0; f < 300; f++)
				printf "\ts += f%d(n, %d);\n", f, f;
			print "\treturn s;\n}" }' >"$TMP/gen.c"
		;;
	python)
		cat >"$TMP/churn.py" <<'EOF'
import random
random.seed(1)
keep = []
for r in range(60):
    d = {}
    for i in range(20000):
        d["k%d-%d" % (r, i)] = [i, str(i) * 3, (i, r)]
    lst = [s.upper() for s in map(str, range(20000))]
    keep.append({k: v for k, v in list(d.items())[:500]})
    del d, lst
    if len(keep) > 20:
        keep.pop(0)
print(sum(len(k) for k in keep))
EOF
		;;
	esac
}

# cmd NAME: the workload's command line, in "$@" form via set.
cmdline() {
	case $1 in
	true) echo "true" ;;
	git) echo "git -C $TMP/repo --no-pager log -p -n 200" ;;
	sqlite) echo "sqlite3 :memory: .read\\ $TMP/ins.sql" ;;
	cc1) echo "$CC1 -quiet -O2 $TMP/gen.c -o $TMP/gen.s" ;;
	# Debian's interpreter by its path: a python3 first in PATH may be a shim (pyenv's is
	# a bash script that forks a dozen shells), which would be measured instead
	python) echo "/usr/bin/python3 $TMP/churn.py" ;;
	stacks) echo "$BUILD/bench/stackstorm 12 3" ;;
	esac
}

# run KEY CMD...: one timed run; appends "wall_ms cpu_ms peak_kib" to $TMP/KEY. CPU in
# microseconds from wait4 (build/bench/runstat); GNU time's hundredths of a second were a
# tenth of a git run.
RUNSTAT="$BUILD/bench/runstat"
[ -x "$RUNSTAT" ] || { echo "bench/realprog.sh: build first (make)" >&2; exit 1; }
run() {
	_key=$1
	shift
	"$RUNSTAT" "$@" 2>"$TMP/t" >/dev/null || true
	tail -n 1 "$TMP/t" >>"$TMP/$_key"
}

# med KEY COLUMN: median of one column (1 wall, 2 cpu, 3 peak RSS).
med() {
	sort -n -k"$2" "$TMP/$1" | awk -v c="$2" '{ v[NR] = $c } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m }'
}

size_kib() {
	[ -f "$1" ] && awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f\n", b / 1024 }' || echo "-"
}

for w in $WORK; do
	setup "$w"
done

i=0
while [ $i -lt "$N" ]; do
	for w in $WORK; do
		# sqlite's .read takes its file as one argument: the escaped space is undone here
		eval "set -- $(cmdline "$w")"
		run "$w.plain" "$@"
		run "$w.exact" "$OFFHEAP" record -f --exact -o "$TMP/$w.exact.db" -- "$@"
		run "$w.sampled" "$OFFHEAP" record -f -o "$TMP/$w.sampled.db" -- "$@"
		if [ -n "$BASE" ]; then
			run "$w.bexact" "$BASE/offheap" record -f --exact -o "$TMP/$w.bexact.db" -- "$@"
			run "$w.bsampled" "$BASE/offheap" record -f -o "$TMP/$w.bsampled.db" -- "$@"
		fi
		if [ -n "$HT" ] && { [ "$w" != cc1 ] || [ "${HT_CC1:-}" = 1 ]; }; then
			rm -f "$TMP/$w.htrec".*
			run "$w.ht" "$HT" -o "$TMP/$w.htrec" "$@"
		fi
	done
	i=$((i + 1))
done

line() {
	printf "  %-24s %9s ms (%6sx)  cpu %9s ms (%6sx)  rss %7s KiB (%5sx)  file %8s KiB\n" \
		"$1" "$(med "$2" 1)" "$(ratio "$(med "$2" 1)" "$(med "$w.plain" 1)")" \
		"$(med "$2" 2)" "$(ratio "$(med "$2" 2)" "$(med "$w.plain" 2)")" \
		"$(med "$2" 3)" "$(ratio "$(med "$2" 3)" "$(med "$w.plain" 3)")" "$3"
}

echo "real programs, median of $N interleaved rounds (x plain)${BASE:+; BASE is $BASE}"
for w in $WORK; do
	echo "$w: $(cmdline "$w" | sed "s|$TMP|\$TMP|g; s|\\\\||g")"
	line "plain" "$w.plain" "-"
	line "offheap record --exact" "$w.exact" "$(size_kib "$TMP/$w.exact.db")"
	line "offheap record (512k)" "$w.sampled" "$(size_kib "$TMP/$w.sampled.db")"
	if [ -n "$BASE" ]; then
		line "BASE record --exact" "$w.bexact" "$(size_kib "$TMP/$w.bexact.db")"
		line "BASE record (512k)" "$w.bsampled" "$(size_kib "$TMP/$w.bsampled.db")"
	fi
	if [ -s "$TMP/$w.ht" ]; then
		htf=$(ls "$TMP/$w.htrec".* 2>/dev/null | head -n 1)
		line "heaptrack" "$w.ht" "$(size_kib "$htf")"
		echo "  heaptrack / exact: wall $(ratio "$(med "$w.ht" 1)" "$(med "$w.exact" 1)")x" \
			"cpu $(ratio "$(med "$w.ht" 2)" "$(med "$w.exact" 2)")x;" \
			"exact file / heaptrack file $(ratio "$(size_kib "$TMP/$w.exact.db")" "$(size_kib "$htf")")x;" \
			"sampled file / heaptrack file $(ratio "$(size_kib "$TMP/$w.sampled.db")" "$(size_kib "$htf")")x"
	else
		echo "  heaptrack: not run"
	fi
done
