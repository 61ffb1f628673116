/*
 * watch: 'offheap watch PID' — samples a process every interval into a
 * recording, shows the classes and their trends live, and ends with the
 * growth of each figure as a trend (rate per hour and a confidence).
 *
 * The recording is created atomically with its first sample and then
 * written in place, one transaction per sample (src/store/store.c), so a watch
 * killed by SIGKILL leaves a readable file missing at most the sample being
 * written. Regions are stored with the first sample, every --regions-every
 * and with the last one (also when a signal ends the watch: one more sample
 * is taken then); the other samples keep class totals, counters and NMT
 * only, which bounds the file (docs/PERFORMANCE.md gives the figures).
 */
#include "cmd.h"
#include "cmdutil.h"
#include "json.h"
#include "parse.h"
#include "sampler.h"
#include "series.h"
#include "store.h"
#include "strbuf.h"
#include "table.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const struct table_col trend_cols[8];

static void print_help(void)
{
	printf("usage: offheap watch PID [-i INTERVAL] [-d DURATION] [-o FILE] [--force]\n"
	       "                     [--plain] [--json] [--regions-every DUR] [--no-jvm]\n"
	       "                     [--columns COLS] [--no-headings] [--raw] [--bytes]\n\n"
	       "Sample the process every INTERVAL into the SQLite recording FILE: totals,\n"
	       "memory by class, threads (grouped by name), cgroup usage, and for a JVM its\n"
	       "hsperfdata counters (threads, classes, metaspace, heap) and, when NMT is on,\n"
	       "the NMT summary. On a terminal the view is redrawn every sample: one row per\n"
	       "class with its change and trend; otherwise one line per sample. At the end\n"
	       "(DURATION, Ctrl-C, or the process exits) every figure's trend is printed: its\n"
	       "rate per hour, R² of the fit, a confidence, and whether it grew steadily (a\n"
	       "leak), in one step, up and down, or not at all.\n\n"
	       "Options:\n"
	       "  -i, --interval DUR   time between samples (default 2s; 100ms to 1h)\n"
	       "  -d, --duration DUR   stop after DUR (default: until Ctrl-C or the process exits)\n"
	       "  -o, --output FILE    the recording (default offheap-watch-PID.db)\n"
	       "  -f, --force          replace FILE if it exists\n"
	       "      --plain          one line per sample even on a terminal\n"
	       "      --json           print only the final trends, as JSON\n"
	       "      --regions-every DUR  store every mapping every DUR (default 10m; the\n"
	       "                       first and last samples always have them)\n"
	       "      --no-jvm         do not read hsperfdata or attach to a JVM\n"
	       "  -t, --timeout DUR    how long a JVM has to answer one request, in all\n"
	       "                       (default 5s); one that does not is asked nothing more\n"
	       "  -h, --help           this help\n"
	       "The table of trends at the end takes the output options of every table command:\n");
	cmd_table_help(stdout, true, (const struct table_colset[]){ { trend_cols, 8 } }, 1);
	printf("\n"
	       "Read the recording with 'offheap doctor FILE', 'offheap report FILE --format html',\n"
	       "'offheap diff FILE' (its first sample against its last) or sqlite3 (docs/SCHEMA.md).\n\n"
	       "Exit codes: 0 ok (also when the process exits while watched), 1 runtime error,\n"
	       "2 usage error.\n\n"
	       "Examples:\n"
	       "  offheap watch 4242\n"
	       "  offheap watch 4242 -i 10s -d 1h -o service.db\n"
	       "  offheap watch java -i 1s -d 5m --plain > watch.log\n");
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static const char *size_str(char *buf, size_t n, int64_t v, bool bytes, bool sign)
{
	if (!bytes)
		snprintf(buf, n, sign ? "%+" PRId64 : "%" PRId64, v);
	else if (sign)
		format_dsize(buf, n, v);
	else
		format_size(buf, n, v < 0 ? 0 : (uint64_t)v);
	return buf;
}

static const char *elapsed_str(char *buf, size_t n, uint64_t ns)
{
	uint64_t s = ns / 1000000000u;

	if (s >= 3600)
		snprintf(buf, n, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60,
			 s % 60);
	else
		snprintf(buf, n, "%02" PRIu64 ":%02" PRIu64, s / 60, s % 60);
	return buf;
}

static const char *rate_str(char *buf, size_t n, const struct series_trend *t)
{
	size_t len;

	if (t->j.kind == TREND_FLAT || t->n < 3 || n < 8) {
		snprintf(buf, n, "-");
		return buf;
	}
	size_str(buf, n - 2, sat_i64(t->j.per_hour), t->bytes, true);
	len = strlen(buf);
	memcpy(buf + len, "/h", 3);
	return buf;
}

/* The top-like view: redrawn on a terminal every sample. */
static void draw_view(const struct series *s, const struct sampler *sp, const char *file,
		      uint64_t interval_ms)
{
	const struct series_point *first = &s->pts[0], *last = &s->pts[s->n - 1];
	struct series_trend *t;
	size_t nt = series_trends(s, &t);
	char a[32], b[32], c[32], d[32];

	printf("\033[H\033[2J");
	printf("offheap watch %d (%s)  %s elapsed, %zu samples every %" PRIu64 " ms -> %s\n",
	       (int)s->pid, s->name, elapsed_str(a, sizeof(a), last->t_ns - first->t_ns), s->n,
	       interval_ms, file);
	printf("RSS %s (%s)   anon %s   swap %s   threads %d (%+d)",
	       format_size(a, sizeof(a), last->totals.rss),
	       format_dsize(b, sizeof(b), (int64_t)(last->totals.rss - first->totals.rss)),
	       format_size(c, sizeof(c), last->rss_anon), format_size(d, sizeof(d), last->vm_swap),
	       last->threads, last->threads - first->threads);
	if (last->cgroup_limit > 0)
		printf("   cgroup %s of %s", format_size(a, sizeof(a), (uint64_t)last->cgroup_usage),
		       format_size(b, sizeof(b), (uint64_t)last->cgroup_limit));
	printf("\n\n%-12s %8s %10s %11s %12s %6s  %s\n", "CLASS", "MAPS", "RSS", "CHANGE",
	       "RATE", "CONF", "TREND");
	for (int k = 0; k < RC_NR; k++) {
		char name[48];
		const struct series_trend *tr;

		if (!last->cls_count[k] && !first->cls_count[k])
			continue;
		snprintf(name, sizeof(name), "class:%s", region_class_name(k));
		tr = series_trend_find(t, nt, name);
		printf("%-12s %8u %10s %11s %12s %6.2f  %s\n", region_class_name(k),
		       last->cls_count[k], format_size(a, sizeof(a), last->cls[k].rss),
		       format_dsize(b, sizeof(b), (int64_t)(last->cls[k].rss - first->cls[k].rss)),
		       tr ? rate_str(c, sizeof(c), tr) : "-", tr ? tr->j.confidence : 0.0,
		       tr ? trend_kind_name(tr->j.kind) : "-");
	}
	if (sp->jvm) {
		printf("\n");
		for (size_t i = 0; i < nt; i++) {
			if (strncmp(t[i].name, "counter:", 8) && strncmp(t[i].name, "nmt:", 4))
				continue;
			if (t[i].j.kind == TREND_FLAT && strcmp(t[i].name, "nmt:Total"))
				continue;
			printf("%-40s %12s %11s %12s %6.2f  %s\n", t[i].name,
			       size_str(a, sizeof(a), t[i].j.last, t[i].bytes, false),
			       size_str(b, sizeof(b), t[i].j.last - t[i].j.first, t[i].bytes, true),
			       rate_str(c, sizeof(c), &t[i]), t[i].j.confidence,
			       trend_kind_name(t[i].j.kind));
		}
		if (sp->nmt_error[0])
			printf("NMT: %s\n", sp->nmt_error);
	}
	fflush(stdout);
	free(t);
}

/* A size as one logfmt token: "298MiB", never with a space inside. */
static const char *size_token(char *buf, size_t n, uint64_t bytes)
{
	char tmp[32], *o = buf;

	format_size(tmp, sizeof(tmp), bytes);
	for (const char *p = tmp; *p && (size_t)(o - buf) + 1 < n; p++)
		if (*p != ' ')
			*o++ = *p;
	*o = '\0';
	return buf;
}

/*
 * One sample as a logfmt line (key=value, no spaces inside values): the
 * totals, then the resident bytes of each class of mapping as rss.CLASS.
 */
static void plain_line(const struct series *s)
{
	const struct series_point *p = &s->pts[s->n - 1];
	char a[32], b[32], c[32], when[32];
	struct tm tm;
	time_t secs = (time_t)(p->t_ns / 1000000000u);

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	printf("time=%s rss=%s anon=%s swap=%s threads=%d", when,
	       size_token(a, sizeof(a), p->totals.rss), size_token(b, sizeof(b), p->rss_anon),
	       size_token(c, sizeof(c), p->vm_swap), p->threads);
	for (int k = 0; k < RC_NR; k++) {
		if (!p->cls_count[k])
			continue;
		printf(" rss.%s=%s", region_class_name(k), size_token(a, sizeof(a), p->cls[k].rss));
	}
	printf("\n");
	fflush(stdout);
}

static const struct table_col trend_cols[8] = {
	{ "figure", "FIGURE", TK_STR, true },
	{ "first", "FIRST", TK_I64, false },
	{ "last", "LAST", TK_I64, false },
	{ "change", "CHANGE", TK_I64, false },
	{ "per_hour", "RATE/H", TK_I64, false },
	{ "r2", "R2", TK_DOUBLE, false },
	{ "confidence", "CONF", TK_DOUBLE, false },
	{ "trend", "TREND", TK_STR, true },
};

/* A size of the trend table: as the table module prints sizes (1.5M), or --bytes. */
static const char *table_size(char *buf, size_t n, int64_t v, bool sign, bool exact)
{
	if (exact)
		snprintf(buf, n, sign ? "%+" PRId64 : "%" PRId64, v);
	else
		table_human_size(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0, sign, buf, n);
	return buf;
}

static void fill_trends(struct table *tb, const struct series_trend *t, size_t nt, bool all,
			bool exact)
{
	char buf[40];

	for (size_t i = 0; i < nt; i++) {
		size_t r;

		/* The text view leaves out figures that did not move at all. */
		if (!all && t[i].j.kind == TREND_FLAT && t[i].j.first == t[i].j.last &&
		    strcmp(t[i].name, "rss"))
			continue;
		r = table_add_row(tb);
		table_set_str(tb, r, 0, t[i].name);
		table_set_i64(tb, r, 1, t[i].j.first);
		table_set_i64(tb, r, 2, t[i].j.last);
		table_set_i64(tb, r, 3, t[i].j.last - t[i].j.first);
		table_set_i64(tb, r, 4, sat_i64(t[i].j.per_hour));
		if (t[i].bytes) {
			table_set_str(tb, r, 1, table_size(buf, sizeof(buf), t[i].j.first, false,
							   exact));
			table_set_str(tb, r, 2, table_size(buf, sizeof(buf), t[i].j.last, false,
							   exact));
			table_set_str(tb, r, 3, table_size(buf, sizeof(buf),
							   t[i].j.last - t[i].j.first, true, exact));
		}
		if (t[i].bytes && t[i].j.kind != TREND_FLAT && t[i].n >= 3) {
			char rate[48];

			table_size(buf, sizeof(buf), sat_i64(t[i].j.per_hour), true, exact);
			snprintf(rate, sizeof(rate), "%s/h", buf);
			table_set_str(tb, r, 4, rate);
		} else {
			table_set_str(tb, r, 4, rate_str(buf, sizeof(buf), &t[i]));
		}
		table_set_double(tb, r, 5, t[i].j.fit.r2);
		table_set_double(tb, r, 6, t[i].j.confidence);
		table_set_str(tb, r, 7, trend_kind_name(t[i].j.kind));
	}
}

static void print_summary(const struct series *s, const struct sampler *sp, const char *file,
			  uint64_t interval_ms, const char *why, bool json,
			  const struct table_style *style)
{
	struct series_trend *t;
	size_t nt = series_trends(s, &t);
	struct table tb;
	uint64_t span = s->n > 1 ? s->pts[s->n - 1].t_ns - s->pts[0].t_ns : 0;

	table_init(&tb, trend_cols, sizeof(trend_cols) / sizeof(trend_cols[0]));
	tb.style = style;
	fill_trends(&tb, t, nt, json, style->bytes);
	if (json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_u64(&j, "pid", (uint64_t)s->pid);
		json_str(&j, "name", s->name);
		json_str(&j, "file", file);
		json_u64(&j, "samples", s->n);
		json_u64(&j, "interval_ms", interval_ms);
		json_double(&j, "duration_s", (double)span / 1e9);
		json_str(&j, "ended", why);
		json_bool(&j, "is_jvm", sp->jvm);
		json_str(&j, "hsperf_error", sp->hsperf_error);
		json_str(&j, "nmt_error", sp->nmt_error);
		table_json(&tb, &j, "trends");
		json_obj_end(&j);
		json_finish(&j);
	} else {
		char e[32];

		printf("\n%zu samples of %d (%s) over %s (%s) in '%s'\n", s->n, (int)s->pid, s->name,
		       elapsed_str(e, sizeof(e), span), why, file);
		table_print(&tb, stdout);
		if (sp->jvm && sp->nmt_error[0])
			printf("NMT not read: %s\n", sp->nmt_error);
		if (sp->jvm && sp->hsperf_error[0])
			printf("hsperfdata not read: %s\n", sp->hsperf_error);
	}
	table_release(&tb);
	free(t);
}

int cmd_watch(int argc, char **argv)
{
	enum { OPT_PLAIN = 256, OPT_JSON, OPT_REGIONS, OPT_NO_JVM };
	uint64_t timeout_ms = 5000;
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "duration", required_argument, NULL, 'd' },
		{ "output", required_argument, NULL, 'o' },
		{ "force", no_argument, NULL, 'f' },
		{ "plain", no_argument, NULL, OPT_PLAIN },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "regions-every", required_argument, NULL, OPT_REGIONS },
		{ "no-jvm", no_argument, NULL, OPT_NO_JVM },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		CMD_TABLE_OPTIONS_NO_OUTPUT,
		{ NULL, 0, NULL, 0 },
	};
	struct table_style style = { 0 };
	const char *pid_arg = NULL, *out = NULL, *why = "duration reached";
	uint64_t interval_ms = 2000, duration_ms = 0, regions_ms = 600000;
	bool force = false, plain = false, json = false, no_jvm = false, tty;
	struct strbuf err = STRBUF_INIT, def = STRBUF_INIT;
	struct store *st = NULL;
	struct series s;
	struct sampler sp;
	struct sigaction sa;
	uint64_t start, next, last_regions = 0;
	pid_t pid;
	int c, rc, ret = EXIT_RUNTIME;

	while ((c = cmd_getopt(argc, argv, "+i:d:o:ft:h", opts, &pid_arg)) != -1) {
		if (cmd_table_option(c, optarg, &style))
			continue;
		switch (c) {
		case 't':
			timeout_ms = cmd_opt_duration("watch", "--timeout", optarg, 1, 3600000);
			break;
		case 'i':
			interval_ms = cmd_opt_duration("watch", "--interval", optarg, 100, 3600000);
			break;
		case 'd':
			duration_ms = cmd_opt_duration("watch", "--duration", optarg, 1, 0);
			break;
		case 'o':
			out = optarg;
			break;
		case 'f':
			force = true;
			break;
		case OPT_PLAIN:
			plain = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_REGIONS:
			regions_ms = cmd_opt_duration("watch", "--regions-every", optarg, 1, 0);
			break;
		case OPT_NO_JVM:
			no_jvm = true;
			break;
		case 'h':
			print_help();
			return EXIT_OK;
		case 1:
			usage_die("watch", "one PID only, not '%s'", argv[optind - 1]);
		default:
			usage_die("watch", "unknown option");
		}
	}
	if (optind < argc)
		usage_die("watch", "unexpected argument '%s'", argv[optind]);
	if (!pid_arg)
		usage_die("watch", "which process? (offheap watch PID)");
	cmd_table_check("watch", &style, (const struct table_colset[]){ { trend_cols, 8 } }, 1);
	if (out && !*out)
		usage_die("watch", "-o needs a file name");
	if (cmd_resolve_pid(pid_arg, &pid))
		return EXIT_RUNTIME;
	if (!out) {
		strbuf_addf(&def, "offheap-watch-%d.db", (int)pid);
		out = def.buf;
	}
	tty = !plain && !json && isatty(STDOUT_FILENO);
	series_init(&s);

	if (cmd_store_create(out, STORE_RECORDING, force, true, &st))
		goto out;
	rc = sampler_open(&sp, pid, no_jvm ? SAMPLER_NO_JVM : SAMPLER_RETRY, (int)timeout_ms, &s, st,
			  &err);
	if (rc) {
		cmd_report_error(rc, err.buf);
		goto out;
	}
	rc = sampler_tick(&sp, TICK_REGIONS, &err);
	if (!rc)
		rc = cmd_store_commit(st, &err);
	if (rc) {
		cmd_report_error(rc, err.buf);
		/* The first sample holds every mapping: the largest write of a watch. */
		if (rc == -ENOSPC)
			hint("the disk holding '%s' is full: free some space or choose another "
			     "file with -o (no recording was written)", out);
		goto out_sampler;
	}
	/* From here on the file is in place: a signal ends the watch with its summary. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (!json && !tty)
		plain_line(&s);
	start = cmd_mono_ns();
	last_regions = start;
	next = start;
	for (;;) {
		unsigned tf = 0;
		uint64_t now;
		bool last = false;

		if (tty)
			draw_view(&s, &sp, out, interval_ms);
		next += interval_ms * 1000000u;
		if (duration_ms && next > start + duration_ms * 1000000u)
			break;
		cmd_sleep_until(next, &stop_signal);
		if (stop_signal) {
			/*
			 * One last sample, with the mappings, as at the end of a
			 * duration: 'offheap diff FILE' compares the first with it.
			 */
			why = "stopped by a signal";
			last = true;
			tf |= TICK_REGIONS;
		}
		now = cmd_mono_ns();
		/* Late (a stopped machine, a slow sample): go on from now, do not burst. */
		if (now > next + interval_ms * 1000000u)
			next = now;
		if (now - last_regions >= regions_ms * 1000000u ||
		    (duration_ms && next + interval_ms * 1000000u > start + duration_ms * 1000000u)) {
			tf |= TICK_REGIONS;
			last_regions = now;
		}
		strbuf_reset(&err);
		rc = sampler_tick(&sp, tf, &err);
		if (rc == -ESRCH) {
			why = "the process exited";
			break;
		}
		if (rc) {
			error("%s", err.buf);
			if (rc == -ENOSPC)
				hint("the disk is full: the recording keeps every sample before this one");
			goto out_sampler;
		}
		if (!json && !tty)
			plain_line(&s);
		if (last)
			break;
	}
	if (tty)
		draw_view(&s, &sp, out, interval_ms);
	print_summary(&s, &sp, out, interval_ms, why, json, &style);
	ret = EXIT_OK;
out_sampler:
	sampler_close(&sp);
out:
	store_close(st);
	series_release(&s);
	strbuf_release(&err);
	strbuf_release(&def);
	return ret;
}
