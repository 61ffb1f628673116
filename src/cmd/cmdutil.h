/* cmdutil: what several subcommands do the same way when they talk to the user. */
#ifndef OFFHEAP_CMDUTIL_H
#define OFFHEAP_CMDUTIL_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/*
 * Resolves a PID-or-name argument. On failure prints the error
 * ("offheap: error: no process 4242") and returns -1.
 */
int cmd_resolve_pid(const char *arg, pid_t *pid);

/*
 * Prints "offheap: error: MSG" for a failure that returned -errno, and a
 * hint: line where one helps (permission, a vanished process).
 * Returns EXIT_RUNTIME.
 */
int cmd_report_error(int ret, const char *msg);

/*
 * The hint for a refusal (EPERM, EACCES): not_root ("run as ... or as
 * root") when offheap does not run as root; as root that advice is void,
 * so as_root is printed instead (what else refuses root: a security
 * module, another tracer, a planted file...).
 */
void cmd_hint_denied(const char *not_root, const char *as_root);

/*
 * Checks that the FILE argument path is a regular file (infile.h); what
 * names it ("a recording file"). On failure prints the error and a hint and
 * returns -1 (exit with EXIT_RUNTIME).
 */
int cmd_check_infile(const char *path, const char *what);
/* The same, keeping the file open: its descriptor (st filled), or -1 once printed. */
struct stat;
int cmd_open_infile(const char *path, const char *what, struct stat *st);

struct strbuf;

/*
 * Reports a failed attach_jcmd() (ret, err from it) for command cmd: the
 * reason, then a hint where we know what to do. Returns EXIT_RUNTIME.
 */
int cmd_attach_failed(const char *cmd, pid_t pid, int ret, const struct strbuf *err);

/*
 * getopt_long for commands that take options around one positional argument
 * ("maps 4242 --sort rss" and "maps --sort rss 4242" alike) while keeping
 * the '+' optstring: the first operand goes to *operand, a second one returns
 * 1 so the caller can refuse it. Everything after "--" is left at optind.
 */
int cmd_getopt(int argc, char **argv, const char *optstring, const struct option *longopts,
	       const char **operand);

/*
 * store_create for a command that writes one file (a signal removes its
 * temporary file until cmd_store_commit: outfile.h). A failure
 * is printed, with a hint for a file that exists (--force when the command
 * has it) or a full disk. Returns 0, or -errno once printed.
 */
struct store;
int cmd_store_create(const char *path, int kind, bool overwrite, bool has_force,
		     struct store **st);
/* store_commit. Returns 0 or -errno with err. */
int cmd_store_commit(struct store *st, struct strbuf *err);

/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t cmd_mono_ns(void);

/*
 * Sleeps until the CLOCK_MONOTONIC deadline (ns), or until *stop is set (a
 * signal handler's flag: an interrupted sleep ends when it is set).
 */
void cmd_sleep_until(uint64_t deadline_ns, const volatile sig_atomic_t *stop);

/*
 * The output options every table command takes (table.h's struct table_style), added to a
 * command's getopt table in one line: CMD_TABLE_OPTIONS where --output is free for the
 * column list, CMD_TABLE_OPTIONS_NO_OUTPUT where --output already names a FILE (nmt, trace,
 * watch: there the list is --columns, which every table command also takes).
 * In the getopt loop, `if (cmd_table_option(c, optarg, &style)) continue;`.
 */
enum {
	CMD_OPT_OUTPUT = 0x1000, CMD_OPT_COLUMNS, CMD_OPT_NO_HEADINGS, CMD_OPT_RAW, CMD_OPT_BYTES
};
#define CMD_TABLE_OPTIONS_NO_OUTPUT \
	{ "columns", required_argument, NULL, CMD_OPT_COLUMNS }, \
	{ "no-headings", no_argument, NULL, CMD_OPT_NO_HEADINGS }, \
	{ "raw", no_argument, NULL, CMD_OPT_RAW }, \
	{ "bytes", no_argument, NULL, CMD_OPT_BYTES }
#define CMD_TABLE_OPTIONS \
	{ "output", required_argument, NULL, CMD_OPT_OUTPUT }, CMD_TABLE_OPTIONS_NO_OUTPUT

struct table_style;
struct table_colset;
/* Fills st for one of the options above and returns true; false for any other c. */
bool cmd_table_option(int c, const char *arg, struct table_style *st);
/*
 * Checks st->columns against the column sets of the command's n tables; an unknown name
 * is a usage error: one line naming it and the valid names, exit 2.
 */
void cmd_table_check(const char *cmd, const struct table_style *st,
		     const struct table_colset *sets, int n);
/*
 * The --help lines of these options, in the same words for every command, with the
 * column names of sets; output_is_file: the command's --output is a FILE.
 */
void cmd_table_help(FILE *out, bool output_is_file, const struct table_colset *sets, int n);

/*
 * A duration option (parse_duration_ms: "250ms", "3s", "5m", "1h", "2d") from min to max
 * milliseconds (max 0: no upper bound). A bad one is a usage error in the same words for
 * every command ("--timeout takes a duration from 1ms to 1h, not 'x'"), exit 2.
 */
uint64_t cmd_opt_duration(const char *cmd, const char *opt, const char *arg, uint64_t min,
			  uint64_t max);

#endif
