/* cmdutil: PID resolution and error reporting shared by the subcommands. */
#include "cmdutil.h"
#include "../procfs.h"
#include "../strbuf.h"
#include "../usage.h"

#include <errno.h>
#include <string.h>

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
		hint("run as the process owner or as root");
	return EXIT_RUNTIME;
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
