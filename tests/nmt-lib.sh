# nmt-lib.sh: helpers for the offheap nmt end-to-end tests (sourced after test-lib.sh).

# jcmd_kb JCMD PID CATEGORY FIELD: FIELD (reserved|committed) of CATEGORY in KB,
# from the JDK's own jcmd, read independently of offheap's parser.
jcmd_kb() {
	"$1" "$2" VM.native_memory summary scale=KB |
		awk -v cat="$3" -v f="$4=" '
			cat == "Total" && /^Total: / { line = $0 }
			cat != "Total" && /^-/ {
				name = $0; sub(/^- */, "", name); sub(/ *\(reserved=.*/, "", name)
				if (name == cat) line = $0
			}
			END {
				if (!line) exit 1
				i = index(line, f); if (!i) exit 1
				v = substr(line, i + length(f)); sub(/KB.*/, "", v); print v
			}'
}

# json_cat FILE CATEGORY JQ-PATH: a category's field from offheap nmt --json.
json_cat() {
	jq -e --arg c "$2" ".categories[] | select(.name == \$c) | $3" "$1"
}

# start_nmt_jvm JAVA NMT-MODE DIR MIB [JVM-OPTS...]: starts tests/java/NmtAlloc.java,
# sets JPID; its output goes to DIR.out (the caller waits for DIR/ready).
start_nmt_jvm() {
	_java=$1 _mode=$2 _dir=$3 _mib=$4
	shift 4
	mkdir -p "$_dir"
	start_bg "$_java" -XX:NativeMemoryTracking="$_mode" -Xmx128m -XX:TieredStopAtLevel=1 "$@" \
		"$ROOT/tests/java/NmtAlloc.java" "$_dir" "$_mib" >"$_dir.out" 2>&1
	JPID=$BG_PID
}

# allocate DIR MIB-EXPECTED: triggers one allocation and waits until it is held.
allocate() {
	: >"$1/alloc" &&
	wait_for 30 "test ! -e '$1/alloc' && grep -qx '$2' '$1/allocated' 2>/dev/null"
}

# same_kb JSON-BYTES JCMD-KB WHAT: offheap's bytes equal jcmd's KB (says both when not).
same_kb() {
	[ "$1" -eq $(($2 * 1024)) ] || { echo "$3: offheap $1 bytes, jcmd $2 KB"; return 1; }
}
