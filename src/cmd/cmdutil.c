/* cmdutil: PID resolution and error reporting shared by the subcommands. */
#include "cmdutil.h"
#include "infile.h"
#include "store.h"
#include "procfs.h"
#include "parse.h"
#include "strbuf.h"
#include "table.h"
#include "usage.h"

#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int cmd_resolve_pid(const char *arg, pid_t *pid)
{
	struct strbuf err = STRBUF_INIT;
	int ret = procfs_resolve_pid(arg, pid, &err);

	if (ret) {
		error("%s", err.buf);
		if (ret == -EINVAL)
			hint("give the PID instead of the name");
	}
	strbuf_release(&err);
	return ret ? -1 : 0;
}

int cmd_report_error(int ret, const char *msg)
{
	error("%s", msg);
	if (ret == -EACCES || ret == -EPERM)
		cmd_hint_denied("run as the process owner or as root",
				"offheap runs as root already: a security module (SELinux, "
				"AppArmor, Yama's ptrace_scope 3) or a user namespace without "
				"CAP_SYS_PTRACE refuses it");
	else if (ret == -ENOSPC)
		hint("the disk is full: free some space or write the file elsewhere");
	return EXIT_RUNTIME;
}

void cmd_hint_denied(const char *not_root, const char *as_root)
{
	hint("%s", geteuid() != 0 ? not_root : as_root);
}

int cmd_open_infile(const char *path, const char *what, struct stat *st)
{
	struct strbuf err = STRBUF_INIT;
	int fd = infile_open(path, what, st, &err);

	if (fd < 0) {
		error("%s", err.buf);
		if (fd == -EINVAL)
			hint("offheap reads FILE arguments from regular files only, never from a "
			     "pipe, a device or a socket");
		else if (fd == -EISDIR)
			hint("give the path of a file in that directory");
	}
	strbuf_release(&err);
	return fd < 0 ? -1 : fd;
}

int cmd_check_infile(const char *path, const char *what)
{
	int fd = cmd_open_infile(path, what, NULL);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int cmd_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
	       const char **operand)
{
	for (;;) {
		int c = getopt_long(argc, argv, optstring, longopts, NULL);

		if (c != -1)
			return c;
		if (optind >= argc || !strcmp(argv[optind - 1], "--"))
			return -1;
		if (*operand)
			return 1;
		*operand = argv[optind++];
	}
}

int cmd_attach_failed(const char *cmd, pid_t pid, int ret, const struct strbuf *err)
{
	error("%s", err->len ? err->buf : strerror(-ret));
	switch (ret) {
	case -ENOTSUP:
		hint("offheap %s talks to HotSpot JVMs (OpenJDK, Temurin, Oracle...); 'offheap "
		     "jcmd -l' lists them", cmd);
		break;
	case -ECONNREFUSED:
		if (strstr(err->buf, "DisableAttachMechanism"))
			hint("restart the JVM without -XX:+DisableAttachMechanism to run commands "
			     "in it");
		else
			hint("a JVM that crashed or was restarted can leave a stale socket behind; "
			     "is process %d still the JVM?",
			     (int)pid);
		break;
	case -EACCES:
	case -EPERM:
		cmd_hint_denied("run offheap as the JVM's user or as root",
				"offheap runs as root already: the file named above is not what "
				"the JVM makes; remove it if it is stale, or find who put it there");
		break;
	case -ETIMEDOUT:
		hint("is process %d stopped or overloaded? a longer --timeout may help", (int)pid);
		break;
	case -EEXIST:
		hint("remove that file if it is not yours to keep, then try again");
		break;
	}
	return EXIT_RUNTIME;
}

int cmd_store_create(const char *path, int kind, bool overwrite, bool has_force,
		     struct store **st)
{
	struct strbuf err = STRBUF_INIT;
	int rc = store_create(path, (enum store_kind)kind, overwrite, st, &err);

	if (rc) {
		error("%s", err.buf);
		if (rc == -EEXIST)
			hint(has_force ? "use --force to replace it, or choose another file"
				       : "choose another file, or remove it first");
		else if (rc == -ENOSPC)
			hint("the disk holding '%s' is full: free some space or choose another file",
			     path);
	}
	strbuf_release(&err);
	return rc;
}

int cmd_store_commit(struct store *st, struct strbuf *err)
{
	return store_commit(st, err);
}

uint64_t cmd_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cmd_sleep_until(uint64_t deadline_ns, const volatile sig_atomic_t *stop)
{
	struct timespec ts = { (time_t)(deadline_ns / 1000000000u),
			       (long)(deadline_ns % 1000000000u) };

	while (!*stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

bool cmd_table_option(int c, const char *arg, struct table_style *st)
{
	switch (c) {
	case CMD_OPT_OUTPUT:
	case CMD_OPT_COLUMNS:
		st->columns = arg;
		return true;
	case CMD_OPT_NO_HEADINGS:
		st->no_headings = true;
		return true;
	case CMD_OPT_RAW:
		st->raw = true;
		return true;
	case CMD_OPT_BYTES:
		st->bytes = true;
		return true;
	}
	return false;
}

void cmd_table_check(const char *cmd, const struct table_style *st,
		     const struct table_colset *sets, int n)
{
	struct strbuf err = STRBUF_INIT;

	if (st->columns && table_columns_check(st->columns, sets, n, &err))
		usage_die(cmd, "%s", err.buf);
	strbuf_release(&err);
}

void cmd_table_help(FILE *out, bool output_is_file, const struct table_colset *sets, int n)
{
	struct strbuf names = STRBUF_INIT;
	size_t col = 0;

	table_columns_names(sets, n, &names);
	if (output_is_file)
		fprintf(out, "      --columns COLS  the columns to show, in order, from:\n");
	else
		fprintf(out, "      --output COLS   the columns to show, in order (also --columns), "
			     "from:\n");
	/* The names wrapped under the option, at commas. */
	for (const char *p = names.buf; *p;) {
		size_t len = strcspn(p, ",");

		if (col && col + len + 1 > 60) {
			fputs(",\n", out);
			col = 0;
		} else if (col) {
			fputc(',', out);
			col++;
		}
		if (!col)
			fputs("                      ", out);
		fwrite(p, 1, len, out);
		col += len;
		p += len + (p[len] == ',');
	}
	fputc('\n', out);
	fprintf(out, "      --no-headings   no header line\n"
		     "      --raw           one space between fields, no alignment; spaces and\n"
		     "                      control characters in a value as \\xHH (lsblk --raw)\n"
		     "      --bytes         sizes as exact byte counts (default: 512B, 4K, 1.5M, 2G\n"
		     "                      in powers of 1024; --json has bytes)\n");
	strbuf_release(&names);
}

/* "250ms", "3s", "5m", "1h", "7d": the largest unit that divides ms. */
static const char *duration_str(char *buf, size_t n, uint64_t ms)
{
	static const struct { uint64_t ms; const char *unit; } units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms && ms % units[i].ms == 0) {
			snprintf(buf, n, "%llu%s", (unsigned long long)(ms / units[i].ms),
				 units[i].unit);
			return buf;
		}
	}
	snprintf(buf, n, "0ms");
	return buf;
}

uint64_t cmd_opt_duration(const char *cmd, const char *opt, const char *arg, uint64_t min,
			  uint64_t max)
{
	uint64_t ms;
	char lo[32], hi[32];

	if (!parse_duration_ms(arg, &ms) && ms >= min && (!max || ms <= max))
		return ms;
	duration_str(lo, sizeof(lo), min);
	if (max)
		usage_die(cmd, "%s takes a duration from %s to %s, not '%s'", opt, lo,
			  duration_str(hi, sizeof(hi), max), arg);
	usage_die(cmd, "%s takes a duration of %s or more, not '%s'", opt, lo, arg);
}
