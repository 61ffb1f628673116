/* cmdutil: PID resolution and error reporting shared by the subcommands. */
#include "cmdutil.h"
#include "store.h"
#include "procfs.h"
#include "strbuf.h"
#include "usage.h"

#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
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
		hint("run offheap as the JVM's user or as root");
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

/* The JVM's error text as jcmd prints it: its lines run together (Java's readLine loop). */

static char temp_paths[CMD_TEMP_SLOTS][4352];
static const int temp_sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

static void temp_on_signal(int sig)
{
	for (int i = 0; i < CMD_TEMP_SLOTS; i++)
		if (temp_paths[i][0])
			unlink(temp_paths[i]);
	signal(sig, SIG_DFL);
	raise(sig);
}

void cmd_temp_block(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(temp_sigs) / sizeof(temp_sigs[0]); i++)
		sigaddset(&set, temp_sigs[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

void cmd_temp_unblock(const sigset_t *old)
{
	sigprocmask(SIG_SETMASK, old, NULL);
}

void cmd_temp_set(int slot, const char *path)
{
	static bool installed;

	if (slot < 0 || slot >= CMD_TEMP_SLOTS)
		return;
	if (!path || strlen(path) >= sizeof(temp_paths[slot])) {
		temp_paths[slot][0] = '\0';
		return;
	}
	memcpy(temp_paths[slot], path, strlen(path) + 1);
	if (!installed) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = temp_on_signal;
		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < sizeof(temp_sigs) / sizeof(temp_sigs[0]); i++)
			sigaction(temp_sigs[i], &sa, NULL);
		installed = true;
	}
}

int cmd_temp_mkstemp(char *tmpl, int slot)
{
	sigset_t old;
	int fd, e;

	cmd_temp_block(&old);
	fd = mkstemp(tmpl);
	e = errno;
	if (fd >= 0)
		cmd_temp_set(slot, tmpl);
	cmd_temp_unblock(&old);
	errno = e;
	return fd;
}

void cmd_temp_forget(int slot)
{
	sigset_t old;

	cmd_temp_block(&old);
	cmd_temp_set(slot, NULL);
	cmd_temp_unblock(&old);
}

int cmd_store_create(const char *path, int kind, bool overwrite, bool has_force,
		     struct store **st)
{
	struct strbuf err = STRBUF_INIT;
	sigset_t old;
	int rc;

	cmd_temp_block(&old);
	rc = store_create(path, (enum store_kind)kind, overwrite, st, &err);
	if (!rc)
		cmd_temp_set(0, store_temp_path(*st));
	cmd_temp_unblock(&old);
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
	sigset_t old;
	int rc;

	cmd_temp_block(&old);
	rc = store_commit(st, err);
	cmd_temp_set(0, NULL);
	cmd_temp_unblock(&old);
	return rc;
}
