/*
 * jcmd: run a diagnostic command in a live JVM over the attach socket, printing what
 * JDK's jcmd prints ("PID:" line, then the JVM's text, or "Command executed
 * successfully" when the JVM said nothing), without a JDK.
 */
#include "cmd.h"
#include "cmdutil.h"
#include "attach.h"
#include "json.h"
#include "parse.h"
#include "procfs.h"
#include "strbuf.h"
#include "usage.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_help(FILE *out)
{
	fprintf(out, "usage: offheap jcmd [--timeout DURATION] [--json] PID COMMAND [ARGS...]\n"
		     "       offheap jcmd -l\n\n"
		     "Run a diagnostic command inside a running HotSpot JVM, as JDK's jcmd does,\n"
		     "without a JDK. The arguments are joined by spaces into one command line.\n"
		     "The output is the JVM's, byte for byte as jcmd prints it.\n\n"
		     "Options:\n"
		     "  -l, --list               list the JVMs on this machine (PID and main class)\n"
		     "  -t, --timeout DURATION   how long to wait for the JVM, in all\n"
		     "                           (default 10s; e.g. 500ms, 3s, 1m)\n"
		     "      --json               print pid, command, status and output as JSON\n"
		     "  -h, --help               this help\n\n"
		     "PID may be a process ID or a process name that matches one process.\n\n"
		     "Exit codes: 0 ok, 1 the JVM could not be reached or refused the command,\n"
		     "2 usage error.\n\n"
		     "Examples:\n"
		     "  offheap jcmd 4242 help\n"
		     "  offheap jcmd 4242 VM.native_memory summary scale=MB\n"
		     "  offheap jcmd --timeout 3s java Thread.print\n"
		     "  offheap jcmd -l\n");
}

/*
 * What jcmd -l shows: the main class (or jar, or module/class) and its arguments —
 * the words of the command line after the JVM's own options.
 */
static void print_java_command(pid_t pid)
{
	static const char *const with_value[] = {"-cp",		  "-classpath",
						 "--class-path",  "-p",
						 "--module-path", "--upgrade-module-path",
						 "--add-modules", "--limit-modules",
						 "--add-reads",	  "--add-exports",
						 "--add-opens",	  "--patch-module",
						 "--source",	  NULL};
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	printf("%d", (int)pid);
	if (procfs_read_pid(pid, "cmdline", &sb, 1 << 20) || !sb.len)
		goto out;
	for (i = strlen(sb.buf) + 1; i < sb.len;) {
		const char *a = sb.buf + i;
		bool skip_next = false;

		if (!strcmp(a, "-jar") || !strcmp(a, "-m") || !strcmp(a, "--module")) {
			i += strlen(a) + 1;
			break;
		}
		if (a[0] != '-')
			break;
		for (int k = 0; with_value[k]; k++)
			skip_next |= !strcmp(a, with_value[k]);
		i += strlen(a) + 1;
		if (skip_next && i < sb.len)
			i += strlen(sb.buf + i) + 1;
	}
	for (; i < sb.len; i += strlen(sb.buf + i) + 1)
		printf(" %s", sb.buf + i);
out:
	putchar('\n');
	strbuf_release(&sb);
}

static int list_jvms(void)
{
	pid_t *pids;
	size_t n;
	int ret = procfs_list_pids(&pids, &n);

	if (ret) {
		error("cannot list processes: %s", strerror(-ret));
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < n; i++)
		if (pids[i] != getpid() && attach_is_jvm(pids[i]))
			print_java_command(pids[i]);
	free(pids);
	return EXIT_OK;
}

static void print_jvm_error(const struct strbuf *out)
{
	struct strbuf msg = STRBUF_INIT;

	for (size_t i = 0; i < out->len; i++)
		if (out->buf[i] != '\n' && out->buf[i] != '\r')
			strbuf_addch(&msg, out->buf[i]);
	error("%s", msg.len ? msg.buf : "the JVM refused the command without saying why");
	strbuf_release(&msg);
}

int cmd_jcmd(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"list", no_argument, NULL, 'l'},
	    {"timeout", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct strbuf line = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT;
	uint64_t timeout = ATTACH_DEFAULT_TIMEOUT_MS;
	bool list = false, as_json = false;
	int c, ret, status = 0, rc = EXIT_OK;
	pid_t pid;

	while ((c = getopt_long(argc, argv, "+lt:h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			list = true;
			break;
		case 't':
			timeout = cmd_opt_duration("jcmd", "--timeout", optarg, 1, 3600000);
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			print_help(stdout);
			return EXIT_OK;
		default:
			usage_die("jcmd", "unknown option");
		}
	}
	argc -= optind;
	argv += optind;
	if (list) {
		if (argc)
			usage_die("jcmd", "-l takes no arguments");
		return list_jvms();
	}
	if (argc < 1)
		usage_die("jcmd", "missing PID");
	if (argc < 2)
		usage_die("jcmd", "missing the command to run (try 'offheap jcmd %s help')",
			  argv[0]);

	if (cmd_resolve_pid(argv[0], &pid)) {
		rc = EXIT_RUNTIME;
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			strbuf_addch(&line, ' ');
		strbuf_addstr(&line, argv[i]);
	}
	ret = attach_jcmd(pid, line.buf, (int)timeout, &status, &out, &err);
	if (ret) {
		rc = cmd_attach_failed("jcmd", pid, ret, &err);
		goto out;
	}
	if (as_json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_i64(&j, "pid", pid);
		json_str(&j, "command", line.buf);
		json_i64(&j, "status", status);
		json_strn(&j, "output", out.buf, out.len);
		json_obj_end(&j);
		json_finish(&j);
	} else {
		/* jcmd's stdout: "PID:", then the text, or a stock line when there is none. */
		printf("%d:\n", (int)pid);
		if (status == 0)
			fwrite(out.buf, 1, out.len, stdout);
		if (status == 0 && !out.len)
			printf("Command executed successfully\n");
	}
	if (status != 0) {
		if (!as_json)
			fflush(stdout);
		print_jvm_error(&out);
		if (strstr(out.buf, "Unknown diagnostic command"))
			hint("'offheap jcmd %d help' lists the commands this JVM knows", (int)pid);
		rc = EXIT_RUNTIME;
	}
	if (fflush(stdout) || ferror(stdout)) {
		error("cannot write the output: %s", strerror(errno));
		rc = EXIT_RUNTIME;
	}
out:
	strbuf_release(&line);
	strbuf_release(&out);
	strbuf_release(&err);
	return rc;
}
