#!/bin/sh
# offheap report --format html: one self-contained page from a real
# recording of offheap record (sites, flame graph), of offheap watch (RSS by
# class growing, threads by group, the doctor's finding) and of a JVM with NMT
# (NMT categories, JVM counters, the direct-buffers finding); errors; and the
# pages rendered in headless Chromium: the DOM holds the charts and the flame
# graph, the screenshot shows them (the anon area grows to the right).
# Screenshots go to tests/out/t7200/ (ignored by git).
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/nmt-lib.sh"
. "$TEST_DIRECTORY/require-lib.sh"

OUT="$ROOT/tests/out/t7200"
PNGCHECK="$TEST_DIRECTORY/pngcheck.py"

# self_contained FILE: a page that loads nothing from anywhere (its only script is inline,
# and its Content-Security-Policy forbids any other source).
self_contained() {
	! grep -Eq 'https?://' "$1" &&
	! grep -Eiq '<script [^>]|<link|<iframe|<img| src=|url\(' "$1" &&
	grep -q "Content-Security-Policy\" content=\"default-src .none.;" "$1" &&
	head -c 15 "$1" | grep -q '^<!DOCTYPE html>' &&
	tail -n 1 "$1" | grep -q '</body></html>$'
}

test_expect_success 'record: the page has the growing site and the flame graph' '
	"$OFFHEAP" record --exact -i 50ms -o rec.db -- "$HELPERS/trackee" grow 60 >/dev/null &&
	"$OFFHEAP" report rec.db --format html -o rec.html &&
	self_contained rec.html &&
	grep -q "id=\"sites\"" rec.html &&
	grep -q "<span class=\"grow\">GROWING</span></td><td class=\"n\">240 KiB</td>" rec.html &&
	grep -q "<title>grow_step[^<]*(tests/helpers/trackee.c:[0-9]*) in trackee 245760 bytes" rec.html &&
	grep -q "<title>all 245760 bytes" rec.html &&
	grep -q "no samples over time" rec.html &&
	! grep -q "id=\"rss-chart\"" rec.html
'

test_expect_success 'record: stdout when not a terminal is the same page; -o leaves no temporary file' '
	"$OFFHEAP" report rec.db --format html >stdout.html &&
	cmp rec.html stdout.html &&
	test "$(ls -A | grep -c "\.rec\.html\.tmp-")" = 0
'

test_expect_success 'watch: RSS by class grows, threads by group (a hostile name escaped), absent parts said' '
	start_bg "$HELPERS/leaker" --mmap-thread "<i>\"g&" --rate 10 --chunk 1M --idle-threads 3 \
		--ready ready --lifetime 30 &&
	lpid=$BG_PID &&
	wait_ready ready &&
	"$OFFHEAP" watch $lpid -i 200ms -d 4s -o w.db --plain >watch.out 2>&1 &&
	stop_bg $lpid &&
	"$OFFHEAP" report w.db --format html -o w.html &&
	self_contained w.html &&
	grep -q "<h1>offheap report: leaker (pid $lpid)</h1>" w.html &&
	grep -q "id=\"rss-chart\"" w.html &&
	sed -n "/id=\"rss-legend\"/,/<\/ul>/p" w.html | grep -q "</span>anon <b>" &&
	sed -n "/id=\"rss-table\"/,/<\/table>/p" w.html >rss-table &&
	grep "</span>anon</td>" rss-table | grep -q "<td class=\"n\">+[1-9][0-9.]* MiB</td>" &&
	grep -q "id=\"rss-change\">[^<]*(+[1-9]" w.html &&
	sed -n "/id=\"threads-table\"/,/<\/table>/p" w.html | grep -q ">idle-#</td><td class=\"n\">3</td>" &&
	grep -q "<td class=\"mono\">&lt;i&gt;&quot;g&amp;</td>" w.html &&
	grep -q "<code>[^<]*--mmap-thread &lt;i&gt;&quot;g&amp; " w.html &&
	! grep -qF "<i>" w.html &&
	grep -q "no NMT data: not a JVM" w.html &&
	grep -q "<div class=\"finding leak\">.*<code>mmap-growth</code>" w.html &&
	grep -q "no allocation data: record with offheap record" w.html
'

test_expect_success 'errors: a terminal, an unwritable -o, a file with nothing to show, not a recording' '
	test_exit_code 2 "$OFFHEAP" report rec.db --format htm &&
	test_exit_code 1 "$OFFHEAP" report rec.db --format html -o "$TRASH/no/such/dir/r.html" 2>err &&
	grep -q "cannot write .*no/such/dir/r.html" err &&
	cp w.db empty.db &&
	sqlite3 empty.db "DELETE FROM class_total; DELETE FROM thread; DELETE FROM region;
		DELETE FROM sample; DELETE FROM process" &&
	test_exit_code 1 "$OFFHEAP" report empty.db --format html -o e.html 2>err &&
	grep -q "holds no samples and no allocation data" err &&
	test ! -e e.html &&
	echo "not a database" >text.db &&
	test_exit_code 1 "$OFFHEAP" report text.db --format html -o e.html 2>err &&
	test ! -e e.html &&
	if command -v script >/dev/null; then
		script -qec "\"$OFFHEAP\" report rec.db --format html" /dev/null >tty.out 2>&1
		test $? = 2 && grep -q "not writing an HTML page to a terminal" tty.out
	fi
'

require_jdk17 java
test_expect_success 'a JVM with NMT: NMT categories over time, JVM counters' '
	start_nmt_jvm "$JDK17/java" summary "$TRASH/jd" 4 &&
	wait_ready "$TRASH/jd/ready" 60 &&
	start_bg "$OFFHEAP" watch $JPID -i 250ms -d 4s -o j.db --plain >w.out &&
	wpid=$BG_PID &&
	# spread over the window by the watch'"'"'s own samples (3 apart), however slow the machine
	for i in 1 2 3 4; do
		wait_for 30 "test \$(grep -c time= w.out) -ge $((3 * i - 2)) || ! kill -0 $wpid 2>/dev/null" &&
		allocate "$TRASH/jd" $((i * 4)) || return 1
	done &&
	wait $wpid &&
	stop_bg $JPID &&
	"$OFFHEAP" report j.db --format html -o j.html &&
	self_contained j.html &&
	grep -q "id=\"nmt-chart\"" j.html &&
	sed -n "/id=\"nmt-legend\"/,/<\/ul>/p" j.html >nmt-legend &&
	grep -q "</span>Java Heap</li>" nmt-legend &&
	grep -q "</span>Other</li>" nmt-legend &&
	sed -n "/id=\"nmt-table\"/,/<\/table>/p" j.html | grep "</span>Other</td>" |
		grep -q "<td class=\"n\">+[1-9][0-9.]* MiB</td>" &&
	grep -q "id=\"counter-java-threads-live\"" j.html &&
	grep -q "id=\"counter-offheap-heap-used\"" j.html &&
	grep -q "(a JVM)" j.html &&
	grep -q "<div class=\"finding leak\">.*<code>direct-buffers</code>" j.html
'

if ! command -v chromium >/dev/null; then
	for t in "the DOM of the watch page holds the charts and the legend" \
		"the screenshot of the watch page shows the anon area growing" \
		"the flame graph of the record page is drawn" "the flame graph searches and zooms" \
		"the JVM page renders its NMT chart"; do
		test_skip "Chromium: $t" 'chromium is not installed (Debian chromium; scripts/setup-deps --test)'
	done
	test_done
fi

# chrome ARGS...: headless Chromium that touches no network and nothing outside $TRASH.
chrome() {
	HOME="$TRASH" timeout -k 5 $((60 * OFFHEAP_TIME_FACTOR)) chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$TRASH/chrome" "$@" 2>>chrome.err
}

test_expect_success 'Chromium: the DOM of the watch page holds the charts and the legend' '
	chrome --dump-dom "file://$TRASH/w.html" >w.dom &&
	grep -q "<svg class=\"chart\" id=\"rss-chart\"" w.dom &&
	grep -q "<svg class=\"chart\" id=\"threads-chart\"" w.dom &&
	test "$(sed -n "/id=\"rss-chart\"/,/<\/svg>/p" w.dom | grep -c "<polygon")" -ge 3 &&
	sed -n "/id=\"rss-legend\"/,/<\/ul>/p" w.dom | grep -q "</span>anon <b>"
'

test_expect_success 'Chromium: the screenshot of the watch page shows the anon area growing' '
	mkdir -p "$OUT" &&
	rm -f "$OUT/watch.png" &&
	chrome --screenshot="$OUT/watch.png" --window-size=1400,1600 "file://$TRASH/w.html" &&
	test -s "$OUT/watch.png" &&
	python3 "$PNGCHECK" "$OUT/watch.png" "#4e79a7" >png.out &&
	cat png.out &&
	test "$(awk "/^colours/ {print \$2}" png.out)" -ge 50 &&
	awk "/^nonwhite/ {exit !(\$2 > 0.05)}" png.out &&
	awk "/^#4e79a7/ {exit !(\$3 > 20000 && \$7 > \$5 * 1.2)}" png.out &&
	# the chart stretches with the window: most of its 1400 pixels, not a fixed box
	awk "/^#4e79a7/ {exit !(\$9 > 1000)}" png.out
'

test_expect_success 'Chromium: the flame graph of the record page is drawn' '
	chrome --dump-dom "file://$TRASH/rec.html" >rec.dom &&
	test "$(sed -n "/id=\"flame\"/,/<\/svg>/p" rec.dom | grep -c "<rect")" = 6 &&
	fill=$(grep "<title>grow_step" rec.html | sed -n "s/.*fill=\"\(hsl([^\"]*)\)\".*/\1/p") &&
	test -n "$fill" &&
	rm -f "$OUT/record.png" &&
	chrome --screenshot="$OUT/record.png" --window-size=1400,900 "file://$TRASH/rec.html" &&
	python3 "$PNGCHECK" "$OUT/record.png" "$fill" >png.out &&
	cat png.out &&
	awk -v f="$fill" "\$1 == f {exit !(\$3 > 5000)}" png.out
'

test_expect_success 'Chromium: the flame graph searches and zooms' '
	chrome --dump-dom "file://$TRASH/rec.html#search=grow_step" >s.dom &&
	grep -q "<g data-x=\"[0-9.]*\" data-w=\"[0-9.]*\" data-d=\"[0-9]*\" data-n=\"grow_step[^\"]*\" class=\"match\"" s.dom &&
	test "$(grep -c "class=\"match\"" s.dom)" = 1 &&
	grep -q "<span id=\"flame-info\">1 frames match, 100.0% of the live bytes</span>" s.dom &&
	chrome --dump-dom "file://$TRASH/rec.html#zoom=grow_step" >z.dom &&
	grep -q "<svg class=\"fg\" id=\"flame\" [^>]*data-zoom=\"grow_step[^\"]*\"" z.dom &&
	grep "data-n=\"grow_step" z.dom | grep -q "<rect x=\"0.0\" [^>]*width=\"1200.0\"" &&
	chrome --dump-dom "file://$TRASH/rec.html#search=no_such_frame" >n.dom &&
	! grep -q "class=\"match\"" n.dom &&
	grep -q "<span id=\"flame-info\">0 frames match, 0.0% of the live bytes</span>" n.dom
'

test_expect_success 'Chromium: the JVM page renders its NMT chart' '
	test -s j.html &&
	rm -f "$OUT/jvm.png" &&
	chrome --screenshot="$OUT/jvm.png" --window-size=1400,2400 "file://$TRASH/j.html" &&
	python3 "$PNGCHECK" "$OUT/jvm.png" "#4e79a7" >png.out &&
	cat png.out &&
	awk "/^#4e79a7/ {exit !(\$3 > 20000)}" png.out
'

test_done
