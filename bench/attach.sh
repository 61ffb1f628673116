#!/bin/sh
# bench/attach.sh: the cost of `offheap record -p PID --sample SIZE` while attached, and
# the time from `record -p` to the tracker's first allocation, in the same run:
#  - sqlite3: a long run of inserts into an in-memory table (ROWS rows, default 1.5M)
#    is started first and attached as soon as it runs, so the tracker is in it for most
#    of it; its wall and CPU time (GNU time, from start to exit) against the same run
#    unattached;
#  - a JVM: tests/java-like work written here (AttachWork: Deflater/Inflater pairs, each
#    malloc'ing zlib's ~300 KiB of state, then end()ed) waits for a go file after start;
#    attached runs are let go once `record -p` said it attached, so the JVM measures its
#    own work (ms, printed) with the tracker in for all of it;
#  - the time from starting `record -p` to its "attached" line, after which every call of
#    the malloc family goes through the hooks (a busy sqlite3 allocates within
#    microseconds), median of the sqlite3 rounds.
# Rounds are interleaved (default 3). BASE=DIR adds the attached runs of another build;
# SAMPLE=SIZE the --sample of the attached runs (512k; doctor attaches with 256k).
# Usage: bench/attach.sh [N]
set -eu
. "$(dirname "$0")/lib.sh"
N=${1:-3}
ROWS=${ROWS:-1500000}
ITER=${ITER:-15000}
SAMPLE=${SAMPLE:-512k}
JAVA=${JAVA:-/usr/bin/java}
JAVAC=${JAVAC:-$(dirname "$(readlink -f "$JAVA")")/javac}
[ -x "$OFFHEAP" ] || { echo "bench/attach.sh: build first (make)" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "bench/attach.sh: needs sqlite3" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'for p in $BENCH_PIDS; do kill -KILL $p 2>/dev/null; done; rm -rf "$TMP"' EXIT

cat >"$TMP/s.sql" <<SQL
create table t(a integer primary key, b text, c blob);
with recursive r(i) as (select 1 union all select i + 1 from r where i < $ROWS)
insert into t(b, c) select printf('row %d', i), randomblob(64) from r;
create index tb on t(b);
select count(*) from t;
SQL
cat >"$TMP/AttachWork.java" <<'JAVA'
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

public class AttachWork {
	public static void main(String[] a) throws Exception {
		int n = Integer.parseInt(a[0]);
		Path go = Path.of(a[2]);
		byte[] in = new byte[16384], buf = new byte[32768], out = new byte[16384];
		for (int i = 0; i < in.length; i++)
			in[i] = (byte)((i * 31) ^ (i >> 5));
		Files.writeString(Path.of(a[1]), "ready\n");
		while (!Files.exists(go))
			Thread.sleep(1);
		long t0 = System.nanoTime(), sum = 0;
		for (int i = 0; i < n; i++) {
			Deflater d = new Deflater();
			d.setInput(in);
			d.finish();
			int c = d.deflate(buf);
			d.end();
			Inflater f = new Inflater();
			f.setInput(buf, 0, c);
			sum += f.inflate(out);
			f.end();
		}
		System.out.println((System.nanoTime() - t0) / 1000000 + " " + sum);
	}
}
JAVA
"$JAVAC" -d "$TMP" "$TMP/AttachWork.java"

# wait_file FILE PATTERN: polls (1 ms) until FILE has a line matching PATTERN; 60 s at most.
wait_file() {
	_i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt 60000 ] || { echo "bench/attach.sh: gave up waiting for '$2' in $1" >&2; exit 1; }
		sleep 0.001
	done
}

# sql NAME [OFFHEAP]: one sqlite3 run, attached by OFFHEAP when given; appends
# "wall_ms cpu_ms" to $TMP/NAME and, attached, the ms to the attached line to $TMP/NAME.att.
sql() {
	/usr/bin/time -f "%e %U %S" -o "$TMP/t" sqlite3 :memory: <"$TMP/s.sql" >/dev/null &
	_tp=$!
	BENCH_PIDS="$BENCH_PIDS $_tp"
	if [ $# -gt 1 ]; then
		_sp=""
		until [ -n "$_sp" ]; do
			_sp=$(cat /proc/$_tp/task/$_tp/children 2>/dev/null || true)
			_sp=${_sp%% *}
		done
		_t0=$(date +%s%N)
		"$2" record -p "$_sp" --sample $SAMPLE -f -o "$TMP/$1.db" 2>&1 | while read -r l; do
			case $l in
			*"attached to process"*) echo $((($(date +%s%N) - _t0) / 1000000)) >>"$TMP/$1.att" ;;
			esac
		done &
		_rp=$!
	fi
	wait $_tp
	[ $# -gt 1 ] && wait $_rp
	awk '{ printf "%.1f %.1f\n", $1 * 1000, ($2 + $3) * 1000 }' "$TMP/t" >>"$TMP/$1"
}

# jvm NAME [OFFHEAP]: one AttachWork run; appends its own work ms to $TMP/NAME.
jvm() {
	rm -f "$TMP/ready" "$TMP/go" "$TMP/rec"
	"$JAVA" -Xmx256m -cp "$TMP" AttachWork "$ITER" "$TMP/ready" "$TMP/go" >"$TMP/jout" 2>&1 &
	_jp=$!
	BENCH_PIDS="$BENCH_PIDS $_jp"
	wait_file "$TMP/ready" ready
	if [ $# -gt 1 ]; then
		"$2" record -p $_jp -d 600s --sample $SAMPLE -f -o "$TMP/$1.db" 2>"$TMP/rec" &
		_rp=$!
		BENCH_PIDS="$BENCH_PIDS $_rp"
		wait_file "$TMP/rec" "attached to process"
	fi
	touch "$TMP/go"
	wait $_jp
	[ $# -gt 1 ] && wait $_rp
	awk '{ printf "%s %s\n", $1, $1 }' "$TMP/jout" >>"$TMP/$1"
}

i=0
while [ $i -lt "$N" ]; do
	sql splain
	sql satt "$OFFHEAP"
	[ -n "${BASE:-}" ] && sql sbase "$BASE/offheap"
	jvm jplain
	jvm jatt "$OFFHEAP"
	[ -n "${BASE:-}" ] && jvm jbase "$BASE/offheap"
	i=$((i + 1))
done

med() {
	sort -n -k"$2" "$TMP/$1" | awk -v c="$2" '{ v[NR] = $c } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f\n", m }'
}
line() {
	printf "  %-40s wall %8s ms (%5sx)   cpu %8s ms (%5sx)\n" "$1" "$(med "$2" 1)" \
		"$(ratio "$(med "$2" 1)" "$(med "$3" 1)")" "$(med "$2" 2)" \
		"$(ratio "$(med "$2" 2)" "$(med "$3" 2)")"
}

echo "sqlite3 :memory:, $ROWS inserts + an index, median of $N interleaved rounds (x unattached)"
line "unattached" splain splain
line "record -p --sample $SAMPLE (most of the run)" satt splain
[ -n "${BASE:-}" ] && line "record -p --sample $SAMPLE ($BASE)" sbase splain
echo "JVM AttachWork, $ITER Deflater+Inflater pairs, its own work ms, median of $N rounds"
printf "  %-40s %8s ms\n" "unattached" "$(med jplain 1)"
printf "  %-40s %8s ms (%5sx)\n" "record -p --sample $SAMPLE (all of the work)" "$(med jatt 1)" \
	"$(ratio "$(med jatt 1)" "$(med jplain 1)")"
[ -n "${BASE:-}" ] && printf "  %-40s %8s ms (%5sx)\n" "record -p --sample $SAMPLE ($BASE)" \
	"$(med jbase 1)" "$(ratio "$(med jbase 1)" "$(med jplain 1)")"
echo "record -p to its 'attached' line (sqlite3 busy; ms), per round: $(tr '\n' ' ' <"$TMP/satt.att")"
