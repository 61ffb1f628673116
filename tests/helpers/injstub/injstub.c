/*
 * injstub: a stand-in for liboffheap.so's attach interface, to test the
 * injector alone (t3020). Each call appends one line to the file named by
 * INJSTUB_LOG in the target's environment: "attach ARGS", "detach", "agent
 * OPTIONS". A second attach without a detach answers -EALREADY, as the
 * tracker does. INJSTUB_HANG=N: the attach hangs N seconds after its line, for
 * a target or a recorder killed in the middle of it. Built by the test itself:
 * cc -shared -fPIC.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int attached;

static void log_line(const char *what, const char *text)
{
	const char *path = getenv("INJSTUB_LOG");
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, what, strlen(what)) < 0 || (text && write(fd, " ", 1) < 0) ||
	    (text && write(fd, text, strlen(text)) < 0) || write(fd, "\n", 1) < 0)
		abort();
	close(fd);
}

int offheap_attach(const char *args)
{
	log_line("attach", args ? args : "(null)");
	if (getenv("INJSTUB_HANG"))
		sleep((unsigned)atoi(getenv("INJSTUB_HANG")));
	if (attached)
		return -EALREADY;
	attached = 1;
	return 0;
}

int offheap_detach(void)
{
	log_line("detach", NULL);
	attached = 0;
	return 0;
}

int Agent_OnAttach(void *vm, char *options, void *reserved)
{
	log_line("agent", options);
	return offheap_attach(options);
}
