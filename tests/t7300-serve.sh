#!/bin/sh
# offheap serve: one exporter watches a leaking C helper, a JDK 17 JVM with NMT on
# and a process that exits. /metrics passes promtool's check and holds their series
# (classes, NMT, hsperfdata counters, thread groups, trends, the leak as a finding);
# OpenMetrics when asked; the exited process's series go. A real Prometheus
# (loopback, data in the trash dir) scrapes it every second and a PromQL query
# shows the helper's growth. Bad --listen values are refused.
TEST_TIMEOUT=120
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

require_jdk17 java javac
for t in prometheus promtool curl jq python3; do
	command -v $t >/dev/null ||
		fail_all "$t is installed (run scripts/setup-deps --test)"
done
setup_or_fail "Idle.java copied" cp "$ROOT/tests/java/Idle.java" .
setup_or_fail "javac compiles Idle.java" "$JDK17/javac" --release 17 -d classes Idle.java

# free_port: a loopback TCP port nobody listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# scrape FILE [ACCEPT]: /metrics of the exporter into FILE.
scrape() { scrape_port "$PORT" "$@"; }
scrape_port() {
	curl -sSf --max-time 10 ${3:+-H "Accept: $3"} -D "$2.head" \
		"http://127.0.0.1:$1/metrics" >"$2"
}
# start_serve NAME ARGS...: another offheap serve on a port of its own ($SPORT, $SPID).
start_serve() {
	_ss=$1
	shift
	start_bg "$OFFHEAP" serve --listen 127.0.0.1:0 "$@" >"$_ss.out" 2>"$_ss.err" &&
	SPID=$BG_PID &&
	wait_for 10 "grep -q '^listening on' $_ss.out" &&
	SPORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)/metrics$|\1|p' "$_ss.out")
}
# value FILE SERIES: the value of one series (name and labels exactly as written).
value() { awk -v s="$2 " 'index($0, s) == 1 { print $NF; found = 1 } END { exit !found }' "$1"; }
# positive FILE SERIES: that series is there and above 0.
positive() {
	_v=$(value "$1" "$2") && awk -v v="$_v" 'BEGIN { exit !(v > 0) }' ||
		{ echo "not above 0: $2 = ${_v:-absent}"; return 1; }
}
# promql QUERY: the instant query's result (a JSON array) on stdout.
promql() {
	curl -sSf --max-time 10 -G "http://127.0.0.1:$PPORT/api/v1/query" \
		--data-urlencode "query=$1" | jq -c '.data.result'
}

start_bg "$HELPERS/leaker" --mmap-thread grower --rate 4 --max 256M --ready leak.ready \
	--lifetime 100
LEAK=$BG_PID
start_bg "$JDK17/java" -Xmx64m -Xss512k -XX:NativeMemoryTracking=summary -cp classes \
	Idle 100 jvm.ready >jvm.out 2>&1
JVM=$BG_PID
start_bg sleep 100
GONE=$BG_PID
wait_ready leak.ready || fail_all "the leaker starts"
wait_ready jvm.ready 60 || fail_all "a JDK 17 JVM with NMT starts within 60 s" jvm.out

start_bg "$OFFHEAP" serve --listen 127.0.0.1:0 -i 300ms --window 1m $LEAK $JVM $GONE \
	>serve.out 2>serve.err
SERVE=$BG_PID
wait_for 10 "grep -q '^listening on http://127.0.0.1:[0-9]*/metrics$' serve.out" ||
	fail_all "offheap serve says where it listens" serve.err
PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)/metrics$|\1|p' serve.out)
say "offheap serve on port $PORT"
# Prometheus starts now: it gets ready while the exposition is checked.
PPORT=$(free_port)
cat >prometheus.yml <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: offheap
    scrape_timeout: 1s
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF
start_bg prometheus --config.file=prometheus.yml --storage.tsdb.path=prom-data \
	--web.listen-address=127.0.0.1:$PPORT >prometheus.log 2>&1
PROM=$BG_PID

# rounds FILE: the rounds the exporter had completed when FILE was scraped.
rounds() { value "$1" offheap_exporter_rounds_total; }
# scrape_after N FILE: scrapes into FILE once the exporter completed N rounds.
scrape_after() { scrape "$2" && test "$(rounds "$2")" -ge "$1"; }
# leak_found FILE: scrapes into FILE; the leaker's mmap growth is a finding there.
leak_found() {
	scrape "$1" && grep -q "^offheap_finding{pid=\"$LEAK\",comm=\"leaker\",pattern=\"mmap-growth\",severity=\"leak\"} 1\$" "$1"
}
# gone FILE: scrapes into FILE; no series of the exited process there.
gone() { scrape "$1" && ! grep -q "pid=\"$GONE\"" "$1"; }
# prom_has FILE QUERY: Prometheus answers QUERY with one series (into FILE).
prom_has() { promql "$2" >"$1" && test "$(jq length "$1")" = 1; }

test_expect_success 'serve alone loads the HTTP library: no other command pays its start' '
	grep -q "/libmicrohttpd\.so" /proc/$SERVE/maps &&
	! ldd "$OFFHEAP" | grep -q -e microhttpd -e gnutls
'

test_expect_success 'the exposition passes promtool and holds the leaker and the JVM' '
	wait_for 20 "scrape_after 5 m0" &&
	promtool check metrics <m0 &&
	grep -q "^Content-Type: text/plain; version=0.0.4" m0.head &&
	L="pid=\"$LEAK\",comm=\"leaker\"" &&
	J="pid=\"$JVM\",comm=\"java\"" &&
	value m0 "offheap_process_info{$L,jvm=\"false\",nmt=\"false\"}" &&
	positive m0 "offheap_process_resident_bytes{$L}" &&
	positive m0 "offheap_process_pss_bytes{$L}" &&
	positive m0 "offheap_class_anon_bytes{$L,class=\"anon\"}" &&
	value m0 "offheap_process_swap_bytes{$L}" &&
	value m0 "offheap_thread_group_threads{$L,group=\"grower\"}" >g && test "$(cat g)" = 1 &&
	value m0 "offheap_process_info{$J,jvm=\"true\",nmt=\"true\"}" &&
	positive m0 "offheap_nmt_committed_bytes{$J,category=\"Thread\"}" &&
	positive m0 "offheap_nmt_reserved_bytes{$J,category=\"Java Heap\"}" &&
	positive m0 "offheap_nmt_total_committed_bytes{$J}" &&
	positive m0 "offheap_jvm_heap_committed_bytes{$J}" &&
	value m0 "offheap_jvm_heap_used_bytes{$J}" &&
	positive m0 "offheap_jvm_threads_live{$J}" &&
	positive m0 "offheap_jvm_classes{$J}" &&
	value m0 "offheap_jvm_metaspace_used_bytes{$J}" &&
	value m0 "offheap_jvm_gc_collections_total{$J,generation=\"young\"}" &&
	positive m0 "offheap_class_resident_bytes{$J,class=\"java-heap\"}" &&
	grep -q "^offheap_thread_group_threads{$J,group=\"VM Thread\"} 1$" m0 &&
	value m0 "offheap_trend_confidence{$J,figure=\"nmt:Thread\"}" &&
	value m0 "offheap_exporter_processes" >n && test "$(cat n)" = 3 &&
	value m0 "offheap_exporter_dropped_series" >n && test "$(cat n)" = 0
'

test_expect_success 'the leak shows as a growing trend and an mmap-growth finding' '
	L="pid=\"$LEAK\",comm=\"leaker\"" &&
	wait_for 20 "leak_found m1" &&
	positive m1 "offheap_trend_bytes_per_hour{$L,figure=\"class:anon\"}" &&
	positive m1 "offheap_finding_bytes_per_hour{$L,pattern=\"mmap-growth\",severity=\"leak\"}" &&
	! grep "^offheap_finding{pid=\"$JVM\"" m1
'

test_expect_success 'OpenMetrics when the scraper asks for it' '
	scrape om "application/openmetrics-text; version=1.0.0" &&
	grep -q "^Content-Type: application/openmetrics-text; version=1.0.0" om.head &&
	test "$(tail -n 1 om)" = "# EOF" &&
	grep -q "^# TYPE offheap_jvm_gc_collections counter$" om &&
	grep -q "^offheap_jvm_gc_collections_total{pid=\"$JVM\"" om &&
	scrape plain "text/plain" &&
	! grep -q "^# EOF" plain
'

test_expect_success 'only /metrics, only GET' '
	code=$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$PORT/nothing") &&
	test "$code" = 404 &&
	code=$(curl -s -o /dev/null -w "%{http_code}" -X POST -d x "http://127.0.0.1:$PORT/metrics") &&
	test "$code" = 405
'

test_expect_success 'clients that stall hold neither a scrape nor the rounds' '
	python3 -c "
import socket, sys, time, urllib.request
url = \"http://127.0.0.1:%s/metrics\" % sys.argv[1]
def rounds():
	for l in urllib.request.urlopen(url, timeout=10).read().decode().splitlines():
		if l.startswith(\"offheap_exporter_rounds_total \"):
			return float(l.split()[1])
stalled = []
for i in range(8):
	s = socket.create_connection((\"127.0.0.1\", int(sys.argv[1])))
	s.sendall(b\"GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n\")
	stalled.append(s)
r0 = rounds()
deadline = time.monotonic() + 10 * int(sys.argv[2])
while rounds() < r0 + 2:
	if time.monotonic() > deadline:
		sys.exit(\"the rounds stopped while clients stalled\")
	time.sleep(0.05)
" $PORT $OFFHEAP_TIME_FACTOR
'

test_expect_success 'a process that exits disappears from /metrics' '
	scrape before && grep -q "pid=\"$GONE\"" before &&
	stop_bg $GONE &&
	wait_for 10 "gone after" &&
	value after offheap_exporter_exited_processes_total >n && test "$(cat n)" = 1 &&
	value after offheap_exporter_processes >n && test "$(cat n)" = 2
'


test_expect_success 'a real Prometheus scrapes offheap serve and sees the leak grow' '
	wait_for 30 "prom_has up \"up == 1\"" &&
	a="offheap_class_anon_bytes{pid=\"$LEAK\",class=\"anon\"}" &&
	q="max_over_time($a[1m]) - min_over_time($a[1m]) > 1048576" &&
	wait_for 30 "prom_has grew \"\$q\"" &&
	say "grew by $(jq -r ".[0].value[1]" grew) bytes" &&
	promql "offheap_finding{pid=\"$LEAK\",pattern=\"mmap-growth\"}" >f &&
	test "$(jq length f)" = 1 &&
	promql "offheap_nmt_committed_bytes{pid=\"$JVM\",category=\"Thread\"} > 0" >t &&
	test "$(jq length t)" = 1
'
stop_bg $PROM

test_expect_success 'past --max-procs and --max-series: counted, not exported' '
	start_serve cap -i 300ms --max-procs 1 --max-series 10 $LEAK $JVM &&
	wait_for 10 "scrape_port $SPORT cap && test \$(rounds cap) -ge 2" &&
	stop_bg $SPID &&
	value cap offheap_exporter_processes >n && test "$(cat n)" = 1 &&
	value cap "offheap_exporter_skipped_processes{reason=\"limit\"}" >n && test "$(cat n)" = 1 &&
	value cap offheap_exporter_series >n && test "$(cat n)" = 10 &&
	test "$(grep -c "^offheap_[a-z_]*{pid=" cap)" = 10 &&
	positive cap offheap_exporter_dropped_series &&
	positive cap offheap_exporter_dropped_series_total &&
	promtool check metrics <cap
'

# has_pid FILE PID: scrapes the second exporter into FILE; PID has series there.
has_pid() { scrape_port "$SPORT" "$1" && grep -q "^offheap_process_info{pid=\"$2\"" "$1"; }

test_expect_success '--jvms: JVMs found as they start and dropped as they exit, no C helper' '
	start_serve jv -i 300ms --jvms --no-jvm --max-procs 1000 &&
	wait_for 10 "has_pid jv $JVM" &&
	value jv "offheap_process_info{pid=\"$JVM\",comm=\"java\",jvm=\"true\",nmt=\"false\"}" &&
	! grep -q "pid=\"$LEAK\"" jv &&
	! grep -q "^offheap_jvm_threads_live{pid=\"$JVM\"" jv &&
	start_bg "$JDK17/java" -Xmx32m -Xss512k -cp classes Idle 100 jvm2.ready >jvm2.out 2>&1 &&
	JVM2=$BG_PID &&
	wait_for 60 "has_pid jv2 $JVM2" &&
	stop_bg $JVM2 &&
	wait_for 10 "! has_pid jv3 $JVM2 && has_pid jv3 $JVM" &&
	stop_bg $SPID
'

test_expect_success 'SIGTERM ends offheap serve cleanly' '
	kill -TERM $SERVE &&
	wait $SERVE
'

test_expect_success 'bad --listen values are refused with a clear error' '
	test_exit_code 2 "$OFFHEAP" serve --listen 10.1.2.3:9464 $LEAK 2>e1 &&
	grep -q "refusing to listen on .10.1.2.3:9464.: not a loopback address" e1 &&
	grep -q "hint: .*--listen 0.0.0.0:9464" e1 &&
	test_exit_code 2 "$OFFHEAP" serve --listen 127.0.0.1:70000 $LEAK 2>e2 &&
	grep -q "port from 0 to 65535" e2 &&
	test_exit_code 2 "$OFFHEAP" serve --listen ::1:9464 $LEAK 2>e3 &&
	grep -q "IPv6 address in brackets" e3 &&
	test_exit_code 2 "$OFFHEAP" serve $LEAK 2>e4 &&
	grep -q "where to listen" e4 &&
	test_exit_code 2 "$OFFHEAP" serve --listen 127.0.0.1:0 2>e5 &&
	grep -q "which processes" e5 &&
	test_exit_code 2 "$OFFHEAP" serve --listen 127.0.0.1:0 --jvms $LEAK 2>e6 &&
	python3 -c "import socket, subprocess, sys
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(1)
r = subprocess.run([sys.argv[1], \"serve\", \"--listen\", \"127.0.0.1:%d\" % s.getsockname()[1],
	sys.argv[2]], stderr=subprocess.PIPE, timeout=30)
sys.stderr.buffer.write(r.stderr); sys.exit(0 if r.returncode == 1 else 1)" \
		"$OFFHEAP" $LEAK 2>e7 &&
	grep -q "cannot listen on .127.0.0.1:[0-9]*.: Address already in use" e7
'

test_done
